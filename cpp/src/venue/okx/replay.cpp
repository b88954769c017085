// Replay of recorded OKX streams: classifier -> instrument's parser -> sync -> book. See hftx/venue/okx/replay.hpp.
#include "hftx/venue/okx/replay.hpp"

#include <simdjson.h>

#include <algorithm>
#include <chrono>
#include <map>

#include "hftx/core/error.hpp"
#include "hftx/md/recording.hpp"
#include "hftx/venue/okx/stream.hpp"

namespace hftx::venue::okx {

namespace {

// The largest message a replay's parsers take (a 400-level snapshot is ~35 KB); its simdjson buffers are
// allocated per instrument.
constexpr std::size_t kReplayMessageCapacity = 1u << 18;

enum class LineKind : std::uint8_t { message, connection, sent, http, empty, bad };

struct Line {
  LineKind kind = LineKind::bad;
  bool cryptofeed = false;
  std::int64_t ns = 0;
  std::string_view json;
};

HFTX_FORCE_INLINE bool digit(char c) noexcept { return static_cast<unsigned>(c - '0') < 10u; }

// `<digits>[.<digits>]` seconds at s[i], as ns (fraction digits past the ninth dropped). False when absent or
// out of range.
bool unix_seconds(std::string_view s, std::size_t& i, std::int64_t& ns) noexcept {
  constexpr std::uint64_t kMaxSeconds = static_cast<std::uint64_t>(INT64_MAX) / 1'000'000'000u - 1;
  const std::size_t start = i;
  std::uint64_t sec = 0;
  for (; i < s.size() && digit(s[i]); ++i) {
    if (i - start >= 11) return false;
    sec = sec * 10u + static_cast<unsigned>(s[i] - '0');
  }
  if (i == start || sec > kMaxSeconds) return false;
  std::uint64_t frac = 0;
  int digits = 0;
  if (i < s.size() && s[i] == '.') {
    const std::size_t f0 = ++i;
    for (; i < s.size() && digit(s[i]); ++i)
      if (digits < 9) {
        frac = frac * 10u + static_cast<unsigned>(s[i] - '0');
        ++digits;
      }
    if (i == f0) return false;
  }
  for (; digits < 9; ++digits) frac *= 10u;
  ns = static_cast<std::int64_t>(sec * 1'000'000'000u + frac);
  return true;
}

std::string_view trim_end(std::string_view s) noexcept {
  while (!s.empty() && (s.back() == '\r' || s.back() == ' ')) s.remove_suffix(1);
  return s;
}

Line split_line(std::string_view text) noexcept {
  Line out;
  const std::string_view line = trim_end(text);
  if (line.empty()) {
    out.kind = LineKind::empty;
    return out;
  }
  if (digit(line[0])) {
    std::size_t j = 0;
    while (j < line.size() && digit(line[j])) ++j;
    if (j < line.size() && line[j] == ' ' && j <= 19) {  // hftx: `<ns> <json>`
      std::uint64_t v = 0;
      for (std::size_t k = 0; k < j; ++k) v = v * 10u + static_cast<unsigned>(line[k] - '0');
      if (v > static_cast<std::uint64_t>(INT64_MAX)) return out;
      out.kind = LineKind::message;
      out.ns = static_cast<std::int64_t>(v);
      out.json = line.substr(j + 1);
      return out;
    }
    std::size_t i = 0;  // cryptofeed: `<unix_s>: <json>`
    if (unix_seconds(line, i, out.ns) && line.substr(i).starts_with(": ")) {
      out.kind = LineKind::message;
      out.cryptofeed = true;
      out.json = line.substr(i + 2);
    }
    return out;
  }
  if (!(line.starts_with("wss://") || line.starts_with("ws://") || line.starts_with("https://") ||
        line.starts_with("http://")))
    return out;
  const std::size_t sp = line.find(' ');
  if (sp == std::string_view::npos) return out;
  const std::string_view rest = line.substr(sp + 1);
  std::size_t i = 0;
  if (rest.starts_with("<-> ")) {
    i = 4;
    if (unix_seconds(rest, i, out.ns) && i == rest.size()) out.kind = LineKind::connection;
  } else if (rest.starts_with("<- ")) {
    i = 3;
    if (unix_seconds(rest, i, out.ns) && rest.substr(i).starts_with(": ")) out.kind = LineKind::sent;
  } else if (rest.starts_with("-> ")) {
    i = 3;
    if (unix_seconds(rest, i, out.ns) && rest.substr(i).starts_with(": ")) out.kind = LineKind::http;
  }
  out.cryptofeed = out.kind != LineKind::bad;
  return out;
}

// Significant decimals of a number's text ("0.00000166" -> 8, "441" -> 0, "9.6150" -> 3); -1 when it is not a
// plain decimal.
int decimals_of(std::string_view t) noexcept {
  std::size_t i = 0;
  while (i < t.size() && digit(t[i])) ++i;
  if (i == 0) return -1;
  if (i == t.size()) return 0;
  if (t[i] != '.') return -1;
  const std::size_t f0 = ++i;
  std::size_t last_nonzero = f0 - 1;
  for (; i < t.size(); ++i) {
    if (!digit(t[i])) return -1;
    if (t[i] != '0') last_nonzero = i;
  }
  return static_cast<int>(last_nonzero - (f0 - 1));
}

// The pre-pass over the lines (scan_instruments).
class InstrumentScan {
 public:
  explicit InstrumentScan(const ReplayOptions& opts) : opts_(opts) {}

  void add(std::string_view text) {
    const Line line = split_line(text);
    if (line.kind != LineKind::message) return;
    const Classified c = classify(line.json);
    if (c.type != MessageType::book && c.type != MessageType::trade) return;
    if (c.inst_id.empty() || c.inst_id.size() > md::Symbol::kCapacity) return;
    auto [it, fresh] = index_.try_emplace(std::string(c.inst_id), found_.size());
    if (fresh) found_.push_back(Found{std::string(c.inst_id), {}, -1, -1});
    Found& f = found_[it->second];
    if (c.type == MessageType::book) {
      if (f.book_channel.empty()) f.book_channel = std::string(c.channel);
      else if (f.book_channel != c.channel) return;  // replayed as skipped: its numbers do not count
    }
    simdjson::dom::element doc;
    if (parser_.parse(line.json.data(), line.json.size(), true).get(doc) != simdjson::SUCCESS) return;
    simdjson::dom::array data;
    if (doc["data"].get(data) != simdjson::SUCCESS) return;
    const auto note = [](int& d, simdjson::simdjson_result<simdjson::dom::element> e) {
      std::string_view t;
      if (e.get(t) == simdjson::SUCCESS) d = std::max(d, decimals_of(t));
    };
    for (simdjson::dom::element el : data) {
      if (c.type == MessageType::trade) {
        note(f.pd, el["px"]);
        note(f.qd, el["sz"]);
        continue;
      }
      for (const char* side : {"asks", "bids"}) {
        simdjson::dom::array levels;
        if (el[side].get(levels) != simdjson::SUCCESS) continue;
        for (simdjson::dom::element lv : levels) {
          simdjson::dom::array pair;
          if (lv.get(pair) != simdjson::SUCCESS || pair.size() < 2) continue;
          note(f.pd, pair.at(0));
          note(f.qd, pair.at(1));
        }
      }
      break;  // a book message's one element
    }
  }

  std::vector<InstrumentSpec> result() const {
    std::vector<InstrumentSpec> out;
    for (const Found& f : found_) {
      InstrumentSpec s{f.inst_id, f.book_channel, Scale::with_decimals(std::max(f.pd, 0)),
                       Scale::with_decimals(std::max(f.qd, 0))};
      if (!opts_.price_step.empty()) s.price = Scale::from_step(opts_.price_step);
      if (!opts_.qty_step.empty()) s.qty = Scale::from_step(opts_.qty_step);
      for (const InstrumentSteps& g : opts_.steps) {
        if (g.inst_id != f.inst_id) continue;
        if (!g.price_step.empty()) s.price = Scale::from_step(g.price_step);
        if (!g.qty_step.empty()) s.qty = Scale::from_step(g.qty_step);
      }
      out.push_back(std::move(s));
    }
    return out;
  }

 private:
  struct Found {
    std::string inst_id;
    std::string book_channel;
    int pd, qd;  // finest decimals of prices, sizes
  };
  const ReplayOptions& opts_;
  simdjson::dom::parser parser_;
  std::map<std::string, std::size_t, std::less<>> index_;
  std::vector<Found> found_;
};

}  // namespace

std::vector<InstrumentSpec> scan_instruments(std::span<const std::string_view> lines, const ReplayOptions& opts) {
  InstrumentScan scan(opts);
  for (const std::string_view l : lines) scan.add(l);
  return scan.result();
}

std::vector<InstrumentSpec> scan_instrument_files(std::span<const std::string> paths, const ReplayOptions& opts) {
  InstrumentScan scan(opts);
  for (const std::string& p : paths) {
    md::LineReader reader(p);
    while (const std::optional<md::RecordedLine> line = reader.next()) scan.add(line->text);
  }
  return scan.result();
}

// ---- the replayer --------------------------------------------------------------------------------------

Replayer::Instrument::Instrument(const InstrumentSpec& s, const ReplayOptions& opts)
    : spec(s),
      parser(s.price, s.qty, kReplayMessageCapacity),
      book(4096, opts.crossed_policy, kReplayWindowBits),
      sync(book, s.price, s.qty, opts.sync) {
  sync.set_defer_checksum(opts.defer_checksum);
}

Replayer::Replayer(std::span<const InstrumentSpec> instruments, const ReplayOptions& opts)
    : opts_(opts), probe_(Scale(), Scale(), kReplayMessageCapacity), levels_(opts.max_levels_per_message) {
  for (const InstrumentSpec& s : instruments) {
    if (find(s.inst_id) != nullptr) throw ConfigError("okx::Replayer: instrument '" + s.inst_id + "' listed twice");
    instruments_.push_back(std::make_unique<Instrument>(s, opts_));
    by_name_.emplace_back(instruments_.back()->spec.inst_id, instruments_.back().get());
    std::sort(by_name_.begin(), by_name_.end(),
              [](const auto& a, const auto& b) { return a.first < b.first; });
  }
}

Replayer::Instrument* Replayer::find(std::string_view inst_id) noexcept {
  const auto it = std::lower_bound(by_name_.begin(), by_name_.end(), inst_id,
                                   [](const auto& e, std::string_view k) { return e.first < k; });
  return it != by_name_.end() && it->first == inst_id ? it->second : nullptr;
}
const Replayer::Instrument* Replayer::find(std::string_view inst_id) const noexcept {
  return const_cast<Replayer*>(this)->find(inst_id);
}

void Replayer::reset() {
  for (const std::unique_ptr<Instrument>& i : instruments_) {
    i->book.clear();
    i->sync.restart();
    i->parser.reset_stats();
    i->stats = InstrumentStats{};
  }
  probe_.reset_stats();
  stats_ = ReplayStats{};
}

void Replayer::skip(SkipReason why) noexcept {
  ++stats_.skipped_lines;
  ++stats_.skipped[static_cast<std::size_t>(why)];
}

md::ParseResult Replayer::error(const md::ParseResult& r, Instrument* inst) {
  ++stats_.errors_by_status[static_cast<std::size_t>(r.status)];
  if (stats_.parse_errors++ == 0) {
    stats_.first_parse_error = r.describe();
    if (inst != nullptr) stats_.first_parse_error += " (" + inst->spec.inst_id + ")";
  }
  if (inst != nullptr) ++inst->stats.parse_errors;
  return r;
}

md::ParseResult Replayer::feed_line(std::string_view text, std::size_t capacity) {
  ++stats_.lines;
  stats_.bytes += text.size() + 1;
  const Line line = split_line(text);
  stats_.cryptofeed_lines += line.cryptofeed;
  switch (line.kind) {
    case LineKind::message:
      return feed_message(line.json, capacity - static_cast<std::size_t>(line.json.data() - text.data()), line.ns);
    case LineKind::connection:
      ++stats_.control_lines;
      ++stats_.connection_lines;
      return {};
    case LineKind::sent:
      ++stats_.control_lines;
      ++stats_.sent_lines;
      return {};
    case LineKind::http:
      skip(SkipReason::http_body);
      return {};
    case LineKind::empty:
      skip(SkipReason::empty);
      return {};
    case LineKind::bad:
      break;
  }
  ++stats_.bad_lines;
  return error(md::ParseResult{md::ParseStatus::json_error, 0, "line"}, nullptr);
}

md::ParseResult Replayer::feed_message(std::string_view json, std::size_t capacity, std::int64_t recv_ns) {
  const Classified c = classify(json);
  switch (c.type) {
    case MessageType::event:
      ++stats_.control_lines;
      ++stats_.events;
      stats_.event_errors += c.event == EventType::error;
      return {};
    case MessageType::pong:
      ++stats_.control_lines;
      ++stats_.pongs;
      return {};
    case MessageType::other_channel:
      skip(SkipReason::other_channel);
      return {};
    case MessageType::other: {
      // Not OKX data: the parser names what is wrong (a message it would take is no instrument's).
      md::ParseResult r = probe_.parse(json, capacity, recv_ns, msg_, levels_);
      if (r.ok()) r = md::ParseResult{md::ParseStatus::unknown_event, 0, "instId"};
      return error(r, nullptr);
    }
    case MessageType::book:
    case MessageType::trade:
      break;
  }
  Instrument* const inst = find(c.inst_id);
  if (HFTX_UNLIKELY(inst == nullptr))
    return error(md::ParseResult{md::ParseStatus::unknown_event, 0, "instId"}, nullptr);
  if (c.type == MessageType::trade && opts_.books_only) {
    skip(SkipReason::books_only);
    return {};
  }
  if (c.type == MessageType::book && c.channel != inst->spec.book_channel) {
    skip(SkipReason::other_book_channel);
    return {};
  }
  const md::ParseResult r = inst->parser.parse(json, capacity, recv_ns, msg_, levels_);
  if (HFTX_UNLIKELY(!r.ok())) return error(r, inst);
  ++stats_.messages;
  InstrumentStats& is = inst->stats;
  ++is.messages;
  ReplaySync& sync = inst->sync;
  const std::uint64_t applied_before = sync.stats().applied, snapshots_before = sync.stats().snapshots;
  switch (msg_.kind) {
    case md::MdKind::depth_snapshot:
      ++stats_.snapshots;
      ++is.snapshots;
      sync.on_snapshot(msg_);
      break;
    case md::MdKind::depth_update:
      ++stats_.updates;
      ++is.updates;
      (void)sync.on_diff(msg_);
      break;
    case md::MdKind::trade: {
      const std::uint64_t n = 1 + inst->parser.trades_left();
      stats_.trades += n;
      is.trades += n;
      ++is.trade_messages;
      return r;
    }
    default:
      return r;
  }
  (void)sync.verify_pending(recv_ns);  // deferred mode: the check a session makes just after acting
  if ((sync.stats().applied != applied_before || sync.stats().snapshots != snapshots_before) &&
      inst->book.is_crossed())
    ++is.crossed;
  return r;
}

// ---- results -------------------------------------------------------------------------------------------

namespace {

void add(SyncStats& a, const SyncStats& b) noexcept {
  a.diffs += b.diffs;
  a.applied += b.applied;
  a.level_updates += b.level_updates;
  a.buffered += b.buffered;
  a.dropped_old += b.dropped_old;
  a.duplicates += b.duplicates;
  a.gaps += b.gaps;
  a.snapshots += b.snapshots;
  a.snapshots_ignored += b.snapshots_ignored;
  a.snapshot_requests += b.snapshot_requests;
  a.requests_deferred += b.requests_deferred;
  a.snapshot_timeouts += b.snapshot_timeouts;
  a.buffer_overflows += b.buffer_overflows;
  a.crossed += b.crossed;
  a.dropped_stale_levels += b.dropped_stale_levels;
  a.checksums_checked += b.checksums_checked;
  a.checksum_mismatches += b.checksum_mismatches;
}

void add(md::ParserStats& a, const md::ParserStats& b) noexcept {
  a.messages += b.messages;
  for (std::size_t i = 0; i < a.by_status.size(); ++i) a.by_status[i] += b.by_status[i];
  for (std::size_t i = 0; i < a.by_kind.size(); ++i) a.by_kind[i] += b.by_kind[i];
  a.fallbacks += b.fallbacks;
}

}  // namespace

ReplayResult result_of(const Replayer& r) {
  ReplayResult out;
  out.stats = r.stats();
  for (const std::unique_ptr<Replayer::Instrument>& i : r.instruments()) {
    InstrumentResult ir;
    ir.spec = i->spec;
    ir.stats = i->stats;
    ir.sync = i->sync.stats();
    ir.okx = i->sync.okx_stats();
    ir.parser = i->parser.stats();
    ir.bid_levels = i->book.bid_count();
    ir.ask_levels = i->book.ask_count();
    ir.best_bid = i->book.best_bid();
    ir.best_ask = i->book.best_ask();
    ir.crossed_at_end = i->book.is_crossed();
    ir.final_state = i->sync.state();
    add(out.sync, ir.sync);
    add(out.parser, ir.parser);
    out.instruments.push_back(std::move(ir));
  }
  return out;
}

ReplayResult replay_files(std::span<const std::string> paths, const ReplayOptions& opts) {
  if (paths.empty()) throw ConfigError("okx::replay_files: no files given");
  const std::vector<InstrumentSpec> specs = scan_instrument_files(paths, opts);
  auto r = std::make_unique<Replayer>(specs, opts);
  const auto t0 = std::chrono::steady_clock::now();
  for (const std::string& p : paths) {
    md::LineReader reader(p);
    while (const std::optional<md::RecordedLine> line = reader.next()) (void)r->feed_line(line->text, line->capacity);
  }
  const auto t1 = std::chrono::steady_clock::now();
  ReplayResult out = result_of(*r);
  out.stats.elapsed_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(t1 - t0).count();
  return out;
}

ReplayResult replay_lines(std::span<const std::string_view> lines, const ReplayOptions& opts) {
  const std::vector<InstrumentSpec> specs = scan_instruments(lines, opts);
  auto r = std::make_unique<Replayer>(specs, opts);
  const auto t0 = std::chrono::steady_clock::now();
  // In place, without padding: the parser's fast scanner needs none, and copies a line it leaves to simdjson.
  for (const std::string_view l : lines) (void)r->feed_line(l, l.size());
  const auto t1 = std::chrono::steady_clock::now();
  ReplayResult out = result_of(*r);
  out.stats.elapsed_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(t1 - t0).count();
  return out;
}

}  // namespace hftx::venue::okx
