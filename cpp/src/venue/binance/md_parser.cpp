// Binance market-data parser (simdjson On-Demand). See hftx/md/binance.hpp for the contract.
//
// One pass over the fields of the top-level object collects whatever Binance fields appear; "data"
// (combined streams) and "result" (WebSocket API) recurse once into their object, so raw messages and
// envelopes share the code. The message kind is decided after the pass ("e" when present, else the
// shape: lastUpdateId+bids+asks is a snapshot, u+b+a strings a spot bookTicker), then the kind's required
// fields are checked. Prices and quantities are parsed from the raw tokens (no unescape copy).
//
// In front of it sits a hand scanner (FastScan below) for the shapes Binance's market streams actually
// send. It exists because it is measurably faster (bench_md: md_parse_depth/hftx against
// md_parse_depth/hftx_simdjson_only): simdjson's stage 1 indexes every structural character of a depth
// message before On-Demand walks it again, while the stream messages are compact ASCII in a few fixed
// shapes that one forward pass can read. The scanner accepts only what it is sure of and declines
// everything else (whitespace, escapes, non-ASCII, floats, nested values, duplicate keys, snapshots,
// WebSocket-API envelopes, anything an error would be reported for); a declined message is parsed again
// by simdjson, which names the error. Whatever the scanner accepts, simdjson would have produced the same
// MdMessage: tests/fuzz/fuzz_md_binance.cpp checks exactly that on every input, and md_test on every
// recorded line.
#include <simdjson.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <string>

#include "hftx/core/error.hpp"
#include "hftx/venue/binance/md_parser.hpp"
#include "md/json_detail.hpp"
#include "md/json_scan.hpp"

// Whole depth levels with SSE4.1 (pshufb, pmaddubsw), chosen at run time: the library stays x86-64 baseline.
#if HFTX_X86 && (defined(__GNUC__) || defined(__clang__)) && defined(__SSE2__)
#define HFTX_LEVELS_SSE41 1
#include <immintrin.h>
#define HFTX_TARGET_SSE41 __attribute__((target("sse4.1")))
#else
#define HFTX_LEVELS_SSE41 0
#endif

namespace hftx::venue::binance {

using namespace hftx::md;  // the neutral events this parser fills

static_assert(kJsonPadding == simdjson::SIMDJSON_PADDING, "kJsonPadding must equal simdjson's padding");

namespace od = simdjson::ondemand;

namespace {

// Fields seen in the pass (bit per field).
enum Have : std::uint32_t {
  kE = 1u << 0,       // "E"
  kT = 1u << 1,       // "T"
  kSym = 1u << 2,     // "s"
  kFirst = 1u << 3,   // "U"
  kLast = 1u << 4,    // "u"
  kPrev = 1u << 5,    // "pu"
  kBidsArr = 1u << 6, // "b" or "bids" as array
  kAsksArr = 1u << 7, // "a" or "asks" as array
  kBidStr = 1u << 8,  // "b" string
  kAskStr = 1u << 9,  // "a" string
  kBidQty = 1u << 10, // "B"
  kAskQty = 1u << 11, // "A"
  kTid = 1u << 12,    // "t"
  kAggId = 1u << 13,  // "a" number
  kPx = 1u << 14,     // "p"
  kQty = 1u << 15,    // "q"
  kMaker = 1u << 16,  // "m"
  kFirstT = 1u << 17, // "f"
  kLastT = 1u << 18,  // "l"
  kLuid = 1u << 19,   // "lastUpdateId"
  kEvent = 1u << 20,  // "e"
};

enum class EventName : std::uint8_t { none, depth_update, book_ticker, trade, agg_trade, other };

struct Collect {
  std::uint32_t have = 0;
  EventName event = EventName::none;
  int status = 200;  // WebSocket API "status"
};

// "e" and "X" values, the same for both paths.
HFTX_FORCE_INLINE EventName event_name(std::string_view e) noexcept {
  return e == "depthUpdate" ? EventName::depth_update
         : e == "bookTicker" ? EventName::book_ticker
         : e == "trade"      ? EventName::trade
         : e == "aggTrade"   ? EventName::agg_trade
                             : EventName::other;
}
HFTX_FORCE_INLINE TradeType trade_type(std::string_view x) noexcept {
  return x == "MARKET"           ? TradeType::market
         : x == "LIQUIDATION"    ? TradeType::liquidation
         : x == "INSURANCE_FUND" ? TradeType::insurance_fund
         : x == "ADL"            ? TradeType::adl
         : x == "NA"             ? TradeType::na
                                 : TradeType::other;
}

HFTX_FORCE_INLINE ParseResult fail(ParseStatus s, const char* field, std::uint8_t detail = 0) noexcept {
  return ParseResult{s, detail, field};
}
HFTX_FORCE_INLINE ParseResult json_fail(simdjson::error_code e, const char* field) noexcept {
  return ParseResult{ParseStatus::json_error, static_cast<std::uint8_t>(e), field};
}

using detail::FastScan;
using detail::key_is;
using detail::string_token;

// pshufb patterns that right-align digit groups: kRightAlign[a][b] moves bytes 0..a-1 of the low half to
// the end of the low half and bytes 8..8+b-1 to the end of the high half, zeroing the rest (0x80). Integer
// parts use [integer digits]; fractions use [step decimals] (their first decimals, the rest being zeros).
struct Shuffle16 {
  alignas(16) std::uint8_t b[16];
};
constexpr Shuffle16 right_align(int lo, int hi) noexcept {
  Shuffle16 s{};
  for (int j = 0; j < 8; ++j) {
    s.b[j] = j >= 8 - lo ? static_cast<std::uint8_t>(j - (8 - lo)) : std::uint8_t{0x80};
    s.b[8 + j] = j >= 8 - hi ? static_cast<std::uint8_t>(8 + j - (8 - hi)) : std::uint8_t{0x80};
  }
  return s;
}
constexpr auto kRightAlign = [] {
  std::array<std::array<Shuffle16, 9>, 9> t{};
  for (int a = 0; a < 9; ++a)
    for (int b = 0; b < 9; ++b) t[a][b] = right_align(a, b);
  return t;
}();

// A number binance_decimal() declined: the general path, out of the callers' registers.
template <class Tag>
HFTX_COLD bool fixed_other(FastScan& t, const Scale& scale, Fixed<Tag>& out) noexcept {
  return t.fixed_body(scale, out);
}

// The instrument's steps and what reading its numbers needs, computed once per parser.
struct Steps {
  Scale price_scale, qty_scale;
  FastScan::DecimalStep price_step, qty_step;
  const Shuffle16* fractions;  // kRightAlign[price decimals][qty decimals]
  bool sse41;                  // scan_levels_sse41 is used: the CPU has SSE4.1 and both steps its shape
  bool avx2 = cpu_has_avx2();  // deferred level arrays are skipped with AVX2
  Steps(Scale ps, Scale qs) noexcept
      : price_scale(ps), qty_scale(qs), price_step(ps), qty_step(qs),
        fractions(&kRightAlign[static_cast<std::size_t>(std::clamp(ps.decimals(), 0, 8))]
                              [static_cast<std::size_t>(std::clamp(qs.decimals(), 0, 8))]),
        sse41(usable()) {}
  [[nodiscard]] bool usable() const noexcept { return price_step.usable && qty_step.usable && cpu_has_sse41(); }
#if HFTX_LEVELS_SSE41
  static bool cpu_has_sse41() noexcept { return __builtin_cpu_init(), __builtin_cpu_supports("sse4.1"); }
  static bool cpu_has_avx2() noexcept { return __builtin_cpu_init(), __builtin_cpu_supports("avx2"); }
#else
  static bool cpu_has_sse41() noexcept { return false; }
  static bool cpu_has_avx2() noexcept { return false; }
#endif
  // A price or quantity, t.p at its opening quote: Binance's shape first, else the general path.
  HFTX_FORCE_INLINE bool price(FastScan& t, Price& out) const noexcept {
    return t.ch('"') && (t.binance_decimal(price_step, out) || fixed_other(t, price_scale, out));
  }
  HFTX_FORCE_INLINE bool qty(FastScan& t, Qty& out) const noexcept {
    return t.ch('"') && (t.binance_decimal(qty_step, out) || fixed_other(t, qty_scale, out));
  }
};

}  // namespace

struct MdParser::Impl {
  Impl(std::size_t cap, Scale ps, Scale qs)
      : parser(cap), unpadded(new char[cap + kJsonPadding]), unpadded_cap(cap), steps(ps, qs) {
    if (parser.allocate(cap) != simdjson::SUCCESS)
      throw ConfigError("MdParser: could not allocate simdjson buffers for " + std::to_string(cap) + " bytes");
  }
  od::parser parser;
  std::unique_ptr<char[]> unpadded;
  std::size_t unpadded_cap;

  // Per-message state.
  MdMessage* msg = nullptr;
  Level* levels = nullptr;
  std::size_t levels_cap = 0;
  std::size_t levels_used = 0;
  Collect c;

  bool fast_path = true;
  Steps steps;  // the instrument's steps

  // parse_deferred(): the pass skips depth level arrays (defer) and notes where they start; the text's
  // bounds are kept for the LevelReaders and read_deferred().
  bool defer = false;
  bool deferred = false;  // the last message's arrays are unread
  const char* deferred_at[2] = {nullptr, nullptr};   // bids', asks' '['
  const char* deferred_end[2] = {nullptr, nullptr};  // the byte after each array, as the skip found it
  std::string_view msg_text;
  std::size_t text_capacity = 0;
  // A cursor at `at` in the deferred message (its end and readable bytes as the pass had them).
  [[nodiscard]] FastScan deferred_scan(const char* at) const noexcept {
    return FastScan{at, msg_text.data() + msg_text.size(), msg_text.data() + text_capacity};
  }

  // One message: the fast scanner, then (declined, or capacity 0 = not padded) simdjson. Counts in `stats`.
  ParseResult parse(std::string_view json, std::size_t capacity, ParserStats& stats) noexcept;
  ParseResult parse_slow(std::string_view json, std::size_t capacity) noexcept;  // simdjson's
  void reset() noexcept;
  ParseResult finish() noexcept;  // decides the kind from what the pass collected
  bool scan(std::string_view json, std::size_t capacity) noexcept;
  bool scan_object(FastScan& s, int depth) noexcept;
  bool scan_levels(FastScan& s, std::span<const Level>& out) noexcept;
#if HFTX_LEVELS_SSE41
  HFTX_TARGET_SSE41 bool scan_levels_sse41(FastScan& s, std::span<const Level>& out) noexcept;
#endif
  ParseResult run(std::string_view json, std::size_t capacity) noexcept;
  ParseResult fields(od::object& obj, int depth) noexcept;
  ParseResult level_array(od::value& v, std::span<const Level>& out, const char* field) noexcept;


  template <class Tag>
  HFTX_FORCE_INLINE ParseResult fixed_value(od::value& v, const Scale& scale, Fixed<Tag>& out,
                                            const char* field) noexcept {
    std::string_view tok, text;
    if (tok = v.raw_json_token(); !string_token(tok, text))
      return fail(ParseStatus::wrong_type, field);
    const FixedStatus s = parse_fixed(text, scale, out, Sign::unsigned_only);
    if (HFTX_UNLIKELY(s != FixedStatus::ok)) return fail(ParseStatus::bad_number, field, static_cast<std::uint8_t>(s));
    return {};
  }

  template <class T>
  HFTX_FORCE_INLINE static ParseResult integer(od::value& v, T& out, const char* field) noexcept {
    return detail::integer_field<ParseResult>(v, out, field);
  }
};

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
      if (n == 0) {
        if (auto r = fixed_value(xv, steps.price_scale, lv.price, field); !r.ok())
          return r.status == ParseStatus::wrong_type ? fail(ParseStatus::bad_level, field) : r;
      } else if (n == 1) {
        if (auto r = fixed_value(xv, steps.qty_scale, lv.qty, field); !r.ok())
          return r.status == ParseStatus::wrong_type ? fail(ParseStatus::bad_level, field) : r;
      }
      // Extra elements (old formats had a third, ignored one) are skipped.
      ++n;
    }
    if (HFTX_UNLIKELY(n < 2)) return fail(ParseStatus::bad_level, field);
    ++levels_used;
  }
  out = std::span<const Level>(levels + begin, levels_used - begin);
  return {};
}

// Key test without unescaping: the raw key equals `lit` and is followed by its closing quote. Reads at
// most sizeof(lit) bytes from the key start, inside the document or its padding.
#define HFTX_KEY_IS(k, lit) (std::memcmp((k), lit "\"", sizeof(lit)) == 0)

ParseResult MdParser::Impl::fields(od::object& obj, int depth) noexcept {
  MdMessage& m = *msg;
  for (auto fr : obj) {
    // value_unsafe() after the error check: a reference, not a copy of the field (GCC copies the
    // iterator state through the stack with partial-width stores, a store-forwarding stall per field).
    if (auto e = fr.error(); e != simdjson::SUCCESS) return json_fail(e, "");
    od::field& f = fr.value_unsafe();
    const char* k = reinterpret_cast<const char*>(f.key().raw());
    od::value& v = f.value();
    ParseResult r;
    switch (k[0]) {
      case 'e':
        if (HFTX_KEY_IS(k, "e")) {
          std::string_view tok, name;
          if (tok = v.raw_json_token(); !string_token(tok, name))
            return fail(ParseStatus::wrong_type, "e");
          c.have |= kEvent;
          c.event = event_name(name);
        }
        break;
      case 'E':
        if (HFTX_KEY_IS(k, "E")) { r = integer(v, m.venue_time_ns, "E"); c.have |= kE; }
        break;
      case 'T':
        if (HFTX_KEY_IS(k, "T")) { r = integer(v, m.transact_time_ns, "T"); c.have |= kT; }
        break;
      case 's':
        if (HFTX_KEY_IS(k, "s")) {
          std::string_view tok, s;
          if (tok = v.raw_json_token(); !string_token(tok, s))
            return fail(ParseStatus::wrong_type, "s");
          m.symbol.assign(s);
          c.have |= kSym;
        } else if (depth == 0 && HFTX_KEY_IS(k, "stream")) {
          std::string_view tok, s;
          if (tok = v.raw_json_token(); !string_token(tok, s))
            return fail(ParseStatus::wrong_type, "stream");
          m.stream = s;
        } else if (depth == 0 && HFTX_KEY_IS(k, "status")) {
          std::int64_t st = 0;
          r = integer(v, st, "status");
          c.status = static_cast<int>(st);
        }
        break;
      case 'U':
        if (HFTX_KEY_IS(k, "U")) { r = integer(v, m.depth.first_id, "U"); c.have |= kFirst; }
        break;
      case 'u':
        if (HFTX_KEY_IS(k, "u")) { r = integer(v, m.depth.last_id, "u"); c.have |= kLast; }
        break;
      case 'p':
        if (HFTX_KEY_IS(k, "pu")) {
          r = integer(v, m.depth.prev_last_id, "pu");
          c.have |= kPrev;
        } else if (HFTX_KEY_IS(k, "p")) {
          r = fixed_value(v, steps.price_scale, m.trade.price, "p");
          c.have |= kPx;
        }
        break;
      case 'q':
        if (HFTX_KEY_IS(k, "q")) { r = fixed_value(v, steps.qty_scale, m.trade.qty, "q"); c.have |= kQty; }
        break;
      case 'b':
      case 'a': {
        const bool bid = k[0] == 'b';
        const bool short_key = bid ? HFTX_KEY_IS(k, "b") : HFTX_KEY_IS(k, "a");
        const bool long_key = !short_key && (bid ? HFTX_KEY_IS(k, "bids") : HFTX_KEY_IS(k, "asks"));
        if (!short_key && !long_key) break;
        const char* name = bid ? (short_key ? "b" : "bids") : (short_key ? "a" : "asks");
        od::json_type t;
        if (auto e = v.type().get(t); e != simdjson::SUCCESS) return json_fail(e, name);
        if (t == od::json_type::array) {
          if (HFTX_UNLIKELY(c.have & (bid ? kBidsArr : kAsksArr))) return fail(ParseStatus::wrong_type, name);
          r = level_array(v, bid ? m.depth.bids : m.depth.asks, name);
          c.have |= bid ? kBidsArr : kAsksArr;
        } else if (short_key && t == od::json_type::string) {
          r = bid ? fixed_value(v, steps.price_scale, m.ticker.bid_price, name)
                  : fixed_value(v, steps.price_scale, m.ticker.ask_price, name);
          c.have |= bid ? kBidStr : kAskStr;
        } else if (short_key && !bid && t == od::json_type::number) {
          r = integer(v, m.agg.id, "a");
          c.have |= kAggId;
        } else {
          return fail(ParseStatus::wrong_type, name);
        }
        break;
      }
      case 'B':
        if (HFTX_KEY_IS(k, "B")) { r = fixed_value(v, steps.qty_scale, m.ticker.bid_qty, "B"); c.have |= kBidQty; }
        break;
      case 'A':
        if (HFTX_KEY_IS(k, "A")) { r = fixed_value(v, steps.qty_scale, m.ticker.ask_qty, "A"); c.have |= kAskQty; }
        break;
      case 't':
        if (HFTX_KEY_IS(k, "t")) { r = integer(v, m.trade.id, "t"); c.have |= kTid; }
        break;
      case 'm':
        if (HFTX_KEY_IS(k, "m")) {
          bool b = false;
          if (auto e = v.get_bool().get(b); e != simdjson::SUCCESS) return detail::field_error<ParseResult>(e, "m");
          m.trade.buyer_is_maker = b;
          m.agg.buyer_is_maker = b;
          c.have |= kMaker;
        }
        break;
      case 'f':
        if (HFTX_KEY_IS(k, "f")) { r = integer(v, m.agg.first_trade_id, "f"); c.have |= kFirstT; }
        break;
      case 'l':
        if (HFTX_KEY_IS(k, "l")) {
          r = integer(v, m.agg.last_trade_id, "l");
          c.have |= kLastT;
        } else if (HFTX_KEY_IS(k, "lastUpdateId")) {
          r = integer(v, m.snapshot.last_update_id, "lastUpdateId");
          c.have |= kLuid;
        }
        break;
      case 'X':
        if (HFTX_KEY_IS(k, "X")) {
          std::string_view tok, s;
          if (tok = v.raw_json_token(); !string_token(tok, s))
            return fail(ParseStatus::wrong_type, "X");
          m.trade.type = trade_type(s);
        }
        break;
      case 'd':
      case 'r':
        if (depth == 0 && (HFTX_KEY_IS(k, "data") || HFTX_KEY_IS(k, "result"))) {
          const char* name = k[0] == 'd' ? "data" : "result";
          od::object inner;
          if (auto e = v.get_object().get(inner); e != simdjson::SUCCESS)
            return e == simdjson::INCORRECT_TYPE ? fail(ParseStatus::not_object, name) : json_fail(e, name);
          r = fields(inner, 1);
        }
        break;
      default:
        break;
    }
    if (HFTX_UNLIKELY(!r.ok())) return r;
    // Unconsumed values (unknown keys, "M", "id", "rateLimits") are skipped by the iterator.
  }
  return {};
}

#undef HFTX_KEY_IS

bool MdParser::Impl::scan(std::string_view json, std::size_t capacity) noexcept {
  FastScan s{json.data(), json.data() + json.size(), json.data() + std::max(capacity, json.size())};
  if (s.lit("{\"stream\":")) {
    std::string_view name;
    if (!s.long_string(name) || !s.lit(",\"data\":") || !scan_object(s, 1) || !s.ch('}')) return false;
    msg->stream = name;
  } else if (!scan_object(s, 0)) {
    return false;
  }
  return s.p == s.end;
}

namespace {
// The first ':' or '}' in [q, end) (end when none): neither is in a level array, so after a level array's
// '[' the first one is the colon of the member after the array, or the brace that closes the object.
// 64 bytes a step. (A first version also checked every byte against a level array's characters, 16 bytes a
// step: the skip then cost as much as reading the first levels, and the check could not catch a "]]"
// inside a string anyway, which only read_deferred() tells from the array's end.)
HFTX_FORCE_INLINE const char* find_colon_or_brace(const char* q, const char* end) noexcept {
#if defined(__SSE2__)
  const __m128i colon = _mm_set1_epi8(':'), brace = _mm_set1_epi8('}');
  const auto hits = [&](const char* at) {
    const __m128i v = FastScan::load16(at);
    return _mm_or_si128(_mm_cmpeq_epi8(v, colon), _mm_cmpeq_epi8(v, brace));
  };
  for (; end - q >= 64; q += 64) {
    const __m128i a = hits(q), b = hits(q + 16), c = hits(q + 32), d = hits(q + 48);
    if (HFTX_LIKELY(FastScan::bits(_mm_or_si128(_mm_or_si128(a, b), _mm_or_si128(c, d))) == 0)) continue;
    const std::uint64_t m = FastScan::bits(a) | (FastScan::bits(b) << 16) |
                            (std::uint64_t{FastScan::bits(c)} << 32) | (std::uint64_t{FastScan::bits(d)} << 48);
    return q + __builtin_ctzll(m);
  }
  for (; end - q >= 16; q += 16)
    if (const unsigned m = FastScan::bits(hits(q)); m != 0) return q + __builtin_ctz(m);
#endif
  for (; q < end; ++q)
    if (*q == ':' || *q == '}') return q;
  return end;
}

#if HFTX_LEVELS_SSE41
// find_colon_or_brace() 128 bytes a step, where the CPU has AVX2 (Steps::avx2; checked at run time).
__attribute__((target("avx2"))) const char* find_colon_or_brace_avx2(const char* q, const char* end) noexcept {
  const __m256i colon = _mm256_set1_epi8(':'), brace = _mm256_set1_epi8('}');
  const auto hits = [&](const char* at) __attribute__((target("avx2"))) {
    const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(at));
    return _mm256_or_si256(_mm256_cmpeq_epi8(v, colon), _mm256_cmpeq_epi8(v, brace));
  };
  for (; end - q >= 128; q += 128) {
    const __m256i a = hits(q), b = hits(q + 32), c = hits(q + 64), d = hits(q + 96);
    if (HFTX_LIKELY(_mm256_testz_si256(_mm256_or_si256(_mm256_or_si256(a, b), _mm256_or_si256(c, d)),
                                       _mm256_set1_epi8(-1)))) continue;
    for (const __m256i h : {a, b, c, d}) {
      if (const auto m = static_cast<unsigned>(_mm256_movemask_epi8(h)); m != 0) return q + __builtin_ctz(m);
      q += 32;
    }
  }
  for (; end - q >= 32; q += 32)
    if (const auto m = static_cast<unsigned>(_mm256_movemask_epi8(hits(q))); m != 0) return q + __builtin_ctz(m);
  return find_colon_or_brace(q, end);
}
#endif

// Past a level array without reading it (s.p at its '['), to the ',' or '}' after its "]]" (or "[]"): found
// from the next member's colon or the object's brace (find_colon_or_brace()), back over the member's key.
// Whether the array's levels read is for read_deferred() to find.
HFTX_FORCE_INLINE bool skip_level_array(FastScan& s, bool avx2) noexcept {
  const char* const open = s.p;
#if HFTX_LEVELS_SSE41
  const char* const stop = avx2 ? find_colon_or_brace_avx2(open + 1, s.end) : find_colon_or_brace(open + 1, s.end);
#else
  (void)avx2;
  const char* const stop = find_colon_or_brace(open + 1, s.end);
#endif
  if (stop == s.end) return false;
  const char* after = stop;  // the byte after the array
  if (*stop == ':') {        // back over ,"key"
    if (stop[-1] != '"') return false;
    const char* k = stop - 2;
    while (k > open && *k != '"') --k;
    after = k - 1;
    if (k - open < 3 || *after != ',') return false;
  }
  if (after - open < 2 || after[-1] != ']' || (after[-2] != ']' && after - 2 != open)) return false;
  s.p = after;
  return true;
}

// One ["price","qty"] pair, t.p at its '['.
HFTX_FORCE_INLINE bool one_level(FastScan& t, const Steps& k, Level& lv) noexcept {
  return t.ch('[') && k.price(t, lv.price) && t.ch(',') && k.qty(t, lv.qty) && t.ch(']');
}

#if HFTX_LEVELS_SSE41
// One whole level in Binance's shape, ["ddddd.dddddddd","d.dddddddd"] (1..7 integer digits each, exactly 8
// decimals, at most 32 bytes), from two 16-byte loads; t.p at its '[' with 48 bytes readable. False (t.p
// unchanged) for anything else, which one_level() then reads. Where both accept, both give the same levels.
//  - The two points place everything: price digits [2, d1), its quote d1 + 9, ',' d1 + 10, '"' d1 + 11,
//    quantity digits [d1 + 12, d2), its quote d2 + 9, ']' d2 + 10. One mask compare checks all the quotes,
//    one all the digits (so the bytes between are exactly those), byte compares the rest.
//  - The four digit groups (two integer parts, two fractions) are right-aligned by pshufb into two
//    registers and converted together (pmaddubsw, pmaddwd, packusdw, pmaddwd): four 8-digit numbers for
//    the price of one SWAR conversion.
//  - The level's end waits on one chain (load, point mask, two bit scans) instead of one per number.
// bench_md: 424 ns per recorded depth message against 610 ns for the number-at-a-time scanner
// (md_parse_depth/hftx against hftx_portable, same run); on the largest diffs ~8.5 against ~13 ns per level.
HFTX_TARGET_SSE41 HFTX_FORCE_INLINE bool shaped_level(FastScan& t, const Steps& k, Level& lv) noexcept {
  const char* const p = t.p;
  const __m128i lo = FastScan::load16(p), hi = FastScan::load16(p + 16);
  const unsigned dots = FastScan::eq(lo, '.') | (FastScan::eq(hi, '.') << 16);
  const unsigned d1 = static_cast<unsigned>(__builtin_ctz(dots | 0x80000000u));
  const unsigned d2 = static_cast<unsigned>(__builtin_ctz((dots & (dots - 1u)) | 0x80000000u));
  const unsigned dp = d1 - 2u, dq = d2 - d1 - 12u;  // integer digits (wrap to large when out of order)
  if (HFTX_UNLIKELY(dp - 1u >= 7u || dq - 1u >= 7u || d2 > 22u)) return false;
  // Through the quantity's closing quote (all 32 bits when d2 is 22: the shift is done in 64 bits).
  const auto within = static_cast<unsigned>((std::uint64_t{1} << (d2 + 10)) - 1u);
  const unsigned quotes = (FastScan::eq(lo, '"') | (FastScan::eq(hi, '"') << 16)) & within;
  const unsigned digits = (FastScan::digit_bits(lo) | (FastScan::digit_bits(hi) << 16)) & within;
  const unsigned want_quotes = 2u | (1u << (d1 + 9)) | (1u << (d1 + 11)) | (1u << (d2 + 9));
  const unsigned want_digits = within & ~(want_quotes | 1u | (1u << d1) | (1u << d2) | (1u << (d1 + 10)));
  const std::uint64_t pf = FastScan::load8(p + d1 + 1), qf = FastScan::load8(p + d2 + 1);
  if (HFTX_UNLIKELY(quotes != want_quotes || digits != want_digits || p[0] != '[' || p[d1 + 10] != ',' ||
                    p + d2 + 10 >= t.end || p[d2 + 10] != ']' ||
                    ((pf - FastScan::kAsciiZeros) & ~k.price_step.keep) != 0 ||  // past the step: zeros only
                    ((qf - FastScan::kAsciiZeros) & ~k.qty_step.keep) != 0))
    return false;
  const __m128i zero = _mm_set1_epi8('0');
  const __m128i ints = _mm_sub_epi8(_mm_set_epi64x(static_cast<long long>(FastScan::load8(p + d1 + 12)),
                                                   static_cast<long long>(FastScan::load8(p + 2))), zero);
  const __m128i fracs = _mm_sub_epi8(_mm_set_epi64x(static_cast<long long>(qf), static_cast<long long>(pf)), zero);
  const __m128i vi = _mm_shuffle_epi8(ints, _mm_load_si128(reinterpret_cast<const __m128i*>(kRightAlign[dp][dq].b)));
  const __m128i vf = _mm_shuffle_epi8(fracs, _mm_load_si128(reinterpret_cast<const __m128i*>(k.fractions->b)));
  const __m128i by10 = _mm_set1_epi16(0x010A);            // bytes 10, 1: pairs of digits
  const __m128i by100 = _mm_set1_epi32(0x00010064);       // words 100, 1: groups of four
  const __m128i by10000 = _mm_set1_epi32(0x00012710);     // words 10000, 1: groups of eight
  const __m128i i4 = _mm_madd_epi16(_mm_maddubs_epi16(vi, by10), by100);
  const __m128i f4 = _mm_madd_epi16(_mm_maddubs_epi16(vf, by10), by100);
  const __m128i r = _mm_madd_epi16(_mm_packus_epi32(i4, f4), by10000);  // price int, qty int, price frac, qty frac
  const auto whole = static_cast<std::uint64_t>(_mm_cvtsi128_si64(r));
  const auto frac = static_cast<std::uint64_t>(_mm_extract_epi64(r, 1));
  lv.price = Price(static_cast<std::int64_t>((whole & 0xFFFFFFFFu) * static_cast<std::uint64_t>(k.price_step.pow10) +
                                             (frac & 0xFFFFFFFFu)));
  lv.qty = Qty(static_cast<std::int64_t>((whole >> 32) * static_cast<std::uint64_t>(k.qty_step.pow10) + (frac >> 32)));
  t.p = p + d2 + 11;
  return true;
}
#endif
}  // namespace

namespace {
// One level array's scan: local copies of the cursor and the level pointer, written back at the end.
// Through the parser's members, every level's stores (int64 quantities) could alias them, so the compiler
// kept the cursor in memory (a store and a reload in each number's chain).
struct LevelRun {
  FastScan t;
  Level* const first;
  Level* lv;
  Level* const cap;
  bool more = false;
  // Past the array's '[' (at s.p): false when the text ends there.
  HFTX_FORCE_INLINE bool open() noexcept {
    ++t.p;
    if (t.p == t.end) return false;
    more = *t.p != ']';
    if (!more) ++t.p;
    return true;
  }
  [[nodiscard]] HFTX_FORCE_INLINE bool full() const noexcept { return lv == cap; }
  HFTX_FORCE_INLINE bool close(FastScan& s, Level* levels, std::size_t& used, std::span<const Level>& out) noexcept {
    s.p = t.p;
    used = static_cast<std::size_t>(lv - levels);
    out = std::span<const Level>(first, lv);
    return true;
  }
};
}  // namespace

// An array of ["price","qty"] pairs (s.p at its '[').
bool MdParser::Impl::scan_levels(FastScan& s, std::span<const Level>& out) noexcept {
#if HFTX_LEVELS_SSE41
  if (steps.sse41) return scan_levels_sse41(s, out);
#endif
  LevelRun r{s, levels + levels_used, levels + levels_used, levels + levels_cap};
  if (!r.open()) return false;
  for (; r.more; ++r.lv)
    if (HFTX_UNLIKELY(r.full()) || !one_level(r.t, steps, *r.lv) || !r.t.next(']', r.more)) return false;
  return r.close(s, levels, levels_used, out);
}

#if HFTX_LEVELS_SSE41
// scan_levels with shaped_level() first at each level: a function of its own because the target attribute
// must be on the function that shaped_level() is inlined into.
HFTX_TARGET_SSE41 bool MdParser::Impl::scan_levels_sse41(FastScan& s, std::span<const Level>& out) noexcept {
  LevelRun r{s, levels + levels_used, levels + levels_used, levels + levels_cap};
  if (!r.open()) return false;
  for (; r.more; ++r.lv)
    if (HFTX_UNLIKELY(r.full()) ||
        !((r.t.readable - r.t.p >= 48 && shaped_level(r.t, steps, *r.lv)) || one_level(r.t, steps, *r.lv)) ||
        !r.t.next(']', r.more))
      return false;
  return r.close(s, levels, levels_used, out);
}
#endif

// The members of one object, depth 0 (the document) or 1 (the envelope's "data"), with the simdjson path's
// meaning for every key (see fields()). A key seen twice declines: simdjson keeps the last, and the rare
// message that repeats a key is left to it.
bool MdParser::Impl::scan_object(FastScan& s, int depth) noexcept {
  MdMessage& m = *msg;
  std::uint32_t& have = c.have;
  std::uint32_t seen_x = 0;  // "X" has no bit in Collect
  if (!s.ch('{') || s.p == s.end || *s.p == '}') return false;
  const auto once = [&have](std::uint32_t bits) {
    if (have & bits) return false;
    have |= bits;
    return true;
  };
  for (bool more = true; more;) {
    std::string_view key;
    if (!s.string(key) || !s.ch(':') || s.p == s.end) return false;
    bool ok = false;
    if (key.size() == 1) {
      switch (key[0]) {
        case 'e': {
          std::string_view name;
          ok = once(kEvent) && s.string(name);
          c.event = event_name(name);
          break;
        }
        case 'E': ok = once(kE) && s.integer(m.venue_time_ns); break;
        case 'T': ok = once(kT) && s.integer(m.transact_time_ns); break;
        case 's': {
          std::string_view sym;
          ok = once(kSym) && s.string(sym);
          if (ok) m.symbol.assign(sym);
          break;
        }
        case 'U': ok = once(kFirst) && s.integer(m.depth.first_id); break;
        case 'u': ok = once(kLast) && s.integer(m.depth.last_id); break;
        case 'p': ok = once(kPx) && steps.price(s, m.trade.price); break;
        case 'q': ok = once(kQty) && steps.qty(s, m.trade.qty); break;
        case 'b':
        case 'a': {
          const bool bid = key[0] == 'b';
          if (have & (bid ? (kBidsArr | kBidStr) : (kAsksArr | kAskStr | kAggId))) return false;
          if (*s.p == '[') {
            have |= bid ? kBidsArr : kAsksArr;
            if (defer) {
              deferred_at[bid ? 0 : 1] = s.p;
              ok = skip_level_array(s, steps.avx2);
              deferred_end[bid ? 0 : 1] = s.p;
            } else {
              ok = scan_levels(s, bid ? m.depth.bids : m.depth.asks);
            }
          } else if (*s.p == '"') {
            have |= bid ? kBidStr : kAskStr;
            ok = steps.price(s, bid ? m.ticker.bid_price : m.ticker.ask_price);
          } else if (!bid) {
            have |= kAggId;
            ok = s.integer(m.agg.id);
          }
          break;
        }
        case 'B': ok = once(kBidQty) && steps.qty(s, m.ticker.bid_qty); break;
        case 'A': ok = once(kAskQty) && steps.qty(s, m.ticker.ask_qty); break;
        case 't': ok = once(kTid) && s.integer(m.trade.id); break;
        case 'm': {
          bool maker = false;
          ok = once(kMaker) && ((maker = s.lit("true")) || s.lit("false"));
          m.trade.buyer_is_maker = m.agg.buyer_is_maker = maker;
          break;
        }
        case 'f': ok = once(kFirstT) && s.integer(m.agg.first_trade_id); break;
        case 'l': ok = once(kLastT) && s.integer(m.agg.last_trade_id); break;
        case 'X': {
          std::string_view x;
          ok = !seen_x && s.string(x);
          seen_x = 1;
          m.trade.type = trade_type(x);
          break;
        }
        default: ok = s.skip_scalar(); break;
      }
    } else if (key_is(key, "pu")) {
      ok = once(kPrev) && s.integer(m.depth.prev_last_id);
    } else if (key_is(key, "lastUpdateId") || key_is(key, "bids") || key_is(key, "asks") ||
               (depth == 0 && (key_is(key, "stream") || key_is(key, "data") || key_is(key, "result") ||
                               key_is(key, "status")))) {
      return false;  // snapshots and envelopes in another shape: simdjson's
    } else {
      ok = s.skip_scalar();
    }
    if (!ok || !s.next('}', more)) return false;
  }
  return true;
}

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
  deferred_at[0] = deferred_at[1] = nullptr;
}

ParseResult MdParser::Impl::run(std::string_view json, std::size_t capacity) noexcept {
  reset();
  od::document doc;
  if (auto e = parser.iterate(json, capacity).get(doc); e != simdjson::SUCCESS) return json_fail(e, "");
  od::object obj;
  if (auto e = doc.get_object().get(obj); e != simdjson::SUCCESS)
    return e == simdjson::INCORRECT_TYPE ? fail(ParseStatus::not_object, "") : json_fail(e, "");
  if (auto r = fields(obj, 0); !r.ok()) return r;
  if (const char* loc = nullptr; doc.current_location().get(loc) == simdjson::SUCCESS) return fail(ParseStatus::trailing_content, "");
  return finish();
}

ParseResult MdParser::Impl::finish() noexcept {
  MdMessage& m = *msg;
  // Binance sends milliseconds (E, T); the neutral events carry nanoseconds.
  m.venue_time_ns = md::ms_to_ns(m.venue_time_ns);
  m.transact_time_ns = md::ms_to_ns(m.transact_time_ns);
  const std::uint32_t h = c.have;
  const auto need = [h](std::uint32_t bits) { return (h & bits) == bits; };
  const auto missing = [h](std::uint32_t bits) -> const char* {
    static constexpr const char* kNames[] = {"E", "T", "s", "U", "u", "pu", "b", "a", "b", "a", "B",
                                             "A", "t", "a", "p", "q", "m", "f", "l", "lastUpdateId", "e"};
    const std::uint32_t absent = bits & ~h;
    return kNames[__builtin_ctz(absent)];
  };
  if (c.status != 200) return fail(ParseStatus::unknown_event, "status");
  switch (c.event) {
    case EventName::depth_update: {
      constexpr std::uint32_t kNeed = kFirst | kLast | kBidsArr | kAsksArr;
      if (!need(kNeed)) return fail(ParseStatus::missing_field, missing(kNeed));
      m.depth.has_prev = (h & kPrev) != 0;
      m.kind = MdKind::depth_update;
      return {};
    }
    case EventName::book_ticker: {
      constexpr std::uint32_t kNeed = kLast | kBidStr | kBidQty | kAskStr | kAskQty;
      if (!need(kNeed)) return fail(ParseStatus::missing_field, missing(kNeed));
      m.ticker.update_id = m.depth.last_id;
      m.kind = MdKind::book_ticker;
      return {};
    }
    case EventName::trade: {
      constexpr std::uint32_t kNeed = kTid | kPx | kQty | kMaker;
      if (!need(kNeed)) return fail(ParseStatus::missing_field, missing(kNeed));
      m.kind = MdKind::trade;
      return {};
    }
    case EventName::agg_trade: {
      constexpr std::uint32_t kNeed = kAggId | kPx | kQty | kFirstT | kLastT | kMaker;
      if (!need(kNeed)) return fail(ParseStatus::missing_field, missing(kNeed));
      m.agg.price = m.trade.price;
      m.agg.qty = m.trade.qty;
      m.kind = MdKind::agg_trade;
      return {};
    }
    case EventName::other:
      return fail(ParseStatus::unknown_event, "e");
    case EventName::none:
      break;
  }
  if (need(kLuid | kBidsArr | kAsksArr)) {
    m.snapshot.bids = m.depth.bids;
    m.snapshot.asks = m.depth.asks;
    m.depth.bids = {};
    m.depth.asks = {};
    m.kind = MdKind::depth_snapshot;
    return {};
  }
  if (need(kLast | kBidStr | kBidQty | kAskStr | kAskQty)) {
    m.ticker.update_id = m.depth.last_id;
    m.kind = MdKind::book_ticker;
    return {};
  }
  return fail(ParseStatus::unknown_event, "");
}

ParseResult MdParser::Impl::parse(std::string_view json, std::size_t capacity, ParserStats& stats) noexcept {
  if (HFTX_UNLIKELY(json.size() > unpadded_cap)) return fail(ParseStatus::too_large, "");
  if (HFTX_LIKELY(fast_path)) {
    reset();
    if (scan(json, capacity))
      if (ParseResult r = finish(); HFTX_LIKELY(r.ok())) return r;
    ++stats.fallbacks;
  }
  return parse_slow(json, capacity);
}

ParseResult MdParser::Impl::parse_slow(std::string_view json, std::size_t capacity) noexcept {
  // Copied when not padded: the stream name then points into our buffer, valid until the next call (the
  // contract's lifetime).
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
void MdParser::set_sse41_levels(bool on) noexcept { impl_->steps.sse41 = on && impl_->steps.usable(); }
bool MdParser::sse41_levels() const noexcept { return impl_->steps.sse41; }

// Counts (n = +1) or uncounts (n = -1) a message's verdict: its status, and its kind when it parsed.
HFTX_FORCE_INLINE void MdParser::tally(const ParseResult& r, MdKind kind, int n) noexcept {
  stats_.by_status[static_cast<std::size_t>(r.status)] += static_cast<std::uint64_t>(n);
  if (r.ok()) stats_.by_kind[static_cast<std::size_t>(kind)] += static_cast<std::uint64_t>(n);
}

// parse() and parse_deferred(), inlined into each: parse_deferred() calling parse() passed the level span on
// through the stack, and reloading it whole right after the caller's two stores cost a failed store
// forward per message (~5 ns, measured with perf).
HFTX_FORCE_INLINE ParseResult MdParser::parse_message(std::string_view json, std::size_t capacity,
                                                           std::int64_t recv_ns, MdMessage& out,
                                                           std::span<Level> levels, bool defer) noexcept {
  Impl& im = *impl_;
  im.defer = defer;
  im.msg = &out;
  im.levels = levels.data();
  im.levels_cap = levels.size();
  const ParseResult r = im.parse(json, capacity, stats_);
  out.recv_ns = recv_ns;
  ++stats_.messages;
  tally(r, out.kind, +1);
  im.defer = false;
  im.deferred = defer && r.ok() && out.kind == MdKind::depth_update && im.deferred_at[0] != nullptr;
  if (defer) {
    im.msg_text = json;
    im.text_capacity = std::max(capacity, json.size());
  }
  return r;
}

ParseResult MdParser::parse(std::string_view json, std::size_t capacity, std::int64_t recv_ns, MdMessage& out,
                                 std::span<Level> levels) noexcept {
  return parse_message(json, capacity, recv_ns, out, levels, false);
}

ParseResult MdParser::parse_deferred(std::string_view json, std::size_t capacity, std::int64_t recv_ns,
                                          MdMessage& out, std::span<Level> levels) noexcept {
  return parse_message(json, capacity, recv_ns, out, levels, true);
}

bool MdParser::deferred() const noexcept { return impl_->deferred; }

MdParser::LevelReader MdParser::deferred_levels(int side, LevelOrder order) const noexcept {
  LevelReader r;
  r.im_ = impl_.get();
  if (!impl_->deferred) return r;
  r.open_ = impl_->deferred_at[side];
  r.end_ = impl_->deferred_end[side];
  r.reversed_ = order == LevelOrder::reversed;
  if (r.open_[1] != ']')
    r.p_ = r.reversed_ ? r.end_ - 1 : r.open_ + 1;
  else
    r.failed_ = r.open_ + 2 != r.end_;  // "[]" followed by more of the array
  return r;
}
MdParser::LevelReader MdParser::deferred_bids(LevelOrder order) const noexcept {
  return deferred_levels(0, order);
}
MdParser::LevelReader MdParser::deferred_asks(LevelOrder order) const noexcept {
  return deferred_levels(1, order);
}

bool MdParser::LevelReader::next(Level& out) noexcept {
  if (p_ == nullptr) return false;
  bool ok = false;
  if (!reversed_) {
    FastScan t = im_->deferred_scan(p_);
    bool more = false;
    // The last level must close the array where the skip found its end.
    ok = one_level(t, im_->steps, out) && t.next(']', more) && (more || t.p == end_);
    p_ = more ? t.p : nullptr;
  } else {
    // Back to the level's '[' (a level holds none), then read forward: it must end at p_, and be the first
    // level or follow a ','.
    const char* lvl = p_ - 1;
    while (lvl > open_ && *lvl != '[') --lvl;
    FastScan t = im_->deferred_scan(lvl);
    ok = lvl > open_ && one_level(t, im_->steps, out) && t.p == p_ && (lvl == open_ + 1 || lvl[-1] == ',');
    p_ = lvl == open_ + 1 ? nullptr : lvl - 1;
  }
  if (HFTX_UNLIKELY(!ok)) {
    p_ = nullptr;
    failed_ = true;
  }
  return ok;
}

ParseResult MdParser::read_deferred(MdMessage& out) noexcept {
  Impl& im = *impl_;
  if (!im.deferred) return {};
  im.deferred = false;
  im.msg = &out;
  FastScan b = im.deferred_scan(im.deferred_at[0]), a = im.deferred_scan(im.deferred_at[1]);
  if (HFTX_LIKELY(im.scan_levels(b, out.depth.bids) && b.p == im.deferred_end[0] && im.scan_levels(a, out.depth.asks) &&
                  a.p == im.deferred_end[1]))
    return {};
  // A level the fast scanner declines: simdjson reads the whole message, as parse() would have had it.
  const ParseResult r = im.parse_slow(im.msg_text, im.text_capacity);
  ++stats_.fallbacks;
  tally(ParseResult{}, MdKind::depth_update, -1);  // the verdict parse_deferred() counted
  tally(r, out.kind, +1);
  return r;
}

ParseResult MdParser::parse_unpadded(std::string_view json, std::int64_t recv_ns, MdMessage& out,
                                          std::span<Level> levels) noexcept {
  return parse(json, 0, recv_ns, out, levels);
}

}  // namespace hftx::venue::binance
