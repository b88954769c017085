// The platform layer's hot-path calls allocate nothing (and the counting allocator really counts).
#include <gtest/gtest.h>

#include <string>

#include "hftx/core/clock.hpp"
#include "hftx/core/fixed_point.hpp"
#include "hftx/testing/alloc_counter.hpp"

namespace {

TEST(AllocCounter, CountsAllocations) {
  ASSERT_TRUE(hftx::testing::alloc_counter_active());
  hftx::testing::AllocScope scope;
  auto* s = new std::string(100, 'x');
  delete s;
  EXPECT_GE(scope.delta().allocations, 2u);  // the string object and its buffer
  EXPECT_GE(scope.delta().frees, 2u);
}

TEST(CoreAlloc, ClockAndFixedPointDoNotAllocate) {
  const hftx::TscClock& clock = hftx::TscClock::instance();
  const hftx::Scale tick = hftx::Scale::from_step("0.01");
  const char* texts[] = {"61837.63000000", "0.01000000", "61837.635", "1e5", ""};
  std::int64_t sum = 0;
  char buf[hftx::kMaxFixedText];
  hftx::testing::AllocScope scope;
  for (int i = 0; i < 1'000'000; ++i) {
    std::int64_t v = 0;
    (void)hftx::parse_fixed(texts[i % 5], tick, v);
    sum += v + static_cast<std::int64_t>(hftx::format_fixed(v, tick, buf));
    sum += static_cast<std::int64_t>(clock.now_ns() & 1u) + static_cast<std::int64_t>(hftx::TscClock::ticks() & 1u);
  }
  EXPECT_EQ(scope.delta().allocations, 0u);
  EXPECT_GT(sum, 0);
}

}  // namespace
