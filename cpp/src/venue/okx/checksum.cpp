// OKX's order-book checksum. See hftx/venue/okx/checksum.hpp.
//
// Most of the cost is the text, not the CRC: 100 numbers per book. format_fixed() (exact for any scale) divides
// a 128-bit value by 10 per digit: 4.6 us per book on the recorded messages, against 0.3 us for zlib's crc32 of
// the text (bench_okx: okx_checksum/hftx_format_fixed, limit). shortest_decimal() below handles the usual scale
// (a power-of-ten step, multiplier 1, at most 15 decimals, values below 10^16) branch-light: all 16 digits at once
// by SWAR (two 8-digit halves, each split 4+4, 2+2, 1+1 with multiply-shift divisions), where the leading and
// trailing zeros end from the same words, and two fixed 16-byte stores (the integer part, the fraction, cut out
// by 128-bit shifts) whose excess the next write covers: ~2.7x less than format_fixed() a number. Anything else
// takes the digit-pair loop or format_fixed(). ChecksumWriter then remembers the numbers it wrote (most of a
// book's top stays from one message to the next): on the recording the text costs less than the CRC.
#include "hftx/venue/okx/checksum.hpp"

#include <zlib.h>

#include <cstring>

namespace hftx::venue::okx {

namespace {

constexpr char kDigitPairs[] =
    "00010203040506070809101112131415161718192021222324252627282930313233343536373839404142434445464748495051525354"
    "555657585960616263646566676869707172737475767778798081828384858687888990919293949596979899";

// The decimal digits of v, right-aligned to end; returns the first digit.
HFTX_FORCE_INLINE char* write_digits(std::uint64_t v, char* end) noexcept {
  while (v >= 100) {
    const std::uint64_t q = v / 100;
    end -= 2;
    std::memcpy(end, kDigitPairs + 2 * (v - q * 100), 2);
    v = q;
  }
  if (v >= 10) {
    end -= 2;
    std::memcpy(end, kDigitPairs + 2 * v, 2);
  } else {
    *--end = static_cast<char>('0' + v);
  }
  return end;
}

// The eight decimal digits of v < 10^8 as byte values 0..9, the most significant in the lowest byte: split
// 4+4, 2+2, 1+1 in parallel lanes by multiply-shift divisions (exact in these ranges).
HFTX_FORCE_INLINE std::uint64_t eight_digits(std::uint64_t v) noexcept {
  const std::uint64_t hi = v / 10000, lo = v - hi * 10000;
  std::uint64_t x = hi | (lo << 32);                              // two 4-digit lanes
  std::uint64_t y = ((x * 10486) >> 20) & 0x0000007F0000007Full;  // each lane / 100
  x = y | ((x - y * 100) << 16);                                  // four 2-digit lanes
  y = ((x * 103) >> 10) & 0x000F000F000F000Full;                  // each / 10
  return y | ((x - y * 10) << 8);                                 // eight digits
}

// Any scale (a multiplier > 1 widens the value past 64 bits): format_fixed's exact text, trailing zeros dropped.
HFTX_COLD std::size_t shortest_decimal_general(std::int64_t raw, const Scale& scale, char* out) noexcept {
  std::size_t n = format_fixed(raw, scale, out);
  if (scale.decimals() > 0) {
    while (out[n - 1] == '0') --n;
    if (out[n - 1] == '.') --n;
  }
  return n;
}

}  // namespace

std::size_t shortest_decimal(std::int64_t raw, const Scale& scale, char* out) noexcept {
  if (HFTX_UNLIKELY(scale.multiplier() != 1)) return shortest_decimal_general(raw, scale, out);
  if (raw == 0) {
    out[0] = '0';
    return 1;
  }
  std::size_t len = 0;
  if (raw < 0) out[len++] = '-';
  // The magnitude (INT64_MIN's too) in 64 bits; the fraction's trailing zeros dropped first, fewer digits.
  std::uint64_t u = raw < 0 ? 0 - static_cast<std::uint64_t>(raw) : static_cast<std::uint64_t>(raw);
  int frac = scale.decimals();
  if (HFTX_LIKELY(u < 10'000'000'000'000'000ull && frac <= 15)) {
    // The 16 digits (leading zeros included) in two words, digit values 0..9 a byte, the first digit in the
    // lowest byte; the two parts are cut out of their 128-bit ASCII with shifts. (Through a stack buffer, an
    // unaligned reload spanning two stores missed store forwarding.)
    const std::uint64_t hi = u / 100'000'000u;
    const std::uint64_t da = eight_digits(hi), db = eight_digits(u - hi * 100'000'000u);
    constexpr std::uint64_t k7f = 0x7F7F7F7F7F7F7F7Full, k80 = 0x8080808080808080ull;
    const std::uint64_t ma = (da + k7f) & k80, mb = (db + k7f) & k80;  // a byte's top bit: its digit is not 0
    const int lead = ma != 0 ? __builtin_ctzll(ma) >> 3 : 8 + (__builtin_ctzll(mb) >> 3);   // u != 0: < 16
    const int trail = mb != 0 ? __builtin_clzll(mb) >> 3 : 8 + (__builtin_clzll(ma) >> 3);  // trailing zeros
    constexpr std::uint64_t kZeros = 0x3030303030303030ull;
    const uint128 digits = (da + kZeros) | (static_cast<uint128>(db + kZeros) << 64);
    const int dropped = trail < frac ? trail : frac;            // of the fraction
    const int int_start = lead < 15 - frac ? lead : 15 - frac;  // at least one integer digit ("0.")
    const auto put16 = [](char* at, uint128 w) {
      const auto lo = static_cast<std::uint64_t>(w), hi8 = static_cast<std::uint64_t>(w >> 64);
      std::memcpy(at, &lo, 8);
      std::memcpy(at + 8, &hi8, 8);
    };
    put16(out + len, digits >> (8 * int_start));
    len += static_cast<std::size_t>(16 - frac - int_start);
    if (dropped < frac) {
      out[len++] = '.';
      put16(out + len, digits >> (8 * (16 - frac)));
      len += static_cast<std::size_t>(frac - dropped);
    }
    return len;
  }
  while (frac > 0 && u % 10 == 0) {
    u /= 10;
    --frac;
  }
  char buf[24];
  char* const end = buf + sizeof buf;
  const char* const p = write_digits(u, end);
  const auto n = static_cast<std::size_t>(end - p);
  const auto f = static_cast<std::size_t>(frac);
  if (f == 0) {
    std::memcpy(out + len, p, n);
    return len + n;
  }
  if (n > f) {  // integer digits, the point, the fraction
    std::memcpy(out + len, p, n - f);
    len += n - f;
    out[len++] = '.';
    std::memcpy(out + len, p + (n - f), f);
    return len + f;
  }
  out[len++] = '0';  // "0." and the fraction's leading zeros
  out[len++] = '.';
  std::memset(out + len, '0', f - n);
  len += f - n;
  std::memcpy(out + len, p, n);
  return len + n;
}

std::size_t checksum_text(std::span<const md::Level> bids, std::span<const md::Level> asks, const Scale& price_scale,
                          const Scale& qty_scale, char* out) noexcept {
  std::size_t len = 0;
  const auto put = [&](const md::Level& l) {
    if (len != 0) out[len++] = ':';
    len += shortest_decimal(l.price.raw(), price_scale, out + len);
    out[len++] = ':';
    len += shortest_decimal(l.qty.raw(), qty_scale, out + len);
  };
  const std::size_t nb = bids.size() < kChecksumLevels ? bids.size() : kChecksumLevels;
  const std::size_t na = asks.size() < kChecksumLevels ? asks.size() : kChecksumLevels;
  for (std::size_t i = 0; i < kChecksumLevels && (i < nb || i < na); ++i) {
    if (i < nb) put(bids[i]);
    if (i < na) put(asks[i]);
  }
  return len;
}

ChecksumWriter::ChecksumWriter(Scale price_scale, Scale qty_scale)
    : price_scale_(price_scale),
      qty_scale_(qty_scale),
      prices_(new Entry[kEntries]()),
      qtys_(new Entry[kEntries]()) {}

HFTX_FORCE_INLINE std::size_t ChecksumWriter::number(Entry* table, std::int64_t raw, const Scale& scale,
                                                     char* out) noexcept {
  // Fibonacci hashing: neighbouring prices (ticks apart) land in different entries.
  Entry& e = table[(static_cast<std::uint64_t>(raw) * 0x9E3779B97F4A7C15ull) >> (64 - 10)];
  static_assert(kEntries == 1024 && sizeof(Entry) == 32);
  if (HFTX_LIKELY(e.raw == raw && e.len != 0)) {
    std::memcpy(out, e.text, sizeof e.text);  // fixed size: the excess is overwritten by what follows
    return e.len;
  }
  const std::size_t n = shortest_decimal(raw, scale, out);
  if (n <= sizeof e.text) {
    e.raw = raw;
    std::memcpy(e.text, out, n);
    e.len = static_cast<std::uint8_t>(n);
  }
  return n;
}

std::size_t ChecksumWriter::text(std::span<const md::Level> bids, std::span<const md::Level> asks,
                                 char* out) noexcept {
  std::size_t len = 0;
  const auto put = [&](const md::Level& l) {
    if (len != 0) out[len++] = ':';
    len += number(prices_.get(), l.price.raw(), price_scale_, out + len);
    out[len++] = ':';
    len += number(qtys_.get(), l.qty.raw(), qty_scale_, out + len);
  };
  const std::size_t nb = bids.size() < kChecksumLevels ? bids.size() : kChecksumLevels;
  const std::size_t na = asks.size() < kChecksumLevels ? asks.size() : kChecksumLevels;
  for (std::size_t i = 0; i < kChecksumLevels && (i < nb || i < na); ++i) {
    if (i < nb) put(bids[i]);
    if (i < na) put(asks[i]);
  }
  return len;
}

std::int32_t ChecksumWriter::checksum(std::span<const md::Level> bids, std::span<const md::Level> asks) noexcept {
  char buf[kChecksumTextCapacity];
  const std::size_t len = text(bids, asks, buf);
  const uLong crc = crc32(0L, reinterpret_cast<const Bytef*>(buf), static_cast<uInt>(len));
  return static_cast<std::int32_t>(static_cast<std::uint32_t>(crc));
}

std::int32_t book_checksum(std::span<const md::Level> bids, std::span<const md::Level> asks, const Scale& price_scale,
                           const Scale& qty_scale) noexcept {
  // 25 levels x 2 sides x 2 numbers, each at most kMaxFixedText plus a ':'.
  char text[kChecksumTextCapacity];
  const std::size_t len = checksum_text(bids, asks, price_scale, qty_scale, text);
  const uLong crc = crc32(0L, reinterpret_cast<const Bytef*>(text), static_cast<uInt>(len));
  return static_cast<std::int32_t>(static_cast<std::uint32_t>(crc));
}

}  // namespace hftx::venue::okx
