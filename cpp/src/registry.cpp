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
#include "hftx/venue/binance/venue.hpp"
#include "hftx/venue/okx/venue.hpp"
#include "hftx/venue/venue.hpp"
#include "session/engine.hpp"

namespace hftx {

namespace {

struct Entry {
  const venue::VenueInfo* info;
  std::unique_ptr<session::Engine> (*make_session)(const session::SessionParts&, session::QueueMemory&);
  sim::DialectInfo (*sim_dialect)();
  std::unique_ptr<sim::RecordingParser> (*recording_parser)(const Scale&, const Scale&);
};

// The simulator's replay reads a venue's recordings through the venue's parser (replay is not its hot path).
template <class P>
class Recording final : public sim::RecordingParser {
 public:
  Recording(const Scale& ps, const Scale& qs) : p_(ps, qs) {}
  md::ParseResult parse(std::string_view json, md::MdMessage& out, std::span<md::Level> levels) noexcept override {
    return p_.parse_unpadded(json, 0, out, levels);
  }

 private:
  P p_;
};
template <class V>
std::unique_ptr<sim::RecordingParser> recording_of(const Scale& ps, const Scale& qs) {
  return std::make_unique<Recording<typename V::MdParser>>(ps, qs);
}

template <class V>
std::unique_ptr<session::Engine> session_of(const session::SessionParts& s, session::QueueMemory& mem) {
  return std::make_unique<session::VenueEngine<V>>(s, mem);
}

// A venue's entry, from its traits (venue/<name>/venue.hpp).
template <class V>
constexpr Entry entry_of() {
  return {&V::info(), &session_of<V>, &V::sim_dialect, &recording_of<V>};
}

constexpr Entry kVenues[] = {
    entry_of<venue::binance::Venue>(),
    entry_of<venue::okx::Venue>(),
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

std::unique_ptr<RecordingParser> make_recording_parser(std::string_view venue, const Scale& price_scale,
                                                       const Scale& qty_scale) {
  const Entry* e = entry(venue);
  if (e == nullptr) throw ConfigError("replay: no venue '" + std::string(venue) + "' to read its recordings");
  return e->recording_parser(price_scale, qty_scale);
}

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
