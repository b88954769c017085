// hftx/cpu/topology.hpp — the machine's CPUs, SMT siblings and NUMA nodes, read from /sys.
//
// Threading contract: read_cpu_topology() reads files and returns a value; call it at setup, from any
// thread. CpuTopology is a plain value.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "hftx/core/cpu_list.hpp"  // parse_cpu_list, format_cpu_list

namespace hftx {

struct NumaNode {
  int id = 0;
  std::vector<int> cpus;
};

struct CpuTopology {
  std::vector<int> online;               // /sys/devices/system/cpu/online
  std::vector<int> isolated;             // /sys/devices/system/cpu/isolated (isolcpus=)
  std::vector<std::vector<int>> cores;   // one entry per physical core: its SMT siblings, sorted
  std::vector<NumaNode> numa_nodes;      // at least one (node 0 holding every CPU) on non-NUMA kernels

  [[nodiscard]] bool is_online(int cpu) const noexcept;
  // The SMT siblings of `cpu` other than itself.
  [[nodiscard]] std::vector<int> siblings_of(int cpu) const;
  // The NUMA node of `cpu`, or -1 when unknown.
  [[nodiscard]] int node_of(int cpu) const noexcept;
};

// Reads the topology below `sysfs_root` (a fake tree in tests; "/sys" for the real machine).
[[nodiscard]] CpuTopology read_cpu_topology(const std::string& sysfs_root = "/sys");

}  // namespace hftx
