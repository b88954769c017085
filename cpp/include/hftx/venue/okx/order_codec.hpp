// hftx/venue/okx/order_codec.hpp — OKX's order codec: the private WebSocket connection's requests out (login,
// the `orders` subscription, order / cancel-order / amend-order and their batches), and every message it
// carries parsed into oms::OrderUpdate and one oms::ApiMessage (oms/wire.hpp's neutral words).
//
// Threading contract: ApiEncoder and ApiParser are each used by one thread at a time (the thread that owns the
// order connection's reactor). They own scratch state (simdjson buffers, counters) and are not internally
// synchronised. Construction may allocate and throws ConfigError on bad setup; every encode / parse call
// afterwards is noexcept and allocation-free.
//
// Wire protocol (OKX v5 WebSocket API, wss://ws.okx.com:8443/ws/v5/private):
//  - `login` once per connection (signer.hpp), answered by {"event":"login","code":"0"} or an error event;
//    then `subscribe` to the `orders` channel, whose pushes report every state change of every order.
//  - Trading ops carry a request `id` ([A-Za-z0-9], at most 32) that tells the answer which order it is about
//    without a table: `p<client id>` order, `c<client id>` cancel-order, `m<client id>` amend-order; `b<n>`
//    batch-orders and `x<n>` batch-cancel-orders (each answer element carries its clOrdId).
//  - clOrdId is `<prefix><decimal ClientOrderId>`: OKX allows [A-Za-z0-9] and at most 32 characters, so the
//    prefix is alphanumeric and at most 12 characters (12 + 20 digits).
//  - Orders: instId, tdMode (`cash` on spot; `cross` or `isolated`, from the config, on swaps, futures and
//    options), side buy|sell, ordType (limit = GTC limit, post_only, ioc, fok, market), px, sz. A spot market
//    order also says tgtCcy=base_ccy, so that sz is always the base quantity (OKX's default for a market buy
//    is the quote amount).
//
// Numbers: prices and quantities are fixed point (core/fixed_point.hpp) in the instrument's scales, written as
// exact decimal text with the scale's decimals ("60000.1", "0.00100000"); no double anywhere. Quantities are
// what OKX's sz is: base currency on spot; contracts on swaps, futures and options, where the instrument's
// qty_scale is the contract lot (lotSz, e.g. 1 or 0.01 contracts) and the contract value (ctVal) is the
// caller's to apply — the codec never converts between contracts and coins. The `orders` pushes report sz,
// fillSz and accFillSz in the same unit.
//
// What OKX's WebSocket API does not have (the session reads these flags): no order query (reconciliation after
// a reconnect goes through REST or the `orders` push that follows a resubscription), and no cancel-all of an
// instrument (`mass-cancel` is for option MMP only); batch-cancel-orders cancels up to 20 orders at once.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "hftx/core/fixed_point.hpp"
#include "hftx/oms/types.hpp"
#include "hftx/oms/wire.hpp"
#include "hftx/venue/okx/markets.hpp"
#include "hftx/venue/okx/signer.hpp"
#include "hftx/venue/venue.hpp"

namespace hftx::detail {
struct RequestWriter;
}  // namespace hftx::detail

namespace hftx::venue::okx {

using oms::ApiInstrument;
using oms::ApiInstruments;
using oms::ApiKind;
using oms::ApiMessage;
using oms::ApiParseResult;
using oms::ApiParserStats;
using oms::ApiStatus;
using oms::ClientOrderId;
using oms::EncodeStatus;
using oms::EncoderStats;
using oms::InstrumentId;
using oms::OrderRequest;
using oms::OrderUpdate;
using oms::RejectReason;
using oms::UpdateSink;

// --------------------------------------------------------------------------------------------- capabilities

inline constexpr bool kOrderQuery = false;             // no order query on the WebSocket API
inline constexpr bool kCancelAllByInstrument = false;  // no cancel-all of an instrument (mass-cancel: options MMP)
inline constexpr bool kAmend = true;                   // amend-order: new price and/or size in place
inline constexpr bool kLogin = true;                   // one login per connection; requests are then unsigned
inline constexpr std::size_t kMaxBatch = 20;           // orders per batch-orders / batch-cancel-orders
inline constexpr std::size_t kMaxClientIdPrefix = 12;  // clOrdId: prefix + up to 20 digits <= 32

// ------------------------------------------------------------------------------------------------ encoding

struct ApiEncoderConfig {
  std::string client_id_prefix = "hx";  // [A-Za-z0-9], 1..12 characters
  Market market = Market::spot;
  // tdMode: on spot "" or "cash" (cash is sent); on swap, futures and option "cross" or "isolated" (required).
  std::string td_mode;
  std::vector<ApiInstrument> instruments;  // symbol = instId ("BTC-USDT", "BTC-USDT-SWAP")
};

// One order of a batch-orders request.
struct PlaceOrder {
  ClientOrderId id = 0;
  OrderRequest request;
};
// One order of a batch-cancel-orders request.
struct CancelOrder {
  ClientOrderId id = 0;
  InstrumentId instrument = 0;
};

class ApiEncoder {
 public:
  // Throws ConfigError naming the field (`client_id_prefix`, `td_mode`, `instruments[i].symbol`, `instruments`,
  // `api_key`, `passphrase`) when it is out of range.
  ApiEncoder(ApiEncoderConfig config, Credentials credentials);

  // Each encode_* writes one complete text frame payload to out[0, cap) and returns its length, or 0 when it
  // was not written (last_status() says why; stats() counts). No allocation, no snprintf, no exceptions.
  //
  // login: apiKey, passphrase, timestamp (Unix seconds, > 0), sign. Once per connection.
  std::size_t encode_login(std::int64_t unix_s, char* out, std::size_t cap) noexcept;
  // subscribe to the `orders` channel of the configured market's instType (SPOT, SWAP, FUTURES, OPTION), or of
  // every instrument type (instType ANY) when `all_types`.
  std::size_t encode_subscribe_orders(char* out, std::size_t cap, bool all_types = false) noexcept;
  // The text `ping` (OKX closes a connection silent for 30 s; it answers `pong`).
  std::size_t encode_ping(char* out, std::size_t cap) noexcept;
  // order, id p<id>. ordType from the request: limit GTC → limit, limit IOC → ioc, limit FOK → fok, post-only
  // limit (GTC) → post_only, market (GTC or IOC) → market. bad_request: id 0, qty <= 0, a limit price <= 0,
  // post-only with IOC/FOK or on a market order, a FOK market order, a market order on options (OKX has none).
  std::size_t encode_place(ClientOrderId id, const OrderRequest& request, char* out, std::size_t cap) noexcept;
  // cancel-order, id c<id>: instId, clOrdId.
  std::size_t encode_cancel(ClientOrderId id, InstrumentId instrument, char* out, std::size_t cap) noexcept;
  // amend-order, id m<id>: instId, clOrdId, newSz when new_qty is not zero, newPx when new_price is not zero
  // (at least one; negative → bad_request). OKX's newSz is the order's new total size, filled part included.
  std::size_t encode_amend(ClientOrderId id, InstrumentId instrument, Price new_price, Qty new_qty, char* out,
                           std::size_t cap) noexcept;
  // batch-orders, id b<n>: 1..kMaxBatch orders, each checked as encode_place (any refusal refuses the batch).
  std::size_t encode_batch_place(std::uint64_t n, std::span<const PlaceOrder> orders, char* out,
                                 std::size_t cap) noexcept;
  // batch-cancel-orders, id x<n>: 1..kMaxBatch orders by clOrdId.
  std::size_t encode_batch_cancel(std::uint64_t n, std::span<const CancelOrder> orders, char* out,
                                  std::size_t cap) noexcept;

  // An upper bound of any request's length with this configuration (a full batch-orders; size
  // WsConnection::prepare() with it).
  [[nodiscard]] std::size_t max_request_size() const noexcept { return max_request_; }
  [[nodiscard]] EncodeStatus last_status() const noexcept { return last_; }
  [[nodiscard]] const EncoderStats& stats() const noexcept { return stats_; }
  [[nodiscard]] std::string_view client_id_prefix() const noexcept { return prefix_; }
  [[nodiscard]] std::size_t instrument_count() const noexcept { return instruments_.size(); }
  [[nodiscard]] Market market() const noexcept { return market_; }
  [[nodiscard]] std::string_view td_mode() const noexcept { return td_mode_; }
  [[nodiscard]] const LoginSigner& signer() const noexcept { return credentials_.signer; }

  // Writes the clOrdId text of `id` (<prefix><decimal>) to out (at least 32 bytes); returns its length.
  std::size_t format_client_id(ClientOrderId id, char* out) const noexcept;

 private:
  using Out = hftx::detail::RequestWriter;  // cpp/src/oms/request_text.hpp
  std::size_t finish(EncodeStatus s, std::size_t n) noexcept;
  [[nodiscard]] EncodeStatus check_place(ClientOrderId id, const OrderRequest& r) const noexcept;
  void put_order(Out& js, ClientOrderId id, const OrderRequest& r) const noexcept;
  void put_cancel(Out& js, ClientOrderId id, InstrumentId instrument) const noexcept;

  Credentials credentials_;
  std::string prefix_;
  Market market_;
  std::string td_mode_;
  oms::ApiInstruments instruments_;
  std::size_t max_request_ = 0;
  EncodeStatus last_ = EncodeStatus::ok;
  EncoderStats stats_;
};

// ------------------------------------------------------------------------------------------------- parsing

// What an OKX error code (a response's `code`, an element's `sCode`, an error event's `code`) means in neutral
// words: 51603 order_not_found; 51400 / 51503 unknown_order (cancel / amend refused, the order filled,
// cancelled or never there: OKX does not say which); 51401 / 51509 order_cancelled and 51402 / 51510
// order_filled (it does); 51008, 51119, 51127, 51131, 51502 insufficient_balance; 51016 duplicate_client_id;
// 51511 would_take (an amend that would make a post-only order take); 50011, 50061, 51113, 60014
// rate_limited; 50101..50107, 50111..50114, 60004..60011, 60024, 60032 not_logged_on; 50014..50025, 51000..51007,
// 51020, 51100..51299 (except those above), 60012, 60013, 60018 invalid_request; 0 none; anything else other.
[[nodiscard]] RejectReason reason_of(std::int32_t code) noexcept;
// The HTTP-like status of a code: 200 for 0, 429 rate_limited, 401 not_logged_on, 503 for OKX's own
// unavailability (50001, 50004, 50005, 50013, 50026), else 400.
[[nodiscard]] int status_of(std::int32_t code) noexcept;

class ApiParser {
 public:
  // `instruments`: the same table as the encoder's (instId → InstrumentId = position). `unpadded_capacity`: the
  // largest message accepted (an `orders` push of many orders); the buffers are allocated here, once.
  ApiParser(std::vector<ApiInstrument> instruments, std::string client_id_prefix,
            std::size_t unpadded_capacity = 1u << 20);
  ~ApiParser();
  ApiParser(const ApiParser&) = delete;
  ApiParser& operator=(const ApiParser&) = delete;
  ApiParser(ApiParser&&) noexcept;
  ApiParser& operator=(ApiParser&&) noexcept;

  // Classifies one text message of the private connection. `json` is readable up to json.data() + capacity;
  // capacity >= json.size() + md::kJsonPadding (64) avoids a copy (WsConnection delivers messages that way),
  // otherwise the message is copied into the internal buffer. `out` is overwritten. Each order update is
  // passed to `sink` with recv_ns set, once the whole message has been read and found valid (an invalid
  // message delivers none); an update whose clOrdId is not ours has client_id 0 (counted in foreign_orders).
  // Never throws, never allocates, never reads outside [json.data(), + capacity).
  //
  //  order / batch-orders answer     → kind place; per element: sCode 0 → ack (client id, venue_order_id =
  //                                    ordId, venue_time_ns = ts), else rejected (error_code = sCode, reason)
  //  cancel-order / batch-cancel     → kind cancel; per element: sCode 0 → no update (the `orders` push that
  //                                    follows carries the cumulative fill and the cancel), else
  //                                    cancel_rejected (error_code = sCode, reason)
  //  amend-order answer              → kind amend, no update (the push that follows has the new price/size)
  //  a refused single op with no     → rejected (order) / cancel_rejected (cancel-order) for the client id in
  //  elements ("data":[])              the request id, error_code = code
  //  `orders` push                   → kind execution_report; per order: fillSz > 0 → fill (last_price fillPx,
  //                                    last_qty fillSz, trade_id tradeId, maker execType M, venue_time_ns
  //                                    fillTime); then state live → ack (not after an amend: amendResult set),
  //                                    canceled / mmp_canceled → cancelled, or expired for an IOC / FOK /
  //                                    market remainder (ordType, cancelSource 14), self-trade prevention
  //                                    (cancelSource 32) and a post-only order that would have taken
  //                                    (cancelSource 31, reason would_take: OKX accepts it, then cancels it);
  //                                    partially_filled / filled add nothing to their fill. cum_qty =
  //                                    accFillSz always; venue_time_ns = uTime unless a fill's fillTime.
  //  login event                     → kind logon (status 200, or the error)
  //  error event                     → kind logon for login failures (60004..60007, 60009, 60024, 60032), else
  //                                    other_response; status, error_code, reason, error_msg = msg
  //  subscribe event                 → kind subscribe; other events (notice, channel-conn-count, unsubscribe)
  //                                    → other_event / other_response (a notice's code in error_code)
  //  other channels' pushes          → other_event
  //  the text `pong`                 → other_response, status 200
  // A response's status: 200 for code 0, else status_of(); error_code = code, reason, error_msg = msg — but for
  // code 1 / 2 (all / some of the elements failed) the first failing element's sCode and sMsg. venue_time_ns of
  // a response: outTime (µs).
  ApiParseResult parse(std::string_view json, std::size_t capacity, std::int64_t recv_ns, ApiMessage& out,
                       UpdateSink sink) noexcept;
  // As parse(), writing updates into `updates` (out.updates of them); a message with more updates than fit
  // writes the first ones and returns too_many_updates.
  ApiParseResult parse(std::string_view json, std::size_t capacity, std::int64_t recv_ns, ApiMessage& out,
                       std::span<OrderUpdate> updates) noexcept;
  // For a message without readable padding: an order ack is read in place (the hand scanner needs no padding);
  // anything else is copied once into the internal buffer for simdjson.
  ApiParseResult parse_unpadded(std::string_view json, std::int64_t recv_ns, ApiMessage& out,
                                UpdateSink sink) noexcept;

  // The `order` success every order gets is read by a hand scanner when it has OKX's compact shape, else by
  // simdjson On-Demand, with the same result either way (tests and the fuzzer check it on every input).
  // false: simdjson only (benchmarks, tests). On by default.
  void set_fast_path(bool on) noexcept;
  [[nodiscard]] bool fast_path() const noexcept;

  // The ClientOrderId in a clOrdId text: 0 unless it is <prefix><1..20 digits> without overflow.
  [[nodiscard]] ClientOrderId client_id_of(std::string_view text) const noexcept;
  // The instrument of an instId; false when it is not in the table.
  [[nodiscard]] bool instrument_of(std::string_view inst_id, InstrumentId& out) const noexcept;

  [[nodiscard]] const ApiParserStats& stats() const noexcept { return stats_; }
  void reset_stats() noexcept { stats_ = {}; }

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  ApiParserStats stats_;
};


// ---------------------------------------------------------------------------------------------- session

// The order codec a session's gateway uses (session/order_gateway.hpp): the credentials from the environment
// variables the config names (venue.api_key_env, secret_key_env and OKX's passphrase_env), the login, the
// `orders` subscription once logged in, and the encoder and the parser above. OKX takes no trading request
// before the login is accepted: ready() says when orders may go out. Against the simulator without credentials a
// fixed demo key is used (the simulator checks no signature unless it is given one); against OKX without them,
// orders are disabled (market data only) and a note says so.
//
// Threading contract: as ApiEncoder/ApiParser: the gateway's thread.
class OrderCodec {
 public:
  static constexpr bool kCancelAll = kCancelAllByInstrument;  // no: cancels go one by one
  static constexpr bool kOrderQuery = okx::kOrderQuery;       // no: a reconnect reconciles by cancelling
  static constexpr bool kLoginRequired = true;  // no trading request before the login is accepted
  static constexpr bool kDepthRequests = false;               // snapshots come in the public stream

  // `trading`: this connection places orders and takes their reports. Throws ConfigError (credentials, options).
  OrderCodec(const VenueConfig& venue, std::vector<ApiInstrument> instruments, bool trading,
             std::vector<std::string>& notes);

  [[nodiscard]] bool orders_enabled() const noexcept { return orders_enabled_; }
  // Logged in: OKX refuses trading requests before.
  [[nodiscard]] bool ready() const noexcept { return logged_on_; }
  [[nodiscard]] std::size_t max_request_size() const noexcept { return encoder_.max_request_size(); }

  // A new connection: not logged in; sends the login. `send(encode)` writes one request (encode(out, cap) ->
  // length).
  template <class Send>
  void on_open(Send&& send, std::int64_t now_ns) {
    logged_on_ = false;
    if (!orders_enabled_ || !trading_) return;
    (void)send([&](char* out, std::size_t cap) { return encoder_.encode_login(now_ns / 1'000'000'000, out, cap); });
  }
  // The login was accepted: the order reports are subscribed to, and orders may go out.
  template <class Send>
  void on_logged_on(Send&& send, std::int64_t) {
    logged_on_ = true;
    (void)send([&](char* out, std::size_t cap) { return encoder_.encode_subscribe_orders(out, cap); });
  }
  void logged_off() noexcept { logged_on_ = false; }
  // OKX closes a connection silent for 30 s: the text `ping` every 20 s (answered `pong`).
  template <class Send>
  void on_timer(Send&& send, std::int64_t now_ns) {
    if (!logged_on_ || now_ns - last_ping_ns_ < kPingIntervalNs) return;
    last_ping_ns_ = now_ns;
    (void)send([&](char* out, std::size_t cap) { return encoder_.encode_ping(out, cap); });
  }

  std::size_t encode_place(ClientOrderId id, const OrderRequest& r, std::int64_t, char* out, std::size_t cap) noexcept {
    return encoder_.encode_place(id, r, out, cap);
  }
  std::size_t encode_cancel(ClientOrderId id, InstrumentId i, std::int64_t, char* out, std::size_t cap) noexcept {
    return encoder_.encode_cancel(id, i, out, cap);
  }
  ApiParseResult parse(std::string_view json, std::size_t capacity, std::int64_t recv_ns, ApiMessage& out,
                       UpdateSink sink) noexcept {
    return parser_.parse(json, capacity, recv_ns, out, sink);
  }

 private:
  bool orders_enabled_ = false;  // set while encoder_ is built (declared first)
  bool trading_;
  static constexpr std::int64_t kPingIntervalNs = 20'000'000'000;
  bool logged_on_ = false;
  std::int64_t last_ping_ns_ = 0;
  ApiEncoder encoder_;
  ApiParser parser_;
};

}  // namespace hftx::venue::okx
