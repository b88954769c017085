// Memory of a WebSocket server under connections that never finish their handshake: what each costs, that it goes
// back to the kernel when they close, and the caps past which connections are refused with a reason.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "hftx/net/websocket.hpp"

namespace {

using namespace hftx::net;
using namespace std::chrono_literals;

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
constexpr bool kSanitized = true;  // the sanitizers' own mappings make RSS say little about ours
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
constexpr bool kSanitized = true;
#else
constexpr bool kSanitized = false;
#endif
#else
constexpr bool kSanitized = false;
#endif

long rss_bytes() {
  std::ifstream f("/proc/self/statm");
  long size = 0, resident = 0;
  f >> size >> resident;
  return resident * ::sysconf(_SC_PAGESIZE);
}

struct Server {
  Reactor reactor;
  std::unique_ptr<WsServer> server;
  std::thread thread;
  explicit Server(WsServerConfig cfg) {
    server = std::make_unique<WsServer>(reactor, std::move(cfg));
    thread = std::thread([this] { reactor.run(); });
  }
  ~Server() {
    reactor.stop();
    thread.join();
  }
  template <class F>
  auto call(F&& fn) {
    using R = decltype(fn(*server));
    std::atomic<bool> done{false};
    R out{};
    reactor.post([&] {
      out = fn(*server);
      done.store(true, std::memory_order_release);
    });
    while (!done.load(std::memory_order_acquire)) std::this_thread::sleep_for(1ms);
    return out;
  }
  bool wait_for(const std::function<bool(WsServer&)>& pred, std::chrono::milliseconds limit = 10s) {
    const auto end = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < end) {
      if (call([&](WsServer& s) { return pred(s); })) return true;
      std::this_thread::sleep_for(5ms);
    }
    return false;
  }
};

int tcp_connect(std::uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (fd < 0 || ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    if (fd >= 0) ::close(fd);
    return -1;
  }
  return fd;
}

// As many connections as the descriptor limit allows (each takes one here and one in the server), up to `want`.
std::size_t affordable(std::size_t want) {
  rlimit r{};
  ::getrlimit(RLIMIT_NOFILE, &r);
  r.rlim_cur = std::min<rlim_t>(r.rlim_max, 16384);
  ::setrlimit(RLIMIT_NOFILE, &r);
  ::getrlimit(RLIMIT_NOFILE, &r);
  return std::min<std::size_t>(want, (static_cast<std::size_t>(r.rlim_cur) - 64) / 2);
}

}  // namespace

// 1,500 connections that never send their handshake: each costs a few pages of the buffers it touched (not the
// 512 KiB of buffers it was given), and the memory goes back down once they are closed. Before, each held ~580 kB
// (its buffers value-initialised) and none of it came back.
TEST(WsServerMemory, IdleHandshakesCostLittleAndTheMemoryComesBack) {
  if (kSanitized) GTEST_SKIP() << "RSS under a sanitizer measures the sanitizer";
  const std::size_t n = affordable(1500);
  ASSERT_GE(n, 200u) << "descriptor limit too low for the test";
  WsServerConfig cfg;  // the default buffers: 256 KiB each way
  cfg.max_pending_handshakes = n + 16;
  Server srv(cfg);
  const std::uint16_t port = srv.call([](WsServer& s) { return s.port(); });
  {  // warm the allocators with one connection's life
    const int fd = tcp_connect(port);
    ASSERT_GE(fd, 0);
    ASSERT_TRUE(srv.wait_for([](WsServer& s) { return s.connection_count() == 1; }));
    ::close(fd);
    ASSERT_TRUE(srv.wait_for([](WsServer& s) { return s.connection_count() == 0; }));
  }
  const long before = rss_bytes();
  std::vector<int> fds;
  for (std::size_t i = 0; i < n; ++i) {
    const int fd = tcp_connect(port);
    ASSERT_GE(fd, 0) << "connection " << i;
    fds.push_back(fd);
  }
  ASSERT_TRUE(srv.wait_for([&](WsServer& s) { return s.connection_count() == n; }));
  const long during = rss_bytes();
  for (int fd : fds) ::close(fd);
  ASSERT_TRUE(srv.wait_for([](WsServer& s) { return s.connection_count() == 0; }));
  const long after = rss_bytes();
  const double per_connection = static_cast<double>(during - before) / static_cast<double>(n);
  std::printf("rss before %ld kB, with %zu idle connections %ld kB (%.1f kB each), after %ld kB\n", before / 1024, n,
              during / 1024, per_connection / 1024, after / 1024);
  EXPECT_LT(per_connection, 48.0 * 1024) << "each idle connection holds " << per_connection / 1024 << " kB";
  EXPECT_LT(after - before, (during - before) / 4 + (2l << 20)) << "the memory did not come back";
}

// Connections that did work (a 64 KiB message each way) and then closed give their buffers back: after 200 of them,
// the process is back near where it started, clients' buffers (faulted in at once: a session's hot path) included.
TEST(WsServerMemory, BusyConnectionsGiveTheirMemoryBack) {
  if (kSanitized) GTEST_SKIP() << "RSS under a sanitizer measures the sanitizer";
  WsServerConfig cfg;
  Server srv(cfg);
  srv.call([](WsServer& s) {
    s.on_message = [](WsConnection& c, const WsMessage& m) { c.send(m.opcode, m.data.data(), m.data.size()); };
    return 0;
  });
  const std::uint16_t port = srv.call([](WsServer& s) { return s.port(); });
  const std::string url = "ws://127.0.0.1:" + std::to_string(port) + "/";
  const std::string payload(64 * 1024, 'x');
  const auto one_round = [&](std::size_t n, long* during) {
    Reactor reactor;
    std::vector<std::unique_ptr<WsClient>> clients;
    std::size_t echoed = 0;
    for (std::size_t i = 0; i < n; ++i) {
      WsClientConfig c;
      c.url = url;
      clients.push_back(std::make_unique<WsClient>(reactor, c));
      clients.back()->on_message = [&](WsConnection&, const WsMessage&) { ++echoed; };
      clients.back()->connect();
      ASSERT_EQ(clients.back()->send_text(payload), SendStatus::kOk);
    }
    const auto end = std::chrono::steady_clock::now() + 20s;
    while (echoed < n && std::chrono::steady_clock::now() < end) reactor.poll(10);
    ASSERT_EQ(echoed, n);
    if (during != nullptr) *during = rss_bytes();
    for (auto& c : clients) c->close();
    const auto close_end = std::chrono::steady_clock::now() + 5s;
    while (std::chrono::steady_clock::now() < close_end &&
           std::any_of(clients.begin(), clients.end(),
                       [](auto& c) { return c->state() != WsConnection::State::kClosed; }))
      reactor.poll(10);
  };
  one_round(4, nullptr);  // warm-up
  ASSERT_TRUE(srv.wait_for([](WsServer& s) { return s.connection_count() == 0; }));
  const long before = rss_bytes();
  long during = 0;
  one_round(200, &during);
  ASSERT_TRUE(srv.wait_for([](WsServer& s) { return s.connection_count() == 0; }));
  const long after = rss_bytes();
  std::printf("rss before %ld kB, with 200 busy connections %ld kB, after %ld kB\n", before / 1024, during / 1024,
              after / 1024);
  EXPECT_GT(during - before, 50l << 20) << "the connections did not use their buffers";
  // What stays is small heap (the clients' segment lists, 64 KiB each, freed to malloc); before, all of it stayed.
  EXPECT_LT(after - before, (during - before) / 4) << "the memory did not come back";
}

// Past max_pending_handshakes a connection is refused with an HTTP 503 that names the cap; the ones within it are
// served (and a finished handshake frees its place).
TEST(WsServerMemory, RefusesPastThePendingHandshakeCapWithAReason) {
  WsServerConfig cfg;
  cfg.max_pending_handshakes = 8;
  Server srv(cfg);
  const std::uint16_t port = srv.call([](WsServer& s) { return s.port(); });
  std::vector<int> fds;
  for (int i = 0; i < 8; ++i) {
    fds.push_back(tcp_connect(port));
    ASSERT_GE(fds.back(), 0);
  }
  ASSERT_TRUE(srv.wait_for([](WsServer& s) { return s.pending_handshakes() == 8; }));
  const int extra = tcp_connect(port);
  ASSERT_GE(extra, 0);
  std::string answer;
  char buf[512];
  const auto end = std::chrono::steady_clock::now() + 5s;
  while (answer.find("\r\n\r\n") == std::string::npos && std::chrono::steady_clock::now() < end) {
    const ssize_t r = ::recv(extra, buf, sizeof buf, MSG_DONTWAIT);
    if (r > 0) answer.append(buf, static_cast<std::size_t>(r));
    if (r == 0) break;
    std::this_thread::sleep_for(2ms);
  }
  EXPECT_NE(answer.find("503"), std::string::npos) << answer;
  EXPECT_NE(answer.find("max_pending_handshakes 8"), std::string::npos) << answer;
  EXPECT_EQ(srv.call([](WsServer& s) { return s.refused(); }), 1u);
  ::close(extra);
  for (int fd : fds) ::close(fd);
}

// Past max_connections likewise, whatever their state.
TEST(WsServerMemory, RefusesPastTheConnectionCap) {
  WsServerConfig cfg;
  cfg.max_connections = 3;
  Server srv(cfg);
  const std::uint16_t port = srv.call([](WsServer& s) { return s.port(); });
  std::vector<int> fds;
  for (int i = 0; i < 3; ++i) fds.push_back(tcp_connect(port));
  ASSERT_TRUE(srv.wait_for([](WsServer& s) { return s.connection_count() == 3; }));
  const int extra = tcp_connect(port);
  ASSERT_GE(extra, 0);
  ASSERT_TRUE(srv.wait_for([](WsServer& s) { return s.refused() == 1; }));
  char buf[512];
  ssize_t r = 0;
  for (int i = 0; i < 500 && r <= 0; ++i) {
    r = ::recv(extra, buf, sizeof buf - 1, MSG_DONTWAIT);
    if (r <= 0) std::this_thread::sleep_for(2ms);
  }
  ASSERT_GT(r, 0);
  buf[r] = '\0';
  EXPECT_NE(std::string(buf).find("max_connections 3"), std::string::npos) << buf;
  ::close(extra);
  for (int fd : fds) ::close(fd);
}
