// The recording path allocates nothing: Histogram::record and a whole LatencyTracker event (stamps,
// tick-to-trade, trace sampling into the ring) after setup.
#include <gtest/gtest.h>

#include "hftx/latency/histogram.hpp"
#include "hftx/latency/tracker.hpp"
#include "hftx/testing/alloc_counter.hpp"

namespace {

TEST(LatencyAlloc, RecordingAndTrackerEventsDoNotAllocate) {
  hftx::Histogram h;
  hftx::LatencyConfig cfg;
  cfg.sample_rate = 0.5;
  cfg.max_traces = 64;
  hftx::LatencyTracker tracker(cfg);
  auto& r = tracker.register_thread("alloc");
  hftx::testing::AllocScope scope;
  for (std::int64_t i = 0; i < 100'000; ++i) {
    h.record(i * 37);
    h.record(-i);  // overflow path too
    r.begin();
    for (std::size_t s = 0; s < hftx::kPathStages; ++s) r.stamp(static_cast<hftx::Stage>(s));
    r.end();
    r.record(hftx::Stage::risk, i);
  }
  EXPECT_EQ(scope.delta().allocations, 0u);
  EXPECT_EQ(tracker.events(), 100'000u);
  EXPECT_EQ(r.traces_written(), 50'000u);
}

}  // namespace
