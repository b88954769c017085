// Session: builds a session's shared state, places its threads, carves its memory and starts the venue's engine.
// See hftx/session/session.hpp; the components are session/market_feed.hpp, order_gateway.hpp, inline_loop.hpp,
// pipelined_loop.hpp (docs/ARCHITECTURE.md, "The session").
#include "hftx/session/session.hpp"

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <span>
#include <thread>

#include "hftx/core/error.hpp"
#include "hftx/memory/arena.hpp"
#include "hftx/memory/prefault.hpp"
#include "session/engine.hpp"
#include "session/state.hpp"

namespace hftx::session {

namespace {

Scale scale_of(const std::string& key, const std::string& step) {
  try {
    return Scale::from_step(step);
  } catch (const std::exception& e) {
    throw ConfigError(key + " = '" + step + "': expected a positive decimal step such as 0.01 (" + e.what() + ")");
  }
}

}  // namespace

net::WsClientConfig ws_config(const SessionConfig& cfg, const std::string& url) {
  net::WsClientConfig c;
  c.url = url;
  c.read_buffer_size = std::max<std::size_t>(cfg.websocket.read_buffer_size, 1u << 16);
  c.write_buffer_size = std::max<std::size_t>(cfg.websocket.write_buffer_size, 1u << 16);
  c.tcp.read_buffer_size = static_cast<int>(cfg.websocket.read_buffer_size);
  c.tcp.write_buffer_size = static_cast<int>(cfg.websocket.write_buffer_size);
  c.tcp.no_delay = cfg.websocket.no_delay;
  c.tcp.keep_alive = cfg.websocket.keep_alive;
  c.connect_timeout_ms = cfg.venue.connect_timeout_ms;
  c.reconnect = true;
  c.backoff_initial = std::chrono::milliseconds(50);
  c.backoff_max = std::chrono::milliseconds(2000);
  c.ping_interval = std::chrono::milliseconds(1000);
  c.ping_timeout = std::chrono::milliseconds(3000);
  return c;
}

// ----------------------------------------------------------------------------------------------------------
// Session::Impl: the shared state, placement, memory, and the venue's engine

struct Session::Impl final : QueueMemory {
  explicit Impl(SessionConfig c) : cfg(std::move(c)), tracker(cfg.latency) {}

  SessionConfig cfg;
  std::vector<Instrument> instruments;
  std::vector<StrategySlot> strategies;
  LatencyTracker tracker;
  Counters counters;
  TimelineLogs logs;
  std::vector<std::string> notes;
  std::unique_ptr<ThreadManager> threads;
  // The memory the hot threads write as they go (the timeline logs, the pipelined queues): one mapping, built in
  // start() once placement knows the NUMA node, populated and mlock()ed there, on huge pages when
  // hft.performance.enable_huge_pages. On lazily mapped heap pages the logs took a page fault on the hot path
  // every few hundred samples: ~1,900 in 4 s on the inline demo's session thread.
  std::unique_ptr<Arena> arena;
  std::size_t code_mapped = 0;  // the cold paths' code, too, is mapped before trading (prefault_code())
  std::unique_ptr<Engine> engine;

  std::atomic<bool> stop_flag{false};
  Failure failure{stop_flag};
  std::atomic<bool> running{false};
  std::int64_t start_ns = 0;
  std::atomic<std::int64_t> stop_ns{0};
  bool started = false;
  bool stopped = false;

  SessionParts parts() { return {cfg, instruments, strategies, counters, logs, notes, tracker, stop_flag, failure}; }

  // A piece of `arena`; start() sized the arena for every piece, so running out is a bug in that sum.
  void* carve(std::size_t bytes, std::size_t align) override {
    void* p = arena->allocate(bytes, align);
    if (p == nullptr)
      throw Error("session arena: " + std::to_string(bytes) + " bytes do not fit (" +
                  std::to_string(arena->remaining()) + " of " + std::to_string(arena->capacity()) + " left)");
    return p;
  }
  template <class T>
  std::span<T> carve_array(std::size_t n) {
    return {static_cast<T*>(carve(n * sizeof(T), alignof(T))), n};
  }

  void build();
  void start();
  void stop();
};

void Session::Impl::build() {
  cfg.validate();
  instruments.reserve(cfg.instruments.size());
  for (std::size_t i = 0; i < cfg.instruments.size(); ++i) {
    const auto& ic = cfg.instruments[i];
    const std::string key = "instruments[" + std::to_string(i) + "]";
    Instrument in;
    in.cfg = ic;
    in.price_scale = scale_of(key + ".price_step", ic.price_step);
    in.qty_scale = scale_of(key + ".qty_step", ic.qty_step);
    in.lot_scale = scale_of(key + ".lot_step", ic.lot_step);
    in.symbol.assign(ic.symbol);
    in.book = std::make_unique<SessionBook>(8192);
    instruments.push_back(std::move(in));
  }
  for (std::size_t i = 0; i < cfg.strategies.size(); ++i) {
    const auto& sc = cfg.strategies[i];
    InstrumentId iid = 0;
    while (cfg.instruments[iid].symbol != sc.instrument) ++iid;
    for (std::uint32_t k = 0; k < sc.count; ++k) {
      std::unique_ptr<strategy::Strategy> st;
      try {
        st = strategy::make_strategy(sc.type, sc.params, instruments[iid].price_scale, instruments[iid].qty_scale);
      } catch (const ConfigError& e) {
        throw ConfigError("strategies[" + std::to_string(i) + "]: " + e.what());
      }
      StrategySlot slot;
      slot.strategy = std::move(st);
      slot.instrument = iid;
      strategies.push_back(std::move(slot));
    }
  }
}

void Session::Impl::start() {
  const bool pipe = cfg.threading.mode == ThreadingMode::pipelined;
  const std::size_t n_workers = pipe ? cfg.threading.workers : 0;
  for (StrategyId sid = 0; sid < strategies.size(); ++sid) {
    StrategySlot& slot = strategies[sid];
    slot.strategy->bind(sid, slot.instrument);
    slot.worker = pipe ? sid % n_workers : 0;
    if (!pipe) instruments[slot.instrument].strategies.push_back(sid);
  }

  threads = std::make_unique<ThreadManager>();
  std::vector<ThreadRole> roles;
  const bool busy = cfg.threading.busy_poll;
  const bool rt = cfg.threading.realtime;
  if (!pipe) {
    roles.push_back(ThreadRole{"hftx-session", busy, true, rt, 50});
  } else {
    roles.push_back(ThreadRole{"hftx-gateway", busy, true, rt, 50});
    roles.push_back(ThreadRole{"hftx-feed", busy, true, rt, 50});
    for (std::size_t w = 0; w < n_workers; ++w)
      roles.push_back(ThreadRole{"hftx-worker" + std::to_string(w), busy, false, rt, 40});
  }
  Placement placement = threads->optimize_for_hft(cfg.performance, roles);
  for (auto& n : placement.notes) notes.push_back(n);

  ArenaOptions ao;
  ao.bytes = kTimelineCapacity * (sizeof(TickSample) + sizeof(MidSample) + 2 * sizeof(OrderSample)) +
             4 * alignof(std::max_align_t);  // each log's alignment
  if (pipe) ao.bytes += n_workers * worker_queue_bytes(cfg.threading.queue_capacity);
  ao.pages = placement.huge_pages ? PageRequest::kAuto : PageRequest::kNormal;
  ao.populate = true;
  ao.lock = true;  // a refusal (RLIMIT_MEMLOCK) is reported in system_report().memory, not fatal
  ao.numa_node = placement.numa_node;
  arena = std::make_unique<Arena>(ao);
  for (const std::string& n : arena->report().notes) notes.push_back("session arena: " + n);
  logs.ttt.emplace(carve_array<TickSample>(kTimelineCapacity));
  logs.mids.emplace(carve_array<MidSample>(kTimelineCapacity));
  logs.orders.emplace(carve_array<OrderSample>(kTimelineCapacity));
  logs.fills.emplace(carve_array<OrderSample>(kTimelineCapacity));

  code_mapped = prefault_code();
  engine = make_engine(cfg.venue.protocol(), parts(), *this);
  engine->connect();
  start_ns = now_ns();
  running.store(true, std::memory_order_release);
  engine->run_threads(*threads, placement, [this] { running.store(false, std::memory_order_release); });
}

void Session::Impl::stop() {
  if (!started || stopped) return;
  stopped = true;
  stop_flag.store(true, std::memory_order_release);
  if (engine) engine->stop();
  if (threads) {
    threads->request_stop_all();
    threads->join_all();
  }
  stop_ns.store(now_ns(), std::memory_order_release);
  running.store(false, std::memory_order_release);
}

// ----------------------------------------------------------------------------------------------------------
// Session

Session::Session(SessionConfig config) : impl_(std::make_unique<Impl>(std::move(config))) { impl_->build(); }

Session::~Session() {
  try {
    stop();
  } catch (...) {
  }
}

oms::StrategyId Session::add_strategy(std::string_view instrument, std::unique_ptr<strategy::Strategy> s) {
  if (impl_->started) throw Error("Session::add_strategy: the session has started; add strategies before start()");
  if (!s) throw ConfigError("Session::add_strategy: strategy is null");
  for (InstrumentId i = 0; i < impl_->instruments.size(); ++i) {
    if (impl_->instruments[i].cfg.symbol != instrument) continue;
    StrategySlot slot;
    slot.strategy = std::move(s);
    slot.instrument = i;
    impl_->strategies.push_back(std::move(slot));
    return static_cast<StrategyId>(impl_->strategies.size() - 1);
  }
  throw ConfigError("Session::add_strategy: instrument '" + std::string(instrument) + "' is not configured");
}

void Session::start() {
  if (impl_->started) throw Error("Session::start: already started");
  impl_->started = true;
  try {
    impl_->start();
  } catch (...) {
    impl_->stop();
    throw;
  }
}

void Session::run_for(std::chrono::nanoseconds d) {
  const auto deadline = std::chrono::steady_clock::now() + d;
  while (running() && !stop_requested()) {
    const auto now = std::chrono::steady_clock::now();
    if (now >= deadline) return;
    std::this_thread::sleep_for(std::min<std::chrono::nanoseconds>(deadline - now, std::chrono::milliseconds(5)));
  }
}

std::string Session::failure() const { return impl_->failure.what(); }

void Session::request_stop() noexcept { impl_->stop_flag.store(true, std::memory_order_release); }
bool Session::stop_requested() const noexcept { return impl_->stop_flag.load(std::memory_order_acquire); }
bool Session::running() const noexcept { return impl_->running.load(std::memory_order_acquire); }
void Session::stop() { impl_->stop(); }
const LatencyTracker& Session::tracker() const noexcept { return impl_->tracker; }
const SessionConfig& Session::config() const noexcept { return impl_->cfg; }

std::vector<OrderInfo> Session::orders() const {
  if (!impl_->engine) return {};
  return impl_->engine->orders(impl_->running.load(std::memory_order_acquire));
}

std::vector<PositionInfo> Session::positions() const {
  if (!impl_->engine) return {};
  return impl_->engine->positions(impl_->running.load(std::memory_order_acquire));
}

std::vector<BookInfo> Session::books(std::size_t depth) const {
  if (!impl_->engine) return {};
  return impl_->engine->books(depth, impl_->running.load(std::memory_order_acquire));
}

SessionStats Session::stats() const {
  const Impl& s = *impl_;
  const Counters& c = s.counters;
  SessionStats st;
  const std::int64_t end = s.stop_ns.load(std::memory_order_acquire);
  st.elapsed_s = s.start_ns == 0 ? 0.0 : static_cast<double>((end != 0 ? end : now_ns()) - s.start_ns) * 1e-9;
  st.md_messages = c.md_messages.get();
  st.md_errors = c.md_errors.get();
  st.depth_updates = c.depth_updates.get();
  st.book_tickers = c.book_tickers.get();
  st.trades = c.trades.get();
  st.resyncs = c.resyncs.get();
  st.gaps = c.gaps.get();
  st.crossed = c.crossed.get();
  st.top_first = c.top_first.get();
  st.top_first_mismatch = c.top_first_mismatch.get();
  st.checksum_mismatches = c.checksum_mismatches.get();
  st.orders_sent = c.orders_sent.get();
  st.orders_acked = c.orders_acked.get();
  st.fills = c.fills.get();
  st.cancels_sent = c.cancels_sent.get();
  st.cancelled = c.cancelled.get();
  st.venue_rejects = c.venue_rejects.get();
  st.expired = c.expired.get();
  st.risk_rejects = c.risk_rejects.get();
  for (std::size_t i = 0; i < kRiskReasons; ++i) st.risk_by_reason[i] = c.risk_by_reason[i].get();
  st.impossible_updates = c.impossible_updates.get();
  st.unknown_orders = c.unknown_orders.get();
  st.orders_lost = c.orders_lost.get();
  st.api_errors = c.api_errors.get();
  st.queue_drops = c.queue_drops.get();
  st.reconnects = c.reconnects.get();
  st.logons = c.logons.get();
  st.reconnect_failures = c.reconnect_failures.get();
  st.open_orders = c.open_orders.get();
  st.kill_switch = c.kill_switch.get() != 0;
  if (s.started) {
    for (const PositionInfo& p : positions()) {
      st.position += p.position;
      st.realized_pnl += p.realized_pnl;
      st.unrealized_pnl += p.unrealized_pnl;
    }
    if (!s.instruments.empty())
      st.filled_qty = to_double(static_cast<std::int64_t>(c.filled_qty_raw.get()), s.instruments.front().qty_scale);
  }
  return st;
}

Timeline Session::timeline() const {
  Timeline t;
  const TimelineLogs& logs = impl_->logs;
  if (!logs.ttt) return t;  // not started: nothing recorded
  t.tick_to_trade = logs.ttt->snapshot();
  t.mids = logs.mids->snapshot();
  t.orders = logs.orders->snapshot();
  t.fills = logs.fills->snapshot();
  return t;
}

SystemReport Session::system_report() const {
  SystemReport r;
  if (impl_->threads) r.threads = impl_->threads->reports();
  r.notes = impl_->notes;
  r.code_mapped = impl_->code_mapped;
  if (impl_->arena) {
    r.memory = impl_->arena->report();
    r.memory_used = impl_->arena->used();
  }
  r.mode = impl_->cfg.threading.mode == ThreadingMode::pipelined ? "pipelined" : "inline";
  return r;
}

}  // namespace hftx::session
