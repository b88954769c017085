// hftx/venue/binance/signer.hpp — Binance's request signatures: HMAC-SHA256 (hex) or Ed25519 (base64) of the
// request's parameters, and the credentials read from the environment.
//
// Threading contract: a RequestSigner is used by one thread at a time (the order connection's); construction
// may allocate and throws ConfigError on a bad key; sign() is noexcept (HMAC: allocation-free).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace hftx::venue::binance {

enum class SignatureType : std::uint8_t { hmac_sha256, ed25519 };

[[nodiscard]] constexpr std::string_view to_string(SignatureType t) noexcept {
  return t == SignatureType::hmac_sha256 ? "hmac_sha256" : "ed25519";
}

class RequestSigner {
 public:
  static constexpr std::size_t kHmacSize = 64;      // hex of 32 bytes
  static constexpr std::size_t kEd25519Size = 88;   // base64 of 64 bytes
  static constexpr std::size_t kMaxSignatureSize = 88;

  // HMAC-SHA256 keyed with the secret's bytes (Binance: the secret key as ASCII). The keyed inner and outer
  // SHA-256 states are computed here, once; each signature then hashes only the message blocks.
  static RequestSigner hmac_sha256(std::string_view secret);
  // Ed25519 from a PEM private key ("-----BEGIN PRIVATE KEY-----" PKCS#8). Literal "\n" sequences are
  // accepted for newlines (how PEM keys usually end up in environment variables). Throws ConfigError when
  // the text is not an Ed25519 private key.
  static RequestSigner ed25519_pem(std::string_view pem);
  // A secret that looks like a PEM private key selects Ed25519, anything else HMAC-SHA256.
  static RequestSigner from_secret(std::string_view secret);

  RequestSigner(RequestSigner&&) noexcept;
  RequestSigner& operator=(RequestSigner&&) noexcept;
  RequestSigner(const RequestSigner&) = delete;
  RequestSigner& operator=(const RequestSigner&) = delete;
  ~RequestSigner();  // wipes the key material

  [[nodiscard]] SignatureType type() const noexcept { return type_; }
  [[nodiscard]] std::size_t signature_size() const noexcept {
    return type_ == SignatureType::hmac_sha256 ? kHmacSize : kEd25519Size;
  }
  // Writes the signature of `payload` (lowercase hex for HMAC, standard base64 with padding for Ed25519)
  // to `out`, which has room for signature_size() bytes. Returns signature_size(), or 0 when OpenSSL
  // failed (Ed25519 only; counted in failures()). HMAC: no allocation, no OpenSSL EVP call.
  std::size_t sign(std::string_view payload, char* out) const noexcept;
  [[nodiscard]] std::uint64_t failures() const noexcept;

 private:
  struct Impl;
  RequestSigner(SignatureType type, std::unique_ptr<Impl> impl) noexcept;
  SignatureType type_;
  std::unique_ptr<Impl> impl_;
};

// The API key and the signer, read from the environment variables the config names (never from a file).
struct ApiCredentials {
  std::string api_key;
  RequestSigner signer;

  // Throws ConfigError naming the variable when it is unset or empty, or when the API key has characters
  // that cannot be sent unescaped (anything but printable ASCII without '"', '\\', '&', '=').
  static ApiCredentials from_env(std::string_view api_key_env, std::string_view secret_key_env);
};

}  // namespace hftx::venue::binance
