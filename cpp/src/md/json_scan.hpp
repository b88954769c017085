// json_scan.hpp (internal) — FastScan, the hand scanner the parsers put in front of simdjson for the
// compact, fixed shapes Binance sends (md_binance.cpp: stream messages; binance_api.cpp: order.place acks).
//
// Threading contract: a FastScan is a cursor over one text, used by one thread.
//
// One forward pass over [p, end): it never reads outside the text except where `readable` (the padding a
// caller was promised) allows, so it needs no padding. Every function returns false to decline (the caller
// then hands the message to simdjson, which names any error); none of them reports an error itself.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <string_view>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "hftx/core/fixed_point.hpp"
#include "hftx/core/platform.hpp"

namespace hftx::detail {

struct FastScan {
  const char* p;
  const char* end;
  const char* readable;  // end of the readable bytes (>= end): the padding parse() was promised

  HFTX_FORCE_INLINE bool ch(char c) noexcept {
    if (HFTX_UNLIKELY(p == end || *p != c)) return false;
    ++p;
    return true;
  }
  template <std::size_t N>
  HFTX_FORCE_INLINE bool lit(const char (&s)[N]) noexcept {
    constexpr std::size_t n = N - 1;
    if (static_cast<std::size_t>(end - p) < n || std::memcmp(p, s, n) != 0) return false;
    p += n;
    return true;
  }
#if defined(__SSE2__)
  HFTX_FORCE_INLINE static __m128i load16(const char* q) noexcept {
    return _mm_loadu_si128(reinterpret_cast<const __m128i*>(q));
  }
  HFTX_FORCE_INLINE static unsigned bits(__m128i m) noexcept { return static_cast<unsigned>(_mm_movemask_epi8(m)); }
  HFTX_FORCE_INLINE static unsigned eq(__m128i v, char c) noexcept { return bits(_mm_cmpeq_epi8(v, _mm_set1_epi8(c))); }
  HFTX_FORCE_INLINE static unsigned digit_bits(__m128i v) noexcept {
    return bits(_mm_and_si128(_mm_cmpgt_epi8(v, _mm_set1_epi8('/')), _mm_cmplt_epi8(v, _mm_set1_epi8(':'))));
  }
#endif
  // A string: plain printable ASCII, no escapes (anything else is simdjson's to judge).
  HFTX_FORCE_INLINE bool string(std::string_view& out) noexcept {
    if (!ch('"')) return false;
    const char* const s = p;
    for (; p < end; ++p) {
      const auto c = static_cast<unsigned char>(*p);
      if (c == '"') {
        out = std::string_view(s, static_cast<std::size_t>(p - s));
        ++p;
        return true;
      }
      if (c < 0x20 || c >= 0x80 || c == '\\') return false;
    }
    return false;
  }
  // The envelope's stream name ("btcusdt@depth@100ms"): up to 31 bytes in two 16-byte compares where the
  // bytes are readable, for the one string long enough that the byte loop's length shows.
  HFTX_FORCE_INLINE bool long_string(std::string_view& out) noexcept {
#if defined(__SSE2__)
    if (readable - p >= 48 && p < end && *p == '"') {
      const char* const s = p + 1;
      for (int half = 0; half < 2; ++half) {
        const __m128i v = load16(s + 16 * half);
        const unsigned bad = eq(v, '\\') | bits(_mm_cmplt_epi8(v, _mm_set1_epi8(0x20)));
        const int q = __builtin_ctz(eq(v, '"') | 0x10000u);
        if (bad & ((1u << q) - 1u)) return false;
        if (q < 16) {
          const char* const close = s + 16 * half + q;
          if (close >= end) return false;
          out = std::string_view(s, static_cast<std::size_t>(close - s));
          p = close + 1;
          return true;
        }
      }
    }
#endif
    return string(out);
  }
  // A string read 16 bytes at a time wherever they are readable, else as string(): for texts of long keys
  // and values (the order.place ack), where the byte loop costs a cycle per byte. (The market-data shapes
  // have 1-2 byte keys, where this is slower.)
  HFTX_FORCE_INLINE bool wide_string(std::string_view& out) noexcept {
#if defined(__SSE2__)
    if (p < end && *p == '"') {
      const char* const s = p + 1;
      for (const char* q = s; readable - q >= 16; q += 16) {
        const __m128i v = load16(q);
        // Escapes, control characters and (signed compare) every byte >= 0x80 decline, as in string().
        const unsigned bad = eq(v, '\\') | bits(_mm_cmplt_epi8(v, _mm_set1_epi8(0x20)));
        const int close = __builtin_ctz(eq(v, '"') | 0x10000u);
        if (bad & ((1u << close) - 1u)) return false;
        if (close < 16) {
          if (q + close >= end) return false;
          out = std::string_view(s, static_cast<std::size_t>(q + close - s));
          p = q + close + 1;
          return true;
        }
      }
    }
#endif
    return string(out);
  }
  // A JSON integer that fits both int64 and uint64: 0 or [1-9][0-9]{0,17}. What follows it is checked by
  // the caller (',', '}' or ']'), so "1.5" and "1e3" decline there.
  template <class T>
  HFTX_FORCE_INLINE bool integer(T& out) noexcept {
    const char* const s = p;
    std::uint64_t v = 0;
    for (unsigned d; p != end && (d = static_cast<unsigned>(*p - '0')) < 10u; ++p) v = v * 10u + d;
    const auto n = p - s;
    if (n == 0 || n > 18 || (*s == '0' && n > 1)) return false;
    out = static_cast<T>(v);
    return true;
  }
  // A step's constants for binance_decimal(): a parser computes them once.
  struct DecimalStep {
    std::uint64_t keep = 0;  // the fraction bytes within the step's decimals
    unsigned shift = 0;      // 8 * (8 - decimals)
    std::int64_t pow10 = 1;
    bool usable = false;  // a step of 10^-1..10^-8 (every Binance spot and futures instrument)
    explicit DecimalStep(const Scale& s) noexcept
        : pow10(s.pow10()), usable(s.multiplier() == 1 && s.decimals() >= 1 && s.decimals() <= 8) {
      shift = static_cast<unsigned>(8 * (8 - std::clamp(s.decimals(), 1, 8)));
      keep = ~std::uint64_t{0} >> shift;
    }
  };
  // A price or quantity after its opening quote, in the shape Binance prints them all: 1..7 integer
  // digits, a point, exactly 8 decimals, the closing quote ("61685.99000000"). False (p unchanged) for
  // any other text, which fixed_body() reads instead (md_binance.cpp's Steps tries the two in that order);
  // where both accept, both give parse_fixed's result.
  // The point alone places the closing quote (point + 9), so the next number's position waits on one
  // mask instead of three (that chain, one number's length to the next number's load, is most of a depth
  // level's time), and the quote and the zeros past the step are single compares: with scan_levels'
  // register-held cursor, 11% less per depth message than the general mask path (bench_md md_parse_depth).
  template <class Tag>
  HFTX_FORCE_INLINE bool binance_decimal(const DecimalStep& k, Fixed<Tag>& out) noexcept {
#if defined(__SSE2__)
    if (HFTX_UNLIKELY(!k.usable || readable - p < 32)) return false;
    const __m128i v = load16(p);
    const unsigned d = static_cast<unsigned>(__builtin_ctz(eq(v, '.') | 0x10000u));  // integer digits
    const unsigned need = (1u << (d + 9)) - 1u;  // bytes [0, d + 9): digits around the point
    const std::uint64_t frac = load8(p + d + 1) - kAsciiZeros;  // only used once the mask says digits
    // d <= 7 keeps the digits inside the 16 bytes loaded.
    if (HFTX_UNLIKELY(d - 1u >= 7u || ((digit_bits(v) | (1u << d)) & need) != need || p + d + 9 >= end ||
                      p[d + 9] != '"' || (frac & ~k.keep) != 0))
      return false;
    const std::uint64_t int_part = (load8(p) - kAsciiZeros) << (8 * (8 - d));
    out = Fixed<Tag>(static_cast<std::int64_t>(eight_digits(int_part) * static_cast<std::uint64_t>(k.pow10) +
                                               eight_digits((frac & k.keep) << k.shift)));
    p += d + 10;
    return true;
#else
    (void)k;
    (void)out;
    return false;
#endif
  }
  // After the opening quote. With 32 readable bytes, at most 8 integer digits and a step of 10^-1..10^-8,
  // it is read branch-free: SSE2 masks give the closing quote, the point and the digits of 16 bytes at
  // once, and two 8-digit SWAR conversions give the integer and fraction parts (parse_fixed's byte loops
  // mispredict at every number's end). Otherwise, parse_fixed on the text. Both give parse_fixed's result.
  template <class Tag>
  HFTX_FORCE_INLINE bool fixed_body(const Scale& scale, Fixed<Tag>& out) noexcept {
#if defined(__SSE2__)
    const int decimals = scale.decimals();
    if (HFTX_LIKELY(readable - p >= 32 && scale.multiplier() == 1 && decimals >= 1 && decimals <= 8)) {
      const __m128i v = load16(p);
      const unsigned quote = eq(v, '"'), dots = eq(v, '.'), zeros = eq(v, '0'), digits = digit_bits(v);
      const int len = __builtin_ctz(quote | 0x10000u);  // 16 (declined): no quote in these bytes
      const unsigned within = (1u << len) - 1u;
      const unsigned dot = dots & within;
      const int d = __builtin_ctz(dot | 0x10000u);  // integer digits
      const int nfrac = len - d - 1;
      // Past the step's decimals only zeros ("61685.99000000" at 0.01).
      const unsigned beyond = within & ~((2u << (d + decimals)) - 1u);
      // Accepted: a closing quote inside the text; one point, digits elsewhere; 1..8 integer digits; a fraction.
      if (quote != 0 && len < end - p && dot != 0 && (dot & (dot - 1u)) == 0 && (~digits & within) == dot &&
          d >= 1 && d <= 8 && nfrac >= 1 && (zeros & beyond) == beyond) {
        const int k = nfrac < decimals ? nfrac : decimals;
        const std::uint64_t int_part = (load8(p) - kAsciiZeros) << (8 * (8 - d));
        const std::uint64_t frac_part = ((load8(p + d + 1) - kAsciiZeros) & (~std::uint64_t{0} >> (8 * (8 - k))))
                                        << (8 * (8 - decimals));
        out = Fixed<Tag>(static_cast<std::int64_t>(eight_digits(int_part) * scale.pow10() + eight_digits(frac_part)));
        p += len + 1;
        return true;
      }
    }
#endif
    const char* const s = p;
    while (p != end && (static_cast<unsigned>(*p - '0') < 10u || *p == '.')) ++p;
    if (p == end || *p != '"') return false;
    const std::string_view text(s, static_cast<std::size_t>(p - s));
    ++p;
    return parse_fixed(text, scale, out, Sign::unsigned_only) == FixedStatus::ok;
  }
  static constexpr std::uint64_t kAsciiZeros = 0x3030303030303030ull;
  HFTX_FORCE_INLINE static std::uint64_t load8(const char* q) noexcept {
    std::uint64_t w;
    std::memcpy(&w, q, 8);
    return w;
  }
  // Eight digit values 0..9, one per byte, the first (lowest address) most significant: their number.
  // Pairs, then quads, by multiplies (Lemire's SWAR conversion).
  HFTX_FORCE_INLINE static std::uint64_t eight_digits(std::uint64_t v) noexcept {
    v = v * 10u + (v >> 8);
    return ((((v & 0x000000FF000000FFull) * (100u + (1000000ull << 32))) +
             (((v >> 16) & 0x000000FF000000FFull) * (1u + (10000ull << 32)))) >> 32) & 0xFFFFFFFFull;
  }
  // Eight ASCII digits at q, each checked: their number. False when a byte is not a digit.
  HFTX_FORCE_INLINE static bool eight_ascii_digits(const char* q, std::uint64_t& out) noexcept {
    const std::uint64_t d = load8(q) - kAsciiZeros;
    // A byte below '0' borrows into its top bit; one above '9' (d >= 10) reaches it when 0x76 is added.
    if (((d | (d + 0x7676767676767676ull)) & 0x8080808080808080ull) != 0) return false;
    out = eight_digits(d);
    return true;
  }
  // An unknown field's value: a scalar only (a nested value declines).
  HFTX_FORCE_INLINE bool skip_scalar() noexcept {
    if (p == end) return false;
    std::string_view sv;
    std::uint64_t n = 0;
    switch (*p) {
      case '"': return string(sv);
      case 't': return lit("true");
      case 'f': return lit("false");
      case 'n': return lit("null");
      default: return integer(n);
    }
  }
  // After a member or element: ',' (true, more follow) or `close` (false, done). Anything else declines.
  HFTX_FORCE_INLINE bool next(char close, bool& more) noexcept {
    if (p == end) return false;
    if (*p == ',') {
      more = true;
    } else if (*p == close) {
      more = false;
    } else {
      return false;
    }
    ++p;
    return true;
  }
  // A JSON integer that may be negative ("-1"): -?(0|[1-9][0-9]{0,17}).
  HFTX_FORCE_INLINE bool signed_integer(std::int64_t& out) noexcept {
    const bool neg = p != end && *p == '-';
    if (neg) ++p;
    std::uint64_t v = 0;
    if (!integer(v)) return false;
    out = neg ? -static_cast<std::int64_t>(v) : static_cast<std::int64_t>(v);
    return true;
  }
};

// A key against a literal: a length test and a fixed-size compare the compiler inlines (string_view's ==
// calls memcmp with a variable size).
template <std::size_t N>
HFTX_FORCE_INLINE bool key_is(std::string_view key, const char (&lit)[N]) noexcept {
  return key.size() == N - 1 && std::memcmp(key.data(), lit, N - 1) == 0;
}

}  // namespace hftx::detail
