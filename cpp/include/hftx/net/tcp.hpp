// hftx/net/tcp.hpp — TCP sockets: name resolution (setup only), non-blocking connect with a timeout,
// socket options from the seed's `websocket:` config block, and a listener.
//
// Threading contract: free functions are safe from any thread; a TcpListener belongs to one thread.
// Everything here runs at setup (connect/accept); the message path only sees the file descriptor.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <sys/socket.h>

#include "hftx/core/error.hpp"

namespace hftx::net {

// The seed's websocket block: read_buffer_size, write_buffer_size, no_delay, keep_alive; plus the
// latency options a low-latency client wants.
struct TcpOptions {
  int read_buffer_size = 0;   // SO_RCVBUF bytes; 0 = kernel default (autotuning)
  int write_buffer_size = 0;  // SO_SNDBUF bytes; 0 = kernel default
  bool no_delay = true;       // TCP_NODELAY: no Nagle delay for small frames
  bool quick_ack = true;      // TCP_QUICKACK: ACK at once (re-armed after reads by the connection)
  bool keep_alive = true;     // SO_KEEPALIVE with keep_alive_idle_s
  int keep_alive_idle_s = 30;
  int busy_poll_us = 0;       // SO_BUSY_POLL; 0 = off. Needs CAP_NET_ADMIN for values above the sysctl.
};

// What the kernel granted: each requested option that was refused or changed, in words.
struct SocketReport {
  std::vector<std::string> notes;
  int rcvbuf = 0;  // effective SO_RCVBUF (the kernel doubles the request)
  int sndbuf = 0;
  bool busy_poll = false;
};

struct ResolvedAddress {
  sockaddr_storage addr{};
  socklen_t len = 0;
  std::string text;  // "1.2.3.4:80" or "[::1]:80"
};

// getaddrinfo, once, at setup. Throws ConnectionError naming host and port.
std::vector<ResolvedAddress> resolve(const std::string& host, std::uint16_t port, bool passive = false);

// Non-blocking connect to the first address that answers within timeout_ms (shared across addresses).
// Returns a non-blocking, close-on-exec socket with `opts` applied; throws ConnectionError
// ("connect to host:port: Connection refused" / "timed out after N ms").
int connect_tcp(const std::vector<ResolvedAddress>& addrs, int timeout_ms, const TcpOptions& opts,
                SocketReport* report = nullptr);

// Sets `opts` on a connected or accepted socket; refusals go to the report, never throw.
SocketReport apply_tcp_options(int fd, const TcpOptions& opts);

// Waits (poll) until fd is readable/writable or the deadline (CLOCK_MONOTONIC ns) passes. Setup helper.
bool wait_fd(int fd, bool for_write, std::int64_t deadline_ns);
std::int64_t monotonic_ns() noexcept;

class TcpListener {
 public:
  // Binds host:port (port 0: any free port) with SO_REUSEADDR, listens. Throws ConnectionError.
  TcpListener(const std::string& host, std::uint16_t port, int backlog = 512);
  ~TcpListener();
  TcpListener(const TcpListener&) = delete;
  TcpListener& operator=(const TcpListener&) = delete;

  [[nodiscard]] int fd() const noexcept { return fd_; }
  [[nodiscard]] std::uint16_t port() const noexcept { return port_; }
  // A non-blocking accepted socket, or -1 when none is pending (EAGAIN) or on a transient error.
  [[nodiscard]] int try_accept() noexcept;

 private:
  int fd_ = -1;
  std::uint16_t port_ = 0;
};

}  // namespace hftx::net
