// hftx/strategy/external.hpp — a strategy whose decisions are made outside the session's threads (the
// Python strategy class, a GUI, another process' adapter), joined to the session by two SPSC rings.
//
// Threading contract:
//  - The session's strategy thread calls the Strategy callbacks (as for any strategy). It is the only
//    producer of events and the only consumer of commands.
//  - One outside thread (the "driver") is the only consumer of events (drain) and the only producer of
//    commands (submit). stats() may be read from any thread.
// The strategy thread never waits for the driver: an event that finds the ring full is dropped and counted
// (events_dropped), and every event carries a sequence number so the driver can see a drop. Commands are
// executed on the strategy thread at its next callback (any event, or on_timer every
// SessionConfig::timer_interval_ms), so a command waits at most one timer interval on a quiet market.
//
// Layouts are fixed (64 and 48 bytes) so that a driver can read a batch as an array (NumPy) in one copy.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

#include "hftx/lockfree/spsc_queue.hpp"
#include "hftx/strategy/strategy.hpp"

namespace hftx::strategy {

enum class ExternalEventKind : std::uint8_t {
  book = 1,    // a = bid price, b = bid qty, c = ask price, d = ask qty, id = the book's update id
  trade = 2,   // a = price, b = qty, id = trade id, flag = 1 when the buyer was the maker
  order = 3,   // a = order price, b = last fill qty, c = last fill price, d = filled so far, id = client id,
               // flag = oms::UpdateKind, side, state = oms::OrderState after the update
  placed = 4,  // the answer to a place command: id = client id (0: not sent), c = the command's tag,
               // flag = risk::RiskReason when not sent (0 when sent), kInvalidCommand for a malformed one
};
inline constexpr std::uint8_t kInvalidCommand = 0xFF;

// Prices and quantities are raw steps of the instrument's price and quantity scales.
struct ExternalEvent {
  std::uint64_t seq = 0;      // 1, 2, 3, ... per strategy, counting dropped events too
  std::int64_t time_ns = 0;   // when the session received what caused it (session clock)
  std::int64_t a = 0, b = 0, c = 0, d = 0;
  std::uint64_t id = 0;
  std::uint32_t instrument = 0;
  std::uint8_t kind = 0;      // ExternalEventKind
  std::uint8_t flag = 0;
  std::uint8_t side = 0;      // 0 bid, 1 ask
  std::uint8_t state = 0;
};
static_assert(sizeof(ExternalEvent) == 64);

enum class ExternalCommandKind : std::uint8_t { place = 1, cancel = 2, cancel_all = 3 };

struct ExternalCommand {
  std::uint64_t tag = 0;      // place: echoed in the placed event; cancel: the client order id
  std::int64_t price = 0;     // raw price steps (limit orders)
  std::int64_t qty = 0;       // raw quantity steps
  std::uint64_t reserved = 0;
  std::uint32_t instrument = 0;
  std::uint8_t kind = 0;      // ExternalCommandKind
  std::uint8_t side = 0;      // 0 bid (buy), 1 ask (sell)
  std::uint8_t type = 0;      // oms::OrderType
  std::uint8_t tif = 0;       // oms::TimeInForce
  std::uint8_t post_only = 0;
  std::uint8_t pad[7] = {};
};
static_assert(sizeof(ExternalCommand) == 48);

struct ExternalStats {
  std::uint64_t events = 0;          // produced (delivered + dropped)
  std::uint64_t events_dropped = 0;  // the ring was full
  std::uint64_t commands = 0;        // executed
  std::uint64_t commands_invalid = 0;
};

class ExternalStrategy final : public Strategy {
 public:
  ExternalStrategy(std::size_t event_capacity, std::size_t command_capacity)
      : events_(event_capacity), commands_(command_capacity) {}

  // ---- driver thread --------------------------------------------------------------------------------
  // Moves up to `max` events into out[0..); returns how many.
  std::size_t drain(ExternalEvent* out, std::size_t max) noexcept { return events_.pop_n(out, max); }
  [[nodiscard]] bool try_submit(const ExternalCommand& c) noexcept { return commands_.try_push(c); }
  [[nodiscard]] bool has_events() const noexcept { return !events_.empty(); }

  // ---- any thread -----------------------------------------------------------------------------------
  [[nodiscard]] ExternalStats stats() const noexcept {
    return {events_n_.load(std::memory_order_relaxed), dropped_.load(std::memory_order_relaxed),
            commands_n_.load(std::memory_order_relaxed), invalid_.load(std::memory_order_relaxed)};
  }

  // ---- strategy thread ------------------------------------------------------------------------------
  void on_book(StrategyContext& ctx, const BookEvent& ev) noexcept override {
    emit({.time_ns = ev.top.recv_ns, .a = ev.top.bid_price, .b = ev.top.bid_qty, .c = ev.top.ask_price,
          .d = ev.top.ask_qty, .id = ev.top.update_id, .instrument = ev.instrument,
          .kind = static_cast<std::uint8_t>(ExternalEventKind::book)});
    execute(ctx);
  }
  void on_trade(StrategyContext& ctx, const TradeEvent& ev) noexcept override {
    emit({.time_ns = ev.recv_ns, .a = ev.price.raw(), .b = ev.qty.raw(), .id = ev.trade_id, .instrument = ev.instrument,
          .kind = static_cast<std::uint8_t>(ExternalEventKind::trade), .flag = ev.buyer_is_maker ? std::uint8_t{1} : std::uint8_t{0}});
    execute(ctx);
  }
  void on_order_update(StrategyContext& ctx, const oms::OrderUpdate& u) noexcept override {
    emit({.time_ns = u.recv_ns, .a = u.price.raw(), .b = u.last_qty.raw(), .c = u.last_price.raw(), .d = u.filled.raw(),
          .id = u.client_id, .instrument = u.instrument, .kind = static_cast<std::uint8_t>(ExternalEventKind::order),
          .flag = static_cast<std::uint8_t>(u.kind), .side = u.side == book::Side::ask ? std::uint8_t{1} : std::uint8_t{0},
          .state = static_cast<std::uint8_t>(u.state)});
    execute(ctx);
  }
  void on_timer(StrategyContext& ctx, std::int64_t /*now_ns*/) noexcept override { execute(ctx); }

 private:
  // The counters have one writer (the strategy thread): a relaxed load and store, no read-modify-write.
  static void bump(std::atomic<std::uint64_t>& c) noexcept {
    c.store(c.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  }

  void emit(ExternalEvent e) noexcept {
    e.seq = ++seq_;
    events_n_.store(seq_, std::memory_order_relaxed);
    if (!events_.try_push(e)) bump(dropped_);
  }

  // Runs the commands queued so far (bounded, so a flood cannot starve the strategy thread's other work).
  void execute(StrategyContext& ctx) noexcept {
    commands_.consume_n([&](ExternalCommand& c) { run(ctx, c); }, commands_.capacity());
  }

  void run(StrategyContext& ctx, const ExternalCommand& c) noexcept {
    bump(commands_n_);
    switch (static_cast<ExternalCommandKind>(c.kind)) {
      case ExternalCommandKind::place: {
        const bool valid = c.side <= 1 && c.type <= static_cast<std::uint8_t>(oms::OrderType::market) &&
                           c.tif <= static_cast<std::uint8_t>(oms::TimeInForce::fok);
        ClientOrderId placed = 0;
        if (valid) {
          oms::OrderRequest r;
          r.instrument = c.instrument;
          r.strategy = id();
          r.side = c.side == 0 ? book::Side::bid : book::Side::ask;
          r.type = static_cast<oms::OrderType>(c.type);
          r.tif = static_cast<oms::TimeInForce>(c.tif);
          r.post_only = c.post_only != 0;
          r.price = Price(c.price);
          r.qty = Qty(c.qty);
          placed = ctx.place(r);
        } else {
          bump(invalid_);
        }
        emit({.time_ns = ctx.now_ns(), .c = static_cast<std::int64_t>(c.tag), .id = placed, .instrument = c.instrument,
              .kind = static_cast<std::uint8_t>(ExternalEventKind::placed),
              .flag = !valid ? kInvalidCommand : placed == 0 ? ctx.last_reject() : std::uint8_t{0}, .side = c.side});
        break;
      }
      case ExternalCommandKind::cancel: (void)ctx.cancel(c.tag); break;
      case ExternalCommandKind::cancel_all: ctx.cancel_all(c.instrument); break;
      default: bump(invalid_); break;
    }
  }

  SpscQueue<ExternalEvent> events_;
  SpscQueue<ExternalCommand> commands_;
  std::uint64_t seq_ = 0;  // strategy thread only
  std::atomic<std::uint64_t> events_n_{0}, dropped_{0}, commands_n_{0}, invalid_{0};
};

}  // namespace hftx::strategy
