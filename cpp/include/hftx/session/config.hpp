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

#include "hftx/venue/binance/book_sync.hpp"
#include "hftx/cpu/thread_manager.hpp"
#include "hftx/latency/tracker.hpp"
#include "hftx/risk/risk.hpp"
#include "hftx/strategy/strategy.hpp"

namespace hftx::session {

// The seed's `hft.websocket` block.
struct WebSocketConfig {
  std::size_t read_buffer_size = 65536;   // SO_RCVBUF and the connection's initial receive buffer
  std::size_t write_buffer_size = 65536;  // SO_SNDBUF and the initial send buffer
  bool no_delay = true;
  bool keep_alive = true;
};

// Whether the order connection logs on (session.logon) so that trading requests go out unsigned. Binance
// accepts a logon only with an Ed25519 key.
enum class SessionLogon : std::uint8_t {
  automatic,  // log on when the key is Ed25519; an HMAC key signs every request
  always,     // log on; an HMAC key is a configuration error
  never,      // sign every request
};

struct VenueConfig {
  std::string name = "simulator";  // simulator | binance (informational in C++: the URLs decide)
  std::string market_url;          // combined-stream base, e.g. ws://127.0.0.1:9000/stream
  std::string api_url;             // WebSocket API, e.g. ws://127.0.0.1:9000/ws-api/v3
  venue::binance::Market market = venue::binance::Market::spot;
  std::string api_key_env = "HFTX_API_KEY";       // environment variable names, never the secrets
  std::string secret_key_env = "HFTX_SECRET_KEY";
  std::string client_id_prefix = "hx";
  int recv_window_ms = 5000;
  SessionLogon session_logon = SessionLogon::automatic;
  std::string depth_stream = "depth@100ms";  // depth | depth@100ms
  int connect_timeout_ms = 5000;
};

struct InstrumentConfig {
  std::string symbol;                     // BTCUSDT
  std::string price_step = "0.01";        // tick
  std::string qty_step = "0.00000001";    // market-data quantity step (Binance prints 8 decimals)
  std::string lot_step = "0.00001";       // order quantity step (LOT_SIZE)
  int snapshot_depth = 1000;              // WebSocket-API depth limit
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
  // (MarketSide::on_message): the same book events, earlier. Off: every diff is applied whole first.
  bool top_first = true;
  std::int64_t timer_interval_ms = 100;
  std::size_t max_orders = 65536;  // order pool (open orders + recently closed)

  // Throws ConfigError naming the first bad key.
  void validate() const;
};

}  // namespace hftx::session
