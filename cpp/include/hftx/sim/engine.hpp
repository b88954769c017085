// hftx/sim/engine.hpp — the exchange simulator's venue-neutral engine, and the interface a venue's simulator
// dialect (venue/<name>/sim_dialect.hpp) is written against.
//
// Threading contract: everything here runs on the simulator's reactor thread (sim/exchange.hpp says how the
// public Exchange reaches it). Core's members are that thread's state; a dialect reads and writes them from
// its handlers, which the engine calls on that thread. ExchangeStats counters are single-writer atomics read
// from any thread.
//
// The split:
//  - Core (compiled once, cpp/src/sim/engine.cpp): connections and their subscriptions, pacing state, the
//    instruments with their markets (sim/generator.hpp: the L3 book, neutral events), the account (assets,
//    balances, orders, fills), the test hooks, stats and queries, the recorded lines of replay mode.
//  - Engine<Dialect> (this header, instantiated once per venue in that venue's sim_dialect.cpp): the glue that
//    runs the markets (generation and replay pacing) and hands every neutral event to the dialect by a direct
//    call — no virtual call per message. Its control-plane entry points (attach, detach, generate, the order
//    names of queries) are Core's virtual functions, so the public Exchange holds a Core.
//  - A Dialect: which URL paths it serves, how it reads requests and writes answers, market messages,
//    order reports and errors, its authentication. It holds only its own formatting state and calls back
//    into the engine for everything else. Required members (duck-typed; see venue/binance/sim_dialect.hpp):
//      static DialectInfo info();                       // its registry entry (DialectInfo below)
//      static constexpr std::size_t kStreamKinds;       // subscription kinds per instrument
//      static std::span<const int> reject_codes();      // the codes ExchangeStats counts, the first one
//                                                       // also counting any code not listed
//      static constexpr int kTickMs;                    // > 0: on_tick() runs every kTickMs (aggregated channels)
//      explicit Dialect(Engine<Dialect>&);
//      bool on_open(Engine&, Conn&, std::string_view path, std::string_view query);  // false: closed it
//      void on_message(Engine&, Conn&, std::string_view text);
//      void on_close(Engine&, Conn&);
//      void on_depth(Engine&, std::uint32_t instrument, const md::DepthUpdate&, std::int64_t ms, Recorded);
//      void on_top(Engine&, std::uint32_t, const md::BookTicker&, std::int64_t ms, Recorded);
//      void on_trade(Engine&, std::uint32_t, const md::Trade&, std::int64_t ms, Recorded);
//      void on_fill(Engine&, const Order&, const Fill&);  // an account order traded (report it)
//      void on_tick(Engine&);
//      static const char* side_text(Side); static std::string type_text(const Order&);  // queries
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

#include "hftx/core/fixed_point.hpp"
#include "hftx/md/events.hpp"
#include "hftx/net/reactor.hpp"
#include "hftx/net/websocket.hpp"
#include "hftx/sim/exchange.hpp"
#include "hftx/sim/generator.hpp"
#include "hftx/md/parse.hpp"

namespace hftx::sim {

class Core;

// A venue dialect's registry entry (each venue's line in cpp/src/registry.cpp).
struct DialectInfo {
  std::string_view name;         // ExchangeConfig::venue
  std::string_view market_path;  // the public market-data endpoint, e.g. /stream, /ws/v5/public
  std::string_view api_path;     // the private/trading endpoint, e.g. /ws-api/v3, /ws/v5/private
  // instruments[i].symbol: valid for this venue (the venue's own spelling); `symbol_rule` says what is expected.
  bool (*valid_symbol)(std::string_view symbol) = nullptr;
  std::string_view symbol_rule;
  // The base and quote asset of a symbol ({"", ""}: cannot tell, base_asset/quote_asset must be given).
  std::pair<std::string, std::string> (*split_symbol)(const std::string& symbol) = nullptr;
  // The venue's own config checks (keys it alone reads); throws ConfigError naming the key.
  void (*validate)(const ExchangeConfig& cfg) = nullptr;
  // Builds the engine for a validated config.
  std::unique_ptr<Core> (*make)(const ExchangeConfig& cfg) = nullptr;
};

// Reads the recorded messages the simulator replays (Binance's `<ns> <json>` files: replay goes through the
// recording venue's parser). Replay is not the simulator's hot path: one virtual call per recorded line.
class RecordingParser {
 public:
  virtual ~RecordingParser() = default;
  virtual md::ParseResult parse(std::string_view json, md::MdMessage& out, std::span<md::Level> levels) noexcept = 0;
};
// The parser of `venue`'s recordings for an instrument of these scales (defined in cpp/src/registry.cpp).
[[nodiscard]] std::unique_ptr<RecordingParser> make_recording_parser(std::string_view venue, const Scale& price_scale,
                                                                     const Scale& qty_scale);

// The registry (defined in cpp/src/registry.cpp, above the simulator and the venues). nullptr when no dialect
// has that name.
[[nodiscard]] const DialectInfo* find_dialect(std::string_view name);
[[nodiscard]] std::string dialect_names();  // "binance, okx"

// A replayed event's recorded text, when the event is exactly what the recording holds: a dialect that speaks
// the recording's venue may serve the text as it was recorded. Empty for generated or rewritten events.
struct Recorded {
  std::string_view venue;  // "binance"
  std::string_view text;   // the stream payload (Binance: the combined stream's `data` object)
};

// Single-writer counter readable from any thread (no locked instruction on the writer's side).
struct Counter {
  std::atomic<std::uint64_t> v{0};
  void add(std::uint64_t n = 1) noexcept { v.store(v.load(std::memory_order_relaxed) + n, std::memory_order_relaxed); }
  void set(std::uint64_t n) noexcept { v.store(n, std::memory_order_relaxed); }
  [[nodiscard]] std::uint64_t get() const noexcept { return v.load(std::memory_order_relaxed); }
};

// Balances are int128 counts of 1e-18 of an asset.
inline constexpr int kAtomDecimals = 18;
[[nodiscard]] int128 pow10_128(int n) noexcept;
// "123.45" -> atoms. Throws ConfigError naming `key`.
[[nodiscard]] int128 parse_amount(const std::string& text, const std::string& key);
// atoms -> decimal with `decimals` decimals (truncated); 8 is how Binance prints balances and quote quantities.
[[nodiscard]] std::string format_amount(int128 v, int decimals = 8);
// Appends `s` to `out` as the inside of a JSON string.
void json_escape(std::string& out, std::string_view s);
[[nodiscard]] std::int64_t wall_ms() noexcept;
[[nodiscard]] std::int64_t mono_ns() noexcept;

class Core {
 public:
  // ---- what a dialect works with --------------------------------------------------------------------
  struct Conn {
    std::uint64_t id = 0;
    net::WsConnection* ws = nullptr;
    Channel channel = Channel::market;
    std::int64_t connected_ms = 0;
    bool lose_requests = false;  // test hook: requests are read and dropped unanswered
    bool authenticated = false;  // logged on / logged in: the connection's requests need no signature
    bool order_stream = false;   // receives the account's order reports
    std::uint32_t dialect_flags = 0;  // the dialect's own per-connection bits
    std::vector<std::pair<std::uint32_t, std::uint8_t>> subs;  // (instrument, stream kind)
  };
  struct Sub {
    Conn* conn;
    std::string prefix;  // written before each message's body (Binance: {"stream":"<name>","data":)
  };
  struct Instrument {
    InstrumentSpec spec;
    Scale price_scale, qty_scale;
    std::int64_t lot = 1;
    std::size_t base = 0, quote = 0;  // asset indices
    int128 quote_per_pq = 1;          // atoms of quote per (tick x qty step)
    int128 base_per_q = 1;            // atoms of base per qty step
    std::unique_ptr<MarketGenerator> gen;
    std::unique_ptr<RecordingParser> parser;  // replay
    std::uint64_t rec_last_u = 0;  // replay: the recording's last applied u
    bool loaded = false;           // replay: the book holds a snapshot
  };
  struct Asset {
    std::string name;
    int128 free = 0, locked = 0;
  };
  // How an order ended.
  enum class End : std::uint8_t { open, filled, canceled, expired };
  // Why an order that did not fill ended (venues name the cause).
  enum class Cause : std::uint8_t { none, user, ioc, fok, market, post_only };
  struct Order {
    std::uint64_t id = 0;
    std::uint32_t inst = 0;
    std::string client_id;
    Side side = Side::bid;
    OrderType type = OrderType::limit;
    TimeInForce tif = TimeInForce::gtc;  // as requested (market orders: gtc)
    bool post_only = false;
    std::int64_t price = 0, qty = 0, filled = 0;
    int128 cum_quote = 0;
    int128 locked = 0;  // still locked for this order (atoms of quote for buys, base for sells)
    std::int64_t created_ms = 0, updated_ms = 0;
    bool resting = false;
    End end = End::open;
    Cause cause = Cause::none;
    std::string venue_text;  // the dialect's own note (OKX: the request's sz when given in the quote asset)
  };
  // One execution of an account order, as the dialect reports it. The order's filled / cum_quote already
  // include it.
  struct Fill {
    std::int64_t qty = 0, price = 0;
    std::uint64_t trade_id = 0;   // the public trade's id (0: the recording's trade, or none)
    std::uint64_t sequence = 0;   // the matching engine's execution sequence
    bool maker = false;
    bool done = false;  // the order is filled
  };
  struct Delayed {
    std::int64_t due_ns;
    std::uint64_t conn_id;
    std::string text;
  };
  struct Line {  // replay
    std::int64_t ns;
    std::string_view json;
    std::size_t inst;
  };
  static constexpr std::size_t kNone = SIZE_MAX;
  static constexpr std::size_t kClosedKept = 100000;
  static constexpr std::size_t kQueueHighWater = 4u << 20;  // a subscriber's unsent bytes above which generation waits
  static constexpr std::size_t kBatch = 512;  // messages per turn when generating / replaying as fast as possible

  Core(const ExchangeConfig& cfg, const DialectInfo& info, std::size_t stream_kinds, std::span<const int> reject_codes);
  virtual ~Core();
  Core(const Core&) = delete;
  Core& operator=(const Core&) = delete;

  // ---- control plane (Engine<Dialect> implements these) ---------------------------------------------
  virtual void attach(net::Reactor& r) = 0;
  virtual void detach() = 0;
  virtual void generate(std::size_t n) = 0;
  [[nodiscard]] virtual const char* side_text(Side s) const = 0;
  [[nodiscard]] virtual std::string type_text(const Order& o) const = 0;

  // ---- instruments, assets ----------------------------------------------------------------------------
  // Index of the instrument named `name` (the venue's symbol), kNone when not listed.
  [[nodiscard]] std::size_t find_instrument(std::string_view name) const noexcept;
  // Replay: a recording's symbol (Binance BTCUSDT) to a listed instrument: its own name, or the listed name
  // without separators (BTC-USDT).
  [[nodiscard]] std::size_t find_recorded(std::string_view name) const noexcept;
  std::size_t asset_index(const std::string& name);

  // ---- connections and subscriptions --------------------------------------------------------------
  // Adds a subscription (kind < stream kinds). False when the connection has it already.
  bool subscribe(Conn& c, std::uint32_t inst, std::uint8_t kind, std::string prefix);
  bool unsubscribe(Conn& c, std::uint32_t inst, std::uint8_t kind);
  void unsubscribe_all(Conn& c);
  [[nodiscard]] std::vector<Sub>& subs(std::uint32_t inst, std::uint8_t kind) noexcept {
    return subs_[inst * stream_kinds + kind];
  }
  [[nodiscard]] bool has_subs(std::uint32_t inst, std::uint8_t kind) const noexcept {
    return !subs_[inst * stream_kinds + kind].empty();
  }
  // Writes prefix + body + tail to every subscriber of (inst, kind) as one text frame; a subscriber whose send
  // buffer is full is dropped (1006), as a venue drops a slow consumer.
  void broadcast(std::uint32_t inst, std::uint8_t kind, std::string_view body, std::string_view tail = {}) noexcept {
    for (Sub& s : subs_[inst * stream_kinds + kind]) write(*s.conn, s.prefix, body, tail);
  }
  void write(Conn& c, std::string_view head, std::string_view body, std::string_view tail) noexcept;
  // A private-channel message (answers, order reports): after latency_us when configured.
  void send(std::uint64_t conn_id, std::string text);
  void send_now(std::uint64_t conn_id, std::string_view text);
  // An order report to every connection with order_stream; held back while `deferring` (a request's answer
  // goes out first).
  void push_report(const std::string& text);
  // An order report to one connection, held back as push_report().
  void report_to(std::uint64_t conn_id, std::string text);
  void begin_defer() noexcept;
  void flush_deferred();
  [[nodiscard]] bool any_subscriber() const noexcept;
  [[nodiscard]] bool backpressured() const noexcept;
  void count_conns() noexcept;
  [[nodiscard]] Conn* conn(std::uint64_t id) noexcept;

  // ---- the account ----------------------------------------------------------------------------------
  [[nodiscard]] bool duplicate_client_id(const std::string& cid) const noexcept { return by_client.count(cid) != 0; }
  // Whether a limit order at `price` would take liquidity now.
  [[nodiscard]] bool would_take(std::uint32_t inst, Side side, std::int64_t price) const noexcept;
  // What a buy of `qty` at the market would pay walking the book now (atoms of quote; the book's depth only).
  [[nodiscard]] int128 market_buy_cost(std::uint32_t inst, std::int64_t qty) const noexcept;
  // The base quantity (lot multiple) a market buy spending `quote` atoms gets walking the book now.
  [[nodiscard]] std::int64_t market_buy_qty_for(std::uint32_t inst, int128 quote) const noexcept;
  // Funds an order locks: quote at its limit price for buys, the base for sells; market buys lock nothing.
  [[nodiscard]] int128 lock_for(const Instrument& in, Side side, OrderType type, std::int64_t price,
                                std::int64_t qty) const noexcept;
  [[nodiscard]] int128 free_of(std::size_t asset) const noexcept { return assets[asset].free; }
  // Creates an open order (not yet in the book) with `lock` moved from free to locked.
  Order& open_order(Order o, int128 lock);
  void release(Order& o);
  // Closes an order: `end` keeps it answerable (among the last kClosedKept closed orders); End::open forgets
  // it (rejected on arrival: it never existed).
  void close_order(std::uint64_t id, End end);
  // An execution of an account order: balances, the order's fill state. nullptr when the id is not ours.
  Order* apply_fill(std::uint32_t inst, const Execution& e, bool maker, std::uint64_t trade_id, Fill& fill);
  // An order by client id: open, or (closed_too) one of the last kClosedKept closed ones.
  [[nodiscard]] const Order* order_by_client(const std::string& cid, bool closed_too) const noexcept;
  [[nodiscard]] const Order* order_by_id(std::uint64_t id, bool closed_too) const noexcept;
  [[nodiscard]] Order* open_order_by_id(std::uint64_t id) noexcept;
  void update_resting() noexcept;
  void count_reject(int code) noexcept;

  // ---- state ------------------------------------------------------------------------------------------
  ExchangeConfig cfg;
  const DialectInfo info;  // the dialect's registry entry (a copy: string views into static text)
  const std::size_t stream_kinds;
  std::vector<Instrument> instruments;
  std::vector<Asset> assets;
  std::map<std::uint64_t, Order> orders;  // open orders, by id
  std::unordered_map<std::string, std::uint64_t> by_client;
  std::unordered_map<std::uint64_t, Order> closed;  // the last kClosedKept closed orders
  std::unordered_map<std::string, std::uint64_t> closed_by_client;
  std::deque<std::uint64_t> closed_fifo;
  std::unordered_map<std::uint64_t, std::unique_ptr<Conn>> conns;
  std::uint64_t next_conn_id = 0;
  std::uint64_t next_order_id = 0;
  net::Reactor* reactor = nullptr;
  std::unique_ptr<net::WsServer> server;
  std::unique_ptr<net::Timer> gen_timer, delay_timer, tick_timer;
  std::deque<Delayed> delayed;
  bool deferring = false;
  std::vector<std::pair<std::uint64_t, std::string>> deferred_reports;
  bool shutting_down = false;
  bool paused = false;
  std::int64_t last_gen_ns = 0;
  double gen_credit = 0;
  std::size_t lose_depth = 0;  // test hook: snapshot requests still to drop unanswered
  // replay
  std::vector<std::string> replay_store;
  std::vector<Line> replay;
  std::size_t replay_pos = 0;
  bool replay_started = false;
  std::int64_t replay_t0 = 0, replay_ns0 = 0;
  std::vector<md::Level> levels;  // parse buffer
  // own thread (Exchange::start)
  std::unique_ptr<net::Reactor> own_reactor;
  std::thread thread;
  std::thread::id loop_id;
  // stats
  Counter stats_generated, stats_sent, stats_depth, stats_tickers, stats_trades, stats_requests, stats_orders,
      stats_fills, stats_cancels, stats_rejects, stats_connections, stats_market, stats_api, stats_accepted,
      stats_resting, stats_slow, stats_replay_lines, stats_replay_done, stats_lost, stats_logons, stats_unsigned,
      stats_amends;
  std::span<const int> reject_codes;
  std::array<Counter, kMaxRejectCodes> rejects_by_code;

  [[nodiscard]] ExchangeStats stats() const noexcept;
  [[nodiscard]] std::uint16_t port() const noexcept { return server ? server->port() : 0; }

 protected:
  // Shared parts of attach()/detach() and of the connection callbacks; the engine adds the dialect.
  void attach_server(net::Reactor& r);
  void detach_server();
  Conn* open_conn(net::WsConnection& c);
  void load_replay();
  void on_delay_timer();
  std::span<md::Level> level_buf();

 private:
  std::vector<std::vector<Sub>> subs_;  // [instrument * stream_kinds + kind]
};

// The engine of one dialect. See the header comment.
template <class D>
class Engine final : public Core {
 public:
  explicit Engine(const ExchangeConfig& c)
      : Core(c, D::info(), D::kStreamKinds, D::reject_codes()), dialect_(*this) {
    sinks_.reserve(instruments.size());
    for (std::size_t i = 0; i < instruments.size(); ++i) sinks_.push_back(Sink{this, static_cast<std::uint32_t>(i)});
  }
  ~Engine() override = default;

  [[nodiscard]] D& dialect() noexcept { return dialect_; }

  // ---- order operations a dialect calls (they publish market events) ----------------------------------
  // Puts an open order's remaining quantity into the book. Executions are applied and reported (on_fill) as
  // they happen; a dialect that answers first wraps the call in begin_defer() / flush_deferred().
  book::OrderResult submit(const Order& o) {
    book::OrderRequest req;
    req.id = o.id;
    req.side = o.side;
    req.type = o.type;
    req.tif = o.type == OrderType::limit ? o.tif : TimeInForce::gtc;
    req.post_only = o.post_only;
    req.price = Price(o.price);
    req.qty = Qty(o.qty - o.filled);
    return instruments[o.inst].gen->submit_account(req, sinks_[o.inst]);
  }
  // Takes a resting order out of the book (its level is published). False when it is not resting there.
  bool cancel_resting(const Order& o) { return instruments[o.inst].gen->cancel_account(o.id, sinks_[o.inst]); }
  // New price / remaining quantity for a resting order (it may trade: reported as submit()).
  book::OrderResult amend_resting(const Order& o, std::int64_t price, std::int64_t remaining) {
    return instruments[o.inst].gen->amend_account(o.id, price, remaining, sinks_[o.inst]);
  }

  // ---- control plane ----------------------------------------------------------------------------------
  void attach(net::Reactor& r) override {
    attach_server(r);
    server->on_open = [this](net::WsConnection& c) { on_open(c); };
    server->on_close = [this](net::WsConnection& c, const net::WsCloseInfo&) { on_close(c); };
    server->on_message = [this](net::WsConnection& c, const net::WsMessage& m) {
      auto* cs = static_cast<Conn*>(c.user_data);
      if (cs == nullptr || !m.is_text()) return;
      if (cs->lose_requests) {  // test hook: as if lost on the wire
        stats_lost.add();
        return;
      }
      dialect_.on_message(*this, *cs, m.data);
    };
    gen_timer = std::make_unique<net::Timer>(r, [this] { on_gen_timer(); });
    delay_timer = std::make_unique<net::Timer>(r, [this] { on_delay_timer(); });
    if constexpr (D::kTickMs > 0) {
      tick_timer = std::make_unique<net::Timer>(r, [this] { dialect_.on_tick(*this); });
      tick_timer->arm(std::chrono::milliseconds(D::kTickMs), std::chrono::milliseconds(D::kTickMs));
    }
    last_gen_ns = mono_ns();
    if (cfg.mode == Mode::generated && cfg.event_rate > 0)
      gen_timer->arm(std::chrono::milliseconds(1), std::chrono::milliseconds(1));
    else
      gen_timer->arm(std::chrono::milliseconds(1));
  }
  void detach() override { detach_server(); }

  // `n` generator steps over the instruments in turn, now (benchmarks, attach() setups).
  void generate(std::size_t messages) override {
    std::size_t produced = 0;
    const std::int64_t now = wall_ms();
    for (auto& in : instruments) in.gen->set_time_ms(now);
    std::size_t k = 0;
    while (produced < messages) {
      produced += instruments[k].gen->step(sinks_[k]);
      if (++k == instruments.size()) k = 0;
    }
  }
  [[nodiscard]] const char* side_text(Side s) const override { return D::side_text(s); }
  [[nodiscard]] std::string type_text(const Order& o) const override { return D::type_text(o); }

 private:
  // Receives one instrument's neutral events and hands them to the dialect.
  struct Sink {
    Engine* e;
    std::uint32_t inst;
    void on_depth(const md::DepthUpdate& d, std::int64_t ms) noexcept {
      e->stats_generated.add();
      e->stats_depth.add();
      e->dialect_.on_depth(*e, inst, d, ms, Recorded{});
    }
    void on_top(const md::BookTicker& t, std::int64_t ms) noexcept {
      e->stats_generated.add();
      e->stats_tickers.add();
      e->dialect_.on_top(*e, inst, t, ms, Recorded{});
    }
    void on_trade(const md::Trade& t, std::int64_t ms) noexcept {
      e->stats_generated.add();
      e->stats_trades.add();
      e->dialect_.on_trade(*e, inst, t, ms, Recorded{});
    }
    void on_account_execution(const Execution& x, std::uint64_t trade_id) noexcept {
      e->on_execution(inst, x, trade_id);
    }
  };

  void on_open(net::WsConnection& c) {
    Conn* cs = open_conn(c);
    const std::string& target = c.request_target();
    const std::size_t q = target.find('?');
    const std::string_view path = std::string_view(target).substr(0, q);
    const std::string_view query = q == std::string::npos ? std::string_view() : std::string_view(target).substr(q + 1);
    if (!dialect_.on_open(*this, *cs, path, query)) return;  // it closed the connection
    count_conns();
  }
  void on_close(net::WsConnection& c) {
    if (shutting_down) return;
    auto* cs = static_cast<Conn*>(c.user_data);
    if (cs == nullptr) return;
    c.user_data = nullptr;
    dialect_.on_close(*this, *cs);
    unsubscribe_all(*cs);
    conns.erase(cs->id);
    count_conns();
  }

  // An execution in which an account order took part (maker, taker or both).
  void on_execution(std::uint32_t inst, const Execution& e, std::uint64_t trade_id) {
    for (int role = 0; role < 2; ++role) {
      const OrderId id = role == 0 ? e.maker : e.taker;
      if (!MarketGenerator::is_account(id)) continue;
      Fill f;
      Order* o = apply_fill(inst, e, role == 0, trade_id, f);
      if (o == nullptr) continue;
      stats_fills.add();
      dialect_.on_fill(*this, *o, f);
      if (f.done) close_order(id, End::filled);
    }
    update_resting();
  }

  // ---- generation / replay pacing -------------------------------------------------------------------
  void on_gen_timer() {
    const std::int64_t now = mono_ns();
    if (paused) {
      last_gen_ns = now;
      gen_credit = 0;
      if (!(cfg.mode == Mode::generated && cfg.event_rate > 0)) gen_timer->arm(std::chrono::milliseconds(1));
      return;
    }
    if (cfg.mode == Mode::replay) {
      replay_tick(now);
      return;
    }
    if (cfg.event_rate > 0) {
      const double dt = static_cast<double>(now - last_gen_ns) * 1e-9;
      last_gen_ns = now;
      gen_credit += cfg.event_rate * dt;
      // Never more than 100 ms of events at once (a stalled reactor does not produce a burst).
      gen_credit = std::min(gen_credit, std::max(1.0, cfg.event_rate * 0.1));
      if (backpressured()) {
        stats_slow.add();
        gen_credit = 0;
        return;
      }
      if (gen_credit >= 1) {
        const auto n = static_cast<std::size_t>(gen_credit);
        gen_credit -= static_cast<double>(generate_counted(n));
      }
      return;
    }
    // As fast as the clients take it: a batch per reactor turn while every subscriber keeps up.
    if (!any_subscriber()) {
      gen_timer->arm(std::chrono::milliseconds(1));
    } else if (backpressured()) {
      stats_slow.add();
      gen_timer->arm(std::chrono::microseconds(100));
    } else {
      generate_counted(kBatch);
      gen_timer->arm(std::chrono::nanoseconds(1));
    }
  }
  std::size_t generate_counted(std::size_t messages) {
    std::size_t produced = 0;
    const std::int64_t now = wall_ms();
    for (auto& in : instruments) in.gen->set_time_ms(now);
    std::size_t k = 0;
    while (produced < messages) {
      produced += instruments[k].gen->step(sinks_[k]);
      if (++k == instruments.size()) k = 0;
    }
    return produced;
  }

  void replay_tick(std::int64_t now) {
    if (replay_pos >= replay.size()) {
      stats_replay_done.set(1);
      return;
    }
    if (!replay_started) {
      if (!any_subscriber()) {  // the recording starts with the first subscriber
        gen_timer->arm(std::chrono::milliseconds(1));
        return;
      }
      replay_started = true;
      replay_t0 = now;
      replay_ns0 = replay[replay_pos].ns;
    }
    if (backpressured()) {
      stats_slow.add();
      gen_timer->arm(std::chrono::microseconds(100));
      return;
    }
    const std::int64_t ms = wall_ms();
    for (auto& in : instruments) in.gen->set_time_ms(ms);
    if (cfg.replay_pace == Pace::fast) {
      for (std::size_t n = 0; n < kBatch && replay_pos < replay.size(); ++n) serve_line(replay[replay_pos++]);
      if (replay_pos < replay.size()) gen_timer->arm(std::chrono::nanoseconds(1));
      else stats_replay_done.set(1);
      return;
    }
    while (replay_pos < replay.size() && replay[replay_pos].ns - replay_ns0 <= now - replay_t0)
      serve_line(replay[replay_pos++]);
    if (replay_pos < replay.size())
      gen_timer->arm(std::chrono::nanoseconds(
          std::max<std::int64_t>(1, replay[replay_pos].ns - replay_ns0 - (now - replay_t0))));
    else
      stats_replay_done.set(1);
  }

  bool has_account_orders(std::size_t inst) const {
    for (const auto& [id, o] : orders)
      if (o.inst == inst && o.resting) return true;
    return false;
  }

  // One recorded line: the book follows the recording (account orders keep their place among the market's
  // liquidity), and the dialect serves what changed. When nothing of the account's is in the book and no
  // synthetic update shifted the ids, the served event is the recorded one (Recorded carries its text);
  // otherwise ids are shifted by the synthetic updates served so far and quantities are the served book's.
  void serve_line(const Line& l) {
    stats_replay_lines.add();
    if (l.inst == kNone) return;
    const auto si = static_cast<std::uint32_t>(l.inst);
    Instrument& s = instruments[si];
    md::MdMessage msg;
    if (!s.parser->parse(l.json, msg, level_buf()).ok()) return;
    MarketGenerator& g = *s.gen;
    Sink& sink = sinks_[si];
    const std::uint64_t offset = g.last_update_id() - s.rec_last_u;  // synthetic updates published so far
    const std::size_t d = l.json.find("\"data\":");
    std::string_view data = l.json;
    if (d != std::string_view::npos && l.json.size() > d + 8) data = l.json.substr(d + 7, l.json.size() - d - 8);
    const bool account = has_account_orders(si);
    const std::int64_t ms = msg.venue_time_ns / 1'000'000;
    switch (msg.kind) {
      case md::MdKind::depth_update: {
        const md::DepthUpdate& u = msg.depth;
        const bool fresh = u.last_id > s.rec_last_u;
        g.clear_touched();
        if (fresh) {
          for (const auto& lv : u.bids) g.set_market_level(Side::bid, lv.price.raw(), lv.qty.raw(), sink);
          for (const auto& lv : u.asks) g.set_market_level(Side::ask, lv.price.raw(), lv.qty.raw(), sink);
          s.rec_last_u = u.last_id;
          g.set_last_update_id(u.last_id + offset);
        }
        stats_generated.add();
        stats_depth.add();
        if (offset == 0 && !account) {
          dialect_.on_depth(*this, si, u, ms, Recorded{"binance", data});
        } else {
          // Served quantities: the market's plus the account's resting there (the engine's level total).
          served_.assign(u.bids.begin(), u.bids.end());
          const std::size_t nb = served_.size();
          served_.insert(served_.end(), u.asks.begin(), u.asks.end());
          if (fresh) {
            for (std::size_t i = 0; i < served_.size(); ++i)
              served_[i].qty = Qty(g.level_qty(i < nb ? Side::bid : Side::ask, served_[i].price.raw()));
          }
          md::DepthUpdate su = u;
          su.first_id = u.first_id + offset;
          su.last_id = u.last_id + offset;
          su.bids = std::span<const md::Level>(served_.data(), nb);
          su.asks = std::span<const md::Level>(served_.data() + nb, served_.size() - nb);
          dialect_.on_depth(*this, si, su, ms, Recorded{});
        }
        // Account orders the new levels crossed (the market took them): their levels, with fresh ids.
        if (g.has_touched()) g.publish_account_levels(sink);
        g.remember_top();
        break;
      }
      case md::MdKind::book_ticker: {
        stats_generated.add();
        stats_tickers.add();
        if (offset == 0 && !account) {
          dialect_.on_top(*this, si, msg.ticker, ms, Recorded{"binance", data});
        } else {
          dialect_.on_top(*this, si, served_top(si, msg.ticker, offset), ms, Recorded{});
        }
        break;
      }
      case md::MdKind::trade: {
        stats_generated.add();
        stats_trades.add();
        dialect_.on_trade(*this, si, msg.trade, ms, Recorded{"binance", data});
        // The recorded aggressor executes against the account's orders it reaches (price-time order).
        const Side aggressor = msg.trade.buyer_is_maker ? Side::ask : Side::bid;
        bool crosses = false;
        for (const auto& [id, o] : orders)
          if (o.inst == si && o.resting && o.side != aggressor &&
              (aggressor == Side::ask ? o.price >= msg.trade.price.raw() : o.price <= msg.trade.price.raw()))
            crosses = true;
        if (crosses) {
          g.clear_touched();
          replay_trade_id_ = msg.trade.id;
          ReplaySink rs{this, si};
          g.replay_trade(aggressor, msg.trade.price.raw(), msg.trade.qty.raw(), rs);
          g.publish_account_levels(sink);  // the levels it consumed (fresh ids)
        }
        break;
      }
      default:
        break;  // snapshots (loaded at start), aggTrades
    }
  }
  // A recorded trade's executions carry the recorded trade id.
  struct ReplaySink {
    Engine* e;
    std::uint32_t inst;
    void on_depth(const md::DepthUpdate&, std::int64_t) noexcept {}
    void on_top(const md::BookTicker&, std::int64_t) noexcept {}
    void on_trade(const md::Trade&, std::int64_t) noexcept {}
    void on_account_execution(const Execution& x, std::uint64_t) noexcept {
      e->on_execution(inst, x, e->replay_trade_id_);
    }
  };
  // The recorded top with the account's resting orders at or better than it (part of the served top).
  md::BookTicker served_top(std::uint32_t si, const md::BookTicker& t, std::uint64_t offset) const {
    std::int64_t bp = t.bid_price.raw(), bq = t.bid_qty.raw(), ap = t.ask_price.raw(), aq = t.ask_qty.raw();
    for (const auto& [id, o] : orders) {
      if (o.inst != si || !o.resting) continue;
      const std::int64_t left = o.qty - o.filled;
      if (o.side == Side::bid) {
        if (o.price > bp) {
          bp = o.price;
          bq = 0;
        }
        if (o.price == bp) bq += left;
      } else {
        if (o.price < ap) {
          ap = o.price;
          aq = 0;
        }
        if (o.price == ap) aq += left;
      }
    }
    md::BookTicker r;
    r.update_id = t.update_id + offset;
    r.bid_price = Price(bp);
    r.bid_qty = Qty(bq);
    r.ask_price = Price(ap);
    r.ask_qty = Qty(aq);
    return r;
  }

  D dialect_;
  std::vector<Sink> sinks_;
  std::vector<md::Level> served_;
  std::uint64_t replay_trade_id_ = 0;
};

}  // namespace hftx::sim
