// A session against the in-process simulator: the configurations and the wait helper that the session
// tests (session_test, session_alloc_test) share.
#pragma once

#include <chrono>
#include <thread>

#include "hftx/session/session.hpp"
#include "hftx/sim/exchange.hpp"
#include "test_support.hpp"

namespace hftx::test {

using namespace std::chrono_literals;

inline sim::ExchangeConfig sim_config(double rate = 5000) {
  sim::ExchangeConfig c;
  c.event_rate = rate;
  c.depth_levels = 200;
  c.seed = 7;
  c.trade_probability = 0.3;
  return c;
}

inline session::SessionConfig session_config(const sim::Exchange& ex,
                                            session::ThreadingMode mode = session::ThreadingMode::inline_mode) {
  session::SessionConfig c;
  c.venue.market_url = ex.market_url();
  c.venue.api_url = ex.api_url();
  c.venue.options["depth_stream"] = "depth";
  c.instruments.push_back(session::InstrumentConfig{"BTCUSDT", "0.01", "0.00000001", "0.00001", 1000});
  session::StrategyConfig mm;
  mm.type = "market_maker";
  mm.instrument = "BTCUSDT";
  mm.params = {{"spread_bps", 0.2}, {"size", 0.001}, {"requote_bps", 0.1}};
  c.strategies.push_back(mm);
  session::StrategyConfig probe;
  probe.type = "latency_probe";
  probe.instrument = "BTCUSDT";
  c.strategies.push_back(probe);
  c.threading.mode = mode;
  c.threading.workers = 2;
  c.performance.enable_cpu_affinity = false;
  c.latency.sample_rate = 1.0;
  return c;
}

// The same against the simulator speaking OKX (BTC-USDT, books-l2-tbt): the session through OKX's module.
inline sim::ExchangeConfig okx_sim_config(double rate = 5000) {
  sim::ExchangeConfig c = sim_config(rate);
  c.venue = "okx";
  c.instruments = {sim::InstrumentSpec{"BTC-USDT", "0.01", "0.00000001", "0.00001", "", ""}};
  return c;
}

inline session::SessionConfig okx_session_config(const sim::Exchange& ex,
                                                session::ThreadingMode mode = session::ThreadingMode::inline_mode) {
  session::SessionConfig c = session_config(ex, mode);
  c.venue.dialect = "okx";
  c.venue.options.clear();
  c.venue.options["channel"] = "books-l2-tbt";
  for (auto& in : c.instruments) in.symbol = "BTC-USDT";
  for (auto& st : c.strategies) st.instrument = "BTC-USDT";
  return c;
}

// Waits until `pred` holds or `timeout` passes.
template <class P>
bool eventually(P pred, std::chrono::milliseconds timeout = 10s) {
  const auto end = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < end) {
    if (pred()) return true;
    std::this_thread::sleep_for(10ms);
  }
  return pred();
}

}  // namespace hftx::test
