// session/pipelined_loop.hpp (internal) — pipelined mode: feed thread → SPSC → N strategy workers → MPMC →
// gateway thread (→ SPSC updates → workers). docs/ARCHITECTURE.md, "Threads".
//
// Threading contract: constructed on the owner thread before start(). Then
//  - the feed thread runs run_feed(): the market feed (and, for venues whose snapshots are requested, its own
//    order-API connection for depth snapshots only) and the fan-out to the workers' SPSC queues;
//  - each worker runs Worker::run(): its strategies, reading its market queue and its update queue;
//  - the gateway thread runs run_gateway(): it drains the MPMC action queue (risk, encode, send), reads the
//    venue's answers and reports and routes each update to its strategy's worker (SPSC).
// Queries reach the feed or the gateway as tasks posted to their reactors.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <stop_token>
#include <vector>

#include "hftx/core/clock.hpp"
#include "hftx/latency/tracker.hpp"
#include "hftx/lockfree/mpmc_queue.hpp"
#include "hftx/lockfree/spsc_queue.hpp"
#include "hftx/memory/prefault.hpp"
#include "hftx/net/reactor.hpp"
#include "hftx/strategy/strategy.hpp"
#include "session/market_feed.hpp"
#include "session/order_gateway.hpp"
#include "session/state.hpp"

namespace hftx::session {

// One market event for the workers.
struct MdItem {
  enum Kind : std::uint8_t { book, trade } kind = book;
  InstrumentId instrument = 0;
  strategy::BookEvent book_ev;
  strategy::TradeEvent trade_ev;
  std::uint64_t t_parse = 0, t_book = 0;
};

// One strategy action for the gateway.
struct Action {
  enum Kind : std::uint8_t { place, cancel, cancel_all } kind = place;
  ClientOrderId id = 0;
  oms::OrderRequest req;
  std::uint64_t t_begin = 0, t_parse = 0, t_book = 0, t_strategy = 0;  // 0: not tracked
};

// Bytes of session arena one worker's queues take (its market queue and its update queue).
[[nodiscard]] inline std::size_t worker_queue_bytes(std::size_t capacity) {
  return SpscQueue<MdItem>::required_bytes(capacity) + SpscQueue<MdItem>::kBufferAlignment +
         SpscQueue<oms::OrderUpdate>::required_bytes(capacity) + SpscQueue<oms::OrderUpdate>::kBufferAlignment;
}

// Where the pipelined queues come from: rings carved from the session arena (Session::Impl).
struct QueueMemory {
  virtual void* carve(std::size_t bytes, std::size_t align) = 0;

 protected:
  ~QueueMemory() = default;
};

template <class V>
class PipelinedLoop {
 public:
  class Worker final : public strategy::StrategyContext {
   public:
    Worker(PipelinedLoop& p, std::size_t index, std::size_t capacity, QueueMemory& mem)
        : p_(p), index_(index), md(queue<MdItem>(capacity, mem)), updates(queue<oms::OrderUpdate>(capacity, mem)) {
      reserve_mapped(held, capacity);
    }

    ClientOrderId place(const oms::OrderRequest& request) noexcept override {
      StrategySlot& slot = p_.s_.strategies[current_];
      Action a;
      a.kind = Action::place;
      a.req = request;
      a.req.strategy = current_;
      a.req.instrument = slot.instrument;
      a.id = make_client_id(current_, slot.next_seq++);
      if (event_ != nullptr && !tracked_) {
        a.t_begin = event_->book_ev.begin_ticks;
        a.t_parse = event_->t_parse;
        a.t_book = event_->t_book;
        a.t_strategy = TscClock::ticks();
        tracked_ = true;
      }
      if (!p_.push(a)) {
        last_reject_ = static_cast<std::uint8_t>(risk::RiskReason::rate_limit);
        return 0;
      }
      last_reject_ = 0;
      return a.id;
    }
    bool cancel(ClientOrderId id) noexcept override {
      Action a;
      a.kind = Action::cancel;
      a.id = id;
      a.req.strategy = current_;
      return p_.push(a);
    }
    void cancel_all(InstrumentId instrument) noexcept override {
      Action a;
      a.kind = Action::cancel_all;
      a.req.strategy = current_;
      a.req.instrument = instrument;
      (void)p_.push(a);
    }
    [[nodiscard]] std::uint8_t last_reject() const noexcept override { return last_reject_; }
    [[nodiscard]] std::int64_t now_ns() const noexcept override { return session::now_ns(); }
    [[nodiscard]] const Scale& price_scale(InstrumentId i) const noexcept override {
      return p_.s_.instruments[i].price_scale;
    }
    [[nodiscard]] const Scale& qty_scale(InstrumentId i) const noexcept override {
      return p_.s_.instruments[i].qty_scale;
    }

    void start() {
      for (StrategyId sid : mine) {
        current_ = sid;
        p_.s_.strategies[sid].strategy->on_start(*this);
      }
    }

    void run(std::stop_token st) {
      const SessionParts& s = p_.s_;
      Idler idler(s.cfg.threading.busy_poll);
      std::int64_t next_timer = session::now_ns();
      const std::int64_t interval = s.cfg.timer_interval_ms * 1'000'000;
      for (;;) {
        bool work = false;
        while (MdItem* it = md.front()) {
          work = true;
          event_ = it;
          tracked_ = false;
          for (StrategyId sid : by_instrument[it->instrument]) {
            current_ = sid;
            if (it->kind == MdItem::book)
              s.strategies[sid].strategy->on_book(*this, it->book_ev);
            else
              s.strategies[sid].strategy->on_trade(*this, it->trade_ev);
          }
          event_ = nullptr;
          md.pop();
        }
        while (oms::OrderUpdate* u = updates.front()) {
          work = true;
          current_ = u->strategy;
          s.strategies[u->strategy].strategy->on_order_update(*this, *u);
          updates.pop();
        }
        const std::int64_t now = session::now_ns();
        if (now >= next_timer) {
          next_timer = now + interval;
          for (StrategyId sid : mine) {
            current_ = sid;
            s.strategies[sid].strategy->on_timer(*this, now);
          }
        }
        if (work) {
          idler.reset();
          continue;
        }
        if (st.stop_requested() || p_.workers_stop.load(std::memory_order_acquire)) break;
        idler.idle();
      }
      for (StrategyId sid : mine) {
        current_ = sid;
        try {
          s.strategies[sid].strategy->on_stop(*this);
        } catch (...) {
        }
      }
    }

    PipelinedLoop& p_;
    std::size_t index_;
    SpscQueue<MdItem> md;
    SpscQueue<oms::OrderUpdate> updates;
    // Gateway thread only: updates the full `updates` queue could not take yet, oldest first from held_head.
    std::vector<oms::OrderUpdate> held;
    std::size_t held_head = 0;
    std::vector<StrategyId> mine;
    std::vector<std::vector<StrategyId>> by_instrument;

   private:
    // An SPSC queue whose ring is carved from the session arena.
    template <class T>
    static SpscQueue<T> queue(std::size_t capacity, QueueMemory& mem) {
      const std::size_t bytes = SpscQueue<T>::required_bytes(capacity);
      return SpscQueue<T>(capacity, mem.carve(bytes, SpscQueue<T>::kBufferAlignment), bytes);
    }

    StrategyId current_ = 0;
    const MdItem* event_ = nullptr;
    bool tracked_ = false;
    std::uint8_t last_reject_ = 0;
  };

  PipelinedLoop(const SessionParts& s, QueueMemory& mem)
      : s_(s),
        feed_rec_(s.tracker.register_thread("hftx-feed")),
        gateway_rec_(s.tracker.register_thread("hftx-gateway")),
        market(FeedContext{s.cfg, s.instruments, s.counters, s.logs, feed_rec_, s.failure}, feed_reactor, *this),
        orders(GatewayContext{s.cfg, s.instruments, s.counters, s.logs, s.notes, s.failure, s.strategies.size()},
               gateway_reactor, true),
        actions(s.cfg.threading.queue_capacity),
        feed_timer(feed_reactor, [this] { market.poll(session::now_ns()); }),
        gateway_timer(gateway_reactor, [this] { orders.on_timer(session::now_ns()); }) {
    if constexpr (V::kSnapshotsByRequest) {
      depth.emplace(GatewayContext{s.cfg, s.instruments, s.counters, s.logs, s.notes, s.failure, s.strategies.size()},
                    feed_reactor, false);
      market.request_snapshots_through(*depth);
    }
    const std::size_t n = s.cfg.threading.workers;
    for (std::size_t w = 0; w < n; ++w) {
      workers.push_back(std::make_unique<Worker>(*this, w, s.cfg.threading.queue_capacity, mem));
      workers.back()->by_instrument.resize(s.instruments.size());
    }
    for (StrategyId sid = 0; sid < s.strategies.size(); ++sid) {
      Worker& w = *workers[s.strategies[sid].worker];
      w.mine.push_back(sid);
      w.by_instrument[s.strategies[sid].instrument].push_back(sid);
    }
    orders.deliver = [this](const oms::OrderUpdate& u) { route_update(u); };
  }

  // Connects, starts the strategies, arms the timers. Owner thread, before the threads run.
  void start(std::chrono::milliseconds interval) {
    orders.connect();
    // Logged on before the market flows (see InlineLoop::start); the gateway's thread is not running yet.
    poll_until(gateway_reactor, std::chrono::milliseconds(s_.cfg.venue.connect_timeout_ms),
               [&] { return orders.ready() || s_.stop_flag.load(std::memory_order_acquire); });
    if (depth) depth->connect();
    market.connect();
    for (auto& w : workers) w->start();
    feed_timer.arm(interval, interval);
    gateway_timer.arm(interval, interval);
  }

  // Worker → gateway. Wakes the gateway's reactor when it may be asleep.
  bool push(const Action& a) noexcept {
    if (!actions.try_push(a)) {
      s_.counters.queue_drops.add();
      return false;
    }
    if (gateway_idle.load(std::memory_order_seq_cst)) gateway_reactor.wake();
    return true;
  }

  // ---- the market feed's sink (feed thread) ----
  void on_book(InstrumentId i, const strategy::BookEvent& ev, std::uint64_t t_parse, std::uint64_t t_book) noexcept {
    MdItem it;
    it.kind = MdItem::book;
    it.instrument = i;
    it.book_ev = ev;
    it.t_parse = t_parse;
    it.t_book = t_book;
    fan_out(it);
  }
  void on_trade(InstrumentId i, const strategy::TradeEvent& ev) noexcept {
    MdItem it;
    it.kind = MdItem::trade;
    it.instrument = i;
    it.trade_ev = ev;
    fan_out(it);
  }

  void run_feed(std::stop_token st) {
    const bool busy = s_.cfg.threading.busy_poll;
    while (!st.stop_requested() && !feed_stop.load(std::memory_order_acquire)) feed_reactor.poll(busy ? 0 : 20);
    market.close();
    if (depth) depth->close();
    poll_until(feed_reactor, std::chrono::milliseconds(500),
               [&] { return closed(market.connection()) && (!depth || closed(depth->connection())); });
  }

  void run_gateway(std::stop_token st) {
    const bool busy = s_.cfg.threading.busy_poll;
    while (!st.stop_requested() && !gateway_stop.load(std::memory_order_acquire)) {
      const bool holding = release_held();
      if (drain() == 0) {
        gateway_idle.store(true, std::memory_order_seq_cst);
        if (actions.empty()) gateway_reactor.poll(busy || holding ? 0 : 20);
        gateway_idle.store(false, std::memory_order_relaxed);
      }
      gateway_reactor.poll(0);
    }
    // Shutdown: what the workers queued last, then cancel what is open and wait (bounded) for the venue.
    (void)drain();
    orders.cancel_open_orders_and_wait(gateway_reactor);
    orders.close();
    poll_until(gateway_reactor, std::chrono::milliseconds(500), [&] { return closed(orders.connection()); });
    gateway_done.store(true, std::memory_order_release);
  }

 private:
  void fan_out(const MdItem& it) noexcept {
    for (auto& w : workers)
      if (!w->by_instrument[it.instrument].empty() && !w->md.try_push(it)) s_.counters.queue_drops.add();
  }

  // Gateway thread. An order update is never dropped: a strategy that missed its order's close would wait for it
  // forever (a probe at max_open, a market maker retrying the cancel of a closed quote). What the worker's full
  // queue cannot take now waits, in order, for the gateway's next turn (release_held()).
  void route_update(const oms::OrderUpdate& u) noexcept {
    if (u.strategy >= s_.strategies.size()) return;
    Worker& w = *workers[s_.strategies[u.strategy].worker];
    if (w.held_head == w.held.size() && w.updates.try_push(u)) return;
    w.held.push_back(u);  // reserved at setup (queue_capacity); grows only for a worker further behind
  }
  // Gateway thread: moves held updates into the workers' queues as they make room. True while any wait.
  bool release_held() noexcept {
    bool waiting = false;
    for (auto& wp : workers) {
      Worker& w = *wp;
      while (w.held_head < w.held.size() && w.updates.try_push(w.held[w.held_head])) ++w.held_head;
      if (w.held_head == w.held.size()) {
        w.held.clear();
        w.held_head = 0;
      } else {
        waiting = true;
      }
    }
    return waiting;
  }

  // Gateway thread: every queued action. The first placed order of a batch carries the tick-to-trade stamps (the
  // batch is flushed with one send).
  std::size_t drain() noexcept {
    std::size_t n = 0;
    bool tracked = false;
    bool sent = false;
    std::uint64_t t_begin = 0;
    Action a;
    while (n < 4096 && actions.try_pop(a)) {
      ++n;
      switch (a.kind) {
        case Action::place: {
          LatencyTracker::Recorder* rec = nullptr;
          if (a.t_begin != 0 && !tracked) {
            rec = &gateway_rec_;
            rec->begin(a.t_begin);
            rec->stamp(Stage::parse, a.t_parse);
            rec->stamp(Stage::book, a.t_book);
            rec->stamp(Stage::strategy, a.t_strategy);
          }
          const risk::RiskReason r = orders.place(a.id, a.req, rec);
          if (r == risk::RiskReason::ok) {
            sent = true;
            if (rec != nullptr) {
              tracked = true;
              t_begin = a.t_begin;
            }
          } else {
            oms::OrderUpdate u;
            u.kind = oms::UpdateKind::rejected;
            u.client_id = a.id;
            u.instrument = a.req.instrument;
            u.side = a.req.side;
            u.strategy = a.req.strategy;
            u.state = oms::OrderState::rejected;
            u.qty = a.req.qty;
            u.price = a.req.price;
            u.error_code = -static_cast<std::int32_t>(r);
            u.recv_ns = session::now_ns();
            route_update(u);
          }
          break;
        }
        case Action::cancel: {
          const oms::Order* o = orders.oms().find(a.id);
          if (o != nullptr && o->strategy == a.req.strategy) sent |= orders.cancel(a.id);
          break;
        }
        case Action::cancel_all:
          orders.cancel_strategy(a.req.strategy, a.req.instrument);
          sent = true;
          break;
      }
    }
    if (sent) {
      orders.flush();
      if (tracked) {
        const std::uint64_t t_send = TscClock::ticks();
        gateway_rec_.stamp(Stage::send, t_send);
        gateway_rec_.end();
        const std::int64_t ttt = TscClock::instance().ticks_to_ns(static_cast<std::int64_t>(t_send - t_begin));
        s_.logs.ttt->push(TickSample{session::now_ns(), ttt});
      }
    }
    return n;
  }

  SessionParts s_;
  LatencyTracker::Recorder& feed_rec_;
  LatencyTracker::Recorder& gateway_rec_;

 public:
  net::Reactor feed_reactor;
  net::Reactor gateway_reactor;
  MarketFeed<V, PipelinedLoop> market;
  OrderGateway<V> orders;  // gateway thread
  // Feed thread: an order-API connection for depth snapshots only (venues whose snapshots are requested).
  std::optional<OrderGateway<V>> depth;
  MpmcQueue<Action> actions;
  net::Timer feed_timer;
  net::Timer gateway_timer;
  std::vector<std::unique_ptr<Worker>> workers;
  std::atomic<bool> gateway_idle{false};
  std::atomic<bool> feed_stop{false};
  std::atomic<bool> workers_stop{false};
  std::atomic<bool> gateway_stop{false};
  std::atomic<std::size_t> workers_done{0};
  std::atomic<bool> gateway_done{false};
};

}  // namespace hftx::session
