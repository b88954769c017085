// The trading core: orders, risk, strategies.
//  order_lifecycle: create → mark_sent → ack → duplicate ack → fill (closes; position updated), with 1000
//                   other orders open. Peer: the std::unordered_map order store a user would write.
//                   order_lifecycle_sizes: the same for other pool / closed-id memory sizes (args).
//  risk_check:      every pre-trade check on an order that passes them all (so every check runs).
//                   Peer: the same checks written the usual way (doubles, hash-map lookups, std::multiset
//                   of own prices for self-trade prevention, steady_clock token bucket).
//  risk_check_reject: an order that fails the price band (early exit), hftx only.
//  strategy_on_book: one book event through each built-in strategy (its orders accepted by a stub).
//  book_to_order:   the in-process trading part of tick-to-trade: a book event through the latency probe,
//                   risk and the OMS (create + mark_sent), then the venue's ack and cancel applied.
// The seed claimed 2 µs per risk check and 10 µs per order: compare with risk_check and order_lifecycle.
#include <chrono>
#include <cmath>
#include <cstdint>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "bench_support.hpp"
#include "hftx/oms/order.hpp"
#include "hftx/risk/risk.hpp"
#include "hftx/strategy/external.hpp"
#include "hftx/strategy/latency_probe.hpp"
#include "hftx/strategy/market_maker.hpp"
#include "hftx/strategy/strategy.hpp"
#include "hftx/strategy/taker.hpp"

namespace {

using namespace hftx;
using bench::AllocMeter;
using bench::OpSampler;

constexpr int kBatch = 64;
constexpr std::int64_t kMid = 6'000'000;  // 60000.00 at 0.01
constexpr std::int64_t kLot = 1000;       // 0.00001 at 1e-8
const Scale kPrice = Scale::from_step("0.01");
const Scale kQty = Scale::from_step("0.00000001");

oms::OrderRequest request(oms::Side side, std::int64_t price, std::int64_t qty) {
  oms::OrderRequest r;
  r.strategy = 1;
  r.side = side;
  r.price = Price(price);
  r.qty = Qty(qty);
  return r;
}

// ---- order lifecycle ---------------------------------------------------------------------------------

void order_lifecycle(benchmark::State& state, std::size_t max_orders, std::size_t closed_memory) {
  oms::OrderManager m(max_orders, 1, 16, closed_memory);
  oms::ClientOrderId next = 1;
  for (int i = 0; i < 1000; ++i)
    (void)m.create(request(i % 2 ? oms::Side::bid : oms::Side::ask, kMid + (i % 2 ? -1 - i : 1 + i), kLot), next++, 0);
  OpSampler sampler;
  AllocMeter alloc;
  std::int64_t now = 0;
  for (auto _ : state) {
    const std::uint64_t t0 = TscClock::ticks();
    for (int i = 0; i < kBatch; ++i) {
      const oms::ClientOrderId id = next++;
      now += 100;
      oms::Order* o = m.create(request(oms::Side::bid, kMid - 5000, kLot), id, now);
      benchmark::DoNotOptimize(o);
      (void)m.mark_sent(id, now);
      oms::OrderUpdate u;
      u.kind = oms::UpdateKind::ack;
      u.client_id = id;
      u.recv_ns = now;
      (void)m.apply(u);
      (void)m.apply(u);  // executionReport NEW after the response
      u.kind = oms::UpdateKind::fill;
      u.last_price = Price(kMid - 5000);
      u.last_qty = Qty(kLot);
      u.cum_qty = Qty(kLot);
      benchmark::DoNotOptimize(m.apply(u));
    }
    sampler.add(TscClock::ticks() - t0, kBatch);
  }
  alloc.publish(state);
  state.SetItemsProcessed(state.iterations() * kBatch);
  sampler.publish(state);
  if (m.stats().filled != static_cast<std::uint64_t>(state.iterations()) * kBatch) state.SkipWithError("lost orders");
}

// The session's default pool: 65536 orders, default closed-id memory.
void BM_order_lifecycle_hftx(benchmark::State& state) { order_lifecycle(state, 65536, 0); }
void BM_order_lifecycle_sizes_hftx(benchmark::State& state) {
  order_lifecycle(state, static_cast<std::size_t>(state.range(0)), static_cast<std::size_t>(state.range(1)));
}

// What a user writes first: a hash map of order structs, a state enum, doubles for the position.
struct UserOrder {
  std::uint64_t id;
  std::uint64_t venue_id;
  double price, qty, filled;
  int side;
  int state;  // 0 new 1 sent 2 acked 3 partial 4 filled
  std::int64_t created, sent, acked;
};

void BM_order_lifecycle_unordered_map(benchmark::State& state) {
  std::unordered_map<std::uint64_t, UserOrder> orders;
  orders.reserve(1u << 16);
  double position = 0, cost = 0;
  std::uint64_t next = 1;
  for (int i = 0; i < 1000; ++i, ++next) orders.emplace(next, UserOrder{next, 0, 60000.0, 0.00001, 0, i % 2, 0, 0, 0, 0});
  OpSampler sampler;
  AllocMeter alloc;
  std::int64_t now = 0;
  std::uint64_t closed = 0;
  for (auto _ : state) {
    const std::uint64_t t0 = TscClock::ticks();
    for (int i = 0; i < kBatch; ++i) {
      const std::uint64_t id = next++;
      now += 100;
      orders.emplace(id, UserOrder{id, 0, 59950.0, 0.00001, 0, 0, 0, now, 0, 0});
      if (auto it = orders.find(id); it != orders.end() && it->second.state == 0) {
        it->second.state = 1;
        it->second.sent = now;
      }
      for (int k = 0; k < 2; ++k) {  // ack + duplicate
        auto it = orders.find(id);
        if (it != orders.end() && it->second.state == 1) {
          it->second.state = 2;
          it->second.acked = now;
        }
      }
      auto it = orders.find(id);
      if (it != orders.end() && it->second.state >= 1 && it->second.state <= 3) {
        UserOrder& o = it->second;
        const double q = 0.00001, px = 59950.0;
        if (o.filled + q <= o.qty + 1e-12) {
          o.filled += q;
          position += o.side == 0 ? q : -q;
          cost += o.side == 0 ? q * px : -q * px;
          o.state = o.filled + 1e-12 >= o.qty ? 4 : 3;
          if (o.state == 4) {
            orders.erase(it);
            ++closed;
          }
        }
      }
    }
    sampler.add(TscClock::ticks() - t0, kBatch);
  }
  alloc.publish(state);
  benchmark::DoNotOptimize(position);
  benchmark::DoNotOptimize(cost);
  state.SetItemsProcessed(state.iterations() * kBatch);
  sampler.publish(state);
  if (closed != static_cast<std::uint64_t>(state.iterations()) * kBatch) state.SkipWithError("lost orders");
}

// ---- risk ------------------------------------------------------------------------------------------------

struct RiskSetup {
  RiskSetup() : oms(4096, 1, 16), risk(config(), oms) {
    risk.add_instrument(0, kPrice, kQty, "0.00001");
    book::TopOfBook top;
    top.bid_price = kMid - 1;
    top.ask_price = kMid + 1;
    top.bid_qty = top.ask_qty = 100;
    risk.on_book(0, top);
    // Own resting orders on both sides (self-trade prevention compares against them) and a position.
    oms::ClientOrderId id = 1;
    for (int i = 0; i < 50; ++i) {
      (void)oms.create(request(oms::Side::bid, kMid - 100 - i, kLot), id++, 0);
      (void)oms.create(request(oms::Side::ask, kMid + 100 + i, kLot), id++, 0);
    }
    oms.positions().on_fill(0, oms::Side::bid, Price(kMid), Qty(50 * kLot));
  }
  static risk::RiskConfig config() {
    risk::RiskConfig c;
    c.orders_per_second = 1e9;
    c.burst = 1'000'000;
    c.max_open_orders = 100000;
    return c;
  }
  oms::OrderManager oms;
  risk::RiskEngine risk;
};

void BM_risk_check_hftx(benchmark::State& state) {
  RiskSetup s;
  const oms::OrderRequest orders[2] = {request(oms::Side::bid, kMid - 50, kLot), request(oms::Side::ask, kMid + 50, kLot)};
  OpSampler sampler;
  AllocMeter alloc;
  std::int64_t now = 0;
  std::uint64_t ok = 0;
  for (auto _ : state) {
    const std::uint64_t t0 = TscClock::ticks();
    for (int i = 0; i < kBatch; ++i) {
      now += 1000;
      ok += s.risk.check(orders[i & 1], now) == risk::RiskReason::ok;
    }
    sampler.add(TscClock::ticks() - t0, kBatch);
  }
  alloc.publish(state);
  state.SetItemsProcessed(state.iterations() * kBatch);
  sampler.publish(state);
  if (ok != static_cast<std::uint64_t>(state.iterations()) * kBatch) state.SkipWithError("an order failed a check");
}

void BM_risk_check_reject_hftx(benchmark::State& state) {
  RiskSetup s;
  const oms::OrderRequest far = request(oms::Side::bid, kMid * 2, kLot);
  OpSampler sampler;
  AllocMeter alloc;
  std::int64_t now = 0;
  for (auto _ : state) {
    const std::uint64_t t0 = TscClock::ticks();
    for (int i = 0; i < kBatch; ++i) benchmark::DoNotOptimize(s.risk.check(far, now += 1000));
    sampler.add(TscClock::ticks() - t0, kBatch);
  }
  alloc.publish(state);
  state.SetItemsProcessed(state.iterations() * kBatch);
  sampler.publish(state);
}

// The same checks as a user would write them: decimal doubles, a symbol-keyed map, sets of own prices.
struct UserRisk {
  struct Instrument {
    double mid = 60000.0, position = 0.0005, open_buy = 0, open_sell = 0, lot = 0.00001;
    std::multiset<double> own_bids, own_asks;
  };
  std::unordered_map<std::string, Instrument> instruments;
  double max_qty = 1.0, max_notional = 100000.0, band_bps = 500, max_position = 10.0;
  std::size_t open_orders = 100, max_open = 100000;
  double tokens = 1e6, burst = 1e6, rate = 1e9;
  std::chrono::steady_clock::time_point last = std::chrono::steady_clock::now();
  bool killed = false;

  int check(const std::string& symbol, bool buy, double price, double qty) {
    if (killed) return 1;
    auto it = instruments.find(symbol);
    if (it == instruments.end()) return 5;
    Instrument& in = it->second;
    const double lots = qty / in.lot;
    if (qty <= 0 || std::fabs(lots - std::round(lots)) > 1e-9) return 10;
    if (qty > max_qty) return 2;
    if (price * qty > max_notional) return 3;
    if (std::fabs(price - in.mid) / in.mid * 1e4 > band_bps) return 4;
    if (open_orders >= max_open) return 7;
    if (buy ? in.position + in.open_buy + qty > max_position : in.position - in.open_sell - qty < -max_position) return 6;
    if (buy ? (!in.own_asks.empty() && price >= *in.own_asks.begin())
            : (!in.own_bids.empty() && price <= *in.own_bids.rbegin()))
      return 9;
    const auto now = std::chrono::steady_clock::now();
    tokens = std::min(burst, tokens + std::chrono::duration<double>(now - last).count() * rate);
    last = now;
    if (tokens < 1) return 8;
    tokens -= 1;
    return 0;
  }
};

void BM_risk_check_user_doubles(benchmark::State& state) {
  UserRisk u;
  UserRisk::Instrument& in = u.instruments["BTCUSDT"];
  for (int i = 0; i < 50; ++i) {
    in.own_bids.insert(59999.0 - i * 0.01);
    in.own_asks.insert(60001.0 + i * 0.01);
  }
  const std::string symbol = "BTCUSDT";
  OpSampler sampler;
  AllocMeter alloc;
  std::uint64_t ok = 0;
  for (auto _ : state) {
    const std::uint64_t t0 = TscClock::ticks();
    for (int i = 0; i < kBatch; ++i) ok += u.check(symbol, i & 1, (i & 1) ? 59999.5 : 60000.5, 0.00001) == 0;
    sampler.add(TscClock::ticks() - t0, kBatch);
  }
  alloc.publish(state);
  state.SetItemsProcessed(state.iterations() * kBatch);
  sampler.publish(state);
  if (ok != static_cast<std::uint64_t>(state.iterations()) * kBatch) state.SkipWithError("an order failed a check");
}

// ---- strategies ------------------------------------------------------------------------------------------

// Accepts every order (ids only) and confirms cancels on the next event, so strategies run their full logic.
class StubContext final : public strategy::StrategyContext {
 public:
  StubContext() { cancelled.reserve(1024); }
  strategy::ClientOrderId place(const oms::OrderRequest&) noexcept override { return next++; }
  bool cancel(strategy::ClientOrderId id) noexcept override {
    if (cancelled.size() < cancelled.capacity()) cancelled.push_back(id);
    return true;
  }
  void cancel_all(strategy::InstrumentId) noexcept override {}
  std::uint8_t last_reject() const noexcept override { return 0; }
  std::int64_t now_ns() const noexcept override { return now; }
  const Scale& price_scale(strategy::InstrumentId) const noexcept override { return kPrice; }
  const Scale& qty_scale(strategy::InstrumentId) const noexcept override { return kQty; }
  strategy::ClientOrderId next = 1;
  std::int64_t now = 0;
  std::vector<strategy::ClientOrderId> cancelled;
};

std::vector<strategy::BookEvent> book_events(std::size_t n) {
  std::vector<strategy::BookEvent> ev(n);
  std::mt19937_64 rng(3);
  std::int64_t mid = kMid;
  for (auto& e : ev) {
    mid += static_cast<std::int64_t>(rng() % 201) - 100;  // ±1.00
    e.top.bid_price = mid - 1;
    e.top.ask_price = mid + 1;
    e.top.bid_qty = 1 + static_cast<std::int64_t>(rng() % 100'000'000);
    e.top.ask_qty = 1 + static_cast<std::int64_t>(rng() % 100'000'000);
  }
  return ev;
}

void run_strategy(benchmark::State& state, const char* type, const strategy::StrategyParams& params) {
  auto s = strategy::make_strategy(type, params, kPrice, kQty);
  s->bind(0, 0);
  StubContext ctx;
  const auto events = book_events(4096);
  std::size_t e = 0;
  OpSampler sampler;
  AllocMeter alloc;
  for (auto _ : state) {
    const std::uint64_t t0 = TscClock::ticks();
    for (int i = 0; i < kBatch; ++i) {
      ctx.now += 50'000;
      s->on_book(ctx, events[e]);
      e = (e + 1) & 4095;
      for (strategy::ClientOrderId id : ctx.cancelled) {
        oms::OrderUpdate u;
        u.kind = oms::UpdateKind::cancelled;
        u.client_id = id;
        u.state = oms::OrderState::cancelled;
        s->on_order_update(ctx, u);
      }
      ctx.cancelled.clear();
    }
    sampler.add(TscClock::ticks() - t0, kBatch);
  }
  alloc.publish(state);
  state.SetItemsProcessed(state.iterations() * kBatch);
  state.counters["orders_per_event"] =
      static_cast<double>(ctx.next - 1) / static_cast<double>(state.iterations() * kBatch);
  sampler.publish(state);
}

void BM_strategy_market_maker(benchmark::State& s) { run_strategy(s, "market_maker", {{"requote_bps", 0.2}}); }
void BM_strategy_taker(benchmark::State& s) { run_strategy(s, "taker", {{"cooldown_ms", 0.0}, {"max_position", 1e9}}); }
void BM_strategy_latency_probe(benchmark::State& s) { run_strategy(s, "latency_probe", {}); }

// What a Python strategy costs the session thread per event: ExternalStrategy::on_book (one 64-byte ring
// push, and a look at the empty command ring). The driver's drain runs on this thread between batches, as
// the ring would otherwise fill; its cost is included (pop_n of kBatch records).
void BM_external_strategy_event(benchmark::State& state) {
  strategy::ExternalStrategy ext(1 << 16, 1024);
  StubContext ctx;
  const auto events = book_events(4096);
  std::vector<strategy::ExternalEvent> out(kBatch);
  std::size_t e = 0;
  OpSampler sampler;
  AllocMeter alloc;
  for (auto _ : state) {
    const std::uint64_t t0 = TscClock::ticks();
    for (int i = 0; i < kBatch; ++i) {
      ext.on_book(ctx, events[e]);
      e = (e + 1) & 4095;
    }
    benchmark::DoNotOptimize(ext.drain(out.data(), out.size()));
    sampler.add(TscClock::ticks() - t0, kBatch);
  }
  alloc.publish(state);
  state.SetItemsProcessed(state.iterations() * kBatch);
  if (ext.stats().events_dropped != 0) state.SkipWithError("events were dropped");
  sampler.publish(state);
}

// ---- book event → order (risk + OMS) -------------------------------------------------------------------

class InlineContext final : public strategy::StrategyContext {
 public:
  explicit InlineContext(RiskSetup& s) : s_(s) { acks.reserve(1024), cancels.reserve(1024); }
  strategy::ClientOrderId place(const oms::OrderRequest& r) noexcept override {
    const risk::RiskReason reason = s_.risk.check(r, now);
    if (reason != risk::RiskReason::ok) {
      last = static_cast<std::uint8_t>(reason);
      return 0;
    }
    const strategy::ClientOrderId id = next++;
    if (s_.oms.create(r, id, now) == nullptr) return 0;
    (void)s_.oms.mark_sent(id, now);
    acks.push_back(id);
    return id;
  }
  bool cancel(strategy::ClientOrderId id) noexcept override {
    if (!s_.oms.mark_cancel_sent(id, now)) return false;
    cancels.push_back(id);
    return true;
  }
  void cancel_all(strategy::InstrumentId) noexcept override {}
  std::uint8_t last_reject() const noexcept override { return last; }
  std::int64_t now_ns() const noexcept override { return now; }
  const Scale& price_scale(strategy::InstrumentId) const noexcept override { return kPrice; }
  const Scale& qty_scale(strategy::InstrumentId) const noexcept override { return kQty; }
  std::vector<strategy::ClientOrderId> acks, cancels;
  strategy::ClientOrderId next = 1'000'000;
  std::int64_t now = 0;
  std::uint8_t last = 0;

 private:
  RiskSetup& s_;
};

void BM_book_to_order_hftx(benchmark::State& state) {
  RiskSetup s;
  InlineContext ctx(s);
  auto probe = strategy::make_strategy("latency_probe", {}, kPrice, kQty);
  probe->bind(1, 0);
  const auto events = book_events(4096);
  std::size_t e = 0;
  OpSampler sampler;
  AllocMeter alloc;
  const oms::StrategyId sid = probe->id();
  for (auto _ : state) {
    const std::uint64_t t0 = TscClock::ticks();
    for (int i = 0; i < kBatch; ++i) {
      ctx.now += 10'000;
      const strategy::BookEvent& ev = events[e];
      e = (e + 1) & 4095;
      s.risk.on_book(0, ev.top);
      probe->on_book(ctx, ev);
      // The venue: ack the new order, confirm the cancel of the previous one.
      for (strategy::ClientOrderId id : ctx.acks) {
        oms::OrderUpdate u;
        u.kind = oms::UpdateKind::ack;
        u.client_id = id;
        u.recv_ns = ctx.now;
        if (s.oms.apply(u) && u.strategy == sid) probe->on_order_update(ctx, u);
      }
      for (strategy::ClientOrderId id : ctx.cancels) {
        oms::OrderUpdate u;
        u.kind = oms::UpdateKind::cancelled;
        u.client_id = id;
        u.recv_ns = ctx.now;
        if (s.oms.apply(u) && u.strategy == sid) probe->on_order_update(ctx, u);
      }
      ctx.acks.clear();
      ctx.cancels.clear();
    }
    sampler.add(TscClock::ticks() - t0, kBatch);
  }
  alloc.publish(state);
  state.SetItemsProcessed(state.iterations() * kBatch);
  state.counters["orders_per_event"] =
      static_cast<double>(ctx.next - 1'000'000) / static_cast<double>(state.iterations() * kBatch);
  sampler.publish(state);
}

}  // namespace

// The session's default pool (65536 orders, default closed-id memory) against the peer, then other sizes.
BENCHMARK(BM_order_lifecycle_hftx)->Name("order_lifecycle/hftx");
BENCHMARK(BM_order_lifecycle_sizes_hftx)->Name("order_lifecycle_sizes/hftx")->Args({1024, 1024})->Args({65536, 65536})->Args({1048576, 0});
BENCHMARK(BM_order_lifecycle_unordered_map)->Name("order_lifecycle/unordered_map");
BENCHMARK(BM_risk_check_hftx)->Name("risk_check/hftx");
BENCHMARK(BM_risk_check_user_doubles)->Name("risk_check/user_doubles");
BENCHMARK(BM_risk_check_reject_hftx)->Name("risk_check_reject/hftx");
BENCHMARK(BM_strategy_market_maker)->Name("strategy_on_book/hftx_market_maker");
BENCHMARK(BM_strategy_taker)->Name("strategy_on_book/hftx_taker");
BENCHMARK(BM_strategy_latency_probe)->Name("strategy_on_book/hftx_latency_probe");
BENCHMARK(BM_external_strategy_event)->Name("strategy_on_book/hftx_external");
BENCHMARK(BM_book_to_order_hftx)->Name("book_to_order/hftx");

BENCHMARK_MAIN();
