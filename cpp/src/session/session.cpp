// Session: wires market streams, books, strategies, risk and the order gateway. See hftx/session/session.hpp.
#include "hftx/session/session.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <condition_variable>
#include <cstdlib>
#include <future>
#include <mutex>
#include <optional>
#include <span>
#include <thread>
#include <unordered_map>

#include "hftx/venue/binance/book_sync.hpp"
#include "hftx/book/l2_book.hpp"
#include "hftx/core/clock.hpp"
#include "hftx/core/error.hpp"
#include "hftx/lockfree/mpmc_queue.hpp"
#include "hftx/lockfree/spsc_queue.hpp"
#include "hftx/lockfree/wait.hpp"
#include "hftx/memory/prefault.hpp"
#include "hftx/venue/binance/md_parser.hpp"
#include "hftx/net/reactor.hpp"
#include "hftx/net/websocket.hpp"
#include "hftx/venue/binance/order_codec.hpp"
#include "hftx/oms/order.hpp"
#include "hftx/oms/position.hpp"
#include "hftx/risk/risk.hpp"
#include "hftx/session/timeline.hpp"

namespace hftx::session {

using oms::ClientOrderId;
using oms::InstrumentId;
using oms::OrderUpdate;
using oms::StrategyId;
using risk::RiskReason;

namespace {

constexpr std::size_t kMaxLevelsPerMessage = 1u << 14;
constexpr std::size_t kTimelineCapacity = 1u << 20;  // entries per sample log: 32 levels of 32 Ki (timeline.hpp)
constexpr std::int64_t kMidSampleIntervalNs = 1'000'000;  // one mid sample per ms at most
constexpr auto kQueryTimeout = std::chrono::seconds(5);

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::int64_t unix_ms() noexcept { return TscClock::instance().now_ns() / 1'000'000; }

// Shutdown: turns `reactor` until `done()` holds or `timeout` has passed.
template <class Done>
void poll_until(net::Reactor& reactor, std::chrono::milliseconds timeout, Done&& done) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!done() && std::chrono::steady_clock::now() < deadline) reactor.poll(10);
}

bool closed(net::WsConnection& c) noexcept { return c.state() == net::WsConnection::State::kClosed; }

Scale scale_of(const std::string& key, const std::string& step) {
  try {
    return Scale::from_step(step);
  } catch (const std::exception& e) {
    throw ConfigError(key + " = '" + step + "': expected a positive decimal step such as 0.01 (" + e.what() + ")");
  }
}

// ClientOrderIds: the strategy's index + 1 in the high 24 bits, a per-strategy sequence below. Unique per
// session without a shared counter (strategies on different threads never touch the same word).
constexpr ClientOrderId make_client_id(StrategyId s, std::uint64_t seq) noexcept {
  return (static_cast<ClientOrderId>(s + 1) << 40) | (seq & ((ClientOrderId{1} << 40) - 1));
}

}  // namespace

void SessionConfig::validate() const {
  if (instruments.empty()) throw ConfigError("instruments: expected at least one instrument, got none");
  for (std::size_t i = 0; i < instruments.size(); ++i) {
    const auto& in = instruments[i];
    const std::string key = "instruments[" + std::to_string(i) + "]";
    if (in.symbol.empty() || in.symbol.size() > md::Symbol::kCapacity)
      throw ConfigError(key + ".symbol = '" + in.symbol + "': expected 1.." + std::to_string(md::Symbol::kCapacity) +
                        " characters");
    (void)scale_of(key + ".price_step", in.price_step);
    (void)scale_of(key + ".qty_step", in.qty_step);
    (void)scale_of(key + ".lot_step", in.lot_step);
    if (in.snapshot_depth < 1 || in.snapshot_depth > 5000)
      throw ConfigError(key + ".snapshot_depth = " + std::to_string(in.snapshot_depth) + ": expected 1..5000");
    for (std::size_t j = 0; j < i; ++j)
      if (instruments[j].symbol == in.symbol) throw ConfigError(key + ".symbol = '" + in.symbol + "': listed twice");
  }
  for (std::size_t i = 0; i < strategies.size(); ++i) {
    const auto& s = strategies[i];
    const std::string key = "strategies[" + std::to_string(i) + "]";
    if (std::none_of(instruments.begin(), instruments.end(), [&](const auto& in) { return in.symbol == s.instrument; }))
      throw ConfigError(key + ".instrument = '" + s.instrument + "': expected one of the configured instruments");
    if (s.count < 1 || s.count > 100'000)
      throw ConfigError(key + ".count = " + std::to_string(s.count) + ": expected 1..100000");
  }
  if (venue.market_url.empty()) throw ConfigError("venue.market_url: expected a ws:// or wss:// URL, got ''");
  if (venue.api_url.empty()) throw ConfigError("venue.api_url: expected a ws:// or wss:// URL, got ''");
  if (venue.depth_stream != "depth" && venue.depth_stream != "depth@100ms")
    throw ConfigError("venue.depth_stream = '" + venue.depth_stream + "': expected 'depth' or 'depth@100ms'");
  if (venue.recv_window_ms < 1 || venue.recv_window_ms > 60'000)
    throw ConfigError("venue.recv_window_ms = " + std::to_string(venue.recv_window_ms) + ": expected 1..60000");
  if (threading.mode == ThreadingMode::pipelined && (threading.workers < 1 || threading.workers > 256))
    throw ConfigError("threading.workers = " + std::to_string(threading.workers) + ": expected 1..256 in pipelined mode");
  if (threading.queue_capacity < 2 || threading.queue_capacity > (std::size_t{1} << 24))
    throw ConfigError("threading.queue_capacity = " + std::to_string(threading.queue_capacity) + ": expected 2..16777216");
  if (timer_interval_ms < 1 || timer_interval_ms > 60'000)
    throw ConfigError("session.timer_interval_ms = " + std::to_string(timer_interval_ms) + ": expected 1..60000");
  if (max_orders < 16 || max_orders > (std::size_t{1} << 26))
    throw ConfigError("session.max_orders = " + std::to_string(max_orders) + ": expected 16..67108864");
  if (websocket.read_buffer_size < 4096 || websocket.write_buffer_size < 4096)
    throw ConfigError("hft.websocket.read_buffer_size / write_buffer_size: expected at least 4096 bytes");
  latency.validate();
  risk.validate();
}

// ----------------------------------------------------------------------------------------------------------
// Shared state

// A session's book publishes its top only. The order side reads that top (the risk reference mid) from the
// gateway thread; nothing reads published levels (Session::books() copies the writer's levels on the
// session's own thread), and walking ten levels per side after every diff cost ~100 ns of tick-to-trade.
using SessionBook = book::BasicL2Book<0>;
using SessionSync = venue::binance::BasicBookSync<SessionBook>;

struct Instrument {
  InstrumentConfig cfg;
  Scale price_scale, qty_scale, lot_scale;
  md::Symbol symbol;
  std::unique_ptr<SessionBook> book;
  std::unique_ptr<SessionSync> sync;
  std::vector<StrategyId> strategies;  // inline mode: every strategy of the instrument
  std::int64_t last_mid_sample_ns = 0;
};

struct StrategySlot {
  std::unique_ptr<strategy::Strategy> strategy;
  InstrumentId instrument = 0;
  std::size_t worker = 0;  // pipelined: which worker runs it
  std::uint64_t next_seq = 1;
};

// Counters: one writer each (the thread that owns the thing counted), any reader.
struct Counters {
  Counter md_messages, md_errors, depth_updates, book_tickers, trades, resyncs, gaps, crossed, top_first,
      top_first_mismatch;
  Counter orders_sent, orders_acked, fills, cancels_sent, cancelled, venue_rejects, expired, risk_rejects;
  std::array<Counter, kRiskReasons> risk_by_reason;
  Counter impossible_updates, unknown_orders, api_errors, queue_drops, reconnects, open_orders, kill_switch;
  Counter orders_lost, logons;
  Counter filled_qty_raw;  // sum over instruments, qty steps (for the stats; exact figures in positions())
};

// ----------------------------------------------------------------------------------------------------------
// The order side: OMS, positions, risk, encoder and parser over the WebSocket-API connection. One thread.

class OrderSide {
 public:
  // Delivers each applied update (or a local pipelined risk rejection) to the strategy's owner.
  using Deliver = std::function<void(const OrderUpdate&)>;

  OrderSide(Session::Impl& s, net::Reactor& reactor, bool subscribe_reports);

  void connect();
  void close();

  // Places an order (risk checked); returns ok when it was written to the connection.
  RiskReason place(ClientOrderId id, const oms::OrderRequest& req, LatencyTracker::Recorder* rec) noexcept;
  bool cancel(ClientOrderId id) noexcept;
  void cancel_strategy(StrategyId s, InstrumentId instrument) noexcept;
  void cancel_everything() noexcept;
  // Shutdown (cancel_on_stop): cancels every open order and turns `reactor` until the venue confirmed
  // them all, at most 2 s.
  void cancel_open_orders_and_wait(net::Reactor& reactor) noexcept;
  void on_timer(std::int64_t now_ns) noexcept;
  void flush() noexcept { api_->flush(); }
  void request_depth(InstrumentId i) noexcept;

  net::WsClient& connection() noexcept { return *api_; }
  oms::OrderManager& oms() noexcept { return oms_; }
  const oms::OrderManager& oms() const noexcept { return oms_; }
  const oms::PositionBook& positions() const noexcept { return oms_.positions(); }
  oms::PositionBook& positions() noexcept { return oms_.positions(); }
  risk::RiskEngine& risk() noexcept { return risk_; }
  // Marks every position to its book's mid (unrealised PnL).
  void mark_positions() noexcept;
  Deliver deliver;
  // Depth responses go here (the market side's snapshot handler), with the instrument whose request they answer.
  std::function<void(InstrumentId, std::string_view json, std::int64_t recv_ns)> on_depth;
  // After the connection came back (and the reconciliation went out): the owner of the depth requests asks
  // again for what it still awaits.
  std::function<void()> on_reconnected;

 private:
  void on_message(const net::WsMessage& m) noexcept;
  void on_order_status(const oms::ApiMessage& msg, std::int64_t now) noexcept;
  void apply(OrderUpdate& u) noexcept;
  void reconcile() noexcept;
  void continue_reconcile() noexcept;
  void handle_kill() noexcept;
  // One request on the WebSocket-API connection: encode(out, cap) writes it into the send buffer and
  // returns its length (0: not written). False when nothing went out (connection down, back-pressure).
  template <class Encode>
  bool send(Encode&& encode) noexcept {
    const std::size_t cap = encoder_.max_request_size();
    std::uint8_t* p = api_->prepare(cap);
    if (HFTX_UNLIKELY(p == nullptr)) return false;
    const std::size_t n = encode(reinterpret_cast<char*>(p), cap);
    if (HFTX_UNLIKELY(n == 0)) return false;
    api_->commit(net::Opcode::kText, n);
    return true;
  }
  [[nodiscard]] std::int64_t mid2(InstrumentId i) const noexcept;

  Session::Impl& s_;
  std::unique_ptr<net::WsClient> api_;
  // Declared (and initialised) before encoder_: make_encoder() sets it while encoder_ is built, and logon_'s
  // initialiser reads it.
  bool orders_enabled_ = false;
  venue::binance::ApiEncoder encoder_;
  venue::binance::ApiParser parser_;
  oms::OrderManager oms_;
  risk::RiskEngine risk_;
  bool subscribe_reports_;
  // Send session.logon on each (re)connection: the trading connection (not the pipelined feed's depth-only
  // one), per venue.session_logon and the key.
  bool logon_;
  std::uint64_t request_n_ = 0;
  // Per instrument, the number of the depth request awaiting its answer (0: none). Answers are matched by it: an
  // answer to a request asked again meanwhile, or to one for another instrument, never loads the wrong book.
  std::vector<std::uint64_t> depth_requests_;
  bool kill_pending_ = false;
  std::vector<ClientOrderId> scratch_ids_;
  // Reconciliation after a reconnect: the open orders' ids, the next to ask about, and whether its
  // order.status already went out (its re-sent cancel did not fit).
  std::vector<ClientOrderId> reconcile_ids_;
  std::size_t reconcile_next_ = 0;
  bool reconcile_status_sent_ = false;
};

// ----------------------------------------------------------------------------------------------------------
// The market side: market stream, parser, venue sync and books. One thread.

class MarketSide {
 public:
  // What happens to an applied book or a trade (inline: strategies; pipelined: worker queues).
  struct Sink {
    virtual void on_book(InstrumentId i, const strategy::BookEvent& ev, std::uint64_t t_parse, std::uint64_t t_book) noexcept = 0;
    virtual void on_trade(InstrumentId i, const strategy::TradeEvent& ev) noexcept = 0;

   protected:
    ~Sink() = default;
  };

  MarketSide(Session::Impl& s, net::Reactor& reactor, Sink& sink, std::string thread_name);
  void connect();
  void close();
  // Every book's depth snapshots are asked for on `api` (the inline order connection, or the pipelined
  // feed's own): its requests, its answers by instrument, and asking again when it reconnects.
  void request_snapshots_through(OrderSide& api);
  void poll(std::int64_t now_ns) noexcept;
  net::WsClient& connection() noexcept { return *ws_; }
  LatencyTracker::Recorder& recorder() noexcept { return *rec_; }

 private:
  void on_snapshot(InstrumentId i, std::string_view json, std::int64_t recv_ns) noexcept;
  // The connection depth requests go out on is back: every book still awaiting a snapshot asks again.
  void request_snapshots_again(std::int64_t now_ns) noexcept;
  void on_message(const net::WsMessage& m) noexcept;
  void act_on_book(Instrument& in, InstrumentId id, const strategy::BookEvent& ev, std::uint64_t t_parse) noexcept;
  [[nodiscard]] int route(std::string_view data) const noexcept;

  Session::Impl& s_;
  Sink& sink_;
  std::unique_ptr<net::WsClient> ws_;
  std::vector<venue::binance::MdParser> parsers_;
  std::vector<std::string> stream_keys_;
  md::MdMessage msg_;
  std::vector<md::Level> levels_;
  LatencyTracker::Recorder* rec_ = nullptr;
};

// ----------------------------------------------------------------------------------------------------------

struct Session::Impl {
  explicit Impl(SessionConfig c) : cfg(std::move(c)), tracker(cfg.latency) {}

  SessionConfig cfg;
  std::vector<Instrument> instruments;
  std::vector<StrategySlot> strategies;
  LatencyTracker tracker;
  Counters counters;
  std::unique_ptr<ThreadManager> threads;
  std::vector<std::string> notes;
  // The memory the hot threads write as they go (the timeline logs, the pipelined queues): one mapping,
  // built in start() once placement knows the NUMA node, populated and mlock()ed there, on huge pages when
  // hft.performance.enable_huge_pages. On lazily mapped heap pages the logs took a page fault on the hot path
  // every few hundred samples: ~1,900 in 4 s on the inline demo's session thread.
  std::unique_ptr<Arena> arena;
  std::optional<SampleLog<TickSample>> ttt_log;
  std::optional<SampleLog<MidSample>> mid_log;
  std::optional<SampleLog<OrderSample>> order_log;
  std::optional<SampleLog<OrderSample>> fill_log;

  // A piece of `arena`; start() sized the arena for every piece, so running out is a bug in that sum.
  void* carve(std::size_t bytes, std::size_t align) {
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
  // An SPSC queue whose ring is carved from `arena`.
  template <class Q>
  Q arena_queue(std::size_t capacity) {
    const std::size_t bytes = Q::required_bytes(capacity);
    return Q(capacity, carve(bytes, Q::kBufferAlignment), bytes);
  }

  std::atomic<bool> stop_flag{false};
  std::atomic<bool> running{false};
  std::mutex run_mutex;
  std::condition_variable run_cv;
  std::int64_t start_ns = 0;
  std::atomic<std::int64_t> stop_ns{0};
  bool started = false;
  bool stopped = false;

  // The mode's machinery (one of the two).
  struct Inline;
  struct Pipelined;
  std::unique_ptr<Inline> inline_mode;
  std::unique_ptr<Pipelined> pipelined;

  net::WsClientConfig ws_config(const std::string& url) const {
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
    // A heartbeat: a connection whose peer vanished without a FIN the reactor saw is found by the failed
    // ping (or the missing pong), and the reconnect starts.
    c.ping_interval = std::chrono::milliseconds(1000);
    c.ping_timeout = std::chrono::milliseconds(3000);
    return c;
  }

  std::string market_stream_url() const {
    std::string url = cfg.venue.market_url;
    url += url.find('?') == std::string::npos ? "?streams=" : "&streams=";
    bool first = true;
    for (const auto& in : instruments) {
      const std::string sym = lower(in.cfg.symbol);
      for (const std::string& kind : {cfg.venue.depth_stream, std::string("bookTicker"), std::string("trade")}) {
        if (!first) url += '/';
        first = false;
        url += sym + "@" + kind;
      }
    }
    return url;
  }

  [[nodiscard]] std::int64_t now_ns() const noexcept { return TscClock::instance().now_ns(); }

  // Records the mid (rate-limited) for the report's price chart.
  void sample_mid(Instrument& in, InstrumentId id, const book::TopOfBook& top) noexcept {
    if (top.bid_qty == 0 || top.ask_qty == 0) return;
    const std::int64_t now = now_ns();
    if (now - in.last_mid_sample_ns < kMidSampleIntervalNs) return;
    in.last_mid_sample_ns = now;
    mid_log->push(MidSample{now, id, top.bid_price + top.ask_price});
  }

  void build();
  void start();
  void stop();
};

// ----------------------------------------------------------------------------------------------------------
// OrderSide

namespace {

std::vector<oms::ApiInstrument> api_instruments(const std::vector<Instrument>& ins) {
  std::vector<oms::ApiInstrument> out;
  for (const auto& in : ins) out.push_back(oms::ApiInstrument{in.cfg.symbol, in.price_scale, in.qty_scale});
  return out;
}

// The simulator's demo key (Ed25519, so that a demo session logs on as a production one would). Not a
// secret: it only ever signs requests to the built-in simulator.
constexpr const char* kSimulatorDemoKey =
    "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIIJEYWtGBrhACmb9Dvy+qa8WEf0lQOl1s4CLIAB9m89u\n-----END PRIVATE KEY-----\n";

// Credentials from the environment; the simulator accepts any signature, so a session against it runs
// without them (a fixed demo key). Against a real venue without credentials, orders are disabled.
std::optional<venue::binance::ApiCredentials> credentials(const SessionConfig& cfg) {
  const char* key = std::getenv(cfg.venue.api_key_env.c_str());
  const char* secret = std::getenv(cfg.venue.secret_key_env.c_str());
  if (key != nullptr && *key != '\0' && secret != nullptr && *secret != '\0')
    return venue::binance::ApiCredentials::from_env(cfg.venue.api_key_env, cfg.venue.secret_key_env);
  if (cfg.venue.name == "simulator")
    return venue::binance::ApiCredentials{"hftx-simulator", venue::binance::RequestSigner::ed25519_pem(kSimulatorDemoKey)};
  return std::nullopt;
}

// Whether the order connection logs on (venue.session_logon with the key at hand).
bool wants_logon(const SessionConfig& cfg, const venue::binance::ApiEncoder& enc, bool orders_enabled) {
  const bool ed25519 = enc.signer().type() == venue::binance::SignatureType::ed25519;
  if (cfg.venue.session_logon == SessionLogon::always && orders_enabled && !ed25519)
    throw ConfigError("venue.session_logon = always: the key in " + cfg.venue.secret_key_env +
                      " is an HMAC secret; expected an Ed25519 PEM private key (Binance accepts session.logon only "
                      "with Ed25519), or session_logon auto/never");
  return orders_enabled && ed25519 && cfg.venue.session_logon != SessionLogon::never;
}

venue::binance::ApiEncoder make_encoder(const SessionConfig& cfg, const std::vector<Instrument>& ins, bool* enabled) {
  auto creds = credentials(cfg);
  *enabled = creds.has_value();
  venue::binance::ApiEncoderConfig ec;
  ec.api_key = creds ? creds->api_key : "market-data-only";
  ec.recv_window_ms = cfg.venue.recv_window_ms;
  ec.client_id_prefix = cfg.venue.client_id_prefix;
  ec.instruments = api_instruments(ins);
  return venue::binance::ApiEncoder(std::move(ec), creds ? std::move(creds->signer) : venue::binance::RequestSigner::hmac_sha256("unused"));
}

}  // namespace

OrderSide::OrderSide(Session::Impl& s, net::Reactor& reactor, bool subscribe_reports)
    : s_(s),
      encoder_(make_encoder(s.cfg, s.instruments, &orders_enabled_)),
      parser_(api_instruments(s.instruments), s.cfg.venue.client_id_prefix, std::size_t{4} << 20),
      oms_(s.cfg.max_orders, s.instruments.size(), std::max<std::size_t>(s.strategies.size(), 1)),
      risk_(s.cfg.risk, oms_),
      subscribe_reports_(subscribe_reports),
      logon_(subscribe_reports && wants_logon(s.cfg, encoder_, orders_enabled_)) {
  for (InstrumentId i = 0; i < s.instruments.size(); ++i) {
    const Instrument& in = s.instruments[i];
    oms_.positions().set_scales(i, in.price_scale, in.qty_scale);
    try {
      risk_.add_instrument(i, in.price_scale, in.qty_scale, in.cfg.lot_step);
    } catch (const ConfigError& e) {
      throw ConfigError("instruments[" + std::to_string(i) + "]: " + e.what());
    }
  }
  // The kill switch trips inside a risk call; the cancels go out right after it (handle_kill()).
  risk_.set_kill_callback([this](risk::KillCause) { kill_pending_ = true; });
  reserve_mapped(scratch_ids_, s.cfg.max_orders);  // the kill switch and shutdown collect ids here
  reserve_mapped(reconcile_ids_, s.cfg.max_orders);
  depth_requests_.assign(s.instruments.size(), 0);
  api_ = std::make_unique<net::WsClient>(reactor, s.ws_config(s.cfg.venue.api_url));
  api_->on_message = [this](net::WsConnection&, const net::WsMessage& m) { on_message(m); };
  api_->on_open = [this](net::WsConnection&) {
    // A new connection is not logged on: requests are signed until the venue accepts the logon.
    encoder_.set_logged_on(false);
    if (!orders_enabled_) return;
    if (logon_) (void)send([&](char* out, std::size_t cap) { return encoder_.encode_logon(++request_n_, unix_ms(), out, cap); });
    if (subscribe_reports_)
      (void)send([&](char* out, std::size_t cap) { return encoder_.encode_subscribe(++request_n_, unix_ms(), out, cap); });
  };
  api_->on_reconnect = [this](net::WsClient&, unsigned) {
    encoder_.set_logged_on(false);  // before the reconciliation's requests go out on the new connection
    s_.counters.reconnects.add();
    reconcile();
    if (on_reconnected) on_reconnected();
  };
  if (!orders_enabled_) s_.notes.push_back("orders disabled: " + s.cfg.venue.api_key_env + " / " + s.cfg.venue.secret_key_env +
                                           " are not set (market data only)");
}

void OrderSide::connect() { api_->connect(); }
void OrderSide::close() { api_->close(); }

std::int64_t OrderSide::mid2(InstrumentId i) const noexcept {
  const book::TopOfBook t = s_.instruments[i].book->top();
  if (t.bid_qty == 0 || t.ask_qty == 0) return 0;
  return t.bid_price + t.ask_price;
}

RiskReason OrderSide::place(ClientOrderId id, const oms::OrderRequest& req, LatencyTracker::Recorder* rec) noexcept {
  const std::int64_t now = s_.now_ns();
  risk_.set_reference_mid2(req.instrument, mid2(req.instrument));
  const RiskReason r = orders_enabled_ ? risk_.check(req, now) : RiskReason::kill_switch;
  if (rec != nullptr) rec->stamp(Stage::risk);
  if (HFTX_UNLIKELY(r != RiskReason::ok)) {
    s_.counters.risk_rejects.add();
    s_.counters.risk_by_reason[static_cast<std::size_t>(r)].add();
    if (HFTX_UNLIKELY(kill_pending_)) handle_kill();
    return r;
  }
  oms::Order* o = oms_.create(req, id, now);
  if (HFTX_UNLIKELY(o == nullptr)) {
    s_.counters.risk_rejects.add();
    s_.counters.risk_by_reason[static_cast<std::size_t>(RiskReason::open_orders)].add();
    return RiskReason::open_orders;
  }
  if (HFTX_UNLIKELY(!send([&](char* out, std::size_t cap) { return encoder_.encode_place(id, req, unix_ms(), out, cap); }))) {
    // Not on the wire (connection down or back-pressure): the order is closed as rejected locally.
    OrderUpdate u;
    u.kind = oms::UpdateKind::rejected;
    u.client_id = id;
    u.instrument = req.instrument;
    u.side = req.side;
    u.error_code = 0;
    u.recv_ns = now;
    (void)oms_.apply(u);
    s_.counters.queue_drops.add();
    return RiskReason::rate_limit;
  }
  (void)oms_.mark_sent(id, now);
  if (rec != nullptr) rec->stamp(Stage::encode);
  s_.counters.orders_sent.add();
  s_.counters.open_orders.set(oms_.open_count());
  s_.order_log->push(OrderSample{now, req.instrument,
                                 static_cast<std::int8_t>(req.side == oms::Side::bid ? 1 : -1), req.price.raw(),
                                 req.qty.raw()});
  return RiskReason::ok;
}

bool OrderSide::cancel(ClientOrderId id) noexcept {
  oms::Order* o = oms_.find(id);
  if (o == nullptr || oms::is_closed(o->state) || o->cancel_pending()) return false;
  const InstrumentId instrument = o->instrument;
  if (!send([&](char* out, std::size_t cap) { return encoder_.encode_cancel(id, instrument, unix_ms(), out, cap); }))
    return false;
  (void)oms_.mark_cancel_sent(id, s_.now_ns());
  s_.counters.cancels_sent.add();
  return true;
}

void OrderSide::cancel_strategy(StrategyId sid, InstrumentId instrument) noexcept {
  // Collect first (into storage reserved at setup), then cancel: the walk stays independent of the table.
  scratch_ids_.clear();
  oms_.for_each_open([&](const oms::Order& o) {
    if (o.strategy == sid && o.instrument == instrument && !o.cancel_pending()) scratch_ids_.push_back(o.client_id);
  });
  for (ClientOrderId id : scratch_ids_) (void)cancel(id);
}

void OrderSide::cancel_everything() noexcept {
  for (InstrumentId i = 0; i < s_.instruments.size(); ++i)
    if (!send([&](char* out, std::size_t cap) { return encoder_.encode_cancel_all(i, ++request_n_, unix_ms(), out, cap); }))
      return;
  scratch_ids_.clear();
  oms_.for_each_open([&](const oms::Order& o) { scratch_ids_.push_back(o.client_id); });
  const std::int64_t now = s_.now_ns();
  for (ClientOrderId id : scratch_ids_) (void)oms_.mark_cancel_sent(id, now);
  api_->flush();
}

void OrderSide::cancel_open_orders_and_wait(net::Reactor& reactor) noexcept {
  if (!s_.cfg.cancel_on_stop || oms_.open_count() == 0) return;
  cancel_everything();
  poll_until(reactor, std::chrono::seconds(2), [&] { return oms_.open_count() == 0; });
}

void OrderSide::request_depth(InstrumentId i) noexcept {
  // When the connection is down nothing goes out: the reconnect asks again (on_reconnected), and so does the
  // book's snapshot timeout.
  const int limit = s_.instruments[i].cfg.snapshot_depth;
  const std::uint64_t n = ++request_n_;
  if (send([&](char* out, std::size_t cap) { return encoder_.encode_depth(i, limit, n, out, cap); })) {
    depth_requests_[i] = n;
    api_->flush();
  }
}

// After a reconnect: ask the venue for every open order's status; the answers bring the OMS up to date.
// A cancel still pending went out on the old connection and its answer is lost with it: it goes out
// again, since its strategy has already let the order go (an order cancelled meanwhile answers -2011,
// which arrives after the status that closed it and is harmless).
void OrderSide::reconcile() noexcept {
  reconcile_ids_.clear();
  reconcile_next_ = 0;
  reconcile_status_sent_ = false;
  oms_.for_each_open([&](const oms::Order& o) { reconcile_ids_.push_back(o.client_id); });
  continue_reconcile();
}

// Sends as many of the reconciliation's requests as the send buffer takes (a thousand open orders are
// more than it holds); the rest go out on later turns: as answers arrive, and on the timer.
void OrderSide::continue_reconcile() noexcept {
  bool flushed = false;
  auto room = [&] {  // once per call: write what is queued, then try again
    if (flushed || !api_->is_open()) return false;
    api_->flush();
    flushed = true;
    return true;
  };
  while (reconcile_next_ < reconcile_ids_.size()) {
    const ClientOrderId id = reconcile_ids_[reconcile_next_];
    const oms::Order* o = oms_.find(id);
    if (o == nullptr || oms::is_closed(o->state)) {
      ++reconcile_next_;
      reconcile_status_sent_ = false;
      continue;
    }
    const InstrumentId instrument = o->instrument;
    if (!reconcile_status_sent_) {
      if (!send([&](char* out, std::size_t cap) { return encoder_.encode_order_status(id, instrument, unix_ms(), out, cap); })) {
        if (room()) continue;
        break;
      }
      reconcile_status_sent_ = true;
    }
    if (o->cancel_pending() &&
        !send([&](char* out, std::size_t cap) { return encoder_.encode_cancel(id, instrument, unix_ms(), out, cap); })) {
      if (room()) continue;
      break;
    }
    ++reconcile_next_;
    reconcile_status_sent_ = false;
  }
  api_->flush();
}

void OrderSide::on_message(const net::WsMessage& m) noexcept {
  if (HFTX_UNLIKELY(reconcile_next_ < reconcile_ids_.size())) continue_reconcile();
  const std::int64_t now = s_.now_ns();
  oms::ApiMessage msg;
  auto sink = [&](const OrderUpdate& cu) noexcept {
    OrderUpdate u = cu;
    apply(u);
  };
  const oms::ApiParseResult r = parser_.parse(m.data, m.data.size() + net::kMessagePadding, now, msg, sink);
  if (HFTX_UNLIKELY(!r.ok())) {
    s_.counters.api_errors.add();
    return;
  }
  switch (msg.kind) {
    case oms::ApiKind::depth:
      if (msg.is_error()) {
        s_.counters.api_errors.add();
      } else if (on_depth) {
        // An answer no request awaits (asked again since) is dropped: the newer one is on its way.
        const auto it = std::find(depth_requests_.begin(), depth_requests_.end(), msg.request);
        if (msg.request != 0 && it != depth_requests_.end()) {
          *it = 0;
          on_depth(static_cast<InstrumentId>(it - depth_requests_.begin()), m.data, now);
        }
      }
      break;
    case oms::ApiKind::order_status: on_order_status(msg, now); break;
    case oms::ApiKind::logon:
      // Refused: counted, and requests stay signed one by one.
      if (msg.is_error()) {
        s_.counters.api_errors.add();
      } else {
        encoder_.set_logged_on(true);
        s_.counters.logons.add();
      }
      break;
    default:
      if (msg.is_error() && msg.kind != oms::ApiKind::place && msg.kind != oms::ApiKind::cancel) s_.counters.api_errors.add();
      break;
  }
}

// An order.status answer (reconciliation after a reconnect) brings the order up to the venue's view: the
// ack if it was lost, the missed fills (as one fill at their average price, from cummulativeQuoteQty),
// then the close. Each apply() may close the order, so it is looked up again after each.
void OrderSide::on_order_status(const oms::ApiMessage& msg, std::int64_t now) noexcept {
  if (msg.is_error()) {
    s_.counters.api_errors.add();
    // -2013 "Order does not exist.": the order never reached the venue; it is closed as lost. Any other
    // error leaves the order as it is (counted).
    if (msg.error_code == venue::binance::kOrderDoesNotExist && msg.request != 0) {
      OrderUpdate u;
      u.kind = oms::UpdateKind::rejected;
      u.client_id = msg.request;
      u.error_code = msg.error_code;
      u.recv_ns = now;
      apply(u);
    }
    return;
  }
  const oms::OrderStatusReport& venue = msg.order;
  auto open_order = [&]() -> const oms::Order* {
    const oms::Order* o = venue.client_id != 0 ? oms_.find(venue.client_id) : nullptr;
    return o != nullptr && !oms::is_closed(o->state) ? o : nullptr;
  };
  auto update_of = [&](const oms::Order& o, oms::UpdateKind kind) {
    OrderUpdate u;
    u.kind = kind;
    u.client_id = o.client_id;
    u.instrument = o.instrument;
    u.side = o.side();
    u.recv_ns = now;
    return u;
  };
  const oms::Order* o = open_order();
  if (o == nullptr) return;
  if ((o->flags & oms::Order::kFlagAcked) == 0) {  // the venue has it: acked before anything else happens
    OrderUpdate u = update_of(*o, oms::UpdateKind::ack);
    u.venue_order_id = venue.venue_order_id;
    apply(u);
    if ((o = open_order()) == nullptr) return;
  }
  if (const std::int64_t missed = venue.executed_qty.raw() - o->filled.raw(); missed > 0) {
    OrderUpdate u = update_of(*o, oms::UpdateKind::fill);
    const Instrument& in = s_.instruments[o->instrument];
    u.last_price = oms::missed_fill_price(venue, o->filled, o->price, Qty(missed), in.price_scale, in.qty_scale);
    u.last_qty = Qty(missed);
    u.cum_qty = venue.executed_qty;
    apply(u);
    if ((o = open_order()) == nullptr) return;
  }
  if (venue.state == oms::OrderState::cancelled || venue.state == oms::OrderState::expired ||
      venue.state == oms::OrderState::rejected) {
    OrderUpdate u = update_of(*o, venue.state == oms::OrderState::cancelled ? oms::UpdateKind::cancelled
                                  : venue.state == oms::OrderState::expired ? oms::UpdateKind::expired
                                                                            : oms::UpdateKind::rejected);
    u.cum_qty = venue.executed_qty;
    apply(u);
  }
}

void OrderSide::apply(OrderUpdate& u) noexcept {
  if (u.client_id == 0) {
    s_.counters.unknown_orders.add();
    return;
  }
  if (!oms_.apply(u)) {
    // Duplicates (the ack of the response and of the executionReport, ...) are harmless and not counted
    // here; impossible transitions are.
    const oms::Anomaly a = oms_.last_anomaly();
    if (a == oms::Anomaly::unknown_order)
      s_.counters.unknown_orders.add();
    else if (oms::is_impossible(a))
      s_.counters.impossible_updates.add();
    return;
  }
  switch (u.kind) {
    case oms::UpdateKind::ack: s_.counters.orders_acked.add(); break;
    case oms::UpdateKind::fill:
      s_.counters.fills.add();
      s_.counters.filled_qty_raw.add(static_cast<std::uint64_t>(u.last_qty.raw()));
      s_.fill_log->push(OrderSample{s_.now_ns(), u.instrument,
                                    static_cast<std::int8_t>(u.side == oms::Side::bid ? 1 : -1), u.last_price.raw(),
                                    u.last_qty.raw()});
      break;
    case oms::UpdateKind::cancelled: s_.counters.cancelled.add(); break;
    case oms::UpdateKind::rejected:
      // An order the venue never received (reconciliation) is lost, not refused: it says nothing about
      // what the strategy sends, so the reject-rate kill switch does not see it.
      if (u.error_code == venue::binance::kOrderDoesNotExist) {
        s_.counters.orders_lost.add();
      } else {
        s_.counters.venue_rejects.add();
        (void)risk_.on_venue_reject(s_.now_ns());
      }
      break;
    case oms::UpdateKind::expired: s_.counters.expired.add(); break;
    case oms::UpdateKind::cancel_rejected: break;
  }
  s_.counters.open_orders.set(oms_.open_count());
  if (deliver) deliver(u);
  if (HFTX_UNLIKELY(kill_pending_)) handle_kill();
}

void OrderSide::mark_positions() noexcept {
  for (InstrumentId i = 0; i < s_.instruments.size(); ++i) oms_.positions().set_mark2(i, mid2(i));
}

void OrderSide::handle_kill() noexcept {
  kill_pending_ = false;
  s_.counters.kill_switch.set(1);
  cancel_everything();
}

void OrderSide::on_timer(std::int64_t) noexcept {
  if (HFTX_UNLIKELY(reconcile_next_ < reconcile_ids_.size())) continue_reconcile();
  // Mark to the mid and feed the loss limit.
  mark_positions();
  (void)risk_.on_pnl(oms_.positions().total_pnl());
  if (HFTX_UNLIKELY(kill_pending_)) handle_kill();
}

}  // namespace hftx::session

namespace hftx::session {

// ----------------------------------------------------------------------------------------------------------
// MarketSide

MarketSide::MarketSide(Session::Impl& s, net::Reactor& reactor, Sink& sink, std::string thread_name)
    : s_(s), sink_(sink), levels_(kMaxLevelsPerMessage) {
  // One parser per instrument (each has its own tick and step); a message is routed by the symbol at the
  // head of its combined-stream envelope before it is parsed.
  for (const auto& in : s.instruments) {
    parsers_.emplace_back(in.price_scale, in.qty_scale, std::size_t{1} << 20);
    stream_keys_.push_back(lower(in.cfg.symbol) + "@");
  }
  rec_ = &s.tracker.register_thread(std::move(thread_name));
  ws_ = std::make_unique<net::WsClient>(reactor, s.ws_config(s.market_stream_url()));
  ws_->on_message = [this](net::WsConnection&, const net::WsMessage& m) { on_message(m); };
  ws_->on_reconnect = [this](net::WsClient&, unsigned) {
    s_.counters.reconnects.add();
    const std::int64_t now = s_.now_ns();
    for (auto& in : s_.instruments) {
      in.sync->reset(now);
      in.sync->start(now);
    }
  };
}

// `{"stream":"btcusdt@depth@100ms","data":...}`: Binance (and the simulator) write "stream" first.
int MarketSide::route(std::string_view data) const noexcept {
  constexpr std::string_view kHead = R"({"stream":")";
  if (parsers_.size() == 1) return 0;
  if (data.substr(0, kHead.size()) != kHead) return -1;
  const std::string_view rest = data.substr(kHead.size());
  for (std::size_t i = 0; i < stream_keys_.size(); ++i)
    if (rest.substr(0, stream_keys_[i].size()) == stream_keys_[i]) return static_cast<int>(i);
  return -1;
}

void MarketSide::connect() {
  ws_->connect();
  const std::int64_t now = s_.now_ns();
  for (auto& in : s_.instruments) in.sync->start(now);
}

void MarketSide::close() { ws_->close(); }

void MarketSide::poll(std::int64_t now_ns) noexcept {
  for (auto& in : s_.instruments) in.sync->poll(now_ns);
}

void MarketSide::request_snapshots_through(OrderSide& api) {
  api.on_depth = [this](InstrumentId i, std::string_view json, std::int64_t ns) { on_snapshot(i, json, ns); };
  api.on_reconnected = [this] { request_snapshots_again(s_.now_ns()); };
  for (InstrumentId i = 0; i < s_.instruments.size(); ++i)
    s_.instruments[i].sync->on_snapshot_request([&api, i](std::int64_t) { api.request_depth(i); });
}

void MarketSide::request_snapshots_again(std::int64_t now_ns) noexcept {
  for (auto& in : s_.instruments) in.sync->request_again(now_ns);
}

void MarketSide::on_snapshot(InstrumentId i, std::string_view json, std::int64_t recv_ns) noexcept {
  const md::ParseResult r = parsers_[i].parse(json, json.size() + net::kMessagePadding, recv_ns, msg_, levels_);
  if (!r.ok() || msg_.kind != md::MdKind::depth_snapshot) {
    s_.counters.md_errors.add();
    return;
  }
  s_.instruments[i].sync->on_snapshot(msg_);  // ignored (and counted) unless a snapshot is awaited
}

// The strategies' turn on a book event (the top from the applied book, or predicted from the diff).
HFTX_FORCE_INLINE void MarketSide::act_on_book(Instrument& in, InstrumentId id, const strategy::BookEvent& ev,
                                               std::uint64_t t_parse) noexcept {
  const std::uint64_t t_book = TscClock::ticks();
  rec_->stamp(Stage::book, t_book);
  s_.sample_mid(in, id, ev.top);
  sink_.on_book(id, ev, t_parse, t_book);
}

void MarketSide::on_message(const net::WsMessage& m) noexcept {
  const std::uint64_t t_read = ws_->read_ticks();
  LatencyTracker::Recorder& rec = *rec_;
  rec.begin(t_read);
  rec.stamp(Stage::receive);
  const std::int64_t recv_ns = s_.now_ns();
  s_.counters.md_messages.add();
  const int idx = route(m.data);
  if (HFTX_UNLIKELY(idx < 0)) {
    s_.counters.md_errors.add();
    return;
  }
  const auto id = static_cast<InstrumentId>(idx);
  Instrument& in = s_.instruments[id];
  venue::binance::MdParser& parser = parsers_[id];
  const std::size_t capacity = m.data.size() + net::kMessagePadding;
  const md::ParseResult r = s_.cfg.top_first && venue::binance::diff_bid_order(in.sync->market()) != venue::binance::BidOrder::unknown
                                ? parser.parse_deferred(m.data, capacity, recv_ns, msg_, levels_)
                                : parser.parse(m.data, capacity, recv_ns, msg_, levels_);
  if (HFTX_UNLIKELY(!r.ok() || !(msg_.symbol == in.symbol))) {
    s_.counters.md_errors.add();
    return;
  }
  const std::uint64_t t_parse = TscClock::ticks();
  rec.stamp(Stage::parse, t_parse);
  switch (msg_.kind) {
    case md::MdKind::depth_update: {
      s_.counters.depth_updates.add();
      strategy::BookEvent ev;
      ev.instrument = id;
      ev.top.recv_ns = recv_ns;
      ev.begin_ticks = t_read;
      // Top first: when the diff continues the synced book and its first levels settle the top, the
      // strategies act on it before the rest of the diff is read and applied (tick-to-trade then no longer
      // grows with the diff's size: the recorded p99 diff carries ~390 levels).
      bool acted = false;
      if (parser.deferred()) {
        if (in.sync->predict_top(parser, msg_.depth, ev.top)) {
          ev.top.update_id = msg_.depth.last_id;
          ev.top.flags = book::kTopSynced;
          in.book->publish_top(ev.top);  // the order side's risk reference mid is read from it
          s_.counters.top_first.add();
          act_on_book(in, id, ev, t_parse);
          acted = true;
        }
        if (HFTX_UNLIKELY(!parser.read_deferred(msg_).ok())) {  // acted on or not, the book misses it and resyncs
          s_.counters.md_errors.add();
          return;
        }
      }
      const std::uint64_t gaps_before = in.sync->stats().gaps;
      const std::uint64_t crossed_before = in.sync->stats().crossed;
      const book::DiffOutcome out = in.sync->on_diff(msg_);
      if (in.sync->stats().gaps != gaps_before) {
        s_.counters.gaps.add();
        s_.counters.resyncs.add();
      }
      if (in.sync->stats().crossed != crossed_before) s_.counters.crossed.add();
      if (out != book::DiffOutcome::applied) return;
      const md::Level bb = in.book->best_bid();
      const md::Level ba = in.book->best_ask();
      if (acted) {
        if (HFTX_LIKELY(bb.price.raw() == ev.top.bid_price && bb.qty.raw() == ev.top.bid_qty &&
                        ba.price.raw() == ev.top.ask_price && ba.qty.raw() == ev.top.ask_qty))
          return;
        // Among the levels the prediction did not read, some were out of Binance's order (a price twice,
        // or out of sequence; never in the recordings): the strategies get the applied top too.
        s_.counters.top_first_mismatch.add();
      }
      ev.top.bid_price = bb.price.raw();
      ev.top.bid_qty = bb.qty.raw();
      ev.top.ask_price = ba.price.raw();
      ev.top.ask_qty = ba.qty.raw();
      ev.top.update_id = in.book->update_id();
      ev.top.flags = book::kTopSynced | (in.book->is_crossed() ? book::kTopCrossed : 0u);
      act_on_book(in, id, ev, t_parse);
      break;
    }
    case md::MdKind::book_ticker: s_.counters.book_tickers.add(); break;
    case md::MdKind::trade: {
      s_.counters.trades.add();
      strategy::TradeEvent ev;
      ev.instrument = id;
      ev.price = msg_.trade.price;
      ev.qty = msg_.trade.qty;
      ev.buyer_is_maker = msg_.trade.buyer_is_maker;
      ev.trade_id = msg_.trade.id;
      ev.recv_ns = recv_ns;
      sink_.on_trade(id, ev);
      break;
    }
    default: break;
  }
}

// ----------------------------------------------------------------------------------------------------------
// Inline mode: one thread, one reactor, run to completion.

struct Session::Impl::Inline final : MarketSide::Sink, strategy::StrategyContext {
  explicit Inline(Impl& s)
      : s_(s), orders(s, reactor, true), market(s, reactor, *this, "hftx-session"), timer(reactor, [this] { on_timer(); }) {
    rec_ = &market.recorder();
    market.request_snapshots_through(orders);
    orders.deliver = [this](const OrderUpdate& u) {
      if (u.strategy >= s_.strategies.size()) return;
      current_ = u.strategy;
      s_.strategies[u.strategy].strategy->on_order_update(*this, u);
    };
  }

  // ---- StrategyContext (current_ names the strategy being called) ----
  ClientOrderId place(const oms::OrderRequest& request) noexcept override {
    if (HFTX_UNLIKELY(stopping_)) {
      last_reject_ = static_cast<std::uint8_t>(RiskReason::kill_switch);
      return 0;
    }
    StrategySlot& slot = s_.strategies[current_];
    oms::OrderRequest req = request;
    req.strategy = current_;
    req.instrument = slot.instrument;
    const ClientOrderId id = make_client_id(current_, slot.next_seq++);
    LatencyTracker::Recorder* rec = nullptr;
    if (in_event_ && !stamped_) {
      rec = rec_;
      rec->stamp(Stage::strategy);
    }
    const RiskReason r = orders.place(id, req, rec);
    last_reject_ = static_cast<std::uint8_t>(r);
    if (r != RiskReason::ok) return 0;
    if (rec != nullptr) stamped_ = true;
    sent_ = true;
    return id;
  }
  bool cancel(ClientOrderId id) noexcept override {
    const oms::Order* o = orders.oms().find(id);
    if (o == nullptr || o->strategy != current_) return false;
    const bool ok = orders.cancel(id);
    sent_ |= ok;
    return ok;
  }
  void cancel_all(InstrumentId instrument) noexcept override {
    orders.cancel_strategy(current_, instrument);
    sent_ = true;
  }
  [[nodiscard]] std::uint8_t last_reject() const noexcept override { return last_reject_; }
  [[nodiscard]] std::int64_t now_ns() const noexcept override { return s_.now_ns(); }
  [[nodiscard]] const Scale& price_scale(InstrumentId i) const noexcept override { return s_.instruments[i].price_scale; }
  [[nodiscard]] const Scale& qty_scale(InstrumentId i) const noexcept override { return s_.instruments[i].qty_scale; }

  // ---- MarketSide::Sink ----
  void on_book(InstrumentId i, const strategy::BookEvent& ev, std::uint64_t, std::uint64_t) noexcept override {
    if (HFTX_UNLIKELY(stopping_)) return;
    in_event_ = true;
    stamped_ = false;
    sent_ = false;
    for (StrategyId sid : s_.instruments[i].strategies) {
      current_ = sid;
      s_.strategies[sid].strategy->on_book(*this, ev);
    }
    in_event_ = false;
    if (sent_) {
      orders.flush();  // tick-to-trade ends when send() returns, not at the end of the reactor turn
      if (stamped_) {
        const std::uint64_t t_send = TscClock::ticks();
        rec_->stamp(Stage::send, t_send);
        rec_->end();
        s_.ttt_log->push(TickSample{
            s_.now_ns(), TscClock::instance().ticks_to_ns(static_cast<std::int64_t>(t_send - ev.begin_ticks))});
      }
    }
  }
  void on_trade(InstrumentId i, const strategy::TradeEvent& ev) noexcept override {
    if (HFTX_UNLIKELY(stopping_)) return;
    for (StrategyId sid : s_.instruments[i].strategies) {
      current_ = sid;
      s_.strategies[sid].strategy->on_trade(*this, ev);
    }
  }

  void on_timer() noexcept {
    const std::int64_t now = s_.now_ns();
    market.poll(now);
    orders.on_timer(now);
    for (StrategyId sid = 0; sid < s_.strategies.size(); ++sid) {
      current_ = sid;
      s_.strategies[sid].strategy->on_timer(*this, now);
    }
  }

  void run_thread(std::stop_token st) {
    const bool busy = s_.cfg.threading.busy_poll;
    while (!st.stop_requested() && !s_.stop_flag.load(std::memory_order_relaxed)) reactor.poll(busy ? 0 : 50);
    shutdown();
  }

  // On the session thread: strategies stop, open orders are cancelled and confirmed (bounded), close.
  void shutdown() noexcept {
    market.close();  // no new market events: strategies are done once on_stop returns
    for (StrategyId sid = 0; sid < s_.strategies.size(); ++sid) {
      current_ = sid;
      try {
        s_.strategies[sid].strategy->on_stop(*this);
      } catch (...) {
      }
    }
    stopping_ = true;
    orders.cancel_open_orders_and_wait(reactor);
    orders.close();
    poll_until(reactor, std::chrono::milliseconds(500),
               [&] { return closed(market.connection()) && closed(orders.connection()); });
  }

  Impl& s_;
  net::Reactor reactor;
  OrderSide orders;
  MarketSide market;
  net::Timer timer;
  LatencyTracker::Recorder* rec_ = nullptr;
  StrategyId current_ = 0;
  std::uint8_t last_reject_ = 0;
  bool in_event_ = false;
  bool stopping_ = false;
  bool stamped_ = false;
  bool sent_ = false;
};

}  // namespace hftx::session

namespace hftx::session {

// ----------------------------------------------------------------------------------------------------------
// Pipelined mode: feed thread → SPSC → N workers → MPMC → gateway thread (→ SPSC updates → workers).

namespace {

struct MdItem {
  enum Kind : std::uint8_t { book, trade } kind = book;
  InstrumentId instrument = 0;
  strategy::BookEvent book_ev;
  strategy::TradeEvent trade_ev;
  std::uint64_t t_parse = 0, t_book = 0;
};

struct Action {
  enum Kind : std::uint8_t { place, cancel, cancel_all } kind = place;
  ClientOrderId id = 0;
  oms::OrderRequest req;
  std::uint64_t t_begin = 0, t_parse = 0, t_book = 0, t_strategy = 0;  // 0: not tracked
};

// Idle waits of a thread that is not busy-polling: spin a little, then sleep with growing pauses. The
// bound keeps the wake-up latency of a quiet queue under ~100 µs without a futex on every push.
class Idler {
 public:
  explicit Idler(bool busy) : busy_(busy) {}
  void reset() noexcept { n_ = 0; }
  void idle() noexcept {
    if (busy_ || ++n_ < 256) {
      cpu_relax();
      return;
    }
    const long ns = n_ < 512 ? 5'000 : n_ < 1024 ? 20'000 : 100'000;
    timespec ts{0, ns};
    (void)::nanosleep(&ts, nullptr);
  }

 private:
  bool busy_;
  std::uint32_t n_ = 0;
};

}  // namespace

struct Session::Impl::Pipelined final : MarketSide::Sink {
  struct Worker final : strategy::StrategyContext {
    // Bytes of arena one worker's queues take (Impl::arena_queue).
    static std::size_t arena_bytes(std::size_t capacity) {
      return SpscQueue<MdItem>::required_bytes(capacity) + SpscQueue<MdItem>::kBufferAlignment +
             SpscQueue<OrderUpdate>::required_bytes(capacity) + SpscQueue<OrderUpdate>::kBufferAlignment;
    }

    Worker(Pipelined& p, std::size_t index, std::size_t capacity)
        : p_(p),
          index_(index),
          md(p.s_.arena_queue<SpscQueue<MdItem>>(capacity)),
          updates(p.s_.arena_queue<SpscQueue<OrderUpdate>>(capacity)) {
      reserve_mapped(held, capacity);
    }

    ClientOrderId place(const oms::OrderRequest& request) noexcept override {
      StrategySlot& slot = p_.s_.strategies[current_];
      Action a;
      a.kind = Action::place;
      a.req = request;
      a.req.strategy = current_;
      a.req.instrument = slot.instrument;
      a.id = make_client_id(current_, slot.next_seq++);
      if (event_ != nullptr && !tracked_) {
        a.t_begin = event_->book_ev.begin_ticks;
        a.t_parse = event_->t_parse;
        a.t_book = event_->t_book;
        a.t_strategy = TscClock::ticks();
        tracked_ = true;
      }
      if (!p_.push(a)) {
        last_reject_ = static_cast<std::uint8_t>(RiskReason::rate_limit);
        return 0;
      }
      last_reject_ = 0;
      return a.id;
    }
    bool cancel(ClientOrderId id) noexcept override {
      Action a;
      a.kind = Action::cancel;
      a.id = id;
      a.req.strategy = current_;
      return p_.push(a);
    }
    void cancel_all(InstrumentId instrument) noexcept override {
      Action a;
      a.kind = Action::cancel_all;
      a.req.strategy = current_;
      a.req.instrument = instrument;
      (void)p_.push(a);
    }
    [[nodiscard]] std::uint8_t last_reject() const noexcept override { return last_reject_; }
    [[nodiscard]] std::int64_t now_ns() const noexcept override { return p_.s_.now_ns(); }
    [[nodiscard]] const Scale& price_scale(InstrumentId i) const noexcept override { return p_.s_.instruments[i].price_scale; }
    [[nodiscard]] const Scale& qty_scale(InstrumentId i) const noexcept override { return p_.s_.instruments[i].qty_scale; }

    void run(std::stop_token st) {
      Impl& s = p_.s_;
      Idler idler(s.cfg.threading.busy_poll);
      std::int64_t next_timer = s.now_ns();
      const std::int64_t interval = s.cfg.timer_interval_ms * 1'000'000;
      for (;;) {
        bool work = false;
        while (MdItem* it = md.front()) {
          work = true;
          event_ = it;
          tracked_ = false;
          for (StrategyId sid : by_instrument[it->instrument]) {
            current_ = sid;
            if (it->kind == MdItem::book)
              s.strategies[sid].strategy->on_book(*this, it->book_ev);
            else
              s.strategies[sid].strategy->on_trade(*this, it->trade_ev);
          }
          event_ = nullptr;
          md.pop();
        }
        while (OrderUpdate* u = updates.front()) {
          work = true;
          current_ = u->strategy;
          s.strategies[u->strategy].strategy->on_order_update(*this, *u);
          updates.pop();
        }
        const std::int64_t now = s.now_ns();
        if (now >= next_timer) {
          next_timer = now + interval;
          for (StrategyId sid : mine) {
            current_ = sid;
            s.strategies[sid].strategy->on_timer(*this, now);
          }
        }
        if (work) {
          idler.reset();
          continue;
        }
        if (st.stop_requested() || p_.workers_stop.load(std::memory_order_acquire)) break;
        idler.idle();
      }
      for (StrategyId sid : mine) {
        current_ = sid;
        try {
          s.strategies[sid].strategy->on_stop(*this);
        } catch (...) {
        }
      }
    }

    Pipelined& p_;
    std::size_t index_;
    SpscQueue<MdItem> md;
    SpscQueue<OrderUpdate> updates;
    // Gateway thread only: updates the full `updates` queue could not take yet, oldest first from held_head.
    std::vector<OrderUpdate> held;
    std::size_t held_head = 0;
    std::vector<StrategyId> mine;
    std::vector<std::vector<StrategyId>> by_instrument;
    StrategyId current_ = 0;
    const MdItem* event_ = nullptr;
    bool tracked_ = false;
    std::uint8_t last_reject_ = 0;
  };

  explicit Pipelined(Impl& s)
      : s_(s),
        depth(s, feed_reactor, false),
        market(s, feed_reactor, *this, "hftx-feed"),
        orders(s, gateway_reactor, true),
        actions(s.cfg.threading.queue_capacity),
        feed_timer(feed_reactor, [this] { market.poll(s_.now_ns()); }),
        gateway_timer(gateway_reactor, [this] { orders.on_timer(s_.now_ns()); }) {
    market.request_snapshots_through(depth);
    gateway_rec = &s.tracker.register_thread("hftx-gateway");
    const std::size_t n = s.cfg.threading.workers;
    for (std::size_t w = 0; w < n; ++w) {
      workers.push_back(std::make_unique<Worker>(*this, w, s.cfg.threading.queue_capacity));
      workers.back()->by_instrument.resize(s.instruments.size());
    }
    for (StrategyId sid = 0; sid < s.strategies.size(); ++sid) {
      Worker& w = *workers[s.strategies[sid].worker];
      w.mine.push_back(sid);
      w.by_instrument[s.strategies[sid].instrument].push_back(sid);
    }
    orders.deliver = [this](const OrderUpdate& u) { route_update(u); };
  }

  // Worker → gateway. Wakes the gateway's reactor when it may be asleep.
  bool push(const Action& a) noexcept {
    if (!actions.try_push(a)) {
      s_.counters.queue_drops.add();
      return false;
    }
    if (gateway_idle.load(std::memory_order_seq_cst)) gateway_reactor.wake();
    return true;
  }

  // Gateway thread. An order update is never dropped: a strategy that missed its order's close would wait
  // for it forever (a probe at max_open, a market maker retrying the cancel of a closed quote). What the
  // worker's full queue cannot take now waits, in order, for the gateway's next turn (release_held()).
  void route_update(const OrderUpdate& u) noexcept {
    if (u.strategy >= s_.strategies.size()) return;
    Worker& w = *workers[s_.strategies[u.strategy].worker];
    if (w.held_head == w.held.size() && w.updates.try_push(u)) return;
    w.held.push_back(u);  // reserved at setup (queue_capacity); grows only for a worker further behind
  }
  // Gateway thread: moves held updates into the workers' queues as they make room. True while any wait.
  bool release_held() noexcept {
    bool waiting = false;
    for (auto& wp : workers) {
      Worker& w = *wp;
      while (w.held_head < w.held.size() && w.updates.try_push(w.held[w.held_head])) ++w.held_head;
      if (w.held_head == w.held.size()) {
        w.held.clear();
        w.held_head = 0;
      } else {
        waiting = true;
      }
    }
    return waiting;
  }

  // ---- MarketSide::Sink (feed thread) ----
  void on_book(InstrumentId i, const strategy::BookEvent& ev, std::uint64_t t_parse, std::uint64_t t_book) noexcept override {
    MdItem it;
    it.kind = MdItem::book;
    it.instrument = i;
    it.book_ev = ev;
    it.t_parse = t_parse;
    it.t_book = t_book;
    fan_out(it);
  }
  void on_trade(InstrumentId i, const strategy::TradeEvent& ev) noexcept override {
    MdItem it;
    it.kind = MdItem::trade;
    it.instrument = i;
    it.trade_ev = ev;
    fan_out(it);
  }
  void fan_out(const MdItem& it) noexcept {
    for (auto& w : workers)
      if (!w->by_instrument[it.instrument].empty() && !w->md.try_push(it)) s_.counters.queue_drops.add();
  }

  void run_feed(std::stop_token st) {
    const bool busy = s_.cfg.threading.busy_poll;
    while (!st.stop_requested() && !feed_stop.load(std::memory_order_acquire)) feed_reactor.poll(busy ? 0 : 20);
    market.close();
    depth.close();
    poll_until(feed_reactor, std::chrono::milliseconds(500),
               [&] { return closed(market.connection()) && closed(depth.connection()); });
  }

  void run_gateway(std::stop_token st) {
    const bool busy = s_.cfg.threading.busy_poll;
    while (!st.stop_requested() && !gateway_stop.load(std::memory_order_acquire)) {
      const bool holding = release_held();
      if (drain() == 0) {
        gateway_idle.store(true, std::memory_order_seq_cst);
        if (actions.empty()) gateway_reactor.poll(busy || holding ? 0 : 20);
        gateway_idle.store(false, std::memory_order_relaxed);
      }
      gateway_reactor.poll(0);
    }
    // Shutdown: what the workers queued last, then cancel what is open and wait (bounded) for the venue.
    (void)drain();
    orders.cancel_open_orders_and_wait(gateway_reactor);
    orders.close();
    poll_until(gateway_reactor, std::chrono::milliseconds(500), [&] { return closed(orders.connection()); });
    gateway_done.store(true, std::memory_order_release);
  }

  // Gateway thread: every queued action. The first placed order of a batch carries the tick-to-trade
  // stamps (the batch is flushed with one send).
  std::size_t drain() noexcept {
    std::size_t n = 0;
    bool tracked = false;
    bool sent = false;
    std::uint64_t t_begin = 0;
    Action a;
    while (n < 4096 && actions.try_pop(a)) {
      ++n;
      switch (a.kind) {
        case Action::place: {
          LatencyTracker::Recorder* rec = nullptr;
          if (a.t_begin != 0 && !tracked) {
            rec = gateway_rec;
            rec->begin(a.t_begin);
            rec->stamp(Stage::parse, a.t_parse);
            rec->stamp(Stage::book, a.t_book);
            rec->stamp(Stage::strategy, a.t_strategy);
          }
          const RiskReason r = orders.place(a.id, a.req, rec);
          if (r == RiskReason::ok) {
            sent = true;
            if (rec != nullptr) {
              tracked = true;
              t_begin = a.t_begin;
            }
          } else {
            OrderUpdate u;
            u.kind = oms::UpdateKind::rejected;
            u.client_id = a.id;
            u.instrument = a.req.instrument;
            u.side = a.req.side;
            u.strategy = a.req.strategy;
            u.state = oms::OrderState::rejected;
            u.qty = a.req.qty;
            u.price = a.req.price;
            u.error_code = -static_cast<std::int32_t>(r);
            u.recv_ns = s_.now_ns();
            route_update(u);
          }
          break;
        }
        case Action::cancel: {
          const oms::Order* o = orders.oms().find(a.id);
          if (o != nullptr && o->strategy == a.req.strategy) sent |= orders.cancel(a.id);
          break;
        }
        case Action::cancel_all:
          orders.cancel_strategy(a.req.strategy, a.req.instrument);
          sent = true;
          break;
      }
    }
    if (sent) {
      orders.flush();
      if (tracked) {
        const std::uint64_t t_send = TscClock::ticks();
        gateway_rec->stamp(Stage::send, t_send);
        gateway_rec->end();
        s_.ttt_log->push(TickSample{
            s_.now_ns(), TscClock::instance().ticks_to_ns(static_cast<std::int64_t>(t_send - t_begin))});
      }
    }
    return n;
  }

  Impl& s_;
  net::Reactor feed_reactor;
  net::Reactor gateway_reactor;
  OrderSide depth;   // feed thread: WebSocket-API connection for depth snapshots only
  MarketSide market;
  OrderSide orders;  // gateway thread
  MpmcQueue<Action> actions;
  net::Timer feed_timer;
  net::Timer gateway_timer;
  std::vector<std::unique_ptr<Worker>> workers;
  LatencyTracker::Recorder* gateway_rec = nullptr;
  std::atomic<bool> gateway_idle{false};
  std::atomic<bool> feed_stop{false};
  std::atomic<bool> workers_stop{false};
  std::atomic<bool> gateway_stop{false};
  std::atomic<std::size_t> workers_done{0};
  std::atomic<bool> gateway_done{false};
};

}  // namespace hftx::session

namespace hftx::session {

// ----------------------------------------------------------------------------------------------------------
// Session::Impl: build, start, stop

namespace {

// Runs `fn` on the thread that owns `reactor` and waits for its result; directly when that thread is not
// running (before start, after stop).
template <class F>
auto on_owner(net::Reactor& reactor, bool running, F&& fn) -> decltype(fn()) {
  using R = decltype(fn());
  if (!running) return fn();
  auto task = std::make_shared<std::packaged_task<R()>>(std::forward<F>(fn));
  std::future<R> fut = task->get_future();
  reactor.post([task] { (*task)(); });
  if (fut.wait_for(kQueryTimeout) != std::future_status::ready)
    throw Error("session query: the session thread did not answer within 5 s");
  return fut.get();
}

}  // namespace

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
    in.sync = std::make_unique<SessionSync>(*in.book, cfg.venue.market);
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
    for (std::size_t w = 0; w < n_workers; ++w) roles.push_back(ThreadRole{"hftx-worker" + std::to_string(w), busy, false, rt, 40});
  }
  Placement placement = threads->optimize_for_hft(cfg.performance, roles);
  for (auto& n : placement.notes) notes.push_back(n);

  ArenaOptions ao;
  ao.bytes = kTimelineCapacity * (sizeof(TickSample) + sizeof(MidSample) + 2 * sizeof(OrderSample)) +
             4 * alignof(std::max_align_t);  // each log's alignment
  if (pipe) ao.bytes += n_workers * Pipelined::Worker::arena_bytes(cfg.threading.queue_capacity);
  ao.pages = placement.huge_pages ? PageRequest::kAuto : PageRequest::kNormal;
  ao.populate = true;
  ao.lock = true;  // a refusal (RLIMIT_MEMLOCK) is reported in system_report().memory, not fatal
  ao.numa_node = placement.numa_node;
  arena = std::make_unique<Arena>(ao);
  for (const std::string& n : arena->report().notes) notes.push_back("session arena: " + n);
  ttt_log.emplace(carve_array<TickSample>(kTimelineCapacity));
  mid_log.emplace(carve_array<MidSample>(kTimelineCapacity));
  order_log.emplace(carve_array<OrderSample>(kTimelineCapacity));
  fill_log.emplace(carve_array<OrderSample>(kTimelineCapacity));
  const auto interval = std::chrono::milliseconds(cfg.timer_interval_ms);

  if (!pipe) {
    inline_mode = std::make_unique<Inline>(*this);
    Inline& m = *inline_mode;
    m.orders.connect();  // first: the snapshot requests go out on it
    m.market.connect();
    for (StrategyId sid = 0; sid < strategies.size(); ++sid) {
      m.current_ = sid;
      strategies[sid].strategy->on_start(m);
    }
    m.timer.arm(interval, interval);
    start_ns = now_ns();
    running.store(true, std::memory_order_release);
    threads->start(placement.threads[0], [this](std::stop_token st) {
      inline_mode->run_thread(st);
      running.store(false, std::memory_order_release);
    });
    return;
  }

  pipelined = std::make_unique<Pipelined>(*this);
  Pipelined& p = *pipelined;
  p.orders.connect();
  p.depth.connect();
  p.market.connect();
  for (auto& w : p.workers)
    for (StrategyId sid : w->mine) {
      w->current_ = sid;
      strategies[sid].strategy->on_start(*w);
    }
  p.feed_timer.arm(interval, interval);
  p.gateway_timer.arm(interval, interval);
  start_ns = now_ns();
  running.store(true, std::memory_order_release);
  threads->start(placement.threads[0], [this](std::stop_token st) { pipelined->run_gateway(st); });
  for (std::size_t w = 0; w < n_workers; ++w)
    threads->start(placement.threads[2 + w], [this, w](std::stop_token st) {
      pipelined->workers[w]->run(st);
      pipelined->workers_done.fetch_add(1, std::memory_order_acq_rel);
    });
  threads->start(placement.threads[1], [this](std::stop_token st) { pipelined->run_feed(st); });
}

void Session::Impl::stop() {
  if (!started || stopped) return;
  stopped = true;
  stop_flag.store(true, std::memory_order_release);
  if (pipelined) {
    Pipelined& p = *pipelined;
    // Workers first (their on_stop may still queue cancels), then the gateway (drains, cancels what is
    // open, waits for the venue), then the feed.
    p.workers_stop.store(true, std::memory_order_release);
    while (p.workers_done.load(std::memory_order_acquire) < p.workers.size())
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    p.gateway_stop.store(true, std::memory_order_release);
    p.gateway_reactor.wake();
    while (!p.gateway_done.load(std::memory_order_acquire)) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    p.feed_stop.store(true, std::memory_order_release);
    p.feed_reactor.wake();
  } else if (inline_mode) {
    inline_mode->reactor.wake();
  }
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

void Session::request_stop() noexcept { impl_->stop_flag.store(true, std::memory_order_release); }
bool Session::stop_requested() const noexcept { return impl_->stop_flag.load(std::memory_order_acquire); }
bool Session::running() const noexcept { return impl_->running.load(std::memory_order_acquire); }
void Session::stop() { impl_->stop(); }
const LatencyTracker& Session::tracker() const noexcept { return impl_->tracker; }
const SessionConfig& Session::config() const noexcept { return impl_->cfg; }

// The order side's owner: the inline thread or the gateway thread.
template <class F>
static auto with_orders(Session::Impl& s, F&& fn) {
  if (s.inline_mode) return on_owner(s.inline_mode->reactor, s.running.load(std::memory_order_acquire), [&] { return fn(s.inline_mode->orders); });
  return on_owner(s.pipelined->gateway_reactor, s.running.load(std::memory_order_acquire), [&] { return fn(s.pipelined->orders); });
}

std::vector<OrderInfo> Session::orders() const {
  Impl& s = *impl_;
  if (!s.inline_mode && !s.pipelined) return {};
  return with_orders(s, [&](OrderSide& os) {
    std::vector<OrderInfo> out;
    auto add = [&](const oms::Order& o) {
      const Instrument& in = s.instruments[o.instrument];
      OrderInfo i;
      i.id = o.client_id;
      i.strategy = o.strategy;
      i.symbol = in.cfg.symbol;
      i.side = o.side();
      i.type = o.type();
      i.tif = o.tif();
      i.price = to_double(o.price.raw(), in.price_scale);
      i.qty = to_double(o.qty.raw(), in.qty_scale);
      i.filled = to_double(o.filled.raw(), in.qty_scale);
      i.state = o.state;
      out.push_back(std::move(i));
    };
    os.oms().for_each_open(add);
    return out;
  });
}

std::vector<PositionInfo> Session::positions() const {
  Impl& s = *impl_;
  if (!s.inline_mode && !s.pipelined) return {};
  return with_orders(s, [&](OrderSide& os) {
    std::vector<PositionInfo> out;
    os.mark_positions();
    const oms::PositionBook& pb = os.positions();
    for (InstrumentId i = 0; i < s.instruments.size(); ++i) {
      PositionInfo p;
      p.symbol = s.instruments[i].cfg.symbol;
      p.raw_position = pb.position(i);
      p.position = pb.position_units(i);
      p.avg_price = pb.avg_price(i);
      p.realized_pnl = pb.realized_pnl(i);
      p.unrealized_pnl = pb.unrealized_pnl(i);
      out.push_back(std::move(p));
    }
    return out;
  });
}

std::vector<BookInfo> Session::books(std::size_t depth) const {
  Impl& s = *impl_;
  auto read = [&] {
    std::vector<BookInfo> out;
    for (const Instrument& in : s.instruments) {
      BookInfo b;
      b.symbol = in.cfg.symbol;
      b.price_scale = in.price_scale;
      b.qty_scale = in.qty_scale;
      b.bids.resize(std::min(depth, in.book->bid_count()));
      b.asks.resize(std::min(depth, in.book->ask_count()));
      b.bids.resize(in.book->depth(book::Side::bid, b.bids));
      b.asks.resize(in.book->depth(book::Side::ask, b.asks));
      b.update_id = in.book->update_id();
      b.synced = in.sync->synced();
      out.push_back(std::move(b));
    }
    return out;
  };
  const bool run = s.running.load(std::memory_order_acquire);
  if (s.inline_mode) return on_owner(s.inline_mode->reactor, run, read);
  if (s.pipelined) return on_owner(s.pipelined->feed_reactor, run, read);
  return read();
}

SessionStats Session::stats() const {
  const Impl& s = *impl_;
  const Counters& c = s.counters;
  SessionStats st;
  const std::int64_t end = s.stop_ns.load(std::memory_order_acquire);
  st.elapsed_s = s.start_ns == 0 ? 0.0 : static_cast<double>((end != 0 ? end : s.now_ns()) - s.start_ns) * 1e-9;
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
  if (!impl_->ttt_log) return t;  // not started: nothing recorded
  t.tick_to_trade = impl_->ttt_log->snapshot();
  t.mids = impl_->mid_log->snapshot();
  t.orders = impl_->order_log->snapshot();
  t.fills = impl_->fill_log->snapshot();
  return t;
}

SystemReport Session::system_report() const {
  SystemReport r;
  if (impl_->threads) r.threads = impl_->threads->reports();
  r.notes = impl_->notes;
  if (impl_->arena) {
    r.memory = impl_->arena->report();
    r.memory_used = impl_->arena->used();
  }
  r.mode = impl_->cfg.threading.mode == ThreadingMode::pipelined ? "pipelined" : "inline";
  return r;
}

}  // namespace hftx::session
