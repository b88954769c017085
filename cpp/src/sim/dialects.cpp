// The simulator's venue dialects: one registration line per venue (sim/engine.hpp, DialectInfo). Adding a
// venue is its folder (venue/<name>/sim_dialect.hpp + .cpp) and one line here.
#include "hftx/sim/engine.hpp"
#include "hftx/venue/binance/sim_dialect.hpp"
#include "hftx/venue/okx/sim_dialect.hpp"

namespace hftx::sim {
namespace {

const std::vector<DialectInfo>& dialects() {
  static const std::vector<DialectInfo> kDialects = {
      venue::binance::sim_dialect_info(),
      venue::okx::sim_dialect_info(),
  };
  return kDialects;
}

}  // namespace

const DialectInfo* find_dialect(std::string_view name) {
  for (const DialectInfo& d : dialects())
    if (d.name == name) return &d;
  return nullptr;
}

std::string dialect_names() {
  std::string out;
  for (const DialectInfo& d : dialects()) {
    if (!out.empty()) out += ", ";
    out += d.name;
  }
  return out;
}

}  // namespace hftx::sim
