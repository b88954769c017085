// hftx/net/websocket.hpp — RFC 6455 WebSocket connections on the epoll reactor: client (ws:// and wss://,
// reconnect with backoff) and server (many clients, broadcast of one encoded frame).
//
// Threading contract: a connection, client or server belongs to the thread that runs its Reactor; every
// method and every callback runs there. Other threads talk to it through Reactor::post().
//
// Receive path: bytes land in one receive buffer; frames are parsed in place and a complete unfragmented
// message is delivered as a view into that buffer (valid only during the callback): no copy, no
// allocation. Fragmented messages are appended to a reusable reassembly buffer. The receive buffer grows
// (once) to hold the largest frame seen, up to max_message_size.
//
// Send path: prepare(n) hands out space in the send buffer with kMaxHeaderSize bytes of headroom in front;
// the caller writes the payload there and commit() writes the header into the headroom (backwards from the
// payload), masks in place (client) and queues the frame. Frames queued during a reactor turn go out in one
// writev at the end of the turn. The send buffer is bounded: past max_write_buffer, sends answer
// kBackpressure instead of growing memory without limit.
//
// Every protocol violation by the peer fails the connection: a close frame with the RFC's code (1002
// protocol error, 1007 invalid payload, 1009 too big) is sent, the socket is closed, and on_close reports
// clean = false with the code and a description.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "hftx/memory/page_buffer.hpp"
#include "hftx/net/reactor.hpp"
#include "hftx/net/stream.hpp"
#include "hftx/core/clock.hpp"
#include "hftx/net/tcp.hpp"
#include "hftx/net/ws_frame.hpp"
#include "hftx/net/ws_handshake.hpp"

namespace hftx::net {

struct WsConfig {
  std::size_t max_message_size = std::size_t{64} << 20;  // bytes; larger messages fail with 1009
  std::size_t read_buffer_size = std::size_t{256} << 10;  // initial receive buffer
  std::size_t write_buffer_size = std::size_t{256} << 10; // initial send buffer
  std::size_t max_write_buffer = std::size_t{64} << 20;   // queued bytes before sends report back-pressure
  std::chrono::milliseconds ping_interval{0};             // 0: no automatic pings
  std::chrono::milliseconds ping_timeout{10'000};         // no pong within this: the connection is dead
  std::chrono::milliseconds close_timeout{2'000};         // wait for the peer's close frame this long
  std::chrono::milliseconds handshake_timeout{10'000};    // server: TLS + opening handshake must finish in this
  TcpOptions tcp;
};

// Readable bytes that follow every delivered message (simdjson's padding, md::kJsonPadding): a JSON
// parser reads the message in place, without a copy. The bytes' values are unspecified.
inline constexpr std::size_t kMessagePadding = 64;

struct WsMessage {
  Opcode opcode;
  std::string_view data;  // valid only during the callback; data.data() + data.size() + kMessagePadding is readable
  [[nodiscard]] bool is_text() const noexcept { return opcode == Opcode::kText; }
};

struct WsCloseInfo {
  std::uint16_t code = close_code::kAbnormal;  // the peer's code, ours when we failed it, 1006 when none
  std::string reason;
  bool clean = false;    // a close handshake completed (no failure)
  bool by_peer = false;  // the peer started the close (or the failure was detected in its data)
  std::string error;     // what went wrong when not clean
};

enum class SendStatus : std::uint8_t { kOk, kBackpressure, kClosed, kTooBig };

struct WsStats {
  std::uint64_t messages_received = 0;
  std::uint64_t bytes_received = 0;
  std::uint64_t messages_sent = 0;
  std::uint64_t bytes_sent = 0;
  std::uint64_t pings_received = 0;
  std::uint64_t pongs_received = 0;
  std::uint64_t backpressure_events = 0;
};

class WsServer;

class WsConnection : private IoHandler, private FlushHandler {
 public:
  enum class Role : std::uint8_t { kClient, kServer };
  enum class State : std::uint8_t { kIdle, kTlsAccept, kHandshake, kOpen, kClosing, kClosed };

  using MessageFn = std::function<void(WsConnection&, const WsMessage&)>;
  using OpenFn = std::function<void(WsConnection&)>;
  using CloseFn = std::function<void(WsConnection&, const WsCloseInfo&)>;
  using PongFn = std::function<void(WsConnection&, std::string_view)>;

  WsConnection(Reactor& reactor, Role role, const WsConfig& config);
  virtual ~WsConnection();
  WsConnection(const WsConnection&) = delete;
  WsConnection& operator=(const WsConnection&) = delete;

  MessageFn on_message;
  OpenFn on_open;
  CloseFn on_close;
  PongFn on_pong;
  void* user_data = nullptr;

  [[nodiscard]] State state() const noexcept { return state_; }
  [[nodiscard]] bool is_open() const noexcept { return state_ == State::kOpen; }
  [[nodiscard]] Role role() const noexcept { return role_; }
  [[nodiscard]] const WsStats& stats() const noexcept { return stats_; }
  [[nodiscard]] const WsConfig& config() const noexcept { return config_; }
  [[nodiscard]] const std::string& subprotocol() const noexcept { return subprotocol_; }
  [[nodiscard]] const std::string& request_target() const noexcept { return target_; }
  // Bytes queued and not yet accepted by the kernel.
  [[nodiscard]] std::size_t write_queue_bytes() const noexcept { return queued_bytes_; }
  [[nodiscard]] int fd() const noexcept { return stream_.fd(); }
  // TscClock ticks when the bytes of the message being delivered were read into user space (the start of
  // tick-to-trade, ARCHITECTURE §1). Meaningful inside on_message.
  [[nodiscard]] std::uint64_t read_ticks() const noexcept { return read_ticks_; }

  // Zero-copy send: write up to n payload bytes at the returned pointer, then commit(opcode, used).
  // nullptr when the connection is not open or the send buffer is at its bound (back-pressure).
  [[nodiscard]] std::uint8_t* prepare(std::size_t n) noexcept {
    if (HFTX_UNLIKELY(state_ != State::kOpen)) return nullptr;
    return prepare_unchecked(n);
  }
  SendStatus commit(Opcode op, std::size_t n, bool fin = true) noexcept {
    commit_unchecked(op, n, fin);
    ++stats_.messages_sent;
    return SendStatus::kOk;
  }

  SendStatus send(Opcode op, const void* data, std::size_t n, bool fin = true) noexcept {
    if (HFTX_UNLIKELY(state_ != State::kOpen)) return SendStatus::kClosed;
    std::uint8_t* p = prepare_unchecked(n);
    if (HFTX_UNLIKELY(p == nullptr)) return SendStatus::kBackpressure;
    if (n != 0) std::memcpy(p, data, n);
    return commit(op, n, fin);
  }
  SendStatus send_text(std::string_view s) noexcept { return send(Opcode::kText, s.data(), s.size()); }
  SendStatus send_binary(const void* data, std::size_t n) noexcept { return send(Opcode::kBinary, data, n); }
  // A ping; with a deadline (ping_timeout) when track is true: no pong in time fails the connection.
  SendStatus ping(std::string_view payload = {}, bool track = true) noexcept;
  // Pre-encoded bytes (a server frame from WsServer::encode): queued as they are.
  SendStatus send_raw(const void* data, std::size_t n) noexcept;

  // Starts the close handshake (code must be valid to send; reason at most 123 bytes of UTF-8).
  void close(std::uint16_t code = close_code::kNormal, std::string_view reason = {}) noexcept;
  // Drops the connection at once without a close frame (reported as 1006, not clean).
  void abort(std::string_view why = "aborted locally") noexcept;
  // Writes what is queued now instead of at the end of the reactor turn.
  void flush() noexcept { flush_now(); }

  // Client: adopts a connected stream whose opening handshake is done; `leftover` are bytes read past
  // the 101 head (possibly the first frames).
  void attach_open(Stream&& stream, std::string_view leftover, std::string subprotocol);
  // Server: adopts an accepted socket; TLS (if tls) and the opening handshake run on the reactor.
  void attach_accepted(Stream&& stream, const TlsContext* tls, const std::vector<std::string>* subprotocols);

 protected:
  // Hook for subclasses (the client reconnects from here). Runs after on_close.
  virtual void after_close(const WsCloseInfo&) {}
  // Runs just before on_open (the client announces a reconnect from here).
  virtual void before_open() {}

 private:
  struct Segment {
    std::size_t off;
    std::size_t len;
  };

  void on_io(std::uint32_t events) noexcept override;
  void on_flush() noexcept override {
    flush_scheduled_ = false;
    flush_now();
  }

  std::uint8_t* prepare_unchecked(std::size_t n) noexcept {
    const std::size_t need = kMaxHeaderSize + n;
    if (HFTX_UNLIKELY(wtail_ + need > wcap_) && !make_room(need)) {
      ++stats_.backpressure_events;
      return nullptr;
    }
    prepared_ = wtail_ + kMaxHeaderSize;
    return wbuf_.get() + prepared_;
  }
  HFTX_FORCE_INLINE void commit_unchecked(Opcode op, std::size_t n, bool fin) noexcept {
    std::uint8_t* payload = wbuf_.get() + prepared_;
    const bool masked = role_ == Role::kClient;
    const std::size_t hl = frame_header_size(n, masked);
    const std::size_t start = prepared_ - hl;
    std::uint8_t key[4];
    if (masked) {
      prng_.next_key(key);
      apply_mask(payload, n, key);
    }
    write_frame_header(wbuf_.get() + start, op, fin, n, masked ? key : nullptr);
    push_segment(start, hl + n);
    wtail_ = prepared_ + n;
    stats_.bytes_sent += n;
    schedule_flush();
  }
  HFTX_FORCE_INLINE void push_segment(std::size_t off, std::size_t len) noexcept {
    if (seg_head_ < segs_.size() && segs_.back().off + segs_.back().len == off) {
      segs_.back().len += len;
    } else {
      segs_.push_back({off, len});
    }
    queued_bytes_ += len;
  }
  HFTX_FORCE_INLINE void schedule_flush() noexcept {
    if (!flush_scheduled_ && !write_blocked_) {
      flush_scheduled_ = true;
      reactor_.defer_flush(this);
    }
  }
  bool make_room(std::size_t need) noexcept;
  void flush_now() noexcept;
  // Reads until the socket is drained. `peer_gone` (the event carried RDHUP/HUP/ERR): read on past a short
  // read, to the end of the stream, because the hang-up's edge has been consumed and no other will come.
  void read_ready(bool peer_gone = false) noexcept;
  void process() noexcept;
  bool process_handshake() noexcept;
  void on_frame(const FrameHeader& h, std::uint8_t* payload) noexcept;
  void deliver(Opcode op, const std::uint8_t* p, std::size_t n) noexcept {
    ++stats_.messages_received;
    stats_.bytes_received += n;
    if (on_message) on_message(*this, WsMessage{op, std::string_view(reinterpret_cast<const char*>(p), n)});
  }
  void on_close_frame(const std::uint8_t* p, std::size_t n) noexcept;
  void send_control(Opcode op, const void* data, std::size_t n) noexcept;
  void send_close_frame(std::uint16_t code, std::string_view reason) noexcept;
  void fail(std::uint16_t code, std::string_view why) noexcept;
  void finish(WsCloseInfo info) noexcept;
  void reset_buffers() noexcept;
  void on_timer() noexcept;
  void on_ping_tick() noexcept;
  [[nodiscard]] bool hot() const noexcept { return role_ == Role::kClient; }

  Reactor& reactor_;
  Role role_;
  WsConfig config_;
  State state_ = State::kIdle;
  Stream stream_;
  const TlsContext* server_tls_ = nullptr;
  const std::vector<std::string>* server_subprotocols_ = nullptr;
  std::string subprotocol_;
  std::string target_;

  // receive
  PageBuffer rbuf_;
  std::size_t rcap_ = 0;
  std::size_t rhead_ = 0;
  std::size_t rtail_ = 0;
  std::size_t need_ = 0;  // bytes from rhead_ the next frame needs (0: unknown)
  std::uint64_t read_ticks_ = 0;
  std::vector<std::uint8_t> frag_;
  Opcode frag_op_ = Opcode::kContinuation;
  bool frag_active_ = false;
  Utf8Validator utf8_;

  // send
  PageBuffer wbuf_;
  std::size_t wcap_ = 0;
  std::size_t wtail_ = 0;
  std::size_t prepared_ = 0;
  std::vector<Segment> segs_;
  std::size_t seg_head_ = 0;
  std::size_t queued_bytes_ = 0;
  bool flush_scheduled_ = false;
  bool write_blocked_ = false;
  MaskPrng prng_;

  // closing
  bool close_sent_ = false;
  bool close_received_ = false;
  bool finish_after_flush_ = false;
  WsCloseInfo pending_close_;
  bool awaiting_pong_ = false;
  std::unique_ptr<Timer> deadline_timer_;  // pong deadline or close timeout
  std::unique_ptr<Timer> ping_timer_;
  WsStats stats_;
};

struct WsClientConfig : WsConfig {
  std::string url;
  Headers headers;                        // extra request headers
  std::vector<std::string> subprotocols;  // offered in Sec-WebSocket-Protocol
  int connect_timeout_ms = 10'000;        // TCP connect + TLS + opening handshake
  TlsClientOptions tls;
  // Reconnect after a close the application did not ask for, with exponential backoff and jitter, except after
  // a failure that retrying will not mend (is_permanent(), ConnectionError::permanent()): then give up.
  bool reconnect = false;
  std::chrono::milliseconds backoff_initial{100};
  std::chrono::milliseconds backoff_max{30'000};  // the ceiling of the delay
  double backoff_jitter = 0.2;            // each delay is scaled by a uniform factor in [1 - j, 1 + j]
  int max_reconnect_attempts = -1;        // consecutive failures before giving up; -1: never
  // A connection that closes sooner than this after opening counts as a failed attempt: the backoff keeps
  // growing against a venue that accepts and then drops every connection (instead of starting again at
  // backoff_initial, some 20 reconnects a second).
  std::chrono::milliseconds stable_after{5'000};
};

// A close that retrying will not mend: the peer closed with 1002 (protocol error), 1003 (unsupported data), 1007
// (invalid payload), 1008 (policy violation: an unknown path or stream) or 1010 (a needed extension).
[[nodiscard]] constexpr bool is_permanent(const WsCloseInfo& info) noexcept {
  if (!info.by_peer) return false;
  switch (info.code) {
    case close_code::kProtocolError:
    case close_code::kUnsupportedData:
    case close_code::kInvalidPayload:
    case close_code::kPolicyViolation:
    case 1010:
      return true;
    default:
      return false;
  }
}

class WsClient final : public WsConnection {
 public:
  // Parses the URL (ConfigError when malformed); nothing is resolved or connected yet.
  WsClient(Reactor& reactor, WsClientConfig config);
  ~WsClient() override;

  // Resolves the host (first call only: later reconnects reuse the addresses), connects, runs TLS and the
  // opening handshake; blocks the calling thread up to connect_timeout_ms. Throws ConnectionError,
  // TlsError (verification failures name OpenSSL's reason) or HandshakeError (status and body).
  void connect();

  // Called after each successful reconnect, before on_open: the place to resync state (books) that
  // the gap made stale. on_open then runs, as on the first connect: the place to (re)subscribe.
  std::function<void(WsClient&, unsigned attempt)> on_reconnect;
  // Called when a reconnect attempt fails (before the next backoff), and once when giving up: after
  // max_reconnect_attempts, or at once on a permanent failure (then `error` names the URL and the reason).
  std::function<void(WsClient&, const std::string& error, bool giving_up)> on_reconnect_failed;

  void close(std::uint16_t code = close_code::kNormal, std::string_view reason = {}) noexcept {
    user_closed_ = true;
    backoff_timer_->disarm();
    WsConnection::close(code, reason);
  }
  [[nodiscard]] unsigned reconnects() const noexcept { return reconnects_; }
  // A reconnect attempt is scheduled (the connection is down but not given up).
  [[nodiscard]] bool backoff_pending() const noexcept { return backoff_timer_->armed(); }
  // The client gave up reconnecting (failure() says why).
  [[nodiscard]] bool gave_up() const noexcept { return gave_up_; }
  [[nodiscard]] const std::string& failure() const noexcept { return failure_; }
  [[nodiscard]] const SocketReport& socket_report() const noexcept { return socket_report_; }
  [[nodiscard]] const WsUrl& url() const noexcept { return url_; }
  // The delay before reconnect attempt `attempt` (0-based), jitter included.
  std::chrono::milliseconds backoff_delay(unsigned attempt) noexcept;

 private:
  void after_close(const WsCloseInfo& info) override;
  void before_open() override;
  void try_reconnect() noexcept;
  void give_up(std::string why) noexcept;

  WsClientConfig cfg_;
  WsUrl url_;
  std::vector<ResolvedAddress> addrs_;
  std::shared_ptr<TlsContext> tls_;
  SocketReport socket_report_;
  std::unique_ptr<Timer> backoff_timer_;
  unsigned attempt_ = 0;
  unsigned reconnects_ = 0;
  bool user_closed_ = false;
  bool reconnecting_ = false;
  bool gave_up_ = false;
  std::string failure_;
  std::int64_t opened_ns_ = 0;  // monotonic, when the connection last opened
  MaskPrng jitter_rng_;
};

struct WsServerConfig : WsConfig {
  std::string host = "127.0.0.1";
  std::uint16_t port = 0;                 // 0: any free port (see WsServer::port())
  std::vector<std::string> subprotocols;  // the first one a client offers that is here is chosen
  std::shared_ptr<TlsContext> tls;        // wss:// when set (TlsContext::server)
  // Caps: a connection past either is refused with an HTTP 503 naming the cap (WsServer::refused() counts them).
  std::size_t max_connections = 10'000;
  std::size_t max_pending_handshakes = 1'024;  // accepted, TLS or the opening handshake not done yet
};

// A frame encoded once (server to client: unmasked), sendable to any number of connections.
struct EncodedFrame {
  std::vector<std::uint8_t> bytes;
};

class WsServer final : private IoHandler, private FlushHandler {
 public:
  WsServer(Reactor& reactor, WsServerConfig config);
  ~WsServer();
  WsServer(const WsServer&) = delete;
  WsServer& operator=(const WsServer&) = delete;

  // Applied to every accepted connection.
  WsConnection::MessageFn on_message;
  WsConnection::OpenFn on_open;
  WsConnection::CloseFn on_close;

  [[nodiscard]] std::uint16_t port() const noexcept { return listener_.port(); }
  [[nodiscard]] std::size_t connection_count() const noexcept;
  // Connections whose TLS or opening handshake is not done yet.
  [[nodiscard]] std::size_t pending_handshakes() const noexcept;
  // Connections refused at a cap (max_connections, max_pending_handshakes) since the server started. Any thread.
  [[nodiscard]] std::uint64_t refused() const noexcept { return refused_.load(std::memory_order_relaxed); }
  // Open connections (handshake done).
  template <class Fn>
  void for_each_open(Fn&& fn) {
    for (auto& c : conns_)
      if (c->is_open()) fn(*c);
  }

  static void encode(Opcode op, std::string_view payload, EncodedFrame& out);
  // Sends one encoded frame to every open connection; returns how many took it (the rest are at their
  // back-pressure bound and miss it).
  std::size_t broadcast(const EncodedFrame& frame) noexcept;
  // Starts the close handshake on every connection.
  void close_all(std::uint16_t code = close_code::kGoingAway, std::string_view reason = {}) noexcept;

 private:
  void on_io(std::uint32_t events) noexcept override;
  void on_flush() noexcept override;

  Reactor& reactor_;
  WsServerConfig config_;
  TcpListener listener_;
  std::vector<std::unique_ptr<WsConnection>> conns_;
  std::atomic<std::uint64_t> refused_{0};
  bool reap_scheduled_ = false;
};

}  // namespace hftx::net
