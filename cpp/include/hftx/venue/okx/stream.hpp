// hftx/venue/okx/stream.hpp — OKX's public market connection: telling its messages apart cheaply, and the
// subscription requests.
//
// Threading contract: pure functions on caller-owned buffers; any thread.
//
// classify() looks at a received text just far enough to route it: book data and trade data (to the
// instrument's MdParser, by the channel and instId it returns), data of another channel, an `event` message
// (subscribe / unsubscribe acknowledgements, errors with their code and msg, notices), the text `pong`, or
// other (not an OKX message: the parser names what is wrong with it). It does not check the rest of the
// message; the parser does. OKX writes `{"arg":{"channel":..,"instId":..},...` first in every data message:
// that prefix is read directly; any other layout is walked member by member (values skipped, strings and
// nesting respected), stopping at "data".
//
// Encoders write `{"op":"subscribe"|"unsubscribe","args":[{"channel":..,"instId":..},..]}` into a caller buffer
// and return its length, or 0 when it does not fit, there are no arguments, or a name holds a character that
// would need escaping (a quote, a backslash, a control character): nothing is written that OKX would misread.
// No allocation.
//
// Resubscribing: OKX answers a subscription of a channel the connection already has with a new snapshot (in
// the recording okx_books-l2-tbt_20220227.gz the books-l2-tbt subscriptions were sent twice, and every
// instrument's book came twice: 20 snapshots for 10 instruments), so a book that lost its sync is resynced
// by subscribing its book channel again (encode_resubscribe()); unsubscribing first is not needed, and would
// leave a moment with no subscription at all.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <algorithm>
#include <vector>
#include <string>

#include "hftx/core/types.hpp"
#include "hftx/venue/okx/markets.hpp"
#include "hftx/venue/venue.hpp"

namespace hftx::venue::okx {

enum class MessageType : std::uint8_t {
  book,           // data of a book channel (books, books5, bbo-tbt, books-l2-tbt, books50-l2-tbt)
  trade,          // data of trades / trades-all
  other_channel,  // data of another channel (tickers, ...): channel and inst_id say which
  event,          // {"event":...}
  pong,           // the text "pong" (the answer to "ping")
  other,          // none of these
};

enum class EventType : std::uint8_t { none, subscribe, unsubscribe, error, notice, other };

[[nodiscard]] constexpr std::string_view to_string(MessageType t) noexcept {
  switch (t) {
    case MessageType::book: return "book";
    case MessageType::trade: return "trade";
    case MessageType::other_channel: return "other_channel";
    case MessageType::event: return "event";
    case MessageType::pong: return "pong";
    case MessageType::other: return "other";
  }
  return "unknown";
}
[[nodiscard]] constexpr std::string_view to_string(EventType t) noexcept {
  switch (t) {
    case EventType::none: return "none";
    case EventType::subscribe: return "subscribe";
    case EventType::unsubscribe: return "unsubscribe";
    case EventType::error: return "error";
    case EventType::notice: return "notice";
    case EventType::other: return "other";
  }
  return "unknown";
}

// What classify() found. Views point into the text (string contents as sent: escapes are not decoded).
struct Classified {
  MessageType type = MessageType::other;
  EventType event = EventType::none;
  std::string_view channel;  // data: arg.channel; event: its arg's channel, where it has one
  std::string_view inst_id;  // data: arg.instId; event: its arg's instId, where it has one
  std::string_view event_name;  // event: the value of "event"
  std::string_view code;        // event: "code" (a string or a number's text), where present
  std::string_view msg;         // event: "msg", where present
};

// Never throws, never reads outside `text`.
[[nodiscard]] Classified classify(std::string_view text) noexcept;

// The channel name's type of data: book, trade or other_channel.
[[nodiscard]] MessageType channel_type(std::string_view channel) noexcept;

// ---- requests ----------------------------------------------------------------------------------------

struct ChannelArg {
  std::string_view channel;
  std::string_view inst_id;
};

enum class Op : std::uint8_t { subscribe, unsubscribe };

// `{"op":..,"args":[..]}` into out; its length, or 0 (see the header comment).
[[nodiscard]] std::size_t encode_op(Op op, std::span<const ChannelArg> args, std::span<char> out) noexcept;
[[nodiscard]] inline std::size_t encode_subscribe(std::span<const ChannelArg> args, std::span<char> out) noexcept {
  return encode_op(Op::subscribe, args, out);
}
[[nodiscard]] inline std::size_t encode_unsubscribe(std::span<const ChannelArg> args, std::span<char> out) noexcept {
  return encode_op(Op::unsubscribe, args, out);
}
// The subscription of one instrument's book channel again, after a checksum mismatch or a broken sequence: OKX
// then sends a new snapshot.
[[nodiscard]] std::size_t encode_resubscribe(BookChannel channel, std::string_view inst_id,
                                             std::span<char> out) noexcept;

// The keep-alive OKX expects when a connection has been quiet (it closes one silent for 30 s): the text "ping",
// answered by "pong".
inline constexpr std::string_view kPing = "ping";

// ---- the session's market feed -----------------------------------------------------------------------------

// OKX's public connection as a session's market feed uses it (session/market_feed.hpp): subscribe every
// instrument's book channel and trades when the connection opens, route each message by its instId, resubscribe a
// book that fell out of step (OKX answers with a new snapshot), and send `ping` every 20 s (OKX closes a
// connection quiet for 30 s). No allocation after construction: the requests are written into a buffer sized here.
//
// Threading contract: built on the configuring thread; the rest on the feed thread.
class StreamProtocol {
 public:
  static constexpr int kControl = -2;  // route(): an answer to a subscription, a pong: not market data

  // `symbols`: the instruments (instIds), in InstrumentId order. venue.channel picks the book channel.
  StreamProtocol(const VenueConfig& cfg, std::vector<std::string> symbols);

  // The public endpoint as configured: OKX subscribes by request, not by URL.
  [[nodiscard]] std::string url(const std::string& base) const { return base; }

  template <class Send>
  void on_open(Send&& send) {
    for (std::size_t at = 0; at < symbols_.size(); at += kPerRequest) {
      const std::size_t n = encode_subscriptions(at, std::min(symbols_.size(), at + kPerRequest));
      if (n != 0) (void)send(std::string_view(buf_.data(), n));
    }
  }
  template <class Send>
  void resubscribe(InstrumentId i, Send&& send) {
    const std::size_t n = encode_resubscribe(channel_, symbols_[i], buf_);
    if (n != 0) (void)send(std::string_view(buf_.data(), n));
  }
  template <class Send>
  void poll(std::int64_t now_ns, Send&& send) {
    if (now_ns - last_ping_ns_ < kPingIntervalNs) return;
    last_ping_ns_ = now_ns;
    (void)send(kPing);
  }

  // The instrument a message is for; kControl for a subscription's answer or a pong; -1 for anything else (an
  // error event, an instrument or channel not subscribed, not OKX's).
  [[nodiscard]] int route(std::string_view data) const noexcept;

 private:
  static constexpr std::size_t kPerRequest = 20;  // instruments per subscribe request
  static constexpr std::int64_t kPingIntervalNs = 20'000'000'000;
  std::size_t encode_subscriptions(std::size_t from, std::size_t to) noexcept;

  BookChannel channel_;
  std::vector<std::string> symbols_;
  std::vector<ChannelArg> args_;
  std::vector<char> buf_;
  std::int64_t last_ping_ns_ = 0;
};

}  // namespace hftx::venue::okx
