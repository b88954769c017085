// hftx/net/stream.hpp — a byte stream over a non-blocking socket, plain or TLS (OpenSSL); TLS contexts.
//
// Threading contract: a Stream belongs to the reactor thread that owns its connection. A TlsContext is
// built at setup and may be shared by many streams (OpenSSL's SSL_CTX is reference-counted and
// thread-safe for creating SSL objects).
//
// The plain path is read()/writev() straight on the fd; the TLS path adds one predictable branch.
#pragma once

#include <openssl/ssl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "hftx/core/platform.hpp"

namespace hftx::net {

struct TlsClientOptions {
  bool verify = true;   // verify the server's certificate chain and host name (default on)
  std::string ca_file;  // extra PEM CA bundle; empty = the system store only
  bool use_system_ca = true;
};

class TlsContext {
 public:
  static std::shared_ptr<TlsContext> client(const TlsClientOptions& opts);
  static std::shared_ptr<TlsContext> server(const std::string& cert_file, const std::string& key_file);
  ~TlsContext();
  TlsContext(const TlsContext&) = delete;
  TlsContext& operator=(const TlsContext&) = delete;

  [[nodiscard]] SSL_CTX* native() const noexcept { return ctx_; }
  [[nodiscard]] bool verify() const noexcept { return verify_; }

 private:
  TlsContext(SSL_CTX* ctx, bool verify) : ctx_(ctx), verify_(verify) {}
  SSL_CTX* ctx_;
  bool verify_;
};

// OpenSSL's error queue as one line (and cleared).
std::string tls_error_string();

enum class IoResult : std::int8_t { kWouldBlock = -1, kClosed = -2, kError = -3 };

class Stream {
 public:
  Stream() = default;
  explicit Stream(int fd) noexcept : fd_(fd) {}
  ~Stream() { reset(); }
  Stream(const Stream&) = delete;
  Stream& operator=(const Stream&) = delete;
  Stream(Stream&& o) noexcept : fd_(o.fd_), ssl_(o.ssl_), last_errno_(o.last_errno_) {
    o.fd_ = -1;
    o.ssl_ = nullptr;
  }
  Stream& operator=(Stream&& o) noexcept {
    if (this != &o) {
      reset();
      fd_ = o.fd_;
      ssl_ = o.ssl_;
      o.fd_ = -1;
      o.ssl_ = nullptr;
    }
    return *this;
  }

  [[nodiscard]] int fd() const noexcept { return fd_; }
  [[nodiscard]] bool is_open() const noexcept { return fd_ >= 0; }
  [[nodiscard]] bool is_tls() const noexcept { return ssl_ != nullptr; }
  [[nodiscard]] SSL* ssl() const noexcept { return ssl_; }
  [[nodiscard]] int last_errno() const noexcept { return last_errno_; }

  // Client side: wraps the connected socket and completes the TLS handshake (SNI = host, certificate and
  // host name verified when the context says so) before deadline_ns. Throws TlsError naming the reason.
  void tls_connect(const TlsContext& ctx, const std::string& host, std::int64_t deadline_ns);
  // Server side: starts a non-blocking accept; call tls_accept_step() on each readiness.
  void tls_begin_accept(const TlsContext& ctx);
  // 1 done, 0 in progress, -1 failed (error in `error`).
  int tls_accept_step(std::string& error);

  // Bytes read (> 0), or an IoResult: kWouldBlock, kClosed (orderly EOF), kError.
  HFTX_FORCE_INLINE std::ptrdiff_t read(void* buf, std::size_t n) noexcept {
    if (ssl_ == nullptr) {
      const ssize_t r = ::recv(fd_, buf, n, 0);
      if (HFTX_LIKELY(r > 0)) return r;
      if (r == 0) return static_cast<std::ptrdiff_t>(IoResult::kClosed);
      if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
        return static_cast<std::ptrdiff_t>(IoResult::kWouldBlock);
      last_errno_ = errno;
      return static_cast<std::ptrdiff_t>(IoResult::kError);
    }
    return tls_read(buf, n);
  }

  // Bytes written (>= 0), or kWouldBlock / kError.
  HFTX_FORCE_INLINE std::ptrdiff_t writev(const iovec* iov, int count) noexcept {
    if (ssl_ == nullptr) {
      msghdr msg{};
      msg.msg_iov = const_cast<iovec*>(iov);
      msg.msg_iovlen = static_cast<std::size_t>(count);
      const ssize_t r = ::sendmsg(fd_, &msg, MSG_NOSIGNAL);
      if (HFTX_LIKELY(r >= 0)) return r;
      if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
        return static_cast<std::ptrdiff_t>(IoResult::kWouldBlock);
      last_errno_ = errno;
      return static_cast<std::ptrdiff_t>(IoResult::kError);
    }
    return tls_writev(iov, count);
  }

  // Half-close the write side (after a close frame when we are the server, RFC 6455 §7.1.1).
  void shutdown_write() noexcept;
  void reset() noexcept;

 private:
  std::ptrdiff_t tls_read(void* buf, std::size_t n) noexcept;
  std::ptrdiff_t tls_writev(const iovec* iov, int count) noexcept;

  int fd_ = -1;
  SSL* ssl_ = nullptr;
  int last_errno_ = 0;
};

}  // namespace hftx::net
