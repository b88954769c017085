// hftx/session/session.hpp — a trading session: market streams → books → strategies → risk → orders.
//
// Threading contract:
//  - The owner thread constructs the Session, adds custom strategies, then calls start(), run_for(),
//    stop() (and the destructor). request_stop() may be called from any thread (a signal handler's
//    thread included: it only stores an atomic flag and writes an eventfd).
//  - Readers (stats(), tracker(), orders(), positions(), books(), timeline(), system_report()) may be called
//    from any thread while the session runs. Counters and sample logs are single-writer atomics; orders,
//    positions and books are copied on the thread that owns them (a task posted to its reactor, answered
//    within one reactor turn), so readers never race the hot path and the hot path never takes a lock.
//  - Strategies run on the session's threads only (strategy/strategy.hpp).
//
// Venues (docs/ARCHITECTURE.md, "The seam"): SessionConfig::venue names the venue (or the simulator and the
// venue it speaks); the session is built on that venue's parser, sync rules and order codec at compile time
// (session/engine.hpp), so the hot path has no virtual call.
//
// Modes (docs/ARCHITECTURE.md, "Threads"):
//  - inline: one thread runs one reactor with the market-stream connection and the order connection;
//    parse → book → strategies → risk → encode → send happen run-to-completion in the market message's
//    callback, and the order frames are flushed before the callback returns.
//  - pipelined: a feed thread (market stream, and for venues whose snapshots are requested its own
//    order-API connection for them) parses and applies books and pushes events to N worker threads through
//    SPSC queues; workers run strategies and push order actions through one MPMC queue to the gateway
//    thread, which checks risk, encodes, sends, parses responses and execution reports and routes each
//    update back to its strategy's worker (SPSC).
//
// Recovery: both connections reconnect with backoff. A market reconnect resynchronises every book (new
// snapshot); an order-connection reconnect logs on and re-subscribes the execution reports and reconciles
// every open order (Binance: order.status; OKX, which has no order query: a cancel whose answer says the
// order's final state), and fills missed while disconnected are applied from the venue's cumulative
// quantity, so nothing is lost or applied twice. A snapshot request lost on the way (a connection that
// dropped with it in flight, a venue that never answered) is asked again when the connection that carries
// depth requests comes back, and otherwise after SyncConfig::snapshot_timeout_ns (5 s); answers are matched to
// their instrument by request id.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "hftx/cpu/thread_manager.hpp"
#include "hftx/latency/tracker.hpp"
#include "hftx/oms/types.hpp"
#include "hftx/risk/risk.hpp"
#include "hftx/session/config.hpp"
#include "hftx/session/timeline.hpp"
#include "hftx/strategy/strategy.hpp"

namespace hftx::session {

inline constexpr std::size_t kRiskReasons = static_cast<std::size_t>(risk::RiskReason::count_);

struct SessionStats {
  double elapsed_s = 0;
  std::uint64_t md_messages = 0, md_errors = 0, depth_updates = 0, book_tickers = 0, trades = 0;
  std::uint64_t resyncs = 0, gaps = 0, crossed = 0;
  // Diffs the strategies acted on before the rest of the diff was read and applied (session.top_first), and
  // those whose applied top then differed (levels out of Binance's order; the applied top was sent too).
  std::uint64_t top_first = 0, top_first_mismatch = 0;
  std::uint64_t checksum_mismatches = 0;  // venues with a book checksum (OKX): books found out of step by it
  std::uint64_t orders_sent = 0, orders_acked = 0, fills = 0, cancels_sent = 0, cancelled = 0;
  std::uint64_t venue_rejects = 0, expired = 0, risk_rejects = 0;
  std::uint64_t orders_lost = 0;  // sent, but the venue never had them (-2013 after a reconnect)
  std::array<std::uint64_t, kRiskReasons> risk_by_reason{};
  std::uint64_t impossible_updates = 0, unknown_orders = 0, api_errors = 0, queue_drops = 0, reconnects = 0;
  std::uint64_t logons = 0;  // logons the venue accepted (once per connection where the venue has them)
  std::uint64_t reconnect_failures = 0;  // reconnect attempts that failed (each followed by a longer backoff)
  std::uint64_t open_orders = 0;
  bool kill_switch = false;
  double filled_qty = 0, position = 0, realized_pnl = 0, unrealized_pnl = 0;
};

struct OrderInfo {
  oms::ClientOrderId id = 0;
  oms::StrategyId strategy = 0;
  std::string symbol;
  oms::Side side = oms::Side::bid;
  oms::OrderType type = oms::OrderType::limit;
  oms::TimeInForce tif = oms::TimeInForce::gtc;
  double price = 0, qty = 0, filled = 0;
  oms::OrderState state = oms::OrderState::new_order;
};

struct PositionInfo {
  std::string symbol;
  double position = 0, avg_price = 0, realized_pnl = 0, unrealized_pnl = 0;
  Qty raw_position;  // exact, in qty steps
};

struct BookInfo {
  std::string symbol;
  std::vector<md::Level> bids, asks;  // best first, raw steps
  Scale price_scale, qty_scale;
  std::uint64_t update_id = 0;
  bool synced = false;
};

// Sampled series for reports (TscClock ns).
struct TickSample { std::int64_t t_ns; std::int64_t ttt_ns; };
struct MidSample { std::int64_t t_ns; std::uint16_t instrument; std::int64_t mid2; };  // mid2 = bid + ask (ticks)
struct OrderSample { std::int64_t t_ns; std::uint16_t instrument; std::int8_t side; std::int64_t price; std::int64_t qty; };

// Each series covers the whole run, thinned evenly to fixed memory (timeline.hpp).
struct Timeline {
  SampleSeries<TickSample> tick_to_trade;
  SampleSeries<MidSample> mids;
  SampleSeries<OrderSample> orders;
  SampleSeries<OrderSample> fills;
};

struct SystemReport {
  std::vector<ThreadReport> threads;
  std::vector<std::string> notes;  // placement notes, socket notes, what was refused
  // The session's arena (the hot threads' logs and queues): pages, huge-page bytes, mlock, NUMA node, and
  // each refusal. Empty before start().
  ArenaReport memory;
  std::size_t memory_used = 0;  // bytes of it carved
  std::size_t code_mapped = 0;  // bytes of the program's code mapped at start() (prefault_code())
  std::string mode;
};

class Session {
 public:
  explicit Session(SessionConfig config);
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  // A custom strategy on a configured instrument (before start()). Returns its id.
  oms::StrategyId add_strategy(std::string_view instrument, std::unique_ptr<strategy::Strategy> s);

  // Connects, subscribes, requests the snapshots and starts the threads. Throws ConnectionError /
  // HandshakeError / ConfigError. Returns once every connection is open (books sync asynchronously).
  void start();
  // Blocks the calling thread until `d` has passed or request_stop() was called. Returns at once when
  // the session is not running.
  void run_for(std::chrono::nanoseconds d);
  void request_stop() noexcept;
  [[nodiscard]] bool stop_requested() const noexcept;
  // Why the session stopped on its own, "" when it did not: a connection the venue will not take back (a
  // permanent close code such as 1008, a refused upgrade, a certificate that does not verify), named with its URL.
  // The session gives up on it rather than reconnect in a loop, and stops. Any thread.
  [[nodiscard]] std::string failure() const;
  [[nodiscard]] bool running() const noexcept;
  // Stops the strategies, cancels open orders when cancel_on_stop (waiting up to 2 s for the venue to
  // confirm), closes the connections and joins the threads. Idempotent.
  void stop();

  [[nodiscard]] SessionStats stats() const;
  [[nodiscard]] const LatencyTracker& tracker() const noexcept;
  [[nodiscard]] std::vector<OrderInfo> orders() const;  // open orders
  [[nodiscard]] std::vector<PositionInfo> positions() const;
  [[nodiscard]] std::vector<BookInfo> books(std::size_t depth = 20) const;
  [[nodiscard]] Timeline timeline() const;
  [[nodiscard]] SystemReport system_report() const;
  [[nodiscard]] const SessionConfig& config() const noexcept;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace hftx::session
