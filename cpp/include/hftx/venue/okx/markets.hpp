// hftx/venue/okx/markets.hpp — OKX's markets (instrument types), its public endpoints and its order-book
// channels.
//
// Threading contract: constants and pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace hftx::venue::okx {

// OKX instrument types (instType). Spot trades in cash; swaps and futures on margin (venue.td_mode).
enum class Market : std::uint8_t { spot, swap, futures, option };

[[nodiscard]] constexpr std::string_view to_string(Market m) noexcept {
  switch (m) {
    case Market::spot: return "spot";
    case Market::swap: return "swap";
    case Market::futures: return "futures";
    case Market::option: return "option";
  }
  return "unknown";
}
// OKX's own spelling (instType): SPOT, SWAP, FUTURES, OPTION.
[[nodiscard]] constexpr std::string_view inst_type(Market m) noexcept {
  switch (m) {
    case Market::spot: return "SPOT";
    case Market::swap: return "SWAP";
    case Market::futures: return "FUTURES";
    case Market::option: return "OPTION";
  }
  return "ANY";
}
[[nodiscard]] constexpr std::optional<Market> market_from_string(std::string_view s) noexcept {
  if (s == "spot") return Market::spot;
  if (s == "swap") return Market::swap;
  if (s == "futures") return Market::futures;
  if (s == "option") return Market::option;
  return std::nullopt;
}

// The public endpoints (the same for every market): public streams, and the private connection that logs in,
// trades and carries the `orders` channel.
struct Endpoints {
  std::string_view market_url;
  std::string_view api_url;
};
inline constexpr Endpoints kEndpoints{"wss://ws.okx.com:8443/ws/v5/public", "wss://ws.okx.com:8443/ws/v5/private"};

// Order-book channels. books, books-l2-tbt and books50-l2-tbt send a snapshot, then incremental updates
// (`action`), checked by `checksum` and, in newer messages, seqId/prevSeqId; books5 and bbo-tbt send the top
// levels whole in every message.
enum class BookChannel : std::uint8_t { books, books5, bbo_tbt, books_l2_tbt, books50_l2_tbt };

[[nodiscard]] constexpr std::string_view to_string(BookChannel c) noexcept {
  switch (c) {
    case BookChannel::books: return "books";
    case BookChannel::books5: return "books5";
    case BookChannel::bbo_tbt: return "bbo-tbt";
    case BookChannel::books_l2_tbt: return "books-l2-tbt";
    case BookChannel::books50_l2_tbt: return "books50-l2-tbt";
  }
  return "unknown";
}
[[nodiscard]] constexpr std::optional<BookChannel> book_channel_from_string(std::string_view s) noexcept {
  if (s == "books") return BookChannel::books;
  if (s == "books5") return BookChannel::books5;
  if (s == "bbo-tbt") return BookChannel::bbo_tbt;
  if (s == "books-l2-tbt") return BookChannel::books_l2_tbt;
  if (s == "books50-l2-tbt") return BookChannel::books50_l2_tbt;
  return std::nullopt;
}
// Levels per side the channel carries (400 for the full-depth channels).
[[nodiscard]] constexpr int depth(BookChannel c) noexcept {
  switch (c) {
    case BookChannel::books: return 400;
    case BookChannel::books5: return 5;
    case BookChannel::bbo_tbt: return 1;
    case BookChannel::books_l2_tbt: return 400;
    case BookChannel::books50_l2_tbt: return 50;
  }
  return 0;
}
// Whether the channel sends a snapshot and then updates (else every message is the whole top).
[[nodiscard]] constexpr bool incremental(BookChannel c) noexcept {
  return c == BookChannel::books || c == BookChannel::books_l2_tbt || c == BookChannel::books50_l2_tbt;
}

}  // namespace hftx::venue::okx
