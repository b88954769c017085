// hftx/md/events.hpp — the venue-neutral market-data events every venue parser produces.
//
// Threading contract: value types only; safe to copy between threads. Level spans (DepthUpdate::bids, ...)
// point into the caller-owned level buffer handed to the parser and stay valid until the caller reuses it.
//
// The venue seam (docs/ARCHITECTURE.md): a venue module's parser turns the venue's messages into these, and
// nothing above it (book sync rules aside, which live in the venue module too) reads a venue's field names.
//  - Prices and quantities are fixed-point step counts (hftx::Price / hftx::Qty) in the instrument's Scale,
//    parsed from the venue's decimal strings without doubles.
//  - Times are nanoseconds since the Unix epoch: the venue's own (event and transaction time, whatever
//    resolution the venue sends, scaled to ns; 0 when absent) and ours (recv_ns: whatever clock the caller
//    passes, normally TscClock ns or a recording's ns).
//  - A depth message carries a neutral sequence: the first and last update id it covers and, where the venue
//    sends one, the id of the message before it (Binance futures `pu`, OKX `prevSeqId`), plus the venue's
//    checksum of the book it leaves, where the venue sends one (OKX's CRC32 of the top 25 levels).
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <span>
#include <string_view>

#include "hftx/core/fixed_point.hpp"

namespace hftx::md {

// Bytes past the end of a message that the parser may read (simdjson's SIMDJSON_PADDING). Receive
// buffers keep this much readable slack after the data so that parsing needs no copy.
inline constexpr std::size_t kJsonPadding = 64;

// One price level: absolute quantity at a price (0 removes the level).
struct Level {
  Price price;
  Qty qty;
  friend constexpr bool operator==(const Level&, const Level&) noexcept = default;
};

// Short fixed-capacity symbol: no allocation, trivially copyable.
struct Symbol {
  static constexpr std::size_t kCapacity = 31;  // OKX option ids run to 22 characters
  char data[kCapacity] = {};
  std::uint8_t size = 0;

  void assign(std::string_view s) noexcept {
    size = static_cast<std::uint8_t>(std::min(s.size(), kCapacity));
    std::memcpy(data, s.data(), size);
  }
  [[nodiscard]] std::string_view view() const noexcept { return {data, size}; }
  friend bool operator==(const Symbol& a, const Symbol& b) noexcept { return a.view() == b.view(); }
};

enum class MdKind : std::uint8_t {
  none,
  depth_update,    // an incremental book change (absolute quantities per level; 0 removes)
  book_ticker,     // the venue's best bid/ask with the update id it belongs to
  trade,           // one trade
  agg_trade,       // trades aggregated by the venue (Binance aggTrade)
  depth_snapshot,  // a whole book: a REST/API answer (Binance) or a stream's snapshot message (OKX)
};

inline constexpr std::size_t kMdKinds = 6;

// A venue's millisecond time as nanoseconds, saturated (a hostile message's time never overflows).
[[nodiscard]] constexpr std::int64_t ms_to_ns(std::int64_t ms) noexcept {
  constexpr std::int64_t kMax = INT64_MAX / 1'000'000;
  return ms > kMax ? INT64_MAX : ms < -kMax ? INT64_MIN : ms * 1'000'000;
}

[[nodiscard]] constexpr std::string_view to_string(MdKind k) noexcept {
  switch (k) {
    case MdKind::none: return "none";
    case MdKind::depth_update: return "depth_update";
    case MdKind::book_ticker: return "book_ticker";
    case MdKind::trade: return "trade";
    case MdKind::agg_trade: return "agg_trade";
    case MdKind::depth_snapshot: return "depth_snapshot";
  }
  return "unknown";
}

struct DepthUpdate {
  std::uint64_t first_id = 0;      // the first update id the message covers (Binance U; OKX seqId)
  std::uint64_t last_id = 0;       // the last (Binance u; OKX seqId)
  std::uint64_t prev_last_id = 0;  // the previous message's last id, where sent (has_prev): Binance pu, OKX prevSeqId
  bool has_prev = false;
  bool has_checksum = false;       // the venue's checksum of the book after this message (OKX: non-zero `checksum`)
  std::int32_t checksum = 0;
  std::span<const Level> bids;
  std::span<const Level> asks;
};

struct BookTicker {
  std::uint64_t update_id = 0;  // the depth update id this top belongs to (Binance u)
  Price bid_price;
  Qty bid_qty;
  Price ask_price;
  Qty ask_qty;
};

// The kind of trade, where the venue says (Binance futures X).
enum class TradeType : std::uint8_t { unspecified, market, liquidation, insurance_fund, adl, na, other };

struct Trade {
  std::uint64_t id = 0;  // the venue's trade id
  Price price;
  Qty qty;
  bool buyer_is_maker = false;  // the aggressor sold (Binance m; OKX side "sell")
  TradeType type = TradeType::unspecified;
};

struct AggTrade {
  std::uint64_t id = 0;
  Price price;
  Qty qty;
  std::uint64_t first_trade_id = 0;
  std::uint64_t last_trade_id = 0;
  bool buyer_is_maker = false;
};

struct DepthSnapshot {
  std::uint64_t last_update_id = 0;  // the update id the book is at (Binance lastUpdateId; OKX seqId)
  bool has_checksum = false;         // as DepthUpdate
  std::int32_t checksum = 0;
  std::span<const Level> bids;
  std::span<const Level> asks;
};

// One parsed message. Only the member named by `kind` is meaningful.
struct MdMessage {
  MdKind kind = MdKind::none;
  Symbol symbol;                    // the venue's instrument name (empty where the message does not carry it)
  std::int64_t recv_ns = 0;         // ours: passed by the caller
  std::int64_t venue_time_ns = 0;   // the venue's event time (Binance E, OKX ts), ns; 0 when absent
  std::int64_t transact_time_ns = 0;  // trade / transaction time (Binance T), ns; 0 when absent
  std::string_view stream;          // the venue's stream or channel name (points into the input), empty when raw
  DepthUpdate depth;
  BookTicker ticker;
  Trade trade;
  AggTrade agg;
  DepthSnapshot snapshot;
};

// Equal content: the kind, the common fields, the member `kind` names, and the levels by value (the spans
// may point into different buffers). For tests and differential checks (the fast scanner against simdjson).
[[nodiscard]] inline bool same_content(const MdMessage& a, const MdMessage& b) noexcept {
  const auto same_levels = [](std::span<const Level> x, std::span<const Level> y) {
    return std::equal(x.begin(), x.end(), y.begin(), y.end());
  };
  if (a.kind != b.kind || !(a.symbol == b.symbol) || a.recv_ns != b.recv_ns || a.venue_time_ns != b.venue_time_ns ||
      a.transact_time_ns != b.transact_time_ns || a.stream != b.stream)
    return false;
  switch (a.kind) {
    case MdKind::depth_update:
      return a.depth.first_id == b.depth.first_id && a.depth.last_id == b.depth.last_id &&
             a.depth.has_prev == b.depth.has_prev &&
             (!a.depth.has_prev || a.depth.prev_last_id == b.depth.prev_last_id) &&
             a.depth.has_checksum == b.depth.has_checksum && a.depth.checksum == b.depth.checksum &&
             same_levels(a.depth.bids, b.depth.bids) && same_levels(a.depth.asks, b.depth.asks);
    case MdKind::book_ticker:
      return a.ticker.update_id == b.ticker.update_id && a.ticker.bid_price == b.ticker.bid_price &&
             a.ticker.bid_qty == b.ticker.bid_qty && a.ticker.ask_price == b.ticker.ask_price &&
             a.ticker.ask_qty == b.ticker.ask_qty;
    case MdKind::trade:
      return a.trade.id == b.trade.id && a.trade.price == b.trade.price && a.trade.qty == b.trade.qty &&
             a.trade.buyer_is_maker == b.trade.buyer_is_maker && a.trade.type == b.trade.type;
    case MdKind::agg_trade:
      return a.agg.id == b.agg.id && a.agg.price == b.agg.price && a.agg.qty == b.agg.qty &&
             a.agg.first_trade_id == b.agg.first_trade_id && a.agg.last_trade_id == b.agg.last_trade_id &&
             a.agg.buyer_is_maker == b.agg.buyer_is_maker;
    case MdKind::depth_snapshot:
      return a.snapshot.last_update_id == b.snapshot.last_update_id &&
             a.snapshot.has_checksum == b.snapshot.has_checksum && a.snapshot.checksum == b.snapshot.checksum &&
             same_levels(a.snapshot.bids, b.snapshot.bids) &&
             same_levels(a.snapshot.asks, b.snapshot.asks);
    case MdKind::none:
      return true;
  }
  return false;
}

}  // namespace hftx::md
