// pem_text.hpp (internal) — PEM keys as environment variables and one-line configs carry them: literal "\n"
// sequences for the newlines. Shared by the request signer (private keys) and the simulator (public keys).
//
// Threading contract: a pure function; any thread.
#pragma once

#include <string>
#include <string_view>

namespace hftx::detail {

// `pem` with every literal "\n" turned into a newline. Reserved up front, so that a private key's text is
// never left behind in a reallocated buffer (the signer cleanses the result after use).
inline std::string pem_with_newlines(std::string_view pem) {
  std::string text;
  text.reserve(pem.size());
  for (std::size_t i = 0; i < pem.size(); ++i) {
    if (pem[i] == '\\' && i + 1 < pem.size() && pem[i + 1] == 'n') {
      text += '\n';
      ++i;
    } else {
      text += pem[i];
    }
  }
  return text;
}

}  // namespace hftx::detail
