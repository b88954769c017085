// System information as plain Python data (dicts and lists), the shape `hftx sysinfo --json` prints.
#include <pybind11/stl.h>

#include "hftx/cpu/sysinfo.hpp"
#include "register.hpp"

namespace hftx::py {
namespace {

pyb::dict capability(const Capability& c) {
  pyb::dict d;
  d["allowed"] = c.allowed;
  d["detail"] = c.detail;
  return d;
}

pyb::dict to_dict(const SystemInfo& s) {
  pyb::dict cpu;
  cpu["model"] = s.cpu_model;
  cpu["online"] = s.topology.online;
  cpu["isolated"] = s.topology.isolated;
  cpu["physical_cores"] = s.topology.cores.size();
  cpu["smt_siblings"] = s.topology.cores;
  pyb::list nodes;
  for (const NumaNode& n : s.topology.numa_nodes) {
    pyb::dict node;
    node["id"] = n.id;
    node["cpus"] = n.cpus;
    nodes.append(node);
  }
  pyb::dict clock;
  clock["invariant_tsc"] = s.invariant_tsc;
  clock["cpuid_invariant_tsc"] = s.tsc.cpuid_invariant;
  clock["constant_tsc"] = s.tsc.constant_tsc;
  clock["nonstop_tsc"] = s.tsc.nonstop_tsc;
  clock["rdtscp"] = s.tsc.rdtscp;
  clock["kernel_clocksource"] = s.tsc.kernel_clocksource;
  clock["source"] = s.clock_source;
  clock["reason"] = s.clock_reason;
  clock["tsc_frequency_hz"] = s.tsc_frequency_hz;
  pyb::dict memory;
  memory["thp_enabled"] = s.thp_enabled;
  memory["thp_defrag"] = s.thp_defrag;
  pyb::list pools;
  for (const HugePagePool& p : s.huge_pages) {
    pyb::dict pool;
    pool["size_kb"] = p.size_kb;
    pool["total"] = p.total;
    pool["free"] = p.free;
    pools.append(pool);
  }
  memory["huge_pages"] = pools;
  pyb::dict limits;
  limits["memlock_soft"] = s.rlimit_memlock_soft;
  limits["memlock_hard"] = s.rlimit_memlock_hard;
  limits["rtprio_soft"] = s.rlimit_rtprio_soft;
  limits["rtprio_hard"] = s.rlimit_rtprio_hard;
  pyb::dict process;
  process["sched_fifo"] = capability(s.sched_fifo);
  process["mlockall"] = capability(s.mlockall);
  process["rlimits"] = limits;

  pyb::dict out;
  out["kernel"] = s.kernel;
  out["cpu"] = cpu;
  out["numa_nodes"] = nodes;
  out["clock"] = clock;
  out["memory"] = memory;
  out["process"] = process;
  return out;
}

}  // namespace

void register_sysinfo(pyb::module_& m) {
  m.def(
      "sysinfo",
      [] {
        SystemInfo s;
        {
          pyb::gil_scoped_release release;  // reads /proc and /sys, calibrates the clock on first use
          s = system_info();
        }
        return to_dict(s);
      },
      "What this machine and process offer for low latency, as nested dicts.");
  m.def("parse_cpu_list", &parse_cpu_list, pyb::arg("text"));
}

}  // namespace hftx::py
