// OMS: the order state machine (every legal path, every impossible transition counted and not applied),
// pool exhaustion, the closed-id memory, per-instrument bookkeeping, positions and PnL.
#include <gtest/gtest.h>

#include <cstdint>
#include <algorithm>
#include <map>
#include <random>
#include <string>
#include <unordered_map>
#include <vector>

#include "hftx/oms/order.hpp"
#include "hftx/oms/position.hpp"
#include "hftx/oms/wire.hpp"
#include "test_support.hpp"

namespace hftx::oms {
namespace {

OrderRequest limit(Side side, std::int64_t price, std::int64_t qty, InstrumentId inst = 0, StrategyId strat = 1,
                   TimeInForce tif = TimeInForce::gtc) {
  OrderRequest r;
  r.instrument = inst;
  r.strategy = strat;
  r.side = side;
  r.type = OrderType::limit;
  r.tif = tif;
  r.price = Price(price);
  r.qty = Qty(qty);
  return r;
}

OrderUpdate upd(UpdateKind k, ClientOrderId id, std::int64_t now = 0) {
  OrderUpdate u;
  u.kind = k;
  u.client_id = id;
  u.recv_ns = now;
  return u;
}

OrderUpdate fill(ClientOrderId id, std::int64_t price, std::int64_t qty, std::int64_t cum = 0, std::int64_t now = 0) {
  OrderUpdate u = upd(UpdateKind::fill, id, now);
  u.last_price = Price(price);
  u.last_qty = Qty(qty);
  u.cum_qty = Qty(cum);
  return u;
}

std::uint64_t anomalies(const OrderManager& m, Anomaly a) { return m.stats().anomalies[static_cast<std::size_t>(a)]; }

TEST(Order, IsOneCacheLine) {
  EXPECT_EQ(sizeof(Order), 64u);
  EXPECT_EQ(alignof(Order), 64u);
}

TEST(Order, FlagsRoundTrip) {
  OrderManager m(4, 2);
  OrderRequest r = limit(Side::ask, 100, 5, 1, 7, TimeInForce::fok);
  r.post_only = true;
  const Order* o = m.create(r, 9, 1000);
  ASSERT_NE(o, nullptr);
  EXPECT_EQ(o->side(), Side::ask);
  EXPECT_EQ(o->type(), OrderType::limit);
  EXPECT_EQ(o->tif(), TimeInForce::fok);
  EXPECT_TRUE(o->post_only());
  EXPECT_FALSE(o->can_rest());
  EXPECT_EQ(o->instrument, 1);
  EXPECT_EQ(o->strategy, 7u);
  EXPECT_EQ(o->created_ns, 1000);
  EXPECT_EQ(o->state, OrderState::new_order);
  OrderRequest mkt = limit(Side::bid, 555, 5);
  mkt.type = OrderType::market;
  const Order* mo = m.create(mkt, 10, 0);
  ASSERT_NE(mo, nullptr);
  EXPECT_EQ(mo->type(), OrderType::market);
  EXPECT_EQ(mo->price.raw(), 0);  // market orders carry no price
  EXPECT_FALSE(mo->can_rest());
}

TEST(OrderManager, FullLifecycleSentAckedPartialFilled) {
  OrderManager m(8, 2);
  ASSERT_NE(m.create(limit(Side::bid, 100, 10), 1, 1000), nullptr);
  EXPECT_TRUE(m.mark_sent(1, 1300));
  EXPECT_FALSE(m.mark_sent(1, 1400));  // only from new
  EXPECT_EQ(m.find(1)->state, OrderState::sent);
  EXPECT_EQ(m.find(1)->sent_ns(), 1300);

  OrderUpdate a = upd(UpdateKind::ack, 1, 5300);
  a.venue_order_id = 777;
  EXPECT_TRUE(m.apply(a));
  EXPECT_EQ(a.state, OrderState::acked);
  EXPECT_EQ(a.strategy, 1u);
  EXPECT_EQ(a.qty.raw(), 10);
  EXPECT_EQ(a.price.raw(), 100);
  EXPECT_EQ(m.find(1)->venue_order_id, 777u);
  EXPECT_EQ(m.find(1)->acked_ns(), 5300);
  EXPECT_EQ(m.find(1)->ack_delay_ns, 4000u);

  OrderUpdate f1 = fill(1, 100, 4, 4, 6000);
  EXPECT_TRUE(m.apply(f1));
  EXPECT_EQ(f1.state, OrderState::partially_filled);
  EXPECT_EQ(f1.filled.raw(), 4);
  EXPECT_EQ(f1.side, Side::bid);
  EXPECT_EQ(m.updated_ns(*m.find(1)), 6000);
  EXPECT_EQ(m.instrument_orders(0).open_qty[0].raw(), 6);

  OrderUpdate f2 = fill(1, 99, 6, 10, 7000);
  EXPECT_TRUE(m.apply(f2));
  EXPECT_EQ(f2.state, OrderState::filled);
  EXPECT_EQ(f2.filled.raw(), 10);
  EXPECT_EQ(m.find(1), nullptr);  // closed: slot back in the pool
  EXPECT_EQ(m.open_count(), 0u);
  ASSERT_NE(m.find_closed(1), nullptr);
  EXPECT_EQ(m.find_closed(1)->state, OrderState::filled);
  const OmsStats s = m.stats();
  EXPECT_EQ(s.created, 1u);
  EXPECT_EQ(s.sent, 1u);
  EXPECT_EQ(s.acked, 1u);
  EXPECT_EQ(s.fills, 2u);
  EXPECT_EQ(s.filled, 1u);
  EXPECT_EQ(s.impossible, 0u);
  EXPECT_EQ(s.ignored, 0u);
  EXPECT_EQ(m.positions().position(0).raw(), 10);
}

TEST(OrderManager, FillBeforeAckImpliesAckAndLateAckIsHarmless) {
  OrderManager m(8, 2);
  ASSERT_NE(m.create(limit(Side::ask, 100, 10), 5, 0), nullptr);
  ASSERT_TRUE(m.mark_sent(5, 10));
  OrderUpdate f = fill(5, 100, 3);
  EXPECT_TRUE(m.apply(f));
  EXPECT_EQ(f.state, OrderState::partially_filled);
  EXPECT_EQ(m.stats().implied_acks, 1u);
  EXPECT_EQ(m.stats().acked, 1u);
  OrderUpdate a = upd(UpdateKind::ack, 5);
  EXPECT_FALSE(m.apply(a));  // the ack is implied already
  EXPECT_EQ(m.last_anomaly(), Anomaly::duplicate_ack);
  EXPECT_EQ(a.state, OrderState::partially_filled);  // described, not applied
  EXPECT_EQ(m.stats().impossible, 0u);
  EXPECT_EQ(m.stats().ignored, 1u);
  // A fill that closes an order before any ack at all (reconciliation), then the ack: harmless.
  ASSERT_NE(m.create(limit(Side::ask, 100, 2), 6, 0), nullptr);
  OrderUpdate f2 = fill(6, 100, 2);
  EXPECT_TRUE(m.apply(f2));
  EXPECT_EQ(f2.state, OrderState::filled);
  OrderUpdate a2 = upd(UpdateKind::ack, 6);
  EXPECT_FALSE(m.apply(a2));
  EXPECT_EQ(m.last_anomaly(), Anomaly::duplicate_ack);
  EXPECT_EQ(m.stats().impossible, 0u);
}

TEST(OrderManager, DuplicateAcksAreHarmless) {
  OrderManager m(8, 2);
  ASSERT_NE(m.create(limit(Side::bid, 100, 10), 1, 0), nullptr);
  m.mark_sent(1, 1);
  OrderUpdate a1 = upd(UpdateKind::ack, 1);
  OrderUpdate a2 = upd(UpdateKind::ack, 1);
  EXPECT_TRUE(m.apply(a1));   // response 200
  EXPECT_FALSE(m.apply(a2));  // executionReport NEW
  EXPECT_EQ(anomalies(m, Anomaly::duplicate_ack), 1u);
  EXPECT_EQ(m.stats().acked, 1u);
  EXPECT_EQ(m.stats().impossible, 0u);
  EXPECT_EQ(m.find(1)->state, OrderState::acked);
}

TEST(OrderManager, AckBeforeMarkSentIsAccepted) {
  // The gateway may read the response before it marks the frame sent (one reactor turn): ack from new.
  OrderManager m(8, 2);
  ASSERT_NE(m.create(limit(Side::bid, 100, 10), 1, 100), nullptr);
  OrderUpdate a = upd(UpdateKind::ack, 1, 400);
  EXPECT_TRUE(m.apply(a));
  EXPECT_EQ(a.state, OrderState::acked);
  EXPECT_EQ(m.find(1)->ack_delay_ns, 300u);
}

TEST(OrderManager, CancelPathAndWhatCannotFollowIt) {
  OrderManager m(8, 2);
  ASSERT_NE(m.create(limit(Side::bid, 100, 10), 1, 0), nullptr);
  EXPECT_FALSE(m.mark_cancel_sent(2, 0));  // unknown
  m.mark_sent(1, 1);
  OrderUpdate a = upd(UpdateKind::ack, 1);
  ASSERT_TRUE(m.apply(a));
  EXPECT_TRUE(m.mark_cancel_sent(1, 5));
  EXPECT_TRUE(m.find(1)->cancel_pending());
  EXPECT_FALSE(m.mark_cancel_sent(1, 6));  // already pending
  EXPECT_EQ(m.stats().cancels_sent, 1u);
  OrderUpdate c = upd(UpdateKind::cancelled, 1);
  EXPECT_TRUE(m.apply(c));
  EXPECT_EQ(c.state, OrderState::cancelled);
  EXPECT_EQ(m.open_count(), 0u);
  EXPECT_FALSE(m.mark_cancel_sent(1, 7));  // closed

  OrderUpdate c2 = upd(UpdateKind::cancelled, 1);  // executionReport CANCELED after the response
  EXPECT_FALSE(m.apply(c2));
  EXPECT_EQ(m.last_anomaly(), Anomaly::duplicate_close);
  EXPECT_EQ(c2.state, OrderState::cancelled);
  EXPECT_EQ(c2.strategy, 1u);
  EXPECT_EQ(m.stats().impossible, 0u);

  OrderUpdate f = fill(1, 100, 1);  // a fill for a cancelled order
  EXPECT_FALSE(m.apply(f));
  EXPECT_EQ(m.last_anomaly(), Anomaly::closed_order);
  OrderUpdate a2 = upd(UpdateKind::ack, 1);  // an ack after the cancel
  EXPECT_FALSE(m.apply(a2));
  EXPECT_EQ(m.last_anomaly(), Anomaly::closed_order);
  OrderUpdate e = upd(UpdateKind::expired, 1);  // a different close
  EXPECT_FALSE(m.apply(e));
  EXPECT_EQ(m.last_anomaly(), Anomaly::closed_order);
  EXPECT_EQ(anomalies(m, Anomaly::closed_order), 3u);
  EXPECT_EQ(m.stats().impossible, 3u);
  EXPECT_EQ(m.positions().position(0).raw(), 0);  // nothing applied
}

TEST(OrderManager, CancelFromEveryOpenState) {
  OrderManager m(8, 2);
  for (int stage = 0; stage < 4; ++stage) {
    const ClientOrderId id = 100 + static_cast<ClientOrderId>(stage);
    ASSERT_NE(m.create(limit(Side::bid, 100, 10), id, 0), nullptr);
    if (stage >= 1) m.mark_sent(id, 1);
    if (stage >= 2) {
      OrderUpdate a = upd(UpdateKind::ack, id);
      ASSERT_TRUE(m.apply(a));
    }
    if (stage >= 3) {
      OrderUpdate f = fill(id, 100, 4);
      ASSERT_TRUE(m.apply(f));
    }
    OrderUpdate c = upd(UpdateKind::cancelled, id);
    EXPECT_TRUE(m.apply(c)) << stage;
    EXPECT_EQ(c.state, OrderState::cancelled);
    EXPECT_EQ(c.filled.raw(), stage >= 3 ? 4 : 0);
  }
  EXPECT_EQ(m.open_count(), 0u);
  EXPECT_EQ(m.instrument_orders(0).open_qty[0].raw(), 0);
  EXPECT_EQ(m.stats().cancelled, 4u);
}

TEST(OrderManager, CancelRejected) {
  OrderManager m(8, 2);
  ASSERT_NE(m.create(limit(Side::bid, 100, 10), 1, 0), nullptr);
  m.mark_sent(1, 1);
  ASSERT_TRUE(m.mark_cancel_sent(1, 2));
  OrderUpdate cr = upd(UpdateKind::cancel_rejected, 1);
  cr.error_code = -2011;
  EXPECT_TRUE(m.apply(cr));  // forwarded: the strategy learns its cancel failed
  EXPECT_EQ(cr.state, OrderState::sent);
  EXPECT_FALSE(m.find(1)->cancel_pending());
  EXPECT_TRUE(m.mark_cancel_sent(1, 3));  // may try again
  // Filled meanwhile: the cancel's rejection arrives after the close.
  OrderUpdate f = fill(1, 100, 10);
  ASSERT_TRUE(m.apply(f));
  OrderUpdate cr2 = upd(UpdateKind::cancel_rejected, 1);
  EXPECT_FALSE(m.apply(cr2));
  EXPECT_EQ(m.last_anomaly(), Anomaly::late_cancel_reject);
  EXPECT_EQ(m.stats().impossible, 0u);
  EXPECT_EQ(m.stats().cancel_rejected, 1u);
}

TEST(OrderManager, RejectOnlyBeforeAck) {
  OrderManager m(8, 2);
  ASSERT_NE(m.create(limit(Side::bid, 100, 10), 1, 0), nullptr);
  m.mark_sent(1, 1);
  OrderUpdate r = upd(UpdateKind::rejected, 1);
  r.error_code = -2010;
  EXPECT_TRUE(m.apply(r));
  EXPECT_EQ(r.state, OrderState::rejected);
  EXPECT_EQ(m.stats().rejected, 1u);
  OrderUpdate r2 = upd(UpdateKind::rejected, 1);
  EXPECT_FALSE(m.apply(r2));
  EXPECT_EQ(m.last_anomaly(), Anomaly::duplicate_close);

  ASSERT_NE(m.create(limit(Side::bid, 100, 10), 2, 0), nullptr);
  OrderUpdate a = upd(UpdateKind::ack, 2);
  ASSERT_TRUE(m.apply(a));
  OrderUpdate r3 = upd(UpdateKind::rejected, 2);
  EXPECT_FALSE(m.apply(r3));
  EXPECT_EQ(m.last_anomaly(), Anomaly::reject_after_ack);
  EXPECT_EQ(m.find(2)->state, OrderState::acked);  // not applied
  EXPECT_EQ(m.stats().impossible, 1u);
}

TEST(OrderManager, IocPartialFillThenExpired) {
  OrderManager m(8, 2);
  ASSERT_NE(m.create(limit(Side::ask, 100, 10, 0, 1, TimeInForce::ioc), 1, 0), nullptr);
  m.mark_sent(1, 1);
  OrderUpdate f = fill(1, 100, 6);
  ASSERT_TRUE(m.apply(f));
  OrderUpdate e = upd(UpdateKind::expired, 1);
  EXPECT_TRUE(m.apply(e));
  EXPECT_EQ(e.state, OrderState::expired);
  EXPECT_EQ(e.filled.raw(), 6);
  EXPECT_EQ(m.stats().expired, 1u);
  EXPECT_EQ(m.positions().position(0).raw(), -6);
  EXPECT_EQ(m.instrument_orders(0).open_qty[1].raw(), 0);
}

TEST(OrderManager, UnknownOrdersAreCountedNotApplied) {
  OrderManager m(8, 2);
  for (UpdateKind k : {UpdateKind::ack, UpdateKind::fill, UpdateKind::cancelled, UpdateKind::rejected,
                       UpdateKind::expired, UpdateKind::cancel_rejected}) {
    OrderUpdate u = k == UpdateKind::fill ? fill(42, 100, 1) : upd(k, 42);
    EXPECT_FALSE(m.apply(u)) << to_string(k);
    EXPECT_EQ(m.last_anomaly(), Anomaly::unknown_order);
  }
  OrderUpdate z = fill(0, 100, 1);  // not one of ours
  EXPECT_FALSE(m.apply(z));
  EXPECT_EQ(anomalies(m, Anomaly::unknown_order), 7u);
  EXPECT_EQ(m.stats().impossible, 7u);
  EXPECT_EQ(m.positions().position(0).raw(), 0);
}

TEST(OrderManager, OverfillAndBadFillAreNotApplied) {
  OrderManager m(8, 2);
  ASSERT_NE(m.create(limit(Side::bid, 100, 10), 1, 0), nullptr);
  OrderUpdate f = fill(1, 100, 7);
  ASSERT_TRUE(m.apply(f));
  OrderUpdate over = fill(1, 100, 4);
  EXPECT_FALSE(m.apply(over));
  EXPECT_EQ(m.last_anomaly(), Anomaly::overfill);
  EXPECT_EQ(over.filled.raw(), 7);
  EXPECT_EQ(m.find(1)->filled.raw(), 7);
  OrderUpdate zero = fill(1, 100, 0);
  EXPECT_FALSE(m.apply(zero));
  EXPECT_EQ(m.last_anomaly(), Anomaly::bad_fill);
  OrderUpdate neg_price = fill(1, -5, 1);
  EXPECT_FALSE(m.apply(neg_price));
  EXPECT_EQ(m.last_anomaly(), Anomaly::bad_fill);
  EXPECT_EQ(m.stats().impossible, 3u);
  EXPECT_EQ(m.positions().position(0).raw(), 7);
  OrderUpdate rest = fill(1, 100, 3);
  EXPECT_TRUE(m.apply(rest));
  EXPECT_EQ(rest.state, OrderState::filled);
}

TEST(OrderManager, DuplicateFillsByCumulativeQuantity) {
  OrderManager m(8, 2);
  ASSERT_NE(m.create(limit(Side::bid, 100, 10), 1, 0), nullptr);
  OrderUpdate f1 = fill(1, 100, 4, 4);
  ASSERT_TRUE(m.apply(f1));
  OrderUpdate again = fill(1, 100, 4, 4);  // the same report replayed
  EXPECT_FALSE(m.apply(again));
  EXPECT_EQ(m.last_anomaly(), Anomaly::duplicate_fill);
  EXPECT_EQ(m.find(1)->filled.raw(), 4);
  OrderUpdate f2 = fill(1, 100, 6, 10);
  ASSERT_TRUE(m.apply(f2));
  OrderUpdate late = fill(1, 100, 6, 10);  // replayed after the close
  EXPECT_FALSE(m.apply(late));
  EXPECT_EQ(m.last_anomaly(), Anomaly::duplicate_fill);
  EXPECT_EQ(m.stats().impossible, 0u);
  EXPECT_EQ(m.stats().ignored, 2u);
  EXPECT_EQ(m.positions().position(0).raw(), 10);
  // A fill whose cumulative quantity skips ahead is applied (its own quantity) and counted.
  ASSERT_NE(m.create(limit(Side::bid, 100, 10), 2, 0), nullptr);
  OrderUpdate skip = fill(2, 100, 2, 5);
  EXPECT_TRUE(m.apply(skip));
  EXPECT_EQ(m.stats().cum_mismatch, 1u);
}

TEST(OrderManager, PoolExhaustionAndBadRequests) {
  OrderManager m(4, 2, 8);
  for (ClientOrderId id = 1; id <= 4; ++id) ASSERT_NE(m.create(limit(Side::bid, 100, 1), id, 0), nullptr);
  EXPECT_EQ(m.create(limit(Side::bid, 100, 1), 5, 0), nullptr);
  EXPECT_EQ(m.stats().create_failed, 1u);
  EXPECT_EQ(m.stats().high_water, 4u);
  OrderUpdate c = upd(UpdateKind::cancelled, 2);
  ASSERT_TRUE(m.apply(c));
  EXPECT_NE(m.create(limit(Side::bid, 100, 1), 5, 0), nullptr);  // the slot came back
  EXPECT_EQ(m.create(limit(Side::bid, 100, 1), 0, 0), nullptr);   // id 0
  m.apply(c = upd(UpdateKind::cancelled, 3));
  EXPECT_EQ(m.create(limit(Side::bid, 100, 1), 1, 0), nullptr);   // id 1 is open
  EXPECT_EQ(m.create(limit(Side::bid, 100, 1, 2), 6, 0), nullptr);  // instrument 2 >= max 2
  EXPECT_EQ(m.create(limit(Side::bid, 100, 1, 0, 8), 6, 0), nullptr);  // strategy 8 >= max 8
  EXPECT_EQ(m.create(limit(Side::bid, 100, 0), 6, 0), nullptr);        // qty 0
  EXPECT_EQ(m.stats().create_failed, 6u);
  EXPECT_NE(m.create(limit(Side::bid, 100, 1), 6, 0), nullptr);
  EXPECT_EQ(m.open_count(), 4u);
  EXPECT_THROW(OrderManager(0, 1), ConfigError);
  EXPECT_THROW(OrderManager(1, 0), ConfigError);
}

TEST(OrderManager, ClosedIdMemoryIsBounded) {
  OrderManager m(4, 1, 4, 3);  // remembers the last 3 closed ids
  for (ClientOrderId id = 1; id <= 5; ++id) {
    ASSERT_NE(m.create(limit(Side::bid, 100, 1), id, 0), nullptr);
    OrderUpdate c = upd(UpdateKind::cancelled, id);
    ASSERT_TRUE(m.apply(c));
  }
  for (ClientOrderId id = 1; id <= 5; ++id) {
    OrderUpdate f = fill(id, 100, 1);
    EXPECT_FALSE(m.apply(f));
    EXPECT_EQ(m.last_anomaly(), id <= 2 ? Anomaly::unknown_order : Anomaly::closed_order) << id;
    EXPECT_EQ(m.find_closed(id) != nullptr, id > 2);
  }
  // An id can be reused after it closed (a new session id space): the closed entry does not shadow it.
  ASSERT_NE(m.create(limit(Side::bid, 100, 2), 5, 0), nullptr);
  OrderUpdate f = fill(5, 100, 1);
  EXPECT_TRUE(m.apply(f));
}

TEST(OrderManager, InstrumentAndStrategyBookkeeping) {
  OrderManager m(16, 3, 4);
  ASSERT_NE(m.create(limit(Side::bid, 100, 5, 1, 2), 1, 0), nullptr);
  ASSERT_NE(m.create(limit(Side::bid, 103, 7, 1, 2), 2, 0), nullptr);
  ASSERT_NE(m.create(limit(Side::bid, 101, 1, 1, 3), 3, 0), nullptr);
  ASSERT_NE(m.create(limit(Side::ask, 110, 2, 1, 3), 4, 0), nullptr);
  ASSERT_NE(m.create(limit(Side::ask, 108, 2, 1, 3), 5, 0), nullptr);
  ASSERT_NE(m.create(limit(Side::ask, 90, 4, 1, 3, TimeInForce::ioc), 6, 0), nullptr);  // cannot rest
  ASSERT_NE(m.create(limit(Side::ask, 50, 4, 2, 3), 7, 0), nullptr);
  const InstrumentOrders& in = m.instrument_orders(1);
  EXPECT_EQ(in.open, 6u);
  EXPECT_EQ(m.open_count_instrument(1), 6u);
  EXPECT_EQ(m.open_count_instrument(2), 1u);
  EXPECT_EQ(m.open_count_strategy(2), 2u);
  EXPECT_EQ(m.open_count_strategy(3), 5u);
  EXPECT_EQ(in.open_qty[0].raw(), 13);
  EXPECT_EQ(in.open_qty[1].raw(), 8);
  EXPECT_EQ(in.resting[0], 3u);
  EXPECT_EQ(in.resting[1], 2u);
  EXPECT_EQ(in.best[0], 103);
  EXPECT_EQ(in.best[1], 108);  // the IOC at 90 does not rest
  OrderUpdate c = upd(UpdateKind::cancelled, 2);  // the best bid goes: rescan
  ASSERT_TRUE(m.apply(c));
  EXPECT_EQ(in.best[0], 101);
  OrderUpdate f = fill(5, 108, 2);  // the best ask fills
  ASSERT_TRUE(m.apply(f));
  EXPECT_EQ(in.best[1], 110);
  OrderUpdate c1 = upd(UpdateKind::cancelled, 1);  // not the best: no change
  ASSERT_TRUE(m.apply(c1));
  EXPECT_EQ(in.best[0], 101);
  OrderUpdate c3 = upd(UpdateKind::cancelled, 3);
  ASSERT_TRUE(m.apply(c3));
  EXPECT_EQ(in.resting[0], 0u);
  EXPECT_EQ(in.open_qty[0].raw(), 0);
  EXPECT_EQ(m.open_count_strategy(2), 0u);
  int visited = 0;
  m.for_each_open([&](const Order& o) {
    ++visited;
    EXPECT_TRUE(o.client_id == 4 || o.client_id == 6 || o.client_id == 7) << o.client_id;
  });
  EXPECT_EQ(visited, 3);
}

TEST(IdTable, MatchesAReferenceMapUnderRandomChurn) {
  // Values are slots whose stored key the table reads back (as the OMS's orders hold their ids).
  constexpr std::uint32_t kSlots = 512;
  detail::IdTable t(kSlots);
  std::vector<std::uint64_t> key_of_slot(kSlots, 0);
  std::vector<std::uint32_t> free_slots;
  for (std::uint32_t i = 0; i < kSlots; ++i) free_slots.push_back(i);
  const auto key_of = [&](std::uint32_t slot) { return key_of_slot[slot]; };
  std::unordered_map<std::uint64_t, std::uint32_t> ref;
  std::mt19937_64 rng(7);
  const std::uint64_t n = test::scaled(200'000);
  for (std::uint64_t i = 0; i < n; ++i) {
    // Keys from a small range so that clusters form and erase shifts them back; some keys far apart.
    const std::uint64_t key = rng() % 4 == 0 ? (rng() % 2000 + 1) << 40 : 1 + rng() % 2000;
    const int op = static_cast<int>(rng() % 3);
    if (op == 0 && !free_slots.empty()) {
      const std::uint32_t slot = free_slots.back();
      const bool fresh = ref.find(key) == ref.end();
      if (fresh) key_of_slot[slot] = key;
      EXPECT_EQ(t.insert(key, slot, key_of), fresh);
      if (fresh) {
        ref.emplace(key, slot);
        free_slots.pop_back();
      }
    } else if (op == 1) {
      const auto it = ref.find(key);
      EXPECT_EQ(t.erase(key, key_of), it != ref.end());
      if (it != ref.end()) {
        free_slots.push_back(it->second);
        ref.erase(it);
      }
    } else {
      const auto it = ref.find(key);
      EXPECT_EQ(t.find(key, key_of), it == ref.end() ? detail::IdTable::kNone : it->second);
    }
  }
  for (const auto& [k, v] : ref) EXPECT_EQ(t.find(k, key_of), v);
  EXPECT_GT(ref.size(), 100u);
}

TEST(IdTable, SlidingWindowsOfSessionIds) {
  // The session's ids: (strategy + 1) << 40 | sequence. 64 strategies each keep a window of 40 open ids,
  // closing the oldest as they open the next: long runs of consecutive ids, erased from the front.
  constexpr std::uint32_t kSlots = 64 * 40;
  detail::IdTable t(kSlots);
  std::vector<std::uint64_t> key_of_slot(kSlots, 0);
  std::vector<std::uint32_t> free_slots;
  for (std::uint32_t i = 0; i < kSlots; ++i) free_slots.push_back(i);
  const auto key_of = [&](std::uint32_t slot) { return key_of_slot[slot]; };
  std::unordered_map<std::uint64_t, std::uint32_t> ref;
  const auto id = [](std::uint64_t s, std::uint64_t seq) { return ((s + 1) << 40) | seq; };
  const std::uint64_t rounds = test::scaled(2000);
  for (std::uint64_t seq = 0; seq < rounds; ++seq) {
    for (std::uint64_t s = 0; s < 64; ++s) {
      if (seq >= 40) {
        const std::uint64_t old = id(s, seq - 40);
        ASSERT_TRUE(t.erase(old, key_of));
        free_slots.push_back(ref.at(old));
        ref.erase(old);
        EXPECT_EQ(t.find(old, key_of), detail::IdTable::kNone);
      }
      const std::uint32_t slot = free_slots.back();
      free_slots.pop_back();
      key_of_slot[slot] = id(s, seq);
      ASSERT_TRUE(t.insert(id(s, seq), slot, key_of));
      ref.emplace(id(s, seq), slot);
    }
    if (seq % 97 == 0) {
      for (const auto& [k, v] : ref) ASSERT_EQ(t.find(k, key_of), v);
    }
  }
  for (const auto& [k, v] : ref) EXPECT_EQ(t.find(k, key_of), v);
  EXPECT_EQ(t.find(id(64, 0), key_of), detail::IdTable::kNone);
}

TEST(OrderManager, RandomLifecyclesAgainstAModel) {
  // Random legal and illegal updates against a model of what must happen; the OMS must agree on every
  // return value and on the books at the end.
  constexpr std::size_t kMax = 64;
  OrderManager m(kMax, 1, 4, 100'000);
  struct Model {
    std::int64_t qty, filled;
    bool acked, closed;
    Side side;
  };
  std::map<ClientOrderId, Model> model;
  std::vector<ClientOrderId> ids;
  std::size_t open_now = 0;
  std::mt19937_64 rng(11);
  ClientOrderId next = 1;
  std::int64_t position = 0;
  std::uint64_t impossible = 0;
  const std::uint64_t n = test::scaled(100'000);
  for (std::uint64_t i = 0; i < n; ++i) {
    const int op = static_cast<int>(rng() % 6);
    if (op == 0 && open_now < kMax) {
      const Side side = rng() % 2 ? Side::bid : Side::ask;
      const std::int64_t q = 1 + static_cast<std::int64_t>(rng() % 10);
      ASSERT_NE(m.create(limit(side, 100 + static_cast<std::int64_t>(rng() % 5), q), next, 0), nullptr);
      ids.push_back(next);
      model[next++] = Model{q, 0, false, false, side};
      ++open_now;
      continue;
    }
    if (ids.empty()) continue;
    // Mostly recent orders (so that most updates meet open ones), sometimes any.
    const std::size_t pick = rng() % 4 != 0 ? ids.size() - 1 - rng() % std::min<std::size_t>(ids.size(), 2 * kMax)
                                             : rng() % ids.size();
    const ClientOrderId id = ids[pick];
    Model& o = model[id];
    const bool was_closed = o.closed;
    if (op == 1) {  // ack
      OrderUpdate u = upd(UpdateKind::ack, id);
      const bool expect = !o.closed && !o.acked;
      EXPECT_EQ(m.apply(u), expect);
      if (o.closed && o.filled != o.qty) ++impossible;
      o.acked = true;
    } else if (op == 2 || op == 3) {  // fill of 1..remaining+1 (sometimes an overfill)
      const std::int64_t q = 1 + static_cast<std::int64_t>(rng() % static_cast<std::uint64_t>(o.qty - o.filled + 1));
      OrderUpdate u = fill(id, 100, q);
      const bool expect = !o.closed && q <= o.qty - o.filled;
      EXPECT_EQ(m.apply(u), expect);
      if (!expect) ++impossible;
      if (expect) {
        o.filled += q;
        o.acked = true;
        o.closed = o.filled == o.qty;
        position += o.side == Side::bid ? q : -q;
      }
    } else if (op == 4) {  // cancel
      OrderUpdate u = upd(UpdateKind::cancelled, id);
      EXPECT_EQ(m.apply(u), !o.closed);
      if (o.closed && o.filled == o.qty) ++impossible;  // a cancel after the fill that closed it
      o.closed = true;
    } else {  // lookups
      EXPECT_EQ(m.find(id) != nullptr, !o.closed);
    }
    if (o.closed && !was_closed) --open_now;
  }
  std::size_t open = 0;
  std::int64_t open_bid = 0, open_ask = 0;
  for (auto& [id, o] : model) {
    if (o.closed) continue;
    ++open;
    (o.side == Side::bid ? open_bid : open_ask) += o.qty - o.filled;
  }
  EXPECT_EQ(m.open_count(), open);
  EXPECT_EQ(m.instrument_orders(0).open_qty[0].raw(), open_bid);
  EXPECT_EQ(m.instrument_orders(0).open_qty[1].raw(), open_ask);
  EXPECT_EQ(m.positions().position(0).raw(), position);
  EXPECT_EQ(m.stats().impossible, impossible);
  // The walk really exercised every path.
  EXPECT_GT(m.stats().fills, n / 20);
  EXPECT_GT(m.stats().filled, n / 100);
  EXPECT_GT(m.stats().cancelled, n / 100);
  EXPECT_GT(impossible, n / 100);
  EXPECT_GT(m.stats().ignored, n / 100);
}

// ---- positions ---------------------------------------------------------------------------------------

TEST(Position, HandComputedExampleWithAFlip) {
  // Prices at 0.01, quantities at 0.001: price 100 ticks = 1.00, qty 1000 steps = 1.
  PositionBook p(1);
  p.set_scales(0, Scale::from_step("0.01"), Scale::from_step("0.001"));
  p.on_fill(0, Side::bid, Price(10000), Qty(1000));  // buy 1 @ 100.00
  p.on_fill(0, Side::bid, Price(11000), Qty(1000));  // buy 1 @ 110.00 -> long 2 @ 105
  EXPECT_EQ(p.position(0).raw(), 2000);
  EXPECT_DOUBLE_EQ(p.avg_price(0), 105.0);
  EXPECT_DOUBLE_EQ(p.realized_pnl(0), 0.0);
  p.set_mark2(0, 2 * 11500);  // mark 115: unrealised (115-105)*2 = 20
  EXPECT_DOUBLE_EQ(p.unrealized_pnl(0), 20.0);
  p.on_fill(0, Side::ask, Price(12000), Qty(3000));  // sell 3 @ 120: +30 realised, short 1 @ 120
  EXPECT_EQ(p.position(0).raw(), -1000);
  EXPECT_DOUBLE_EQ(p.realized_pnl(0), 30.0);
  EXPECT_DOUBLE_EQ(p.avg_price(0), 120.0);
  EXPECT_EQ(p.state(0).realized, static_cast<int128>(30) * 100 * 1000);
  p.set_mark2(0, 2 * 11000);  // short 1 from 120, mark 110: +10
  EXPECT_DOUBLE_EQ(p.unrealized_pnl(0), 10.0);
  EXPECT_DOUBLE_EQ(p.total_pnl(), 40.0);
  p.on_fill(0, Side::bid, Price(10000), Qty(1000));  // buy back at 100: +20 -> 50, flat
  EXPECT_EQ(p.position(0).raw(), 0);
  EXPECT_EQ(p.state(0).cost, 0);
  EXPECT_DOUBLE_EQ(p.realized_pnl(0), 50.0);
  EXPECT_DOUBLE_EQ(p.unrealized_pnl(0), 0.0);
  EXPECT_DOUBLE_EQ(p.avg_price(0), 0.0);
  EXPECT_EQ(p.state(0).fills, 4u);
  EXPECT_EQ(p.state(0).bought.raw(), 3000);
  EXPECT_EQ(p.state(0).sold.raw(), 3000);
}

TEST(Position, PartialClosesConserveEveryUnit) {
  PositionBook p(1);
  p.on_fill(0, Side::bid, Price(100), Qty(3));
  p.on_fill(0, Side::bid, Price(101), Qty(1));  // cost 401 for 4: the average is not an integer
  p.on_fill(0, Side::ask, Price(101), Qty(1));
  p.on_fill(0, Side::ask, Price(101), Qty(1));
  p.on_fill(0, Side::ask, Price(101), Qty(2));
  EXPECT_EQ(p.position(0).raw(), 0);
  EXPECT_EQ(p.state(0).realized, 4 * 101 - 401);  // exact once flat
  EXPECT_EQ(p.state(0).cost, 0);
}

TEST(Position, ShortSideAndMarkFromTopOfBook) {
  PositionBook p(2);
  p.on_fill(1, Side::ask, Price(100), Qty(2));
  p.on_fill(1, Side::bid, Price(90), Qty(1));  // cover 1 at 90: +10
  EXPECT_EQ(p.state(1).realized, 10);
  EXPECT_EQ(p.position(1).raw(), -1);
  book::TopOfBook top;
  top.bid_price = 79;
  top.bid_qty = 1;
  top.ask_price = 81;
  top.ask_qty = 1;
  p.set_mark(1, top);
  EXPECT_EQ(p.unrealized2_raw(1), 2 * 20);  // short from 100, mark 80
  top.ask_qty = 0;  // one side: that side is the mark
  p.set_mark(1, top);
  EXPECT_EQ(p.unrealized2_raw(1), 2 * 21);
  EXPECT_DOUBLE_EQ(p.unrealized_pnl(1), 21.0);
  EXPECT_EQ(p.position(0).raw(), 0);
  p.on_fill(7, Side::bid, Price(1), Qty(1));  // out of range: ignored
  p.on_fill(0, Side::bid, Price(1), Qty(0));  // zero: ignored
  EXPECT_EQ(p.state(0).fills, 0u);
}

TEST(Position, FlipFromShortToLong) {
  PositionBook p(1);
  p.on_fill(0, Side::ask, Price(200), Qty(5));
  p.on_fill(0, Side::bid, Price(150), Qty(8));  // cover 5 (+250), long 3 @ 150
  EXPECT_EQ(p.state(0).realized, 250);
  EXPECT_EQ(p.position(0).raw(), 3);
  EXPECT_EQ(p.state(0).cost, 450);
  p.on_fill(0, Side::ask, Price(160), Qty(3));
  EXPECT_EQ(p.state(0).realized, 280);
  EXPECT_EQ(p.position(0).raw(), 0);
}

// The instrument table every venue's codec shares: each symbol found at its position, others not; a bad
// table is a ConfigError that names the key.
TEST(ApiInstruments, FindsEverySymbolAndRefusesBadTables) {
  std::vector<ApiInstrument> list;
  for (int i = 0; i < 300; ++i)
    list.push_back({"SYM-" + std::to_string(i), Scale::from_step("0.01"), Scale::from_step("0.001")});
  const ApiInstruments table(list);
  ASSERT_EQ(table.size(), 300u);
  EXPECT_EQ(table.longest_symbol(), 7u);
  for (int i = 0; i < 300; ++i) {
    InstrumentId id = 0;
    ASSERT_TRUE(table.find("SYM-" + std::to_string(i), id)) << i;
    EXPECT_EQ(id, i);
    EXPECT_EQ(table[id].symbol, "SYM-" + std::to_string(i));
  }
  InstrumentId id = 7;
  EXPECT_FALSE(table.find("SYM-300", id));
  EXPECT_FALSE(table.find("", id));
  EXPECT_EQ(id, 7);
  EXPECT_FALSE(ApiInstruments().find("SYM-1", id));

  const auto error_of = [](std::vector<ApiInstrument> l) {
    try {
      (void)ApiInstruments(std::move(l));
    } catch (const ConfigError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_EQ(error_of({}), "instruments: expected 1..65535 instruments, got 0");
  std::vector<ApiInstrument> twice{list[0], list[1], list[0]};
  EXPECT_EQ(error_of(twice), "instruments[2].symbol: 'SYM-0' is listed twice");
  std::vector<ApiInstrument> bad{list[0], list[1]};
  bad[1].symbol = "BTC/USDT";
  EXPECT_EQ(error_of(bad), "instruments[1].symbol: 'BTC/USDT' is invalid (expected 1..32 characters of [A-Za-z0-9_-])");
  bad[1].symbol = std::string(33, 'A');
  EXPECT_NE(error_of(bad).find("instruments[1].symbol"), std::string::npos);
}

}  // namespace
}  // namespace hftx::oms
