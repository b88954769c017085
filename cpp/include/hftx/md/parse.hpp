// hftx/md/parse.hpp — what a venue parser says about one message, and what it counts: the same for every venue.
//
// Threading contract: value types; a parser's ParserStats belong to the parser's thread.
//
// Bad input (malformed, truncated, wrong types, unknown events, off-grid prices) never throws: a venue
// parser returns a ParseResult naming the reason and the field, and counts each reason.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "hftx/md/events.hpp"

namespace hftx::md {

enum class ParseStatus : std::uint8_t {
  ok,
  json_error,       // simdjson rejected the text (detail = simdjson error code)
  not_object,       // the document (or "data"/"result") is not an object
  missing_field,    // a field the event needs is absent (field names it)
  wrong_type,       // a field has the wrong JSON type (field names it)
  bad_number,       // a price/quantity string failed parse_fixed (detail = FixedStatus)
  bad_level,        // a level is not [price, qty]
  too_many_levels,  // the caller's level buffer is full
  unknown_event,    // a valid object that is none of the supported messages (or an error response)
  trailing_content, // bytes after the document
  too_large,        // parse_unpadded(): longer than the internal buffer
  count_            // number of statuses (array sizing)
};

[[nodiscard]] constexpr std::string_view to_string(ParseStatus s) noexcept {
  switch (s) {
    case ParseStatus::ok: return "ok";
    case ParseStatus::json_error: return "json_error";
    case ParseStatus::not_object: return "not_object";
    case ParseStatus::missing_field: return "missing_field";
    case ParseStatus::wrong_type: return "wrong_type";
    case ParseStatus::bad_number: return "bad_number";
    case ParseStatus::bad_level: return "bad_level";
    case ParseStatus::too_many_levels: return "too_many_levels";
    case ParseStatus::unknown_event: return "unknown_event";
    case ParseStatus::trailing_content: return "trailing_content";
    case ParseStatus::too_large: return "too_large";
    case ParseStatus::count_: break;
  }
  return "unknown";
}

struct ParseResult {
  ParseStatus status = ParseStatus::ok;
  std::uint8_t detail = 0;     // simdjson error code (json_error) or FixedStatus (bad_number)
  const char* field = "";      // static string: the field concerned, "" when none

  [[nodiscard]] bool ok() const noexcept { return status == ParseStatus::ok; }
  explicit operator bool() const noexcept { return ok(); }
  // "bad_number: field 'b' (off_grid)". Allocates: for logs and errors, not the hot path.
  [[nodiscard]] std::string describe() const;
};

struct ParserStats {
  std::uint64_t messages = 0;  // parse() calls
  std::array<std::uint64_t, static_cast<std::size_t>(ParseStatus::count_)> by_status{};
  std::array<std::uint64_t, kMdKinds> by_kind{};  // indexed by MdKind
  std::uint64_t fallbacks = 0;  // messages the fast scanner declined (parsed by simdjson; errors included)
  [[nodiscard]] std::uint64_t errors() const noexcept { return messages - by_status[0]; }
};

}  // namespace hftx::md
