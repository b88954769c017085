// hftx/cpu/thread_manager.hpp — named, pinned, optionally SCHED_FIFO threads, and their placement.
//
// Threading contract: a ThreadManager is driven by one owning thread (start(), stop_all(), join_all()); the
// threads it starts only read their own options and use their own arena. start() returns once the new thread
// has applied its name, affinity and scheduling, so its ThreadReport is final by then, except `usage`.
// reports() may be called from any thread while no start() runs: each thread's usage is read from /proc under
// a per-thread lock that the thread takes to leave its final figures as it returns. The destructor asks
// every thread to stop (std::stop_token) and joins them.
//
// What the OS grants is a request, not an assumption (ARCHITECTURE §4): a core that does not exist, or that
// this process may not use, is a ConfigError at start() naming the core and the machine's CPUs; SCHED_FIFO
// without permission (EPERM: no CAP_SYS_NICE, RLIMIT_RTPRIO too low) falls back to normal scheduling and
// says so in the report's `warning`. A busy-spinning thread never gets SCHED_FIFO unless it is pinned to
// a core no other spinner uses and at least one CPU stays free of spinners: a FIFO spinner that shares
// its CPU starves everything else there, including the kernel's per-CPU work.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <stop_token>
#include <string>
#include <thread>
#include <vector>

#include "hftx/core/schema.hpp"
#include "hftx/cpu/topology.hpp"
#include "hftx/memory/arena.hpp"

namespace hftx {

struct ThreadOptions {
  std::string name;        // at most 15 bytes (the kernel's comm limit); shown by top -H, perf, gdb
  int core = -1;           // pin to this CPU; -1 = not pinned
  bool realtime = false;   // ask for SCHED_FIFO
  int priority = 50;       // SCHED_FIFO priority 1..99
  bool busy_spin = false;  // the thread polls without blocking (governs the SCHED_FIFO safety rule)
  // A NUMA-local Arena for the thread (0 = none): built by the thread itself after pinning, bound to the
  // pinned core's node, and reachable from the thread as ThreadManager::current_arena().
  std::size_t arena_bytes = 0;
  PageRequest arena_pages = PageRequest::kAuto;
};

// What a thread has cost so far, as the kernel counts it (/proc/self/task/<tid>/stat, status, schedstat); -1
// where the kernel does not say (schedstat needs CONFIG_SCHED_INFO; a thread that is gone says nothing). On a
// pinned hot thread, faults and involuntary switches should stay flat after warm-up: each is microseconds
// off the hot path.
struct ThreadUsage {
  std::int64_t cpu_ns = -1;                // time on a CPU
  std::int64_t runqueue_wait_ns = -1;      // time runnable but waiting for a CPU
  std::int64_t minor_faults = -1;          // page faults served without I/O (first touch, COW)
  std::int64_t major_faults = -1;          // page faults that waited for I/O
  std::int64_t voluntary_switches = -1;    // the thread blocked (a wait, a sleep, a syscall that waited)
  std::int64_t involuntary_switches = -1;  // the kernel took the CPU away (preemption, time slice)
};

// Reads the usage of thread `tid` of this process (gettid() for the caller).
[[nodiscard]] ThreadUsage read_thread_usage(int tid);

struct ThreadReport {
  std::string name;
  int tid = 0;                // kernel thread id
  int requested_core = -1;
  bool pinned = false;        // affinity set to requested_core
  int observed_cpu = -1;      // sched_getcpu() right after pinning
  bool fifo_requested = false;
  bool fifo_granted = false;  // the thread runs SCHED_FIFO
  int priority = 0;           // granted FIFO priority (0 when not FIFO)
  std::string policy;         // "SCHED_FIFO" or "SCHED_OTHER"
  std::string warning;        // what was refused and why; empty when everything asked was granted
  std::size_t arena_bytes = 0;  // the thread's arena capacity (0: none asked)
  int arena_node = -1;          // NUMA node its first page landed on (get_mempolicy; -1: unknown)
  std::string arena;            // what the arena got: page kind, huge-page bytes, binding (ArenaReport::summary)
  // Read at reports() while the thread runs; after it returned, what it had used when it returned.
  ThreadUsage usage;
  bool running = false;
};

// The result of mlockall(MCL_CURRENT | MCL_FUTURE).
struct MemoryLockReport {
  bool locked = false;
  std::string detail;
};

// The seed config's `performance:` block.
struct PerformanceConfig {
  bool enable_cpu_affinity = true;
  std::vector<int> isolated_cores;  // CPUs reserved for hftx; empty = the kernel's isolated list
  bool enable_numa_awareness = true;
  bool enable_huge_pages = true;
};

// Its keys (core/schema.hpp), under hft.performance.
template <class C, class V>
  requires schema::Of<C, PerformanceConfig>
void describe(C& c, V& v) {
  v.key(c.enable_cpu_affinity, {.name = "enable_cpu_affinity", .doc = "pin the session's threads to cores"});
  v.key(c.isolated_cores, {.name = "isolated_cores",
                           .doc = "CPUs for hftx's threads, e.g. [2, 3]; [] = the kernel's isolcpus list",
                           .min = 0, .max = 4095, .unique = "CPU"});
  v.key(c.enable_huge_pages,
        {.name = "enable_huge_pages", .doc = "the session's arena (logs, queues) on huge pages (hugetlb, then THP)"});
  v.key(c.enable_numa_awareness,
        {.name = "enable_numa_awareness",
         .doc = "pinned threads and the session's arena on the network thread's NUMA node"});
}

// A thread optimize_for_hft() should place.
struct ThreadRole {
  std::string name;
  bool busy_spin = false;  // needs a physical core of its own
  bool network = false;    // the reactor thread: its core (and SMT siblings) are kept for it alone
  bool realtime = false;   // would like SCHED_FIFO
  int priority = 50;
};

struct Placement {
  std::vector<ThreadOptions> threads;  // one per role, in the roles' order
  std::vector<std::string> notes;      // why a role did not get what it wanted
  bool huge_pages = false;             // performance.enable_huge_pages, for the memory arenas
  int numa_node = -1;                  // the node the placement keeps to (-1: not NUMA-aware)
};

class ThreadManager {
 public:
  // allowed_cpus: the CPUs placement and pinning may use; empty = this process's affinity mask (a fake
  // topology in tests passes its own).
  explicit ThreadManager(CpuTopology topology = read_cpu_topology(), std::vector<int> allowed_cpus = {});
  ~ThreadManager();
  ThreadManager(const ThreadManager&) = delete;
  ThreadManager& operator=(const ThreadManager&) = delete;

  // Starts `fn` on a new thread with `opts` applied. Throws ConfigError for a bad name, priority or core
  // (naming the core and the CPUs this process may use) and whatever building the arena threw (ConfigError
  // for a size beyond the machine's memory, SystemError); refusals of SCHED_FIFO are reported, not thrown.
  const ThreadReport& start(const ThreadOptions& opts, std::function<void(std::stop_token)> fn);

  void request_stop_all() noexcept;
  void join_all();
  [[nodiscard]] std::vector<ThreadReport> reports() const;
  [[nodiscard]] std::size_t size() const noexcept { return threads_.size(); }
  [[nodiscard]] const CpuTopology& topology() const noexcept { return topology_; }
  // The CPUs this process may run on (sched_getaffinity; a cgroup cpuset can make it smaller than online).
  [[nodiscard]] const std::vector<int>& allowed_cpus() const noexcept { return allowed_; }

  // The calling thread's arena (ThreadOptions::arena_bytes), or nullptr: for threads this manager started.
  [[nodiscard]] static Arena* current_arena() noexcept;

  // mlockall(MCL_CURRENT | MCL_FUTURE): page faults never stall the hot path. Reported, not thrown.
  static MemoryLockReport lock_memory();

  // Picks cores for `roles` from the `performance:` block: isolated cores first (performance.isolated_cores,
  // else the kernel's list), one logical CPU per physical core for busy threads (never two busy threads
  // on SMT siblings), the network thread's physical core for it alone, CPU 0 last (interrupts and
  // housekeeping land there), and with NUMA awareness every pinned thread on the network thread's node.
  // Throws ConfigError when performance.isolated_cores names a CPU that is not online.
  [[nodiscard]] Placement optimize_for_hft(const PerformanceConfig& cfg, const std::vector<ThreadRole>& roles) const;

 private:
  struct Managed;
  void check_options(const ThreadOptions& opts) const;

  CpuTopology topology_;
  std::vector<int> allowed_;
  std::vector<std::unique_ptr<Managed>> threads_;
};

}  // namespace hftx
