// Helpers shared by the C++ tests.
#pragma once

#include <cstdint>
#include <cstdlib>
#include <string>

namespace hftx::test {

// Iteration counts scale with HFTX_TEST_SCALE (ctest sets 0.1 in sanitizer builds).
inline std::uint64_t scaled(std::uint64_t n) {
  const char* s = std::getenv("HFTX_TEST_SCALE");
  const double f = s != nullptr ? std::atof(s) : 1.0;
  const auto v = static_cast<std::uint64_t>(static_cast<double>(n) * (f > 0 ? f : 1.0));
  return v > 0 ? v : 1;
}

// ../shared/data, as ctest passes it (HFTX_DATA_DIR), else relative to the working directory.
inline std::string data_dir() {
  if (const char* d = std::getenv("HFTX_DATA_DIR")) return d;
  return "../shared/data";
}

// Binance's example Ed25519 private key (FIX API "Signature computation example") and its public key
// (openssl pkey -pubout), for the session-logon tests; and a second, unrelated key pair's private half.
inline constexpr const char* kEd25519Pem =
    "-----BEGIN PRIVATE KEY-----\n"
    "MC4CAQAwBQYDK2VwBCIEIIJEYWtGBrhACmb9Dvy+qa8WEf0lQOl1s4CLIAB9m89u\n"
    "-----END PRIVATE KEY-----\n";
inline constexpr const char* kEd25519PublicPem =
    "-----BEGIN PUBLIC KEY-----\n"
    "MCowBQYDK2VwAyEAGUIKv9dSpWXBViXp2m6vAIb8QMFJYBgyFEQsFJlqgA0=\n"
    "-----END PUBLIC KEY-----\n";
inline constexpr const char* kOtherEd25519Pem =
    "-----BEGIN PRIVATE KEY-----\n"
    "MC4CAQAwBQYDK2VwBCIEIEHJa9WnrDlwjhpumlXYPMpsNeTfr/i+DqiH5jhPVX0N\n"
    "-----END PRIVATE KEY-----\n";

}  // namespace hftx::test
