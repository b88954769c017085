// hftx/venue/okx/checksum.hpp — OKX's order-book checksum, computed from a book of fixed-point levels.
//
// Threading contract: pure functions; any thread.
//
// The rule (OKX v5, "Checksum"): the top 25 levels of each side, interleaved best first as
// `bidPx:bidSz:askPx:askSz:...` (where one side has fewer levels, the other's continue alone), each number as
// OKX writes it, CRC32 (zlib's polynomial) of that text, read as a signed 32-bit integer. OKX writes the
// shortest decimal of each number (no trailing zeros, no trailing point: "0.0000046", "441"), checked on every
// level of the recordings; a price written otherwise would make the checksum disagree, which resyncs the book
// (safe, and counted).
#pragma once

#include <cstdint>
#include <span>

#include "hftx/core/fixed_point.hpp"
#include "hftx/core/types.hpp"
#include "hftx/md/events.hpp"

namespace hftx::venue::okx {

inline constexpr std::size_t kChecksumLevels = 25;

// The checksum of a book whose sides are `bids` and `asks`, best first (only the first 25 of each are read).
// No allocation.
[[nodiscard]] std::int32_t book_checksum(std::span<const md::Level> bids, std::span<const md::Level> asks,
                                         const Scale& price_scale, const Scale& qty_scale) noexcept;

// The same from an L2 book (book/l2_book.hpp): its top 25 levels per side.
template <class Book>
[[nodiscard]] std::int32_t book_checksum(const Book& book, const Scale& price_scale, const Scale& qty_scale) noexcept {
  md::Level bids[kChecksumLevels];
  md::Level asks[kChecksumLevels];
  const std::size_t nb = book.depth(Side::bid, std::span<md::Level>(bids, kChecksumLevels));
  const std::size_t na = book.depth(Side::ask, std::span<md::Level>(asks, kChecksumLevels));
  return book_checksum(std::span<const md::Level>(bids, nb), std::span<const md::Level>(asks, na), price_scale,
                       qty_scale);
}

// The text the checksum is the CRC32 of (`bidPx:bidSz:askPx:askSz:...`, at most kChecksumTextCapacity bytes)
// into out; returns its length. For tests and for measuring the formatter's share of book_checksum().
inline constexpr std::size_t kChecksumTextCapacity = kChecksumLevels * 4 * (kMaxFixedText + 1);
std::size_t checksum_text(std::span<const md::Level> bids, std::span<const md::Level> asks, const Scale& price_scale,
                          const Scale& qty_scale, char* out) noexcept;

// The shortest decimal text of `raw` steps (OKX's spelling: "0.0000046", "441", "-1.5") into out (at least
// kMaxFixedText bytes, which it may write past the text's end); returns its length.
std::size_t shortest_decimal(std::int64_t raw, const Scale& scale, char* out) noexcept;

}  // namespace hftx::venue::okx
