// Pre-trade risk: each reason triggers exactly at its limit, the token bucket refills with injected time,
// the kill switch trips manually, on the loss limit and on a reject storm, self-trade prevention.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "hftx/oms/order.hpp"
#include "hftx/risk/risk.hpp"

namespace hftx::risk {
namespace {

using oms::OrderRequest;
using oms::Side;

// BTCUSDT-like grids: price 0.01, quantity 1e-8, lot 1e-5 (= 1000 qty steps). Mid 60000.00.
constexpr std::int64_t kMid = 6'000'000;
constexpr std::int64_t kLot = 1000;
constexpr std::int64_t kBtc = 100'000'000;

RiskConfig base_config() {
  RiskConfig c;
  c.max_order_qty = 1.0;
  c.max_notional = 600.0;     // 0.01 BTC at 60000
  c.price_band_bps = 500;     // ±3000.00
  c.max_position = 0.05;
  c.max_open_orders = 8;
  c.orders_per_second = 1000;
  c.burst = 1000;
  c.loss_limit = 1000;
  c.reject_storm = 3;
  return c;
}

struct Fixture {
  explicit Fixture(const RiskConfig& c = base_config()) : oms(64, 4, 16), risk(c, oms) {
    risk.add_instrument(0, Scale::from_step("0.01"), Scale::from_step("0.00000001"), "0.00001");
    risk.add_instrument(1, Scale::from_step("0.01"), Scale::from_step("0.00000001"), "0.00001");
    book::TopOfBook top;
    top.bid_price = kMid - 1;
    top.ask_price = kMid + 1;
    top.bid_qty = top.ask_qty = 5;
    risk.on_book(0, top);
  }
  oms::OrderManager oms;
  RiskEngine risk;
  std::int64_t now = 1'000'000'000;
  oms::ClientOrderId next_id = 1;

  RiskReason check(Side side, std::int64_t price, std::int64_t qty, oms::InstrumentId inst = 0,
                   oms::OrderType type = oms::OrderType::limit) {
    return risk.check(req(side, price, qty, inst, type), now);
  }
  static OrderRequest req(Side side, std::int64_t price, std::int64_t qty, oms::InstrumentId inst = 0,
                          oms::OrderType type = oms::OrderType::limit,
                          oms::TimeInForce tif = oms::TimeInForce::gtc) {
    OrderRequest r;
    r.instrument = inst;
    r.strategy = 1;
    r.side = side;
    r.type = type;
    r.tif = tif;
    r.price = Price(price);
    r.qty = Qty(qty);
    return r;
  }
  oms::ClientOrderId rest(Side side, std::int64_t price, std::int64_t qty,
                          oms::TimeInForce tif = oms::TimeInForce::gtc) {
    const oms::ClientOrderId id = next_id++;
    EXPECT_NE(oms.create(req(side, price, qty, 0, oms::OrderType::limit, tif), id, now), nullptr);
    return id;
  }
  void close(oms::ClientOrderId id) {
    oms::OrderUpdate u;
    u.kind = oms::UpdateKind::cancelled;
    u.client_id = id;
    EXPECT_TRUE(oms.apply(u));
  }
  void fill(oms::ClientOrderId id, std::int64_t price, std::int64_t qty) {
    oms::OrderUpdate u;
    u.kind = oms::UpdateKind::fill;
    u.client_id = id;
    u.last_price = Price(price);
    u.last_qty = Qty(qty);
    EXPECT_TRUE(oms.apply(u));
  }
};

TEST(Risk, ReasonNames) {
  EXPECT_EQ(to_string(RiskReason::ok), "ok");
  EXPECT_EQ(to_string(RiskReason::self_trade), "self_trade");
  EXPECT_EQ(to_string(RiskReason::lot_size), "lot_size");
  EXPECT_EQ(kReasons, 11u);
  for (std::size_t i = 0; i < kReasons; ++i) EXPECT_NE(to_string(static_cast<RiskReason>(i)), "unknown");
  EXPECT_EQ(to_string(KillCause::reject_storm), "reject_storm");
}

TEST(Risk, LimitsAreConvertedToTheGrids) {
  Fixture f;
  const RiskEngine::Limits& l = f.risk.limits(0);
  EXPECT_TRUE(l.configured);
  EXPECT_EQ(l.lot, kLot);
  EXPECT_EQ(l.max_qty, kBtc);
  EXPECT_EQ(l.max_position, 5'000'000);          // 0.05 BTC
  EXPECT_EQ(l.max_notional, 600LL * 100 * kBtc);  // tick·steps
  EXPECT_EQ(l.mid2, 2 * kMid);
  EXPECT_FALSE(f.risk.limits(2).configured);
}

TEST(Risk, PassesAndConsumesAToken) {
  Fixture f;
  EXPECT_EQ(f.check(Side::bid, kMid, kLot), RiskReason::ok);
  EXPECT_EQ(f.risk.tokens(), 999);
  EXPECT_EQ(f.risk.stats().by_reason[0], 1u);
}

TEST(Risk, LotSize) {
  Fixture f;
  EXPECT_EQ(f.check(Side::bid, kMid, 0), RiskReason::lot_size);
  EXPECT_EQ(f.check(Side::bid, kMid, -kLot), RiskReason::lot_size);
  EXPECT_EQ(f.check(Side::bid, kMid, kLot + 1), RiskReason::lot_size);
  EXPECT_EQ(f.check(Side::bid, kMid, 2 * kLot), RiskReason::ok);
  EXPECT_EQ(f.risk.stats().by_reason[static_cast<std::size_t>(RiskReason::lot_size)], 3u);
}

TEST(Risk, MaxQtyExactlyAtTheLimit) {
  RiskConfig c = base_config();
  c.max_notional = 1e9;
  c.max_position = 100;
  Fixture f(c);
  EXPECT_EQ(f.check(Side::bid, kMid, kBtc), RiskReason::ok);
  EXPECT_EQ(f.check(Side::bid, kMid, kBtc + kLot), RiskReason::max_qty);
}

TEST(Risk, MaxNotionalExactlyAtTheLimit) {
  Fixture f;
  // 60000.00 × 0.01 = 600 exactly.
  EXPECT_EQ(f.check(Side::bid, kMid, kBtc / 100), RiskReason::ok);
  EXPECT_EQ(f.check(Side::bid, kMid, kBtc / 100 + kLot), RiskReason::max_notional);
  EXPECT_EQ(f.check(Side::bid, kMid + 1, kBtc / 100), RiskReason::max_notional);
  // Market orders are valued at the mid.
  EXPECT_EQ(f.check(Side::bid, 0, kBtc / 100, 0, oms::OrderType::market), RiskReason::ok);
  EXPECT_EQ(f.check(Side::bid, 0, kBtc / 100 + kLot, 0, oms::OrderType::market), RiskReason::max_notional);
}

TEST(Risk, PriceBandExactlyAtTheLimit) {
  Fixture f;
  const std::int64_t band = kMid * 500 / 10000;  // 300000 ticks
  EXPECT_EQ(f.check(Side::bid, kMid + band, kLot), RiskReason::ok);
  EXPECT_EQ(f.check(Side::bid, kMid + band + 1, kLot), RiskReason::price_band);
  EXPECT_EQ(f.check(Side::ask, kMid - band, kLot), RiskReason::ok);
  EXPECT_EQ(f.check(Side::ask, kMid - band - 1, kLot), RiskReason::price_band);
  EXPECT_EQ(f.check(Side::bid, 0, kLot), RiskReason::price_band);
  EXPECT_EQ(f.check(Side::bid, -5, kLot), RiskReason::price_band);
  // Fractional bps: 2.5 bps of 60000 = 15.00.
  RiskConfig c = base_config();
  c.price_band_bps = 2.5;
  Fixture g(c);
  EXPECT_EQ(g.check(Side::bid, kMid + 1500, kLot), RiskReason::ok);
  EXPECT_EQ(g.check(Side::bid, kMid + 1501, kLot), RiskReason::price_band);
}

TEST(Risk, NoReferencePrice) {
  Fixture f;
  EXPECT_EQ(f.check(Side::bid, kMid, kLot, 1), RiskReason::no_reference_price);  // no book yet
  EXPECT_EQ(f.check(Side::bid, kMid, kLot, 2), RiskReason::no_reference_price);  // not configured
  EXPECT_EQ(f.check(Side::bid, kMid, kLot, 9), RiskReason::no_reference_price);  // out of range
  book::TopOfBook top;
  top.bid_price = kMid;
  top.bid_qty = 1;  // one side only: that side is the reference
  f.risk.on_book(1, top);
  EXPECT_EQ(f.risk.reference_mid2(1), 2 * kMid);
  EXPECT_EQ(f.check(Side::bid, kMid, kLot, 1), RiskReason::ok);
  top.bid_qty = 0;  // empty book clears it
  f.risk.on_book(1, top);
  EXPECT_EQ(f.check(Side::bid, kMid, kLot, 1), RiskReason::no_reference_price);
}

TEST(Risk, OpenOrdersExactlyAtTheLimit) {
  Fixture f;
  for (int i = 0; i < 7; ++i) f.rest(Side::bid, kMid - 100, kLot);
  EXPECT_EQ(f.check(Side::bid, kMid - 100, kLot), RiskReason::ok);  // the 8th
  f.rest(Side::bid, kMid - 100, kLot);
  EXPECT_EQ(f.check(Side::bid, kMid - 100, kLot), RiskReason::open_orders);
  f.close(1);
  EXPECT_EQ(f.check(Side::bid, kMid - 100, kLot), RiskReason::ok);
}

TEST(Risk, PositionLimitCountsPositionAndOpenSameSideQuantity) {
  RiskConfig c = base_config();
  c.max_notional = 1e9;
  Fixture f(c);  // max_position 0.05 BTC = 5e6 steps
  const oms::ClientOrderId a = f.rest(Side::bid, kMid - 100, 2'000'000);
  f.fill(a, kMid - 100, 2'000'000);                 // long 0.02
  f.rest(Side::bid, kMid - 200, 1'000'000);          // open buy 0.01
  f.rest(Side::ask, kMid + 100, 4'000'000);          // open sell 0.04 (other side: does not count for buys)
  EXPECT_EQ(f.check(Side::bid, kMid - 300, 2'000'000), RiskReason::ok);  // 0.02 + 0.01 + 0.02 = 0.05
  EXPECT_EQ(f.check(Side::bid, kMid - 300, 2'001'000), RiskReason::position_limit);
  // Sells: 0.02 - 0.04 - q >= -0.05  ⇔  q <= 0.03
  EXPECT_EQ(f.check(Side::ask, kMid + 300, 3'000'000), RiskReason::ok);
  EXPECT_EQ(f.check(Side::ask, kMid + 300, 3'001'000), RiskReason::position_limit);
}

TEST(Risk, SelfTradePreventionAgainstOwnRestingOrders) {
  Fixture f;
  const oms::ClientOrderId ask1 = f.rest(Side::ask, kMid + 100, kLot);
  f.rest(Side::ask, kMid + 200, kLot);
  f.rest(Side::bid, kMid - 100, kLot);
  f.rest(Side::ask, kMid - 50, kLot, oms::TimeInForce::ioc);  // IOC: never rests, not counted
  EXPECT_EQ(f.check(Side::bid, kMid + 99, kLot), RiskReason::ok);
  EXPECT_EQ(f.check(Side::bid, kMid + 100, kLot), RiskReason::self_trade);
  EXPECT_EQ(f.check(Side::bid, 0, kLot, 0, oms::OrderType::market), RiskReason::self_trade);
  EXPECT_EQ(f.check(Side::ask, kMid - 99, kLot), RiskReason::ok);
  EXPECT_EQ(f.check(Side::ask, kMid - 100, kLot), RiskReason::self_trade);
  EXPECT_EQ(f.check(Side::ask, 0, kLot, 0, oms::OrderType::market), RiskReason::self_trade);
  f.close(ask1);  // the best own ask goes: the next one is the limit
  EXPECT_EQ(f.check(Side::bid, kMid + 150, kLot), RiskReason::ok);
  EXPECT_EQ(f.check(Side::bid, kMid + 200, kLot), RiskReason::self_trade);
}

TEST(Risk, TokenBucketRefillsWithInjectedTime) {
  RiskConfig c = base_config();
  c.orders_per_second = 1000;  // one per ms
  c.burst = 5;
  c.max_open_orders = 1000;
  Fixture f(c);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(f.check(Side::bid, kMid, kLot), RiskReason::ok) << i;
  EXPECT_EQ(f.check(Side::bid, kMid, kLot), RiskReason::rate_limit);
  // Rejected orders do not consume tokens: a lot-size failure now, then still empty.
  EXPECT_EQ(f.check(Side::bid, kMid, 1), RiskReason::lot_size);
  f.now += 999'999;  // just under one token
  EXPECT_EQ(f.check(Side::bid, kMid, kLot), RiskReason::rate_limit);
  f.now += 1;
  EXPECT_EQ(f.check(Side::bid, kMid, kLot), RiskReason::ok);
  EXPECT_EQ(f.check(Side::bid, kMid, kLot), RiskReason::rate_limit);
  f.now += 60'000'000'000;  // a minute: full, not more than the burst
  for (int i = 0; i < 5; ++i) EXPECT_EQ(f.check(Side::bid, kMid, kLot), RiskReason::ok) << i;
  EXPECT_EQ(f.check(Side::bid, kMid, kLot), RiskReason::rate_limit);
  f.now -= 10'000'000;  // time going backwards adds nothing
  EXPECT_EQ(f.check(Side::bid, kMid, kLot), RiskReason::rate_limit);
  EXPECT_EQ(f.risk.stats().by_reason[static_cast<std::size_t>(RiskReason::rate_limit)], 5u);
}

TEST(Risk, TokenBucketFractionalRate) {
  RiskConfig c = base_config();
  c.orders_per_second = 0.5;  // one per 2 s
  c.burst = 1;
  Fixture f(c);
  EXPECT_EQ(f.check(Side::bid, kMid, kLot), RiskReason::ok);
  f.now += 1'999'999'999;
  EXPECT_EQ(f.check(Side::bid, kMid, kLot), RiskReason::rate_limit);
  f.now += 1;
  EXPECT_EQ(f.check(Side::bid, kMid, kLot), RiskReason::ok);
}

TEST(Risk, ManualKillSwitch) {
  Fixture f;
  std::vector<KillCause> calls;
  f.risk.set_kill_callback([&](KillCause c) { calls.push_back(c); });
  EXPECT_FALSE(f.risk.killed());
  f.risk.kill();
  f.risk.kill(KillCause::loss_limit);  // first cause wins, callback once
  EXPECT_TRUE(f.risk.killed());
  EXPECT_EQ(f.risk.kill_cause(), KillCause::manual);
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(calls[0], KillCause::manual);
  EXPECT_EQ(f.check(Side::bid, kMid, kLot), RiskReason::kill_switch);
  EXPECT_EQ(f.check(Side::bid, kMid, 1), RiskReason::kill_switch);  // before any other check
  f.risk.reset_kill();
  EXPECT_EQ(f.check(Side::bid, kMid, kLot), RiskReason::ok);
  EXPECT_EQ(f.risk.stats().by_reason[static_cast<std::size_t>(RiskReason::kill_switch)], 2u);
}

TEST(Risk, LossLimitTripsTheKillSwitch) {
  Fixture f;
  KillCause seen = KillCause::none;
  f.risk.set_kill_callback([&](KillCause c) { seen = c; });
  EXPECT_FALSE(f.risk.on_pnl(500.0));
  EXPECT_FALSE(f.risk.on_pnl(-999.99));
  EXPECT_FALSE(f.risk.killed());
  EXPECT_TRUE(f.risk.on_pnl(-1000.0));
  EXPECT_TRUE(f.risk.killed());
  EXPECT_EQ(seen, KillCause::loss_limit);
  EXPECT_FALSE(f.risk.on_pnl(-2000.0));  // already tripped
  RiskConfig c = base_config();
  c.loss_limit = 0;  // off
  Fixture g(c);
  EXPECT_FALSE(g.risk.on_pnl(-1e12));
  EXPECT_FALSE(g.risk.killed());
}

TEST(Risk, LossLimitFromPositions) {
  // End to end with the OMS's positions: long 0.01 at 60000, the mark falls to 50000: -100.
  RiskConfig c = base_config();
  c.loss_limit = 100;
  Fixture f(c);
  f.oms.positions().set_scales(0, Scale::from_step("0.01"), Scale::from_step("0.00000001"));
  const oms::ClientOrderId id = f.rest(Side::bid, kMid, kBtc / 100);
  f.fill(id, kMid, kBtc / 100);
  f.oms.positions().set_mark2(0, 2 * 5'001'000);
  EXPECT_FALSE(f.risk.on_pnl(f.oms.positions().total_pnl()));  // -99.90
  f.oms.positions().set_mark2(0, 2 * 5'000'000);
  EXPECT_NEAR(f.oms.positions().total_pnl(), -100.0, 1e-9);
  EXPECT_TRUE(f.risk.on_pnl(f.oms.positions().total_pnl()));
}

TEST(Risk, RejectStormTripsTheKillSwitch) {
  Fixture f;  // 3 rejects within one second
  const std::int64_t s = 1'000'000'000;
  EXPECT_FALSE(f.risk.on_venue_reject(10 * s));
  EXPECT_FALSE(f.risk.on_venue_reject(10 * s + s / 2));
  EXPECT_FALSE(f.risk.on_venue_reject(11 * s + s / 5));   // 3 in 1.2 s: not a storm
  EXPECT_FALSE(f.risk.killed());
  EXPECT_TRUE(f.risk.on_venue_reject(11 * s + 3 * s / 10));  // last 3 within 0.8 s
  EXPECT_TRUE(f.risk.killed());
  EXPECT_EQ(f.risk.kill_cause(), KillCause::reject_storm);
  EXPECT_EQ(f.risk.stats().venue_rejects, 4u);
  EXPECT_EQ(f.check(Side::bid, kMid, kLot), RiskReason::kill_switch);
  RiskConfig c = base_config();
  c.reject_storm = 0;  // off
  Fixture g(c);
  for (int i = 0; i < 100; ++i) EXPECT_FALSE(g.risk.on_venue_reject(s));
  c.reject_storm = 1;  // the first reject trips
  Fixture h(c);
  EXPECT_TRUE(h.risk.on_venue_reject(s));
}

TEST(Risk, EveryReasonIsCounted) {
  Fixture f;
  std::uint64_t total = 0;
  for (std::size_t i = 0; i < kReasons; ++i) total += f.risk.stats().by_reason[i];
  EXPECT_EQ(total, 0u);
  (void)f.check(Side::bid, kMid, kLot);
  (void)f.check(Side::bid, kMid, 1);
  (void)f.check(Side::bid, kMid + 1'000'000, kLot);
  const RiskStats& s = f.risk.stats();
  EXPECT_EQ(s.checks, 3u);
  EXPECT_EQ(s.by_reason[static_cast<std::size_t>(RiskReason::ok)], 1u);
  EXPECT_EQ(s.by_reason[static_cast<std::size_t>(RiskReason::lot_size)], 1u);
  EXPECT_EQ(s.by_reason[static_cast<std::size_t>(RiskReason::price_band)], 1u);
}

TEST(RiskConfig, ValidateNamesTheKey) {
  const auto expect_error = [](RiskConfig c, const std::string& key) {
    try {
      c.validate();
      ADD_FAILURE() << "no error for " << key;
    } catch (const ConfigError& e) {
      EXPECT_NE(std::string(e.what()).find("risk." + key), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find("expected"), std::string::npos) << e.what();
    }
  };
  EXPECT_NO_THROW(RiskConfig{}.validate());
  RiskConfig c;
  c.max_order_qty = 0;
  expect_error(c, "max_order_qty");
  c = RiskConfig{};
  c.max_notional = -1;
  expect_error(c, "max_notional");
  c = RiskConfig{};
  c.price_band_bps = 10001;
  expect_error(c, "price_band_bps");
  c = RiskConfig{};
  c.max_position = -0.5;
  expect_error(c, "max_position");
  c = RiskConfig{};
  c.max_open_orders = 0;
  expect_error(c, "max_open_orders");
  c = RiskConfig{};
  c.orders_per_second = 0;
  expect_error(c, "orders_per_second");
  c = RiskConfig{};
  c.burst = 0;
  expect_error(c, "burst");
  c = RiskConfig{};
  c.loss_limit = -1;
  expect_error(c, "loss_limit");
  c = RiskConfig{};
  c.reject_storm = -1;
  expect_error(c, "reject_storm");
  c = RiskConfig{};
  c.max_notional = std::numeric_limits<double>::quiet_NaN();
  expect_error(c, "max_notional");
  oms::OrderManager m(4, 1);
  c = RiskConfig{};
  c.burst = 0;
  EXPECT_THROW(RiskEngine(c, m), ConfigError);
}

TEST(RiskConfig, BadInstrumentSetup) {
  oms::OrderManager m(4, 2);
  RiskEngine r(RiskConfig{}, m);
  EXPECT_THROW(r.add_instrument(2, Scale::from_step("0.01"), Scale::from_step("0.00000001"), "0.001"), ConfigError);
  try {
    r.add_instrument(0, Scale::from_step("0.01"), Scale::from_step("0.001"), "0.0005");  // finer than qty step
    ADD_FAILURE();
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("lot_step"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("0.0005"), std::string::npos) << e.what();
  }
  EXPECT_THROW(r.add_instrument(0, Scale::from_step("0.01"), Scale::from_step("0.001"), "0"), ConfigError);
}

}  // namespace
}  // namespace hftx::risk
