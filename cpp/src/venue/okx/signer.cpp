// OKX's login signature and credentials. See hftx/venue/okx/signer.hpp.
//
// The HMAC is keyed once (oms::HmacSha256): a login costs its message block (31 bytes + padding: one block),
// the inner finish and one outer block, then a fixed-size base64.
#include "hftx/venue/okx/signer.hpp"

#include <openssl/crypto.h>

#include <cstdlib>
#include <cstring>
#include <string>

#include "hftx/core/error.hpp"

namespace hftx::venue::okx {

namespace {

constexpr char kBase64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

// Standard base64 with padding of the 32-byte digest: 10 groups of 3 bytes, then 2 bytes as "xyz=".
void base64_32(const unsigned char* d, char* out) noexcept {
  for (int i = 0; i < 10; ++i) {
    const std::uint32_t v = (std::uint32_t{d[0]} << 16) | (std::uint32_t{d[1]} << 8) | d[2];
    out[0] = kBase64[v >> 18];
    out[1] = kBase64[(v >> 12) & 63u];
    out[2] = kBase64[(v >> 6) & 63u];
    out[3] = kBase64[v & 63u];
    d += 3;
    out += 4;
  }
  const std::uint32_t v = (std::uint32_t{d[0]} << 16) | (std::uint32_t{d[1]} << 8);
  out[0] = kBase64[v >> 18];
  out[1] = kBase64[(v >> 12) & 63u];
  out[2] = kBase64[(v >> 6) & 63u];
  out[3] = '=';
}

}  // namespace

oms::HmacSha256 LoginSigner::keyed(std::string_view secret) {
  if (secret.empty()) throw ConfigError("okx LoginSigner: the secret key is empty (expected the API secret)");
  return oms::HmacSha256(secret);
}

LoginSigner::LoginSigner(std::string_view secret) : hmac_(keyed(secret)) {}

std::size_t LoginSigner::sign(std::string_view message, char* out) const noexcept {
  unsigned char digest[oms::HmacSha256::kDigestSize];
  hmac_.mac(message, digest);
  base64_32(digest, out);
  return kSignatureSize;
}

std::size_t LoginSigner::sign_login(std::int64_t unix_s, char* out) const noexcept {
  if (unix_s <= 0) return 0;
  char msg[20 + kLoginSuffix.size()];
  char digits[20];
  std::size_t n = 0;
  for (auto v = static_cast<std::uint64_t>(unix_s); v != 0; v /= 10u) digits[n++] = static_cast<char>('0' + v % 10u);
  for (std::size_t i = 0; i < n; ++i) msg[i] = digits[n - 1 - i];
  std::memcpy(msg + n, kLoginSuffix.data(), kLoginSuffix.size());
  return sign(std::string_view(msg, n + kLoginSuffix.size()), out);
}

bool sendable_credential(std::string_view text, bool allow_space) noexcept {
  if (text.empty() || text.size() > 256) return false;
  for (const char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    if (c < 0x20 || c > 0x7e || c == '"' || c == '\\' || (c == ' ' && !allow_space)) return false;
  }
  return true;
}

namespace {

std::string env_or_throw(std::string_view name, const char* key, const char* what) {
  if (name.empty())
    throw ConfigError(std::string("venue.") + key + " is empty: expected the name of an environment variable");
  const std::string n(name);
  const char* v = std::getenv(n.c_str());
  if (v == nullptr || *v == '\0')
    throw ConfigError("environment variable '" + n + "' (venue." + key + ") is not set: expected the OKX " + what);
  return v;
}

}  // namespace

Credentials Credentials::from_env(std::string_view api_key_env, std::string_view secret_key_env,
                                  std::string_view passphrase_env) {
  std::string key = env_or_throw(api_key_env, "api_key_env", "API key");
  if (!sendable_credential(key, false))
    throw ConfigError("environment variable '" + std::string(api_key_env) +
                      "': the API key cannot be sent (expected 1..256 printable ASCII characters without '\"', "
                      "'\\\\' or spaces)");
  std::string passphrase = env_or_throw(passphrase_env, "passphrase_env", "API passphrase");
  if (!sendable_credential(passphrase, true)) {
    OPENSSL_cleanse(passphrase.data(), passphrase.size());
    throw ConfigError("environment variable '" + std::string(passphrase_env) +
                      "': the passphrase cannot be sent unescaped (expected 1..256 printable ASCII characters "
                      "without '\"' or '\\\\')");
  }
  std::string secret = env_or_throw(secret_key_env, "secret_key_env", "API secret key");
  LoginSigner signer(secret);
  OPENSSL_cleanse(secret.data(), secret.size());
  return Credentials{std::move(key), std::move(passphrase), std::move(signer)};
}

}  // namespace hftx::venue::okx
