// hftx/venue/binance/book_sync.hpp — Binance's depth-book synchronisation (snapshot + diff stream), in the
// neutral words of book/sync.hpp.
//
// Threading contract: single-threaded; the thread that owns the book calls on_diff()/on_snapshot()/poll().
// Callbacks run on that thread. Readers on other threads read the book's published top (L2Book::top()).
//
// The rules (Binance's published procedures):
//  - spot (U/u): buffer diffs until the snapshot; drop diffs with u <= lastUpdateId; the first applied diff
//    must contain lastUpdateId + 1 (U <= lastUpdateId + 1 <= u); each next one has U == prev_u + 1.
//  - USD-M / COIN-M futures (U/u/pu): drop u < lastUpdateId; the first applied diff has
//    U <= lastUpdateId <= u; each next one has pu == prev_u.
// A diff whose u is not past the last applied u is a duplicate or out-of-order replay: dropped and counted,
// not a gap. Any other break is a gap: the book goes back to awaiting_snapshot, the diff is buffered (it
// is newer than anything applied and will bridge the next snapshot), and a new snapshot is requested —
// rate-limited to one request per `min_resnapshot_interval_ns` (a due request that the limit holds back is
// sent by the first on_diff()/poll() after the interval). A request that no snapshot answered within
// `snapshot_timeout_ns` is sent again by on_diff()/poll(), and request_again() asks at once when the request
// channel reconnects: a lost request never leaves the book unsynced for good. Every state change is reported to
// the transition callback.
//
// Buffering: diffs that arrive while the snapshot is pending are copied into buffers reserved at
// construction (no allocation while they fit). When they are full the oldest diffs are discarded
// (counted): if one of them was needed, the first-diff check after the snapshot fails and a new snapshot
// is requested, so discarding is always safe.
#pragma once

#include <algorithm>
#include <cstdint>
#include <functional>
#include <span>
#include <string_view>
#include <vector>

#include "hftx/book/l2_book.hpp"
#include "hftx/book/sync.hpp"
#include "hftx/md/events.hpp"
#include "hftx/memory/prefault.hpp"
#include "hftx/venue/binance/markets.hpp"
#include "hftx/venue/binance/md_parser.hpp"

namespace hftx::venue::binance {

using book::ApplyResult;
using book::DiffOutcome;
using book::L2Book;
using book::SnapshotRequests;
using book::SyncConfig;
using book::SyncReason;
using book::SyncState;
using book::SyncStats;
using book::SyncTransition;
using book::kTopSynced;
using book::TopOfBook;
using md::Level;

template <class Book = L2Book>
class BasicBookSync {
 public:
  using TransitionFn = std::function<void(const SyncTransition&)>;
  using RequestFn = SnapshotRequests::RequestFn;

  BasicBookSync(Book& book, Market market, SyncConfig cfg = {})
      : book_(book), market_(market), cfg_(cfg), requests_(cfg) {
    // A quarter more than the bounds: diffs dropped from the front leave a dead prefix that is reclaimed
    // only when the storage runs out (see make_room), so that a full buffer costs O(1) per diff amortized
    // (at most 4 levels moved per level dropped), not a move of the whole buffer on every diff.
    // Mapped now: the buffer fills during a resync, when the book is already late.
    reserve_mapped(buf_, with_slack(cfg_.buffer_diffs));
    reserve_mapped(buf_levels_, with_slack(cfg_.buffer_levels));
  }

  // Setup: callbacks (run on the owner's thread; keep them short).
  void on_transition(TransitionFn f) { transition_fn_ = std::move(f); }
  void on_snapshot_request(RequestFn f) { requests_.set_callback(std::move(f)); }

  [[nodiscard]] Market market() const noexcept { return market_; }
  // The market may change until the first snapshot is loaded (replay recognises it from the first diff).
  void set_market(Market m) noexcept { market_ = m; }
  [[nodiscard]] SyncState state() const noexcept { return state_; }
  [[nodiscard]] const SyncStats& stats() const noexcept { return stats_; }
  [[nodiscard]] std::uint64_t last_update_id() const noexcept { return last_u_; }
  [[nodiscard]] bool synced() const noexcept { return state_ == SyncState::synced; }

  // Whether predict_top() can read this market's diffs best first (the bid order is known).
  [[nodiscard]] bool predicts_top() const noexcept { return diff_bid_order(market_) != BidOrder::unknown; }
  // Whether on_diff() would apply this diff now: the book is synced and the diff continues it. A caller may
  // then act on the top it leaves (predict_top()) before handing it to on_diff().
  [[nodiscard]] bool continues(const md::DepthUpdate& d) const noexcept {
    return state_ == SyncState::synced && d.last_id > last_u_ && follows(d.first_id, d.prev_last_id, d.has_prev);
  }
  // Top first: the top that on_diff() of the diff `parser` just read deferred (parse_deferred(); `d` is its
  // message's depth) will leave, into out's prices and quantities. True when the diff continues the book and
  // its best levels, read in the market's order (diff_bid_order()), settle the top (BasicL2Book::
  // predict_top()); false otherwise, and then the diff is to be read and applied before acting on it.
  [[nodiscard]] bool predict_top(const MdParser& parser, const md::DepthUpdate& d, TopOfBook& out) const {
    const BidOrder order = diff_bid_order(market_);
    if (!parser.deferred() || order == BidOrder::unknown || !continues(d)) return false;
    using LevelOrder = MdParser::LevelOrder;
    MdParser::LevelReader bids =
        parser.deferred_bids(order == BidOrder::rising ? LevelOrder::reversed : LevelOrder::as_sent);
    MdParser::LevelReader asks = parser.deferred_asks();
    return book_.predict_top([&bids](md::Level& l) { return bids.next(l); },
                             [&asks](md::Level& l) { return asks.next(l); }, out) &&
           !bids.failed() && !asks.failed();
  }
  // Asks for the initial snapshot (rate limit applies). Call once when the stream starts.
  void start(std::int64_t now_ns) { request(now_ns); }

  // Back to awaiting_snapshot with an empty buffer (a reconnect). Does not request.
  void reset(std::int64_t now_ns = 0) {
    clear_buffer();
    transition(SyncState::awaiting_snapshot, SyncReason::reset, 0, 0, 0, now_ns);
  }

  // Forgets everything but the callbacks and capacities: a fresh start (statistics included).
  void restart(Market m) {
    market_ = m;
    state_ = SyncState::awaiting_snapshot;
    last_u_ = 0;
    requests_.clear();
    clear_buffer();
    stats_ = SyncStats{};
  }

  // Sends a request held back by the rate limit once the interval has passed, and asks again when a snapshot
  // awaited since the last request has not come in snapshot_timeout_ns.
  void poll(std::int64_t now_ns) { requests_.poll(now_ns, state_ == SyncState::awaiting_snapshot, stats_); }

  // The channel snapshots are requested on is back (its connection reopened): a snapshot still awaited is asked
  // for again (rate limit applies), since a request made while it was down, or in flight when it dropped, is
  // lost.
  void request_again(std::int64_t now_ns) {
    if (state_ == SyncState::awaiting_snapshot) request(now_ns);
  }

  DiffOutcome on_diff(const md::MdMessage& m) {
    const md::DepthUpdate& d = m.depth;
    ++stats_.diffs;
    poll(m.recv_ns);
    switch (state_) {
      case SyncState::awaiting_snapshot:
        buffer(d, m.recv_ns);
        return DiffOutcome::buffered;
      case SyncState::awaiting_first_diff:
        return first_diff(d.first_id, d.last_id, d.bids, d.asks, m.recv_ns);
      case SyncState::synced:
        return next_diff(d.first_id, d.last_id, d.prev_last_id, d.has_prev, d.bids, d.asks, m.recv_ns);
    }
    return DiffOutcome::duplicate;
  }

  // A depth snapshot (REST or WebSocket API). Loaded when a snapshot is awaited, else ignored (counted).
  void on_snapshot(const md::MdMessage& m) {
    if (state_ != SyncState::awaiting_snapshot) {
      ++stats_.snapshots_ignored;
      return;
    }
    const std::uint64_t luid = m.snapshot.last_update_id;
    book_.load_snapshot(m.snapshot.bids, m.snapshot.asks, luid);
    ++stats_.snapshots;
    requests_.answered();
    last_u_ = luid;
    transition(SyncState::awaiting_first_diff, SyncReason::snapshot_loaded, 0, 0, luid, m.recv_ns);
    book_.publish(m.recv_ns, 0);
    // Replay the buffered diffs through the normal rules (from_buffer: a gap among them does not buffer
    // again; the loop stops and the gap diff and everything after it stay buffered).
    std::size_t i = head_;
    const std::size_t n = buf_.size();
    for (; i < n && state_ != SyncState::awaiting_snapshot; ++i) {
      const Buffered& b = buf_[i];
      const std::span<const Level> bids(buf_levels_.data() + b.offset, b.n_bids);
      const std::span<const Level> asks(buf_levels_.data() + b.offset + b.n_bids, b.n_asks);
      if (state_ == SyncState::awaiting_first_diff)
        (void)first_diff_buffered(b, bids, asks);
      else
        (void)next_diff(b.first_id, b.last_id, b.prev_last_id, b.has_prev, bids, asks, b.recv_ns, true);
    }
    if (state_ == SyncState::awaiting_snapshot) {
      // A gap at buffered diff i-1: it and everything after it stay buffered.
      drop_front(i - 1 - head_);
    } else {
      clear_buffer();
    }
  }

 private:
  struct Buffered {
    std::uint64_t first_id, last_id, prev_last_id;
    std::int64_t recv_ns;
    std::uint32_t offset, n_bids, n_asks;
    bool has_prev;
  };

  [[nodiscard]] bool futures() const noexcept { return market_ != Market::spot; }
  // A diff (U, pu) continues the last one applied.
  [[nodiscard]] bool follows(std::uint64_t U, std::uint64_t pu, bool has_pu) const noexcept {
    return futures() && has_pu ? pu == last_u_ : U == last_u_ + 1;
  }

  DiffOutcome first_diff_buffered(const Buffered& b, std::span<const Level> bids, std::span<const Level> asks) {
    return first_diff(b.first_id, b.last_id, bids, asks, b.recv_ns, true);
  }

  DiffOutcome first_diff(std::uint64_t U, std::uint64_t u, std::span<const Level> bids, std::span<const Level> asks,
                         std::int64_t recv_ns, bool from_buffer = false) {
    const std::uint64_t L = last_u_;  // the snapshot's lastUpdateId
    if (futures() ? u < L : u <= L) {
      ++stats_.dropped_old;
      return DiffOutcome::dropped_old;
    }
    const bool bridges = futures() ? (U <= L && L <= u) : (U <= L + 1 && L + 1 <= u);
    if (!bridges) {
      ++stats_.gaps;
      transition(SyncState::awaiting_snapshot, SyncReason::snapshot_too_old, futures() ? L : L + 1, U, u, recv_ns);
      if (!from_buffer) buffer_raw(U, u, 0, false, bids, asks, recv_ns);
      request(recv_ns);
      return DiffOutcome::gap;
    }
    apply(u, bids, asks, recv_ns);
    transition(SyncState::synced, SyncReason::bridged, 0, U, u, recv_ns);
    publish(recv_ns);
    return DiffOutcome::applied;
  }

  DiffOutcome next_diff(std::uint64_t U, std::uint64_t u, std::uint64_t pu, bool has_pu, std::span<const Level> bids,
                        std::span<const Level> asks, std::int64_t recv_ns, bool from_buffer = false) {
    if (u <= last_u_) {
      ++stats_.duplicates;
      return DiffOutcome::duplicate;
    }
    if (!follows(U, pu, has_pu)) {
      ++stats_.gaps;
      const std::uint64_t expected = futures() && has_pu ? last_u_ : last_u_ + 1;
      transition(SyncState::awaiting_snapshot, SyncReason::gap, expected, U, u, recv_ns);
      publish(recv_ns);  // readers see the book is no longer in sync
      if (!from_buffer) buffer_raw(U, u, pu, has_pu, bids, asks, recv_ns);
      request(recv_ns);
      return DiffOutcome::gap;
    }
    apply(u, bids, asks, recv_ns);
    publish(recv_ns);
    return DiffOutcome::applied;
  }

  HFTX_FORCE_INLINE void apply(std::uint64_t u, std::span<const Level> bids, std::span<const Level> asks,
                               std::int64_t) {
    const ApplyResult r = book_.apply(bids, asks, u);
    last_u_ = u;
    ++stats_.applied;
    stats_.level_updates += r.updates;
    if (HFTX_UNLIKELY(r.crossed)) {
      ++stats_.crossed;
      stats_.dropped_stale_levels += r.dropped_stale;
    }
  }

  HFTX_FORCE_INLINE void publish(std::int64_t recv_ns) noexcept {
    book_.publish(recv_ns, state_ == SyncState::synced ? kTopSynced : 0u);
  }

  void buffer(const md::DepthUpdate& d, std::int64_t recv_ns) {
    buffer_raw(d.first_id, d.last_id, d.prev_last_id, d.has_prev, d.bids, d.asks, recv_ns);
  }

  void buffer_raw(std::uint64_t U, std::uint64_t u, std::uint64_t pu, bool has_pu, std::span<const Level> bids,
                  std::span<const Level> asks, std::int64_t recv_ns) {
    const std::size_t need = bids.size() + asks.size();
    if (need > cfg_.buffer_levels) {  // can never fit: discard everything, the next check will resync
      stats_.buffer_overflows += live_diffs() + 1;
      clear_buffer();
      return;
    }
    // The oldest go until the new one fits the bounds.
    std::size_t drop = 0;
    std::size_t freed = 0;
    const std::size_t live = live_diffs(), live_levels = live_level_count();
    while (drop < live && (live - drop >= cfg_.buffer_diffs || live_levels - freed + need > cfg_.buffer_levels)) {
      freed += buf_[head_ + drop].n_bids + buf_[head_ + drop].n_asks;
      ++drop;
    }
    if (drop > 0) {
      stats_.buffer_overflows += drop;
      drop_front(drop);
    }
    make_room(need);
    Buffered b{U, u, pu, recv_ns, static_cast<std::uint32_t>(buf_levels_.size()),
               static_cast<std::uint32_t>(bids.size()), static_cast<std::uint32_t>(asks.size()), has_pu};
    buf_levels_.insert(buf_levels_.end(), bids.begin(), bids.end());
    buf_levels_.insert(buf_levels_.end(), asks.begin(), asks.end());
    buf_.push_back(b);
    ++stats_.buffered;
  }

  // The live buffered diffs are buf_[head_, size); the ones before head_ were dropped and their storage is
  // reclaimed by make_room.
  [[nodiscard]] std::size_t live_diffs() const noexcept { return buf_.size() - head_; }
  [[nodiscard]] std::size_t live_level_count() const noexcept {
    return head_ < buf_.size() ? buf_levels_.size() - buf_[head_].offset : 0;
  }
  void clear_buffer() noexcept {
    buf_.clear();
    buf_levels_.clear();
    head_ = 0;
  }
  // Discards the k oldest live diffs: O(1).
  void drop_front(std::size_t k) noexcept {
    head_ += k;
    if (head_ >= buf_.size()) clear_buffer();
  }
  static std::size_t with_slack(std::size_t bound) noexcept { return bound + std::max<std::size_t>(1, bound / 4); }
  // Before appending a diff of `need` levels (within the bounds): when the storage (the bounds plus a
  // quarter) has no room left, the live diffs move to the front. The dead prefix is then more than the
  // slack, so the move costs O(1) per dropped level amortized, and the vectors never reallocate.
  void make_room(std::size_t need) {
    if (buf_.size() < buf_.capacity() && buf_levels_.size() + need <= buf_levels_.capacity()) return;
    if (head_ == 0) return;
    const std::uint32_t base = buf_[head_].offset;
    buf_levels_.erase(buf_levels_.begin(), buf_levels_.begin() + base);
    buf_.erase(buf_.begin(), buf_.begin() + static_cast<std::ptrdiff_t>(head_));
    for (Buffered& b : buf_) b.offset -= base;
    head_ = 0;
  }

  void request(std::int64_t now_ns) { requests_.request(now_ns, stats_); }

  void transition(SyncState to, SyncReason why, std::uint64_t expected, std::uint64_t U, std::uint64_t u,
                  std::int64_t recv_ns) {
    const SyncTransition t{state_, to, why, expected, U, u, recv_ns};
    state_ = to;
    if (transition_fn_) transition_fn_(t);
  }

  Book& book_;
  Market market_;
  SyncConfig cfg_;
  SyncState state_ = SyncState::awaiting_snapshot;
  std::uint64_t last_u_ = 0;
  SnapshotRequests requests_;
  std::vector<Buffered> buf_;
  std::vector<Level> buf_levels_;
  std::size_t head_ = 0;  // first live entry of buf_
  SyncStats stats_;
  TransitionFn transition_fn_;
};

using BookSync = BasicBookSync<L2Book>;

}  // namespace hftx::venue::binance
