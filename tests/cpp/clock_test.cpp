#include "hftx/core/clock.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <thread>
#include <vector>

#include "test_support.hpp"

namespace {

using hftx::TscClock;

std::uint64_t realtime_ns() {
  timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000'000ull + static_cast<std::uint64_t>(ts.tv_nsec);
}

std::uint64_t monotonic_ns() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000'000ull + static_cast<std::uint64_t>(ts.tv_nsec);
}

// Smallest distance, over many brackets [r1, r2] of CLOCK_REALTIME, between now_ns() and the bracket: a
// preempted or interrupted try only makes a bracket wider, so the best one bounds the real error.
std::int64_t best_realtime_error_ns(const TscClock& clock) {
  std::int64_t best = INT64_MAX;
  for (int i = 0; i < 200; ++i) {
    const std::uint64_t r1 = realtime_ns();
    const std::uint64_t n = clock.now_ns();
    const std::uint64_t r2 = realtime_ns();
    std::int64_t err = 0;
    if (n < r1) err = static_cast<std::int64_t>(r1 - n);
    if (n > r2) err = static_cast<std::int64_t>(n - r2);
    best = std::min(best, err + static_cast<std::int64_t>(r2 - r1));
  }
  return best;
}

TEST(TscClock, ReportsItsSource) {
  const TscClock& clock = TscClock::instance();
  EXPECT_FALSE(clock.reason().empty());
  EXPECT_GT(clock.frequency_hz(), 1e8);
  EXPECT_LT(clock.frequency_hz(), 1e10);
  if (clock.source() == hftx::ClockSource::monotonic) {
    EXPECT_DOUBLE_EQ(clock.frequency_hz(), 1e9);
  }
}

TEST(TscClock, TicksMonotonicInOneThread) {
  std::uint64_t prev = TscClock::ticks();
  for (std::uint64_t i = 0; i < hftx::test::scaled(1'000'000); ++i) {
    const std::uint64_t t = TscClock::ticks();
    ASSERT_GE(t, prev);
    prev = t;
  }
}

// A stamp handed from one thread to another (release/acquire) is never later than a stamp the receiver
// takes afterwards: the counter is synchronised across cores, and ticks_begin() orders the read after
// the load that received the stamp.
TEST(TscClock, MonotonicAcrossThreads) {
  const TscClock& clock = TscClock::instance();
  const std::uint64_t rounds = hftx::test::scaled(200'000);
  std::atomic<std::uint64_t> ticks_box{0}, ns_box{0};
  std::atomic<std::uint64_t> turn{0};
  std::atomic<std::uint64_t> violations{0};
  auto player = [&](std::uint64_t me) {
    for (std::uint64_t r = me; r < rounds; r += 2) {
      while (turn.load(std::memory_order_acquire) != r) hftx::cpu_relax();
      const std::uint64_t seen_ticks = ticks_box.load(std::memory_order_relaxed);
      const std::uint64_t seen_ns = ns_box.load(std::memory_order_relaxed);
      const std::uint64_t t = TscClock::ticks_begin();
      const std::uint64_t n = clock.now_ns();
      if (t < seen_ticks || n < seen_ns) violations.fetch_add(1, std::memory_order_relaxed);
      ticks_box.store(TscClock::ticks_end(), std::memory_order_relaxed);
      ns_box.store(clock.now_ns(), std::memory_order_relaxed);
      turn.store(r + 1, std::memory_order_release);
    }
  };
  std::thread a(player, 0), b(player, 1);
  a.join();
  b.join();
  EXPECT_EQ(violations.load(), 0u);
}

TEST(TscClock, AgreesWithRealtime) {
  const TscClock& clock = TscClock::instance();
  // 2 ms holds on a noisy VM: calibration error is a few ppm, the bracket a few microseconds.
  EXPECT_LT(best_realtime_error_ns(clock), 2'000'000);
}

TEST(TscClock, TicksToNsMatchesMonotonic) {
  const TscClock& clock = TscClock::instance();
  const std::uint64_t m1 = monotonic_ns();
  const std::uint64_t t1 = TscClock::ticks_begin();
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  const std::uint64_t t2 = TscClock::ticks_end();
  const std::uint64_t m2 = monotonic_ns();
  const std::int64_t measured = clock.ticks_to_ns(static_cast<std::int64_t>(t2 - t1));
  const auto mono = static_cast<std::int64_t>(m2 - m1);
  // The tick interval lies inside the monotonic one; rates may differ by NTP's slew (<= 500 ppm).
  EXPECT_LE(measured, mono + mono / 1000 + 1000);
  EXPECT_GE(measured, 50'000'000 - 50'000'000 / 1000);
  EXPECT_NEAR(static_cast<double>(clock.ns_to_ticks(measured)), static_cast<double>(t2 - t1),
              static_cast<double>(t2 - t1) * 1e-6 + 2);
}

TEST(TscClock, RecalibrationNeverStepsBack) {
  TscClock& clock = TscClock::instance();
  std::atomic<bool> stop{false};
  std::atomic<std::uint64_t> backwards{0}, reads{0};
  std::atomic<bool> started{false};
  std::thread reader([&] {
    std::uint64_t prev = clock.now_ns();
    started.store(true, std::memory_order_release);
    while (!stop.load(std::memory_order_relaxed)) {
      const std::uint64_t n = clock.now_ns();
      if (n < prev) backwards.fetch_add(1, std::memory_order_relaxed);
      prev = n;
      reads.fetch_add(1, std::memory_order_relaxed);
    }
  });
  while (!started.load(std::memory_order_acquire)) std::this_thread::yield();  // overlap the recalibrations
  std::int64_t worst = 0;
  for (int i = 0; i < 50; ++i) {
    worst = std::max(worst, std::abs(clock.recalibrate()));
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  stop = true;
  reader.join();
  EXPECT_EQ(backwards.load(), 0u);
  EXPECT_GT(reads.load(), 0u);
  EXPECT_LT(worst, 2'000'000);  // the mapping stayed within 2 ms of CLOCK_REALTIME throughout
  EXPECT_LT(best_realtime_error_ns(clock), 2'000'000);
}

TEST(TscClock, OrderedReadsBracketWork) {
  const std::uint64_t a = TscClock::ticks_begin();
  volatile std::uint64_t sink = 0;
  for (int i = 0; i < 1000; ++i) sink = sink + static_cast<std::uint64_t>(i);
  const std::uint64_t b = TscClock::ticks_end();
  EXPECT_GT(b, a);
}

}  // namespace
