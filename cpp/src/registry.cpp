// The venues built into hftx, one line each (docs/ARCHITECTURE.md, "The seam").
//
// The top of the house: the one table of venues, where each venue's session is instantiated (session/engine.hpp's
// templates on the venue's traits) and its simulator dialect listed (each venue's sim_dialect.cpp instantiates
// sim::Engine<Dialect>). It defines the lookups that lower layers declare (venue::venues(), venue::find(),
// session::make_engine(), sim::find_dialect()), so that no generic layer includes a venue.
// Adding a venue is its folder (venue/<name>/, the file set venue/venue.hpp describes) and its line here.
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "hftx/core/error.hpp"
#include "hftx/sim/engine.hpp"
#include "hftx/venue/binance/sim_dialect.hpp"
#include "hftx/venue/binance/venue.hpp"
#include "hftx/venue/okx/sim_dialect.hpp"
#include "hftx/venue/okx/venue.hpp"
#include "hftx/venue/venue.hpp"
#include "session/engine.hpp"

namespace hftx {

namespace {

struct Entry {
  const venue::VenueInfo* info;
  std::unique_ptr<session::Engine> (*make_session)(const session::SessionParts&, session::QueueMemory&);
  sim::DialectInfo (*sim_dialect)();
};

template <class V>
std::unique_ptr<session::Engine> session_of(const session::SessionParts& s, session::QueueMemory& mem) {
  return std::make_unique<session::VenueEngine<V>>(s, mem);
}

constexpr Entry kVenues[] = {
    {&venue::binance::kInfo, &session_of<venue::binance::Venue>, &venue::binance::sim_dialect_info},
    {&venue::okx::kInfo, &session_of<venue::okx::Venue>, &venue::okx::sim_dialect_info},
};

constexpr auto kInfos = [] {
  std::array<const venue::VenueInfo*, std::size(kVenues)> out{};
  for (std::size_t i = 0; i < out.size(); ++i) out[i] = kVenues[i].info;
  return out;
}();

const Entry* entry(std::string_view name) noexcept {
  for (const Entry& e : kVenues)
    if (e.info->name == name) return &e;
  return nullptr;
}

}  // namespace

namespace venue {

std::span<const VenueInfo* const> venues() noexcept { return kInfos; }

const VenueInfo* find(std::string_view name) noexcept {
  const Entry* e = entry(name);
  return e != nullptr ? e->info : nullptr;
}

std::vector<std::string> names() {
  std::vector<std::string> out;
  for (const Entry& e : kVenues) out.emplace_back(e.info->name);
  return out;
}

}  // namespace venue

namespace session {

std::unique_ptr<Engine> make_engine(std::string_view venue, const SessionParts& s, QueueMemory& mem) {
  const Entry* e = entry(venue);
  if (e == nullptr) throw ConfigError("venue.name = '" + std::string(venue) + "': not a registered venue");
  return e->make_session(s, mem);
}

}  // namespace session

namespace sim {

const DialectInfo* find_dialect(std::string_view name) {
  static const std::vector<DialectInfo> kDialects = [] {
    std::vector<DialectInfo> out;
    for (const Entry& e : kVenues) out.push_back(e.sim_dialect());
    return out;
  }();
  for (const DialectInfo& d : kDialects)
    if (d.name == name) return &d;
  return nullptr;
}

std::string dialect_names() {
  std::string out;
  for (const Entry& e : kVenues) {
    if (!out.empty()) out += ", ";
    out += e.info->name;
  }
  return out;
}

}  // namespace sim

}  // namespace hftx
