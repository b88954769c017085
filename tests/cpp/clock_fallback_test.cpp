// The CLOCK_MONOTONIC fallback, forced with HFTX_CLOCK=monotonic before the clock is first used.
#include <gtest/gtest.h>

#include <cstdlib>

#include "hftx/core/clock.hpp"

namespace {

// Runs before main() and before any clock use (the mode flag is constant-initialised).
const bool kForced = [] { return setenv("HFTX_CLOCK", "monotonic", 1) == 0; }();

TEST(TscClockFallback, UsesClockMonotonicWhenForced) {
  ASSERT_TRUE(kForced);
  const hftx::TscClock& clock = hftx::TscClock::instance();
  EXPECT_EQ(clock.source(), hftx::ClockSource::monotonic);
  EXPECT_NE(clock.reason().find("HFTX_CLOCK"), std::string::npos);
  EXPECT_DOUBLE_EQ(clock.frequency_hz(), 1e9);
  EXPECT_EQ(clock.ticks_to_ns(12345), 12345);

  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  const auto mono = static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000'000ull + static_cast<std::uint64_t>(ts.tv_nsec);
  const std::uint64_t t = hftx::TscClock::ticks();
  EXPECT_GE(t, mono);
  EXPECT_LT(t - mono, 100'000'000u);

  clock_gettime(CLOCK_REALTIME, &ts);
  const auto real = static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000'000ull + static_cast<std::uint64_t>(ts.tv_nsec);
  const std::uint64_t now = clock.now_ns();
  EXPECT_LT(now > real ? now - real : real - now, 100'000'000u);
}

}  // namespace
