// hftx/venue/binance/sim_dialect.hpp — the exchange simulator's Binance dialect: what a simulated Binance
// serves over the simulator's venue-neutral engine (sim/engine.hpp).
//
// Threading contract: a SimDialect is owned by its engine and runs on the simulator's reactor thread only.
// SimMarketWriter and write_depth_result() are single-threaded helpers (one writer per thread).
//
// Served (sim/exchange.hpp has the full list): the combined market streams at /stream (depth, depth@100ms,
// bookTicker, trade), the WebSocket API at /ws-api/v3 (depth, order.place, order.cancel, order.status,
// openOrders.cancelAll, userDataStream.subscribe(.signature), session.logon, ping, time) with Binance's answers,
// error codes (sim::kRejectCodes) and executionReports. Signed requests are checked against the configured key
// (HMAC-SHA256 with api_secret, or Ed25519 with api_public_key) when api_key is set.
#pragma once

#include <openssl/evp.h>

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <simdjson.h>

#include "hftx/book/matching.hpp"
#include "hftx/core/fixed_point.hpp"
#include "hftx/md/events.hpp"
#include "hftx/sim/engine.hpp"

namespace hftx::venue::binance {

// The dialect's registry entry (its line in cpp/src/registry.cpp).
[[nodiscard]] sim::DialectInfo sim_dialect_info();

// Binance's market-stream payloads of one instrument, written from neutral events into one reusable buffer
// (no allocation once the buffer holds the largest update; no printf). Each call's result is valid until the
// next call.
class SimMarketWriter {
 public:
  SimMarketWriter(std::string symbol, const Scale& price_scale, const Scale& qty_scale);
  // {"e":"depthUpdate","E":ms,"s":..,"U":first,"u":last,"b":[["p","q"],..],"a":[..]}
  std::string_view depth(const md::DepthUpdate& d, std::int64_t ms) noexcept;
  // {"u":update_id,"s":..,"b":"p","B":"q","a":"p","A":"q"}
  std::string_view ticker(const md::BookTicker& t) noexcept;
  // {"e":"trade","E":ms,"s":..,"t":id,"p":"..","q":"..","T":ms,"m":buyer_is_maker,"M":true}
  std::string_view trade(const md::Trade& t, std::int64_t ms) noexcept;
  [[nodiscard]] const std::string& symbol() const noexcept { return symbol_; }

 private:
  char* reserve(std::size_t levels) noexcept;
  std::string symbol_;
  Scale price_scale_, qty_scale_;
  std::vector<char> buf_;
};

// The WS-API depth result object {"lastUpdateId":..,"bids":[..],"asks":[..]} of a book, at most `limit` levels
// per side, appended to `out`.
void write_depth_result(const book::MatchingEngine& book, const Scale& price_scale, const Scale& qty_scale,
                        std::uint64_t last_update_id, std::size_t limit, std::string& out);

class SimDialect {
 public:
  using Engine = sim::Engine<SimDialect>;
  using Conn = sim::Core::Conn;
  using Order = sim::Core::Order;
  using Fill = sim::Core::Fill;
  struct ApiError {
    int code;
    std::string msg;
  };

  // Stream kinds (subscriptions per instrument).
  static constexpr std::uint8_t kDepth = 0, kBookTicker = 1, kTrade = 2;
  static constexpr std::size_t kStreamKinds = 3;
  static constexpr int kTickMs = 0;
  [[nodiscard]] static sim::DialectInfo info() { return sim_dialect_info(); }
  [[nodiscard]] static constexpr std::span<const int> reject_codes() noexcept { return sim::kRejectCodes; }
  [[nodiscard]] static const char* side_text(Side s) noexcept { return s == Side::bid ? "BUY" : "SELL"; }
  [[nodiscard]] static std::string type_text(const Order& o);

  explicit SimDialect(Engine& e);
  ~SimDialect();
  SimDialect(const SimDialect&) = delete;
  SimDialect& operator=(const SimDialect&) = delete;

  // ---- connections ----------------------------------------------------------------------------------
  bool on_open(Engine& e, Conn& c, std::string_view path, std::string_view query);
  void on_message(Engine& e, Conn& c, std::string_view text);
  void on_close(Engine&, Conn&) {}
  void on_tick(Engine&) {}

  // ---- market events (hot path; defined below, inline) -----------------------------------------------
  // A recorded Binance event is served as it was recorded; any other is written by the instrument's writer.
  // Each is one combined-stream message per subscriber: its {"stream":"<name>","data": prefix, the payload, }.
  void on_depth(Engine& e, std::uint32_t inst, const md::DepthUpdate& d, std::int64_t ms, sim::Recorded rec) noexcept;
  void on_top(Engine& e, std::uint32_t inst, const md::BookTicker& t, std::int64_t ms, sim::Recorded rec) noexcept;
  void on_trade(Engine& e, std::uint32_t inst, const md::Trade& t, std::int64_t ms, sim::Recorded rec) noexcept;
  // An account order traded: its executionReport.
  void on_fill(Engine& e, const Order& o, const Fill& f);

 private:
  struct Request;

  bool subscribe(Engine& e, Conn& c, const std::string& name);
  void handle_market_request(Engine& e, Conn& c, std::string_view text);
  void handle_request(Engine& e, Conn& c, std::string_view text);
  bool parse_request(std::string_view text, Request& r);
  std::optional<ApiError> check_signature(Engine& e, const Conn& c, const Request& r, bool logon);
  [[nodiscard]] bool ed25519_valid(const std::string& payload, const std::string& b64) const;
  void reply_ok(Engine& e, const Conn& c, const Request& r, const std::string& result);
  void reply_err(Engine& e, const Conn& c, const std::string& id, int code, const std::string& msg);
  std::optional<ApiError> need_symbol(Engine& e, const Request& r, std::uint32_t& inst);
  std::optional<ApiError> api_depth(Engine& e, Conn& c, const Request& r);
  std::optional<ApiError> api_place(Engine& e, Conn& c, const Request& r);
  std::optional<ApiError> api_cancel(Engine& e, Conn& c, const Request& r);
  std::optional<ApiError> api_cancel_all(Engine& e, Conn& c, const Request& r);
  std::optional<ApiError> api_order_status(Engine& e, Conn& c, const Request& r);
  void api_logon(Engine& e, Conn& c, const Request& r);
  std::optional<ApiError> requested_order(Engine& e, const Request& r, bool closed_too, std::uint64_t& id) const;
  std::string do_cancel(Engine& e, std::uint64_t id, const std::string& new_cid);
  std::string new_cancel_id(const Request& r);
  std::string report(Engine& e, const Order& o, const char* x, const char* status, std::int64_t last_qty,
                     std::int64_t last_price, std::int64_t trade_id, bool maker, const std::string& c,
                     const std::string& orig);
  std::string order_fields(Engine& e, const Order& o, const char* status) const;
  std::string cancel_result(Engine& e, const Order& o, const std::string& new_cid);

  struct PkeyFree {
    void operator()(EVP_PKEY* k) const noexcept { EVP_PKEY_free(k); }
  };
  std::unique_ptr<EVP_PKEY, PkeyFree> pubkey_;  // api_public_key, parsed once
  std::vector<SimMarketWriter> writers_;        // per instrument
  std::vector<std::string> lower_;              // per instrument: btcusdt
  simdjson::ondemand::parser json_;
  std::uint64_t next_cancel_id_ = 0;
};

inline void SimDialect::on_depth(Engine& e, std::uint32_t inst, const md::DepthUpdate& d, std::int64_t ms,
                                 sim::Recorded rec) noexcept {
  if (!e.has_subs(inst, kDepth)) return;
  e.broadcast(inst, kDepth, rec.venue == "binance" && !rec.text.empty() ? rec.text : writers_[inst].depth(d, ms), "}");
}
inline void SimDialect::on_top(Engine& e, std::uint32_t inst, const md::BookTicker& t, std::int64_t,
                               sim::Recorded rec) noexcept {
  if (!e.has_subs(inst, kBookTicker)) return;
  e.broadcast(inst, kBookTicker, rec.venue == "binance" && !rec.text.empty() ? rec.text : writers_[inst].ticker(t),
              "}");
}
inline void SimDialect::on_trade(Engine& e, std::uint32_t inst, const md::Trade& t, std::int64_t ms,
                                 sim::Recorded rec) noexcept {
  if (!e.has_subs(inst, kTrade)) return;
  e.broadcast(inst, kTrade, rec.venue == "binance" && !rec.text.empty() ? rec.text : writers_[inst].trade(t, ms), "}");
}

}  // namespace hftx::venue::binance
