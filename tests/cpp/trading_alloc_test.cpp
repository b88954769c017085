// Zero heap allocations after warm-up on the trading hot path: strategies' callbacks → risk checks →
// order create/mark_sent → venue updates applied (acks, partial and full fills, cancels, duplicates,
// unknown ids) → positions and PnL → kill switch checks. Counted by the interposed allocator.
#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <vector>

#include "hftx/oms/order.hpp"
#include "hftx/risk/risk.hpp"
#include "hftx/strategy/latency_probe.hpp"
#include "hftx/strategy/market_maker.hpp"
#include "hftx/strategy/strategy.hpp"
#include "hftx/strategy/taker.hpp"
#include "hftx/testing/alloc_counter.hpp"
#include "test_support.hpp"

namespace hftx {
namespace {

const Scale kPrice = Scale::from_step("0.01");
const Scale kQty = Scale::from_step("0.00000001");

// Routes strategy actions through risk and the OMS the way the session's inline mode does, and plays the
// venue: every sent order is acked, some fill, every cancel is confirmed. Fixed-capacity queues only.
class Loop final : public strategy::StrategyContext {
 public:
  Loop() : oms_(4096, 1, 8), risk_(config(), oms_) {
    risk_.add_instrument(0, kPrice, kQty, "0.00001");
    oms_.positions().set_scales(0, kPrice, kQty);
    for (auto* v : {&acks_, &cancels_, &pending_acks_, &pending_cancels_}) v->reserve(kQueue);
  }

  static risk::RiskConfig config() {
    risk::RiskConfig c;
    c.max_position = 1000;
    c.max_open_orders = 4000;
    c.orders_per_second = 1e9;
    c.burst = 100000;
    c.loss_limit = 1e12;
    c.reject_storm = 1000;
    return c;
  }

  strategy::ClientOrderId place(const oms::OrderRequest& r) noexcept override {
    const risk::RiskReason reason = risk_.check(r, now_);
    if (reason != risk::RiskReason::ok) {
      last_reject_ = static_cast<std::uint8_t>(reason);
      return 0;
    }
    const strategy::ClientOrderId id = next_id_++;
    if (oms_.create(r, id, now_) == nullptr) return 0;
    (void)oms_.mark_sent(id, now_);
    if (acks_.size() < kQueue) acks_.push_back(id);
    return id;
  }
  bool cancel(strategy::ClientOrderId id) noexcept override {
    if (!oms_.mark_cancel_sent(id, now_)) return false;
    if (cancels_.size() < kQueue) cancels_.push_back(id);
    return true;
  }
  void cancel_all(strategy::InstrumentId instrument) noexcept override {
    oms_.for_each_open([&](const oms::Order& o) {
      if (o.instrument == instrument) cancel(o.client_id);
    });
  }
  std::uint8_t last_reject() const noexcept override { return last_reject_; }
  std::int64_t now_ns() const noexcept override { return now_; }
  const Scale& price_scale(strategy::InstrumentId) const noexcept override { return kPrice; }
  const Scale& qty_scale(strategy::InstrumentId) const noexcept override { return kQty; }

  void add(std::unique_ptr<strategy::Strategy> s) {
    s->bind(static_cast<oms::StrategyId>(strategies_.size()), 0);
    strategies_.push_back(std::move(s));
  }

  // One market event and the venue's answers to whatever it caused.
  void step(std::uint64_t i) {
    now_ += 50'000;
    const auto wiggle = static_cast<std::int64_t>((i * 7919) % 2001) - 1000;
    strategy::BookEvent ev;
    ev.top.bid_price = 6'000'000 + wiggle * 10;
    ev.top.ask_price = ev.top.bid_price + 100;
    ev.top.bid_qty = 1000 + static_cast<std::int64_t>(i % 5000);
    ev.top.ask_qty = 1000 + static_cast<std::int64_t>((i * 31) % 5000);
    risk_.on_book(0, ev.top);
    oms_.positions().set_mark(0, ev.top);
    for (auto& s : strategies_) s->on_book(*this, ev);
    strategy::TradeEvent tr;
    tr.price = Price(ev.top.bid_price);
    tr.qty = Qty(100);
    for (auto& s : strategies_) s->on_trade(*this, tr);
    venue(i, ev.top);
    (void)risk_.on_pnl(oms_.positions().total_pnl());
    if (i % 64 == 0) {
      for (auto& s : strategies_) s->on_timer(*this, now_);
    }
  }

  const oms::OrderManager& oms() const { return oms_; }
  const risk::RiskEngine& risk() const { return risk_; }

 private:
  static constexpr std::size_t kQueue = 4096;

  void deliver(oms::OrderUpdate& u) {
    if (oms_.apply(u)) strategies_[u.strategy]->on_order_update(*this, u);
  }

  void venue(std::uint64_t i, const book::TopOfBook& top) {
    // Swap out the queues first: strategies react to updates with new orders and cancels.
    pending_acks_.swap(acks_);
    pending_cancels_.swap(cancels_);
    for (strategy::ClientOrderId id : pending_acks_) {
      oms::OrderUpdate u;
      u.kind = oms::UpdateKind::ack;
      u.client_id = id;
      u.venue_order_id = id + 1'000'000;
      u.recv_ns = now_;
      deliver(u);
      oms::OrderUpdate dup = u;  // the executionReport NEW after the response
      deliver(dup);
      const oms::Order* o = oms_.find(id);
      if (o == nullptr) continue;
      if (o->tif() != oms::TimeInForce::gtc) {  // IOC: half fills, the rest expires
        oms::OrderUpdate f;
        f.kind = oms::UpdateKind::fill;
        f.client_id = id;
        f.last_price = o->price;
        f.last_qty = Qty(o->qty.raw() / 2);
        f.recv_ns = now_;
        deliver(f);
        oms::OrderUpdate e;
        e.kind = oms::UpdateKind::expired;
        e.client_id = id;
        deliver(e);
      } else if ((id + i) % 3 == 0) {  // some resting orders fill
        oms::OrderUpdate f;
        f.kind = oms::UpdateKind::fill;
        f.client_id = id;
        f.last_price = o->price;
        f.last_qty = o->qty;
        f.cum_qty = o->qty;
        f.recv_ns = now_;
        f.maker = true;
        deliver(f);
      }
    }
    for (strategy::ClientOrderId id : pending_cancels_) {
      oms::OrderUpdate c;
      c.kind = oms::UpdateKind::cancelled;
      c.client_id = id;
      c.recv_ns = now_;
      deliver(c);
      oms::OrderUpdate again = c;  // the executionReport CANCELED after the response
      deliver(again);
    }
    oms::OrderUpdate stray;  // a fill for an unknown order: counted, survived
    stray.kind = oms::UpdateKind::fill;
    stray.client_id = 999'999'999;
    stray.last_price = Price(top.bid_price);
    stray.last_qty = Qty(1);
    deliver(stray);
    pending_acks_.clear();
    pending_cancels_.clear();
  }

  oms::OrderManager oms_;
  risk::RiskEngine risk_;
  std::vector<std::unique_ptr<strategy::Strategy>> strategies_;
  std::vector<strategy::ClientOrderId> acks_, cancels_;
  std::vector<strategy::ClientOrderId> pending_acks_, pending_cancels_;
  strategy::ClientOrderId next_id_ = 1;
  std::int64_t now_ = 1'000'000'000;
  std::uint8_t last_reject_ = 0;
};

TEST(TradingAlloc, HotPathAllocatesNothingAfterWarmUp) {
  ASSERT_TRUE(testing::alloc_counter_active());
  Loop loop;
  loop.add(strategy::make_strategy("market_maker", {{"spread_bps", 2.0}, {"requote_bps", 0.5}}, kPrice, kQty));
  loop.add(strategy::make_strategy("market_maker", {{"spread_bps", 8.0}, {"skew_bps_per_unit", 50.0}}, kPrice, kQty));
  loop.add(strategy::make_strategy("taker", {{"imbalance", 0.3}, {"cooldown_ms", 0.1}}, kPrice, kQty));
  loop.add(strategy::make_strategy("latency_probe", {}, kPrice, kQty));
  for (std::uint64_t i = 0; i < 1000; ++i) loop.step(i);  // warm-up
  const oms::OmsStats before = loop.oms().stats();
  const std::uint64_t n = test::scaled(100'000);
  testing::AllocScope scope;
  for (std::uint64_t i = 1000; i < 1000 + n; ++i) loop.step(i);
  const testing::AllocStats d = scope.delta();
  EXPECT_EQ(d.allocations, 0u);
  EXPECT_EQ(d.bytes, 0u);
  // The loop did real work: orders, fills of each kind, cancels, duplicates, unknown ids.
  const oms::OmsStats after = loop.oms().stats();
  EXPECT_GT(after.created - before.created, n);
  EXPECT_GT(after.fills - before.fills, n / 10);
  EXPECT_GT(after.cancelled - before.cancelled, n / 2);
  EXPECT_GT(after.expired - before.expired, 10u);
  EXPECT_GT(after.ignored - before.ignored, n);
  EXPECT_GE(after.anomalies[static_cast<std::size_t>(oms::Anomaly::unknown_order)], n);
  EXPECT_GT(loop.risk().stats().checks, n);
  EXPECT_FALSE(loop.risk().killed());
}

}  // namespace
}  // namespace hftx
