// Order books and replay: hftx.OrderBook (L2 book + Binance parser), replay of recorded files / lines (Binance;
// OKX per instrument).
#include <pybind11/numpy.h>
#include <pybind11/stl.h>

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "hftx/book/l2_book.hpp"
#include "hftx/venue/binance/replay.hpp"
#include "hftx/core/error.hpp"
#include "hftx/venue/binance/md_parser.hpp"
#include "hftx/venue/okx/replay.hpp"
#include "register.hpp"

namespace hftx::py {

namespace {

using book::CrossedPolicy;
using book::L2Book;
using venue::binance::Market;
using book::Side;
using md::Level;

CrossedPolicy policy_from(const std::string& s) {
  if (s == "keep_and_flag") return CrossedPolicy::keep_and_flag;
  if (s == "drop_stale") return CrossedPolicy::drop_stale;
  throw ConfigError("crossed_policy = '" + s + "': expected 'keep_and_flag' or 'drop_stale'");
}

std::optional<Market> market_from(const std::optional<std::string>& s) {
  if (!s) return std::nullopt;
  if (*s == "spot") return Market::spot;
  if (*s == "usdm") return Market::usdm;
  if (*s == "coinm") return Market::coinm;
  throw ConfigError("market = '" + *s + "': expected 'spot', 'usdm' or 'coinm'");
}

// The Python-facing book: an L2Book with its scales and a parser for Binance messages.
class PyOrderBook {
 public:
  PyOrderBook(const std::string& price_step, const std::string& qty_step, const std::string& crossed_policy)
      : price_(Scale::from_step(price_step)),
        qty_(Scale::from_step(qty_step)),
        book_(std::make_unique<L2Book>(8192, policy_from(crossed_policy))),
        parser_(price_, qty_),
        levels_(1u << 16) {}

  // Levels from Python: an (n, 2) int64 array of raw steps, or a sequence of (price, qty) pairs of decimal
  // strings (as Binance sends them) or numbers given as strings.
  std::vector<Level> to_levels(const pyb::handle& obj, const char* what) const {
    std::vector<Level> out;
    if (pyb::isinstance<pyb::array>(obj)) {
      const auto arr = pyb::array_t<std::int64_t, pyb::array::c_style | pyb::array::forcecast>::ensure(obj);
      if (!arr || arr.ndim() != 2 || arr.shape(1) != 2)
        throw ConfigError(std::string(what) + ": expected an (n, 2) integer array of raw steps");
      const auto r = arr.unchecked<2>();
      out.reserve(static_cast<std::size_t>(r.shape(0)));
      for (pyb::ssize_t i = 0; i < r.shape(0); ++i) out.push_back(Level{Price(r(i, 0)), Qty(r(i, 1))});
      return out;
    }
    for (const pyb::handle item : obj) {
      const auto pair = pyb::reinterpret_borrow<pyb::sequence>(item);
      if (pair.size() < 2) throw ConfigError(std::string(what) + ": each level must be (price, qty)");
      const std::string p = pyb::str(pair[0]), q = pyb::str(pair[1]);
      out.push_back(Level{Price(parse_fixed_or_throw(p, price_, Sign::unsigned_only, "price")),
                          Qty(parse_fixed_or_throw(q, qty_, Sign::unsigned_only, "quantity"))});
    }
    return out;
  }

  void apply_snapshot(const pyb::handle& bids, const pyb::handle& asks, std::uint64_t update_id) {
    const auto b = to_levels(bids, "bids"), a = to_levels(asks, "asks");
    book_->load_snapshot(b, a, update_id);
    book_->publish();
  }

  pyb::dict apply_diff(const pyb::handle& bids, const pyb::handle& asks, std::uint64_t update_id) {
    const auto b = to_levels(bids, "bids"), a = to_levels(asks, "asks");
    const book::ApplyResult r = book_->apply(b, a, update_id);
    book_->publish();
    return result_dict(r);
  }

  // A Binance depthUpdate or depth snapshot (raw or enveloped). Returns the message kind.
  std::string apply_message(const std::string& json) {
    md::MdMessage m;
    const md::ParseResult r = parser_.parse_unpadded(json, 0, m, levels_);
    if (!r.ok()) throw ParseError("apply_message: " + r.describe());
    if (m.kind == md::MdKind::depth_snapshot) {
      book_->load_snapshot(m.snapshot.bids, m.snapshot.asks, m.snapshot.last_update_id);
    } else if (m.kind == md::MdKind::depth_update) {
      (void)book_->apply(m.depth.bids, m.depth.asks, m.depth.last_id);
    } else {
      throw ParseError("apply_message: a " + std::string(md::to_string(m.kind)) +
                       " message does not change the book (expected a depth update or snapshot)");
    }
    book_->publish();
    return std::string(md::to_string(m.kind));
  }

  pyb::object best(Side side, bool raw) const {
    if (side == Side::bid ? !book_->has_bid() : !book_->has_ask()) return pyb::none();
    const Level l = side == Side::bid ? book_->best_bid() : book_->best_ask();
    if (raw) return pyb::make_tuple(l.price.raw(), l.qty.raw());
    return pyb::make_tuple(to_double(l.price.raw(), price_), to_double(l.qty.raw(), qty_));
  }

  // (bids, asks): (k, 2) arrays, best first.
  pyb::tuple depth(std::size_t n, bool raw) const {
    const auto side_array = [&](Side side) -> pyb::object {
      std::vector<Level> lv(std::min<std::size_t>(n, side == Side::bid ? book_->bid_count() : book_->ask_count()));
      const std::size_t k = book_->depth(side, lv);
      if (raw) {
        pyb::array_t<std::int64_t> a({static_cast<pyb::ssize_t>(k), pyb::ssize_t{2}});
        auto w = a.mutable_unchecked<2>();
        for (std::size_t i = 0; i < k; ++i) {
          w(static_cast<pyb::ssize_t>(i), 0) = lv[i].price.raw();
          w(static_cast<pyb::ssize_t>(i), 1) = lv[i].qty.raw();
        }
        return a;
      }
      pyb::array_t<double> a({static_cast<pyb::ssize_t>(k), pyb::ssize_t{2}});
      auto w = a.mutable_unchecked<2>();
      for (std::size_t i = 0; i < k; ++i) {
        w(static_cast<pyb::ssize_t>(i), 0) = to_double(lv[i].price.raw(), price_);
        w(static_cast<pyb::ssize_t>(i), 1) = to_double(lv[i].qty.raw(), qty_);
      }
      return a;
    };
    return pyb::make_tuple(side_array(Side::bid), side_array(Side::ask));
  }

  pyb::dict top() const {
    const book::TopOfBook t = book_->top();
    pyb::dict d;
    d["bid_price"] = to_double(t.bid_price, price_);
    d["bid_qty"] = to_double(t.bid_qty, qty_);
    d["ask_price"] = to_double(t.ask_price, price_);
    d["ask_qty"] = to_double(t.ask_qty, qty_);
    d["update_id"] = t.update_id;
    d["crossed"] = (t.flags & book::kTopCrossed) != 0;
    d["sequence"] = t.sequence;
    return d;
  }

  void clear() {
    book_->clear();
    book_->publish();
  }

  const L2Book& book() const { return *book_; }
  const Scale& price_scale() const { return price_; }
  const Scale& qty_scale() const { return qty_; }

  static pyb::dict result_dict(const book::ApplyResult& r) {
    pyb::dict d;
    d["updates"] = r.updates;
    d["inserted"] = r.inserted;
    d["removed"] = r.removed;
    d["removed_absent"] = r.removed_absent;
    d["dropped_stale"] = r.dropped_stale;
    d["crossed"] = r.crossed;
    return d;
  }

 private:
  Scale price_;
  Scale qty_;
  std::unique_ptr<L2Book> book_;
  venue::binance::MdParser parser_;
  std::vector<Level> levels_;
};

pyb::dict replay_dict(const venue::binance::ReplayResult& r) {
  const venue::binance::ReplayStats& s = r.stats;
  pyb::dict d;
  d["market"] = std::string(venue::binance::to_string(r.market));
  d["price_step"] = r.price_step;
  d["qty_step"] = r.qty_step;
  d["lines"] = s.lines;
  d["bytes"] = s.bytes;
  d["messages"] = s.messages;
  d["parse_errors"] = s.parse_errors;
  d["skipped_lines"] = s.skipped_lines;
  d["first_parse_error"] = s.first_parse_error;
  d["parser_fallbacks"] = r.parser.fallbacks;
  d["depth_updates"] = s.depth_updates;
  d["snapshots"] = s.snapshots;
  d["book_tickers"] = s.book_tickers;
  d["trades"] = s.trades;
  d["agg_trades"] = s.agg_trades;
  d["level_updates"] = r.sync.level_updates;
  d["applied"] = r.sync.applied;
  d["buffered"] = r.sync.buffered;
  d["dropped_old"] = r.sync.dropped_old;
  d["duplicates"] = r.sync.duplicates;
  d["gaps"] = r.sync.gaps;
  d["resync_requests"] = r.sync.snapshot_requests + r.sync.requests_deferred;
  d["crossed"] = s.crossed_seen;
  d["tickers_checked"] = s.tickers_checked;
  d["ticker_mismatches"] = s.ticker_mismatches;
  d["trade_id_gaps"] = s.trade_id_gaps + s.agg_id_gaps;
  d["trade_id_backwards"] = s.trade_id_backwards;
  d["bid_levels"] = r.bid_levels;
  d["ask_levels"] = r.ask_levels;
  const Scale ps = Scale::from_step(r.price_step), qs = Scale::from_step(r.qty_step);
  d["best_bid"] = r.bid_levels ? pyb::object(pyb::make_tuple(to_double(r.best_bid.price.raw(), ps),
                                                             to_double(r.best_bid.qty.raw(), qs)))
                               : pyb::object(pyb::none());
  d["best_ask"] = r.ask_levels ? pyb::object(pyb::make_tuple(to_double(r.best_ask.price.raw(), ps),
                                                             to_double(r.best_ask.qty.raw(), qs)))
                               : pyb::object(pyb::none());
  d["crossed_at_end"] = r.crossed_at_end;
  d["state"] = std::string(book::to_string(r.final_state));
  d["seconds"] = static_cast<double>(s.elapsed_ns) / 1e9;
  const double secs = s.elapsed_ns > 0 ? static_cast<double>(s.elapsed_ns) / 1e9 : 0.0;
  d["messages_per_s"] = secs > 0 ? static_cast<double>(s.lines) / secs : 0.0;
  d["level_updates_per_s"] = secs > 0 ? static_cast<double>(r.sync.level_updates) / secs : 0.0;
  return d;
}

venue::binance::ReplayOptions options(const std::optional<std::string>& market, const std::optional<std::string>& price_step,
                            const std::optional<std::string>& qty_step, const std::string& crossed_policy,
                            bool books_only) {
  venue::binance::ReplayOptions o;
  o.books_only = books_only;
  o.market = market_from(market);
  if (price_step) o.price_step = *price_step;
  if (qty_step) o.qty_step = *qty_step;
  o.crossed_policy = policy_from(crossed_policy);
  return o;
}

// ---- OKX -------------------------------------------------------------------------------------------

pyb::object best_level(bool present, const md::Level& l, const Scale& ps, const Scale& qs) {
  if (!present) return pyb::none();
  return pyb::make_tuple(to_double(l.price.raw(), ps), to_double(l.qty.raw(), qs));
}

pyb::dict okx_replay_dict(const venue::okx::ReplayResult& r) {
  using venue::okx::SkipReason;
  const venue::okx::ReplayStats& s = r.stats;
  pyb::dict d;
  d["venue"] = "okx";
  // The recordings in cryptofeed's format are its project's sample data (or recorded with it).
  d["credit"] = s.cryptofeed_lines != 0 ? "cryptofeed, by Bryant Moscon" : "";
  d["lines"] = s.lines;
  d["bytes"] = s.bytes;
  d["messages"] = s.messages;
  d["control_lines"] = s.control_lines;
  d["connection_lines"] = s.connection_lines;
  d["sent_lines"] = s.sent_lines;
  d["events"] = s.events;
  d["event_errors"] = s.event_errors;
  d["pongs"] = s.pongs;
  d["skipped_lines"] = s.skipped_lines;
  pyb::dict skipped;
  for (std::size_t i = 0; i < venue::okx::kSkipReasons; ++i)
    if (s.skipped[i] != 0) skipped[pyb::str(std::string(to_string(static_cast<SkipReason>(i))))] = s.skipped[i];
  d["skipped"] = skipped;
  d["parse_errors"] = s.parse_errors;
  d["bad_lines"] = s.bad_lines;
  pyb::dict by_reason;
  for (std::size_t i = 0; i < s.errors_by_status.size(); ++i)
    if (s.errors_by_status[i] != 0)
      by_reason[pyb::str(std::string(md::to_string(static_cast<md::ParseStatus>(i))))] = s.errors_by_status[i];
  d["parse_errors_by_reason"] = by_reason;
  d["first_parse_error"] = s.first_parse_error;
  d["parser_fallbacks"] = r.parser.fallbacks;
  d["cryptofeed_lines"] = s.cryptofeed_lines;
  d["snapshots"] = s.snapshots;
  d["depth_updates"] = s.updates;
  d["trades"] = s.trades;
  d["level_updates"] = r.sync.level_updates;
  d["applied"] = r.sync.applied;
  d["dropped_old"] = r.sync.dropped_old;
  d["checksums_checked"] = r.sync.checksums_checked;
  d["checksums_matched"] = r.sync.checksums_checked - r.sync.checksum_mismatches;
  d["checksum_mismatches"] = r.sync.checksum_mismatches;
  d["gaps"] = r.sync.gaps;
  d["resync_requests"] = r.sync.snapshot_requests;
  d["resync_requests_deferred"] = r.sync.requests_deferred;
  std::uint64_t crossed = 0, heartbeats = 0, resets = 0;
  pyb::list instruments;
  for (const venue::okx::InstrumentResult& i : r.instruments) {
    crossed += i.stats.crossed;
    heartbeats += i.okx.heartbeats;
    resets += i.okx.sequence_resets;
    pyb::dict x;
    x["inst_id"] = i.spec.inst_id;
    x["channel"] = i.spec.book_channel;
    x["price_step"] = i.spec.price.step_string();
    x["qty_step"] = i.spec.qty.step_string();
    x["messages"] = i.stats.messages;
    x["snapshots"] = i.stats.snapshots;
    x["depth_updates"] = i.stats.updates;
    x["trades"] = i.stats.trades;
    x["parse_errors"] = i.stats.parse_errors;
    x["checksums_checked"] = i.sync.checksums_checked;
    x["checksums_matched"] = i.sync.checksums_checked - i.sync.checksum_mismatches;
    x["checksum_mismatches"] = i.sync.checksum_mismatches;
    x["gaps"] = i.sync.gaps;
    x["resync_requests"] = i.sync.snapshot_requests;
    x["dropped_old"] = i.sync.dropped_old;
    x["heartbeats"] = i.okx.heartbeats;
    x["sequence_resets"] = i.okx.sequence_resets;
    x["crossed"] = i.stats.crossed;
    x["level_updates"] = i.sync.level_updates;
    x["bid_levels"] = i.bid_levels;
    x["ask_levels"] = i.ask_levels;
    x["best_bid"] = best_level(i.bid_levels != 0, i.best_bid, i.spec.price, i.spec.qty);
    x["best_ask"] = best_level(i.ask_levels != 0, i.best_ask, i.spec.price, i.spec.qty);
    x["crossed_at_end"] = i.crossed_at_end;
    x["state"] = std::string(book::to_string(i.final_state));
    instruments.append(x);
  }
  d["crossed"] = crossed;
  d["heartbeats"] = heartbeats;
  d["sequence_resets"] = resets;
  d["instruments"] = instruments;
  d["seconds"] = static_cast<double>(s.elapsed_ns) / 1e9;
  const double secs = s.elapsed_ns > 0 ? static_cast<double>(s.elapsed_ns) / 1e9 : 0.0;
  d["messages_per_s"] = secs > 0 ? static_cast<double>(s.lines) / secs : 0.0;
  d["level_updates_per_s"] = secs > 0 ? static_cast<double>(r.sync.level_updates) / secs : 0.0;
  return d;
}

venue::okx::ReplayOptions okx_options(const std::optional<std::string>& price_step,
                                      const std::optional<std::string>& qty_step,
                                      const std::map<std::string, std::pair<std::string, std::string>>& steps,
                                      const std::string& crossed_policy, bool books_only) {
  venue::okx::ReplayOptions o;
  if (price_step) o.price_step = *price_step;
  if (qty_step) o.qty_step = *qty_step;
  for (const auto& [inst, st] : steps) o.steps.push_back({inst, st.first, st.second});
  o.crossed_policy = policy_from(crossed_policy);
  o.books_only = books_only;
  return o;
}

// Views into the Python objects (bytes, or the UTF-8 cache of str): no copy; the list keeps them alive while
// the GIL is released.
std::vector<std::string_view> line_views(const pyb::list& lines) {
  std::vector<std::string_view> views;
  views.reserve(lines.size());
  for (const pyb::handle h : lines) {
    if (PyBytes_Check(h.ptr())) {
      char* p = nullptr;
      Py_ssize_t n = 0;
      PyBytes_AsStringAndSize(h.ptr(), &p, &n);
      views.emplace_back(p, static_cast<std::size_t>(n));
    } else if (PyUnicode_Check(h.ptr())) {
      Py_ssize_t n = 0;
      const char* p = PyUnicode_AsUTF8AndSize(h.ptr(), &n);
      if (p == nullptr) throw pyb::error_already_set();
      views.emplace_back(p, static_cast<std::size_t>(n));
    } else {
      throw ConfigError("replay_lines: each line must be str or bytes");
    }
  }
  return views;
}

}  // namespace

void register_book(pyb::module_& m) {
  pyb::class_<PyOrderBook>(m, "OrderBook",
                           "L2 order book in fixed point (ticks of price_step, lots of qty_step).")
      .def(pyb::init<const std::string&, const std::string&, const std::string&>(), pyb::arg("price_step"),
           pyb::arg("qty_step"), pyb::arg("crossed_policy") = "keep_and_flag")
      .def("apply_snapshot", &PyOrderBook::apply_snapshot, pyb::arg("bids"), pyb::arg("asks"),
           pyb::arg("update_id") = 0,
           "Replace the book. Levels: (n, 2) int64 array of raw steps, or (price, qty) decimal-string pairs.")
      .def("apply_diff", &PyOrderBook::apply_diff, pyb::arg("bids"), pyb::arg("asks"), pyb::arg("update_id") = 0,
           "Apply absolute quantities (0 removes). Returns counts and whether the book is crossed.")
      .def("apply_message", &PyOrderBook::apply_message, pyb::arg("json"),
           "Apply a Binance depthUpdate or depth snapshot message (raw or combined-stream envelope).")
      .def(
          "best_bid", [](const PyOrderBook& b, bool raw) { return b.best(Side::bid, raw); }, pyb::arg("raw") = false,
          "(price, qty) of the best bid, or None. raw=True gives integer steps.")
      .def(
          "best_ask", [](const PyOrderBook& b, bool raw) { return b.best(Side::ask, raw); }, pyb::arg("raw") = false)
      .def("depth", &PyOrderBook::depth, pyb::arg("n") = 10, pyb::arg("raw") = false,
           "(bids, asks): (k, 2) NumPy arrays of [price, qty], best first (float64, or int64 steps with raw=True).")
      .def("top", &PyOrderBook::top, "The published top of book (the lock-free snapshot other threads read).")
      .def("clear", &PyOrderBook::clear)
      .def_property_readonly("bid_count", [](const PyOrderBook& b) { return b.book().bid_count(); })
      .def_property_readonly("ask_count", [](const PyOrderBook& b) { return b.book().ask_count(); })
      .def_property_readonly("crossed", [](const PyOrderBook& b) { return b.book().is_crossed(); })
      .def_property_readonly("update_id", [](const PyOrderBook& b) { return b.book().update_id(); })
      .def_property_readonly("price_step", [](const PyOrderBook& b) { return b.price_scale().step_string(); })
      .def_property_readonly("qty_step", [](const PyOrderBook& b) { return b.qty_scale().step_string(); })
      .def("__len__", [](const PyOrderBook& b) { return b.book().bid_count() + b.book().ask_count(); });

  m.def(
      "replay_files",
      [](const std::vector<std::string>& files, const std::optional<std::string>& market,
         const std::optional<std::string>& price_step, const std::optional<std::string>& qty_step,
         const std::string& crossed_policy, bool books_only) {
        const venue::binance::ReplayOptions o = options(market, price_step, qty_step, crossed_policy, books_only);
        const auto r = without_gil([&] { return venue::binance::replay_files(files, o); });
        return replay_dict(r);
      },
      pyb::arg("files"), pyb::arg("market") = pyb::none(), pyb::arg("price_step") = pyb::none(),
      pyb::arg("qty_step") = pyb::none(), pyb::arg("crossed_policy") = "keep_and_flag", pyb::arg("books_only") = false);

  m.def(
      "replay_lines",
      [](const pyb::list& lines, const std::optional<std::string>& market,
         const std::optional<std::string>& price_step, const std::optional<std::string>& qty_step,
         const std::string& crossed_policy, bool books_only) {
        const venue::binance::ReplayOptions o = options(market, price_step, qty_step, crossed_policy, books_only);
        const std::vector<std::string_view> views = line_views(lines);
        const auto r = without_gil([&] { return venue::binance::replay_lines(views, o); });
        return replay_dict(r);
      },
      pyb::arg("lines"), pyb::arg("market") = pyb::none(), pyb::arg("price_step") = pyb::none(),
      pyb::arg("qty_step") = pyb::none(), pyb::arg("crossed_policy") = "keep_and_flag", pyb::arg("books_only") = false);

  using OkxSteps = std::map<std::string, std::pair<std::string, std::string>>;
  m.def(
      "replay_okx_files",
      [](const std::vector<std::string>& files, const std::optional<std::string>& price_step,
         const std::optional<std::string>& qty_step, const OkxSteps& steps, const std::string& crossed_policy,
         bool books_only) {
        const venue::okx::ReplayOptions o = okx_options(price_step, qty_step, steps, crossed_policy, books_only);
        const auto r = without_gil([&] { return venue::okx::replay_files(files, o); });
        return okx_replay_dict(r);
      },
      pyb::arg("files"), pyb::arg("price_step") = pyb::none(), pyb::arg("qty_step") = pyb::none(),
      pyb::arg("steps") = OkxSteps{}, pyb::arg("crossed_policy") = "keep_and_flag", pyb::arg("books_only") = false,
      "Replay recorded OKX streams (cryptofeed's or hftx's line format), one book per instrument.");

  m.def(
      "replay_okx_lines",
      [](const pyb::list& lines, const std::optional<std::string>& price_step,
         const std::optional<std::string>& qty_step, const OkxSteps& steps, const std::string& crossed_policy,
         bool books_only) {
        const venue::okx::ReplayOptions o = okx_options(price_step, qty_step, steps, crossed_policy, books_only);
        const std::vector<std::string_view> views = line_views(lines);
        const auto r = without_gil([&] { return venue::okx::replay_lines(views, o); });
        return okx_replay_dict(r);
      },
      pyb::arg("lines"), pyb::arg("price_step") = pyb::none(), pyb::arg("qty_step") = pyb::none(),
      pyb::arg("steps") = OkxSteps{}, pyb::arg("crossed_policy") = "keep_and_flag", pyb::arg("books_only") = false);
}

}  // namespace hftx::py
