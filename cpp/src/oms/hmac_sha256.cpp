// HMAC-SHA256 keyed once. See hftx/oms/hmac_sha256.hpp. The low-level SHA-256 functions are deprecated in
// OpenSSL 3 in favour of EVP, whose per-call context duplication allocates; hence OPENSSL_SUPPRESS_DEPRECATED.
#define OPENSSL_SUPPRESS_DEPRECATED 1

#include "hftx/oms/hmac_sha256.hpp"

#include <openssl/crypto.h>
#include <openssl/sha.h>

#include <cstring>

#include "hftx/core/error.hpp"

namespace hftx::oms {

static_assert(HmacSha256::kDigestSize == SHA256_DIGEST_LENGTH);

struct HmacSha256::Keyed {
  SHA256_CTX inner{};  // after hashing K ^ ipad
  SHA256_CTX outer{};  // after hashing K ^ opad
  Keyed() = default;
  Keyed(const Keyed&) = delete;
  Keyed& operator=(const Keyed&) = delete;
  ~Keyed() {
    OPENSSL_cleanse(&inner, sizeof inner);
    OPENSSL_cleanse(&outer, sizeof outer);
  }
};

HmacSha256::HmacSha256(std::string_view secret) : keyed_(std::make_unique<Keyed>()) {
  if (secret.empty()) throw ConfigError("HMAC-SHA256: the secret key is empty (expected the API secret)");
  unsigned char key[SHA256_CBLOCK] = {};
  if (secret.size() > SHA256_CBLOCK) {
    SHA256(reinterpret_cast<const unsigned char*>(secret.data()), secret.size(), key);  // RFC 2104: hash long keys
  } else {
    std::memcpy(key, secret.data(), secret.size());
  }
  unsigned char pad[SHA256_CBLOCK];
  for (std::size_t i = 0; i < SHA256_CBLOCK; ++i) pad[i] = static_cast<unsigned char>(key[i] ^ 0x36u);
  SHA256_Init(&keyed_->inner);
  SHA256_Update(&keyed_->inner, pad, SHA256_CBLOCK);
  for (std::size_t i = 0; i < SHA256_CBLOCK; ++i) pad[i] = static_cast<unsigned char>(key[i] ^ 0x5cu);
  SHA256_Init(&keyed_->outer);
  SHA256_Update(&keyed_->outer, pad, SHA256_CBLOCK);
  OPENSSL_cleanse(key, sizeof key);
  OPENSSL_cleanse(pad, sizeof pad);
}

HmacSha256::HmacSha256(HmacSha256&&) noexcept = default;
HmacSha256& HmacSha256::operator=(HmacSha256&&) noexcept = default;
HmacSha256::~HmacSha256() = default;

void HmacSha256::mac(std::string_view message, unsigned char* digest) const noexcept {
  SHA256_CTX c = keyed_->inner;  // a plain struct copy of the keyed state: no allocation
  SHA256_Update(&c, message.data(), message.size());
  SHA256_Final(digest, &c);
  c = keyed_->outer;
  SHA256_Update(&c, digest, kDigestSize);
  SHA256_Final(digest, &c);  // c now holds the digest and the message's tail, no key material: no wipe
}

}  // namespace hftx::oms
