// OKX's order-book checksum. See hftx/venue/okx/checksum.hpp.
#include "hftx/venue/okx/checksum.hpp"

#include <zlib.h>

namespace hftx::venue::okx {

std::size_t shortest_decimal(std::int64_t raw, const Scale& scale, char* out) noexcept {
  std::size_t n = format_fixed(raw, scale, out);
  if (scale.decimals() > 0) {
    while (out[n - 1] == '0') --n;
    if (out[n - 1] == '.') --n;
  }
  return n;
}

std::int32_t book_checksum(std::span<const md::Level> bids, std::span<const md::Level> asks, const Scale& price_scale,
                           const Scale& qty_scale) noexcept {
  // 25 levels x 2 sides x 2 numbers, each at most kMaxFixedText plus a ':'.
  char text[kChecksumLevels * 4 * (kMaxFixedText + 1)];
  std::size_t len = 0;
  const auto put = [&](const md::Level& l) {
    if (len != 0) text[len++] = ':';
    len += shortest_decimal(l.price.raw(), price_scale, text + len);
    text[len++] = ':';
    len += shortest_decimal(l.qty.raw(), qty_scale, text + len);
  };
  const std::size_t nb = bids.size() < kChecksumLevels ? bids.size() : kChecksumLevels;
  const std::size_t na = asks.size() < kChecksumLevels ? asks.size() : kChecksumLevels;
  for (std::size_t i = 0; i < kChecksumLevels && (i < nb || i < na); ++i) {
    if (i < nb) put(bids[i]);
    if (i < na) put(asks[i]);
  }
  const uLong crc = crc32(0L, reinterpret_cast<const Bytef*>(text), static_cast<uInt>(len));
  return static_cast<std::int32_t>(static_cast<std::uint32_t>(crc));
}

}  // namespace hftx::venue::okx
