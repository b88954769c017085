// The WebSocket message path allocates nothing once warm: hftx client <-> hftx echo server (its own reactor
// thread) exchanging text, binary, fragmented messages and pings, counted by the interposed allocator
// (process-wide, so the server's side is covered too).
#include <atomic>
#include <chrono>
#include <cstring>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "hftx/net/websocket.hpp"
#include "hftx/testing/alloc_counter.hpp"
#include "test_support.hpp"

using namespace hftx::net;

TEST(WsAlloc, SteadyStateMessagePathDoesNotAllocate) {
  ASSERT_TRUE(hftx::testing::alloc_counter_active());
  Reactor server_reactor;
  WsServer server(server_reactor, {});
  server.on_message = [](WsConnection& c, const WsMessage& m) { c.send(m.opcode, m.data.data(), m.data.size()); };
  std::thread server_thread([&] { server_reactor.run(); });

  Reactor reactor;
  WsClientConfig cfg;
  cfg.url = "ws://127.0.0.1:" + std::to_string(server.port()) + "/";
  WsClient client(reactor, cfg);
  std::size_t received = 0;
  std::size_t bytes = 0;
  std::size_t pongs = 0;
  client.on_message = [&](WsConnection&, const WsMessage& m) {
    ++received;
    bytes += m.data.size();
  };
  client.on_pong = [&](WsConnection&, std::string_view) { ++pongs; };
  client.connect();

  const std::string text(200, 't');
  const std::string binary(8192, 'b');
  const auto round = [&] {
    const std::size_t want = received + 3;
    ASSERT_EQ(client.send_text(text), SendStatus::kOk);
    ASSERT_EQ(client.send_binary(binary.data(), binary.size()), SendStatus::kOk);
    // A fragmented message, zero-copy: payload written straight into the send buffer.
    std::uint8_t* p = client.prepare(100);
    ASSERT_NE(p, nullptr);
    std::memset(p, 'f', 100);
    client.commit(Opcode::kText, 100, false);
    p = client.prepare(50);
    ASSERT_NE(p, nullptr);
    std::memset(p, 'g', 50);
    client.commit(Opcode::kContinuation, 50, true);
    ASSERT_EQ(client.ping("alive", false), SendStatus::kOk);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (received < want && std::chrono::steady_clock::now() < deadline) reactor.poll(10);
    ASSERT_EQ(received, want);
  };
  for (int i = 0; i < 200; ++i) round();  // warm-up: buffers reach their steady size
  const std::size_t pongs_before = pongs;
  const std::uint64_t n = hftx::test::scaled(2000);
  hftx::testing::AllocScope scope;
  for (std::uint64_t i = 0; i < n; ++i) round();
  const auto d = scope.delta();
  EXPECT_EQ(d.allocations, 0u) << d.bytes << " bytes in " << n << " rounds";
  EXPECT_GT(pongs, pongs_before);
  EXPECT_EQ(bytes, (200 + n) * (200 + 8192 + 150));
  client.close();
  while (client.state() != WsConnection::State::kClosed) reactor.poll(10);
  server_reactor.stop();
  server_thread.join();
}

// Frames queue between reactor turns (and behind a slow peer) as segments of the send buffer, one per frame.
// A buffer's worth of order-sized frames must queue without the segment list growing: that growth was an
// allocation on the hot path exactly when the venue is slow (the pipelined session's gateway showed it under
// load in CI). Here 800 frames of 300 bytes are queued in one turn, within the default 256 KiB send buffer.
TEST(WsAlloc, AFullSendBufferOfSmallFramesQueuesWithoutAllocating) {
  ASSERT_TRUE(hftx::testing::alloc_counter_active());
  Reactor server_reactor;
  WsServer server(server_reactor, {});
  std::atomic<std::size_t> server_received{0};
  server.on_message = [&](WsConnection&, const WsMessage&) { server_received.fetch_add(1); };
  std::thread server_thread([&] { server_reactor.run(); });

  Reactor reactor;
  WsClientConfig cfg;
  cfg.url = "ws://127.0.0.1:" + std::to_string(server.port()) + "/";
  WsClient client(reactor, cfg);
  client.connect();
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (client.state() != WsConnection::State::kOpen && std::chrono::steady_clock::now() < deadline) reactor.poll(10);
  ASSERT_EQ(client.state(), WsConnection::State::kOpen);

  const std::string order(300, 'o');
  constexpr std::size_t kFrames = 800;
  static_assert(kFrames * (300 + 14) < (std::size_t{256} << 10), "within the default send buffer");
  // Both rounds count: the first is the one that found the list too short (a grown list keeps its capacity).
  for (std::size_t round = 0; round < 2; ++round) {
    hftx::testing::AllocScope scope;
    for (std::size_t i = 0; i < kFrames; ++i) {
      ASSERT_EQ(client.send_text(order), SendStatus::kOk) << i;
    }
    const auto d = scope.delta();
    EXPECT_EQ(d.allocations, 0u) << d.bytes << " bytes for " << kFrames << " queued frames, round " << round;
    const std::size_t want = (round + 1) * kFrames;
    while (server_received.load() < want && std::chrono::steady_clock::now() < deadline + std::chrono::seconds(5))
      reactor.poll(10);
    ASSERT_EQ(server_received.load(), want);
  }
  client.close();
  while (client.state() != WsConnection::State::kClosed) reactor.poll(10);
  server_reactor.stop();
  server_thread.join();
}
