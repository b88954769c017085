// Built-in strategies against a recording StrategyContext: the market maker quotes, requotes and skews,
// the taker fires on imbalance with its cooldown, the probe keeps its open orders bounded; make_strategy
// checks types and parameters.
#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "hftx/core/error.hpp"
#include "hftx/strategy/external.hpp"
#include "hftx/strategy/latency_probe.hpp"
#include "hftx/strategy/market_maker.hpp"
#include "hftx/strategy/strategy.hpp"
#include "hftx/strategy/taker.hpp"

namespace hftx::strategy {
namespace {

const Scale kPrice = Scale::from_step("0.01");
const Scale kQty = Scale::from_step("0.00000001");
constexpr std::int64_t kBtc = 100'000'000;

class RecordingContext final : public StrategyContext {
 public:
  ClientOrderId place(const oms::OrderRequest& r) noexcept override {
    if (reject_next > 0) {
      --reject_next;
      last_reject_ = 9;
      return 0;
    }
    last_reject_ = 0;
    placed.push_back(r);
    ids.push_back(next_id);
    return next_id++;
  }
  bool cancel(ClientOrderId id) noexcept override {
    if (fail_cancels) return false;
    cancels.push_back(id);
    return true;
  }
  void cancel_all(InstrumentId instrument) noexcept override { cancel_alls.push_back(instrument); }
  std::uint8_t last_reject() const noexcept override { return last_reject_; }
  std::int64_t now_ns() const noexcept override { return now; }
  const Scale& price_scale(InstrumentId) const noexcept override { return kPrice; }
  const Scale& qty_scale(InstrumentId) const noexcept override { return kQty; }

  void clear() {
    placed.clear();
    ids.clear();
    cancels.clear();
  }

  std::vector<oms::OrderRequest> placed;
  std::vector<ClientOrderId> ids;
  std::vector<ClientOrderId> cancels;
  std::vector<InstrumentId> cancel_alls;
  ClientOrderId next_id = 1;
  int reject_next = 0;
  bool fail_cancels = false;
  std::int64_t now = 0;

 private:
  std::uint8_t last_reject_ = 0;
};

BookEvent book(std::int64_t bid, std::int64_t ask, std::int64_t bid_qty = 100, std::int64_t ask_qty = 100,
               InstrumentId inst = 0) {
  BookEvent ev;
  ev.instrument = inst;
  ev.top.bid_price = bid;
  ev.top.ask_price = ask;
  ev.top.bid_qty = bid_qty;
  ev.top.ask_qty = ask_qty;
  return ev;
}

oms::OrderUpdate closed(ClientOrderId id, oms::OrderState state = oms::OrderState::cancelled) {
  oms::OrderUpdate u;
  u.kind = oms::UpdateKind::cancelled;
  u.client_id = id;
  u.state = state;
  return u;
}

oms::OrderUpdate filled(ClientOrderId id, book::Side side, std::int64_t qty, bool done) {
  oms::OrderUpdate u;
  u.kind = oms::UpdateKind::fill;
  u.client_id = id;
  u.side = side;
  u.last_qty = Qty(qty);
  u.state = done ? oms::OrderState::filled : oms::OrderState::partially_filled;
  return u;
}

// ---- market maker --------------------------------------------------------------------------------------

MarketMaker make_mm(double spread_bps = 10, double skew = 0, double requote = 1, double max_pos = 1) {
  MarketMakerParams p;
  p.spread_bps = spread_bps;
  p.size = 0.001;
  p.skew_bps_per_unit = skew;
  p.requote_bps = requote;
  p.max_position = max_pos;
  MarketMaker mm(p, kPrice, kQty);
  mm.bind(3, 0);
  return mm;
}

TEST(MarketMaker, QuotesBothSidesAroundTheMid) {
  MarketMaker mm = make_mm(10);
  RecordingContext ctx;
  mm.on_book(ctx, book(5'999'900, 6'000'100));  // mid 60000.00
  ASSERT_EQ(ctx.placed.size(), 2u);
  const oms::OrderRequest& bid = ctx.placed[0];
  const oms::OrderRequest& ask = ctx.placed[1];
  EXPECT_EQ(bid.side, book::Side::bid);
  EXPECT_EQ(ask.side, book::Side::ask);
  EXPECT_EQ(bid.price.raw(), 5'997'000);  // 60000 × (1 - 5 bps) = 59970.00
  EXPECT_EQ(ask.price.raw(), 6'003'000);
  for (const auto& r : ctx.placed) {
    EXPECT_EQ(r.qty.raw(), kBtc / 1000);
    EXPECT_TRUE(r.post_only);
    EXPECT_EQ(r.tif, oms::TimeInForce::gtc);
    EXPECT_EQ(r.type, oms::OrderType::limit);
    EXPECT_EQ(r.strategy, 3u);
    EXPECT_EQ(r.instrument, 0);
  }
  EXPECT_EQ(mm.working_id(book::Side::bid), 1u);
  EXPECT_EQ(mm.working_id(book::Side::ask), 2u);
  // Other instruments and one-sided books are ignored.
  ctx.clear();
  mm.on_book(ctx, book(5'999'900, 6'000'100, 100, 100, 1));
  mm.on_book(ctx, book(5'999'900, 6'000'100, 100, 0));
  EXPECT_TRUE(ctx.placed.empty());
}

TEST(MarketMaker, RequotesOnlyPastTheThreshold) {
  MarketMaker mm = make_mm(10, 0, 1);  // requote at 1 bp = 6.00 = 600 ticks
  RecordingContext ctx;
  mm.on_book(ctx, book(5'999'900, 6'000'100));
  ctx.clear();
  mm.on_book(ctx, book(6'000'400, 6'000'600));  // mid +500 ticks: quotes move < 600
  EXPECT_TRUE(ctx.placed.empty());
  EXPECT_TRUE(ctx.cancels.empty());
  mm.on_book(ctx, book(6'000'700, 6'000'900));  // mid +800: requote both
  ASSERT_EQ(ctx.cancels.size(), 2u);
  EXPECT_EQ(ctx.cancels[0], 1u);
  EXPECT_EQ(ctx.cancels[1], 2u);
  ASSERT_EQ(ctx.placed.size(), 2u);
  EXPECT_EQ(mm.working_id(book::Side::bid), 3u);
  EXPECT_EQ(mm.working_id(book::Side::ask), 4u);
  EXPECT_GT(ctx.placed[0].price.raw(), 5'997'000);
}

// A wide spread: the quotes go inside it and become the best prices. Seeing its own quote at the top must
// not move the strategy's mid (it would requote, the book would move back, and so on at every event); a
// move of the others' prices still does.
TEST(MarketMaker, DoesNotChaseItsOwnQuotes) {
  MarketMaker mm = make_mm(10, 0, 1);  // requote at 1 bp = 600 ticks
  RecordingContext ctx;
  mm.on_book(ctx, book(5'900'000, 6'100'000));  // mid 60000.00: bid 5'997'000, ask 6'003'000
  ASSERT_EQ(ctx.placed.size(), 2u);
  ctx.clear();
  mm.on_book(ctx, book(5'997'000, 6'100'000, 10));  // our bid rests, our ask not yet: naive mid +485.00
  mm.on_book(ctx, book(5'997'000, 6'003'000, 10, 10));  // both ours
  mm.on_book(ctx, book(5'900'000, 6'003'000, 100, 10));
  EXPECT_TRUE(ctx.placed.empty());
  EXPECT_TRUE(ctx.cancels.empty());
  // Others improve the ask past our quote: the market moved, both quotes follow.
  mm.on_book(ctx, book(5'997'000, 6'002'000, 10, 100));  // market 59000.00 / 60020.00
  ASSERT_EQ(ctx.cancels.size(), 2u);
  ASSERT_EQ(ctx.placed.size(), 2u);
  // mid (5'900'000 remembered + 6'002'000) / 2 = 5'951'000: bid floor(× 0.9995); the ask ceil(× 1.0005) =
  // 5'953'976 is kept one tick above the best bid (still our old one).
  EXPECT_EQ(ctx.placed[0].price.raw(), 5'948'024);
  EXPECT_EQ(ctx.placed[1].price.raw(), 5'997'001);
}

TEST(MarketMaker, AFailedCancelKeepsTheQuoteAndRetries) {
  MarketMaker mm = make_mm(10, 0, 1);
  RecordingContext ctx;
  mm.on_book(ctx, book(5'999'900, 6'000'100));
  ctx.clear();
  ctx.fail_cancels = true;  // e.g. the pipelined order queue is full
  mm.on_book(ctx, book(6'000'700, 6'000'900));
  EXPECT_TRUE(ctx.placed.empty());  // no replacement while the old quote may still rest
  EXPECT_EQ(mm.working_id(book::Side::bid), 1u);
  EXPECT_EQ(mm.working_id(book::Side::ask), 2u);
  ctx.fail_cancels = false;
  mm.on_book(ctx, book(6'000'700, 6'000'900));
  EXPECT_EQ(ctx.cancels.size(), 2u);
  EXPECT_EQ(ctx.placed.size(), 2u);
}

TEST(MarketMaker, InventorySkewsBothQuotesDown) {
  MarketMaker mm = make_mm(10, 10, 0);  // 10 bps per BTC, requote on any change
  RecordingContext ctx;
  mm.on_book(ctx, book(5'999'900, 6'000'100));
  // The bid fills 0.001: position +0.001 → fair 60000 × (1 - 0.01 bps) = 59999.94.
  mm.on_order_update(ctx, filled(1, book::Side::bid, kBtc / 1000, true));
  EXPECT_EQ(mm.working_id(book::Side::bid), 0u);
  EXPECT_EQ(mm.position(), kBtc / 1000);
  ctx.clear();
  mm.on_book(ctx, book(5'999'900, 6'000'100));
  ASSERT_EQ(ctx.placed.size(), 2u);  // a new bid, and the ask moved (requote 0)
  EXPECT_EQ(ctx.placed[0].side, book::Side::bid);
  EXPECT_EQ(ctx.placed[0].price.raw(), 5'996'994);  // floor(5999994 × 0.9995) = 5996994
  EXPECT_EQ(ctx.placed[1].price.raw(), 6'002'994);  // ceil(5999994 × 1.0005)
  ASSERT_EQ(ctx.cancels.size(), 1u);
  EXPECT_EQ(ctx.cancels[0], 2u);
}

TEST(MarketMaker, StopsQuotingTheSideThatWouldBreachMaxPosition) {
  MarketMaker mm = make_mm(10, 0, 1, 0.001);  // max position = one quote
  RecordingContext ctx;
  mm.on_book(ctx, book(5'999'900, 6'000'100));
  mm.on_order_update(ctx, filled(1, book::Side::bid, kBtc / 1000, true));  // long 0.001 = max
  ctx.clear();
  mm.on_book(ctx, book(5'999'900, 6'000'100));
  EXPECT_TRUE(ctx.placed.empty());  // no bid; the ask (id 2) is still working and close enough
  EXPECT_EQ(mm.working_id(book::Side::ask), 2u);
  // Short by 0.002 via the ask: now the ask side is blocked and its quote is cancelled, the bid returns.
  mm.on_order_update(ctx, filled(2, book::Side::ask, 2 * kBtc / 1000, false));
  mm.on_book(ctx, book(5'999'900, 6'000'100));
  ASSERT_EQ(ctx.cancels.size(), 1u);
  EXPECT_EQ(ctx.cancels[0], 2u);
  ASSERT_EQ(ctx.placed.size(), 1u);
  EXPECT_EQ(ctx.placed[0].side, book::Side::bid);
}

TEST(MarketMaker, QuotesStayPassiveOnATightBook) {
  MarketMaker mm = make_mm(0.01);  // spread narrower than the book's
  RecordingContext ctx;
  mm.on_book(ctx, book(5'999'000, 6'001'000));
  ASSERT_EQ(ctx.placed.size(), 2u);
  EXPECT_LT(ctx.placed[0].price.raw(), 6'001'000);
  EXPECT_GT(ctx.placed[1].price.raw(), 5'999'000);
  EXPECT_LT(ctx.placed[0].price.raw(), ctx.placed[1].price.raw());
  MarketMaker wide = make_mm(10000);  // absurd spread: still inside the book's opposite side
  RecordingContext c2;
  wide.on_book(c2, book(100, 101));
  ASSERT_EQ(c2.placed.size(), 2u);
  EXPECT_LE(c2.placed[0].price.raw(), 100);
  EXPECT_GE(c2.placed[1].price.raw(), 101);
}

TEST(MarketMaker, RetriesAfterARiskRejectAndAClosedQuote) {
  MarketMaker mm = make_mm();
  RecordingContext ctx;
  ctx.reject_next = 2;
  mm.on_book(ctx, book(5'999'900, 6'000'100));
  EXPECT_TRUE(ctx.placed.empty());
  EXPECT_EQ(mm.working_id(book::Side::bid), 0u);
  mm.on_book(ctx, book(5'999'900, 6'000'100));
  EXPECT_EQ(ctx.placed.size(), 2u);
  mm.on_order_update(ctx, closed(1));  // the venue cancelled the bid (e.g. expired)
  ctx.clear();
  mm.on_book(ctx, book(5'999'900, 6'000'100));
  ASSERT_EQ(ctx.placed.size(), 1u);
  EXPECT_EQ(ctx.placed[0].side, book::Side::bid);
  mm.on_stop(ctx);
  ASSERT_EQ(ctx.cancel_alls.size(), 1u);
}

// ---- taker ---------------------------------------------------------------------------------------------

Taker make_taker(double imbalance = 0.6, double cooldown_ms = 100, double max_pos = 1) {
  TakerParams p;
  p.size = 0.01;
  p.imbalance = imbalance;
  p.cooldown_ms = cooldown_ms;
  p.max_position = max_pos;
  Taker t(p, kPrice, kQty);
  t.bind(4, 0);
  return t;
}

TEST(Taker, CrossesOnImbalanceWithCooldown) {
  Taker t = make_taker();
  RecordingContext ctx;
  ctx.now = 1'000'000'000;
  t.on_book(ctx, book(100, 101, 700, 300));  // +0.4: below the threshold
  EXPECT_TRUE(ctx.placed.empty());
  t.on_book(ctx, book(100, 101, 900, 100));  // +0.8: buy at the ask
  ASSERT_EQ(ctx.placed.size(), 1u);
  EXPECT_EQ(ctx.placed[0].side, book::Side::bid);
  EXPECT_EQ(ctx.placed[0].price.raw(), 101);
  EXPECT_EQ(ctx.placed[0].tif, oms::TimeInForce::ioc);
  EXPECT_EQ(ctx.placed[0].qty.raw(), kBtc / 100);
  EXPECT_EQ(ctx.placed[0].strategy, 4u);
  ctx.now += 99'999'999;  // inside the cooldown
  t.on_book(ctx, book(100, 101, 100, 900));
  EXPECT_EQ(ctx.placed.size(), 1u);
  ctx.now += 1;
  t.on_book(ctx, book(100, 101, 100, 900));  // -0.8: sell at the bid
  ASSERT_EQ(ctx.placed.size(), 2u);
  EXPECT_EQ(ctx.placed[1].side, book::Side::ask);
  EXPECT_EQ(ctx.placed[1].price.raw(), 100);
  EXPECT_EQ(t.orders(), 2u);
}

TEST(Taker, RespectsMaxPosition) {
  Taker t = make_taker(0.5, 0, 0.01);
  RecordingContext ctx;
  t.on_order_update(ctx, filled(1, book::Side::bid, kBtc / 100, true));  // long 0.01 = max
  t.on_book(ctx, book(100, 101, 900, 100));
  EXPECT_TRUE(ctx.placed.empty());
  t.on_book(ctx, book(100, 101, 100, 900));  // selling reduces: allowed
  EXPECT_EQ(ctx.placed.size(), 1u);
}

// ---- latency probe -------------------------------------------------------------------------------------

LatencyProbe make_probe(double every_n = 1, double max_open = 4) {
  LatencyProbeParams p;
  p.size = 0.001;
  p.offset_bps = 100;
  p.every_n = every_n;
  p.max_open = max_open;
  LatencyProbe probe(p, kPrice, kQty);
  probe.bind(5, 0);
  return probe;
}

TEST(LatencyProbe, AnswersEveryEventFarFromTheMid) {
  LatencyProbe probe = make_probe();
  RecordingContext ctx;
  probe.on_book(ctx, book(5'999'900, 6'000'100));
  ASSERT_EQ(ctx.placed.size(), 1u);
  EXPECT_EQ(ctx.placed[0].price.raw(), 5'940'000);  // 1% below 60000
  EXPECT_TRUE(ctx.placed[0].post_only);
  EXPECT_EQ(ctx.placed[0].side, book::Side::bid);
  EXPECT_TRUE(ctx.cancels.empty());
  probe.on_book(ctx, book(5'999'900, 6'000'100));
  ASSERT_EQ(ctx.placed.size(), 2u);
  ASSERT_EQ(ctx.cancels.size(), 1u);
  EXPECT_EQ(ctx.cancels[0], 1u);  // the previous one
}

TEST(LatencyProbe, BoundsOpenOrders) {
  LatencyProbe probe = make_probe(1, 4);
  RecordingContext ctx;
  for (int i = 0; i < 20; ++i) probe.on_book(ctx, book(5'999'900, 6'000'100));
  EXPECT_EQ(ctx.placed.size(), 4u);  // nothing closed yet: at most 4 open or cancelling
  EXPECT_EQ(probe.open_orders(), 4u);
  EXPECT_EQ(probe.skipped(), 16u);
  probe.on_order_update(ctx, closed(1));
  probe.on_order_update(ctx, closed(2));
  probe.on_book(ctx, book(5'999'900, 6'000'100));
  probe.on_book(ctx, book(5'999'900, 6'000'100));
  probe.on_book(ctx, book(5'999'900, 6'000'100));
  EXPECT_EQ(ctx.placed.size(), 6u);
  EXPECT_EQ(probe.open_orders(), 4u);
  // Updates that are not closes do not count.
  oms::OrderUpdate ack;
  ack.kind = oms::UpdateKind::ack;
  ack.client_id = 6;
  ack.state = oms::OrderState::acked;
  probe.on_order_update(ctx, ack);
  EXPECT_EQ(probe.open_orders(), 4u);
}

// max_open 1: the one order is cancelled at the next event, and the next goes out once it has closed.
TEST(LatencyProbe, OneOpenOrderIsCancelledThenReplaced) {
  LatencyProbe probe = make_probe(1, 1);
  RecordingContext ctx;
  probe.on_book(ctx, book(5'999'900, 6'000'100));
  probe.on_book(ctx, book(5'999'900, 6'000'100));
  probe.on_book(ctx, book(5'999'900, 6'000'100));
  EXPECT_EQ(ctx.placed.size(), 1u);
  ASSERT_EQ(ctx.cancels.size(), 1u);
  EXPECT_EQ(ctx.cancels[0], 1u);
  probe.on_order_update(ctx, closed(1));
  probe.on_book(ctx, book(5'999'900, 6'000'100));
  EXPECT_EQ(ctx.placed.size(), 2u);
  EXPECT_EQ(probe.open_orders(), 1u);
}

TEST(LatencyProbe, AFailedCancelIsRetried) {
  LatencyProbe probe = make_probe();
  RecordingContext ctx;
  probe.on_book(ctx, book(5'999'900, 6'000'100));
  ctx.fail_cancels = true;
  probe.on_book(ctx, book(5'999'900, 6'000'100));
  EXPECT_EQ(ctx.placed.size(), 1u);
  EXPECT_EQ(probe.skipped(), 1u);
  ctx.fail_cancels = false;
  probe.on_book(ctx, book(5'999'900, 6'000'100));
  ASSERT_EQ(ctx.cancels.size(), 1u);
  EXPECT_EQ(ctx.cancels[0], 1u);
  EXPECT_EQ(ctx.placed.size(), 2u);
}

TEST(LatencyProbe, EveryNthEvent) {
  LatencyProbe probe = make_probe(3, 100);
  RecordingContext ctx;
  for (int i = 0; i < 9; ++i) probe.on_book(ctx, book(5'999'900, 6'000'100));
  EXPECT_EQ(ctx.placed.size(), 3u);
}

// ---- make_strategy -------------------------------------------------------------------------------------

std::string error_of(std::string_view type, const StrategyParams& params) {
  try {
    (void)make_strategy(type, params, kPrice, kQty);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}

TEST(MakeStrategy, BuildsEachBuiltInWithDefaults) {
  EXPECT_NE(dynamic_cast<MarketMaker*>(make_strategy("market_maker", {}, kPrice, kQty).get()), nullptr);
  EXPECT_NE(dynamic_cast<Taker*>(make_strategy("taker", {}, kPrice, kQty).get()), nullptr);
  EXPECT_NE(dynamic_cast<LatencyProbe*>(make_strategy("latency_probe", {}, kPrice, kQty).get()), nullptr);
  auto s = make_strategy("market_maker", {{"spread_bps", 2.0}, {"size", 0.002}}, kPrice, kQty);
  const auto* mm = dynamic_cast<MarketMaker*>(s.get());
  ASSERT_NE(mm, nullptr);
  EXPECT_DOUBLE_EQ(mm->params().spread_bps, 2.0);
  EXPECT_DOUBLE_EQ(mm->params().size, 0.002);
  EXPECT_DOUBLE_EQ(mm->params().requote_bps, 1.0);
}

TEST(MakeStrategy, ErrorsNameTheKeyValueAndRange) {
  std::string e = error_of("market_makr", {});
  EXPECT_NE(e.find("market_makr"), std::string::npos) << e;
  EXPECT_NE(e.find("market_maker, taker, latency_probe"), std::string::npos) << e;
  e = error_of("market_maker", {{"spread", 2.0}});
  EXPECT_NE(e.find("strategies[].params.spread"), std::string::npos) << e;
  EXPECT_NE(e.find("spread_bps"), std::string::npos) << e;  // the known keys are listed
  e = error_of("market_maker", {{"spread_bps", -1.0}});
  EXPECT_NE(e.find("strategies[].params.spread_bps: -1"), std::string::npos) << e;
  EXPECT_NE(e.find("expected"), std::string::npos) << e;
  e = error_of("taker", {{"imbalance", 1.0}});
  EXPECT_NE(e.find("params.imbalance: 1"), std::string::npos) << e;
  e = error_of("latency_probe", {{"every_n", 2.5}});
  EXPECT_NE(e.find("params.every_n: 2.5"), std::string::npos) << e;
  e = error_of("latency_probe", {{"size", 1e-9}});
  EXPECT_NE(e.find("params.size"), std::string::npos) << e;
  EXPECT_NE(e.find("quantity step"), std::string::npos) << e;
  e = error_of("taker", {{"size", std::numeric_limits<double>::infinity()}});
  EXPECT_NE(e.find("params.size"), std::string::npos) << e;
  EXPECT_EQ(error_of("taker", {{"cooldown_ms", 0.0}, {"max_position", 0.0}}), "");
}

// ---- ExternalStrategy: the session thread and a driver thread, joined by two rings ------------------------

// The driver (another thread) drains every event exactly once, in order, while it sends place commands that
// the strategy thread executes at its next callback and answers with a placed event carrying the tag.
TEST(ExternalStrategy, EveryEventOnceAndCommandsAnsweredAcrossThreads) {
  constexpr int kEvents = 200'000;
  ExternalStrategy ext(1 << 18, 1024);  // holds every event: the driver may lag the producer
  ext.bind(3, 0);
  RecordingContext ctx;
  std::atomic<bool> producer_done{false};
  std::vector<std::uint64_t> seqs;
  std::vector<std::uint64_t> placed_tags;
  std::vector<std::uint64_t> book_ids;
  seqs.reserve(kEvents + 1000);
  std::thread driver([&] {
    std::vector<ExternalEvent> buf(512);
    std::uint64_t tag = 0;
    for (;;) {
      const bool done = producer_done.load(std::memory_order_acquire);
      const std::size_t n = ext.drain(buf.data(), buf.size());
      for (std::size_t i = 0; i < n; ++i) {
        const ExternalEvent& e = buf[i];
        seqs.push_back(e.seq);
        if (e.kind == static_cast<std::uint8_t>(ExternalEventKind::book)) {
          book_ids.push_back(e.id);
          if (e.id % 1000 == 0) {
            ExternalCommand c;
            c.kind = static_cast<std::uint8_t>(ExternalCommandKind::place);
            c.tag = ++tag;
            c.side = 1;
            c.price = e.c + 10;
            c.qty = 1000;
            while (!ext.try_submit(c)) std::this_thread::yield();
          }
        } else if (e.kind == static_cast<std::uint8_t>(ExternalEventKind::placed)) {
          placed_tags.push_back(static_cast<std::uint64_t>(e.c));
          EXPECT_NE(e.id, 0u);
          EXPECT_EQ(e.flag, 0);
        }
      }
      if (n == 0 && done) break;
    }
  });
  for (int i = 1; i <= kEvents; ++i) {
    BookEvent ev = book(6'000'000 + i % 7, 6'000'002 + i % 7);
    ev.top.update_id = static_cast<std::uint64_t>(i);
    ext.on_book(ctx, ev);
  }
  // Commands still queued run at the next callback (the timer on a quiet market). The driver may still be
  // catching up on events (a loaded CI machine once left 6 of the 200 commands for after a fixed 50 ms of
  // timers), so the timer runs until every command came back, with a deadline for a real failure.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (ext.stats().commands < static_cast<std::uint64_t>(kEvents / 1000) &&
         std::chrono::steady_clock::now() < deadline) {
    ext.on_timer(ctx, 0);
    std::this_thread::sleep_for(std::chrono::microseconds(50));
  }
  producer_done.store(true, std::memory_order_release);
  driver.join();
  const ExternalStats st = ext.stats();
  EXPECT_EQ(st.events_dropped, 0u);
  ASSERT_EQ(seqs.size(), st.events);
  for (std::size_t i = 0; i < seqs.size(); ++i) ASSERT_EQ(seqs[i], i + 1) << "event " << i;
  ASSERT_EQ(book_ids.size(), static_cast<std::size_t>(kEvents));
  for (std::size_t i = 0; i < book_ids.size(); ++i) ASSERT_EQ(book_ids[i], i + 1);
  // Every command was executed once, in order, as an order of this strategy.
  ASSERT_EQ(placed_tags.size(), static_cast<std::size_t>(kEvents / 1000));
  for (std::size_t i = 0; i < placed_tags.size(); ++i) EXPECT_EQ(placed_tags[i], i + 1);
  ASSERT_EQ(ctx.placed.size(), placed_tags.size());
  EXPECT_EQ(ctx.placed[0].strategy, 3u);
  EXPECT_EQ(ctx.placed[0].side, book::Side::ask);
  EXPECT_EQ(st.commands, placed_tags.size());
}

// A full ring drops (counted; the sequence shows the hole), a malformed command is answered as invalid, and
// risk rejections come back with their reason.
TEST(ExternalStrategy, DropsInvalidCommandsAndRejectionsAreReported) {
  ExternalStrategy ext(4, 16);
  RecordingContext ctx;
  for (int i = 0; i < 10; ++i) ext.on_book(ctx, book(100, 101));
  EXPECT_EQ(ext.stats().events, 10u);
  EXPECT_EQ(ext.stats().events_dropped, 6u);
  std::vector<ExternalEvent> buf(16);
  ASSERT_EQ(ext.drain(buf.data(), buf.size()), 4u);
  EXPECT_EQ(buf[3].seq, 4u);

  ExternalCommand bad;
  bad.kind = static_cast<std::uint8_t>(ExternalCommandKind::place);
  bad.tag = 7;
  bad.tif = 9;
  ASSERT_TRUE(ext.try_submit(bad));
  ExternalCommand ok = bad;
  ok.tag = 8;
  ok.tif = 0;
  ok.price = 100;
  ok.qty = 1;
  ASSERT_TRUE(ext.try_submit(ok));
  ctx.reject_next = 1;
  ext.on_timer(ctx, 0);
  ASSERT_EQ(ext.drain(buf.data(), buf.size()), 2u);
  EXPECT_EQ(buf[0].seq, 11u);
  EXPECT_EQ(buf[0].c, 7);
  EXPECT_EQ(buf[0].id, 0u);
  EXPECT_EQ(buf[0].flag, kInvalidCommand);
  EXPECT_EQ(buf[1].c, 8);
  EXPECT_EQ(buf[1].id, 0u);
  EXPECT_EQ(buf[1].flag, 9);  // the context's last_reject()
  EXPECT_EQ(ext.stats().commands_invalid, 1u);
  EXPECT_TRUE(ctx.placed.empty());
}

}  // namespace
}  // namespace hftx::strategy
