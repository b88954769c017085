// OKX market data performs no heap allocation after warm-up: the recording (venues/okx/okx_books-l2-tbt_20220227.gz,
// recorded by cryptofeed, by Bryant Moscon) replayed from memory through classifier -> parser -> book sync
// (checksum at once, and deferred) -> book; and the stream helpers and the parser's trades.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "hftx/md/recording.hpp"
#include "hftx/testing/alloc_counter.hpp"
#include "hftx/venue/okx/replay.hpp"
#include "hftx/venue/okx/stream.hpp"
#include "test_support.hpp"

namespace {

using namespace hftx;
using namespace hftx::venue::okx;

TEST(OkxAlloc, ReplayAfterWarmUpDoesNotAllocate) {
  ASSERT_TRUE(hftx::testing::alloc_counter_active());
  const std::string path = test::data_dir() + "/venues/okx/okx_books-l2-tbt_20220227.gz";
  if (!std::filesystem::exists(path)) GTEST_SKIP() << "no recorded data";
  // Lines in padded buffers, as a receive buffer holds them.
  std::vector<std::string> lines = md::read_recorded_lines(path);
  std::vector<std::size_t> sizes;
  std::vector<std::string_view> views;
  for (std::string& l : lines) {
    sizes.push_back(l.size());
    l.resize(l.size() + md::kJsonPadding);
  }
  for (std::size_t i = 0; i < lines.size(); ++i) views.emplace_back(lines[i].data(), sizes[i]);
  const std::vector<InstrumentSpec> specs = scan_instruments(views);
  for (const bool defer : {false, true}) {
    ReplayOptions opts;
    opts.defer_checksum = defer;
    Replayer rp(specs, opts);
    const auto replay = [&] {
      for (std::size_t i = 0; i < lines.size(); ++i) (void)rp.feed_line(views[i], lines[i].size());
    };
    replay();  // warm-up: the books reach the data's size
    rp.reset();
    const hftx::testing::AllocScope scope;
    replay();
    const hftx::testing::AllocStats d = scope.delta();
    EXPECT_EQ(d.allocations, 0u) << (defer ? "deferred checksum" : "checksum at once");
    const ReplayResult r = result_of(rp);
    EXPECT_EQ(r.sync.checksums_checked, 3679u);
    EXPECT_EQ(r.sync.checksum_mismatches, 0u);
    EXPECT_EQ(r.stats.parse_errors, 0u);
    EXPECT_EQ(r.stats.trades, 19u);
  }
}

TEST(OkxAlloc, StreamHelpersAndTradesDoNotAllocate) {
  MdParser parser(Scale::from_step("0.1"), Scale::from_step("1"));
  std::vector<md::Level> levels(64);
  md::MdMessage m;
  const std::string trades = R"({"arg":{"channel":"trades","instId":"X"},"data":[)"
                             R"({"tradeId":"1","px":"1","sz":"2","side":"buy","ts":"10"},)"
                             R"({"tradeId":"2","px":"1.5","sz":"3","side":"sell","ts":"11"}]})";
  const std::string event = R"({"event":"error","code":"60012","msg":"Invalid request"})";
  char buf[256];
  const ChannelArg args[] = {{"books-l2-tbt", "BTC-USDT"}, {"trades", "BTC-USDT"}};
  std::uint64_t n = 0;
  const hftx::testing::AllocScope scope;
  for (int i = 0; i < 1000; ++i) {
    n += parser.parse_unpadded(trades, 0, m, levels).ok();
    while (parser.next_trade(m)) ++n;
    n += classify(trades).type == MessageType::trade;
    n += classify(event).event == EventType::error;
    n += encode_subscribe(args, buf) != 0;
    n += encode_resubscribe(BookChannel::books_l2_tbt, "BTC-USDT", buf) != 0;
    n += parser.parse_unpadded(event, 0, m, levels).status == md::ParseStatus::unknown_event;  // via simdjson
  }
  EXPECT_EQ(scope.delta().allocations, 0u);
  EXPECT_EQ(n, 7000u);
}

}  // namespace
