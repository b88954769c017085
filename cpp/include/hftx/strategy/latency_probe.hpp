// hftx/strategy/latency_probe.hpp — answers book events with orders, to measure tick-to-trade.
//
// Threading contract: as every Strategy (strategy.hpp): one thread drives an instance.
//
// Every every_n-th book event it cancels its previous order (if still open) and places a post-only GTC
// buy offset_bps below the mid: far enough not to fill, inside the risk price band so that risk accepts
// it. The order is the tick's answer, so the session's tick-to-trade stamps measure the whole path. Open
// orders stay bounded: at most max_open of its orders are open or cancelling at once (with a slow venue
// the cancels are in flight); past that it skips events (counted) until updates close some.
#pragma once

#include <cmath>
#include <cstdint>

#include "hftx/core/fixed_point.hpp"
#include "hftx/strategy/strategy.hpp"

namespace hftx::strategy {

struct LatencyProbeParams {
  double size = 0.001;       // base units; > 0
  double offset_bps = 100;   // below the mid, bps; [0, 10000)
  double every_n = 1;        // answer every n-th book event; integer >= 1
  double max_open = 4;       // bound on this probe's open (incl. cancelling) orders; integer >= 1
};

class LatencyProbe final : public Strategy {
 public:
  LatencyProbe(const LatencyProbeParams& p, const Scale& /*price_scale*/, const Scale& qty_scale) noexcept
      : params_(p),
        size_(std::llround(p.size * static_cast<double>(qty_scale.pow10()) / static_cast<double>(qty_scale.multiplier()))),
        factor_(1.0 - p.offset_bps * 1e-4),
        every_n_(static_cast<std::uint64_t>(p.every_n)),
        max_open_(static_cast<std::uint32_t>(p.max_open)) {}

  void on_book(StrategyContext& ctx, const BookEvent& ev) noexcept override {
    const book::TopOfBook& t = ev.top;
    if (ev.instrument != instrument() || t.bid_qty <= 0) return;
    if (++events_ % every_n_ != 0) return;
    // The previous order is cancelled first, even when no new one may go out: at the bound its close is
    // what frees the next place (max_open 1 would otherwise keep its one order forever).
    if (last_ != 0) {
      if (!ctx.cancel(last_)) {  // retried on the next event (see MarketMaker::quote)
        ++skipped_;
        return;
      }
      last_ = 0;
    }
    if (open_ >= max_open_) {
      ++skipped_;
      return;
    }
    const double mid = t.ask_qty > 0 ? 0.5 * static_cast<double>(t.bid_price + t.ask_price)
                                     : static_cast<double>(t.bid_price);
    std::int64_t price = static_cast<std::int64_t>(std::floor(mid * factor_));
    if (t.ask_qty > 0 && price >= t.ask_price) price = t.ask_price - 1;  // post-only: never take
    if (price <= 0) return;
    const ClientOrderId placed =
        ctx.place(limit_order(book::Side::bid, price, size_, oms::TimeInForce::gtc, /*post_only=*/true));
    if (placed != 0) {
      last_ = placed;
      ++open_;
      ++orders_;
    }
  }

  void on_order_update(StrategyContext& /*ctx*/, const oms::OrderUpdate& u) noexcept override {
    if (!oms::is_closed(u.state)) return;
    if (open_ > 0) --open_;
    if (u.client_id == last_) last_ = 0;
  }

  void on_stop(StrategyContext& ctx) override {
    if (last_ != 0) ctx.cancel(last_);
    last_ = 0;
  }

  [[nodiscard]] std::uint32_t open_orders() const noexcept { return open_; }
  [[nodiscard]] std::uint64_t orders() const noexcept { return orders_; }
  [[nodiscard]] std::uint64_t skipped() const noexcept { return skipped_; }
  [[nodiscard]] const LatencyProbeParams& params() const noexcept { return params_; }

 private:
  LatencyProbeParams params_;
  std::int64_t size_;
  double factor_;
  std::uint64_t every_n_;
  std::uint32_t max_open_;
  std::uint64_t events_ = 0;
  std::uint32_t open_ = 0;
  ClientOrderId last_ = 0;
  std::uint64_t orders_ = 0;
  std::uint64_t skipped_ = 0;
};

}  // namespace hftx::strategy
