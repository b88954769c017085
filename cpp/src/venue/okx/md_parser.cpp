// OKX market-data parser. See hftx/venue/okx/md_parser.hpp for the contract.
//
// Two readers fill the same Collect (what the message holds: arg, action, the first data element's book
// fields, every element's trade fields); one finish() then decides the kind from the channel and checks what
// that kind needs. So whatever the two readers both collect, they turn into the same MdMessage.
//  - FastScan (md/json_scan.hpp) reads OKX's compact text in one forward pass and declines anything it is not
//    sure of: whitespace, escapes, non-ASCII, a repeated key, a nested value under an unknown key, an event
//    message, numbers outside its shapes, anything finish() rejects. It exists because it is measurably
//    faster (bench_okx: okx_parse_books/hftx against hftx_simdjson_only): simdjson's stage 1 indexes every
//    structural character of the message before On-Demand walks it again.
//  - simdjson On-Demand reads everything else and names the error. Values are taken from raw tokens (no
//    unescape copy), and every value is read, the unknown ones too (consume()), so that a malformed text is an
//    error and not a message.
// Both read prices and sizes with parse_fixed's rules (the scanner's SSE2 number reader gives parse_fixed's
// result where it accepts) and the string-encoded integers (ts, tradeId) with decimal_text().
#include "hftx/venue/okx/md_parser.hpp"

#include <simdjson.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <string>

#include "hftx/core/error.hpp"
#include "hftx/venue/okx/markets.hpp"
#include "md/json_detail.hpp"
#include "md/json_scan.hpp"

namespace hftx::venue::okx {

using namespace hftx::md;  // the neutral events this parser fills

static_assert(kJsonPadding == simdjson::SIMDJSON_PADDING, "kJsonPadding must equal simdjson's padding");

namespace od = simdjson::ondemand;

namespace {

// Fields seen (bit per field). The data fields are the first element's.
enum Have : std::uint32_t {
  kArg = 1u << 0,
  kChannel = 1u << 1,
  kInstId = 1u << 2,
  kAction = 1u << 3,
  kData = 1u << 4,
  kAsks = 1u << 5,
  kBids = 1u << 6,
  kTs = 1u << 7,
  kChecksum = 1u << 8,
  kSeq = 1u << 9,
  kPrev = 1u << 10,
};

// A trade element's fields.
enum TradeHave : std::uint8_t {
  kTradeId = 1u << 0,
  kPx = 1u << 1,
  kSz = 1u << 2,
  kSide = 1u << 3,
  kTradeTs = 1u << 4,
};
constexpr std::uint8_t kTradeNeeds = kTradeId | kPx | kSz | kSide | kTradeTs;

enum class ChannelKind : std::uint8_t { book_incremental, book_whole, trade, other };

HFTX_FORCE_INLINE ChannelKind channel_kind(std::string_view c) noexcept {
  if (const auto b = book_channel_from_string(c)) return incremental(*b) ? ChannelKind::book_incremental
                                                                         : ChannelKind::book_whole;
  if (c == "trades" || c == "trades-all") return ChannelKind::trade;
  return ChannelKind::other;
}

struct TradeItem {
  std::uint64_t id;
  Price px;
  Qty sz;
  std::int64_t ts_ms;
  bool sell;
  std::uint8_t have;
};

struct Collect {
  std::uint32_t have = 0;
  std::string_view channel, inst_id, action;
  std::size_t elements = 0;  // in data
  std::int64_t ts_ms = 0;
  std::int64_t checksum = 0;
  std::int64_t seq = 0;
  std::int64_t prev = 0;
};

HFTX_FORCE_INLINE ParseResult fail(ParseStatus s, const char* field, std::uint8_t detail = 0) noexcept {
  return ParseResult{s, detail, field};
}
HFTX_FORCE_INLINE ParseResult json_fail(simdjson::error_code e, const char* field) noexcept {
  return ParseResult{ParseStatus::json_error, static_cast<std::uint8_t>(e), field};
}

// Reads a value whole, for its structure to be checked: On-Demand skips a value left unread without looking at
// the separators inside or after it, so {"x":"a":"b",...} parsed before every value was read (the fuzzer found
// it). A value nested deeper than simdjson's depth limit is an error there.
simdjson::error_code consume(simdjson::ondemand::value v) noexcept {
  namespace od = simdjson::ondemand;
  od::json_type t;
  if (auto e = v.type().get(t); e != simdjson::SUCCESS) return e;
  switch (t) {
    case od::json_type::array: {
      od::array a;
      if (auto e = v.get_array().get(a); e != simdjson::SUCCESS) return e;
      for (auto x : a) {
        if (auto e = x.error(); e != simdjson::SUCCESS) return e;
        if (auto e = consume(x.value_unsafe()); e != simdjson::SUCCESS) return e;
      }
      return simdjson::SUCCESS;
    }
    case od::json_type::object: {
      od::object o;
      if (auto e = v.get_object().get(o); e != simdjson::SUCCESS) return e;
      for (auto f : o) {
        if (auto e = f.error(); e != simdjson::SUCCESS) return e;
        if (auto e = consume(f.value_unsafe().value()); e != simdjson::SUCCESS) return e;
      }
      return simdjson::SUCCESS;
    }
    case od::json_type::string: {
      od::raw_json_string r;
      return v.get_raw_json_string().get(r);
    }
    case od::json_type::number: {
      od::number n;
      return v.get_number().get(n);
    }
    case od::json_type::boolean: {
      bool b = false;
      return v.get_bool().get(b);
    }
    case od::json_type::null: {
      bool null = false;
      if (auto e = v.is_null().get(null); e != simdjson::SUCCESS) return e;
      return null ? simdjson::SUCCESS : simdjson::N_ATOM_ERROR;
    }
    default:
      return simdjson::TAPE_ERROR;
  }
}

// A decimal integer OKX writes as a string (ts in ms, tradeId): 1..19 digits, nothing else. The same for both
// readers.
HFTX_FORCE_INLINE FixedStatus decimal_text(std::string_view t, std::uint64_t& out) noexcept {
  if (HFTX_UNLIKELY(t.empty())) return FixedStatus::empty;
  std::uint64_t v = 0;
  for (const char ch : t) {
    const auto d = static_cast<unsigned>(ch - '0');
    if (HFTX_UNLIKELY(d >= 10u)) return FixedStatus::bad_format;
    v = v * 10u + d;
  }
  if (HFTX_UNLIKELY(t.size() > 19)) return FixedStatus::overflow;  // (all digits: too long, not malformed)
  out = v;
  return FixedStatus::ok;
}
HFTX_FORCE_INLINE FixedStatus time_text(std::string_view t, std::int64_t& out) noexcept {
  std::uint64_t v = 0;
  const FixedStatus s = decimal_text(t, v);
  if (s != FixedStatus::ok) return s;
  if (HFTX_UNLIKELY(v > static_cast<std::uint64_t>(INT64_MAX))) return FixedStatus::overflow;
  out = static_cast<std::int64_t>(v);
  return FixedStatus::ok;
}
// "buy" / "sell": the aggressor's side.
HFTX_FORCE_INLINE bool side_text(std::string_view t, bool& sell) noexcept {
  if (t != "sell" && t != "buy") return false;
  sell = t.size() == 4;
  return true;
}

using detail::FastScan;
using detail::key_is;
using detail::string_token;

// A step's constants for okx_decimal(): computed once per parser.
struct Step {
  int decimals;
  bool usable;  // a power-of-ten step (multiplier 1)
  explicit Step(Scale s) noexcept : decimals(s.decimals()), usable(s.multiplier() == 1) {}
};

// A price or size after its opening quote, in the shape OKX writes them: the shortest decimal, at most 15 digits
// and at most the step's decimals ("9.617", "441", "0.00000074408" at 10^-11). One 16-byte load gives the
// closing quote, the point and the digits; the digits are closed up over the point with 128-bit shifts,
// right-aligned, and converted as two 8-digit SWAR halves, then scaled to the step. False (t.p unchanged) for
// anything else (more digits, trailing zeros past the step, a sign, 16 bytes not readable), which
// FastScan::fixed_body() then reads; where both accept, both give parse_fixed's result.
template <class Tag>
HFTX_FORCE_INLINE bool okx_decimal(FastScan& t, const Step& k, Fixed<Tag>& out) noexcept {
#if defined(__SSE2__)
  if (HFTX_UNLIKELY(!k.usable || t.readable - t.p < 32)) return false;
  const __m128i v = FastScan::load16(t.p);
  const unsigned quote = FastScan::eq(v, '"');
  const int len = __builtin_ctz(quote | 0x10000u);
  const unsigned within = (1u << len) - 1u;
  const unsigned dot = FastScan::eq(v, '.') & within;
  const int n_int = __builtin_ctz(dot | (1u << len));  // integer digits
  const int n_frac = dot != 0 ? len - n_int - 1 : 0;
  // (len < 16 and n_int + decimals <= 18: the value is below 10^18, no overflow.)
  if (HFTX_UNLIKELY(len == 16 || len >= t.end - t.p || ((FastScan::digit_bits(v) | dot) & within) != within ||
                    (dot & (dot - 1u)) != 0 || n_int == 0 || (dot != 0 && n_frac == 0) || n_frac > k.decimals ||
                    n_int + k.decimals > 18))
    return false;
  const __m128i d = _mm_sub_epi8(v, _mm_set1_epi8('0'));  // digit values (the rest is cut off below)
  const uint128 w = static_cast<std::uint64_t>(_mm_cvtsi128_si64(d)) |
                    static_cast<uint128>(static_cast<std::uint64_t>(_mm_cvtsi128_si64(_mm_unpackhi_epi64(d, d)))) << 64;
  const int n = n_int + n_frac;  // 1..15
  const auto bytes = [](int m) { return (static_cast<uint128>(1) << (8 * m)) - 1; };  // m < 16
  uint128 digits = w & bytes(n_int);
  if (dot != 0) digits |= ((w >> (8 * (n_int + 1))) & bytes(n_frac)) << (8 * n_int);
  digits <<= 8 * (16 - n);  // right-aligned: the first 8 bytes the high half
  const std::uint64_t value = FastScan::eight_digits(static_cast<std::uint64_t>(digits)) * 100'000'000u +
                              FastScan::eight_digits(static_cast<std::uint64_t>(digits >> 64));
  out = Fixed<Tag>(static_cast<std::int64_t>(value * static_cast<std::uint64_t>(detail::kPow10[k.decimals - n_frac])));
  t.p += len + 1;
  return true;
#else
  (void)t;
  (void)k;
  (void)out;
  return false;
#endif
}

// A JSON integer that may be negative (checksum, prevSeqId), as FastScan::signed_integer() but declining
// "-0" (simdjson's to read: it may take it for a float).
HFTX_FORCE_INLINE bool signed_int(FastScan& s, std::int64_t& out) noexcept {
  if (s.p != s.end && *s.p == '-' && (s.end - s.p < 2 || s.p[1] == '0')) return false;
  return s.signed_integer(out);
}

}  // namespace

struct MdParser::Impl {
  Impl(std::size_t cap, Scale ps, Scale qs)
      : parser(cap), unpadded(new char[cap + kJsonPadding]), unpadded_cap(cap), price_scale(ps), qty_scale(qs),
        price_step(ps), qty_step(qs) {
    if (parser.allocate(cap) != simdjson::SUCCESS)
      throw ConfigError("okx::MdParser: could not allocate simdjson buffers for " + std::to_string(cap) + " bytes");
  }
  od::parser parser;
  std::unique_ptr<char[]> unpadded;
  std::size_t unpadded_cap;
  Scale price_scale, qty_scale;
  Step price_step, qty_step;
  bool fast_path = true;

  // Per message.
  MdMessage* msg = nullptr;
  Level* levels = nullptr;
  std::size_t levels_cap = 0;
  std::size_t levels_used = 0;
  Collect c;
  std::array<TradeItem, kMaxTrades> trades{};
  std::size_t trades_count = 0;  // kept from the last message that parsed as trades
  std::size_t trades_next = 0;

  void reset() noexcept;
  ParseResult parse(std::string_view json, std::size_t capacity, ParserStats& stats) noexcept;
  ParseResult finish() noexcept;

  // The fast scanner.
  bool scan(std::string_view json, std::size_t capacity) noexcept;
  bool scan_arg(FastScan& s) noexcept;
  bool scan_data(FastScan& s) noexcept;
  bool scan_element(FastScan& s, std::size_t i) noexcept;
  bool scan_levels(FastScan& s, std::span<const Level>& out) noexcept;
  HFTX_FORCE_INLINE bool price(FastScan& t, Price& out) const noexcept {
    return t.ch('"') && (okx_decimal(t, price_step, out) || t.fixed_body(price_scale, out));
  }
  HFTX_FORCE_INLINE bool qty(FastScan& t, Qty& out) const noexcept {
    return t.ch('"') && (okx_decimal(t, qty_step, out) || t.fixed_body(qty_scale, out));
  }

  // simdjson On-Demand.
  ParseResult run(std::string_view json, std::size_t capacity) noexcept;
  ParseResult arg(od::value& v) noexcept;
  ParseResult data(od::value& v) noexcept;
  ParseResult element(od::object& obj, std::size_t i) noexcept;
  ParseResult level_array(od::value& v, std::span<const Level>& out, const char* field) noexcept;
  template <class Tag>
  ParseResult fixed_value(od::value& v, const Scale& scale, Fixed<Tag>& out, const char* field) noexcept {
    std::string_view text;
    if (auto r = string_value(v, text, field); !r.ok()) return r;
    const FixedStatus s = parse_fixed(text, scale, out, Sign::unsigned_only);
    if (HFTX_UNLIKELY(s != FixedStatus::ok)) return fail(ParseStatus::bad_number, field, static_cast<std::uint8_t>(s));
    return {};
  }
  // A string's raw text (no unescape copy). The value is then consumed as a string, so that the iterator checks
  // what follows it: left unconsumed, On-Demand skips it without looking at the separator after it (a text such
  // as {"instId":"A":"B"} parsed; the fuzzer found it).
  static ParseResult string_value(od::value& v, std::string_view& out, const char* field) noexcept {
    std::string_view tok;
    if (tok = v.raw_json_token(); !string_token(tok, out)) return fail(ParseStatus::wrong_type, field);
    od::raw_json_string consumed;
    if (auto e = v.get_raw_json_string().get(consumed); e != simdjson::SUCCESS) return json_fail(e, field);
    return {};
  }
};

void MdParser::Impl::reset() noexcept {
  MdMessage& m = *msg;
  m.kind = MdKind::none;
  m.symbol = Symbol{};
  m.venue_time_ns = 0;
  m.transact_time_ns = 0;
  m.stream = {};
  m.depth = DepthUpdate{};
  m.ticker = BookTicker{};
  m.trade = Trade{};
  m.agg = AggTrade{};
  m.snapshot = DepthSnapshot{};
  c = Collect{};
  levels_used = 0;
  trades_count = trades_next = 0;
}

ParseResult MdParser::Impl::finish() noexcept {
  MdMessage& m = *msg;
  const std::uint32_t h = c.have;
  if (!(h & kArg)) return fail(ParseStatus::missing_field, "arg");
  if (!(h & kChannel)) return fail(ParseStatus::missing_field, "channel");
  if (!(h & kInstId)) return fail(ParseStatus::missing_field, "instId");
  if (HFTX_UNLIKELY(c.inst_id.size() > Symbol::kCapacity)) return fail(ParseStatus::wrong_type, "instId");
  const ChannelKind kind = channel_kind(c.channel);
  if (kind == ChannelKind::other) return fail(ParseStatus::unknown_event, "channel");
  if (!(h & kData) || c.elements == 0) return fail(ParseStatus::missing_field, "data");
  m.symbol.assign(c.inst_id);
  m.stream = c.channel;
  if (kind == ChannelKind::trade) {
    for (std::size_t i = 0; i < c.elements; ++i) {
      const std::uint8_t absent = static_cast<std::uint8_t>(kTradeNeeds & ~trades[i].have);
      if (HFTX_UNLIKELY(absent != 0)) {
        static constexpr const char* kNames[] = {"tradeId", "px", "sz", "side", "ts"};
        return fail(ParseStatus::missing_field, kNames[__builtin_ctz(absent)]);
      }
    }
    const TradeItem& t = trades[0];
    m.kind = MdKind::trade;
    m.trade.id = t.id;
    m.trade.price = t.px;
    m.trade.qty = t.sz;
    m.trade.buyer_is_maker = t.sell;
    m.venue_time_ns = m.transact_time_ns = ms_to_ns(t.ts_ms);
    trades_count = c.elements;
    trades_next = 1;
    return {};
  }
  // A book.
  if (HFTX_UNLIKELY(c.elements != 1)) return fail(ParseStatus::unknown_event, "data");
  if (!(h & kAsks)) return fail(ParseStatus::missing_field, "asks");
  if (!(h & kBids)) return fail(ParseStatus::missing_field, "bids");
  if (!(h & kTs)) return fail(ParseStatus::missing_field, "ts");
  bool snapshot = true;
  if (h & kAction) {
    if (c.action == "update" && kind == ChannelKind::book_incremental) snapshot = false;
    else if (c.action != "snapshot") return fail(ParseStatus::unknown_event, "action");
  } else if (kind == ChannelKind::book_incremental) {
    return fail(ParseStatus::missing_field, "action");
  }
  m.venue_time_ns = ms_to_ns(c.ts_ms);
  const auto seq = (h & kSeq) ? static_cast<std::uint64_t>(c.seq) : std::uint64_t{0};
  const bool has_checksum = (h & kChecksum) && c.checksum != 0;
  const auto checksum = static_cast<std::int32_t>(c.checksum);
  if (snapshot) {
    m.kind = MdKind::depth_snapshot;
    m.snapshot.last_update_id = seq;
    m.snapshot.has_checksum = has_checksum;
    m.snapshot.checksum = has_checksum ? checksum : 0;
    m.snapshot.bids = m.depth.bids;
    m.snapshot.asks = m.depth.asks;
    m.depth = DepthUpdate{};
  } else {
    m.kind = MdKind::depth_update;
    m.depth.first_id = m.depth.last_id = seq;
    m.depth.has_prev = (h & kPrev) && c.prev != -1;
    m.depth.prev_last_id = m.depth.has_prev ? static_cast<std::uint64_t>(c.prev) : 0;
    m.depth.has_checksum = has_checksum;
    m.depth.checksum = has_checksum ? checksum : 0;
  }
  return {};
}

// ---- the fast scanner ----------------------------------------------------------------------------------

bool MdParser::Impl::scan(std::string_view json, std::size_t capacity) noexcept {
  FastScan s{json.data(), json.data() + json.size(), json.data() + std::max(capacity, json.size())};
  std::uint32_t& have = c.have;
  bool more = true;
  // OKX's own layout first: {"arg":{"channel":"..","instId":".."}, read as literals (any other, as members).
  if (s.lit(R"({"arg":{"channel":)")) {
    if (!s.wide_string(c.channel) || !s.lit(R"(,"instId":)") || !s.wide_string(c.inst_id) || !s.ch('}') ||
        !s.next('}', more))
      return false;
    have |= kArg | kChannel | kInstId;
  } else if (!s.ch('{') || s.p == s.end || *s.p == '}') {
    return false;
  }
  while (more) {
    std::string_view key;
    if (!s.string(key) || !s.ch(':') || s.p == s.end) return false;
    bool ok;
    if (key_is(key, "arg")) {
      ok = !(have & kArg) && scan_arg(s);
      have |= kArg;
    } else if (key_is(key, "data")) {
      ok = !(have & kData) && scan_data(s);
      have |= kData;
    } else if (key_is(key, "action")) {
      ok = !(have & kAction) && s.wide_string(c.action);
      have |= kAction;
    } else if (key_is(key, "event")) {
      return false;  // simdjson's to name
    } else {
      ok = s.skip_scalar();
    }
    if (!ok || !s.next('}', more)) return false;
  }
  return s.p == s.end;
}

bool MdParser::Impl::scan_arg(FastScan& s) noexcept {
  if (!s.ch('{') || s.p == s.end || *s.p == '}') return false;
  for (bool more = true; more;) {
    std::string_view key;
    if (!s.string(key) || !s.ch(':') || s.p == s.end) return false;
    bool ok;
    if (key_is(key, "channel")) {
      ok = !(c.have & kChannel) && s.string(c.channel);
      c.have |= kChannel;
    } else if (key_is(key, "instId")) {
      ok = !(c.have & kInstId) && s.string(c.inst_id);
      c.have |= kInstId;
    } else {
      ok = s.skip_scalar();
    }
    if (!ok || !s.next('}', more)) return false;
  }
  return true;
}

bool MdParser::Impl::scan_data(FastScan& s) noexcept {
  if (!s.ch('[') || s.p == s.end) return false;
  if (*s.p == ']') {
    ++s.p;
    return true;
  }
  std::size_t i = 0;
  for (bool more = true; more; ++i)
    if (i == kMaxTrades || !scan_element(s, i) || !s.next(']', more)) return false;
  c.elements = i;
  return true;
}

bool MdParser::Impl::scan_element(FastScan& s, std::size_t i) noexcept {
  if (!s.ch('{') || s.p == s.end || *s.p == '}') return false;
  TradeItem& t = trades[i];
  t = TradeItem{};
  std::uint32_t seen = 0;  // this element's keys (Have bits for the book fields)
  const bool first = i == 0;
  const auto once = [&seen](std::uint32_t bit) {
    if (seen & bit) return false;
    seen |= bit;
    return true;
  };
  for (bool more = true; more;) {
    std::string_view key;
    if (!s.string(key) || !s.ch(':') || s.p == s.end) return false;
    bool ok = false;
    std::string_view text;
    switch (key.size()) {
      case 2:
        if (key_is(key, "ts")) {
          ok = once(kTs) && s.wide_string(text) && time_text(text, t.ts_ms) == FixedStatus::ok;
          t.have |= kTradeTs;
        } else if (key_is(key, "px")) {
          ok = once(1u << 20) && price(s, t.px);
          t.have |= kPx;
        } else if (key_is(key, "sz")) {
          ok = once(1u << 21) && qty(s, t.sz);
          t.have |= kSz;
        } else {
          ok = s.skip_scalar();
        }
        break;
      case 4:
        if (key_is(key, "asks") || key_is(key, "bids")) {
          const bool asks = key[0] == 'a';
          ok = first && *s.p == '[' && once(asks ? kAsks : kBids) &&
               scan_levels(s, asks ? msg->depth.asks : msg->depth.bids);
        } else if (key_is(key, "side")) {
          ok = once(1u << 22) && s.string(text) && side_text(text, t.sell);
          t.have |= kSide;
        } else {
          ok = s.skip_scalar();
        }
        break;
      default:
        if (!first) {
          if (key_is(key, "tradeId")) {
            ok = once(1u << 23) && s.string(text) && decimal_text(text, t.id) == FixedStatus::ok;
            t.have |= kTradeId;
          } else {
            ok = s.skip_scalar();
          }
        } else if (key_is(key, "checksum")) {
          ok = once(kChecksum) && signed_int(s, c.checksum) && c.checksum >= INT32_MIN && c.checksum <= INT32_MAX;
        } else if (key_is(key, "seqId")) {
          ok = once(kSeq) && s.integer(c.seq);
        } else if (key_is(key, "prevSeqId")) {
          ok = once(kPrev) && signed_int(s, c.prev) && c.prev >= -1;  // -1: a snapshot
        } else if (key_is(key, "tradeId")) {
          ok = once(1u << 23) && s.string(text) && decimal_text(text, t.id) == FixedStatus::ok;
          t.have |= kTradeId;
        } else {
          ok = s.skip_scalar();
        }
        break;
    }
    if (!ok || !s.next('}', more)) return false;
  }
  if (first) {
    c.have |= seen & (kAsks | kBids | kTs | kChecksum | kSeq | kPrev);
    c.ts_ms = t.ts_ms;
  }
  return true;
}

// An array of ["px","sz",...] levels (s.p at its '['). The elements after the size are skipped (scalars only).
bool MdParser::Impl::scan_levels(FastScan& s, std::span<const Level>& out) noexcept {
  FastScan t = s;  // a local cursor: level stores through the members could alias it
  Level* const first = levels + levels_used;
  Level* lv = first;
  Level* const cap = levels + levels_cap;
  ++t.p;
  if (t.p == t.end) return false;
  bool more = *t.p != ']';
  if (!more) ++t.p;
  for (; more; ++lv) {
    if (HFTX_UNLIKELY(lv == cap) || !t.ch('[') || !price(t, lv->price) || !t.ch(',') || !qty(t, lv->qty)) return false;
    // OKX's rest of a level: ,"0","<orders>"] (the deprecated liquidated orders, always "0"; the order count).
    if (t.end - t.p >= 9 && std::memcmp(t.p, R"(,"0",")", 6) == 0) {
      const char* q = t.p + 6;
      while (q != t.end && static_cast<unsigned>(*q - '0') < 10u) ++q;
      if (q != t.p + 6 && t.end - q >= 2 && q[0] == '"' && q[1] == ']') {
        t.p = q + 2;
        if (!t.next(']', more)) return false;
        continue;
      }
    }
    for (bool rest = true; rest;) {
      if (t.p == t.end) return false;
      if (*t.p == ']') {
        ++t.p;
        rest = false;
      } else if (!t.ch(',') || !t.skip_scalar()) {
        return false;
      }
    }
    if (!t.next(']', more)) return false;
  }
  s.p = t.p;
  levels_used = static_cast<std::size_t>(lv - levels);
  out = std::span<const Level>(first, lv);
  return true;
}

// ---- simdjson On-Demand ----------------------------------------------------------------------------------

// Key test without unescaping: the raw key equals `lit` and is followed by its closing quote. Reads at most
// sizeof(lit) bytes from the key start, inside the document or its padding.
#define HFTX_KEY_IS(k, lit) (std::memcmp((k), lit "\"", sizeof(lit)) == 0)

ParseResult MdParser::Impl::run(std::string_view json, std::size_t capacity) noexcept {
  reset();
  od::document doc;
  if (auto e = parser.iterate(json, capacity).get(doc); e != simdjson::SUCCESS) return json_fail(e, "");
  od::object obj;
  if (auto e = doc.get_object().get(obj); e != simdjson::SUCCESS)
    return e == simdjson::INCORRECT_TYPE ? fail(ParseStatus::not_object, "") : json_fail(e, "");
  for (auto fr : obj) {
    if (auto e = fr.error(); e != simdjson::SUCCESS) return json_fail(e, "");
    od::field& f = fr.value_unsafe();
    const char* k = reinterpret_cast<const char*>(f.key().raw());
    od::value& v = f.value();
    ParseResult r;
    if (HFTX_KEY_IS(k, "arg")) {
      r = arg(v);
    } else if (HFTX_KEY_IS(k, "data")) {
      r = data(v);
    } else if (HFTX_KEY_IS(k, "action")) {
      r = string_value(v, c.action, "action");
      c.have |= kAction;
    } else if (HFTX_KEY_IS(k, "event")) {
      return fail(ParseStatus::unknown_event, "event");  // subscribe, error, notice: the stream helpers' business
    } else if (auto e = consume(v); e != simdjson::SUCCESS) {
      return json_fail(e, "");
    }
    if (HFTX_UNLIKELY(!r.ok())) return r;
  }
  if (const char* loc = nullptr; doc.current_location().get(loc) == simdjson::SUCCESS)
    return fail(ParseStatus::trailing_content, "");
  return finish();
}

ParseResult MdParser::Impl::arg(od::value& v) noexcept {
  od::object obj;
  if (auto e = v.get_object().get(obj); e != simdjson::SUCCESS)
    return e == simdjson::INCORRECT_TYPE ? fail(ParseStatus::wrong_type, "arg") : json_fail(e, "arg");
  c.have |= kArg;
  for (auto fr : obj) {
    if (auto e = fr.error(); e != simdjson::SUCCESS) return json_fail(e, "arg");
    od::field& f = fr.value_unsafe();
    const char* k = reinterpret_cast<const char*>(f.key().raw());
    od::value& fv = f.value();
    ParseResult r;
    if (HFTX_KEY_IS(k, "channel")) {
      r = string_value(fv, c.channel, "channel");
      c.have |= kChannel;
    } else if (HFTX_KEY_IS(k, "instId")) {
      r = string_value(fv, c.inst_id, "instId");
      c.have |= kInstId;
    } else if (auto e = consume(fv); e != simdjson::SUCCESS) {
      return json_fail(e, "arg");
    }
    if (HFTX_UNLIKELY(!r.ok())) return r;
  }
  return {};
}

ParseResult MdParser::Impl::data(od::value& v) noexcept {
  od::array arr;
  if (auto e = v.get_array().get(arr); e != simdjson::SUCCESS)
    return e == simdjson::INCORRECT_TYPE ? fail(ParseStatus::wrong_type, "data") : json_fail(e, "data");
  // A repeated "data" starts over (the last one counts, as for every repeated key).
  c.have = (c.have & ~(kAsks | kBids | kTs | kChecksum | kSeq | kPrev)) | kData;
  levels_used = 0;
  msg->depth.bids = msg->depth.asks = {};
  std::size_t i = 0;
  for (auto el : arr) {
    if (auto e = el.error(); e != simdjson::SUCCESS) return json_fail(e, "data");
    od::object obj;
    if (auto e = el.value_unsafe().get_object().get(obj); e != simdjson::SUCCESS)
      return e == simdjson::INCORRECT_TYPE ? fail(ParseStatus::not_object, "data") : json_fail(e, "data");
    if (HFTX_UNLIKELY(i == kMaxTrades)) return fail(ParseStatus::too_many_levels, "data");
    if (auto r = element(obj, i); !r.ok()) return r;
    ++i;
  }
  c.elements = i;
  return {};
}

ParseResult MdParser::Impl::element(od::object& obj, std::size_t i) noexcept {
  TradeItem& t = trades[i];
  t = TradeItem{};
  const bool first = i == 0;
  for (auto fr : obj) {
    if (auto e = fr.error(); e != simdjson::SUCCESS) return json_fail(e, "data");
    od::field& f = fr.value_unsafe();
    const char* k = reinterpret_cast<const char*>(f.key().raw());
    od::value& v = f.value();
    ParseResult r;
    std::string_view text;
    FixedStatus fs = FixedStatus::ok;
    const char* name = "";
    if (HFTX_KEY_IS(k, "ts")) {
      name = "ts";
      if (r = string_value(v, text, name); r.ok()) fs = time_text(text, t.ts_ms);
      t.have |= kTradeTs;
      if (first) {
        c.have |= kTs;
        c.ts_ms = t.ts_ms;
      }
    } else if (HFTX_KEY_IS(k, "px")) {
      r = fixed_value(v, price_scale, t.px, "px");
      t.have |= kPx;
    } else if (HFTX_KEY_IS(k, "sz")) {
      r = fixed_value(v, qty_scale, t.sz, "sz");
      t.have |= kSz;
    } else if (HFTX_KEY_IS(k, "side")) {
      if (r = string_value(v, text, "side"); r.ok() && !side_text(text, t.sell))
        r = fail(ParseStatus::wrong_type, "side");
      t.have |= kSide;
    } else if (HFTX_KEY_IS(k, "tradeId")) {
      name = "tradeId";
      if (r = string_value(v, text, name); r.ok()) fs = decimal_text(text, t.id);
      t.have |= kTradeId;
    } else if (first && (HFTX_KEY_IS(k, "asks") || HFTX_KEY_IS(k, "bids"))) {
      const bool asks = k[0] == 'a';
      const std::uint32_t bit = asks ? kAsks : kBids;
      if (HFTX_UNLIKELY(c.have & bit)) return fail(ParseStatus::wrong_type, asks ? "asks" : "bids");
      r = level_array(v, asks ? msg->depth.asks : msg->depth.bids, asks ? "asks" : "bids");
      c.have |= bit;
    } else if (first && HFTX_KEY_IS(k, "checksum")) {
      r = detail::integer_field<ParseResult>(v, c.checksum, "checksum");
      if (r.ok() && (c.checksum < INT32_MIN || c.checksum > INT32_MAX)) r = fail(ParseStatus::wrong_type, "checksum");
      c.have |= kChecksum;
    } else if (first && HFTX_KEY_IS(k, "seqId")) {
      r = detail::integer_field<ParseResult>(v, c.seq, "seqId");
      if (r.ok() && c.seq < 0) r = fail(ParseStatus::wrong_type, "seqId");
      c.have |= kSeq;
    } else if (first && HFTX_KEY_IS(k, "prevSeqId")) {
      r = detail::integer_field<ParseResult>(v, c.prev, "prevSeqId");
      if (r.ok() && c.prev < -1) r = fail(ParseStatus::wrong_type, "prevSeqId");
      c.have |= kPrev;
    } else if (auto e = consume(v); e != simdjson::SUCCESS) {
      return json_fail(e, "data");
    }
    if (HFTX_UNLIKELY(!r.ok())) return r;
    if (HFTX_UNLIKELY(fs != FixedStatus::ok)) return fail(ParseStatus::bad_number, name, static_cast<std::uint8_t>(fs));
  }
  return {};
}

ParseResult MdParser::Impl::level_array(od::value& v, std::span<const Level>& out, const char* field) noexcept {
  od::array arr;
  if (auto e = v.get_array().get(arr); e != simdjson::SUCCESS)
    return e == simdjson::INCORRECT_TYPE ? fail(ParseStatus::wrong_type, field) : json_fail(e, field);
  const std::size_t begin = levels_used;
  for (auto elem : arr) {
    od::array pair;
    if (auto e = elem.get_array().get(pair); e != simdjson::SUCCESS)
      return e == simdjson::INCORRECT_TYPE ? fail(ParseStatus::bad_level, field) : json_fail(e, field);
    if (HFTX_UNLIKELY(levels_used == levels_cap)) return fail(ParseStatus::too_many_levels, field);
    Level& lv = levels[levels_used];
    int n = 0;
    for (auto x : pair) {
      if (auto e = x.error(); e != simdjson::SUCCESS) return json_fail(e, field);
      od::value& xv = x.value_unsafe();
      if (n < 2) {
        const ParseResult r = n == 0 ? fixed_value(xv, price_scale, lv.price, field)
                                     : fixed_value(xv, qty_scale, lv.qty, field);
        if (!r.ok()) return r.status == ParseStatus::wrong_type ? fail(ParseStatus::bad_level, field) : r;
      } else if (auto e = consume(xv); e != simdjson::SUCCESS) {  // the deprecated "0", the order count: not kept
        return json_fail(e, field);
      }
      ++n;
    }
    if (HFTX_UNLIKELY(n < 2)) return fail(ParseStatus::bad_level, field);
    ++levels_used;
  }
  out = std::span<const Level>(levels + begin, levels_used - begin);
  return {};
}

#undef HFTX_KEY_IS

// ---- the parser ----------------------------------------------------------------------------------------

ParseResult MdParser::Impl::parse(std::string_view json, std::size_t capacity, ParserStats& stats) noexcept {
  if (HFTX_UNLIKELY(json.size() > unpadded_cap)) {
    reset();
    return fail(ParseStatus::too_large, "");
  }
  if (HFTX_LIKELY(fast_path)) {
    reset();
    if (scan(json, capacity))
      if (const ParseResult r = finish(); HFTX_LIKELY(r.ok())) return r;
    ++stats.fallbacks;
  }
  // Copied when not padded: views then point into our buffer, valid until the next call.
  detail::pad_if_needed(json, capacity, unpadded.get());
  return run(json, capacity);
}

MdParser::MdParser(Scale price_scale, Scale qty_scale, std::size_t unpadded_capacity)
    : impl_(std::make_unique<Impl>(unpadded_capacity, price_scale, qty_scale)),
      price_scale_(price_scale),
      qty_scale_(qty_scale) {}
MdParser::~MdParser() = default;
MdParser::MdParser(MdParser&&) noexcept = default;
MdParser& MdParser::operator=(MdParser&&) noexcept = default;

void MdParser::set_fast_path(bool on) noexcept { impl_->fast_path = on; }
bool MdParser::fast_path() const noexcept { return impl_->fast_path; }

ParseResult MdParser::parse(std::string_view json, std::size_t capacity, std::int64_t recv_ns, MdMessage& out,
                            std::span<Level> levels) noexcept {
  Impl& im = *impl_;
  im.msg = &out;
  im.levels = levels.data();
  im.levels_cap = levels.size();
  const ParseResult r = im.parse(json, capacity, stats_);
  if (HFTX_UNLIKELY(!r.ok())) im.trades_count = im.trades_next = 0;
  out.recv_ns = recv_ns;
  ++stats_.messages;
  ++stats_.by_status[static_cast<std::size_t>(r.status)];
  if (r.ok()) ++stats_.by_kind[static_cast<std::size_t>(out.kind)];
  return r;
}

ParseResult MdParser::parse_unpadded(std::string_view json, std::int64_t recv_ns, MdMessage& out,
                                     std::span<Level> levels) noexcept {
  return parse(json, 0, recv_ns, out, levels);
}

std::size_t MdParser::trades_left() const noexcept { return impl_->trades_count - impl_->trades_next; }

bool MdParser::next_trade(MdMessage& out) noexcept {
  Impl& im = *impl_;
  if (im.trades_next >= im.trades_count) return false;
  const TradeItem& t = im.trades[im.trades_next++];
  out.trade.id = t.id;
  out.trade.price = t.px;
  out.trade.qty = t.sz;
  out.trade.buyer_is_maker = t.sell;
  out.venue_time_ns = out.transact_time_ns = ms_to_ns(t.ts_ms);
  return true;
}

}  // namespace hftx::venue::okx
