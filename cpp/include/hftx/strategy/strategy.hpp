// hftx/strategy/strategy.hpp — the strategy interface and the context through which strategies trade.
//
// Threading contract: a Strategy instance is driven by exactly one thread (the session's feed thread in
// inline mode, one strategy worker in pipelined mode); all its callbacks run on that thread, one at a time,
// and must not block, throw or allocate. The StrategyContext passed in is only valid during the callback.
//
// Strategies see the market as events (top of book after each applied message, trades) rather than the
// book itself: in pipelined mode the book belongs to the feed thread and reaches workers as published
// snapshots, and one interface serves both modes. A strategy tracks its own working orders and inventory
// from on_order_update (every update carries the order's state after it was applied).
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

#include "hftx/book/l2_book.hpp"
#include "hftx/oms/types.hpp"

namespace hftx::strategy {

using oms::ClientOrderId;
using oms::InstrumentId;
using oms::StrategyId;

// The book after a whole venue message was applied.
struct BookEvent {
  InstrumentId instrument = 0;
  book::TopOfBook top;              // prices in ticks, quantities in qty steps; qty 0 = empty side
  std::uint64_t begin_ticks = 0;    // TscClock ticks when the message's bytes were in user space
};

struct TradeEvent {
  InstrumentId instrument = 0;
  Price price;
  Qty qty;
  bool buyer_is_maker = false;
  std::uint64_t trade_id = 0;
  std::int64_t recv_ns = 0;
};

// What a strategy may do. Implemented by the session (inline: risk-checked and encoded on the spot;
// pipelined: queued to the gateway thread, which checks risk and reports a rejection as an update).
class StrategyContext {
 public:
  // Places an order; returns its id, or 0 when it was not sent (inline: rejected by risk — see
  // last_reject(); pipelined: the order queue is full). Never blocks.
  [[nodiscard]] virtual ClientOrderId place(const oms::OrderRequest& request) noexcept = 0;
  // Asks to cancel one of this strategy's orders; false when the id is unknown/closed or the queue is full.
  virtual bool cancel(ClientOrderId id) noexcept = 0;
  // Asks to cancel every open order of this strategy on the instrument.
  virtual void cancel_all(InstrumentId instrument) noexcept = 0;
  // Risk reason code of the last place() that returned 0 (0 when none); see risk/risk.hpp.
  [[nodiscard]] virtual std::uint8_t last_reject() const noexcept = 0;
  [[nodiscard]] virtual std::int64_t now_ns() const noexcept = 0;
  // The instrument's scales (for strategies that think in decimals at setup).
  [[nodiscard]] virtual const Scale& price_scale(InstrumentId instrument) const noexcept = 0;
  [[nodiscard]] virtual const Scale& qty_scale(InstrumentId instrument) const noexcept = 0;

 protected:
  ~StrategyContext() = default;
};

class Strategy {
 public:
  virtual ~Strategy() = default;
  // Setup: after the session built everything, before the first event (may allocate).
  virtual void on_start(StrategyContext& /*ctx*/) {}
  virtual void on_book(StrategyContext& ctx, const BookEvent& ev) noexcept = 0;
  virtual void on_trade(StrategyContext& /*ctx*/, const TradeEvent& /*ev*/) noexcept {}
  // Every update of this strategy's orders, after the OMS applied it.
  virtual void on_order_update(StrategyContext& /*ctx*/, const oms::OrderUpdate& /*u*/) noexcept {}
  // Periodic (SessionConfig::timer_interval_ms) on the strategy's thread.
  virtual void on_timer(StrategyContext& /*ctx*/, std::int64_t /*now_ns*/) noexcept {}
  // Shutdown, before the session cancels open orders.
  virtual void on_stop(StrategyContext& /*ctx*/) {}

  [[nodiscard]] StrategyId id() const noexcept { return id_; }
  [[nodiscard]] InstrumentId instrument() const noexcept { return instrument_; }
  // Set by the session before on_start.
  void bind(StrategyId id, InstrumentId instrument) noexcept {
    id_ = id;
    instrument_ = instrument;
  }

 protected:
  // A limit order of this strategy on its instrument (price in ticks, quantity in qty steps).
  [[nodiscard]] oms::OrderRequest limit_order(book::Side side, std::int64_t price, std::int64_t qty,
                                              oms::TimeInForce tif, bool post_only) const noexcept {
    oms::OrderRequest r;
    r.instrument = instrument_;
    r.strategy = id_;
    r.side = side;
    r.type = oms::OrderType::limit;
    r.tif = tif;
    r.post_only = post_only;
    r.price = Price(price);
    r.qty = Qty(qty);
    return r;
  }

 private:
  StrategyId id_ = 0;
  InstrumentId instrument_ = 0;
};

// Parameters from the config's `strategies[].params` (numbers only; strings are config errors).
using StrategyParams = std::unordered_map<std::string, double>;

// The built-in strategies' type names (strategies[].type), as make_strategy() knows them.
inline constexpr std::array<std::string_view, 3> kStrategyTypes{"market_maker", "taker", "latency_probe"};

// Builds a built-in strategy by type name ("market_maker", "taker", "latency_probe"); throws ConfigError
// naming the type (and the list of known types) or a bad parameter (its key, value and the expected range).
[[nodiscard]] std::unique_ptr<Strategy> make_strategy(std::string_view type, const StrategyParams& params,
                                                      const Scale& price_scale, const Scale& qty_scale);

}  // namespace hftx::strategy
