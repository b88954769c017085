// session/state.hpp (internal) — what a session's components share: the instruments and their books, the
// strategies, the counters and the timeline logs. docs/ARCHITECTURE.md, "The session".
//
// Threading contract: built on the owner thread before the session's threads start. Afterwards:
//  - an Instrument's book is written by the thread that owns the market feed; its published top is read by the
//    order gateway (the risk reference mid) through the book's seqlock;
//  - Counters and the timeline logs have one writer each (the thread owning what is counted) and any reader;
//  - StrategySlot::next_seq belongs to the thread that runs the strategy.
//
// Each component takes the pieces it uses by reference (MarketFeed: the instruments, the counters, the mid log;
// OrderGateway: the instruments' scales and tops, the counters, the order and fill logs), never the session
// itself.
#pragma once

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <ctime>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "hftx/book/l2_book.hpp"
#include "hftx/core/clock.hpp"
#include "hftx/core/fixed_point.hpp"
#include "hftx/core/types.hpp"
#include "hftx/latency/tracker.hpp"
#include "hftx/lockfree/wait.hpp"
#include "hftx/md/events.hpp"
#include "hftx/net/reactor.hpp"
#include "hftx/net/websocket.hpp"
#include "hftx/risk/risk.hpp"
#include "hftx/session/config.hpp"
#include "hftx/session/session.hpp"
#include "hftx/session/timeline.hpp"
#include "hftx/strategy/strategy.hpp"

namespace hftx::session {

inline constexpr std::size_t kMaxLevelsPerMessage = 1u << 14;
inline constexpr std::size_t kTimelineCapacity = 1u << 20;  // entries per sample log: 32 levels of 32 Ki (timeline.hpp)
inline constexpr std::int64_t kMidSampleIntervalNs = 1'000'000;  // one mid sample per ms at most

// A session's book publishes its top only. The order gateway reads that top (the risk reference mid) from its
// thread; nothing reads published levels (Session::books() copies the writer's levels on the feed's own
// thread), and walking ten levels per side after every diff cost ~100 ns of tick-to-trade.
using SessionBook = book::BasicL2Book<0>;

struct Instrument {
  InstrumentConfig cfg;
  Scale price_scale, qty_scale, lot_scale;
  md::Symbol symbol;
  std::unique_ptr<SessionBook> book;
  std::vector<StrategyId> strategies;  // inline mode: every strategy of the instrument
  std::int64_t last_mid_sample_ns = 0;

  // The mid of the published top, doubled (bid + ask, in ticks); 0 while a side is empty. Any thread.
  [[nodiscard]] std::int64_t mid2() const noexcept {
    const book::TopOfBook t = book->top();
    return t.bid_qty == 0 || t.ask_qty == 0 ? 0 : t.bid_price + t.ask_price;
  }
};

struct StrategySlot {
  std::unique_ptr<strategy::Strategy> strategy;
  InstrumentId instrument = 0;
  std::size_t worker = 0;  // pipelined: which worker runs it
  std::uint64_t next_seq = 1;
};

// Counters: one writer each (the thread that owns the thing counted), any reader.
struct Counters {
  Counter md_messages, md_errors, depth_updates, book_tickers, trades, resyncs, gaps, crossed, top_first,
      top_first_mismatch, checksum_mismatches;
  Counter orders_sent, orders_acked, fills, cancels_sent, cancelled, venue_rejects, expired, risk_rejects;
  std::array<Counter, kRiskReasons> risk_by_reason;
  Counter impossible_updates, unknown_orders, api_errors, queue_drops, reconnects, open_orders, kill_switch;
  Counter orders_lost, logons, reconnect_failures;
  Counter filled_qty_raw;  // sum over instruments, qty steps (for the stats; exact figures in positions())
};

// A failure that ends the session: a connection the venue will not take back (a permanent close code, a refused
// upgrade, a certificate that does not verify). The first is kept; raising one asks the session to stop.
// Any thread.
class Failure {
 public:
  explicit Failure(std::atomic<bool>& stop_flag) noexcept : stop_(stop_flag) {}
  void raise(std::string why) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (what_.empty()) what_ = std::move(why);
    }
    stop_.store(true, std::memory_order_release);
  }
  [[nodiscard]] std::string what() const {
    std::lock_guard<std::mutex> lock(mu_);
    return what_;
  }

 private:
  mutable std::mutex mu_;
  std::string what_;
  std::atomic<bool>& stop_;
};

// The sampled series of the report (timeline.hpp), carved from the session arena at start().
struct TimelineLogs {
  std::optional<SampleLog<TickSample>> ttt;
  std::optional<SampleLog<MidSample>> mids;
  std::optional<SampleLog<OrderSample>> orders;
  std::optional<SampleLog<OrderSample>> fills;
};

// What a session's loops (inline, pipelined) work with: everything above, by reference. They build the market feed
// and the order gateway from narrower pieces (FeedContext, GatewayContext).
struct SessionParts {
  const SessionConfig& cfg;
  std::vector<Instrument>& instruments;
  std::vector<StrategySlot>& strategies;
  Counters& counters;
  TimelineLogs& logs;
  std::vector<std::string>& notes;
  LatencyTracker& tracker;
  const std::atomic<bool>& stop_flag;
  Failure& failure;
};

// Wall time for the session: TscClock ns since the epoch.
[[nodiscard]] inline std::int64_t now_ns() noexcept { return TscClock::instance().now_ns(); }

// ClientOrderIds: the strategy's index + 1 in the high 24 bits, a per-strategy sequence below. Unique per
// session without a shared counter (strategies on different threads never touch the same word).
[[nodiscard]] constexpr ClientOrderId make_client_id(StrategyId s, std::uint64_t seq) noexcept {
  return (static_cast<ClientOrderId>(s + 1) << 40) | (seq & ((ClientOrderId{1} << 40) - 1));
}

// Records the mid (at most one sample per kMidSampleIntervalNs per instrument) for the report's price chart.
inline void sample_mid(Instrument& in, InstrumentId id, const book::TopOfBook& top,
                       SampleLog<MidSample>& log) noexcept {
  if (top.bid_qty == 0 || top.ask_qty == 0) return;
  const std::int64_t now = now_ns();
  if (now - in.last_mid_sample_ns < kMidSampleIntervalNs) return;
  in.last_mid_sample_ns = now;
  log.push(MidSample{now, id, top.bid_price + top.ask_price});
}

// Shutdown: turns `reactor` until `done()` holds or `timeout` has passed.
template <class Done>
void poll_until(net::Reactor& reactor, std::chrono::milliseconds timeout, Done&& done) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!done() && std::chrono::steady_clock::now() < deadline) reactor.poll(10);
}

[[nodiscard]] inline bool closed(net::WsConnection& c) noexcept {
  return c.state() == net::WsConnection::State::kClosed;
}

// A connection's settings from the configuration's hft.websocket block: buffers, socket options, reconnection
// with backoff, and a heartbeat (a peer that vanished without a FIN the reactor saw is found by the failed ping
// or the missing pong, and the reconnect starts).
[[nodiscard]] net::WsClientConfig ws_config(const SessionConfig& cfg, const std::string& url);

// Idle waits of a thread that is not busy-polling: spin a little, then sleep with growing pauses. The bound
// keeps the wake-up latency of a quiet queue under ~100 µs without a futex on every push.
class Idler {
 public:
  explicit Idler(bool busy) : busy_(busy) {}
  void reset() noexcept { n_ = 0; }
  void idle() noexcept {
    if (busy_ || ++n_ < 256) {
      cpu_relax();
      return;
    }
    const long ns = n_ < 512 ? 5'000 : n_ < 1024 ? 20'000 : 100'000;
    timespec ts{0, ns};
    (void)::nanosleep(&ts, nullptr);
  }

 private:
  bool busy_;
  std::uint32_t n_ = 0;
};

}  // namespace hftx::session
