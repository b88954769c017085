// Binance through the venue seam: the session's order codec (credentials, the session.logon policy). See
// hftx/venue/binance/venue.hpp and order_codec.hpp.
#include "hftx/venue/binance/venue.hpp"

#include <cstdlib>
#include <optional>
#include <string>
#include <vector>

#include "hftx/core/error.hpp"

namespace hftx::venue::binance {

namespace {

// The simulator's demo key (Ed25519, so that a demo session logs on as a production one would). Not a secret: it
// only ever signs requests to the built-in simulator.
constexpr const char* kSimulatorDemoKey =
    "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIIJEYWtGBrhACmb9Dvy+qa8WEf0lQOl1s4CLIAB9m89u\n-----END PRIVATE KEY-----\n";

// Credentials from the environment; the simulator accepts any signature, so a session against it runs without them
// (a fixed demo key). Against a real venue without credentials, orders are disabled.
std::optional<ApiCredentials> credentials(const VenueConfig& v) {
  const char* key = std::getenv(v.api_key_env.c_str());
  const char* secret = std::getenv(v.secret_key_env.c_str());
  if (key != nullptr && *key != '\0' && secret != nullptr && *secret != '\0')
    return ApiCredentials::from_env(v.api_key_env, v.secret_key_env);
  if (v.simulated()) return ApiCredentials{"hftx-simulator", RequestSigner::ed25519_pem(kSimulatorDemoKey)};
  return std::nullopt;
}

SessionLogon logon_policy(const VenueConfig& v) {
  const std::string_view s = option_value(v, kInfo, "session_logon");
  return s == "always" ? SessionLogon::always : s == "never" ? SessionLogon::never : SessionLogon::automatic;
}

ApiEncoder make_encoder(const VenueConfig& v, std::vector<ApiInstrument> instruments, bool* enabled) {
  auto creds = credentials(v);
  *enabled = creds.has_value();
  ApiEncoderConfig ec;
  ec.api_key = creds ? creds->api_key : "market-data-only";
  ec.recv_window_ms = static_cast<int>(option_integer(v, kInfo, "recv_window_ms"));
  ec.client_id_prefix = v.client_id_prefix;
  ec.instruments = std::move(instruments);
  return ApiEncoder(std::move(ec), creds ? std::move(creds->signer) : RequestSigner::hmac_sha256("unused"));
}

}  // namespace

OrderCodec::OrderCodec(const VenueConfig& venue, std::vector<ApiInstrument> instruments, bool trading,
                       std::vector<std::string>& notes)
    : trading_(trading),
      encoder_(make_encoder(venue, instruments, &orders_enabled_)),
      parser_(std::move(instruments), venue.client_id_prefix, std::size_t{4} << 20),
      logon_(false) {
  const bool ed25519 = encoder_.signer().type() == SignatureType::ed25519;
  const SessionLogon policy = logon_policy(venue);
  if (policy == SessionLogon::always && orders_enabled_ && !ed25519)
    throw ConfigError("venue.session_logon = always: the key in " + venue.secret_key_env +
                      " is an HMAC secret; expected an Ed25519 PEM private key (Binance accepts session.logon only "
                      "with Ed25519), or session_logon auto/never");
  logon_ = trading && orders_enabled_ && ed25519 && policy != SessionLogon::never;
  if (trading && !orders_enabled_)
    notes.push_back("orders disabled: " + venue.api_key_env + " / " + venue.secret_key_env +
                    " are not set (market data only)");
}

}  // namespace hftx::venue::binance
