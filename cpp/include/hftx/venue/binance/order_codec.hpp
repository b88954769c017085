// hftx/venue/binance/order_codec.hpp — Binance's order codec: WebSocket API requests (signed) out, and the
// parsing of their responses and of execution reports into oms::OrderUpdate (oms/wire.hpp's neutral words).
//
// Threading contract: RequestSigner, ApiEncoder and ApiParser are each used by one thread at
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
#include "hftx/oms/wire.hpp"
#include "hftx/venue/binance/signer.hpp"
#include "hftx/venue/venue.hpp"

namespace hftx::venue::binance {

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
using oms::UpdateSink;

struct ApiEncoderConfig {
  std::string api_key;
  int recv_window_ms = 5000;         // 1..60000 (Binance's maximum)
  std::string client_id_prefix = "hx";  // [A-Za-z0-9_-], at most 16 characters (prefix + 20 digits <= 36)
  std::vector<ApiInstrument> instruments;
};

class ApiEncoder {
 public:
  // Throws ConfigError naming the field (`client_id_prefix`, `recv_window_ms`, `instruments[i].symbol`,
  // `api_key`) when it is out of range.
  ApiEncoder(ApiEncoderConfig config, RequestSigner signer);

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
  std::size_t finish(EncodeStatus s, std::size_t n) noexcept;
  std::size_t encode_by_client_id(char letter, std::string_view method, ClientOrderId id, InstrumentId instrument,
                                  std::int64_t timestamp_ms, char* out, std::size_t cap) noexcept;
  std::size_t encode_key_request(char letter, std::string_view method, bool recv_window, std::uint64_t n,
                                 std::int64_t timestamp_ms, char* out, std::size_t cap) noexcept;

  std::string api_key_;
  RequestSigner signer_;
  std::string recv_window_;  // decimal text
  std::string prefix_;
  oms::ApiInstruments instruments_;
  std::size_t max_request_ = 0;
  EncodeStatus last_ = EncodeStatus::ok;
  bool logged_on_ = false;
  EncoderStats stats_;
};

// ---------------------------------------------------------------------------------------------- parsing

// Binance's "Order does not exist." (order.status: the venue never had it).
inline constexpr std::int32_t kOrderDoesNotExist = -2013;

// What a Binance error code (and, for -2010 and an executionReport's REJECTED `r`, its message) means.
[[nodiscard]] oms::RejectReason reason_of(std::int32_t code, std::string_view msg) noexcept;

class ApiParser {
 public:
  // `instruments`: the same table as the encoder's (symbol → InstrumentId = position). `unpadded_capacity`:
  // the largest message accepted (a cancelAll of many orders, a 5000-level depth: size it for those); the
  // buffers are allocated here, once.
  ApiParser(std::vector<ApiInstrument> instruments, std::string client_id_prefix,
                   std::size_t unpadded_capacity = 1u << 20);
  ~ApiParser();
  ApiParser(const ApiParser&) = delete;
  ApiParser& operator=(const ApiParser&) = delete;
  ApiParser(ApiParser&&) noexcept;
  ApiParser& operator=(ApiParser&&) noexcept;

  // Classifies one text message of the WebSocket-API connection. `json` is readable up to json.data() +
  // capacity; capacity >= json.size() + md::kJsonPadding (64) avoids a copy (WsConnection delivers
  // messages that way), otherwise the message is copied into the internal buffer. `out` is overwritten.
  // Each order update is passed to `sink` with recv_ns set; an update whose client order id is not ours
  // has client_id 0. Never throws, never allocates, never reads outside [json.data(), + capacity).
  //
  //  place 200     → ack (client_id, venue_order_id, instrument, venue_time_ns = transactTime)
  //  place error   → rejected (error_code; out.error_msg)
  //  cancel 200    → cancelled (client id from origClientOrderId, venue_order_id, side, cum_qty = executedQty)
  //  cancel error  → cancel_rejected (error_code)
  //  cancelAll 200 → one cancelled per element of the result array; cancelAll error → no update
  //  executionReport x: NEW → ack, TRADE → fill (last_price L, last_qty l, cum_qty z, trade_id t, maker m),
  //                     CANCELED → cancelled (client id from C when non-empty, else c), REJECTED → rejected,
  //                     EXPIRED / TRADE_PREVENTION → expired; venue_time_ns = T, cum_qty = z always.
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

// ---------------------------------------------------------------------------------------------- session

// Whether the order connection logs on (session.logon) so that trading requests go out unsigned. Binance
// accepts a logon only with an Ed25519 key.
enum class SessionLogon : std::uint8_t {
  automatic,  // log on when the key is Ed25519; an HMAC key signs every request
  always,     // log on; an HMAC key is a configuration error
  never,      // sign every request
};

// The order codec a session's gateway uses (session/order_gateway.hpp): the credentials from the environment
// variables the config names, the session.logon policy (venue.session_logon), the encoder and the parser.
// Against the simulator without credentials a fixed demo key is used (the simulator accepts any signature);
// against Binance without them, orders are disabled (market data only) and a note says so.
//
// Threading contract: as ApiEncoder/ApiParser: the gateway's thread.
class OrderCodec {
 public:
  static constexpr bool kCancelAll = true;      // openOrders.cancelAll per instrument
  static constexpr bool kOrderQuery = true;     // order.status
  static constexpr bool kLoginRequired = false;  // a refused logon leaves requests signed
  static constexpr bool kDepthRequests = true;  // depth snapshots on this connection

  // `trading`: this connection places orders and takes their reports (logon, user-data subscription); false:
  // the pipelined feed's connection for depth snapshots. Throws ConfigError (venue.session_logon always with
  // an HMAC key, bad credentials, bad options).
  OrderCodec(const VenueConfig& venue, std::vector<ApiInstrument> instruments, bool trading,
             std::vector<std::string>& notes);

  [[nodiscard]] bool orders_enabled() const noexcept { return orders_enabled_; }
  // Signed requests need no logon: orders may go out as soon as the connection is open.
  [[nodiscard]] bool ready() const noexcept { return true; }
  [[nodiscard]] std::size_t max_request_size() const noexcept { return encoder_.max_request_size(); }

  // A new connection: not logged on; sends session.logon (when wanted) and the user-data subscription.
  // `send(encode)` writes one request (encode(out, cap) -> length).
  template <class Send>
  void on_open(Send&& send, std::int64_t now_ns) {
    encoder_.set_logged_on(false);
    if (!orders_enabled_ || !trading_) return;
    const std::int64_t ms = now_ns / 1'000'000;
    if (logon_) (void)send([&](char* out, std::size_t cap) { return encoder_.encode_logon(++n_, ms, out, cap); });
    (void)send([&](char* out, std::size_t cap) { return encoder_.encode_subscribe(++n_, ms, out, cap); });
  }
  // Nothing periodic: Binance pings and the WebSocket layer answers.
  template <class Send>
  void on_timer(Send&&, std::int64_t) const noexcept {}
  // The connection is gone (a reconnect begins): what goes out next is signed until the new logon is accepted.
  void logged_off() noexcept { encoder_.set_logged_on(false); }
  // The venue accepted the logon: trading requests go out unsigned from now on.
  template <class Send>
  void on_logged_on(Send&&, std::int64_t) noexcept {
    encoder_.set_logged_on(true);
  }

  std::size_t encode_place(ClientOrderId id, const OrderRequest& r, std::int64_t now_ns, char* out,
                           std::size_t cap) noexcept {
    return encoder_.encode_place(id, r, now_ns / 1'000'000, out, cap);
  }
  std::size_t encode_cancel(ClientOrderId id, InstrumentId i, std::int64_t now_ns, char* out,
                            std::size_t cap) noexcept {
    return encoder_.encode_cancel(id, i, now_ns / 1'000'000, out, cap);
  }
  std::size_t encode_cancel_all(InstrumentId i, std::uint64_t n, std::int64_t now_ns, char* out,
                                std::size_t cap) noexcept {
    return encoder_.encode_cancel_all(i, n, now_ns / 1'000'000, out, cap);
  }
  std::size_t encode_order_status(ClientOrderId id, InstrumentId i, std::int64_t now_ns, char* out,
                                  std::size_t cap) noexcept {
    return encoder_.encode_order_status(id, i, now_ns / 1'000'000, out, cap);
  }
  std::size_t encode_depth(InstrumentId i, int limit, std::uint64_t n, char* out, std::size_t cap) noexcept {
    return encoder_.encode_depth(i, limit, n, out, cap);
  }
  ApiParseResult parse(std::string_view json, std::size_t capacity, std::int64_t recv_ns, ApiMessage& out,
                       UpdateSink sink) noexcept {
    return parser_.parse(json, capacity, recv_ns, out, sink);
  }

 private:
  bool orders_enabled_ = false;  // set while encoder_ is built (declared first)
  bool trading_;
  ApiEncoder encoder_;
  ApiParser parser_;
  bool logon_;
  std::uint64_t n_ = 0;
};

}  // namespace hftx::venue::binance
