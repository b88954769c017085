// hftx/strategy/market_maker.hpp — quotes a bid and an ask around the mid with an inventory skew.
//
// Threading contract: as every Strategy (strategy.hpp): one thread drives an instance.
//
// On each book event with both sides present: fair = mid × (1 - skew_bps_per_unit × position / 10^4),
// bid = floor(fair × (1 - spread/2)), ask = ceil(fair × (1 + spread/2)), each kept one tick inside the
// opposite best so that the post-only (LIMIT_MAKER) quotes never take. A working quote is replaced
// (cancel, then place) only when its price is at least requote_bps of the mid away from the new one, so a
// quiet book sends nothing. A side whose fill would push |position| past max_position is not quoted (and
// its working quote is cancelled). The position and the working orders come from on_order_update.
//
// The mid is the market's, not ours: where the best price of a side is our own working quote, the last best
// price seen from others on that side stands in for it. Otherwise a quote inside a wide spread moves the
// mid, the requote moves it back, and the strategy chases its own orders with a cancel/place per event (seen
// against the simulator: ~5,000 orders/s and the open-order limit hit). Cost: while our quote is alone at
// the top, a market price that backs away under it goes unseen until the other side moves.
#pragma once

#include <cmath>
#include <cstdint>

#include "hftx/core/fixed_point.hpp"
#include "hftx/strategy/strategy.hpp"

namespace hftx::strategy {

struct MarketMakerParams {
  double spread_bps = 10.0;         // full quoted spread around the (skewed) mid, bps; (0, 10000]
  double size = 0.001;              // quantity per quote, base units; > 0
  double skew_bps_per_unit = 0.0;   // fair-price shift per unit of base position, bps; [0, 10000]
  double requote_bps = 1.0;         // move (bps of the mid) before a quote is replaced; [0, 10000]
  double max_position = 1.0;        // |position| this strategy quotes up to, base units; >= 0
};

class MarketMaker final : public Strategy {
 public:
  // Converts the decimal parameters to the instrument's grids (price_scale / qty_scale).
  MarketMaker(const MarketMakerParams& p, const Scale& price_scale, const Scale& qty_scale) noexcept
      : params_(p),
        size_(std::llround(p.size * static_cast<double>(qty_scale.pow10()) / static_cast<double>(qty_scale.multiplier()))),
        max_position_(std::llround(p.max_position * static_cast<double>(qty_scale.pow10()) /
                                   static_cast<double>(qty_scale.multiplier()))),
        half_spread_(p.spread_bps * 0.5e-4),
        skew_per_step_(p.skew_bps_per_unit * 1e-4 * static_cast<double>(qty_scale.multiplier()) /
                       static_cast<double>(qty_scale.pow10())),
        requote_(p.requote_bps * 1e-4) {
    (void)price_scale;
  }

  void on_book(StrategyContext& ctx, const BookEvent& ev) noexcept override {
    const book::TopOfBook& t = ev.top;
    if (ev.instrument != instrument() || t.bid_qty <= 0 || t.ask_qty <= 0 || t.bid_price >= t.ask_price) return;
    if (quotes_[0].id == 0 || t.bid_price != quotes_[0].price) market_bid_ = t.bid_price;
    if (quotes_[1].id == 0 || t.ask_price != quotes_[1].price) market_ask_ = t.ask_price;
    if (market_bid_ >= market_ask_) {  // a remembered price the other side has since passed
      market_bid_ = t.bid_price;
      market_ask_ = t.ask_price;
    }
    const double mid = 0.5 * static_cast<double>(market_bid_ + market_ask_);
    const double fair = mid * (1.0 - skew_per_step_ * static_cast<double>(position_));
    std::int64_t bid = static_cast<std::int64_t>(std::floor(fair * (1.0 - half_spread_)));
    std::int64_t ask = static_cast<std::int64_t>(std::ceil(fair * (1.0 + half_spread_)));
    if (bid > t.ask_price - 1) bid = t.ask_price - 1;
    if (ask < t.bid_price + 1) ask = t.bid_price + 1;
    if (ask <= bid) ask = bid + 1;
    quote(ctx, 0, bid, position_ + size_ <= max_position_, mid);
    quote(ctx, 1, ask, position_ - size_ >= -max_position_, mid);
  }

  void on_order_update(StrategyContext& /*ctx*/, const oms::OrderUpdate& u) noexcept override {
    if (u.kind == oms::UpdateKind::fill) position_ += u.side == book::Side::bid ? u.last_qty.raw() : -u.last_qty.raw();
    if (oms::is_closed(u.state)) {
      for (Quote& q : quotes_)
        if (q.id == u.client_id) q = Quote{};
    }
  }

  void on_stop(StrategyContext& ctx) override {
    ctx.cancel_all(instrument());
    quotes_[0] = quotes_[1] = Quote{};
  }

  // For tests and reports.
  [[nodiscard]] std::int64_t position() const noexcept { return position_; }  // qty steps, from fills
  [[nodiscard]] ClientOrderId working_id(book::Side s) const noexcept { return quotes_[s == book::Side::ask].id; }
  [[nodiscard]] std::int64_t working_price(book::Side s) const noexcept { return quotes_[s == book::Side::ask].price; }
  [[nodiscard]] const MarketMakerParams& params() const noexcept { return params_; }

 private:
  struct Quote {
    ClientOrderId id = 0;
    std::int64_t price = 0;
  };

  void quote(StrategyContext& ctx, int side, std::int64_t price, bool allowed, double mid) noexcept {
    Quote& q = quotes_[side];
    if (q.id != 0) {
      const double moved = std::fabs(static_cast<double>(price - q.price));
      if (allowed && (price == q.price || moved < requote_ * mid)) return;  // close enough: keep it
      // A failed cancel (pipelined: queue full, or the order closed and its update is still on the way)
      // keeps the quote and retries on the next event, so no order is orphaned.
      if (!ctx.cancel(q.id)) return;
      q = Quote{};  // its final update arrives later; it no longer counts as our quote
    }
    if (!allowed) return;
    const ClientOrderId placed = ctx.place(limit_order(side == 0 ? book::Side::bid : book::Side::ask, price, size_,
                                                       oms::TimeInForce::gtc, /*post_only=*/true));
    if (placed != 0) q = Quote{placed, price};
  }

  MarketMakerParams params_;
  std::int64_t size_;           // qty steps
  std::int64_t max_position_;   // qty steps
  double half_spread_;          // fraction of the fair price
  double skew_per_step_;        // fraction per qty step of position
  double requote_;              // fraction of the mid
  std::int64_t position_ = 0;   // qty steps
  Quote quotes_[2];             // [0] bid, [1] ask
  std::int64_t market_bid_ = 0, market_ask_ = 0;  // best prices of others (ticks)
};

}  // namespace hftx::strategy
