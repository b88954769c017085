// hftx/venue/registry.hpp — the venues built into hftx: their facts, and how a session or a simulator is built
// for each.
//
// Threading contract: the registry is a constant table; any thread.
//
// cpp/src/venue/registry.cpp holds the table: one line per venue. Adding a venue is its folder (venue/<name>/,
// the file set venue/venue.hpp describes) and that line; Python learns the names from it (hftx.venues()).
#pragma once

#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "hftx/venue/venue.hpp"

namespace hftx::session {
class Engine;
struct SessionParts;
struct QueueMemory;
}  // namespace hftx::session

namespace hftx::venue {

struct VenueEntry {
  const VenueInfo* info;
  // The session's machinery for the venue (session/engine.hpp): the inline or pipelined loop on its protocol.
  std::unique_ptr<session::Engine> (*make_session)(const session::SessionParts&, session::QueueMemory&);
};

// Every venue, in registration order.
[[nodiscard]] std::span<const VenueEntry> registry() noexcept;
// The venue of that name, or nullptr.
[[nodiscard]] const VenueEntry* find(std::string_view name) noexcept;
// The registered names, in order ("binance", "okx").
[[nodiscard]] std::vector<std::string> names();

}  // namespace hftx::venue
