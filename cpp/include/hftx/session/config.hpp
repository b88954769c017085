// hftx/session/config.hpp — SessionConfig: everything a Session needs, as plain structs (no YAML in C++).
//
// Threading contract: value types; built and validated on one thread before Session is constructed.
//
// Python (hftx.config) validates the YAML with a schema and converts it into this struct; a C++ program
// fills it directly. validate() re-checks what the session relies on and throws ConfigError naming the
// key path (`instruments[0].price_step`), the value and what was expected.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "hftx/cpu/thread_manager.hpp"
#include "hftx/latency/tracker.hpp"
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

  // Throws ConfigError naming the first bad key.
  void validate() const;
};

}  // namespace hftx::session
