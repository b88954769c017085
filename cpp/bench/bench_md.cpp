// Market-data parsing on the recorded Binance messages (spot BTCUSDT, 2024-08-08).
//  md_parse_depth:  depthUpdate diffs (combined-stream envelope) -> DepthUpdate + levels in fixed point
//  md_parse_ticker: bookTicker -> BookTicker in fixed point
// hftx_simdjson_only: the simdjson path behind the scanner, alone; hftx_portable: the scanner without its
// SSE4.1 depth-level reader (what CPUs without SSE4.1 run).
// Peer: simdjson's DOM API (what a user of simdjson would write without On-Demand), producing the same
// fixed-point levels. Items are messages; bytes processed give MB/s.
#include <simdjson.h>

#include <string>
#include <vector>

#include "bench_support.hpp"
#include "hftx/venue/binance/md_parser.hpp"

namespace {

using namespace hftx;

struct Corpus {
  std::vector<std::string> msgs;  // JSON, each with kJsonPadding bytes of slack (size() excludes it)
  std::vector<std::size_t> sizes;
  std::size_t bytes = 0;
};

const Corpus& corpus(const char* needle) {
  static std::vector<std::pair<std::string, Corpus>> cache;
  for (auto& [k, c] : cache)
    if (k == needle) return c;
  Corpus c;
  for (std::string& line : bench::read_gz_lines(bench::data_path("binance/spot_btcusdt_20240808.gz"))) {
    if (line.find(needle) == std::string::npos) continue;
    std::string json = line.substr(line.find(' ') + 1);
    c.sizes.push_back(json.size());
    c.bytes += json.size();
    json.resize(json.size() + md::kJsonPadding);
    c.msgs.push_back(std::move(json));
  }
  cache.emplace_back(needle, std::move(c));
  return cache.back().second;
}

void run_hftx(benchmark::State& state, const char* needle, bool fast_path = true, bool sse41_levels = true) {
  const Corpus& c = corpus(needle);
  if (c.msgs.empty()) {
    state.SkipWithError("recorded data not found (HFTX_DATA_DIR)");
    return;
  }
  venue::binance::MdParser parser(Scale::from_step("0.01"), Scale::from_step("0.000001"));
  parser.set_fast_path(fast_path);
  parser.set_sse41_levels(sse41_levels);
  std::vector<md::Level> levels(1u << 16);
  md::MdMessage msg;
  bench::OpSampler sampler;
  bench::AllocMeter alloc;
  std::size_t i = 0, bytes = 0, errors = 0;
  for (auto _ : state) {
    const std::uint64_t t0 = TscClock::ticks();
    const md::ParseResult r = parser.parse(std::string_view(c.msgs[i].data(), c.sizes[i]), c.msgs[i].size(), 0, msg, levels);
    sampler.add(TscClock::ticks() - t0);
    errors += !r.ok();
    benchmark::DoNotOptimize(msg.depth.last_id);
    bytes += c.sizes[i];
    if (++i == c.msgs.size()) i = 0;
  }
  alloc.publish(state);
  sampler.publish(state);
  if (errors) state.SkipWithError("parse errors");
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
  state.SetBytesProcessed(static_cast<std::int64_t>(bytes));
}

// The peer: simdjson DOM, then the same fixed-point conversion.
void run_dom(benchmark::State& state, const char* needle, bool depth) {
  const Corpus& c = corpus(needle);
  if (c.msgs.empty()) {
    state.SkipWithError("recorded data not found (HFTX_DATA_DIR)");
    return;
  }
  simdjson::dom::parser parser;
  const Scale ps = Scale::from_step("0.01"), qs = Scale::from_step("0.000001");
  std::vector<md::Level> levels(1u << 16);
  bench::OpSampler sampler;
  bench::AllocMeter alloc;
  std::size_t i = 0, bytes = 0, errors = 0;
  for (auto _ : state) {
    const std::uint64_t t0 = TscClock::ticks();
    simdjson::dom::element doc;
    if (parser.parse(c.msgs[i].data(), c.sizes[i], false).get(doc) != simdjson::SUCCESS) ++errors;
    simdjson::dom::element data = doc["data"];
    std::size_t n = 0;
    std::uint64_t u = 0;
    if (data["u"].get(u) != simdjson::SUCCESS) ++errors;
    if (depth) {
      for (const char* side : {"b", "a"}) {
        simdjson::dom::array arr;
        if (data[side].get(arr) != simdjson::SUCCESS) {
          ++errors;
          continue;
        }
        for (simdjson::dom::element lv : arr) {
          std::string_view p, q;
          if (lv.at(0).get(p) || lv.at(1).get(q)) ++errors;
          md::Level& l = levels[n++];
          errors += parse_fixed(p, ps, l.price) != FixedStatus::ok;
          errors += parse_fixed(q, qs, l.qty) != FixedStatus::ok;
        }
      }
    } else {
      for (const char* k : {"b", "B", "a", "A"}) {
        std::string_view t;
        if (data[k].get(t)) ++errors;
        std::int64_t v = 0;
        errors += parse_fixed(t, k[0] == 'b' || k[0] == 'a' ? ps : qs, v) != FixedStatus::ok;
        benchmark::DoNotOptimize(v);
      }
    }
    sampler.add(TscClock::ticks() - t0);
    benchmark::DoNotOptimize(u);
    benchmark::DoNotOptimize(levels.data());
    bytes += c.sizes[i];
    if (++i == c.msgs.size()) i = 0;
  }
  alloc.publish(state);
  sampler.publish(state);
  if (errors) state.SkipWithError("parse errors");
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
  state.SetBytesProcessed(static_cast<std::int64_t>(bytes));
}

void BM_depth_hftx(benchmark::State& s) { run_hftx(s, "@depth"); }
void BM_depth_dom(benchmark::State& s) { run_dom(s, "@depth", true); }
void BM_depth_hftx_simdjson(benchmark::State& s) { run_hftx(s, "@depth", false); }
void BM_depth_hftx_portable(benchmark::State& s) { run_hftx(s, "@depth", true, false); }
void BM_ticker_hftx_simdjson(benchmark::State& s) { run_hftx(s, "@bookTicker", false); }
void BM_ticker_hftx(benchmark::State& s) { run_hftx(s, "@bookTicker"); }
void BM_ticker_dom(benchmark::State& s) { run_dom(s, "@bookTicker", false); }

}  // namespace

// Interleaved hftx / peer (ARCHITECTURE §12).
BENCHMARK(BM_depth_hftx)->Name("md_parse_depth/hftx");
BENCHMARK(BM_depth_dom)->Name("md_parse_depth/simdjson_dom");
BENCHMARK(BM_depth_hftx_simdjson)->Name("md_parse_depth/hftx_simdjson_only");
BENCHMARK(BM_depth_hftx_portable)->Name("md_parse_depth/hftx_portable");
BENCHMARK(BM_ticker_hftx)->Name("md_parse_ticker/hftx");
BENCHMARK(BM_ticker_dom)->Name("md_parse_ticker/simdjson_dom");
BENCHMARK(BM_ticker_hftx_simdjson)->Name("md_parse_ticker/hftx_simdjson_only");

BENCHMARK_MAIN();
