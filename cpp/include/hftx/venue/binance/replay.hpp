// hftx/venue/binance/replay.hpp — replay recorded Binance streams through parser -> venue sync -> L2 book.
//
// Threading contract: a Replayer is single-threaded (one owner thread); its book's published top (top(),
// not levels: a ReplayBook publishes none) may be read from other threads as documented in l2_book.hpp.
// replay_files() runs on the calling thread.
//
// Input: the hftbacktest collector format, one record per line: `<local_receive_time_ns> <raw JSON>`
// (gzip files; several files in order continue one book). The market (spot / USD-M / COIN-M) is
// recognised from the first depth diff (`pu` present -> futures; a `_` in the symbol -> COIN-M) unless
// given. Prices and quantities use the instrument's tick and quantity step: given, or inferred from the
// first messages (infer_scales()).
//
// Checks made while replaying (the facts the recorded data must reproduce): continuity breaks (sync gaps),
// crossed books, the bookTicker check (after each applied diff, the best bid/ask — price and quantity —
// equals every bookTicker carrying the same update id u, whichever arrives first), trade-id gaps.
//
// After warm-up (the book and buffers grown to the data's size) feeding messages performs no heap
// allocation.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "hftx/book/l2_book.hpp"
#include "hftx/md/recording.hpp"
#include "hftx/venue/binance/book_sync.hpp"
#include "hftx/venue/binance/md_parser.hpp"

namespace hftx::venue::binance {

using book::CrossedPolicy;

// A replay's book publishes its top only: the replaying thread reads the levels it wants from the book
// itself, and copying ten levels per side for other threads after every diff was ~8% of a replay.
using ReplayBook = book::BasicL2Book<0>;
using ReplaySync = BasicBookSync<ReplayBook>;

struct ReplayOptions {
  std::optional<Market> market;      // nullopt: recognised from the messages
  std::string price_step;            // "" : inferred from the data
  std::string qty_step;              // "" : inferred from the data
  CrossedPolicy crossed_policy = CrossedPolicy::keep_and_flag;
  // Books only: combined-stream lines whose stream is not a depth stream (bookTicker, trades) are skipped
  // by their stream name, unparsed (counted in skipped_lines); no bookTicker check, no trade-id check.
  bool books_only = false;
  std::size_t max_levels_per_message = 1u << 16;
  SyncConfig sync{};
};

struct TickerMismatch {
  std::uint64_t update_id = 0;
  std::int64_t ticker_bid = 0, ticker_bid_qty = 0, ticker_ask = 0, ticker_ask_qty = 0;
  std::int64_t book_bid = 0, book_bid_qty = 0, book_ask = 0, book_ask_qty = 0;
};

struct ReplayStats {
  std::uint64_t lines = 0;
  std::uint64_t bytes = 0;
  std::uint64_t messages = 0;       // parsed successfully
  std::uint64_t parse_errors = 0;
  std::uint64_t bad_lines = 0;      // no `<ns> ` prefix
  std::uint64_t skipped_lines = 0;  // books_only: lines of other streams, not parsed
  std::uint64_t depth_updates = 0;
  std::uint64_t snapshots = 0;
  std::uint64_t book_tickers = 0;
  std::uint64_t tickers_checked = 0;
  std::uint64_t ticker_mismatches = 0;
  std::uint64_t trades = 0;
  std::uint64_t trade_id_gaps = 0;     // trades whose id skips past last + 1
  std::uint64_t trade_id_backwards = 0;  // duplicate / out-of-order ids
  std::uint64_t agg_trades = 0;
  std::uint64_t agg_id_gaps = 0;
  std::uint64_t crossed_seen = 0;       // applied diffs after which the book was crossed
  std::int64_t elapsed_ns = 0;          // replay_files(): wall time of the replay
  std::optional<TickerMismatch> first_mismatch;
  std::string first_parse_error;        // description of the first parse error (set once)
};

class Replayer {
 public:
  Replayer(Scale price_scale, Scale qty_scale, const ReplayOptions& opts = {});
  Replayer(const Replayer&) = delete;
  Replayer& operator=(const Replayer&) = delete;

  // One recorded line `<ns> <json>` whose buffer is readable up to line.data() + capacity. Stream messages
  // are read in place whatever the capacity (the parser's fast scanner needs no padding); a message the
  // scanner leaves to simdjson is copied unless capacity >= line.size() + md::kJsonPadding. books_only:
  // a line of another stream than depth is counted (skipped_lines) and not parsed.
  md::ParseResult feed_line(std::string_view line, std::size_t capacity);
  // One message with our receive time.
  md::ParseResult feed_message(std::string_view json, std::size_t capacity, std::int64_t recv_ns);

  // A new book (same options, capacities kept): for replaying again after warm-up.
  void reset();

  [[nodiscard]] const ReplayStats& stats() const noexcept { return stats_; }
  [[nodiscard]] const ReplayBook& book() const noexcept { return book_; }
  [[nodiscard]] const ReplaySync& sync() const noexcept { return sync_; }
  [[nodiscard]] ReplaySync& sync() noexcept { return sync_; }
  [[nodiscard]] const MdParser& parser() const noexcept { return parser_; }
  [[nodiscard]] std::optional<Market> market() const noexcept { return market_; }
  [[nodiscard]] const md::MdMessage& last_message() const noexcept { return msg_; }

 private:
  struct PendingTicker {
    std::uint64_t u;
    std::int64_t bid, bid_qty, ask, ask_qty;
  };
  void on_ticker(const md::BookTicker& t);
  void check_pending(std::uint64_t u);
  void compare(const PendingTicker& t);

  // An array allocated here and first written when used: zeroing the level buffer and the bookTicker ring
  // up front (1.6 MB) cost each replay_lines() call a few hundred microseconds of page faults. T is trivially
  // copyable and destructible, so the allocation creates its objects implicitly (as malloc's memory does).
  template <class T>
  class Untouched {
    static_assert(std::is_trivially_copyable_v<T> && std::is_trivially_destructible_v<T>);

   public:
    explicit Untouched(std::size_t n) : p_(static_cast<T*>(::operator new(n * sizeof(T)))), n_(n) {}
    ~Untouched() { ::operator delete(p_); }
    Untouched(const Untouched&) = delete;
    Untouched& operator=(const Untouched&) = delete;
    T& operator[](std::size_t i) noexcept { return p_[i]; }
    [[nodiscard]] std::size_t size() const noexcept { return n_; }
    [[nodiscard]] std::span<T> span() noexcept { return {p_, n_}; }

   private:
    T* p_;
    std::size_t n_;
  };

  ReplayOptions opts_;
  MdParser parser_;
  ReplayBook book_;
  ReplaySync sync_;
  std::optional<Market> market_;
  Untouched<md::Level> levels_;
  md::MdMessage msg_;
  ReplayStats stats_;
  // bookTickers not yet matched by an applied diff (ring, oldest first).
  Untouched<PendingTicker> pending_;
  std::size_t pending_head_ = 0;
  std::size_t pending_size_ = 0;
  std::uint64_t last_trade_id_ = 0;
  std::uint64_t last_agg_id_ = 0;
};

// Tick and quantity step inferred from sample messages or lines: the price step from the finest decimal
// place any price uses (significant digits), the quantity step from the decimals the venue writes (at most
// 8). Throws ConfigError when the lines hold no price.
struct InferredScales {
  Scale price;
  Scale qty;
};
[[nodiscard]] InferredScales infer_scales(std::span<const std::string_view> lines);

// Replays files in order into one book (streaming decompression, no per-message copy).
struct ReplayResult {
  ReplayStats stats;
  SyncStats sync;
  md::ParserStats parser;
  Market market = Market::spot;
  std::string price_step, qty_step;
  std::size_t bid_levels = 0, ask_levels = 0;
  md::Level best_bid, best_ask;
  bool crossed_at_end = false;
  SyncState final_state = SyncState::awaiting_snapshot;
};
[[nodiscard]] ReplayResult replay_files(std::span<const std::string> paths, const ReplayOptions& opts = {});

// Same, over lines already in memory (e.g. from Python): each line is copied once into a padded buffer.
[[nodiscard]] ReplayResult replay_lines(std::span<const std::string_view> lines, const ReplayOptions& opts = {});

}  // namespace hftx::venue::binance
