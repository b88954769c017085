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
