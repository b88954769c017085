// hftx/venue/okx/book_sync.hpp — OKX's order-book synchronisation (a snapshot in the stream, then updates checked
// by checksum and sequence), in the neutral words of book/sync.hpp and with binance::BasicBookSync's shape, so a
// session drives both the same way.
//
// Threading contract: single-threaded; the thread that owns the book calls on_diff()/on_snapshot()/poll()/
// verify_pending(). Callbacks run on that thread. Readers on other threads read the book's published top
// (L2Book::top(); kTopSynced says the sync stands behind it).
//
// The rules (OKX v5, order book channels):
//  - A book starts from a snapshot in the stream (action "snapshot": sent after each subscription; books5 and
//    bbo-tbt send nothing else). A snapshot is always loaded, whatever the state: OKX sends one whenever the
//    channel is subscribed again. Updates that come with no snapshot to apply them to (before the first, or
//    after the sync broke and until the next) are dropped and counted (dropped_old, DiffOutcome::dropped_old):
//    OKX's next snapshot is whole, so nothing is buffered.
//  - checksum: after every message that carries a non-zero one, the CRC32 of the book's top 25 levels
//    (checksum.hpp) must equal it (checksums_checked, checksum_mismatches; a mismatch also counts in gaps).
//  - seqId / prevSeqId, where the messages carry them: each update's prevSeqId is the seqId of the message
//    before it (the snapshot's seqId for the first). That one rule also covers OKX's two exceptions: an update
//    whose seqId equals its prevSeqId is a heartbeat (no change: OKX sends one, with empty asks and bids, when a
//    book has been quiet), and an update whose seqId is smaller than its prevSeqId follows a sequence reset
//    after maintenance (later updates continue from the new seqId); both are applied and counted (okx_stats()).
//    A prevSeqId that is not the last seqId is a gap. (Recordings from before seqId existed carry neither:
//    then only the checksum is checked.)
// A mismatch or a gap moves the book to awaiting_snapshot (reason checksum_mismatch or gap), publishes the top
// without kTopSynced, and asks for a new snapshot: the request callback resubscribes the instrument's book
// channel (stream.hpp's encode_resubscribe()). Requests go through book::SnapshotRequests: rate-limited to one
// per min_resnapshot_interval_ns (a held-back request is sent by poll() or the next message after the
// interval), and asked again when no snapshot came in snapshot_timeout_ns.
//
// Checksum off the critical path: with set_defer_checksum(true), a message's checksum is not computed by
// on_diff()/on_snapshot(): the book is applied and published (kTopSynced) at once, so the session can act on the
// new top, and the check waits for verify_pending(now), to be called just after (the CRC of 100 formatted
// numbers costs about a microsecond). A pending check is also made before the next message is taken, so it is
// never skipped. The default (false) checks at once (replay).
//
// No allocation per message (the checksum text is built on the stack; its writer's tables are allocated here).
#pragma once

#include <cstdint>
#include <functional>

#include "hftx/book/l2_book.hpp"
#include "hftx/book/sync.hpp"
#include "hftx/core/fixed_point.hpp"
#include "hftx/md/events.hpp"
#include "hftx/venue/okx/checksum.hpp"

namespace hftx::venue::okx {

using book::DiffOutcome;
using book::L2Book;
using book::SnapshotRequests;
using book::SyncConfig;
using book::SyncReason;
using book::SyncState;
using book::SyncStats;
using book::SyncTransition;
using book::kTopSynced;

// What only OKX's rules count (the rest is in SyncStats).
struct OkxSyncStats {
  std::uint64_t heartbeats = 0;       // updates with seqId == prevSeqId (no change)
  std::uint64_t sequence_resets = 0;  // updates with seqId < prevSeqId (after maintenance)
};

template <class Book = L2Book>
class BasicBookSync {
 public:
  using TransitionFn = std::function<void(const SyncTransition&)>;
  using RequestFn = SnapshotRequests::RequestFn;

  // The instrument's tick and lot: the scales its parser uses (the checksum is computed on their text).
  BasicBookSync(Book& book, Scale price_scale, Scale qty_scale, SyncConfig cfg = {})
      : book_(book), checksum_(price_scale, qty_scale), requests_(cfg) {}

  // Setup: callbacks (run on the owner's thread; keep them short).
  void on_transition(TransitionFn f) { transition_fn_ = std::move(f); }
  // Asked for a new snapshot: resubscribe the instrument's book channel.
  void on_snapshot_request(RequestFn f) { requests_.set_callback(std::move(f)); }

  // Checks after the book is published instead of before (see the header comment); default false.
  void set_defer_checksum(bool on) noexcept { defer_ = on; }
  [[nodiscard]] bool defer_checksum() const noexcept { return defer_; }

  [[nodiscard]] SyncState state() const noexcept { return state_; }
  [[nodiscard]] bool synced() const noexcept { return state_ == SyncState::synced; }
  [[nodiscard]] const SyncStats& stats() const noexcept { return stats_; }
  [[nodiscard]] const OkxSyncStats& okx_stats() const noexcept { return okx_stats_; }
  // The seqId of the last message applied (0 where the messages carry none).
  [[nodiscard]] std::uint64_t last_update_id() const noexcept { return last_seq_; }
  [[nodiscard]] const Scale& price_scale() const noexcept { return checksum_.price_scale(); }
  [[nodiscard]] const Scale& qty_scale() const noexcept { return checksum_.qty_scale(); }

  // Asks for the first snapshot (rate limit applies): the callback subscribes the book channel. Call once when
  // the stream starts (a session whose connect already subscribed may skip it; poll()'s timeout then starts
  // with the first request).
  void start(std::int64_t now_ns) { request(now_ns); }

  // Back to awaiting_snapshot (a reconnect: the new connection's subscription brings the snapshot). Does not
  // request. A pending check is dropped: the book it was for is gone.
  void reset(std::int64_t now_ns = 0) {
    pending_ = false;
    transition(SyncState::awaiting_snapshot, SyncReason::reset, 0, 0, 0, now_ns);
    publish(now_ns);
  }

  // Forgets everything but the callbacks and the settings: a fresh start (statistics included).
  void restart() {
    state_ = SyncState::awaiting_snapshot;
    last_seq_ = 0;
    seq_known_ = false;
    pending_ = false;
    requests_.clear();
    stats_ = SyncStats{};
    okx_stats_ = OkxSyncStats{};
  }

  // Sends a request the rate limit held back once the interval has passed, and asks again when a snapshot
  // awaited since the last request has not come in snapshot_timeout_ns.
  void poll(std::int64_t now_ns) { requests_.poll(now_ns, state_ == SyncState::awaiting_snapshot, stats_); }

  // The connection that carries the subscription is back: a snapshot still awaited is asked for again (rate limit
  // applies).
  void request_again(std::int64_t now_ns) {
    if (state_ == SyncState::awaiting_snapshot) request(now_ns);
  }

  // An incremental update (MdKind::depth_update).
  DiffOutcome on_diff(const md::MdMessage& m) {
    const md::DepthUpdate& d = m.depth;
    const std::int64_t now = m.recv_ns;
    ++stats_.diffs;
    if (pending_) (void)verify_pending(now);
    poll(now);
    if (state_ != SyncState::synced) {
      ++stats_.dropped_old;
      return DiffOutcome::dropped_old;
    }
    if (d.has_prev && seq_known_) {
      if (d.prev_last_id != last_seq_) {
        ++stats_.gaps;
        lose_sync(SyncReason::gap, last_seq_, d.first_id, d.last_id, now);
        return DiffOutcome::gap;
      }
      if (d.last_id == d.prev_last_id) ++okx_stats_.heartbeats;
      else if (d.last_id < d.prev_last_id) ++okx_stats_.sequence_resets;
    }
    const book::ApplyResult r = book_.apply(d.bids, d.asks, d.last_id);
    ++stats_.applied;
    stats_.level_updates += r.updates;
    if (HFTX_UNLIKELY(r.crossed)) {
      ++stats_.crossed;
      stats_.dropped_stale_levels += r.dropped_stale;
    }
    if (d.has_prev) {
      last_seq_ = d.last_id;
      seq_known_ = true;
    }
    return after_change(d.has_checksum, d.checksum, d.first_id, d.last_id, now) ? DiffOutcome::applied
                                                                                : DiffOutcome::gap;
  }

  // A snapshot (MdKind::depth_snapshot): always loaded.
  void on_snapshot(const md::MdMessage& m) {
    const md::DepthSnapshot& s = m.snapshot;
    const std::int64_t now = m.recv_ns;
    if (pending_) (void)verify_pending(now);  // counted and reported, though the book is replaced
    book_.load_snapshot(s.bids, s.asks, s.last_update_id);
    ++stats_.snapshots;
    requests_.answered();
    last_seq_ = s.last_update_id;
    seq_known_ = s.last_update_id != 0;  // a snapshot without seqId: the next update's prevSeqId is not checked
    if (state_ != SyncState::synced)
      transition(SyncState::synced, SyncReason::snapshot_loaded, 0, s.last_update_id, s.last_update_id, now);
    (void)after_change(s.has_checksum, s.checksum, s.last_update_id, s.last_update_id, now);
  }

  // Whether a deferred check waits for verify_pending().
  [[nodiscard]] bool checksum_pending() const noexcept { return pending_; }

  // Makes the deferred check of the last message, if one waits: true when the book matches its checksum (or
  // nothing waited), false after a mismatch (the book is then awaiting a snapshot, and one was requested).
  bool verify_pending(std::int64_t now_ns) {
    if (!pending_) return true;
    pending_ = false;
    return check(pending_checksum_, pending_first_, pending_last_, now_ns);
  }

 private:
  // After a message changed the book: its checksum checked (now or deferred), then the top published.
  bool after_change(bool has_checksum, std::int32_t checksum, std::uint64_t first, std::uint64_t last,
                    std::int64_t now) {
    if (has_checksum) {
      if (defer_) {
        pending_ = true;
        pending_checksum_ = checksum;
        pending_first_ = first;
        pending_last_ = last;
      } else if (!check(checksum, first, last, now)) {
        return false;
      }
    }
    publish(now);
    return true;
  }

  bool check(std::int32_t expected, std::uint64_t first, std::uint64_t last, std::int64_t now) {
    ++stats_.checksums_checked;
    if (HFTX_LIKELY(checksum_.checksum(book_) == expected)) return true;
    ++stats_.checksum_mismatches;
    ++stats_.gaps;
    lose_sync(SyncReason::checksum_mismatch, static_cast<std::uint32_t>(expected), first, last, now);
    return false;
  }

  void lose_sync(SyncReason why, std::uint64_t expected, std::uint64_t first, std::uint64_t last, std::int64_t now) {
    transition(SyncState::awaiting_snapshot, why, expected, first, last, now);
    publish(now);  // readers see the book is no longer in sync
    request(now);
  }

  HFTX_FORCE_INLINE void publish(std::int64_t recv_ns) noexcept {
    book_.publish(recv_ns, state_ == SyncState::synced ? kTopSynced : 0u);
  }

  void request(std::int64_t now_ns) { requests_.request(now_ns, stats_); }

  void transition(SyncState to, SyncReason why, std::uint64_t expected, std::uint64_t first, std::uint64_t last,
                  std::int64_t recv_ns) {
    const SyncTransition t{state_, to, why, expected, first, last, recv_ns};
    state_ = to;
    if (transition_fn_) transition_fn_(t);
  }

  Book& book_;
  ChecksumWriter checksum_;
  SnapshotRequests requests_;
  SyncState state_ = SyncState::awaiting_snapshot;
  std::uint64_t last_seq_ = 0;
  bool seq_known_ = false;
  bool defer_ = false;
  bool pending_ = false;
  std::int32_t pending_checksum_ = 0;
  std::uint64_t pending_first_ = 0, pending_last_ = 0;
  SyncStats stats_;
  OkxSyncStats okx_stats_;
  TransitionFn transition_fn_;
};

using BookSync = BasicBookSync<L2Book>;

}  // namespace hftx::venue::okx
