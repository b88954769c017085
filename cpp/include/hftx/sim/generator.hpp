// hftx/sim/generator.hpp — one instrument's simulated market: the L3 book (book::MatchingEngine) that the
// simulator serves, its sequence of book-update ids, and a seeded random walk that moves it. Venue-neutral:
// it publishes neutral events (md::DepthUpdate, md::BookTicker, md::Trade, book::Execution; fixed-point
// numbers, no text). Each venue's simulator dialect writes them in its own format.
//
// Threading contract: single-threaded; the simulator's reactor thread owns each MarketGenerator. The sink
// passed to a producing call runs on that thread, inside the call.
//
// The book: the market's liquidity rests as anonymous orders, one per price level (id = kAnonBit | side |
// price, so a level's anonymous order is found without a table); the account's orders rest among them with
// price-time priority (their ids are the venue's order ids, below kAnonBit). A level's served quantity is
// the engine's level total: anonymous plus the account's, as a venue's depth includes every order.
//
// Every change of the book is published as one depth update with consecutive ids (first = previous last
// + 1), its levels best first (bids by falling price, asks by rising price) with their totals after the
// change (0: the level is gone), followed by the top of book (update_id = that update's last id) when the
// best bid or ask changed, so that a client that applies the updates in order holds exactly this book.
// Executions publish trades.
//
// Generation (step()): with probability trade_probability an aggressive order (generated flow) takes
// part or all of one side's best level, or sweeps several — executing against the account's resting
// orders in their queue place; otherwise a level's anonymous quantity changes (top-heavy choice of level),
// a level is added inside the spread, or the best level is pulled (only while the spread is tight).
// Liquidity that leaves is replaced near the top, and depth is kept at depth_levels per side: the spread
// stays a few ticks (median 3-4, p99 ~35 on the defaults) while the mid wanders. All of it is integer
// arithmetic on the tick grid with a xorshift generator: no allocation after construction.
//
// Sinks are compile-time parameters (MarketEventSink): the simulator instantiates the generator's calls per
// venue dialect, so a published event costs no virtual call.
#pragma once

#include <algorithm>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <vector>

#include "hftx/book/matching.hpp"
#include "hftx/core/fixed_point.hpp"
#include "hftx/md/events.hpp"

namespace hftx::sim {

using book::Execution;
using book::OrderId;
using book::Side;

// What a MarketGenerator publishes. `ms` is the event time (ms since the epoch) the owner set for the batch.
// The spans of a DepthUpdate are valid only during the call.
template <class S>
concept MarketEventSink = requires(S& s, const md::DepthUpdate& d, const md::BookTicker& t, const md::Trade& tr,
                                   const Execution& e, std::int64_t ms) {
  s.on_depth(d, ms);
  s.on_top(t, ms);
  s.on_trade(tr, ms);
  // An execution in which an account order (id <= kMaxAccountId) took part, as maker or taker, and the id of
  // the public trade published for it (0: none, a replayed market change). Runs after the engine call that
  // produced it (never from inside the matching engine).
  s.on_account_execution(e, std::uint64_t{0});
};

// A sink that drops everything (setup, tests that only look at the book).
struct NullSink {
  void on_depth(const md::DepthUpdate&, std::int64_t) noexcept {}
  void on_top(const md::BookTicker&, std::int64_t) noexcept {}
  void on_trade(const md::Trade&, std::int64_t) noexcept {}
  void on_account_execution(const Execution&, std::uint64_t) noexcept {}
};

struct GeneratorConfig {
  Scale price_scale = Scale::from_step("0.01");
  Scale qty_scale = Scale::from_step("0.00000001");
  std::int64_t lot = 1000;              // order lot in qty steps (0.00001 BTC at 1e-8)
  std::int64_t start_price = 6'000'000; // ticks (60000.00)
  std::uint64_t seed = 42;
  std::size_t depth_levels = 1000;
  double trade_probability = 0.2;
  std::uint64_t first_update_id = 1'000'000;
  std::size_t max_orders = 1u << 16;    // account orders that may rest at once (plus the market's levels)
};

class MarketGenerator {
 public:
  static constexpr OrderId kAnonBit = OrderId{1} << 63;   // the market's resting liquidity
  static constexpr OrderId kAskBit = OrderId{1} << 62;    // ... on the ask side
  static constexpr OrderId kFlowBit = OrderId{1} << 61;   // generated aggressive orders (never rest)
  static constexpr OrderId kMaxAccountId = kFlowBit - 1;

  explicit MarketGenerator(const GeneratorConfig& cfg)
      : cfg_(cfg),
        engine_(book::MatchingConfig{2 * (cfg.depth_levels + 64) + cfg.max_orders + 4096,
                                     2 * (cfg.depth_levels + 64) + cfg.max_orders + 4096, book::StpMode::none}),
        rng_(cfg.seed * 0x9E3779B97F4A7C15ull + 0x632BE59BD9B4E019ull),
        last_u_(cfg.first_update_id) {
    if (rng_ == 0) rng_ = 1;
    engine_.on_execution([this](const Execution& e) {
      // Grows only for an order that sweeps more than 1024 makers (allocation off the common path).
      if (exec_count_ == execs_.size()) execs_.push_back(e);
      else execs_[exec_count_] = e;
      ++exec_count_;
    });
    execs_.reserve(1024);
    touched_.reserve(1024);
    out_.reserve(1024);
    const double t = std::clamp(cfg.trade_probability, 0.0, 1.0) * 18446744073709551616.0;
    trade_threshold_ = t >= 18446744073709549568.0 ? UINT64_MAX : static_cast<std::uint64_t>(t);
  }
  MarketGenerator(const MarketGenerator&) = delete;
  MarketGenerator& operator=(const MarketGenerator&) = delete;

  [[nodiscard]] const GeneratorConfig& config() const noexcept { return cfg_; }
  [[nodiscard]] const book::MatchingEngine& engine() const noexcept { return engine_; }
  [[nodiscard]] std::uint64_t last_update_id() const noexcept { return last_u_; }
  [[nodiscard]] std::uint64_t next_trade_id() const noexcept { return trade_id_ + 1; }
  // The next depth update skips one id (test hook: subscribers see a gap).
  void skip_next_id() noexcept { skip_ = 1; }
  // Event time stamped on events (ms since the epoch); the owner sets it once per batch.
  void set_time_ms(std::int64_t ms) noexcept { now_ms_ = ms; }
  [[nodiscard]] std::int64_t time_ms() const noexcept { return now_ms_; }

  static OrderId anon_id(Side s, std::int64_t price) noexcept {
    return kAnonBit | (s == Side::ask ? kAskBit : 0) | static_cast<OrderId>(price);
  }
  static bool is_account(OrderId id) noexcept { return id != 0 && id <= kMaxAccountId; }

  // Fills depth_levels anonymous levels per side around start_price (one tick spread), without events.
  void seed_book() {
    const std::int64_t bid0 = cfg_.start_price - 1 > 0 ? cfg_.start_price - 1 : 1;
    for (std::size_t i = 0; i < cfg_.depth_levels; ++i) {
      if (bid0 - static_cast<std::int64_t>(i) > 0) put_anon(Side::bid, bid0 - static_cast<std::int64_t>(i), random_qty(i));
      put_anon(Side::ask, bid0 + 1 + static_cast<std::int64_t>(i), random_qty(i));
    }
    remember_top();
  }

  // Index of the level at `price` from the best (SIZE_MAX: no level there). Binary search.
  [[nodiscard]] std::size_t level_index(Side s, std::int64_t price) const noexcept {
    std::size_t lo = 0, hi = engine_.level_count(s);
    while (lo < hi) {  // level(s, i) runs from the best outward: prices fall (bids) / rise (asks) with i
      const std::size_t mid = (lo + hi) / 2;
      const std::int64_t p = engine_.level(s, mid).price.raw();
      if (p == price) return mid;
      if (s == Side::bid ? p > price : p < price) lo = mid + 1;
      else hi = mid;
    }
    return SIZE_MAX;
  }
  // Quantity at a price (0: no level), the anonymous part included.
  [[nodiscard]] std::int64_t level_qty(Side s, std::int64_t price) const noexcept {
    const std::size_t i = level_index(s, price);
    return i == SIZE_MAX ? 0 : engine_.level(s, i).qty.raw();
  }
  // Orders resting at the i-th level (the market's one anonymous order and the account's).
  [[nodiscard]] std::uint32_t level_orders(Side s, std::size_t i) const noexcept {
    std::uint32_t n = 0;
    engine_.for_each_order(s, i, [&](const book::OrderView&) { ++n; });
    return n;
  }

  // ---- generation -------------------------------------------------------------------------------------
  // One random market event (1 to a few published events). Returns the number of events published.
  template <MarketEventSink S>
  std::size_t step(S& sink) noexcept {
    produced_ = 0;
    const std::uint64_t r = next();
    if (r < trade_threshold_ && engine_.has_bid() && engine_.has_ask()) {
      aggress(next() & 1 ? Side::bid : Side::ask, sink);
    } else {
      const Side s = next() & 1 ? Side::bid : Side::ask;
      const unsigned k = static_cast<unsigned>(next() % 100);
      touched_.clear();
      if (k < 70 || !engine_.has_bid() || !engine_.has_ask()) change_level(s);
      else if (k < 85 || spread() > kPullSpread) improve(s);  // a wide spread refills before it widens
      else pull(s);
      publish_levels(sink);
    }
    return produced_;
  }

  // ---- account orders ---------------------------------------------------------------------------------
  // Submits an account order (id <= kMaxAccountId) and publishes what changed: trades for its executions,
  // a depth update for every touched level, the top when it moved. Executions reach the sink's
  // on_account_execution() after the engine call, before the depth update.
  template <MarketEventSink S>
  book::OrderResult submit_account(const book::OrderRequest& o, S& sink) noexcept {
    produced_ = 0;
    touched_.clear();
    exec_count_ = 0;
    const book::OrderResult res = engine_.submit(o);
    const std::uint64_t first_trade = trade_id_ + 1;
    for (std::size_t i = 0; i < exec_count_; ++i) {
      publish_trade(execs_[i], sink);
      touch(o.side == Side::bid ? Side::ask : Side::bid, execs_[i].price.raw());
    }
    if (res.status == book::OrderStatus::resting) touch(o.side, o.price.raw());
    deliver_executions(sink, first_trade);
    publish_levels(sink);
    return res;
  }
  // Cancels a resting account order and publishes its level. False when it is not resting.
  template <MarketEventSink S>
  bool cancel_account(OrderId id, S& sink) noexcept {
    book::OrderView v;
    if (!engine_.get(id, v)) return false;
    produced_ = 0;
    touched_.clear();
    engine_.cancel(id);
    touch(v.side, v.price.raw());
    publish_levels(sink);
    return true;
  }
  // New price and remaining quantity for a resting account order (book::MatchingEngine::modify: a smaller
  // quantity at the same price keeps the queue place, anything else re-enters and may trade). Publishes
  // trades, the touched levels and the top, as submit_account().
  template <MarketEventSink S>
  book::OrderResult amend_account(OrderId id, std::int64_t price, std::int64_t qty, S& sink) noexcept {
    book::OrderView v;
    if (!engine_.get(id, v)) return {book::OrderStatus::rejected_invalid, Qty(0), Qty(0)};
    produced_ = 0;
    touched_.clear();
    exec_count_ = 0;
    const book::OrderResult res = engine_.modify(id, Price(price), Qty(qty));
    touch(v.side, v.price.raw());
    const std::uint64_t first_trade = trade_id_ + 1;
    for (std::size_t i = 0; i < exec_count_; ++i) {
      publish_trade(execs_[i], sink);
      touch(v.side == Side::bid ? Side::ask : Side::bid, execs_[i].price.raw());
    }
    if (res.status == book::OrderStatus::resting) touch(v.side, price);
    deliver_executions(sink, first_trade);
    publish_levels(sink);
    return res;
  }

  // ---- replay -----------------------------------------------------------------------------------------
  // Sets the market's (anonymous) quantity at a level, as a recorded depth update says; the account's
  // orders there keep their place. A new level that crosses account orders trades against them (the
  // market took them): on_account_execution() runs and the account levels it consumed are remembered as
  // touched (publish_account_levels() serves them). Publishes no book event (the caller serves the recording).
  template <MarketEventSink S>
  void set_market_level(Side s, std::int64_t price, std::int64_t qty, S& sink) noexcept {
    exec_count_ = 0;
    put_anon(s, price, qty);
    for (std::size_t i = 0; i < exec_count_; ++i)
      if (is_account(execs_[i].maker)) touch(s == Side::bid ? Side::ask : Side::bid, execs_[i].price.raw());
    deliver_executions(sink, 0);
  }
  // A recorded trade: generated flow at `price` for `qty` that executes in price-time order; the market's
  // liquidity it consumes is restored by the next recorded depth update. Publishes no trade (the recording
  // carries it); the levels it consumed are remembered as touched.
  template <MarketEventSink S>
  void replay_trade(Side aggressor, std::int64_t price, std::int64_t qty, S& sink) noexcept {
    exec_count_ = 0;
    book::OrderRequest o;
    o.id = kFlowBit | (++flow_id_ & (kFlowBit - 1));
    o.side = aggressor;
    o.tif = book::TimeInForce::ioc;
    o.price = Price(price);
    o.qty = Qty(qty);
    (void)engine_.submit(o);
    for (std::size_t i = 0; i < exec_count_; ++i)
      touch(aggressor == Side::bid ? Side::ask : Side::bid, execs_[i].price.raw());
    deliver_executions(sink, 0);
  }
  // Takes the update id sequence over from a recording (the replayed diffs carry their own ids).
  void set_last_update_id(std::uint64_t u) noexcept { last_u_ = u; }
  // Publishes the touched levels (absolute, with the account's quantity) as one depth update with fresh ids,
  // and the top when it moved. Used in replay for level changes the recording cannot know.
  template <MarketEventSink S>
  void publish_account_levels(S& sink) noexcept {
    publish_levels(sink);
  }
  [[nodiscard]] bool has_touched() const noexcept { return !touched_.empty(); }
  void clear_touched() noexcept { touched_.clear(); }
  // Forgets the published top (replay: the recording's own tops were served; the next publish compares
  // against the book as it is now).
  void remember_top() noexcept {
    const book::Level b = engine_.best(Side::bid), a = engine_.best(Side::ask);
    top_[0] = b.price.raw();
    top_[1] = b.qty.raw();
    top_[2] = a.price.raw();
    top_[3] = a.qty.raw();
  }

 private:
  struct Touched {
    Side side;
    std::int64_t price;
  };

  void touch(Side s, std::int64_t price) noexcept {
    for (const auto& l : touched_)
      if (l.side == s && l.price == price) return;
    touched_.push_back({s, price});  // reserved for 1024 levels; a larger sweep grows it once
  }

  std::uint64_t next() noexcept {  // xorshift64*
    rng_ ^= rng_ >> 12;
    rng_ ^= rng_ << 25;
    rng_ ^= rng_ >> 27;
    return rng_ * 0x2545F4914F6CDD1Dull;
  }
  // Deeper levels hold more: lots 1 .. 200 at the top, up to ~2000 deep.
  std::int64_t random_qty(std::size_t depth) noexcept {
    const std::uint64_t span = 200 + std::min<std::uint64_t>(depth, 1000) * 2;
    return cfg_.lot * static_cast<std::int64_t>(1 + next() % span);
  }
  std::int64_t anon_qty(Side s, std::int64_t price) const noexcept {
    book::OrderView v;
    return engine_.get(anon_id(s, price), v) ? v.qty.raw() : 0;
  }
  void put_anon(Side s, std::int64_t price, std::int64_t qty) noexcept {
    if (price <= 0) return;
    const OrderId id = anon_id(s, price);
    book::OrderView v;
    const bool live = engine_.get(id, v);
    if (qty <= 0) {
      if (live) engine_.cancel(id);
      return;
    }
    if (live) {
      if (v.qty.raw() != qty) (void)engine_.modify(id, Price(price), Qty(qty));  // growth joins the queue's end
      return;
    }
    book::OrderRequest o;
    o.id = id;
    o.side = s;
    o.price = Price(price);
    o.qty = Qty(qty);
    (void)engine_.submit(o);
  }

  // Levels near the top change most: half the picks among the best 8, the rest anywhere.
  void change_level(Side s) noexcept {
    const std::size_t n = engine_.level_count(s);
    if (n == 0) {
      const book::Level opp = engine_.best(s == Side::bid ? Side::ask : Side::bid);
      const std::int64_t p = opp.qty.raw() > 0 ? opp.price.raw() + (s == Side::bid ? -1 : 1) : cfg_.start_price;
      put_anon(s, p, random_qty(0));
      touch(s, p);
      return;
    }
    const std::uint64_t r = next();
    const std::size_t i = (r & 1) ? static_cast<std::size_t>((r >> 1) % std::min<std::size_t>(n, 8))
                                  : static_cast<std::size_t>((r >> 1) % n);
    const std::int64_t p = engine_.level(s, i).price.raw();
    // One in eight changes empties the level's market part (then refills depth at the far end).
    const std::int64_t q = (next() & 7) == 0 && n > 2 ? 0 : random_qty(i);
    put_anon(s, p, q);
    touch(s, p);
    if (q == 0) replenish(s);
  }
  static constexpr std::int64_t kPullSpread = 4;  // ticks; wider, the best level is not pulled
  [[nodiscard]] std::int64_t spread() const noexcept {
    return engine_.best(Side::ask).price.raw() - engine_.best(Side::bid).price.raw();
  }
  // A new level inside the spread, at a random price strictly between the best bid and ask. One tick in
  // would narrow the spread by one tick while a pull widens it by a whole level gap: the spread then
  // random-walks to hundreds of dollars. A random price halves it on average, so it stays a few ticks.
  void improve(Side s) noexcept {
    const std::int64_t bid = engine_.best(Side::bid).price.raw();
    const std::int64_t ask = engine_.best(Side::ask).price.raw();
    if (ask - bid <= 1) {
      change_level(s);
      return;
    }
    const std::int64_t in = 1 + static_cast<std::int64_t>(next() % static_cast<std::uint64_t>(ask - bid - 1));
    const std::int64_t p = s == Side::bid ? bid + in : ask - in;
    put_anon(s, p, random_qty(0));
    touch(s, p);
    trim_depth(s);
  }
  // The best level's market liquidity leaves (the account's orders there stay).
  void pull(Side s) noexcept {
    if (engine_.level_count(s) <= 2) {
      change_level(s);
      return;
    }
    const std::int64_t p = engine_.best(s).price.raw();
    put_anon(s, p, 0);
    touch(s, p);
    replenish(s);
  }
  // Liquidity that left is replaced near the top, as on a real book: a level 1..16 ticks behind the best
  // (when that price has none; else one beyond the deepest), the deepest trimmed past depth_levels.
  // Replacing it only at the far end would thin the book out behind the best until one pull or take
  // opened a spread of hundreds of dollars.
  void replenish(Side s) noexcept {
    if (engine_.level_count(s) == 0) return;
    const std::int64_t d = 1 + static_cast<std::int64_t>(next() % 16);
    const std::int64_t p = engine_.best(s).price.raw() + (s == Side::bid ? -d : d);
    if (p <= 0 || level_qty(s, p) != 0) {
      keep_depth(s);
      return;
    }
    put_anon(s, p, random_qty(static_cast<std::size_t>(d)));
    touch(s, p);
    trim_depth(s);
  }
  // Adds a level beyond the deepest while the side is short of depth_levels.
  void keep_depth(Side s) noexcept {
    const std::size_t n = engine_.level_count(s);
    if (n >= cfg_.depth_levels || n == 0) return;
    const std::int64_t deepest = engine_.level(s, n - 1).price.raw();
    const std::int64_t p = s == Side::bid ? deepest - 1 : deepest + 1;
    if (p <= 0) return;
    put_anon(s, p, random_qty(n));
    touch(s, p);
  }
  // Removes the deepest level's market liquidity while the side holds more than depth_levels.
  void trim_depth(Side s) noexcept {
    const std::size_t n = engine_.level_count(s);
    if (n <= cfg_.depth_levels) return;
    const std::int64_t p = engine_.level(s, n - 1).price.raw();
    if (anon_qty(s, p) == 0) return;  // an account order out there: leave it
    put_anon(s, p, 0);
    touch(s, p);
  }

  // Generated flow: takes up to ~120% of one side's best level (a full take moves the price); one in eight
  // sweeps the best 2..9 levels instead, so the price moves by more than a tick or two at a time.
  template <class S>
  void aggress(Side taker, S& sink) noexcept {
    const Side maker = taker == Side::bid ? Side::ask : Side::bid;
    book::Level best = engine_.best(maker);
    std::int64_t q = 0;
    if ((next() & 7) == 0 && engine_.level_count(maker) > 2) {
      const std::size_t k = std::min<std::size_t>(2 + next() % 8, engine_.level_count(maker) - 1);
      for (std::size_t i = 0; i < k; ++i) q += engine_.level(maker, i).qty.raw();
      best = engine_.level(maker, k - 1);  // the limit: the deepest level swept
    } else {
      const std::int64_t lots = std::max<std::int64_t>(1, best.qty.raw() / cfg_.lot);
      q = cfg_.lot * (1 + static_cast<std::int64_t>(next() % static_cast<std::uint64_t>(lots + lots / 5 + 1)));
    }
    book::OrderRequest o;
    o.id = kFlowBit | (++flow_id_ & (kFlowBit - 1));
    o.side = taker;
    o.tif = book::TimeInForce::ioc;
    o.price = best.price;
    o.qty = Qty(q);
    touched_.clear();
    exec_count_ = 0;
    const std::size_t levels_before = engine_.level_count(maker);
    (void)engine_.submit(o);
    const std::uint64_t first_trade = trade_id_ + 1;
    for (std::size_t i = 0; i < exec_count_; ++i) {
      publish_trade(execs_[i], sink);
      touch(maker, execs_[i].price.raw());
    }
    touch(maker, best.price.raw());
    for (std::size_t n = engine_.level_count(maker); n < levels_before; ++n) replenish(maker);
    deliver_executions(sink, first_trade);
    publish_levels(sink);
  }

  // first_trade: the public trade id published for execs_[0] (the rest follow in order); 0: none published.
  template <class S>
  void deliver_executions(S& sink, std::uint64_t first_trade) noexcept {
    for (std::size_t i = 0; i < exec_count_; ++i)
      if (is_account(execs_[i].maker) || is_account(execs_[i].taker))
        sink.on_account_execution(execs_[i], first_trade == 0 ? 0 : first_trade + i);
    exec_count_ = 0;
  }

  template <class S>
  void publish_trade(const Execution& e, S& sink) noexcept {
    md::Trade t;
    t.id = ++trade_id_;
    t.price = e.price;
    t.qty = e.qty;
    t.buyer_is_maker = e.taker_side == Side::ask;  // the taker sold
    ++produced_;
    sink.on_trade(t, now_ms_);
  }

  // One depth update for the touched levels (their totals now), then the top if it moved. The levels go
  // out best first, bids by falling price and asks by rising price, as Binance's spot diffs do (a session
  // acting top first reads only the first few: see BasicL2Book::predict_top()).
  template <class S>
  void publish_levels(S& sink) noexcept {
    if (touched_.empty()) return;
    std::sort(touched_.begin(), touched_.end(), [](const Touched& x, const Touched& y) {
      if (x.side != y.side) return x.side == Side::bid;
      return x.side == Side::bid ? x.price > y.price : x.price < y.price;
    });
    out_.clear();
    std::size_t nb = 0;
    for (const auto& l : touched_) {
      out_.push_back(md::Level{Price(l.price), Qty(level_qty(l.side, l.price))});  // reserved; grows once for a sweep
      nb += l.side == Side::bid;
    }
    touched_.clear();
    md::DepthUpdate u;
    u.first_id = last_u_ + 1 + skip_;
    u.last_id = u.first_id;
    skip_ = 0;
    last_u_ = u.last_id;
    u.bids = std::span<const md::Level>(out_.data(), nb);
    u.asks = std::span<const md::Level>(out_.data() + nb, out_.size() - nb);
    ++produced_;
    sink.on_depth(u, now_ms_);

    const std::int64_t old[4] = {top_[0], top_[1], top_[2], top_[3]};
    remember_top();
    if (std::memcmp(old, top_, sizeof old) == 0) return;
    md::BookTicker t;
    t.update_id = last_u_;
    t.bid_price = Price(top_[0]);
    t.bid_qty = Qty(top_[1]);
    t.ask_price = Price(top_[2]);
    t.ask_qty = Qty(top_[3]);
    ++produced_;
    sink.on_top(t, now_ms_);
  }

  GeneratorConfig cfg_;
  book::MatchingEngine engine_;
  std::uint64_t rng_;
  std::uint64_t trade_threshold_ = 0;
  std::uint64_t last_u_;
  std::uint64_t skip_ = 0;
  std::uint64_t trade_id_ = 0;
  std::uint64_t flow_id_ = 0;
  std::int64_t now_ms_ = 0;
  std::int64_t top_[4] = {0, 0, 0, 0};
  std::size_t produced_ = 0;
  std::vector<Execution> execs_;
  std::size_t exec_count_ = 0;
  std::vector<Touched> touched_;
  std::vector<md::Level> out_;
};

}  // namespace hftx::sim
