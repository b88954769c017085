// hftx/core/fixed_point.hpp — fixed-point prices and quantities parsed straight from decimal strings.
//
// Threading contract: stateless functions and value types; safe from any thread.
//
// A Price or Qty is an int64 count of the instrument's step (tick for prices, lot for quantities). A Scale
// describes the step as multiplier * 10^-decimals ("0.01" -> 1e-2, "0.5" -> 5e-1, "25" -> 25e0), so parsing
// is integer arithmetic on the digits — never a double — and a value off the step grid is an error, not a
// silent rounding. parse_fixed() returns a status (hot path); the *_or_throw helpers are for setup.
#pragma once

#include <bit>
#include <compare>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "hftx/core/platform.hpp"

namespace hftx {

enum class FixedStatus : std::uint8_t {
  ok,
  empty,        // ""
  bad_format,   // not -?[0-9]+(\.[0-9]+)? : "1e5", "--1", "0.1.2", " 1", "+1", ".5", "5."
  negative,     // a '-' where the field is unsigned
  off_grid,     // not a multiple of the step: "61837.635" with step 0.01
  overflow,     // the step count does not fit in int64
};

[[nodiscard]] constexpr std::string_view to_string(FixedStatus s) noexcept {
  switch (s) {
    case FixedStatus::ok: return "ok";
    case FixedStatus::empty: return "empty";
    case FixedStatus::bad_format: return "bad_format";
    case FixedStatus::negative: return "negative";
    case FixedStatus::off_grid: return "off_grid";
    case FixedStatus::overflow: return "overflow";
  }
  return "unknown";
}

enum class Sign : bool { unsigned_only = false, allow_negative = true };

namespace detail {
inline constexpr std::int64_t kPow10[19] = {1,
                                            10,
                                            100,
                                            1'000,
                                            10'000,
                                            100'000,
                                            1'000'000,
                                            10'000'000,
                                            100'000'000,
                                            1'000'000'000,
                                            10'000'000'000,
                                            100'000'000'000,
                                            1'000'000'000'000,
                                            10'000'000'000'000,
                                            100'000'000'000'000,
                                            1'000'000'000'000'000,
                                            10'000'000'000'000'000,
                                            100'000'000'000'000'000,
                                            1'000'000'000'000'000'000};
}  // namespace detail

// The step of an instrument's prices or quantities: multiplier * 10^-decimals.
class Scale {
 public:
  static constexpr int kMaxDecimals = 18;

  constexpr Scale() noexcept = default;  // step 1
  // Step 10^-decimals. Throws ConfigError outside 0..kMaxDecimals.
  static Scale with_decimals(int decimals);
  // The step as the venue writes it: "0.01", "0.00001000", "0.5", "25". Throws ConfigError naming the text
  // when it is not a positive decimal with at most 18 decimals.
  static Scale from_step(std::string_view step);

  [[nodiscard]] constexpr int decimals() const noexcept { return decimals_; }
  [[nodiscard]] constexpr std::int64_t multiplier() const noexcept { return multiplier_; }
  // 10^decimals: step counts per unit when the multiplier is 1.
  [[nodiscard]] constexpr std::int64_t pow10() const noexcept { return detail::kPow10[decimals_]; }
  [[nodiscard]] std::string step_string() const;

  friend constexpr bool operator==(const Scale&, const Scale&) noexcept = default;

 private:
  constexpr Scale(int decimals, std::int64_t multiplier) noexcept
      : decimals_(static_cast<std::int8_t>(decimals)), multiplier_(multiplier) {}
  std::int8_t decimals_ = 0;
  std::int64_t multiplier_ = 1;
};

// Parses `text` into a count of `scale` steps. Never allocates, never throws; reads only `text`.
[[nodiscard]] inline FixedStatus parse_fixed(std::string_view text, const Scale& scale, std::int64_t& out,
                                             Sign sign = Sign::allow_negative) noexcept {
  const char* p = text.data();
  const char* const end = p + text.size();
  if (HFTX_UNLIKELY(p == end)) return FixedStatus::empty;
  bool neg = false;
  if (*p == '-') {
    if (sign == Sign::unsigned_only) return FixedStatus::negative;
    neg = true;
    ++p;
  }
  // Accumulate in units of 10^-decimals, checking before each digit that the result stays <= INT64_MAX
  // (the division by a constant compiles to a multiply).
  constexpr std::uint64_t kMax = static_cast<std::uint64_t>(INT64_MAX);
  std::uint64_t acc = 0;
  const char* const int_begin = p;
  while (p != end && static_cast<unsigned>(*p - '0') < 10u) {
    const unsigned d = static_cast<unsigned>(*p - '0');
    if (HFTX_UNLIKELY(acc > (kMax - d) / 10u)) {
      // Keep scanning so that "1e999..." reports bad_format, not overflow.
      while (p != end && static_cast<unsigned>(*p - '0') < 10u) ++p;
      if (p != end && *p == '.') ++p;
      while (p != end && static_cast<unsigned>(*p - '0') < 10u) ++p;
      return p == end ? FixedStatus::overflow : FixedStatus::bad_format;
    }
    acc = acc * 10u + d;
    ++p;
  }
  if (HFTX_UNLIKELY(p == int_begin)) return FixedStatus::bad_format;
  int frac = 0;
  bool off_grid = false;
  if (p != end) {
    if (*p != '.') return FixedStatus::bad_format;
    ++p;
    if (HFTX_UNLIKELY(p == end)) return FixedStatus::bad_format;  // "5."
    const int decimals = scale.decimals();
    for (; p != end && frac < decimals; ++p) {
      const unsigned d = static_cast<unsigned>(*p - '0');
      if (HFTX_UNLIKELY(d >= 10u)) return FixedStatus::bad_format;
      if (HFTX_UNLIKELY(acc > (kMax - d) / 10u)) {
        for (++p; p != end; ++p)
          if (static_cast<unsigned>(*p - '0') >= 10u) return FixedStatus::bad_format;
        return FixedStatus::overflow;
      }
      acc = acc * 10u + d;
      ++frac;
    }
    // Digits past the step's decimals must all be '0' (venues pad: "61837.63000000" at 0.01). Up to 8 of
    // them are checked with one load of the text's last 8 bytes (inside the text, so never out of
    // bounds); anything else, or a mismatch, takes the per-character scan that names the error.
    const auto rem = static_cast<std::size_t>(end - p);
    if (rem != 0) {
      bool zeros = false;
      static_assert(std::endian::native == std::endian::little, "the tail mask assumes little-endian loads");
      if (rem <= 8 && text.size() >= 8) {
        std::uint64_t word;
        __builtin_memcpy(&word, end - 8, 8);
        const std::uint64_t mask = ~std::uint64_t{0} << (8 * (8 - rem));
        zeros = (word & mask) == (0x3030303030303030ull & mask);
      }
      if (!zeros) {
        for (; p != end; ++p) {
          const unsigned d = static_cast<unsigned>(*p - '0');
          if (HFTX_UNLIKELY(d >= 10u)) return FixedStatus::bad_format;
          off_grid |= d != 0u;  // finish the scan: a malformed tail is reported as such
        }
      }
    }
  }
  if (HFTX_UNLIKELY(off_grid)) return FixedStatus::off_grid;
  if (frac < scale.decimals()) {
    const auto factor = static_cast<std::uint64_t>(detail::kPow10[scale.decimals() - frac]);
    if (HFTX_UNLIKELY(acc > kMax / factor)) return FixedStatus::overflow;
    acc *= factor;
  }
  if (scale.multiplier() != 1) {
    const auto m = static_cast<std::uint64_t>(scale.multiplier());
    if (HFTX_UNLIKELY(acc % m != 0)) return FixedStatus::off_grid;
    acc /= m;
  }
  out = neg ? -static_cast<std::int64_t>(acc) : static_cast<std::int64_t>(acc);
  return FixedStatus::ok;
}

// Longest text format_fixed() writes: sign, 19 integer digits and 18 decimals (multiplier > 1 widens the
// integer part, which int128 arithmetic keeps exact), the point.
inline constexpr std::size_t kMaxFixedText = 1 + 38 + 1 + Scale::kMaxDecimals;

// Writes the exact decimal text of `raw` steps with exactly scale.decimals() decimals ("61837.63" at
// 0.01) into `out` (at least kMaxFixedText bytes). Returns the length. No terminating NUL.
inline std::size_t format_fixed(std::int64_t raw, const Scale& scale, char* out) noexcept {
  const bool neg = raw < 0;
  // Magnitude in 10^-decimals units; int128 so that INT64_MIN and a multiplier > 1 cannot overflow.
  uint128 v = static_cast<uint128>(neg ? -static_cast<int128>(raw) : raw) *
                        static_cast<uint128>(scale.multiplier());
  char digits[kMaxFixedText];
  std::size_t n = 0;
  const int decimals = scale.decimals();
  do {
    digits[n++] = static_cast<char>('0' + static_cast<int>(v % 10u));
    v /= 10u;
  } while (v != 0u || n <= static_cast<std::size_t>(decimals));  // at least one integer digit
  std::size_t len = 0;
  if (neg) out[len++] = '-';
  for (std::size_t i = n; i-- > 0;) {
    out[len++] = digits[i];
    if (i == static_cast<std::size_t>(decimals) && decimals > 0) out[len++] = '.';
  }
  return len;
}

[[nodiscard]] std::string format_fixed(std::int64_t raw, const Scale& scale);

// Setup-time helper: like parse_fixed() but throws ParseError naming `what`, the text, the step and the
// reason ("price '61837.635' is not a multiple of the step 0.01").
[[nodiscard]] std::int64_t parse_fixed_or_throw(std::string_view text, const Scale& scale,
                                                Sign sign = Sign::allow_negative,
                                                std::string_view what = "value");

// For display and analytics only: the hot path stays in integers.
[[nodiscard]] inline double to_double(std::int64_t raw, const Scale& scale) noexcept {
  return static_cast<double>(raw) * static_cast<double>(scale.multiplier()) / static_cast<double>(scale.pow10());
}

// Strongly typed step counts: a Price never adds to a Qty by accident.
template <class Tag>
class Fixed {
 public:
  constexpr Fixed() noexcept = default;
  constexpr explicit Fixed(std::int64_t raw) noexcept : raw_(raw) {}
  [[nodiscard]] constexpr std::int64_t raw() const noexcept { return raw_; }

  friend constexpr auto operator<=>(Fixed, Fixed) noexcept = default;
  friend constexpr Fixed operator+(Fixed a, Fixed b) noexcept { return Fixed(a.raw_ + b.raw_); }
  friend constexpr Fixed operator-(Fixed a, Fixed b) noexcept { return Fixed(a.raw_ - b.raw_); }
  constexpr Fixed operator-() const noexcept { return Fixed(-raw_); }
  constexpr Fixed& operator+=(Fixed o) noexcept {
    raw_ += o.raw_;
    return *this;
  }
  constexpr Fixed& operator-=(Fixed o) noexcept {
    raw_ -= o.raw_;
    return *this;
  }

 private:
  std::int64_t raw_ = 0;
};

struct PriceTag {};
struct QtyTag {};
using Price = Fixed<PriceTag>;  // count of price ticks
using Qty = Fixed<QtyTag>;      // count of quantity lots

template <class Tag>
[[nodiscard]] inline FixedStatus parse_fixed(std::string_view text, const Scale& scale, Fixed<Tag>& out,
                                             Sign sign = Sign::allow_negative) noexcept {
  std::int64_t raw = 0;
  const FixedStatus s = parse_fixed(text, scale, raw, sign);
  if (s == FixedStatus::ok) out = Fixed<Tag>(raw);
  return s;
}

}  // namespace hftx
