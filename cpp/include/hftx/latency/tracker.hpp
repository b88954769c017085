// hftx/latency/tracker.hpp — per-stage latency of the tick-to-trade path, with sampled traces.
//
// Threading contract:
//  - Each recording thread uses its own Recorder (register_thread() once at setup, or local(), which
//    caches the calling thread's recorder in a thread_local). A Recorder is written by that thread only:
//    its histograms and trace ring are never shared on the hot path, so recording takes no lock and no
//    atomic read-modify-write.
//  - Readers (stage_histogram(), traces(), chrome_trace_json(), events()) may run on any thread at any
//    time: they take the registry mutex (which recorders never touch after registration) and read each
//    recorder's histograms with relaxed loads ("merged on read") and its trace ring through a per-slot
//    seqlock, skipping a slot that is being overwritten at that moment.
//  - register_thread()/local() allocate (once per thread) and lock: setup, not hot path.
//  - Recorders live as long as the tracker; a thread that exits leaves its recorder (and its counts).
//
// An event is one pass down the path: begin() at the moment its bytes are in user space, stamp(stage)
// at the end of each stage (the stage's latency is the time since the previous stamp), end() after the
// last stage (tick-to-trade = last stamp - begin). Stamps are raw TSC ticks; they are converted to
// nanoseconds (one multiply and shift) when recorded.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "hftx/core/clock.hpp"
#include "hftx/core/platform.hpp"
#include "hftx/core/schema.hpp"
#include "hftx/latency/histogram.hpp"

namespace hftx {

enum class Stage : std::uint8_t { receive, parse, book, strategy, risk, encode, send, tick_to_trade };
inline constexpr std::size_t kStageCount = 8;
inline constexpr std::size_t kPathStages = 7;  // every stage but tick_to_trade
inline constexpr std::array<std::string_view, kStageCount> kStageNames = {
    "receive", "parse", "book", "strategy", "risk", "encode", "send", "tick_to_trade"};

[[nodiscard]] constexpr std::string_view to_string(Stage s) noexcept { return kStageNames[static_cast<std::size_t>(s)]; }
// "parse" -> Stage::parse; throws ConfigError naming the text and the stage names.
[[nodiscard]] Stage stage_from_string(std::string_view name);

// The seed config's `latency:` block, plus the histograms' range.
struct LatencyConfig {
  bool enable_tracking = true;
  std::size_t max_traces = 10'000;  // traces kept (the latest), per recording thread
  double sample_rate = 0.01;        // fraction of events traced, 0..1 (every 1/rate-th event, deterministic)
  std::int64_t lowest_ns = Histogram::kDefaultLowest;
  std::int64_t highest_ns = Histogram::kDefaultHighest;
  int significant_digits = Histogram::kDefaultDigits;

  // Throws ConfigError naming the key (hft.latency.sample_rate, ...), the value and what was expected: the keys'
  // bounds (describe() below) and the histogram's.
  void validate() const;
};

// Its keys (core/schema.hpp), under hft.latency. The histogram's range is not a configuration key.
template <class C, class V>
  requires schema::Of<C, LatencyConfig>
void describe(C& c, V& v) {
  v.key(c.enable_tracking,
        {.name = "enable_tracking", .doc = "per-stage latency histograms (receive .. send, tick_to_trade)"});
  v.key(c.max_traces, {.name = "max_traces",
                       .doc = "sampled traces kept per recording thread (Chrome trace in the report)",
                       .min = 0, .max = 16'777'216});
  v.key(c.sample_rate, {.name = "sample_rate",
                        .doc = "share of events traced, 0..1 (every 1/rate-th event, deterministic)",
                        .min = 0, .max = 1});
}

// Every stage's end stamp for one sampled event (raw ticks; 0 = stage not stamped).
struct Trace {
  std::uint64_t event = 0;   // the recorder's event number
  std::uint32_t thread = 0;  // the recorder's index
  std::uint64_t begin_ticks = 0;
  std::array<std::uint64_t, kPathStages> stage_end_ticks{};
  std::uint64_t end_ticks = 0;  // tick-to-trade end
};

class LatencyTracker {
 public:
  class Recorder {
   public:
    // Starts an event at `start` (raw ticks: TscClock::ticks(), or a stamp taken when the bytes arrived).
    HFTX_FORCE_INLINE void begin(std::uint64_t start = TscClock::ticks()) noexcept {
      begin_ = start;
      prev_ = start;
      stamped_ = 0;
    }

    // Ends `stage` at `now`: records now - (previous stamp) in the stage's histogram.
    HFTX_FORCE_INLINE void stamp(Stage stage, std::uint64_t now = TscClock::ticks()) noexcept {
      if (HFTX_UNLIKELY(!enabled_)) return;
      const auto i = static_cast<std::size_t>(stage);
      stage_hist_[i].record(clock_->ticks_to_ns(static_cast<std::int64_t>(now - prev_)));
      ends_[i] = now;
      stamped_ |= 1u << i;
      prev_ = now;
    }

    // Ends the event at its last stamp: records tick-to-trade and, every 1/sample_rate-th event, keeps
    // the event's stamps in the trace ring. No clock read.
    HFTX_FORCE_INLINE void end() noexcept {
      if (HFTX_UNLIKELY(!enabled_)) return;
      stage_hist_[kPathStages].record(clock_->ticks_to_ns(static_cast<std::int64_t>(prev_ - begin_)));
      const std::uint64_t seq = events_;
      store_relaxed(events_, seq + 1);
      sample_acc_ += sample_step_;
      if (HFTX_UNLIKELY(sample_acc_ >= kSampleOne)) {
        sample_acc_ -= kSampleOne;
        keep_trace(seq);
      }
    }

    // Records a latency measured elsewhere (ns) for `stage`.
    HFTX_FORCE_INLINE void record(Stage stage, std::int64_t ns) noexcept {
      if (HFTX_LIKELY(enabled_)) stage_hist_[static_cast<std::size_t>(stage)].record(ns);
    }

    [[nodiscard]] const Histogram& histogram(Stage s) const noexcept { return stage_hist_[static_cast<std::size_t>(s)]; }
    [[nodiscard]] std::uint64_t events() const noexcept { return load_relaxed(events_); }
    [[nodiscard]] std::uint64_t traces_written() const noexcept { return load_relaxed(traces_written_); }
    [[nodiscard]] std::uint32_t index() const noexcept { return index_; }
    [[nodiscard]] const std::string& name() const noexcept { return name_; }

    Recorder(const LatencyConfig& cfg, std::uint32_t index, std::string name);
    Recorder(const Recorder&) = delete;
    Recorder& operator=(const Recorder&) = delete;

   private:
    friend class LatencyTracker;
    static constexpr std::uint64_t kSampleOne = std::uint64_t{1} << 32;

    // A trace slot, seqlock'd: every field an atomic (stores release, loads acquire) so that a reader
    // racing the writer sees the odd sequence or a changed one and skips the slot.
    struct Slot {
      std::atomic<std::uint64_t> seq{0};
      std::atomic<std::uint64_t> event{0};
      std::atomic<std::uint64_t> begin{0};
      std::array<std::atomic<std::uint64_t>, kPathStages> ends{};
      std::atomic<std::uint64_t> end{0};
    };

    template <class T>
    static HFTX_FORCE_INLINE T load_relaxed(const T& x) noexcept {
      return std::atomic_ref<const T>(x).load(std::memory_order_relaxed);
    }
    template <class T>
    static HFTX_FORCE_INLINE void store_relaxed(T& x, T v) noexcept {
      std::atomic_ref<T>(x).store(v, std::memory_order_relaxed);
    }
    HFTX_NOINLINE void keep_trace(std::uint64_t seq) noexcept;
    bool read_slot(std::size_t i, Trace& out) const noexcept;

    // Hot state first.
    alignas(kCacheLine) const TscClock* clock_;
    bool enabled_;
    std::uint32_t stamped_ = 0;
    std::uint64_t begin_ = 0;
    std::uint64_t prev_ = 0;
    std::uint64_t events_ = 0;
    std::uint64_t sample_acc_ = 0;
    std::uint64_t sample_step_ = 0;  // sample_rate * 2^32
    std::array<std::uint64_t, kPathStages + 1> ends_{};
    std::array<Histogram, kStageCount> stage_hist_;
    std::unique_ptr<Slot[]> ring_;
    std::size_t ring_size_ = 0;
    std::uint64_t traces_written_ = 0;
    std::uint32_t index_;
    std::string name_;
  };

  explicit LatencyTracker(const LatencyConfig& cfg = {});
  LatencyTracker(const LatencyTracker&) = delete;
  LatencyTracker& operator=(const LatencyTracker&) = delete;
  ~LatencyTracker();

  // A new recorder for the calling thread (name shown in traces; default "thread-<index>").
  [[nodiscard]] Recorder& register_thread(std::string name = {});
  // The calling thread's recorder in this tracker, registered on first use.
  [[nodiscard]] Recorder& local();

  [[nodiscard]] const LatencyConfig& config() const noexcept { return cfg_; }
  [[nodiscard]] bool enabled() const noexcept { return cfg_.enable_tracking; }
  // Every thread's histogram of `stage`, merged.
  [[nodiscard]] Histogram stage_histogram(Stage stage) const;
  [[nodiscard]] std::array<Histogram, kStageCount> stage_histograms() const;
  [[nodiscard]] std::uint64_t events() const;
  [[nodiscard]] std::size_t thread_count() const;
  // The kept traces of every thread, oldest first by begin time (at most max_traces per thread).
  [[nodiscard]] std::vector<Trace> traces() const;
  // Chrome trace-event JSON (chrome://tracing, Perfetto): one complete ("X") event per stamped stage and
  // one tick_to_trade span per trace, timestamps in microseconds since the epoch, one tid per recorder
  // with its thread name.
  [[nodiscard]] std::string chrome_trace_json() const;

 private:
  LatencyConfig cfg_;
  std::uint64_t id_;
  mutable std::mutex mu_;
  std::vector<std::unique_ptr<Recorder>> recorders_;
  std::vector<std::thread::id> owners_;
};

}  // namespace hftx
