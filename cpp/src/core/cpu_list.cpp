// The kernel's CPU list syntax. See hftx/core/cpu_list.hpp.
#include "hftx/core/cpu_list.hpp"

#include <algorithm>
#include <charconv>

#include "hftx/core/error.hpp"

namespace hftx {

std::vector<int> parse_cpu_list(std::string_view text) {
  std::vector<int> cpus;
  const auto bad = [&] {
    throw ConfigError("CPU list '" + std::string(text) + "': expected comma-separated CPUs or ranges, e.g. 0-3,8");
  };
  const auto number = [&](std::string_view s) {
    int v = -1;
    const auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc{} || ptr != s.data() + s.size() || v < 0 || s.empty()) bad();
    return v;
  };
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t comma = text.find(',', pos);
    if (comma == std::string_view::npos) comma = text.size();
    const std::string_view item = text.substr(pos, comma - pos);
    const std::size_t dash = item.find('-');
    if (dash == std::string_view::npos) {
      cpus.push_back(number(item));
    } else {
      const int lo = number(item.substr(0, dash));
      const int hi = number(item.substr(dash + 1));
      if (hi < lo) bad();
      for (int c = lo; c <= hi; ++c) cpus.push_back(c);
    }
    pos = comma + 1;
    if (comma + 1 == text.size()) bad();  // trailing comma
  }
  std::sort(cpus.begin(), cpus.end());
  cpus.erase(std::unique(cpus.begin(), cpus.end()), cpus.end());
  return cpus;
}

std::string format_cpu_list(const std::vector<int>& cpus) {
  std::string out;
  for (std::size_t i = 0; i < cpus.size();) {
    std::size_t j = i;
    while (j + 1 < cpus.size() && cpus[j + 1] == cpus[j] + 1) ++j;
    if (!out.empty()) out += ',';
    out += std::to_string(cpus[i]);
    if (j > i) out += '-' + std::to_string(cpus[j]);
    i = j + 1;
  }
  return out;
}

}  // namespace hftx
