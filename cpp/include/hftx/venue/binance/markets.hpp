// hftx/venue/binance/markets.hpp — Binance's markets, their public endpoints, and the order each market's
// depth diffs list their levels in.
//
// Threading contract: constants and pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace hftx::venue::binance {

enum class Market : std::uint8_t { spot, usdm, coinm };

[[nodiscard]] constexpr std::string_view to_string(Market m) noexcept {
  switch (m) {
    case Market::spot: return "spot";
    case Market::usdm: return "usdm";
    case Market::coinm: return "coinm";
  }
  return "unknown";
}

[[nodiscard]] constexpr std::optional<Market> market_from_string(std::string_view s) noexcept {
  if (s == "spot") return Market::spot;
  if (s == "usdm") return Market::usdm;
  if (s == "coinm") return Market::coinm;
  return std::nullopt;
}

// The public endpoints of a market: combined streams and the WebSocket API.
struct Endpoints {
  std::string_view market_url;
  std::string_view api_url;
};
[[nodiscard]] constexpr Endpoints endpoints(Market m) noexcept {
  switch (m) {
    case Market::spot: return {"wss://stream.binance.com:9443/stream", "wss://ws-api.binance.com:443/ws-api/v3"};
    case Market::usdm: return {"wss://fstream.binance.com/stream", "wss://ws-fapi.binance.com/ws-fapi/v1"};
    case Market::coinm: return {"wss://dstream.binance.com/stream", "wss://ws-dapi.binance.com/ws-dapi/v1"};
  }
  return {};
}

// The order of a depth diff's bid levels as Binance sends them, where it is known: on every recorded diff,
// spot bids by falling price and USD-M futures bids by rising price (asks by rising price on both). COIN-M
// is not recorded. Acting on a diff top first (BasicL2Book::predict_top()) reads each side best first:
// USD-M bids from the end of their array.
enum class BidOrder : std::uint8_t { falling, rising, unknown };
[[nodiscard]] constexpr BidOrder diff_bid_order(Market m) noexcept {
  return m == Market::spot ? BidOrder::falling : m == Market::usdm ? BidOrder::rising : BidOrder::unknown;
}

}  // namespace hftx::venue::binance
