// json_detail.hpp — what the venues' simdjson On-Demand parsers (venue/<name>/md_parser.cpp: market data,
// venue/<name>/order_codec.cpp: order answers and execution reports) share: raw-token strings, integer fields
// and the error text. Private to cpp/src.
//
// Threading contract: stateless functions; any thread.
//
// R is a parse result ({status, detail, field}: md::ParseResult, oms::ApiParseResult) whose status enum has
// json_error (detail = simdjson error code), wrong_type and bad_number (detail = FixedStatus).
#pragma once

#include <simdjson.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <type_traits>

#include "hftx/core/fixed_point.hpp"
#include "hftx/core/platform.hpp"

namespace hftx::detail {

// The text of a string token without its quotes. False when the token is not a plain string.
HFTX_FORCE_INLINE bool string_token(std::string_view tok, std::string_view& out) noexcept {
  while (!tok.empty() && (tok.back() == ' ' || tok.back() == '\n' || tok.back() == '\r' || tok.back() == '\t'))
    tok.remove_suffix(1);
  if (tok.size() < 2 || tok.front() != '"' || tok.back() != '"') return false;
  out = tok.substr(1, tok.size() - 2);
  return true;
}

// A typed read of a field failed with `e`: wrong_type when the value is not of the type (or its range),
// json_error when the text is broken.
template <class R>
HFTX_FORCE_INLINE R field_error(simdjson::error_code e, const char* field) noexcept {
  using Status = decltype(R{}.status);
  if (e == simdjson::INCORRECT_TYPE || e == simdjson::NUMBER_OUT_OF_RANGE) return R{Status::wrong_type, 0, field};
  return R{Status::json_error, static_cast<std::uint8_t>(e), field};
}

// An integer field (int64 or uint64).
template <class R, class T>
HFTX_FORCE_INLINE R integer_field(simdjson::ondemand::value& v, T& out, const char* field) noexcept {
  static_assert(std::is_same_v<T, std::int64_t> || std::is_same_v<T, std::uint64_t>);
  simdjson::error_code e;
  if constexpr (std::is_signed_v<T>) e = v.get_int64().get(out);
  else e = v.get_uint64().get(out);
  if (HFTX_LIKELY(e == simdjson::SUCCESS)) return {};
  return field_error<R>(e, field);
}

// "bad_number: field 'b' (off_grid)". Allocates: for logs and errors, not the hot path.
template <class R>
std::string describe_result(const R& r) {
  using Status = decltype(r.status);
  std::string s(to_string(r.status));
  if (r.field != nullptr && *r.field != '\0') s += std::string(": field '") + r.field + "'";
  if (r.status == Status::json_error)
    s += std::string(" (") + simdjson::error_message(static_cast<simdjson::error_code>(r.detail)) + ")";
  else if (r.status == Status::bad_number)
    s += " (" + std::string(to_string(static_cast<FixedStatus>(r.detail))) + ")";
  return s;
}

// simdjson reads up to SIMDJSON_PADDING bytes past the text. When `capacity` does not allow that, the text is
// copied into `buf` (at least json.size() + SIMDJSON_PADDING bytes) with zeroed padding, and json and capacity
// then describe the copy: views the parser returns point into buf, valid until its next use.
inline void pad_if_needed(std::string_view& json, std::size_t& capacity, char* buf) noexcept {
  if (capacity >= json.size() + simdjson::SIMDJSON_PADDING) return;
  std::memcpy(buf, json.data(), json.size());
  std::memset(buf + json.size(), 0, simdjson::SIMDJSON_PADDING);
  json = std::string_view(buf, json.size());
  capacity = json.size() + simdjson::SIMDJSON_PADDING;
}

}  // namespace hftx::detail
