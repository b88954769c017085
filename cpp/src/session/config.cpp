// SessionConfig's checks: the keys' own (describe(), core/schema.hpp), those that involve several keys, and the
// venue against the registry. See hftx/session/config.hpp.
#include "hftx/session/config.hpp"

#include <algorithm>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "hftx/core/error.hpp"
#include "hftx/core/fixed_point.hpp"

namespace hftx::session {

namespace {

std::optional<Scale> scale_of(const std::string& step) {
  try {
    return Scale::from_step(step);
  } catch (const std::exception&) {
    return std::nullopt;  // the schema's check has said why
  }
}

bool any_under(const std::vector<schema::Problem>& problems, std::string_view prefix) {
  return std::any_of(problems.begin(), problems.end(),
                     [&](const schema::Problem& p) { return std::string_view(p.path).starts_with(prefix); });
}

}  // namespace

std::vector<schema::Problem> SessionConfig::problems() const {
  schema::Checker check;
  describe(*this, check);
  std::vector<schema::Problem> out = std::move(check).problems();

  // Instruments: each symbol once; the order quantity step on the market-data quantity grid (the risk engine and
  // the order codec count lots in qty steps).
  std::vector<std::string> symbols;
  std::vector<int> depths;
  for (std::size_t i = 0; i < instruments.size(); ++i) {
    const InstrumentConfig& in = instruments[i];
    const std::string key = "instruments[" + std::to_string(i) + "]";
    if (std::find(symbols.begin(), symbols.end(), in.symbol) != symbols.end())
      out.push_back({key + ".symbol", schema::quoted(in.symbol), "expected each symbol once"});
    const std::optional<Scale> qty = scale_of(in.qty_step);
    if (qty && scale_of(in.lot_step)) {
      std::int64_t lot = 0;
      if (parse_fixed(in.lot_step, *qty, lot, Sign::unsigned_only) != FixedStatus::ok || lot <= 0)
        out.push_back(
            {key + ".lot_step", schema::quoted(in.lot_step), "expected a multiple of qty_step " + in.qty_step});
    }
    symbols.push_back(in.symbol);
    depths.push_back(in.snapshot_depth);
  }

  // Strategies: on configured instruments, and not more instances than a session runs.
  std::string configured;
  for (const std::string& s : symbols) {
    if (!configured.empty()) configured += ", ";
    configured += schema::quoted(s);
  }
  std::size_t instances = 0;
  for (std::size_t i = 0; i < strategies.size(); ++i) {
    const StrategyConfig& s = strategies[i];
    instances += s.count;
    if (!s.instrument.empty() && std::find(symbols.begin(), symbols.end(), s.instrument) == symbols.end())
      out.push_back({"strategies[" + std::to_string(i) + "].instrument", schema::quoted(s.instrument),
                     "expected one of the configured instruments [" + configured + "]"});
  }
  if (instances > kMaxStrategyInstances)
    out.push_back({"strategies", std::to_string(instances),
                   "expected at most " + std::to_string(kMaxStrategyInstances) + " strategy instances in all"});

  if (threading.mode == ThreadingMode::pipelined && threading.workers < 1)
    out.push_back({"threading.workers", std::to_string(threading.workers),
                   "expected >= 1 when threading.mode is 'pipelined' (strategy worker threads)"});

  // The URLs the session connects to (Python fills in the simulator's or the venue's public ones first).
  if (venue.market_url.empty())
    out.push_back({"venue.market_url", "''", "expected a ws:// or wss:// URL to connect to"});
  if (venue.api_url.empty()) out.push_back({"venue.api_url", "''", "expected a ws:// or wss:// URL to connect to"});
  venue::check(venue, symbols, depths, out);

  // The latency histograms' range (C++ only, not a configuration key), once the keys themselves are right.
  if (!any_under(out, "hft.latency")) {
    try {
      latency.validate();
    } catch (const ConfigError& e) {
      out.push_back({"hft.latency", "", e.what()});
    }
  }
  return out;
}

void SessionConfig::validate() const { schema::throw_if_any(problems()); }

}  // namespace hftx::session
