// hftx/book/sync.hpp — the vocabulary of keeping a book in step with a venue, shared by every venue's rules.
//
// Threading contract: value types, and SnapshotRequests, which belongs to the thread that owns the book.
//
// Each venue module has its own sync rules (venue/<name>/book_sync.hpp: Binance's snapshot + diff
// continuity, OKX's in-stream snapshot + checksum + sequence); they report in these words, so the session,
// replay and the report read every venue the same way: a state (awaiting a snapshot, awaiting the diff that
// bridges it, synced), the transitions between them with their reason, what happened to each diff, and
// the counts. A book that falls out of step asks for a new snapshot (a request on the venue's API, or a
// resubscription of the stream): SnapshotRequests rate-limits those requests and asks again when none was
// answered in time, the same for every venue.
#pragma once

#include <cstdint>
#include <functional>
#include <string_view>
#include <utility>

namespace hftx::book {

enum class SyncState : std::uint8_t {
  awaiting_snapshot,    // buffering or dropping diffs; a snapshot is (or will be) requested
  awaiting_first_diff,  // snapshot loaded; waiting for the diff that bridges it
  synced,               // applying diffs in sequence
};

[[nodiscard]] constexpr std::string_view to_string(SyncState s) noexcept {
  switch (s) {
    case SyncState::awaiting_snapshot: return "awaiting_snapshot";
    case SyncState::awaiting_first_diff: return "awaiting_first_diff";
    case SyncState::synced: return "synced";
  }
  return "unknown";
}

enum class SyncReason : std::uint8_t {
  snapshot_loaded,     // awaiting_snapshot -> awaiting_first_diff (or synced when a buffered diff bridges it)
  bridged,             // the first diff after the snapshot applied -> synced
  gap,                 // a diff does not continue the previous one -> awaiting_snapshot
  snapshot_too_old,    // the first diff after the snapshot starts past it -> awaiting_snapshot
  reset,               // reset() by the owner
  checksum_mismatch,   // the book after a message differs from the venue's checksum of it -> awaiting_snapshot
};

[[nodiscard]] constexpr std::string_view to_string(SyncReason r) noexcept {
  switch (r) {
    case SyncReason::snapshot_loaded: return "snapshot_loaded";
    case SyncReason::bridged: return "bridged";
    case SyncReason::gap: return "gap";
    case SyncReason::snapshot_too_old: return "snapshot_too_old";
    case SyncReason::reset: return "reset";
    case SyncReason::checksum_mismatch: return "checksum_mismatch";
  }
  return "unknown";
}

struct SyncTransition {
  SyncState from;
  SyncState to;
  SyncReason reason;
  std::uint64_t expected = 0;  // gap: the id that should have come; checksum_mismatch: the venue's checksum (bits)
  std::uint64_t first_id = 0;  // the message that caused it (its first update id)
  std::uint64_t last_id = 0;   // (its last)
  std::int64_t recv_ns = 0;
};

enum class DiffOutcome : std::uint8_t {
  applied,        // applied to the book and published
  buffered,       // kept until the snapshot
  dropped_old,    // older than the snapshot: dropped by the rules
  duplicate,      // not past the last applied id (duplicate / out-of-order): dropped
  gap,            // break in the sequence (or a checksum mismatch): resync started
};

struct SyncStats {
  std::uint64_t diffs = 0;
  std::uint64_t applied = 0;
  std::uint64_t level_updates = 0;  // levels applied
  std::uint64_t buffered = 0;
  std::uint64_t dropped_old = 0;
  std::uint64_t duplicates = 0;
  std::uint64_t gaps = 0;                // continuity breaks (including snapshot_too_old and checksum mismatches)
  std::uint64_t snapshots = 0;           // snapshots loaded
  std::uint64_t snapshots_ignored = 0;   // arrived while synced / awaiting the first diff
  std::uint64_t snapshot_requests = 0;   // requests sent (callback invoked): API requests or resubscriptions
  std::uint64_t requests_deferred = 0;   // requests held back by the rate limit (sent later)
  std::uint64_t snapshot_timeouts = 0;   // requests sent again because no snapshot came in snapshot_timeout_ns
  std::uint64_t buffer_overflows = 0;    // buffered diffs discarded because the buffer was full
  std::uint64_t crossed = 0;             // applied messages after which the book was crossed
  std::uint64_t dropped_stale_levels = 0;
  std::uint64_t checksums_checked = 0;   // venues with a book checksum: messages whose checksum was compared
  std::uint64_t checksum_mismatches = 0;
};

struct SyncConfig {
  std::size_t buffer_diffs = 4096;       // diffs kept while the snapshot is pending
  std::size_t buffer_levels = 1u << 18;  // their levels
  std::int64_t min_resnapshot_interval_ns = 1'000'000'000;  // rate limit of snapshot requests
  // A request that no snapshot answered in this time is sent again (poll()): a request or its answer lost with
  // a connection would otherwise leave the book awaiting a snapshot for good.
  std::int64_t snapshot_timeout_ns = 5'000'000'000;
};

// When to ask the venue for a snapshot: at once, unless one went out less than min_resnapshot_interval_ns ago
// (then when the interval has passed: a venue bans a client that asks in a loop), and again when one awaited
// for snapshot_timeout_ns never came. The owner says when a snapshot is awaited (poll()'s argument) and
// when one arrived (answered()).
class SnapshotRequests {
 public:
  using RequestFn = std::function<void(std::int64_t now_ns)>;

  explicit SnapshotRequests(const SyncConfig& cfg) noexcept
      : min_interval_ns_(cfg.min_resnapshot_interval_ns), timeout_ns_(cfg.snapshot_timeout_ns) {}

  void set_callback(RequestFn f) { fn_ = std::move(f); }

  // Asks now, or as soon as the rate limit allows.
  void request(std::int64_t now_ns, SyncStats& stats) {
    if (last_ns_ != kNever && now_ns - last_ns_ < min_interval_ns_) {
      if (!pending_) ++stats.requests_deferred;
      pending_ = true;
      return;
    }
    pending_ = false;
    last_ns_ = now_ns;
    ++stats.snapshot_requests;
    if (fn_) fn_(now_ns);
  }
  // Sends a request the rate limit held back once the interval has passed; asks again when `awaiting` and the
  // last request is older than the timeout.
  void poll(std::int64_t now_ns, bool awaiting, SyncStats& stats) {
    if (pending_) {
      if (now_ns - last_ns_ >= min_interval_ns_) request(now_ns, stats);
    } else if (awaiting && last_ns_ != kNever && now_ns - last_ns_ >= timeout_ns_) {
      ++stats.snapshot_timeouts;
      request(now_ns, stats);
    }
  }
  // A snapshot came: nothing is owed any more.
  void answered() noexcept { pending_ = false; }
  // Forgets the history (a fresh start).
  void clear() noexcept {
    last_ns_ = kNever;
    pending_ = false;
  }
  [[nodiscard]] bool pending() const noexcept { return pending_; }

 private:
  static constexpr std::int64_t kNever = INT64_MIN;
  std::int64_t min_interval_ns_;
  std::int64_t timeout_ns_;
  std::int64_t last_ns_ = kNever;
  bool pending_ = false;
  RequestFn fn_;
};

}  // namespace hftx::book
