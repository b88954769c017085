// hftx/core/types.hpp — the trading vocabulary every layer shares: sides, order types, time in force, ids.
//
// Threading contract: value types and constants only.
//
// One home for words that the book, the matching engine, the OMS, risk, strategies, the session and every
// venue module use (docs/ARCHITECTURE.md, "Layers"). A venue module translates its own spelling ("BUY",
// "buy", "LIMIT_MAKER", "post_only") to and from these at its edge; nothing above the venue seam sees a
// venue's words.
#pragma once

#include <cstdint>
#include <string_view>

namespace hftx {

// Book side and order side at once: a bid is a buy, an ask a sell.
enum class Side : std::uint8_t { bid, ask };
enum class OrderType : std::uint8_t { limit, market };
enum class TimeInForce : std::uint8_t { gtc, ioc, fok };

// Position of an instrument in the session's instrument table (the same index in every layer).
using InstrumentId = std::uint16_t;
// Position of a strategy in the session's strategy table.
using StrategyId = std::uint32_t;
// Ours, never 0: sent to the venue as `<prefix><decimal id>` (each venue module's client-id rule).
using ClientOrderId = std::uint64_t;

[[nodiscard]] constexpr Side opposite(Side s) noexcept { return s == Side::bid ? Side::ask : Side::bid; }

[[nodiscard]] constexpr std::string_view to_string(Side s) noexcept { return s == Side::bid ? "bid" : "ask"; }
[[nodiscard]] constexpr std::string_view to_string(OrderType t) noexcept {
  return t == OrderType::limit ? "limit" : "market";
}
[[nodiscard]] constexpr std::string_view to_string(TimeInForce t) noexcept {
  switch (t) {
    case TimeInForce::gtc: return "gtc";
    case TimeInForce::ioc: return "ioc";
    case TimeInForce::fok: return "fok";
  }
  return "unknown";
}

}  // namespace hftx
