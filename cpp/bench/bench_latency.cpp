// Latency measurement cost: the seed's "LatencyMeasurement" row.
//  histogram_record:     one value into hftx::Histogram vs vector_sort (push_back into a preallocated vector,
//                        sorted once per 64k-value window for its percentiles); limit = the push alone
//  histogram_percentile: p99 of 1M recorded values: hftx (scan of the buckets) vs vector_sort (copy + nth_element,
//                        the cheapest exact way a vector gives a percentile)
//  tracker_event:        one event through LatencyTracker: begin, 7 stage stamps, end (8 histogram records,
//                        7 clock reads, 1% trace sampling)
// Counters: mem_bytes = memory per histogram (hftx: at the default 1 ns..60 s, 3 digits; vector_sort: 8 bytes
// per value at the 1M values it keeps).
#include <algorithm>
#include <random>
#include <vector>

#include "bench_support.hpp"
#include "hftx/latency/histogram.hpp"
#include "hftx/latency/tracker.hpp"

namespace {

using hftx::TscClock;
constexpr std::size_t kValues = 1 << 20;

// Latency-like values (log-normal around ~2 us) cycled through a table, so value generation is not what
// is measured and the branch predictor sees realistic variety.
const std::vector<std::int64_t>& values() {
  static const std::vector<std::int64_t> v = [] {
    std::mt19937_64 rng(42);
    std::lognormal_distribution<double> d(7.6, 0.8);
    std::vector<std::int64_t> out(kValues);
    for (auto& x : out) x = static_cast<std::int64_t>(d(rng)) + 1;
    return out;
  }();
  return v;
}

// Both record windows of kWindow values (a report every 64k events); a sample is the window's time per
// value. vector_sort pays for its percentiles at the end of each window (one sort), hftx never does.
constexpr std::size_t kWindow = 1 << 16;

void BM_record_hftx(benchmark::State& state) {
  const auto& vals = values();
  hftx::Histogram h;
  hftx::bench::OpSampler sampler;
  hftx::bench::AllocMeter alloc;
  std::size_t i = 0;
  for (auto _ : state) {
    const std::uint64_t t0 = TscClock::ticks();
    for (std::size_t k = 0; k < kWindow; ++k) h.record(vals[(i + k) & (kValues - 1)]);
    benchmark::DoNotOptimize(h.value_at_percentile(99.0));
    sampler.add(TscClock::ticks() - t0, kWindow);
    i += kWindow;
  }
  alloc.publish(state);
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(kWindow));
  state.counters["figure_p50"] = 1;
  state.counters["mem_bytes"] = static_cast<double>(h.memory_bytes());
  sampler.publish(state);
}

void BM_record_vector_sort(benchmark::State& state) {
  const auto& vals = values();
  std::vector<std::int64_t> v;
  v.reserve(kWindow);
  hftx::bench::OpSampler sampler;
  hftx::bench::AllocMeter alloc;
  std::size_t i = 0;
  for (auto _ : state) {
    const std::uint64_t t0 = TscClock::ticks();
    v.clear();  // keeps the capacity: no allocation inside the loop
    for (std::size_t k = 0; k < kWindow; ++k) v.push_back(vals[(i + k) & (kValues - 1)]);
    std::sort(v.begin(), v.end());
    benchmark::DoNotOptimize(v[static_cast<std::size_t>(0.99 * static_cast<double>(kWindow))]);
    sampler.add(TscClock::ticks() - t0, kWindow);
    i += kWindow;
  }
  alloc.publish(state);
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(kWindow));
  state.counters["figure_p50"] = 1;
  state.counters["mem_bytes"] = static_cast<double>(kWindow * sizeof(std::int64_t));
  sampler.publish(state);
}

// The push alone, without the sort percentiles need: the floor any recorder sits on.
void BM_record_limit(benchmark::State& state) {
  const auto& vals = values();
  std::vector<std::int64_t> v;
  v.reserve(kWindow);
  hftx::bench::OpSampler sampler;
  std::size_t i = 0;
  for (auto _ : state) {
    const std::uint64_t t0 = TscClock::ticks();
    v.clear();
    for (std::size_t k = 0; k < kWindow; ++k) v.push_back(vals[(i + k) & (kValues - 1)]);
    benchmark::DoNotOptimize(v.data());
    sampler.add(TscClock::ticks() - t0, kWindow);
    i += kWindow;
  }
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(kWindow));
  state.counters["figure_p50"] = 1;
  sampler.publish(state);
}

void BM_percentile_hftx(benchmark::State& state) {
  hftx::Histogram h;
  for (const auto x : values()) h.record(x);
  hftx::bench::OpSampler sampler;
  for (auto _ : state) {
    const std::uint64_t t0 = TscClock::ticks();
    benchmark::DoNotOptimize(h.value_at_percentile(99.0));
    sampler.add(TscClock::ticks() - t0);
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["figure_p50"] = 1;
  sampler.publish(state);
}

void BM_percentile_vector_sort(benchmark::State& state) {
  const auto& vals = values();
  std::vector<std::int64_t> work(vals.size());
  hftx::bench::OpSampler sampler;
  for (auto _ : state) {
    const std::uint64_t t0 = TscClock::ticks();
    std::copy(vals.begin(), vals.end(), work.begin());  // the recording order must survive the query
    const auto k = static_cast<std::ptrdiff_t>(0.99 * static_cast<double>(work.size()));
    std::nth_element(work.begin(), work.begin() + k, work.end());
    benchmark::DoNotOptimize(work[static_cast<std::size_t>(k)]);
    sampler.add(TscClock::ticks() - t0);
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["figure_p50"] = 1;
  sampler.publish(state);
}

void BM_tracker_event_hftx(benchmark::State& state) {
  hftx::LatencyConfig cfg;
  cfg.sample_rate = 0.01;
  cfg.max_traces = 10'000;
  hftx::LatencyTracker tracker(cfg);
  auto& r = tracker.register_thread("bench");
  hftx::bench::OpSampler sampler;
  hftx::bench::AllocMeter alloc;
  constexpr int kEvents = 64;
  for (auto _ : state) {
    const std::uint64_t t0 = TscClock::ticks();
    for (int e = 0; e < kEvents; ++e) {
      r.begin();
      for (std::size_t s = 0; s < hftx::kPathStages; ++s) r.stamp(static_cast<hftx::Stage>(s));
      r.end();
    }
    sampler.add(TscClock::ticks() - t0, kEvents);
  }
  alloc.publish(state);
  state.SetItemsProcessed(state.iterations() * kEvents);
  state.counters["figure_p50"] = 1;
  state.counters["mem_bytes"] = static_cast<double>(hftx::kStageCount * r.histogram(hftx::Stage::parse).memory_bytes());
  sampler.publish(state);
}

// The clock reads alone (7 per event), so the tracker's own overhead can be told apart from rdtsc's.
void BM_tracker_event_limit(benchmark::State& state) {
  hftx::bench::OpSampler sampler;
  constexpr int kEvents = 64;
  for (auto _ : state) {
    const std::uint64_t t0 = TscClock::ticks();
    for (int e = 0; e < kEvents; ++e)
      for (std::size_t s = 0; s < hftx::kPathStages + 1; ++s) benchmark::DoNotOptimize(TscClock::ticks());
    sampler.add(TscClock::ticks() - t0, kEvents);
  }
  state.SetItemsProcessed(state.iterations() * kEvents);
  state.counters["figure_p50"] = 1;
  sampler.publish(state);
}

}  // namespace

// Interleaved (hftx, peer, hftx, peer) within one run: see ARCHITECTURE §12 (docs/ARCHITECTURE.md).
BENCHMARK(BM_record_hftx)->Name("histogram_record/hftx");
BENCHMARK(BM_record_vector_sort)->Name("histogram_record/vector_sort");
BENCHMARK(BM_record_limit)->Name("histogram_record/limit");
BENCHMARK(BM_percentile_hftx)->Name("histogram_percentile/hftx");
BENCHMARK(BM_percentile_vector_sort)->Name("histogram_percentile/vector_sort");
BENCHMARK(BM_tracker_event_hftx)->Name("tracker_event/hftx");
BENCHMARK(BM_tracker_event_limit)->Name("tracker_event/limit");

BENCHMARK_MAIN();
