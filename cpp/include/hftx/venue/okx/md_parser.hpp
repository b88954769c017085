// hftx/venue/okx/md_parser.hpp — OKX's v5 public market data (order books, trades) into md/events.hpp's neutral
// events: a hand scanner for the compact shape OKX sends, simdjson On-Demand for the rest.
//
// Threading contract: an MdParser is used by one thread at a time (it owns simdjson's parser state, the trades
// it keeps and its counters). Use one per instrument (its tick and lot) on the feed thread. Results are plain
// structs (md/events.hpp).
//
// Formats: `{"arg":{"channel":C,"instId":I},"action":A,"data":[{...}]}` with C one of
//  - books, books-l2-tbt, books50-l2-tbt: A "snapshot" -> MdKind::depth_snapshot, "update" -> depth_update;
//  - books5, bbo-tbt (no action: every message is the whole top) -> depth_snapshot;
//    data[0] = {"asks":[["px","sz","0","n"],..],"bids":[..],"ts":"ms","checksum":int,"seqId":int,"prevSeqId":int}
//    (checksum, seqId, prevSeqId optional): symbol = instId, stream = C, venue_time_ns = ts, depth.first_id =
//    depth.last_id = snapshot.last_update_id = seqId (0 when absent), depth.prev_last_id = prevSeqId (has_prev
//    when present and not -1), checksum / has_checksum when present and non-zero (OKX sends 0 once it
//    stops computing it). A level is [price, size, ...]: the elements after the size (the deprecated "0" and the
//    order count) are skipped. A book message carries exactly one element in `data`.
//  - trades, trades-all: data = [{"tradeId":"..","px":"..","sz":"..","side":"buy"|"sell","ts":"ms",..},..]
//    -> MdKind::trade (id = tradeId, buyer_is_maker = side "sell", i.e. the aggressor sold; venue_time_ns and
//    transact_time_ns = ts).
// Field order does not matter; unknown fields are skipped (OKX adds fields: count, source, seqId on trades), though
// read: a malformed value anywhere is an error. An instId longer than md::Symbol's 31 characters is wrong_type.
//
// Several trades in one message: parse() reads and checks every element of `data` (one bad element fails the
// message), gives the first in `out` and keeps the others in the parser (at most kMaxTrades per message; more
// is too_many_levels on "data"). trades_left() says how many are kept; next_trade(out) moves the next one into
// out.trade, out.venue_time_ns and out.transact_time_ns (the rest of `out` as parse() left it). The kept
// trades are dropped by the next parse().
//
// Zero copy, zero allocation: as binance::MdParser. simdjson reads up to kJsonPadding bytes past the message,
// so parse() takes the readable capacity of the buffer (capacity >= size + kJsonPadding: no copy);
// parse_unpadded() copies a message the fast scanner declines into a buffer sized at construction (longer
// messages are too_large, never a reallocation). Levels go into the caller's span (a message with more levels
// than fit is too_many_levels). Views in `out` (stream) point into the message, or into the parser's buffer
// after a copy, until the next call.
//
// Fast path: OKX's compact messages are read by a hand scanner in one pass (no padding needed); anything else
// (whitespace, escapes, non-ASCII, a repeated key, a nested unknown value, an error to report) goes to
// simdjson, which gives the same result for everything the scanner accepts and names the error for the rest
// (stats().fallbacks counts the messages it took; tests/fuzz/fuzz_md_okx.cpp and okx_md_test check the two
// agree). bench_okx, on the recording's books-l2-tbt messages: ~230 ns a message against 335-370 ns for simdjson
// On-Demand alone and 400-510 ns for simdjson's DOM (AMD EPYC, 2 shared cores).
//
// Bad input (malformed, truncated, wrong types, unknown channels, event messages, off-grid prices) never
// throws and never reads out of bounds: parse() returns a ParseResult naming the reason and the field
// ("channel", "instId", "action", "data", "asks", "bids", "ts", "checksum", "seqId", "prevSeqId", "tradeId",
// "px", "sz", "side", "event" for an event message), and the parser counts each reason.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string_view>

#include "hftx/core/fixed_point.hpp"
#include "hftx/md/events.hpp"
#include "hftx/md/parse.hpp"

namespace hftx::venue::okx {

using md::Level;
using md::MdKind;
using md::MdMessage;
using md::ParseResult;
using md::ParserStats;
using md::ParseStatus;

class MdParser {
  struct Impl;

 public:
  static constexpr std::size_t kMaxTrades = 256;  // trades kept from one message

  // `price_scale` / `qty_scale`: the instrument's tick and lot. `unpadded_capacity`: the largest message
  // parse_unpadded() accepts (its buffer is allocated here, once).
  MdParser(Scale price_scale, Scale qty_scale, std::size_t unpadded_capacity = 1u << 20);
  ~MdParser();
  MdParser(const MdParser&) = delete;
  MdParser& operator=(const MdParser&) = delete;
  MdParser(MdParser&&) noexcept;
  MdParser& operator=(MdParser&&) noexcept;

  // Parses `json`, whose buffer is readable up to json.data() + capacity (capacity >= json.size() +
  // kJsonPadding, else the message is copied as by parse_unpadded() when simdjson reads it). Level changes are
  // written to `levels`. `out` is fully overwritten on success; on failure its contents are unspecified.
  // Never throws, never allocates.
  ParseResult parse(std::string_view json, std::size_t capacity, std::int64_t recv_ns, MdMessage& out,
                    std::span<Level> levels) noexcept;
  // As parse(), for a message without readable padding.
  ParseResult parse_unpadded(std::string_view json, std::int64_t recv_ns, MdMessage& out,
                             std::span<Level> levels) noexcept;

  // The trades of the last parsed message not yet given (see the header comment).
  [[nodiscard]] std::size_t trades_left() const noexcept;
  // The next kept trade into out (trade, venue_time_ns, transact_time_ns); false when none is left.
  bool next_trade(MdMessage& out) noexcept;

  // The fast scanner is on by default; off, every message goes to simdjson (differential tests, benchmarks).
  void set_fast_path(bool on) noexcept;
  [[nodiscard]] bool fast_path() const noexcept;

  [[nodiscard]] const ParserStats& stats() const noexcept { return stats_; }
  void reset_stats() noexcept { stats_ = {}; }
  [[nodiscard]] const Scale& price_scale() const noexcept { return price_scale_; }
  [[nodiscard]] const Scale& qty_scale() const noexcept { return qty_scale_; }

 private:
  std::unique_ptr<Impl> impl_;
  Scale price_scale_;
  Scale qty_scale_;
  ParserStats stats_;
};

}  // namespace hftx::venue::okx
