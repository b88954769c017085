#include "hftx/cpu/topology.hpp"

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <set>

#include "hftx/core/error.hpp"
#include "core/kernel_file.hpp"

namespace hftx {
namespace {

std::string read_trimmed(const std::filesystem::path& path) {
  std::string text = detail::read_kernel_file(path.string());
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  return text;
}

}  // namespace

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

bool CpuTopology::is_online(int cpu) const noexcept {
  return std::binary_search(online.begin(), online.end(), cpu);
}

std::vector<int> CpuTopology::siblings_of(int cpu) const {
  for (const auto& core : cores) {
    if (std::find(core.begin(), core.end(), cpu) == core.end()) continue;
    std::vector<int> out;
    for (int c : core)
      if (c != cpu) out.push_back(c);
    return out;
  }
  return {};
}

int CpuTopology::node_of(int cpu) const noexcept {
  for (const auto& n : numa_nodes)
    if (std::binary_search(n.cpus.begin(), n.cpus.end(), cpu)) return n.id;
  return -1;
}

CpuTopology read_cpu_topology(const std::string& sysfs_root) {
  namespace fs = std::filesystem;
  const fs::path cpu_dir = fs::path(sysfs_root) / "devices/system/cpu";
  CpuTopology t;
  t.online = parse_cpu_list(read_trimmed(cpu_dir / "online"));
  if (fs::exists(cpu_dir / "isolated")) t.isolated = parse_cpu_list(read_trimmed(cpu_dir / "isolated"));

  std::set<std::vector<int>> cores;
  for (int cpu : t.online) {
    const fs::path list = cpu_dir / ("cpu" + std::to_string(cpu)) / "topology/thread_siblings_list";
    std::vector<int> siblings = fs::exists(list) ? parse_cpu_list(read_trimmed(list)) : std::vector<int>{cpu};
    cores.insert(std::move(siblings));
  }
  t.cores.assign(cores.begin(), cores.end());

  const fs::path node_dir = fs::path(sysfs_root) / "devices/system/node";
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(node_dir, ec)) {
    const std::string name = entry.path().filename().string();
    if (name.rfind("node", 0) != 0 || name.size() == 4) continue;
    if (name.find_first_not_of("0123456789", 4) != std::string::npos) continue;
    t.numa_nodes.push_back({std::stoi(name.substr(4)), parse_cpu_list(read_trimmed(entry.path() / "cpulist"))});
  }
  std::sort(t.numa_nodes.begin(), t.numa_nodes.end(), [](const auto& a, const auto& b) { return a.id < b.id; });
  if (t.numa_nodes.empty()) t.numa_nodes.push_back({0, t.online});  // kernel without NUMA support
  return t;
}

}  // namespace hftx
