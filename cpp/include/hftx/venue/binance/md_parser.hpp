// hftx/venue/binance/md_parser.hpp — Binance's market-data parser: stream messages and depth snapshots into
// md/events.hpp's neutral events (a hand scanner for the compact shapes, simdjson On-Demand for the rest).
//
// Threading contract: an MdParser is used by one thread at a time (it owns simdjson's parser state and
// its counters). Use one per feed thread. Results are plain structs (md/events.hpp).
//
// Formats: spot and futures `depthUpdate`, `bookTicker` (spot without e/E, futures with), `trade`,
// `aggTrade`, REST depth snapshots (`{"lastUpdateId":..,"bids":..,"asks":..}`, futures with E/T) and the
// WebSocket-API depth response (`{"id":..,"status":200,"result":{...}}`), each raw or inside a combined
// stream envelope (`{"stream":..,"data":{...}}`). Field order does not matter; unknown fields are skipped
// (Binance adds fields without notice).
//
// Zero copy, zero allocation: simdjson reads up to kJsonPadding bytes past the message, so parse() takes
// the message and the readable capacity of its buffer (a receive buffer that keeps kJsonPadding bytes of
// slack after the data needs no copy). parse_unpadded() copies into an internal buffer sized at
// construction (messages longer than that are rejected with too_large, never reallocated). Level changes
// go into the caller's span; a message with more levels than fit is rejected with too_many_levels.
//
// Fast path: the compact shapes Binance's streams send are read by a hand scanner in one pass (no
// padding needed); anything else falls back to simdjson, which gives the same result for everything the
// scanner accepts and names the error for the rest (stats().fallbacks counts the messages it took).
//
// Bad input (malformed, truncated, wrong types, unknown events, off-grid prices) never throws and never
// reads out of bounds: parse() returns a ParseResult naming the reason and the field, and the parser
// counts each reason.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "hftx/core/fixed_point.hpp"
#include "hftx/md/events.hpp"
#include "hftx/md/parse.hpp"

namespace hftx::venue::binance {

using md::Level;
using md::MdKind;
using md::MdMessage;
using md::ParseResult;
using md::ParserStats;
using md::ParseStatus;

class MdParser {
  struct Impl;

 public:
  // `price_scale` / `qty_scale`: the instrument's tick and lot. `unpadded_capacity`: the largest message
  // parse_unpadded() accepts (its buffer is allocated here, once).
  MdParser(Scale price_scale, Scale qty_scale, std::size_t unpadded_capacity = 1u << 20);
  ~MdParser();
  MdParser(const MdParser&) = delete;
  MdParser& operator=(const MdParser&) = delete;
  MdParser(MdParser&&) noexcept;
  MdParser& operator=(MdParser&&) noexcept;

  // Parses `json`, whose buffer is readable up to json.data() + capacity; capacity must be at least
  // json.size() + kJsonPadding (otherwise the message is copied as by parse_unpadded()). Level changes
  // are written to `levels`. `out` is fully overwritten on success; on failure its contents are
  // unspecified. Never throws, never allocates.
  ParseResult parse(std::string_view json, std::size_t capacity, std::int64_t recv_ns, MdMessage& out,
                    std::span<Level> levels) noexcept;

  // As parse(), for a message without readable padding. The fast scanner needs none; a message it declines
  // is copied once into the internal buffer for simdjson.
  ParseResult parse_unpadded(std::string_view json, std::int64_t recv_ns, MdMessage& out,
                             std::span<Level> levels) noexcept;

  // ---- Top-first reading of depth diffs ----
  // A session that acts on a diff as soon as its top is known (book::BasicL2Book::predict_top()) reads its
  // levels in two goes: the first level or two of each side before the order, the rest after it.
  //
  // parse_deferred() is parse() except that a depth diff the fast scanner reads has its level arrays
  // skipped, not read: out.depth.bids/asks are then empty and deferred() is true. A skipped array's end is
  // found from the first ':' or '}' after it (neither is in a level array), so the members after it are
  // read as parse() reads them. Every other message is parsed whole (deferred() false).
  // deferred_bids()/deferred_asks() read a deferred diff's levels one at a time, from the array's first
  // level or from its last (Binance sends USD-M futures bids worst first). read_deferred() reads them all
  // into the `levels` span given to parse_deferred(), after which `out` is what parse() would have made of
  // the message, or the result is parse()'s error for it. A reader that gets to the end of its array
  // without failing has read exactly the levels read_deferred() then gives; a caller that acts on a few
  // levels before read_deferred() acts on levels that read, in a message whose other levels may not.
  //
  // Until read_deferred(), the message's bytes, `out` and `levels` must stay as they are, and the parser
  // is not used for another message. The statistics count the message once, with read_deferred()'s
  // verdict.
  enum class LevelOrder : std::uint8_t { as_sent, reversed };
  class LevelReader {
   public:
    // The next level; false at the array's end, or at a level the fast scanner does not read (failed()
    // then; read_deferred() says what is wrong with it).
    [[nodiscard]] bool next(Level& out) noexcept;
    [[nodiscard]] bool failed() const noexcept { return failed_; }

   private:
    friend class MdParser;
    const Impl* im_ = nullptr;
    const char* open_ = nullptr;  // the array's '['
    const char* end_ = nullptr;   // the byte after the array
    const char* p_ = nullptr;     // as_sent: the next level's '['; reversed: the byte after its ']' (nullptr: done)
    bool reversed_ = false;
    bool failed_ = false;
  };
  ParseResult parse_deferred(std::string_view json, std::size_t capacity, std::int64_t recv_ns, MdMessage& out,
                             std::span<Level> levels) noexcept;
  [[nodiscard]] bool deferred() const noexcept;
  [[nodiscard]] LevelReader deferred_bids(LevelOrder order = LevelOrder::as_sent) const noexcept;
  [[nodiscard]] LevelReader deferred_asks(LevelOrder order = LevelOrder::as_sent) const noexcept;
  ParseResult read_deferred(MdMessage& out) noexcept;

  // The fast scanner is on by default; off, every message goes to simdjson (for differential tests and
  // for benchmarking the two).
  void set_fast_path(bool on) noexcept;
  [[nodiscard]] bool fast_path() const noexcept;
  // Depth levels in Binance's shape are read whole with SSE4.1 where the CPU has it (checked at run time;
  // the library is built for the x86-64 baseline) and the steps are 10^-1..10^-8: on by default there.
  // Off, the scanner reads them a number at a time, as on other CPUs (for tests and benchmarks comparing
  // the two). Turning it on where it cannot be used leaves it off.
  void set_sse41_levels(bool on) noexcept;
  [[nodiscard]] bool sse41_levels() const noexcept;

  [[nodiscard]] const ParserStats& stats() const noexcept { return stats_; }
  void reset_stats() noexcept { stats_ = {}; }
  [[nodiscard]] const Scale& price_scale() const noexcept { return price_scale_; }
  [[nodiscard]] const Scale& qty_scale() const noexcept { return qty_scale_; }

 private:
  ParseResult parse_message(std::string_view json, std::size_t capacity, std::int64_t recv_ns, MdMessage& out,
                            std::span<Level> levels, bool defer) noexcept;
  [[nodiscard]] LevelReader deferred_levels(int side, LevelOrder order) const noexcept;  // 0 bids, 1 asks
  void tally(const ParseResult& r, MdKind kind, int n) noexcept;

  std::unique_ptr<Impl> impl_;
  Scale price_scale_;
  Scale qty_scale_;
  ParserStats stats_;
};

}  // namespace hftx::venue::binance
