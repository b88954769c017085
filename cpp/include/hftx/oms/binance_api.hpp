// hftx/oms/binance_api.hpp — the order gateway's wire side: Binance WebSocket API requests (signed) and the
// parsing of their responses and of execution reports into oms::OrderUpdate.
//
// Threading contract: RequestSigner, BinanceApiEncoder and BinanceApiParser are each used by one thread at
// a time (the thread that owns the order connection's reactor). They own scratch state (OpenSSL contexts,
// simdjson buffers, counters) and are not internally synchronised. Construction may allocate and throws
// ConfigError on bad setup; every encode/sign/parse call afterwards is noexcept and allocation-free
// (Ed25519 signing goes through OpenSSL's EVP layer, which allocates a context per signature: see
// RequestSigner::sign).
//
// Wire protocol (the contract's §1): request ids carry what a response needs to find its order without a
// table — `p<client id>` order.place, `c<client id>` order.cancel, `a<n>` openOrders.cancelAll, `d<n>`
// depth, `s<n>` userDataStream.subscribe.signature, `l<n>` session.logon, `q<n>` anything else.
// newClientOrderId is `<prefix><decimal ClientOrderId>`. Signed requests carry apiKey, timestamp (ms),
// recvWindow (not for the subscription) and signature = HMAC-SHA256 hex, or Ed25519 base64, of the other
// params sorted by name and joined as `k=v&k=v` (values as sent). Params are written to the JSON already
// sorted, so the payload and the JSON are produced in one pass over the same formatted values.
//
// Session logon (Ed25519 keys only, as at Binance): after a successful session.logon the connection is
// authenticated, and the trading requests (order.place, order.cancel, order.status, openOrders.cancelAll)
// go out with timestamp and recvWindow but without apiKey and signature: no signing on the hot path
// (HMAC-SHA256 of an order.place is about 220 ns with SHA-NI, Ed25519 tens of microseconds). The caller
// says when the venue accepted the logon (set_logged_on) and withdraws it when the connection drops.
//
// Numbers: prices and quantities are fixed point (core/fixed_point.hpp) in the instrument's scales and are
// formatted as exact decimal text with the scale's decimals ("60000.01", "0.00100000"); no double anywhere.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "hftx/core/fixed_point.hpp"
#include "hftx/oms/types.hpp"

namespace hftx::oms {

// ---------------------------------------------------------------------------------------------- signing

enum class SignatureType : std::uint8_t { hmac_sha256, ed25519 };

[[nodiscard]] constexpr std::string_view to_string(SignatureType t) noexcept {
  return t == SignatureType::hmac_sha256 ? "hmac_sha256" : "ed25519";
}

class RequestSigner {
 public:
  static constexpr std::size_t kHmacSize = 64;      // hex of 32 bytes
  static constexpr std::size_t kEd25519Size = 88;   // base64 of 64 bytes
  static constexpr std::size_t kMaxSignatureSize = 88;

  // HMAC-SHA256 keyed with the secret's bytes (Binance: the secret key as ASCII). The keyed inner and outer
  // SHA-256 states are computed here, once; each signature then hashes only the message blocks.
  static RequestSigner hmac_sha256(std::string_view secret);
  // Ed25519 from a PEM private key ("-----BEGIN PRIVATE KEY-----" PKCS#8). Literal "\n" sequences are
  // accepted for newlines (how PEM keys usually end up in environment variables). Throws ConfigError when
  // the text is not an Ed25519 private key.
  static RequestSigner ed25519_pem(std::string_view pem);
  // A secret that looks like a PEM private key selects Ed25519, anything else HMAC-SHA256.
  static RequestSigner from_secret(std::string_view secret);

  RequestSigner(RequestSigner&&) noexcept;
  RequestSigner& operator=(RequestSigner&&) noexcept;
  RequestSigner(const RequestSigner&) = delete;
  RequestSigner& operator=(const RequestSigner&) = delete;
  ~RequestSigner();  // wipes the key material

  [[nodiscard]] SignatureType type() const noexcept { return type_; }
  [[nodiscard]] std::size_t signature_size() const noexcept {
    return type_ == SignatureType::hmac_sha256 ? kHmacSize : kEd25519Size;
  }
  // Writes the signature of `payload` (lowercase hex for HMAC, standard base64 with padding for Ed25519)
  // to `out`, which has room for signature_size() bytes. Returns signature_size(), or 0 when OpenSSL
  // failed (Ed25519 only; counted in failures()). HMAC: no allocation, no OpenSSL EVP call.
  std::size_t sign(std::string_view payload, char* out) const noexcept;
  [[nodiscard]] std::uint64_t failures() const noexcept;

 private:
  struct Impl;
  RequestSigner(SignatureType type, std::unique_ptr<Impl> impl) noexcept;
  SignatureType type_;
  std::unique_ptr<Impl> impl_;
};

// The API key and the signer, read from the environment variables the config names (never from a file).
struct ApiCredentials {
  std::string api_key;
  RequestSigner signer;

  // Throws ConfigError naming the variable when it is unset or empty, or when the API key has characters
  // that cannot be sent unescaped (anything but printable ASCII without '"', '\\', '&', '=').
  static ApiCredentials from_env(std::string_view api_key_env, std::string_view secret_key_env);
};

// ---------------------------------------------------------------------------------------------- encoding

// One traded instrument as the gateway sees it. InstrumentId = position in the table.
struct ApiInstrument {
  std::string symbol;  // BTCUSDT ([A-Za-z0-9_-], at most 32 characters)
  Scale price_scale;   // tick (OrderRequest::price is in these steps)
  Scale qty_scale;     // quantity step (OrderRequest::qty is in these steps; Binance spot prints 8 decimals)
};

struct ApiEncoderConfig {
  std::string api_key;
  int recv_window_ms = 5000;         // 1..60000 (Binance's maximum)
  std::string client_id_prefix = "hx";  // [A-Za-z0-9_-], at most 16 characters (prefix + 20 digits <= 36)
  std::vector<ApiInstrument> instruments;
};

enum class EncodeStatus : std::uint8_t {
  ok,
  too_small,           // the buffer cannot hold the request (nothing meaningful was written)
  unknown_instrument,  // InstrumentId outside the table
  bad_request,         // zero/negative quantity, non-positive limit price, zero client id, post-only market
  sign_failed,         // the signer failed (Ed25519 OpenSSL error)
  count_
};

[[nodiscard]] constexpr std::string_view to_string(EncodeStatus s) noexcept {
  switch (s) {
    case EncodeStatus::ok: return "ok";
    case EncodeStatus::too_small: return "too_small";
    case EncodeStatus::unknown_instrument: return "unknown_instrument";
    case EncodeStatus::bad_request: return "bad_request";
    case EncodeStatus::sign_failed: return "sign_failed";
    case EncodeStatus::count_: break;
  }
  return "unknown";
}

struct EncoderStats {
  std::uint64_t requests = 0;  // encode_* calls
  std::array<std::uint64_t, static_cast<std::size_t>(EncodeStatus::count_)> by_status{};
};

class BinanceApiEncoder {
 public:
  // Throws ConfigError naming the field (`client_id_prefix`, `recv_window_ms`, `instruments[i].symbol`,
  // `api_key`) when it is out of range.
  BinanceApiEncoder(ApiEncoderConfig config, RequestSigner signer);

  // Each encode_* writes one complete JSON text frame payload to out[0, cap) and returns its length, or 0
  // when it was not written (last_status() says why; stats() counts). No allocation, no snprintf, no
  // exceptions. `timestamp_ms` is the venue clock (Unix ms) the caller reads once per request.
  //
  // order.place, id p<id>: LIMIT (timeInForce GTC|IOC|FOK, price), LIMIT_MAKER (post_only limit: price,
  // no timeInForce), MARKET (no price, no timeInForce); newClientOrderId <prefix><id>, newOrderRespType ACK.
  std::size_t encode_place(ClientOrderId id, const OrderRequest& request, std::int64_t timestamp_ms, char* out,
                           std::size_t cap) noexcept;
  // order.cancel, id c<id>: symbol, origClientOrderId <prefix><id>.
  std::size_t encode_cancel(ClientOrderId id, InstrumentId instrument, std::int64_t timestamp_ms, char* out,
                            std::size_t cap) noexcept;
  // openOrders.cancelAll, id a<n>.
  std::size_t encode_cancel_all(InstrumentId instrument, std::uint64_t n, std::int64_t timestamp_ms, char* out,
                                std::size_t cap) noexcept;
  // order.status, id q<id> (reconciliation after a reconnect): symbol, origClientOrderId <prefix><id>.
  std::size_t encode_order_status(ClientOrderId id, InstrumentId instrument, std::int64_t timestamp_ms, char* out,
                                  std::size_t cap) noexcept;
  // depth, id d<n>, unsigned: symbol, limit.
  std::size_t encode_depth(InstrumentId instrument, int limit, std::uint64_t n, char* out, std::size_t cap) noexcept;
  // userDataStream.subscribe.signature, id s<n>: apiKey, timestamp, signature (signed, logged on or not).
  std::size_t encode_subscribe(std::uint64_t n, std::int64_t timestamp_ms, char* out, std::size_t cap) noexcept;
  // session.logon, id l<n>: apiKey, recvWindow, timestamp, signature. bad_request unless the signer is
  // Ed25519 (Binance refuses a logon with any other key).
  std::size_t encode_logon(std::uint64_t n, std::int64_t timestamp_ms, char* out, std::size_t cap) noexcept;

  // Whether the connection is logged on: the trading requests then carry neither apiKey nor signature.
  // Set it when the venue answers the logon with success; clear it when the connection closes.
  void set_logged_on(bool on) noexcept { logged_on_ = on; }
  [[nodiscard]] bool logged_on() const noexcept { return logged_on_; }

  // An upper bound of any request's length with this configuration (size WsConnection::prepare() with it).
  [[nodiscard]] std::size_t max_request_size() const noexcept { return max_request_; }
  [[nodiscard]] EncodeStatus last_status() const noexcept { return last_; }
  [[nodiscard]] const EncoderStats& stats() const noexcept { return stats_; }
  [[nodiscard]] const RequestSigner& signer() const noexcept { return signer_; }
  [[nodiscard]] std::string_view client_id_prefix() const noexcept { return prefix_; }
  [[nodiscard]] std::size_t instrument_count() const noexcept { return instruments_.size(); }

  // Writes the newClientOrderId text of `id` (<prefix><decimal>) to out (at least 37 bytes); returns its length.
  std::size_t format_client_id(ClientOrderId id, char* out) const noexcept;

 private:
  struct Inst {
    std::string symbol;
    Scale price_scale;
    Scale qty_scale;
  };
  std::size_t finish(EncodeStatus s, std::size_t n) noexcept;
  std::size_t encode_by_client_id(char letter, std::string_view method, ClientOrderId id, InstrumentId instrument,
                                  std::int64_t timestamp_ms, char* out, std::size_t cap) noexcept;
  std::size_t encode_key_request(char letter, std::string_view method, bool recv_window, std::uint64_t n,
                                 std::int64_t timestamp_ms, char* out, std::size_t cap) noexcept;

  std::string api_key_;
  RequestSigner signer_;
  std::string recv_window_;  // decimal text
  std::string prefix_;
  std::vector<Inst> instruments_;
  std::size_t max_request_ = 0;
  EncodeStatus last_ = EncodeStatus::ok;
  bool logged_on_ = false;
  EncoderStats stats_;
};

// ---------------------------------------------------------------------------------------------- parsing

// The Binance error code the session acts on.
inline constexpr std::int32_t kOrderDoesNotExist = -2013;  // order.status: the venue never had it

enum class ApiKind : std::uint8_t {
  none,              // not classified (parse failed early)
  place,             // response to order.place (id p<client id>)
  cancel,            // response to order.cancel (id c<client id>)
  cancel_all,        // response to openOrders.cancelAll (id a<n>)
  depth,             // response to depth (id d<n>): hand the same text to md::BinanceParser
  subscribe,         // response to userDataStream.subscribe.signature (id s<n>)
  logon,             // response to session.logon (id l<n>)
  order_status,      // response to order.status (id q<client id>): an order in `order`, or an error
  other_response,    // any other response (a q<n> success that is not an order, a foreign id, or id null)
  execution_report,  // executionReport event, raw or inside {"subscriptionId":..,"event":{..}}
  other_event,       // another user-data event (outboundAccountPosition, balanceUpdate, ...): ignored
  count_
};

[[nodiscard]] constexpr std::string_view to_string(ApiKind k) noexcept {
  switch (k) {
    case ApiKind::none: return "none";
    case ApiKind::place: return "place";
    case ApiKind::cancel: return "cancel";
    case ApiKind::cancel_all: return "cancel_all";
    case ApiKind::depth: return "depth";
    case ApiKind::subscribe: return "subscribe";
    case ApiKind::logon: return "logon";
    case ApiKind::order_status: return "order_status";
    case ApiKind::other_response: return "other_response";
    case ApiKind::execution_report: return "execution_report";
    case ApiKind::other_event: return "other_event";
    case ApiKind::count_: break;
  }
  return "unknown";
}

enum class ApiStatus : std::uint8_t {
  ok,
  json_error,        // simdjson rejected the text (detail = simdjson error code)
  not_object,        // the document, "result", "error", "event" or a cancelAll element is not an object
  missing_field,     // field names it
  wrong_type,        // field names it
  bad_number,        // a price/quantity failed parse_fixed (detail = FixedStatus)
  unknown_symbol,    // a symbol that is not in the table
  unknown_message,   // valid JSON that is no message of §1 (no id, no known event, unknown "x")
  too_many_updates,  // the caller's span is full (the updates that fit were written)
  trailing_content,  // bytes after the document
  too_large,         // longer than the parser's buffer
  count_
};

[[nodiscard]] constexpr std::string_view to_string(ApiStatus s) noexcept {
  switch (s) {
    case ApiStatus::ok: return "ok";
    case ApiStatus::json_error: return "json_error";
    case ApiStatus::not_object: return "not_object";
    case ApiStatus::missing_field: return "missing_field";
    case ApiStatus::wrong_type: return "wrong_type";
    case ApiStatus::bad_number: return "bad_number";
    case ApiStatus::unknown_symbol: return "unknown_symbol";
    case ApiStatus::unknown_message: return "unknown_message";
    case ApiStatus::too_many_updates: return "too_many_updates";
    case ApiStatus::trailing_content: return "trailing_content";
    case ApiStatus::too_large: return "too_large";
    case ApiStatus::count_: break;
  }
  return "unknown";
}

struct ApiParseResult {
  ApiStatus status = ApiStatus::ok;
  std::uint8_t detail = 0;  // simdjson error code (json_error) or FixedStatus (bad_number)
  const char* field = "";   // static string: the field concerned, "" when none

  [[nodiscard]] bool ok() const noexcept { return status == ApiStatus::ok; }
  explicit operator bool() const noexcept { return ok(); }
  // "missing_field: field 'x'". Allocates: for logs, not the hot path.
  [[nodiscard]] std::string describe() const;
};

// order.status result (ApiKind::order_status).
struct OrderStatusReport {
  ClientOrderId client_id = 0;       // 0: the clientOrderId is not ours
  std::uint64_t venue_order_id = 0;
  InstrumentId instrument = 0;
  Side side = Side::bid;
  OrderState state = OrderState::acked;  // from "status": NEW acked, PARTIALLY_FILLED, FILLED, CANCELED, ...
  Price price;
  Qty orig_qty;
  Qty executed_qty;
  std::int64_t cum_quote_e8 = -1;  // cummulativeQuoteQty in 10^-8 quote units; -1 when absent
};

// The average price of fills the session missed (reconciliation after a reconnect), from the venue's
// cumulative quote amount: (cum_quote - the known fills' quote) / missed, rounded to the tick. The known
// fills are taken at `known_price` (the order's limit: exact for an order that rested, as a post-only one
// always does; an order that crossed on arrival may have filled better). Falls back to `known_price` when
// the amount is absent or inconsistent, or the scales are too fine for exact 128-bit arithmetic.
[[nodiscard]] Price missed_fill_price(const OrderStatusReport& venue, Qty known_filled, Price known_price, Qty missed,
                                      const Scale& price_scale, const Scale& qty_scale) noexcept;

// What one message was. Updates for orders go to the sink / span, not here.
struct ApiMessage {
  ApiKind kind = ApiKind::none;
  int status = 0;                  // WS-API response status (200, 400, ...); 0 for events
  std::uint64_t request = 0;       // the number in our id (client id for p/c/q, n for a/d/s); 0 otherwise
  std::int32_t error_code = 0;     // error responses: Binance code (e.g. -2010)
  // Error responses: the msg text (JSON escapes not decoded); executionReport REJECTED: r. Points into the
  // message (or, after parse_unpadded(), the parser's copy of it): valid until the next parse.
  std::string_view error_msg;
  std::int64_t subscription_id = -1;  // subscribe response / wrapped event
  std::int64_t event_time_ms = 0;  // execution report: E
  std::size_t updates = 0;         // OrderUpdates delivered for this message
  OrderStatusReport order;         // kind == order_status

  [[nodiscard]] bool is_error() const noexcept { return status != 0 && status != 200; }
};

// Equal content, field by field (error_msg by its text). For tests and differential checks (the hand
// scanner of order.place acks against simdjson).
[[nodiscard]] inline bool same_content(const OrderUpdate& a, const OrderUpdate& b) noexcept {
  return a.kind == b.kind && a.client_id == b.client_id && a.venue_order_id == b.venue_order_id &&
         a.instrument == b.instrument && a.side == b.side && a.last_price == b.last_price &&
         a.last_qty == b.last_qty && a.cum_qty == b.cum_qty && a.trade_id == b.trade_id && a.maker == b.maker &&
         a.error_code == b.error_code && a.venue_time_ms == b.venue_time_ms && a.recv_ns == b.recv_ns &&
         a.strategy == b.strategy && a.state == b.state && a.filled == b.filled && a.qty == b.qty &&
         a.price == b.price;
}
[[nodiscard]] inline bool same_content(const ApiMessage& a, const ApiMessage& b) noexcept {
  const OrderStatusReport &x = a.order, &y = b.order;
  return a.kind == b.kind && a.status == b.status && a.request == b.request && a.error_code == b.error_code &&
         a.error_msg == b.error_msg && a.subscription_id == b.subscription_id &&
         a.event_time_ms == b.event_time_ms && a.updates == b.updates && x.client_id == y.client_id &&
         x.venue_order_id == y.venue_order_id && x.instrument == y.instrument && x.side == y.side &&
         x.state == y.state && x.price == y.price && x.orig_qty == y.orig_qty && x.executed_qty == y.executed_qty &&
         x.cum_quote_e8 == y.cum_quote_e8;
}

struct ApiParserStats {
  std::uint64_t messages = 0;  // parse() calls
  std::uint64_t scanned = 0;   // order.place acks read by the hand scanner (the rest: simdjson)
  std::array<std::uint64_t, static_cast<std::size_t>(ApiStatus::count_)> by_status{};
  std::array<std::uint64_t, static_cast<std::size_t>(ApiKind::count_)> by_kind{};  // successful parses
  std::uint64_t updates = 0;         // OrderUpdates delivered
  std::uint64_t foreign_orders = 0;  // updates whose client order id is not ours (client_id 0)
  std::uint64_t error_responses = 0; // responses with status != 200
  [[nodiscard]] std::uint64_t errors() const noexcept { return messages - by_status[0]; }
};

// Where the parser delivers OrderUpdates: any callable `void(const OrderUpdate&) noexcept`, referenced, not
// copied (it must outlive the parse() call). A function_ref: no allocation, one indirect call per update.
class UpdateSink {
 public:
  template <class F>
    requires(!std::is_same_v<std::remove_cvref_t<F>, UpdateSink> && std::is_invocable_v<F&, const OrderUpdate&>)
  UpdateSink(F& f) noexcept  // NOLINT(google-explicit-constructor): passed inline at call sites
      : ctx_(static_cast<void*>(&f)), fn_([](void* c, const OrderUpdate& u) noexcept { (*static_cast<F*>(c))(u); }) {}
  void operator()(const OrderUpdate& u) const noexcept { fn_(ctx_, u); }

 private:
  void* ctx_;
  void (*fn_)(void*, const OrderUpdate&) noexcept;
};

class BinanceApiParser {
 public:
  // `instruments`: the same table as the encoder's (symbol → InstrumentId = position). `unpadded_capacity`:
  // the largest message accepted (a cancelAll of many orders, a 5000-level depth: size it for those); the
  // buffers are allocated here, once.
  BinanceApiParser(std::vector<ApiInstrument> instruments, std::string client_id_prefix,
                   std::size_t unpadded_capacity = 1u << 20);
  ~BinanceApiParser();
  BinanceApiParser(const BinanceApiParser&) = delete;
  BinanceApiParser& operator=(const BinanceApiParser&) = delete;
  BinanceApiParser(BinanceApiParser&&) noexcept;
  BinanceApiParser& operator=(BinanceApiParser&&) noexcept;

  // Classifies one text message of the WebSocket-API connection. `json` is readable up to json.data() +
  // capacity; capacity >= json.size() + md::kJsonPadding (64) avoids a copy (WsConnection delivers
  // messages that way), otherwise the message is copied into the internal buffer. `out` is overwritten.
  // Each order update is passed to `sink` with recv_ns set; an update whose client order id is not ours
  // has client_id 0. Never throws, never allocates, never reads outside [json.data(), + capacity).
  //
  //  place 200     → ack (client_id, venue_order_id, instrument, venue_time_ms = transactTime)
  //  place error   → rejected (error_code; out.error_msg)
  //  cancel 200    → cancelled (client id from origClientOrderId, venue_order_id, side, cum_qty = executedQty)
  //  cancel error  → cancel_rejected (error_code)
  //  cancelAll 200 → one cancelled per element of the result array; cancelAll error → no update
  //  executionReport x: NEW → ack, TRADE → fill (last_price L, last_qty l, cum_qty z, trade_id t, maker m),
  //                     CANCELED → cancelled (client id from C when non-empty, else c), REJECTED → rejected,
  //                     EXPIRED / TRADE_PREVENTION → expired; venue_time_ms = T, cum_qty = z always.
  //  depth, subscribe, order.status, other responses and events → no update (see `out`).
  ApiParseResult parse(std::string_view json, std::size_t capacity, std::int64_t recv_ns, ApiMessage& out,
                       UpdateSink sink) noexcept;
  // As parse(), writing updates into `updates` (out.updates of them); a message with more updates than fit
  // writes the first ones and returns too_many_updates.
  ApiParseResult parse(std::string_view json, std::size_t capacity, std::int64_t recv_ns, ApiMessage& out,
                       std::span<OrderUpdate> updates) noexcept;
  // For a message without readable padding: an order.place ack is read in place (the hand scanner needs no
  // padding); anything else is copied once into the internal buffer for simdjson.
  ApiParseResult parse_unpadded(std::string_view json, std::int64_t recv_ns, ApiMessage& out,
                                UpdateSink sink) noexcept;

  // The order.place success every order gets (newOrderRespType ACK) is read by a hand scanner when it has
  // Binance's compact shape, else by simdjson On-Demand, with the same result either way (tests/fuzz
  // checks it on every input). false: simdjson only (benchmarks, tests). On by default.
  void set_fast_path(bool on) noexcept;
  [[nodiscard]] bool fast_path() const noexcept;

  // The ClientOrderId in a newClientOrderId text: 0 unless it is <prefix><1..20 digits> without overflow.
  [[nodiscard]] ClientOrderId client_id_of(std::string_view text) const noexcept;
  // The instrument of a symbol; false when it is not in the table.
  [[nodiscard]] bool instrument_of(std::string_view symbol, InstrumentId& out) const noexcept;

  [[nodiscard]] const ApiParserStats& stats() const noexcept { return stats_; }
  void reset_stats() noexcept { stats_ = {}; }

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  ApiParserStats stats_;
};

}  // namespace hftx::oms
