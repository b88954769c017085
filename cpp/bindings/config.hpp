// The session configuration from Python (cpp/bindings/config.cpp): the binding's one reader of the dict.
#pragma once

#include "hftx/session/config.hpp"
#include "register.hpp"

namespace hftx::py {

// The normalised config dict (hftx.config's Config.to_core()) as a SessionConfig: every key of the schema
// (session/config.hpp describe()), a missing key or None keeping the default, the venue block's other keys the
// protocol venue's own. Throws ConfigError listing every wrong type and unknown key, each with its path. The
// top-level blocks simulator, metrics and report belong to other components and are skipped.
[[nodiscard]] session::SessionConfig session_config_from(const pyb::dict& d);

}  // namespace hftx::py
