// TCP setup: resolution, connect with timeout, options, listener.
// GCC 12 reports -Wrestrict false positives for std::string operator+ at -O3 (GCC PR 105651).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wrestrict"
#endif
#include "hftx/net/tcp.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>

#include "hftx/net/ws_handshake.hpp"

namespace hftx::net {
namespace {

std::string addr_text(const sockaddr* sa) {
  char buf[INET6_ADDRSTRLEN] = {0};
  if (sa->sa_family == AF_INET6) {
    const auto* s6 = reinterpret_cast<const sockaddr_in6*>(sa);
    inet_ntop(AF_INET6, &s6->sin6_addr, buf, sizeof buf);
    std::string out = "[";
    out += buf;
    out += "]:";
    out += std::to_string(ntohs(s6->sin6_port));
    return out;
  }
  const auto* s4 = reinterpret_cast<const sockaddr_in*>(sa);
  inet_ntop(AF_INET, &s4->sin_addr, buf, sizeof buf);
  std::string out = buf;
  out += ':';
  out += std::to_string(ntohs(s4->sin_port));
  return out;
}

}  // namespace

std::int64_t monotonic_ns() noexcept {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

bool wait_fd(int fd, bool for_write, std::int64_t deadline_ns) {
  for (;;) {
    const std::int64_t left = deadline_ns - monotonic_ns();
    if (left <= 0) return false;
    pollfd p{fd, static_cast<short>(for_write ? POLLOUT : POLLIN), 0};
    const int r = ::poll(&p, 1, static_cast<int>((left + 999'999) / 1'000'000));
    if (r > 0) return true;
    if (r < 0 && errno != EINTR) return false;
  }
}

std::vector<ResolvedAddress> resolve(const std::string& host, std::uint16_t port, bool passive) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_ADDRCONFIG | (passive ? AI_PASSIVE : 0);
  addrinfo* res = nullptr;
  const std::string service = std::to_string(port);
  const int rc = getaddrinfo(host.empty() ? nullptr : host.c_str(), service.c_str(), &hints, &res);
  if (rc != 0) throw ConnectionError("resolve '" + host + ":" + service + "': " + gai_strerror(rc));
  std::vector<ResolvedAddress> out;
  for (addrinfo* a = res; a != nullptr; a = a->ai_next) {
    ResolvedAddress r;
    std::memcpy(&r.addr, a->ai_addr, a->ai_addrlen);
    r.len = a->ai_addrlen;
    r.text = addr_text(a->ai_addr);
    out.push_back(r);
  }
  freeaddrinfo(res);
  if (out.empty()) throw ConnectionError("resolve '" + host + ":" + service + "': no addresses");
  return out;
}

SocketReport apply_tcp_options(int fd, const TcpOptions& o) {
  SocketReport rep;
  const auto set = [&](int level, int name, int value, const char* what) {
    if (setsockopt(fd, level, name, &value, sizeof value) != 0) {
      rep.notes.push_back(std::string(what) + "=" + std::to_string(value) + " refused: " + std::strerror(errno));
      return false;
    }
    return true;
  };
  if (o.no_delay) set(IPPROTO_TCP, TCP_NODELAY, 1, "TCP_NODELAY");
  if (o.quick_ack) set(IPPROTO_TCP, TCP_QUICKACK, 1, "TCP_QUICKACK");
  if (o.read_buffer_size > 0) set(SOL_SOCKET, SO_RCVBUF, o.read_buffer_size, "SO_RCVBUF");
  if (o.write_buffer_size > 0) set(SOL_SOCKET, SO_SNDBUF, o.write_buffer_size, "SO_SNDBUF");
  if (o.keep_alive && set(SOL_SOCKET, SO_KEEPALIVE, 1, "SO_KEEPALIVE") && o.keep_alive_idle_s > 0) {
    set(IPPROTO_TCP, TCP_KEEPIDLE, o.keep_alive_idle_s, "TCP_KEEPIDLE");
    set(IPPROTO_TCP, TCP_KEEPINTVL, std::max(1, o.keep_alive_idle_s / 3), "TCP_KEEPINTVL");
    set(IPPROTO_TCP, TCP_KEEPCNT, 3, "TCP_KEEPCNT");
  }
  if (o.busy_poll_us > 0) rep.busy_poll = set(SOL_SOCKET, SO_BUSY_POLL, o.busy_poll_us, "SO_BUSY_POLL");
  socklen_t len = sizeof rep.rcvbuf;
  getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rep.rcvbuf, &len);
  len = sizeof rep.sndbuf;
  getsockopt(fd, SOL_SOCKET, SO_SNDBUF, &rep.sndbuf, &len);
  if (o.read_buffer_size > 0 && rep.rcvbuf < o.read_buffer_size)
    rep.notes.push_back("SO_RCVBUF=" + std::to_string(o.read_buffer_size) + " capped at " + std::to_string(rep.rcvbuf) +
                        " (net.core.rmem_max)");
  if (o.write_buffer_size > 0 && rep.sndbuf < o.write_buffer_size)
    rep.notes.push_back("SO_SNDBUF=" + std::to_string(o.write_buffer_size) + " capped at " + std::to_string(rep.sndbuf) +
                        " (net.core.wmem_max)");
  return rep;
}

int connect_tcp(const std::vector<ResolvedAddress>& addrs, int timeout_ms, const TcpOptions& opts,
                SocketReport* report) {
  const std::int64_t deadline = monotonic_ns() + std::int64_t{timeout_ms} * 1'000'000;
  std::string errors;
  for (const ResolvedAddress& a : addrs) {
    const int fd = ::socket(a.addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) throw ConnectionError(std::string("socket(): ") + std::strerror(errno));
    // Buffer sizes must be set before connect() to affect the window scale negotiated in the SYN.
    SocketReport rep = apply_tcp_options(fd, opts);
    int rc = ::connect(fd, reinterpret_cast<const sockaddr*>(&a.addr), a.len);
    int err = rc == 0 ? 0 : errno;
    if (rc != 0 && err == EINPROGRESS) {
      if (!wait_fd(fd, true, deadline)) {
        ::close(fd);
        if (!errors.empty()) errors += "; ";
        errors += a.text;
        errors += ": timed out after ";
        errors += std::to_string(timeout_ms);
        errors += " ms";
        break;
      }
      socklen_t len = sizeof err;
      getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
    }
    if (err == 0) {
      if (report != nullptr) *report = std::move(rep);
      return fd;
    }
    ::close(fd);
    if (!errors.empty()) errors += "; ";
    errors += a.text;
    errors += ": ";
    errors += std::strerror(err);
  }
  throw ConnectionError("connect: " + errors);
}

TcpListener::TcpListener(const std::string& host, std::uint16_t port, int backlog) {
  const std::vector<ResolvedAddress> addrs = resolve(host, port, true);
  const ResolvedAddress& a = addrs.front();
  fd_ = ::socket(a.addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd_ < 0) throw ConnectionError(std::string("socket(): ") + std::strerror(errno));
  const int one = 1;
  setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (::bind(fd_, reinterpret_cast<const sockaddr*>(&a.addr), a.len) != 0 || ::listen(fd_, backlog) != 0) {
    const int err = errno;
    ::close(fd_);
    throw ConnectionError("listen on " + a.text + ": " + std::strerror(err));
  }
  sockaddr_storage bound{};
  socklen_t len = sizeof bound;
  getsockname(fd_, reinterpret_cast<sockaddr*>(&bound), &len);
  port_ = ntohs(bound.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port
                                             : reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
}

TcpListener::~TcpListener() {
  if (fd_ >= 0) ::close(fd_);
}

int TcpListener::try_accept() noexcept {
  return ::accept4(fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
}

}  // namespace hftx::net
