// Histogram: construction, reading, the .hgrm text, the V2 wire encoding and the .hlog writer. The
// recording path is inline in the header; everything here runs at report time.
#include "hftx/latency/histogram.hpp"

#include <zlib.h>

#include <cmath>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <numeric>

#include "hftx/core/error.hpp"

namespace hftx {
namespace {

// HdrHistogram V2 cookies (the low nibble's 0x10 marks 8-byte words in the old scheme; V2 keeps it).
constexpr std::uint32_t kEncodingCookie = 0x1c849303u | 0x10u;
constexpr std::uint32_t kCompressionCookie = 0x1c849304u | 0x10u;
constexpr std::uint32_t kCookieMask = ~0xf0u;
constexpr std::size_t kPayloadHeaderSize = 40;
constexpr std::size_t kMaxDecodedCounts = std::size_t{1} << 24;

[[gnu::format(printf, 2, 3)]] void appendf(std::string& out, const char* fmt, ...) {
  char buf[256];
  va_list ap;
  va_start(ap, fmt);
  const int n = std::vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  if (n > 0) out.append(buf, static_cast<std::size_t>(std::min(n, static_cast<int>(sizeof buf) - 1)));
}

void put_be32(std::string& out, std::uint32_t v) {
  for (int s = 24; s >= 0; s -= 8) out.push_back(static_cast<char>((v >> s) & 0xffu));
}
void put_be64(std::string& out, std::uint64_t v) {
  for (int s = 56; s >= 0; s -= 8) out.push_back(static_cast<char>((v >> s) & 0xffu));
}
std::uint32_t get_be32(const unsigned char* p) {
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) | p[3];
}
std::uint64_t get_be64(const unsigned char* p) {
  return (std::uint64_t{get_be32(p)} << 32) | get_be32(p + 4);
}

// HdrHistogram's ZigZag LEB128-64b9B: up to 8 groups of 7 bits, then a full 9th byte.
void put_zigzag(std::string& out, std::int64_t signed_value) {
  std::uint64_t v = (static_cast<std::uint64_t>(signed_value) << 1) ^ static_cast<std::uint64_t>(signed_value >> 63);
  for (int i = 0; i < 8; ++i) {
    if ((v >> 7) == 0) {
      out.push_back(static_cast<char>(v));
      return;
    }
    out.push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v & 0xff));
}

bool get_zigzag(const unsigned char*& p, const unsigned char* end, std::int64_t& out) {
  std::uint64_t v = 0;
  int shift = 0;
  for (int i = 0; i < 9; ++i) {
    if (p == end) return false;
    const std::uint64_t b = *p++;
    if (i == 8) {
      v |= b << 56;
      break;
    }
    v |= (b & 0x7f) << shift;
    shift += 7;
    if ((b & 0x80) == 0) break;
  }
  out = static_cast<std::int64_t>(v >> 1) ^ -static_cast<std::int64_t>(v & 1);
  return true;
}

constexpr char kB64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

std::string base64_encode(std::string_view in) {
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  std::size_t i = 0;
  const auto byte = [&](std::size_t k) { return static_cast<std::uint32_t>(static_cast<unsigned char>(in[k])); };
  for (; i + 3 <= in.size(); i += 3) {
    const std::uint32_t v = (byte(i) << 16) | (byte(i + 1) << 8) | byte(i + 2);
    for (int s = 18; s >= 0; s -= 6) out.push_back(kB64[(v >> s) & 63]);
  }
  if (i + 1 == in.size()) {
    const std::uint32_t v = byte(i) << 16;
    out.push_back(kB64[(v >> 18) & 63]);
    out.push_back(kB64[(v >> 12) & 63]);
    out += "==";
  } else if (i + 2 == in.size()) {
    const std::uint32_t v = (byte(i) << 16) | (byte(i + 1) << 8);
    out.push_back(kB64[(v >> 18) & 63]);
    out.push_back(kB64[(v >> 12) & 63]);
    out.push_back(kB64[(v >> 6) & 63]);
    out.push_back('=');
  }
  return out;
}

std::string base64_decode(std::string_view in) {
  std::string out;
  out.reserve(in.size() / 4 * 3);
  std::uint32_t acc = 0;
  int bits = 0;
  std::size_t pad = 0;
  for (const char c : in) {
    int v;
    if (c >= 'A' && c <= 'Z') v = c - 'A';
    else if (c >= 'a' && c <= 'z') v = c - 'a' + 26;
    else if (c >= '0' && c <= '9') v = c - '0' + 52;
    else if (c == '+') v = 62;
    else if (c == '/') v = 63;
    else if (c == '=') { ++pad; continue; }
    else if (c == '\n' || c == '\r' || c == ' ') continue;
    else throw ParseError("histogram encoding: invalid base64 character (code " + std::to_string(int(c)) + ")");
    if (pad != 0) throw ParseError("histogram encoding: base64 data after '=' padding");
    acc = (acc << 6) | static_cast<std::uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xffu));
    }
  }
  return out;
}

int bucket_index_of(std::uint64_t v, std::uint64_t mask, int unit_magnitude, int half_magnitude) noexcept {
  const int pow2_ceiling = 64 - std::countl_zero(v | mask);
  return pow2_ceiling - unit_magnitude - (half_magnitude + 1);
}

}  // namespace

Histogram::Histogram(std::int64_t lowest_trackable, std::int64_t highest_trackable, int significant_digits) {
  if (lowest_trackable < 1)
    throw ConfigError("Histogram lowest_trackable=" + std::to_string(lowest_trackable) + ": expected >= 1");
  if (significant_digits < 1 || significant_digits > 5)
    throw ConfigError("Histogram significant_digits=" + std::to_string(significant_digits) +
                      ": expected 1..5");
  if (highest_trackable < 2 * lowest_trackable)
    throw ConfigError("Histogram highest_trackable=" + std::to_string(highest_trackable) +
                      ": expected >= 2 * lowest_trackable (" + std::to_string(2 * lowest_trackable) + ")");
  lowest_ = lowest_trackable;
  highest_ = highest_trackable;
  digits_ = significant_digits;
  unit_magnitude_ = 63 - std::countl_zero(static_cast<std::uint64_t>(lowest_trackable));
  std::uint64_t largest_single_unit = 2;
  for (int i = 0; i < significant_digits; ++i) largest_single_unit *= 10;
  const int sub_bucket_count_magnitude = std::bit_width(largest_single_unit - 1);  // ceil(log2(x))
  sub_bucket_half_count_magnitude_ = sub_bucket_count_magnitude > 1 ? sub_bucket_count_magnitude - 1 : 0;
  if (unit_magnitude_ + sub_bucket_half_count_magnitude_ > 61)
    throw ConfigError("Histogram lowest_trackable=" + std::to_string(lowest_trackable) + " with significant_digits=" +
                      std::to_string(significant_digits) + ": the unit and precision do not fit 63 bits");
  sub_bucket_count_ = 1 << (sub_bucket_half_count_magnitude_ + 1);
  sub_bucket_half_count_ = sub_bucket_count_ / 2;
  sub_bucket_mask_ = static_cast<std::uint64_t>(sub_bucket_count_ - 1) << unit_magnitude_;
  // Buckets needed to cover highest_trackable (HdrHistogram's getBucketsNeededToCoverValue).
  std::uint64_t smallest_untrackable = static_cast<std::uint64_t>(sub_bucket_count_) << unit_magnitude_;
  int buckets = 1;
  while (smallest_untrackable <= static_cast<std::uint64_t>(highest_trackable)) {
    if (smallest_untrackable > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()) / 2) {
      ++buckets;
      break;
    }
    smallest_untrackable <<= 1;
    ++buckets;
  }
  bucket_count_ = buckets;
  counts_len_ = static_cast<std::size_t>(bucket_count_ + 1) * static_cast<std::size_t>(sub_bucket_half_count_);
  counts_ = std::make_unique<std::uint64_t[]>(counts_len_);  // value-initialised: zeros
}

Histogram::Histogram(const Histogram& other)
    : sub_bucket_mask_(other.sub_bucket_mask_),
      highest_(other.highest_),
      unit_magnitude_(other.unit_magnitude_),
      sub_bucket_half_count_magnitude_(other.sub_bucket_half_count_magnitude_),
      sub_bucket_half_count_(other.sub_bucket_half_count_),
      lowest_(other.lowest_),
      digits_(other.digits_),
      sub_bucket_count_(other.sub_bucket_count_),
      bucket_count_(other.bucket_count_),
      counts_len_(other.counts_len_) {
  counts_ = std::make_unique<std::uint64_t[]>(counts_len_);
  std::uint64_t sum = 0;
  for (std::size_t i = 0; i < counts_len_; ++i) {
    counts_[i] = load(other.counts_[i]);
    sum += counts_[i];
  }
  total_ = sum;  // consistent with the copied buckets even if `other` was being written
  min_ = load(other.min_);
  max_ = load(other.max_);
  overflow_ = load(other.overflow_);
}

Histogram& Histogram::operator=(const Histogram& other) {
  if (this != &other) {
    Histogram copy(other);
    *this = std::move(copy);
  }
  return *this;
}

bool Histogram::record_corrected(std::int64_t value, std::int64_t expected_interval, std::uint64_t n) noexcept {
  const bool ok = record_n(value, n);
  if (!ok || expected_interval <= 0 || value <= expected_interval) return ok;
  for (std::int64_t missing = value - expected_interval; missing >= expected_interval; missing -= expected_interval)
    record_n(missing, n);
  return ok;
}

void Histogram::add_counts_from(const Histogram& other) {
  std::uint64_t added = 0;
  for (std::size_t i = 0; i < counts_len_; ++i) {
    const std::uint64_t c = load(other.counts_[i]);
    if (c == 0) continue;
    bump(counts_[i], c);
    added += c;
  }
  bump(total_, added);
}

void Histogram::merge(const Histogram& other) {
  if (&other == this) {
    const Histogram copy(other);
    merge(copy);
    return;
  }
  if (same_layout(other)) {
    add_counts_from(other);
  } else {
    for (std::size_t i = 0; i < other.counts_len_; ++i) {
      const std::uint64_t c = load(other.counts_[i]);
      if (c != 0) record_n(other.value_from_index(i), c);
    }
  }
  bump(overflow_, load(other.overflow_));
  const std::uint64_t other_max = load(other.max_);
  const std::uint64_t other_min = load(other.min_);
  if (other_max <= static_cast<std::uint64_t>(highest_)) store(max_, std::max(load(max_), other_max));
  if (other_min <= static_cast<std::uint64_t>(highest_)) store(min_, std::min(load(min_), other_min));
}

void Histogram::reset() noexcept {
  for (std::size_t i = 0; i < counts_len_; ++i) store(counts_[i], std::uint64_t{0});
  store(total_, std::uint64_t{0});
  store(overflow_, std::uint64_t{0});
  store(min_, std::numeric_limits<std::uint64_t>::max());
  store(max_, std::uint64_t{0});
}

void Histogram::copy_counts(std::vector<std::uint64_t>& out) const {
  out.resize(counts_len_);
  for (std::size_t i = 0; i < counts_len_; ++i) out[i] = load(counts_[i]);
}

std::int64_t Histogram::min() const noexcept {
  const std::uint64_t m = load(min_);
  return m == std::numeric_limits<std::uint64_t>::max() ? 0 : static_cast<std::int64_t>(m);
}

std::int64_t Histogram::max() const noexcept { return static_cast<std::int64_t>(load(max_)); }

std::int64_t Histogram::value_from_index(std::size_t index) const noexcept {
  auto bucket = static_cast<std::int64_t>(index >> sub_bucket_half_count_magnitude_) - 1;
  auto sub_bucket = static_cast<std::int64_t>(index & static_cast<std::size_t>(sub_bucket_half_count_ - 1)) +
                    sub_bucket_half_count_;
  if (bucket < 0) {
    sub_bucket -= sub_bucket_half_count_;
    bucket = 0;
  }
  return sub_bucket << (bucket + unit_magnitude_);
}

std::int64_t Histogram::lowest_equivalent_value(std::int64_t v) const noexcept {
  const auto u = static_cast<std::uint64_t>(v);
  const int bucket = bucket_index_of(u, sub_bucket_mask_, unit_magnitude_, sub_bucket_half_count_magnitude_);
  const std::uint64_t sub_bucket = u >> (bucket + unit_magnitude_);
  return static_cast<std::int64_t>(sub_bucket << (bucket + unit_magnitude_));
}

std::int64_t Histogram::size_of_equivalent_range(std::int64_t v) const noexcept {
  const auto u = static_cast<std::uint64_t>(v);
  int bucket = bucket_index_of(u, sub_bucket_mask_, unit_magnitude_, sub_bucket_half_count_magnitude_);
  const std::uint64_t sub_bucket = u >> (bucket + unit_magnitude_);
  if (sub_bucket >= static_cast<std::uint64_t>(sub_bucket_count_)) ++bucket;
  return std::int64_t{1} << (unit_magnitude_ + bucket);
}

std::int64_t Histogram::highest_equivalent_value(std::int64_t v) const noexcept {
  return lowest_equivalent_value(v) + size_of_equivalent_range(v) - 1;
}

std::int64_t Histogram::median_equivalent_value(std::int64_t v) const noexcept {
  return lowest_equivalent_value(v) + (size_of_equivalent_range(v) >> 1);
}

double Histogram::mean() const noexcept {
  uint128 sum = 0;
  std::uint64_t n = 0;
  for (std::size_t i = 0; i < counts_len_; ++i) {
    const std::uint64_t c = load(counts_[i]);
    if (c == 0) continue;
    sum += static_cast<uint128>(static_cast<std::uint64_t>(median_equivalent_value(value_from_index(i)))) * c;
    n += c;
  }
  return n == 0 ? 0.0 : static_cast<double>(sum) / static_cast<double>(n);
}

double Histogram::stddev() const noexcept {
  const double m = mean();
  double acc = 0;
  std::uint64_t n = 0;
  for (std::size_t i = 0; i < counts_len_; ++i) {
    const std::uint64_t c = load(counts_[i]);
    if (c == 0) continue;
    const double dev = static_cast<double>(median_equivalent_value(value_from_index(i))) - m;
    acc += dev * dev * static_cast<double>(c);
    n += c;
  }
  return n == 0 ? 0.0 : std::sqrt(acc / static_cast<double>(n));
}

namespace {
// HdrHistogram (C and Python): round(p/100 * total), at least 1. The operation order is the Python
// port's, so ties land where hdrh puts them.
std::uint64_t count_at_percentile(double p, std::uint64_t total) noexcept {
  const double requested = std::clamp(p, 0.0, 100.0);
  const auto c = static_cast<std::uint64_t>(requested * static_cast<double>(total) / 100.0 + 0.5);
  return std::max<std::uint64_t>(c, 1);
}
}  // namespace

std::int64_t Histogram::value_at_percentile(double percentile) const noexcept {
  const std::uint64_t total = load(total_);
  if (total == 0) return 0;
  const std::uint64_t target = count_at_percentile(percentile, total);
  // Counts below the minimum's bucket are zero: start there (the scan is over ~30k entries otherwise).
  const std::uint64_t lo = load(min_);
  std::size_t i = lo <= static_cast<std::uint64_t>(highest_) ? index_of(lo) : 0;
  std::uint64_t cumulative = 0;
  std::size_t last_nonzero = i;
  for (; i < counts_len_; ++i) {
    const std::uint64_t c = load(counts_[i]);
    if (c == 0) continue;
    cumulative += c;
    last_nonzero = i;
    if (cumulative >= target) break;
  }
  const std::int64_t v = value_from_index(std::min(i, last_nonzero));
  return percentile == 0.0 ? lowest_equivalent_value(v) : highest_equivalent_value(v);
}

std::vector<std::int64_t> Histogram::values_at_percentiles(std::span<const double> percentiles) const {
  std::vector<std::int64_t> out(percentiles.size(), 0);
  std::vector<std::uint64_t> counts;
  copy_counts(counts);
  const std::uint64_t total = std::accumulate(counts.begin(), counts.end(), std::uint64_t{0});
  if (total == 0) return out;
  std::vector<std::size_t> order(percentiles.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return percentiles[a] < percentiles[b]; });
  std::size_t i = 0;
  std::uint64_t cumulative = counts[0];
  for (const std::size_t k : order) {
    const std::uint64_t target = count_at_percentile(percentiles[k], total);
    while (cumulative < target && i + 1 < counts_len_) cumulative += counts[++i];
    const std::int64_t v = value_from_index(i);
    out[k] = percentiles[k] == 0.0 ? lowest_equivalent_value(v) : highest_equivalent_value(v);
  }
  return out;
}

std::vector<PercentileRow> Histogram::percentile_table(int ticks_per_half_distance) const {
  if (ticks_per_half_distance < 1)
    throw ConfigError("percentile_table ticks_per_half_distance=" + std::to_string(ticks_per_half_distance) +
                      ": expected >= 1");
  std::vector<std::uint64_t> counts;
  copy_counts(counts);
  const std::uint64_t total = std::accumulate(counts.begin(), counts.end(), std::uint64_t{0});
  std::vector<PercentileRow> rows;
  if (total == 0) return rows;
  // HdrHistogram's PercentileIterator (Java/C): the reporting tick is fixed within each half of the
  // remaining distance to 100% and halves when that half is crossed; a bucket is reported once for
  // every level its cumulative percentile reaches; a last row at exactly 100%.
  double level = 0.0;
  std::size_t i = 0;
  std::uint64_t cumulative = 0;
  bool fresh = true;
  // One step of the iterator: advance to the first bucket whose cumulative percentile reaches `level`
  // (staying on the current bucket if it already does) and report it.
  const auto next = [&]() -> bool {
    while (i < counts_len_) {
      const std::uint64_t c = counts[i];
      if (fresh) {
        cumulative += c;
        fresh = false;
      }
      if (c != 0 && (100.0 * static_cast<double>(cumulative)) / static_cast<double>(total) >= level) {
        rows.push_back({level, highest_equivalent_value(value_from_index(i)), cumulative});
        if (100.0 - level > 0.0 && level != 100.0) {
          const auto half_distances = static_cast<std::int64_t>(std::log(100.0 / (100.0 - level)) / std::log(2.0)) + 1;
          const auto reporting_ticks = static_cast<std::int64_t>(ticks_per_half_distance) *
                                       static_cast<std::int64_t>(std::pow(2.0, static_cast<double>(half_distances)));
          level += 100.0 / static_cast<double>(reporting_ticks);
        }
        return true;
      }
      ++i;
      fresh = true;
    }
    return false;
  };
  while (cumulative < total)
    if (!next()) break;
  level = 100.0;  // the final step to 100%
  next();
  return rows;
}

std::vector<std::uint64_t> Histogram::cumulative_counts(std::span<const std::int64_t> ascending_bounds) const {
  std::vector<std::uint64_t> out(ascending_bounds.size(), 0);
  std::uint64_t cumulative = 0;
  std::size_t i = 0;
  for (std::size_t k = 0; k < ascending_bounds.size(); ++k) {
    if (k > 0 && ascending_bounds[k] < ascending_bounds[k - 1])
      throw ConfigError("cumulative_counts: bounds must ascend (" + std::to_string(ascending_bounds[k - 1]) + " then " +
                        std::to_string(ascending_bounds[k]) + ")");
    for (; i < counts_len_ && value_from_index(i) <= ascending_bounds[k]; ++i) cumulative += load(counts_[i]);
    out[k] = cumulative;
  }
  return out;
}

std::vector<HistogramBucket> Histogram::recorded_buckets() const {
  std::vector<HistogramBucket> out;
  for_each_recorded([&](const HistogramBucket& b) { out.push_back(b); });
  return out;
}

std::string Histogram::percentile_distribution(double value_scale, int ticks_per_half_distance) const {
  if (!(value_scale > 0))
    throw ConfigError("percentile_distribution value_scale=" + std::to_string(value_scale) + ": expected > 0");
  const Histogram s = snapshot();
  std::string out;
  appendf(out, "%12s %14s %10s %14s\n\n", "Value", "Percentile", "TotalCount", "1/(1-Percentile)");
  const int d = digits_;
  for (const PercentileRow& r : s.percentile_table(ticks_per_half_distance)) {
    const double v = static_cast<double>(r.value) / value_scale;
    const double q = r.percentile / 100.0;
    if (r.percentile != 100.0) {
      appendf(out, "%12.*f %2.12f %10llu %14.2f\n", d, v, q, static_cast<unsigned long long>(r.cumulative_count),
              1.0 / (1.0 - q));
    } else {
      appendf(out, "%12.*f %2.12f %10llu\n", d, v, q, static_cast<unsigned long long>(r.cumulative_count));
    }
  }
  const std::int64_t mx = s.max() == 0 ? 0 : s.highest_equivalent_value(s.max());
  appendf(out, "#[Mean    = %12.*f, StdDeviation   = %12.*f]\n", d, s.mean() / value_scale, d, s.stddev() / value_scale);
  appendf(out, "#[Max     = %12.*f, Total count    = %12llu]\n", d, static_cast<double>(mx) / value_scale,
          static_cast<unsigned long long>(s.count()));
  appendf(out, "#[Buckets = %12d, SubBuckets     = %12d]\n", bucket_count_, sub_bucket_count_);
  // Not in HdrHistogram's output (it has no overflow counter): only printed when something overflowed.
  if (s.overflow_count() != 0)
    appendf(out, "#[Overflow = %11llu, above highest trackable value %lld]\n",
            static_cast<unsigned long long>(s.overflow_count()), static_cast<long long>(highest_));
  return out;
}

void Histogram::write_percentile_distribution(std::ostream& out, double value_scale, int ticks_per_half_distance) const {
  out << percentile_distribution(value_scale, ticks_per_half_distance);
}

std::string Histogram::encode() const {
  const Histogram s = snapshot();
  // Only the counts up to the maximum's bucket, as HdrHistogram does.
  const std::size_t relevant = s.count() == 0 ? 0 : s.index_of(static_cast<std::uint64_t>(s.max())) + 1;
  std::string payload;
  payload.reserve(kPayloadHeaderSize + relevant * 2);
  put_be32(payload, kEncodingCookie);
  put_be32(payload, 0);  // payload length, patched below
  put_be32(payload, 0);  // normalizing index offset
  put_be32(payload, static_cast<std::uint32_t>(digits_));
  put_be64(payload, static_cast<std::uint64_t>(lowest_));
  put_be64(payload, static_cast<std::uint64_t>(highest_));
  double ratio = 1.0;
  std::uint64_t ratio_bits;
  std::memcpy(&ratio_bits, &ratio, sizeof ratio_bits);
  put_be64(payload, ratio_bits);
  for (std::size_t i = 0; i < relevant;) {
    const std::uint64_t c = s.counts_[i++];
    if (c == 0) {
      std::int64_t zeros = 1;
      while (i < relevant && s.counts_[i] == 0) {
        ++zeros;
        ++i;
      }
      put_zigzag(payload, -zeros);
    } else {
      put_zigzag(payload, static_cast<std::int64_t>(c));
    }
  }
  const auto varint_len = static_cast<std::uint32_t>(payload.size() - kPayloadHeaderSize);
  for (int k = 0; k < 4; ++k) payload[4 + static_cast<std::size_t>(k)] = static_cast<char>((varint_len >> (24 - 8 * k)) & 0xffu);

  uLongf bound = compressBound(static_cast<uLong>(payload.size()));
  std::string compressed(bound, '\0');
  if (compress2(reinterpret_cast<Bytef*>(compressed.data()), &bound, reinterpret_cast<const Bytef*>(payload.data()),
                static_cast<uLong>(payload.size()), Z_DEFAULT_COMPRESSION) != Z_OK)
    throw SystemError("histogram encoding: zlib compress2 failed");
  compressed.resize(bound);
  std::string blob;
  put_be32(blob, kCompressionCookie);
  put_be32(blob, static_cast<std::uint32_t>(compressed.size()));
  blob += compressed;
  return base64_encode(blob);
}

Histogram Histogram::decode(std::string_view base64) {
  const std::string blob = base64_decode(base64);
  const auto* b = reinterpret_cast<const unsigned char*>(blob.data());
  if (blob.size() < 8) throw ParseError("histogram encoding: shorter than its 8-byte header");
  if ((get_be32(b) & kCookieMask) != (kCompressionCookie & kCookieMask))
    throw ParseError("histogram encoding: not an HdrHistogram V2 compressed histogram (cookie mismatch)");
  const std::uint32_t clen = get_be32(b + 4);
  if (clen != blob.size() - 8)
    throw ParseError("histogram encoding: header says " + std::to_string(clen) + " compressed bytes, found " +
                     std::to_string(blob.size() - 8));

  std::string payload;
  z_stream zs{};
  if (inflateInit(&zs) != Z_OK) throw SystemError("histogram decoding: zlib inflateInit failed");
  zs.next_in = const_cast<Bytef*>(b + 8);
  zs.avail_in = clen;
  int rc = Z_OK;
  char buf[16384];
  while (rc != Z_STREAM_END) {
    zs.next_out = reinterpret_cast<Bytef*>(buf);
    zs.avail_out = sizeof buf;
    rc = inflate(&zs, Z_NO_FLUSH);
    if (rc != Z_OK && rc != Z_STREAM_END) {
      inflateEnd(&zs);
      throw ParseError("histogram encoding: corrupt zlib payload");
    }
    payload.append(buf, sizeof buf - zs.avail_out);
    if (payload.size() > kMaxDecodedCounts * 9 + kPayloadHeaderSize) {
      inflateEnd(&zs);
      throw ParseError("histogram encoding: payload too large");
    }
    if (rc == Z_OK && zs.avail_in == 0 && zs.avail_out != 0) {
      inflateEnd(&zs);
      throw ParseError("histogram encoding: truncated zlib payload");
    }
  }
  inflateEnd(&zs);

  if (payload.size() < kPayloadHeaderSize) throw ParseError("histogram encoding: payload shorter than its header");
  const auto* p = reinterpret_cast<const unsigned char*>(payload.data());
  if ((get_be32(p) & kCookieMask) != (kEncodingCookie & kCookieMask))
    throw ParseError("histogram encoding: payload cookie is not HdrHistogram V2");
  const std::uint32_t varint_len = get_be32(p + 4);
  const std::uint32_t normalizing = get_be32(p + 8);
  const auto digits = static_cast<int>(get_be32(p + 12));
  const auto lowest = static_cast<std::int64_t>(get_be64(p + 16));
  const auto highest = static_cast<std::int64_t>(get_be64(p + 24));
  if (normalizing != 0) throw ParseError("histogram encoding: normalizing index offset != 0 is not supported");
  if (varint_len > payload.size() - kPayloadHeaderSize)
    throw ParseError("histogram encoding: counts length " + std::to_string(varint_len) + " exceeds the payload");
  Histogram h = [&] {
    try {
      return Histogram(lowest, highest, digits);
    } catch (const ConfigError& e) {
      throw ParseError(std::string("histogram encoding: bad parameters: ") + e.what());
    }
  }();
  if (h.counts_len_ > kMaxDecodedCounts) throw ParseError("histogram encoding: range too large to decode");
  const unsigned char* cur = p + kPayloadHeaderSize;
  const unsigned char* end = cur + varint_len;
  std::size_t i = 0;
  std::uint64_t total = 0;
  std::size_t first = SIZE_MAX, last = 0;
  while (cur < end) {
    std::int64_t v;
    if (!get_zigzag(cur, end, v)) throw ParseError("histogram encoding: truncated count");
    if (v < 0) {
      const std::uint64_t zeros = static_cast<std::uint64_t>(-(v + 1)) + 1;
      if (zeros > h.counts_len_ - i) throw ParseError("histogram encoding: zero run past the counts array");
      i += static_cast<std::size_t>(zeros);
      continue;
    }
    if (i >= h.counts_len_) throw ParseError("histogram encoding: more counts than the layout has");
    h.counts_[i] = static_cast<std::uint64_t>(v);
    if (v != 0) {
      total += static_cast<std::uint64_t>(v);
      first = std::min(first, i);
      last = i;
    }
    ++i;
  }
  h.total_ = total;
  if (total != 0) {
    h.min_ = static_cast<std::uint64_t>(h.value_from_index(first));
    h.max_ = static_cast<std::uint64_t>(h.highest_equivalent_value(h.value_from_index(last)));
    if (h.max_ > static_cast<std::uint64_t>(h.highest_)) h.max_ = static_cast<std::uint64_t>(h.highest_);
  }
  return h;
}

// ---- .hlog ---------------------------------------------------------------------------------------------

void HistogramLogWriter::write_header(double start_time_sec, double base_time_sec) {
  std::string s = "#[Histogram log format version 1.3]\n";
  // Java prints Date.toString(): "Wed Sep 09 08:24:39 PDT 2015" (local time).
  char date[64] = "";
  const auto t = static_cast<std::time_t>(start_time_sec);
  std::tm tm{};
  if (localtime_r(&t, &tm) != nullptr) std::strftime(date, sizeof date, "%a %b %d %H:%M:%S %Z %Y", &tm);
  appendf(s, "#[StartTime: %.3f (seconds since epoch), %s]\n", start_time_sec, date);
  if (base_time_sec >= 0) appendf(s, "#[BaseTime: %.3f (seconds since epoch)]\n", base_time_sec);
  s += "\"StartTimestamp\",\"Interval_Length\",\"Interval_Max\",\"Interval_Compressed_Histogram\"\n";
  out_ << s;
}

void HistogramLogWriter::write_comment(std::string_view text) { out_ << '#' << text << '\n'; }

void HistogramLogWriter::write_interval(const Histogram& h, double start_sec, double end_sec,
                                        double max_value_unit_ratio, std::string_view tag) {
  if (!(max_value_unit_ratio > 0))
    throw ConfigError("write_interval max_value_unit_ratio=" + std::to_string(max_value_unit_ratio) + ": expected > 0");
  if (tag.find_first_of(", \n") != std::string_view::npos)
    throw ConfigError("write_interval tag='" + std::string(tag) + "': expected no commas, spaces or newlines");
  const Histogram s = h.snapshot();
  const std::int64_t mx = s.max() == 0 ? 0 : s.highest_equivalent_value(s.max());
  std::string line;
  if (!tag.empty()) line += "Tag=" + std::string(tag) + ",";
  appendf(line, "%.3f,%.3f,%.3f,", start_sec, end_sec - start_sec, static_cast<double>(mx) / max_value_unit_ratio);
  line += s.encode();
  line += '\n';
  out_ << line;
}

}  // namespace hftx
