// Reading the time: TscClock against the clocks a user would otherwise call.
//  clock_read:   raw ticks for measuring intervals (TscClock::ticks, CLOCK_MONOTONIC, steady_clock)
//  clock_now_ns: wall-clock nanoseconds (TscClock::now_ns, CLOCK_REALTIME, system_clock)
#include <chrono>
#include <ctime>

#include "bench_support.hpp"

namespace {

using hftx::TscClock;
constexpr int kBatch = 256;

template <class Read>
void run(benchmark::State& state, Read read) {
  (void)TscClock::instance();  // calibrate outside the loop
  hftx::bench::OpSampler sampler;
  hftx::bench::AllocMeter alloc;
  for (auto _ : state) {
    const std::uint64_t t0 = TscClock::ticks();
    for (int i = 0; i < kBatch; ++i) benchmark::DoNotOptimize(read());
    sampler.add(TscClock::ticks() - t0, kBatch);
  }
  alloc.publish(state);
  state.SetItemsProcessed(state.iterations() * kBatch);
  sampler.publish(state);
}

std::uint64_t gettime(clockid_t id) {
  timespec ts;
  clock_gettime(id, &ts);
  return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000'000ull + static_cast<std::uint64_t>(ts.tv_nsec);
}

void BM_clock_read_hftx(benchmark::State& s) { run(s, [] { return TscClock::ticks(); }); }
void BM_clock_read_clock_gettime(benchmark::State& s) { run(s, [] { return gettime(CLOCK_MONOTONIC); }); }
void BM_clock_read_steady_clock(benchmark::State& s) { run(s, [] { return std::chrono::steady_clock::now(); }); }

void BM_clock_now_ns_hftx(benchmark::State& s) {
  const TscClock& clock = TscClock::instance();
  run(s, [&] { return clock.now_ns(); });
}
void BM_clock_now_ns_clock_gettime(benchmark::State& s) { run(s, [] { return gettime(CLOCK_REALTIME); }); }
void BM_clock_now_ns_system_clock(benchmark::State& s) { run(s, [] { return std::chrono::system_clock::now(); }); }

}  // namespace

BENCHMARK(BM_clock_read_hftx)->Name("clock_read/hftx");
BENCHMARK(BM_clock_read_clock_gettime)->Name("clock_read/clock_gettime");
BENCHMARK(BM_clock_read_steady_clock)->Name("clock_read/steady_clock");
BENCHMARK(BM_clock_now_ns_hftx)->Name("clock_now_ns/hftx");
BENCHMARK(BM_clock_now_ns_clock_gettime)->Name("clock_now_ns/clock_gettime");
BENCHMARK(BM_clock_now_ns_system_clock)->Name("clock_now_ns/system_clock");

BENCHMARK_MAIN();
