// TLS (OpenSSL) for net::Stream: contexts, client handshake with SNI and verification, server accept.
// GCC 12 reports -Wrestrict false positives for std::string operator+ at -O3 (GCC PR 105651).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wrestrict"
#endif
#include "hftx/net/stream.hpp"

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include <cstring>

#include "hftx/net/tcp.hpp"
#include "hftx/net/ws_handshake.hpp"

namespace hftx::net {

std::string tls_error_string() {
  std::string out;
  while (const unsigned long e = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    if (!out.empty()) out += "; ";
    out += buf;
  }
  return out.empty() ? "unknown TLS error" : out;
}

std::shared_ptr<TlsContext> TlsContext::client(const TlsClientOptions& opts) {
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  if (ctx == nullptr) throw TlsError("SSL_CTX_new: " + tls_error_string());
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  if (opts.verify) {
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
    if (opts.use_system_ca && SSL_CTX_set_default_verify_paths(ctx) != 1) {
      SSL_CTX_free(ctx);
      throw TlsError("loading the system CA store: " + tls_error_string());
    }
  }
  if (!opts.ca_file.empty() && SSL_CTX_load_verify_locations(ctx, opts.ca_file.c_str(), nullptr) != 1) {
    const std::string why = tls_error_string();
    SSL_CTX_free(ctx);
    throw ConfigError("tls ca_file '" + opts.ca_file + "': cannot load a PEM CA bundle (" + why + ")");
  }
  return std::shared_ptr<TlsContext>(new TlsContext(ctx, opts.verify));
}

std::shared_ptr<TlsContext> TlsContext::server(const std::string& cert_file, const std::string& key_file) {
  SSL_CTX* ctx = SSL_CTX_new(TLS_server_method());
  if (ctx == nullptr) throw TlsError("SSL_CTX_new: " + tls_error_string());
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  if (SSL_CTX_use_certificate_chain_file(ctx, cert_file.c_str()) != 1) {
    const std::string why = tls_error_string();
    SSL_CTX_free(ctx);
    throw ConfigError("tls cert_file '" + cert_file + "': " + why);
  }
  if (SSL_CTX_use_PrivateKey_file(ctx, key_file.c_str(), SSL_FILETYPE_PEM) != 1 || SSL_CTX_check_private_key(ctx) != 1) {
    const std::string why = tls_error_string();
    SSL_CTX_free(ctx);
    throw ConfigError("tls key_file '" + key_file + "': " + why);
  }
  return std::shared_ptr<TlsContext>(new TlsContext(ctx, false));
}

TlsContext::~TlsContext() { SSL_CTX_free(ctx_); }

void Stream::tls_connect(const TlsContext& ctx, const std::string& host, std::int64_t deadline_ns) {
  ERR_clear_error();
  ssl_ = SSL_new(ctx.native());
  if (ssl_ == nullptr) throw TlsError("SSL_new: " + tls_error_string());
  SSL_set_fd(ssl_, fd_);
  SSL_set_mode(ssl_, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  const bool is_ip = host.find_first_not_of("0123456789.") == std::string::npos || host.find(':') != std::string::npos;
  if (!is_ip) SSL_set_tlsext_host_name(ssl_, host.c_str());  // SNI is for names only (RFC 6066)
  if (ctx.verify()) {
    X509_VERIFY_PARAM* param = SSL_get0_param(ssl_);
    if (is_ip) {
      X509_VERIFY_PARAM_set1_ip_asc(param, host.c_str());
    } else {
      X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
      X509_VERIFY_PARAM_set1_host(param, host.c_str(), 0);
    }
  }
  for (;;) {
    const int r = SSL_connect(ssl_);
    if (r == 1) return;
    const int err = SSL_get_error(ssl_, r);
    if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) {
      if (!wait_fd(fd_, err == SSL_ERROR_WANT_WRITE, deadline_ns))
        throw TlsError("TLS handshake with " + host + " timed out");
      continue;
    }
    const long verify = SSL_get_verify_result(ssl_);
    if (verify != X509_V_OK)
      throw TlsError("TLS certificate verification failed for " + host + ": " + X509_verify_cert_error_string(verify) +
                     " (pass a CA file, or disable verification explicitly)",
                     /*permanent=*/true);
    throw TlsError("TLS handshake with " + host + " failed: " +
                   (err == SSL_ERROR_SYSCALL && ERR_peek_error() == 0 ? std::string("connection closed by peer")
                                                                      : tls_error_string()));
  }
}

void Stream::tls_begin_accept(const TlsContext& ctx) {
  ssl_ = SSL_new(ctx.native());
  if (ssl_ == nullptr) throw TlsError("SSL_new: " + tls_error_string());
  SSL_set_fd(ssl_, fd_);
  SSL_set_mode(ssl_, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  SSL_set_accept_state(ssl_);
}

int Stream::tls_accept_step(std::string& error) {
  ERR_clear_error();
  const int r = SSL_accept(ssl_);
  if (r == 1) return 1;
  const int err = SSL_get_error(ssl_, r);
  if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) return 0;
  error = "TLS accept failed: " + tls_error_string();
  return -1;
}

std::ptrdiff_t Stream::tls_read(void* buf, std::size_t n) noexcept {
  ERR_clear_error();
  const int r = SSL_read(ssl_, buf, static_cast<int>(n > 0x7fffffff ? 0x7fffffff : n));
  if (r > 0) return r;
  const int err = SSL_get_error(ssl_, r);
  if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) return static_cast<std::ptrdiff_t>(IoResult::kWouldBlock);
  if (err == SSL_ERROR_ZERO_RETURN) return static_cast<std::ptrdiff_t>(IoResult::kClosed);
  if (err == SSL_ERROR_SYSCALL && ERR_peek_error() == 0 && errno == 0) return static_cast<std::ptrdiff_t>(IoResult::kClosed);
  last_errno_ = errno;
  return static_cast<std::ptrdiff_t>(IoResult::kError);
}

std::ptrdiff_t Stream::tls_writev(const iovec* iov, int count) noexcept {
  std::ptrdiff_t total = 0;
  for (int i = 0; i < count; ++i) {
    if (iov[i].iov_len == 0) continue;
    ERR_clear_error();
    const int r = SSL_write(ssl_, iov[i].iov_base, static_cast<int>(iov[i].iov_len));
    if (r > 0) {
      total += r;
      if (static_cast<std::size_t>(r) < iov[i].iov_len) return total;
      continue;
    }
    const int err = SSL_get_error(ssl_, r);
    if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE)
      return total > 0 ? total : static_cast<std::ptrdiff_t>(IoResult::kWouldBlock);
    last_errno_ = errno;
    return total > 0 ? total : static_cast<std::ptrdiff_t>(IoResult::kError);
  }
  return total;
}

void Stream::shutdown_write() noexcept {
  if (fd_ < 0) return;
  if (ssl_ != nullptr) SSL_shutdown(ssl_);
  ::shutdown(fd_, SHUT_WR);
}

void Stream::reset() noexcept {
  if (ssl_ != nullptr) {
    SSL_free(ssl_);
    ssl_ = nullptr;
  }
  if (fd_ >= 0) {
    ::close(fd_);
    fd_ = -1;
  }
}

}  // namespace hftx::net
