// Replaying the recorded files after warm-up performs zero heap allocations (parser + sync + book +
// bookTicker check + publication), and so does the L3 matcher's order flow.
#include <gtest/gtest.h>

#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "hftx/book/matching.hpp"
#include "hftx/venue/binance/replay.hpp"
#include "hftx/testing/alloc_counter.hpp"
#include "test_support.hpp"

namespace {

using namespace hftx;
using namespace hftx::book;
using namespace hftx::venue::binance;

TEST(BookAlloc, ReplayAfterWarmUpDoesNotAllocate) {
  ASSERT_TRUE(hftx::testing::alloc_counter_active());
  for (const char* name : {"spot_btcusdt_20240808.gz", "spot_ethusdt_20240808.gz", "usdm_btcusdt_20240808.gz"}) {
    const std::string path = test::data_dir() + "/binance/" + name;
    if (!std::filesystem::exists(path)) GTEST_SKIP() << "no recorded data";
    // Lines in padded buffers (as a receive buffer would hold them).
    std::vector<std::string> lines = md::read_recorded_lines(path);
    std::vector<std::size_t> sizes;
    for (std::string& l : lines) {
      sizes.push_back(l.size());
      l.resize(l.size() + md::kJsonPadding);
    }
    std::vector<std::string_view> views;
    for (std::size_t i = 0; i < lines.size(); ++i) views.emplace_back(lines[i].data(), sizes[i]);
    const InferredScales sc = infer_scales(views);
    Replayer rp(sc.price, sc.qty);
    const auto replay = [&] {
      for (std::size_t i = 0; i < lines.size(); ++i)
        (void)rp.feed_line(std::string_view(lines[i].data(), sizes[i]), lines[i].size());
    };
    replay();  // warm-up: the book and buffers reach the data's size
    const std::uint64_t levels = rp.sync().stats().level_updates;
    rp.reset();
    hftx::testing::AllocScope scope;
    replay();
    const hftx::testing::AllocStats d = scope.delta();
    EXPECT_EQ(d.allocations, 0u) << name;
    EXPECT_EQ(rp.sync().stats().level_updates, levels) << name;
    EXPECT_EQ(rp.stats().ticker_mismatches, 0u);
    EXPECT_EQ(rp.sync().stats().gaps, 0u);
  }
}

TEST(BookAlloc, MatchingEngineDoesNotAllocate) {
  MatchingEngine eng(MatchingConfig{.max_orders = 1u << 16, .max_price_levels = 4096});
  std::uint64_t fills = 0;
  eng.on_execution([&](const Execution&) { ++fills; });
  std::mt19937_64 rng(3);
  hftx::testing::AllocScope scope;
  OrderId id = 1;
  for (int i = 0; i < 200000; ++i) {
    const auto r = rng() % 10;
    if (r < 6) {
      OrderRequest o;
      o.id = id++;
      o.side = rng() & 1 ? Side::bid : Side::ask;
      o.price = Price(10000 + static_cast<std::int64_t>(rng() % 40) - 20);
      o.qty = Qty(1 + static_cast<std::int64_t>(rng() % 10));
      (void)eng.submit(o);
    } else if (r < 9) {
      (void)eng.cancel(1 + rng() % id);
    } else {
      OrderRequest o;
      o.id = id++;
      o.type = OrderType::market;
      o.side = rng() & 1 ? Side::bid : Side::ask;
      o.qty = Qty(1 + static_cast<std::int64_t>(rng() % 20));
      (void)eng.submit(o);
    }
  }
  EXPECT_EQ(scope.delta().allocations, 0u);
  EXPECT_GT(fills, 0u);
}

}  // namespace
