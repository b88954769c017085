// hftx/cpu/sysinfo.hpp — what this machine and process can do for low latency (`hftx sysinfo`).
//
// Threading contract: system_info() reads /proc and /sys and briefly tries SCHED_FIFO on the calling
// thread and mlockall on the process, undoing both; call it at setup, not while latency matters.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "hftx/core/clock.hpp"
#include "hftx/cpu/topology.hpp"

namespace hftx {

struct HugePagePool {
  std::uint64_t size_kb = 0;  // page size
  std::uint64_t total = 0;    // reserved pages (nr_hugepages)
  std::uint64_t free = 0;
};

// The answer to "may this process do X?", found by trying it and undoing it.
struct Capability {
  bool allowed = false;
  std::string detail;  // why not (the errno and what would grant it), or what was seen
};

struct SystemInfo {
  std::string cpu_model;
  std::string kernel;  // uname -r
  CpuTopology topology;

  TscSupport tsc;
  bool invariant_tsc = false;  // CPUID bit or constant_tsc + nonstop_tsc
  std::string clock_source;    // what TscClock uses: "tsc" or "clock_monotonic"
  std::string clock_reason;
  double tsc_frequency_hz = 0;  // measured against CLOCK_REALTIME (1e9 under clock_monotonic)

  std::string thp_enabled;  // the selected mode of /sys/kernel/mm/transparent_hugepage/enabled
  std::string thp_defrag;
  std::vector<HugePagePool> huge_pages;

  Capability sched_fifo;
  Capability mlockall;
  std::int64_t rlimit_memlock_soft = 0;  // bytes; -1 = unlimited
  std::int64_t rlimit_memlock_hard = 0;
  std::int64_t rlimit_rtprio_soft = 0;   // -1 = unlimited
  std::int64_t rlimit_rtprio_hard = 0;
};

[[nodiscard]] SystemInfo system_info();

}  // namespace hftx
