// The exchange simulator's public facade (sim/exchange.hpp): config validation, the dialect's engine on the
// caller's or its own reactor thread, test hooks and queries posted to that thread.
#include "hftx/sim/exchange.hpp"

#include <algorithm>
#include <future>
#include <thread>

#include "hftx/core/error.hpp"
#include "hftx/core/fixed_point.hpp"
#include "hftx/sim/engine.hpp"

namespace hftx::sim {

// ---- config ------------------------------------------------------------------------------------------------

void ExchangeConfig::validate() const {
  const auto fail = [](const std::string& key, const std::string& value, const std::string& expected) {
    return ConfigError(key + " = " + value + ": expected " + expected);
  };
  const DialectInfo* dialect = find_dialect(venue);
  if (dialect == nullptr) throw fail("simulator.venue", "'" + venue + "'", "one of " + dialect_names());
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
  if (api_key.empty() && !(api_secret.empty() && api_public_key.empty() && api_passphrase.empty()))
    throw fail("simulator.api_key", "''", "an API key when api_secret, api_public_key or api_passphrase is set");
  if (!api_key.empty() && api_secret.empty() && api_public_key.empty())
    throw fail("simulator.api_secret", "''", "api_secret (HMAC) or api_public_key (Ed25519 PEM) when api_key is set");
  dialect->validate(*this);
  if (instruments.empty()) throw fail("instruments", "[]", "at least one instrument");
  for (std::size_t i = 0; i < instruments.size(); ++i) {
    const InstrumentSpec& in = instruments[i];
    const std::string k = "instruments[" + std::to_string(i) + "].";
    if (!dialect->valid_symbol(in.symbol))
      throw fail(k + "symbol", "'" + in.symbol + "'", std::string(dialect->symbol_rule));
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
    const auto [b, q] = dialect->split_symbol(in.symbol);
    if ((in.base_asset.empty() || in.quote_asset.empty()) && b.empty())
      throw fail(k + "symbol", in.symbol,
                 "a symbol ending in a known quote asset (USDT, USDC, BTC, ...) or base_asset/quote_asset given");
  }
  for (const auto& [asset, amount] : balances) {
    if (asset.empty()) throw fail("simulator.balances", "{'': ...}", "asset names");
    (void)parse_amount(amount, "simulator.balances." + asset);
  }
}

// ---- Exchange ------------------------------------------------------------------------------------------------

Exchange::Exchange(ExchangeConfig cfg) : cfg_(std::move(cfg)) {
  cfg_.validate();
  impl_ = find_dialect(cfg_.venue)->make(cfg_);
}

Exchange::~Exchange() { stop(); }

template <class F>
auto Exchange::on_loop(F&& f) const {
  Core& im = *impl_;
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
  Core& im = *impl_;
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
  Core& im = *impl_;
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

std::string Exchange::market_url() const {
  return "ws://" + cfg_.host + ":" + std::to_string(port()) + std::string(impl_->info.market_path);
}
std::string Exchange::api_url() const {
  return "ws://" + cfg_.host + ":" + std::to_string(port()) + std::string(impl_->info.api_path);
}

ExchangeStats Exchange::stats() const noexcept { return impl_->stats(); }

void Exchange::drop_connections() {
  on_loop([this] {
    if (!impl_->server) return;
    impl_->server->for_each_open([](net::WsConnection& c) { c.abort("dropped by the simulator (test hook)"); });
  });
}

void Exchange::drop_connections(Channel channel) {
  on_loop([this, channel] {
    if (!impl_->server) return;
    // Chosen first, aborted through the server's own walk: an abort closes (and forgets) its Conn.
    std::vector<const net::WsConnection*> chosen;
    for (const auto& [id, cs] : impl_->conns)
      if (cs->channel == channel) chosen.push_back(cs->ws);
    impl_->server->for_each_open([&](net::WsConnection& c) {
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
  const std::size_t si = impl_->find_instrument(symbol);
  if (si == Core::kNone)
    throw ConfigError("skip_sequence: symbol '" + std::string(symbol) + "' is not listed by the simulator");
  on_loop([this, si] { impl_->instruments[si].gen->skip_next_id(); });
}

void Exchange::pause_market(bool paused) {
  on_loop([this, paused] { impl_->paused = paused; });
}

void Exchange::inject(Channel channel, std::string text) {
  on_loop([this, channel, &text] {
    for (auto& [id, cs] : impl_->conns)
      if (cs->channel == channel) cs->ws->send_text(text);
  });
}

std::vector<OrderInfo> Exchange::orders() const {
  return on_loop([this] {
    std::vector<OrderInfo> out;
    for (const auto& [id, o] : impl_->orders) {
      if (!o.resting) continue;
      const auto& s = impl_->instruments[o.inst];
      out.push_back(OrderInfo{o.client_id, o.id, s.spec.symbol, impl_->side_text(o.side), impl_->type_text(o),
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
  const std::size_t si = impl_->find_instrument(symbol);
  if (si == Core::kNone) throw ConfigError("top: symbol '" + std::string(symbol) + "' is not listed by the simulator");
  return on_loop([this, si] {
    const MarketGenerator& g = *impl_->instruments[si].gen;
    const book::Level b = g.engine().best(Side::bid), a = g.engine().best(Side::ask);
    return Top{b.price.raw(), b.qty.raw(), a.price.raw(), a.qty.raw(), g.last_update_id()};
  });
}

std::pair<std::vector<std::pair<std::int64_t, std::int64_t>>, std::vector<std::pair<std::int64_t, std::int64_t>>>
Exchange::book(std::string_view symbol, std::size_t limit) const {
  const std::size_t si = impl_->find_instrument(symbol);
  if (si == Core::kNone) throw ConfigError("book: symbol '" + std::string(symbol) + "' is not listed by the simulator");
  return on_loop([this, si, limit] {
    const book::MatchingEngine& e = impl_->instruments[si].gen->engine();
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
