// The schema's checks, by value type, and its problem messages. See hftx/core/schema.hpp.
//
// GCC 12 warns falsely (-Wmaybe-uninitialized) inside libstdc++'s std::regex (std::function moves in its NFA)
// under -O2 with the sanitizers; the warning is about library code, so it is off for this file.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include "hftx/core/schema.hpp"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <regex>

#include "hftx/core/error.hpp"
#include "hftx/core/fixed_point.hpp"

namespace hftx::schema {

namespace {

// "5", "0.01", "1e+15": integers without a fraction, others in their shortest round-tripping form.
std::string bound_text(long double v) {
  if (v == std::floor(v) && std::fabs(v) < 1e18L) return std::to_string(static_cast<long long>(v));
  return number_text(static_cast<double>(v));
}

// The bounds a value broke, in the words Python's messages use: "expected a value >= 1", "> 0", "<= 256".
void check_bounds(const std::string& path, long double v, const std::string& value, const Key& k,
                  std::vector<Problem>& out) {
  const long double lo = k.min, hi = k.max;
  if (k.min_exclusive ? !(v > lo) : v < lo)
    out.push_back({path, value, "expected a value " + std::string(k.min_exclusive ? "> " : ">= ") + bound_text(lo)});
  else if (v > hi)
    out.push_back({path, value, "expected a value <= " + bound_text(hi)});
}

std::string characters(std::size_t n) { return std::to_string(n) + (n == 1 ? " character" : " characters"); }

bool matches(std::string_view pattern, const std::string& text) {
  // Setup only: compiled on each check (a handful of keys).
  return std::regex_match(text, std::regex(pattern.begin(), pattern.end(), std::regex::ECMAScript));
}

}  // namespace

std::string_view to_string(Type t) noexcept {
  switch (t) {
    case Type::boolean: return "bool";
    case Type::integer: return "int";
    case Type::number: return "float";
    case Type::text: return "str";
    case Type::choice: return "choice";
    case Type::integer_list: return "int_list";
    case Type::number_map: return "float_map";
    case Type::block: return "block";
    case Type::list: return "list";
  }
  return "unknown";
}

std::string_view to_string(Format f) noexcept {
  switch (f) {
    case Format::none: return "";
    case Format::decimal_step: return "decimal_step";
  }
  return "unknown";
}

std::string_view to_string(VenueRule r) noexcept {
  switch (r) {
    case VenueRule::none: return "";
    case VenueRule::name: return "name";
    case VenueRule::dialect: return "dialect";
    case VenueRule::market: return "market";
    case VenueRule::client_id_prefix: return "client_id_prefix";
    case VenueRule::symbol: return "symbol";
    case VenueRule::snapshot_depth: return "snapshot_depth";
  }
  return "unknown";
}

std::string Problem::text() const {
  std::string out = path;
  if (!value.empty()) out += " = " + value;
  return out + ": " + expected;
}

void throw_if_any(std::span<const Problem> problems) {
  if (problems.empty()) return;
  if (problems.size() == 1) throw ConfigError(problems.front().text());
  std::string msg = std::to_string(problems.size()) + " problems in the configuration:";
  for (const Problem& p : problems) msg += "\n  " + p.text();
  throw ConfigError(msg);
}

std::string quoted(std::string_view text) {
  // Appended piece by piece: GCC 12 warns falsely (-Wrestrict) on "'" + std::string(...).
  std::string out;
  out.reserve(text.size() + 2);
  out += '\'';
  out += text;
  out += '\'';
  return out;
}

std::string number_text(double v) {
  if (std::isfinite(v) && v == std::floor(v) && std::fabs(v) < 1e15) return std::to_string(static_cast<long long>(v));
  // The shortest of %.15g and %.17g that reads back as v: 0.1 stays 0.1, and no digit the user wrote is lost.
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.15g", v);
  if (std::strtod(buf, nullptr) != v) std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

std::string choice_list(std::span<const std::string_view> choices) {
  std::string out;
  for (std::string_view c : choices) {
    if (!out.empty()) out += ", ";
    out += quoted(c);
  }
  return out;
}

void check_integer(const std::string& path, long double v, const Key& k, std::vector<Problem>& out) {
  check_bounds(path, v, bound_text(v), k, out);
}

void check_number(const std::string& path, double v, const Key& k, std::vector<Problem>& out) {
  if (!std::isfinite(v)) {
    out.push_back({path, number_text(v), "expected a finite number"});
    return;
  }
  check_bounds(path, v, number_text(v), k, out);
}

void check_text(const std::string& path, const std::string& v, const Key& k, std::vector<Problem>& out) {
  if (k.required && v.empty()) {
    out.push_back({path, "", "required key is missing"});
    return;
  }
  if (v.size() < k.min_size || v.size() > k.max_size) {
    std::string expected = "expected ";
    if (k.max_size == kNoLimit) expected += "at least " + characters(k.min_size);
    else expected += std::to_string(k.min_size) + " to " + characters(k.max_size);
    out.push_back({path, quoted(v), std::move(expected)});
    return;
  }
  if (!k.choices.empty()) {
    for (std::string_view c : k.choices)
      if (c == v) return;
    out.push_back({path, quoted(v), "expected one of " + choice_list(k.choices)});
    return;
  }
  if (!k.pattern.empty() && !matches(k.pattern, v)) {
    out.push_back({path, quoted(v),
                   "expected " + (k.expected.empty() ? "text matching " + std::string(k.pattern)
                                                     : std::string(k.expected))});
    return;
  }
  if (k.format == Format::decimal_step) {
    try {
      (void)Scale::from_step(v);
    } catch (const std::exception& e) {
      out.push_back({path, quoted(v), "expected a positive decimal step such as 0.01 (" + std::string(e.what()) + ")"});
    }
  }
}

void check_choice(const std::string& path, std::size_t index, const Key& k, std::vector<Problem>& out) {
  if (index >= k.choices.size())
    out.push_back({path, std::to_string(index), "expected one of " + choice_list(k.choices)});
}

void check_integer_list(const std::string& path, std::span<const long double> v, const Key& k,
                        std::vector<Problem>& out) {
  check_list_size(path, v.size(), k, out);
  for (std::size_t i = 0; i < v.size(); ++i) check_integer(path + "[" + std::to_string(i) + "]", v[i], k, out);
  if (k.unique.empty()) return;
  for (std::size_t i = 0; i < v.size(); ++i)
    for (std::size_t j = 0; j < i; ++j)
      if (v[i] == v[j]) {
        out.push_back({path, bound_text(v[i]), "expected each " + std::string(k.unique) + " at most once"});
        return;
      }
}

void check_map_key(const std::string& path, const std::string& key, const Key& k, std::vector<Problem>& out) {
  if (!k.pattern.empty() && !matches(k.pattern, key))
    out.push_back({path + "." + key, "", "expected a key matching " + std::string(k.pattern)});
}

void check_list_size(const std::string& path, std::size_t n, const Key& k, std::vector<Problem>& out) {
  if (n < k.min_size)
    out.push_back({path, std::to_string(n) + (n == 1 ? " item" : " items"),
                   "expected at least " + std::to_string(k.min_size) + (k.min_size == 1 ? " item" : " items")});
  else if (n > k.max_size)
    out.push_back({path, std::to_string(n) + " items", "expected at most " + std::to_string(k.max_size) + " items"});
}

}  // namespace hftx::schema
