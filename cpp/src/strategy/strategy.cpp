// make_strategy(): the built-in strategies by name, with their parameters checked (setup time).
#include <cmath>
#include <initializer_list>
#include <memory>
#include <string>
#include <string_view>

#include "hftx/core/error.hpp"
#include "hftx/strategy/latency_probe.hpp"
#include "hftx/strategy/market_maker.hpp"
#include "hftx/strategy/strategy.hpp"
#include "hftx/strategy/taker.hpp"

namespace hftx::strategy {
namespace {

struct Range {
  double lo, hi;
  bool lo_open, hi_open;  // exclusive bounds
  bool integer;
  const char* text;       // what the message says is expected
};

// Reads `params` for one strategy type: every key must be known; each value must be in its range.
class ParamReader {
 public:
  ParamReader(std::string_view type, const StrategyParams& params, std::initializer_list<std::string_view> known)
      : type_(type), params_(params) {
    for (const auto& [key, value] : params) {
      bool found = false;
      for (std::string_view k : known) found |= k == key;
      if (!found) {
        std::string list;
        for (std::string_view k : known) {
          if (!list.empty()) list += ", ";
          list += k;
        }
        throw ConfigError("strategies[].params." + key + ": unknown parameter of " + std::string(type) +
                          " (value " + error_text(value) + "); expected one of " + list);
      }
    }
  }

  double get(std::string_view key, double fallback, const Range& r) const {
    const auto it = params_.find(std::string(key));
    const double v = it == params_.end() ? fallback : it->second;
    const bool ok = std::isfinite(v) && (r.lo_open ? v > r.lo : v >= r.lo) && (r.hi_open ? v < r.hi : v <= r.hi) &&
                    (!r.integer || v == std::floor(v));
    if (!ok)
      throw ConfigError("strategies[].params." + std::string(key) + ": " + error_text(v) + " is out of range for " +
                        std::string(type_) + "; expected " + r.text);
    return v;
  }

  // A base-unit quantity that must be at least one step of the instrument's quantity grid.
  double quantity(std::string_view key, double fallback, const Scale& qty_scale) const {
    const double v = get(key, fallback, Range{0, 1e15, true, false, false, "a quantity > 0 (base units)"});
    const double steps = v * static_cast<double>(qty_scale.pow10()) / static_cast<double>(qty_scale.multiplier());
    if (std::llround(steps) < 1)
      throw ConfigError("strategies[].params." + std::string(key) + ": " + error_text(v) + " is below the quantity step " +
                        qty_scale.step_string() + " of the instrument; expected a multiple of it");
    return v;
  }

 private:
  std::string_view type_;
  const StrategyParams& params_;
};

constexpr Range kBps{0, 10000, true, false, false, "0 < bps <= 10000"};
constexpr Range kBpsOrZero{0, 10000, false, false, false, "0 <= bps <= 10000"};
constexpr Range kNonNegative{0, 1e15, false, false, false, "a number >= 0"};

}  // namespace

std::unique_ptr<Strategy> make_strategy(std::string_view type, const StrategyParams& params,
                                        const Scale& price_scale, const Scale& qty_scale) {
  if (type == "market_maker") {
    const ParamReader r(type, params, {"spread_bps", "size", "skew_bps_per_unit", "requote_bps", "max_position"});
    MarketMakerParams p;
    p.spread_bps = r.get("spread_bps", p.spread_bps, kBps);
    p.size = r.quantity("size", p.size, qty_scale);
    p.skew_bps_per_unit = r.get("skew_bps_per_unit", p.skew_bps_per_unit, kBpsOrZero);
    p.requote_bps = r.get("requote_bps", p.requote_bps, kBpsOrZero);
    p.max_position = r.get("max_position", p.max_position, kNonNegative);
    return std::make_unique<MarketMaker>(p, price_scale, qty_scale);
  }
  if (type == "taker") {
    const ParamReader r(type, params, {"size", "imbalance", "cooldown_ms", "max_position"});
    TakerParams p;
    p.size = r.quantity("size", p.size, qty_scale);
    p.imbalance = r.get("imbalance", p.imbalance, Range{0, 1, true, true, false, "0 < imbalance < 1"});
    p.cooldown_ms = r.get("cooldown_ms", p.cooldown_ms, Range{0, 86'400'000, false, false, false, "0..86400000 ms"});
    p.max_position = r.get("max_position", p.max_position, kNonNegative);
    return std::make_unique<Taker>(p, price_scale, qty_scale);
  }
  if (type == "latency_probe") {
    const ParamReader r(type, params, {"size", "offset_bps", "every_n", "max_open"});
    LatencyProbeParams p;
    p.size = r.quantity("size", p.size, qty_scale);
    p.offset_bps = r.get("offset_bps", p.offset_bps, Range{0, 10000, false, true, false, "0 <= bps < 10000"});
    p.every_n = r.get("every_n", p.every_n, Range{1, 1e9, false, false, true, "an integer 1..1000000000"});
    p.max_open = r.get("max_open", p.max_open, Range{1, 1e6, false, false, true, "an integer 1..1000000"});
    return std::make_unique<LatencyProbe>(p, price_scale, qty_scale);
  }
  throw ConfigError("strategies[].type: '" + std::string(type) +
                    "' is not a built-in strategy; expected one of market_maker, taker, latency_probe");
}

}  // namespace hftx::strategy
