// The exchange simulator for Python: hftx::sim::Exchange on its own thread and reactor.
//
// The constructor takes the normalised config dict ({"simulator": {...}, "instruments": [...]}, other
// top-level keys ignored; simulator.venue picks the dialect: binance, the default, or okx) and converts it
// into ExchangeConfig; C++ validates it again (ConfigError naming
// the key). start()/stop() release the GIL; the hooks and queries are thread-safe on the C++ side.
#include <pybind11/stl.h>

#include <memory>

#include "hftx/core/error.hpp"
#include "hftx/sim/exchange.hpp"
#include "register.hpp"

namespace hftx::py {
namespace {

using sim::Exchange;
using sim::ExchangeConfig;

std::string type_name(const pyb::handle& v) { return pyb::str(pyb::type::handle_of(v).attr("__name__")).cast<std::string>(); }

// Number or decimal string -> the decimal text (balances, prices may come as numbers).
std::string decimal_text(const pyb::handle& v, const std::string& key) {
  if (pyb::isinstance<pyb::str>(v)) return v.cast<std::string>();
  if (pyb::isinstance<pyb::bool_>(v)) throw ConfigError(key + " = " + pyb::repr(v).cast<std::string>() + ": expected a number or a decimal string");
  if (pyb::isinstance<pyb::int_>(v)) return pyb::str(v).cast<std::string>();
  if (pyb::isinstance<pyb::float_>(v)) {
    // Exact decimal text of a float without exponent ("1e+20" would not parse): Python's format.
    std::string s = pyb::str(pyb::module_::import("builtins").attr("format")(v, ".10f")).cast<std::string>();
    while (!s.empty() && s.back() == '0') s.pop_back();
    if (!s.empty() && s.back() == '.') s.pop_back();
    return s;
  }
  throw ConfigError(key + " = " + pyb::repr(v).cast<std::string>() + " (" + type_name(v) + "): expected a number or a decimal string");
}

template <class T>
T get_as(const pyb::dict& d, const char* name, const std::string& prefix, T def) {
  if (!d.contains(name)) return def;
  const pyb::handle v = d[name];
  const std::string key = prefix + name;
  if constexpr (std::is_same_v<T, std::string>) {
    if (!pyb::isinstance<pyb::str>(v)) throw ConfigError(key + " = " + pyb::repr(v).cast<std::string>() + ": expected a string");
    return v.cast<std::string>();
  } else if constexpr (std::is_same_v<T, double>) {
    if (pyb::isinstance<pyb::bool_>(v) || !(pyb::isinstance<pyb::int_>(v) || pyb::isinstance<pyb::float_>(v)))
      throw ConfigError(key + " = " + pyb::repr(v).cast<std::string>() + ": expected a number");
    return v.cast<double>();
  } else {
    if (pyb::isinstance<pyb::bool_>(v) || !pyb::isinstance<pyb::int_>(v))
      throw ConfigError(key + " = " + pyb::repr(v).cast<std::string>() + ": expected an integer");
    return v.cast<T>();
  }
}

ExchangeConfig to_config(const pyb::dict& cfg) {
  ExchangeConfig c;
  pyb::dict s;
  if (cfg.contains("simulator")) {
    if (!pyb::isinstance<pyb::dict>(cfg["simulator"])) throw ConfigError("simulator: expected a mapping");
    s = cfg["simulator"].cast<pyb::dict>();
  }
  const std::string p = "simulator.";
  c.venue = get_as<std::string>(s, "venue", p, c.venue);
  c.host = get_as<std::string>(s, "host", p, c.host);
  c.port = static_cast<int>(get_as<long long>(s, "port", p, c.port));
  const std::string mode = get_as<std::string>(s, "mode", p, "generated");
  if (mode == "generated") c.mode = sim::Mode::generated;
  else if (mode == "replay") c.mode = sim::Mode::replay;
  else throw ConfigError("simulator.mode = '" + mode + "': expected generated or replay");
  const long long seed = get_as<long long>(s, "seed", p, 42);
  c.seed = static_cast<std::uint64_t>(seed);
  c.event_rate = get_as<double>(s, "event_rate", p, c.event_rate);
  c.depth_levels = static_cast<int>(get_as<long long>(s, "depth_levels", p, c.depth_levels));
  if (s.contains("start_price")) c.start_price = decimal_text(s["start_price"], "simulator.start_price");
  c.trade_probability = get_as<double>(s, "trade_probability", p, c.trade_probability);
  if (s.contains("replay_files")) {
    c.replay_files.clear();
    for (const auto& f : s["replay_files"]) {
      if (!pyb::isinstance<pyb::str>(f)) throw ConfigError("simulator.replay_files: expected a list of file names");
      c.replay_files.push_back(f.cast<std::string>());
    }
  }
  const std::string pace = get_as<std::string>(s, "replay_pace", p, "recorded");
  if (pace == "recorded") c.replay_pace = sim::Pace::recorded;
  else if (pace == "fast") c.replay_pace = sim::Pace::fast;
  else throw ConfigError("simulator.replay_pace = '" + pace + "': expected recorded or fast");
  c.latency_us = get_as<long long>(s, "latency_us", p, 0);
  if (s.contains("balances")) {
    if (!pyb::isinstance<pyb::dict>(s["balances"])) throw ConfigError("simulator.balances: expected a mapping asset -> amount");
    c.balances.clear();
    for (const auto& [k, v] : s["balances"].cast<pyb::dict>()) {
      const std::string asset = pyb::str(k).cast<std::string>();
      c.balances.emplace_back(asset, decimal_text(v, "simulator.balances." + asset));
    }
  }
  c.api_key = get_as<std::string>(s, "api_key", p, "");
  c.api_secret = get_as<std::string>(s, "api_secret", p, "");
  c.api_public_key = get_as<std::string>(s, "api_public_key", p, "");
  c.api_passphrase = get_as<std::string>(s, "api_passphrase", p, "");
  if (cfg.contains("instruments")) {
    c.instruments.clear();
    std::size_t i = 0;
    for (const auto& item : cfg["instruments"]) {
      const std::string ip = "instruments[" + std::to_string(i++) + "].";
      if (!pyb::isinstance<pyb::dict>(item)) throw ConfigError(ip.substr(0, ip.size() - 1) + ": expected a mapping");
      const auto d = item.cast<pyb::dict>();
      sim::InstrumentSpec in;
      in.symbol = get_as<std::string>(d, "symbol", ip, "");
      if (d.contains("price_step")) in.price_step = decimal_text(d["price_step"], ip + "price_step");
      if (d.contains("qty_step")) in.qty_step = decimal_text(d["qty_step"], ip + "qty_step");
      if (d.contains("lot_step")) in.lot_step = decimal_text(d["lot_step"], ip + "lot_step");
      in.base_asset = get_as<std::string>(d, "base_asset", ip, "");
      in.quote_asset = get_as<std::string>(d, "quote_asset", ip, "");
      c.instruments.push_back(std::move(in));
    }
  }
  return c;
}

pyb::dict stats_dict(const sim::ExchangeStats& s) {
  pyb::dict d;
  d["events_generated"] = s.events_generated;
  d["events_sent"] = s.events_sent;
  d["depth_updates"] = s.depth_updates;
  d["book_tickers"] = s.book_tickers;
  d["trades"] = s.trades;
  d["requests"] = s.requests;
  d["requests_lost"] = s.requests_lost;
  d["orders"] = s.orders;
  d["fills"] = s.fills;
  d["cancels"] = s.cancels;
  d["amends"] = s.amends;
  d["rejects"] = s.rejects;
  d["logons"] = s.logons;
  d["unsigned_requests"] = s.unsigned_requests;
  for (std::size_t i = 0; i < sim::kRejectCodes.size(); ++i)
    d[pyb::str("rejects_" + std::to_string(-sim::kRejectCodes[i]))] = s.rejects_by_code[i];
  // The serving dialect's own codes (OKX: rejects_51008, ...); Binance's are the ones above.
  for (const sim::RejectCount& r : s.rejects_by_venue_code)
    if (r.code != 0) d[pyb::str("rejects_" + std::to_string(r.code < 0 ? -r.code : r.code))] = r.count;
  d["connections"] = s.connections;
  d["market_connections"] = s.market_connections;
  d["api_connections"] = s.api_connections;
  d["accepted"] = s.accepted;
  d["resting_orders"] = s.resting_orders;
  d["slow_skips"] = s.slow_skips;
  d["replay_lines"] = s.replay_lines;
  d["replay_done"] = s.replay_done;
  return d;
}

class PySimulator {
 public:
  explicit PySimulator(const pyb::dict& cfg) : ex_(std::make_unique<Exchange>(to_config(cfg))) {}
  void start() {
    pyb::gil_scoped_release release;
    ex_->start();
  }
  void stop() {
    pyb::gil_scoped_release release;
    ex_->stop();
  }
  Exchange& ex() { return *ex_; }

 private:
  std::unique_ptr<Exchange> ex_;
};

}  // namespace

void register_sim(pyb::module_& m) {
  pyb::class_<PySimulator>(m, "Simulator",
                           "hftx's exchange simulator on its own thread, in the dialect of simulator.venue (binance "
                           "by default, or okx).")
      .def(pyb::init<const pyb::dict&>(), pyb::arg("cfg"))
      .def("start", &PySimulator::start)
      .def("stop", &PySimulator::stop)
      .def_property_readonly("port", [](PySimulator& s) { return s.ex().port(); })
      .def_property_readonly("running", [](PySimulator& s) { return s.ex().running(); })
      .def("market_url", [](PySimulator& s) { return s.ex().market_url(); })
      .def("api_url", [](PySimulator& s) { return s.ex().api_url(); })
      .def("stats", [](PySimulator& s) { return stats_dict(s.ex().stats()); })
      .def("drop_connections", [](PySimulator& s) {
        pyb::gil_scoped_release release;
        s.ex().drop_connections();
      })
      .def("lose_requests", [](PySimulator& s) {
        pyb::gil_scoped_release release;
        s.ex().lose_requests();
      })
      .def("skip_sequence", [](PySimulator& s, const std::string& symbol) {
        pyb::gil_scoped_release release;
        s.ex().skip_sequence(symbol);
      }, pyb::arg("symbol"))
      .def("pause_market", [](PySimulator& s, bool paused) {
        pyb::gil_scoped_release release;
        s.ex().pause_market(paused);
      }, pyb::arg("paused"))
      .def("inject", [](PySimulator& s, const std::string& channel, const std::string& text) {
        sim::Channel ch;
        if (channel == "market") ch = sim::Channel::market;
        else if (channel == "api") ch = sim::Channel::api;
        else throw ConfigError("inject channel = '" + channel + "': expected market or api");
        pyb::gil_scoped_release release;
        s.ex().inject(ch, text);
      }, pyb::arg("channel"), pyb::arg("text"))
      .def("orders", [](PySimulator& s) {
        const auto v = without_gil([&] { return s.ex().orders(); });
        pyb::list out;
        for (const auto& o : v) {
          pyb::dict d;
          d["client_id"] = o.client_id;
          d["order_id"] = o.order_id;
          d["symbol"] = o.symbol;
          d["side"] = o.side;
          d["type"] = o.type;
          d["price"] = o.price;
          d["qty"] = o.qty;
          d["filled"] = o.filled;
          out.append(d);
        }
        return out;
      })
      .def("balances", [](PySimulator& s, bool total) {
        const auto v = without_gil([&] { return s.ex().balances(total); });
        pyb::dict d;
        for (const auto& [k, val] : v) d[pyb::str(k)] = val;
        return d;
      }, pyb::arg("total") = false)
      .def("top", [](PySimulator& s, const std::string& symbol) {
        const auto t = without_gil([&] { return s.ex().top(symbol); });
        pyb::dict d;
        d["bid_price"] = t.bid_price;
        d["bid_qty"] = t.bid_qty;
        d["ask_price"] = t.ask_price;
        d["ask_qty"] = t.ask_qty;
        d["update_id"] = t.update_id;
        return d;
      }, pyb::arg("symbol"));
}

}  // namespace hftx::py
