// hftx/oms/wire.hpp — the venue-neutral words of an order connection: what one message was, what an encode or
// a parse reports, and how order updates are delivered. Every venue's order codec speaks them.
//
// Threading contract: value types; an UpdateSink refers to a callable owned by the caller.
//
// A venue module (venue/<name>/order_codec.hpp) encodes OrderRequests into the venue's requests and parses the
// venue's answers and execution reports into OrderUpdates (oms/types.hpp) and one ApiMessage per message; the
// order gateway (cpp/src/session/order_gateway.hpp) acts on these alone. Error codes stay the venue's own
// numbers (OrderUpdate::error_code, ApiMessage::error_code, for logs and reports); what the session acts on is
// the neutral reason beside them (oms::RejectReason).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "hftx/core/fixed_point.hpp"
#include "hftx/oms/types.hpp"

namespace hftx::oms {

// One traded instrument as the gateway sees it. InstrumentId = position in the table.
struct ApiInstrument {
  std::string symbol;  // BTCUSDT ([A-Za-z0-9_-], at most 32 characters)
  Scale price_scale;   // tick (OrderRequest::price is in these steps)
  Scale qty_scale;     // quantity step (OrderRequest::qty is in these steps; where the venue prints more decimals than the lot)
};

// An order connection's instruments, checked once and found by symbol: each venue's encoder indexes it by
// InstrumentId (= position), its answer parser finds a message's symbol in it (open addressing on FNV-1a;
// no allocation).
class ApiInstruments {
 public:
  ApiInstruments() = default;
  // Throws ConfigError naming the key: no instruments or more than 65535, a symbol that is not 1..32
  // characters of [A-Za-z0-9_-] (no venue's needs escaping in JSON or a query string), one listed twice.
  explicit ApiInstruments(std::vector<ApiInstrument> instruments);

  [[nodiscard]] bool find(std::string_view symbol, InstrumentId& out) const noexcept {
    if (list_.empty()) return false;
    const std::size_t mask = table_.size() - 1;
    for (std::size_t slot = hash(symbol) & mask;; slot = (slot + 1) & mask) {
      const std::uint16_t v = table_[slot];
      if (v == 0) return false;
      if (list_[v - 1u].symbol == symbol) {
        out = static_cast<InstrumentId>(v - 1u);
        return true;
      }
    }
  }
  [[nodiscard]] const ApiInstrument& operator[](std::size_t i) const noexcept { return list_[i]; }
  [[nodiscard]] std::size_t size() const noexcept { return list_.size(); }
  [[nodiscard]] std::size_t longest_symbol() const noexcept { return longest_; }

 private:
  [[nodiscard]] static std::uint32_t hash(std::string_view s) noexcept {
    std::uint32_t h = 2166136261u;  // FNV-1a
    for (const char c : s) h = (h ^ static_cast<unsigned char>(c)) * 16777619u;
    return h;
  }

  std::vector<ApiInstrument> list_;
  std::vector<std::uint16_t> table_;  // instrument index + 1; 0 = empty
  std::size_t longest_ = 0;
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

// What one message on an order connection was. Each venue's codec says which of its messages is which
// (venue/<name>/order_codec.hpp lists its request ids and events).
enum class ApiKind : std::uint8_t {
  none,              // not classified (parse failed early)
  place,             // the answer to placing an order
  cancel,            // the answer to cancelling one
  cancel_all,        // the answer to cancelling every order of an instrument
  depth,             // the answer to a depth snapshot request: hand the same text to the venue's md parser
  subscribe,         // the answer to subscribing to the execution reports
  logon,             // the answer to logging the connection on
  order_status,      // the answer to an order query: an order in `order`, or an error
  other_response,    // any other answer (one that is not ours, a ping's)
  execution_report,  // an update of an order (fills, acks, cancels the venue reports on its own)
  other_event,       // another account event (balances, positions, ...): ignored
  amend,             // the answer to amending an order (new price and/or quantity; OKX amend-order)
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
    case ApiKind::amend: return "amend";
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
  unknown_message,   // valid JSON that is no message the codec knows (no id, no known event, unknown kind)
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

// An order query's answer (ApiKind::order_status), or what a venue reports of an order it holds.
struct OrderStatusReport {
  ClientOrderId client_id = 0;       // 0: the client order id is not ours
  std::uint64_t venue_order_id = 0;
  InstrumentId instrument = 0;
  Side side = Side::bid;
  OrderState state = OrderState::acked;  // the venue's state of the order
  Price price;
  Qty orig_qty;
  Qty executed_qty;
  std::int64_t cum_quote_e8 = -1;  // the filled quantity's value in 10^-8 quote units; -1 when absent
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
  int status = 0;                  // a response's status, HTTP-like: 200 success, 4xx/5xx refused; 0 for events
  std::uint64_t request = 0;       // the number in our request id (the client id for place/cancel/status); 0 otherwise
  std::int32_t error_code = 0;     // error responses: the venue's code (Binance -2010, OKX 51008)
  RejectReason reason = RejectReason::none;  // error responses: what the code means
  // Error responses: the venue's message text (JSON escapes not decoded). Points into the message (or, after
  // parse_unpadded(), the parser's copy of it): valid until the next parse.
  std::string_view error_msg;
  std::int64_t subscription_id = -1;  // subscribe response / wrapped event
  std::int64_t venue_time_ns = 0;  // an event's venue time (ns)
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
         a.error_code == b.error_code && a.reason == b.reason && a.venue_time_ns == b.venue_time_ns &&
         a.recv_ns == b.recv_ns &&
         a.strategy == b.strategy && a.state == b.state && a.filled == b.filled && a.qty == b.qty &&
         a.price == b.price;
}
[[nodiscard]] inline bool same_content(const ApiMessage& a, const ApiMessage& b) noexcept {
  const OrderStatusReport &x = a.order, &y = b.order;
  return a.kind == b.kind && a.status == b.status && a.request == b.request && a.error_code == b.error_code &&
         a.reason == b.reason &&
         a.error_msg == b.error_msg && a.subscription_id == b.subscription_id &&
         a.venue_time_ns == b.venue_time_ns && a.updates == b.updates && x.client_id == y.client_id &&
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

}  // namespace hftx::oms
