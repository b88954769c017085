// hftx/core/cpu_list.hpp — the kernel's list syntax for CPUs and NUMA nodes ("0-3,8,10-11"), as /sys writes it and
// isolcpus takes it.
//
// Threading contract: pure functions; any thread.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace hftx {

// Parses a kernel CPU list ("0-3,8,10-11"; "" is empty). Throws ConfigError naming the text when malformed.
[[nodiscard]] std::vector<int> parse_cpu_list(std::string_view text);
// The inverse, compressed into ranges: {0,1,2,3,8} -> "0-3,8".
[[nodiscard]] std::string format_cpu_list(const std::vector<int>& cpus);

}  // namespace hftx
