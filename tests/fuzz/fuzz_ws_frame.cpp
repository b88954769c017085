// libFuzzer target: the WebSocket receive path. The input (after a role byte) is handed to a connection as
// if it had arrived from the peer, so the whole state machine runs on it in place: frame headers,
// unmasking, fragment reassembly, UTF-8 validation, control frames, the close handshake and every
// failure path. ASan checks that nothing is read or written out of bounds.
#include <sys/socket.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "hftx/net/websocket.hpp"

using namespace hftx::net;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  // Pure codec functions first, on the raw bytes.
  {
    FrameHeader h;
    FrameError e;
    if (parse_frame_header(data + 1, size - 1, h, e) == FrameStatus::kOk && h.header_len > size - 1) __builtin_trap();
    Utf8Validator v;
    (void)v.feed(data + 1, size - 1);
  }
  static Reactor reactor;
  int fds[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds) != 0) return 0;
  WsConfig cfg;
  cfg.max_message_size = 1 << 16;  // small enough that the fuzzer reaches the 1009 paths
  cfg.read_buffer_size = 4096;
  const auto role = (data[0] & 1) ? WsConnection::Role::kServer : WsConnection::Role::kClient;
  {
    WsConnection conn(reactor, role, cfg);
    std::size_t messages = 0;
    conn.on_message = [&](WsConnection& c, const WsMessage& m) {
      messages += m.data.size();
      if (data[0] & 2) c.send(m.opcode, m.data.data(), m.data.size());  // echo back: the send path too
    };
    conn.attach_open(Stream(fds[0]), std::string_view(reinterpret_cast<const char*>(data + 1), size - 1), "");
    reactor.poll(0);
  }
  ::close(fds[1]);
  return 0;
}
