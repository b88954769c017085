// hftx/venue/okx/venue.hpp — OKX through the venue seam: what it declares about itself (markets, options,
// instrument names) and the traits a session is instantiated with.
//
// Threading contract: constants and types.
//
// The traits (docs/ARCHITECTURE.md, "The seam"): MdParser, Sync<Book>, make_sync() (md_parser.hpp,
// book_sync.hpp); FeedProtocol (stream.hpp: the subscriptions, routing by instId, resubscribing a book, the
// keep-alive); OrderCodec (order_codec.hpp). What differs from Binance:
//  - kTopFirst false: OKX's diffs are small (tick by tick), applied whole;
//  - kSnapshotsByRequest false: a snapshot comes in the stream after each (re)subscription, and a book that
//    falls out of step resubscribes its channel;
//  - kDeferredChecksum true: the CRC32 of the top 25 levels is verified just after the strategies acted;
//  - kTradeBatches true: a trades message may carry several.
#pragma once

#include <array>
#include <memory>
#include <string_view>

#include "hftx/core/fixed_point.hpp"
#include "hftx/venue/okx/book_sync.hpp"
#include "hftx/venue/okx/markets.hpp"
#include "hftx/venue/okx/md_parser.hpp"
#include "hftx/venue/okx/order_codec.hpp"
#include "hftx/venue/okx/sim_dialect.hpp"
#include "hftx/venue/okx/stream.hpp"
#include "hftx/venue/venue.hpp"

namespace hftx::venue::okx {

inline constexpr std::array<MarketSpec, 4> kMarketSpecs{{
    {"spot", kEndpoints.market_url, kEndpoints.api_url},
    {"swap", kEndpoints.market_url, kEndpoints.api_url},
    {"futures", kEndpoints.market_url, kEndpoints.api_url},
    {"option", kEndpoints.market_url, kEndpoints.api_url},
}};
inline constexpr std::array<std::string_view, 5> kChannels{"books", "books5", "bbo-tbt", "books-l2-tbt",
                                                           "books50-l2-tbt"};
inline constexpr std::array<std::string_view, 4> kTdModes{"auto", "cash", "cross", "isolated"};
inline constexpr std::array<OptionSpec, 3> kOptionSpecs{{
    {"channel", OptionKind::choice, "books", kChannels, 0, 0,
     "the book channel: books (400 levels, 100 ms), books5, bbo-tbt, books-l2-tbt or books50-l2-tbt (tick by tick)"},
    {"passphrase_env", OptionKind::env_name, "HFTX_PASSPHRASE", {}, 0, 0,
     "the environment variable holding the API key's passphrase"},
    {"td_mode", OptionKind::choice, "auto", kTdModes, 0, 0,
     "trade mode: auto (cash on spot, cross elsewhere), cash, cross or isolated"},
}};

// BTC-USDT, BTC-USDT-SWAP, ETH-USD-220624-20000-C: upper-case letters and digits in 2 to 6 parts joined by '-'.
constexpr bool valid_symbol(std::string_view s) noexcept {
  if (s.size() < 3 || s.size() > 31 || s.front() == '-' || s.back() == '-') return false;
  int dashes = 0;
  char prev = '-';
  for (char c : s) {
    if (c == '-') {
      if (prev == '-') return false;
      ++dashes;
    } else if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))) {
      return false;
    }
    prev = c;
  }
  return dashes >= 1 && dashes <= 5;
}
// clOrdId is alphanumeric, at most 32 characters: the prefix and up to 20 digits.
constexpr bool valid_client_id_prefix(std::string_view s) noexcept {
  if (s.size() > kMaxClientIdPrefix) return false;
  for (char c : s)
    if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))) return false;
  return true;
}

inline constexpr VenueInfo kInfo{
    "okx",
    "OKX v5: public order-book and trade channels, the private WebSocket API (login, orders, the orders channel)",
    kMarketSpecs,
    kOptionSpecs,
    "^[A-Z0-9]+(-[A-Z0-9]+){1,5}$",
    &valid_symbol,
    "^[A-Za-z0-9]{0,12}$",
    &valid_client_id_prefix,
    {},
};

// The session's traits for OKX.
struct Venue {
  static constexpr std::string_view kName = "okx";
  static constexpr bool kTopFirst = false;
  static constexpr bool kSnapshotsByRequest = false;
  static constexpr bool kDeferredChecksum = true;
  static constexpr bool kTradeBatches = true;

  using MdParser = okx::MdParser;
  template <class Book>
  using Sync = BasicBookSync<Book>;
  using FeedProtocol = StreamProtocol;
  // The registry's entry (cpp/src/registry.cpp): the venue's facts and its simulator dialect.
  static constexpr const VenueInfo& info() noexcept { return kInfo; }
  static sim::DialectInfo sim_dialect() { return sim_dialect_info(); }
  using OrderCodec = okx::OrderCodec;

  template <class Book>
  static std::unique_ptr<Sync<Book>> make_sync(Book& book, const VenueConfig&, const Scale& price_scale,
                                               const Scale& qty_scale) {
    auto sync = std::make_unique<Sync<Book>>(book, price_scale, qty_scale);
    sync->set_defer_checksum(true);  // verified just after the strategies acted (MarketFeed::verify)
    return sync;
  }
};

}  // namespace hftx::venue::okx
