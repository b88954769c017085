// Setup-time parts of fixed point: building scales and throwing parse helpers.
#include "hftx/core/fixed_point.hpp"

#include "hftx/core/error.hpp"

namespace hftx {

Scale Scale::with_decimals(int decimals) {
  if (decimals < 0 || decimals > kMaxDecimals)
    throw ConfigError("scale decimals " + std::to_string(decimals) + ": expected 0.." +
                      std::to_string(kMaxDecimals));
  return Scale(decimals, 1);
}

Scale Scale::from_step(std::string_view step) {
  const auto fail = [&](std::string_view why) {
    throw ConfigError("step '" + std::string(step) + "': " + std::string(why));
  };
  // Digits only: the integer part and the fraction without trailing zeros ("0.00001000" -> 1e-5).
  const std::size_t dot = step.find('.');
  std::string_view int_part = step.substr(0, dot);
  std::string_view frac_part = dot == std::string_view::npos ? std::string_view{} : step.substr(dot + 1);
  if (int_part.empty() || (dot != std::string_view::npos && frac_part.empty()))
    fail("expected a positive decimal such as 0.01, 0.5 or 25");
  for (char c : int_part)
    if (c < '0' || c > '9') fail("expected a positive decimal such as 0.01, 0.5 or 25");
  for (char c : frac_part)
    if (c < '0' || c > '9') fail("expected a positive decimal such as 0.01, 0.5 or 25");
  while (!frac_part.empty() && frac_part.back() == '0') frac_part.remove_suffix(1);
  if (frac_part.size() > static_cast<std::size_t>(kMaxDecimals))
    fail("more than 18 decimals");
  // multiplier = the digits as an integer, with the leading zeros gone.
  std::string digits = std::string(int_part) + std::string(frac_part);
  const std::size_t first = digits.find_first_not_of('0');
  if (first == std::string::npos) fail("the step must be greater than zero");
  digits.erase(0, first);
  if (digits.size() > 18) fail("too many significant digits (at most 18)");
  return Scale(static_cast<int>(frac_part.size()), std::stoll(digits));
}

std::string Scale::step_string() const { return format_fixed(1, *this); }

std::string format_fixed(std::int64_t raw, const Scale& scale) {
  char buf[kMaxFixedText];
  return std::string(buf, format_fixed(raw, scale, buf));
}

std::int64_t parse_fixed_or_throw(std::string_view text, const Scale& scale, Sign sign, std::string_view what) {
  std::int64_t raw = 0;
  const FixedStatus s = parse_fixed(text, scale, raw, sign);
  if (s == FixedStatus::ok) return raw;
  std::string msg = std::string(what) + " '" + std::string(text) + "' ";
  switch (s) {
    case FixedStatus::empty: msg += "is empty: expected a decimal number"; break;
    case FixedStatus::bad_format:
      msg += "is not a plain decimal: expected digits with an optional '-' and fraction, e.g. 61837.63";
      break;
    case FixedStatus::negative: msg += "is negative: expected a value >= 0"; break;
    case FixedStatus::off_grid: msg += "is not a multiple of the step " + scale.step_string(); break;
    case FixedStatus::overflow:
      msg += "does not fit in int64 steps of " + scale.step_string();
      break;
    case FixedStatus::ok: break;
  }
  throw ParseError(msg);
}

}  // namespace hftx
