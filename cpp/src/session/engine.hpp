// session/engine.hpp (internal) — a session's machinery for one venue: the inline or the pipelined loop built
// for V, behind the narrow control-plane interface the Session facade calls. docs/ARCHITECTURE.md, "The seam".
//
// Threading contract: Engine's members are called by the Session's owner thread (start, stop) and by query
// threads (orders, positions, books), which reach the loops' threads as tasks posted to their reactors.
//
// The hot path is all inside VenueEngine<V>: MarketFeed<V, Loop>, OrderGateway<V> and the loop are templates on
// the venue, so a market message reaches the strategies and an order the socket with no virtual call and no
// extra copy. The only virtual calls are these, a few per query.
#pragma once

#include <chrono>
#include <functional>
#include <future>
#include <memory>
#include <stop_token>
#include <vector>

#include "hftx/core/error.hpp"
#include "hftx/cpu/thread_manager.hpp"
#include "session/inline_loop.hpp"
#include "session/pipelined_loop.hpp"
#include "session/state.hpp"

namespace hftx::session {

class Engine {
 public:
  virtual ~Engine() = default;
  // Connects, starts the strategies and arms the timers, on the owner thread.
  virtual void connect() = 0;
  // Starts the mode's threads (placement: the ThreadManager's, in role order: inline "hftx-session"; pipelined
  // "hftx-gateway", "hftx-feed", "hftx-worker<n>"). `finished` runs on the inline session thread when it returns.
  virtual void run_threads(ThreadManager& threads, const Placement& placement, std::function<void()> finished) = 0;
  // The mode's ordered stop (pipelined: workers, then the gateway, then the feed), before the threads are joined.
  virtual void stop() = 0;
  virtual std::vector<OrderInfo> orders(bool running) = 0;
  virtual std::vector<PositionInfo> positions(bool running) = 0;
  virtual std::vector<BookInfo> books(std::size_t depth, bool running) = 0;
};

// Runs `fn` on the thread that owns `reactor` and waits for its result; directly when that thread is not running
// (before start, after stop).
template <class F>
auto on_owner(net::Reactor& reactor, bool running, F&& fn) -> decltype(fn()) {
  using R = decltype(fn());
  if (!running) return fn();
  auto task = std::make_shared<std::packaged_task<R()>>(std::forward<F>(fn));
  std::future<R> fut = task->get_future();
  reactor.post([task] { (*task)(); });
  if (fut.wait_for(std::chrono::seconds(5)) != std::future_status::ready)
    throw Error("session query: the session thread did not answer within 5 s");
  return fut.get();
}

template <class V>
class VenueEngine final : public Engine {
 public:
  VenueEngine(const SessionParts& s, QueueMemory& mem) : s_(s) {
    if (s.cfg.threading.mode == ThreadingMode::pipelined)
      pipelined_ = std::make_unique<PipelinedLoop<V>>(s, mem);
    else
      inline_ = std::make_unique<InlineLoop<V>>(s);
  }

  void connect() override {
    const auto interval = std::chrono::milliseconds(s_.cfg.timer_interval_ms);
    if (inline_)
      inline_->start(interval);
    else
      pipelined_->start(interval);
  }

  void run_threads(ThreadManager& threads, const Placement& placement, std::function<void()> finished) override {
    if (inline_) {
      threads.start(placement.threads[0], [this, finished = std::move(finished)](std::stop_token st) {
        inline_->run(st);
        finished();
      });
      return;
    }
    PipelinedLoop<V>& p = *pipelined_;
    threads.start(placement.threads[0], [&p](std::stop_token st) { p.run_gateway(st); });
    for (std::size_t w = 0; w < p.workers.size(); ++w)
      threads.start(placement.threads[2 + w], [&p, w](std::stop_token st) {
        p.workers[w]->run(st);
        p.workers_done.fetch_add(1, std::memory_order_acq_rel);
      });
    threads.start(placement.threads[1], [&p](std::stop_token st) { p.run_feed(st); });
  }

  void stop() override {
    if (inline_) {
      inline_->reactor.wake();
      return;
    }
    // Workers first (their on_stop may still queue cancels), then the gateway (drains, cancels what is open, waits
    // for the venue), then the feed.
    PipelinedLoop<V>& p = *pipelined_;
    p.workers_stop.store(true, std::memory_order_release);
    while (p.workers_done.load(std::memory_order_acquire) < p.workers.size())
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    p.gateway_stop.store(true, std::memory_order_release);
    p.gateway_reactor.wake();
    while (!p.gateway_done.load(std::memory_order_acquire)) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    p.feed_stop.store(true, std::memory_order_release);
    p.feed_reactor.wake();
  }

  std::vector<OrderInfo> orders(bool running) override {
    return with_gateway(running, [&](OrderGateway<V>& g) {
      std::vector<OrderInfo> out;
      g.oms().for_each_open([&](const oms::Order& o) {
        const Instrument& in = s_.instruments[o.instrument];
        OrderInfo i;
        i.id = o.client_id;
        i.strategy = o.strategy;
        i.symbol = in.cfg.symbol;
        i.side = o.side();
        i.type = o.type();
        i.tif = o.tif();
        i.price = to_double(o.price.raw(), in.price_scale);
        i.qty = to_double(o.qty.raw(), in.qty_scale);
        i.filled = to_double(o.filled.raw(), in.qty_scale);
        i.state = o.state;
        out.push_back(std::move(i));
      });
      return out;
    });
  }

  std::vector<PositionInfo> positions(bool running) override {
    return with_gateway(running, [&](OrderGateway<V>& g) {
      std::vector<PositionInfo> out;
      g.mark_positions();
      const oms::PositionBook& pb = g.positions();
      for (InstrumentId i = 0; i < s_.instruments.size(); ++i) {
        PositionInfo p;
        p.symbol = s_.instruments[i].cfg.symbol;
        p.raw_position = pb.position(i);
        p.position = pb.position_units(i);
        p.avg_price = pb.avg_price(i);
        p.realized_pnl = pb.realized_pnl(i);
        p.unrealized_pnl = pb.unrealized_pnl(i);
        out.push_back(std::move(p));
      }
      return out;
    });
  }

  std::vector<BookInfo> books(std::size_t depth, bool running) override {
    auto read = [&](auto& feed) {
      std::vector<BookInfo> out;
      for (InstrumentId i = 0; i < s_.instruments.size(); ++i) {
        const Instrument& in = s_.instruments[i];
        BookInfo b;
        b.symbol = in.cfg.symbol;
        b.price_scale = in.price_scale;
        b.qty_scale = in.qty_scale;
        b.bids.resize(std::min(depth, in.book->bid_count()));
        b.asks.resize(std::min(depth, in.book->ask_count()));
        b.bids.resize(in.book->depth(Side::bid, b.bids));
        b.asks.resize(in.book->depth(Side::ask, b.asks));
        b.update_id = in.book->update_id();
        b.synced = feed.synced(i);
        out.push_back(std::move(b));
      }
      return out;
    };
    if (inline_) return on_owner(inline_->reactor, running, [&] { return read(inline_->market); });
    return on_owner(pipelined_->feed_reactor, running, [&] { return read(pipelined_->market); });
  }

 private:
  // The order gateway's owner: the inline thread or the gateway thread.
  template <class F>
  auto with_gateway(bool running, F&& fn) {
    if (inline_) return on_owner(inline_->reactor, running, [&] { return fn(inline_->orders); });
    return on_owner(pipelined_->gateway_reactor, running, [&] { return fn(pipelined_->orders); });
  }

  SessionParts s_;
  std::unique_ptr<InlineLoop<V>> inline_;
  std::unique_ptr<PipelinedLoop<V>> pipelined_;
};

// The engine of the venue whose protocol the session speaks (cfg.venue.protocol(), validated), built by the
// registry (cpp/src/registry.cpp, which instantiates VenueEngine<V> for each venue).
[[nodiscard]] std::unique_ptr<Engine> make_engine(std::string_view venue, const SessionParts& s, QueueMemory& mem);

}  // namespace hftx::session
