// The RFC 6455 opening handshake and URL parsing (setup-time code).
// GCC 12 reports -Wrestrict false positives for std::string operator+ at -O3 (GCC PR 105651).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wrestrict"
#endif
#include "hftx/net/ws_handshake.hpp"

#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include <algorithm>
#include <cctype>
#include <charconv>

namespace hftx::net {
namespace {

constexpr std::string_view kGuid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i])))
      return false;
  return true;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

bool is_token_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0 || std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

// Splits the head into the start line and headers. Returns kNeedMore until the blank line arrives.
HeadStatus parse_head(std::string_view data, HttpHead& out, std::string& error, std::string_view& start_line) {
  const std::size_t end = data.find("\r\n\r\n");
  if (end == std::string_view::npos) {
    if (data.size() > kMaxHttpHead) {
      error = "HTTP head longer than " + std::to_string(kMaxHttpHead) + " bytes";
      return HeadStatus::kInvalid;
    }
    return HeadStatus::kNeedMore;
  }
  if (end > kMaxHttpHead) {
    error = "HTTP head longer than " + std::to_string(kMaxHttpHead) + " bytes";
    return HeadStatus::kInvalid;
  }
  out.head_size = end + 4;
  std::string_view head = data.substr(0, end + 2);
  std::size_t eol = head.find("\r\n");
  start_line = head.substr(0, eol);
  head.remove_prefix(eol + 2);
  out.headers.clear();
  while (!head.empty()) {
    eol = head.find("\r\n");
    const std::string_view line = head.substr(0, eol);
    head.remove_prefix(eol + 2);
    const std::size_t colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0) {
      error = "malformed HTTP header line '" + std::string(line.substr(0, 80)) + "'";
      return HeadStatus::kInvalid;
    }
    const std::string_view name = line.substr(0, colon);
    if (!std::all_of(name.begin(), name.end(), is_token_char)) {
      error = "malformed HTTP header name '" + std::string(name.substr(0, 80)) + "'";
      return HeadStatus::kInvalid;
    }
    out.headers.emplace_back(std::string(name), std::string(trim(line.substr(colon + 1))));
  }
  return HeadStatus::kComplete;
}

}  // namespace

std::string WsUrl::host_header() const {
  std::string h = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  if (port != (tls ? 443 : 80)) h += ":" + std::to_string(port);
  return h;
}

WsUrl parse_ws_url(std::string_view url) {
  const auto fail = [&](const char* why) {
    return ConfigError("websocket url '" + std::string(url) + "': " + why +
                       " (expected ws://host[:port][/path][?query] or wss://...)");
  };
  WsUrl u;
  std::string_view rest;
  if (url.substr(0, 5) == "ws://") {
    rest = url.substr(5);
  } else if (url.substr(0, 6) == "wss://") {
    u.tls = true;
    rest = url.substr(6);
  } else {
    throw fail("unsupported scheme");
  }
  std::size_t slash = rest.find_first_of("/?#");
  std::string_view authority = rest.substr(0, slash);
  std::string_view target = slash == std::string_view::npos ? std::string_view() : rest.substr(slash);
  if (const std::size_t hash = target.find('#'); hash != std::string_view::npos) target = target.substr(0, hash);
  if (authority.find('@') != std::string_view::npos) throw fail("user info is not supported");
  std::string_view port_text;
  if (!authority.empty() && authority.front() == '[') {
    const std::size_t close = authority.find(']');
    if (close == std::string_view::npos) throw fail("unterminated IPv6 literal");
    u.host = std::string(authority.substr(1, close - 1));
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') throw fail("garbage after IPv6 literal");
      port_text = after.substr(1);
    }
  } else {
    const std::size_t colon = authority.rfind(':');
    u.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) port_text = authority.substr(colon + 1);
  }
  if (u.host.empty()) throw fail("missing host");
  if (!port_text.empty() || authority.find(':') != std::string_view::npos) {
    if (port_text.empty() && authority.front() != '[') throw fail("empty port");
    if (!port_text.empty()) {
      unsigned v = 0;
      const auto r = std::from_chars(port_text.data(), port_text.data() + port_text.size(), v);
      if (r.ec != std::errc() || r.ptr != port_text.data() + port_text.size() || v == 0 || v > 65535)
        throw fail("port must be 1..65535");
      u.port = static_cast<std::uint16_t>(v);
    }
  }
  if (u.port == 0) u.port = u.tls ? 443 : 80;
  if (target.empty()) {
    u.target = "/";
  } else if (target.front() == '?') {
    u.target = "/" + std::string(target);
  } else {
    u.target = std::string(target);
  }
  for (char c : u.target)
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) throw fail("path contains a space or control character");
  return u;
}

std::string base64_encode(const void* data, std::size_t n) {
  std::string out(4 * ((n + 2) / 3) + 1, '\0');
  const int len = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), static_cast<const unsigned char*>(data),
                                  static_cast<int>(n));
  out.resize(static_cast<std::size_t>(len));
  return out;
}

std::string make_websocket_key() {
  unsigned char raw[16];
  if (RAND_bytes(raw, sizeof raw) != 1) throw SystemError("RAND_bytes failed: no entropy for Sec-WebSocket-Key");
  return base64_encode(raw, sizeof raw);
}

std::string websocket_accept(std::string_view key) {
  std::string s(key);
  s += kGuid;
  unsigned char digest[SHA_DIGEST_LENGTH];
  SHA1(reinterpret_cast<const unsigned char*>(s.data()), s.size(), digest);
  return base64_encode(digest, sizeof digest);
}

bool header_has_token(std::string_view value, std::string_view token) {
  while (!value.empty()) {
    const std::size_t comma = value.find(',');
    if (iequals(trim(value.substr(0, comma)), token)) return true;
    if (comma == std::string_view::npos) break;
    value.remove_prefix(comma + 1);
  }
  return false;
}

std::string_view HttpHead::get(std::string_view name) const {
  for (const auto& [k, v] : headers)
    if (iequals(k, name)) return v;
  return {};
}
bool HttpHead::has(std::string_view name) const {
  return std::any_of(headers.begin(), headers.end(), [&](const auto& kv) { return iequals(kv.first, name); });
}

std::string build_client_request(const WsUrl& url, std::string_view key, const Headers& extra,
                                 const std::vector<std::string>& subprotocols) {
  std::string r;
  r.reserve(256);
  r += "GET " + url.target + " HTTP/1.1\r\nHost: " + url.host_header() +
       "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ";
  r += key;
  r += "\r\nSec-WebSocket-Version: 13\r\n";
  if (!subprotocols.empty()) {
    r += "Sec-WebSocket-Protocol: ";
    for (std::size_t i = 0; i < subprotocols.size(); ++i) r += (i ? ", " : "") + subprotocols[i];
    r += "\r\n";
  }
  for (const auto& [k, v] : extra) {
    const auto bad = [](const std::string& s) { return s.find_first_of("\r\n") != std::string::npos; };
    if (k.empty() || bad(k) || bad(v) || !std::all_of(k.begin(), k.end(), is_token_char))
      throw ConfigError("websocket extra header '" + k + "': expected a token name and a value without CR/LF");
    r += k + ": " + v + "\r\n";
  }
  r += "\r\n";
  return r;
}

HeadStatus parse_http_response(std::string_view data, HttpHead& out, std::string& error) {
  std::string_view start;
  const HeadStatus st = parse_head(data, out, error, start);
  if (st != HeadStatus::kComplete) return st;
  // HTTP/1.1 SP 3DIGIT SP reason
  if (start.size() < 12 || start.substr(0, 5) != "HTTP/" || start[8] != ' ') {
    error = "malformed HTTP status line '" + std::string(start.substr(0, 80)) + "'";
    return HeadStatus::kInvalid;
  }
  int code = 0;
  const auto r = std::from_chars(start.data() + 9, start.data() + 12, code);
  if (r.ec != std::errc() || r.ptr != start.data() + 12 || code < 100) {
    error = "malformed HTTP status line '" + std::string(start.substr(0, 80)) + "'";
    return HeadStatus::kInvalid;
  }
  out.status = code;
  out.reason = std::string(trim(start.substr(12)));
  return HeadStatus::kComplete;
}

HeadStatus parse_http_request(std::string_view data, HttpHead& out, std::string& error) {
  std::string_view start;
  const HeadStatus st = parse_head(data, out, error, start);
  if (st != HeadStatus::kComplete) return st;
  const std::size_t sp1 = start.find(' ');
  const std::size_t sp2 = start.rfind(' ');
  if (sp1 == std::string_view::npos || sp1 == sp2 || start.substr(sp2 + 1).substr(0, 5) != "HTTP/") {
    error = "malformed HTTP request line '" + std::string(start.substr(0, 80)) + "'";
    return HeadStatus::kInvalid;
  }
  out.method = std::string(start.substr(0, sp1));
  out.target = std::string(start.substr(sp1 + 1, sp2 - sp1 - 1));
  return HeadStatus::kComplete;
}

std::string check_client_handshake(const HttpHead& head, std::string_view key,
                                   const std::vector<std::string>& subprotocols, std::string_view body) {
  const auto fail = [&](const std::string& why) {
    return HandshakeError("websocket handshake failed: " + why, head.status, std::string(body));
  };
  if (head.status != 101) {
    std::string msg = "server answered " + std::to_string(head.status) + " " + head.reason +
                      " instead of 101 Switching Protocols";
    if (!body.empty()) msg += ": " + std::string(body.substr(0, 200));
    throw HandshakeError("websocket handshake failed: " + msg, head.status, std::string(body));
  }
  if (!iequals(head.get("Upgrade"), "websocket")) throw fail("missing 'Upgrade: websocket' in the 101 answer");
  if (!header_has_token(head.get("Connection"), "upgrade")) throw fail("missing 'Connection: Upgrade' in the 101 answer");
  const std::string expected = websocket_accept(key);
  if (head.get("Sec-WebSocket-Accept") != expected)
    throw fail("Sec-WebSocket-Accept is '" + std::string(head.get("Sec-WebSocket-Accept")) + "', expected '" +
               expected + "'");
  if (head.has("Sec-WebSocket-Extensions") && !head.get("Sec-WebSocket-Extensions").empty())
    throw fail("server chose extensions '" + std::string(head.get("Sec-WebSocket-Extensions")) + "' that were not offered");
  const std::string chosen(head.get("Sec-WebSocket-Protocol"));
  if (!chosen.empty() && std::find(subprotocols.begin(), subprotocols.end(), chosen) == subprotocols.end())
    throw fail("server chose subprotocol '" + chosen + "' that was not offered");
  return chosen;
}

std::string answer_client_handshake(const HttpHead& head, const std::vector<std::string>& subprotocols,
                                    std::string& error) {
  const auto reject = [&](int status, const std::string& why) {
    error = why;
    const std::string body = why + "\n";
    std::string r = "HTTP/1.1 " + std::to_string(status) + (status == 426 ? " Upgrade Required" : " Bad Request") +
                    "\r\nContent-Type: text/plain\r\nContent-Length: " + std::to_string(body.size()) +
                    "\r\nConnection: close\r\n";
    if (status == 426) r += "Sec-WebSocket-Version: 13\r\n";
    return r + "\r\n" + body;
  };
  if (head.method != "GET") return reject(400, "websocket handshake must be a GET, got " + head.method);
  if (!iequals(head.get("Upgrade"), "websocket")) return reject(426, "missing 'Upgrade: websocket'");
  if (!header_has_token(head.get("Connection"), "upgrade")) return reject(400, "missing 'Connection: Upgrade'");
  if (head.get("Sec-WebSocket-Version") != "13") return reject(426, "Sec-WebSocket-Version must be 13");
  const std::string_view key = head.get("Sec-WebSocket-Key");
  unsigned char raw[24];
  if (key.size() != 24 ||
      EVP_DecodeBlock(raw, reinterpret_cast<const unsigned char*>(key.data()), static_cast<int>(key.size())) != 18)
    return reject(400, "Sec-WebSocket-Key must be 16 bytes in base64");
  std::string r = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ";
  r += websocket_accept(key);
  r += "\r\n";
  // First offered subprotocol we also speak.
  std::string_view offered = head.get("Sec-WebSocket-Protocol");
  while (!offered.empty() && !subprotocols.empty()) {
    const std::size_t comma = offered.find(',');
    const std::string_view p = trim(offered.substr(0, comma));
    if (std::find(subprotocols.begin(), subprotocols.end(), p) != subprotocols.end()) {
      r += "Sec-WebSocket-Protocol: " + std::string(p) + "\r\n";
      break;
    }
    if (comma == std::string_view::npos) break;
    offered.remove_prefix(comma + 1);
  }
  r += "\r\n";
  return r;
}

}  // namespace hftx::net
