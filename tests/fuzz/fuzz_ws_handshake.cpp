// libFuzzer target: HTTP heads of the opening handshake (both sides) and ws:// URLs.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "hftx/net/ws_handshake.hpp"

using namespace hftx::net;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  HttpHead head;
  std::string error;
  if (parse_http_response(in, head, error) == HeadStatus::kComplete) {
    if (head.head_size > in.size()) __builtin_trap();
    try {
      (void)check_client_handshake(head, "dGhlIHNhbXBsZSBub25jZQ==", {"chat"}, in.substr(head.head_size));
    } catch (const hftx::HandshakeError&) {
    }
  }
  HttpHead req;
  if (parse_http_request(in, req, error) == HeadStatus::kComplete) {
    if (req.head_size > in.size()) __builtin_trap();
    (void)answer_client_handshake(req, {"chat", "v2"}, error);
  }
  try {
    const WsUrl u = parse_ws_url(in);
    if (u.target.empty() || u.target[0] != '/') __builtin_trap();
    (void)u.host_header();
  } catch (const hftx::ConfigError&) {
  }
  return 0;
}
