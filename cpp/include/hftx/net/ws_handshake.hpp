// hftx/net/ws_handshake.hpp — ws:// / wss:// URLs and the RFC 6455 opening handshake (both sides).
//
// Threading contract: pure functions on the caller's data; safe from any thread. All of this runs at
// connection setup, never on the message path, so it uses std::string freely.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "hftx/core/error.hpp"

namespace hftx {

// A connection could not be made or was lost: refused, timed out, TLS or WebSocket handshake failed.
class ConnectionError : public Error {
 public:
  explicit ConnectionError(const std::string& what, bool permanent = false) : Error(what), permanent_(permanent) {}
  // Trying again will not help (a refused upgrade, a certificate that does not verify): a client gives up
  // rather than reconnect in a loop, which venues answer with a ban.
  [[nodiscard]] bool permanent() const noexcept { return permanent_; }

 private:
  bool permanent_;
};

// The server answered the opening handshake with something other than a valid 101. A 4xx answer is permanent
// (the path, the key or the request is wrong), except 408 (timeout) and 429 (too many requests: back off).
class HandshakeError : public ConnectionError {
 public:
  HandshakeError(const std::string& what, int status, std::string body)
      : ConnectionError(what, status >= 400 && status < 500 && status != 408 && status != 429),
        status_(status),
        body_(std::move(body)) {}
  [[nodiscard]] int status() const noexcept { return status_; }
  [[nodiscard]] const std::string& body() const noexcept { return body_; }

 private:
  int status_;
  std::string body_;
};

// TLS failed; for certificate problems the message names OpenSSL's verification reason (and the error is
// permanent: the same certificate will not verify the next time).
class TlsError : public ConnectionError {
 public:
  using ConnectionError::ConnectionError;
};

}  // namespace hftx

namespace hftx::net {

using Headers = std::vector<std::pair<std::string, std::string>>;

struct WsUrl {
  bool tls = false;
  std::string host;    // without brackets for IPv6 literals
  std::uint16_t port = 0;
  std::string target;  // path + query, at least "/"
  // "host[:port]" as the Host header wants it (port omitted when it is the scheme's default).
  [[nodiscard]] std::string host_header() const;
};

// Parses ws://host[:port][/path][?query] and wss://...; throws ConfigError naming the URL otherwise.
WsUrl parse_ws_url(std::string_view url);

// 16 random bytes, base64: the client's Sec-WebSocket-Key.
std::string make_websocket_key();
// base64(SHA-1(key + the RFC's GUID)): the Sec-WebSocket-Accept for `key`.
std::string websocket_accept(std::string_view key);
std::string base64_encode(const void* data, std::size_t n);

std::string build_client_request(const WsUrl& url, std::string_view key, const Headers& extra,
                                 const std::vector<std::string>& subprotocols);

struct HttpHead {
  int status = 0;             // responses
  std::string method;         // requests
  std::string target;         // requests
  std::string reason;
  Headers headers;
  std::size_t head_size = 0;  // bytes up to and including the blank line
  // First value of a header, case-insensitively; empty when absent.
  [[nodiscard]] std::string_view get(std::string_view name) const;
  [[nodiscard]] bool has(std::string_view name) const;
};

enum class HeadStatus : std::uint8_t { kComplete, kNeedMore, kInvalid };
inline constexpr std::size_t kMaxHttpHead = 16 * 1024;

// Parse a response / request head from the bytes received so far. kInvalid leaves `error` set;
// more than kMaxHttpHead bytes without the blank line is invalid too.
HeadStatus parse_http_response(std::string_view data, HttpHead& out, std::string& error);
HeadStatus parse_http_request(std::string_view data, HttpHead& out, std::string& error);

// Checks a complete response head against the key we sent and the subprotocols we offered; returns the
// subprotocol chosen (empty if none). Throws HandshakeError (status, body) when it is not a valid 101.
std::string check_client_handshake(const HttpHead& head, std::string_view key,
                                   const std::vector<std::string>& subprotocols, std::string_view body);

// Server side: checks a complete request head. On success returns the 101 response to send; otherwise
// returns a 400/426 response and sets `error`.
std::string answer_client_handshake(const HttpHead& head, const std::vector<std::string>& subprotocols,
                                    std::string& error);

// True if the comma-separated header value contains `token` (case-insensitive), e.g. Connection: keep-alive, Upgrade.
bool header_has_token(std::string_view value, std::string_view token);

}  // namespace hftx::net
