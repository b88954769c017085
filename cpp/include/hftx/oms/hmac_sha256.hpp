// hftx/oms/hmac_sha256.hpp — HMAC-SHA256 keyed once: the signature of venues that sign with a shared secret
// (Binance's HMAC API keys, OKX's login).
//
// Threading contract: immutable after construction; mac() is const, noexcept and allocation-free, and may
// run on several threads at once. Construction allocates and may throw.
//
// Why by hand on OpenSSL's low-level SHA-256 (SHA-NI where the CPU has it): HMAC(K, m) =
// H((K^opad) || H((K^ipad) || m)), and both keyed prefixes are exactly one block, so the two states after
// them are computed here, once; a MAC then hashes only the message and one outer block, with no EVP
// context and no allocation (EVP's per-call context duplication allocates). OKX's login: 141 ns against
// 1,167 ns for OpenSSL's HMAC() (bench_okx_gateway, ARCHITECTURE §12).
#pragma once

#include <cstddef>
#include <memory>
#include <string_view>

namespace hftx::oms {

class HmacSha256 {
 public:
  static constexpr std::size_t kDigestSize = 32;

  // Keyed with the secret's bytes (a secret longer than a block is hashed first, RFC 2104). Throws
  // ConfigError when it is empty.
  explicit HmacSha256(std::string_view secret);
  HmacSha256(HmacSha256&&) noexcept;
  HmacSha256& operator=(HmacSha256&&) noexcept;
  HmacSha256(const HmacSha256&) = delete;
  HmacSha256& operator=(const HmacSha256&) = delete;
  ~HmacSha256();  // wipes the keyed states

  // HMAC-SHA256(secret, message) into digest[0, kDigestSize).
  void mac(std::string_view message, unsigned char* digest) const noexcept;

 private:
  struct Keyed;
  std::unique_ptr<Keyed> keyed_;
};

}  // namespace hftx::oms
