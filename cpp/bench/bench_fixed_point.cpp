// Decimal string -> fixed point, on the real price and quantity strings of the recorded BTCUSDT depth
// diffs: hftx's integer parser against strtod + round and std::from_chars (double) + round.
#include <simdjson.h>

#include <charconv>
#include <cmath>
#include <cstdlib>

#include "bench_support.hpp"
#include "hftx/core/fixed_point.hpp"

namespace {

struct Strings {
  std::vector<std::string> prices, qtys;
  std::string error;
};

// Every [price, qty] pair of the depth diffs in the first spot BTCUSDT file.
const Strings& strings() {
  static const Strings s = [] {
    Strings out;
    const auto path = hftx::bench::data_path("binance/spot_btcusdt_20240808.gz");
    const auto lines = hftx::bench::read_gz_lines(path);
    if (lines.empty()) {
      out.error = "recorded data not found at " + path.string() + " (set HFTX_DATA_DIR)";
      return out;
    }
    simdjson::ondemand::parser parser;
    for (const std::string& line : lines) {
      const std::size_t space = line.find(' ');
      if (line.find("depthUpdate") == std::string::npos || space == std::string::npos) continue;
      simdjson::padded_string json(line.substr(space + 1));
      auto doc = parser.iterate(json);
      auto data = doc["data"];
      for (const char* side : {"b", "a"}) {
        for (auto level : data[side].get_array()) {
          auto it = level.get_array().begin();
          out.prices.emplace_back(std::string_view((*it).get_string().value()));
          ++it;
          out.qtys.emplace_back(std::string_view((*it).get_string().value()));
        }
      }
    }
    // The figures mean something only if hftx parses every string exactly (no off-grid, no error).
    for (const auto& [set, step] : {std::pair{&out.prices, "0.01"}, std::pair{&out.qtys, "0.00000001"}}) {
      for (const std::string& text : *set) {
        std::int64_t v = 0;
        if (hftx::parse_fixed(text, hftx::Scale::from_step(step), v) != hftx::FixedStatus::ok) {
          out.error = "'" + text + "' does not parse at step " + step;
          return out;
        }
      }
    }
    return out;
  }();
  return s;
}

constexpr int kBatch = 64;

// Parses every string of the set once per outer iteration; items = strings parsed.
template <class Parse>
void run(benchmark::State& state, const std::vector<std::string>& set, Parse parse) {
  if (!strings().error.empty()) {
    state.SkipWithError(strings().error.c_str());
    return;
  }
  const std::size_t n = set.size() - set.size() % kBatch;
  hftx::bench::OpSampler sampler;
  hftx::bench::AllocMeter alloc;
  std::int64_t sum = 0;
  for (auto _ : state) {
    for (std::size_t i = 0; i < n; i += kBatch) {
      const std::uint64_t t0 = hftx::TscClock::ticks();
      for (std::size_t j = i; j < i + kBatch; ++j) sum += parse(set[j]);
      sampler.add(hftx::TscClock::ticks() - t0, kBatch);
    }
  }
  benchmark::DoNotOptimize(sum);
  alloc.publish(state);
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * n));
  state.counters["strings"] = static_cast<double>(n);
  sampler.publish(state);
}

const hftx::Scale kTick = hftx::Scale::from_step("0.01");
// Book quantities are sums of orders, finer than the order lot: Binance's 8-decimal grid.
const hftx::Scale kLot = hftx::Scale::from_step("0.00000001");

auto hftx_parse(const hftx::Scale& scale) {
  return [&scale](const std::string& s) {
    std::int64_t v = 0;
    (void)hftx::parse_fixed(s, scale, v, hftx::Sign::unsigned_only);
    return v;
  };
}
auto strtod_parse(double steps_per_unit) {
  return [steps_per_unit](const std::string& s) { return std::llround(std::strtod(s.c_str(), nullptr) * steps_per_unit); };
}
auto from_chars_parse(double steps_per_unit) {
  return [steps_per_unit](const std::string& s) {
    double d = 0;
    std::from_chars(s.data(), s.data() + s.size(), d);
    return std::llround(d * steps_per_unit);
  };
}

void BM_price_hftx(benchmark::State& s) { run(s, strings().prices, hftx_parse(kTick)); }
void BM_price_strtod(benchmark::State& s) { run(s, strings().prices, strtod_parse(1e2)); }
void BM_price_from_chars(benchmark::State& s) { run(s, strings().prices, from_chars_parse(1e2)); }
void BM_qty_hftx(benchmark::State& s) { run(s, strings().qtys, hftx_parse(kLot)); }
void BM_qty_strtod(benchmark::State& s) { run(s, strings().qtys, strtod_parse(1e8)); }
void BM_qty_from_chars(benchmark::State& s) { run(s, strings().qtys, from_chars_parse(1e8)); }

}  // namespace

BENCHMARK(BM_price_hftx)->Name("fixed_parse_price/hftx");
BENCHMARK(BM_price_strtod)->Name("fixed_parse_price/strtod");
BENCHMARK(BM_price_from_chars)->Name("fixed_parse_price/from_chars");
BENCHMARK(BM_qty_hftx)->Name("fixed_parse_qty/hftx");
BENCHMARK(BM_qty_strtod)->Name("fixed_parse_qty/strtod");
BENCHMARK(BM_qty_from_chars)->Name("fixed_parse_qty/from_chars");

BENCHMARK_MAIN();
