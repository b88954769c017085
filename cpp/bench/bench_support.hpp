// Shared helpers for the Google Benchmark programs in cpp/bench/.
//
// Conventions every program follows (hftx bench reads them):
//  - names are <case>/<impl>[/<args>]; impls named hftx or hftx_* are ours, `limit` is a physical
//    limit (shown, never counted as a peer), anything else is a peer;
//  - SetItemsProcessed() on every benchmark: the case's figure is items/s, higher is better;
//  - counters p50_ns/p95_ns/p99_ns/p999_ns per operation (OpSampler), alloc_mb and allocs_per_op for the
//    heap traffic inside the timed loop (AllocMeter over the counting allocator);
//  - a latency case whose figure is its p50 instead sets the counter figure_p50 = 1 (lower is better).
#pragma once

#include <pthread.h>
#include <sched.h>

#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "hftx/venue/binance/replay.hpp"
#include "hftx/core/clock.hpp"
#include "hftx/core/error.hpp"
#include "hftx/testing/alloc_counter.hpp"

namespace hftx::bench {

// Per-operation latency distribution, from TSC stamps taken around each operation or around a batch of
// cheap ones (then each sample is the batch's time / its size, which keeps the stamps' own cost under
// 1% of what is measured). Storage is reserved before the timed loop; past capacity, samples are dropped.
class OpSampler {
 public:
  explicit OpSampler(std::size_t capacity = 1u << 20) { ticks_.reserve(capacity); }

  HFTX_FORCE_INLINE void add(std::uint64_t ticks, std::uint32_t ops = 1) noexcept {
    if (ticks_.size() < ticks_.capacity()) ticks_.push_back(static_cast<double>(ticks) / ops);
  }

  void publish(benchmark::State& state) {
    if (ticks_.empty()) return;
    std::sort(ticks_.begin(), ticks_.end());
    const double ns_per_tick = 1e9 / TscClock::instance().frequency_hz();
    const auto at = [&](double q) {
      const auto i = static_cast<std::size_t>(q * static_cast<double>(ticks_.size() - 1));
      return ticks_[i] * ns_per_tick;
    };
    state.counters["p50_ns"] = at(0.50);
    state.counters["p95_ns"] = at(0.95);
    state.counters["p99_ns"] = at(0.99);
    state.counters["p999_ns"] = at(0.999);
  }

 private:
  std::vector<double> ticks_;
};

// Heap traffic inside the timed loop: construct just before the loop, publish() just after.
class AllocMeter {
 public:
  void publish(benchmark::State& state) const {
    const testing::AllocStats d = scope_.delta();
    state.counters["alloc_mb"] = static_cast<double>(d.bytes) / 1e6;
    state.counters["allocs_per_op"] = benchmark::Counter(static_cast<double>(d.allocations),
                                                         benchmark::Counter::kAvgIterations);
  }

 private:
  testing::AllocScope scope_;
};

// The recorded market data: $HFTX_DATA_DIR, else the tree this program was built from.
inline std::filesystem::path data_path(const std::string& relative) {
  if (const char* env = std::getenv("HFTX_DATA_DIR")) return std::filesystem::path(env) / relative;
#ifdef HFTX_DEFAULT_DATA_DIR
  if (std::filesystem::exists(std::filesystem::path(HFTX_DEFAULT_DATA_DIR) / relative))
    return std::filesystem::path(HFTX_DEFAULT_DATA_DIR) / relative;
#endif
  return std::filesystem::path("../shared/data") / relative;
}

// Lines of a recorded `<ns> <json>` file (gzip), at most max_lines; empty when it cannot be read, so a
// benchmark can SkipWithError naming the path instead of aborting the program.
inline std::vector<std::string> read_gz_lines(const std::filesystem::path& path, std::size_t max_lines = SIZE_MAX) {
  try {
    return md::read_recorded_lines(path.string(), max_lines);
  } catch (const SystemError&) {
    return {};
  }
}

// An Ed25519 test key (Binance's FIX-API example key): the Ed25519-signed and session-logon cases.
inline constexpr const char* kEd25519Pem =
    "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIIJEYWtGBrhACmb9Dvy+qa8WEf0lQOl1s4CLIAB9m89u\n-----END PRIVATE KEY-----\n";

// ---- CPU placement: threads of a multi-threaded case on distinct allowed CPUs where there are enough ----

inline const std::vector<int>& allowed_cpus() {
  static const std::vector<int> cpus = [] {
    cpu_set_t set;
    CPU_ZERO(&set);
    std::vector<int> c;
    if (sched_getaffinity(0, sizeof set, &set) == 0)
      for (int i = 0; i < CPU_SETSIZE; ++i)
        if (CPU_ISSET(i, &set)) c.push_back(i);
    return c;
  }();
  return cpus;
}

// The i-th allowed CPU, wrapping around.
inline int cpu_at(std::size_t i) { return allowed_cpus().empty() ? 0 : allowed_cpus()[i % allowed_cpus().size()]; }

inline void pin_self(int cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  (void)pthread_setaffinity_np(pthread_self(), sizeof set, &set);
}

// Pins the calling thread to `cpu` for one benchmark and restores its mask afterwards.
class PinScope {
 public:
  explicit PinScope(int cpu) {
    CPU_ZERO(&saved_);
    (void)pthread_getaffinity_np(pthread_self(), sizeof saved_, &saved_);
    pin_self(cpu);
  }
  ~PinScope() { (void)pthread_setaffinity_np(pthread_self(), sizeof saved_, &saved_); }
  PinScope(const PinScope&) = delete;
  PinScope& operator=(const PinScope&) = delete;

 private:
  cpu_set_t saved_;
};

}  // namespace hftx::bench
