// Trading session: hftx._core.Session (the C++ Session; hftx.Session wraps it). Its dict is read by
// session_config_from() (config.cpp: hftx.config validates the YAML first; the reader re-checks types and names
// the key on a mismatch).
#include <pybind11/numpy.h>
#include <pybind11/stl.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <thread>
#include <memory>
#include <string>
#include <vector>

#include "hftx/core/error.hpp"
#include "hftx/session/session.hpp"
#include "hftx/strategy/external.hpp"
#include "config.hpp"
#include "register.hpp"

namespace hftx::py {

namespace {

using session::Session;
using session::SessionConfig;

const char* side_name(oms::Side s) { return s == oms::Side::bid ? "BUY" : "SELL"; }

pyb::array_t<double> levels_array(const std::vector<md::Level>& lv, const Scale& ps, const Scale& qs) {
  pyb::array_t<double> a({static_cast<pyb::ssize_t>(lv.size()), pyb::ssize_t{2}});
  auto m = a.mutable_unchecked<2>();
  for (std::size_t i = 0; i < lv.size(); ++i) {
    m(i, 0) = to_double(lv[i].price.raw(), ps);
    m(i, 1) = to_double(lv[i].qty.raw(), qs);
  }
  return a;
}

template <class T, class F>
pyb::array_t<T> column(std::size_t n, F&& f) {
  pyb::array_t<T> a(static_cast<pyb::ssize_t>(n));
  auto m = a.template mutable_unchecked<1>();
  for (std::size_t i = 0; i < n; ++i) m(i) = f(i);
  return a;
}

// The driver's end of an ExternalStrategy (hftx.Strategy's runner). The Session owns the strategy; this
// handle keeps the Session alive. Every call holds the GIL except wait(), so calls from several Python
// threads are serialised (the rings' single consumer / producer rule holds through the GIL).
struct ExternalChannel {
  strategy::ExternalStrategy* strategy;
  oms::StrategyId id;
};

}  // namespace

void register_session(pyb::module_& m) {
  using strategy::ExternalCommand;
  using strategy::ExternalStrategy;
  pyb::class_<ExternalChannel>(m, "ExternalChannel",
                               "Events out of / commands into a session strategy run outside its threads (hftx.Strategy).")
      .def_readonly("strategy_id", &ExternalChannel::id)
      .def(
          "drain_into",
          [](ExternalChannel& c, pyb::array& out) {
            if (out.itemsize() != sizeof(strategy::ExternalEvent) || out.ndim() != 1 || !out.writeable() ||
                (out.flags() & pyb::array::c_style) == 0)
              throw ConfigError("drain_into(out): expected a writable contiguous 1-d array of 64-byte records (hftx.strategy.EVENT_DTYPE)");
            return c.strategy->drain(static_cast<strategy::ExternalEvent*>(out.mutable_data()),
                                     static_cast<std::size_t>(out.shape(0)));
          },
          pyb::arg("out"), "Moves up to len(out) events into out; returns how many.")
      .def(
          "wait",
          [](ExternalChannel& c, double seconds) {
            // Spin briefly (an event usually follows within microseconds on an active market), then nap.
            pyb::gil_scoped_release release;
            const auto start = std::chrono::steady_clock::now();
            const auto end = start + std::chrono::duration<double>(std::max(0.0, seconds));
            while (!c.strategy->has_events()) {
              const auto now = std::chrono::steady_clock::now();
              if (now >= end) return false;
              if (now - start > std::chrono::microseconds(50)) std::this_thread::sleep_for(std::chrono::microseconds(100));
            }
            return true;
          },
          pyb::arg("seconds"), "Waits (GIL released) until an event is queued or `seconds` pass; True when one is.")
      .def(
          "submit",
          [](ExternalChannel& c, int kind, std::uint64_t tag, std::uint32_t instrument, int side, int type, int tif,
             bool post_only, std::int64_t price, std::int64_t qty) {
            ExternalCommand cmd;
            cmd.kind = static_cast<std::uint8_t>(kind);
            cmd.tag = tag;
            cmd.instrument = instrument;
            cmd.side = static_cast<std::uint8_t>(side);
            cmd.type = static_cast<std::uint8_t>(type);
            cmd.tif = static_cast<std::uint8_t>(tif);
            cmd.post_only = post_only ? 1 : 0;
            cmd.price = price;
            cmd.qty = qty;
            return c.strategy->try_submit(cmd);
          },
          pyb::arg("kind"), pyb::arg("tag"), pyb::arg("instrument"), pyb::arg("side") = 0, pyb::arg("type") = 0,
          pyb::arg("tif") = 0, pyb::arg("post_only") = false, pyb::arg("price") = 0, pyb::arg("qty") = 0,
          "Queues a command for the strategy thread; False when the command ring is full.")
      .def("stats", [](const ExternalChannel& c) {
        const strategy::ExternalStats st = c.strategy->stats();
        pyb::dict d;
        d["events"] = st.events;
        d["events_dropped"] = st.events_dropped;
        d["commands"] = st.commands;
        d["commands_invalid"] = st.commands_invalid;
        return d;
      });


  pyb::class_<Session>(m, "Session", "A trading session (C++). Use hftx.Session.")
      .def(pyb::init([](const pyb::dict& cfg) { return std::make_unique<Session>(session_config_from(cfg)); }),
           pyb::arg("config"))
      .def(
          "add_external",
          [](Session& s, const std::string& instrument, std::size_t event_capacity, std::size_t command_capacity) {
            auto st = std::make_unique<ExternalStrategy>(event_capacity, command_capacity);
            ExternalStrategy* raw = st.get();
            const oms::StrategyId id = s.add_strategy(instrument, std::move(st));
            return ExternalChannel{raw, id};
          },
          pyb::arg("instrument"), pyb::arg("event_capacity") = 65536, pyb::arg("command_capacity") = 4096,
          pyb::keep_alive<0, 1>(), "A strategy driven from outside (before start()); returns its channel.")
      .def("start", &Session::start, pyb::call_guard<pyb::gil_scoped_release>())
      .def(
          "run",
          [](Session& s, double seconds) {
            // In slices, so that Ctrl-C (Python's signal handler) is seen within ~50 ms.
            if (!(seconds >= 0) || !std::isfinite(seconds))
              throw ConfigError("run(seconds = " + std::to_string(seconds) + "): expected a finite number >= 0");
            const auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
            while (s.running() && !s.stop_requested()) {
              const auto left = end - std::chrono::steady_clock::now();
              if (left <= std::chrono::steady_clock::duration::zero()) break;
              {
                pyb::gil_scoped_release release;
                s.run_for(std::min<std::chrono::nanoseconds>(
                    std::chrono::duration_cast<std::chrono::nanoseconds>(left), std::chrono::milliseconds(50)));
              }
              if (PyErr_CheckSignals() != 0) throw pyb::error_already_set();
            }
          },
          pyb::arg("seconds"))
      .def("stop", &Session::stop, pyb::call_guard<pyb::gil_scoped_release>())
      .def("request_stop", &Session::request_stop)
      .def("failure", &Session::failure,
           "Why the session stopped on its own ('' when it did not): a connection the venue will not take back.")
      .def("running", &Session::running)
      .def("stats",
           [](const Session& s) {
             const auto st = without_gil([&] { return s.stats(); });
             pyb::dict d;
             d["elapsed_s"] = st.elapsed_s;
             d["md_messages"] = st.md_messages;
             d["md_errors"] = st.md_errors;
             d["depth_updates"] = st.depth_updates;
             d["book_tickers"] = st.book_tickers;
             d["trades"] = st.trades;
             d["events_per_s"] = st.elapsed_s > 0 ? static_cast<double>(st.md_messages) / st.elapsed_s : 0.0;
             d["resyncs"] = st.resyncs;
             d["gaps"] = st.gaps;
             d["crossed"] = st.crossed;
             d["top_first"] = st.top_first;
             d["top_first_mismatch"] = st.top_first_mismatch;
             d["orders_sent"] = st.orders_sent;
             d["orders_acked"] = st.orders_acked;
             d["fills"] = st.fills;
             d["filled_qty"] = st.filled_qty;
             d["cancels_sent"] = st.cancels_sent;
             d["cancelled"] = st.cancelled;
             d["venue_rejects"] = st.venue_rejects;
             d["orders_lost"] = st.orders_lost;
             d["expired"] = st.expired;
             d["risk_rejects"] = st.risk_rejects;
             for (std::size_t i = 0; i < session::kRiskReasons; ++i) {
               const auto r = static_cast<risk::RiskReason>(i);
               if (r == risk::RiskReason::ok) continue;
               d[pyb::str("risk_reject_" + std::string(risk::to_string(r)))] = st.risk_by_reason[i];
             }
             d["impossible_updates"] = st.impossible_updates;
             d["unknown_orders"] = st.unknown_orders;
             d["api_errors"] = st.api_errors;
             d["queue_drops"] = st.queue_drops;
             d["reconnects"] = st.reconnects;
             d["logons"] = st.logons;
             d["reconnect_failures"] = st.reconnect_failures;
             d["checksum_mismatches"] = st.checksum_mismatches;
             d["kill_switch"] = st.kill_switch ? 1 : 0;
             d["position"] = st.position;
             d["realized_pnl"] = st.realized_pnl;
             d["unrealized_pnl"] = st.unrealized_pnl;
             d["open_orders"] = st.open_orders;
             const Histogram h = s.tracker().stage_histogram(Stage::tick_to_trade);
             d["ttt_p50_ns"] = h.count() ? h.value_at_percentile(50.0) : 0;
             d["ttt_p99_ns"] = h.count() ? h.value_at_percentile(99.0) : 0;
             return d;
           })
      .def(
          "latency",
          [](const Session& s, const std::string& stage) {
            const Stage st = stage_from_string(stage);
            pyb::gil_scoped_release release;
            return s.tracker().stage_histogram(st);
          },
          pyb::arg("stage"))
      .def(
          "orders",
          [](const Session& s) {
            const auto v = without_gil([&] { return s.orders(); });
            pyb::list out;
            for (const auto& o : v) {
              pyb::dict d;
              d["client_id"] = o.id;
              d["strategy"] = o.strategy;
              d["symbol"] = o.symbol;
              d["side"] = side_name(o.side);
              d["type"] = o.type == oms::OrderType::market ? "MARKET" : "LIMIT";
              d["price"] = o.price;
              d["qty"] = o.qty;
              d["filled"] = o.filled;
              d["state"] = std::string(oms::to_string(o.state));
              out.append(d);
            }
            return out;
          })
      .def("positions",
           [](const Session& s) {
             const auto v = without_gil([&] { return s.positions(); });
             pyb::list out;
             for (const auto& p : v) {
               pyb::dict d;
               d["symbol"] = p.symbol;
               d["position"] = p.position;
               d["avg_price"] = p.avg_price;
               d["realized_pnl"] = p.realized_pnl;
               d["unrealized_pnl"] = p.unrealized_pnl;
               out.append(d);
             }
             return out;
           })
      .def(
          "books",
          [](const Session& s, std::size_t depth) {
            const auto v = without_gil([&] { return s.books(depth); });
            pyb::dict out;
            for (const auto& b : v) {
              pyb::dict d;
              d["bids"] = levels_array(b.bids, b.price_scale, b.qty_scale);
              d["asks"] = levels_array(b.asks, b.price_scale, b.qty_scale);
              d["update_id"] = b.update_id;
              d["synced"] = b.synced;
              out[pyb::str(b.symbol)] = d;
            }
            return out;
          },
          pyb::arg("depth") = 20)
      .def("timeline",
           [](const Session& s) {
             const auto t = without_gil([&] { return s.timeline(); });
             const auto& cfg = s.config();
             std::vector<Scale> ps, qs;
             for (const auto& in : cfg.instruments) {
               ps.push_back(Scale::from_step(in.price_step));
               qs.push_back(Scale::from_step(in.qty_step));
             }
             pyb::dict d;
             // Each series' sampling: one kept in `every` of `seen` pushed (timeline.hpp).
             const auto sampling = [&d](const char* name, const auto& series) {
               d[pyb::str(std::string(name) + "_every")] = series.every;
               d[pyb::str(std::string(name) + "_seen")] = series.seen;
             };
             const auto& tt = t.tick_to_trade.samples;
             sampling("ttt", t.tick_to_trade);
             d["ttt_t_ns"] = column<std::int64_t>(tt.size(), [&](std::size_t i) { return tt[i].t_ns; });
             d["ttt_ns"] = column<std::int64_t>(tt.size(), [&](std::size_t i) { return tt[i].ttt_ns; });
             const auto& mi = t.mids.samples;
             sampling("mid", t.mids);
             d["mid_t_ns"] = column<std::int64_t>(mi.size(), [&](std::size_t i) { return mi[i].t_ns; });
             d["mid"] = column<double>(mi.size(), [&](std::size_t i) { return to_double(mi[i].mid2, ps[mi[i].instrument]) / 2.0; });
             const auto& fi = t.fills.samples;
             sampling("fill", t.fills);
             d["fill_t_ns"] = column<std::int64_t>(fi.size(), [&](std::size_t i) { return fi[i].t_ns; });
             d["fill_price"] = column<double>(fi.size(), [&](std::size_t i) { return to_double(fi[i].price, ps[fi[i].instrument]); });
             d["fill_qty"] = column<double>(fi.size(), [&](std::size_t i) { return to_double(fi[i].qty, qs[fi[i].instrument]); });
             d["fill_side"] = column<std::int8_t>(fi.size(), [&](std::size_t i) { return fi[i].side; });
             const auto& oi = t.orders.samples;
             sampling("order", t.orders);
             d["order_t_ns"] = column<std::int64_t>(oi.size(), [&](std::size_t i) { return oi[i].t_ns; });
             d["order_price"] = column<double>(oi.size(), [&](std::size_t i) { return to_double(oi[i].price, ps[oi[i].instrument]); });
             d["order_side"] = column<std::int8_t>(oi.size(), [&](std::size_t i) { return oi[i].side; });
             return d;
           })
      .def("traces_json", [](const Session& s) { return s.tracker().chrome_trace_json(); },
           pyb::call_guard<pyb::gil_scoped_release>())
      .def("system_report", [](const Session& s) {
        const session::SystemReport r = s.system_report();
        pyb::dict d;
        d["mode"] = r.mode;
        pyb::list threads;
        for (const auto& t : r.threads) {
          pyb::dict td;
          td["name"] = t.name;
          td["core"] = t.requested_core;
          td["pinned"] = t.pinned;
          td["policy"] = t.policy;
          td["fifo_requested"] = t.fifo_requested;
          td["fifo_granted"] = t.fifo_granted;
          // What the thread has cost (live, or as it returned); None where the kernel does not say.
          const auto known = [](std::int64_t v) { return v < 0 ? pyb::object(pyb::none()) : pyb::int_(v); };
          const auto seconds = [](std::int64_t ns) {
            return ns < 0 ? pyb::object(pyb::none()) : pyb::float_(static_cast<double>(ns) / 1e9);
          };
          td["cpu_s"] = seconds(t.usage.cpu_ns);
          td["runqueue_wait_s"] = seconds(t.usage.runqueue_wait_ns);
          td["minor_faults"] = known(t.usage.minor_faults);
          td["major_faults"] = known(t.usage.major_faults);
          td["voluntary_switches"] = known(t.usage.voluntary_switches);
          td["involuntary_switches"] = known(t.usage.involuntary_switches);
          td["warning"] = t.warning;
          threads.append(td);
        }
        d["threads"] = threads;
        d["notes"] = r.notes;
        if (r.code_mapped != 0) d["code_mapped_bytes"] = r.code_mapped;
        if (r.memory.mapped_bytes != 0) {
          const ArenaReport& a = r.memory;
          pyb::dict mem;
          mem["pages"] = std::string(to_string(a.pages));
          mem["page_size"] = a.page_size;
          mem["mapped_bytes"] = a.mapped_bytes;
          mem["used_bytes"] = r.memory_used;
          mem["huge_backed_bytes"] = a.huge_backed_bytes;
          mem["populated"] = a.populated;
          mem["locked"] = a.locked;
          mem["numa_node"] = a.numa_node;
          mem["numa_node_observed"] = a.numa_node_observed;
          d["memory"] = mem;
        }
        return d;
      });
}

}  // namespace hftx::py
