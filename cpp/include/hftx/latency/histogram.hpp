// hftx/latency/histogram.hpp — a log-linear latency histogram, HdrHistogram-compatible.
//
// Threading contract: one writer. record*() may be called by one thread at a time (the owner). Any
// other thread may read concurrently (count(), value_at_percentile(), snapshot(), merge() *from* this
// histogram, encode(), ...): every counter is read and written with relaxed atomic loads and stores
// (plain movs on x86, no lock prefix), so a concurrent reader sees each counter either before or after
// an increment, never torn. A concurrent read is therefore a snapshot that may be a few records behind
// the writer and whose total can differ from the sum of its buckets by the in-flight records; readers
// that need consistency take snapshot() and use the copy (its total is the sum of its buckets).
// reset() and merge() *into* a histogram are writer operations.
//
// Layout (HdrHistogram's scheme, bit for bit): values are grouped into power-of-two "buckets", each split
// into `sub_bucket_count` linear sub-buckets, with sub_bucket_count = 2^ceil(log2(2 * 10^digits)); the
// first bucket is linear from 0 at unit resolution. Any value is thus kept to within 10^-digits of its
// size. The counts index of a value is computed with one count-leading-zeros and a few shifts — no loop,
// no search — which is why record() costs a few instructions. Because the index arithmetic, percentile
// rules and wire encoding are HdrHistogram's, percentiles agree with HdrHistogram (Java/C/Python) on the
// same samples, and encode() produces the V2 compressed form those libraries decode.
#pragma once

#include <algorithm>
#include <atomic>
#include <bit>
#include <cstdint>
#include <limits>
#include <memory>
#include <ostream>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "hftx/core/platform.hpp"

namespace hftx {

// One recorded bucket: every value in [lowest, highest] is counted as equivalent.
struct HistogramBucket {
  std::int64_t lowest = 0;
  std::int64_t highest = 0;
  std::uint64_t count = 0;
};

// One line of a percentile table.
struct PercentileRow {
  double percentile = 0;  // 0..100
  std::int64_t value = 0;
  std::uint64_t cumulative_count = 0;
};

class Histogram {
 public:
  static constexpr std::int64_t kDefaultLowest = 1;                  // 1 ns
  static constexpr std::int64_t kDefaultHighest = 60'000'000'000;    // 60 s in ns
  static constexpr int kDefaultDigits = 3;

  // lowest >= 1 (rounded down to a power of two for the unit resolution, as in HdrHistogram),
  // highest >= 2 * lowest, 1 <= significant_digits <= 5. Throws ConfigError naming the bad argument.
  explicit Histogram(std::int64_t lowest_trackable = kDefaultLowest,
                     std::int64_t highest_trackable = kDefaultHighest, int significant_digits = kDefaultDigits);

  Histogram(const Histogram& other);
  Histogram& operator=(const Histogram& other);
  Histogram(Histogram&&) noexcept = default;
  Histogram& operator=(Histogram&&) noexcept = default;
  ~Histogram() = default;

  // ---- recording (the owner thread) ------------------------------------------------------------------
  // Records one value. Values above highest_trackable() (and negative values) are counted in
  // overflow_count() instead; returns false for them. One predictable branch, no loop, no atomic RMW.
  HFTX_FORCE_INLINE bool record(std::int64_t value) noexcept { return record_n(value, 1); }

  HFTX_FORCE_INLINE bool record_n(std::int64_t value, std::uint64_t n) noexcept {
    const auto v = static_cast<std::uint64_t>(value);  // negative -> huge -> overflow
    if (HFTX_UNLIKELY(v > static_cast<std::uint64_t>(highest_))) {
      bump(overflow_, n);
      return false;
    }
    bump(counts_[index_of(v)], n);
    bump(total_, n);
    // min/max without branches: the compiler emits cmov; stores are unconditional (same line as total_).
    store(min_, std::min(load(min_), v));
    store(max_, std::max(load(max_), v));
    return true;
  }

  // Records `value` and, when it exceeds expected_interval, the values a load generator that waited for
  // each response would have seen in the meantime: value - k * expected_interval for every k >= 1 while
  // that is >= expected_interval (HdrHistogram's recordValueWithExpectedInterval: coordinated-omission
  // correction). Loops in proportion to value / expected_interval: not for the hot path.
  bool record_corrected(std::int64_t value, std::int64_t expected_interval, std::uint64_t n = 1) noexcept;

  // Adds every count of `other` (any layout: identical layouts add arrays, others re-record bucket by
  // bucket; counts that do not fit this range go to overflow). Min/max and overflow merge too.
  void merge(const Histogram& other);
  void reset() noexcept;

  // ---- reading (any thread) --------------------------------------------------------------------------
  [[nodiscard]] std::uint64_t count() const noexcept { return load(total_); }
  [[nodiscard]] std::uint64_t overflow_count() const noexcept { return load(overflow_); }
  [[nodiscard]] bool empty() const noexcept { return count() == 0; }
  // Exact recorded extremes (0 when empty).
  [[nodiscard]] std::int64_t min() const noexcept;
  [[nodiscard]] std::int64_t max() const noexcept;
  // HdrHistogram's mean and standard deviation: each bucket counts at its median equivalent value.
  [[nodiscard]] double mean() const noexcept;
  [[nodiscard]] double stddev() const noexcept;
  // HdrHistogram's value at percentile (0..100): the highest equivalent value of the bucket where the
  // cumulative count reaches round(p/100 * count), at least 1; the lowest equivalent value for p == 0.
  // 0 when empty.
  [[nodiscard]] std::int64_t value_at_percentile(double percentile) const noexcept;
  // Several percentiles in one pass; the result is in the order asked.
  [[nodiscard]] std::vector<std::int64_t> values_at_percentiles(std::span<const double> percentiles) const;
  // HdrHistogram's percentile iteration (ticks per half distance to 100%), as in the .hgrm table.
  [[nodiscard]] std::vector<PercentileRow> percentile_table(int ticks_per_half_distance = 5) const;
  // For each bound (ascending), how many values were recorded at or below it, for cumulative bucket
  // exposition (Prometheus `le`). A bucket counts as at-or-below when its lowest equivalent value is, so
  // the answer is exact to the histogram's precision.
  [[nodiscard]] std::vector<std::uint64_t> cumulative_counts(std::span<const std::int64_t> ascending_bounds) const;
  // The non-empty buckets in value order.
  [[nodiscard]] std::vector<HistogramBucket> recorded_buckets() const;
  template <class F>
  void for_each_recorded(F&& f) const {
    for (std::size_t i = 0; i < counts_len_; ++i) {
      const std::uint64_t c = load(counts_[i]);
      if (c == 0) continue;
      const std::int64_t lo = value_from_index(i);
      f(HistogramBucket{lo, highest_equivalent_value(lo), c});
    }
  }

  // A consistent copy (total recomputed from the buckets).
  [[nodiscard]] Histogram snapshot() const { return Histogram(*this); }

  // ---- layout ----------------------------------------------------------------------------------------
  [[nodiscard]] std::int64_t lowest_trackable() const noexcept { return lowest_; }
  [[nodiscard]] std::int64_t highest_trackable() const noexcept { return highest_; }
  [[nodiscard]] int significant_digits() const noexcept { return digits_; }
  [[nodiscard]] int bucket_count() const noexcept { return bucket_count_; }
  [[nodiscard]] int sub_bucket_count() const noexcept { return sub_bucket_count_; }
  [[nodiscard]] std::size_t counts_len() const noexcept { return counts_len_; }
  // Bytes owned by this histogram (the counts array plus the object).
  [[nodiscard]] std::size_t memory_bytes() const noexcept { return sizeof(*this) + counts_len_ * sizeof(std::uint64_t); }
  [[nodiscard]] std::uint64_t count_at_index(std::size_t i) const noexcept { return load(counts_[i]); }
  // Copies the raw counts (relaxed loads) into `out` (resized to counts_len()).
  void copy_counts(std::vector<std::uint64_t>& out) const;

  [[nodiscard]] HFTX_FORCE_INLINE std::size_t index_of(std::uint64_t v) const noexcept {
    // HdrHistogram: bucket = position of the highest bit of (v | sub_bucket_mask), relative to the unit.
    const int pow2_ceiling = 64 - std::countl_zero(v | sub_bucket_mask_);
    const int bucket = pow2_ceiling - unit_magnitude_ - (sub_bucket_half_count_magnitude_ + 1);
    const auto sub_bucket = static_cast<std::int64_t>(v >> (bucket + unit_magnitude_));
    return static_cast<std::size_t>((static_cast<std::int64_t>(bucket + 1) << sub_bucket_half_count_magnitude_) +
                                    sub_bucket - sub_bucket_half_count_);
  }
  [[nodiscard]] std::int64_t value_from_index(std::size_t index) const noexcept;
  [[nodiscard]] std::int64_t lowest_equivalent_value(std::int64_t v) const noexcept;
  [[nodiscard]] std::int64_t highest_equivalent_value(std::int64_t v) const noexcept;
  [[nodiscard]] std::int64_t median_equivalent_value(std::int64_t v) const noexcept;
  [[nodiscard]] std::int64_t size_of_equivalent_range(std::int64_t v) const noexcept;
  [[nodiscard]] bool same_layout(const Histogram& o) const noexcept {
    return unit_magnitude_ == o.unit_magnitude_ && sub_bucket_count_ == o.sub_bucket_count_ &&
           counts_len_ == o.counts_len_ && highest_ == o.highest_;
  }

  // ---- formats ---------------------------------------------------------------------------------------
  // HdrHistogram's outputPercentileDistribution (.hgrm), byte for byte as the Java and C libraries print
  // it; values are divided by `value_scale` (e.g. 1000 for ns -> us).
  [[nodiscard]] std::string percentile_distribution(double value_scale = 1.0, int ticks_per_half_distance = 5) const;
  void write_percentile_distribution(std::ostream& out, double value_scale = 1.0,
                                     int ticks_per_half_distance = 5) const;
  // HdrHistogram V2 compressed encoding (zlib, ZigZag LEB128 counts), base64: the string HdrHistogram's
  // decoders read ("HISTFAAA...").
  [[nodiscard]] std::string encode() const;
  // Decodes what encode() (or any HdrHistogram V2 encoder) produced. Throws ParseError when malformed.
  [[nodiscard]] static Histogram decode(std::string_view base64);

 private:
  template <class T>
  static HFTX_FORCE_INLINE T load(const T& x) noexcept {
    return std::atomic_ref<const T>(x).load(std::memory_order_relaxed);
  }
  template <class T>
  static HFTX_FORCE_INLINE void store(T& x, T v) noexcept {
    std::atomic_ref<T>(x).store(v, std::memory_order_relaxed);
  }
  // A single-writer increment: relaxed load + store (no lock prefix), so concurrent readers never race.
  static HFTX_FORCE_INLINE void bump(std::uint64_t& x, std::uint64_t n) noexcept { store(x, load(x) + n); }

  void add_counts_from(const Histogram& other);

  // Hot fields first, on one line: record() touches these and one counts_ entry.
  alignas(kCacheLine) std::unique_ptr<std::uint64_t[]> counts_;
  std::uint64_t sub_bucket_mask_ = 0;
  std::int64_t highest_ = 0;
  int unit_magnitude_ = 0;
  int sub_bucket_half_count_magnitude_ = 0;
  std::int64_t sub_bucket_half_count_ = 0;
  std::uint64_t total_ = 0;
  std::uint64_t min_ = std::numeric_limits<std::uint64_t>::max();
  std::uint64_t max_ = 0;
  std::uint64_t overflow_ = 0;

  std::int64_t lowest_ = 0;
  int digits_ = 0;
  int sub_bucket_count_ = 0;
  int bucket_count_ = 0;
  std::size_t counts_len_ = 0;
};

// HdrHistogram's interval log (.hlog, format 1.3): a header, a legend, then one line per interval:
//   [Tag=<tag>,]<start s>,<interval length s>,<interval max / max_value_unit_ratio>,<encoded histogram>
// Readable by HistogramLogReader (Java, hdrh), HistogramLogProcessor and HdrHistogram's plotters.
// Threading contract: a plain object; one thread writes through it.
class HistogramLogWriter {
 public:
  explicit HistogramLogWriter(std::ostream& out) : out_(out) {}
  // "#[Histogram log format version 1.3]", "#[StartTime: ...]", "#[BaseTime: ...]" (when base_time_sec
  // is not negative) and the legend line.
  void write_header(double start_time_sec, double base_time_sec = -1.0);
  void write_comment(std::string_view text);
  // start/end are seconds (relative to the base time, by convention); max_value_unit_ratio divides the
  // interval max (1e6: ns -> ms, HdrHistogram's default).
  void write_interval(const Histogram& h, double start_sec, double end_sec, double max_value_unit_ratio = 1e6,
                      std::string_view tag = {});

 private:
  std::ostream& out_;
};

}  // namespace hftx
