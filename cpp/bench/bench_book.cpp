// Order books on the recorded Binance data (spot BTCUSDT 2024-08-08 + 09) and on a generated L3 flow.
//  book_apply:    the diffs' level updates applied to a book loaded from the snapshot (ns per level update)
//                 — hftx L2Book vs a std::map book (the peer a user would write first)
//  book_replay:   parse + sync + apply + bookTicker check over the recorded lines in memory (messages/s)
//  book_sync_overflow: diffs of 20 levels into the venue sync's full buffer while the snapshot is late
//                 (default bounds, 4,096 diffs): the cost of dropping the oldest per diff
//  book_top_read: best bid/ask read from another thread while a writer applies and publishes
//                 — seqlock (hftx) vs a std::mutex-protected top
//  l3_add / l3_cancel / l3_match: the matching engine on a generated order flow (ops/s, p50/p99 per op)
#include <atomic>
#include <map>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "bench_support.hpp"
#include "hftx/venue/binance/book_sync.hpp"
#include "hftx/book/l2_book.hpp"
#include "hftx/book/matching.hpp"
#include "hftx/venue/binance/replay.hpp"

namespace {

using namespace hftx;
using namespace hftx::book;
using namespace hftx::venue::binance;

// ---- recorded data, pre-parsed --------------------------------------------------------------------------

struct Batch {
  std::uint32_t offset, n_bids, n_asks;
  std::uint64_t u;
};
struct Diffs {
  std::vector<Level> snap_bids, snap_asks;
  std::vector<Level> levels;
  std::vector<Batch> batches;
  std::size_t updates = 0;
};

const Diffs& diffs() {
  static const Diffs d = [] {
    Diffs out;
    venue::binance::MdParser p(Scale::from_step("0.01"), Scale::from_step("0.000001"));
    std::vector<Level> lv(1u << 16);
    md::MdMessage m;
    std::vector<std::string> lines = bench::read_gz_lines(bench::data_path("binance/spot_btcusdt_20240808.gz"));
    for (std::string& l : bench::read_gz_lines(bench::data_path("binance/spot_btcusdt_20240809.gz")))
      lines.push_back(std::move(l));
    std::uint64_t luid = 0;
    for (const std::string& l : lines) {
      if (!p.parse_unpadded(std::string_view(l).substr(l.find(' ') + 1), 0, m, lv).ok()) continue;
      if (m.kind == md::MdKind::depth_snapshot) {
        luid = m.snapshot.last_update_id;
        out.snap_bids.assign(m.snapshot.bids.begin(), m.snapshot.bids.end());
        out.snap_asks.assign(m.snapshot.asks.begin(), m.snapshot.asks.end());
      }
    }
    for (const std::string& l : lines) {
      if (!p.parse_unpadded(std::string_view(l).substr(l.find(' ') + 1), 0, m, lv).ok()) continue;
      if (m.kind != md::MdKind::depth_update || m.depth.last_id <= luid) continue;
      out.batches.push_back(Batch{static_cast<std::uint32_t>(out.levels.size()),
                                  static_cast<std::uint32_t>(m.depth.bids.size()),
                                  static_cast<std::uint32_t>(m.depth.asks.size()), m.depth.last_id});
      out.levels.insert(out.levels.end(), m.depth.bids.begin(), m.depth.bids.end());
      out.levels.insert(out.levels.end(), m.depth.asks.begin(), m.depth.asks.end());
    }
    out.updates = out.levels.size();
    return out;
  }();
  return d;
}

// The peer: what one writes first — two ordered maps.
struct MapBook {
  std::map<std::int64_t, std::int64_t, std::greater<>> bids;
  std::map<std::int64_t, std::int64_t> asks;
  template <class M>
  static void set(M& side, const Level& l) {
    if (l.qty.raw() == 0)
      side.erase(l.price.raw());
    else
      side[l.price.raw()] = l.qty.raw();
  }
  void load(const Diffs& d) {
    bids.clear();
    asks.clear();
    for (const Level& l : d.snap_bids) set(bids, l);
    for (const Level& l : d.snap_asks) set(asks, l);
  }
  void apply(const Level* b, std::size_t nb, const Level* a, std::size_t na) {
    for (std::size_t i = 0; i < nb; ++i) set(bids, b[i]);
    for (std::size_t i = 0; i < na; ++i) set(asks, a[i]);
  }
};

void BM_apply_hftx(benchmark::State& state) {
  const Diffs& d = diffs();
  if (d.batches.empty()) return state.SkipWithError("recorded data not found (HFTX_DATA_DIR)");
  L2Book book;
  bench::OpSampler sampler;
  bench::AllocMeter alloc;
  for (auto _ : state) {
    state.PauseTiming();
    book.load_snapshot(d.snap_bids, d.snap_asks, 0);
    state.ResumeTiming();
    for (const Batch& b : d.batches) {
      const std::uint64_t t0 = TscClock::ticks();
      const ApplyResult r = book.apply(std::span<const Level>(d.levels.data() + b.offset, b.n_bids),
                                       std::span<const Level>(d.levels.data() + b.offset + b.n_bids, b.n_asks), b.u);
      sampler.add(TscClock::ticks() - t0, std::max<std::uint32_t>(1, b.n_bids + b.n_asks));
      benchmark::DoNotOptimize(r);
    }
  }
  alloc.publish(state);
  sampler.publish(state);
  state.counters["bid_levels"] = static_cast<double>(book.bid_count());
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * d.updates));
}

void BM_apply_map(benchmark::State& state) {
  const Diffs& d = diffs();
  if (d.batches.empty()) return state.SkipWithError("recorded data not found (HFTX_DATA_DIR)");
  MapBook book;
  bench::OpSampler sampler;
  bench::AllocMeter alloc;
  for (auto _ : state) {
    state.PauseTiming();
    book.load(d);
    state.ResumeTiming();
    for (const Batch& b : d.batches) {
      const std::uint64_t t0 = TscClock::ticks();
      book.apply(d.levels.data() + b.offset, b.n_bids, d.levels.data() + b.offset + b.n_bids, b.n_asks);
      sampler.add(TscClock::ticks() - t0, std::max<std::uint32_t>(1, b.n_bids + b.n_asks));
      benchmark::DoNotOptimize(book.bids.begin()->second);
    }
  }
  alloc.publish(state);
  sampler.publish(state);
  state.counters["bid_levels"] = static_cast<double>(book.bids.size());
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * d.updates));
}

void BM_replay_hftx(benchmark::State& state) {
  static const std::vector<std::string> raw =
      bench::read_gz_lines(bench::data_path("binance/spot_btcusdt_20240808.gz"));
  if (raw.empty()) return state.SkipWithError("recorded data not found (HFTX_DATA_DIR)");
  std::vector<std::string> lines;
  std::vector<std::size_t> sizes;
  for (const std::string& l : raw) {
    sizes.push_back(l.size());
    lines.push_back(l + std::string(md::kJsonPadding, '\0'));
  }
  std::vector<std::string_view> views(raw.begin(), raw.end());
  const InferredScales sc = infer_scales(views);
  Replayer rp(sc.price, sc.qty);
  std::uint64_t levels = 0, errors = 0;
  bench::AllocMeter alloc;
  for (auto _ : state) {
    rp.reset();
    for (std::size_t i = 0; i < lines.size(); ++i)
      (void)rp.feed_line(std::string_view(lines[i].data(), sizes[i]), lines[i].size());
    levels += rp.sync().stats().level_updates;
    errors += rp.stats().parse_errors + rp.stats().ticker_mismatches + rp.sync().stats().gaps;
  }
  alloc.publish(state);
  if (errors) state.SkipWithError("replay reported errors");
  state.counters["level_updates_per_s"] = benchmark::Counter(static_cast<double>(levels), benchmark::Counter::kIsRate);
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * lines.size()));
}

void BM_sync_overflow(benchmark::State& state) {
  L2Book book;
  BookSync sync(book, Market::spot);
  std::vector<md::Level> levels;
  for (int j = 0; j < 20; ++j) levels.push_back(md::Level{Price(100000 + j), Qty(j + 1)});
  md::MdMessage m;
  m.kind = md::MdKind::depth_update;
  m.depth.bids = levels;
  std::uint64_t u = 0;
  for (std::size_t i = 0; i < 8192; ++i, u += 10) {  // fill the buffer: every diff after this overflows
    m.depth.first_id = u + 1;
    m.depth.last_id = u + 10;
    (void)sync.on_diff(m);
  }
  bench::AllocMeter alloc;
  for (auto _ : state) {
    m.depth.first_id = u + 1;
    m.depth.last_id = u + 10;
    u += 10;
    benchmark::DoNotOptimize(sync.on_diff(m));
  }
  alloc.publish(state);
  if (sync.stats().buffer_overflows == 0) state.SkipWithError("the buffer never overflowed");
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}

// ---- top-of-book reads from another thread -------------------------------------------------------------

struct MutexTop {
  std::mutex m;
  TopOfBook top;
};

template <bool Seqlock>
void BM_top_read(benchmark::State& state) {
  const Diffs& d = diffs();
  if (d.batches.empty()) return state.SkipWithError("recorded data not found (HFTX_DATA_DIR)");
  L2Book book;
  MutexTop mt;
  std::atomic<bool> stop{false};
  std::atomic<std::uint64_t> writes{0};
  // The writer keeps applying the recorded diffs and publishing (as a feed thread would).
  std::thread writer([&] {
    std::uint64_t n = 0;
    while (!stop.load(std::memory_order_relaxed)) {
      book.load_snapshot(d.snap_bids, d.snap_asks, 0);
      for (const Batch& b : d.batches) {
        if (stop.load(std::memory_order_relaxed)) break;
        (void)book.apply(std::span<const Level>(d.levels.data() + b.offset, b.n_bids),
                         std::span<const Level>(d.levels.data() + b.offset + b.n_bids, b.n_asks), b.u);
        if constexpr (Seqlock) {
          book.publish(0, kTopSynced);
        } else {
          const Level bb = book.best_bid(), ba = book.best_ask();
          std::lock_guard<std::mutex> g(mt.m);
          mt.top = TopOfBook{bb.price.raw(), bb.qty.raw(), ba.price.raw(), ba.qty.raw(), b.u, 0, 0, 0};
        }
        ++n;
      }
    }
    writes.store(n);
  });
  constexpr int kBatch = 64;
  bench::OpSampler sampler;
  bench::AllocMeter alloc;
  std::int64_t sum = 0;
  for (auto _ : state) {
    const std::uint64_t t0 = TscClock::ticks();
    for (int i = 0; i < kBatch; ++i) {
      if constexpr (Seqlock) {
        sum += book.top().bid_price;
      } else {
        std::lock_guard<std::mutex> g(mt.m);
        sum += mt.top.bid_price;
      }
    }
    sampler.add(TscClock::ticks() - t0, kBatch);
  }
  stop.store(true);
  writer.join();
  benchmark::DoNotOptimize(sum);
  alloc.publish(state);
  sampler.publish(state);
  state.counters["writer_publishes"] = static_cast<double>(writes.load());
  state.SetItemsProcessed(state.iterations() * kBatch);
}

// ---- L3 --------------------------------------------------------------------------------------------------

constexpr std::size_t kL3Orders = 1u << 20;

OrderRequest passive(std::mt19937_64& rng, OrderId id, std::int64_t mid) {
  OrderRequest o;
  o.id = id;
  o.side = rng() & 1 ? Side::bid : Side::ask;
  const auto off = 1 + static_cast<std::int64_t>(rng() % 50);
  o.price = Price(o.side == Side::bid ? mid - off : mid + off);
  o.qty = Qty(1 + static_cast<std::int64_t>(rng() % 100));
  return o;
}

// Arg: resting orders before the book is emptied again (the working set).
void BM_l3_add(benchmark::State& state) {
  MatchingEngine eng(MatchingConfig{.max_orders = kL3Orders, .max_price_levels = 4096});
  std::mt19937_64 rng(1);
  std::vector<OrderRequest> flow;
  const auto live = static_cast<std::size_t>(state.range(0));
  for (std::size_t i = 0; i < live; ++i) flow.push_back(passive(rng, i + 1, 100000));
  bench::OpSampler sampler;
  bench::AllocMeter alloc;
  std::size_t i = 0;
  for (auto _ : state) {
    if (i == flow.size()) {
      state.PauseTiming();
      for (const OrderRequest& o : flow) (void)eng.cancel(o.id);
      i = 0;
      state.ResumeTiming();
    }
    const std::uint64_t t0 = TscClock::ticks_begin();
    const OrderResult r = eng.submit(flow[i++]);
    sampler.add(TscClock::ticks_end() - t0);
    benchmark::DoNotOptimize(r);
  }
  alloc.publish(state);
  sampler.publish(state);
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}

// Arg: resting orders, cancelled in random order.
void BM_l3_cancel(benchmark::State& state) {
  MatchingEngine eng(MatchingConfig{.max_orders = kL3Orders, .max_price_levels = 4096});
  std::mt19937_64 rng(2);
  std::vector<OrderRequest> flow;
  const auto live = static_cast<std::size_t>(state.range(0));
  for (std::size_t i = 0; i < live; ++i) flow.push_back(passive(rng, i + 1, 100000));
  std::vector<OrderId> order;
  for (const OrderRequest& o : flow) order.push_back(o.id);
  std::shuffle(order.begin(), order.end(), rng);
  for (const OrderRequest& o : flow) (void)eng.submit(o);
  bench::OpSampler sampler;
  bench::AllocMeter alloc;
  std::size_t i = 0;
  for (auto _ : state) {
    if (i == order.size()) {
      state.PauseTiming();
      for (const OrderRequest& o : flow) (void)eng.submit(o);
      i = 0;
      state.ResumeTiming();
    }
    const std::uint64_t t0 = TscClock::ticks_begin();
    const bool ok = eng.cancel(order[i++]);
    sampler.add(TscClock::ticks_end() - t0);
    benchmark::DoNotOptimize(ok);
  }
  alloc.publish(state);
  sampler.publish(state);
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}

// A generated flow around a random-walking mid: 55% passive limits, 30% cancels of live orders, 10%
// aggressive limits (IOC through the spread), 5% market orders.
void BM_l3_match(benchmark::State& state) {
  MatchingEngine eng(MatchingConfig{.max_orders = kL3Orders, .max_price_levels = 4096});
  std::uint64_t fills = 0;
  eng.on_execution([&](const Execution& e) { fills += static_cast<std::uint64_t>(e.qty.raw()); });
  struct Op {
    bool cancel;
    OrderRequest o;
  };
  std::mt19937_64 rng(3);
  std::vector<Op> ops;
  std::vector<OrderId> live;
  std::int64_t mid = 100000;
  OrderId next = 1;
  for (std::size_t i = 0; i < 2'000'000; ++i) {
    const auto k = rng() % 100;
    if (k < 55) {
      ops.push_back({false, passive(rng, next, mid)});
      live.push_back(next++);
    } else if (k < 85 && !live.empty()) {
      const std::size_t j = rng() % live.size();
      OrderRequest o;
      o.id = live[j];
      ops.push_back({true, o});
      live[j] = live.back();
      live.pop_back();
    } else {
      OrderRequest o;
      o.id = next++;
      o.side = rng() & 1 ? Side::bid : Side::ask;
      o.qty = Qty(1 + static_cast<std::int64_t>(rng() % 300));
      if (k < 95) {
        o.tif = TimeInForce::ioc;
        o.price = Price(o.side == Side::bid ? mid + 5 : mid - 5);
      } else {
        o.type = OrderType::market;
      }
      ops.push_back({false, o});
    }
    if (rng() % 64 == 0) mid += (rng() & 1) ? 1 : -1;
  }
  bench::OpSampler sampler(1u << 22);
  bench::AllocMeter alloc;
  std::size_t i = 0;
  for (auto _ : state) {
    if (i == ops.size()) {
      state.PauseTiming();
      for (const Op& op : ops)
        if (!op.cancel) (void)eng.cancel(op.o.id);
      i = 0;
      state.ResumeTiming();
    }
    const Op& op = ops[i++];
    const std::uint64_t t0 = TscClock::ticks_begin();
    if (op.cancel) {
      benchmark::DoNotOptimize(eng.cancel(op.o.id));
    } else {
      benchmark::DoNotOptimize(eng.submit(op.o));
    }
    sampler.add(TscClock::ticks_end() - t0);
  }
  alloc.publish(state);
  sampler.publish(state);
  state.counters["resting_orders"] = static_cast<double>(eng.order_count());
  state.counters["filled_qty"] = static_cast<double>(fills);
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}

}  // namespace

BENCHMARK(BM_apply_hftx)->Name("book_apply/hftx")->Unit(benchmark::kMillisecond);
BENCHMARK(BM_apply_map)->Name("book_apply/std_map")->Unit(benchmark::kMillisecond);
BENCHMARK(BM_replay_hftx)->Name("book_replay/hftx")->Unit(benchmark::kMillisecond);
BENCHMARK(BM_sync_overflow)->Name("book_sync_overflow/hftx");
BENCHMARK(BM_top_read<true>)->Name("book_top_read/hftx");
BENCHMARK(BM_top_read<false>)->Name("book_top_read/mutex");
BENCHMARK(BM_l3_add)->Name("l3_add/hftx")->Arg(10000)->Arg(500000);
BENCHMARK(BM_l3_cancel)->Name("l3_cancel/hftx")->Arg(10000)->Arg(500000);
BENCHMARK(BM_l3_match)->Name("l3_match/hftx");

BENCHMARK_MAIN();
