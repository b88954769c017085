// WebSocket: the hftx client against a Boost.Beast client, both talking to one Boost.Beast echo server that
// runs in this process on its own (busy-polling) thread, over loopback.
//
//  ws_rtt_<64|256|8k>_spin      one binary message in flight, both clients busy-poll (hftx: epoll_wait(0);
//                               Beast: async ops + io_context::poll()). figure = p50 round trip.
//  ws_rtt_<size>_blocking       same, clients sleep in the kernel (hftx: epoll_wait(-1); Beast: sync API).
//  ws_stream_200                the server pushes pre-encoded 200-byte text frames as fast as the socket takes
//                               them; messages/s received and parsed. `limit`: plain recv() of the same bytes.
//  ws_frame_parse               header parse + UTF-8 validation of a 200-byte text frame, no socket.
//  ws_mask                      masking a 200-byte payload (hftx vs Beast's mask_inplace).
//
// The server pre-encodes the stream so that it is never the bottleneck: it writes raw bytes to the socket.
#include <pthread.h>
#include <sched.h>
#include <unistd.h>

#include <atomic>
#include <utility>  // before Asio: Boost 1.74's awaitable.hpp uses std::exchange without it

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/detail/mask.hpp>
#include <boost/beast/websocket/detail/utf8_checker.hpp>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "bench_support.hpp"
#include "hftx/net/websocket.hpp"

namespace {

namespace beast = boost::beast;
namespace websocket = beast::websocket;
namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using hftx::TscClock;

constexpr std::size_t kStreamFrame = 200;
constexpr std::size_t kStreamBatch = 100'000;  // frames per benchmark iteration

void pin_to(unsigned cpu) {
  const unsigned n = std::thread::hardware_concurrency();
  if (n < 2) return;
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu % n, &set);
  pthread_setaffinity_np(pthread_self(), sizeof set, &set);
}

std::string stream_payload() {
  std::string s = R"({"e":"depthUpdate","E":1700000000000,"s":"BTCUSDT","U":1,"u":2,"b":[["43000.10","0.500"]],"a":[["43000.20","1.250"]]})";
  s.resize(kStreamFrame, ' ');
  return s;
}

// ---- the Beast echo / stream server ----------------------------------------------------------------------

class BeastServer {
 public:
  BeastServer() : acceptor_(ioc_, {asio::ip::make_address("127.0.0.1"), 0}) {
    const std::string payload = stream_payload();
    hftx::net::EncodedFrame f;
    hftx::net::WsServer::encode(hftx::net::Opcode::kText, payload, f);
    frame_size_ = f.bytes.size();
    for (int i = 0; i < 4096; ++i) chunk_.insert(chunk_.end(), f.bytes.begin(), f.bytes.end());
    accept();
    thread_ = std::thread([this] {
      pin_to(std::thread::hardware_concurrency() - 1);
      while (!stop_.load(std::memory_order_relaxed)) {
        ioc_.poll();
        if (ioc_.stopped()) ioc_.restart();
      }
    });
  }
  ~BeastServer() {
    stop_.store(true);
    thread_.join();
  }
  std::uint16_t port() const { return acceptor_.local_endpoint().port(); }
  std::size_t frame_size() const { return frame_size_; }

 private:
  struct Session : std::enable_shared_from_this<Session> {
    Session(tcp::socket s, BeastServer* srv) : ws(std::move(s)), server(srv) {}
    websocket::stream<tcp::socket> ws;
    beast::flat_buffer buf;
    BeastServer* server;

    void start() {
      ws.set_option(websocket::stream_base::timeout::suggested(beast::role_type::server));
      ws.read_message_max(64 << 20);
      ws.auto_fragment(false);  // one frame per message: the Python peers count frames
      ws.async_accept([self = shared_from_this()](beast::error_code ec) {
        if (!ec) self->read();
      });
    }
    void read() {
      ws.async_read(buf, [self = shared_from_this()](beast::error_code ec, std::size_t) {
        if (ec) return;
        self->on_message();
      });
    }
    void on_message() {
      const std::string_view msg(static_cast<const char*>(buf.data().data()), buf.size());
      if (ws.got_text() && msg.substr(0, 7) == "stream ") {
        std::size_t n = std::stoul(std::string(msg.substr(7)));
        buf.consume(buf.size());
        beast::error_code ec;
        const std::size_t per_chunk = server->chunk_.size() / server->frame_size_;
        while (n > 0 && !ec) {
          const std::size_t k = std::min(n, per_chunk);
          asio::write(ws.next_layer(), asio::buffer(server->chunk_.data(), k * server->frame_size_), ec);
          n -= k;
        }
        read();
        return;
      }
      ws.text(ws.got_text());
      ws.async_write(buf.data(), [self = shared_from_this()](beast::error_code ec, std::size_t n) {
        if (ec) return;
        self->buf.consume(n);
        self->read();
      });
    }
  };

  void accept() {
    acceptor_.async_accept([this](beast::error_code ec, tcp::socket s) {
      if (!ec) {
        s.set_option(tcp::no_delay(true));
        std::make_shared<Session>(std::move(s), this)->start();
      }
      accept();
    });
  }

  asio::io_context ioc_{1};
  tcp::acceptor acceptor_;
  std::vector<std::uint8_t> chunk_;
  std::size_t frame_size_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

BeastServer* g_server = nullptr;

std::string server_url() { return "ws://127.0.0.1:" + std::to_string(g_server->port()) + "/"; }

// ---- round trips -------------------------------------------------------------------------------------------

void rtt_hftx(benchmark::State& state, std::size_t size, bool spin) {
  pin_to(0);
  (void)TscClock::instance();
  hftx::net::Reactor reactor;
  hftx::net::WsClientConfig cfg;
  cfg.url = server_url();
  hftx::net::WsClient client(reactor, cfg);
  bool got = false;
  client.on_message = [&](hftx::net::WsConnection&, const hftx::net::WsMessage& m) {
    benchmark::DoNotOptimize(m.data.data());
    got = true;
  };
  client.connect();
  const std::string payload(size, 'p');
  hftx::bench::OpSampler sampler;
  // Warm-up: buffers reach their steady size.
  for (int i = 0; i < 100; ++i) {
    got = false;
    client.send_binary(payload.data(), payload.size());
    client.flush();
    while (!got) reactor.poll(spin ? 0 : -1);
  }
  hftx::bench::AllocMeter alloc;
  for (auto _ : state) {
    const std::uint64_t t0 = TscClock::ticks();
    got = false;
    client.send_binary(payload.data(), payload.size());
    client.flush();
    while (!got) reactor.poll(spin ? 0 : -1);
    sampler.add(TscClock::ticks() - t0);
  }
  alloc.publish(state);
  state.SetItemsProcessed(state.iterations());
  sampler.publish(state);
  state.counters["figure_p50"] = 1;
  client.close();
  while (client.state() != hftx::net::WsConnection::State::kClosed) reactor.poll(10);
}

void rtt_beast(benchmark::State& state, std::size_t size, bool spin) {
  pin_to(0);
  (void)TscClock::instance();
  asio::io_context ioc{1};
  websocket::stream<tcp::socket> ws(ioc);
  ws.next_layer().connect({asio::ip::make_address("127.0.0.1"), g_server->port()});
  ws.next_layer().set_option(tcp::no_delay(true));
  ws.handshake("127.0.0.1", "/");
  ws.binary(true);
  ws.auto_fragment(false);
  const std::string payload(size, 'p');
  beast::flat_buffer rbuf;
  bool got = false;
  const auto once = [&] {
    if (spin) {
      got = false;
      ioc.restart();
      ws.async_read(rbuf, [&](beast::error_code, std::size_t) { got = true; });
      ws.async_write(asio::buffer(payload), [](beast::error_code, std::size_t) {});
      while (!got) ioc.poll();
      ioc.poll();  // the write's completion
    } else {
      ws.write(asio::buffer(payload));
      ws.read(rbuf);
    }
    benchmark::DoNotOptimize(rbuf.data().data());
    rbuf.consume(rbuf.size());
  };
  for (int i = 0; i < 100; ++i) once();
  hftx::bench::OpSampler sampler;
  hftx::bench::AllocMeter alloc;
  for (auto _ : state) {
    const std::uint64_t t0 = TscClock::ticks();
    once();
    sampler.add(TscClock::ticks() - t0);
  }
  alloc.publish(state);
  state.SetItemsProcessed(state.iterations());
  sampler.publish(state);
  state.counters["figure_p50"] = 1;
  beast::error_code ec;
  ws.close(websocket::close_code::normal, ec);
}

// ---- streaming ---------------------------------------------------------------------------------------------

void stream_hftx(benchmark::State& state) {
  pin_to(0);
  hftx::net::Reactor reactor;
  hftx::net::WsClientConfig cfg;
  cfg.url = server_url();
  cfg.read_buffer_size = 1 << 20;
  hftx::net::WsClient client(reactor, cfg);
  std::size_t count = 0;
  std::size_t bytes = 0;
  client.on_message = [&](hftx::net::WsConnection&, const hftx::net::WsMessage& m) {
    ++count;
    bytes += m.data.size();
  };
  client.connect();
  const std::string cmd = "stream " + std::to_string(kStreamBatch);
  hftx::bench::AllocMeter alloc;
  for (auto _ : state) {
    count = 0;
    client.send_text(cmd);
    client.flush();
    while (count < kStreamBatch) reactor.poll(-1);
  }
  alloc.publish(state);
  benchmark::DoNotOptimize(bytes);
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * kStreamBatch));
  client.close();
  while (client.state() != hftx::net::WsConnection::State::kClosed) reactor.poll(10);
}

void stream_beast(benchmark::State& state) {
  pin_to(0);
  asio::io_context ioc{1};
  websocket::stream<tcp::socket> ws(ioc);
  ws.next_layer().connect({asio::ip::make_address("127.0.0.1"), g_server->port()});
  ws.next_layer().set_option(tcp::no_delay(true));
  ws.handshake("127.0.0.1", "/");
  beast::flat_buffer buf;
  const std::string cmd = "stream " + std::to_string(kStreamBatch);
  std::size_t bytes = 0;
  hftx::bench::AllocMeter alloc;
  for (auto _ : state) {
    ws.text(true);
    ws.write(asio::buffer(cmd));
    for (std::size_t i = 0; i < kStreamBatch; ++i) {
      ws.read(buf);
      bytes += buf.size();
      buf.consume(buf.size());
    }
  }
  alloc.publish(state);
  benchmark::DoNotOptimize(bytes);
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * kStreamBatch));
  beast::error_code ec;
  ws.close(websocket::close_code::normal, ec);
}

// The physical limit: the same bytes read with plain recv() into a buffer, no WebSocket parsing.
void stream_limit(benchmark::State& state) {
  pin_to(0);
  asio::io_context ioc{1};
  websocket::stream<tcp::socket> ws(ioc);
  ws.next_layer().connect({asio::ip::make_address("127.0.0.1"), g_server->port()});
  ws.next_layer().set_option(tcp::no_delay(true));
  ws.handshake("127.0.0.1", "/");
  const int fd = ws.next_layer().native_handle();
  const std::string cmd = "stream " + std::to_string(kStreamBatch);
  const std::size_t want = kStreamBatch * g_server->frame_size();
  std::vector<char> buf(1 << 20);
  for (auto _ : state) {
    ws.text(true);
    ws.write(asio::buffer(cmd));
    std::size_t got = 0;
    while (got < want) {
      const ssize_t n = ::recv(fd, buf.data(), std::min(buf.size(), want - got), 0);
      if (n <= 0) {
        state.SkipWithError("recv failed");
        return;
      }
      got += static_cast<std::size_t>(n);
    }
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * kStreamBatch));
}

// ---- codec without sockets ---------------------------------------------------------------------------------

constexpr int kCodecBatch = 1024;

void frame_parse_hftx(benchmark::State& state, bool validate) {
  hftx::net::EncodedFrame f;
  hftx::net::WsServer::encode(hftx::net::Opcode::kText, stream_payload(), f);
  std::vector<std::uint8_t> buf;
  for (int i = 0; i < kCodecBatch; ++i) buf.insert(buf.end(), f.bytes.begin(), f.bytes.end());
  hftx::bench::OpSampler sampler;
  for (auto _ : state) {
    const std::uint64_t t0 = TscClock::ticks();
    std::size_t pos = 0;
    std::size_t ok = 0;
    while (pos < buf.size()) {
      hftx::net::FrameHeader h;
      hftx::net::FrameError e;
      if (hftx::net::parse_frame_header(buf.data() + pos, buf.size() - pos, h, e) != hftx::net::FrameStatus::kOk) break;
      const std::uint8_t* payload = buf.data() + pos + h.header_len;
      if (validate) ok += hftx::net::is_valid_utf8(payload, h.payload_len);
      else ok += h.payload_len;
      pos += h.header_len + h.payload_len;
    }
    benchmark::DoNotOptimize(ok);
    sampler.add(TscClock::ticks() - t0, kCodecBatch);
  }
  state.SetItemsProcessed(state.iterations() * kCodecBatch);
  sampler.publish(state);
}

// Beast's own UTF-8 checker on the same payloads (its frame-header reader is internal to the stream).
void frame_parse_beast_utf8(benchmark::State& state) {
  const std::string payload = stream_payload();
  hftx::bench::OpSampler sampler;
  for (auto _ : state) {
    const std::uint64_t t0 = TscClock::ticks();
    std::size_t ok = 0;
    for (int i = 0; i < kCodecBatch; ++i) {
      websocket::detail::utf8_checker checker;
      ok += checker.write(reinterpret_cast<const std::uint8_t*>(payload.data()), payload.size()) && checker.finish();
    }
    benchmark::DoNotOptimize(ok);
    sampler.add(TscClock::ticks() - t0, kCodecBatch);
  }
  state.SetItemsProcessed(state.iterations() * kCodecBatch);
  sampler.publish(state);
}

void mask_hftx(benchmark::State& state) {
  std::vector<std::uint8_t> buf(kStreamFrame, 'm');
  hftx::net::MaskPrng prng;
  hftx::bench::OpSampler sampler;
  for (auto _ : state) {
    const std::uint64_t t0 = TscClock::ticks();
    for (int i = 0; i < kCodecBatch; ++i) {
      std::uint8_t key[4];
      prng.next_key(key);
      hftx::net::apply_mask(buf.data(), buf.size(), key);
      benchmark::ClobberMemory();
    }
    sampler.add(TscClock::ticks() - t0, kCodecBatch);
  }
  state.SetItemsProcessed(state.iterations() * kCodecBatch);
  sampler.publish(state);
}

void mask_beast(benchmark::State& state) {
  std::vector<std::uint8_t> buf(kStreamFrame, 'm');
  std::uint32_t seed = 12345;
  hftx::bench::OpSampler sampler;
  for (auto _ : state) {
    const std::uint64_t t0 = TscClock::ticks();
    for (int i = 0; i < kCodecBatch; ++i) {
      websocket::detail::prepared_key key;
      websocket::detail::prepare_key(key, seed = seed * 1664525u + 1013904223u);
      websocket::detail::mask_inplace(asio::mutable_buffer(buf.data(), buf.size()), key);
      benchmark::ClobberMemory();
    }
    sampler.add(TscClock::ticks() - t0, kCodecBatch);
  }
  state.SetItemsProcessed(state.iterations() * kCodecBatch);
  sampler.publish(state);
}

void register_all() {
  const std::pair<const char*, std::size_t> sizes[] = {{"64", 64}, {"256", 256}, {"8k", 8192}};
  for (const char* mode : {"spin", "blocking"}) {
    const bool spin = std::strcmp(mode, "spin") == 0;
    for (const auto& [label, n] : sizes) {
      const std::string base = std::string("ws_rtt_") + label + "_" + mode;
      const std::size_t size = n;
      benchmark::RegisterBenchmark((base + "/hftx").c_str(), [=](benchmark::State& s) { rtt_hftx(s, size, spin); })
          ->UseRealTime();
      benchmark::RegisterBenchmark((base + "/beast").c_str(), [=](benchmark::State& s) { rtt_beast(s, size, spin); })
          ->UseRealTime();
    }
  }
  benchmark::RegisterBenchmark("ws_stream_200/hftx", stream_hftx)->UseRealTime();
  benchmark::RegisterBenchmark("ws_stream_200/beast", stream_beast)->UseRealTime();
  benchmark::RegisterBenchmark("ws_stream_200/limit", stream_limit)->UseRealTime();
  benchmark::RegisterBenchmark("ws_frame_parse/hftx", [](benchmark::State& s) { frame_parse_hftx(s, true); });
  benchmark::RegisterBenchmark("ws_frame_parse/hftx_header_only", [](benchmark::State& s) { frame_parse_hftx(s, false); });
  benchmark::RegisterBenchmark("ws_frame_parse/beast_utf8_only", frame_parse_beast_utf8);
  benchmark::RegisterBenchmark("ws_mask/hftx", mask_hftx);
  benchmark::RegisterBenchmark("ws_mask/beast", mask_beast);
}

}  // namespace

int main(int argc, char** argv) {
  // `bench_ws --serve`: only the Beast echo/stream server, for the Python peers' harness (bench_ws_peers):
  // prints the port, serves until stdin closes.
  if (argc == 2 && std::strcmp(argv[1], "--serve") == 0) {
    BeastServer server;
    std::printf("%u\n", static_cast<unsigned>(server.port()));
    std::fflush(stdout);
    char c;
    while (::read(0, &c, 1) > 0) {
    }
    return 0;
  }
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  register_all();
  BeastServer server;
  g_server = &server;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  g_server = nullptr;
  return 0;
}
