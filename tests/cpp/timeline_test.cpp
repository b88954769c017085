// SampleLog: a whole run, thinned evenly into fixed memory, read while it is written.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <span>
#include <stdexcept>
#include <thread>
#include <vector>

#include "hftx/session/timeline.hpp"
#include "test_support.hpp"

using hftx::session::SampleLog;
using hftx::session::SampleSeries;

namespace {

// Samples are their own push numbers. A snapshot of n pushes must be one sample in `every`, evenly
// spaced, from the start of the run (the first below `every`) to its end (the last within `every` of n).
void expect_even_cover(const SampleSeries<std::uint64_t>& s, std::uint64_t n, std::uint64_t every) {
  ASSERT_EQ(s.seen, n);
  ASSERT_EQ(s.every, every) << "after " << n << " pushes";
  ASSERT_FALSE(s.samples.empty()) << "after " << n << " pushes";
  EXPECT_LT(s.samples.front(), every) << "after " << n << " pushes";
  EXPECT_LE(s.samples.back(), n - 1) << "after " << n << " pushes";
  EXPECT_GE(s.samples.back() + every, n) << "after " << n << " pushes";
  for (std::size_t i = 1; i < s.samples.size(); ++i)
    ASSERT_EQ(s.samples[i] - s.samples[i - 1], every) << "at " << i << " after " << n << " pushes";
}

// Pushes 0..: the top level in use after n pushes is the k with S(k) < n <= S(k + 1), S(k) = per_level * (2^k - 1).
std::uint64_t every_after(std::uint64_t n, std::uint64_t per_level) {
  std::uint64_t every = 1;
  while (n > per_level * (2 * every - 1)) every *= 2;
  return every;
}

}  // namespace

TEST(SampleLog, KeepsEverySampleWhileTheFirstLevelHasRoom) {
  std::vector<std::uint64_t> storage(4 * 8);
  SampleLog<std::uint64_t> log(storage, 4);
  EXPECT_EQ(log.per_level(), 8u);
  EXPECT_TRUE(log.snapshot().samples.empty());
  EXPECT_EQ(log.snapshot().every, 1u);
  for (std::uint64_t i = 0; i < 8; ++i) log.push(i);
  const auto s = log.snapshot();
  EXPECT_EQ(s.samples, (std::vector<std::uint64_t>{0, 1, 2, 3, 4, 5, 6, 7}));
  EXPECT_EQ(s.every, 1u);
  EXPECT_EQ(s.seen, 8u);
}

TEST(SampleLog, CoversTheWholeRunEvenlyAfterEveryPush) {
  // A per-level size that is not a power of two puts the top level's grid off the lower levels' starts.
  for (const std::size_t per_level : {1u, 2u, 6u, 8u, 13u}) {
    SCOPED_TRACE(per_level);
    constexpr std::size_t kLevels = 6;
    std::vector<std::uint64_t> storage(kLevels * per_level);
    SampleLog<std::uint64_t> log(storage, kLevels);
    const std::uint64_t covered = per_level * ((std::uint64_t{1} << kLevels) - 1);
    for (std::uint64_t n = 1; n <= covered; ++n) {
      log.push(n - 1);
      const auto s = log.snapshot();
      ASSERT_NO_FATAL_FAILURE(expect_even_cover(s, n, every_after(n, per_level)));
      ASSERT_GE(2 * s.samples.size(), std::min<std::uint64_t>(n, per_level)) << "after " << n << " pushes";
      ASSERT_LE(s.samples.size(), 2 * per_level) << "after " << n << " pushes";
    }
  }
}

TEST(SampleLog, PastTheLastLevelCountsWhatItDoesNotKeep) {
  std::vector<std::uint64_t> storage(3 * 4);
  SampleLog<std::uint64_t> log(storage, 3);
  for (std::uint64_t i = 0; i < 28; ++i) log.push(i);  // 4 + 8 + 16: every level full
  EXPECT_EQ(log.kept(), 12u);
  const auto full = log.snapshot();
  for (std::uint64_t i = 28; i < 1000; ++i) log.push(i);
  const auto later = log.snapshot();
  EXPECT_EQ(log.kept(), 12u);
  EXPECT_EQ(later.seen, 1000u);
  EXPECT_EQ(later.samples, full.samples);
  EXPECT_EQ(later.every, 4u);
}

TEST(SampleLog, RejectsLevelsItCannotHold) {
  std::vector<int> storage(64);
  // The constructor checks before it touches the storage, so a span larger than `storage` is only measured.
  const auto message = [&](std::size_t levels, std::size_t entries) {
    try {
      SampleLog<int> log(std::span<int>(storage.data(), entries), levels);
    } catch (const std::invalid_argument& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  const std::string expected = " levels; expected 1..40 levels of 1..2^(63 - levels) entries each";
  EXPECT_EQ(message(0, 64), "SampleLog: 64 entries in 0" + expected);
  EXPECT_EQ(message(41, 64), "SampleLog: 64 entries in 41" + expected);
  EXPECT_EQ(message(8, 7), "SampleLog: 7 entries in 8" + expected);
  // 2^24 entries a level at 40 levels would count past 2^63 samples.
  EXPECT_EQ(message(40, std::size_t{40} << 24), "SampleLog: 671088640 entries in 40" + expected);
  EXPECT_EQ(message(40, 40), "no error");
}

// Readers copy while the writer appends and moves up levels: every snapshot is an even cover of a prefix.
TEST(SampleLog, ReadersSeeAnEvenCoverWhileTheWriterAppends) {
  constexpr std::size_t kPerLevel = 64, kLevels = 17;  // covers 8.4 M pushes
  std::vector<std::uint64_t> storage(kPerLevel * kLevels);
  SampleLog<std::uint64_t> log(storage, kLevels);
  const std::uint64_t total = hftx::test::scaled(4'000'000);
  std::atomic<bool> done{false};
  std::vector<std::thread> readers;
  std::atomic<std::uint64_t> snapshots{0};
  std::atomic<int> started{0};
  for (int r = 0; r < 2; ++r) {
    readers.emplace_back([&] {
      started.fetch_add(1, std::memory_order_release);
      std::uint64_t last_seen = 0;
      while (!done.load(std::memory_order_acquire)) {
        const auto s = log.snapshot();
        if (s.samples.empty()) continue;
        EXPECT_GE(s.seen, last_seen);
        last_seen = s.seen;
        EXPECT_LT(s.samples.front(), s.every);
        for (std::size_t i = 1; i < s.samples.size(); ++i)
          ASSERT_EQ(s.samples[i] - s.samples[i - 1], s.every) << "at " << i;
        snapshots.fetch_add(1, std::memory_order_relaxed);
      }
    });
  }
  while (started.load(std::memory_order_acquire) < 2) std::this_thread::yield();
  // At least `total` pushes, and on until the readers have copied often (a loaded machine may run them late).
  const std::uint64_t covered = kPerLevel * ((std::uint64_t{1} << kLevels) - 1);
  std::uint64_t pushed = 0;
  while (pushed < covered && (pushed < total || snapshots.load(std::memory_order_relaxed) < 100)) log.push(pushed++);
  done.store(true, std::memory_order_release);
  for (auto& t : readers) t.join();
  EXPECT_GT(snapshots.load(), 0u);
  expect_even_cover(log.snapshot(), pushed, every_after(pushed, kPerLevel));
}
