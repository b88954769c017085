// hftx/venue/binance/stream.hpp — Binance's market stream as a session's market feed uses it: the combined-stream
// URL that subscribes every instrument, and routing a message to its instrument.
//
// Threading contract: built on the configuring thread; route() on the feed thread (const, no state).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "hftx/core/types.hpp"
#include "hftx/venue/venue.hpp"

namespace hftx::venue::binance {

class StreamProtocol {
 public:
  static constexpr int kControl = -2;  // route(): not market data (never, here: the streams are in the URL)

  // `symbols`: the instruments, in InstrumentId order. venue.depth_stream picks the diff stream.
  StreamProtocol(const VenueConfig& cfg, std::vector<std::string> symbols);

  // `base` + `?streams=<sym>@<depth_stream>/<sym>@bookTicker/<sym>@trade/...`.
  [[nodiscard]] std::string url(const std::string& base) const;
  // Nothing to send when the connection opens: the URL subscribes.
  template <class Send>
  void on_open(Send&&) const noexcept {}
  // No keep-alive of our own: Binance pings and the WebSocket layer answers.
  template <class Send>
  void poll(std::int64_t, Send&&) const noexcept {}
  // Unused: Binance's snapshots are requested on the WebSocket API, not resubscribed.
  template <class Send>
  void resubscribe(InstrumentId, Send&&) const noexcept {}

  // The instrument a message is for, from the head of its envelope (`{"stream":"btcusdt@...`: Binance and the
  // simulator write "stream" first); -1 when none.
  [[nodiscard]] int route(std::string_view data) const noexcept {
    constexpr std::string_view kHead = R"({"stream":")";
    if (keys_.size() == 1) return 0;
    if (data.substr(0, kHead.size()) != kHead) return -1;
    const std::string_view rest = data.substr(kHead.size());
    for (std::size_t i = 0; i < keys_.size(); ++i)
      if (rest.substr(0, keys_[i].size()) == keys_[i]) return static_cast<int>(i);
    return -1;
  }

 private:
  std::vector<std::string> symbols_;  // lower case
  std::vector<std::string> keys_;     // "<symbol>@"
  std::string depth_stream_;
};

}  // namespace hftx::venue::binance
