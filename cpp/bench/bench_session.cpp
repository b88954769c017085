// Session benchmarks: the in-process pipeline on the recorded BTCUSDT stream (parse → book → strategy →
// risk → encode, no sockets), concurrent order processing with 1..N strategy threads (order_pipeline), and
// tick-to-trade over loopback against the simulator.
//
// The seed's claims are the peers here (rows named seed_*: the figure it promised, for the ratio):
// 5 µs market data, 2 µs risk, 10 µs order processing, 1,000,000 events/s.
#include <benchmark/benchmark.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include "bench_support.hpp"
#include "hftx/book/l2_book.hpp"
#include "hftx/lockfree/mpmc_queue.hpp"
#include "hftx/venue/binance/md_parser.hpp"
#include "hftx/venue/binance/order_codec.hpp"
#include "hftx/venue/okx/book_sync.hpp"
#include "hftx/venue/okx/md_parser.hpp"
#include "hftx/venue/okx/order_codec.hpp"
#include "hftx/oms/order.hpp"
#include "hftx/risk/risk.hpp"
#include "hftx/session/session.hpp"
#include "hftx/sim/exchange.hpp"
#include "hftx/strategy/strategy.hpp"

namespace hftx {
namespace {

using oms::ClientOrderId;
using oms::InstrumentId;

const std::vector<std::string>& recorded() {
  static const std::vector<std::string> lines = bench::read_gz_lines(bench::data_path("binance/spot_btcusdt_20240808.gz"), 300'000);
  return lines;
}

// The order path of one session thread, without the socket: risk → OMS → encode into a send buffer.
// logged_on: the order connection is logged on (session.logon), so orders go out unsigned; otherwise each
// is signed with HMAC-SHA256.
struct Pipeline final : strategy::StrategyContext {
  explicit Pipeline(bool logged_on = false)
      : ps(Scale::from_step("0.01")),
        qs(Scale::from_step("0.00000001")),
        parser(ps, qs),
        oms_(1u << 16, 1, 16),
        risk_(risk_config(), oms_),
        encoder({"bench-key", 5000, "hx", {oms::ApiInstrument{"BTCUSDT", ps, qs}}},
                logged_on ? venue::binance::RequestSigner::ed25519_pem(bench::kEd25519Pem) : venue::binance::RequestSigner::hmac_sha256("bench-secret")),
        levels(1u << 14),
        wbuf(4096) {
    risk_.add_instrument(0, ps, qs, "0.00001");
    encoder.set_logged_on(logged_on);
    probe = strategy::make_strategy("latency_probe", {{"max_open", 1e6}}, ps, qs);
    probe->bind(0, 0);
  }
  static risk::RiskConfig risk_config() {
    risk::RiskConfig c;
    c.orders_per_second = 1e9;
    c.burst = 1'000'000;
    c.max_open_orders = 1'000'000;
    c.max_position = 1e9;
    return c;
  }

  ClientOrderId place(const oms::OrderRequest& r) noexcept override { return submit(r, 0); }
  // Risk, the OMS and the encoding of one order at `now`: its id, or 0 when risk or the OMS refused it.
  ClientOrderId submit(const oms::OrderRequest& r, std::int64_t now) noexcept {
    if (risk_.check(r, now) != risk::RiskReason::ok) return 0;
    const ClientOrderId id = next_id++;
    if (oms_.create(r, id, now) == nullptr) return 0;
    const std::size_t n = encoder.encode_place(id, r, 1'700'000'000'000, wbuf.data(), wbuf.size());
    benchmark::DoNotOptimize(n);
    (void)oms_.mark_sent(id, now);
    t_order = TscClock::ticks();  // tick-to-trade ends here (the socket write is not part of this pipeline)
    ++orders;
    answered = id;
    return id;
  }
  // The venue's answer to the last order, delivered after the tick (outside the per-message and
  // tick-to-trade samples; inside the throughput, as a session pays it), so that the pool
  // does not fill and the probe sees its order close before the next tick: the order is cancelled.
  void venue_answers() noexcept {
    if (answered == 0) return;
    oms::OrderUpdate u;
    u.kind = oms::UpdateKind::cancelled;
    u.client_id = answered;
    answered = 0;
    if (oms_.apply(u) && probe) probe->on_order_update(*this, u);
  }
  bool cancel(ClientOrderId) noexcept override { return false; }
  void cancel_all(InstrumentId) noexcept override {}
  [[nodiscard]] std::uint8_t last_reject() const noexcept override { return 0; }
  [[nodiscard]] std::int64_t now_ns() const noexcept override { return 0; }
  [[nodiscard]] const Scale& price_scale(InstrumentId) const noexcept override { return ps; }
  [[nodiscard]] const Scale& qty_scale(InstrumentId) const noexcept override { return qs; }

  // One recorded message through the whole path; true when it produced an order.
  // Back to an empty book awaiting the snapshot (each pass over the recording starts afresh).
  void restart() {
    book.clear();
    sync.restart(venue::binance::Market::spot);
  }

  // As a session's market feed (session/market_feed.hpp, MarketFeed::on_message): with top_first, a diff that continues
  // the book and whose first levels settle its top is acted on before the rest is read and applied.
  bool on_message(std::string_view json, std::size_t capacity) noexcept {
    const md::ParseResult r = top_first ? parser.parse_deferred(json, capacity, 0, msg, levels)
                                        : parser.parse(json, capacity, 0, msg, levels);
    if (!r.ok()) return false;
    if (msg.kind == md::MdKind::depth_snapshot) {
      sync.on_snapshot(msg);
      return false;
    }
    if (msg.kind != md::MdKind::depth_update) return false;
    const std::uint64_t before = orders;
    strategy::BookEvent ev;
    bool acted = false;
    if (parser.deferred()) {
      if (sync.predict_top(parser, msg.depth, ev.top)) {
        act(ev);
        acted = true;
      }
      if (!parser.read_deferred(msg).ok()) return orders != before;
    }
    if (sync.on_diff(msg) != book::DiffOutcome::applied || acted) return orders != before;
    const md::Level b = book.best_bid(), a = book.best_ask();
    ev.top.bid_price = b.price.raw();
    ev.top.bid_qty = b.qty.raw();
    ev.top.ask_price = a.price.raw();
    ev.top.ask_qty = a.qty.raw();
    act(ev);
    return orders != before;
  }
  void act(const strategy::BookEvent& ev) noexcept {
    if (ev.top.bid_qty == 0 || ev.top.ask_qty == 0 || ev.top.bid_price >= ev.top.ask_price) return;
    risk_.on_book(0, ev.top);
    probe->on_book(*this, ev);
  }

  Scale ps, qs;
  venue::binance::MdParser parser;
  md::MdMessage msg;
  book::BasicL2Book<0> book;  // as a session's books: the top published, no levels
  venue::binance::BasicBookSync<book::BasicL2Book<0>> sync{book, venue::binance::Market::spot};
  oms::OrderManager oms_;
  risk::RiskEngine risk_;
  venue::binance::ApiEncoder encoder;
  std::unique_ptr<strategy::Strategy> probe;
  std::vector<md::Level> levels;
  std::vector<char> wbuf;
  ClientOrderId next_id = 1;
  ClientOrderId answered = 0;
  std::uint64_t orders = 0;
  std::uint64_t t_order = 0;  // TSC when the last order was encoded
  bool top_first = true;
};

// Recorded messages (diffs, bookTickers, trades) parsed and applied, and every applied diff answered with
// an order through risk and encoding. Items = messages; p50/p99 = per message, whole (the diff read and
// applied, the order made); ttt_* = diff received → order encoded.
// hftx: each order signed with HMAC-SHA256; hftx_logon: the order connection is logged on (orders unsigned);
// both top first, as a session. hftx_logon_apply_first: every diff read and applied whole before the
// strategy sees it (the path before top-first, for the ratio).
// Runs `p` over `msgs` (padded JSON) as session_inprocess describes; `p` has on_message(json, capacity) -> bool
// (an order was made), venue_answers(), restart(), t_order and orders.
template <class P>
void run_inprocess(benchmark::State& state, P& p, const std::vector<std::string>& msgs) {
  for (const auto& m : msgs) {  // warm-up: the book reaches its size
    (void)p.on_message(m, m.capacity());
    p.venue_answers();
  }
  p.restart();
  bench::OpSampler per_msg(1u << 21);
  bench::OpSampler ttt(1u << 21);
  bench::AllocMeter alloc;
  std::size_t i = 0;
  for (auto _ : state) {
    const std::string& m = msgs[i];
    const std::uint64_t t0 = TscClock::ticks_begin();
    const bool ordered = p.on_message(m, m.capacity());
    const std::uint64_t t1 = TscClock::ticks_end();
    per_msg.add(t1 - t0);
    if (ordered) {
      ttt.add(p.t_order - t0);
      p.venue_answers();
    }
    if (++i == msgs.size()) {
      state.PauseTiming();
      i = 0;
      p.restart();
      state.ResumeTiming();
    }
  }
  alloc.publish(state);
  // Tick-to-trade of the messages that produced an order first (renamed ttt_*), then per message.
  ttt.publish(state);
  for (const char* k : {"p50_ns", "p95_ns", "p99_ns", "p999_ns"}) state.counters[std::string("ttt_") + k] = state.counters[k];
  per_msg.publish(state);
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
  state.counters["orders"] = static_cast<double>(p.orders);
}

void session_inprocess(benchmark::State& state, bool logged_on, bool top_first) {
  const auto& lines = recorded();
  if (lines.empty()) {
    state.SkipWithError(("no recorded data at " + bench::data_path("binance/spot_btcusdt_20240808.gz").string()).c_str());
    return;
  }
  // Padded copies of the JSON part (a receive buffer keeps simdjson's padding).
  std::vector<std::string> msgs;
  for (const auto& l : lines) {
    const auto sp = l.find(' ');
    std::string m = l.substr(sp + 1);
    m.reserve(m.size() + md::kJsonPadding);
    msgs.push_back(std::move(m));
  }
  Pipeline p(logged_on);
  p.top_first = top_first;
  run_inprocess(state, p, msgs);
}
void BM_session_inprocess(benchmark::State& state) { session_inprocess(state, false, true); }
void BM_session_inprocess_logon(benchmark::State& state) { session_inprocess(state, true, true); }
void BM_session_inprocess_apply_first(benchmark::State& state) { session_inprocess(state, true, false); }


// ---- the same through OKX's module ------------------------------------------------------------------------

// OKX's order path after the login (requests unsigned), and its book sync with the checksum verified just after
// the order (as the session does: kDeferredChecksum), on the recorded books-l2-tbt messages of ELON-USDT, the
// recording's busiest instrument (spot; 1,609 messages: a snapshot and updates, steps 1e-11 and 1).
struct OkxPipeline final : strategy::StrategyContext {
  OkxPipeline()
      : ps(Scale::from_step("0.00000000001")),
        qs(Scale::from_step("1")),
        parser(ps, qs),
        book(8192),
        sync(book, ps, qs),
        oms_(1u << 16, 1, 16),
        risk_(risk_config(), oms_),
        encoder({"hx", venue::okx::Market::spot, "cash", {oms::ApiInstrument{"ELON-USDT", ps, qs}}},
                venue::okx::Credentials{"bench-key", "bench-pass", venue::okx::LoginSigner("bench-secret")}),
        levels(1u << 14),
        wbuf(4096) {
    risk_.add_instrument(0, ps, qs, "1");
    sync.set_defer_checksum(true);
    probe = strategy::make_strategy("latency_probe", {{"max_open", 1e6}, {"size", 1000}}, ps, qs);
    probe->bind(0, 0);
  }
  static risk::RiskConfig risk_config() {
    risk::RiskConfig c = Pipeline::risk_config();
    c.max_order_qty = 1e9;
    return c;
  }
  ClientOrderId place(const oms::OrderRequest& r) noexcept override {
    if (risk_.check(r, 0) != risk::RiskReason::ok) return 0;
    const ClientOrderId id = next_id++;
    if (oms_.create(r, id, 0) == nullptr) return 0;
    benchmark::DoNotOptimize(encoder.encode_place(id, r, wbuf.data(), wbuf.size()));
    (void)oms_.mark_sent(id, 0);
    t_order = TscClock::ticks();
    ++orders;
    answered = id;
    return id;
  }
  void venue_answers() noexcept {
    if (answered == 0) return;
    oms::OrderUpdate u;
    u.kind = oms::UpdateKind::cancelled;
    u.client_id = answered;
    answered = 0;
    if (oms_.apply(u) && probe) probe->on_order_update(*this, u);
  }
  bool cancel(ClientOrderId) noexcept override { return false; }
  void cancel_all(InstrumentId) noexcept override {}
  [[nodiscard]] std::uint8_t last_reject() const noexcept override { return 0; }
  [[nodiscard]] std::int64_t now_ns() const noexcept override { return 0; }
  [[nodiscard]] const Scale& price_scale(InstrumentId) const noexcept override { return ps; }
  [[nodiscard]] const Scale& qty_scale(InstrumentId) const noexcept override { return qs; }

  void restart() {
    book.clear();
    sync.restart();
  }
  // As MarketFeed::on_message for OKX: parse whole, apply (a snapshot loads), act, then the checksum.
  bool on_message(std::string_view json, std::size_t capacity) noexcept {
    if (!parser.parse(json, capacity, 0, msg, levels).ok()) return false;
    if (msg.kind == md::MdKind::depth_snapshot)
      sync.on_snapshot(msg);
    else if (msg.kind != md::MdKind::depth_update || sync.on_diff(msg) != book::DiffOutcome::applied)
      return false;
    if (!sync.synced()) return false;
    const std::uint64_t before = orders;
    strategy::BookEvent ev;
    const md::Level b = book.best_bid(), a = book.best_ask();
    ev.top.bid_price = b.price.raw();
    ev.top.bid_qty = b.qty.raw();
    ev.top.ask_price = a.price.raw();
    ev.top.ask_qty = a.qty.raw();
    if (ev.top.bid_qty != 0 && ev.top.ask_qty != 0 && ev.top.bid_price < ev.top.ask_price) {
      risk_.on_book(0, ev.top);
      probe->on_book(*this, ev);
    }
    (void)sync.verify_pending(0);
    return orders != before;
  }

  Scale ps, qs;
  venue::okx::MdParser parser;
  md::MdMessage msg;
  book::BasicL2Book<0> book;
  venue::okx::BasicBookSync<book::BasicL2Book<0>> sync;
  oms::OrderManager oms_;
  risk::RiskEngine risk_;
  venue::okx::ApiEncoder encoder;
  std::unique_ptr<strategy::Strategy> probe;
  std::vector<md::Level> levels;
  std::vector<char> wbuf;
  ClientOrderId next_id = 1;
  ClientOrderId answered = 0;
  std::uint64_t orders = 0;
  std::uint64_t t_order = 0;
};

// session_inprocess/hftx_okx: the recorded ELON-USDT books-l2-tbt messages through OKX's parser, sync (the CRC32
// checksum of the top 25 after the order), the latency probe, risk, the OMS and OKX's encoder. Not the same data as
// the Binance rows (a spot book of small diffs at a 1e-11 tick): compare the stages, not the totals.
void BM_session_inprocess_okx(benchmark::State& state) {
  std::vector<std::string> msgs;
  const std::string marker = R"("instId":"ELON-USDT"},"action")";
  for (const std::string& l : bench::read_gz_lines(bench::data_path("venues/okx/okx_books-l2-tbt_20220227.gz"))) {
    if (l.find(marker) == std::string::npos) continue;
    std::string m = l.substr(l.find(": ") + 2);
    m.reserve(m.size() + md::kJsonPadding);
    msgs.push_back(std::move(m));
  }
  if (msgs.empty()) {
    state.SkipWithError("no OKX recording under the data directory");
    return;
  }
  OkxPipeline p;
  run_inprocess(state, p, msgs);
}

// Risk checks alone on a live order (all checks pass, the common case).
void BM_session_risk(benchmark::State& state) {
  Pipeline p;
  book::TopOfBook top;
  top.bid_price = 6'000'000;
  top.ask_price = 6'000'001;
  top.bid_qty = top.ask_qty = 100'000'000;
  p.risk_.on_book(0, top);
  oms::OrderRequest r;
  r.price = Price(5'990'000);
  r.qty = Qty(100'000);
  bench::OpSampler s;
  for (auto _ : state) {
    const std::uint64_t t0 = TscClock::ticks_begin();
    benchmark::DoNotOptimize(p.risk_.check(r, 0));
    s.add(TscClock::ticks_end() - t0);
  }
  s.publish(state);
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}

// ---- concurrent order processing ---------------------------------------------------------------------

// order_pipeline/hftx/<workers>: the pipelined session's order path without sockets. <workers> strategy
// threads each turn a stream of book events into orders (a bid under a moving mid) and hand them through
// one MpmcQueue (blocking push, BlockingWait) to the gateway thread, this one, which runs risk, the OMS and
// the encoding (a logged-on connection) and then applies the venue's cancel, so that the order closes.
// Items = orders through the gateway per second; p50/p99 = the gateway's time per order, from taking it
// off the queue to the venue's answer applied (a worker's push-to-encode time would be mostly the wait in
// a full queue). The gateway is one thread by design (one order connection), so the figure rises with
// workers only until it saturates. The gateway keeps a CPU of its own; the workers are spread over the
// others (on 2 cores they all share the second one: the scaling figures need more cores).

void BM_order_pipeline(benchmark::State& state) {
  const auto workers = static_cast<std::size_t>(state.range(0));
  Pipeline p(true);
  p.probe.reset();  // the gateway applies the venue's answers itself
  book::TopOfBook top;
  top.bid_price = 5'999'999;
  top.ask_price = 6'000'001;
  top.bid_qty = top.ask_qty = 100'000'000;
  p.risk_.on_book(0, top);
  MpmcQueue<oms::OrderRequest> q(4096);
  std::atomic<bool> stop{false};
  std::atomic<std::size_t> running{workers};
  std::vector<std::thread> threads;
  for (std::size_t w = 0; w < workers; ++w)
    threads.emplace_back([&, w] {
      const std::size_t others = std::max<std::size_t>(bench::allowed_cpus().size(), 2) - 1;
      bench::pin_self(bench::cpu_at(1 + w % others));
      for (std::uint64_t k = 0; !stop.load(std::memory_order_relaxed); ++k) {
        oms::OrderRequest r;
        r.instrument = 0;
        r.side = oms::Side::bid;
        r.price = Price(5'999'999 - static_cast<std::int64_t>((k * 7 + w) & 63));
        r.qty = Qty(1000);
        q.push(r);
      }
      running.fetch_sub(1, std::memory_order_release);
    });
  bench::PinScope pin(bench::cpu_at(0));
  bench::OpSampler latency(1u << 21);
  bench::AllocMeter alloc;
  const TscClock& clock = TscClock::instance();
  std::uint64_t rejected = 0;
  constexpr int kOrders = 1024;  // per iteration
  for (auto _ : state) {
    for (int i = 0; i < kOrders; ++i) {
      const std::uint64_t t0 = TscClock::ticks();
      oms::OrderRequest r;
      q.pop(r);
      if (p.submit(r, clock.now_ns()) == 0) {
        ++rejected;
        continue;
      }
      p.venue_answers();
      latency.add(TscClock::ticks() - t0);
    }
  }
  alloc.publish(state);
  stop.store(true, std::memory_order_relaxed);
  for (oms::OrderRequest r; running.load(std::memory_order_acquire) != 0;) (void)q.try_pop(r);  // unblock the pushes
  for (auto& t : threads) t.join();
  latency.publish(state);
  if (rejected != 0) state.SkipWithError("orders rejected by risk or the OMS");
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()) * kOrders);
  state.counters["workers"] = static_cast<double>(workers);
}

// Tick-to-trade over loopback: a session (inline, busy-poll) with the latency probe against the simulator
// (its own thread) for a fixed time. Figures come from the session's own tracker.
void BM_session_loopback(benchmark::State& state) {
  sim::ExchangeConfig sc;
  sc.event_rate = 20'000;
  sc.depth_levels = 200;
  sim::Exchange ex(sc);
  ex.start();
  session::SessionConfig c;
  c.venue.market_url = ex.market_url();
  c.venue.api_url = ex.api_url();
  c.venue.options["depth_stream"] = "depth";
  c.instruments.push_back(session::InstrumentConfig{"BTCUSDT", "0.01", "0.00000001", "0.00001", 1000});
  session::StrategyConfig probe;
  probe.type = "latency_probe";
  probe.instrument = "BTCUSDT";
  c.strategies.push_back(probe);
  c.performance.enable_cpu_affinity = false;
  c.latency.sample_rate = 0.0;
  c.risk.orders_per_second = 1e6;
  c.risk.burst = 100'000;
  c.threading.busy_poll = state.range(0) != 0;
  session::Session s(c);
  s.start();
  std::this_thread::sleep_for(std::chrono::milliseconds(500));  // sync and warm up
  const std::uint64_t md0 = s.stats().md_messages;
  for (auto _ : state) s.run_for(std::chrono::seconds(2));
  const session::SessionStats st = s.stats();
  const Histogram h = s.tracker().stage_histogram(Stage::tick_to_trade);
  s.stop();
  ex.stop();
  state.counters["p50_ns"] = static_cast<double>(h.value_at_percentile(50));
  state.counters["p99_ns"] = static_cast<double>(h.value_at_percentile(99));
  state.counters["p999_ns"] = static_cast<double>(h.value_at_percentile(99.9));
  state.counters["figure_p50"] = 1;
  state.counters["events"] = static_cast<double>(st.md_messages - md0);
  state.SetItemsProcessed(static_cast<std::int64_t>(h.count()));
}

}  // namespace
}  // namespace hftx

BENCHMARK(hftx::BM_session_inprocess)->Name("session_inprocess/hftx");
BENCHMARK(hftx::BM_session_inprocess_logon)->Name("session_inprocess/hftx_logon");
BENCHMARK(hftx::BM_session_inprocess_apply_first)->Name("session_inprocess/hftx_logon_apply_first");
BENCHMARK(hftx::BM_session_inprocess_okx)->Name("session_inprocess/hftx_okx");
BENCHMARK(hftx::BM_session_risk)->Name("session_risk/hftx");
BENCHMARK(hftx::BM_order_pipeline)->Name("order_pipeline/hftx")->Arg(1)->Arg(2)->Arg(4)->Arg(8)->UseRealTime();
BENCHMARK(hftx::BM_session_loopback)->Name("session_loopback_ttt/hftx_busy")->Arg(1)->Iterations(1)->UseRealTime();
BENCHMARK(hftx::BM_session_loopback)->Name("session_loopback_ttt/hftx_blocking")->Arg(0)->Iterations(1)->UseRealTime();

BENCHMARK_MAIN();
