// hftx/venue/binance/venue.hpp — Binance through the venue seam: what it declares about itself (markets, options,
// instrument names) and the traits a session is instantiated with.
//
// Threading contract: constants and types.
//
// The traits (docs/ARCHITECTURE.md, "The seam"):
//  - MdParser, Sync<Book>, make_sync(): one parser and one book-sync per instrument (md_parser.hpp, book_sync.hpp);
//  - FeedProtocol: the market connection's URL and routing (stream.hpp);
//  - OrderCodec: requests out, answers and execution reports in (order_codec.hpp);
//  - kTopFirst: a depth diff's top is predicted from its first levels and acted on before the rest is read;
//  - kSnapshotsByRequest: snapshots are asked for on the WebSocket API (not in the stream);
//  - kDeferredChecksum: no book checksum to verify after acting;
//  - kTradeBatches: one trade per message.
#pragma once

#include <array>
#include <memory>
#include <string_view>

#include "hftx/core/fixed_point.hpp"
#include "hftx/venue/binance/book_sync.hpp"
#include "hftx/venue/binance/markets.hpp"
#include "hftx/venue/binance/md_parser.hpp"
#include "hftx/venue/binance/order_codec.hpp"
#include "hftx/venue/binance/sim_dialect.hpp"
#include "hftx/venue/binance/stream.hpp"
#include "hftx/venue/venue.hpp"

namespace hftx::venue::binance {

inline constexpr std::array<MarketSpec, 3> kMarketSpecs{{
    {"spot", endpoints(Market::spot).market_url, endpoints(Market::spot).api_url},
    {"usdm", endpoints(Market::usdm).market_url, endpoints(Market::usdm).api_url},
    {"coinm", endpoints(Market::coinm).market_url, endpoints(Market::coinm).api_url},
}};
inline constexpr std::array<std::string_view, 2> kDepthStreams{"depth", "depth@100ms"};
inline constexpr std::array<std::string_view, 3> kLogon{"auto", "always", "never"};
inline constexpr std::array<OptionSpec, 3> kOptionSpecs{{
    {"depth_stream", OptionKind::choice, "depth@100ms", kDepthStreams, 0, 0,
     "the diff stream: depth (1 s) or depth@100ms"},
    {"session_logon", OptionKind::choice, "auto", kLogon, 0, 0,
     "log the order connection on (Ed25519 keys) so that orders go out unsigned: auto, always or never"},
    {"recv_window_ms", OptionKind::integer, "5000", {}, 1, 60'000, "signed requests' recvWindow, ms"},
}};
inline constexpr std::array<int, 8> kDepthLimits{5, 10, 20, 50, 100, 500, 1000, 5000};

// BTCUSDT, BTCUSD_PERP: upper-case letters and digits (COIN-M adds _), 2 to 20 characters.
constexpr bool valid_symbol(std::string_view s) noexcept {
  if (s.size() < 2 || s.size() > 20 || s[0] == '_') return false;
  for (char c : s)
    if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_')) return false;
  return true;
}
// newClientOrderId is at most 36 characters: the prefix and up to 20 digits.
constexpr bool valid_client_id_prefix(std::string_view s) noexcept {
  if (s.size() > 16) return false;
  for (char c : s)
    if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-'))
      return false;
  return true;
}

inline constexpr VenueInfo kInfo{
    "binance",
    "Binance spot, USD-M and COIN-M futures: combined market streams and the WebSocket API",
    kMarketSpecs,
    kOptionSpecs,
    "^[A-Z0-9][A-Z0-9_]{1,19}$",
    &valid_symbol,
    "^[A-Za-z0-9_-]{0,16}$",
    &valid_client_id_prefix,
    kDepthLimits,
};

// The session's traits for Binance.
struct Venue {
  static constexpr std::string_view kName = "binance";
  static constexpr bool kTopFirst = true;
  static constexpr bool kSnapshotsByRequest = true;
  static constexpr bool kDeferredChecksum = false;
  static constexpr bool kTradeBatches = false;  // one trade per message

  using MdParser = binance::MdParser;
  template <class Book>
  using Sync = BasicBookSync<Book>;
  using FeedProtocol = StreamProtocol;
  // The registry's entry (cpp/src/registry.cpp): the venue's facts and its simulator dialect.
  static constexpr const VenueInfo& info() noexcept { return kInfo; }
  static sim::DialectInfo sim_dialect() { return sim_dialect_info(); }
  using OrderCodec = binance::OrderCodec;

  template <class Book>
  static std::unique_ptr<Sync<Book>> make_sync(Book& book, const VenueConfig& cfg, const Scale&, const Scale&) {
    return std::make_unique<Sync<Book>>(book, *market_from_string(cfg.market));
  }
};

}  // namespace hftx::venue::binance
