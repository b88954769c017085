// The exchange simulator (sim/exchange.hpp): connections, streams, the WebSocket API, the account's
// orders and balances, generation and replay pacing.
//
// Everything here runs on the simulator's reactor thread (Impl is single-threaded); the public members
// reach it through on_loop() when the simulator has its own thread.
#include "hftx/sim/exchange.hpp"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <deque>
#include <future>
#include <map>
#include <optional>
#include <span>
#include <thread>
#include <unordered_map>

#include <simdjson.h>

#include "hftx/venue/binance/replay.hpp"
#include "hftx/core/error.hpp"
#include "hftx/core/fixed_point.hpp"
#include "hftx/venue/binance/md_parser.hpp"
#include "hftx/net/websocket.hpp"
#include "hftx/sim/generator.hpp"
#include "venue/binance/pem_text.hpp"

namespace hftx::sim {

namespace {

using net::WsConnection;
using net::WsMessage;

constexpr int kAtomDecimals = 18;            // balances: int128 counts of 1e-18 of an asset
constexpr std::size_t kQueueHighWater = 4u << 20;  // a subscriber's unsent bytes above which generation waits
constexpr std::size_t kBatch = 512;          // messages per turn when generating / replaying as fast as possible

std::int64_t wall_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}
std::int64_t mono_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

int128 pow10_128(int n) {
  int128 v = 1;
  for (int i = 0; i < n; ++i) v *= 10;
  return v;
}

// "123.45" -> atoms (1e-18). Throws ConfigError naming `key`.
int128 parse_amount(const std::string& text, const std::string& key) {
  const auto bad = [&] {
    return ConfigError(key + " = '" + text + "': expected a non-negative decimal amount with at most 18 decimals");
  };
  if (text.empty()) throw bad();
  int128 whole = 0, frac = 0;
  int fd = 0;
  bool dot = false, digits = false;
  for (char c : text) {
    if (c == '.' && !dot) {
      dot = true;
      continue;
    }
    if (c < '0' || c > '9') throw bad();
    digits = true;
    if (!dot) {
      whole = whole * 10 + (c - '0');
      if (whole > pow10_128(20)) throw bad();
    } else {
      if (++fd > kAtomDecimals) throw bad();
      frac = frac * 10 + (c - '0');
    }
  }
  if (!digits) throw bad();
  return whole * pow10_128(kAtomDecimals) + frac * pow10_128(kAtomDecimals - fd);
}

// atoms -> decimal with 8 decimals (truncated), as Binance prints balances and quote quantities.
std::string format_amount(int128 v) {
  std::string s;
  const bool neg = v < 0;
  if (neg) v = -v;
  const int128 unit = pow10_128(kAtomDecimals);
  uint128 whole = static_cast<uint128>(v / unit);
  const auto frac = static_cast<std::uint64_t>((v % unit) / pow10_128(kAtomDecimals - 8));
  char tmp[48];
  std::size_t n = 0;
  do {
    tmp[n++] = static_cast<char>('0' + static_cast<int>(whole % 10u));
    whole /= 10u;
  } while (whole != 0u);
  if (neg) s += '-';
  while (n > 0) s += tmp[--n];
  char f[16];
  std::snprintf(f, sizeof f, ".%08llu", static_cast<unsigned long long>(frac));
  s += f;
  return s;
}

void json_escape(std::string& out, std::string_view s) {
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char tmp[8];
      std::snprintf(tmp, sizeof tmp, "\\u%04x", static_cast<unsigned>(static_cast<unsigned char>(c)));
      out += tmp;
    } else {
      out += c;
    }
  }
}

// BTCUSDT -> {BTC, USDT}: the longest known quote suffix.
std::pair<std::string, std::string> split_symbol(const std::string& sym) {
  static const char* kQuotes[] = {"FDUSD", "USDT", "USDC", "BUSD", "TUSD", "DAI", "EUR", "TRY", "BRL",
                                  "GBP",   "JPY",  "BTC",  "ETH",  "BNB"};
  for (const char* q : kQuotes) {
    const std::size_t n = std::strlen(q);
    if (sym.size() > n && sym.compare(sym.size() - n, n, q) == 0) return {sym.substr(0, sym.size() - n), q};
  }
  return {"", ""};
}

const char* side_name(Side s) { return s == Side::bid ? "BUY" : "SELL"; }

enum class OType : std::uint8_t { limit, market, limit_maker };
const char* type_name(OType t) {
  switch (t) {
    case OType::limit: return "LIMIT";
    case OType::market: return "MARKET";
    case OType::limit_maker: return "LIMIT_MAKER";
  }
  return "LIMIT";
}
const char* tif_name(book::TimeInForce t) {
  switch (t) {
    case book::TimeInForce::gtc: return "GTC";
    case book::TimeInForce::ioc: return "IOC";
    case book::TimeInForce::fok: return "FOK";
  }
  return "GTC";
}

std::size_t reject_index(int code) {
  for (std::size_t i = 0; i < kRejectCodes.size(); ++i)
    if (kRejectCodes[i] == code) return i;
  return 0;
}

// Single-writer counter readable from any thread (no locked instruction on the writer's side).
struct Counter {
  std::atomic<std::uint64_t> v{0};
  void add(std::uint64_t n = 1) noexcept { v.store(v.load(std::memory_order_relaxed) + n, std::memory_order_relaxed); }
  void set(std::uint64_t n) noexcept { v.store(n, std::memory_order_relaxed); }
  [[nodiscard]] std::uint64_t get() const noexcept { return v.load(std::memory_order_relaxed); }
};

}  // namespace

// ---- config ------------------------------------------------------------------------------------------------

namespace {

// The Ed25519 public key of a PEM text (literal "\n" sequences accepted, as env variables carry them);
// throws ConfigError naming simulator.api_public_key when it is not one. The caller frees it.
EVP_PKEY* ed25519_public_key(const std::string& pem) {
  const std::string text = detail::pem_with_newlines(pem);
  BIO* bio = BIO_new_mem_buf(text.data(), static_cast<int>(text.size()));
  EVP_PKEY* key = bio != nullptr ? PEM_read_bio_PUBKEY(bio, nullptr, nullptr, nullptr) : nullptr;
  BIO_free(bio);
  if (key == nullptr || EVP_PKEY_get_id(key) != EVP_PKEY_ED25519) {
    EVP_PKEY_free(key);
    throw ConfigError("simulator.api_public_key: not an Ed25519 public key (expected a PEM '-----BEGIN PUBLIC KEY-----')");
  }
  return key;
}

}  // namespace

void ExchangeConfig::validate() const {
  const auto fail = [](const std::string& key, const std::string& value, const std::string& expected) {
    return ConfigError(key + " = " + value + ": expected " + expected);
  };
  if (host.empty()) throw fail("simulator.host", "''", "an address to listen on (e.g. 127.0.0.1)");
  if (port < 0 || port > 65535) throw fail("simulator.port", std::to_string(port), "0 .. 65535 (0: any free port)");
  if (!(event_rate >= 0) || event_rate > 1e9)
    throw fail("simulator.event_rate", std::to_string(event_rate), "0 .. 1e9 events/s (0: as fast as possible)");
  if (depth_levels < 1 || depth_levels > 100000)
    throw fail("simulator.depth_levels", std::to_string(depth_levels), "1 .. 100000 levels per side");
  if (!(trade_probability >= 0) || trade_probability > 1)
    throw fail("simulator.trade_probability", std::to_string(trade_probability), "0 .. 1");
  if (latency_us < 0 || latency_us > 10'000'000)
    throw fail("simulator.latency_us", std::to_string(latency_us), "0 .. 10000000 microseconds");
  if (mode == Mode::replay && replay_files.empty())
    throw fail("simulator.replay_files", "[]", "at least one recorded file when simulator.mode is replay");
  if (api_key.empty() && !(api_secret.empty() && api_public_key.empty()))
    throw fail("simulator.api_key", "''", "an API key when api_secret or api_public_key is set");
  if (!api_key.empty() && api_secret.empty() && api_public_key.empty())
    throw fail("simulator.api_secret", "''", "api_secret (HMAC) or api_public_key (Ed25519 PEM) when api_key is set");
  if (!api_public_key.empty()) EVP_PKEY_free(ed25519_public_key(api_public_key));  // throws when unusable
  if (instruments.empty()) throw fail("instruments", "[]", "at least one instrument");
  for (std::size_t i = 0; i < instruments.size(); ++i) {
    const InstrumentSpec& in = instruments[i];
    const std::string k = "instruments[" + std::to_string(i) + "].";
    if (in.symbol.empty() || in.symbol.size() > 20 ||
        !std::all_of(in.symbol.begin(), in.symbol.end(), [](char c) { return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); }))
      throw fail(k + "symbol", "'" + in.symbol + "'", "1..20 upper-case letters or digits (BTCUSDT)");
    for (std::size_t j = 0; j < i; ++j)
      if (instruments[j].symbol == in.symbol) throw fail(k + "symbol", in.symbol, "each symbol listed once");
    Scale ps, qs;
    try {
      ps = Scale::from_step(in.price_step);
    } catch (const Error&) {
      throw fail(k + "price_step", "'" + in.price_step + "'", "a positive decimal step such as 0.01");
    }
    try {
      qs = Scale::from_step(in.qty_step);
    } catch (const Error&) {
      throw fail(k + "qty_step", "'" + in.qty_step + "'", "a positive decimal step such as 0.00000001");
    }
    std::int64_t lot = 0;
    if (parse_fixed(in.lot_step, qs, lot, Sign::unsigned_only) != FixedStatus::ok || lot <= 0)
      throw fail(k + "lot_step", "'" + in.lot_step + "'", "a positive multiple of qty_step " + in.qty_step);
    if (ps.decimals() + qs.decimals() > kAtomDecimals)
      throw fail(k + "price_step", in.price_step, "price and quantity decimals adding up to at most 18");
    std::int64_t sp = 0;
    if (mode == Mode::generated &&
        (parse_fixed(start_price, ps, sp, Sign::unsigned_only) != FixedStatus::ok || sp <= depth_levels + 1))
      throw fail("simulator.start_price", "'" + start_price + "'",
                 "a price on " + in.symbol + "'s tick grid (" + in.price_step + ") above depth_levels ticks");
    const auto [b, q] = split_symbol(in.symbol);
    if ((in.base_asset.empty() || in.quote_asset.empty()) && b.empty())
      throw fail(k + "symbol", in.symbol, "a symbol ending in a known quote asset (USDT, USDC, BTC, ...) or base_asset/quote_asset given");
  }
  for (const auto& [asset, amount] : balances) {
    if (asset.empty()) throw fail("simulator.balances", "{'': ...}", "asset names");
    (void)parse_amount(amount, "simulator.balances." + asset);
  }
}

// ---- implementation ----------------------------------------------------------------------------------------

struct Exchange::Impl {
  struct ConnState;
  struct Sub {
    ConnState* conn;
    std::string prefix;  // {"stream":"<name>","data":
  };
  struct Symbol;
  struct SymSink final : MarketSink {
    Impl* impl = nullptr;
    std::size_t sym = 0;
    void on_market(StreamKind kind, std::string_view data) noexcept override { impl->on_market(sym, kind, data); }
    void on_account_execution(const Execution& e) noexcept override { impl->on_execution(sym, e); }
  };
  struct Symbol {
    InstrumentSpec spec;
    Scale price_scale, qty_scale;
    std::int64_t lot = 1;
    std::size_t base = 0, quote = 0;  // asset indices
    int128 quote_per_pq = 1;           // atoms of quote per (tick x qty step)
    int128 base_per_q = 1;             // atoms of base per qty step
    std::unique_ptr<MarketGenerator> gen;
    SymSink sink;
    std::vector<Sub> subs[kStreamKinds];
    std::unique_ptr<venue::binance::MdParser> parser;  // replay
    std::uint64_t rec_last_u = 0;               // replay: the recording's last applied u
    bool loaded = false;                        // replay: the book holds a snapshot
  };
  struct Asset {
    std::string name;
    int128 free = 0, locked = 0;
  };
  struct Order {
    std::uint64_t id = 0;
    std::size_t sym = 0;
    std::string client_id;
    Side side = Side::bid;
    OType type = OType::limit;
    book::TimeInForce tif = book::TimeInForce::gtc;
    std::int64_t price = 0, qty = 0, filled = 0;
    int128 cum_quote = 0;
    int128 locked = 0;  // still locked for this order (atoms of quote for buys, base for sells)
    std::int64_t created_ms = 0, updated_ms = 0;
    bool resting = false;
    const char* closed_as = nullptr;  // final status once closed: FILLED, CANCELED or EXPIRED
  };
  struct ConnState {
    std::uint64_t id = 0;
    WsConnection* conn = nullptr;
    Channel channel = Channel::market;
    bool user_stream = false;
    bool logged_on = false;      // session.logon succeeded: requests may come without apiKey and signature
    std::int64_t connected_ms = 0;
    bool lose_requests = false;  // test hook: requests are read and dropped unanswered
    std::vector<std::pair<std::size_t, StreamKind>> subs;
  };
  struct Delayed {
    std::int64_t due_ns;
    std::uint64_t conn_id;
    std::string text;
  };
  struct Request {
    std::string id = "null";  // as JSON
    std::string method;
    std::vector<std::pair<std::string, std::string>> params;
    std::string bad_param;  // a param whose JSON type we cannot use
    [[nodiscard]] const std::string* get(std::string_view k) const {
      for (const auto& p : params)
        if (p.first == k) return &p.second;
      return nullptr;
    }
  };
  struct ApiError {
    int code;
    std::string msg;
  };

  explicit Impl(const ExchangeConfig& c) : cfg(c) {
    if (!cfg.api_public_key.empty()) pubkey.reset(ed25519_public_key(cfg.api_public_key));
    for (const auto& [name, amount] : cfg.balances) asset(name).free = parse_amount(amount, "simulator.balances." + name);
    std::int64_t seed_shift = 0;
    for (const auto& in : cfg.instruments) {
      auto s = std::make_unique<Symbol>();
      s->spec = in;
      s->price_scale = Scale::from_step(in.price_step);
      s->qty_scale = Scale::from_step(in.qty_step);
      (void)parse_fixed(in.lot_step, s->qty_scale, s->lot, Sign::unsigned_only);
      auto [b, q] = split_symbol(in.symbol);
      s->base = asset(in.base_asset.empty() ? b : in.base_asset).index;
      s->quote = asset(in.quote_asset.empty() ? q : in.quote_asset).index;
      s->quote_per_pq = int128(s->price_scale.multiplier()) * s->qty_scale.multiplier() *
                        pow10_128(kAtomDecimals - s->price_scale.decimals() - s->qty_scale.decimals());
      s->base_per_q = int128(s->qty_scale.multiplier()) * pow10_128(kAtomDecimals - s->qty_scale.decimals());
      GeneratorConfig g;
      g.symbol = in.symbol;
      g.price_scale = s->price_scale;
      g.qty_scale = s->qty_scale;
      g.lot = s->lot;
      if (cfg.mode == Mode::generated) g.start_price = parse_fixed_or_throw(cfg.start_price, s->price_scale, Sign::unsigned_only, "simulator.start_price");
      g.seed = cfg.seed + static_cast<std::uint64_t>(seed_shift++);
      g.depth_levels = static_cast<std::size_t>(cfg.depth_levels);
      g.trade_probability = cfg.trade_probability;
      s->gen = std::make_unique<MarketGenerator>(g);
      s->sink.impl = this;
      s->sink.sym = symbols.size();
      s->gen->set_sink(&s->sink);
      s->gen->set_time_ms(wall_ms());
      if (cfg.mode == Mode::generated) s->gen->seed_book();
      else s->parser = std::make_unique<venue::binance::MdParser>(s->price_scale, s->qty_scale);
      symbols.push_back(std::move(s));
    }
    if (cfg.mode == Mode::replay) load_replay();
  }

  // ---- assets -----------------------------------------------------------------------------------------
  struct AssetRef {
    std::size_t index;
    Asset& a;
    Asset& operator*() { return a; }
  };
  struct AssetIdx {
    std::size_t index;
  };
  AssetIdx asset_index(const std::string& name) {
    for (std::size_t i = 0; i < assets.size(); ++i)
      if (assets[i].name == name) return {i};
    assets.push_back(Asset{name, 0, 0});
    return {assets.size() - 1};
  }
  struct AssetHandle {
    Asset& a;
    std::size_t index;
    int128& free = a.free;
  };
  AssetHandle asset(const std::string& name) {
    const std::size_t i = asset_index(name).index;
    return AssetHandle{assets[i], i};
  }

  Symbol* find_symbol(std::string_view name, std::size_t* index = nullptr) {
    for (std::size_t i = 0; i < symbols.size(); ++i)
      if (symbols[i]->spec.symbol == name) {
        if (index) *index = i;
        return symbols[i].get();
      }
    return nullptr;
  }

  // ---- serving ------------------------------------------------------------------------------------------
  void attach(net::Reactor& r) {
    reactor = &r;
    net::WsServerConfig sc;
    sc.host = cfg.host;
    sc.port = static_cast<std::uint16_t>(cfg.port);
    sc.max_write_buffer = std::size_t{64} << 20;
    sc.tcp.no_delay = true;
    server = std::make_unique<net::WsServer>(r, sc);
    server->on_open = [this](WsConnection& c) { on_open(c); };
    server->on_close = [this](WsConnection& c, const net::WsCloseInfo&) { on_close(c); };
    server->on_message = [this](WsConnection& c, const WsMessage& m) { on_message(c, m); };
    gen_timer = std::make_unique<net::Timer>(r, [this] { on_gen_timer(); });
    delay_timer = std::make_unique<net::Timer>(r, [this] { on_delay_timer(); });
    last_gen_ns = mono_ns();
    if (cfg.mode == Mode::generated && cfg.event_rate > 0)
      gen_timer->arm(std::chrono::milliseconds(1), std::chrono::milliseconds(1));
    else
      gen_timer->arm(std::chrono::milliseconds(1));
  }

  void detach() {
    shutting_down = true;
    if (server) server->for_each_open([](WsConnection& c) { c.close(net::close_code::kGoingAway, "simulator stopped"); });
    gen_timer.reset();
    delay_timer.reset();
    server.reset();
    conns.clear();
    for (auto& s : symbols)
      for (auto& v : s->subs) v.clear();
    delayed.clear();
    reactor = nullptr;
    stats_connections.set(0);
    stats_market.set(0);
    stats_api.set(0);
  }

  std::uint16_t port() const { return server ? server->port() : 0; }

  void on_open(WsConnection& c) {
    auto st = std::make_unique<ConnState>();
    st->id = ++next_conn_id;
    st->conn = &c;
    st->connected_ms = wall_ms();
    c.user_data = st.get();
    ConnState* cs = st.get();
    conns.emplace(cs->id, std::move(st));
    stats_accepted.add();
    const std::string& target = c.request_target();
    const std::size_t q = target.find('?');
    const std::string path = target.substr(0, q);
    const std::string query = q == std::string::npos ? "" : target.substr(q + 1);
    if (path == "/ws-api/v3") {
      cs->channel = Channel::api;
    } else if (path == "/stream" || path == "/stream/") {
      cs->channel = Channel::market;
      std::string streams;
      for (std::size_t pos = 0; pos < query.size();) {
        std::size_t amp = query.find('&', pos);
        if (amp == std::string::npos) amp = query.size();
        const std::string kv = query.substr(pos, amp - pos);
        if (kv.rfind("streams=", 0) == 0) streams = kv.substr(8);
        pos = amp + 1;
      }
      // %2F / %40 as some clients encode them
      std::string decoded;
      for (std::size_t i = 0; i < streams.size(); ++i) {
        if (streams[i] == '%' && i + 2 < streams.size()) {
          decoded += static_cast<char>(std::strtol(streams.substr(i + 1, 2).c_str(), nullptr, 16));
          i += 2;
        } else {
          decoded += streams[i];
        }
      }
      std::size_t pos = 0;
      while (pos < decoded.size()) {
        std::size_t slash = decoded.find('/', pos);
        if (slash == std::string::npos) slash = decoded.size();
        const std::string name = decoded.substr(pos, slash - pos);
        pos = slash + 1;
        if (name.empty()) continue;
        if (!subscribe(*cs, name)) {
          c.close(net::close_code::kPolicyViolation, ("unknown stream '" + name + "'").substr(0, 120));
          return;
        }
      }
    } else {
      c.close(net::close_code::kPolicyViolation, ("unknown path '" + path + "'").substr(0, 120));
      return;
    }
    count_conns();
  }

  void count_conns() {
    std::uint64_t m = 0, a = 0;
    for (auto& [id, cs] : conns) (cs->channel == Channel::market ? m : a) += 1;
    stats_connections.set(m + a);
    stats_market.set(m);
    stats_api.set(a);
  }

  // "btcusdt@depth@100ms" -> subscribed. False when it is not a stream we serve.
  bool subscribe(ConnState& cs, const std::string& name) {
    const std::size_t at = name.find('@');
    if (at == std::string::npos) return false;
    const std::string sym = name.substr(0, at);
    const std::string kind = name.substr(at + 1);
    StreamKind k;
    if (kind == "depth" || kind == "depth@100ms" || kind == "depth@0ms") k = StreamKind::depth;
    else if (kind == "bookTicker" || kind == "bookticker") k = StreamKind::book_ticker;
    else if (kind == "trade") k = StreamKind::trade;
    else return false;
    for (std::size_t i = 0; i < symbols.size(); ++i) {
      if (symbols[i]->gen->lower_symbol() != sym) continue;
      for (const auto& [si, sk] : cs.subs)
        if (si == i && sk == k) return true;  // already
      cs.subs.emplace_back(i, k);
      std::string prefix = "{\"stream\":\"";
      json_escape(prefix, name);
      prefix += "\",\"data\":";
      symbols[i]->subs[static_cast<std::size_t>(k)].push_back(Sub{&cs, std::move(prefix)});
      return true;
    }
    return false;
  }
  void unsubscribe_all(ConnState& cs) {
    for (const auto& [si, sk] : cs.subs) {
      auto& v = symbols[si]->subs[static_cast<std::size_t>(sk)];
      v.erase(std::remove_if(v.begin(), v.end(), [&](const Sub& s) { return s.conn == &cs; }), v.end());
    }
    cs.subs.clear();
  }

  void on_close(WsConnection& c) {
    if (shutting_down) return;
    auto* cs = static_cast<ConnState*>(c.user_data);
    if (cs == nullptr) return;
    c.user_data = nullptr;
    unsubscribe_all(*cs);
    conns.erase(cs->id);
    count_conns();
  }

  void on_message(WsConnection& c, const WsMessage& m) {
    auto* cs = static_cast<ConnState*>(c.user_data);
    if (cs == nullptr || !m.is_text()) return;
    if (cs->channel == Channel::api) {
      handle_request(*cs, m.data);
    } else {
      handle_market_request(*cs, m.data);
    }
  }

  bool any_subscriber() const {
    for (const auto& s : symbols)
      for (const auto& v : s->subs)
        if (!v.empty()) return true;
    return false;
  }
  // A subscriber's send queue is above the high-water mark: generation waits instead of buffering more.
  bool backpressured() const {
    for (const auto& s : symbols)
      for (const auto& v : s->subs)
        for (const auto& sub : v)
          if (sub.conn->conn->write_queue_bytes() > kQueueHighWater) return true;
    return false;
  }

  void on_market(std::size_t si, StreamKind kind, std::string_view data) noexcept {
    stats_generated.add();
    (kind == StreamKind::depth ? stats_depth : kind == StreamKind::trade ? stats_trades : stats_tickers).add();
    auto& subs = symbols[si]->subs[static_cast<std::size_t>(kind)];
    for (std::size_t i = 0; i < subs.size(); ++i) {
      Sub& s = subs[i];
      WsConnection& c = *s.conn->conn;
      const std::size_t n = s.prefix.size() + data.size() + 1;
      std::uint8_t* p = c.prepare(n);
      if (p == nullptr) {
        if (c.is_open()) c.abort("simulator: subscriber too slow (send buffer full)");
        continue;
      }
      std::memcpy(p, s.prefix.data(), s.prefix.size());
      std::memcpy(p + s.prefix.size(), data.data(), data.size());
      p[n - 1] = '}';
      c.commit(net::Opcode::kText, n);
      stats_sent.add();
    }
  }

  // ---- generation / replay pacing ---------------------------------------------------------------------
  std::size_t generate(std::size_t messages) {
    std::size_t produced = 0;
    const std::int64_t now = wall_ms();
    for (auto& s : symbols) s->gen->set_time_ms(now);
    std::size_t k = 0;
    while (produced < messages) {
      produced += symbols[k]->gen->step();
      if (++k == symbols.size()) k = 0;
    }
    return produced;
  }

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
        gen_credit -= static_cast<double>(generate(n));
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
      generate(kBatch);
      gen_timer->arm(std::chrono::nanoseconds(1));
    }
  }

  // ---- replay -------------------------------------------------------------------------------------------
  struct Line {
    std::int64_t ns;
    std::string_view json;
    std::size_t sym;
  };

  void load_replay() {
    for (const auto& f : cfg.replay_files) {
      std::vector<std::string> lines = md::read_recorded_lines(f);
      if (lines.empty()) throw ConfigError("simulator.replay_files: '" + f + "' holds no recorded lines");
      std::size_t file_sym = SIZE_MAX;
      std::vector<std::size_t> snapshot_lines;
      const std::size_t first = replay_store.size();
      for (auto& l : lines) replay_store.push_back(std::move(l));
      for (std::size_t i = first; i < replay_store.size(); ++i) {
        const std::string& l = replay_store[i];
        const std::size_t sp = l.find(' ');
        if (sp == std::string::npos) continue;
        Line line{std::strtoll(l.c_str(), nullptr, 10), std::string_view(l).substr(sp + 1), SIZE_MAX};
        const std::size_t s = line.json.find("\"s\":\"");
        if (s != std::string_view::npos) {
          const std::size_t e = line.json.find('"', s + 5);
          std::size_t idx = 0;
          if (find_symbol(line.json.substr(s + 5, e - s - 5), &idx)) {
            line.sym = idx;
            if (file_sym == SIZE_MAX) file_sym = idx;
          }
        } else if (line.json.find("\"lastUpdateId\"") != std::string_view::npos) {
          snapshot_lines.push_back(replay.size());
        }
        replay.push_back(line);
      }
      if (file_sym == SIZE_MAX)
        throw ConfigError("simulator.replay_files: '" + f + "' holds no messages for the listed instruments");
      for (std::size_t li : snapshot_lines) replay[li].sym = file_sym;
    }
    // Each symbol's book starts from its first snapshot (the lines before it are the buffered diffs a
    // client's sync handles); a symbol without one starts empty at its first diff.
    for (const Line& l : replay) {
      if (l.sym == SIZE_MAX || l.json.find("\"lastUpdateId\"") == std::string_view::npos) continue;
      Symbol& s = *symbols[l.sym];
      if (s.loaded) continue;
      md::MdMessage msg;
      if (!s.parser->parse_unpadded(l.json, 0, msg, level_buf()).ok() || msg.kind != md::MdKind::depth_snapshot) continue;
      for (const auto& lv : msg.snapshot.bids) s.gen->set_market_level(Side::bid, lv.price.raw(), lv.qty.raw());
      for (const auto& lv : msg.snapshot.asks) s.gen->set_market_level(Side::ask, lv.price.raw(), lv.qty.raw());
      s.gen->set_last_update_id(msg.snapshot.last_update_id);
      s.rec_last_u = msg.snapshot.last_update_id;
      s.loaded = true;
    }
  }
  std::span<md::Level> level_buf() {
    if (levels.empty()) levels.resize(1u << 16);
    return {levels.data(), levels.size()};
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
    for (auto& s : symbols) s->gen->set_time_ms(ms);
    if (cfg.replay_pace == Pace::fast) {
      for (std::size_t n = 0; n < kBatch && replay_pos < replay.size(); ++n) serve_line(replay[replay_pos++]);
      if (replay_pos < replay.size()) gen_timer->arm(std::chrono::nanoseconds(1));
      else stats_replay_done.set(1);
      return;
    }
    while (replay_pos < replay.size() && replay[replay_pos].ns - replay_ns0 <= now - replay_t0)
      serve_line(replay[replay_pos++]);
    if (replay_pos < replay.size())
      gen_timer->arm(std::chrono::nanoseconds(std::max<std::int64_t>(1, replay[replay_pos].ns - replay_ns0 - (now - replay_t0))));
    else
      stats_replay_done.set(1);
  }

  bool has_account_orders(std::size_t si) const {
    for (const auto& [id, o] : orders)
      if (o.sym == si && o.resting) return true;
    return false;
  }

  void serve_line(const Line& l) {
    stats_replay_lines.add();
    if (l.sym == SIZE_MAX) return;
    Symbol& s = *symbols[l.sym];
    md::MdMessage msg;
    if (!s.parser->parse_unpadded(l.json, 0, msg, level_buf()).ok()) return;
    MarketGenerator& g = *s.gen;
    const std::uint64_t offset = g.last_update_id() - s.rec_last_u;  // synthetic updates published so far
    const std::size_t d = l.json.find("\"data\":");
    std::string_view data = l.json;
    if (d != std::string_view::npos && l.json.size() > d + 8) data = l.json.substr(d + 7, l.json.size() - d - 8);
    const bool account = has_account_orders(l.sym);
    switch (msg.kind) {
      case md::MdKind::depth_update: {
        const md::DepthUpdate& u = msg.depth;
        const bool fresh = u.last_id > s.rec_last_u;
        if (fresh) {
          for (const auto& lv : u.bids) g.set_market_level(Side::bid, lv.price.raw(), lv.qty.raw());
          for (const auto& lv : u.asks) g.set_market_level(Side::ask, lv.price.raw(), lv.qty.raw());
          s.rec_last_u = u.last_id;
          g.set_last_update_id(u.last_id + offset);
        }
        if (offset == 0 && !account) {
          on_market(l.sym, StreamKind::depth, data);
        } else {
          rewrite_diff(s, l.sym, msg, offset, fresh);
        }
        break;
      }
      case md::MdKind::book_ticker: {
        if (offset == 0 && !account) {
          on_market(l.sym, StreamKind::book_ticker, data);
        } else {
          rewrite_ticker(s, l.sym, msg.ticker, offset);
        }
        break;
      }
      case md::MdKind::trade: {
        on_market(l.sym, StreamKind::trade, data);
        // The recorded aggressor executes against the account's orders it reaches (price-time order).
        const Side aggressor = msg.trade.buyer_is_maker ? Side::ask : Side::bid;
        bool crosses = false;
        for (const auto& [id, o] : orders)
          if (o.sym == l.sym && o.resting && o.side != aggressor &&
              (aggressor == Side::ask ? o.price >= msg.trade.price.raw() : o.price <= msg.trade.price.raw()))
            crosses = true;
        if (crosses) {
          g.clear_touched();
          touched_sym = l.sym;
          g.replay_trade(aggressor, msg.trade.price.raw(), msg.trade.qty.raw());
          touched_sym = SIZE_MAX;
          g.publish_account_levels();  // the levels it consumed (fresh ids)
        }
        break;
      }
      default:
        break;  // snapshots (loaded at start), aggTrades
    }
  }

  void rewrite_diff(Symbol& s, std::size_t si, const md::MdMessage& msg, std::uint64_t offset, bool fresh) {
    const MarketGenerator& g = *s.gen;
    char tmp[kMaxFixedText];
    std::string& o = scratch;
    o.clear();
    o += "{\"e\":\"depthUpdate\",\"E\":" + std::to_string(msg.venue_time_ns / 1'000'000) + ",\"s\":\"" + s.spec.symbol +
         "\",\"U\":" + std::to_string(msg.depth.first_id + offset) + ",\"u\":" + std::to_string(msg.depth.last_id + offset);
    for (int side = 0; side < 2; ++side) {
      o += side == 0 ? ",\"b\":[" : "],\"a\":[";
      const auto& lv = side == 0 ? msg.depth.bids : msg.depth.asks;
      for (std::size_t i = 0; i < lv.size(); ++i) {
        if (i) o += ',';
        o += "[\"";
        o.append(tmp, g.write_price(lv[i].price.raw(), tmp));
        o += "\",\"";
        // Served quantity: the market's plus the account's resting there (the engine's level total).
        const std::int64_t q = fresh ? g.level_qty(side == 0 ? Side::bid : Side::ask, lv[i].price.raw()) : lv[i].qty.raw();
        o.append(tmp, g.write_qty(q, tmp));
        o += "\"]";
      }
    }
    o += "]}";
    on_market(si, StreamKind::depth, o);
  }

  void rewrite_ticker(Symbol& s, std::size_t si, const md::BookTicker& t, std::uint64_t offset) {
    const MarketGenerator& g = *s.gen;
    std::int64_t bp = t.bid_price.raw(), bq = t.bid_qty.raw(), ap = t.ask_price.raw(), aq = t.ask_qty.raw();
    // The account's resting orders at or better than the recorded top are part of the served top.
    for (const auto& [id, o] : orders) {
      if (o.sym != si || !o.resting) continue;
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
    char tmp[kMaxFixedText];
    std::string& o = scratch;
    o.clear();
    o += "{\"u\":" + std::to_string(t.update_id + offset) + ",\"s\":\"" + s.spec.symbol + "\",\"b\":\"";
    o.append(tmp, g.write_price(bp, tmp));
    o += "\",\"B\":\"";
    o.append(tmp, g.write_qty(bq, tmp));
    o += "\",\"a\":\"";
    o.append(tmp, g.write_price(ap, tmp));
    o += "\",\"A\":\"";
    o.append(tmp, g.write_qty(aq, tmp));
    o += "\"}";
    on_market(si, StreamKind::book_ticker, o);
  }

  // ---- WS-API -----------------------------------------------------------------------------------------
  void send_api(std::uint64_t conn_id, std::string text) {
    if (cfg.latency_us > 0) {
      delayed.push_back(Delayed{mono_ns() + cfg.latency_us * 1000, conn_id, std::move(text)});
      if (!delay_timer->armed()) delay_timer->arm(std::chrono::microseconds(cfg.latency_us));
      return;
    }
    send_now(conn_id, text);
  }
  void send_now(std::uint64_t conn_id, const std::string& text) {
    auto it = conns.find(conn_id);
    if (it == conns.end()) return;
    WsConnection& c = *it->second->conn;
    if (c.send_text(text) == net::SendStatus::kBackpressure) c.abort("simulator: client too slow (send buffer full)");
  }
  void on_delay_timer() {
    const std::int64_t now = mono_ns();
    while (!delayed.empty() && delayed.front().due_ns <= now) {
      send_now(delayed.front().conn_id, delayed.front().text);
      delayed.pop_front();
    }
    if (!delayed.empty()) delay_timer->arm(std::chrono::nanoseconds(delayed.front().due_ns - now));
  }
  void push_report(const std::string& event) {
    std::string text = "{\"subscriptionId\":0,\"event\":" + event + "}";
    for (auto& [id, cs] : conns)
      if (cs->user_stream) {
        if (deferring) deferred_reports.emplace_back(id, text);
        else send_api(id, text);
      }
  }

  void reply_ok(ConnState& cs, const Request& r, const std::string& result) {
    send_api(cs.id, "{\"id\":" + r.id + ",\"status\":200,\"result\":" + result + "}");
  }
  void reply_err(ConnState& cs, const std::string& id, int code, const std::string& msg) {
    stats_rejects.add();
    rejects_by_code[reject_index(code)].add();
    std::string t = "{\"id\":" + id + ",\"status\":400,\"error\":{\"code\":" + std::to_string(code) + ",\"msg\":\"";
    json_escape(t, msg);
    t += "\"}}";
    send_api(cs.id, std::move(t));
  }
  static ApiError mandatory(std::string_view p) {
    return {-1102, "Mandatory parameter '" + std::string(p) + "' was not sent, was empty/null, or malformed."};
  }
  static ApiError illegal(std::string_view p) { return {-1100, "Illegal characters found in parameter '" + std::string(p) + "'."}; }

  // Parses {"id":..,"method":..,"params":{..}}. False (with r.id as far as read) on malformed JSON.
  bool parse_request(std::string_view text, Request& r) {
    simdjson::padded_string ps(text);
    simdjson::ondemand::document doc;
    if (json.iterate(ps).get(doc)) return false;
    simdjson::ondemand::object obj;
    if (doc.get_object().get(obj)) return false;
    for (auto field : obj) {
      std::string_view key;
      if (field.unescaped_key().get(key)) return false;
      simdjson::ondemand::value v;
      if (field.value().get(v)) return false;
      if (key == "id") {
        simdjson::ondemand::json_type t;
        if (v.type().get(t)) return false;
        if (t == simdjson::ondemand::json_type::string) {
          std::string_view s;
          if (v.get_string().get(s)) return false;
          r.id = "\"";
          json_escape(r.id, s);
          r.id += "\"";
        } else if (t == simdjson::ondemand::json_type::number) {
          std::string_view raw = v.raw_json_token();
          while (!raw.empty() && (raw.back() == ' ' || raw.back() == '\n' || raw.back() == '\r' || raw.back() == '\t')) raw.remove_suffix(1);
          r.id = std::string(raw);
        } else {
          r.id = "null";
          if (t != simdjson::ondemand::json_type::null) return false;
        }
      } else if (key == "method") {
        std::string_view s;
        if (v.get_string().get(s)) return false;
        r.method = std::string(s);
      } else if (key == "params") {
        simdjson::ondemand::object po;
        if (v.get_object().get(po)) return false;
        for (auto pf : po) {
          std::string_view pk;
          if (pf.unescaped_key().get(pk)) return false;
          simdjson::ondemand::value pv;
          if (pf.value().get(pv)) return false;
          simdjson::ondemand::json_type t;
          if (pv.type().get(t)) return false;
          std::string value;
          if (t == simdjson::ondemand::json_type::string) {
            std::string_view s;
            if (pv.get_string().get(s)) return false;
            value = std::string(s);
          } else if (t == simdjson::ondemand::json_type::number || t == simdjson::ondemand::json_type::boolean) {
            std::string_view raw = pv.raw_json_token();
            while (!raw.empty() && (raw.back() == ' ' || raw.back() == '\n' || raw.back() == '\r' || raw.back() == '\t')) raw.remove_suffix(1);
            value = std::string(raw);
          } else {
            // null / array / object: not a parameter value (skipped by the iterator)
            if (r.bad_param.empty()) r.bad_param = std::string(pk);
            continue;
          }
          r.params.emplace_back(std::string(pk), std::move(value));
        }
      }
    }
    return true;
  }

  void handle_market_request(ConnState& cs, std::string_view text) {
    Request r;
    simdjson::padded_string ps(text);
    simdjson::ondemand::document doc;
    std::string method, id = "null";
    std::vector<std::string> names;
    bool ok = !json.iterate(ps).get(doc);
    if (ok) {
      simdjson::ondemand::object obj;
      ok = !doc.get_object().get(obj);
      if (ok) {
        for (auto field : obj) {
          std::string_view key;
          if (field.unescaped_key().get(key)) {
            ok = false;
            break;
          }
          if (key == "method") {
            std::string_view s;
            ok = ok && !field.value().get_string().get(s);
            method = std::string(s);
          } else if (key == "id") {
            std::string_view raw = field.value().raw_json_token();
            while (!raw.empty() && raw.back() <= ' ') raw.remove_suffix(1);
            id = std::string(raw);
          } else if (key == "params") {
            simdjson::ondemand::array arr;
            if (field.value().get_array().get(arr)) {
              ok = false;
              break;
            }
            for (auto e : arr) {
              std::string_view s;
              if (e.get_string().get(s)) {
                ok = false;
                break;
              }
              names.emplace_back(s);
            }
          }
        }
      }
    }
    if (!ok || (method != "SUBSCRIBE" && method != "UNSUBSCRIBE" && method != "LIST_SUBSCRIPTIONS")) {
      std::string t = "{\"error\":{\"code\":2,\"msg\":\"Invalid request\"},\"id\":" + id + "}";
      cs.conn->send_text(t);
      return;
    }
    if (method == "SUBSCRIBE") {
      for (const auto& n : names)
        if (!subscribe(cs, n)) {
          cs.conn->close(net::close_code::kPolicyViolation, ("unknown stream '" + n + "'").substr(0, 120));
          return;
        }
    } else if (method == "UNSUBSCRIBE") {
      unsubscribe_all(cs);  // coarse: drops every stream of the connection, then re-adds the others
      (void)names;
    }
    cs.conn->send_text("{\"result\":null,\"id\":" + id + "}");
  }

  static std::string hmac_hex(const std::string& secret, const std::string& payload) {
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()), reinterpret_cast<const unsigned char*>(payload.data()),
         payload.size(), md, &len);
    static const char* hex = "0123456789abcdef";
    std::string out;
    for (unsigned i = 0; i < len; ++i) {
      out += hex[md[i] >> 4];
      out += hex[md[i] & 15];
    }
    return out;
  }

  // Whether a base64 Ed25519 signature of `payload` verifies with the configured public key.
  bool ed25519_valid(const std::string& payload, const std::string& b64) const {
    if (!pubkey || b64.size() != 88) return false;
    unsigned char sig[66];
    if (EVP_DecodeBlock(sig, reinterpret_cast<const unsigned char*>(b64.data()), 88) != 66) return false;  // 64 + padding
    EVP_MD_CTX* md = EVP_MD_CTX_new();
    const bool ok = md != nullptr && EVP_DigestVerifyInit(md, nullptr, nullptr, nullptr, pubkey.get()) == 1 &&
                    EVP_DigestVerify(md, sig, 64, reinterpret_cast<const unsigned char*>(payload.data()), payload.size()) == 1;
    EVP_MD_CTX_free(md);
    return ok;
  }

  // A request that needs authentication: signed, or (after session.logon) by its connection. A logon must
  // be signed with the Ed25519 key.
  std::optional<ApiError> check_signature(const ConnState& cs, const Request& r, bool logon) {
    if (!logon && cs.logged_on && r.get("apiKey") == nullptr && r.get("signature") == nullptr) {
      if (r.get("timestamp") == nullptr) return mandatory("timestamp");
      stats_unsigned.add();
      return std::nullopt;
    }
    if (cfg.api_key.empty()) return std::nullopt;
    const std::string* key = r.get("apiKey");
    if (key == nullptr) return mandatory("apiKey");
    const std::string* sig = r.get("signature");
    if (sig == nullptr) return mandatory("signature");
    if (r.get("timestamp") == nullptr) return mandatory("timestamp");
    if (*key != cfg.api_key) return ApiError{-1022, "Signature for this request is not valid."};
    std::vector<std::pair<std::string, std::string>> p;
    for (const auto& kv : r.params)
      if (kv.first != "signature") p.push_back(kv);
    std::sort(p.begin(), p.end());
    std::string payload;
    for (const auto& [k, v] : p) {
      if (!payload.empty()) payload += '&';
      payload += k + "=" + v;
    }
    const bool valid = ed25519_valid(payload, *sig) ||
                       (!logon && !cfg.api_secret.empty() && hmac_hex(cfg.api_secret, payload) == *sig);
    if (!valid) return ApiError{-1022, "Signature for this request is not valid."};
    return std::nullopt;
  }

  void api_logon(ConnState& cs, const Request& r) {
    cs.logged_on = true;
    stats_logons.add();
    const std::string* key = r.get("apiKey");
    std::string res = "{\"apiKey\":\"";
    json_escape(res, key != nullptr ? *key : std::string());
    const std::int64_t now = wall_ms();
    res += "\",\"authorizedSince\":" + std::to_string(now) + ",\"connectedSince\":" + std::to_string(cs.connected_ms) +
           ",\"returnRateLimits\":false,\"serverTime\":" + std::to_string(now) +
           ",\"userDataStream\":" + (cs.user_stream ? "true" : "false") + "}";
    reply_ok(cs, r, res);
  }

  void handle_request(ConnState& cs, std::string_view text) {
    if (cs.lose_requests) {
      stats_lost.add();
      return;
    }
    stats_requests.add();
    Request r;
    if (!parse_request(text, r)) {
      reply_err(cs, r.id, -1000, "Malformed request: invalid JSON.");
      return;
    }
    if (!r.bad_param.empty()) {
      reply_err(cs, r.id, -1102, mandatory(r.bad_param).msg);
      return;
    }
    std::optional<ApiError> e;
    const bool logon = r.method == "session.logon";
    const bool is_signed = logon || r.method == "order.place" || r.method == "order.cancel" ||
                           r.method == "order.status" || r.method == "openOrders.cancelAll" ||
                           r.method == "userDataStream.subscribe.signature";
    if (is_signed) e = check_signature(cs, r, logon);
    if (r.method == "depth" && lose_depth > 0) {
      --lose_depth;
      stats_lost.add();
      return;
    }
    if (!e) {
      if (r.method == "depth") e = api_depth(cs, r);
      else if (r.method == "order.place") e = api_place(cs, r);
      else if (r.method == "order.cancel") e = api_cancel(cs, r);
      else if (r.method == "order.status") e = api_order_status(cs, r);
      else if (r.method == "openOrders.cancelAll") e = api_cancel_all(cs, r);
      else if (logon) api_logon(cs, r);
      else if (r.method == "userDataStream.subscribe.signature" || r.method == "userDataStream.subscribe") {
        cs.user_stream = true;
        reply_ok(cs, r, "{\"subscriptionId\":0}");
      } else if (r.method == "ping") reply_ok(cs, r, "{}");
      else if (r.method == "time") reply_ok(cs, r, "{\"serverTime\":" + std::to_string(wall_ms()) + "}");
      else e = ApiError{-1000, "Unknown method '" + r.method + "'."};
    }
    if (e) reply_err(cs, r.id, e->code, e->msg);
  }

  std::optional<ApiError> need_symbol(const Request& r, std::size_t& si) {
    const std::string* s = r.get("symbol");
    if (s == nullptr || s->empty()) return mandatory("symbol");
    if (find_symbol(*s, &si) == nullptr) return ApiError{-1121, "Invalid symbol."};
    return std::nullopt;
  }

  std::optional<ApiError> api_depth(ConnState& cs, const Request& r) {
    std::size_t si = 0;
    if (auto e = need_symbol(r, si)) return e;
    std::size_t limit = 100;
    if (const std::string* l = r.get("limit")) {
      char* end = nullptr;
      const long v = std::strtol(l->c_str(), &end, 10);
      if (l->empty() || *end != '\0' || v <= 0) return illegal("limit");
      limit = static_cast<std::size_t>(std::min<long>(v, 5000));
    }
    std::string result;
    symbols[si]->gen->write_snapshot(limit, result);
    reply_ok(cs, r, result);
    return std::nullopt;
  }

  static bool valid_client_id(const std::string& s) {
    if (s.empty() || s.size() > 36) return false;
    return std::all_of(s.begin(), s.end(), [](char c) {
      return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
    });
  }

  std::string fmt_price(const Symbol& s, std::int64_t v) const { return format_fixed(v, s.price_scale); }
  std::string fmt_qty(const Symbol& s, std::int64_t v) const { return format_fixed(v, s.qty_scale); }

  static const char* status_name(const Order& o) {
    if (o.closed_as != nullptr) return o.closed_as;
    if (o.filled == o.qty) return "FILLED";
    if (o.filled > 0) return "PARTIALLY_FILLED";
    return "NEW";
  }

  std::string report(const Order& o, const char* x, const char* X, std::int64_t last_qty, std::int64_t last_price,
                     std::int64_t trade_id, bool maker, const std::string& c, const std::string& C) {
    const Symbol& s = *symbols[o.sym];
    const std::int64_t now = wall_ms();
    std::string t = "{\"e\":\"executionReport\",\"E\":" + std::to_string(now) + ",\"s\":\"" + s.spec.symbol + "\",\"c\":\"";
    json_escape(t, c);
    t += "\",\"S\":\"";
    t += side_name(o.side);
    t += "\",\"o\":\"";
    t += type_name(o.type);
    t += "\",\"f\":\"";
    t += tif_name(o.tif);
    t += "\",\"q\":\"" + fmt_qty(s, o.qty) + "\",\"p\":\"" + fmt_price(s, o.type == OType::market ? 0 : o.price) +
         "\",\"P\":\"0.00000000\",\"F\":\"0.00000000\",\"g\":-1,\"C\":\"";
    json_escape(t, C);
    t += "\",\"x\":\"";
    t += x;
    t += "\",\"X\":\"";
    t += X;
    t += "\",\"r\":\"NONE\",\"i\":" + std::to_string(o.id) + ",\"l\":\"" + fmt_qty(s, last_qty) + "\",\"z\":\"" +
         fmt_qty(s, o.filled) + "\",\"L\":\"" + fmt_price(s, last_price) + "\",\"n\":\"0\",\"N\":null,\"T\":" +
         std::to_string(now) + ",\"t\":" + std::to_string(trade_id) + ",\"I\":0,\"w\":" +
         (o.resting ? "true" : "false") + ",\"m\":" + (maker ? "true" : "false") + ",\"M\":false,\"O\":" +
         std::to_string(o.created_ms) + ",\"Z\":\"" + format_amount(o.cum_quote) + "\",\"Y\":\"" +
         format_amount(int128(last_price) * last_qty * s.quote_per_pq) + "\",\"Q\":\"0\"}";
    return t;
  }

  // Releases what an order still holds locked (it closed).
  void release(Order& o) {
    Symbol& s = *symbols[o.sym];
    Asset& a = assets[o.side == Side::bid ? s.quote : s.base];
    a.locked -= o.locked;
    a.free += o.locked;
    o.locked = 0;
  }
  // Closes an order. `as` (FILLED, CANCELED, EXPIRED) keeps it answerable by order.status, as the venue
  // does, among the last kClosedKept closed orders; nullptr forgets it (rejected on arrival: it never existed).
  void close_order(std::uint64_t id, const char* as) {
    auto it = orders.find(id);
    if (it == orders.end()) return;
    Order& o = it->second;
    release(o);
    by_client.erase(o.client_id);
    if (as != nullptr) {
      o.closed_as = as;
      o.updated_ms = wall_ms();
      closed_by_client[o.client_id] = id;
      closed_fifo.push_back(id);
      if (closed_fifo.size() > kClosedKept) {
        auto old = closed.find(closed_fifo.front());
        auto oc = closed_by_client.find(old->second.client_id);
        if (oc != closed_by_client.end() && oc->second == old->first) closed_by_client.erase(oc);
        closed.erase(old);
        closed_fifo.pop_front();
      }
      closed.emplace(id, std::move(o));
    }
    orders.erase(it);
  }

  // An execution in which an account order took part (maker, taker or both).
  void on_execution(std::size_t si, const Execution& e) {
    Symbol& s = *symbols[si];
    for (int role = 0; role < 2; ++role) {
      const OrderId id = role == 0 ? e.maker : e.taker;
      if (!MarketGenerator::is_account(id)) continue;
      auto it = orders.find(id);
      if (it == orders.end()) continue;
      Order& o = it->second;
      const std::int64_t q = e.qty.raw();
      const int128 quote = int128(e.price.raw()) * q * s.quote_per_pq;
      const int128 base = int128(q) * s.base_per_q;
      Asset& qa = assets[s.quote];
      Asset& ba = assets[s.base];
      if (o.side == Side::bid) {
        if (o.type != OType::market) {
          const int128 rel = std::min(o.locked, int128(o.price) * q * s.quote_per_pq);
          o.locked -= rel;
          qa.locked -= rel;
          qa.free += rel;
        }
        qa.free -= quote;
        ba.free += base;
      } else {
        const int128 rel = std::min(o.locked, base);
        o.locked -= rel;
        ba.locked -= rel;
        ba.free += rel;
        ba.free -= base;
        qa.free += quote;
      }
      o.filled += q;
      o.cum_quote += quote;
      o.updated_ms = wall_ms();
      const bool done = o.filled >= o.qty;
      if (done) o.resting = false;
      stats_fills.add();
      push_report(report(o, "TRADE", done ? "FILLED" : "PARTIALLY_FILLED", q, e.price.raw(),
                         static_cast<std::int64_t>(e.sequence), role == 0, o.client_id, ""));
      if (done) close_order(id, "FILLED");
    }
    update_resting();
  }
  void update_resting() {
    std::uint64_t n = 0;
    for (const auto& [id, o] : orders) n += o.resting ? 1 : 0;
    stats_resting.set(n);
  }

  std::optional<ApiError> api_place(ConnState& cs, const Request& r) {
    std::size_t si = 0;
    if (auto e = need_symbol(r, si)) return e;
    Symbol& s = *symbols[si];
    const std::string* side_s = r.get("side");
    if (side_s == nullptr || side_s->empty()) return mandatory("side");
    Side side;
    if (*side_s == "BUY") side = Side::bid;
    else if (*side_s == "SELL") side = Side::ask;
    else return illegal("side");
    const std::string* type_s = r.get("type");
    if (type_s == nullptr || type_s->empty()) return mandatory("type");
    OType type;
    if (*type_s == "LIMIT") type = OType::limit;
    else if (*type_s == "MARKET") type = OType::market;
    else if (*type_s == "LIMIT_MAKER") type = OType::limit_maker;
    else return illegal("type");
    book::TimeInForce tif = book::TimeInForce::gtc;
    if (type == OType::limit) {
      const std::string* t = r.get("timeInForce");
      if (t == nullptr || t->empty()) return mandatory("timeInForce");
      if (*t == "GTC") tif = book::TimeInForce::gtc;
      else if (*t == "IOC") tif = book::TimeInForce::ioc;
      else if (*t == "FOK") tif = book::TimeInForce::fok;
      else return illegal("timeInForce");
    }
    const std::string* qty_s = r.get("quantity");
    if (qty_s == nullptr || qty_s->empty()) return mandatory("quantity");
    std::int64_t qty = 0;
    switch (parse_fixed(*qty_s, s.qty_scale, qty, Sign::unsigned_only)) {
      case FixedStatus::ok: break;
      case FixedStatus::off_grid: return ApiError{-1013, "Filter failure: LOT_SIZE"};
      default: return illegal("quantity");
    }
    if (qty <= 0 || qty % s.lot != 0) return ApiError{-1013, "Filter failure: LOT_SIZE"};
    std::int64_t price = 0;
    if (type != OType::market) {
      const std::string* p = r.get("price");
      if (p == nullptr || p->empty()) return mandatory("price");
      switch (parse_fixed(*p, s.price_scale, price, Sign::unsigned_only)) {
        case FixedStatus::ok: break;
        case FixedStatus::off_grid: return ApiError{-1013, "Filter failure: PRICE_FILTER"};
        default: return illegal("price");
      }
      if (price <= 0) return ApiError{-1013, "Filter failure: PRICE_FILTER"};
    }
    std::string cid;
    if (const std::string* c = r.get("newClientOrderId")) {
      if (!valid_client_id(*c)) return illegal("newClientOrderId");
      cid = *c;
    } else {
      cid = "sim" + std::to_string(next_order_id + 1);
    }
    if (by_client.count(cid) != 0) return ApiError{-2010, "Duplicate order sent."};
    const book::MatchingEngine& eng = s.gen->engine();
    const Side opp = side == Side::bid ? Side::ask : Side::bid;
    if (type == OType::limit_maker) {
      const book::Level b = eng.best(opp);
      if (b.qty.raw() > 0 && (side == Side::bid ? b.price.raw() <= price : b.price.raw() >= price))
        return ApiError{-2010, "Order would immediately match and take."};
    }
    // Funds: buys lock quote at the limit price, sells lock the base; a market buy needs what it would
    // pay walking the book now.
    int128 lock = 0;
    if (side == Side::bid) {
      if (type == OType::market) {
        int128 cost = 0;
        std::int64_t left = qty;
        for (std::size_t i = 0; i < eng.level_count(Side::ask) && left > 0; ++i) {
          const book::Level l = eng.level(Side::ask, i);
          const std::int64_t q = std::min(left, l.qty.raw());
          cost += int128(l.price.raw()) * q * s.quote_per_pq;
          left -= q;
        }
        if (assets[s.quote].free < cost) return ApiError{-2010, "Account has insufficient balance for requested action."};
      } else {
        lock = int128(price) * qty * s.quote_per_pq;
        if (assets[s.quote].free < lock) return ApiError{-2010, "Account has insufficient balance for requested action."};
      }
    } else {
      lock = int128(qty) * s.base_per_q;
      if (assets[s.base].free < lock) return ApiError{-2010, "Account has insufficient balance for requested action."};
    }
    const std::uint64_t id = ++next_order_id;
    Order& o = orders[id];
    o.id = id;
    o.sym = si;
    o.client_id = cid;
    o.side = side;
    o.type = type;
    o.tif = tif;
    o.price = price;
    o.qty = qty;
    o.locked = lock;
    o.created_ms = o.updated_ms = wall_ms();
    o.resting = type != OType::market;  // for the NEW report's w
    Asset& la = assets[side == Side::bid ? s.quote : s.base];
    la.free -= lock;
    la.locked += lock;
    by_client[cid] = id;
    stats_orders.add();
    const std::string new_report = report(o, "NEW", "NEW", 0, 0, -1, false, cid, "");
    const std::int64_t created_ms = o.created_ms;  // `o` may be gone after submit (filled on arrival)

    book::OrderRequest req;
    req.id = id;
    req.side = side;
    req.type = type == OType::market ? book::OrderType::market : book::OrderType::limit;
    req.tif = type == OType::limit ? tif : book::TimeInForce::gtc;
    req.post_only = type == OType::limit_maker;
    req.price = Price(price);
    req.qty = Qty(qty);
    deferring = true;
    deferred_reports.clear();
    const book::OrderResult res = s.gen->submit_account(req);
    deferring = false;
    if (res.status == book::OrderStatus::rejected_full || res.status == book::OrderStatus::rejected_post_only ||
        res.status == book::OrderStatus::rejected_duplicate || res.status == book::OrderStatus::rejected_invalid) {
      close_order(id, nullptr);
      update_resting();
      return res.status == book::OrderStatus::rejected_post_only
                 ? ApiError{-2010, "Order would immediately match and take."}
                 : ApiError{-2010, "Order rejected: the simulator's book is full."};
    }
    reply_ok(cs, r,
             "{\"symbol\":\"" + s.spec.symbol + "\",\"orderId\":" + std::to_string(id) +
                 ",\"orderListId\":-1,\"clientOrderId\":\"" + cid + "\",\"transactTime\":" + std::to_string(created_ms) + "}");
    push_report(new_report);
    for (auto& [cid2, text] : deferred_reports) send_api(cid2, std::move(text));
    deferred_reports.clear();
    auto it = orders.find(id);
    if (it != orders.end()) {
      Order& live = it->second;
      if (res.status == book::OrderStatus::resting) {
        live.resting = true;
      } else {  // IOC / FOK / market remainder (or an FOK that could not fill) expires
        live.resting = false;
        push_report(report(live, "EXPIRED", "EXPIRED", 0, 0, -1, false, live.client_id, ""));
        close_order(id, "EXPIRED");
      }
    }
    update_resting();
    return std::nullopt;
  }

  // The fields an order's responses share (cancel, order.status): "price":..,"side":"..".
  std::string order_fields(const Order& o, const char* status) const {
    const Symbol& s = *symbols[o.sym];
    return "\"price\":\"" + fmt_price(s, o.type == OType::market ? 0 : o.price) + "\",\"origQty\":\"" +
           fmt_qty(s, o.qty) + "\",\"executedQty\":\"" + fmt_qty(s, o.filled) + "\",\"cummulativeQuoteQty\":\"" +
           format_amount(o.cum_quote) + "\",\"status\":\"" + status + "\",\"timeInForce\":\"" + tif_name(o.tif) +
           "\",\"type\":\"" + type_name(o.type) + "\",\"side\":\"" + side_name(o.side) + "\"";
  }

  std::string cancel_result(const Order& o, const std::string& new_cid) {
    const Symbol& s = *symbols[o.sym];
    return "{\"symbol\":\"" + s.spec.symbol + "\",\"origClientOrderId\":\"" + o.client_id + "\",\"orderId\":" +
           std::to_string(o.id) + ",\"orderListId\":-1,\"clientOrderId\":\"" + new_cid + "\",\"transactTime\":" +
           std::to_string(wall_ms()) + "," + order_fields(o, "CANCELED") + ",\"selfTradePreventionMode\":\"NONE\"}";
  }

  // The order a request names by origClientOrderId (open orders; and closed ones when `closed_too`) or by
  // orderId. id stays 0 when no order has that client id.
  std::optional<ApiError> requested_order(const Request& r, bool closed_too, std::uint64_t& id) const {
    if (const std::string* c = r.get("origClientOrderId"); c != nullptr && !c->empty()) {
      if (auto it = by_client.find(*c); it != by_client.end()) {
        id = it->second;
      } else if (closed_too) {
        if (auto ct = closed_by_client.find(*c); ct != closed_by_client.end()) id = ct->second;
      }
    } else if (const std::string* oid = r.get("orderId"); oid != nullptr && !oid->empty()) {
      id = std::strtoull(oid->c_str(), nullptr, 10);
    } else {
      return mandatory("origClientOrderId");
    }
    return std::nullopt;
  }

  // Cancels a resting order: book, funds, report. Returns the response object.
  std::string do_cancel(std::uint64_t id, const std::string& new_cid) {
    Order& o = orders.at(id);
    symbols[o.sym]->gen->cancel_account(id);
    o.resting = false;
    const std::string result = cancel_result(o, new_cid);
    push_report(report(o, "CANCELED", "CANCELED", 0, 0, -1, false, new_cid, o.client_id));
    stats_cancels.add();
    close_order(id, "CANCELED");
    update_resting();
    return result;
  }

  std::string new_cancel_id(const Request& r) {
    if (const std::string* c = r.get("newClientOrderId"); c != nullptr && valid_client_id(*c)) return *c;
    return "simcancel" + std::to_string(++next_cancel_id);
  }

  std::optional<ApiError> api_cancel(ConnState& cs, const Request& r) {
    std::size_t si = 0;
    if (auto e = need_symbol(r, si)) return e;
    std::uint64_t id = 0;
    if (auto e = requested_order(r, false, id)) return e;
    auto it = orders.find(id);
    if (id == 0 || it == orders.end() || it->second.sym != si || !it->second.resting)
      return ApiError{-2011, "Unknown order sent."};
    reply_ok(cs, r, do_cancel(id, new_cancel_id(r)));
    return std::nullopt;
  }

  std::optional<ApiError> api_cancel_all(ConnState& cs, const Request& r) {
    std::size_t si = 0;
    if (auto e = need_symbol(r, si)) return e;
    std::vector<std::uint64_t> ids;
    for (const auto& [id, o] : orders)
      if (o.sym == si && o.resting) ids.push_back(id);
    if (ids.empty()) return ApiError{-2011, "Unknown order sent."};
    std::sort(ids.begin(), ids.end());
    std::string result = "[";
    for (std::size_t i = 0; i < ids.size(); ++i) {
      if (i) result += ',';
      result += do_cancel(ids[i], "simcancel" + std::to_string(++next_cancel_id));
    }
    result += "]";
    reply_ok(cs, r, result);
    return std::nullopt;
  }

  // order.status: an open order or one of the last kClosedKept closed ones; -2013 for any other.
  std::optional<ApiError> api_order_status(ConnState& cs, const Request& r) {
    std::size_t si = 0;
    if (auto e = need_symbol(r, si)) return e;
    std::uint64_t id = 0;
    if (auto e = requested_order(r, true, id)) return e;
    const Order* o = nullptr;
    if (auto it = orders.find(id); it != orders.end()) o = &it->second;
    else if (auto ct = closed.find(id); ct != closed.end()) o = &ct->second;
    if (o == nullptr || o->sym != si) return ApiError{-2013, "Order does not exist."};
    const Symbol& s = *symbols[o->sym];
    reply_ok(cs, r,
             "{\"symbol\":\"" + s.spec.symbol + "\",\"orderId\":" + std::to_string(o->id) +
                 ",\"orderListId\":-1,\"clientOrderId\":\"" + o->client_id + "\"," + order_fields(*o, status_name(*o)) +
                 ",\"stopPrice\":\"0\",\"icebergQty\":\"0\",\"time\":" + std::to_string(o->created_ms) +
                 ",\"updateTime\":" + std::to_string(o->updated_ms) + ",\"isWorking\":" +
                 (o->resting ? "true" : "false") + ",\"workingTime\":" + std::to_string(o->created_ms) +
                 ",\"origQuoteOrderQty\":\"0\",\"selfTradePreventionMode\":\"NONE\"}");
    return std::nullopt;
  }

  // ---- members --------------------------------------------------------------------------------------------
  ExchangeConfig cfg;
  struct PkeyFree {
    void operator()(EVP_PKEY* k) const noexcept { EVP_PKEY_free(k); }
  };
  std::unique_ptr<EVP_PKEY, PkeyFree> pubkey;  // api_public_key, parsed once
  std::vector<std::unique_ptr<Symbol>> symbols;
  std::vector<Asset> assets;
  std::map<std::uint64_t, Order> orders;  // open orders, by id
  std::unordered_map<std::string, std::uint64_t> by_client;
  static constexpr std::size_t kClosedKept = 100000;
  std::unordered_map<std::uint64_t, Order> closed;  // the last kClosedKept closed orders, for order.status
  std::unordered_map<std::string, std::uint64_t> closed_by_client;
  std::deque<std::uint64_t> closed_fifo;
  std::unordered_map<std::uint64_t, std::unique_ptr<ConnState>> conns;
  std::uint64_t next_conn_id = 0;
  std::uint64_t next_order_id = 0;
  std::uint64_t next_cancel_id = 0;
  net::Reactor* reactor = nullptr;
  std::unique_ptr<net::WsServer> server;
  std::unique_ptr<net::Timer> gen_timer, delay_timer;
  std::deque<Delayed> delayed;
  bool deferring = false;
  std::vector<std::pair<std::uint64_t, std::string>> deferred_reports;
  bool shutting_down = false;
  bool paused = false;
  std::int64_t last_gen_ns = 0;
  double gen_credit = 0;
  simdjson::ondemand::parser json;
  std::string scratch;
  std::vector<md::Level> levels;
  std::size_t touched_sym = SIZE_MAX;
  // replay
  std::vector<std::string> replay_store;
  std::vector<Line> replay;
  std::size_t replay_pos = 0;
  bool replay_started = false;
  std::int64_t replay_t0 = 0, replay_ns0 = 0;
  // own thread
  std::unique_ptr<net::Reactor> own_reactor;
  std::thread thread;
  std::thread::id loop_id;
  // stats
  Counter stats_generated, stats_sent, stats_depth, stats_tickers, stats_trades, stats_requests, stats_orders,
      stats_fills, stats_cancels, stats_rejects, stats_connections, stats_market, stats_api, stats_accepted,
      stats_resting, stats_slow, stats_replay_lines, stats_replay_done, stats_lost, stats_logons, stats_unsigned;
  std::array<Counter, kRejectCodes.size()> rejects_by_code;
  std::size_t lose_depth = 0;  // test hook (loop thread): depth requests still to drop unanswered
};

// ---- Exchange ------------------------------------------------------------------------------------------------

Exchange::Exchange(ExchangeConfig cfg) : cfg_(std::move(cfg)) {
  cfg_.validate();
  impl_ = std::make_unique<Impl>(cfg_);
}

Exchange::~Exchange() { stop(); }

template <class F>
auto Exchange::on_loop(F&& f) const {
  Impl& im = *impl_;
  if (!im.thread.joinable() || std::this_thread::get_id() == im.loop_id || !running()) return f();
  using R = decltype(f());
  std::promise<R> p;
  auto fut = p.get_future();
  im.own_reactor->post([&] {
    try {
      if constexpr (std::is_void_v<R>) {
        f();
        p.set_value();
      } else {
        p.set_value(f());
      }
    } catch (...) {
      p.set_exception(std::current_exception());
    }
  });
  return fut.get();
}

void Exchange::attach(net::Reactor& reactor) {
  if (running()) throw Error("simulator: already running");
  impl_->shutting_down = false;
  impl_->attach(reactor);
  port_.store(impl_->port(), std::memory_order_release);
  running_.store(true, std::memory_order_release);
}

void Exchange::start() {
  if (running()) throw Error("simulator: already running");
  Impl& im = *impl_;
  im.own_reactor = std::make_unique<net::Reactor>();
  im.shutting_down = false;
  im.attach(*im.own_reactor);  // binds here: a port in use throws on the caller's thread
  port_.store(im.port(), std::memory_order_release);
  running_.store(true, std::memory_order_release);
  std::promise<void> started;
  auto ready = started.get_future();
  im.thread = std::thread([&im, &started] {
    im.loop_id = std::this_thread::get_id();
    started.set_value();
    im.own_reactor->run();
    im.detach();  // on the loop thread: the connections and timers belong to it
  });
  ready.get();
}

void Exchange::stop() {
  if (!impl_) return;
  Impl& im = *impl_;
  if (im.thread.joinable()) {
    if (std::this_thread::get_id() == im.loop_id) {
      im.own_reactor->stop();  // from a handler: the thread ends after this turn; join in the destructor
      return;
    }
    im.own_reactor->stop();
    im.thread.join();
    im.own_reactor.reset();
    running_.store(false, std::memory_order_release);
    return;
  }
  if (running()) {
    im.detach();
    running_.store(false, std::memory_order_release);
  }
}

std::string Exchange::market_url() const { return "ws://" + cfg_.host + ":" + std::to_string(port()) + "/stream"; }
std::string Exchange::api_url() const { return "ws://" + cfg_.host + ":" + std::to_string(port()) + "/ws-api/v3"; }

ExchangeStats Exchange::stats() const noexcept {
  const Impl& im = *impl_;
  ExchangeStats s;
  s.events_generated = im.stats_generated.get();
  s.events_sent = im.stats_sent.get();
  s.depth_updates = im.stats_depth.get();
  s.book_tickers = im.stats_tickers.get();
  s.trades = im.stats_trades.get();
  s.requests = im.stats_requests.get();
  s.requests_lost = im.stats_lost.get();
  s.orders = im.stats_orders.get();
  s.fills = im.stats_fills.get();
  s.cancels = im.stats_cancels.get();
  s.rejects = im.stats_rejects.get();
  s.logons = im.stats_logons.get();
  s.unsigned_requests = im.stats_unsigned.get();
  for (std::size_t i = 0; i < kRejectCodes.size(); ++i) s.rejects_by_code[i] = im.rejects_by_code[i].get();
  s.connections = im.stats_connections.get();
  s.market_connections = im.stats_market.get();
  s.api_connections = im.stats_api.get();
  s.accepted = im.stats_accepted.get();
  s.resting_orders = im.stats_resting.get();
  s.slow_skips = im.stats_slow.get();
  s.replay_lines = im.stats_replay_lines.get();
  s.replay_done = im.stats_replay_done.get();
  return s;
}

void Exchange::drop_connections() {
  on_loop([this] {
    if (!impl_->server) return;
    impl_->server->for_each_open([](WsConnection& c) { c.abort("dropped by the simulator (test hook)"); });
  });
}

void Exchange::drop_connections(Channel channel) {
  on_loop([this, channel] {
    if (!impl_->server) return;
    // Chosen first, aborted through the server's own walk: an abort closes (and forgets) its ConnState.
    std::vector<const WsConnection*> chosen;
    for (const auto& [id, cs] : impl_->conns)
      if (cs->channel == channel) chosen.push_back(cs->conn);
    impl_->server->for_each_open([&](WsConnection& c) {
      if (std::find(chosen.begin(), chosen.end(), &c) != chosen.end()) c.abort("dropped by the simulator (test hook)");
    });
  });
}

void Exchange::lose_depth_requests(std::size_t n) {
  on_loop([this, n] { impl_->lose_depth = n; });
}

void Exchange::lose_requests() {
  on_loop([this] {
    for (auto& [id, cs] : impl_->conns)
      if (cs->channel == Channel::api) cs->lose_requests = true;
  });
}

void Exchange::skip_sequence(std::string_view symbol) {
  std::size_t si = 0;
  if (impl_->find_symbol(symbol, &si) == nullptr)
    throw ConfigError("skip_sequence: symbol '" + std::string(symbol) + "' is not listed by the simulator");
  on_loop([this, si] { impl_->symbols[si]->gen->skip_next_id(); });
}

void Exchange::pause_market(bool paused) {
  on_loop([this, paused] { impl_->paused = paused; });
}

void Exchange::inject(Channel channel, std::string text) {
  on_loop([this, channel, &text] {
    for (auto& [id, cs] : impl_->conns)
      if (cs->channel == channel) cs->conn->send_text(text);
  });
}

std::vector<OrderInfo> Exchange::orders() const {
  return on_loop([this] {
    std::vector<OrderInfo> out;
    for (const auto& [id, o] : impl_->orders) {
      if (!o.resting) continue;
      const auto& s = *impl_->symbols[o.sym];
      out.push_back(OrderInfo{o.client_id, o.id, s.spec.symbol, side_name(o.side), type_name(o.type),
                              format_fixed(o.price, s.price_scale), format_fixed(o.qty, s.qty_scale),
                              format_fixed(o.filled, s.qty_scale)});
    }
    return out;
  });
}

std::vector<std::pair<std::string, std::string>> Exchange::balances(bool total) const {
  return on_loop([this, total] {
    std::vector<std::pair<std::string, std::string>> out;
    for (const auto& a : impl_->assets) out.emplace_back(a.name, format_amount(total ? a.free + a.locked : a.free));
    return out;
  });
}

Top Exchange::top(std::string_view symbol) const {
  std::size_t si = 0;
  if (impl_->find_symbol(symbol, &si) == nullptr)
    throw ConfigError("top: symbol '" + std::string(symbol) + "' is not listed by the simulator");
  return on_loop([this, si] {
    const MarketGenerator& g = *impl_->symbols[si]->gen;
    const book::Level b = g.engine().best(Side::bid), a = g.engine().best(Side::ask);
    return Top{b.price.raw(), b.qty.raw(), a.price.raw(), a.qty.raw(), g.last_update_id()};
  });
}

std::pair<std::vector<std::pair<std::int64_t, std::int64_t>>, std::vector<std::pair<std::int64_t, std::int64_t>>>
Exchange::book(std::string_view symbol, std::size_t limit) const {
  std::size_t si = 0;
  if (impl_->find_symbol(symbol, &si) == nullptr)
    throw ConfigError("book: symbol '" + std::string(symbol) + "' is not listed by the simulator");
  return on_loop([this, si, limit] {
    const book::MatchingEngine& e = impl_->symbols[si]->gen->engine();
    std::pair<std::vector<std::pair<std::int64_t, std::int64_t>>, std::vector<std::pair<std::int64_t, std::int64_t>>> out;
    for (std::size_t i = 0; i < std::min(limit, e.level_count(Side::bid)); ++i)
      out.first.emplace_back(e.level(Side::bid, i).price.raw(), e.level(Side::bid, i).qty.raw());
    for (std::size_t i = 0; i < std::min(limit, e.level_count(Side::ask)); ++i)
      out.second.emplace_back(e.level(Side::ask, i).price.raw(), e.level(Side::ask, i).qty.raw());
    return out;
  });
}

void Exchange::generate(std::size_t n) { impl_->generate(n); }

}  // namespace hftx::sim
