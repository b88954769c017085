// hftx/oms/order.hpp — orders, their state machine, and the order manager (OMS).
//
// Threading contract: OrderManager is not thread-safe. One thread owns it (the session's inline thread,
// or its gateway thread in pipelined mode) and calls everything; other threads get copies through that
// thread. Order pointers stay valid until the order closes (filled/cancelled/rejected/expired): apply()
// returns the slot to the pool at that moment, so never keep an Order* across an apply().
//
// Memory: every structure is preallocated at construction (orders, the id table, the closed-id ring,
// per-instrument and per-strategy counters, positions); create/apply/find never allocate.
//
// State machine (contract: oms/types.hpp):
//     new ──mark_sent──▶ sent ──ack──▶ acked ──fill──▶ partially_filled ──fill──▶ filled
//      │                  │             │                    │
//      └──────────────────┴── cancelled / rejected / expired ┘   (rejected only before the ack)
// A fill before the ack implies the ack (the venue's ACK response may be overtaken by nothing on one
// connection, but a reconciliation can report fills first). Duplicate acks (response 200 then
// executionReport NEW) and duplicate closes (cancel response then executionReport CANCELED) are normal and
// harmless. Everything else that cannot happen — an update for an unknown order, a fill or ack for a
// closed order, an overfill, a reject after the ack — is counted by kind (Anomaly) and not applied.
// To tell "closed" from "unknown", the ids of the last `closed_memory` closed orders are remembered.
#pragma once

#include <algorithm>
#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "hftx/core/error.hpp"
#include "hftx/core/platform.hpp"
#include "hftx/oms/position.hpp"
#include "hftx/oms/types.hpp"

namespace hftx::oms {

// One order: exactly one cache line. The four timestamps of the issue do not fit next to the ids, the
// prices and the flags, so sent and acked are 32-bit delays (sent - created, acked - sent; saturating at
// 4.29 s, beyond which the exact figure is moot) and the last-update time lives in a side array
// (OrderManager::updated_ns) that the hot path only writes.
struct alignas(64) Order {
  ClientOrderId client_id = 0;        // 0 = free slot
  std::uint64_t venue_order_id = 0;   // 0 until the venue said it
  Price price;                        // limit price (ticks); market orders: 0
  Qty qty;                            // ordered (qty steps)
  Qty filled;                         // executed so far
  std::int64_t created_ns = 0;        // create() time
  std::uint32_t sent_delay_ns = 0;    // sent - created (0 until sent)
  std::uint32_t ack_delay_ns = 0;     // acked - sent (0 until acked)
  StrategyId strategy = 0;
  InstrumentId instrument = 0;
  OrderState state = OrderState::new_order;
  std::uint8_t flags = 0;             // kFlag* below

  static constexpr std::uint8_t kFlagAsk = 1u << 0;
  static constexpr std::uint8_t kFlagMarket = 1u << 1;
  static constexpr std::uint8_t kTifShift = 2;  // 2 bits
  static constexpr std::uint8_t kFlagPostOnly = 1u << 4;
  static constexpr std::uint8_t kFlagCancelPending = 1u << 5;
  static constexpr std::uint8_t kFlagAcked = 1u << 6;  // an ack was seen (or implied by a fill)

  [[nodiscard]] Side side() const noexcept { return (flags & kFlagAsk) != 0 ? Side::ask : Side::bid; }
  [[nodiscard]] OrderType type() const noexcept {
    return (flags & kFlagMarket) != 0 ? OrderType::market : OrderType::limit;
  }
  [[nodiscard]] TimeInForce tif() const noexcept {
    return static_cast<TimeInForce>((flags >> kTifShift) & 3u);
  }
  [[nodiscard]] bool post_only() const noexcept { return (flags & kFlagPostOnly) != 0; }
  [[nodiscard]] bool cancel_pending() const noexcept { return (flags & kFlagCancelPending) != 0; }
  [[nodiscard]] bool is_open() const noexcept { return !is_closed(state); }
  [[nodiscard]] Qty remaining() const noexcept { return qty - filled; }
  // Can rest in the book (counts for self-trade prevention): a GTC limit order.
  [[nodiscard]] bool can_rest() const noexcept {
    return (flags & (kFlagMarket | (3u << kTifShift))) == 0;  // limit and tif == gtc (0)
  }
  [[nodiscard]] std::int64_t sent_ns() const noexcept { return sent_delay_ns == 0 ? 0 : created_ns + sent_delay_ns; }
  [[nodiscard]] std::int64_t acked_ns() const noexcept {
    return ack_delay_ns == 0 ? 0 : sent_ns() + ack_delay_ns;
  }
};
static_assert(sizeof(Order) == kCacheLine, "Order must be one cache line");
static_assert(static_cast<int>(TimeInForce::gtc) == 0, "Order::can_rest assumes gtc == 0");

// Why an update was not applied (or was a harmless repeat). The first group are impossible transitions.
enum class Anomaly : std::uint8_t {
  none,
  unknown_order,     // no open or recently closed order has this id
  closed_order,      // ack/fill/close for an order already closed (other than a repeat of its close)
  overfill,          // a fill past the order's quantity
  bad_fill,          // a fill with quantity <= 0 or a market/limit price <= 0
  reject_after_ack,  // rejected although the venue had accepted it
  // Harmless (counted, not forwarded to the strategy):
  duplicate_ack,       // ack for an already acked order (response 200 + executionReport NEW)
  duplicate_close,     // the same close again (cancel response + executionReport CANCELED)
  duplicate_fill,      // the venue's cumulative quantity says this fill was already applied
  late_cancel_reject,  // cancel rejected for an order that closed meanwhile (filled before the cancel)
  count_
};
inline constexpr std::size_t kAnomalies = static_cast<std::size_t>(Anomaly::count_);

[[nodiscard]] constexpr bool is_impossible(Anomaly a) noexcept {
  return a != Anomaly::none && a < Anomaly::duplicate_ack;
}

[[nodiscard]] constexpr std::string_view to_string(Anomaly a) noexcept {
  switch (a) {
    case Anomaly::none: return "none";
    case Anomaly::unknown_order: return "unknown_order";
    case Anomaly::closed_order: return "closed_order";
    case Anomaly::overfill: return "overfill";
    case Anomaly::bad_fill: return "bad_fill";
    case Anomaly::reject_after_ack: return "reject_after_ack";
    case Anomaly::duplicate_ack: return "duplicate_ack";
    case Anomaly::duplicate_close: return "duplicate_close";
    case Anomaly::duplicate_fill: return "duplicate_fill";
    case Anomaly::late_cancel_reject: return "late_cancel_reject";
    case Anomaly::count_: break;
  }
  return "unknown";
}

struct OmsStats {
  std::uint64_t created = 0;
  std::uint64_t create_failed = 0;  // pool full, duplicate id, bad instrument/strategy/qty
  std::uint64_t sent = 0;
  std::uint64_t acked = 0;          // first acks (duplicates are anomalies)
  std::uint64_t implied_acks = 0;   // fills that arrived before any ack
  std::uint64_t fills = 0;
  std::uint64_t filled = 0;         // orders closed filled
  std::uint64_t cancelled = 0;
  std::uint64_t rejected = 0;
  std::uint64_t expired = 0;
  std::uint64_t cancels_sent = 0;
  std::uint64_t cancel_rejected = 0;
  std::uint64_t cum_mismatch = 0;   // fills whose venue cumulative quantity disagreed with ours (applied)
  std::array<std::uint64_t, kAnomalies> anomalies{};
  std::uint64_t impossible = 0;     // sum of the impossible kinds
  std::uint64_t ignored = 0;        // sum of the harmless kinds
  std::size_t open = 0;
  std::size_t high_water = 0;
  std::size_t capacity = 0;
};

namespace detail {

// Open-addressing index from a non-zero 64-bit id to a 32-bit value (a slot), fixed capacity: linear
// probing with Robin Hood ordering and backward-shift deletion (no tombstones), load factor <= 0.5.
//
// The home slot comes from a Fibonacci hash, which scatters any id pattern (the session's
// (strategy + 1) << 40 | sequence included) so that runs stay short whatever stays open for how long.
// (A locality-preserving hash was measured 25% faster on a fresh table but degrades to O(run) when
// sequential ids wrap around onto a dense run of long-lived orders; scattering has no such case.) The
// price is a cache miss on a random line per new id, which create() hides by prefetching the line of
// the next sequential id (the session's next order of the same strategy).
//
// An entry is 8 bytes: the value and the top 32 bits of the hash (whose top bits are the home); the full
// id is confirmed through `key_of(value)` — the id stored in the slot itself, a line the caller touches
// anyway — only when the hash matches.
class IdTable {
 public:
  static constexpr std::uint32_t kNone = std::numeric_limits<std::uint32_t>::max();

  explicit IdTable(std::size_t max_entries) {
    std::size_t cap = 16;
    while (cap < max_entries * 2) cap <<= 1;  // load factor <= 0.5
    entries_.assign(cap, Entry{});
    mask_ = cap - 1;
    shift_ = static_cast<unsigned>(32 - std::countr_zero(cap));
  }

  // Brings the home line of `key` into the cache ahead of an insert or lookup.
  HFTX_FORCE_INLINE void prefetch(std::uint64_t key) const noexcept {
    __builtin_prefetch(&entries_[home(hash(key))], 1, 3);
  }

  template <class KeyOf>
  [[nodiscard]] HFTX_FORCE_INLINE std::uint32_t find(std::uint64_t key, KeyOf&& key_of) const noexcept {
    const std::size_t i = locate(key, key_of);
    return i == kMissing ? kNone : entries_[i].value;
  }
  // False when the key is already present. The caller bounds the number of entries (<= max_entries).
  template <class KeyOf>
  HFTX_FORCE_INLINE bool insert(std::uint64_t key, std::uint32_t value, KeyOf&& key_of) noexcept {
    if (locate(key, key_of) != kMissing) return false;
    Entry cur{hash(key), value};
    std::size_t d = 0;
    for (std::size_t i = home(cur.hash);; i = (i + 1) & mask_, ++d) {
      Entry& e = entries_[i];
      if (e.value == kNone) {
        e = cur;
        return true;
      }
      const std::size_t ed = distance(i, e.hash);
      if (ed < d) {  // Robin Hood: the entry nearer its home yields the slot
        std::swap(e, cur);
        d = ed;
      }
    }
  }
  template <class KeyOf>
  HFTX_FORCE_INLINE bool erase(std::uint64_t key, KeyOf&& key_of) noexcept {
    std::size_t i = locate(key, key_of);
    if (i == kMissing) return false;
    // Backward shift until an empty slot or an entry at its home.
    for (std::size_t j = (i + 1) & mask_;; j = (j + 1) & mask_) {
      const Entry e = entries_[j];
      if (e.value == kNone || distance(j, e.hash) == 0) break;
      entries_[i] = e;
      i = j;
    }
    entries_[i] = Entry{};
    return true;
  }

 private:
  struct Entry {
    std::uint32_t hash = 0;
    std::uint32_t value = kNone;  // kNone = empty
  };
  static constexpr std::size_t kMissing = ~std::size_t{0};

  static HFTX_FORCE_INLINE std::uint32_t hash(std::uint64_t key) noexcept {
    return static_cast<std::uint32_t>((key * 0x9E3779B97F4A7C15ull) >> 32);
  }
  [[nodiscard]] HFTX_FORCE_INLINE std::size_t home(std::uint32_t h) const noexcept { return h >> shift_; }
  [[nodiscard]] HFTX_FORCE_INLINE std::size_t distance(std::size_t i, std::uint32_t h) const noexcept {
    return (i - home(h)) & mask_;
  }
  template <class KeyOf>
  [[nodiscard]] HFTX_FORCE_INLINE std::size_t locate(std::uint64_t key, KeyOf& key_of) const noexcept {
    const std::uint32_t h = hash(key);
    std::size_t d = 0;
    for (std::size_t i = home(h);; i = (i + 1) & mask_, ++d) {
      const Entry e = entries_[i];
      if (e.value == kNone || distance(i, e.hash) < d) return kMissing;
      if (e.hash == h && key_of(e.value) == key) return i;
    }
  }

  std::vector<Entry> entries_;
  std::size_t mask_ = 0;
  unsigned shift_ = 28;
};

}  // namespace detail

// Per-instrument view of our open orders, kept current by the OMS (read by risk).
struct InstrumentOrders {
  std::uint32_t open = 0;
  std::uint32_t resting[2] = {0, 0};  // GTC limit orders per side (index: 0 bid, 1 ask)
  Qty open_qty[2];                    // remaining quantity of open orders per side
  // Best own resting price per side; valid when resting[side] > 0.
  std::int64_t best[2] = {std::numeric_limits<std::int64_t>::min(), std::numeric_limits<std::int64_t>::max()};
  std::uint32_t head[2] = {detail::IdTable::kNone, detail::IdTable::kNone};  // resting list per side
};

class OrderManager {
 public:
  // Default closed-id memory: at 100,000 orders/s it covers 160 ms of closes, far longer than a duplicate
  // report or a late cancel rejection takes to arrive, while its table stays in L2.
  static constexpr std::size_t kDefaultClosedMemory = 16384;

  // max_orders: open orders at once (the pool). max_instruments / max_strategies: ids must be below them.
  // closed_memory: how many recently closed ids are remembered (0: min(max_orders, kDefaultClosedMemory)).
  // Preallocates about 100 bytes per order and 50 per remembered closed id.
  OrderManager(std::size_t max_orders, std::size_t max_instruments, std::size_t max_strategies = 65536,
               std::size_t closed_memory = 0)
      : orders_(check_size(max_orders, "max_orders")),
        updated_ns_(max_orders, 0),
        links_(max_orders),
        table_(max_orders),
        instruments_(check_size(max_instruments, "max_instruments")),
        strategy_open_(check_size(max_strategies, "max_strategies"), 0),
        closed_cap_(closed_memory != 0 ? closed_memory : std::min<std::size_t>(max_orders, kDefaultClosedMemory)),
        closed_ring_(closed_cap_),
        closed_table_(closed_cap_),
        positions_(max_instruments) {
    if (max_orders > (std::size_t{1} << 30) || closed_cap_ > (std::size_t{1} << 30))
      throw ConfigError("OrderManager: max_orders / closed_memory " + std::to_string(std::max(max_orders, closed_cap_)) +
                        " is too large; expected at most 1073741824");
    if (max_instruments > 65536) throw ConfigError("OrderManager: max_instruments must be at most 65536");
    free_.reserve(max_orders);
    for (std::size_t i = max_orders; i-- > 0;) free_.push_back(static_cast<std::uint32_t>(i));
    stats_.capacity = max_orders;
  }

  OrderManager(const OrderManager&) = delete;
  OrderManager& operator=(const OrderManager&) = delete;

  // A new order in state new_order. nullptr (counted in create_failed) when the pool is full, the id is 0
  // or already open, the instrument/strategy is out of range, or qty <= 0.
  [[nodiscard]] Order* create(const OrderRequest& r, ClientOrderId id, std::int64_t now_ns) noexcept {
    if (HFTX_UNLIKELY(free_.empty() || id == 0 || r.instrument >= instruments_.size() ||
                      r.strategy >= strategy_open_.size() || r.qty.raw() <= 0)) {
      ++stats_.create_failed;
      return nullptr;
    }
    const std::uint32_t slot = free_.back();
    if (HFTX_UNLIKELY(!table_.insert(id, slot, open_key()))) {
      ++stats_.create_failed;
      return nullptr;
    }
    free_.pop_back();
    table_.prefetch(id + 1);  // the session's ids are sequential per strategy: the next create's line
    Order& o = orders_[slot];
    o.client_id = id;
    o.venue_order_id = 0;
    o.price = r.type == OrderType::market ? Price{} : r.price;
    o.qty = r.qty;
    o.filled = Qty{};
    o.created_ns = now_ns;
    o.sent_delay_ns = 0;
    o.ack_delay_ns = 0;
    o.strategy = r.strategy;
    o.instrument = r.instrument;
    o.state = OrderState::new_order;
    o.flags = static_cast<std::uint8_t>((r.side == Side::ask ? Order::kFlagAsk : 0) |
                                        (r.type == OrderType::market ? Order::kFlagMarket : 0) |
                                        (static_cast<unsigned>(r.tif) << Order::kTifShift) |
                                        (r.post_only ? Order::kFlagPostOnly : 0));
    updated_ns_[slot] = now_ns;
    InstrumentOrders& in = instruments_[r.instrument];
    ++in.open;
    const int s = side_index(o);
    in.open_qty[s] += o.qty;
    if (o.can_rest()) link_resting(in, slot, s);
    ++strategy_open_[r.strategy];
    ++stats_.created;
    ++open_;
    if (open_ > stats_.high_water) stats_.high_water = open_;
    return &o;
  }

  // The order.place frame was written. False when the order is unknown or not in state new_order.
  bool mark_sent(ClientOrderId id, std::int64_t now_ns) noexcept {
    Order* o = find(id);
    if (o == nullptr || o->state != OrderState::new_order) return false;
    o->state = OrderState::sent;
    o->sent_delay_ns = delay(now_ns - o->created_ns);
    updated_ns_[slot_of(o)] = now_ns;
    ++stats_.sent;
    return true;
  }

  // The order.cancel frame was written. False when the order is unknown/closed or a cancel is pending.
  bool mark_cancel_sent(ClientOrderId id, std::int64_t now_ns) noexcept {
    Order* o = find(id);
    if (o == nullptr || o->cancel_pending()) return false;
    o->flags |= Order::kFlagCancelPending;
    updated_ns_[slot_of(o)] = now_ns;
    ++stats_.cancels_sent;
    return true;
  }

  // Applies what the venue said. Fills in u.strategy/instrument/side/state/filled/qty/price from the order
  // (also for updates that are not applied, when the order is known). Returns true when the order changed
  // (or a cancel of it was rejected) — forward u to the strategy; false when the update was an anomaly
  // (see last_anomaly(); impossible kinds are counted in stats().impossible, harmless ones in ignored).
  // A fill also updates positions(). When the order closes its slot is released (its Order* dies).
  bool apply(OrderUpdate& u) noexcept {
    last_ = Anomaly::none;
    const std::uint32_t slot = u.client_id != 0 ? table_.find(u.client_id, open_key()) : detail::IdTable::kNone;
    if (HFTX_UNLIKELY(slot == detail::IdTable::kNone)) return apply_not_open(u);
    Order& o = orders_[slot];
    if (u.venue_order_id != 0) o.venue_order_id = u.venue_order_id;
    const std::int64_t now = u.recv_ns;
    switch (u.kind) {
      case UpdateKind::ack:
        if ((o.flags & Order::kFlagAcked) != 0) {
          describe(u, o);
          return anomaly(Anomaly::duplicate_ack);
        }
        mark_acked(o, now);
        o.state = OrderState::acked;
        break;
      case UpdateKind::fill: {
        const std::int64_t q = u.last_qty.raw();
        if (HFTX_UNLIKELY(q <= 0 || u.last_price.raw() <= 0)) {
          describe(u, o);
          return anomaly(Anomaly::bad_fill);
        }
        const std::int64_t cum = u.cum_qty.raw();
        if (cum > 0 && cum <= o.filled.raw()) {  // already applied (a replayed report)
          describe(u, o);
          return anomaly(Anomaly::duplicate_fill);
        }
        if (HFTX_UNLIKELY(q > o.remaining().raw())) {
          describe(u, o);
          return anomaly(Anomaly::overfill);
        }
        if ((o.flags & Order::kFlagAcked) == 0) {
          mark_acked(o, now);
          ++stats_.implied_acks;
        }
        o.filled += u.last_qty;
        if (cum > 0 && cum != o.filled.raw()) ++stats_.cum_mismatch;
        InstrumentOrders& in = instruments_[o.instrument];
        in.open_qty[side_index(o)] -= u.last_qty;
        ++stats_.fills;
        positions_.on_fill(o.instrument, o.side(), u.last_price, u.last_qty);
        if (o.remaining().raw() == 0) return close(u, slot, OrderState::filled, now);
        o.state = OrderState::partially_filled;
        break;
      }
      case UpdateKind::cancelled:
        return close(u, slot, OrderState::cancelled, now);
      case UpdateKind::expired:
        return close(u, slot, OrderState::expired, now);
      case UpdateKind::rejected:
        if (HFTX_UNLIKELY((o.flags & Order::kFlagAcked) != 0)) {
          describe(u, o);
          return anomaly(Anomaly::reject_after_ack);
        }
        return close(u, slot, OrderState::rejected, now);
      case UpdateKind::cancel_rejected:
        o.flags &= static_cast<std::uint8_t>(~Order::kFlagCancelPending);
        ++stats_.cancel_rejected;
        break;
    }
    updated_ns_[slot] = now;
    describe(u, o);
    return true;
  }

  [[nodiscard]] HFTX_FORCE_INLINE Order* find(ClientOrderId id) noexcept {
    const std::uint32_t slot = table_.find(id, open_key());
    return slot == detail::IdTable::kNone ? nullptr : &orders_[slot];
  }
  [[nodiscard]] HFTX_FORCE_INLINE const Order* find(ClientOrderId id) const noexcept {
    const std::uint32_t slot = table_.find(id, open_key());
    return slot == detail::IdTable::kNone ? nullptr : &orders_[slot];
  }
  // The final state of a recently closed order (within closed_memory), or nullptr.
  struct ClosedOrder {
    ClientOrderId id = 0;
    StrategyId strategy = 0;
    InstrumentId instrument = 0;
    OrderState state = OrderState::filled;
    Side side = Side::bid;
    Price price;
    Qty qty, filled;
  };
  [[nodiscard]] const ClosedOrder* find_closed(ClientOrderId id) const noexcept {
    const std::uint32_t i = id != 0 ? closed_table_.find(id, closed_key()) : detail::IdTable::kNone;
    return i == detail::IdTable::kNone ? nullptr : &closed_ring_[i];
  }

  // Calls f(const Order&) for every open order (slot order). f may call mark_cancel_sent, not apply().
  template <class F>
  void for_each_open(F&& f) const {
    for (std::size_t i = 0; i < orders_.size(); ++i)
      if (orders_[i].client_id != 0) f(static_cast<const Order&>(orders_[i]));
  }

  [[nodiscard]] std::size_t open_count() const noexcept { return open_; }
  [[nodiscard]] std::uint32_t open_count_instrument(InstrumentId i) const noexcept {
    return i < instruments_.size() ? instruments_[i].open : 0;
  }
  [[nodiscard]] std::uint32_t open_count_strategy(StrategyId s) const noexcept {
    return s < strategy_open_.size() ? strategy_open_[s] : 0;
  }
  // Remaining quantity and best own resting price per side, for risk. instrument < max_instruments.
  [[nodiscard]] HFTX_FORCE_INLINE const InstrumentOrders& instrument_orders(InstrumentId i) const noexcept {
    return instruments_[i];
  }
  [[nodiscard]] std::size_t max_instruments() const noexcept { return instruments_.size(); }
  [[nodiscard]] std::size_t max_strategies() const noexcept { return strategy_open_.size(); }
  [[nodiscard]] std::size_t capacity() const noexcept { return orders_.size(); }
  // Time of the order's last change (create, sent, ack, fill, cancel request).
  [[nodiscard]] std::int64_t updated_ns(const Order& o) const noexcept { return updated_ns_[slot_of(&o)]; }

  [[nodiscard]] Anomaly last_anomaly() const noexcept { return last_; }
  [[nodiscard]] OmsStats stats() const noexcept {
    OmsStats s = stats_;
    s.open = open_;
    return s;
  }

  [[nodiscard]] PositionBook& positions() noexcept { return positions_; }
  [[nodiscard]] const PositionBook& positions() const noexcept { return positions_; }

 private:
  struct Link {
    std::uint32_t prev = detail::IdTable::kNone;
    std::uint32_t next = detail::IdTable::kNone;
  };

  // How the id tables read the full id of an entry.
  struct OpenKey {
    const Order* orders;
    std::uint64_t operator()(std::uint32_t slot) const noexcept { return orders[slot].client_id; }
  };
  struct ClosedKey {
    const ClosedOrder* ring;
    std::uint64_t operator()(std::uint32_t i) const noexcept { return ring[i].id; }
  };
  [[nodiscard]] OpenKey open_key() const noexcept { return OpenKey{orders_.data()}; }
  [[nodiscard]] ClosedKey closed_key() const noexcept { return ClosedKey{closed_ring_.data()}; }

  static std::size_t check_size(std::size_t n, const char* what) {
    if (n == 0) throw ConfigError(std::string("OrderManager: ") + what + " must be at least 1");
    return n;
  }
  static HFTX_FORCE_INLINE int side_index(const Order& o) noexcept { return (o.flags & Order::kFlagAsk) != 0; }
  static HFTX_FORCE_INLINE std::uint32_t delay(std::int64_t d) noexcept {
    if (d <= 0) return 1;  // 0 means "not yet"; a same-tick event reads as 1 ns
    return d >= std::int64_t{std::numeric_limits<std::uint32_t>::max()} ? std::numeric_limits<std::uint32_t>::max()
                                                                        : static_cast<std::uint32_t>(d);
  }
  [[nodiscard]] std::uint32_t slot_of(const Order* o) const noexcept {
    return static_cast<std::uint32_t>(o - orders_.data());
  }
  void mark_acked(Order& o, std::int64_t now) noexcept {
    o.flags |= Order::kFlagAcked;
    const std::int64_t sent = o.sent_ns();
    o.ack_delay_ns = delay(now - (sent != 0 ? sent : o.created_ns));
    ++stats_.acked;
  }
  static void describe(OrderUpdate& u, const Order& o) noexcept {
    u.strategy = o.strategy;
    u.instrument = o.instrument;
    u.side = o.side();
    u.state = o.state;
    u.filled = o.filled;
    u.qty = o.qty;
    u.price = o.price;
  }
  bool anomaly(Anomaly a) noexcept {
    last_ = a;
    ++stats_.anomalies[static_cast<std::size_t>(a)];
    if (is_impossible(a))
      ++stats_.impossible;
    else
      ++stats_.ignored;
    return false;
  }

  // Not in the open table: a repeat of a close, a late cancel reject, or impossible.
  HFTX_COLD bool apply_not_open(OrderUpdate& u) noexcept {
    const ClosedOrder* c = find_closed(u.client_id);
    if (c == nullptr) return anomaly(Anomaly::unknown_order);
    u.strategy = c->strategy;
    u.instrument = c->instrument;
    u.side = c->side;
    u.state = c->state;
    u.filled = c->filled;
    u.qty = c->qty;
    u.price = c->price;
    switch (u.kind) {
      case UpdateKind::cancelled:
        return anomaly(c->state == OrderState::cancelled ? Anomaly::duplicate_close : Anomaly::closed_order);
      case UpdateKind::expired:
        return anomaly(c->state == OrderState::expired ? Anomaly::duplicate_close : Anomaly::closed_order);
      case UpdateKind::rejected:
        return anomaly(c->state == OrderState::rejected ? Anomaly::duplicate_close : Anomaly::closed_order);
      case UpdateKind::cancel_rejected:
        return anomaly(Anomaly::late_cancel_reject);
      case UpdateKind::fill:
        if (u.cum_qty.raw() > 0 && u.cum_qty <= c->filled) return anomaly(Anomaly::duplicate_fill);
        return anomaly(Anomaly::closed_order);
      case UpdateKind::ack:
        // The ACK response can only trail the fills that closed the order when a reconciliation
        // reported them first; an ack for a cancelled/rejected/expired order is impossible.
        return anomaly(c->state == OrderState::filled ? Anomaly::duplicate_ack : Anomaly::closed_order);
    }
    return anomaly(Anomaly::closed_order);
  }

  bool close(OrderUpdate& u, std::uint32_t slot, OrderState final_state, std::int64_t now) noexcept {
    Order& o = orders_[slot];
    o.state = final_state;
    describe(u, o);
    switch (final_state) {
      case OrderState::filled: ++stats_.filled; break;
      case OrderState::cancelled: ++stats_.cancelled; break;
      case OrderState::rejected: ++stats_.rejected; break;
      case OrderState::expired: ++stats_.expired; break;
      default: break;
    }
    InstrumentOrders& in = instruments_[o.instrument];
    const int s = side_index(o);
    --in.open;
    in.open_qty[s] -= o.remaining();
    if (o.can_rest()) unlink_resting(in, slot, s);
    --strategy_open_[o.strategy];
    --open_;
    remember_closed(o);
    table_.erase(o.client_id, open_key());
    updated_ns_[slot] = now;
    o.client_id = 0;
    free_.push_back(slot);
    return true;
  }

  void remember_closed(const Order& o) noexcept {
    ClosedOrder& c = closed_ring_[closed_next_];
    if (c.id != 0) closed_table_.erase(c.id, closed_key());  // evict the oldest
    c = ClosedOrder{o.client_id, o.strategy, o.instrument, o.state, o.side(), o.price, o.qty, o.filled};
    closed_table_.insert(o.client_id, static_cast<std::uint32_t>(closed_next_), closed_key());
    if (++closed_next_ == closed_cap_) closed_next_ = 0;
    // The next close evicts this one's successor in the ring: fetch its table line now (it was a miss on
    // a random line, a third of a whole close).
    if (const std::uint64_t victim = closed_ring_[closed_next_].id; victim != 0) closed_table_.prefetch(victim);
  }

  void link_resting(InstrumentOrders& in, std::uint32_t slot, int s) noexcept {
    Link& l = links_[slot];
    l.prev = detail::IdTable::kNone;
    l.next = in.head[s];
    if (l.next != detail::IdTable::kNone) links_[l.next].prev = slot;
    in.head[s] = slot;
    const std::int64_t p = orders_[slot].price.raw();
    if (in.resting[s]++ == 0 || (s == 0 ? p > in.best[0] : p < in.best[1])) in.best[s] = p;
  }

  void unlink_resting(InstrumentOrders& in, std::uint32_t slot, int s) noexcept {
    const Link l = links_[slot];
    if (l.prev != detail::IdTable::kNone)
      links_[l.prev].next = l.next;
    else
      in.head[s] = l.next;
    if (l.next != detail::IdTable::kNone) links_[l.next].prev = l.prev;
    if (--in.resting[s] == 0) {
      in.best[s] = s == 0 ? std::numeric_limits<std::int64_t>::min() : std::numeric_limits<std::int64_t>::max();
    } else if (orders_[slot].price.raw() == in.best[s]) {
      // The best went away: rescan this side's resting orders (cancel/fill path, not the order path).
      std::int64_t best = s == 0 ? std::numeric_limits<std::int64_t>::min() : std::numeric_limits<std::int64_t>::max();
      for (std::uint32_t i = in.head[s]; i != detail::IdTable::kNone; i = links_[i].next) {
        const std::int64_t p = orders_[i].price.raw();
        best = s == 0 ? std::max(best, p) : std::min(best, p);
      }
      in.best[s] = best;
    }
  }

  std::vector<Order> orders_;
  std::vector<std::int64_t> updated_ns_;
  std::vector<Link> links_;
  std::vector<std::uint32_t> free_;
  detail::IdTable table_;
  std::vector<InstrumentOrders> instruments_;
  std::vector<std::uint32_t> strategy_open_;
  std::size_t closed_cap_;
  std::vector<ClosedOrder> closed_ring_;
  detail::IdTable closed_table_;
  std::size_t closed_next_ = 0;
  std::size_t open_ = 0;
  OmsStats stats_;
  Anomaly last_ = Anomaly::none;
  PositionBook positions_;
};

}  // namespace hftx::oms
