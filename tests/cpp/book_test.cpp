// L2 book (vs a std::map reference), crossed-book policies, lock-free top publication, and the Binance
// sync state machine (synthetic streams for each rule).
#include <gtest/gtest.h>

#include <atomic>
#include <algorithm>
#include <functional>
#include <map>
#include <random>
#include <thread>
#include <vector>

#include "hftx/venue/binance/book_sync.hpp"
#include "hftx/book/l2_book.hpp"
#include "test_support.hpp"

namespace {

using namespace hftx;
using namespace hftx::book;
using namespace hftx::venue::binance;
using hftx::md::Level;

Level lv(std::int64_t p, std::int64_t q) { return Level{Price(p), Qty(q)}; }

// Reference: two ordered maps.
struct RefBook {
  std::map<std::int64_t, std::int64_t, std::greater<>> bids;
  std::map<std::int64_t, std::int64_t> asks;
  // Returns what the book reports: +1 inserted, -1 removed, -2 absent removal, 0 changed.
  int set(bool bid, std::int64_t p, std::int64_t q) {
    const bool had = bid ? bids.count(p) != 0 : asks.count(p) != 0;
    if (bid) {
      if (q == 0) bids.erase(p); else bids[p] = q;
    } else {
      if (q == 0) asks.erase(p); else asks[p] = q;
    }
    return q != 0 ? (had ? 0 : 1) : (had ? -1 : -2);
  }
};

void expect_same(const L2Book& b, const RefBook& r) {
  ASSERT_EQ(b.bid_count(), r.bids.size());
  ASSERT_EQ(b.ask_count(), r.asks.size());
  std::size_t i = 0;
  for (auto [p, q] : r.bids) {
    ASSERT_EQ(b.bid(i).price.raw(), p) << i;
    ASSERT_EQ(b.bid(i).qty.raw(), q) << i;
    ++i;
  }
  i = 0;
  for (auto [p, q] : r.asks) {
    ASSERT_EQ(b.ask(i).price.raw(), p) << i;
    ASSERT_EQ(b.ask(i).qty.raw(), q) << i;
    ++i;
  }
}

class L2BookRandom : public ::testing::TestWithParam<unsigned> {};

// Window sizes from tiny (constant recentring, most levels far) to the default.
INSTANTIATE_TEST_SUITE_P(Windows, L2BookRandom, ::testing::Values(6u, 8u, 10u, 16u));

TEST_P(L2BookRandom, RandomUpdatesMatchStdMap) {
  std::mt19937_64 rng(1234 + GetParam());
  L2Book book(64, CrossedPolicy::keep_and_flag, GetParam());  // small reserve: growth is exercised too
  RefBook ref;
  const std::uint64_t rounds = test::scaled(4000);
  std::uint64_t predictions = 0;
  for (std::uint64_t round = 0; round < rounds; ++round) {
    std::vector<Level> bids, asks;
    const int n = 1 + static_cast<int>(rng() % 20);
    for (int k = 0; k < n; ++k) {
      // Mostly near the mid (bids below 10000, asks above), sometimes far away (price 100 or 900000).
      const bool bid = rng() & 1;
      const bool far = rng() % 50 == 0;
      // The mid wanders so that windows move both ways.
      const std::int64_t drift = static_cast<std::int64_t>(round / 500) * 97 % 2000;
      std::int64_t p = bid ? 10000 + drift - static_cast<std::int64_t>(rng() % 300)
                           : 10001 + drift + static_cast<std::int64_t>(rng() % 300);
      if (far) p = bid ? 100 + static_cast<std::int64_t>(rng() % 5) : 900000 + static_cast<std::int64_t>(rng() % 5);
      const std::int64_t q = rng() % 3 == 0 ? 0 : 1 + static_cast<std::int64_t>(rng() % 1000);
      (bid ? bids : asks).push_back(lv(p, q));
    }
    // Best first, as Binance sends a diff (a stable sort: a price given twice keeps its last quantity).
    std::ranges::stable_sort(bids, std::greater<>{}, [](const Level& l) { return l.price; });
    std::ranges::stable_sort(asks, std::less<>{}, [](const Level& l) { return l.price; });
    // predict_top() gives the top the diff leaves, unless a price comes twice (levels out of order) or
    // the book ends crossed, and then only if it reads that far.
    TopOfBook predicted;
    std::size_t bi = 0, ai = 0;
    const bool known = book.predict_top([&](Level& l) { return bi < bids.size() && (l = bids[bi++], true); },
                                        [&](Level& l) { return ai < asks.size() && (l = asks[ai++], true); }, predicted);
    predictions += known;
    const ApplyResult r = book.apply(bids, asks, round + 1);
    if (known) {
      ASSERT_FALSE(r.crossed) << round;
      ASSERT_EQ(book.best_bid().price.raw(), predicted.bid_price) << round;
      ASSERT_EQ(book.best_bid().qty.raw(), predicted.bid_qty) << round;
      ASSERT_EQ(book.best_ask().price.raw(), predicted.ask_price) << round;
      ASSERT_EQ(book.best_ask().qty.raw(), predicted.ask_qty) << round;
    }
    EXPECT_EQ(r.updates, static_cast<std::uint32_t>(n));
    ApplyResult want;
    for (const auto& [side, bid] : {std::pair{&bids, true}, std::pair{&asks, false}})
      for (const Level& l : *side) {
        const int o = ref.set(bid, l.price.raw(), l.qty.raw());
        want.inserted += o == 1;
        want.removed += o == -1;
        want.removed_absent += o == -2;
      }
    ASSERT_EQ(r.inserted, want.inserted) << round;
    ASSERT_EQ(r.removed, want.removed) << round;
    ASSERT_EQ(r.removed_absent, want.removed_absent) << round;
    // The drifting mid leaves stale levels crossing: detected exactly when the reference is crossed.
    ASSERT_EQ(r.crossed, !ref.bids.empty() && !ref.asks.empty() && ref.bids.begin()->first >= ref.asks.begin()->first);
    if (round % 97 == 0 || round + 1 == rounds) expect_same(book, ref);
    if (!ref.bids.empty()) {
      ASSERT_EQ(book.best_bid().price.raw(), ref.bids.begin()->first);
      ASSERT_EQ(book.best_bid().qty.raw(), ref.bids.begin()->second);
    }
    if (!ref.asks.empty()) {
      ASSERT_EQ(book.best_ask().price.raw(), ref.asks.begin()->first);
    }
    // qty_at agrees for a random probe
    const std::int64_t probe = 10000 - static_cast<std::int64_t>(rng() % 300) + static_cast<std::int64_t>(round / 500) * 97 % 2000;
    const auto it = ref.bids.find(probe);
    ASSERT_EQ(book.qty_at(Side::bid, Price(probe)).raw(), it == ref.bids.end() ? 0 : it->second);
  }
  EXPECT_GT(predictions, rounds / 10);  // the drifting mid leaves stale levels crossing most of the time
  std::vector<Level> out(5);
  const std::size_t got = book.depth(Side::ask, out);
  ASSERT_EQ(got, std::min<std::size_t>(5, ref.asks.size()));
  auto it = ref.asks.begin();
  for (std::size_t i = 0; i < got; ++i, ++it) EXPECT_EQ(out[i].price.raw(), it->first);
}

// predict_top() walks down from the best: a removed best hands over to the next level, in the window or
// below it; a level out of order among those it reads, or a crossed result, is a "cannot tell".
TEST(L2Book, PredictTopWalksDownFromTheBest) {
  L2Book book(64, CrossedPolicy::keep_and_flag, 6);  // 64-tick window: 1000 is a far level below 1100
  book.load_snapshot(std::vector<Level>{lv(1100, 5), lv(1099, 6), lv(1000, 7)}, std::vector<Level>{lv(1200, 8)}, 1);
  const auto predict = [&](std::vector<Level> bids, std::vector<Level> asks, TopOfBook& t) {
    std::size_t bi = 0, ai = 0;
    return book.predict_top([&](Level& l) { return bi < bids.size() && (l = bids[bi++], true); },
                            [&](Level& l) { return ai < asks.size() && (l = asks[ai++], true); }, t);
  };
  TopOfBook t;
  ASSERT_TRUE(predict({lv(1105, 0), lv(1100, 0), lv(1099, 0), lv(1050, 3)}, {}, t));  // down past two removals
  EXPECT_EQ(t.bid_price, 1050);
  EXPECT_EQ(t.bid_qty, 3);
  EXPECT_EQ(t.ask_price, 1200);
  ASSERT_TRUE(predict({lv(1100, 0), lv(1099, 0)}, {}, t));  // to the far level
  EXPECT_EQ(t.bid_price, 1000);
  EXPECT_EQ(t.bid_qty, 7);
  ASSERT_TRUE(predict({lv(1100, 0), lv(1099, 0), lv(1000, 0)}, {lv(1200, 0)}, t));  // both sides emptied
  EXPECT_EQ(t.bid_qty, 0);
  EXPECT_EQ(t.bid_price, 0);
  EXPECT_EQ(t.ask_qty, 0);
  ASSERT_TRUE(predict({lv(1099, 9), lv(1200, 1)}, {}, t));  // settled at the first level: the rest is not read
  EXPECT_EQ(t.bid_price, 1100);
  EXPECT_FALSE(predict({lv(1100, 0), lv(1101, 1)}, {}, t));  // out of order among the levels read
  EXPECT_FALSE(predict({lv(1100, 0), lv(1100, 1)}, {}, t));  // a price twice
  EXPECT_FALSE(predict({lv(1250, 1)}, {}, t));               // crossed
  EXPECT_EQ(book.best_bid().price.raw(), 1100);               // the book is not changed
  EXPECT_EQ(book.bid_count(), 3u);
  // A prediction published ahead of the apply: readers see it, as a new publication.
  ASSERT_TRUE(predict({lv(1100, 0)}, {lv(1150, 2)}, t));
  t.update_id = 2;
  const std::uint32_t seq = book.top().sequence;
  book.publish_top(t);
  const TopOfBook seen = book.top();
  EXPECT_EQ(seen.bid_price, 1099);
  EXPECT_EQ(seen.ask_price, 1150);
  EXPECT_EQ(seen.ask_qty, 2);
  EXPECT_EQ(seen.update_id, 2u);
  EXPECT_NE(seen.sequence, seq);
}

TEST(L2Book, SnapshotReplacesAndAbsentRemovalIsCounted) {
  L2Book book;
  const std::vector<Level> bids{lv(99, 1), lv(100, 2), lv(98, 3)}, asks{lv(101, 4), lv(103, 5)};
  book.load_snapshot(bids, asks, 7);
  EXPECT_EQ(book.update_id(), 7u);
  EXPECT_EQ(book.best_bid(), lv(100, 2));
  EXPECT_EQ(book.best_ask(), lv(101, 4));
  const std::vector<Level> rm{lv(50, 0), lv(100, 0)};
  const ApplyResult r = book.apply(rm, {}, 8);
  EXPECT_EQ(r.removed_absent, 1u);
  EXPECT_EQ(r.removed, 1u);
  EXPECT_EQ(book.best_bid(), lv(99, 1));
  book.load_snapshot(std::vector<Level>{lv(10, 1)}, {}, 9);
  EXPECT_EQ(book.bid_count(), 1u);
  EXPECT_EQ(book.ask_count(), 0u);
  EXPECT_FALSE(book.has_ask());
}

TEST(L2Book, CrossedKeepAndFlag) {
  L2Book book(16, CrossedPolicy::keep_and_flag);
  book.load_snapshot(std::vector<Level>{lv(100, 1)}, std::vector<Level>{lv(101, 1), lv(102, 1)}, 1);
  const ApplyResult r = book.apply(std::vector<Level>{lv(101, 5)}, {}, 2);
  EXPECT_TRUE(r.crossed);
  EXPECT_EQ(r.dropped_stale, 0u);
  EXPECT_TRUE(book.is_crossed());
  EXPECT_EQ(book.crossed_count(), 1u);
  book.publish(0);
  EXPECT_NE(book.top().flags & kTopCrossed, 0u);
}

TEST(L2Book, CrossedDropStaleRemovesTheOppositeLevels) {
  L2Book book(16, CrossedPolicy::drop_stale);
  book.load_snapshot(std::vector<Level>{lv(100, 1), lv(99, 1)}, std::vector<Level>{lv(101, 1), lv(102, 1), lv(104, 1)}, 1);
  // A new bid at 102 says the asks at 101 and 102 are gone.
  ApplyResult r = book.apply(std::vector<Level>{lv(102, 5)}, {}, 2);
  EXPECT_TRUE(r.crossed);
  EXPECT_EQ(r.dropped_stale, 2u);
  EXPECT_FALSE(book.is_crossed());
  EXPECT_EQ(book.best_ask(), lv(104, 1));
  // A new ask at 99 removes the bids at 102, 100 and 99.
  r = book.apply({}, std::vector<Level>{lv(99, 2)}, 3);
  EXPECT_EQ(r.dropped_stale, 3u);
  EXPECT_FALSE(book.has_bid());
  EXPECT_EQ(book.best_ask(), lv(99, 2));
  book.publish(0);
  EXPECT_EQ(book.top().flags & kTopCrossed, 0u);
}

// Readers on another thread never see a torn top or a half-applied message. The writer keeps the invariant
// bid_qty == ask_qty == update_id in every published message (both sides change in one apply()).
TEST(L2Book, LockFreeTopReadsAreConsistent) {
  L2Book book(64);
  std::atomic<bool> done{false};
  std::atomic<std::uint64_t> reads{0}, bad{0};
  std::atomic<bool> started{false};
  std::thread reader([&] {
    std::uint64_t last = 0;
    started.store(true, std::memory_order_release);
    do {
      const TopOfBook t = book.top();
      const auto d = book.top_levels();
      if (t.update_id != 0 &&
          (t.bid_qty != static_cast<std::int64_t>(t.update_id) || t.ask_qty != static_cast<std::int64_t>(t.update_id)))
        bad.fetch_add(1);
      if (t.update_id < last) bad.fetch_add(1);  // never goes back
      last = t.update_id;
      if (d.update_id != 0) {
        for (std::uint32_t i = 0; i < d.bid_count; ++i)
          if (d.bids[i].qty.raw() != static_cast<std::int64_t>(d.update_id)) bad.fetch_add(1);
      }
      reads.fetch_add(1, std::memory_order_relaxed);
    } while (!done.load(std::memory_order_acquire));
  });
  // The reader must overlap the writes (a slow thread start would otherwise let the writer finish first).
  while (!started.load(std::memory_order_acquire)) std::this_thread::yield();
  const std::uint64_t n = test::scaled(200000);
  for (std::uint64_t u = 1; u <= n; ++u) {
    const auto q = static_cast<std::int64_t>(u);
    std::vector<Level> bids{lv(100, q), lv(99, q), lv(98, q)}, asks{lv(101, q)};
    (void)book.apply(bids, asks, u);
    book.publish(static_cast<std::int64_t>(u), kTopSynced);
  }
  done.store(true, std::memory_order_release);
  reader.join();
  EXPECT_EQ(bad.load(), 0u);
  EXPECT_GT(reads.load(), 0u);
  const TopOfBook t = book.top();
  EXPECT_EQ(t.update_id, n);
  EXPECT_EQ(t.bid_price, 100);
  EXPECT_EQ(t.ask_price, 101);
  EXPECT_NE(t.flags & kTopSynced, 0u);
  EXPECT_EQ(book.top_levels().bid_count, 3u);
}

// A book that publishes its top only (PublishedDepth 0, as a session's): the same top, no levels.
TEST(L2Book, TopOnlyBookPublishesTheTop) {
  BasicL2Book<0> book(64);
  L2Book full(64);
  const std::vector<Level> bids{lv(100, 5), lv(99, 6)}, asks{lv(101, 7)};
  (void)book.apply(bids, asks, 9);
  (void)full.apply(bids, asks, 9);
  book.publish(42, kTopSynced);
  full.publish(42, kTopSynced);
  const TopOfBook t = book.top();
  EXPECT_EQ(t.bid_price, 100);
  EXPECT_EQ(t.bid_qty, 5);
  EXPECT_EQ(t.ask_price, 101);
  EXPECT_EQ(t.ask_qty, 7);
  EXPECT_EQ(t.update_id, 9u);
  EXPECT_EQ(t.recv_ns, 42);
  EXPECT_EQ(t.flags, full.top().flags);
  EXPECT_EQ(book.top_levels().bid_count, 0u);
  EXPECT_EQ(book.top_levels().ask_count, 0u);
  EXPECT_EQ(full.top_levels().bid_count, 2u);
}

// ---- sync --------------------------------------------------------------------------------------------

md::MdMessage diff(std::uint64_t U, std::uint64_t u, std::int64_t recv = 0, std::int64_t pu = -1,
                   const std::vector<Level>* bids = nullptr) {
  md::MdMessage m;
  m.kind = md::MdKind::depth_update;
  m.depth.first_id = U;
  m.depth.last_id = u;
  m.depth.has_prev = pu >= 0;
  m.depth.prev_last_id = pu >= 0 ? static_cast<std::uint64_t>(pu) : 0;
  if (bids) m.depth.bids = *bids;
  m.recv_ns = recv;
  return m;
}

md::MdMessage snapshot(std::uint64_t luid, const std::vector<Level>& bids, const std::vector<Level>& asks) {
  md::MdMessage m;
  m.kind = md::MdKind::depth_snapshot;
  m.snapshot.last_update_id = luid;
  m.snapshot.bids = bids;
  m.snapshot.asks = asks;
  return m;
}

struct SyncFixture {
  L2Book book{64};
  BookSync sync;
  std::vector<SyncTransition> transitions;
  std::vector<std::int64_t> requests;
  explicit SyncFixture(Market m, SyncConfig cfg = {}) : sync(book, m, cfg) {
    sync.on_transition([this](const SyncTransition& t) { transitions.push_back(t); });
    sync.on_snapshot_request([this](std::int64_t now) { requests.push_back(now); });
  }
};

const std::vector<Level> kSnapBids{lv(100, 1)}, kSnapAsks{lv(101, 1)};

TEST(BookSync, SpotBuffersDropsOldAndBridges) {
  SyncFixture f(Market::spot);
  f.sync.start(0);
  EXPECT_EQ(f.requests.size(), 1u);
  const std::vector<Level> b1{lv(100, 7)}, b2{lv(100, 8)}, b3{lv(100, 9)};
  EXPECT_EQ(f.sync.on_diff(diff(1, 10, 1, -1, &b1)), DiffOutcome::buffered);
  EXPECT_EQ(f.sync.on_diff(diff(11, 20, 2, -1, &b2)), DiffOutcome::buffered);  // u == lastUpdateId: dropped
  EXPECT_EQ(f.sync.on_diff(diff(21, 30, 3, -1, &b3)), DiffOutcome::buffered);  // contains 21 = L + 1
  f.sync.on_snapshot(snapshot(20, kSnapBids, kSnapAsks));
  EXPECT_EQ(f.sync.state(), SyncState::synced);
  EXPECT_EQ(f.sync.stats().dropped_old, 2u);
  EXPECT_EQ(f.sync.stats().applied, 1u);
  EXPECT_EQ(f.book.best_bid(), lv(100, 9));
  EXPECT_EQ(f.sync.last_update_id(), 30u);
  ASSERT_EQ(f.transitions.size(), 2u);
  EXPECT_EQ(f.transitions[0].reason, SyncReason::snapshot_loaded);
  EXPECT_EQ(f.transitions[1].reason, SyncReason::bridged);
  EXPECT_EQ(f.transitions[1].to, SyncState::synced);
  EXPECT_NE(f.book.top().flags & kTopSynced, 0u);
  EXPECT_EQ(f.book.top().update_id, 30u);
  // Continuation, duplicate, out-of-order.
  EXPECT_EQ(f.sync.on_diff(diff(31, 35)), DiffOutcome::applied);
  EXPECT_EQ(f.sync.on_diff(diff(31, 35)), DiffOutcome::duplicate);
  EXPECT_EQ(f.sync.on_diff(diff(21, 30)), DiffOutcome::duplicate);
  EXPECT_EQ(f.sync.stats().duplicates, 2u);
  EXPECT_EQ(f.sync.stats().gaps, 0u);
}

TEST(BookSync, SpotGapRequestsAResnapshotRateLimited) {
  SyncConfig cfg;
  cfg.min_resnapshot_interval_ns = 1000;
  SyncFixture f(Market::spot, cfg);
  f.sync.start(0);
  (void)f.sync.on_diff(diff(1, 10, 10));
  f.sync.on_snapshot(snapshot(5, kSnapBids, kSnapAsks));
  ASSERT_EQ(f.sync.state(), SyncState::synced);
  // 11..15 missing: gap at recv 500 (inside the rate limit window of the request at 0) -> deferred.
  EXPECT_EQ(f.sync.on_diff(diff(16, 20, 500)), DiffOutcome::gap);
  EXPECT_EQ(f.sync.state(), SyncState::awaiting_snapshot);
  EXPECT_EQ(f.transitions.back().reason, SyncReason::gap);
  EXPECT_EQ(f.transitions.back().expected, 11u);
  EXPECT_EQ(f.sync.stats().gaps, 1u);
  EXPECT_EQ(f.requests.size(), 1u);
  EXPECT_EQ(f.sync.stats().requests_deferred, 1u);
  EXPECT_EQ(f.book.top().flags & kTopSynced, 0u);
  EXPECT_EQ(f.sync.on_diff(diff(21, 25, 900)), DiffOutcome::buffered);
  EXPECT_EQ(f.requests.size(), 1u);
  EXPECT_EQ(f.sync.on_diff(diff(26, 30, 1000)), DiffOutcome::buffered);  // interval passed: sent now
  ASSERT_EQ(f.requests.size(), 2u);
  EXPECT_EQ(f.requests[1], 1000);
  // The new snapshot (luid 22) is bridged by the buffered 21..25 diff.
  f.sync.on_snapshot(snapshot(22, kSnapBids, kSnapAsks));
  EXPECT_EQ(f.sync.state(), SyncState::synced);
  EXPECT_EQ(f.sync.last_update_id(), 30u);
  EXPECT_EQ(f.sync.stats().dropped_old, 1u);  // the 16..20 gap diff
}

// A request lost with its connection, or an answer that never came: the sync asks again rather than wait for good.
TEST(BookSync, AnUnansweredRequestIsSentAgainAfterTheTimeout) {
  SyncConfig cfg;
  cfg.min_resnapshot_interval_ns = 1000;
  cfg.snapshot_timeout_ns = 5000;
  SyncFixture f(Market::spot, cfg);
  f.sync.start(0);
  ASSERT_EQ(f.requests.size(), 1u);
  EXPECT_EQ(f.sync.on_diff(diff(1, 10, 4999)), DiffOutcome::buffered);
  f.sync.poll(4999);
  EXPECT_EQ(f.requests.size(), 1u);  // not yet
  EXPECT_EQ(f.sync.on_diff(diff(11, 20, 5000)), DiffOutcome::buffered);  // on_diff polls: due now
  ASSERT_EQ(f.requests.size(), 2u);
  EXPECT_EQ(f.requests[1], 5000);
  EXPECT_EQ(f.sync.stats().snapshot_timeouts, 1u);
  f.sync.poll(9999);
  f.sync.poll(10'000);  // the second one went unanswered too
  EXPECT_EQ(f.requests.size(), 3u);
  EXPECT_EQ(f.sync.stats().snapshot_timeouts, 2u);
  // Answered: loaded and bridged by the buffer; synced, nothing more is asked for, however long it runs.
  f.sync.on_snapshot(snapshot(12, kSnapBids, kSnapAsks));
  ASSERT_EQ(f.sync.state(), SyncState::synced);
  f.sync.poll(1'000'000);
  f.sync.request_again(1'000'000);
  EXPECT_EQ(f.requests.size(), 3u);
  EXPECT_EQ(f.sync.stats().snapshot_timeouts, 2u);
}

// The request channel reconnected: an awaited snapshot is asked for at once, within the rate limit.
TEST(BookSync, RequestAgainAsksForAnAwaitedSnapshotWithinTheRateLimit) {
  SyncConfig cfg;
  cfg.min_resnapshot_interval_ns = 1000;
  SyncFixture f(Market::spot, cfg);
  f.sync.start(0);
  f.sync.request_again(2000);
  ASSERT_EQ(f.requests.size(), 2u);
  EXPECT_EQ(f.requests[1], 2000);
  f.sync.request_again(2500);  // inside the interval: held back, sent by the first poll after it
  EXPECT_EQ(f.requests.size(), 2u);
  EXPECT_EQ(f.sync.stats().requests_deferred, 1u);
  f.sync.poll(3000);
  ASSERT_EQ(f.requests.size(), 3u);
  EXPECT_EQ(f.requests[2], 3000);
  EXPECT_EQ(f.sync.stats().snapshot_timeouts, 0u);
}

TEST(BookSync, SnapshotOlderThanTheBufferRequestsAgain) {
  SyncFixture f(Market::spot);
  (void)f.sync.on_diff(diff(50, 60));
  f.sync.on_snapshot(snapshot(40, kSnapBids, kSnapAsks));  // 41..49 never seen
  EXPECT_EQ(f.sync.state(), SyncState::awaiting_snapshot);
  EXPECT_EQ(f.transitions.back().reason, SyncReason::snapshot_too_old);
  EXPECT_EQ(f.requests.size(), 1u);
  f.sync.on_snapshot(snapshot(55, kSnapBids, kSnapAsks));  // the buffered 50..60 still bridges
  EXPECT_EQ(f.sync.state(), SyncState::synced);
}

TEST(BookSync, SnapshotNewerThanTheBufferWaitsForTheFirstDiff) {
  SyncFixture f(Market::spot);
  (void)f.sync.on_diff(diff(1, 5));
  f.sync.on_snapshot(snapshot(9, kSnapBids, kSnapAsks));
  EXPECT_EQ(f.sync.state(), SyncState::awaiting_first_diff);
  EXPECT_EQ(f.sync.on_diff(diff(6, 9)), DiffOutcome::dropped_old);
  EXPECT_EQ(f.sync.on_diff(diff(10, 12)), DiffOutcome::applied);
  EXPECT_EQ(f.sync.state(), SyncState::synced);
  f.sync.on_snapshot(snapshot(100, kSnapBids, kSnapAsks));  // not awaited
  EXPECT_EQ(f.sync.stats().snapshots_ignored, 1u);
}

TEST(BookSync, FuturesRules) {
  SyncFixture f(Market::usdm);
  (void)f.sync.on_diff(diff(1, 10, 0, 0));
  (void)f.sync.on_diff(diff(11, 19, 0, 10));   // u < L: dropped
  (void)f.sync.on_diff(diff(20, 30, 0, 19));   // U <= L <= u: bridges (u == L is kept on futures)
  (void)f.sync.on_diff(diff(31, 40, 0, 30));
  f.sync.on_snapshot(snapshot(20, kSnapBids, kSnapAsks));
  EXPECT_EQ(f.sync.state(), SyncState::synced);
  EXPECT_EQ(f.sync.stats().dropped_old, 2u);
  EXPECT_EQ(f.sync.stats().applied, 2u);
  // pu must equal the previous u; U itself does not need to be prev + 1.
  EXPECT_EQ(f.sync.on_diff(diff(45, 50, 0, 40)), DiffOutcome::applied);
  EXPECT_EQ(f.sync.on_diff(diff(55, 60, 0, 52)), DiffOutcome::gap);
  EXPECT_EQ(f.transitions.back().expected, 50u);
}

TEST(BookSync, FuturesBoundaryUEqualsLastUpdateIdBridges) {
  SyncFixture f(Market::coinm);
  (void)f.sync.on_diff(diff(15, 20, 0, 14));
  f.sync.on_snapshot(snapshot(20, kSnapBids, kSnapAsks));
  EXPECT_EQ(f.sync.state(), SyncState::synced);  // spot would drop u == L; futures applies it
  SyncFixture s(Market::spot);
  (void)s.sync.on_diff(diff(15, 20));
  s.sync.on_snapshot(snapshot(20, kSnapBids, kSnapAsks));
  EXPECT_EQ(s.sync.state(), SyncState::awaiting_first_diff);
}

TEST(BookSync, BufferOverflowDropsTheOldestSafely) {
  SyncConfig cfg;
  cfg.buffer_diffs = 4;
  SyncFixture f(Market::spot, cfg);
  for (std::uint64_t i = 0; i < 10; ++i) (void)f.sync.on_diff(diff(10 * i + 1, 10 * i + 10));
  EXPECT_EQ(f.sync.stats().buffer_overflows, 6u);
  f.sync.on_snapshot(snapshot(25, kSnapBids, kSnapAsks));  // needed diff 21..30 was discarded
  EXPECT_EQ(f.sync.state(), SyncState::awaiting_snapshot);
  f.sync.on_snapshot(snapshot(65, kSnapBids, kSnapAsks));  // 61..70 is still buffered
  EXPECT_EQ(f.sync.state(), SyncState::synced);
  EXPECT_EQ(f.sync.last_update_id(), 100u);
}

// Thousands of overflows with diffs of different sizes: the newest diffs stay buffered with their own levels
// across the reclaims of the buffer's storage, and the book after the snapshot is what they make.
TEST(BookSync, LongOverflowKeepsTheNewestDiffsAndTheirLevels) {
  SyncConfig cfg;
  cfg.buffer_diffs = 8;
  cfg.buffer_levels = 20;
  SyncFixture f(Market::spot, cfg);
  const std::uint64_t n = 5000;
  std::vector<std::vector<Level>> bids(n);
  for (std::uint64_t i = 0; i < n; ++i) {
    for (std::uint64_t j = 0; j <= i % 5; ++j)
      bids[i].push_back(lv(1000 + static_cast<std::int64_t>((i * 7 + j) % 50), static_cast<std::int64_t>(i + 1)));
    ASSERT_EQ(f.sync.on_diff(diff(10 * i + 1, 10 * i + 10, 0, -1, &bids[i])), DiffOutcome::buffered);
  }
  // What stays: the longest suffix within both bounds.
  std::uint64_t first = n;
  for (std::size_t levels = 0; first > 0 && n - first < cfg.buffer_diffs &&
                               levels + bids[first - 1].size() <= cfg.buffer_levels;) {
    levels += bids[--first].size();
  }
  EXPECT_EQ(f.sync.stats().buffer_overflows, first);
  const std::vector<Level> snap_bids{lv(100, 1)}, snap_asks{lv(5000, 1)};
  f.sync.on_snapshot(snapshot(10 * first, snap_bids, snap_asks));  // bridged by the first one kept
  ASSERT_EQ(f.sync.state(), SyncState::synced);
  EXPECT_EQ(f.sync.stats().applied, n - first);
  std::map<std::int64_t, std::int64_t, std::greater<>> model{{100, 1}};
  for (std::uint64_t i = first; i < n; ++i)
    for (const Level& l : bids[i]) model[l.price.raw()] = l.qty.raw();
  std::vector<Level> got(64);
  got.resize(f.book.depth(Side::bid, got));
  std::vector<Level> want;
  for (const auto& [p, q] : model) want.push_back(lv(p, q));
  EXPECT_EQ(got, want);
}

}  // namespace
