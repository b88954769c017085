// The simulator's venue-neutral engine (sim/engine.hpp): connections and subscriptions, the account, replay
// loading, stats. Everything runs on the simulator's reactor thread.
#include "hftx/sim/engine.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>

#include "hftx/core/error.hpp"
#include "hftx/md/recording.hpp"

namespace hftx::sim {

// ---- helpers -------------------------------------------------------------------------------------------

std::int64_t wall_ms() noexcept {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}
std::int64_t mono_ns() noexcept {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

int128 pow10_128(int n) noexcept {
  int128 v = 1;
  for (int i = 0; i < n; ++i) v *= 10;
  return v;
}

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

std::string format_amount(int128 v, int decimals) {
  std::string s;
  const bool neg = v < 0;
  if (neg) v = -v;
  const int128 unit = pow10_128(kAtomDecimals);
  uint128 whole = static_cast<uint128>(v / unit);
  const auto frac = static_cast<std::uint64_t>((v % unit) / pow10_128(kAtomDecimals - decimals));
  char tmp[48];
  std::size_t n = 0;
  do {
    tmp[n++] = static_cast<char>('0' + static_cast<int>(whole % 10u));
    whole /= 10u;
  } while (whole != 0u);
  if (neg) s += '-';
  while (n > 0) s += tmp[--n];
  if (decimals > 0) {
    char f[32];
    std::snprintf(f, sizeof f, ".%0*llu", decimals, static_cast<unsigned long long>(frac));
    s += f;
  }
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

// ---- setup -------------------------------------------------------------------------------------------------

Core::Core(const ExchangeConfig& c, const DialectInfo& dialect, std::size_t kinds, std::span<const int> codes)
    : cfg(c),
      info(dialect),
      stream_kinds(kinds),
      reject_codes(codes.subspan(0, std::min(codes.size(), kMaxRejectCodes))) {
  for (const auto& [name, amount] : cfg.balances)
    assets[asset_index(name)].free = parse_amount(amount, "simulator.balances." + name);
  std::int64_t seed_shift = 0;
  instruments.reserve(cfg.instruments.size());
  for (const auto& in : cfg.instruments) {
    Instrument s;
    s.spec = in;
    s.price_scale = Scale::from_step(in.price_step);
    s.qty_scale = Scale::from_step(in.qty_step);
    (void)parse_fixed(in.lot_step, s.qty_scale, s.lot, Sign::unsigned_only);
    const auto [b, q] = info.split_symbol(in.symbol);
    s.base = asset_index(in.base_asset.empty() ? b : in.base_asset);
    s.quote = asset_index(in.quote_asset.empty() ? q : in.quote_asset);
    s.quote_per_pq = int128(s.price_scale.multiplier()) * s.qty_scale.multiplier() *
                     pow10_128(kAtomDecimals - s.price_scale.decimals() - s.qty_scale.decimals());
    s.base_per_q = int128(s.qty_scale.multiplier()) * pow10_128(kAtomDecimals - s.qty_scale.decimals());
    GeneratorConfig g;
    g.price_scale = s.price_scale;
    g.qty_scale = s.qty_scale;
    g.lot = s.lot;
    if (cfg.mode == Mode::generated)
      g.start_price =
          parse_fixed_or_throw(cfg.start_price, s.price_scale, Sign::unsigned_only, "simulator.start_price");
    g.seed = cfg.seed + static_cast<std::uint64_t>(seed_shift++);
    g.depth_levels = static_cast<std::size_t>(cfg.depth_levels);
    g.trade_probability = cfg.trade_probability;
    s.gen = std::make_unique<MarketGenerator>(g);
    s.gen->set_time_ms(wall_ms());
    if (cfg.mode == Mode::generated) s.gen->seed_book();
    else s.parser = make_recording_parser("binance", s.price_scale, s.qty_scale);
    instruments.push_back(std::move(s));
  }
  subs_.resize(instruments.size() * stream_kinds);
  if (cfg.mode == Mode::replay) load_replay();
}

Core::~Core() = default;

std::size_t Core::asset_index(const std::string& name) {
  for (std::size_t i = 0; i < assets.size(); ++i)
    if (assets[i].name == name) return i;
  assets.push_back(Asset{name, 0, 0});
  return assets.size() - 1;
}

std::size_t Core::find_instrument(std::string_view name) const noexcept {
  for (std::size_t i = 0; i < instruments.size(); ++i)
    if (instruments[i].spec.symbol == name) return i;
  return kNone;
}

std::size_t Core::find_recorded(std::string_view name) const noexcept {
  const std::size_t exact = find_instrument(name);
  if (exact != kNone) return exact;
  for (std::size_t i = 0; i < instruments.size(); ++i) {
    const std::string& s = instruments[i].spec.symbol;
    std::size_t j = 0, k = 0;
    for (; j < s.size() && k < name.size(); ++j) {
      if (s[j] == '-' || s[j] == '_' || s[j] == '/') continue;
      if (s[j] != name[k]) break;
      ++k;
    }
    if (j == s.size() && k == name.size()) return i;
  }
  return kNone;
}

// ---- serving ---------------------------------------------------------------------------------------------

void Core::attach_server(net::Reactor& r) {
  reactor = &r;
  net::WsServerConfig sc;
  sc.host = cfg.host;
  sc.port = static_cast<std::uint16_t>(cfg.port);
  sc.max_write_buffer = std::size_t{64} << 20;
  sc.tcp.no_delay = true;
  server = std::make_unique<net::WsServer>(r, sc);
}

void Core::detach_server() {
  shutting_down = true;
  if (server)
    server->for_each_open([](net::WsConnection& c) { c.close(net::close_code::kGoingAway, "simulator stopped"); });
  gen_timer.reset();
  delay_timer.reset();
  tick_timer.reset();
  server.reset();
  conns.clear();
  for (auto& v : subs_) v.clear();
  delayed.clear();
  reactor = nullptr;
  stats_connections.set(0);
  stats_market.set(0);
  stats_api.set(0);
}

Core::Conn* Core::open_conn(net::WsConnection& c) {
  auto st = std::make_unique<Conn>();
  st->id = ++next_conn_id;
  st->ws = &c;
  st->connected_ms = wall_ms();
  c.user_data = st.get();
  Conn* cs = st.get();
  conns.emplace(cs->id, std::move(st));
  stats_accepted.add();
  return cs;
}

Core::Conn* Core::conn(std::uint64_t id) noexcept {
  auto it = conns.find(id);
  return it == conns.end() ? nullptr : it->second.get();
}

void Core::count_conns() noexcept {
  std::uint64_t m = 0, a = 0;
  for (auto& [id, cs] : conns) (cs->channel == Channel::market ? m : a) += 1;
  stats_connections.set(m + a);
  stats_market.set(m);
  stats_api.set(a);
}

bool Core::subscribe(Conn& c, std::uint32_t inst, std::uint8_t kind, std::string prefix) {
  for (const auto& [si, sk] : c.subs)
    if (si == inst && sk == kind) return false;
  c.subs.emplace_back(inst, kind);
  subs_[inst * stream_kinds + kind].push_back(Sub{&c, std::move(prefix)});
  return true;
}

bool Core::unsubscribe(Conn& c, std::uint32_t inst, std::uint8_t kind) {
  const auto it = std::find(c.subs.begin(), c.subs.end(), std::pair<std::uint32_t, std::uint8_t>(inst, kind));
  if (it == c.subs.end()) return false;
  c.subs.erase(it);
  auto& v = subs_[inst * stream_kinds + kind];
  v.erase(std::remove_if(v.begin(), v.end(), [&](const Sub& s) { return s.conn == &c; }), v.end());
  return true;
}

void Core::unsubscribe_all(Conn& c) {
  for (const auto& [si, sk] : c.subs) {
    auto& v = subs_[si * stream_kinds + sk];
    v.erase(std::remove_if(v.begin(), v.end(), [&](const Sub& s) { return s.conn == &c; }), v.end());
  }
  c.subs.clear();
}

void Core::write(Conn& cs, std::string_view head, std::string_view body, std::string_view tail) noexcept {
  net::WsConnection& c = *cs.ws;
  const std::size_t n = head.size() + body.size() + tail.size();
  std::uint8_t* p = c.prepare(n);
  if (p == nullptr) {
    if (c.is_open()) c.abort("simulator: subscriber too slow (send buffer full)");
    return;
  }
  // Empty parts may have no data pointer: memcpy from nullptr is undefined even for 0 bytes.
  if (!head.empty()) std::memcpy(p, head.data(), head.size());
  if (!body.empty()) std::memcpy(p + head.size(), body.data(), body.size());
  if (!tail.empty()) std::memcpy(p + head.size() + body.size(), tail.data(), tail.size());
  c.commit(net::Opcode::kText, n);
  stats_sent.add();
}

bool Core::any_subscriber() const noexcept {
  for (const auto& v : subs_)
    if (!v.empty()) return true;
  return false;
}

bool Core::backpressured() const noexcept {
  for (const auto& v : subs_)
    for (const auto& sub : v)
      if (sub.conn->ws->write_queue_bytes() > kQueueHighWater) return true;
  return false;
}

void Core::send(std::uint64_t conn_id, std::string text) {
  if (cfg.latency_us > 0) {
    delayed.push_back(Delayed{mono_ns() + cfg.latency_us * 1000, conn_id, std::move(text)});
    if (!delay_timer->armed()) delay_timer->arm(std::chrono::microseconds(cfg.latency_us));
    return;
  }
  send_now(conn_id, text);
}

void Core::send_now(std::uint64_t conn_id, std::string_view text) {
  auto it = conns.find(conn_id);
  if (it == conns.end()) return;
  net::WsConnection& c = *it->second->ws;
  if (c.send_text(text) == net::SendStatus::kBackpressure) c.abort("simulator: client too slow (send buffer full)");
}

void Core::on_delay_timer() {
  const std::int64_t now = mono_ns();
  while (!delayed.empty() && delayed.front().due_ns <= now) {
    send_now(delayed.front().conn_id, delayed.front().text);
    delayed.pop_front();
  }
  if (!delayed.empty()) delay_timer->arm(std::chrono::nanoseconds(delayed.front().due_ns - now));
}

void Core::push_report(const std::string& text) {
  for (auto& [id, cs] : conns)
    if (cs->order_stream) {
      if (deferring) deferred_reports.emplace_back(id, text);
      else send(id, text);
    }
}

void Core::report_to(std::uint64_t conn_id, std::string text) {
  if (deferring) deferred_reports.emplace_back(conn_id, std::move(text));
  else send(conn_id, std::move(text));
}

void Core::begin_defer() noexcept {
  deferring = true;
  deferred_reports.clear();
}

void Core::flush_deferred() {
  deferring = false;
  for (auto& [id, text] : deferred_reports) send(id, std::move(text));
  deferred_reports.clear();
}

// ---- the account -------------------------------------------------------------------------------------------

bool Core::would_take(std::uint32_t inst, Side side, std::int64_t price) const noexcept {
  const book::Level b = instruments[inst].gen->engine().best(side == Side::bid ? Side::ask : Side::bid);
  return b.qty.raw() > 0 && (side == Side::bid ? b.price.raw() <= price : b.price.raw() >= price);
}

int128 Core::market_buy_cost(std::uint32_t inst, std::int64_t qty) const noexcept {
  const Instrument& s = instruments[inst];
  const book::MatchingEngine& eng = s.gen->engine();
  int128 cost = 0;
  std::int64_t left = qty;
  for (std::size_t i = 0; i < eng.level_count(Side::ask) && left > 0; ++i) {
    const book::Level l = eng.level(Side::ask, i);
    const std::int64_t q = std::min(left, l.qty.raw());
    cost += int128(l.price.raw()) * q * s.quote_per_pq;
    left -= q;
  }
  return cost;
}

std::int64_t Core::market_buy_qty_for(std::uint32_t inst, int128 quote) const noexcept {
  const Instrument& s = instruments[inst];
  const book::MatchingEngine& eng = s.gen->engine();
  std::int64_t qty = 0;
  for (std::size_t i = 0; i < eng.level_count(Side::ask) && quote > 0; ++i) {
    const book::Level l = eng.level(Side::ask, i);
    const int128 per_q = int128(l.price.raw()) * s.quote_per_pq;  // atoms per qty step at this level
    const int128 level_cost = per_q * l.qty.raw();
    if (level_cost <= quote) {
      qty += l.qty.raw();
      quote -= level_cost;
    } else {
      qty += static_cast<std::int64_t>(quote / per_q);
      quote = 0;
    }
  }
  return qty - qty % s.lot;
}

int128 Core::lock_for(const Instrument& in, Side side, OrderType type, std::int64_t price,
                      std::int64_t qty) const noexcept {
  if (side == Side::ask) return int128(qty) * in.base_per_q;
  if (type == OrderType::market) return 0;
  return int128(price) * qty * in.quote_per_pq;
}

Core::Order& Core::open_order(Order o, int128 lock) {
  const Instrument& s = instruments[o.inst];
  o.id = ++next_order_id;
  o.locked = lock;
  o.created_ms = o.updated_ms = wall_ms();
  Asset& la = assets[o.side == Side::bid ? s.quote : s.base];
  la.free -= lock;
  la.locked += lock;
  if (!o.client_id.empty()) by_client[o.client_id] = o.id;
  stats_orders.add();
  const std::uint64_t id = o.id;
  return orders[id] = std::move(o);
}

void Core::release(Order& o) {
  const Instrument& s = instruments[o.inst];
  Asset& a = assets[o.side == Side::bid ? s.quote : s.base];
  a.locked -= o.locked;
  a.free += o.locked;
  o.locked = 0;
}

void Core::close_order(std::uint64_t id, End end) {
  auto it = orders.find(id);
  if (it == orders.end()) return;
  Order& o = it->second;
  release(o);
  o.resting = false;
  if (!o.client_id.empty()) by_client.erase(o.client_id);
  if (end != End::open) {
    o.end = end;
    o.updated_ms = wall_ms();
    if (!o.client_id.empty()) closed_by_client[o.client_id] = id;
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

Core::Order* Core::apply_fill(std::uint32_t inst, const Execution& e, bool maker, std::uint64_t trade_id, Fill& f) {
  const OrderId id = maker ? e.maker : e.taker;
  auto it = orders.find(id);
  if (it == orders.end()) return nullptr;
  const Instrument& s = instruments[inst];
  Order& o = it->second;
  const std::int64_t q = e.qty.raw();
  const int128 quote = int128(e.price.raw()) * q * s.quote_per_pq;
  const int128 base = int128(q) * s.base_per_q;
  Asset& qa = assets[s.quote];
  Asset& ba = assets[s.base];
  if (o.side == Side::bid) {
    if (o.type != OrderType::market) {
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
  f.qty = q;
  f.price = e.price.raw();
  f.trade_id = trade_id;
  f.sequence = e.sequence;
  f.maker = maker;
  f.done = o.filled >= o.qty;
  if (f.done) o.resting = false;
  return &o;
}

const Core::Order* Core::order_by_client(const std::string& cid, bool closed_too) const noexcept {
  if (auto it = by_client.find(cid); it != by_client.end()) return order_by_id(it->second, false);
  if (closed_too)
    if (auto ct = closed_by_client.find(cid); ct != closed_by_client.end()) return order_by_id(ct->second, true);
  return nullptr;
}

const Core::Order* Core::order_by_id(std::uint64_t id, bool closed_too) const noexcept {
  if (auto it = orders.find(id); it != orders.end()) return &it->second;
  if (closed_too)
    if (auto ct = closed.find(id); ct != closed.end()) return &ct->second;
  return nullptr;
}

Core::Order* Core::open_order_by_id(std::uint64_t id) noexcept {
  auto it = orders.find(id);
  return it == orders.end() ? nullptr : &it->second;
}

void Core::update_resting() noexcept {
  std::uint64_t n = 0;
  for (const auto& [id, o] : orders) n += o.resting ? 1 : 0;
  stats_resting.set(n);
}

void Core::count_reject(int code) noexcept {
  stats_rejects.add();
  std::size_t i = 0;
  for (std::size_t k = 0; k < reject_codes.size(); ++k)
    if (reject_codes[k] == code) i = k;
  if (!reject_codes.empty()) rejects_by_code[i].add();
}

// ---- replay ------------------------------------------------------------------------------------------------

void Core::load_replay() {
  for (const auto& f : cfg.replay_files) {
    std::vector<std::string> lines = md::read_recorded_lines(f);
    if (lines.empty()) throw ConfigError("simulator.replay_files: '" + f + "' holds no recorded lines");
    std::size_t file_inst = kNone;
    std::vector<std::size_t> snapshot_lines;
    const std::size_t first = replay_store.size();
    for (auto& l : lines) replay_store.push_back(std::move(l));
    for (std::size_t i = first; i < replay_store.size(); ++i) {
      const std::string& l = replay_store[i];
      const std::size_t sp = l.find(' ');
      if (sp == std::string::npos) continue;
      Line line{std::strtoll(l.c_str(), nullptr, 10), std::string_view(l).substr(sp + 1), kNone};
      const std::size_t s = line.json.find("\"s\":\"");
      if (s != std::string_view::npos) {
        const std::size_t e = line.json.find('"', s + 5);
        const std::size_t idx = find_recorded(line.json.substr(s + 5, e - s - 5));
        if (idx != kNone) {
          line.inst = idx;
          if (file_inst == kNone) file_inst = idx;
        }
      } else if (line.json.find("\"lastUpdateId\"") != std::string_view::npos) {
        snapshot_lines.push_back(replay.size());
      }
      replay.push_back(line);
    }
    if (file_inst == kNone)
      throw ConfigError("simulator.replay_files: '" + f + "' holds no messages for the listed instruments");
    for (std::size_t li : snapshot_lines) replay[li].inst = file_inst;
  }
  // Each instrument's book starts from its first snapshot (the lines before it are the buffered diffs a
  // client's sync handles); one without a snapshot starts empty at its first diff.
  NullSink none;
  for (const Line& l : replay) {
    if (l.inst == kNone || l.json.find("\"lastUpdateId\"") == std::string_view::npos) continue;
    Instrument& s = instruments[l.inst];
    if (s.loaded) continue;
    md::MdMessage msg;
    if (!s.parser->parse(l.json, msg, level_buf()).ok() || msg.kind != md::MdKind::depth_snapshot) continue;
    for (const auto& lv : msg.snapshot.bids) s.gen->set_market_level(Side::bid, lv.price.raw(), lv.qty.raw(), none);
    for (const auto& lv : msg.snapshot.asks) s.gen->set_market_level(Side::ask, lv.price.raw(), lv.qty.raw(), none);
    s.gen->clear_touched();
    s.gen->remember_top();
    s.gen->set_last_update_id(msg.snapshot.last_update_id);
    s.rec_last_u = msg.snapshot.last_update_id;
    s.loaded = true;
  }
}

std::span<md::Level> Core::level_buf() {
  if (levels.empty()) levels.resize(1u << 16);
  return {levels.data(), levels.size()};
}

// ---- stats -------------------------------------------------------------------------------------------------

ExchangeStats Core::stats() const noexcept {
  ExchangeStats s;
  s.events_generated = stats_generated.get();
  s.events_sent = stats_sent.get();
  s.depth_updates = stats_depth.get();
  s.book_tickers = stats_tickers.get();
  s.trades = stats_trades.get();
  s.requests = stats_requests.get();
  s.requests_lost = stats_lost.get();
  s.orders = stats_orders.get();
  s.fills = stats_fills.get();
  s.cancels = stats_cancels.get();
  s.amends = stats_amends.get();
  s.rejects = stats_rejects.get();
  s.logons = stats_logons.get();
  s.unsigned_requests = stats_unsigned.get();
  for (std::size_t i = 0; i < reject_codes.size(); ++i) {
    s.rejects_by_venue_code[i] = RejectCount{reject_codes[i], rejects_by_code[i].get()};
    for (std::size_t k = 0; k < kRejectCodes.size(); ++k)
      if (kRejectCodes[k] == reject_codes[i]) s.rejects_by_code[k] = rejects_by_code[i].get();
  }
  s.connections = stats_connections.get();
  s.market_connections = stats_market.get();
  s.api_connections = stats_api.get();
  s.accepted = stats_accepted.get();
  s.resting_orders = stats_resting.get();
  s.slow_skips = stats_slow.get();
  s.replay_lines = stats_replay_lines.get();
  s.replay_done = stats_replay_done.get();
  return s;
}

}  // namespace hftx::sim
