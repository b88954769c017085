// hftx/core/error.hpp — exception types for setup-time errors.
//
// The hot path never throws: it returns status codes and counts what it dropped. These types are for
// setup (configuration, opening connections, building pools); their messages name what was wrong, the
// value and what was expected. The Python bindings map each to the `hftx` exception of the same name.
#pragma once

#include <cstdio>
#include <stdexcept>
#include <string>

namespace hftx {

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A configuration value is missing, malformed or out of range.
class ConfigError : public Error {
 public:
  using Error::Error;
};

// A decimal string could not be turned into a fixed-point value (setup-time helpers only).
class ParseError : public Error {
 public:
  using Error::Error;
};

// The operating system refused something hftx cannot do without.
class SystemError : public Error {
 public:
  using Error::Error;
};

// A number as an error message quotes it: every digit it has (17 significant), so that the value the user
// wrote is recognisable, never rounded into something that looks valid.
[[nodiscard]] inline std::string error_text(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

}  // namespace hftx
