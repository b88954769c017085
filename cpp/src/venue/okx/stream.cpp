// OKX's public connection: message classification and subscription requests. See hftx/venue/okx/stream.hpp.
#include "hftx/venue/okx/stream.hpp"

#include "hftx/venue/okx/venue.hpp"

#include <cstring>

namespace hftx::venue::okx {

namespace {

// A tolerant forward walk over JSON text for the members classify() wants: whitespace, escapes and nesting are
// stepped over, never interpreted. Every read is bounds-checked against end.
struct Walk {
  const char* p;
  const char* end;

  void ws() noexcept {
    while (p != end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')) ++p;
  }
  bool ch(char c) noexcept {
    ws();
    if (p == end || *p != c) return false;
    ++p;
    return true;
  }
  bool at(char c) noexcept {
    ws();
    return p != end && *p == c;
  }
  // A string's contents as written (p at its opening quote).
  bool string(std::string_view& out) noexcept {
    if (!ch('"')) return false;
    const char* const s = p;
    for (; p != end; ++p) {
      if (*p == '\\') {
        if (++p == end) return false;
      } else if (*p == '"') {
        out = std::string_view(s, static_cast<std::size_t>(p - s));
        ++p;
        return true;
      }
    }
    return false;
  }
  // A scalar's text (a number, true, false, null): up to the next delimiter.
  bool scalar(std::string_view& out) noexcept {
    ws();
    const char* const s = p;
    while (p != end && *p != ',' && *p != '}' && *p != ']' && *p != ' ' && *p != '\t' && *p != '\n' && *p != '\r' &&
           *p != '"' && *p != '{' && *p != '[' && *p != ':')
      ++p;
    out = std::string_view(s, static_cast<std::size_t>(p - s));
    return p != s;
  }
  // Any value: strings and nesting respected.
  bool skip() noexcept {
    ws();
    if (p == end) return false;
    std::string_view sv;
    if (*p == '"') return string(sv);
    if (*p != '{' && *p != '[') return scalar(sv);
    int depth = 0;
    do {
      if (*p == '"') {
        if (!string(sv)) return false;
        continue;
      }
      if (*p == '{' || *p == '[') ++depth;
      else if (*p == '}' || *p == ']') --depth;
      ++p;
    } while (depth > 0 && p != end);
    return depth == 0;
  }
  // After a member: ',' (true in more) or the object's '}' (false).
  bool next(bool& more) noexcept {
    ws();
    if (p == end) return false;
    if (*p == ',') more = true;
    else if (*p == '}') more = false;
    else return false;
    ++p;
    return true;
  }
};

// arg's channel and instId.
bool walk_arg(Walk& w, Classified& out) noexcept {
  if (!w.ch('{')) return false;
  if (w.at('}')) return w.ch('}');
  for (bool more = true; more;) {
    std::string_view key;
    if (!w.string(key) || !w.ch(':')) return false;
    bool ok;
    if (key == "channel") ok = w.string(out.channel);
    else if (key == "instId") ok = w.string(out.inst_id);
    else ok = w.skip();
    if (!ok || !w.next(more)) return false;
  }
  return true;
}

EventType event_type(std::string_view e) noexcept {
  if (e == "subscribe") return EventType::subscribe;
  if (e == "unsubscribe") return EventType::unsubscribe;
  if (e == "error") return EventType::error;
  if (e == "notice") return EventType::notice;
  return EventType::other;
}

Classified classify_walk(std::string_view text) noexcept {
  Classified out;
  Walk w{text.data(), text.data() + text.size()};
  bool have_event = false, have_arg = false, have_data = false;
  if (!w.ch('{')) return out;
  if (w.at('}')) return out;
  for (bool more = true; more;) {
    std::string_view key;
    if (!w.string(key) || !w.ch(':')) return Classified{};
    bool ok;
    if (key == "event") {
      ok = w.string(out.event_name);
      have_event = true;
    } else if (key == "arg") {
      ok = walk_arg(w, out);
      have_arg = true;
    } else if (key == "code") {
      ok = w.at('"') ? w.string(out.code) : w.scalar(out.code);
    } else if (key == "msg") {
      ok = w.string(out.msg);
    } else if (key == "data") {
      have_data = true;
      if (have_arg && !have_event) break;  // routed: the rest is the parser's to read
      ok = w.skip();
    } else {
      ok = w.skip();
    }
    if (!ok || !w.next(more)) return Classified{};
  }
  if (have_event) {
    out.type = MessageType::event;
    out.event = event_type(out.event_name);
    return out;
  }
  if (have_arg && have_data && !out.channel.empty()) {
    out.type = channel_type(out.channel);
    return out;
  }
  return Classified{};
}

// The name of a channel or instrument, checked: nothing that would need escaping.
bool plain_name(std::string_view s) noexcept {
  if (s.empty()) return false;
  for (const char c : s)
    if (c == '"' || c == '\\' || static_cast<unsigned char>(c) < 0x20) return false;
  return true;
}

struct Writer {
  std::span<char> out;
  std::size_t len = 0;
  bool ok = true;
  void put(std::string_view s) noexcept {
    if (!ok || out.size() - len < s.size()) {
      ok = false;
      return;
    }
    std::memcpy(out.data() + len, s.data(), s.size());
    len += s.size();
  }
};

}  // namespace

MessageType channel_type(std::string_view channel) noexcept {
  if (book_channel_from_string(channel)) return MessageType::book;
  if (channel == "trades" || channel == "trades-all") return MessageType::trade;
  return MessageType::other_channel;
}

Classified classify(std::string_view text) noexcept {
  // OKX's own layout of a data message, read directly: {"arg":{"channel":"C","instId":"I"},
  constexpr std::string_view kHead = R"({"arg":{"channel":")";
  constexpr std::string_view kMid = R"(","instId":")";
  if (text.starts_with(kHead)) {
    const std::size_t c0 = kHead.size();
    const std::size_t c1 = text.find_first_of("\"\\", c0);
    if (c1 != std::string_view::npos && text[c1] == '"' && text.substr(c1).starts_with(kMid)) {
      const std::size_t i0 = c1 + kMid.size();
      const std::size_t i1 = text.find_first_of("\"\\", i0);
      // Then the arg closes and "action" or "data" follows: nothing else can be an event.
      if (i1 != std::string_view::npos && text[i1] == '"' &&
          (text.substr(i1 + 1).starts_with(R"(},"data":)") || text.substr(i1 + 1).starts_with(R"(},"action":)"))) {
        Classified out;
        out.channel = text.substr(c0, c1 - c0);
        out.inst_id = text.substr(i0, i1 - i0);
        out.type = channel_type(out.channel);
        return out;
      }
    }
  }
  std::string_view t = text;
  const auto space = [](char c) { return c == ' ' || c == '\n' || c == '\r' || c == '\t'; };
  while (!t.empty() && space(t.back())) t.remove_suffix(1);
  while (!t.empty() && space(t.front())) t.remove_prefix(1);
  if (t == "pong") {
    Classified out;
    out.type = MessageType::pong;
    return out;
  }
  return classify_walk(text);
}

std::size_t encode_op(Op op, std::span<const ChannelArg> args, std::span<char> out) noexcept {
  if (args.empty()) return 0;
  Writer w{out};
  w.put(op == Op::subscribe ? R"({"op":"subscribe","args":[)" : R"({"op":"unsubscribe","args":[)");
  for (std::size_t i = 0; i < args.size(); ++i) {
    if (!plain_name(args[i].channel) || !plain_name(args[i].inst_id)) return 0;
    if (i != 0) w.put(",");
    w.put(R"({"channel":")");
    w.put(args[i].channel);
    w.put(R"(","instId":")");
    w.put(args[i].inst_id);
    w.put(R"("})");
  }
  w.put("]}");
  return w.ok ? w.len : 0;
}

std::size_t encode_resubscribe(BookChannel channel, std::string_view inst_id, std::span<char> out) noexcept {
  const ChannelArg arg{to_string(channel), inst_id};
  return encode_op(Op::subscribe, std::span<const ChannelArg>(&arg, 1), out);
}

// ---- the session's market feed -----------------------------------------------------------------------------

StreamProtocol::StreamProtocol(const VenueConfig& cfg, std::vector<std::string> symbols)
    : channel_(*book_channel_from_string(option_value(cfg, kInfo, "channel"))), symbols_(std::move(symbols)) {
  std::size_t longest = 0;
  for (const std::string& s : symbols_) longest = std::max(longest, s.size());
  args_.reserve(2 * kPerRequest);
  // {"op":"subscribe","args":[ then per instrument two {"channel":"..","instId":".."} objects.
  buf_.resize(64 + 2 * kPerRequest * (48 + longest));
}

std::size_t StreamProtocol::encode_subscriptions(std::size_t from, std::size_t to) noexcept {
  args_.clear();
  for (std::size_t i = from; i < to; ++i) {
    args_.push_back(ChannelArg{to_string(channel_), symbols_[i]});
    args_.push_back(ChannelArg{"trades", symbols_[i]});
  }
  return encode_subscribe(args_, buf_);
}

int StreamProtocol::route(std::string_view data) const noexcept {
  const Classified c = classify(data);
  switch (c.type) {
    case MessageType::book:
    case MessageType::trade:
      for (std::size_t i = 0; i < symbols_.size(); ++i)
        if (symbols_[i] == c.inst_id) return static_cast<int>(i);
      return -1;
    case MessageType::event: return c.event == EventType::error ? -1 : kControl;
    case MessageType::pong:
    case MessageType::other_channel: return kControl;
    case MessageType::other: return -1;
  }
  return -1;
}

}  // namespace hftx::venue::okx
