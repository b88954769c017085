// Replay of recorded Binance streams: parser -> sync -> book. See hftx/book/replay.hpp.
#include "hftx/venue/binance/replay.hpp"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <memory>

#include "hftx/core/error.hpp"
#include "md/json_scan.hpp"

namespace hftx::venue::binance {

namespace {

constexpr std::size_t kPendingTickers = 1u << 14;

// "<digits> " prefix: the receive time. False when the line does not start that way. Every recorded line
// starts with 19 digits (nanoseconds since the epoch), read as 8 + 8 + 3: this runs for every line, the
// skipped ones of a books-only replay included.
bool split_line(std::string_view line, std::int64_t& ns, std::string_view& json) noexcept {
  std::size_t i = 0;
  std::uint64_t v = 0, hi = 0, mid = 0;
  using Scan = hftx::detail::FastScan;
  if (line.size() > 19 && line[19] == ' ' && Scan::eight_ascii_digits(line.data(), hi) &&
      Scan::eight_ascii_digits(line.data() + 8, mid) &&
      static_cast<unsigned>(line[16] - '0') < 10u && static_cast<unsigned>(line[17] - '0') < 10u &&
      static_cast<unsigned>(line[18] - '0') < 10u) {
    v = (hi * 100'000'000u + mid) * 1000u +
        static_cast<unsigned>((line[16] - '0') * 100 + (line[17] - '0') * 10 + (line[18] - '0'));
    i = 19;
  } else {
    while (i < line.size() && i < 19 && static_cast<unsigned>(line[i] - '0') < 10u) {
      v = v * 10u + static_cast<unsigned>(line[i] - '0');
      ++i;
    }
    if (i == 0 || i >= line.size() || line[i] != ' ') return false;
  }
  if (v > static_cast<std::uint64_t>(INT64_MAX)) return false;  // 19 digits beyond int64
  ns = static_cast<std::int64_t>(v);
  json = line.substr(i + 1);
  while (!json.empty() && (json.back() == '\r' || json.back() == ' ')) json.remove_suffix(1);
  return true;
}

Market market_of(const md::MdMessage& m) noexcept {
  if (!m.depth.has_prev) return Market::spot;
  return m.symbol.view().find('_') != std::string_view::npos ? Market::coinm : Market::usdm;
}

}  // namespace

namespace {

// False only for a combined-stream envelope (`{"stream":"<name>",...}`, how Binance writes "stream" first)
// whose stream is not a depth stream: the one cheap look books_only needs before parsing.
bool depth_stream_or_unwrapped(std::string_view json) noexcept {
  constexpr std::string_view kHead = R"({"stream":")";
  if (!json.starts_with(kHead)) return true;
  // One pass over the short name (it ends at the next quote), no library search calls: this runs for
  // every line a books-only replay skips.
  const std::string_view rest = json.substr(kHead.size());
  for (std::size_t i = 0; i < rest.size() && rest[i] != '"'; ++i)
    if (rest[i] == '@' && rest.substr(i + 1, 5) == "depth") return true;
  return false;
}

}  // namespace

Replayer::Replayer(Scale price_scale, Scale qty_scale, const ReplayOptions& opts)
    : opts_(opts),
      parser_(price_scale, qty_scale),
      book_(8192, opts.crossed_policy),
      sync_(book_, opts.market.value_or(Market::spot), opts.sync),
      market_(opts.market),
      levels_(opts.max_levels_per_message),
      pending_(kPendingTickers) {}

void Replayer::reset() {
  book_.clear();
  sync_.restart(opts_.market.value_or(Market::spot));
  market_ = opts_.market;
  stats_ = ReplayStats{};
  parser_.reset_stats();
  pending_head_ = pending_size_ = 0;
  last_trade_id_ = last_agg_id_ = 0;
}

md::ParseResult Replayer::feed_line(std::string_view line, std::size_t capacity) {
  ++stats_.lines;
  stats_.bytes += line.size() + 1;
  std::int64_t ns = 0;
  std::string_view json;
  const bool split = split_line(line, ns, json);
  if (split && opts_.books_only && !depth_stream_or_unwrapped(json)) {  // another stream: not parsed
    ++stats_.skipped_lines;
    return {};
  }
  if (!split) {
    if (line.empty()) return {};
    ++stats_.bad_lines;
    return md::ParseResult{md::ParseStatus::json_error, 0, "line"};
  }
  const std::size_t cap = capacity - static_cast<std::size_t>(json.data() - line.data());
  return feed_message(json, cap, ns);
}

md::ParseResult Replayer::feed_message(std::string_view json, std::size_t capacity, std::int64_t recv_ns) {
  const md::ParseResult r = parser_.parse(json, capacity, recv_ns, msg_, levels_.span());
  if (HFTX_UNLIKELY(!r.ok())) {
    if (stats_.parse_errors++ == 0) stats_.first_parse_error = r.describe();
    return r;
  }
  ++stats_.messages;
  switch (msg_.kind) {
    case md::MdKind::depth_update: {
      ++stats_.depth_updates;
      if (HFTX_UNLIKELY(!market_)) {
        market_ = market_of(msg_);
        sync_.set_market(*market_);
      }
      const std::uint64_t crossed_before = sync_.stats().crossed;
      if (sync_.on_diff(msg_) == DiffOutcome::applied) {
        stats_.crossed_seen += sync_.stats().crossed - crossed_before;
        check_pending(book_.update_id());
      }
      break;
    }
    case md::MdKind::depth_snapshot: {
      ++stats_.snapshots;
      const std::uint64_t applied_before = sync_.stats().applied;
      const std::uint64_t crossed_before = sync_.stats().crossed;
      sync_.on_snapshot(msg_);
      stats_.crossed_seen += sync_.stats().crossed - crossed_before;
      if (sync_.stats().applied != applied_before) check_pending(book_.update_id());
      break;
    }
    case md::MdKind::book_ticker:
      ++stats_.book_tickers;
      on_ticker(msg_.ticker);
      break;
    case md::MdKind::trade:
      ++stats_.trades;
      if (last_trade_id_ != 0) {
        if (msg_.trade.id > last_trade_id_ + 1) ++stats_.trade_id_gaps;
        else if (msg_.trade.id <= last_trade_id_) ++stats_.trade_id_backwards;
      }
      if (msg_.trade.id > last_trade_id_) last_trade_id_ = msg_.trade.id;
      break;
    case md::MdKind::agg_trade:
      ++stats_.agg_trades;
      if (last_agg_id_ != 0 && msg_.agg.id != last_agg_id_ + 1) ++stats_.agg_id_gaps;
      last_agg_id_ = std::max(last_agg_id_, msg_.agg.id);
      break;
    case md::MdKind::none:
      break;
  }
  return r;
}

void Replayer::on_ticker(const md::BookTicker& t) {
  const PendingTicker p{t.update_id, t.bid_price.raw(), t.bid_qty.raw(), t.ask_price.raw(), t.ask_qty.raw()};
  if (sync_.synced() && t.update_id <= book_.update_id()) {
    // The diff with this id has been applied already (or the id fell inside a diff's range: not checkable).
    if (t.update_id == book_.update_id()) compare(p);
    return;
  }
  if (pending_size_ == pending_.size()) {  // drop the oldest: never matched
    pending_head_ = (pending_head_ + 1) % pending_.size();
    --pending_size_;
  }
  pending_[(pending_head_ + pending_size_) % pending_.size()] = p;
  ++pending_size_;
}

void Replayer::check_pending(std::uint64_t u) {
  while (pending_size_ > 0) {
    const PendingTicker& p = pending_[pending_head_];
    if (p.u > u) break;
    if (p.u == u) compare(p);
    pending_head_ = (pending_head_ + 1) % pending_.size();
    --pending_size_;
  }
}

void Replayer::compare(const PendingTicker& t) {
  ++stats_.tickers_checked;
  const md::Level b = book_.best_bid(), a = book_.best_ask();
  if (b.price.raw() != t.bid || b.qty.raw() != t.bid_qty || a.price.raw() != t.ask || a.qty.raw() != t.ask_qty) {
    if (stats_.ticker_mismatches++ == 0)
      stats_.first_mismatch = TickerMismatch{t.u,           t.bid,        t.bid_qty,    t.ask,       t.ask_qty,
                                             b.price.raw(), b.qty.raw(),  a.price.raw(), a.qty.raw()};
  }
}

// ---- scale inference ----------------------------------------------------------------------------------

namespace {

// Significant decimals of a value held at 8 decimals.
int sig_decimals(std::int64_t raw8) noexcept {
  if (raw8 == 0) return 0;
  int d = 8;
  while (d > 0 && raw8 % 10 == 0) {
    raw8 /= 10;
    --d;
  }
  return d;
}

}  // namespace

InferredScales infer_scales(std::span<const std::string_view> lines) {
  const Scale probe = Scale::with_decimals(8);
  venue::binance::MdParser parser(probe, probe);
  std::vector<md::Level> levels(1u << 16);
  md::MdMessage m;
  int pd = -1, qd = -1;
  const auto price = [&](std::int64_t v) { pd = std::max(pd, sig_decimals(v)); };
  // Quantities: the decimals the venue writes (Binance pads every quantity of an instrument to the same
  // count, e.g. 8 on spot, 3 on USD-M BTCUSDT). Significant digits would not do: quantities finer than
  // the lot size occur (spot BTCUSDT, lot 0.00001, has 0.000001 quantities), and a guess from a sample
  // would reject them later.
  const auto written = [&](std::string_view line) {
    for (std::size_t i = 0; i + 1 < line.size(); ++i) {
      if (line[i] != '"' || static_cast<unsigned>(line[i + 1] - '0') >= 10u) continue;
      std::size_t j = i + 1;
      while (j < line.size() && static_cast<unsigned>(line[j] - '0') < 10u) ++j;
      if (j >= line.size() || line[j] != '.') continue;
      std::size_t k = j + 1;
      while (k < line.size() && static_cast<unsigned>(line[k] - '0') < 10u) ++k;
      if (k < line.size() && line[k] == '"' && k - j - 1 <= 8) qd = std::max(qd, static_cast<int>(k - j - 1));
      i = k;
    }
  };
  // A snapshot (hundreds of levels per side) shows the tick; without one, a few hundred diffs do.
  std::size_t with_levels = 0;
  bool snapshot = false;
  for (std::string_view line : lines) {
    if ((snapshot && with_levels >= 20) || with_levels >= 500) break;
    std::int64_t ns = 0;
    std::string_view json = line;
    if (!json.empty() && json.front() != '{') {
      if (!split_line(line, ns, json)) continue;
    }
    if (!parser.parse_unpadded(json, 0, m, levels).ok()) continue;
    const auto each = [&](std::span<const md::Level> ls) {
      for (const md::Level& l : ls) price(l.price.raw());
    };
    switch (m.kind) {
      case md::MdKind::depth_update:
        each(m.depth.bids);
        each(m.depth.asks);
        ++with_levels;
        break;
      case md::MdKind::depth_snapshot:
        each(m.snapshot.bids);
        each(m.snapshot.asks);
        ++with_levels;
        snapshot = true;
        break;
      case md::MdKind::book_ticker:
        price(m.ticker.bid_price.raw());
        price(m.ticker.ask_price.raw());
        break;
      case md::MdKind::trade: price(m.trade.price.raw()); break;
      case md::MdKind::agg_trade: price(m.agg.price.raw()); break;
      case md::MdKind::none: break;
    }
    written(json);
  }
  if (pd < 0) throw ConfigError("infer_scales: no prices found in the first " + std::to_string(lines.size()) +
                                " lines; give the tick and lot (price_step / qty_step)");
  return InferredScales{Scale::with_decimals(pd), Scale::with_decimals(std::max(qd, 0))};
}

// ---- files --------------------------------------------------------------------------------------------

namespace {

ReplayResult finish(const Replayer& r, std::int64_t elapsed_ns) {
  ReplayResult out;
  out.stats = r.stats();
  out.stats.elapsed_ns = elapsed_ns;
  out.sync = r.sync().stats();
  out.parser = r.parser().stats();
  out.market = r.market().value_or(Market::spot);
  out.price_step = r.parser().price_scale().step_string();
  out.qty_step = r.parser().qty_scale().step_string();
  out.bid_levels = r.book().bid_count();
  out.ask_levels = r.book().ask_count();
  out.best_bid = r.book().best_bid();
  out.best_ask = r.book().best_ask();
  out.crossed_at_end = r.book().is_crossed();
  out.final_state = r.sync().state();
  return out;
}

InferredScales scales_for(const ReplayOptions& opts, std::span<const std::string_view> sample) {
  if (!opts.price_step.empty() && !opts.qty_step.empty())
    return InferredScales{Scale::from_step(opts.price_step), Scale::from_step(opts.qty_step)};
  InferredScales s = infer_scales(sample);
  if (!opts.price_step.empty()) s.price = Scale::from_step(opts.price_step);
  if (!opts.qty_step.empty()) s.qty = Scale::from_step(opts.qty_step);
  return s;
}

// The tick shows in any snapshot or a few thousand diffs; quantities use the written decimals.
constexpr std::size_t kInferLines = 5000;

}  // namespace

ReplayResult replay_files(std::span<const std::string> paths, const ReplayOptions& opts) {
  if (paths.empty()) throw ConfigError("replay_files: no files given");
  std::vector<std::string> sample = md::read_recorded_lines(paths[0], kInferLines);
  std::vector<std::string_view> views(sample.begin(), sample.end());
  const InferredScales sc = scales_for(opts, views);
  auto r = std::make_unique<Replayer>(sc.price, sc.qty, opts);
  const auto t0 = std::chrono::steady_clock::now();
  for (const std::string& p : paths) {
    md::LineReader reader(p);
    while (const std::optional<md::RecordedLine> line = reader.next()) (void)r->feed_line(line->text, line->capacity);
  }
  const auto t1 = std::chrono::steady_clock::now();
  return finish(*r, std::chrono::duration_cast<std::chrono::nanoseconds>(t1 - t0).count());
}

ReplayResult replay_lines(std::span<const std::string_view> lines, const ReplayOptions& opts) {
  const InferredScales sc = scales_for(opts, lines.subspan(0, std::min(lines.size(), kInferLines)));
  auto r = std::make_unique<Replayer>(sc.price, sc.qty, opts);
  const auto t0 = std::chrono::steady_clock::now();
  // In place, without padding: the parser's fast scanner needs none, and it copies the rare line it leaves
  // to simdjson (a snapshot, a malformed line) into its own padded buffer.
  for (std::string_view l : lines) (void)r->feed_line(l, l.size());
  const auto t1 = std::chrono::steady_clock::now();
  return finish(*r, std::chrono::duration_cast<std::chrono::nanoseconds>(t1 - t0).count());
}

}  // namespace hftx::venue::binance
