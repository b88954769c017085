// hftx/strategy/taker.hpp — crosses the spread with IOC orders on a top-of-book imbalance signal.
//
// Threading contract: as every Strategy (strategy.hpp): one thread drives an instance.
//
// imbalance = (bid_qty - ask_qty) / (bid_qty + ask_qty) at the top of the book. Above +threshold it buys
// `size` with an IOC limit at the best ask; below -threshold it sells at the best bid. At most one order
// per cooldown_ms (measured with the context's clock), and never one whose fill would take |position|
// past max_position. The position comes from on_order_update fills.
#pragma once

#include <cmath>
#include <cstdint>
#include <limits>

#include "hftx/core/fixed_point.hpp"
#include "hftx/strategy/strategy.hpp"

namespace hftx::strategy {

struct TakerParams {
  double size = 0.001;        // quantity per order, base units; > 0
  double imbalance = 0.6;     // |signal| threshold; (0, 1)
  double cooldown_ms = 100;   // minimum time between orders; >= 0
  double max_position = 1.0;  // base units; >= 0
};

class Taker final : public Strategy {
 public:
  Taker(const TakerParams& p, const Scale& /*price_scale*/, const Scale& qty_scale) noexcept
      : params_(p),
        size_(std::llround(p.size * static_cast<double>(qty_scale.pow10()) / static_cast<double>(qty_scale.multiplier()))),
        max_position_(std::llround(p.max_position * static_cast<double>(qty_scale.pow10()) /
                                   static_cast<double>(qty_scale.multiplier()))),
        cooldown_ns_(std::llround(p.cooldown_ms * 1e6)) {}

  void on_book(StrategyContext& ctx, const BookEvent& ev) noexcept override {
    const book::TopOfBook& t = ev.top;
    if (ev.instrument != instrument() || t.bid_qty <= 0 || t.ask_qty <= 0) return;
    const double signal = static_cast<double>(t.bid_qty - t.ask_qty) / static_cast<double>(t.bid_qty + t.ask_qty);
    book::Side side;
    std::int64_t price;
    if (signal > params_.imbalance && position_ + size_ <= max_position_) {
      side = book::Side::bid;
      price = t.ask_price;
    } else if (signal < -params_.imbalance && position_ - size_ >= -max_position_) {
      side = book::Side::ask;
      price = t.bid_price;
    } else {
      return;
    }
    const std::int64_t now = ctx.now_ns();
    if (now - last_order_ns_ < cooldown_ns_) return;
    last_order_ns_ = now;
    if (ctx.place(limit_order(side, price, size_, oms::TimeInForce::ioc, /*post_only=*/false)) != 0) ++orders_;
  }

  void on_order_update(StrategyContext& /*ctx*/, const oms::OrderUpdate& u) noexcept override {
    if (u.kind == oms::UpdateKind::fill) position_ += u.side == book::Side::bid ? u.last_qty.raw() : -u.last_qty.raw();
  }

  [[nodiscard]] std::int64_t position() const noexcept { return position_; }
  [[nodiscard]] std::uint64_t orders() const noexcept { return orders_; }  // placed (accepted by risk)
  [[nodiscard]] const TakerParams& params() const noexcept { return params_; }

 private:
  TakerParams params_;
  std::int64_t size_;
  std::int64_t max_position_;
  std::int64_t cooldown_ns_;
  std::int64_t last_order_ns_ = std::numeric_limits<std::int64_t>::min() / 2;
  std::int64_t position_ = 0;
  std::uint64_t orders_ = 0;
};

}  // namespace hftx::strategy
