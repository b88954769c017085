// Replays of the recorded Binance files (../shared/data/binance): the facts in the data README, computed
// by replaying and cross-checked against a plain std::map model, plus damaged streams (a dropped line, a
// duplicated line, two lines swapped).
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "hftx/venue/binance/book_sync.hpp"
#include "hftx/venue/binance/replay.hpp"
#include "hftx/venue/binance/md_parser.hpp"
#include "hftx/core/error.hpp"
#include "test_support.hpp"

namespace {

using namespace hftx;
using namespace hftx::book;
using namespace hftx::venue::binance;

std::string data_file(const std::string& name) { return test::data_dir() + "/binance/" + name; }

bool have_data() { return std::filesystem::exists(data_file("spot_btcusdt_20240808.gz")); }

#define REQUIRE_DATA()                                                      \
  do {                                                                      \
    if (!have_data()) GTEST_SKIP() << "no recorded data in " << test::data_dir(); \
  } while (0)

void expect_clean(const ReplayResult& r, Market market) {
  const ReplayStats& s = r.stats;
  EXPECT_EQ(r.market, market);
  EXPECT_EQ(s.parse_errors, 0u) << s.first_parse_error;
  EXPECT_EQ(s.bad_lines, 0u);
  EXPECT_EQ(s.messages, s.lines);
  EXPECT_EQ(r.sync.gaps, 0u) << "continuity breaks";
  EXPECT_EQ(r.sync.duplicates, 0u);
  EXPECT_GT(s.tickers_checked, 100u);
  EXPECT_EQ(s.ticker_mismatches, 0u) << (s.first_mismatch ? s.first_mismatch->update_id : 0);
  EXPECT_EQ(s.crossed_seen, 0u);
  EXPECT_EQ(r.sync.crossed, 0u);
  EXPECT_FALSE(r.crossed_at_end);
  EXPECT_GT(s.trades, 1000u);
  EXPECT_EQ(s.trade_id_gaps, 0u);
  EXPECT_EQ(s.trade_id_backwards, 0u);
  EXPECT_EQ(r.final_state, SyncState::synced);
  EXPECT_EQ(s.snapshots, 1u);
  EXPECT_EQ(r.sync.snapshots, 1u);
  EXPECT_EQ(r.sync.applied + r.sync.dropped_old, s.depth_updates);
}

// An independent model: std::map books; the snapshot first, then every diff past lastUpdateId in file
// order, wherever it sits relative to the snapshot line (the buffered ones included). No sync machinery,
// no gap handling: valid for these files, which have no gaps.
struct MapModel {
  std::map<std::int64_t, std::int64_t> bids, asks;
  std::int64_t min_bid_seen = INT64_MAX;  // lowest bid price ever present
  void run(const std::vector<std::string>& lines, const Scale& ps, const Scale& qs, bool futures) {
    venue::binance::MdParser p(ps, qs);
    std::vector<md::Level> lv(1u << 16);
    md::MdMessage m;
    std::uint64_t luid = 0;
    const auto parse = [&](const std::string& line) {
      const std::string_view json = std::string_view(line).substr(line.find(' ') + 1);
      return p.parse_unpadded(json, 0, m, lv).ok();
    };
    for (const std::string& line : lines) {
      ASSERT_TRUE(parse(line));
      if (m.kind == md::MdKind::depth_snapshot) {
        luid = m.snapshot.last_update_id;
        for (const auto& l : m.snapshot.bids) bids[l.price.raw()] = l.qty.raw();
        for (const auto& l : m.snapshot.asks) asks[l.price.raw()] = l.qty.raw();
        break;
      }
    }
    ASSERT_NE(luid, 0u);
    const auto set = [](std::map<std::int64_t, std::int64_t>& side, const md::Level& l) {
      if (l.qty.raw() == 0)
        side.erase(l.price.raw());
      else
        side[l.price.raw()] = l.qty.raw();
    };
    if (!bids.empty()) min_bid_seen = bids.begin()->first;
    for (const std::string& line : lines) {
      ASSERT_TRUE(parse(line));
      if (m.kind != md::MdKind::depth_update) continue;
      if (futures ? m.depth.last_id < luid : m.depth.last_id <= luid) continue;
      for (const auto& l : m.depth.bids) {
        set(bids, l);
        if (l.qty.raw() != 0) min_bid_seen = std::min(min_bid_seen, l.price.raw());
      }
      for (const auto& l : m.depth.asks) set(asks, l);
    }
  }
};

std::vector<std::string> lines_of(std::initializer_list<const char*> names) {
  std::vector<std::string> all;
  for (const char* n : names) {
    auto v = md::read_recorded_lines(data_file(n));
    all.insert(all.end(), std::make_move_iterator(v.begin()), std::make_move_iterator(v.end()));
  }
  return all;
}

TEST(Replay, SpotBtcusdtTwoFilesContinueOneBook) {
  REQUIRE_DATA();
  const std::vector<std::string> files{data_file("spot_btcusdt_20240808.gz"), data_file("spot_btcusdt_20240809.gz")};
  const ReplayResult r = replay_files(files);
  expect_clean(r, Market::spot);
  EXPECT_EQ(r.price_step, "0.01");
  EXPECT_EQ(r.qty_step, "0.00000001");  // the written decimals: some quantities are finer than the lot
  // The data README: "spot BTCUSDT ends with 1,971 bids and 2,962 asks" (after 0808 + 0809).
  EXPECT_EQ(r.bid_levels, 1971u);
  EXPECT_EQ(r.ask_levels, 2962u);
  // Levels outside the 1000-level snapshot appeared, and far-away bids (below 5,000 USDT) exist.
  EXPECT_GT(r.bid_levels, 1000u);
  // Cross-check against the std::map model over the same lines, level by level.
  const auto lines = lines_of({"spot_btcusdt_20240808.gz", "spot_btcusdt_20240809.gz"});
  MapModel model;
  model.run(lines, Scale::from_step(r.price_step), Scale::from_step(r.qty_step), false);
  EXPECT_EQ(model.bids.size(), r.bid_levels);
  EXPECT_EQ(model.asks.size(), r.ask_levels);
  // Far-away bids arrived during the replay (the lowest is at 15,432.50 USDT, a quarter of the mid).
  EXPECT_LT(model.min_bid_seen, r.best_bid.price.raw() / 3);
  EXPECT_EQ(model.bids.rbegin()->first, r.best_bid.price.raw());
  EXPECT_EQ(model.bids.rbegin()->second, r.best_bid.qty.raw());
  EXPECT_EQ(model.asks.begin()->first, r.best_ask.price.raw());
  // And the full books are equal: replay the same lines through a Replayer and compare every level.
  ReplayOptions o;
  o.price_step = r.price_step;
  o.qty_step = r.qty_step;
  Replayer rp(Scale::from_step(r.price_step), Scale::from_step(r.qty_step), o);
  std::string buf;
  for (const std::string& l : lines) {
    buf.assign(l);
    buf.resize(l.size() + md::kJsonPadding);
    (void)rp.feed_line(std::string_view(buf.data(), l.size()), buf.size());
  }
  ASSERT_EQ(rp.book().bid_count(), model.bids.size());
  std::size_t i = 0;
  for (auto it = model.bids.rbegin(); it != model.bids.rend(); ++it, ++i) {
    ASSERT_EQ(rp.book().bid(i).price.raw(), it->first);
    ASSERT_EQ(rp.book().bid(i).qty.raw(), it->second);
  }
  i = 0;
  for (auto it = model.asks.begin(); it != model.asks.end(); ++it, ++i) {
    ASSERT_EQ(rp.book().ask(i).price.raw(), it->first);
    ASSERT_EQ(rp.book().ask(i).qty.raw(), it->second);
  }
}

TEST(Replay, SpotEthusdt) {
  REQUIRE_DATA();
  const std::vector<std::string> files{data_file("spot_ethusdt_20240808.gz")};
  const ReplayResult r = replay_files(files);
  expect_clean(r, Market::spot);
  const auto lines = lines_of({"spot_ethusdt_20240808.gz"});
  MapModel model;
  model.run(lines, Scale::from_step(r.price_step), Scale::from_step(r.qty_step), false);
  EXPECT_EQ(model.bids.size(), r.bid_levels);
  EXPECT_EQ(model.asks.size(), r.ask_levels);
}

// books_only: the lines of other streams are skipped unparsed, and the book is the same as the full replay's.
TEST(Replay, BooksOnlySkipsOtherStreamsAndBuildsTheSameBook) {
  REQUIRE_DATA();
  const std::vector<std::string> files{data_file("spot_btcusdt_20240808.gz")};
  const ReplayResult full = replay_files(files);
  ReplayOptions o;
  o.books_only = true;
  const ReplayResult books = replay_files(files, o);
  EXPECT_EQ(books.stats.skipped_lines, full.stats.book_tickers + full.stats.trades + full.stats.agg_trades);
  EXPECT_GT(books.stats.skipped_lines, 10'000u);
  EXPECT_EQ(books.stats.book_tickers + books.stats.trades + books.stats.tickers_checked, 0u);
  EXPECT_EQ(books.stats.depth_updates, full.stats.depth_updates);
  EXPECT_EQ(books.stats.snapshots, full.stats.snapshots);
  EXPECT_EQ(books.stats.parse_errors, 0u);
  EXPECT_EQ(books.sync.applied, full.sync.applied);
  EXPECT_EQ(books.sync.gaps, 0u);
  EXPECT_EQ(books.bid_levels, full.bid_levels);
  EXPECT_EQ(books.ask_levels, full.ask_levels);
  EXPECT_EQ(books.best_bid.price, full.best_bid.price);
  EXPECT_EQ(books.best_bid.qty, full.best_bid.qty);
  EXPECT_EQ(books.best_ask.price, full.best_ask.price);
  EXPECT_EQ(books.best_ask.qty, full.best_ask.qty);
}

TEST(Replay, UsdmBtcusdtIsRecognisedAsFutures) {
  REQUIRE_DATA();
  const std::vector<std::string> files{data_file("usdm_btcusdt_20240808.gz")};
  const ReplayResult r = replay_files(files);
  expect_clean(r, Market::usdm);
  EXPECT_EQ(r.price_step, "0.1");
  EXPECT_EQ(r.qty_step, "0.001");
  const auto lines = lines_of({"usdm_btcusdt_20240808.gz"});
  MapModel model;
  model.run(lines, Scale::from_step(r.price_step), Scale::from_step(r.qty_step), true);
  EXPECT_EQ(model.bids.size(), r.bid_levels);
  EXPECT_EQ(model.asks.size(), r.ask_levels);
  // The far-away levels of the data README: bids below 1,000 USDT (0.1 ticks) arrive in a ~60,000 book.
  EXPECT_LT(model.min_bid_seen, 10000);
  // Forcing the spot rules on futures data breaks continuity (pu, not U == prev + 1, links futures diffs).
  ReplayOptions spot;
  spot.market = Market::spot;
  EXPECT_GT(replay_files(files, spot).sync.gaps, 0u);
}

// In spot ETHUSDT a buffered diff ends exactly at u == lastUpdateId: it must be dropped, and the next one
// (which contains lastUpdateId + 1) bridges the snapshot.
TEST(Replay, EthusdtBoundaryDiffEndingAtLastUpdateIdIsDropped) {
  REQUIRE_DATA();
  const auto lines = lines_of({"spot_ethusdt_20240808.gz"});
  const Scale ps = Scale::from_step("0.01"), qs = Scale::from_step("0.0001");
  // Find, by parsing, the snapshot and the buffered diffs before it.
  venue::binance::MdParser p(ps, qs);
  std::vector<md::Level> lv(1u << 16);
  md::MdMessage m;
  std::size_t snap_line = 0;
  std::uint64_t luid = 0;
  std::vector<std::pair<std::uint64_t, std::uint64_t>> buffered;  // (U, u)
  for (std::size_t i = 0; i < lines.size(); ++i) {
    ASSERT_TRUE(p.parse_unpadded(std::string_view(lines[i]).substr(lines[i].find(' ') + 1), 0, m, lv).ok());
    if (m.kind == md::MdKind::depth_update) buffered.emplace_back(m.depth.first_id, m.depth.last_id);
    if (m.kind == md::MdKind::depth_snapshot) {
      snap_line = i;
      luid = m.snapshot.last_update_id;
      break;
    }
  }
  ASSERT_GT(luid, 0u);
  std::size_t at_boundary = 0;
  for (auto [U, u] : buffered) at_boundary += u == luid;
  ASSERT_EQ(at_boundary, 1u) << "the data README's boundary case";

  ReplayOptions o;
  o.price_step = "0.01";
  o.qty_step = "0.0001";
  Replayer rp(ps, qs, o);
  std::string buf;
  const auto feed = [&](const std::string& l) {
    buf.assign(l);
    buf.resize(l.size() + md::kJsonPadding);
    return rp.feed_line(std::string_view(buf.data(), l.size()), buf.size());
  };
  for (std::size_t i = 0; i <= snap_line; ++i) ASSERT_TRUE(feed(lines[i]).ok());
  // Every buffered diff had u <= lastUpdateId (the boundary one included): all dropped, none applied.
  EXPECT_EQ(rp.sync().stats().dropped_old, buffered.size());
  EXPECT_EQ(rp.sync().stats().applied, 0u);
  EXPECT_EQ(rp.sync().state(), SyncState::awaiting_first_diff);
  // The next diff bridges: U <= lastUpdateId + 1 <= u.
  std::size_t i = snap_line + 1;
  for (; i < lines.size() && rp.sync().state() != SyncState::synced; ++i) ASSERT_TRUE(feed(lines[i]).ok());
  ASSERT_EQ(rp.sync().state(), SyncState::synced);
  EXPECT_EQ(rp.last_message().depth.first_id, luid + 1);
  EXPECT_EQ(rp.sync().stats().gaps, 0u);
}

// ---- damaged streams ---------------------------------------------------------------------------------

ReplayResult replay_vec(const std::vector<std::string>& lines) {
  std::vector<std::string_view> v(lines.begin(), lines.end());
  return replay_lines(v);
}

std::vector<std::size_t> diff_lines_after_snapshot(const std::vector<std::string>& lines) {
  std::vector<std::size_t> out;
  bool after = false;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    if (lines[i].find("\"lastUpdateId\"") != std::string::npos) after = true;
    else if (after && lines[i].find("\"depthUpdate\"") != std::string::npos) out.push_back(i);
  }
  return out;
}

TEST(Replay, DroppedDiffLineIsAGapAndRequestsAResync) {
  REQUIRE_DATA();
  auto lines = lines_of({"spot_ethusdt_20240808.gz"});
  const auto diffs = diff_lines_after_snapshot(lines);
  ASSERT_GT(diffs.size(), 200u);
  lines.erase(lines.begin() + static_cast<std::ptrdiff_t>(diffs[100]));
  const ReplayResult r = replay_vec(lines);
  EXPECT_EQ(r.sync.gaps, 1u);
  EXPECT_GE(r.sync.snapshot_requests, 1u);
  EXPECT_EQ(r.final_state, SyncState::awaiting_snapshot);  // no second snapshot in the file
  EXPECT_EQ(r.sync.applied, 100u);  // diffs[0] (the bridging one) .. diffs[99]; diffs[100] was dropped
  EXPECT_GT(r.sync.buffered, 0u);        // everything after the gap waits for a snapshot
  EXPECT_EQ(r.stats.ticker_mismatches, 0u);
}

TEST(Replay, DuplicateLineIsDroppedNotAGap) {
  REQUIRE_DATA();
  auto lines = lines_of({"spot_ethusdt_20240808.gz"});
  const auto diffs = diff_lines_after_snapshot(lines);
  lines.insert(lines.begin() + static_cast<std::ptrdiff_t>(diffs[50] + 1), lines[diffs[50]]);
  const ReplayResult r = replay_vec(lines);
  EXPECT_EQ(r.sync.duplicates, 1u);
  EXPECT_EQ(r.sync.gaps, 0u);
  EXPECT_EQ(r.stats.ticker_mismatches, 0u);
  EXPECT_EQ(r.final_state, SyncState::synced);
}

TEST(Replay, SwappedLinesAreAGap) {
  REQUIRE_DATA();
  auto lines = lines_of({"spot_ethusdt_20240808.gz"});
  const auto diffs = diff_lines_after_snapshot(lines);
  std::swap(lines[diffs[60]], lines[diffs[61]]);
  const ReplayResult r = replay_vec(lines);
  EXPECT_EQ(r.sync.gaps, 1u);  // the later diff arrives first: U != prev_u + 1
  EXPECT_GE(r.sync.snapshot_requests, 1u);
}

TEST(Replay, ReplayLinesEqualsReplayFiles) {
  REQUIRE_DATA();
  const auto lines = lines_of({"spot_ethusdt_20240808.gz"});
  const ReplayResult a = replay_vec(lines);
  const std::vector<std::string> files{data_file("spot_ethusdt_20240808.gz")};
  const ReplayResult b = replay_files(files);
  EXPECT_EQ(a.bid_levels, b.bid_levels);
  EXPECT_EQ(a.ask_levels, b.ask_levels);
  EXPECT_EQ(a.best_bid, b.best_bid);
  EXPECT_EQ(a.sync.level_updates, b.sync.level_updates);
}

// The receive-time prefix: 19 digits (the recorded lines) are read 8 + 8 + 3 at a time, anything else byte by
// byte; both must give the same time and refuse the same lines.
TEST(Replay, LinePrefixIsTheReceiveTimeOrABadLine) {
  const std::string msg =
      R"({"stream":"btcusdt@trade","data":{"e":"trade","E":1,"s":"BTCUSDT","t":5,"p":"60000.00","q":"0.00100000","T":1,"m":true,"M":true}})";
  struct Case {
    std::string prefix;
    std::int64_t ns;  // -1: a bad line
  };
  const std::vector<Case> cases = {
      {"1723075200123456789 ", 1723075200123456789}, {"0000000000000000001 ", 1},
      {"9223372036854775807 ", INT64_MAX},           {"1 ", 1},
      {"123456789012345678 ", 123456789012345678},   {"1723075200123456789  ", 1723075200123456789},
      {"17230752001234567890 ", -1},                 {"1723075200123456789", -1},
      {"172307520012345678x ", -1},                  {"17230752/0123456789 ", -1},
      {"1723075200:23456789 ", -1},                  {"1723075200123456:89 ", -1},
      {"\xb1" "723075200123456789 ", -1},               {" 1723075200123456789 ", -1},
      {"9223372036854775808 ", -1},                  {"9999999999999999999 ", -1},
      {"", -1},
  };
  for (const Case& c : cases) {
    Replayer rp(Scale::from_step("0.01"), Scale::from_step("0.00000001"));
    const std::string line = c.prefix + msg;
    std::string buf = line;
    buf.resize(line.size() + md::kJsonPadding);
    const md::ParseResult r = rp.feed_line(std::string_view(buf.data(), line.size()), buf.size());
    if (c.ns < 0) {
      EXPECT_FALSE(r.ok()) << c.prefix;
      EXPECT_EQ(rp.stats().bad_lines, 1u) << c.prefix;
    } else {
      EXPECT_TRUE(r.ok()) << c.prefix << r.describe();
      EXPECT_EQ(rp.last_message().recv_ns, c.ns) << c.prefix;
    }
  }
}

// Top first, as a session reads a diff: the head parsed (parse_deferred()), the top predicted from the best
// levels (BookSync::predict_top(): USD-M bids read from the end, as diff_bid_order() says), then every
// level read and applied. On every recorded diff that continues the book, the prediction is made and is the
// top that applying the diff leaves. (Reading USD-M bids from the front instead fails here: that is how the
// order was found.)
TEST(Replay, TopFirstPredictsTheAppliedTopOfEveryRecordedDiff) {
  REQUIRE_DATA();
  struct File {
    std::initializer_list<const char*> names;
    const char* price_step;
    const char* qty_step;
    Market market;
  };
  for (const File& f : {File{{"spot_btcusdt_20240808.gz", "spot_btcusdt_20240809.gz"}, "0.01", "0.00000001", Market::spot},
                        File{{"spot_ethusdt_20240808.gz"}, "0.01", "0.00000001", Market::spot},
                        File{{"usdm_btcusdt_20240808.gz"}, "0.1", "0.001", Market::usdm}}) {
    SCOPED_TRACE(*f.names.begin());
    venue::binance::MdParser parser(Scale::from_step(f.price_step), Scale::from_step(f.qty_step));
    std::vector<md::Level> levels(1u << 16);
    md::MdMessage msg;
    BasicL2Book<0> book;
    BasicBookSync<BasicL2Book<0>> sync(book, f.market);
    std::uint64_t continued = 0, predicted = 0;
    for (const std::string& line : lines_of(f.names)) {
      std::string json = line.substr(line.find(' ') + 1);
      const std::size_t size = json.size();
      json.resize(size + md::kJsonPadding, '\0');
      ASSERT_TRUE(parser.parse_deferred(std::string_view(json.data(), size), json.size(), 0, msg, levels).ok());
      if (msg.kind == md::MdKind::depth_snapshot) sync.on_snapshot(msg);
      if (msg.kind != md::MdKind::depth_update) continue;
      ASSERT_TRUE(parser.deferred());
      TopOfBook top;
      const bool known = sync.predict_top(parser, msg.depth, top);
      continued += sync.continues(msg.depth);
      predicted += known;
      ASSERT_TRUE(parser.read_deferred(msg).ok());
      const DiffOutcome out = sync.on_diff(msg);
      if (!known) continue;
      ASSERT_EQ(out, DiffOutcome::applied);
      ASSERT_EQ(book.best_bid().price.raw(), top.bid_price) << msg.depth.last_id;
      ASSERT_EQ(book.best_bid().qty.raw(), top.bid_qty) << msg.depth.last_id;
      ASSERT_EQ(book.best_ask().price.raw(), top.ask_price) << msg.depth.last_id;
      ASSERT_EQ(book.best_ask().qty.raw(), top.ask_qty) << msg.depth.last_id;
    }
    EXPECT_GT(continued, 1000u);
    EXPECT_EQ(predicted, continued);  // no recorded diff is out of order or leaves the book crossed
  }
}

TEST(Replay, MissingFileThrows) {
  const std::vector<std::string> files{"/nonexistent/x.gz"};
  EXPECT_THROW((void)replay_files(files), SystemError);
}

}  // namespace
