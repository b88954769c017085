// Setup-time parts of the risk engine: config validation, unit conversion, kill switch.
#include "hftx/risk/risk.hpp"

#include <cmath>
#include <string>

#include "hftx/core/error.hpp"

namespace hftx::risk {
namespace {

// value (decimal units) / unit, as an integer count; values within 1e-9 (relative) of an integer count
// are that integer (0.001 / 1e-8 is 99999.99999999999 in doubles), others round down; saturates.
std::int64_t to_count(long double value, long double unit) {
  const long double x = value / unit;
  if (x >= 9.2e18L) return std::numeric_limits<std::int64_t>::max();
  const long double r = std::nearbyint(x);
  const long double tol = 1e-9L * (std::fabs(x) > 1 ? std::fabs(x) : 1);
  return static_cast<std::int64_t>(std::fabs(x - r) <= tol ? r : std::floor(x));
}

long double unit_of(const Scale& s) {
  return static_cast<long double>(s.multiplier()) / static_cast<long double>(s.pow10());
}

}  // namespace

void RiskConfig::validate() const {
  schema::Checker check("risk");
  describe(*this, check);
  check.throw_if_any();
}

RiskEngine::RiskEngine(const RiskConfig& config, const oms::OrderManager& orders)
    : config_(config), orders_(orders), limits_(orders.max_instruments()) {
  config_.validate();
  band_e2_ = static_cast<std::int64_t>(std::llround(config_.price_band_bps * 100.0));
  if (band_e2_ < 1) band_e2_ = 1;
  capacity_ = config_.burst * kTokenUnit;
  tokens_ = capacity_;
  rate_milli_ = static_cast<std::int64_t>(std::llround(config_.orders_per_second * 1000.0));
  if (rate_milli_ < 1) rate_milli_ = 1;
  reject_times_.assign(static_cast<std::size_t>(config_.reject_storm), 0);
}

void RiskEngine::add_instrument(oms::InstrumentId instrument, const Scale& price_scale, const Scale& qty_scale,
                                std::string_view lot_step) {
  if (instrument >= limits_.size())
    throw ConfigError("risk: instrument id " + std::to_string(instrument) + " is out of range; expected < " +
                      std::to_string(limits_.size()));
  std::int64_t lot = 0;
  const FixedStatus st = parse_fixed(lot_step, qty_scale, lot, Sign::unsigned_only);
  if (st != FixedStatus::ok || lot <= 0)
    throw ConfigError("lot_step: '" + std::string(lot_step) + "' is invalid (" + std::string(to_string(st)) +
                      "); expected a positive multiple of the quantity step " + qty_scale.step_string());
  Limits& l = limits_[instrument];
  const long double qu = unit_of(qty_scale);
  const long double pu = unit_of(price_scale);
  l.configured = true;
  l.lot = lot;
  l.max_qty = to_count(config_.max_order_qty, qu);
  l.max_position = to_count(config_.max_position, qu);
  l.max_notional = to_count(config_.max_notional, qu * pu);
}

void RiskEngine::kill(KillCause cause) noexcept {
  if (cause == KillCause::none) cause = KillCause::manual;
  if (killed_.exchange(true, std::memory_order_relaxed)) return;
  stats_.kill_cause = cause;
  if (on_kill_) on_kill_(cause);
}

void RiskEngine::reset_kill() noexcept {
  killed_.store(false, std::memory_order_relaxed);
  stats_.kill_cause = KillCause::none;
  reject_count_ = 0;
  reject_next_ = 0;
}

bool RiskEngine::on_venue_reject(std::int64_t now_ns) noexcept {
  ++stats_.venue_rejects;
  const std::size_t n = reject_times_.size();
  if (n == 0) return false;
  reject_times_[reject_next_] = now_ns;
  reject_next_ = reject_next_ + 1 == n ? 0 : reject_next_ + 1;
  if (reject_count_ < n) ++reject_count_;
  // Ring full: reject_next_ now indexes the oldest of the last n rejects.
  if (reject_count_ == n && now_ns - reject_times_[reject_next_] < 1'000'000'000 && !killed()) {
    kill(KillCause::reject_storm);
    return true;
  }
  return false;
}

}  // namespace hftx::risk
