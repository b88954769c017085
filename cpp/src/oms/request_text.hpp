// request_text.hpp — what the venues' request encoders (venue/<name>/order_codec.cpp) share to write a request:
// decimal integers, exact fixed-point text and a bounded writer. Private to cpp/src.
//
// Threading contract: stateless functions and a writer over the caller's buffer; any thread.
//
// Why by hand: every order's request carries a client id, a price, a quantity and often a timestamp; two
// digits per division on a uint64 is several times faster than snprintf and than format_fixed's int128 path
// (okx_place 62 ns against 212 ns with snprintf, bench_okx_gateway).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

#include "hftx/core/fixed_point.hpp"
#include "hftx/core/platform.hpp"

namespace hftx::detail {

// "00".."99": two digits per division.
inline constexpr char kDigits2[201] =
    "0001020304050607080910111213141516171819202122232425262728293031323334353637383940414243444546474849"
    "5051525354555657585960616263646566676869707172737475767778798081828384858687888990919293949596979899";

// Decimal digits of v right-aligned ending at `end` (room for 20 before it); returns the first digit.
HFTX_FORCE_INLINE char* u64_digits(std::uint64_t v, char* end) noexcept {
  char* b = end;
  while (v >= 100) {
    const auto r = static_cast<std::size_t>(v % 100);
    v /= 100;
    b -= 2;
    std::memcpy(b, kDigits2 + 2 * r, 2);
  }
  if (v >= 10) {
    b -= 2;
    std::memcpy(b, kDigits2 + 2 * v, 2);
  } else {
    *--b = static_cast<char>('0' + v);
  }
  return b;
}

// The decimal text of v, in a buffer of its own (a timestamp that goes into both a JSON and a signed payload).
struct U64Text {
  char buf[20];
  std::string_view text;
  explicit U64Text(std::uint64_t v) noexcept {
    const char* b = u64_digits(v, buf + 20);
    text = std::string_view(b, static_cast<std::size_t>(buf + 20 - b));
  }
  U64Text(const U64Text&) = delete;  // `text` points into `buf`
  U64Text& operator=(const U64Text&) = delete;
};

// Exact decimal text of raw steps with scale.decimals() decimals into out (kMaxFixedText bytes); returns its
// length. The common case (multiplier 1, non-negative) is one pass of two-digit divisions on a uint64; other
// scales take format_fixed's int128 path.
HFTX_FORCE_INLINE std::size_t fixed_text(std::int64_t raw, const Scale& scale, char* out) noexcept {
  if (HFTX_UNLIKELY(scale.multiplier() != 1 || raw < 0)) return format_fixed(raw, scale, out);
  const auto decimals = static_cast<std::size_t>(scale.decimals());
  char buf[40];
  char* const end = buf + sizeof buf;
  char* b = u64_digits(static_cast<std::uint64_t>(raw), end);
  while (static_cast<std::size_t>(end - b) <= decimals) *--b = '0';  // at least one integer digit
  const auto digits = static_cast<std::size_t>(end - b);
  const std::size_t int_len = digits - decimals;
  std::memcpy(out, b, int_len);
  if (decimals == 0) return int_len;
  out[int_len] = '.';
  std::memcpy(out + int_len + 1, b + int_len, decimals);
  return digits + 1;
}

// A bounded writer: every append checks the room left; once one does not fit, the writer stays failed
// (ok == false) and writes nothing more.
struct RequestWriter {
  char* p;
  char* end;
  bool ok = true;

  HFTX_FORCE_INLINE void put(const char* s, std::size_t n) noexcept {
    if (HFTX_UNLIKELY(static_cast<std::size_t>(end - p) < n)) {
      ok = false;
      p = end;
      return;
    }
    std::memcpy(p, s, n);
    p += n;
  }
  HFTX_FORCE_INLINE void put(std::string_view s) noexcept { put(s.data(), s.size()); }
  template <std::size_t N>
  HFTX_FORCE_INLINE void lit(const char (&s)[N]) noexcept {
    put(s, N - 1);
  }
  HFTX_FORCE_INLINE void u64(std::uint64_t v) noexcept { put(U64Text(v).text); }
  HFTX_FORCE_INLINE void fixed(std::int64_t raw, const Scale& scale) noexcept {
    char buf[kMaxFixedText];
    put(buf, fixed_text(raw, scale, buf));
  }
};

}  // namespace hftx::detail
