// hftx/md/events.hpp — plain market-data event structs produced by the venue parsers.
//
// Threading contract: value types only; safe to copy between threads. Level spans (DepthUpdate::bids, ...)
// point into the caller-owned level buffer handed to the parser and stay valid until the caller reuses it.
//
// Prices and quantities are fixed-point step counts (hftx::Price / hftx::Qty) in the instrument's Scale,
// parsed from the venue's decimal strings without doubles. Every event carries the venue's timestamps
// (milliseconds, as Binance sends them) and our receive timestamp (whatever clock the caller passes,
// normally TscClock ns or the recorder's ns).
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
  static constexpr std::size_t kCapacity = 23;
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
  depth_update,    // depthUpdate diff (spot: U/u; futures: U/u/pu)
  book_ticker,     // bookTicker (spot: no e/E; futures: e/E/T)
  trade,           // trade
  agg_trade,       // aggTrade
  depth_snapshot,  // REST /depth body or WebSocket-API depth result
};

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
  std::uint64_t first_id = 0;      // U
  std::uint64_t last_id = 0;       // u
  std::uint64_t prev_last_id = 0;  // pu (futures only; has_prev says whether it was present)
  bool has_prev = false;
  std::span<const Level> bids;
  std::span<const Level> asks;
};

struct BookTicker {
  std::uint64_t update_id = 0;  // u
  Price bid_price;
  Qty bid_qty;
  Price ask_price;
  Qty ask_qty;
};

// Futures trades carry X: the kind of trade.
enum class TradeType : std::uint8_t { unspecified, market, liquidation, insurance_fund, adl, na, other };

struct Trade {
  std::uint64_t id = 0;  // t
  Price price;
  Qty qty;
  bool buyer_is_maker = false;  // m
  TradeType type = TradeType::unspecified;
};

struct AggTrade {
  std::uint64_t id = 0;  // a
  Price price;
  Qty qty;
  std::uint64_t first_trade_id = 0;  // f
  std::uint64_t last_trade_id = 0;   // l
  bool buyer_is_maker = false;
};

struct DepthSnapshot {
  std::uint64_t last_update_id = 0;
  std::span<const Level> bids;
  std::span<const Level> asks;
};

// One parsed message. Only the member named by `kind` is meaningful.
struct MdMessage {
  MdKind kind = MdKind::none;
  Symbol symbol;                   // s (empty in snapshots, which do not carry it)
  std::int64_t recv_ns = 0;        // ours: passed by the caller
  std::int64_t event_time_ms = 0;  // E (0 when absent)
  std::int64_t transact_time_ms = 0;  // T (trade time / transaction time; 0 when absent)
  std::string_view stream;         // the envelope's "stream" (points into the input), empty when raw
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
  if (a.kind != b.kind || !(a.symbol == b.symbol) || a.recv_ns != b.recv_ns || a.event_time_ms != b.event_time_ms ||
      a.transact_time_ms != b.transact_time_ms || a.stream != b.stream)
    return false;
  switch (a.kind) {
    case MdKind::depth_update:
      return a.depth.first_id == b.depth.first_id && a.depth.last_id == b.depth.last_id &&
             a.depth.has_prev == b.depth.has_prev &&
             (!a.depth.has_prev || a.depth.prev_last_id == b.depth.prev_last_id) &&
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
      return a.snapshot.last_update_id == b.snapshot.last_update_id && same_levels(a.snapshot.bids, b.snapshot.bids) &&
             same_levels(a.snapshot.asks, b.snapshot.asks);
    case MdKind::none:
      return true;
  }
  return false;
}

}  // namespace hftx::md
