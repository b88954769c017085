// The venue part of a configuration, checked against the registry. See hftx/venue/venue.hpp.
#include "hftx/venue/venue.hpp"

#include <charconv>

#include "hftx/core/error.hpp"

namespace hftx::venue {

namespace {

using schema::quoted;

// "'a', 'b'" (appended piece by piece: GCC 12 warns falsely on `(cond ? "" : ", ") + std::string`).
void append_item(std::string& out, std::string_view item, bool quote) {
  if (!out.empty()) out += ", ";
  if (quote) out += '\'';
  out += item;
  if (quote) out += '\'';
}

std::string joined(std::span<const std::string_view> items) {
  std::string out;
  for (std::string_view s : items) append_item(out, s, true);
  return out;
}

std::string venue_list() {
  std::string out;
  for (const std::string& n : names()) append_item(out, n, true);
  return out;
}

bool parse_integer(std::string_view s, std::int64_t& out) noexcept {
  const auto r = std::from_chars(s.data(), s.data() + s.size(), out);
  return r.ec == std::errc() && r.ptr == s.data() + s.size();
}

// A problem with one option's value, or none.
void check_option(const OptionSpec& spec, std::string_view value, std::vector<schema::Problem>& out) {
  const std::string key = "venue." + std::string(spec.key);
  switch (spec.kind) {
    case OptionKind::choice:
      for (std::string_view c : spec.choices)
        if (c == value) return;
      out.push_back({key, quoted(value), "expected one of " + joined(spec.choices)});
      return;
    case OptionKind::integer: {
      std::int64_t v = 0;
      if (!parse_integer(value, v) || v < spec.min || v > spec.max)
        out.push_back({key, quoted(value),
                       "expected an integer " + std::to_string(spec.min) + ".." + std::to_string(spec.max)});
      return;
    }
    case OptionKind::env_name:
      schema::check_text(key, std::string(value),
                         {.name = spec.key, .pattern = kEnvNamePattern, .expected = kEnvNameExpected}, out);
      return;
  }
}

}  // namespace

std::string_view option_value(const VenueConfig& cfg, const VenueInfo& info, std::string_view key) {
  if (const auto it = cfg.options.find(key); it != cfg.options.end()) return it->second;
  const OptionSpec* spec = info.option(key);
  if (spec == nullptr) throw ConfigError("venue." + std::string(key) + ": not an option of venue " + quoted(info.name));
  return spec->default_value;
}

std::int64_t option_integer(const VenueConfig& cfg, const VenueInfo& info, std::string_view key) {
  std::int64_t v = 0;
  const std::string_view text = option_value(cfg, info, key);
  if (!parse_integer(text, v))
    throw ConfigError("venue." + std::string(key) + " = " + quoted(text) + ": expected an integer");
  return v;
}

std::string foreign_option(const VenueInfo& protocol, std::string_view key) {
  std::string owner;
  for (const VenueInfo* v : venues())
    if (v->option(key) != nullptr && owner.empty()) owner = std::string(v->name);
  std::string mine;
  for (const OptionSpec& o : protocol.options) append_item(mine, o.key, false);
  return (owner.empty() ? std::string("not a venue key")
                        : "a key of venue " + quoted(owner) + ", but the session speaks " + quoted(protocol.name)) +
         "; " + std::string(protocol.name) + "'s keys: " + (mine.empty() ? "none" : mine) + " (venues: " +
         venue_list() + ")";
}

void check(const VenueConfig& cfg, std::span<const std::string> symbols, std::span<const int> depths,
           std::vector<schema::Problem>& out) {
  if (cfg.name != kSimulator && find(cfg.name) == nullptr) {
    out.push_back({"venue.name", quoted(cfg.name), "expected " + quoted(kSimulator) + " or a venue: " + venue_list()});
    return;
  }
  const VenueInfo* found = find(cfg.protocol());
  if (found == nullptr) {
    out.push_back({"venue.dialect", quoted(cfg.dialect), "expected a venue the simulator speaks: " + venue_list()});
    return;
  }
  const VenueInfo& info = *found;
  if (info.market(cfg.market) == nullptr) {
    std::string markets;
    for (const MarketSpec& m : info.markets) append_item(markets, m.name, true);
    out.push_back({"venue.market", quoted(cfg.market),
                   "expected one of " + std::string(info.name) + "'s markets: " + markets});
  }
  for (const auto& [key, value] : cfg.options) {
    if (const OptionSpec* spec = info.option(key))
      check_option(*spec, value, out);
    else
      out.push_back({"venue." + key, "", foreign_option(info, key)});
  }
  if (info.valid_client_id_prefix != nullptr && !info.valid_client_id_prefix(cfg.client_id_prefix))
    out.push_back({"venue.client_id_prefix", quoted(cfg.client_id_prefix),
                   "expected text matching " + std::string(info.client_id_prefix_pattern) + " (" +
                       std::string(info.name) + "'s client order ids)"});
  for (std::size_t i = 0; i < symbols.size(); ++i)
    if (info.valid_symbol != nullptr && !info.valid_symbol(symbols[i]))
      out.push_back({"instruments[" + std::to_string(i) + "].symbol", quoted(symbols[i]),
                     "expected a " + std::string(info.name) + " instrument name matching " +
                         std::string(info.symbol_pattern)});
  if (!info.snapshot_depths.empty())
    for (std::size_t i = 0; i < depths.size(); ++i) {
      bool ok = false;
      std::string allowed;
      for (int d : info.snapshot_depths) {
        ok |= d == depths[i];
        append_item(allowed, std::to_string(d), false);
      }
      if (!ok)
        out.push_back({"instruments[" + std::to_string(i) + "].snapshot_depth", std::to_string(depths[i]),
                       "expected one of " + allowed + " (" + std::string(info.name) + " depth limits)"});
    }
}

void validate(const VenueConfig& cfg, std::span<const std::string> symbols, std::span<const int> depths) {
  schema::Checker schema_check("venue");
  describe(cfg, schema_check);
  std::vector<schema::Problem> problems = std::move(schema_check).problems();
  check(cfg, symbols, depths, problems);
  schema::throw_if_any(problems);
}

}  // namespace hftx::venue
