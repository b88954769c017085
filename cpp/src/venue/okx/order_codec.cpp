// OKX's order codec: request encoding and the private connection's parsing. See hftx/venue/okx/order_codec.hpp.
//
// Encoding is hand-written: a bounded writer over the caller's buffer, decimal digits two at a time, fixed-point
// text without int128 where the scale allows; no snprintf, no allocation.
//
// Parsing is simdjson On-Demand, with one hand scanner in front of it (scan_order_ack(), on detail::FastScan,
// shared with the other venues' parsers) for the `order` answer every order gets. OKX writes every number as a
// string ("ordId":"590...", "ts":"1695190491421"), so every field is read as its raw string token and the
// digits are converted here; prices and quantities go through parse_fixed with the instrument's scales.
// Updates are staged and delivered only once the whole message was read and found valid: a message that fails
// half-way (an unknown instId in the third order of a push) delivers nothing.
#include "hftx/venue/okx/order_codec.hpp"

#include <simdjson.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>

#include "hftx/core/error.hpp"
#include "hftx/md/events.hpp"
#include "md/json_detail.hpp"
#include "md/json_scan.hpp"
#include "oms/request_text.hpp"

namespace hftx::venue::okx {

using namespace hftx::oms;  // the neutral words this codec speaks

namespace od = simdjson::ondemand;

// ================================================================================================ codes

RejectReason reason_of(std::int32_t code) noexcept {
  switch (code) {
    case 0: return RejectReason::none;
    case 51603: return RejectReason::order_not_found;                   // Order does not exist
    case 51400:                                                         // cancel: filled, cancelled or absent
    case 51503: return RejectReason::unknown_order;                     // amend: the same
    case 51401:                                                         // cancel: already cancelled
    case 51509: return RejectReason::order_cancelled;                   // amend: already cancelled
    case 51402:                                                         // cancel: already completed
    case 51510: return RejectReason::order_filled;                      // amend: already completed
    case 51008: case 51119: case 51127: case 51131: case 51502:         // insufficient balance / margin
      return RejectReason::insufficient_balance;
    case 51016: return RejectReason::duplicate_client_id;               // Duplicated clOrdId
    case 51511: return RejectReason::would_take;                        // amend breaks post-only
    case 50011: case 50061: case 51113: case 60014:                     // rate limits
      return RejectReason::rate_limited;
    case 60012: case 60013: case 60018: case 51020:                     // invalid request / args / channel; min size
      return RejectReason::invalid_request;
    default: break;
  }
  if ((code >= 50101 && code <= 50107) || (code >= 50111 && code <= 50114) || (code >= 60004 && code <= 60011) ||
      code == 60024 || code == 60032)
    return RejectReason::not_logged_on;
  if ((code >= 50014 && code <= 50025) || (code >= 51000 && code <= 51007) || (code >= 51100 && code <= 51299))
    return RejectReason::invalid_request;
  return RejectReason::other;
}

int status_of(std::int32_t code) noexcept {
  if (code == 0) return 200;
  switch (reason_of(code)) {
    case RejectReason::rate_limited: return 429;
    case RejectReason::not_logged_on: return 401;
    default: break;
  }
  if (code == 50001 || code == 50004 || code == 50005 || code == 50013 || code == 50026) return 503;
  return 400;
}

// ============================================================================================== encoding

namespace {

using hftx::detail::u64_digits;

bool alnum(std::string_view s, std::size_t max) noexcept {
  if (s.empty() || s.size() > max) return false;
  for (const char c : s)
    if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))) return false;
  return true;
}

}  // namespace

ApiEncoder::ApiEncoder(ApiEncoderConfig config, Credentials credentials)
    : credentials_(std::move(credentials)),
      prefix_(std::move(config.client_id_prefix)),
      market_(config.market),
      td_mode_(std::move(config.td_mode)) {
  if (!sendable_credential(credentials_.api_key, false))
    throw ConfigError("api_key: expected 1..256 printable ASCII characters without '\"', '\\\\' or spaces");
  if (!sendable_credential(credentials_.passphrase, true))
    throw ConfigError("passphrase: expected 1..256 printable ASCII characters without '\"' or '\\\\'");
  if (!alnum(prefix_, kMaxClientIdPrefix))
    throw ConfigError("venue.client_id_prefix: '" + prefix_ +
                      "' is invalid (expected 1..12 characters of [A-Za-z0-9]: OKX's clOrdId is alphanumeric, at "
                      "most 32 characters, and the prefix is followed by up to 20 digits)");
  if (market_ == Market::spot) {
    if (td_mode_.empty()) td_mode_ = "cash";
    if (td_mode_ != "cash")
      throw ConfigError("venue.td_mode: '" + td_mode_ +
                        "' is invalid for spot (expected 'cash' or nothing: spot orders trade in cash)");
  } else if (td_mode_ != "cross" && td_mode_ != "isolated") {
    throw ConfigError("venue.td_mode: '" + td_mode_ + "' is invalid for " + std::string(to_string(market_)) +
                      " (expected 'cross' or 'isolated')");
  }
  instruments_ = ApiInstruments(std::move(config.instruments));
  const std::size_t longest_symbol = instruments_.longest_symbol();
  // One order object: its fixed text (~100 bytes with tgtCcy) and its fields at their maxima; generous.
  const std::size_t order = 128 + longest_symbol + td_mode_.size() + kMaxClientIdPrefix + 20 + 2 * kMaxFixedText;
  const std::size_t batch = 64 + 20 + kMaxBatch * (order + 1);
  const std::size_t login = 96 + credentials_.api_key.size() + credentials_.passphrase.size() + 20 +
                            LoginSigner::kSignatureSize;
  max_request_ = std::max(batch, login);
}

std::size_t ApiEncoder::format_client_id(ClientOrderId id, char* out) const noexcept {
  std::memcpy(out, prefix_.data(), prefix_.size());
  char buf[20];
  const char* b = u64_digits(id, buf + 20);
  const auto n = static_cast<std::size_t>(buf + 20 - b);
  std::memcpy(out + prefix_.size(), b, n);
  return prefix_.size() + n;
}

std::size_t ApiEncoder::finish(EncodeStatus s, std::size_t n) noexcept {
  last_ = s;
  ++stats_.requests;
  ++stats_.by_status[static_cast<std::size_t>(s)];
  return s == EncodeStatus::ok ? n : 0;
}

std::size_t ApiEncoder::encode_login(std::int64_t unix_s, char* out, std::size_t cap) noexcept {
  if (HFTX_UNLIKELY(unix_s <= 0)) return finish(EncodeStatus::bad_request, 0);
  char sig[LoginSigner::kSignatureSize];
  if (HFTX_UNLIKELY(credentials_.signer.sign_login(unix_s, sig) != LoginSigner::kSignatureSize))
    return finish(EncodeStatus::sign_failed, 0);
  Out js{out, out + cap};
  js.lit("{\"op\":\"login\",\"args\":[{\"apiKey\":\"");
  js.put(credentials_.api_key);
  js.lit("\",\"passphrase\":\"");
  js.put(credentials_.passphrase);
  js.lit("\",\"timestamp\":\"");
  js.u64(static_cast<std::uint64_t>(unix_s));
  js.lit("\",\"sign\":\"");
  js.put(sig, sizeof sig);
  js.lit("\"}]}");
  return finish(js.ok ? EncodeStatus::ok : EncodeStatus::too_small, static_cast<std::size_t>(js.p - out));
}

std::size_t ApiEncoder::encode_subscribe_orders(char* out, std::size_t cap, bool all_types) noexcept {
  Out js{out, out + cap};
  js.lit("{\"op\":\"subscribe\",\"args\":[{\"channel\":\"orders\",\"instType\":\"");
  js.put(all_types ? std::string_view("ANY") : inst_type(market_));
  js.lit("\"}]}");
  return finish(js.ok ? EncodeStatus::ok : EncodeStatus::too_small, static_cast<std::size_t>(js.p - out));
}

std::size_t ApiEncoder::encode_ping(char* out, std::size_t cap) noexcept {
  Out js{out, out + cap};
  js.lit("ping");
  return finish(js.ok ? EncodeStatus::ok : EncodeStatus::too_small, static_cast<std::size_t>(js.p - out));
}

EncodeStatus ApiEncoder::check_place(ClientOrderId id, const OrderRequest& r) const noexcept {
  if (HFTX_UNLIKELY(r.instrument >= instruments_.size())) return EncodeStatus::unknown_instrument;
  if (HFTX_UNLIKELY(id == 0 || r.qty.raw() <= 0)) return EncodeStatus::bad_request;
  if (r.type == OrderType::market) {
    // OKX's market order is immediate-or-cancel by nature (GTC and IOC both mean it); it has no FOK or
    // post-only variant, and options have no market orders.
    if (HFTX_UNLIKELY(r.post_only || (r.tif != TimeInForce::gtc && r.tif != TimeInForce::ioc) ||
                      market_ == Market::option))
      return EncodeStatus::bad_request;
    return EncodeStatus::ok;
  }
  if (HFTX_UNLIKELY(r.type != OrderType::limit || r.price.raw() <= 0)) return EncodeStatus::bad_request;
  if (r.post_only) return r.tif == TimeInForce::gtc ? EncodeStatus::ok : EncodeStatus::bad_request;
  return (r.tif == TimeInForce::gtc || r.tif == TimeInForce::ioc || r.tif == TimeInForce::fok)
             ? EncodeStatus::ok
             : EncodeStatus::bad_request;
}

// {"instId":..,"tdMode":..,"clOrdId":..,"side":..,"ordType":..,"px":..,"sz":..[,"tgtCcy":"base_ccy"]}; checked.
void ApiEncoder::put_order(Out& js, ClientOrderId id, const OrderRequest& r) const noexcept {
  const ApiInstrument& in = instruments_[r.instrument];
  const bool market = r.type == OrderType::market;
  char cid[kMaxClientIdPrefix + 20];
  js.lit("{\"instId\":\"");
  js.put(in.symbol);
  js.lit("\",\"tdMode\":\"");
  js.put(td_mode_);
  js.lit("\",\"clOrdId\":\"");
  js.put(cid, format_client_id(id, cid));
  if (r.side == Side::bid) js.lit("\",\"side\":\"buy\",\"ordType\":\"");
  else js.lit("\",\"side\":\"sell\",\"ordType\":\"");
  if (market) {
    js.lit("market\",\"sz\":\"");
  } else {
    js.put(r.post_only                 ? std::string_view("post_only")
           : r.tif == TimeInForce::gtc ? std::string_view("limit")
           : r.tif == TimeInForce::ioc ? std::string_view("ioc")
                                       : std::string_view("fok"));
    js.lit("\",\"px\":\"");
    js.fixed(r.price.raw(), in.price_scale);
    js.lit("\",\"sz\":\"");
  }
  js.fixed(r.qty.raw(), in.qty_scale);
  // A spot market buy's sz is a quote amount unless tgtCcy says otherwise; the sz here is always the base.
  if (market && market_ == Market::spot) js.lit("\",\"tgtCcy\":\"base_ccy\"}");
  else js.lit("\"}");
}

void ApiEncoder::put_cancel(Out& js, ClientOrderId id, InstrumentId instrument) const noexcept {
  char cid[kMaxClientIdPrefix + 20];
  js.lit("{\"instId\":\"");
  js.put(instruments_[instrument].symbol);
  js.lit("\",\"clOrdId\":\"");
  js.put(cid, format_client_id(id, cid));
  js.lit("\"}");
}

std::size_t ApiEncoder::encode_place(ClientOrderId id, const OrderRequest& request, char* out,
                                     std::size_t cap) noexcept {
  if (const EncodeStatus s = check_place(id, request); HFTX_UNLIKELY(s != EncodeStatus::ok)) return finish(s, 0);
  Out js{out, out + cap};
  js.lit("{\"id\":\"p");
  js.u64(id);
  js.lit("\",\"op\":\"order\",\"args\":[");
  put_order(js, id, request);
  js.lit("]}");
  return finish(js.ok ? EncodeStatus::ok : EncodeStatus::too_small, static_cast<std::size_t>(js.p - out));
}

std::size_t ApiEncoder::encode_cancel(ClientOrderId id, InstrumentId instrument, char* out,
                                      std::size_t cap) noexcept {
  if (HFTX_UNLIKELY(instrument >= instruments_.size())) return finish(EncodeStatus::unknown_instrument, 0);
  if (HFTX_UNLIKELY(id == 0)) return finish(EncodeStatus::bad_request, 0);
  Out js{out, out + cap};
  js.lit("{\"id\":\"c");
  js.u64(id);
  js.lit("\",\"op\":\"cancel-order\",\"args\":[");
  put_cancel(js, id, instrument);
  js.lit("]}");
  return finish(js.ok ? EncodeStatus::ok : EncodeStatus::too_small, static_cast<std::size_t>(js.p - out));
}

std::size_t ApiEncoder::encode_amend(ClientOrderId id, InstrumentId instrument, Price new_price, Qty new_qty,
                                     char* out, std::size_t cap) noexcept {
  if (HFTX_UNLIKELY(instrument >= instruments_.size())) return finish(EncodeStatus::unknown_instrument, 0);
  if (HFTX_UNLIKELY(id == 0 || new_price.raw() < 0 || new_qty.raw() < 0 ||
                    (new_price.raw() == 0 && new_qty.raw() == 0)))
    return finish(EncodeStatus::bad_request, 0);
  const ApiInstrument& in = instruments_[instrument];
  char cid[kMaxClientIdPrefix + 20];
  Out js{out, out + cap};
  js.lit("{\"id\":\"m");
  js.u64(id);
  js.lit("\",\"op\":\"amend-order\",\"args\":[{\"instId\":\"");
  js.put(in.symbol);
  js.lit("\",\"clOrdId\":\"");
  js.put(cid, format_client_id(id, cid));
  if (new_qty.raw() != 0) {
    js.lit("\",\"newSz\":\"");
    js.fixed(new_qty.raw(), in.qty_scale);
  }
  if (new_price.raw() != 0) {
    js.lit("\",\"newPx\":\"");
    js.fixed(new_price.raw(), in.price_scale);
  }
  js.lit("\"}]}");
  return finish(js.ok ? EncodeStatus::ok : EncodeStatus::too_small, static_cast<std::size_t>(js.p - out));
}

std::size_t ApiEncoder::encode_batch_place(std::uint64_t n, std::span<const PlaceOrder> orders, char* out,
                                           std::size_t cap) noexcept {
  if (HFTX_UNLIKELY(orders.empty() || orders.size() > kMaxBatch)) return finish(EncodeStatus::bad_request, 0);
  for (const PlaceOrder& o : orders)
    if (const EncodeStatus s = check_place(o.id, o.request); HFTX_UNLIKELY(s != EncodeStatus::ok))
      return finish(s, 0);
  Out js{out, out + cap};
  js.lit("{\"id\":\"b");
  js.u64(n);
  js.lit("\",\"op\":\"batch-orders\",\"args\":[");
  for (std::size_t i = 0; i < orders.size(); ++i) {
    if (i != 0) js.lit(",");
    put_order(js, orders[i].id, orders[i].request);
  }
  js.lit("]}");
  return finish(js.ok ? EncodeStatus::ok : EncodeStatus::too_small, static_cast<std::size_t>(js.p - out));
}

std::size_t ApiEncoder::encode_batch_cancel(std::uint64_t n, std::span<const CancelOrder> orders, char* out,
                                            std::size_t cap) noexcept {
  if (HFTX_UNLIKELY(orders.empty() || orders.size() > kMaxBatch)) return finish(EncodeStatus::bad_request, 0);
  for (const CancelOrder& o : orders) {
    if (HFTX_UNLIKELY(o.instrument >= instruments_.size())) return finish(EncodeStatus::unknown_instrument, 0);
    if (HFTX_UNLIKELY(o.id == 0)) return finish(EncodeStatus::bad_request, 0);
  }
  Out js{out, out + cap};
  js.lit("{\"id\":\"x");
  js.u64(n);
  js.lit("\",\"op\":\"batch-cancel-orders\",\"args\":[");
  for (std::size_t i = 0; i < orders.size(); ++i) {
    if (i != 0) js.lit(",");
    put_cancel(js, orders[i].id, orders[i].instrument);
  }
  js.lit("]}");
  return finish(js.ok ? EncodeStatus::ok : EncodeStatus::too_small, static_cast<std::size_t>(js.p - out));
}

// =============================================================================================== parsing

static_assert(md::kJsonPadding == simdjson::SIMDJSON_PADDING, "kJsonPadding must equal simdjson's padding");

namespace {

HFTX_FORCE_INLINE ApiParseResult fail(ApiStatus s, const char* field, std::uint8_t detail = 0) noexcept {
  return ApiParseResult{s, detail, field};
}
HFTX_FORCE_INLINE ApiParseResult json_fail(simdjson::error_code e, const char* field) noexcept {
  return ApiParseResult{ApiStatus::json_error, static_cast<std::uint8_t>(e), field};
}

// A string field's text (raw: escapes not decoded). wrong_type when the value is not a string.
HFTX_FORCE_INLINE ApiParseResult str(od::value& v, std::string_view& out, const char* field) noexcept {
  if (!detail::string_token(v.raw_json_token(), out)) return fail(ApiStatus::wrong_type, field);
  return {};
}

// 1..20 decimal digits without overflow; false otherwise. Every id and time OKX sends is such a string (ordId 18-19
// digits, ts 13), so this is on every message: eight digits at a time (SWAR), and the overflow test only on a 20th
// digit (19 digits always fit; a per-digit `v > (max - d) / 10` test costs a division per digit).
HFTX_FORCE_INLINE bool parse_u64(std::string_view s, std::uint64_t& out) noexcept {
  std::size_t n = s.size();
  if (n == 0 || n > 20) return false;
  const char* p = s.data();
  const bool twentieth = n == 20;
  n -= twentieth ? 1 : 0;
  std::uint64_t v = 0;
  for (; n >= 8; n -= 8, p += 8) {
    std::uint64_t eight = 0;
    if (!detail::FastScan::eight_ascii_digits(p, eight)) return false;
    v = v * 100'000'000u + eight;
  }
  for (; n != 0; --n, ++p) {
    const auto d = static_cast<unsigned>(*p - '0');
    if (d > 9u) return false;
    v = v * 10u + d;
  }
  if (twentieth) {
    const auto d = static_cast<unsigned>(*p - '0');
    if (d > 9u || __builtin_mul_overflow(v, 10u, &v) || __builtin_add_overflow(v, d, &v)) return false;
  }
  out = v;
  return true;
}
// An OKX code ("0", "51008"): 1..9 digits.
HFTX_FORCE_INLINE bool parse_code(std::string_view s, std::int32_t& out) noexcept {
  std::uint64_t v = 0;
  if (s.size() > 9 || !parse_u64(s, v)) return false;
  out = static_cast<std::int32_t>(v);
  return true;
}
// A time as OKX writes it: decimal text of Unix ms (ts, uTime, fillTime) or µs (inTime, outTime). "" → 0.
HFTX_FORCE_INLINE bool parse_time(std::string_view s, std::int64_t unit_ns, std::int64_t& out_ns) noexcept {
  if (s.empty()) {
    out_ns = 0;
    return true;
  }
  std::uint64_t v = 0;
  if (!parse_u64(s, v) || v > static_cast<std::uint64_t>(INT64_MAX / unit_ns)) return false;
  out_ns = static_cast<std::int64_t>(v) * unit_ns;
  return true;
}
// An id as OKX writes it (ordId, tradeId): "" → 0, else digits.
HFTX_FORCE_INLINE bool parse_id(std::string_view s, std::uint64_t& out) noexcept {
  out = 0;
  return s.empty() || parse_u64(s, out);
}

// Key test without unescaping: the raw key (after its opening quote) equals `lit` and is followed by its
// closing quote. Reads at most sizeof(lit) bytes from the key start, inside the document or its padding.
#define HFTX_KEY_IS(k, lit) (std::memcmp((k), lit "\"", sizeof(lit)) == 0)

// The ops this codec sends, and the request id letter of each.
enum class Op : std::uint8_t { none, order, batch_orders, cancel, batch_cancel, amend, other };

Op op_of(std::string_view s) noexcept {
  if (s == "order") return Op::order;
  if (s == "cancel-order") return Op::cancel;
  if (s == "amend-order") return Op::amend;
  if (s == "batch-orders") return Op::batch_orders;
  if (s == "batch-cancel-orders") return Op::batch_cancel;
  return Op::other;
}
char letter_of(Op op) noexcept {
  switch (op) {
    case Op::order: return 'p';
    case Op::cancel: return 'c';
    case Op::amend: return 'm';
    case Op::batch_orders: return 'b';
    case Op::batch_cancel: return 'x';
    default: return '\0';
  }
}
bool single(Op op) noexcept { return op == Op::order || op == Op::cancel || op == Op::amend; }
ApiKind kind_of(Op op) noexcept {
  switch (op) {
    case Op::order:
    case Op::batch_orders: return ApiKind::place;
    case Op::cancel:
    case Op::batch_cancel: return ApiKind::cancel;
    case Op::amend: return ApiKind::amend;
    default: return ApiKind::other_response;
  }
}

// Codes of an error event that answer a login (so the session learns that its login failed).
bool login_failure(std::int32_t code) noexcept {
  return (code >= 60004 && code <= 60007) || code == 60009 || code == 60024 || code == 60032;
}

// Fields of one element of an op answer's data.
enum RespHave : std::uint32_t { kRcl = 1u << 0, kRord = 1u << 1, kRts = 1u << 2, kRcode = 1u << 3, kRmsg = 1u << 4 };
struct RespFields {
  std::uint32_t have = 0;
  std::string_view cl, ord, ts, s_code, s_msg;
};

// Fields of one order of an `orders` push.
enum PushHave : std::uint32_t {
  kPinst = 1u << 0, kPord = 1u << 1, kPside = 1u << 2, kPstate = 1u << 3, kPacc = 1u << 4,
};
struct PushFields {
  std::uint32_t have = 0;
  std::string_view inst, ord, cl, side, state, acc, fill_sz, fill_px, trade, exec, fill_time, u_time, cancel_source,
      amend_result, ord_type;
};

// Top-level members seen.
enum Have : std::uint32_t {
  kHid = 1u << 0, kHop = 1u << 1, kHcode = 1u << 2, kHmsg = 1u << 3, kHevent = 1u << 4, kHarg = 1u << 5,
  kHdata = 1u << 6, kHout = 1u << 7,
};

// Updates a message stages before it is delivered: a batch answer's 20, with room; a longer push is read
// twice (validated, then delivered).
constexpr std::size_t kStaged = 24;

}  // namespace

struct ApiParser::Impl {
  Impl(std::vector<ApiInstrument> instruments_in, std::string prefix_in, std::size_t cap)
      : parser(cap), unpadded(new char[cap + md::kJsonPadding]), unpadded_cap(cap), prefix(std::move(prefix_in)) {
    if (parser.allocate(cap) != simdjson::SUCCESS)
      throw ConfigError("okx ApiParser: could not allocate simdjson buffers for " + std::to_string(cap) + " bytes");
    if (!alnum(prefix, kMaxClientIdPrefix))
      throw ConfigError("venue.client_id_prefix: '" + prefix +
                        "' is invalid (expected 1..12 characters of [A-Za-z0-9])");
    instruments = ApiInstruments(std::move(instruments_in));
  }

  od::parser parser;
  std::unique_ptr<char[]> unpadded;
  std::size_t unpadded_cap;
  std::string prefix;
  ApiInstruments instruments;
  bool fast = true;                  // scan_order_ack() before simdjson

  // Per message.
  ApiMessage* msg = nullptr;
  const UpdateSink* sink = nullptr;
  std::int64_t recv_ns = 0;
  std::uint64_t foreign = 0;  // delivered updates whose clOrdId is not ours
  std::uint32_t have = 0;
  std::string_view id, code, text, event, channel, out_time;
  Op op = Op::none;
  // How "data" was read in the loop (0: not, 1: as an op answer, 2: as an orders push, 3: skipped), with the op
  // and request id it was read with. When the whole message says otherwise (a member came after "data", a
  // duplicate key), the end reads it again the way the message says.
  int read_as = 0;
  Op read_op = Op::none;
  std::uint64_t read_request = 0;
  bool direct = false;        // deliver updates as they are made (the second pass of a long push)
  std::size_t elements = 0;
  bool have_fail = false;  // the first failing element of an op answer
  std::int32_t fail_code = 0;
  std::string_view fail_msg;
  std::size_t staged_n = 0;
  std::size_t produced = 0;
  std::array<OrderUpdate, kStaged> staged{};

  [[nodiscard]] ClientOrderId client_id(std::string_view t) const noexcept {
    if (t.size() <= prefix.size() || std::memcmp(t.data(), prefix.data(), prefix.size()) != 0) return 0;
    std::uint64_t v = 0;
    return parse_u64(t.substr(prefix.size()), v) ? v : 0;
  }

  void deliver(OrderUpdate& u) noexcept {
    u.recv_ns = recv_ns;
    ++msg->updates;
    foreign += u.client_id == 0 ? 1u : 0u;
    (*sink)(u);
  }
  void emit(OrderUpdate& u) noexcept {
    if (direct) {
      deliver(u);
      return;
    }
    if (staged_n < kStaged) staged[staged_n++] = u;
    ++produced;
  }

  bool scan_order_ack(std::string_view json, std::size_t capacity) noexcept;
  ApiParseResult run(std::string_view json, std::size_t capacity) noexcept;
  ApiParseResult top_fields(od::object& obj) noexcept;
  ApiParseResult arg_value(od::value& v) noexcept;
  ApiParseResult data_value(od::value& v, int mode) noexcept;
  ApiParseResult data_again(od::document& doc, int mode) noexcept;
  void reset_data() noexcept {
    elements = staged_n = produced = 0;
    have_fail = false;
    fail_code = 0;
    fail_msg = {};
  }
  ApiParseResult response_element(od::object& obj) noexcept;
  ApiParseResult push_element(od::object& obj) noexcept;
  ApiParseResult finish_event() noexcept;
  ApiParseResult finish_response(od::document& doc) noexcept;
  ApiParseResult flush(od::document& doc) noexcept;
  // Whether "data" can be read now: the op (and the id, for single ops' fallback client id) or the channel
  // are known. 0: not yet; 1: read it as an op answer; 2: as an orders push; 3: skip it.
  [[nodiscard]] int data_mode() const noexcept {
    if (have & kHevent) return 3;
    if (have & kHop) {
      if (op == Op::other) return 3;
      return (have & kHid) ? 1 : 0;
    }
    if (have & kHarg) return channel == "orders" ? 2 : 3;
    return 0;
  }
  void set_request() noexcept {
    std::uint64_t n = 0;
    const char letter = letter_of(op);
    msg->request = letter != '\0' && id.size() >= 2 && id[0] == letter && parse_u64(id.substr(1), n) ? n : 0;
  }
};

ApiParseResult ApiParser::Impl::arg_value(od::value& v) noexcept {
  od::object obj;
  if (auto e = v.get_object().get(obj); e != simdjson::SUCCESS)
    return e == simdjson::INCORRECT_TYPE ? fail(ApiStatus::not_object, "arg") : json_fail(e, "arg");
  for (auto fr : obj) {
    if (auto e = fr.error(); e != simdjson::SUCCESS) return json_fail(e, "arg");
    od::field& f = fr.value_unsafe();
    if (HFTX_KEY_IS(reinterpret_cast<const char*>(f.key().raw()), "channel")) {
      if (auto r = str(f.value(), channel, "channel"); !r.ok()) return r;
    }
  }
  have |= kHarg;
  return {};
}

ApiParseResult ApiParser::Impl::data_value(od::value& v, int mode) noexcept {
  od::array arr;
  if (auto e = v.get_array().get(arr); e != simdjson::SUCCESS)
    return e == simdjson::INCORRECT_TYPE ? fail(ApiStatus::wrong_type, "data") : json_fail(e, "data");
  for (auto el : arr) {
    od::object obj;
    if (auto e = el.get_object().get(obj); e != simdjson::SUCCESS)
      return e == simdjson::INCORRECT_TYPE ? fail(ApiStatus::not_object, "data") : json_fail(e, "data");
    if (auto r = mode == 1 ? response_element(obj) : push_element(obj); HFTX_UNLIKELY(!r.ok())) return r;
  }
  return {};
}

// "data" once more, after the loop: it came before what says how to read it, or a push had more updates
// than the stage holds (then `direct` delivers them as this pass makes them).
ApiParseResult ApiParser::Impl::data_again(od::document& doc, int mode) noexcept {
  doc.rewind();
  od::object obj;
  if (auto e = doc.get_object().get(obj); e != simdjson::SUCCESS) return json_fail(e, "");
  for (auto fr : obj) {
    if (auto e = fr.error(); e != simdjson::SUCCESS) return json_fail(e, "");
    od::field& f = fr.value_unsafe();
    if (HFTX_KEY_IS(reinterpret_cast<const char*>(f.key().raw()), "data")) return data_value(f.value(), mode);
  }
  return {};
}

ApiParseResult ApiParser::Impl::response_element(od::object& obj) noexcept {
  RespFields f;
  for (auto fr : obj) {
    if (auto e = fr.error(); e != simdjson::SUCCESS) return json_fail(e, "data");
    od::field& fl = fr.value_unsafe();
    const char* k = reinterpret_cast<const char*>(fl.key().raw());
    od::value& v = fl.value();
    ApiParseResult r;
    switch (k[0]) {
      case 'c':
        if (HFTX_KEY_IS(k, "clOrdId")) r = str(v, f.cl, "clOrdId"), f.have |= kRcl;
        break;
      case 'o':
        if (HFTX_KEY_IS(k, "ordId")) r = str(v, f.ord, "ordId"), f.have |= kRord;
        break;
      case 't':
        if (HFTX_KEY_IS(k, "ts")) r = str(v, f.ts, "ts"), f.have |= kRts;
        break;
      case 's':
        if (HFTX_KEY_IS(k, "sCode")) r = str(v, f.s_code, "sCode"), f.have |= kRcode;
        else if (HFTX_KEY_IS(k, "sMsg")) r = str(v, f.s_msg, "sMsg"), f.have |= kRmsg;
        break;
      default:
        break;  // tag, reqId, subCode, ...
    }
    if (HFTX_UNLIKELY(!r.ok())) return r;
  }
  if (!(f.have & kRcode)) return fail(ApiStatus::missing_field, "sCode");
  std::int32_t s_code = 0;
  if (!parse_code(f.s_code, s_code)) return fail(ApiStatus::wrong_type, "sCode");
  std::uint64_t ord = 0;
  if (!parse_id(f.ord, ord)) return fail(ApiStatus::wrong_type, "ordId");
  std::int64_t ts = 0;
  if (!parse_time(f.ts, 1'000'000, ts)) return fail(ApiStatus::wrong_type, "ts");
  ++elements;
  if (s_code != 0 && !have_fail) {
    have_fail = true;
    fail_code = s_code;
    fail_msg = f.s_msg;
  }
  OrderUpdate u;
  // The echoed clOrdId names the order; a single op's request id does when OKX echoes none.
  u.client_id = !f.cl.empty() ? client_id(f.cl) : single(op) ? msg->request : 0;
  u.venue_order_id = ord;
  u.venue_time_ns = ts;
  if (op == Op::order || op == Op::batch_orders) {
    if (s_code == 0) {
      u.kind = UpdateKind::ack;
    } else {
      u.kind = UpdateKind::rejected;
      u.error_code = s_code;
      u.reason = reason_of(s_code);
    }
    emit(u);
  } else if ((op == Op::cancel || op == Op::batch_cancel) && s_code != 0) {
    u.kind = UpdateKind::cancel_rejected;
    u.error_code = s_code;
    u.reason = reason_of(s_code);
    emit(u);
  }
  return {};
}

ApiParseResult ApiParser::Impl::push_element(od::object& obj) noexcept {
  PushFields f;
  for (auto fr : obj) {
    if (auto e = fr.error(); e != simdjson::SUCCESS) return json_fail(e, "data");
    od::field& fl = fr.value_unsafe();
    const char* k = reinterpret_cast<const char*>(fl.key().raw());
    od::value& v = fl.value();
    ApiParseResult r;
    switch (k[0]) {
      case 'i':
        if (HFTX_KEY_IS(k, "instId")) r = str(v, f.inst, "instId"), f.have |= kPinst;
        break;
      case 'o':
        if (HFTX_KEY_IS(k, "ordId")) r = str(v, f.ord, "ordId"), f.have |= kPord;
        else if (HFTX_KEY_IS(k, "ordType")) r = str(v, f.ord_type, "ordType");
        break;
      case 'c':
        if (HFTX_KEY_IS(k, "clOrdId")) r = str(v, f.cl, "clOrdId");
        else if (HFTX_KEY_IS(k, "cancelSource")) r = str(v, f.cancel_source, "cancelSource");
        break;
      case 's':
        if (HFTX_KEY_IS(k, "side")) r = str(v, f.side, "side"), f.have |= kPside;
        else if (HFTX_KEY_IS(k, "state")) r = str(v, f.state, "state"), f.have |= kPstate;
        break;
      case 'a':
        if (HFTX_KEY_IS(k, "accFillSz")) r = str(v, f.acc, "accFillSz"), f.have |= kPacc;
        else if (HFTX_KEY_IS(k, "amendResult")) r = str(v, f.amend_result, "amendResult");
        break;
      case 'f':
        if (HFTX_KEY_IS(k, "fillSz")) r = str(v, f.fill_sz, "fillSz");
        else if (HFTX_KEY_IS(k, "fillPx")) r = str(v, f.fill_px, "fillPx");
        else if (HFTX_KEY_IS(k, "fillTime")) r = str(v, f.fill_time, "fillTime");
        break;
      case 't':
        if (HFTX_KEY_IS(k, "tradeId")) r = str(v, f.trade, "tradeId");
        break;
      case 'e':
        if (HFTX_KEY_IS(k, "execType")) r = str(v, f.exec, "execType");
        break;
      case 'u':
        if (HFTX_KEY_IS(k, "uTime")) r = str(v, f.u_time, "uTime");
        break;
      default:
        break;  // px, sz, avgPx, fees, pnl, nested algo objects, ...: not needed for the update
    }
    if (HFTX_UNLIKELY(!r.ok())) return r;
  }
  constexpr std::uint32_t kNeed = kPinst | kPord | kPside | kPstate | kPacc;
  if ((f.have & kNeed) != kNeed) {
    constexpr const char* kNames[] = {"instId", "ordId", "side", "state", "accFillSz"};
    return fail(ApiStatus::missing_field, kNames[__builtin_ctz(kNeed & ~f.have)]);
  }
  OrderUpdate u;
  if (!instruments.find(f.inst, u.instrument)) return fail(ApiStatus::unknown_symbol, "instId");
  if (f.side == "buy") u.side = Side::bid;
  else if (f.side == "sell") u.side = Side::ask;
  else return fail(ApiStatus::wrong_type, "side");
  enum class St : std::uint8_t { live, partial, filled, canceled, mmp_canceled };
  St st = St::live;
  if (f.state == "live") st = St::live;
  else if (f.state == "partially_filled") st = St::partial;
  else if (f.state == "filled") st = St::filled;
  else if (f.state == "canceled") st = St::canceled;
  else if (f.state == "mmp_canceled") st = St::mmp_canceled;
  else return fail(ApiStatus::unknown_message, "state");
  if (f.ord.empty() || !parse_u64(f.ord, u.venue_order_id)) return fail(ApiStatus::wrong_type, "ordId");
  const ApiInstrument& in = instruments[u.instrument];
  if (const FixedStatus s = parse_fixed(f.acc, in.qty_scale, u.cum_qty, Sign::unsigned_only); s != FixedStatus::ok)
    return fail(ApiStatus::bad_number, "accFillSz", static_cast<std::uint8_t>(s));
  std::int64_t u_time = 0;
  if (!parse_time(f.u_time, 1'000'000, u_time)) return fail(ApiStatus::wrong_type, "uTime");
  u.client_id = client_id(f.cl);
  u.venue_time_ns = u_time;

  // A fill: fillSz > 0 ("0" or "" on the pushes that are not fills).
  Qty fill_qty;
  if (!f.fill_sz.empty()) {
    if (const FixedStatus s = parse_fixed(f.fill_sz, in.qty_scale, fill_qty, Sign::unsigned_only);
        s != FixedStatus::ok)
      return fail(ApiStatus::bad_number, "fillSz", static_cast<std::uint8_t>(s));
  }
  const bool fill = fill_qty.raw() > 0;
  OrderUpdate fu;
  if (fill) {
    fu = u;
    fu.kind = UpdateKind::fill;
    fu.last_qty = fill_qty;
    if (const FixedStatus s = parse_fixed(f.fill_px, in.price_scale, fu.last_price, Sign::unsigned_only);
        s != FixedStatus::ok)
      return fail(ApiStatus::bad_number, "fillPx", static_cast<std::uint8_t>(s));
    if (f.trade.empty() || !parse_u64(f.trade, fu.trade_id)) return fail(ApiStatus::wrong_type, "tradeId");
    if (f.exec == "M") fu.maker = true;
    else if (!f.exec.empty() && f.exec != "T") return fail(ApiStatus::wrong_type, "execType");
    std::int64_t fill_time = 0;
    if (!parse_time(f.fill_time, 1'000'000, fill_time)) return fail(ApiStatus::wrong_type, "fillTime");
    if (fill_time != 0) fu.venue_time_ns = fill_time;
  }
  OrderUpdate cu = u;  // the state's own update, when it has one
  bool close = false;
  switch (st) {
    case St::live:
      // The first push of a resting order; a push after an amend (amendResult set) is not an ack.
      if (!fill && f.amend_result.empty()) {
        cu.kind = UpdateKind::ack;
        close = true;
      }
      break;
    case St::partial:
    case St::filled:
      break;  // the fill is the update (the OMS closes a filled order at its last fill)
    case St::canceled:
    case St::mmp_canceled: {
      close = true;
      cu.kind = UpdateKind::cancelled;
      const std::string_view src = f.cancel_source, type = f.ord_type;
      if (st == St::canceled) {
        if (src == "31") {  // a post-only order that would have taken liquidity: OKX accepted it, then this
          cu.kind = UpdateKind::expired;
          cu.reason = RejectReason::would_take;
        } else if (src == "32" || src == "14" || type == "ioc" || type == "fok" || type == "market" ||
                   type == "optimal_limit_ioc") {
          cu.kind = UpdateKind::expired;  // self-trade prevention; an immediate order's remainder
        } else if (src == "34" || src == "35") {
          cu.reason = RejectReason::insufficient_balance;  // cancelled for lack of margin
        }
      }
      break;
    }
  }
  if (fill) emit(fu);
  if (close) emit(cu);
  return {};
}

ApiParseResult ApiParser::Impl::top_fields(od::object& obj) noexcept {
  for (auto fr : obj) {
    if (auto e = fr.error(); e != simdjson::SUCCESS) return json_fail(e, "");
    od::field& f = fr.value_unsafe();
    const char* k = reinterpret_cast<const char*>(f.key().raw());
    od::value& v = f.value();
    ApiParseResult r;
    switch (k[0]) {
      case 'i':
        if (HFTX_KEY_IS(k, "id")) r = str(v, id, "id"), have |= kHid;
        break;
      case 'o':
        if (HFTX_KEY_IS(k, "op")) {
          std::string_view s;
          r = str(v, s, "op");
          op = op_of(s);
          have |= kHop;
        } else if (HFTX_KEY_IS(k, "outTime")) {
          r = str(v, out_time, "outTime");
          have |= kHout;
        }
        break;
      case 'c':
        if (HFTX_KEY_IS(k, "code")) r = str(v, code, "code"), have |= kHcode;
        break;
      case 'm':
        if (HFTX_KEY_IS(k, "msg")) r = str(v, text, "msg"), have |= kHmsg;
        break;
      case 'e':
        if (HFTX_KEY_IS(k, "event")) r = str(v, event, "event"), have |= kHevent;
        break;
      case 'a':
        if (HFTX_KEY_IS(k, "arg")) r = arg_value(v);
        break;
      case 'd':
        if (HFTX_KEY_IS(k, "data")) {
          have |= kHdata;
          reset_data();  // a duplicate "data": the last one counts, as for every member
          read_as = data_mode();
          if (read_as == 1) {
            set_request();
            read_op = op;
            read_request = msg->request;
          }
          if (read_as == 1 || read_as == 2) r = data_value(v, read_as);
        }
        break;
      default:
        break;  // connId, inTime, connCount, ...
    }
    if (HFTX_UNLIKELY(!r.ok())) return r;
  }
  return {};
}

// Delivers the staged updates; a message with more than the stage holds is read again to deliver them.
ApiParseResult ApiParser::Impl::flush(od::document& doc) noexcept {
  if (produced == staged_n) {
    for (std::size_t i = 0; i < staged_n; ++i) deliver(staged[i]);
    return {};
  }
  direct = true;
  return data_again(doc, read_as);  // validated whole by the first pass: this one cannot fail
}

ApiParseResult ApiParser::Impl::finish_event() noexcept {
  std::int32_t c = 0;
  if ((have & kHcode) && !parse_code(code, c)) return fail(ApiStatus::wrong_type, "code");
  const auto error = [&](ApiKind kind) noexcept {
    msg->kind = kind;
    msg->status = status_of(c);
    msg->error_code = c;
    msg->reason = reason_of(c);
    msg->error_msg = text;
  };
  if (event == "login") {
    if (c != 0) {
      error(ApiKind::logon);
    } else {
      msg->kind = ApiKind::logon;
      msg->status = 200;
    }
  } else if (event == "subscribe") {
    msg->kind = ApiKind::subscribe;
    msg->status = 200;
  } else if (event == "unsubscribe") {
    msg->kind = ApiKind::other_response;
    msg->status = 200;
  } else if (event == "error") {
    if (!(have & kHcode)) return fail(ApiStatus::missing_field, "code");
    error(login_failure(c) ? ApiKind::logon : ApiKind::other_response);
    if (msg->status == 200) msg->status = 400;  // an error event with code "0" is still an error
  } else {
    // notice (e.g. 64008: the connection will close for an upgrade), channel-conn-count, ...: status 0.
    msg->kind = ApiKind::other_event;
    msg->error_code = c;
    msg->reason = reason_of(c);
    if (c != 0) msg->error_msg = text;
  }
  return {};
}

ApiParseResult ApiParser::Impl::finish_response(od::document& doc) noexcept {
  if (!(have & kHcode)) return fail(ApiStatus::missing_field, "code");
  std::int32_t c = 0;
  if (!parse_code(code, c)) return fail(ApiStatus::wrong_type, "code");
  if (have & kHout) {
    if (!parse_time(out_time, 1'000, msg->venue_time_ns)) return fail(ApiStatus::wrong_type, "outTime");
  }
  msg->kind = kind_of(op);
  set_request();
  if (op == Op::other) {
    reset_data();  // not ours to read (whatever a push-like reading of it staged)
  } else if ((have & kHdata) && (read_as != 1 || read_op != op || read_request != msg->request)) {
    reset_data();
    read_as = 1;
    if (auto r = data_again(doc, 1); !r.ok()) return r;
  }
  if (op != Op::other && c == 0 && elements == 0) return fail(ApiStatus::missing_field, "data");
  if (c == 0) {
    msg->status = 200;
  } else {
    // 1 / 2: all / some elements failed, each saying why; the first one's reason is the answer's.
    const bool per_element = (c == 1 || c == 2) && have_fail;
    msg->error_code = per_element ? fail_code : c;
    msg->error_msg = per_element ? fail_msg : text;
    msg->reason = reason_of(msg->error_code);
    msg->status = status_of(msg->error_code);
    if (msg->status == 200) msg->status = 400;
    // The whole request refused before any order was looked at: the request id names the order.
    if (elements == 0 && msg->request != 0 && (op == Op::order || op == Op::cancel)) {
      OrderUpdate u;
      u.kind = op == Op::order ? UpdateKind::rejected : UpdateKind::cancel_rejected;
      u.client_id = msg->request;
      u.error_code = c;
      u.reason = reason_of(c);
      emit(u);
    }
  }
  return flush(doc);
}

// The `order` answer every placed order gets, as OKX writes it: {"id":"p<n>","op":"order","data":[{...}],
// "code":"0","msg":"..."[,"inTime":"..."][,"outTime":"..."]}, compact, members in this order; the element's
// members any of clOrdId, ordId, tag, ts, sCode, sMsg (each once) and other string members, sCode "0". It is read
// in one forward pass (detail::FastScan) instead of simdjson's two. Anything else declines (false, nothing
// written): another shape, whitespace, escapes, a duplicate key — run() then parses it and reports what it
// reports. Whatever this accepts, run() gives the same ApiMessage and update (tests and
// tests/fuzz/fuzz_okx_api.cpp check it).
bool ApiParser::Impl::scan_order_ack(std::string_view json, std::size_t capacity) noexcept {
  using detail::key_is;
  detail::FastScan s{json.data(), json.data() + json.size(), json.data() + std::max(capacity, json.size())};
  std::string_view id_text;
  std::uint64_t request = 0;
  if (!s.lit("{\"id\":") || !s.wide_string(id_text) || id_text.size() < 2 || id_text[0] != 'p' ||
      !parse_u64(id_text.substr(1), request) || request == 0 || !s.lit(",\"op\":\"order\",\"data\":[{"))
    return false;
  std::string_view cl, ord, ts, s_code;
  unsigned seen = 0;
  for (bool more = true; more;) {
    std::string_view key, value;
    if (!s.wide_string(key) || !s.ch(':') || !s.wide_string(value)) return false;
    unsigned bit = 0;
    if (key_is(key, "clOrdId")) bit = 1, cl = value;
    else if (key_is(key, "ordId")) bit = 2, ord = value;
    else if (key_is(key, "ts")) bit = 4, ts = value;
    else if (key_is(key, "sCode")) bit = 8, s_code = value;
    else if (key_is(key, "sMsg")) bit = 16;
    else if (key_is(key, "tag")) bit = 32;
    if ((seen & bit) != 0 || !s.next('}', more)) return false;
    seen |= bit;
  }
  std::string_view msg_text, in_time, out;
  const bool accepted = (seen & 8) != 0 && s_code.size() == 1 && s_code[0] == '0';
  if (!accepted || !s.lit("],\"code\":\"0\",\"msg\":") || !s.wide_string(msg_text)) return false;
  if (s.lit(",\"inTime\":") && !s.wide_string(in_time)) return false;
  bool have_out = false;
  if (s.lit(",\"outTime\":")) {
    if (!s.wide_string(out)) return false;
    have_out = true;
  }
  if (!s.ch('}') || s.p != s.end) return false;
  std::uint64_t ord_id = 0;
  std::int64_t ts_ns = 0, out_ns = 0;
  if (!parse_id(ord, ord_id) || !parse_time(ts, 1'000'000, ts_ns) || (have_out && !parse_time(out, 1'000, out_ns)))
    return false;
  msg->kind = ApiKind::place;
  msg->request = request;
  msg->status = 200;
  msg->venue_time_ns = out_ns;
  OrderUpdate u;
  u.kind = UpdateKind::ack;
  u.client_id = !cl.empty() ? client_id(cl) : request;
  u.venue_order_id = ord_id;
  u.venue_time_ns = ts_ns;
  deliver(u);
  return true;
}

ApiParseResult ApiParser::Impl::run(std::string_view json, std::size_t capacity) noexcept {
  have = 0;
  id = code = text = event = channel = out_time = {};
  op = Op::none;
  direct = false;
  read_as = 0;
  read_op = Op::none;
  read_request = 0;
  reset_data();

  od::document doc;
  if (auto e = parser.iterate(json, capacity).get(doc); e != simdjson::SUCCESS) return json_fail(e, "");
  od::object obj;
  if (auto e = doc.get_object().get(obj); e != simdjson::SUCCESS)
    return e == simdjson::INCORRECT_TYPE ? fail(ApiStatus::not_object, "") : json_fail(e, "");
  if (auto r = top_fields(obj); !r.ok()) return r;
  if (const char* loc = nullptr; doc.current_location().get(loc) == simdjson::SUCCESS)
    return fail(ApiStatus::trailing_content, "");

  if (have & kHevent) return finish_event();
  if (have & kHop) return finish_response(doc);
  if (have & kHarg) {
    if (channel != "orders") {
      msg->kind = ApiKind::other_event;  // account, positions, ... on the same connection
      return {};
    }
    msg->kind = ApiKind::execution_report;
    if (!(have & kHdata)) return fail(ApiStatus::missing_field, "data");
    if (read_as != 2) {
      reset_data();
      read_as = 2;
      if (auto r = data_again(doc, 2); !r.ok()) return r;
    }
    return flush(doc);
  }
  return fail(ApiStatus::unknown_message, "");
}

#undef HFTX_KEY_IS

ApiParser::ApiParser(std::vector<ApiInstrument> instruments, std::string client_id_prefix,
                     std::size_t unpadded_capacity)
    : impl_(std::make_unique<Impl>(std::move(instruments), std::move(client_id_prefix), unpadded_capacity)) {}
ApiParser::~ApiParser() = default;
ApiParser::ApiParser(ApiParser&&) noexcept = default;
ApiParser& ApiParser::operator=(ApiParser&&) noexcept = default;

void ApiParser::set_fast_path(bool on) noexcept { impl_->fast = on; }
bool ApiParser::fast_path() const noexcept { return impl_->fast; }

ClientOrderId ApiParser::client_id_of(std::string_view text) const noexcept { return impl_->client_id(text); }
bool ApiParser::instrument_of(std::string_view inst_id, InstrumentId& out) const noexcept {
  return impl_->instruments.find(inst_id, out);
}

ApiParseResult ApiParser::parse(std::string_view json, std::size_t capacity, std::int64_t recv_ns, ApiMessage& out,
                                UpdateSink sink) noexcept {
  Impl& im = *impl_;
  out = ApiMessage{};
  im.msg = &out;
  im.sink = &sink;
  im.recv_ns = recv_ns;
  im.foreign = 0;
  ApiParseResult r;
  if (HFTX_UNLIKELY(json.size() > im.unpadded_cap)) {
    r = fail(ApiStatus::too_large, "");
  } else if (json.size() == 4 && std::memcmp(json.data(), "pong", 4) == 0) {
    out.kind = ApiKind::other_response;  // the answer to `ping`: plain text, not JSON
    out.status = 200;
  } else if (im.fast && im.scan_order_ack(json, capacity)) {  // needs no padding
    ++stats_.scanned;
  } else {
    // Copied when not padded: error_msg then points into our buffer, valid until the next parse.
    detail::pad_if_needed(json, capacity, im.unpadded.get());
    r = im.run(json, capacity);
  }
  ++stats_.messages;
  ++stats_.by_status[static_cast<std::size_t>(r.status)];
  if (r.ok()) {
    ++stats_.by_kind[static_cast<std::size_t>(out.kind)];
    if (out.is_error()) ++stats_.error_responses;
  }
  stats_.updates += out.updates;
  stats_.foreign_orders += im.foreign;
  return r;
}

ApiParseResult ApiParser::parse_unpadded(std::string_view json, std::int64_t recv_ns, ApiMessage& out,
                                         UpdateSink sink) noexcept {
  return parse(json, 0, recv_ns, out, sink);
}

ApiParseResult ApiParser::parse(std::string_view json, std::size_t capacity, std::int64_t recv_ns, ApiMessage& out,
                                std::span<OrderUpdate> updates) noexcept {
  std::size_t n = 0;
  bool overflow = false;
  auto into_span = [&](const OrderUpdate& u) noexcept {
    if (n < updates.size()) updates[n++] = u;
    else overflow = true;
  };
  ApiParseResult r = parse(json, capacity, recv_ns, out, UpdateSink(into_span));
  if (r.ok() && overflow) {
    out.updates = n;
    --stats_.by_status[0];
    ++stats_.by_status[static_cast<std::size_t>(ApiStatus::too_many_updates)];
    --stats_.by_kind[static_cast<std::size_t>(out.kind)];
    return fail(ApiStatus::too_many_updates, "data");
  }
  return r;
}

}  // namespace hftx::venue::okx

