// hftx/oms/position.hpp — per-instrument positions, average entry price and PnL, from fills.
//
// Threading contract: not thread-safe. One thread (the one that applies order updates: the session's
// inline thread or its gateway thread) calls on_fill/set_mark; readers on other threads get copies from
// that thread (the session posts a task to it).
//
// Arithmetic is exact: quantities are signed counts of qty steps, prices counts of ticks, and money is
// kept in tick·step units (price ticks × qty steps) as int128, so a session of any length accumulates no
// rounding. The cost basis of the open position is `cost` (signed like the position); closing q of a
// position of size |p| removes cost·q/|p| (integer division) from it, so the basis and the realised PnL
// together conserve every unit: once the position is flat again its realised PnL is exact to the unit.
// Doubles appear only at the edge (to_double with the instrument's scales).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "hftx/book/l2_book.hpp"
#include "hftx/core/fixed_point.hpp"
#include "hftx/core/platform.hpp"
#include "hftx/oms/types.hpp"

namespace hftx::oms {

struct PositionState {
  Qty position;              // signed: > 0 long, < 0 short (qty steps)
  int128 cost = 0;           // cost basis of the open position, tick·steps, same sign as position
  int128 realized = 0;       // realised PnL, tick·steps
  std::int64_t mark2 = 0;    // mark price × 2 (bid + ask, ticks); 0 = no mark yet
  Qty bought, sold;          // traded volume per side (qty steps)
  std::uint64_t fills = 0;
};

class PositionBook {
 public:
  explicit PositionBook(std::size_t max_instruments)
      : states_(max_instruments), scales_(max_instruments) {}

  // Setup: the scales used when converting to doubles (default: step 1).
  void set_scales(InstrumentId instrument, const Scale& price_scale, const Scale& qty_scale) {
    scales_.at(instrument) = {price_scale, qty_scale};
  }

  // A fill of `qty` (> 0) at `price` on `side` (bid = we bought). Out-of-range instruments are ignored
  // (the OMS validates instruments at create()).
  void on_fill(InstrumentId instrument, Side side, Price price, Qty qty) noexcept {
    if (HFTX_UNLIKELY(instrument >= states_.size() || qty.raw() <= 0)) return;
    PositionState& s = states_[instrument];
    const std::int64_t q = qty.raw();
    const std::int64_t signed_q = side == Side::bid ? q : -q;
    const std::int64_t pos = s.position.raw();
    const int128 px = price.raw();
    ++s.fills;
    if (side == Side::bid)
      s.bought += qty;
    else
      s.sold += qty;
    if (pos == 0 || (pos > 0) == (signed_q > 0)) {  // opening or adding
      s.position = Qty(pos + signed_q);
      s.cost += px * signed_q;
      return;
    }
    // Reducing (and maybe flipping through zero).
    const std::int64_t abs_pos = pos > 0 ? pos : -pos;
    const std::int64_t close = q < abs_pos ? q : abs_pos;
    const int128 removed = s.cost * close / abs_pos;  // sign of pos; == cost when closing everything
    const int128 sgn = pos > 0 ? 1 : -1;
    s.realized += sgn * px * close - removed;
    s.cost -= removed;
    const std::int64_t rest = q - close;
    if (rest == 0) {
      s.position = Qty(pos > 0 ? pos - close : pos + close);
    } else {  // flipped: the remainder opens a new position at this price
      const std::int64_t opened = signed_q > 0 ? rest : -rest;
      s.position = Qty(opened);
      s.cost = px * opened;
    }
  }

  // Mark price for the unrealised PnL, as bid + ask in ticks (one side only: 2 × that side).
  void set_mark2(InstrumentId instrument, std::int64_t mark2) noexcept {
    if (HFTX_LIKELY(instrument < states_.size())) states_[instrument].mark2 = mark2;
  }
  void set_mark(InstrumentId instrument, const book::TopOfBook& top) noexcept {
    const bool b = top.bid_qty > 0, a = top.ask_qty > 0;
    if (b || a) set_mark2(instrument, b && a ? top.bid_price + top.ask_price : 2 * (b ? top.bid_price : top.ask_price));
  }

  [[nodiscard]] std::size_t size() const noexcept { return states_.size(); }
  [[nodiscard]] const PositionState& state(InstrumentId instrument) const { return states_.at(instrument); }
  [[nodiscard]] Qty position(InstrumentId instrument) const noexcept {
    return instrument < states_.size() ? states_[instrument].position : Qty{};
  }
  // Unrealised PnL × 2 at the mark, tick·steps (0 without a mark).
  [[nodiscard]] int128 unrealized2_raw(InstrumentId instrument) const noexcept {
    const PositionState& s = states_[instrument];
    if (s.mark2 == 0 || s.position.raw() == 0) return 0;
    return static_cast<int128>(s.position.raw()) * s.mark2 - 2 * s.cost;
  }

  // ---- doubles at the edge (quote currency / base units / price units) ----
  [[nodiscard]] double position_units(InstrumentId i) const noexcept {
    return to_double(position(i).raw(), scales_[i].qty);
  }
  // Average entry price of the open position (0 when flat).
  [[nodiscard]] double avg_price(InstrumentId i) const noexcept {
    const PositionState& s = states_[i];
    if (s.position.raw() == 0) return 0.0;
    const double ticks = static_cast<double>(s.cost) / static_cast<double>(s.position.raw());
    return ticks * price_unit(i);
  }
  [[nodiscard]] double realized_pnl(InstrumentId i) const noexcept {
    return static_cast<double>(states_[i].realized) * money_unit(i);
  }
  [[nodiscard]] double unrealized_pnl(InstrumentId i) const noexcept {
    return static_cast<double>(unrealized2_raw(i)) * money_unit(i) * 0.5;
  }
  // Realised + unrealised over every instrument (assumes one quote currency).
  [[nodiscard]] double total_pnl() const noexcept {
    double t = 0;
    for (std::size_t i = 0; i < states_.size(); ++i) {
      const PositionState& s = states_[i];
      if (s.fills == 0) continue;
      const auto id = static_cast<InstrumentId>(i);
      t += realized_pnl(id) + unrealized_pnl(id);
    }
    return t;
  }

 private:
  struct Scales {
    Scale price, qty;
  };
  [[nodiscard]] double price_unit(InstrumentId i) const noexcept { return to_double(1, scales_[i].price); }
  [[nodiscard]] double money_unit(InstrumentId i) const noexcept {
    return to_double(1, scales_[i].price) * to_double(1, scales_[i].qty);
  }

  std::vector<PositionState> states_;
  std::vector<Scales> scales_;
};

}  // namespace hftx::oms
