// hftx/session/config.hpp — SessionConfig: everything a Session needs, as plain structs (no YAML in C++), and
// its keys, described once.
//
// Threading contract: value types; built and validated on one thread before Session is constructed.
//
// Each struct's defaults are its member initialisers; its keys (path, type, bounds or choices, one line of doc) are
// the describe() beside it (core/schema.hpp; the blocks the session shares with other components describe
// themselves in their own headers: PerformanceConfig, LatencyConfig, RiskConfig, venue::VenueConfig). Everything
// else reads those: validate() checks them (cpp/src/session/config.cpp), the binding reads a Python dict through
// them (cpp/bindings/config.cpp), and Python builds its schema from them (hftx.config, _core.config_schema()).
// A C++ program fills the structs directly.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "hftx/core/schema.hpp"
#include "hftx/cpu/thread_manager.hpp"
#include "hftx/latency/tracker.hpp"
#include "hftx/md/events.hpp"
#include "hftx/risk/risk.hpp"
#include "hftx/strategy/strategy.hpp"
#include "hftx/venue/venue.hpp"

namespace hftx::session {

// The seed's `hft.websocket` block.
struct WebSocketConfig {
  std::size_t read_buffer_size = 65536;   // SO_RCVBUF and the connection's initial receive buffer
  std::size_t write_buffer_size = 65536;  // SO_SNDBUF and the initial send buffer
  bool no_delay = true;
  bool keep_alive = true;
};

// The venue block (venue/venue.hpp): the venue's name (or the simulator and the dialect it speaks), market, URLs,
// credential variable names, and the venue's own keys.
using VenueConfig = venue::VenueConfig;

struct InstrumentConfig {
  std::string symbol;                     // the venue's name: BTCUSDT (Binance), BTC-USDT (OKX)
  std::string price_step = "0.01";        // tick
  std::string qty_step = "0.00000001";    // market-data quantity step (Binance prints 8 decimals)
  std::string lot_step = "0.00001";       // order quantity step (LOT_SIZE)
  int snapshot_depth = 1000;              // venues whose snapshots are requested: the depth asked for
};

struct StrategyConfig {
  std::string type;        // market_maker | taker | latency_probe
  std::string instrument;  // a configured symbol
  std::uint32_t count = 1; // instances
  strategy::StrategyParams params;
};

enum class ThreadingMode : std::uint8_t { inline_mode, pipelined };
// Their names in the configuration, in the enum's order.
inline constexpr std::array<std::string_view, 2> kThreadingModes{"inline", "pipelined"};

struct ThreadingConfig {
  ThreadingMode mode = ThreadingMode::inline_mode;
  std::size_t workers = 2;            // pipelined: strategy worker threads
  std::size_t queue_capacity = 4096;  // pipelined: each SPSC / the MPMC order queue
  bool busy_poll = false;             // spin instead of sleeping in epoll_wait / queue waits
  bool realtime = false;              // ask SCHED_FIFO for the hot threads
};

struct SessionConfig {
  PerformanceConfig performance;  // hft.performance
  bool enable_memory_pools = true;  // hft.performance.enable_memory_pools (pools are always used; kept for the report)
  bool enable_lock_free = true;     // hft.performance.enable_lock_free (idem)
  LatencyConfig latency;          // hft.latency
  WebSocketConfig websocket;      // hft.websocket
  VenueConfig venue;
  std::vector<InstrumentConfig> instruments;
  std::vector<StrategyConfig> strategies;
  risk::RiskConfig risk;
  ThreadingConfig threading;
  bool cancel_on_stop = true;
  // Act on a depth diff as soon as its first levels settle the top, then read and apply the rest
  // (MarketFeed::on_message; venues whose diffs allow it): the same book events, earlier. Off: every diff is
  // applied whole first.
  bool top_first = true;
  std::int64_t timer_interval_ms = 100;
  std::size_t max_orders = 65536;  // order pool (open orders + recently closed)

  // Every problem with the configuration: the keys' bounds, choices, patterns and decimal steps
  // (describe()), what involves several keys (symbols listed once, strategies on configured instruments, lot steps
  // on the quantity grid, workers in pipelined mode), the venue against the registry (venue::check()) and the
  // URLs a session connects to.
  [[nodiscard]] std::vector<schema::Problem> problems() const;
  // Throws one ConfigError listing every problem, each naming the key path (`instruments[0].price_step`), the
  // value and what was expected.
  void validate() const;
};

// The most strategy instances a session runs, all entries together.
inline constexpr std::size_t kMaxStrategyInstances = 1'000'000;

// ---- the keys (core/schema.hpp) ---------------------------------------------------------------------------

template <class C, class V>
  requires schema::Of<C, WebSocketConfig>
void describe(C& c, V& v) {
  v.key(c.read_buffer_size, {.name = "read_buffer_size", .doc = "SO_RCVBUF and the first receive buffer, bytes",
                             .min = 4096, .max = 1 << 30});
  v.key(c.write_buffer_size, {.name = "write_buffer_size", .doc = "SO_SNDBUF and the first send buffer, bytes",
                              .min = 4096, .max = 1 << 30});
  v.key(c.no_delay, {.name = "no_delay", .doc = "TCP_NODELAY"});
  v.key(c.keep_alive, {.name = "keep_alive", .doc = "SO_KEEPALIVE"});
}

template <class C, class V>
  requires schema::Of<C, InstrumentConfig>
void describe(C& c, V& v) {
  v.key(c.symbol, {.name = "symbol", .doc = "the venue's instrument name (BTCUSDT on Binance)", .min_size = 1,
                   .max_size = md::Symbol::kCapacity, .venue = schema::VenueRule::symbol, .required = true});
  v.key(c.price_step, {.name = "price_step", .doc = "tick (decimal string; a bare number is accepted too)",
                       .format = schema::Format::decimal_step});
  v.key(c.qty_step, {.name = "qty_step", .doc = "market-data quantity step (Binance prints 8 decimals)",
                     .format = schema::Format::decimal_step});
  v.key(c.lot_step, {.name = "lot_step", .doc = "order quantity step (LOT_SIZE); a multiple of qty_step",
                     .format = schema::Format::decimal_step});
  v.key(c.snapshot_depth, {.name = "snapshot_depth", .doc = "depth snapshot levels (one of the venue's limits)",
                           .venue = schema::VenueRule::snapshot_depth});
}

template <class C, class V>
  requires schema::Of<C, StrategyConfig>
void describe(C& c, V& v) {
  v.key(c.type, {.name = "type", .doc = "a built-in strategy", .choices = strategy::kStrategyTypes,
                 .required = true});
  v.key(c.instrument, {.name = "instrument", .doc = "one of the instruments' symbols", .required = true});
  v.key(c.count, {.name = "count", .doc = "instances with these parameters (each gets its own id and orders)",
                  .min = 1, .max = 100'000});
  v.key(c.params, {.name = "params", .doc = "numbers only; the strategy checks names and ranges at start",
                   .pattern = "^[a-z_][a-z0-9_]*$"});
}

template <class C, class V>
  requires schema::Of<C, ThreadingConfig>
void describe(C& c, V& v) {
  v.key(c.mode, {.name = "mode", .doc = "inline: one thread, run to completion | pipelined: feed -> workers -> gateway",
                 .choices = kThreadingModes});
  v.key(c.workers, {.name = "workers", .doc = "pipelined: strategy worker threads (>= 1)", .min = 0, .max = 256});
  v.key(c.queue_capacity, {.name = "queue_capacity",
                           .doc = "pipelined: slots per queue (rounded up to a power of two)", .min = 2,
                           .max = 1 << 24});
  v.key(c.busy_poll,
        {.name = "busy_poll", .doc = "spin instead of sleeping (never under SCHED_FIFO on too few cores)"});
  v.key(c.realtime, {.name = "realtime", .doc = "ask SCHED_FIFO for the hot threads (reported when refused)"});
}

// The whole configuration, in the YAML's layout: the seed's hft block (performance, latency, websocket), venue,
// instruments, strategies, risk, threading, session.
template <class C, class V>
  requires schema::Of<C, SessionConfig>
void describe(C& c, V& v) {
  v.block("hft", "the seed's block: what hftx asks of the OS (the report says what it got)", [&] {
    v.block("performance", "threads, cores and memory", [&] {
      v.key(c.enable_lock_free, {.name = "enable_lock_free",
                                 .doc = "lock-free queues between threads (always on; recorded in the report)"});
      v.key(c.enable_memory_pools,
            {.name = "enable_memory_pools", .doc = "pooled orders and buffers (always on; recorded in the report)"});
      describe(c.performance, v);
    });
    v.block("latency", "measurement", [&] { describe(c.latency, v); });
    v.block("websocket", "every connection's socket options", [&] { describe(c.websocket, v); });
  });
  v.block("venue", "where market data comes from and orders go", [&] { describe(c.venue, v); });
  v.list(c.instruments, {.name = "instruments", .doc = "what the session subscribes to and trades", .min_size = 1},
         [&](auto& item) { describe(item, v); });
  v.list(c.strategies, {.name = "strategies", .doc = "what trades: built-in strategies"},
         [&](auto& item) { describe(item, v); });
  v.block("risk", "checked before every order; a failed check never reaches the venue", [&] { describe(c.risk, v); });
  v.block("threading", "how the work is split over threads", [&] { describe(c.threading, v); });
  v.block("session", "housekeeping", [&] {
    v.key(c.cancel_on_stop, {.name = "cancel_on_stop", .doc = "cancel open orders when the session stops"});
    v.key(c.top_first,
          {.name = "top_first", .doc = "act on a diff once its first levels settle the top; apply the rest after"});
    v.key(c.timer_interval_ms,
          {.name = "timer_interval_ms", .doc = "strategies' on_timer period, ms", .min = 1, .max = 60'000});
    v.key(c.max_orders, {.name = "max_orders", .doc = "order pool: open plus recently closed orders", .min = 16,
                         .max = 1 << 26});
  });
}

}  // namespace hftx::session
