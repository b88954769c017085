// The venues built into hftx: one line each. See hftx/venue/registry.hpp.
//
// This file is where a venue's session is instantiated (session/engine.hpp's templates on the venue's traits):
// the generic layers never include a venue, and a venue never includes them.
#include "hftx/venue/registry.hpp"

#include "hftx/venue/binance/venue.hpp"
#include "session/engine.hpp"

namespace hftx::venue {

namespace {

const VenueEntry kRegistry[] = {
    {&binance::kInfo, &session::make_engine<binance::Venue>},
};

}  // namespace

std::span<const VenueEntry> registry() noexcept { return kRegistry; }

const VenueEntry* find(std::string_view name) noexcept {
  for (const VenueEntry& e : kRegistry)
    if (e.info->name == name) return &e;
  return nullptr;
}

std::vector<std::string> names() {
  std::vector<std::string> out;
  for (const VenueEntry& e : kRegistry) out.emplace_back(e.info->name);
  return out;
}

}  // namespace hftx::venue
