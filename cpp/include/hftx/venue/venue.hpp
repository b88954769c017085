// hftx/venue/venue.hpp — what every venue module declares about itself, and the venue part of a configuration.
//
// Threading contract: value types and constants; validate() on the configuring thread.
//
// The venue seam (docs/ARCHITECTURE.md): a venue is one folder, venue/<name>/, with the same file set for every
// venue (markets.hpp, md_parser.hpp, book_sync.hpp, order_codec.hpp, signer.hpp, sim_dialect.hpp, replay.hpp and
// venue.hpp, which declares its VenueInfo and its session traits). Generic layers read a venue only through
// these facts and the traits. The venues built in are listed in one table, cpp/src/registry.cpp, one line per venue:
// adding a venue is its folder and that line. The registry is the one place where a venue's session and simulator
// are instantiated (their generic templates on the venue's traits), above both the generic layers and the venues;
// it defines the lookups declared here and in session/engine.hpp, so that nothing lower includes it.
//
// Venue-specific configuration keys (Binance's depth_stream, OKX's channel) are declared by the venue as
// OptionSpecs and travel as text in VenueConfig::options: the generic configuration never names them, and
// validate() checks them against the venue's specs, so that a key of one venue given to another is an error that
// names the key, the venue it belongs to and the venues that exist.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "hftx/core/schema.hpp"

namespace hftx::venue {

// The name under which the built-in exchange simulator runs: it speaks a registered venue's protocol
// (VenueConfig::dialect).
inline constexpr std::string_view kSimulator = "simulator";

// The venue block of a session configuration (YAML `venue:`).
struct VenueConfig {
  std::string name = std::string(kSimulator);  // "simulator" or a registered venue (hftx.venues())
  std::string dialect = "binance";             // name "simulator": the venue whose protocol it speaks
  std::string market = "spot";                 // one of the venue's markets
  std::string market_url;                      // market streams, e.g. ws://127.0.0.1:9000/stream
  std::string api_url;                         // orders (and Binance's depth snapshots)
  std::string api_key_env = "HFTX_API_KEY";    // environment variable names, never the secrets
  std::string secret_key_env = "HFTX_SECRET_KEY";
  std::string client_id_prefix = "hx";
  int connect_timeout_ms = 5000;
  // The venue's own keys (OptionSpec), as text: {"depth_stream": "depth@100ms"}. Keys not given take the
  // spec's default.
  std::map<std::string, std::string, std::less<>> options;

  // The venue whose protocol the session speaks: the simulator's dialect, or the venue itself.
  [[nodiscard]] std::string_view protocol() const noexcept {
    return name == kSimulator ? std::string_view(dialect) : std::string_view(name);
  }
  [[nodiscard]] bool simulated() const noexcept { return name == kSimulator; }
};

// Environment variable names (venue.api_key_env, OptionKind::env_name) and WebSocket URLs, as the schema checks
// them (core/schema.hpp: ECMAScript in C++, Python's `re`).
inline constexpr std::string_view kEnvNamePattern = "^[A-Za-z_][A-Za-z0-9_]*$";
inline constexpr std::string_view kEnvNameExpected =
    "the NAME of an environment variable (letters, digits, _), not a secret";
inline constexpr std::string_view kWsUrlPattern = R"(^(wss?://[^/\s:]+(:[0-9]{1,5})?(/\S*)?)?$)";
inline constexpr std::string_view kWsUrlExpected =
    "'' or a URL ws://HOST[:PORT]/PATH or wss://HOST[:PORT]/PATH";

// The block's common keys (core/schema.hpp), under venue; each venue's own keys follow them (venue_options: the
// protocol venue's OptionSpecs, which the registry declares and venue::check() checks).
template <class C, class V>
  requires schema::Of<C, VenueConfig>
void describe(C& c, V& v) {
  using schema::VenueRule;
  v.key(c.name, {.name = "name", .doc = "simulator, or a venue (hftx.venues())", .venue = VenueRule::name});
  v.key(c.dialect, {.name = "dialect", .doc = "name simulator: the venue whose protocol the simulator speaks",
                    .venue = VenueRule::dialect});
  v.key(c.market, {.name = "market", .doc = "one of the venue's markets", .venue = VenueRule::market});
  v.key(c.market_url, {.name = "market_url",
                       .doc = "market streams; \"\": the simulator's (started here) or the venue's public endpoint",
                       .pattern = kWsUrlPattern, .expected = kWsUrlExpected});
  v.key(c.api_url, {.name = "api_url",
                    .doc = "orders; set both URLs to trade against an external `hftx sim`",
                    .pattern = kWsUrlPattern, .expected = kWsUrlExpected});
  v.key(c.api_key_env, {.name = "api_key_env",
                        .doc = "NAME of the environment variable holding the API key (never the key)",
                        .pattern = kEnvNamePattern, .expected = kEnvNameExpected});
  v.key(c.secret_key_env, {.name = "secret_key_env",
                           .doc = "NAME of the variable holding the secret (HMAC) or an Ed25519 PEM key",
                           .pattern = kEnvNamePattern, .expected = kEnvNameExpected});
  v.key(c.client_id_prefix, {.name = "client_id_prefix",
                             .doc = "client order id = prefix + order number (the venue's characters and length)",
                             .venue = VenueRule::client_id_prefix});
  v.key(c.connect_timeout_ms,
        {.name = "connect_timeout_ms", .doc = "per connection attempt, ms", .min = 100, .max = 120'000});
  v.venue_options(c);
}

enum class OptionKind : std::uint8_t {
  choice,    // one of `choices`
  integer,   // a decimal integer in [min, max]
  env_name,  // the NAME of an environment variable ([A-Za-z_][A-Za-z0-9_]*), never a secret
};

struct OptionSpec {
  std::string_view key;  // venue.<key>
  OptionKind kind = OptionKind::choice;
  std::string_view default_value;
  std::span<const std::string_view> choices = {};
  std::int64_t min = 0, max = 0;
  std::string_view doc;  // one line, for the schema and the config files' comments
};

// A market of a venue and its public endpoints.
struct MarketSpec {
  std::string_view name;
  std::string_view market_url;
  std::string_view api_url;
};

struct VenueInfo {
  std::string_view name;
  std::string_view doc;
  std::span<const MarketSpec> markets;  // the first is the default
  std::span<const OptionSpec> options;
  // instruments[].symbol: the venue's own instrument names ("BTCUSDT", "BTC-USDT"), as a regular expression for
  // the schema and a check for C++.
  std::string_view symbol_pattern;
  bool (*valid_symbol)(std::string_view) = nullptr;
  // venue.client_id_prefix: what the venue's client order ids allow around our decimal id.
  std::string_view client_id_prefix_pattern;
  bool (*valid_client_id_prefix)(std::string_view) = nullptr;
  // instruments[].snapshot_depth: the depths the venue's snapshot requests accept (empty: the key is unused).
  std::span<const int> snapshot_depths = {};

  [[nodiscard]] const MarketSpec* market(std::string_view m) const noexcept {
    for (const MarketSpec& s : markets)
      if (s.name == m) return &s;
    return nullptr;
  }
  [[nodiscard]] const OptionSpec* option(std::string_view key) const noexcept {
    for (const OptionSpec& o : options)
      if (o.key == key) return &o;
    return nullptr;
  }
};

// ---- the registry (defined in cpp/src/registry.cpp) ----
// Every venue built in, in registration order.
[[nodiscard]] std::span<const VenueInfo* const> venues() noexcept;
// The venue of that name, or nullptr.
[[nodiscard]] const VenueInfo* find(std::string_view name) noexcept;
// The registered names, in order ("binance", "okx").
[[nodiscard]] std::vector<std::string> names();

// The value of a venue option: the configured text, or the spec's default. `key` must be one of the venue's.
[[nodiscard]] std::string_view option_value(const VenueConfig& cfg, const VenueInfo& info, std::string_view key);
// The value of an integer option (validated: validate() checked it parses and is in range).
[[nodiscard]] std::int64_t option_integer(const VenueConfig& cfg, const VenueInfo& info, std::string_view key);

// Checks the venue block against the registry: the name, the dialect, the market, every option (known to the
// protocol's venue, valid value), the client id prefix, and each instrument's symbol and snapshot depth
// (`symbols` / `depths`: instruments[i]). Adds a problem to `out` for each, naming the key (`venue.market`,
// `venue.depth_stream`, `instruments[1].symbol`), the value and what was expected: for a key of another venue,
// which venue it belongs to and the venues that exist. The block's other keys are the schema's (describe()).
void check(const VenueConfig& cfg, std::span<const std::string> symbols, std::span<const int> depths,
           std::vector<schema::Problem>& out);
// The schema's checks of the block (describe()) and check(): throws one ConfigError listing every problem.
void validate(const VenueConfig& cfg, std::span<const std::string> symbols, std::span<const int> depths);
// What a key that `protocol` does not declare is told: whose key it is (or that no venue has it), the
// protocol's keys and the venues that exist.
[[nodiscard]] std::string foreign_option(const VenueInfo& protocol, std::string_view key);

}  // namespace hftx::venue
