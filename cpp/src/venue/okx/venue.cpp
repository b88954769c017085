// OKX through the venue seam: the session's order codec (credentials, the logon). See
// hftx/venue/okx/venue.hpp and order_codec.hpp.
#include "hftx/venue/okx/venue.hpp"

#include <cstdlib>
#include <optional>
#include <string>
#include <vector>

#include "hftx/core/error.hpp"

namespace hftx::venue::okx {

namespace {

// Credentials from the environment; against the simulator without them, a fixed demo key (it checks no
// signature unless it is given one). Against OKX without them, orders are disabled.
std::optional<Credentials> credentials(const VenueConfig& v) {
  const std::string passphrase_env(option_value(v, kInfo, "passphrase_env"));
  const auto set = [](const std::string& name) {
    const char* s = std::getenv(name.c_str());
    return s != nullptr && *s != '\0';
  };
  if (set(v.api_key_env) && set(v.secret_key_env) && set(passphrase_env))
    return Credentials::from_env(v.api_key_env, v.secret_key_env, passphrase_env);
  if (v.simulated()) return Credentials{"hftx-simulator", "hftx-simulator", LoginSigner("hftx-simulator-secret")};
  return std::nullopt;
}

ApiEncoder make_encoder(const VenueConfig& v, std::vector<ApiInstrument> instruments, bool* enabled) {
  std::optional<Credentials> creds = credentials(v);
  *enabled = creds.has_value();
  ApiEncoderConfig ec;
  ec.client_id_prefix = v.client_id_prefix;
  ec.market = *market_from_string(v.market);
  const std::string_view td = option_value(v, kInfo, "td_mode");
  ec.td_mode = td == "auto" ? (ec.market == Market::spot ? "cash" : "cross") : std::string(td);
  ec.instruments = std::move(instruments);
  if (!creds) creds.emplace(Credentials{"market-data-only", "market-data-only", LoginSigner("unused")});
  return ApiEncoder(std::move(ec), std::move(*creds));
}

}  // namespace

OrderCodec::OrderCodec(const VenueConfig& venue, std::vector<ApiInstrument> instruments, bool trading,
                       std::vector<std::string>& notes)
    : trading_(trading),
      encoder_(make_encoder(venue, instruments, &orders_enabled_)),
      parser_(std::move(instruments), venue.client_id_prefix, std::size_t{4} << 20) {
  if (trading && !orders_enabled_)
    notes.push_back("orders disabled: " + venue.api_key_env + " / " + venue.secret_key_env + " / " +
                    std::string(option_value(venue, kInfo, "passphrase_env")) + " are not set (market data only)");
}

}  // namespace hftx::venue::okx
