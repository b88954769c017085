// hftx/venue/okx/replay.hpp — replay recorded OKX public streams (several instruments interleaved) through
// classifier -> the instrument's parser -> OKX book sync (checksum, sequence) -> L2 book, per instrument.
//
// Threading contract: a Replayer is single-threaded (one owner thread); its books' published tops may be read
// from other threads as documented in l2_book.hpp. replay_files() / replay_lines() run on the calling thread.
//
// Input, one record per line (gzip or plain; several files in order continue the same books):
//  - cryptofeed's format (github.com/bmoscon/cryptofeed: the recordings in shared/data/venues/ are its sample
//    data; credit "cryptofeed, by Bryant Moscon" where figures from them are shown):
//      `<url> <-> <unix_s>`            a connection opened                      -> control line
//      `<url> <- <unix_s>: <json>`     a message the recorder sent              -> control line
//      `<unix_s>: <json>`              a message received (local time, seconds) -> replayed
//      `<url> -> <unix_s>: <json>`     an HTTP body                             -> skipped (http_body)
//  - hftx's own `<ns> <json>` (local receive time in ns)                       -> replayed
// A replayed message is classified (stream.hpp): book or trade data goes to its instrument; an event or "pong"
// is a control line; data of another channel (tickers, ...) is skipped (other_channel), as are trades with
// books_only (books_only) and a second book channel of an instrument (other_book_channel: one book per
// instrument, on the first book channel it is seen with). Every line lands in exactly one bucket:
// lines == messages + control_lines + skipped_lines + parse_errors (bad lines, with reason "line", included).
//
// Instruments and their steps come from a pre-pass over the input (scan_instruments()): every instId with book
// or trade data, its book channel, and its tick and lot unless given: the finest decimals any of its prices
// (sizes) is written with. Each instrument gets its own parser (its scales), book and sync.
//
// The checks made while replaying: the book checksum after every message that carries one (checked /
// matched / mismatched; a mismatch requests a resubscription, which a replay cannot send: the instrument then
// drops its updates until the recording's next snapshot of it), seqId/prevSeqId where present (gaps), crossed
// books after every snapshot loaded or update applied.
//
// After warm-up (the books at the data's size) feeding messages performs no heap allocation.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "hftx/book/l2_book.hpp"
#include "hftx/md/parse.hpp"
#include "hftx/venue/okx/book_sync.hpp"
#include "hftx/venue/okx/md_parser.hpp"

namespace hftx::venue::okx {

using book::CrossedPolicy;

// A replay's books publish their top only (nothing reads levels from other threads), with a dense window of
// 2^14 ticks: OKX sends at most 400 levels a side, and a replay holds a book per instrument.
using ReplayBook = book::BasicL2Book<0>;
using ReplaySync = BasicBookSync<ReplayBook>;
inline constexpr unsigned kReplayWindowBits = 14;

// An instrument's tick and lot, given.
struct InstrumentSteps {
  std::string inst_id;
  std::string price_step;
  std::string qty_step;
};

struct ReplayOptions {
  std::vector<InstrumentSteps> steps;  // per instrument; the others use price_step / qty_step
  std::string price_step;              // every other instrument; "" : inferred per instrument
  std::string qty_step;
  CrossedPolicy crossed_policy = CrossedPolicy::keep_and_flag;
  bool books_only = false;      // trade lines skipped unparsed (skipped_lines, books_only)
  bool defer_checksum = false;  // the sync checks each checksum after publishing (BasicBookSync::verify_pending)
  std::size_t max_levels_per_message = 1u << 16;
  SyncConfig sync{};
};

// Why a line was skipped.
enum class SkipReason : std::uint8_t { empty, http_body, other_channel, books_only, other_book_channel, count_ };
[[nodiscard]] constexpr std::string_view to_string(SkipReason r) noexcept {
  switch (r) {
    case SkipReason::empty: return "empty";
    case SkipReason::http_body: return "http_body";
    case SkipReason::other_channel: return "other_channel";
    case SkipReason::books_only: return "books_only";
    case SkipReason::other_book_channel: return "other_book_channel";
    case SkipReason::count_: break;
  }
  return "unknown";
}
inline constexpr std::size_t kSkipReasons = static_cast<std::size_t>(SkipReason::count_);

// One instrument as the pre-pass found it.
struct InstrumentSpec {
  std::string inst_id;
  std::string book_channel;  // "" : trades only
  Scale price;
  Scale qty;
};

struct InstrumentStats {
  std::uint64_t messages = 0;      // parsed successfully
  std::uint64_t snapshots = 0;
  std::uint64_t updates = 0;
  std::uint64_t trades = 0;        // trades (a message may carry several)
  std::uint64_t trade_messages = 0;
  std::uint64_t parse_errors = 0;
  std::uint64_t crossed = 0;       // snapshots loaded or updates applied after which the book was crossed
};

struct ReplayStats {
  std::uint64_t lines = 0;
  std::uint64_t bytes = 0;
  std::uint64_t messages = 0;        // parsed and replayed
  std::uint64_t control_lines = 0;   // connection_lines + sent_lines + events + pongs
  std::uint64_t connection_lines = 0;
  std::uint64_t sent_lines = 0;
  std::uint64_t events = 0;
  std::uint64_t event_errors = 0;    // events of type "error"
  std::uint64_t pongs = 0;
  std::uint64_t skipped_lines = 0;
  std::array<std::uint64_t, kSkipReasons> skipped{};  // by SkipReason
  std::uint64_t parse_errors = 0;    // bad lines included
  std::uint64_t bad_lines = 0;       // neither format
  std::array<std::uint64_t, static_cast<std::size_t>(md::ParseStatus::count_)> errors_by_status{};
  std::uint64_t snapshots = 0;
  std::uint64_t updates = 0;
  std::uint64_t trades = 0;
  std::uint64_t cryptofeed_lines = 0;  // lines in cryptofeed's format
  std::int64_t elapsed_ns = 0;         // replay_files() / replay_lines(): wall time of the replay pass
  std::string first_parse_error;       // description of the first parse error (set once)
};

class Replayer {
 public:
  // One replay state per instrument (its parser, book and sync); instruments not listed are parse errors.
  explicit Replayer(std::span<const InstrumentSpec> instruments, const ReplayOptions& opts = {});
  Replayer(const Replayer&) = delete;
  Replayer& operator=(const Replayer&) = delete;

  struct Instrument {
    Instrument(const InstrumentSpec& s, const ReplayOptions& opts);
    InstrumentSpec spec;
    MdParser parser;
    ReplayBook book;
    ReplaySync sync;
    InstrumentStats stats;
  };

  // One recorded line, readable up to line.data() + capacity (see md::RecordedLine).
  md::ParseResult feed_line(std::string_view line, std::size_t capacity);
  // One received message with our receive time.
  md::ParseResult feed_message(std::string_view json, std::size_t capacity, std::int64_t recv_ns);

  // New books and statistics (same instruments and options, capacities kept): replaying again after warm-up.
  void reset();

  [[nodiscard]] const ReplayStats& stats() const noexcept { return stats_; }
  [[nodiscard]] std::span<const std::unique_ptr<Instrument>> instruments() const noexcept { return instruments_; }
  // The instrument named inst_id, or nullptr.
  [[nodiscard]] Instrument* find(std::string_view inst_id) noexcept;
  [[nodiscard]] const Instrument* find(std::string_view inst_id) const noexcept;
  [[nodiscard]] const md::MdMessage& last_message() const noexcept { return msg_; }

 private:
  md::ParseResult error(const md::ParseResult& r, Instrument* inst);
  void skip(SkipReason why) noexcept;

  ReplayOptions opts_;
  std::vector<std::unique_ptr<Instrument>> instruments_;
  std::vector<std::pair<std::string_view, Instrument*>> by_name_;  // sorted by name
  MdParser probe_;  // names the error of a message no instrument takes
  std::vector<md::Level> levels_;
  md::MdMessage msg_;
  ReplayStats stats_;
};

// The pre-pass: every instrument with book or trade data in the lines (in order of appearance), its book
// channel and its steps (given in opts, else inferred: the finest decimals its prices and sizes are written
// with). Throws ConfigError for a given step that is not a valid step, or an inferred one finer than 10^-18.
[[nodiscard]] std::vector<InstrumentSpec> scan_instruments(std::span<const std::string_view> lines,
                                                           const ReplayOptions& opts = {});
[[nodiscard]] std::vector<InstrumentSpec> scan_instrument_files(std::span<const std::string> paths,
                                                                const ReplayOptions& opts = {});

struct InstrumentResult {
  InstrumentSpec spec;
  InstrumentStats stats;
  SyncStats sync;
  OkxSyncStats okx;
  md::ParserStats parser;
  std::size_t bid_levels = 0, ask_levels = 0;
  md::Level best_bid, best_ask;
  bool crossed_at_end = false;
  SyncState final_state = SyncState::awaiting_snapshot;
};

struct ReplayResult {
  ReplayStats stats;
  std::vector<InstrumentResult> instruments;
  SyncStats sync;           // summed over the instruments
  md::ParserStats parser;   // summed (by_status / by_kind / fallbacks)
};
[[nodiscard]] ReplayResult result_of(const Replayer& r);

// Replays files in order (streaming decompression; the pre-pass reads them once more first).
[[nodiscard]] ReplayResult replay_files(std::span<const std::string> paths, const ReplayOptions& opts = {});
// Same, over lines already in memory (e.g. from Python), read in place.
[[nodiscard]] ReplayResult replay_lines(std::span<const std::string_view> lines, const ReplayOptions& opts = {});

}  // namespace hftx::venue::okx
