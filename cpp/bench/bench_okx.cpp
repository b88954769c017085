// OKX market data on the recorded books-l2-tbt messages (venues/okx/okx_books-l2-tbt_20220227.gz: 10 instruments,
// 20 snapshots + 3,659 updates, recorded by cryptofeed, by Bryant Moscon).
//  okx_parse_books:  a books-l2-tbt message -> MdMessage + levels in fixed point (each instrument's own tick and
//                    lot, as the replay infers them). hftx: the fast scanner (simdjson behind it);
//                    hftx_simdjson_only: the simdjson On-Demand path alone. Peer: simdjson's DOM API, the same
//                    fields (arg, action, ts, checksum) and the levels walked into fixed point.
//  okx_checksum:     the book checksum of the top 25 levels per side after each message (the levels as the book
//                    holds them then, each instrument's books in turn): hftx = the instrument's ChecksumWriter (the
//                    text, numbers it wrote before copied, + zlib crc32), what the book sync runs; hftx_text_only =
//                    its text alone (the formatter's share); hftx_uncached = book_checksum() (every number
//                    formatted); hftx_format_fixed = the text from format_fixed() with its zeros trimmed (the
//                    formatter before shortest_decimal's 64-bit path) + crc32; limit = zlib's crc32 alone over the
//                    text already built (the lower bound).
//  okx_sync:         a parsed message through BasicBookSync into the book (apply, publish, checksum at once);
//                    hftx_no_checksum: the same messages without their checksum (apply and publish only).
// Items are messages.
#include <simdjson.h>
#include <zlib.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "bench_support.hpp"
#include "hftx/venue/okx/book_sync.hpp"
#include "hftx/venue/okx/checksum.hpp"
#include "hftx/venue/okx/md_parser.hpp"
#include "hftx/venue/okx/replay.hpp"

namespace {

using namespace hftx;
using namespace hftx::venue::okx;

constexpr const char* kFile = "venues/okx/okx_books-l2-tbt_20220227.gz";

struct Msg {
  std::string json;  // with kJsonPadding bytes of slack (size excludes it)
  std::size_t size;
  std::size_t inst;  // index into Corpus::specs
};

// The top 25 levels a side after a message, as the book holds them, and the message's checksum.
struct Top {
  std::size_t inst;
  std::vector<md::Level> bids, asks;
  std::int32_t checksum;
};

struct Corpus {
  std::vector<InstrumentSpec> specs;
  std::vector<Msg> msgs;  // books-l2-tbt only
  std::vector<Top> tops;  // after every message
  std::size_t bytes = 0;
  // Parsed messages for okx_sync: levels copied into stable storage.
  std::vector<md::MdMessage> parsed;
  std::vector<std::vector<md::Level>> parsed_levels;
};

const Corpus& corpus() {
  static const Corpus corpus_ = [] {
    Corpus c;
    const std::vector<std::string> lines = bench::read_gz_lines(bench::data_path(kFile));
    if (lines.empty()) return c;
    std::vector<std::string_view> views(lines.begin(), lines.end());
    c.specs = scan_instruments(views);
    std::map<std::string, std::size_t, std::less<>> index;
    for (std::size_t i = 0; i < c.specs.size(); ++i) index.emplace(c.specs[i].inst_id, i);
    std::vector<std::unique_ptr<MdParser>> parsers;
    std::vector<std::unique_ptr<ReplayBook>> books;
    for (const InstrumentSpec& s : c.specs) {
      parsers.push_back(std::make_unique<MdParser>(s.price, s.qty));
      books.push_back(std::make_unique<ReplayBook>(4096, book::CrossedPolicy::keep_and_flag, kReplayWindowBits));
    }
    std::vector<md::Level> levels(1u << 16);
    md::MdMessage m;
    for (const std::string& line : lines) {
      const std::size_t colon = line.find(": {\"arg\":{\"channel\":\"books-l2-tbt\"");
      if (colon == std::string::npos || line.find(" <- ") != std::string::npos) continue;
      Msg msg{line.substr(colon + 2), 0, 0};
      const std::size_t at = msg.json.find("\"instId\":\"") + 10;
      msg.inst = index.at(msg.json.substr(at, msg.json.find('"', at) - at));
      msg.size = msg.json.size();
      c.bytes += msg.size;
      msg.json.resize(msg.size + md::kJsonPadding);
      if (!parsers[msg.inst]->parse(std::string_view(msg.json.data(), msg.size), msg.json.size(), 0, m, levels).ok())
        continue;
      ReplayBook& b = *books[msg.inst];
      std::int32_t checksum = 0;
      if (m.kind == md::MdKind::depth_snapshot) {
        b.load_snapshot(m.snapshot.bids, m.snapshot.asks, 0);
        checksum = m.snapshot.checksum;
      } else {
        (void)b.apply(m.depth.bids, m.depth.asks, 0);
        checksum = m.depth.checksum;
      }
      Top t{msg.inst, std::vector<md::Level>(kChecksumLevels), std::vector<md::Level>(kChecksumLevels), checksum};
      t.bids.resize(b.depth(Side::bid, t.bids));
      t.asks.resize(b.depth(Side::ask, t.asks));
      c.tops.push_back(std::move(t));
      // A copy for okx_sync, its spans into its own levels.
      std::vector<md::Level> own;
      const auto& bids = m.kind == md::MdKind::depth_snapshot ? m.snapshot.bids : m.depth.bids;
      const auto& asks = m.kind == md::MdKind::depth_snapshot ? m.snapshot.asks : m.depth.asks;
      own.insert(own.end(), bids.begin(), bids.end());
      own.insert(own.end(), asks.begin(), asks.end());
      c.parsed_levels.push_back(std::move(own));
      c.parsed.push_back(m);
      c.msgs.push_back(std::move(msg));
    }
    for (std::size_t i = 0; i < c.parsed.size(); ++i) {
      md::MdMessage& p = c.parsed[i];
      const std::span<const md::Level> all(c.parsed_levels[i]);
      auto& bids = p.kind == md::MdKind::depth_snapshot ? p.snapshot.bids : p.depth.bids;
      auto& asks = p.kind == md::MdKind::depth_snapshot ? p.snapshot.asks : p.depth.asks;
      const std::size_t nb = bids.size();
      bids = all.subspan(0, nb);
      asks = all.subspan(nb);
      p.stream = {};
    }
    return c;
  }();
  return corpus_;
}

bool have(benchmark::State& state, const Corpus& c) {
  if (c.msgs.empty()) state.SkipWithError("recorded data not found (HFTX_DATA_DIR)");
  return !c.msgs.empty();
}

void run_parse(benchmark::State& state, bool fast_path) {
  const Corpus& c = corpus();
  if (!have(state, c)) return;
  std::vector<std::unique_ptr<MdParser>> parsers;
  for (const InstrumentSpec& s : c.specs) {
    parsers.push_back(std::make_unique<MdParser>(s.price, s.qty));
    parsers.back()->set_fast_path(fast_path);
  }
  std::vector<md::Level> levels(1u << 16);
  md::MdMessage msg;
  bench::OpSampler sampler;
  bench::AllocMeter alloc;
  std::size_t i = 0, errors = 0, bytes = 0;
  for (auto _ : state) {
    const Msg& m = c.msgs[i];
    const std::uint64_t t0 = TscClock::ticks();
    const md::ParseResult r =
        parsers[m.inst]->parse(std::string_view(m.json.data(), m.size), m.json.size(), 0, msg, levels);
    sampler.add(TscClock::ticks() - t0);
    errors += !r.ok();
    benchmark::DoNotOptimize(msg.depth.checksum);
    bytes += m.size;
    if (++i == c.msgs.size()) i = 0;
  }
  alloc.publish(state);
  sampler.publish(state);
  if (errors) state.SkipWithError("parse errors");
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
  state.SetBytesProcessed(static_cast<std::int64_t>(bytes));
}

// The peer: simdjson DOM, the same fields, the levels into fixed point with the instrument's scales.
void run_dom(benchmark::State& state) {
  const Corpus& c = corpus();
  if (!have(state, c)) return;
  simdjson::dom::parser parser;
  std::vector<md::Level> levels(1u << 16);
  bench::OpSampler sampler;
  bench::AllocMeter alloc;
  std::size_t i = 0, errors = 0, bytes = 0;
  for (auto _ : state) {
    const Msg& m = c.msgs[i];
    const InstrumentSpec& spec = c.specs[m.inst];
    const std::uint64_t t0 = TscClock::ticks();
    simdjson::dom::element doc;
    errors += parser.parse(m.json.data(), m.size, false).get(doc) != simdjson::SUCCESS;
    std::string_view channel, inst_id, action, ts;
    std::int64_t checksum = 0;
    errors += doc["arg"]["channel"].get(channel) != simdjson::SUCCESS;
    errors += doc["arg"]["instId"].get(inst_id) != simdjson::SUCCESS;
    errors += doc["action"].get(action) != simdjson::SUCCESS;
    simdjson::dom::element data = doc["data"].at(0);
    errors += data["ts"].get(ts) != simdjson::SUCCESS;
    errors += data["checksum"].get(checksum) != simdjson::SUCCESS;
    std::size_t n = 0;
    for (const char* side : {"bids", "asks"}) {
      simdjson::dom::array arr;
      if (data[side].get(arr) != simdjson::SUCCESS) {
        ++errors;
        continue;
      }
      for (simdjson::dom::element lv : arr) {
        std::string_view p, q;
        if (lv.at(0).get(p) || lv.at(1).get(q)) ++errors;
        md::Level& l = levels[n++];
        errors += parse_fixed(p, spec.price, l.price, Sign::unsigned_only) != FixedStatus::ok;
        errors += parse_fixed(q, spec.qty, l.qty, Sign::unsigned_only) != FixedStatus::ok;
      }
    }
    sampler.add(TscClock::ticks() - t0);
    benchmark::DoNotOptimize(checksum);
    benchmark::DoNotOptimize(levels.data());
    bytes += m.size;
    if (++i == c.msgs.size()) i = 0;
  }
  alloc.publish(state);
  sampler.publish(state);
  if (errors) state.SkipWithError("parse errors");
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
  state.SetBytesProcessed(static_cast<std::int64_t>(bytes));
}

// The text from format_fixed() (128-bit, exact for every scale), trailing zeros trimmed: checksum.cpp's
// formatter before its 64-bit path.
std::size_t text_format_fixed(const Top& t, const InstrumentSpec& s, char* out) {
  std::size_t len = 0;
  const auto number = [&](std::int64_t raw, const Scale& scale) {
    std::size_t n = format_fixed(raw, scale, out + len);
    if (scale.decimals() > 0) {
      while (out[len + n - 1] == '0') --n;
      if (out[len + n - 1] == '.') --n;
    }
    len += n;
  };
  const auto put = [&](const md::Level& l) {
    if (len != 0) out[len++] = ':';
    number(l.price.raw(), s.price);
    out[len++] = ':';
    number(l.qty.raw(), s.qty);
  };
  for (std::size_t i = 0; i < kChecksumLevels && (i < t.bids.size() || i < t.asks.size()); ++i) {
    if (i < t.bids.size()) put(t.bids[i]);
    if (i < t.asks.size()) put(t.asks[i]);
  }
  return len;
}

enum class Checksum { hftx, text_only, uncached, format_fixed, crc_only };

void run_checksum(benchmark::State& state, Checksum what) {
  const Corpus& c = corpus();
  if (!have(state, c)) return;
  // The texts, built once, for crc_only.
  std::vector<std::string> texts;
  char buf[kChecksumTextCapacity];
  std::size_t mismatches = 0;
  for (const Top& t : c.tops) {
    const InstrumentSpec& s = c.specs[t.inst];
    texts.emplace_back(buf, checksum_text(t.bids, t.asks, s.price, s.qty, buf));
    // The recording's checksum of every book, by both formatters: the benchmark measures a correct computation.
    mismatches += book_checksum(t.bids, t.asks, s.price, s.qty) != t.checksum;
    const std::size_t n = text_format_fixed(t, s, buf);
    mismatches += static_cast<std::int32_t>(crc32(0, reinterpret_cast<const Bytef*>(buf), static_cast<uInt>(n))) !=
                  t.checksum;
  }
  std::vector<ChecksumWriter> writers;
  for (const InstrumentSpec& s : c.specs) writers.emplace_back(s.price, s.qty);
  for (const Top& t : c.tops) mismatches += writers[t.inst].checksum(t.bids, t.asks) != t.checksum;
  bench::OpSampler sampler;
  bench::AllocMeter alloc;
  std::size_t i = 0, bytes = 0;
  for (auto _ : state) {
    const Top& t = c.tops[i];
    const InstrumentSpec& s = c.specs[t.inst];
    const std::uint64_t t0 = TscClock::ticks();
    std::int64_t v = 0;
    switch (what) {
      case Checksum::hftx: v = writers[t.inst].checksum(t.bids, t.asks); break;
      case Checksum::text_only: v = static_cast<std::int64_t>(writers[t.inst].text(t.bids, t.asks, buf)); break;
      case Checksum::uncached: v = book_checksum(t.bids, t.asks, s.price, s.qty); break;
      case Checksum::format_fixed: {
        const std::size_t n = text_format_fixed(t, s, buf);
        v = static_cast<std::int64_t>(crc32(0, reinterpret_cast<const Bytef*>(buf), static_cast<uInt>(n)));
        break;
      }
      case Checksum::crc_only:
        v = static_cast<std::int64_t>(
            crc32(0, reinterpret_cast<const Bytef*>(texts[i].data()), static_cast<uInt>(texts[i].size())));
        break;
    }
    sampler.add(TscClock::ticks() - t0);
    benchmark::DoNotOptimize(v);
    benchmark::DoNotOptimize(buf);
    bytes += texts[i].size();
    if (++i == c.tops.size()) i = 0;
  }
  alloc.publish(state);
  sampler.publish(state);
  if (mismatches) state.SkipWithError("a computed checksum differs from the recording's");
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
  state.SetBytesProcessed(static_cast<std::int64_t>(bytes));  // bytes of checksum text
}

void run_sync(benchmark::State& state, bool with_checksum) {
  const Corpus& c = corpus();
  if (!have(state, c)) return;
  std::vector<std::unique_ptr<ReplayBook>> books;
  std::vector<std::unique_ptr<BasicBookSync<ReplayBook>>> syncs;
  for (const InstrumentSpec& s : c.specs) {
    books.push_back(std::make_unique<ReplayBook>(4096, book::CrossedPolicy::keep_and_flag, kReplayWindowBits));
    syncs.push_back(std::make_unique<BasicBookSync<ReplayBook>>(*books.back(), s.price, s.qty));
  }
  std::vector<md::MdMessage> msgs = c.parsed;
  if (!with_checksum)
    for (md::MdMessage& m : msgs) m.depth.has_checksum = m.snapshot.has_checksum = false;
  bench::OpSampler sampler;
  bench::AllocMeter alloc;
  std::size_t i = 0;
  for (auto _ : state) {
    const md::MdMessage& m = msgs[i];
    BasicBookSync<ReplayBook>& sync = *syncs[c.msgs[i].inst];
    const std::uint64_t t0 = TscClock::ticks();
    if (m.kind == md::MdKind::depth_snapshot) sync.on_snapshot(m);
    else (void)sync.on_diff(m);
    sampler.add(TscClock::ticks() - t0);
    if (++i == msgs.size()) i = 0;
  }
  alloc.publish(state);
  sampler.publish(state);
  std::uint64_t mismatches = 0;
  for (const auto& s : syncs) mismatches += s->stats().checksum_mismatches + s->stats().gaps;
  if (mismatches) state.SkipWithError("the book lost its sync");
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}

void BM_parse_hftx(benchmark::State& s) { run_parse(s, true); }
void BM_parse_simdjson(benchmark::State& s) { run_parse(s, false); }
void BM_parse_dom(benchmark::State& s) { run_dom(s); }
void BM_checksum_hftx(benchmark::State& s) { run_checksum(s, Checksum::hftx); }
void BM_checksum_text(benchmark::State& s) { run_checksum(s, Checksum::text_only); }
void BM_checksum_uncached(benchmark::State& s) { run_checksum(s, Checksum::uncached); }
void BM_checksum_format_fixed(benchmark::State& s) { run_checksum(s, Checksum::format_fixed); }
void BM_checksum_crc(benchmark::State& s) { run_checksum(s, Checksum::crc_only); }
void BM_sync_hftx(benchmark::State& s) { run_sync(s, true); }
void BM_sync_no_checksum(benchmark::State& s) { run_sync(s, false); }

}  // namespace

// Interleaved hftx / peer (DESIGN §9).
BENCHMARK(BM_parse_hftx)->Name("okx_parse_books/hftx");
BENCHMARK(BM_parse_dom)->Name("okx_parse_books/simdjson_dom");
BENCHMARK(BM_parse_simdjson)->Name("okx_parse_books/hftx_simdjson_only");
BENCHMARK(BM_checksum_hftx)->Name("okx_checksum/hftx");
BENCHMARK(BM_checksum_crc)->Name("okx_checksum/limit");
BENCHMARK(BM_checksum_text)->Name("okx_checksum/hftx_text_only");
BENCHMARK(BM_checksum_uncached)->Name("okx_checksum/hftx_uncached");
BENCHMARK(BM_checksum_format_fixed)->Name("okx_checksum/hftx_format_fixed");
BENCHMARK(BM_sync_hftx)->Name("okx_sync/hftx");
BENCHMARK(BM_sync_no_checksum)->Name("okx_sync/hftx_no_checksum");

BENCHMARK_MAIN();
