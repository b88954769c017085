// session/inline_loop.hpp (internal) — inline mode: one thread, one reactor, every market message run to
// completion. docs/ARCHITECTURE.md, "The tick-to-trade path".
//
// Threading contract: constructed on the owner thread before start(); run() then runs on the session thread,
// which alone calls everything here until it returns (queries reach it as tasks posted to its reactor).
//
// The tick-to-trade path, top to bottom:
//   MarketFeed::on_message   receive → route → parse (the venue's parser) → book (top first, sync rules)
//   InlineLoop::on_book      strategies (Strategy::on_book) → place() below
//   InlineLoop::place        → OrderGateway::place: risk → encode (the venue's codec) → the send buffer
//   InlineLoop::on_book      flush: the order frames leave in one writev before the message's callback returns
// then the rest of the diff is applied and the venue's checksum verified (MarketFeed), off the measured path.
#pragma once

#include <chrono>
#include <cstdint>
#include <stop_token>

#include "hftx/core/clock.hpp"
#include "hftx/latency/tracker.hpp"
#include "hftx/net/reactor.hpp"
#include "hftx/strategy/strategy.hpp"
#include "session/market_feed.hpp"
#include "session/order_gateway.hpp"
#include "session/state.hpp"

namespace hftx::session {

template <class V>
class InlineLoop final : public strategy::StrategyContext {
 public:
  explicit InlineLoop(const SessionParts& s)
      : s_(s),
        rec_(s.tracker.register_thread("hftx-session")),
        orders(GatewayContext{s.cfg, s.instruments, s.counters, s.logs, s.notes, s.failure, s.strategies.size()},
               reactor, true),
        market(FeedContext{s.cfg, s.instruments, s.counters, s.logs, rec_, s.failure}, reactor, *this),
        timer(reactor, [this] { on_timer(); }) {
    if constexpr (V::kSnapshotsByRequest) market.request_snapshots_through(orders);
    orders.deliver = [this](const oms::OrderUpdate& u) {
      if (u.strategy >= s_.strategies.size()) return;
      current_ = u.strategy;
      s_.strategies[u.strategy].strategy->on_order_update(*this, u);
    };
  }

  // Connects (the order connection first: the snapshot requests go out on it), starts the strategies, arms the
  // timer. Owner thread, before run().
  void start(std::chrono::milliseconds interval) {
    orders.connect();
    // Logged on before the market flows (OKX answers its login asynchronously): else the strategies' first
    // orders would be refused locally. Bounded: a login that never comes is the gateway's to report.
    poll_until(reactor, std::chrono::milliseconds(s_.cfg.venue.connect_timeout_ms),
               [&] { return orders.ready() || s_.stop_flag.load(std::memory_order_acquire); });
    market.connect();
    for (StrategyId sid = 0; sid < s_.strategies.size(); ++sid) {
      current_ = sid;
      s_.strategies[sid].strategy->on_start(*this);
    }
    timer.arm(interval, interval);
  }

  void run(std::stop_token st) {
    const bool busy = s_.cfg.threading.busy_poll;
    while (!st.stop_requested() && !s_.stop_flag.load(std::memory_order_relaxed)) reactor.poll(busy ? 0 : 50);
    shutdown();
  }

  // ---- the market feed's sink ----
  void on_book(InstrumentId i, const strategy::BookEvent& ev, std::uint64_t, std::uint64_t) noexcept {
    if (HFTX_UNLIKELY(stopping_)) return;
    in_event_ = true;
    stamped_ = false;
    sent_ = false;
    for (StrategyId sid : s_.instruments[i].strategies) {
      current_ = sid;
      s_.strategies[sid].strategy->on_book(*this, ev);
    }
    in_event_ = false;
    if (!sent_) return;
    orders.flush();  // tick-to-trade ends when send() returns, not at the end of the reactor turn
    if (!stamped_) return;
    const std::uint64_t t_send = TscClock::ticks();
    rec_.stamp(Stage::send, t_send);
    rec_.end();
    s_.logs.ttt->push(
        TickSample{now_ns(), TscClock::instance().ticks_to_ns(static_cast<std::int64_t>(t_send - ev.begin_ticks))});
  }
  void on_trade(InstrumentId i, const strategy::TradeEvent& ev) noexcept {
    if (HFTX_UNLIKELY(stopping_)) return;
    for (StrategyId sid : s_.instruments[i].strategies) {
      current_ = sid;
      s_.strategies[sid].strategy->on_trade(*this, ev);
    }
  }

  // ---- StrategyContext (current_ names the strategy being called) ----
  ClientOrderId place(const oms::OrderRequest& request) noexcept override {
    if (HFTX_UNLIKELY(stopping_)) {
      last_reject_ = static_cast<std::uint8_t>(risk::RiskReason::kill_switch);
      return 0;
    }
    StrategySlot& slot = s_.strategies[current_];
    oms::OrderRequest req = request;
    req.strategy = current_;
    req.instrument = slot.instrument;
    const ClientOrderId id = make_client_id(current_, slot.next_seq++);
    LatencyTracker::Recorder* rec = nullptr;
    if (in_event_ && !stamped_) {  // the first order of a book event carries its tick-to-trade stamps
      rec = &rec_;
      rec->stamp(Stage::strategy);
    }
    const risk::RiskReason r = orders.place(id, req, rec);
    last_reject_ = static_cast<std::uint8_t>(r);
    if (r != risk::RiskReason::ok) return 0;
    if (rec != nullptr) stamped_ = true;
    sent_ = true;
    return id;
  }
  bool cancel(ClientOrderId id) noexcept override {
    const oms::Order* o = orders.oms().find(id);
    if (o == nullptr || o->strategy != current_) return false;
    const bool ok = orders.cancel(id);
    sent_ |= ok;
    return ok;
  }
  void cancel_all(InstrumentId instrument) noexcept override {
    orders.cancel_strategy(current_, instrument);
    sent_ = true;
  }
  [[nodiscard]] std::uint8_t last_reject() const noexcept override { return last_reject_; }
  [[nodiscard]] std::int64_t now_ns() const noexcept override { return session::now_ns(); }
  [[nodiscard]] const Scale& price_scale(InstrumentId i) const noexcept override {
    return s_.instruments[i].price_scale;
  }
  [[nodiscard]] const Scale& qty_scale(InstrumentId i) const noexcept override { return s_.instruments[i].qty_scale; }

 private:
  void on_timer() noexcept {
    const std::int64_t now = session::now_ns();
    market.poll(now);
    orders.on_timer(now);
    for (StrategyId sid = 0; sid < s_.strategies.size(); ++sid) {
      current_ = sid;
      s_.strategies[sid].strategy->on_timer(*this, now);
    }
  }

  // On the session thread: strategies stop, open orders are cancelled and confirmed (bounded), close.
  void shutdown() noexcept {
    market.close();  // no new market events: strategies are done once on_stop returns
    for (StrategyId sid = 0; sid < s_.strategies.size(); ++sid) {
      current_ = sid;
      try {
        s_.strategies[sid].strategy->on_stop(*this);
      } catch (...) {
      }
    }
    stopping_ = true;
    orders.cancel_open_orders_and_wait(reactor);
    orders.close();
    poll_until(reactor, std::chrono::milliseconds(500),
               [&] { return closed(market.connection()) && closed(orders.connection()); });
  }

  SessionParts s_;
  LatencyTracker::Recorder& rec_;

 public:
  net::Reactor reactor;
  OrderGateway<V> orders;
  MarketFeed<V, InlineLoop> market;

 private:
  net::Timer timer;
  StrategyId current_ = 0;
  std::uint8_t last_reject_ = 0;
  bool in_event_ = false;
  bool stopping_ = false;
  bool stamped_ = false;
  bool sent_ = false;
};

}  // namespace hftx::session
