// hftx/book/matching.hpp — order-by-order (L3) book with price-time priority matching.
//
// Threading contract: single-threaded. One thread owns a MatchingEngine and calls every member; the
// execution callback runs on that thread, inside submit()/modify(), and must not call back into the engine.
//
// Orders: limit (GTC, IOC, FOK), market (the remainder is cancelled), post-only (rejected when it would
// take liquidity). cancel(); modify(): a size reduction at the same price keeps the order's place in the
// queue, a price change or a size increase loses it (the order is re-entered, and may trade). Optional
// self-trade prevention by owner id.
//
// Memory: everything is preallocated from MatchingConfig — the order pool (intrusive FIFO links per
// price level), the price-level pool, each side's sorted level array and the id -> order hash table
// (open addressing, linear probing, backward-shift deletion). No allocation after construction; a full
// pool rejects the order (rejected_full), never grows.
//
// Price levels are kept per side in a sorted array with the best level at the end (as in l2_book.hpp):
// new orders land mostly near the top, so inserts and removals shift few entries.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <functional>
#include <string_view>
#include <vector>

#include "hftx/book/l2_book.hpp"
#include "hftx/core/error.hpp"
#include "hftx/core/fixed_point.hpp"
#include "hftx/core/platform.hpp"
#include "hftx/core/types.hpp"

namespace hftx::book {

using OrderId = std::uint64_t;

using hftx::OrderType;    // core/types.hpp
using hftx::TimeInForce;
enum class StpMode : std::uint8_t {
  none,          // self-trades allowed
  cancel_taker,  // the incoming order's remainder is cancelled when it meets its own resting order
  cancel_maker,  // the resting order is cancelled and matching continues
  cancel_both,   // both
};

struct OrderRequest {
  OrderId id = 0;  // unique among live orders, != 0
  Side side = Side::bid;
  OrderType type = OrderType::limit;
  TimeInForce tif = TimeInForce::gtc;
  bool post_only = false;
  Price price;         // ignored for market orders
  Qty qty;             // > 0
  std::uint32_t owner = 0;  // for self-trade prevention (0 = anonymous: never matched against itself)
};

enum class OrderStatus : std::uint8_t {
  resting,             // (the remainder) rests in the book
  filled,              // fully executed
  cancelled,           // IOC / market remainder, or self-trade prevention, cancelled (filled says how much traded)
  rejected_post_only,  // post-only order would have taken liquidity
  rejected_fok,        // fill-or-kill could not fill completely
  rejected_duplicate,  // id already live
  rejected_invalid,    // qty <= 0, id 0, or unknown id (cancel / modify)
  rejected_full,       // order pool or price-level pool exhausted
};

[[nodiscard]] constexpr std::string_view to_string(OrderStatus s) noexcept {
  switch (s) {
    case OrderStatus::resting: return "resting";
    case OrderStatus::filled: return "filled";
    case OrderStatus::cancelled: return "cancelled";
    case OrderStatus::rejected_post_only: return "rejected_post_only";
    case OrderStatus::rejected_fok: return "rejected_fok";
    case OrderStatus::rejected_duplicate: return "rejected_duplicate";
    case OrderStatus::rejected_invalid: return "rejected_invalid";
    case OrderStatus::rejected_full: return "rejected_full";
  }
  return "unknown";
}

struct OrderResult {
  OrderStatus status = OrderStatus::rejected_invalid;
  Qty filled;   // executed by this call
  Qty resting;  // left in the book
};

struct Execution {
  OrderId taker = 0;
  OrderId maker = 0;
  Side taker_side = Side::bid;
  Price price;  // the maker's price
  Qty qty;
  Qty maker_remaining;  // after this fill (0: the maker left the book)
  std::uint64_t sequence = 0;
};

// A resting order as the engine reports it.
struct OrderView {
  OrderId id = 0;
  Side side = Side::bid;
  Price price;
  Qty qty;
  std::uint32_t owner = 0;
};

struct MatchingConfig {
  std::size_t max_orders = 1u << 20;
  std::size_t max_price_levels = 1u << 16;
  StpMode stp = StpMode::none;
};

class MatchingEngine {
 public:
  using ExecutionFn = std::function<void(const Execution&)>;

  explicit MatchingEngine(const MatchingConfig& cfg = {}) : cfg_(cfg) {
    if (cfg.max_orders == 0 || cfg.max_orders >= kNil)
      throw ConfigError("MatchingConfig.max_orders = " + std::to_string(cfg.max_orders) + ": expected 1 .. 2^32-2");
    if (cfg.max_price_levels == 0 || cfg.max_price_levels >= kNil)
      throw ConfigError("MatchingConfig.max_price_levels = " + std::to_string(cfg.max_price_levels) +
                        ": expected 1 .. 2^32-2");
    orders_.resize(cfg.max_orders);
    for (std::size_t i = 0; i < orders_.size(); ++i) orders_[i].next = static_cast<std::uint32_t>(i + 1);
    orders_.back().next = kNil;
    free_order_ = 0;
    levels_.resize(cfg.max_price_levels);
    for (std::size_t i = 0; i < levels_.size(); ++i) levels_[i].head = static_cast<std::uint32_t>(i + 1);
    levels_.back().head = kNil;
    free_level_ = 0;
    for (SideBook* s : {&bids_, &asks_}) {
      s->keys.reserve(cfg.max_price_levels);
      s->idx.reserve(cfg.max_price_levels);
    }
    std::size_t cap = 16;
    while (cap < cfg.max_orders * 2) cap <<= 1;
    table_.assign(cap, Slot{0, kNil});
    mask_ = cap - 1;
  }

  MatchingEngine(const MatchingEngine&) = delete;
  MatchingEngine& operator=(const MatchingEngine&) = delete;

  void on_execution(ExecutionFn f) { exec_fn_ = std::move(f); }
  void set_stp(StpMode m) noexcept { cfg_.stp = m; }

  // ---- order entry -------------------------------------------------------------------------------------
  OrderResult submit(const OrderRequest& o) {
    if (HFTX_UNLIKELY(o.id == 0 || o.qty.raw() <= 0)) return {OrderStatus::rejected_invalid, Qty(0), Qty(0)};
    if (HFTX_UNLIKELY(find(o.id) != kNil)) return {OrderStatus::rejected_duplicate, Qty(0), Qty(0)};
    const bool market = o.type == OrderType::market;
    const bool bid = o.side == Side::bid;
    // Limit in the taker's terms: a bid takes asks priced <= limit.
    const std::int64_t limit = market ? (bid ? INT64_MAX : INT64_MIN) : o.price.raw();
    if (o.post_only && !market && crosses(bid, limit)) return {OrderStatus::rejected_post_only, Qty(0), Qty(0)};
    if (o.tif == TimeInForce::fok && available(bid, limit, o.owner) < o.qty.raw())
      return {OrderStatus::rejected_fok, Qty(0), Qty(0)};
    // A resting remainder needs an order slot (and maybe a level): check before trading, so that an order
    // is either processed completely or rejected without side effects.
    const bool may_rest = !market && o.tif == TimeInForce::gtc;
    if (may_rest && HFTX_UNLIKELY(free_order_ == kNil || (free_level_ == kNil && !has_level(bid, o.price.raw()))) &&
        available(bid, limit, o.owner) < o.qty.raw())
      return {OrderStatus::rejected_full, Qty(0), Qty(0)};

    std::int64_t left = o.qty.raw();
    bool stp_cancel = false;
    match(o.id, bid, limit, o.owner, left, stp_cancel);
    const Qty filled(o.qty.raw() - left);
    if (left == 0) return {OrderStatus::filled, filled, Qty(0)};
    if (!may_rest || stp_cancel) return {OrderStatus::cancelled, filled, Qty(0)};
    if (!rest(o.id, bid, o.price.raw(), left, o.owner)) return {OrderStatus::rejected_full, filled, Qty(0)};
    return {OrderStatus::resting, filled, Qty(left)};
  }

  // Removes a resting order. False when the id is not live.
  bool cancel(OrderId id) noexcept {
    const std::uint32_t oi = find(id);
    if (oi == kNil) return false;
    remove_order(oi);
    return true;
  }

  // New price and quantity for a resting order. Same price and qty <= remaining: reduced in place (keeps
  // priority); qty 0 cancels; anything else loses priority: the order is re-entered as a GTC limit order
  // (and may trade). rejected_invalid when the id is not live.
  OrderResult modify(OrderId id, Price price, Qty qty) {
    const std::uint32_t oi = find(id);
    if (oi == kNil || qty.raw() < 0) return {OrderStatus::rejected_invalid, Qty(0), Qty(0)};
    Order& o = orders_[oi];
    if (qty.raw() == 0) {
      remove_order(oi);
      return {OrderStatus::cancelled, Qty(0), Qty(0)};
    }
    if (price.raw() == o.price && qty.raw() <= o.qty) {
      levels_[o.level].total -= o.qty - qty.raw();
      o.qty = qty.raw();
      return {OrderStatus::resting, Qty(0), qty};
    }
    OrderRequest r;
    r.id = id;
    r.side = o.side;
    r.price = price;
    r.qty = qty;
    r.owner = o.owner;
    remove_order(oi);
    return submit(r);
  }

  // ---- queries ---------------------------------------------------------------------------------------------
  [[nodiscard]] bool has_bid() const noexcept { return !bids_.keys.empty(); }
  [[nodiscard]] bool has_ask() const noexcept { return !asks_.keys.empty(); }
  // Best price and total quantity at it (Level{} when the side is empty).
  [[nodiscard]] Level best(Side side) const noexcept {
    const SideBook& s = side == Side::bid ? bids_ : asks_;
    if (s.keys.empty()) return Level{};
    const PriceLevel& l = levels_[s.idx.back()];
    return Level{Price(l.price), Qty(l.total)};
  }
  [[nodiscard]] std::size_t level_count(Side side) const noexcept {
    return (side == Side::bid ? bids_ : asks_).keys.size();
  }
  // i-th level from the best.
  [[nodiscard]] Level level(Side side, std::size_t i) const noexcept {
    const SideBook& s = side == Side::bid ? bids_ : asks_;
    const PriceLevel& l = levels_[s.idx[s.idx.size() - 1 - i]];
    return Level{Price(l.price), Qty(l.total)};
  }
  [[nodiscard]] std::size_t order_count() const noexcept { return live_orders_; }
  [[nodiscard]] bool contains(OrderId id) const noexcept { return find(id) != kNil; }
  [[nodiscard]] bool get(OrderId id, OrderView& out) const noexcept {
    const std::uint32_t oi = find(id);
    if (oi == kNil) return false;
    const Order& o = orders_[oi];
    out = OrderView{o.id, o.side, Price(o.price), Qty(o.qty), o.owner};
    return true;
  }
  // Calls f(OrderView) for the orders at the i-th level of a side, in time priority.
  template <class F>
  void for_each_order(Side side, std::size_t i, F&& f) const {
    const SideBook& s = side == Side::bid ? bids_ : asks_;
    for (std::uint32_t oi = levels_[s.idx[s.idx.size() - 1 - i]].head; oi != kNil; oi = orders_[oi].next) {
      const Order& o = orders_[oi];
      f(OrderView{o.id, o.side, Price(o.price), Qty(o.qty), o.owner});
    }
  }
  [[nodiscard]] std::uint64_t executions() const noexcept { return exec_seq_; }

 private:
  static constexpr std::uint32_t kNil = 0xFFFFFFFFu;

  struct Order {
    OrderId id = 0;
    std::int64_t price = 0;
    std::int64_t qty = 0;  // remaining
    std::uint32_t prev = kNil, next = kNil;  // FIFO within the level; `next` links the free list
    std::uint32_t level = kNil;
    std::uint32_t owner = 0;
    Side side = Side::bid;
  };
  struct PriceLevel {
    std::int64_t price = 0;
    std::int64_t total = 0;
    std::uint32_t head = kNil, tail = kNil;  // `head` links the free list
  };
  // Keys ascending to the best (bids: price, asks: -price), parallel level indices.
  struct SideBook {
    std::vector<std::int64_t> keys;
    std::vector<std::uint32_t> idx;
  };
  struct Slot {
    OrderId id;
    std::uint32_t order;
  };

  static std::int64_t key(bool bid, std::int64_t price) noexcept { return bid ? price : -price; }

  // Would a taker on `bid` side with `limit` trade against the opposite best?
  [[nodiscard]] bool crosses(bool bid, std::int64_t limit) const noexcept {
    const SideBook& opp = bid ? asks_ : bids_;
    if (opp.keys.empty()) return false;
    const std::int64_t best = levels_[opp.idx.back()].price;
    return bid ? best <= limit : best >= limit;
  }

  [[nodiscard]] std::int64_t available(bool bid, std::int64_t limit, std::uint32_t owner) const noexcept {
    const SideBook& opp = bid ? asks_ : bids_;
    std::int64_t sum = 0;
    for (std::size_t j = opp.idx.size(); j-- > 0;) {
      const PriceLevel& l = levels_[opp.idx[j]];
      if (bid ? l.price > limit : l.price < limit) break;
      if (cfg_.stp == StpMode::none || owner == 0) {
        sum += l.total;
      } else {
        for (std::uint32_t oi = l.head; oi != kNil; oi = orders_[oi].next)
          if (orders_[oi].owner != owner) sum += orders_[oi].qty;
          else if (cfg_.stp != StpMode::cancel_maker) return sum;  // matching stops at the own order
      }
    }
    return sum;
  }

  [[nodiscard]] bool has_level(bool bid, std::int64_t price) const noexcept {
    const SideBook& s = bid ? bids_ : asks_;
    const std::size_t i = lower_bound(s, key(bid, price));
    return i < s.keys.size() && s.keys[i] == key(bid, price);
  }

  static std::size_t lower_bound(const SideBook& s, std::int64_t k) noexcept {
    // Most activity is at the top: scan a few from the end, then binary search.
    std::size_t n = s.keys.size();
    const std::int64_t* a = s.keys.data();
    for (int step = 0; step < 4 && n > 0; ++step) {
      if (a[n - 1] < k) return n;
      --n;
    }
    std::size_t lo = 0, len = n;
    while (len > 0) {
      const std::size_t half = len / 2;
      if (a[lo + half] < k) {
        lo += half + 1;
        len -= half + 1;
      } else {
        len = half;
      }
    }
    return lo;
  }

  // Takes liquidity from the opposite side while it crosses `limit`. Fills always consume the head of
  // the best level (an order in front was either filled and removed or left the taker empty).
  void match(OrderId taker, bool bid, std::int64_t limit, std::uint32_t owner, std::int64_t& left, bool& stp_cancel) {
    SideBook& opp = bid ? asks_ : bids_;
    const bool stp = cfg_.stp != StpMode::none && owner != 0;
    while (left > 0 && !opp.keys.empty()) {
      PriceLevel& l = levels_[opp.idx.back()];
      if (bid ? l.price > limit : l.price < limit) break;
      const std::int64_t price = l.price;
      for (;;) {
        const std::uint32_t oi = l.head;
        Order& m = orders_[oi];
        const bool last_in_level = l.tail == oi;
        if (HFTX_UNLIKELY(stp && m.owner == owner)) {
          if (cfg_.stp == StpMode::cancel_taker) {
            stp_cancel = true;
            return;
          }
          remove_order(oi);  // cancel_maker / cancel_both
          if (cfg_.stp == StpMode::cancel_both) {
            stp_cancel = true;
            return;
          }
          if (last_in_level) break;
          continue;
        }
        const std::int64_t q = left < m.qty ? left : m.qty;
        left -= q;
        m.qty -= q;
        l.total -= q;
        const Execution e{taker, m.id, bid ? Side::bid : Side::ask, Price(price), Qty(q), Qty(m.qty), ++exec_seq_};
        if (exec_fn_) exec_fn_(e);
        if (m.qty == 0) {
          remove_order(oi);
          if (last_in_level) break;  // the level is gone: next best
        }
        if (left == 0) return;
      }
    }
  }

  bool rest(OrderId id, bool bid, std::int64_t price, std::int64_t qty, std::uint32_t owner) {
    SideBook& s = bid ? bids_ : asks_;
    const std::int64_t k = key(bid, price);
    const std::size_t i = lower_bound(s, k);
    std::uint32_t li;
    if (i < s.keys.size() && s.keys[i] == k) {
      li = s.idx[i];
    } else {
      if (free_level_ == kNil || free_order_ == kNil) return false;
      li = free_level_;
      free_level_ = levels_[li].head;
      levels_[li] = PriceLevel{price, 0, kNil, kNil};
      s.keys.insert(s.keys.begin() + static_cast<std::ptrdiff_t>(i), k);  // capacity reserved: no allocation
      s.idx.insert(s.idx.begin() + static_cast<std::ptrdiff_t>(i), li);
    }
    if (free_order_ == kNil) return false;
    const std::uint32_t oi = free_order_;
    free_order_ = orders_[oi].next;
    Order& o = orders_[oi];
    PriceLevel& l = levels_[li];
    o = Order{id, price, qty, l.tail, kNil, li, owner, bid ? Side::bid : Side::ask};
    if (l.tail != kNil) orders_[l.tail].next = oi;
    else l.head = oi;
    l.tail = oi;
    l.total += qty;
    insert_id(id, oi);
    ++live_orders_;
    return true;
  }

  void remove_order(std::uint32_t oi) noexcept {
    Order& o = orders_[oi];
    const std::uint32_t li = o.level;
    PriceLevel& l = levels_[li];
    if (o.prev != kNil) orders_[o.prev].next = o.next;
    else l.head = o.next;
    if (o.next != kNil) orders_[o.next].prev = o.prev;
    else l.tail = o.prev;
    l.total -= o.qty;
    erase_id(o.id);
    o.next = free_order_;
    free_order_ = oi;
    --live_orders_;
    if (l.head == kNil) {
      const bool bid = o.side == Side::bid;
      SideBook& s = bid ? bids_ : asks_;
      const std::size_t i = lower_bound(s, key(bid, l.price));
      s.keys.erase(s.keys.begin() + static_cast<std::ptrdiff_t>(i));
      s.idx.erase(s.idx.begin() + static_cast<std::ptrdiff_t>(i));
      l.head = free_level_;
      free_level_ = li;
    }
  }

  // ---- id table: open addressing, linear probing ------------------------------------------------------
  // Order ids are usually sequential (a venue's or a gateway's counter). Groups of 4 consecutive ids
  // share one 64-byte line of slots (cache-friendly inserts: one miss per 4 orders), while the groups
  // themselves are scattered by a multiplicative hash, so occupied runs stay short (an identity hash
  // would make one run of every live order and backward-shift deletion would scan all of it).
  static std::size_t hash(OrderId id) noexcept {
    const std::uint64_t g = (id >> 2) * 0x9E3779B97F4A7C15ull;
    return static_cast<std::size_t>(((g ^ (g >> 31)) << 2) | (id & 3));
  }
  [[nodiscard]] std::uint32_t find(OrderId id) const noexcept {
    for (std::size_t i = hash(id) & mask_;; i = (i + 1) & mask_) {
      const Slot& s = table_[i];
      if (s.order == kNil) return kNil;
      if (s.id == id) return s.order;
    }
  }
  void insert_id(OrderId id, std::uint32_t oi) noexcept {
    std::size_t i = hash(id) & mask_;
    while (table_[i].order != kNil) i = (i + 1) & mask_;
    table_[i] = Slot{id, oi};
  }
  void erase_id(OrderId id) noexcept {
    std::size_t i = hash(id) & mask_;
    while (table_[i].id != id || table_[i].order == kNil) {
      if (table_[i].order == kNil) return;
      i = (i + 1) & mask_;
    }
    // Backward-shift deletion keeps every probe chain intact without tombstones.
    std::size_t j = i;
    for (;;) {
      j = (j + 1) & mask_;
      if (table_[j].order == kNil) break;
      const std::size_t home = hash(table_[j].id) & mask_;
      // Move j into the hole at i when its home is not cyclically in (i, j].
      if (((j - home) & mask_) >= ((j - i) & mask_)) {
        table_[i] = table_[j];
        i = j;
      }
    }
    table_[i] = Slot{0, kNil};
  }

  MatchingConfig cfg_;
  std::vector<Order> orders_;
  std::vector<PriceLevel> levels_;
  std::uint32_t free_order_ = kNil;
  std::uint32_t free_level_ = kNil;
  SideBook bids_, asks_;
  std::vector<Slot> table_;
  std::size_t mask_ = 0;
  std::size_t live_orders_ = 0;
  std::uint64_t exec_seq_ = 0;
  ExecutionFn exec_fn_;
};

}  // namespace hftx::book
