// LatencyTracker: registration, merge-on-read, trace ring and Chrome trace-event export.
#include "hftx/latency/tracker.hpp"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "hftx/core/error.hpp"

namespace hftx {
namespace {

std::atomic<std::uint64_t> g_next_tracker_id{1};

struct LocalCache {
  std::uint64_t tracker_id = 0;
  LatencyTracker::Recorder* recorder = nullptr;
};
thread_local LocalCache t_local;

void json_escape(std::string& out, std::string_view s) {
  for (const char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(static_cast<unsigned char>(c)));
          out += buf;
        } else {
          out += c;
        }
    }
  }
}

}  // namespace

Stage stage_from_string(std::string_view name) {
  for (std::size_t i = 0; i < kStageCount; ++i)
    if (kStageNames[i] == name) return static_cast<Stage>(i);
  std::string names;
  for (const auto n : kStageNames) names += (names.empty() ? "" : ", ") + std::string(n);
  throw ConfigError("latency stage '" + std::string(name) + "': expected one of " + names);
}

void LatencyConfig::validate() const {
  schema::Checker check("hft.latency");
  describe(*this, check);
  try {
    (void)Histogram(lowest_ns, highest_ns, significant_digits);
  } catch (const ConfigError& e) {
    check.add("hft.latency", "", e.what());
  }
  check.throw_if_any();
}

LatencyTracker::Recorder::Recorder(const LatencyConfig& cfg, std::uint32_t index, std::string name)
    : clock_(&TscClock::instance()),
      enabled_(cfg.enable_tracking),
      sample_step_(static_cast<std::uint64_t>(std::llround(cfg.sample_rate * static_cast<double>(kSampleOne)))),
      stage_hist_{Histogram(cfg.lowest_ns, cfg.highest_ns, cfg.significant_digits),
                  Histogram(cfg.lowest_ns, cfg.highest_ns, cfg.significant_digits),
                  Histogram(cfg.lowest_ns, cfg.highest_ns, cfg.significant_digits),
                  Histogram(cfg.lowest_ns, cfg.highest_ns, cfg.significant_digits),
                  Histogram(cfg.lowest_ns, cfg.highest_ns, cfg.significant_digits),
                  Histogram(cfg.lowest_ns, cfg.highest_ns, cfg.significant_digits),
                  Histogram(cfg.lowest_ns, cfg.highest_ns, cfg.significant_digits),
                  Histogram(cfg.lowest_ns, cfg.highest_ns, cfg.significant_digits)},
      ring_size_(cfg.enable_tracking ? cfg.max_traces : 0),
      index_(index),
      name_(std::move(name)) {
  if (ring_size_ == 0) sample_step_ = 0;
  if (ring_size_ != 0) ring_ = std::make_unique<Slot[]>(ring_size_);
}

void LatencyTracker::Recorder::keep_trace(std::uint64_t seq) noexcept {
  const std::uint64_t n = traces_written_;
  Slot& s = ring_[n % ring_size_];
  const std::uint64_t version = s.seq.load(std::memory_order_relaxed);
  s.seq.store(version + 1, std::memory_order_relaxed);  // odd: being written
  s.event.store(seq, std::memory_order_release);
  s.begin.store(begin_, std::memory_order_release);
  for (std::size_t i = 0; i < kPathStages; ++i)
    s.ends[i].store((stamped_ >> i) & 1u ? ends_[i] : 0, std::memory_order_release);
  s.end.store(prev_, std::memory_order_release);
  s.seq.store(version + 2, std::memory_order_release);
  store_relaxed(traces_written_, n + 1);
}

bool LatencyTracker::Recorder::read_slot(std::size_t i, Trace& out) const noexcept {
  const Slot& s = ring_[i];
  const std::uint64_t s1 = s.seq.load(std::memory_order_acquire);
  if ((s1 & 1u) != 0 || s1 == 0) return false;  // being written, or never written
  out.event = s.event.load(std::memory_order_acquire);
  out.begin_ticks = s.begin.load(std::memory_order_acquire);
  for (std::size_t k = 0; k < kPathStages; ++k) out.stage_end_ticks[k] = s.ends[k].load(std::memory_order_acquire);
  out.end_ticks = s.end.load(std::memory_order_acquire);
  out.thread = index_;
  return s.seq.load(std::memory_order_relaxed) == s1;
}

LatencyTracker::LatencyTracker(const LatencyConfig& cfg) : cfg_(cfg), id_(g_next_tracker_id.fetch_add(1)) {
  cfg_.validate();
}

LatencyTracker::~LatencyTracker() = default;

LatencyTracker::Recorder& LatencyTracker::register_thread(std::string name) {
  std::lock_guard lock(mu_);
  const auto index = static_cast<std::uint32_t>(recorders_.size());
  if (name.empty()) name = "thread-" + std::to_string(index);
  recorders_.push_back(std::make_unique<Recorder>(cfg_, index, std::move(name)));
  owners_.push_back(std::this_thread::get_id());
  Recorder& r = *recorders_.back();
  t_local = {id_, &r};
  return r;
}

LatencyTracker::Recorder& LatencyTracker::local() {
  if (HFTX_LIKELY(t_local.tracker_id == id_)) return *t_local.recorder;
  {
    std::lock_guard lock(mu_);
    const auto me = std::this_thread::get_id();
    for (std::size_t i = 0; i < owners_.size(); ++i) {
      if (owners_[i] == me) {
        t_local = {id_, recorders_[i].get()};
        return *recorders_[i];
      }
    }
  }
  return register_thread();
}

Histogram LatencyTracker::stage_histogram(Stage stage) const {
  Histogram out(cfg_.lowest_ns, cfg_.highest_ns, cfg_.significant_digits);
  std::lock_guard lock(mu_);
  for (const auto& r : recorders_) out.merge(r->histogram(stage));
  return out;
}

std::array<Histogram, kStageCount> LatencyTracker::stage_histograms() const {
  return {stage_histogram(Stage::receive), stage_histogram(Stage::parse),         stage_histogram(Stage::book),
          stage_histogram(Stage::strategy), stage_histogram(Stage::risk),         stage_histogram(Stage::encode),
          stage_histogram(Stage::send),     stage_histogram(Stage::tick_to_trade)};
}

std::uint64_t LatencyTracker::events() const {
  std::lock_guard lock(mu_);
  std::uint64_t n = 0;
  for (const auto& r : recorders_) n += r->events();
  return n;
}

std::size_t LatencyTracker::thread_count() const {
  std::lock_guard lock(mu_);
  return recorders_.size();
}

std::vector<Trace> LatencyTracker::traces() const {
  std::vector<Trace> out;
  std::lock_guard lock(mu_);
  for (const auto& r : recorders_) {
    for (std::size_t i = 0; i < r->ring_size_; ++i) {
      Trace t;
      if (r->read_slot(i, t)) out.push_back(t);
    }
  }
  std::sort(out.begin(), out.end(), [](const Trace& a, const Trace& b) {
    return a.begin_ticks != b.begin_ticks ? a.begin_ticks < b.begin_ticks : a.thread < b.thread;
  });
  return out;
}

std::string LatencyTracker::chrome_trace_json() const {
  const std::vector<Trace> all = traces();
  std::vector<std::string> names;
  {
    std::lock_guard lock(mu_);
    for (const auto& r : recorders_) names.push_back(r->name());
  }
  const TscClock& clock = TscClock::instance();
  const int pid = static_cast<int>(::getpid());
  std::string out = "{\"displayTimeUnit\":\"ns\",\"traceEvents\":[";
  bool first = true;
  char buf[256];
  const auto sep = [&] {
    if (!first) out += ',';
    first = false;
  };
  for (std::size_t t = 0; t < names.size(); ++t) {
    sep();
    std::snprintf(buf, sizeof buf, "{\"name\":\"thread_name\",\"ph\":\"M\",\"pid\":%d,\"tid\":%zu,\"args\":{\"name\":\"", pid, t);
    out += buf;
    json_escape(out, names[t]);
    out += "\"}}";
  }
  // Microseconds since the epoch with ns precision (chrome's unit is us; fractions are allowed).
  const auto us = [&](std::uint64_t ticks) { return static_cast<double>(clock.to_realtime_ns(ticks)) / 1000.0; };
  const auto span = [&](std::string_view name, const Trace& tr, std::uint64_t from, std::uint64_t to) {
    sep();
    const double dur_us = static_cast<double>(clock.ticks_to_ns(static_cast<std::int64_t>(to - from))) / 1000.0;
    std::snprintf(buf, sizeof buf,
                  "{\"name\":\"%.*s\",\"cat\":\"hftx\",\"ph\":\"X\",\"ts\":%.3f,\"dur\":%.3f,\"pid\":%d,\"tid\":%u,"
                  "\"args\":{\"event\":%llu}}",
                  static_cast<int>(name.size()), name.data(), us(from), dur_us, pid, tr.thread,
                  static_cast<unsigned long long>(tr.event));
    out += buf;
  };
  for (const Trace& tr : all) {
    span(to_string(Stage::tick_to_trade), tr, tr.begin_ticks, tr.end_ticks);
    std::uint64_t prev = tr.begin_ticks;
    for (std::size_t k = 0; k < kPathStages; ++k) {
      if (tr.stage_end_ticks[k] == 0) continue;
      span(kStageNames[k], tr, prev, tr.stage_end_ticks[k]);
      prev = tr.stage_end_ticks[k];
    }
  }
  out += "]}";
  return out;
}

}  // namespace hftx
