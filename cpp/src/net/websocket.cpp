// WebSocket connection state machine (receive, send queue, close handshake), client connect/reconnect,
// and the server. The per-frame hot path is process()/on_frame()/flush_now(); the rest is cold.
// GCC 12 reports -Wrestrict false positives for std::string operator+ at -O3 (GCC PR 105651).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wrestrict"
#endif
#include "hftx/net/websocket.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>

#include "hftx/core/error.hpp"
#include "hftx/memory/prefault.hpp"

namespace hftx::net {

namespace {
constexpr std::size_t kMinReadRoom = 16 * 1024;  // compact the receive buffer below this much free tail
constexpr int kMaxIov = 64;
// Queued frames are segments of the send buffer, one per frame (a frame's header sits right before its
// payload, so frames are not contiguous unless their headers are the longest kind). The segment list is
// reserved for one segment per this many bytes of send buffer, so that a full buffer of order-sized frames
// (150-400 bytes) queues without the list growing: that growth would be an allocation on the hot path
// exactly when the peer is slow.
constexpr std::size_t kBytesPerSegment = 64;
}  // namespace

WsConnection::WsConnection(Reactor& reactor, Role role, const WsConfig& config)
    : reactor_(reactor), role_(role), config_(config) {
  if (config_.max_message_size == 0) throw ConfigError("websocket max_message_size: expected > 0 bytes");
  if (config_.read_buffer_size < 4096) config_.read_buffer_size = 4096;
  if (config_.write_buffer_size < 4096) config_.write_buffer_size = 4096;
  rcap_ = config_.read_buffer_size;
  wcap_ = config_.write_buffer_size;
  // A client's buffers are faulted in now: its reads and sends are a session's hot path, where frames reach
  // deeper into the send buffer only under back-pressure and a first write into a page there would be a page
  // fault. A server's are faulted in as they are used: a connection that never finishes its handshake costs a
  // page or two, and every page goes back to the kernel when the connection is gone (memory/page_buffer.hpp).
  rbuf_ = PageBuffer(rcap_ + kMessagePadding, hot());
  wbuf_ = PageBuffer(wcap_, hot());
  if (!rbuf_ || !wbuf_)
    throw SystemError("websocket: cannot map " + std::to_string(rcap_ + wcap_) + " bytes of connection buffers");
  if (hot()) {
    reserve_mapped(segs_, wcap_ / kBytesPerSegment);
    reserve_mapped(frag_, 4096);
  }
  deadline_timer_ = std::make_unique<Timer>(reactor_, [this] { on_timer(); });
  ping_timer_ = std::make_unique<Timer>(reactor_, [this] { on_ping_tick(); });
}

WsConnection::~WsConnection() {
  if (stream_.is_open()) reactor_.remove(stream_.fd(), this);
  reactor_.cancel_flush(this);
}

void WsConnection::reset_buffers() noexcept {
  rhead_ = rtail_ = need_ = 0;
  frag_.clear();
  frag_active_ = false;
  utf8_.reset();
  wtail_ = prepared_ = 0;
  segs_.clear();
  seg_head_ = 0;
  queued_bytes_ = 0;
  write_blocked_ = false;
  close_sent_ = close_received_ = finish_after_flush_ = false;
  awaiting_pong_ = false;
  pending_close_ = WsCloseInfo{};
}

void WsConnection::attach_open(Stream&& stream, std::string_view leftover, std::string subprotocol) {
  reset_buffers();
  stream_ = std::move(stream);
  subprotocol_ = std::move(subprotocol);
  if (leftover.size() > rcap_) {
    PageBuffer bigger(leftover.size() + kMessagePadding, hot());
    if (!bigger) throw SystemError("websocket: cannot map the receive buffer");
    rcap_ = leftover.size();
    rbuf_ = std::move(bigger);
  }
  if (!leftover.empty()) std::memcpy(rbuf_.get(), leftover.data(), leftover.size());
  rtail_ = leftover.size();
  state_ = State::kOpen;
  reactor_.add(stream_.fd(), EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET, this);
  if (config_.ping_interval.count() > 0) ping_timer_->arm(config_.ping_interval, config_.ping_interval);
  before_open();
  if (on_open && state_ == State::kOpen) on_open(*this);
  if (state_ == State::kOpen && rtail_ > 0) process();
  // Bytes may have arrived between the handshake read and epoll registration: the edge was before
  // registration, so read once now.
  if (state_ == State::kOpen) read_ready();
}

void WsConnection::attach_accepted(Stream&& stream, const TlsContext* tls,
                                   const std::vector<std::string>* subprotocols) {
  reset_buffers();
  stream_ = std::move(stream);
  server_tls_ = tls;
  server_subprotocols_ = subprotocols;
  state_ = tls != nullptr ? State::kTlsAccept : State::kHandshake;
  if (tls != nullptr) stream_.tls_begin_accept(*tls);
  reactor_.add(stream_.fd(), EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET, this);
  // A client that connects and never completes its handshake must not hold the slot forever.
  deadline_timer_->arm(config_.handshake_timeout);
}

void WsConnection::on_io(std::uint32_t events) noexcept {
  if (state_ == State::kTlsAccept) {
    std::string error;
    const int r = stream_.tls_accept_step(error);
    if (r < 0) {
      finish(WsCloseInfo{close_code::kAbnormal, {}, false, true, error});
      return;
    }
    if (r == 0) return;
    state_ = State::kHandshake;
    events |= EPOLLIN;  // OpenSSL may already hold the request
  }
  if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) read_ready((events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)) != 0);
  if (events & EPOLLOUT) {
    // The socket is writable again, whether or not anything is queued now (a direct flush may already
    // have drained the queue): clear the flag, or schedule_flush() would wait for an edge that never comes.
    write_blocked_ = false;
    if (state_ != State::kClosed && seg_head_ < segs_.size()) flush_now();
  }
}

void WsConnection::read_ready(bool peer_gone) noexcept {
  std::size_t got = 0;
  while (state_ != State::kClosed && state_ != State::kIdle) {
    if (rhead_ == rtail_) rhead_ = rtail_ = 0;
    // Make room: move the partial frame to the front when the tail is short, grow (once, up to
    // max_message_size + header) when a single frame needs more than the buffer holds.
    if (rcap_ - rtail_ < kMinReadRoom || (need_ > 0 && rhead_ + need_ > rcap_)) {
      if (rhead_ > 0) {
        std::memmove(rbuf_.get(), rbuf_.get() + rhead_, rtail_ - rhead_);
        rtail_ -= rhead_;
        rhead_ = 0;
      }
      if (need_ > rcap_ || rcap_ - rtail_ < kMinReadRoom / 4) {
        const std::size_t cap = std::max({need_, rcap_ * 2, rtail_ + kMinReadRoom});
        PageBuffer bigger(cap + kMessagePadding, hot());
        if (!bigger) {
          fail(close_code::kMessageTooBig, "out of memory for the receive buffer");
          return;
        }
        std::memcpy(bigger.get(), rbuf_.get(), rtail_);
        rbuf_ = std::move(bigger);
        rcap_ = cap;
      }
    }
    const std::size_t room = rcap_ - rtail_;
    const std::ptrdiff_t n = stream_.read(rbuf_.get() + rtail_, room);
    if (HFTX_LIKELY(n > 0)) {
      read_ticks_ = TscClock::ticks();
      rtail_ += static_cast<std::size_t>(n);
      process();
      // A short read drained the socket (edge-triggered contract, see reactor.hpp); TLS may hold more. After
      // a hang-up the end of the stream is still to be read: the data and the FIN came in one edge.
      if (static_cast<std::size_t>(n) < room && !stream_.is_tls() && !peer_gone) return;
      // Fairness: after a buffer's worth, the rest waits for the next reactor turn, so a backlogged stream
      // cannot keep the other connections of this thread (the order connection) from being read.
      got += static_cast<std::size_t>(n);
      if (got >= config_.read_buffer_size && state_ == State::kOpen) {
        reactor_.resume_next_turn(this, EPOLLIN | (peer_gone ? EPOLLRDHUP : 0u));
        return;
      }
      continue;
    }
    if (n == static_cast<std::ptrdiff_t>(IoResult::kWouldBlock)) return;
    if (n == static_cast<std::ptrdiff_t>(IoResult::kClosed)) {
      if (state_ == State::kClosing && close_sent_ && close_received_) {
        finish(pending_close_);
      } else {
        finish(WsCloseInfo{close_code::kAbnormal, {}, false, true,
                           "connection closed by the peer without a close frame"});
      }
      return;
    }
    finish(WsCloseInfo{close_code::kAbnormal, {}, false, true,
                       std::string("receive failed: ") + std::strerror(stream_.last_errno())});
    return;
  }
}

bool WsConnection::process_handshake() noexcept {
  HttpHead head;
  std::string error;
  const std::string_view data(reinterpret_cast<const char*>(rbuf_.get() + rhead_), rtail_ - rhead_);
  const HeadStatus st = parse_http_request(data, head, error);
  if (st == HeadStatus::kNeedMore) {
    need_ = 0;
    return false;
  }
  std::string response;
  if (st == HeadStatus::kComplete) {
    static const std::vector<std::string> kNone;
    response = answer_client_handshake(head, server_subprotocols_ ? *server_subprotocols_ : kNone, error);
  } else {
    const std::string body = error + "\n";
    response = "HTTP/1.1 400 Bad Request\r\nContent-Length: " + std::to_string(body.size()) +
               "\r\nConnection: close\r\n\r\n" + body;
  }
  const std::size_t n = response.size();
  std::uint8_t* p = prepare_unchecked(n);
  if (p != nullptr) {
    std::memcpy(p, response.data(), n);
    push_segment(prepared_, n);
    wtail_ = prepared_ + n;
  }
  if (!error.empty()) {
    flush_now();
    finish(WsCloseInfo{close_code::kAbnormal, {}, false, true, "websocket handshake refused: " + error});
    return false;
  }
  rhead_ += head.head_size;
  target_ = head.target;
  const std::string_view chosen = std::string_view(response).substr(0, response.size());
  if (const std::size_t at = chosen.find("Sec-WebSocket-Protocol: "); at != std::string_view::npos) {
    const std::size_t start = at + 24;
    subprotocol_ = std::string(chosen.substr(start, chosen.find("\r\n", start) - start));
  }
  state_ = State::kOpen;
  deadline_timer_->disarm();
  schedule_flush();
  if (config_.ping_interval.count() > 0) ping_timer_->arm(config_.ping_interval, config_.ping_interval);
  if (on_open) on_open(*this);
  return state_ == State::kOpen;
}

void WsConnection::process() noexcept {
  if (HFTX_UNLIKELY(state_ == State::kHandshake) && !process_handshake()) return;
  const bool expect_masked = role_ == Role::kServer;
  while (state_ == State::kOpen || state_ == State::kClosing) {
    std::uint8_t* p = rbuf_.get() + rhead_;
    const std::size_t avail = rtail_ - rhead_;
    FrameHeader h;
    FrameError err;
    const FrameStatus st = parse_frame_header(p, avail, h, err);
    if (st == FrameStatus::kNeedMore) {
      need_ = kMaxHeaderSize;
      return;
    }
    if (HFTX_UNLIKELY(st == FrameStatus::kError)) {
      fail(err.code, err.what);
      return;
    }
    if (HFTX_UNLIKELY(h.masked != expect_masked)) {
      fail(close_code::kProtocolError, expect_masked ? "unmasked frame from a client" : "masked frame from the server");
      return;
    }
    if (HFTX_UNLIKELY(h.payload_len > config_.max_message_size)) {
      fail(close_code::kMessageTooBig, "frame larger than max_message_size");
      return;
    }
    const std::size_t total = h.header_len + static_cast<std::size_t>(h.payload_len);
    if (avail < total) {
      need_ = total;
      return;
    }
    need_ = 0;
    std::uint8_t* payload = p + h.header_len;
    if (h.masked) apply_mask(payload, static_cast<std::size_t>(h.payload_len), h.mask_key);
    rhead_ += total;  // before dispatch: a callback may close the connection
    on_frame(h, payload);
  }
}

void WsConnection::on_frame(const FrameHeader& h, std::uint8_t* payload) noexcept {
  const auto n = static_cast<std::size_t>(h.payload_len);
  switch (h.opcode) {
    case Opcode::kText:
    case Opcode::kBinary:
      if (HFTX_UNLIKELY(frag_active_)) {
        fail(close_code::kProtocolError, "new data frame while a fragmented message is in progress");
        return;
      }
      if (state_ == State::kClosing) return;  // data after our close frame is discarded (§1.4)
      if (HFTX_LIKELY(h.fin)) {
        if (h.opcode == Opcode::kText && HFTX_UNLIKELY(!is_valid_utf8(payload, n))) {
          fail(close_code::kInvalidPayload, "text message is not valid UTF-8");
          return;
        }
        deliver(h.opcode, payload, n);
        return;
      }
      frag_active_ = true;
      frag_op_ = h.opcode;
      frag_.assign(payload, payload + n);
      utf8_.reset();
      if (h.opcode == Opcode::kText && !utf8_.feed(payload, n)) {
        fail(close_code::kInvalidPayload, "text message is not valid UTF-8");
      }
      return;
    case Opcode::kContinuation:
      if (HFTX_UNLIKELY(!frag_active_)) {
        fail(close_code::kProtocolError, "continuation frame without a message to continue");
        return;
      }
      if (HFTX_UNLIKELY(frag_.size() + n > config_.max_message_size)) {
        fail(close_code::kMessageTooBig, "fragmented message larger than max_message_size");
        return;
      }
      frag_.insert(frag_.end(), payload, payload + n);
      if (frag_op_ == Opcode::kText && !utf8_.feed(payload, n)) {
        fail(close_code::kInvalidPayload, "text message is not valid UTF-8");
        return;
      }
      if (h.fin) {
        if (frag_op_ == Opcode::kText && !utf8_.complete()) {
          fail(close_code::kInvalidPayload, "text message ends inside a UTF-8 sequence");
          return;
        }
        frag_active_ = false;
        const std::size_t size = frag_.size();
        frag_.resize(size + kMessagePadding);  // the padding promise (kMessagePadding) holds here too
        if (state_ != State::kClosing) deliver(frag_op_, frag_.data(), size);
        frag_.clear();  // keeps its capacity for the next fragmented message
      }
      return;
    case Opcode::kPing:
      ++stats_.pings_received;
      if (state_ == State::kOpen) send_control(Opcode::kPong, payload, n);
      return;
    case Opcode::kPong:
      ++stats_.pongs_received;
      if (awaiting_pong_) {
        awaiting_pong_ = false;
        if (state_ == State::kOpen) deadline_timer_->disarm();
      }
      if (on_pong) on_pong(*this, std::string_view(reinterpret_cast<const char*>(payload), n));
      return;
    case Opcode::kClose:
      on_close_frame(payload, n);
      return;
  }
}

void WsConnection::on_close_frame(const std::uint8_t* p, std::size_t n) noexcept {
  WsCloseInfo info;
  info.code = close_code::kNoStatus;
  if (n == 1) {
    fail(close_code::kProtocolError, "close frame with a 1-byte payload");
    return;
  }
  if (n >= 2) {
    info.code = static_cast<std::uint16_t>((p[0] << 8) | p[1]);
    if (!is_valid_close_code(info.code)) {
      fail(close_code::kProtocolError, "invalid close code " + std::to_string(info.code));
      return;
    }
    if (!is_valid_utf8(p + 2, n - 2)) {
      fail(close_code::kInvalidPayload, "close reason is not valid UTF-8");
      return;
    }
    info.reason.assign(reinterpret_cast<const char*>(p + 2), n - 2);
  }
  close_received_ = true;
  info.clean = true;
  info.by_peer = !close_sent_;
  if (!close_sent_) {
    // Echo the peer's code (RFC 6455 §5.5.1); an empty close gets an empty answer.
    if (info.code == close_code::kNoStatus) {
      send_control(Opcode::kClose, nullptr, 0);
    } else {
      const std::uint8_t code_be[2] = {p[0], p[1]};
      send_control(Opcode::kClose, code_be, 2);
    }
    close_sent_ = true;
  }
  state_ = State::kClosing;
  pending_close_ = std::move(info);
  finish_after_flush_ = true;
  deadline_timer_->arm(config_.close_timeout);
  flush_now();
}

void WsConnection::send_control(Opcode op, const void* data, std::size_t n) noexcept {
  std::uint8_t* p = prepare_unchecked(n);
  if (p == nullptr) return;  // at the back-pressure bound: the peer is not reading anyway
  if (n != 0) std::memcpy(p, data, n);
  commit_unchecked(op, n, true);
}

void WsConnection::send_close_frame(std::uint16_t code, std::string_view reason) noexcept {
  std::uint8_t buf[kMaxControlPayload];
  buf[0] = static_cast<std::uint8_t>(code >> 8);
  buf[1] = static_cast<std::uint8_t>(code);
  // Truncate the reason at 123 bytes without splitting a UTF-8 sequence.
  std::size_t len = std::min<std::size_t>(reason.size(), kMaxControlPayload - 2);
  while (len > 0 && len < reason.size() && (static_cast<std::uint8_t>(reason[len]) & 0xC0) == 0x80) --len;
  if (len != 0) std::memcpy(buf + 2, reason.data(), len);
  send_control(Opcode::kClose, buf, 2 + len);
  close_sent_ = true;
}

SendStatus WsConnection::ping(std::string_view payload, bool track) noexcept {
  if (state_ != State::kOpen) return SendStatus::kClosed;
  if (payload.size() > kMaxControlPayload) return SendStatus::kTooBig;
  std::uint8_t* p = prepare_unchecked(payload.size());
  if (p == nullptr) return SendStatus::kBackpressure;
  if (!payload.empty()) std::memcpy(p, payload.data(), payload.size());
  commit_unchecked(Opcode::kPing, payload.size(), true);
  if (track && !awaiting_pong_) {
    awaiting_pong_ = true;
    deadline_timer_->arm(config_.ping_timeout);
  }
  return SendStatus::kOk;
}

SendStatus WsConnection::send_raw(const void* data, std::size_t n) noexcept {
  if (state_ != State::kOpen) return SendStatus::kClosed;
  std::uint8_t* p = prepare_unchecked(n);
  if (p == nullptr) return SendStatus::kBackpressure;
  if (n != 0) std::memcpy(p, data, n);
  push_segment(prepared_, n);
  wtail_ = prepared_ + n;
  ++stats_.messages_sent;
  schedule_flush();
  return SendStatus::kOk;
}

void WsConnection::close(std::uint16_t code, std::string_view reason) noexcept {
  if (state_ != State::kOpen) return;
  if (!is_valid_close_code(code)) code = close_code::kNormal;
  send_close_frame(code, reason);
  state_ = State::kClosing;
  pending_close_ = WsCloseInfo{code, std::string(reason), true, false, {}};
  deadline_timer_->arm(config_.close_timeout);
}

void WsConnection::abort(std::string_view why) noexcept {
  if (state_ == State::kClosed || state_ == State::kIdle) return;
  finish(WsCloseInfo{close_code::kAbnormal, {}, false, false, std::string(why)});
}

void WsConnection::fail(std::uint16_t code, std::string_view why) noexcept {
  if (state_ == State::kClosed || state_ == State::kIdle) return;
  if (!close_sent_ && (state_ == State::kOpen || state_ == State::kClosing)) {
    send_close_frame(code, why);
    flush_now();
  }
  if (state_ == State::kClosed) return;
  finish(WsCloseInfo{code, {}, false, true, std::string(why)});
}

void WsConnection::on_timer() noexcept {
  if (state_ == State::kTlsAccept || state_ == State::kHandshake) {
    finish(WsCloseInfo{close_code::kAbnormal, {}, false, true, "opening handshake timed out"});
  } else if (state_ == State::kOpen && awaiting_pong_) {
    finish(WsCloseInfo{close_code::kAbnormal, {}, false, true,
                       "no pong within ping_timeout (" + std::to_string(config_.ping_timeout.count()) +
                           " ms): connection presumed dead"});
  } else if (state_ == State::kClosing) {
    if (close_received_ && close_sent_) {
      finish(pending_close_);
    } else {
      finish(WsCloseInfo{close_code::kAbnormal, {}, false, false, "close handshake timed out"});
    }
  }
}

void WsConnection::on_ping_tick() noexcept {
  if (state_ == State::kOpen) ping({}, true);
}

bool WsConnection::make_room(std::size_t need) noexcept {
  if (seg_head_ == segs_.size()) {  // nothing pending: start over at the front
    segs_.clear();
    seg_head_ = 0;
    wtail_ = 0;
  } else if (segs_[seg_head_].off > 0) {
    const std::size_t base = segs_[seg_head_].off;
    std::memmove(wbuf_.get(), wbuf_.get() + base, wtail_ - base);
    for (std::size_t i = seg_head_; i < segs_.size(); ++i) segs_[i].off -= base;
    wtail_ -= base;
  }
  if (wtail_ + need <= wcap_) return true;
  // Back-pressure: refuse rather than grow past the bound while data is still queued. A single frame
  // larger than the bound is allowed when nothing else is queued (max_message_size caps it).
  if (queued_bytes_ > 0 && wtail_ + need > config_.max_write_buffer) return false;
  const std::size_t cap = std::max(wcap_ * 2, wtail_ + need);
  PageBuffer bigger(cap, hot());
  if (!bigger) return false;
  std::memcpy(bigger.get(), wbuf_.get(), wtail_);
  wbuf_ = std::move(bigger);
  wcap_ = cap;
  try {
    segs_.reserve(wcap_ / kBytesPerSegment);  // growing already allocates; the list keeps up with the buffer
  } catch (const std::bad_alloc&) {
    // The list then grows frame by frame, as push_segment() does past its reservation.
  }
  return true;
}

void WsConnection::flush_now() noexcept {
  // write_blocked_ says what the last write attempt met; this one starts afresh and sets it on EAGAIN.
  write_blocked_ = false;
  while (seg_head_ < segs_.size() && stream_.is_open()) {
    iovec iov[kMaxIov];
    int cnt = 0;
    for (std::size_t i = seg_head_; i < segs_.size() && cnt < kMaxIov; ++i, ++cnt) {
      iov[cnt].iov_base = wbuf_.get() + segs_[i].off;
      iov[cnt].iov_len = segs_[i].len;
    }
    const std::ptrdiff_t r = stream_.writev(iov, cnt);
    if (r < 0) {
      if (r == static_cast<std::ptrdiff_t>(IoResult::kWouldBlock)) {
        write_blocked_ = true;  // EPOLLOUT's edge resumes us
        return;
      }
      finish(WsCloseInfo{close_code::kAbnormal, {}, false, true,
                         std::string("send failed: ") + std::strerror(stream_.last_errno())});
      return;
    }
    auto left = static_cast<std::size_t>(r);
    queued_bytes_ -= left;
    while (left > 0) {
      Segment& s = segs_[seg_head_];
      const std::size_t take = std::min(left, s.len);
      s.off += take;
      s.len -= take;
      left -= take;
      if (s.len == 0) ++seg_head_;
    }
    while (seg_head_ < segs_.size() && segs_[seg_head_].len == 0) ++seg_head_;
  }
  if (seg_head_ == segs_.size()) {
    segs_.clear();
    seg_head_ = 0;
    wtail_ = 0;
    if (finish_after_flush_ && state_ == State::kClosing) {
      // Both close frames exchanged. The server closes TCP first (§7.1.1); a client that received the
      // server's close may close too, since the server has already stopped sending.
      stream_.shutdown_write();
      finish(pending_close_);
    }
  }
}

void WsConnection::finish(WsCloseInfo info) noexcept {
  if (state_ == State::kClosed || state_ == State::kIdle) return;
  state_ = State::kClosed;
  if (stream_.is_open()) reactor_.remove(stream_.fd(), this);
  reactor_.cancel_flush(this);
  flush_scheduled_ = false;
  deadline_timer_->disarm();
  ping_timer_->disarm();
  stream_.reset();
  segs_.clear();
  seg_head_ = 0;
  queued_bytes_ = 0;
  wtail_ = 0;
  if (on_close) on_close(*this, info);
  after_close(info);
}

// ---- client ------------------------------------------------------------------------------------------

WsClient::WsClient(Reactor& reactor, WsClientConfig config)
    : WsConnection(reactor, Role::kClient, config), cfg_(std::move(config)), url_(parse_ws_url(cfg_.url)) {
  if (cfg_.connect_timeout_ms <= 0)
    throw ConfigError("websocket connect_timeout_ms=" + std::to_string(cfg_.connect_timeout_ms) + ": expected > 0");
  if (cfg_.backoff_jitter < 0 || cfg_.backoff_jitter >= 1)
    throw ConfigError("websocket backoff_jitter=" + std::to_string(cfg_.backoff_jitter) + ": expected 0 <= j < 1");
  if (url_.tls) tls_ = TlsContext::client(cfg_.tls);
  backoff_timer_ = std::make_unique<Timer>(reactor, [this] { try_reconnect(); });
}

WsClient::~WsClient() = default;

void WsClient::connect() {
  if (state() == State::kOpen || state() == State::kClosing) throw ConnectionError("websocket already connected");
  user_closed_ = false;
  if (addrs_.empty()) addrs_ = resolve(url_.host, url_.port);
  const std::int64_t deadline = monotonic_ns() + std::int64_t{cfg_.connect_timeout_ms} * 1'000'000;
  const std::string where = cfg_.url;
  Stream s(connect_tcp(addrs_, cfg_.connect_timeout_ms, cfg_.tcp, &socket_report_));
  if (tls_) s.tls_connect(*tls_, url_.host, deadline);
  const std::string key = make_websocket_key();
  const std::string request = build_client_request(url_, key, cfg_.headers, cfg_.subprotocols);
  std::size_t sent = 0;
  while (sent < request.size()) {
    iovec iov{const_cast<char*>(request.data() + sent), request.size() - sent};
    const std::ptrdiff_t r = s.writev(&iov, 1);
    if (r > 0) {
      sent += static_cast<std::size_t>(r);
    } else if (r == static_cast<std::ptrdiff_t>(IoResult::kWouldBlock)) {
      if (!wait_fd(s.fd(), true, deadline)) throw ConnectionError(where + ": opening handshake timed out (sending)");
    } else {
      throw ConnectionError(where + ": sending the opening handshake failed: " + std::strerror(s.last_errno()));
    }
  }
  std::string buf;
  HttpHead head;
  std::string error;
  char tmp[16384];
  std::size_t body_wanted = 0;
  bool head_done = false;
  for (;;) {
    if (!head_done) {
      const HeadStatus st = parse_http_response(buf, head, error);
      if (st == HeadStatus::kInvalid) throw HandshakeError(where + ": invalid handshake answer: " + error, 0, "");
      if (st == HeadStatus::kComplete) {
        head_done = true;
        if (head.status == 101) break;
        const std::string_view cl = head.get("Content-Length");
        body_wanted = cl.empty() ? 0 : std::min<std::size_t>(std::strtoull(std::string(cl).c_str(), nullptr, 10), 65536);
      }
    }
    if (head_done && buf.size() >= head.head_size + body_wanted) break;
    const std::ptrdiff_t r = s.read(tmp, sizeof tmp);
    if (r > 0) {
      buf.append(tmp, static_cast<std::size_t>(r));
    } else if (r == static_cast<std::ptrdiff_t>(IoResult::kWouldBlock)) {
      if (!wait_fd(s.fd(), false, deadline)) {
        if (head_done) break;  // a body that never completes: report what we have
        throw ConnectionError(where + ": opening handshake timed out after " + std::to_string(cfg_.connect_timeout_ms) +
                              " ms (no HTTP answer)");
      }
    } else {
      if (head_done) break;
      throw ConnectionError(where + ": connection closed during the opening handshake");
    }
  }
  const std::string_view body = head.status == 101 ? std::string_view() : std::string_view(buf).substr(head.head_size);
  std::string chosen = check_client_handshake(head, key, cfg_.subprotocols, body);
  attach_open(std::move(s), std::string_view(buf).substr(head.head_size), std::move(chosen));
}

std::chrono::milliseconds WsClient::backoff_delay(unsigned attempt) noexcept {
  const double base = static_cast<double>(cfg_.backoff_initial.count()) * std::pow(2.0, std::min(attempt, 30u));
  const double capped = std::min(base, static_cast<double>(cfg_.backoff_max.count()));
  const double u = static_cast<double>(jitter_rng_.next() >> 11) * 0x1.0p-53;  // [0, 1)
  const double factor = 1.0 + cfg_.backoff_jitter * (2.0 * u - 1.0);
  return std::chrono::milliseconds(static_cast<std::int64_t>(std::max(1.0, capped * factor)));
}

void WsClient::after_close(const WsCloseInfo& info) {
  if (!cfg_.reconnect || user_closed_) return;
  if (is_permanent(info)) {
    give_up(cfg_.url + ": closed by the peer with " + std::to_string(info.code) +
            (info.reason.empty() ? std::string() : " '" + info.reason + "'") + ", which retrying will not mend");
    return;
  }
  // A connection that lived long enough starts the backoff afresh; one dropped soon after it opened is one more
  // failed attempt.
  if (monotonic_ns() - opened_ns_ >= std::chrono::nanoseconds(cfg_.stable_after).count())
    attempt_ = 0;
  else
    ++attempt_;
  backoff_timer_->arm(backoff_delay(attempt_));
}

void WsClient::give_up(std::string why) noexcept {
  gave_up_ = true;
  failure_ = std::move(why);
  backoff_timer_->disarm();
  if (on_reconnect_failed) on_reconnect_failed(*this, failure_, true);
}

void WsClient::try_reconnect() noexcept {
  if (user_closed_ || state() == State::kOpen) return;
  reconnecting_ = true;
  try {
    connect();
  } catch (const std::exception& e) {
    reconnecting_ = false;
    const auto* ce = dynamic_cast<const ConnectionError*>(&e);
    if (ce != nullptr && ce->permanent()) {
      give_up(e.what());
      return;
    }
    ++attempt_;
    if (cfg_.max_reconnect_attempts >= 0 && attempt_ >= static_cast<unsigned>(cfg_.max_reconnect_attempts)) {
      give_up(std::string(e.what()) + " (gave up after " + std::to_string(attempt_) + " attempts)");
      return;
    }
    if (on_reconnect_failed) on_reconnect_failed(*this, e.what(), false);
    backoff_timer_->arm(backoff_delay(attempt_));
  }
}

void WsClient::before_open() {
  opened_ns_ = monotonic_ns();
  if (!reconnecting_) return;
  reconnecting_ = false;
  ++reconnects_;
  if (on_reconnect) on_reconnect(*this, reconnects_);
}

// ---- server ------------------------------------------------------------------------------------------

WsServer::WsServer(Reactor& reactor, WsServerConfig config)
    : reactor_(reactor), config_(std::move(config)), listener_(config_.host, config_.port) {
  reactor_.add(listener_.fd(), EPOLLIN | EPOLLET, this);
}

WsServer::~WsServer() {
  reactor_.remove(listener_.fd(), this);
  reactor_.cancel_flush(this);
  conns_.clear();
}

std::size_t WsServer::connection_count() const noexcept {
  return static_cast<std::size_t>(std::count_if(conns_.begin(), conns_.end(), [](const auto& c) {
    return c->state() != WsConnection::State::kClosed;
  }));
}

namespace {

// A connection past a server's caps is told so (an HTTP 503 with the reason, written once and never waited for)
// and closed: a client sees why, instead of a connection that vanishes.
void refuse(int fd, std::string_view why) noexcept {
  char buf[256];
  const int n = std::snprintf(buf, sizeof buf,
                              "HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain\r\nContent-Length: %zu\r\n"
                              "Connection: close\r\n\r\n%.*s\n",
                              why.size() + 1, static_cast<int>(why.size()), why.data());
  if (n > 0) (void)::send(fd, buf, std::min<std::size_t>(static_cast<std::size_t>(n), sizeof buf - 1),
                          MSG_DONTWAIT | MSG_NOSIGNAL);
  ::close(fd);
}

}  // namespace

std::size_t WsServer::pending_handshakes() const noexcept {
  return static_cast<std::size_t>(std::count_if(conns_.begin(), conns_.end(), [](const auto& c) {
    return c->state() == WsConnection::State::kHandshake || c->state() == WsConnection::State::kTlsAccept;
  }));
}

void WsServer::on_io(std::uint32_t) noexcept {
  for (;;) {
    const int fd = listener_.try_accept();
    if (fd < 0) return;
    if (conns_.size() >= config_.max_connections && connection_count() >= config_.max_connections) {
      refused_.fetch_add(1, std::memory_order_relaxed);
      refuse(fd, "too many connections (max_connections " + std::to_string(config_.max_connections) + ")");
      continue;
    }
    if (conns_.size() >= config_.max_pending_handshakes && pending_handshakes() >= config_.max_pending_handshakes) {
      refused_.fetch_add(1, std::memory_order_relaxed);
      refuse(fd, "too many pending handshakes (max_pending_handshakes " +
                     std::to_string(config_.max_pending_handshakes) + ")");
      continue;
    }
    try {
      apply_tcp_options(fd, config_.tcp);
      auto conn = std::make_unique<WsConnection>(reactor_, WsConnection::Role::kServer, config_);
      conn->on_message = on_message;
      conn->on_open = on_open;
      conn->on_close = [this](WsConnection& c, const WsCloseInfo& info) {
        if (on_close) on_close(c, info);
        if (!reap_scheduled_) {
          reap_scheduled_ = true;
          reactor_.defer_flush(this);
        }
      };
      conn->attach_accepted(Stream(fd), config_.tls.get(), &config_.subprotocols);
      conns_.push_back(std::move(conn));
    } catch (const std::exception&) {
      ::close(fd);  // out of fds/memory for this one client: the others keep going
    }
  }
}

void WsServer::on_flush() noexcept {
  reap_scheduled_ = false;
  conns_.erase(std::remove_if(conns_.begin(), conns_.end(),
                              [](const auto& c) { return c->state() == WsConnection::State::kClosed; }),
               conns_.end());
}

void WsServer::encode(Opcode op, std::string_view payload, EncodedFrame& out) {
  out.bytes.resize(frame_header_size(payload.size(), false) + payload.size());
  const std::size_t hl = write_frame_header(out.bytes.data(), op, true, payload.size(), nullptr);
  if (!payload.empty()) std::memcpy(out.bytes.data() + hl, payload.data(), payload.size());
}

std::size_t WsServer::broadcast(const EncodedFrame& frame) noexcept {
  std::size_t n = 0;
  for (auto& c : conns_)
    if (c->is_open() && c->send_raw(frame.bytes.data(), frame.bytes.size()) == SendStatus::kOk) ++n;
  return n;
}

void WsServer::close_all(std::uint16_t code, std::string_view reason) noexcept {
  for (auto& c : conns_) c->close(code, reason);
}

}  // namespace hftx::net
