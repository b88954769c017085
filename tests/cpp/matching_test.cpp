// L3 matching engine: order types and priority rules, then a randomized comparison with a plain reference
// matcher (same fills, same book, quantity conserved, never a crossed resting book).
#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <tuple>
#include <vector>

#include "hftx/book/matching.hpp"
#include "test_support.hpp"

namespace {

using namespace hftx;
using namespace hftx::book;

struct Fill {
  OrderId taker, maker;
  std::int64_t price, qty;
  friend bool operator==(const Fill&, const Fill&) = default;
};

struct Engine {
  MatchingEngine eng;
  std::vector<Fill> fills;
  explicit Engine(MatchingConfig cfg = {.max_orders = 4096, .max_price_levels = 1024}) : eng(cfg) {
    eng.on_execution([this](const Execution& e) { fills.push_back({e.taker, e.maker, e.price.raw(), e.qty.raw()}); });
  }
  OrderResult limit(OrderId id, Side s, std::int64_t p, std::int64_t q, TimeInForce tif = TimeInForce::gtc,
                    bool post_only = false, std::uint32_t owner = 0) {
    OrderRequest o;
    o.id = id;
    o.side = s;
    o.price = Price(p);
    o.qty = Qty(q);
    o.tif = tif;
    o.post_only = post_only;
    o.owner = owner;
    return eng.submit(o);
  }
  OrderResult market(OrderId id, Side s, std::int64_t q) {
    OrderRequest o;
    o.id = id;
    o.side = s;
    o.type = OrderType::market;
    o.qty = Qty(q);
    return eng.submit(o);
  }
};

TEST(Matching, PriceTimePriority) {
  Engine e;
  EXPECT_EQ(e.limit(1, Side::ask, 101, 5).status, OrderStatus::resting);
  EXPECT_EQ(e.limit(2, Side::ask, 100, 5).status, OrderStatus::resting);
  EXPECT_EQ(e.limit(3, Side::ask, 100, 5).status, OrderStatus::resting);
  EXPECT_EQ(e.eng.best(Side::ask).price.raw(), 100);
  EXPECT_EQ(e.eng.best(Side::ask).qty.raw(), 10);
  const OrderResult r = e.limit(4, Side::bid, 101, 12);
  EXPECT_EQ(r.status, OrderStatus::filled);
  EXPECT_EQ(r.filled.raw(), 12);
  ASSERT_EQ(e.fills.size(), 3u);
  EXPECT_EQ(e.fills[0], (Fill{4, 2, 100, 5}));  // better price first, then earlier time
  EXPECT_EQ(e.fills[1], (Fill{4, 3, 100, 5}));
  EXPECT_EQ(e.fills[2], (Fill{4, 1, 101, 2}));
  OrderView v;
  ASSERT_TRUE(e.eng.get(1, v));
  EXPECT_EQ(v.qty.raw(), 3);
  EXPECT_EQ(e.eng.order_count(), 1u);
  EXPECT_EQ(e.eng.level_count(Side::ask), 1u);
}

TEST(Matching, MarketIocFokPostOnly) {
  Engine e;
  (void)e.limit(1, Side::bid, 99, 5);
  (void)e.limit(2, Side::bid, 98, 5);
  // Market sell for more than the book: fills 10, remainder cancelled.
  OrderResult r = e.market(3, Side::ask, 12);
  EXPECT_EQ(r.status, OrderStatus::cancelled);
  EXPECT_EQ(r.filled.raw(), 10);
  EXPECT_FALSE(e.eng.has_bid());
  (void)e.limit(4, Side::bid, 99, 5);
  // IOC above the bid: no fill, cancelled, nothing rests.
  r = e.limit(5, Side::ask, 100, 3, TimeInForce::ioc);
  EXPECT_EQ(r.status, OrderStatus::cancelled);
  EXPECT_EQ(r.filled.raw(), 0);
  EXPECT_FALSE(e.eng.has_ask());
  // FOK larger than available: rejected, no fill at all.
  const std::size_t before = e.fills.size();
  r = e.limit(6, Side::ask, 99, 6, TimeInForce::fok);
  EXPECT_EQ(r.status, OrderStatus::rejected_fok);
  EXPECT_EQ(e.fills.size(), before);
  r = e.limit(7, Side::ask, 99, 5, TimeInForce::fok);
  EXPECT_EQ(r.status, OrderStatus::filled);
  // Post-only that would take: rejected; that would rest: rests.
  (void)e.limit(8, Side::bid, 99, 5);
  EXPECT_EQ(e.limit(9, Side::ask, 99, 1, TimeInForce::gtc, true).status, OrderStatus::rejected_post_only);
  EXPECT_EQ(e.limit(10, Side::ask, 100, 1, TimeInForce::gtc, true).status, OrderStatus::resting);
  // Duplicates and invalid.
  EXPECT_EQ(e.limit(10, Side::ask, 100, 1).status, OrderStatus::rejected_duplicate);
  EXPECT_EQ(e.limit(11, Side::ask, 100, 0).status, OrderStatus::rejected_invalid);
  EXPECT_EQ(e.limit(0, Side::ask, 100, 1).status, OrderStatus::rejected_invalid);
}

TEST(Matching, CancelAndModify) {
  Engine e;
  (void)e.limit(1, Side::bid, 100, 5);
  (void)e.limit(2, Side::bid, 100, 5);
  (void)e.limit(3, Side::bid, 100, 5);
  // Size down keeps priority: 1 is still first.
  EXPECT_EQ(e.eng.modify(1, Price(100), Qty(2)).status, OrderStatus::resting);
  EXPECT_EQ(e.eng.best(Side::bid).qty.raw(), 12);
  // Size up loses it: 2 goes to the back.
  EXPECT_EQ(e.eng.modify(2, Price(100), Qty(6)).status, OrderStatus::resting);
  std::vector<OrderId> q;
  e.eng.for_each_order(Side::bid, 0, [&](const OrderView& v) { q.push_back(v.id); });
  EXPECT_EQ(q, (std::vector<OrderId>{1, 3, 2}));
  // Price change loses it too, and can trade.
  (void)e.limit(4, Side::ask, 102, 3);
  const OrderResult r = e.eng.modify(3, Price(102), Qty(5));
  EXPECT_EQ(r.status, OrderStatus::resting);
  EXPECT_EQ(r.filled.raw(), 3);
  EXPECT_EQ(e.eng.best(Side::bid).price.raw(), 102);
  EXPECT_TRUE(e.eng.cancel(3));
  EXPECT_FALSE(e.eng.cancel(3));
  EXPECT_EQ(e.eng.modify(99, Price(1), Qty(1)).status, OrderStatus::rejected_invalid);
  EXPECT_EQ(e.eng.modify(1, Price(100), Qty(0)).status, OrderStatus::cancelled);
  EXPECT_EQ(e.eng.order_count(), 1u);
}

TEST(Matching, SelfTradePrevention) {
  for (StpMode mode : {StpMode::cancel_taker, StpMode::cancel_maker, StpMode::cancel_both}) {
    Engine e({.max_orders = 64, .max_price_levels = 16, .stp = mode});
    (void)e.limit(1, Side::ask, 100, 5, TimeInForce::gtc, false, 7);  // own
    (void)e.limit(2, Side::ask, 100, 5, TimeInForce::gtc, false, 8);  // other
    const OrderResult r = e.limit(3, Side::bid, 100, 8, TimeInForce::gtc, false, 7);
    for (const Fill& f : e.fills) EXPECT_NE(f.maker, 1u);
    switch (mode) {
      case StpMode::cancel_taker:
        EXPECT_EQ(r.status, OrderStatus::cancelled);
        EXPECT_EQ(r.filled.raw(), 0);
        EXPECT_TRUE(e.eng.contains(1));
        break;
      case StpMode::cancel_maker:
        EXPECT_EQ(r.status, OrderStatus::resting);
        EXPECT_EQ(r.filled.raw(), 5);
        EXPECT_FALSE(e.eng.contains(1));
        break;
      case StpMode::cancel_both:
        EXPECT_EQ(r.status, OrderStatus::cancelled);
        EXPECT_FALSE(e.eng.contains(1));
        break;
      case StpMode::none: break;
    }
  }
}

TEST(Matching, PoolExhaustionRejectsWithoutGrowing) {
  Engine e({.max_orders = 2, .max_price_levels = 2});
  EXPECT_EQ(e.limit(1, Side::bid, 100, 1).status, OrderStatus::resting);
  EXPECT_EQ(e.limit(2, Side::bid, 99, 1).status, OrderStatus::resting);
  EXPECT_EQ(e.limit(3, Side::bid, 98, 1).status, OrderStatus::rejected_full);
  EXPECT_EQ(e.limit(4, Side::ask, 100, 1).status, OrderStatus::filled);  // a taker needs no slot
  EXPECT_EQ(e.limit(5, Side::bid, 99, 1).status, OrderStatus::resting);
  EXPECT_THROW(MatchingEngine(MatchingConfig{.max_orders = 0}), ConfigError);
}

// ---- randomized vs a reference -------------------------------------------------------------------------

struct RefOrder {
  OrderId id;
  Side side;
  std::int64_t price, qty;
  std::uint64_t seq;
  std::uint32_t owner;
};

struct RefMatcher {
  std::vector<RefOrder> book;
  std::vector<Fill> fills;
  std::uint64_t seq = 0;
  StpMode stp = StpMode::none;

  std::vector<RefOrder*> queue(Side taker_side, std::int64_t limit, bool market) {
    std::vector<RefOrder*> q;
    for (RefOrder& o : book)
      if (o.side != taker_side && (market || (taker_side == Side::bid ? o.price <= limit : o.price >= limit)))
        q.push_back(&o);
    std::sort(q.begin(), q.end(), [&](RefOrder* a, RefOrder* b) {
      if (a->price != b->price) return taker_side == Side::bid ? a->price < b->price : a->price > b->price;
      return a->seq < b->seq;
    });
    return q;
  }
  void erase(OrderId id) {
    book.erase(std::remove_if(book.begin(), book.end(), [&](const RefOrder& o) { return o.id == id; }), book.end());
  }
  RefOrder* find(OrderId id) {
    for (RefOrder& o : book)
      if (o.id == id) return &o;
    return nullptr;
  }
  OrderResult submit(const OrderRequest& r) {
    if (r.id == 0 || r.qty.raw() <= 0) return {OrderStatus::rejected_invalid, Qty(0), Qty(0)};
    if (find(r.id)) return {OrderStatus::rejected_duplicate, Qty(0), Qty(0)};
    const bool market = r.type == OrderType::market;
    auto q = queue(r.side, r.price.raw(), market);
    if (r.post_only && !market && !q.empty()) return {OrderStatus::rejected_post_only, Qty(0), Qty(0)};
    const bool stp_on = stp != StpMode::none && r.owner != 0;
    if (r.tif == TimeInForce::fok) {
      std::int64_t avail = 0;
      for (RefOrder* o : q) {
        if (stp_on && o->owner == r.owner) {
          if (stp == StpMode::cancel_maker) continue;
          break;
        }
        avail += o->qty;
      }
      if (avail < r.qty.raw()) return {OrderStatus::rejected_fok, Qty(0), Qty(0)};
    }
    std::int64_t left = r.qty.raw();
    bool stp_cancel = false;
    std::vector<OrderId> gone;
    for (RefOrder* o : q) {
      if (left == 0) break;
      if (stp_on && o->owner == r.owner) {
        if (stp == StpMode::cancel_taker) { stp_cancel = true; break; }
        gone.push_back(o->id);
        o->qty = 0;
        if (stp == StpMode::cancel_both) { stp_cancel = true; break; }
        continue;
      }
      const std::int64_t f = std::min(left, o->qty);
      left -= f;
      o->qty -= f;
      fills.push_back({r.id, o->id, o->price, f});
      if (o->qty == 0) gone.push_back(o->id);
    }
    for (OrderId g : gone) erase(g);
    const Qty filled(r.qty.raw() - left);
    if (left == 0) return {OrderStatus::filled, filled, Qty(0)};
    if (market || r.tif != TimeInForce::gtc || stp_cancel) return {OrderStatus::cancelled, filled, Qty(0)};
    book.push_back({r.id, r.side, r.price.raw(), left, ++seq, r.owner});
    return {OrderStatus::resting, filled, Qty(left)};
  }
  bool cancel(OrderId id) {
    if (!find(id)) return false;
    erase(id);
    return true;
  }
  OrderResult modify(OrderId id, Price p, Qty q) {
    RefOrder* o = find(id);
    if (!o || q.raw() < 0) return {OrderStatus::rejected_invalid, Qty(0), Qty(0)};
    if (q.raw() == 0) {
      erase(id);
      return {OrderStatus::cancelled, Qty(0), Qty(0)};
    }
    if (p.raw() == o->price && q.raw() <= o->qty) {
      o->qty = q.raw();
      return {OrderStatus::resting, Qty(0), q};
    }
    OrderRequest r;
    r.id = id;
    r.side = o->side;
    r.price = p;
    r.qty = q;
    r.owner = o->owner;
    erase(id);
    return submit(r);
  }
};

void expect_same_book(const MatchingEngine& eng, RefMatcher& ref) {
  for (Side s : {Side::bid, Side::ask}) {
    // Reference orders of this side in priority order.
    std::vector<RefOrder> mine;
    for (const RefOrder& o : ref.book) {
      if (o.side == s) mine.push_back(o);
    }
    std::sort(mine.begin(), mine.end(), [&](const RefOrder& a, const RefOrder& b) {
      if (a.price != b.price) return s == Side::bid ? a.price > b.price : a.price < b.price;
      return a.seq < b.seq;
    });
    std::vector<std::tuple<OrderId, std::int64_t, std::int64_t>> got, want;
    for (const RefOrder& o : mine) want.emplace_back(o.id, o.price, o.qty);
    for (std::size_t i = 0; i < eng.level_count(s); ++i)
      eng.for_each_order(s, i, [&](const OrderView& v) { got.emplace_back(v.id, v.price.raw(), v.qty.raw()); });
    ASSERT_EQ(got, want);
  }
  ASSERT_EQ(eng.order_count(), ref.book.size());
  if (eng.has_bid() && eng.has_ask()) {
    ASSERT_LT(eng.best(Side::bid).price, eng.best(Side::ask).price) << "crossed";
  }
}

TEST(Matching, RandomFlowMatchesReference) {
  for (StpMode stp : {StpMode::none, StpMode::cancel_maker, StpMode::cancel_taker, StpMode::cancel_both}) {
    Engine e({.max_orders = 4096, .max_price_levels = 512, .stp = stp});
    RefMatcher ref;
    ref.stp = stp;
    std::mt19937_64 rng(static_cast<std::uint64_t>(stp) + 11);
    OrderId next = 1;
    std::int64_t submitted = 0, filled = 0, cancelled_or_resting = 0;
    const std::uint64_t ops = test::scaled(6000);
    for (std::uint64_t i = 0; i < ops; ++i) {
      const auto kind = rng() % 20;
      if (kind < 12) {
        OrderRequest o;
        o.id = next++;
        o.side = rng() & 1 ? Side::bid : Side::ask;
        o.price = Price(1000 + static_cast<std::int64_t>(rng() % 30) - 15);
        o.qty = Qty(1 + static_cast<std::int64_t>(rng() % 9));
        const auto t = rng() % 10;
        o.type = t == 0 ? OrderType::market : OrderType::limit;
        o.tif = t == 1 ? TimeInForce::ioc : t == 2 ? TimeInForce::fok : TimeInForce::gtc;
        o.post_only = t == 3;
        o.owner = static_cast<std::uint32_t>(rng() % 4);
        const std::size_t before = e.fills.size();
        const OrderResult a = e.eng.submit(o);
        const OrderResult b = ref.submit(o);
        ASSERT_EQ(a.status, b.status) << i;
        ASSERT_EQ(a.filled, b.filled) << i;
        ASSERT_EQ(a.resting, b.resting) << i;
        submitted += o.qty.raw();
        filled += a.filled.raw();
        std::int64_t exec = 0;
        for (std::size_t k = before; k < e.fills.size(); ++k) exec += e.fills[k].qty;
        ASSERT_EQ(exec, a.filled.raw());  // quantity conserved: the taker's fills are the executions
        cancelled_or_resting += o.qty.raw() - a.filled.raw();
      } else if (kind < 17) {
        const OrderId id = 1 + rng() % next;
        ASSERT_EQ(e.eng.cancel(id), ref.cancel(id));
      } else {
        const OrderId id = 1 + rng() % next;
        const Price p(1000 + static_cast<std::int64_t>(rng() % 30) - 15);
        const Qty q(static_cast<std::int64_t>(rng() % 9));
        const OrderResult a = e.eng.modify(id, p, q);
        const OrderResult b = ref.modify(id, p, q);
        ASSERT_EQ(a.status, b.status) << i;
        ASSERT_EQ(a.filled, b.filled) << i;
      }
      ASSERT_EQ(e.fills.size(), ref.fills.size()) << i;
      if (i % 50 == 0) expect_same_book(e.eng, ref);
    }
    EXPECT_EQ(e.fills, ref.fills);
    expect_same_book(e.eng, ref);
    EXPECT_GT(filled, 0);
    EXPECT_EQ(submitted, filled + cancelled_or_resting);
  }
}

}  // namespace
