// hftx/risk/risk.hpp — pre-trade risk: every check with a reason code, and the kill switch.
//
// Threading contract: RiskEngine is not thread-safe. It lives on the thread that owns the OrderManager it
// reads (inline thread / gateway thread), which calls on_book, check, on_pnl, on_venue_reject and kill.
// killed() and stats() are also safe to read from other threads (relaxed atomics / plain counters read as
// a snapshot — exact only on the owner thread).
//
// Cost: the limits are converted once per instrument (add_instrument) from the config's decimal units
// into integers on the instrument's grids — qty steps, tick·step notionals, a band in hundredths of a bp —
// so check() is a handful of integer compares, one division (the lot multiple) and one 128-bit multiply,
// reading the OMS's per-instrument open quantities and best own resting prices, which the OMS keeps
// current itself. No doubles, no allocation, no branch on the order's history.
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <limits>
#include <string_view>
#include <vector>

#include "hftx/book/l2_book.hpp"
#include "hftx/core/fixed_point.hpp"
#include "hftx/core/platform.hpp"
#include "hftx/core/schema.hpp"
#include "hftx/oms/order.hpp"
#include "hftx/oms/types.hpp"

namespace hftx::risk {

enum class RiskReason : std::uint8_t {
  ok,
  kill_switch,         // the kill switch is tripped: nothing new goes out
  max_qty,             // qty > risk.max_order_qty
  max_notional,        // price × qty > risk.max_notional (market orders: at the reference mid)
  price_band,          // |price - mid| / mid > risk.price_band_bps
  no_reference_price,  // no mid for the instrument yet (book empty / unknown instrument)
  position_limit,      // position + open same-side qty + qty beyond ±risk.max_position
  open_orders,         // open orders >= risk.max_open_orders
  rate_limit,          // token bucket (risk.orders_per_second, risk.burst) empty
  self_trade,          // would cross one of our own resting orders
  lot_size,            // qty <= 0 or not a multiple of the instrument's lot step
  count_
};
inline constexpr std::size_t kReasons = static_cast<std::size_t>(RiskReason::count_);

[[nodiscard]] constexpr std::string_view to_string(RiskReason r) noexcept {
  switch (r) {
    case RiskReason::ok: return "ok";
    case RiskReason::kill_switch: return "kill_switch";
    case RiskReason::max_qty: return "max_qty";
    case RiskReason::max_notional: return "max_notional";
    case RiskReason::price_band: return "price_band";
    case RiskReason::no_reference_price: return "no_reference_price";
    case RiskReason::position_limit: return "position_limit";
    case RiskReason::open_orders: return "open_orders";
    case RiskReason::rate_limit: return "rate_limit";
    case RiskReason::self_trade: return "self_trade";
    case RiskReason::lot_size: return "lot_size";
    case RiskReason::count_: break;
  }
  return "unknown";
}

// The config's `risk:` block, in its decimal units.
struct RiskConfig {
  double max_order_qty = 1.0;          // per order, base units
  double max_notional = 100000.0;      // per order, quote units
  double price_band_bps = 500;         // |price - mid| / mid, basis points
  double max_position = 10.0;          // |position| if every open same-side order and this one filled
  std::int64_t max_open_orders = 1000;
  double orders_per_second = 100000;   // token bucket rate
  std::int64_t burst = 1000;           // token bucket depth
  double loss_limit = 1000000.0;       // realised + unrealised loss (quote) that trips the kill switch; 0 = off
  std::int64_t reject_storm = 50;      // venue rejects within 1 s that trip the kill switch; 0 = off

  // Throws ConfigError naming `risk.<key>`, the value and the expected range (describe() below), every bad key.
  void validate() const;
};

// Its keys (core/schema.hpp), under risk.
template <class C, class V>
  requires schema::Of<C, RiskConfig>
void describe(C& c, V& v) {
  v.key(c.max_order_qty, {.name = "max_order_qty", .doc = "per order, base units", .min = 0, .max = 1e15,
                          .min_exclusive = true});
  v.key(c.max_notional, {.name = "max_notional", .doc = "per order, quote units (price x quantity)", .min = 0,
                         .max = 1e18, .min_exclusive = true});
  v.key(c.price_band_bps, {.name = "price_band_bps", .doc = "|price - mid| / mid at most this, basis points",
                           .min = 0, .max = 10'000, .min_exclusive = true});
  v.key(c.max_position,
        {.name = "max_position", .doc = "|position| if the order filled, base units", .min = 0, .max = 1e15});
  v.key(c.max_open_orders, {.name = "max_open_orders", .doc = "open orders at once", .min = 1, .max = 100'000'000});
  v.key(c.orders_per_second, {.name = "orders_per_second", .doc = "token bucket rate", .min = 0.001, .max = 1e9});
  v.key(c.burst, {.name = "burst", .doc = "token bucket depth", .min = 1, .max = 1'000'000});
  v.key(c.loss_limit,
        {.name = "loss_limit",
         .doc = "realised + unrealised loss (quote units) that trips the kill switch; 0 = off", .min = 0,
         .max = 1e18});
  v.key(c.reject_storm, {.name = "reject_storm",
                         .doc = "venue rejects within 1 s that trip the kill switch; 0 = off", .min = 0,
                         .max = 1'000'000});
}

enum class KillCause : std::uint8_t { none, manual, loss_limit, reject_storm };

[[nodiscard]] constexpr std::string_view to_string(KillCause c) noexcept {
  switch (c) {
    case KillCause::none: return "none";
    case KillCause::manual: return "manual";
    case KillCause::loss_limit: return "loss_limit";
    case KillCause::reject_storm: return "reject_storm";
  }
  return "unknown";
}

struct RiskStats {
  std::uint64_t checks = 0;
  std::array<std::uint64_t, kReasons> by_reason{};  // [ok] = orders that passed
  std::uint64_t rejects = 0;                        // checks - passed
  std::uint64_t venue_rejects = 0;                  // on_venue_reject calls
  KillCause kill_cause = KillCause::none;
};

class RiskEngine {
 public:
  // Validates `config`; reads open orders and positions from `orders` (which must outlive the engine).
  RiskEngine(const RiskConfig& config, const oms::OrderManager& orders);

  // Setup: converts the limits to the instrument's grids. `lot_step` is the order quantity step as the
  // venue writes it ("0.00001"); it must be a multiple of the qty step. Throws ConfigError.
  void add_instrument(oms::InstrumentId instrument, const Scale& price_scale, const Scale& qty_scale,
                      std::string_view lot_step);
  // Setup: called once, on the owner thread, when the kill switch trips (the session cancels everything).
  void set_kill_callback(std::function<void(KillCause)> cb) { on_kill_ = std::move(cb); }

  // Reference mid from the book after each applied message: bid + ask, or twice the only side present;
  // an empty book clears it (then orders fail with no_reference_price).
  HFTX_FORCE_INLINE void on_book(oms::InstrumentId instrument, const book::TopOfBook& top) noexcept {
    if (HFTX_UNLIKELY(instrument >= limits_.size())) return;
    const bool b = top.bid_qty > 0, a = top.ask_qty > 0;
    limits_[instrument].mid2 =
        b && a ? top.bid_price + top.ask_price : (b ? 2 * top.bid_price : (a ? 2 * top.ask_price : 0));
  }
  // Same, given bid + ask in ticks (0 = none).
  void set_reference_mid2(oms::InstrumentId instrument, std::int64_t mid2) noexcept {
    if (instrument < limits_.size()) limits_[instrument].mid2 = mid2;
  }
  [[nodiscard]] std::int64_t reference_mid2(oms::InstrumentId instrument) const noexcept {
    return instrument < limits_.size() ? limits_[instrument].mid2 : 0;
  }

  // Every pre-trade check; ok consumes one rate-limit token (rejected orders do not). Counted by reason.
  [[nodiscard]] HFTX_FORCE_INLINE RiskReason check(const oms::OrderRequest& r, std::int64_t now_ns) noexcept {
    const RiskReason reason = evaluate(r, now_ns);
    ++stats_.checks;
    ++stats_.by_reason[static_cast<std::size_t>(reason)];
    return reason;
  }

  // Kill switch. kill() trips it (first cause wins; the callback runs once); reset_kill() re-arms.
  void kill(KillCause cause = KillCause::manual) noexcept;
  void reset_kill() noexcept;
  [[nodiscard]] bool killed() const noexcept { return killed_.load(std::memory_order_relaxed); }
  [[nodiscard]] KillCause kill_cause() const noexcept { return stats_.kill_cause; }
  // Total PnL (quote units, realised + unrealised); trips on loss >= loss_limit. True when it tripped now.
  bool on_pnl(double total_pnl) noexcept {
    if (config_.loss_limit > 0 && total_pnl <= -config_.loss_limit && !killed()) {
      kill(KillCause::loss_limit);
      return true;
    }
    return false;
  }
  // A venue rejected one of our orders at now_ns; trips on reject_storm rejects within one second.
  bool on_venue_reject(std::int64_t now_ns) noexcept;

  [[nodiscard]] const RiskStats& stats() const noexcept { return stats_; }
  [[nodiscard]] const RiskConfig& config() const noexcept { return config_; }
  // Tokens left in the bucket (whole orders) as of the last check.
  [[nodiscard]] std::int64_t tokens() const noexcept { return tokens_ / kTokenUnit; }

  // The integer limits of one instrument (for tests and reports).
  struct Limits {
    bool configured = false;
    std::int64_t lot = 1;                       // qty steps per lot
    std::int64_t max_qty = 0;                   // qty steps
    std::int64_t max_position = 0;              // qty steps
    std::int64_t max_notional = 0;              // tick·steps (saturated at INT64_MAX)
    std::int64_t mid2 = 0;                      // reference: bid + ask (ticks); 0 = none
  };
  [[nodiscard]] const Limits& limits(oms::InstrumentId instrument) const { return limits_.at(instrument); }

 private:
  // One token = 10^12 units; each nanosecond adds rate_milli_ = orders_per_second × 1000 units, so the
  // bucket refills in integers for any rate down to 0.001/s and depth up to 10^6 without overflow.
  static constexpr std::int64_t kTokenUnit = 1'000'000'000'000;

  HFTX_FORCE_INLINE RiskReason evaluate(const oms::OrderRequest& r, std::int64_t now_ns) noexcept {
    if (HFTX_UNLIKELY(killed_.load(std::memory_order_relaxed))) return RiskReason::kill_switch;
    if (HFTX_UNLIKELY(r.instrument >= limits_.size() || !limits_[r.instrument].configured))
      return RiskReason::no_reference_price;
    const Limits& l = limits_[r.instrument];
    const std::int64_t q = r.qty.raw();
    if (HFTX_UNLIKELY(q <= 0 || q % l.lot != 0)) return RiskReason::lot_size;
    if (HFTX_UNLIKELY(q > l.max_qty)) return RiskReason::max_qty;
    const std::int64_t mid2 = l.mid2;
    if (HFTX_UNLIKELY(mid2 <= 0)) return RiskReason::no_reference_price;
    const bool market = r.type == oms::OrderType::market;
    std::int64_t px;
    if (market) {
      px = mid2 / 2;
    } else {
      px = r.price.raw();
      // |2p - mid2| / mid2 > band  ⇔  |2p - mid2| × 10^6 > band_e2 × mid2   (band_e2: hundredths of a bp)
      const std::int64_t dev = 2 * px - mid2;
      const int128 lhs = static_cast<int128>(dev < 0 ? -dev : dev) * 1'000'000;
      if (HFTX_UNLIKELY(px <= 0 || lhs > static_cast<int128>(band_e2_) * mid2)) return RiskReason::price_band;
    }
    if (HFTX_UNLIKELY(static_cast<int128>(px) * q > l.max_notional)) return RiskReason::max_notional;
    if (HFTX_UNLIKELY(static_cast<std::int64_t>(orders_.open_count()) >= config_.max_open_orders))
      return RiskReason::open_orders;
    const oms::InstrumentOrders& in = orders_.instrument_orders(r.instrument);
    const std::int64_t pos = orders_.positions().position(r.instrument).raw();
    if (r.side == oms::Side::bid) {
      if (HFTX_UNLIKELY(pos + in.open_qty[0].raw() + q > l.max_position)) return RiskReason::position_limit;
      if (HFTX_UNLIKELY(in.resting[1] != 0 && (market || px >= in.best[1]))) return RiskReason::self_trade;
    } else {
      if (HFTX_UNLIKELY(pos - in.open_qty[1].raw() - q < -l.max_position)) return RiskReason::position_limit;
      if (HFTX_UNLIKELY(in.resting[0] != 0 && (market || px <= in.best[0]))) return RiskReason::self_trade;
    }
    // Rate limit last, so that only orders that go out consume tokens.
    refill(now_ns);
    if (HFTX_UNLIKELY(tokens_ < kTokenUnit)) return RiskReason::rate_limit;
    tokens_ -= kTokenUnit;
    return RiskReason::ok;
  }

  HFTX_FORCE_INLINE void refill(std::int64_t now_ns) noexcept {
    const std::int64_t elapsed = now_ns - last_refill_ns_;
    if (elapsed <= 0) return;
    const std::int64_t missing = capacity_ - tokens_;
    if (elapsed >= missing / rate_milli_ + 1) {
      tokens_ = capacity_;
    } else {
      tokens_ += elapsed * rate_milli_;  // < missing + rate_milli_: no overflow
      if (tokens_ > capacity_) tokens_ = capacity_;
    }
    last_refill_ns_ = now_ns;
  }

  RiskConfig config_;
  const oms::OrderManager& orders_;
  std::vector<Limits> limits_;
  std::int64_t band_e2_ = 0;      // price band in hundredths of a basis point
  std::int64_t capacity_ = 0;     // burst × kTokenUnit
  std::int64_t tokens_ = 0;
  std::int64_t rate_milli_ = 1;   // orders per 1000 s = units per ns
  std::int64_t last_refill_ns_ = std::numeric_limits<std::int64_t>::min() / 2;
  std::atomic<bool> killed_{false};
  RiskStats stats_;
  std::vector<std::int64_t> reject_times_;  // ring of the last reject_storm reject times
  std::size_t reject_next_ = 0;
  std::size_t reject_count_ = 0;
  std::function<void(KillCause)> on_kill_;
};

}  // namespace hftx::risk
