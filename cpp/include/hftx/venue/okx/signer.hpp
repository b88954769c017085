// hftx/venue/okx/signer.hpp — OKX's login signature (HMAC-SHA256, base64) and the credentials read from the
// environment.
//
// Threading contract: a LoginSigner is used by one thread at a time (the order connection's); construction may
// allocate and throws ConfigError on an empty secret; sign() and sign_login() are noexcept and allocation-free.
//
// The rule (OKX v5, WebSocket "Login"): sign = base64(HMAC-SHA256(secret, timestamp + "GET" +
// "/users/self/verify")), timestamp the Unix time in seconds as decimal text, the secret's bytes as the key.
// OKX signs nothing else on a WebSocket connection: after the login every request rides on it unsigned.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "hftx/oms/hmac_sha256.hpp"

namespace hftx::venue::okx {

class LoginSigner {
 public:
  static constexpr std::size_t kSignatureSize = 44;  // base64 of 32 bytes, with its one '=' of padding
  // What the login signs after the timestamp.
  static constexpr std::string_view kLoginSuffix = "GET/users/self/verify";

  // HMAC-SHA256 keyed with the secret's bytes. The keyed inner and outer SHA-256 states are computed here,
  // once: each signature then hashes only its message (one block for a login) and the outer block. The
  // message starts with the variable timestamp, so nothing of it can be hashed ahead. Throws ConfigError when
  // the secret is empty.
  explicit LoginSigner(std::string_view secret);

  // base64(HMAC-SHA256(secret, message)) into out[0, kSignatureSize); returns kSignatureSize.
  std::size_t sign(std::string_view message, char* out) const noexcept;
  // The login's signature for `unix_s` (> 0): sign(decimal(unix_s) + kLoginSuffix). Returns kSignatureSize, or
  // 0 when unix_s <= 0.
  std::size_t sign_login(std::int64_t unix_s, char* out) const noexcept;

 private:
  static oms::HmacSha256 keyed(std::string_view secret);
  oms::HmacSha256 hmac_;
};

// The API key, the passphrase and the signer, read from the environment variables the config names (never
// from a file).
struct Credentials {
  std::string api_key;
  std::string passphrase;
  LoginSigner signer;

  // Throws ConfigError naming the variable when it is unset or empty, or when the API key or the passphrase
  // has characters that cannot be sent unescaped in a JSON string (anything but printable ASCII, and '"' or
  // '\\'; the API key also no space), or is longer than 256 characters. `*_env` are the variable names
  // (e.g. the config's venue.api_key_env = "OKX_API_KEY").
  static Credentials from_env(std::string_view api_key_env, std::string_view secret_key_env,
                              std::string_view passphrase_env);
};

// Whether `text` can be written into a JSON string as it is: 1..256 printable ASCII characters without '"' or
// '\\' (and without ' ' when `allow_space` is false). The encoder checks the credentials it is given with it.
[[nodiscard]] bool sendable_credential(std::string_view text, bool allow_space) noexcept;

}  // namespace hftx::venue::okx
