// WebSocket codec (frames, masking, UTF-8, handshake) and loopback tests: hftx client <-> hftx server,
// a raw-socket peer for each protocol violation, back-pressure, reconnect. Loopback only; every wait has a
// deadline so a broken build fails instead of hanging.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <functional>
#include <random>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "hftx/net/websocket.hpp"
#include "test_support.hpp"

using namespace hftx::net;
using namespace std::chrono_literals;

namespace {

std::vector<std::uint8_t> frame(Opcode op, bool fin, std::string_view payload, bool masked,
                                std::uint8_t rsv = 0) {
  std::vector<std::uint8_t> out(kMaxHeaderSize + payload.size());
  std::uint8_t key[4] = {0x11, 0x22, 0x33, 0x44};
  const std::size_t hl = write_frame_header(out.data(), op, fin, payload.size(), masked ? key : nullptr);
  out[0] |= rsv;
  std::memcpy(out.data() + hl, payload.data(), payload.size());
  if (masked) apply_mask(out.data() + hl, payload.size(), key);
  out.resize(hl + payload.size());
  return out;
}

FrameStatus parse(const std::vector<std::uint8_t>& bytes, FrameHeader& h, FrameError& e) {
  return parse_frame_header(bytes.data(), bytes.size(), h, e);
}

// Runs the reactor until pred() or the deadline.
bool run_until(Reactor& r, const std::function<bool()>& pred, std::chrono::milliseconds limit = 5000ms) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!pred()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    r.poll(10);
  }
  return true;
}

}  // namespace

// ---- codec ---------------------------------------------------------------------------------------------

TEST(WsFrame, HeaderRoundTripAtLengthBoundaries) {
  for (std::uint64_t n : {0ull, 1ull, 125ull, 126ull, 65535ull, 65536ull, 16ull << 20}) {
    for (bool masked : {false, true}) {
      std::uint8_t buf[kMaxHeaderSize];
      std::uint8_t key[4] = {1, 2, 3, 4};
      const std::size_t hl = write_frame_header(buf, Opcode::kBinary, true, n, masked ? key : nullptr);
      EXPECT_EQ(hl, frame_header_size(n, masked));
      FrameHeader h;
      FrameError e;
      ASSERT_EQ(parse_frame_header(buf, hl, h, e), FrameStatus::kOk) << n;
      EXPECT_EQ(h.payload_len, n);
      EXPECT_EQ(h.header_len, hl);
      EXPECT_EQ(h.masked, masked);
      EXPECT_TRUE(h.fin);
      EXPECT_EQ(h.opcode, Opcode::kBinary);
      // Every proper prefix needs more and reads nothing past it.
      for (std::size_t k = 0; k < hl; ++k) EXPECT_EQ(parse_frame_header(buf, k, h, e), FrameStatus::kNeedMore);
    }
  }
}

TEST(WsFrame, ViolationsGetTheRightCloseCode) {
  FrameHeader h;
  FrameError e;
  EXPECT_EQ(parse(frame(Opcode::kText, true, "x", false, 0x40), h, e), FrameStatus::kError);
  EXPECT_EQ(e.code, 1002);
  auto unknown = frame(Opcode::kText, true, "x", false);
  unknown[0] = 0x83;
  EXPECT_EQ(parse(unknown, h, e), FrameStatus::kError);
  EXPECT_EQ(e.code, 1002);
  unknown[0] = 0x8B;
  EXPECT_EQ(parse(unknown, h, e), FrameStatus::kError);
  EXPECT_EQ(parse(frame(Opcode::kPing, false, "x", false), h, e), FrameStatus::kError);
  EXPECT_STREQ(e.what, "fragmented control frame");
  EXPECT_EQ(parse(frame(Opcode::kPing, true, std::string(126, 'a'), false), h, e), FrameStatus::kError);
  EXPECT_EQ(e.code, 1002);
  // Non-minimal 16-bit length (100 in the 126 form) and a 64-bit length with the top bit set.
  std::vector<std::uint8_t> nonmin = {0x82, 126, 0, 100};
  EXPECT_EQ(parse(nonmin, h, e), FrameStatus::kError);
  std::vector<std::uint8_t> huge = {0x82, 127, 0x80, 0, 0, 0, 0, 0, 0, 0};
  EXPECT_EQ(parse(huge, h, e), FrameStatus::kError);
  EXPECT_EQ(e.code, 1002);
}

TEST(WsFrame, MaskMatchesBytewiseDefinitionAtAnyOffset) {
  std::mt19937_64 rng(7);
  for (std::size_t n : {0u, 1u, 3u, 7u, 8u, 15u, 16u, 17u, 63u, 64u, 65u, 200u, 4099u}) {
    for (std::size_t off = 0; off < 4; ++off) {
      std::vector<std::uint8_t> data(n), ref(n);
      for (auto& b : data) b = static_cast<std::uint8_t>(rng());
      const std::uint8_t key[4] = {0xde, 0xad, 0xbe, 0xef};
      for (std::size_t i = 0; i < n; ++i) ref[i] = data[i] ^ key[(i + off) & 3];
      apply_mask(data.data(), n, key, off);
      EXPECT_EQ(data, ref) << n << " " << off;
    }
  }
}

TEST(WsFrame, MaskPrngKeysDiffer) {
  MaskPrng a, b;
  std::uint8_t k1[4], k2[4];
  a.next_key(k1);
  b.next_key(k2);
  int same = 0;
  for (int i = 0; i < 100; ++i) {
    std::uint8_t x[4], y[4];
    a.next_key(x);
    a.next_key(y);
    same += std::memcmp(x, y, 4) == 0;
  }
  EXPECT_LT(same, 2);
}

TEST(WsUtf8, AcceptsValidRejectsInvalid) {
  EXPECT_TRUE(is_valid_utf8(""));
  EXPECT_TRUE(is_valid_utf8("plain ascii text that is long enough for the word loop"));
  EXPECT_TRUE(is_valid_utf8("h\xC3\xA9llo \xE2\x82\xAC \xF0\x9F\x98\x80"));
  EXPECT_FALSE(is_valid_utf8("\xC0\xAF"));          // overlong
  EXPECT_FALSE(is_valid_utf8("\xED\xA0\x80"));      // surrogate
  EXPECT_FALSE(is_valid_utf8("\xF4\x90\x80\x80"));  // > U+10FFFF
  EXPECT_FALSE(is_valid_utf8("abc\xE2\x82"));       // truncated
  EXPECT_FALSE(is_valid_utf8("12345678\xFF"));
  // Split across fragments at every position.
  const std::string s = "ab\xF0\x9F\x98\x80\xE2\x82\xAC";
  for (std::size_t cut = 0; cut <= s.size(); ++cut) {
    Utf8Validator v;
    ASSERT_TRUE(v.feed(reinterpret_cast<const std::uint8_t*>(s.data()), cut));
    ASSERT_TRUE(v.feed(reinterpret_cast<const std::uint8_t*>(s.data()) + cut, s.size() - cut));
    EXPECT_TRUE(v.complete());
  }
}

TEST(WsHandshake, AcceptKeyFromRfcExample) {
  EXPECT_EQ(websocket_accept("dGhlIHNhbXBsZSBub25jZQ=="), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
  EXPECT_EQ(make_websocket_key().size(), 24u);
  EXPECT_NE(make_websocket_key(), make_websocket_key());
}

TEST(WsHandshake, ParsesUrls) {
  WsUrl u = parse_ws_url("ws://127.0.0.1:9001/stream?streams=btcusdt@depth");
  EXPECT_FALSE(u.tls);
  EXPECT_EQ(u.host, "127.0.0.1");
  EXPECT_EQ(u.port, 9001);
  EXPECT_EQ(u.target, "/stream?streams=btcusdt@depth");
  u = parse_ws_url("wss://stream.example.com");
  EXPECT_TRUE(u.tls);
  EXPECT_EQ(u.port, 443);
  EXPECT_EQ(u.target, "/");
  EXPECT_EQ(u.host_header(), "stream.example.com");
  u = parse_ws_url("ws://[::1]:8080?x=1");
  EXPECT_EQ(u.host, "::1");
  EXPECT_EQ(u.target, "/?x=1");
  EXPECT_EQ(u.host_header(), "[::1]:8080");
  EXPECT_THROW(parse_ws_url("http://x/"), hftx::ConfigError);
  EXPECT_THROW(parse_ws_url("ws://:80/"), hftx::ConfigError);
  EXPECT_THROW(parse_ws_url("ws://h:99999/"), hftx::ConfigError);
  EXPECT_THROW(parse_ws_url("ws://h/a b"), hftx::ConfigError);
}

TEST(WsHandshake, ClientChecksTheAnswer) {
  const std::string key = "dGhlIHNhbXBsZSBub25jZQ==";
  HttpHead head;
  std::string err;
  std::string ok = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                   "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\nSec-WebSocket-Protocol: chat\r\n\r\n";
  EXPECT_EQ(parse_http_response(ok.substr(0, 20), head, err), HeadStatus::kNeedMore);
  ASSERT_EQ(parse_http_response(ok, head, err), HeadStatus::kComplete);
  EXPECT_EQ(check_client_handshake(head, key, {"chat"}, ""), "chat");
  EXPECT_THROW(check_client_handshake(head, key, {"other"}, ""), hftx::HandshakeError);
  EXPECT_THROW(check_client_handshake(head, "AAAAAAAAAAAAAAAAAAAAAA==", {"chat"}, ""), hftx::HandshakeError);
  std::string denied = "HTTP/1.1 403 Forbidden\r\nContent-Length: 6\r\n\r\nno way";
  ASSERT_EQ(parse_http_response(denied, head, err), HeadStatus::kComplete);
  try {
    check_client_handshake(head, key, {}, "no way");
    FAIL() << "expected HandshakeError";
  } catch (const hftx::HandshakeError& e) {
    EXPECT_EQ(e.status(), 403);
    EXPECT_EQ(e.body(), "no way");
    EXPECT_NE(std::string(e.what()).find("403"), std::string::npos);
  }
  EXPECT_EQ(parse_http_response("garbage\r\n\r\n", head, err), HeadStatus::kInvalid);
}

TEST(WsHandshake, ServerAnswersAndRefuses) {
  HttpHead head;
  std::string err;
  const std::string req = "GET /ws?a=1 HTTP/1.1\r\nHost: x\r\nUpgrade: WebSocket\r\nConnection: keep-alive, Upgrade\r\n"
                          "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
                          "Sec-WebSocket-Protocol: a, b\r\n\r\n";
  ASSERT_EQ(parse_http_request(req, head, err), HeadStatus::kComplete);
  EXPECT_EQ(head.target, "/ws?a=1");
  const std::string resp = answer_client_handshake(head, {"b"}, err);
  EXPECT_TRUE(err.empty());
  EXPECT_NE(resp.find("s3pPLMBiTxaQ9kYGzzhZRbK+xOo="), std::string::npos);
  EXPECT_NE(resp.find("Sec-WebSocket-Protocol: b\r\n"), std::string::npos);
  const std::string bad = "GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                          "Sec-WebSocket-Key: short\r\nSec-WebSocket-Version: 13\r\n\r\n";
  ASSERT_EQ(parse_http_request(bad, head, err), HeadStatus::kComplete);
  EXPECT_EQ(answer_client_handshake(head, {}, err).substr(0, 12), "HTTP/1.1 400");
  EXPECT_FALSE(err.empty());
}

// ---- loopback: hftx client <-> hftx server -------------------------------------------------------------

namespace {

// Accepts one client on `listener` (waiting up to 5 s) and answers its opening handshake: a raw TCP peer
// for the tests that need one. Returns the socket, or -1 when no client came.
int accept_websocket(TcpListener& listener) {
  pollfd p{listener.fd(), POLLIN, 0};
  if (::poll(&p, 1, 5000) <= 0) return -1;
  const int fd = ::accept(listener.fd(), nullptr, nullptr);
  std::string req;
  char buf[4096];
  while (req.find("\r\n\r\n") == std::string::npos) {
    pollfd q{fd, POLLIN, 0};
    if (::poll(&q, 1, 5000) <= 0) break;
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    req.append(buf, static_cast<std::size_t>(n));
  }
  HttpHead head;
  std::string err;
  parse_http_request(req, head, err);
  const std::string resp = answer_client_handshake(head, {}, err);
  (void)!::send(fd, resp.data(), resp.size(), MSG_NOSIGNAL);
  return fd;
}

// An echo server on its own reactor thread (a client's connect() blocks its own thread, so client and
// server cannot share one reactor thread). Cross-thread calls go through Reactor::post().
struct EchoServer {
  Reactor reactor;
  std::unique_ptr<WsServer> server;
  std::thread thread;
  explicit EchoServer(WsServerConfig cfg = {}) {
    server = std::make_unique<WsServer>(reactor, std::move(cfg));
    server->on_message = [](WsConnection& c, const WsMessage& m) { c.send(m.opcode, m.data.data(), m.data.size()); };
    thread = std::thread([this] { reactor.run(); });
  }
  ~EchoServer() {
    reactor.stop();
    thread.join();
    server.reset();
  }
  // Runs fn on the server thread and waits for it.
  void call(std::function<void(WsServer&)> fn) {
    std::atomic<bool> done{false};
    reactor.post([&] {
      fn(*server);
      done.store(true, std::memory_order_release);
    });
    while (!done.load(std::memory_order_acquire)) std::this_thread::sleep_for(1ms);
  }
  std::uint16_t port() const { return server->port(); }
  std::string url() const { return "ws://127.0.0.1:" + std::to_string(port()) + "/echo?x=1"; }
};

struct Received {
  std::vector<std::pair<Opcode, std::string>> messages;
  std::vector<WsCloseInfo> closes;
  int opens = 0;
};

void hook(WsConnection& c, Received& r) {
  c.on_message = [&r](WsConnection&, const WsMessage& m) { r.messages.emplace_back(m.opcode, std::string(m.data)); };
  c.on_close = [&r](WsConnection&, const WsCloseInfo& i) { r.closes.push_back(i); };
  c.on_open = [&r](WsConnection&) { ++r.opens; };
}

}  // namespace

TEST(WsLoopback, EchoesAllSizesTextAndBinary) {
  Reactor reactor;
  EchoServer echo;
  WsClientConfig cfg;
  cfg.url = echo.url();
  WsClient client(reactor, cfg);
  Received got;
  hook(client, got);
  client.connect();
  EXPECT_EQ(got.opens, 1);
  std::vector<std::size_t> sizes = {0, 1, 125, 126, 65535, 65536, 16u << 20};
  // Sanitizer builds (scale 0.1) stop at 1 MiB: 16 MiB through TSan's instrumented memcpy takes ~10 s.
  if (hftx::test::scaled(10) < 10) sizes.back() = 1u << 20;
  for (std::size_t n : sizes) {
    std::string payload(n, 'a');
    for (std::size_t i = 0; i < n; ++i) payload[i] = static_cast<char>('a' + i % 26);
    ASSERT_EQ(client.send_text(payload), SendStatus::kOk);
    std::string bin = payload;
    if (n > 0) bin[0] = '\xff';
    ASSERT_EQ(client.send_binary(bin.data(), bin.size()), SendStatus::kOk);
    ASSERT_TRUE(run_until(reactor, [&] { return got.messages.size() == 2; }, 10s)) << n;
    EXPECT_EQ(got.messages[0].first, Opcode::kText);
    EXPECT_EQ(got.messages[0].second, payload);
    EXPECT_EQ(got.messages[1].first, Opcode::kBinary);
    EXPECT_EQ(got.messages[1].second, bin);
    got.messages.clear();
  }
  client.close(1000, "bye");
  ASSERT_TRUE(run_until(reactor, [&] { return !got.closes.empty(); }));
  EXPECT_TRUE(got.closes[0].clean);
  EXPECT_EQ(got.closes[0].code, 1000);
  EXPECT_TRUE(got.closes[0].reason.empty());  // the server echoed the code only
  EXPECT_FALSE(got.closes[0].by_peer);
}

TEST(WsLoopback, FragmentedMessagesWithControlFramesBetween) {
  Reactor reactor;
  EchoServer echo;
  WsClientConfig cfg;
  cfg.url = echo.url();
  WsClient client(reactor, cfg);
  Received got;
  hook(client, got);
  std::vector<std::string> pongs;
  client.on_pong = [&](WsConnection&, std::string_view p) { pongs.emplace_back(p); };
  client.connect();
  // "héllo wörld" split inside a two-byte sequence, with a ping between the fragments.
  const std::string text = "h\xC3\xA9llo w\xC3\xB6rld";
  ASSERT_EQ(client.send(Opcode::kText, text.data(), 2, false), SendStatus::kOk);
  ASSERT_EQ(client.ping("between"), SendStatus::kOk);
  ASSERT_EQ(client.send(Opcode::kContinuation, text.data() + 2, 5, false), SendStatus::kOk);
  ASSERT_EQ(client.send(Opcode::kContinuation, text.data() + 7, text.size() - 7, true), SendStatus::kOk);
  ASSERT_TRUE(run_until(reactor, [&] { return got.messages.size() == 1 && pongs.size() == 1; }));
  EXPECT_EQ(got.messages[0].second, text);
  EXPECT_EQ(pongs[0], "between");
}

TEST(WsLoopback, BroadcastReachesEveryClient) {
  Reactor reactor;
  EchoServer server;
  std::vector<std::unique_ptr<WsClient>> clients;
  std::vector<Received> got(20);
  for (int i = 0; i < 20; ++i) {
    WsClientConfig cfg;
    cfg.url = server.url();
    clients.push_back(std::make_unique<WsClient>(reactor, cfg));
    hook(*clients.back(), got[static_cast<std::size_t>(i)]);
    clients.back()->connect();
  }
  EncodedFrame f;
  WsServer::encode(Opcode::kText, "{\"e\":\"depthUpdate\"}", f);
  std::size_t reached = 0;
  server.call([&](WsServer& s) { reached = s.broadcast(f); });
  EXPECT_EQ(reached, 20u);
  ASSERT_TRUE(run_until(reactor, [&] {
    return std::all_of(got.begin(), got.end(), [](const Received& r) { return r.messages.size() == 1; });
  }));
  for (auto& r : got) EXPECT_EQ(r.messages[0].second, "{\"e\":\"depthUpdate\"}");
  server.call([](WsServer& s) { s.close_all(1001, "restart"); });
  ASSERT_TRUE(run_until(reactor, [&] {
    return std::all_of(got.begin(), got.end(), [](const Received& r) { return r.closes.size() == 1; });
  }));
  for (auto& r : got) {
    EXPECT_TRUE(r.closes[0].clean);
    EXPECT_EQ(r.closes[0].code, 1001);
    EXPECT_TRUE(r.closes[0].by_peer);
  }
  std::size_t left = 1;
  for (int i = 0; i < 500 && left != 0; ++i) {
    server.call([&](WsServer& s) { left = s.connection_count(); });
    std::this_thread::sleep_for(2ms);
  }
  EXPECT_EQ(left, 0u);
}

TEST(WsLoopback, BackPressureBoundsMemoryWhenPeerStopsReading) {
  // A raw TCP peer that completes the handshake and then never reads.
  Reactor reactor;
  TcpListener listener("127.0.0.1", 0);
  std::atomic<bool> done{false};
  std::thread peer([&] {
    const int fd = accept_websocket(listener);
    while (!done.load()) std::this_thread::sleep_for(5ms);
    if (fd >= 0) ::close(fd);
  });
  WsClientConfig cfg;
  cfg.url = "ws://127.0.0.1:" + std::to_string(listener.port());
  cfg.max_write_buffer = 1 << 20;
  cfg.tcp.write_buffer_size = 64 << 10;
  WsClient client(reactor, cfg);
  client.connect();
  const std::string msg(1000, 'x');
  std::size_t sent = 0;
  bool pushed_back = false;
  for (int i = 0; i < 100000 && !pushed_back; ++i) {
    const SendStatus st = client.send_text(msg);
    if (st == SendStatus::kBackpressure) pushed_back = true;
    else ++sent;
    if (i % 64 == 0) reactor.poll(0);
  }
  EXPECT_TRUE(pushed_back);
  EXPECT_LE(client.write_queue_bytes(), (1u << 20) + 2000);
  EXPECT_GT(client.stats().backpressure_events, 0u);
  EXPECT_TRUE(client.is_open());
  done = true;
  peer.join();
}

// A venue that closes with 1008 (an unknown path or stream) will do it again: the client gives up at once and says
// why, instead of reconnecting in a loop (which earns a ban at a real venue).
TEST(WsLoopback, GivesUpOnAPermanentClose) {
  Reactor reactor;
  EchoServer server;
  std::atomic<int> accepted{0};
  server.call([&](WsServer& s) {
    s.on_open = [&](WsConnection& c) {
      accepted.fetch_add(1);
      c.close(close_code::kPolicyViolation, "unknown path '/bad'");
    };
  });
  WsClientConfig cfg;
  cfg.url = server.url();
  cfg.reconnect = true;
  cfg.backoff_initial = 10ms;
  WsClient client(reactor, cfg);
  std::vector<std::pair<std::string, bool>> failures;
  client.on_reconnect_failed = [&](WsClient&, const std::string& e, bool giving_up) {
    failures.emplace_back(e, giving_up);
  };
  client.connect();
  ASSERT_TRUE(run_until(reactor, [&] { return !failures.empty(); }));
  ASSERT_EQ(failures.size(), 1u);
  EXPECT_TRUE(failures[0].second);
  EXPECT_NE(failures[0].first.find("1008"), std::string::npos) << failures[0].first;
  EXPECT_NE(failures[0].first.find("unknown path"), std::string::npos) << failures[0].first;
  EXPECT_NE(failures[0].first.find(server.url()), std::string::npos) << failures[0].first;
  EXPECT_TRUE(client.gave_up());
  (void)run_until(reactor, [] { return false; }, 300ms);  // no attempt follows
  EXPECT_EQ(accepted.load(), 1);
  EXPECT_FALSE(client.backoff_pending());
}

// A venue that accepts every connection and drops it at once (1011, not permanent) sees the delays between
// attempts double up to the ceiling: a connection that did not last stable_after counts as a failed attempt.
TEST(WsLoopback, BackoffGrowsWhenEveryConnectionDropsAtOnce) {
  Reactor reactor;
  EchoServer server;
  std::mutex mu;
  std::vector<std::chrono::steady_clock::time_point> opens;
  server.call([&](WsServer& s) {
    s.on_open = [&](WsConnection& c) {
      {
        std::lock_guard<std::mutex> lock(mu);
        opens.push_back(std::chrono::steady_clock::now());
      }
      c.close(close_code::kInternalError, "try later");
    };
  });
  WsClientConfig cfg;
  cfg.url = server.url();
  cfg.reconnect = true;
  cfg.backoff_initial = 10ms;
  cfg.backoff_max = 160ms;
  cfg.backoff_jitter = 0;
  WsClient client(reactor, cfg);
  client.connect();
  const auto count = [&] {
    std::lock_guard<std::mutex> lock(mu);
    return opens.size();
  };
  ASSERT_TRUE(run_until(reactor, [&] { return count() >= 6; }, 10s));
  std::lock_guard<std::mutex> lock(mu);
  // Delays 20, 40, 80, 160, 160 ms after the first drop (the first close is attempt 1): each gap at least its delay.
  const long expected[] = {20, 40, 80, 160, 160};
  for (std::size_t k = 0; k < 5; ++k) {
    const auto gap = std::chrono::duration_cast<std::chrono::milliseconds>(opens[k + 1] - opens[k]).count();
    EXPECT_GE(gap, expected[k]) << "gap " << k;
  }
  EXPECT_FALSE(client.gave_up());
  client.close();
}

TEST(WsHandshake, PermanentFailures) {
  EXPECT_TRUE(hftx::HandshakeError("x", 404, "").permanent());
  EXPECT_TRUE(hftx::HandshakeError("x", 401, "").permanent());
  EXPECT_TRUE(hftx::HandshakeError("x", 418, "").permanent());
  EXPECT_FALSE(hftx::HandshakeError("x", 429, "").permanent()) << "too many requests: back off, then try again";
  EXPECT_FALSE(hftx::HandshakeError("x", 408, "").permanent());
  EXPECT_FALSE(hftx::HandshakeError("x", 503, "").permanent());
  EXPECT_FALSE(hftx::ConnectionError("refused").permanent());
  WsCloseInfo info;
  info.by_peer = true;
  for (std::uint16_t code : {1002, 1003, 1007, 1008, 1010}) {
    info.code = code;
    EXPECT_TRUE(is_permanent(info)) << code;
  }
  for (std::uint16_t code : {1000, 1001, 1006, 1011, 1012, 1013, 4000}) {
    info.code = code;
    EXPECT_FALSE(is_permanent(info)) << code;
  }
  info.code = 1008;
  info.by_peer = false;  // we failed it: the peer's data was bad this time
  EXPECT_FALSE(is_permanent(info));
}

TEST(WsLoopback, ReconnectsAfterServerRestartWithBackoff) {
  Reactor reactor;
  auto server = std::make_unique<EchoServer>();
  const std::uint16_t port = server->port();
  WsClientConfig cfg;
  cfg.url = server->url();
  cfg.reconnect = true;
  cfg.backoff_initial = 20ms;
  cfg.backoff_max = 200ms;
  WsClient client(reactor, cfg);
  Received got;
  hook(client, got);
  std::vector<unsigned> reconnects;
  client.on_reconnect = [&](WsClient&, unsigned n) { reconnects.push_back(n); };
  int failures = 0;
  client.on_reconnect_failed = [&](WsClient&, const std::string&, bool) { ++failures; };
  client.on_open = [&](WsConnection& c) {
    ++got.opens;
    c.send_text("subscribe");  // re-subscription on every (re)connect
  };
  client.connect();
  ASSERT_TRUE(run_until(reactor, [&] { return got.messages.size() == 1; }));
  server->call([](WsServer& s) { s.close_all(1012, "restart"); });
  ASSERT_TRUE(run_until(reactor, [&] { return got.closes.size() == 1; }));
  server.reset();
  // Down for a while: some attempts fail (refused), then a new server on the same port.
  ASSERT_TRUE(run_until(reactor, [&] { return failures >= 2; }));
  WsServerConfig scfg;
  scfg.port = port;
  server = std::make_unique<EchoServer>(scfg);
  ASSERT_TRUE(run_until(reactor, [&] { return got.messages.size() == 2; }, 10s));
  EXPECT_EQ(got.opens, 2);
  ASSERT_EQ(reconnects.size(), 1u);
  EXPECT_EQ(client.reconnects(), 1u);
  // Backoff grows and stays within jitter bounds.
  for (unsigned a = 0; a < 6; ++a) {
    const auto d = client.backoff_delay(a).count();
    const double base = std::min(20.0 * (1 << a), 200.0);
    EXPECT_GE(d, static_cast<long>(base * 0.8) - 1);
    EXPECT_LE(d, static_cast<long>(base * 1.2) + 1);
  }
  client.close();
  ASSERT_TRUE(run_until(reactor, [&] { return got.closes.size() == 2; }));
}

TEST(WsLoopback, DeadConnectionDetectedByPingTimeout) {
  Reactor reactor;
  TcpListener listener("127.0.0.1", 0);
  std::atomic<bool> done{false};
  std::thread peer([&] {  // answers the handshake, then ignores everything (never pongs)
    const int fd = accept_websocket(listener);
    while (!done.load()) std::this_thread::sleep_for(5ms);
    ::close(fd);
  });
  WsClientConfig cfg;
  cfg.url = "ws://127.0.0.1:" + std::to_string(listener.port());
  cfg.ping_interval = 50ms;
  cfg.ping_timeout = 100ms;
  WsClient client(reactor, cfg);
  Received got;
  hook(client, got);
  client.connect();
  ASSERT_TRUE(run_until(reactor, [&] { return !got.closes.empty(); }));
  EXPECT_FALSE(got.closes[0].clean);
  EXPECT_EQ(got.closes[0].code, 1006);
  EXPECT_NE(got.closes[0].error.find("no pong"), std::string::npos);
  done = true;
  peer.join();
}

// resume_next_turn(): the handler runs in the next turn (not this one), once with the merged events, without
// the turn sleeping; a handler removed meanwhile is not called.
TEST(Reactor, ResumeNextTurnRunsOnceWithoutSleepingAndRespectsRemove) {
  struct Handler final : IoHandler {
    std::vector<std::uint32_t> calls;
    void on_io(std::uint32_t ev) noexcept override { calls.push_back(ev); }
  };
  Reactor r;
  Handler a, b;
  r.resume_next_turn(&a, EPOLLIN);
  r.resume_next_turn(&a, EPOLLRDHUP);
  r.resume_next_turn(&b, EPOLLIN);
  const auto t0 = std::chrono::steady_clock::now();
  r.poll(2000);  // would sleep 2 s with nothing resumed
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 1s);
  ASSERT_EQ(a.calls.size(), 1u);
  EXPECT_EQ(a.calls[0], static_cast<std::uint32_t>(EPOLLIN | EPOLLRDHUP));
  EXPECT_EQ(b.calls.size(), 1u);
  r.poll(0);
  EXPECT_EQ(a.calls.size(), 1u) << "resumed once per request";
  r.resume_next_turn(&a, EPOLLIN);
  r.remove(-1, &a);  // e.g. the connection closed from another handler
  r.poll(0);
  EXPECT_EQ(a.calls.size(), 1u) << "a removed handler was called";
}

// One connection's peer floods it faster than the client can process; the other connection of the same
// reactor gets one message meanwhile. The busy connection yields after a buffer's worth per turn, so the
// quiet one is read while the flood goes on (before: only once the flood stopped, as in a session whose
// order answers waited behind a backlogged market stream).
TEST(WsLoopback, FloodedConnectionDoesNotStarveTheOthers) {
  Reactor reactor;
  TcpListener listener("127.0.0.1", 0);
  std::atomic<bool> flooding{true};
  std::thread peer([&] {
    const int busy = accept_websocket(listener);
    const int quiet = accept_websocket(listener);
    std::vector<std::uint8_t> chunk;  // 64 KB of 100-byte text frames
    for (int i = 0; i < 655; ++i) {
      chunk.push_back(0x81);
      chunk.push_back(98);
      chunk.insert(chunk.end(), 98, 'x');
    }
    const std::vector<std::uint8_t> order = {0x81, 5, 'o', 'r', 'd', 'e', 'r'};
    std::size_t sent = 0;
    bool quiet_sent = false;
    const auto end = std::chrono::steady_clock::now() + 10s;
    while (flooding.load() && std::chrono::steady_clock::now() < end) {
      pollfd p{busy, POLLOUT, 0};
      if (::poll(&p, 1, 10) <= 0) continue;
      const ssize_t n = ::send(busy, chunk.data(), chunk.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
      if (n <= 0) continue;
      sent += static_cast<std::size_t>(n);  // frames may be cut anywhere: the stream stays a stream
      if (!quiet_sent && sent > (std::size_t{4} << 20)) {
        (void)!::send(quiet, order.data(), order.size(), MSG_NOSIGNAL);
        quiet_sent = true;
      }
    }
    flooding.store(false);
    ::close(busy);
    ::close(quiet);
  });
  WsClientConfig cfg;
  cfg.url = "ws://127.0.0.1:" + std::to_string(listener.port());
  WsClient busy(reactor, cfg), quiet(reactor, cfg);
  std::size_t busy_messages = 0;
  bool got_quiet = false, flood_went_on = false;
  busy.on_message = [&](WsConnection&, const WsMessage&) {
    ++busy_messages;  // ~2 us of work per message: slower than the peer writes
    const auto until = std::chrono::steady_clock::now() + 2us;
    while (std::chrono::steady_clock::now() < until) {
    }
  };
  quiet.on_message = [&](WsConnection&, const WsMessage& m) {
    got_quiet = m.data == "order";
    flood_went_on = flooding.exchange(false);
  };
  busy.connect();
  quiet.connect();
  EXPECT_TRUE(run_until(reactor, [&] { return got_quiet; }, 15000ms));
  EXPECT_TRUE(flood_went_on) << "the quiet connection was read only after the flood stopped";
  EXPECT_GT(busy_messages, 0u);
  flooding.store(false);
  peer.join();
}

// The peer sends a message and hangs up (FIN, or RST with SO_LINGER 0) before the client's reactor looks:
// data and hang-up arrive in one edge. The client delivers the message and sees the end of the stream
// at once (no heartbeat configured: nothing else would ever notice).
TEST(WsLoopback, DataAndHangUpInOneEdgeAreBothSeen) {
  for (const bool reset : {false, true}) {
    SCOPED_TRACE(reset ? "RST" : "FIN");
    Reactor reactor;
    TcpListener listener("127.0.0.1", 0);
    std::atomic<int> step{0};
    std::thread peer([&] {
      const int fd = accept_websocket(listener);
      while (step.load() == 0) std::this_thread::sleep_for(1ms);
      const std::vector<std::uint8_t> frame = {0x81, 5, 'h', 'e', 'l', 'l', 'o'};
      (void)!::send(fd, frame.data(), frame.size(), MSG_NOSIGNAL);
      if (reset) {
        // Give the frame time to reach the client first: a reset discards what is still in flight.
        std::this_thread::sleep_for(20ms);
        linger l{1, 0};
        ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
      }
      ::close(fd);
      step.store(2);
    });
    WsClientConfig cfg;
    cfg.url = "ws://127.0.0.1:" + std::to_string(listener.port());
    WsClient client(reactor, cfg);
    Received got;
    hook(client, got);
    client.connect();
    step.store(1);
    while (step.load() != 2) std::this_thread::sleep_for(1ms);
    std::this_thread::sleep_for(20ms);  // both are in the client's socket before its reactor runs
    ASSERT_TRUE(run_until(reactor, [&] { return !got.closes.empty(); }, 2000ms)) << "the hang-up was missed";
    if (!reset) {
      ASSERT_EQ(got.messages.size(), 1u);
      EXPECT_EQ(got.messages[0].second, "hello");
    }
    EXPECT_EQ(got.closes[0].code, 1006);
    EXPECT_FALSE(got.closes[0].clean);
    peer.join();
  }
}

// ---- raw-socket peer: each protocol violation -----------------------------------------------------------

namespace {

// Accepts one client, completes the handshake, sends `bytes` (one byte at a time when asked), then
// records what the client sends back until it closes.
class RawPeer {
 public:
  explicit RawPeer(std::vector<std::uint8_t> bytes, bool byte_at_a_time = false)
      : listener_("127.0.0.1", 0), bytes_(std::move(bytes)), slow_(byte_at_a_time) {
    thread_ = std::thread([this] { run(); });
  }
  ~RawPeer() { thread_.join(); }
  std::uint16_t port() const { return listener_.port(); }
  std::string received() {
    thread_.join();
    thread_ = std::thread([] {});
    return got_;
  }

 private:
  void run() {
    const int fd = accept_websocket(listener_);
    if (fd < 0) return;
    char buf[4096];
    if (slow_) {
      for (std::uint8_t b : bytes_) {
        (void)!::send(fd, &b, 1, MSG_NOSIGNAL);
        std::this_thread::sleep_for(std::chrono::microseconds(200));
      }
    } else {
      (void)!::send(fd, bytes_.data(), bytes_.size(), MSG_NOSIGNAL);
    }
    for (;;) {
      pollfd q{fd, POLLIN, 0};
      if (::poll(&q, 1, 3000) <= 0) break;
      const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
      if (n <= 0) break;
      got_.append(buf, static_cast<std::size_t>(n));
    }
    ::close(fd);
  }

  TcpListener listener_;
  std::vector<std::uint8_t> bytes_;
  bool slow_;
  std::string got_;
  std::thread thread_;
};

// The close code inside the first (masked) close frame the client sent.
int close_code_sent(std::string wire) {  // by value: unmasks in place
  std::size_t pos = 0;
  while (pos < wire.size()) {
    FrameHeader h;
    FrameError e;
    auto* p = reinterpret_cast<std::uint8_t*>(const_cast<char*>(wire.data())) + pos;
    if (parse_frame_header(p, wire.size() - pos, h, e) != FrameStatus::kOk) return -1;
    if (wire.size() - pos < h.header_len + h.payload_len) return -1;
    std::uint8_t* payload = p + h.header_len;
    if (h.masked) apply_mask(payload, h.payload_len, h.mask_key);
    if (h.opcode == Opcode::kClose) return h.payload_len >= 2 ? (payload[0] << 8 | payload[1]) : 1005;
    pos += h.header_len + h.payload_len;
  }
  return -1;
}

WsCloseInfo run_violation(std::vector<std::uint8_t> bytes, int& code_on_wire, std::size_t max_message = 64 << 20) {
  Reactor reactor;
  RawPeer peer(std::move(bytes));
  WsClientConfig cfg;
  cfg.url = "ws://127.0.0.1:" + std::to_string(peer.port());
  cfg.max_message_size = max_message;
  WsClient client(reactor, cfg);
  Received got;
  hook(client, got);
  client.connect();
  EXPECT_TRUE(run_until(reactor, [&] { return !got.closes.empty(); }));
  code_on_wire = close_code_sent(peer.received());
  return got.closes.empty() ? WsCloseInfo{} : got.closes[0];
}

std::vector<std::uint8_t> cat(std::initializer_list<std::vector<std::uint8_t>> parts) {
  std::vector<std::uint8_t> out;
  for (const auto& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

}  // namespace

TEST(WsViolations, EachFailsTheConnectionWithTheRightCode) {
  struct Case {
    const char* name;
    std::vector<std::uint8_t> bytes;
    int code;
    std::size_t max_message = 64 << 20;
  };
  std::vector<std::uint8_t> close_bad_code = frame(Opcode::kClose, true, std::string("\x03\xEC", 2), false);  // 1004
  std::vector<Case> cases = {
      {"reserved bits", frame(Opcode::kText, true, "x", false, 0x40), 1002},
      {"unknown opcode", {0x83, 0x00}, 1002},
      {"masked frame from server", frame(Opcode::kText, true, "x", true), 1002},
      {"fragmented control", frame(Opcode::kPing, false, "x", false), 1002},
      {"control > 125", frame(Opcode::kPing, true, std::string(126, 'p'), false), 1002},
      {"close code 1004", close_bad_code, 1002},
      {"close 1-byte payload", frame(Opcode::kClose, true, "x", false), 1002},
      {"close reason not UTF-8", frame(Opcode::kClose, true, std::string("\x03\xE8\xFF", 3), false), 1007},
      {"invalid UTF-8 text", frame(Opcode::kText, true, "ab\xC0\xAF", false), 1007},
      {"invalid UTF-8 across fragments",
       cat({frame(Opcode::kText, false, "ab\xE2", false), frame(Opcode::kContinuation, true, "\x28\xA1", false)}), 1007},
      {"continuation without start", frame(Opcode::kContinuation, true, "x", false), 1002},
      {"data frame inside fragmented message",
       cat({frame(Opcode::kText, false, "a", false), frame(Opcode::kText, true, "b", false)}), 1002},
      {"message too big", frame(Opcode::kBinary, true, std::string(5000, 'b'), false), 1009, 4096},
      {"fragmented message too big",
       cat({frame(Opcode::kBinary, false, std::string(3000, 'b'), false),
            frame(Opcode::kContinuation, true, std::string(3000, 'b'), false)}),
       1009, 4096},
  };
  for (auto& c : cases) {
    int wire = 0;
    const WsCloseInfo info = run_violation(c.bytes, wire, c.max_message);
    EXPECT_FALSE(info.clean) << c.name;
    EXPECT_EQ(info.code, c.code) << c.name;
    EXPECT_TRUE(info.by_peer) << c.name;
    EXPECT_FALSE(info.error.empty()) << c.name;
    EXPECT_EQ(wire, c.code) << c.name << ": close frame sent to the peer";
  }
}

TEST(WsViolations, OneByteAtATimePeerIsParsedCorrectly) {
  Reactor reactor;
  const std::string big(300, 'z');
  RawPeer peer(cat({frame(Opcode::kText, true, "hello", false), frame(Opcode::kPing, true, "p", false),
                    frame(Opcode::kBinary, false, "ab", false), frame(Opcode::kContinuation, true, big, false),
                    frame(Opcode::kClose, true, std::string("\x03\xE8ok", 4), false)}),
               true);
  WsClientConfig cfg;
  cfg.url = "ws://127.0.0.1:" + std::to_string(peer.port());
  WsClient client(reactor, cfg);
  Received got;
  hook(client, got);
  client.connect();
  ASSERT_TRUE(run_until(reactor, [&] { return !got.closes.empty(); }, 10s));
  ASSERT_EQ(got.messages.size(), 2u);
  EXPECT_EQ(got.messages[0].second, "hello");
  EXPECT_EQ(got.messages[1].second, "ab" + big);
  EXPECT_TRUE(got.closes[0].clean);
  EXPECT_EQ(got.closes[0].code, 1000);
  EXPECT_EQ(got.closes[0].reason, "ok");
  // The client answered the ping with an identical pong and echoed the close code.
  const std::string wire = peer.received();
  EXPECT_EQ(close_code_sent(wire), 1000);
  FrameHeader h;
  FrameError e;
  auto* p = reinterpret_cast<std::uint8_t*>(const_cast<char*>(wire.data()));
  ASSERT_EQ(parse_frame_header(p, wire.size(), h, e), FrameStatus::kOk);
  EXPECT_EQ(h.opcode, Opcode::kPong);
  ASSERT_EQ(h.payload_len, 1u);
  apply_mask(p + h.header_len, 1, h.mask_key);
  EXPECT_EQ(p[h.header_len], 'p');
}

TEST(WsClientErrors, RefusedAndNon101AreClearErrors) {
  Reactor reactor;
  std::uint16_t free_port;
  {
    TcpListener l("127.0.0.1", 0);
    free_port = l.port();
  }
  WsClientConfig cfg;
  cfg.url = "ws://127.0.0.1:" + std::to_string(free_port);
  cfg.connect_timeout_ms = 2000;
  WsClient refused(reactor, cfg);
  try {
    refused.connect();
    FAIL();
  } catch (const hftx::ConnectionError& e) {
    EXPECT_NE(std::string(e.what()).find("refused"), std::string::npos) << e.what();
  }
  // A server that answers 404 with a body.
  TcpListener l("127.0.0.1", 0);
  std::thread peer([&] {
    pollfd p{l.fd(), POLLIN, 0};
    ::poll(&p, 1, 5000);
    const int fd = ::accept(l.fd(), nullptr, nullptr);
    char buf[4096];
    (void)!::recv(fd, buf, sizeof buf, 0);
    const std::string r = "HTTP/1.1 404 Not Found\r\nContent-Length: 13\r\n\r\nno such path\n";
    (void)!::send(fd, r.data(), r.size(), MSG_NOSIGNAL);
    ::close(fd);
  });
  cfg.url = "ws://127.0.0.1:" + std::to_string(l.port()) + "/nope";
  WsClient denied(reactor, cfg);
  try {
    denied.connect();
    FAIL();
  } catch (const hftx::HandshakeError& e) {
    EXPECT_EQ(e.status(), 404);
    EXPECT_EQ(e.body(), "no such path\n");
  }
  peer.join();
}

TEST(WsTcp, SocketOptionsAppliedOrRefusalReported) {
  Reactor reactor;
  TcpListener l("127.0.0.1", 0);
  TcpOptions o;
  o.read_buffer_size = 1 << 20;
  o.write_buffer_size = 1 << 20;
  o.busy_poll_us = 50;
  SocketReport rep;
  const int fd = connect_tcp(resolve("127.0.0.1", l.port()), 2000, o, &rep);
  ASSERT_GE(fd, 0);
  EXPECT_GT(rep.rcvbuf, 0);
  EXPECT_GT(rep.sndbuf, 0);
  // SO_BUSY_POLL needs CAP_NET_ADMIN above net.core.busy_read: either granted or named in the report.
  const bool noted = std::any_of(rep.notes.begin(), rep.notes.end(),
                                 [](const std::string& n) { return n.find("SO_BUSY_POLL") != std::string::npos; });
  EXPECT_NE(rep.busy_poll, noted);
  int nodelay = 0;
  socklen_t len = sizeof nodelay;
  getsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &nodelay, &len);
  EXPECT_EQ(nodelay, 1);
  ::close(fd);
}

TEST(WsServerSide, RequiresMaskedClientFramesAndRefusesBadHandshakes) {
  WsServerConfig scfg;
  scfg.handshake_timeout = 100ms;
  EchoServer server(scfg);
  const auto raw_connect = [&] {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(server.port());
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    timeval tv{5, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    return fd;
  };
  const auto read_all = [](int fd) {
    std::string got;
    char buf[4096];
    for (;;) {
      const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
      if (n <= 0) break;
      got.append(buf, static_cast<std::size_t>(n));
    }
    return got;
  };
  {  // an unmasked frame from a client: 1002 and the connection closed
    const int fd = raw_connect();
    const std::string req = "GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                            "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
    const auto bad = frame(Opcode::kText, true, "not masked", false);
    std::string out = req + std::string(bad.begin(), bad.end());
    ASSERT_EQ(::send(fd, out.data(), out.size(), MSG_NOSIGNAL), static_cast<ssize_t>(out.size()));
    const std::string got = read_all(fd);
    const std::size_t head = got.find("\r\n\r\n");
    ASSERT_NE(head, std::string::npos);
    EXPECT_EQ(got.substr(0, 12), "HTTP/1.1 101");
    EXPECT_EQ(close_code_sent(got.substr(head + 4)), 1002);
    ::close(fd);
  }
  {  // not a websocket request: 426 with a reason, then closed
    const int fd = raw_connect();
    const std::string req = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
    ASSERT_EQ(::send(fd, req.data(), req.size(), MSG_NOSIGNAL), static_cast<ssize_t>(req.size()));
    const std::string got = read_all(fd);
    EXPECT_EQ(got.substr(0, 12), "HTTP/1.1 426");
    EXPECT_NE(got.find("Upgrade: websocket"), std::string::npos);
    ::close(fd);
  }
  {  // a client that never sends its handshake is dropped after handshake_timeout
    const int fd = raw_connect();
    const auto t0 = std::chrono::steady_clock::now();
    EXPECT_EQ(read_all(fd), "");
    EXPECT_LT(std::chrono::steady_clock::now() - t0, 3s);
    ::close(fd);
  }
}

// ---- TLS: hftx client <-> hftx server with a certificate made here --------------------------------------

namespace {

// A self-signed P-256 certificate for localhost / 127.0.0.1, written as PEM files.
void make_self_signed(const std::string& cert_path, const std::string& key_path) {
  EVP_PKEY* pkey = EVP_EC_gen("P-256");
  ASSERT_NE(pkey, nullptr);
  X509* x = X509_new();
  ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
  X509_gmtime_adj(X509_getm_notBefore(x), -60);
  X509_gmtime_adj(X509_getm_notAfter(x), 3600);
  X509_set_pubkey(x, pkey);
  X509_NAME* name = X509_get_subject_name(x);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("localhost"), -1, -1, 0);
  X509_set_issuer_name(x, name);
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, x, x, nullptr, nullptr, 0);
  for (auto [nid, value] : {std::pair{NID_subject_alt_name, "DNS:localhost,IP:127.0.0.1"},
                            std::pair{NID_basic_constraints, "critical,CA:TRUE"}}) {
    X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
    ASSERT_NE(ext, nullptr);
    X509_add_ext(x, ext, -1);
    X509_EXTENSION_free(ext);
  }
  ASSERT_GT(X509_sign(x, pkey, EVP_sha256()), 0);
  FILE* f = std::fopen(cert_path.c_str(), "w");
  PEM_write_X509(f, x);
  std::fclose(f);
  f = std::fopen(key_path.c_str(), "w");
  PEM_write_PrivateKey(f, pkey, nullptr, nullptr, 0, nullptr, nullptr);
  std::fclose(f);
  X509_free(x);
  EVP_PKEY_free(pkey);
}

}  // namespace

TEST(WsTls, VerificationOnByDefaultAndCustomCaAccepted) {
  const std::string dir = ::testing::TempDir();
  const std::string cert = dir + "/hftx_ws_test_cert.pem";
  const std::string key = dir + "/hftx_ws_test_key.pem";
  make_self_signed(cert, key);
  WsServerConfig scfg;
  scfg.tls = TlsContext::server(cert, key);
  EchoServer server(scfg);
  Reactor reactor;
  {
    WsClientConfig cfg;
    cfg.url = "wss://localhost:" + std::to_string(server.port()) + "/";
    cfg.connect_timeout_ms = 5000;
    WsClient client(reactor, cfg);
    try {
      client.connect();
      FAIL() << "a self-signed certificate was accepted without its CA";
    } catch (const hftx::TlsError& e) {
      EXPECT_NE(std::string(e.what()).find("certificate verification failed"), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find("self-signed"), std::string::npos) << e.what();
    }
  }
  for (const char* host : {"localhost", "127.0.0.1"}) {
    WsClientConfig cfg;
    cfg.url = std::string("wss://") + host + ":" + std::to_string(server.port()) + "/";
    cfg.tls.ca_file = cert;
    WsClient client(reactor, cfg);
    Received got;
    hook(client, got);
    client.connect();
    const std::string big(70000, 'z');
    ASSERT_EQ(client.send_text("over tls"), SendStatus::kOk);
    ASSERT_EQ(client.send_binary(big.data(), big.size()), SendStatus::kOk);
    ASSERT_TRUE(run_until(reactor, [&] { return got.messages.size() == 2; }));
    EXPECT_EQ(got.messages[0].second, "over tls");
    EXPECT_EQ(got.messages[1].second, big);
    client.close();
    ASSERT_TRUE(run_until(reactor, [&] { return !got.closes.empty(); }));
    EXPECT_TRUE(got.closes[0].clean);
  }
  std::remove(cert.c_str());
  std::remove(key.c_str());
}
