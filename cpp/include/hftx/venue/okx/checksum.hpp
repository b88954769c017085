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
#include <memory>
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

// The checksums of one instrument's successive books, remembering the text of the numbers it wrote: from one
// message to the next, most of a book's top 25 levels keep their prices and sizes, and a remembered number is a
// 32-byte copy where writing it again is ~30 cycles (bench_okx: okx_checksum/hftx against hftx_uncached). The
// same results as book_checksum(). A direct-mapped table of kEntries numbers per scale, allocated here; no
// allocation after construction. Threading: one owner thread.
class ChecksumWriter {
 public:
  static constexpr std::size_t kEntries = 1024;

  ChecksumWriter(Scale price_scale, Scale qty_scale);
  ChecksumWriter(ChecksumWriter&&) noexcept = default;
  ChecksumWriter& operator=(ChecksumWriter&&) noexcept = default;

  [[nodiscard]] std::int32_t checksum(std::span<const md::Level> bids, std::span<const md::Level> asks) noexcept;
  // From an L2 book: its top 25 levels per side.
  template <class Book>
  [[nodiscard]] std::int32_t checksum(const Book& book) noexcept {
    md::Level bids[kChecksumLevels];
    md::Level asks[kChecksumLevels];
    const std::size_t nb = book.depth(Side::bid, std::span<md::Level>(bids, kChecksumLevels));
    const std::size_t na = book.depth(Side::ask, std::span<md::Level>(asks, kChecksumLevels));
    return checksum(std::span<const md::Level>(bids, nb), std::span<const md::Level>(asks, na));
  }
  // The text (as checksum_text()).
  std::size_t text(std::span<const md::Level> bids, std::span<const md::Level> asks, char* out) noexcept;
  [[nodiscard]] const Scale& price_scale() const noexcept { return price_scale_; }
  [[nodiscard]] const Scale& qty_scale() const noexcept { return qty_scale_; }

 private:
  struct Entry {
    std::int64_t raw;
    char text[23];
    std::uint8_t len;  // 0: empty
  };
  std::size_t number(Entry* table, std::int64_t raw, const Scale& scale, char* out) noexcept;
  Scale price_scale_;
  Scale qty_scale_;
  std::unique_ptr<Entry[]> prices_;
  std::unique_ptr<Entry[]> qtys_;
};

// The shortest decimal text of `raw` steps (OKX's spelling: "0.0000046", "441", "-1.5") into out (at least
// kMaxFixedText bytes, which it may write past the text's end); returns its length.
std::size_t shortest_decimal(std::int64_t raw, const Scale& scale, char* out) noexcept;

}  // namespace hftx::venue::okx
