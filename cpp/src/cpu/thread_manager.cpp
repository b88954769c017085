// ThreadManager: starting threads with what was asked, reporting what was granted; placement.
#include "hftx/cpu/thread_manager.hpp"

#include <pthread.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <future>
#include <mutex>
#include <set>
#include <sstream>

#include "hftx/core/error.hpp"
#include "core/kernel_file.hpp"

namespace hftx {
namespace {

std::vector<int> process_cpus() {
  cpu_set_t set;
  CPU_ZERO(&set);
  std::vector<int> out;
  if (sched_getaffinity(0, sizeof set, &set) != 0) return out;
  for (int c = 0; c < CPU_SETSIZE; ++c)
    if (CPU_ISSET(c, &set)) out.push_back(c);
  return out;
}

std::string errno_text(int err) { return std::string(strerrordesc_np(err) ? strerrordesc_np(err) : "error") + " (" + strerrorname_np(err) + ")"; }

}  // namespace

ThreadUsage read_thread_usage(int tid) {
  ThreadUsage u;
  const std::string dir = "/proc/self/task/" + std::to_string(tid) + "/";
  const std::string stat = detail::read_kernel_file(dir + "stat");
  // After the ")" that closes the thread's name (which may hold spaces): state ppid pgrp session tty_nr tpgid
  // flags minflt cminflt majflt cmajflt utime stime.
  long long ticks = -1;  // utime + stime, in clock ticks (10 ms): the fallback for schedstat's nanoseconds
  if (const auto close = stat.rfind(')'); close != std::string::npos) {
    std::istringstream fields(stat.substr(close + 1));
    std::string skip;
    long long minflt = 0, majflt = 0, utime = 0, stime = 0;
    for (int i = 0; i < 7; ++i) fields >> skip;
    if (fields >> minflt >> skip >> majflt >> skip >> utime >> stime) {
      u.minor_faults = minflt;
      u.major_faults = majflt;
      ticks = utime + stime;
    }
  }
  long long run_ns = 0, wait_ns = 0;
  if (std::sscanf(detail::read_kernel_file(dir + "schedstat").c_str(), "%lld %lld", &run_ns, &wait_ns) == 2) {
    u.cpu_ns = run_ns;
    u.runqueue_wait_ns = wait_ns;
  } else if (ticks >= 0) {
    u.cpu_ns = ticks * (1'000'000'000 / sysconf(_SC_CLK_TCK));
  }
  std::istringstream status(detail::read_kernel_file(dir + "status"));
  for (std::string line; std::getline(status, line);) {
    long long n = 0;
    if (std::sscanf(line.c_str(), "voluntary_ctxt_switches: %lld", &n) == 1) u.voluntary_switches = n;
    if (std::sscanf(line.c_str(), "nonvoluntary_ctxt_switches: %lld", &n) == 1) u.involuntary_switches = n;
  }
  return u;
}

struct ThreadManager::Managed {
  ThreadOptions opts;
  ThreadReport report;
  // The thread stores its usage here as it returns, under the lock that reports() holds while it reads /proc:
  // a thread is either still there to be read, or has left its figures.
  std::mutex usage_lock;
  bool returned = false;
  ThreadUsage usage_at_return;
  bool spinner = false;
  std::unique_ptr<Arena> arena;  // built by the thread, destroyed after it is joined
  std::jthread thread;
};

namespace {
thread_local Arena* t_arena = nullptr;
}  // namespace

Arena* ThreadManager::current_arena() noexcept { return t_arena; }

ThreadManager::ThreadManager(CpuTopology topology, std::vector<int> allowed_cpus)
    : topology_(std::move(topology)), allowed_(std::move(allowed_cpus)) {
  if (allowed_.empty()) allowed_ = process_cpus();
  if (allowed_.empty()) allowed_ = topology_.online;
  std::sort(allowed_.begin(), allowed_.end());
}

ThreadManager::~ThreadManager() {
  request_stop_all();
  join_all();
}

void ThreadManager::check_options(const ThreadOptions& opts) const {
  if (opts.name.size() > 15)
    throw ConfigError("thread name '" + opts.name + "': expected at most 15 bytes (the kernel's limit)");
  if (opts.realtime && (opts.priority < 1 || opts.priority > 99))
    throw ConfigError("thread '" + opts.name + "' priority=" + std::to_string(opts.priority) +
                      ": expected a SCHED_FIFO priority in 1..99");
  if (opts.core < -1)
    throw ConfigError("thread '" + opts.name + "' core=" + std::to_string(opts.core) + ": expected a CPU number or -1");
  if (opts.core >= 0) {
    if (!topology_.is_online(opts.core))
      throw ConfigError("thread '" + opts.name + "' core=" + std::to_string(opts.core) +
                        ": no such CPU; this machine's online CPUs are " + format_cpu_list(topology_.online));
    if (!std::binary_search(allowed_.begin(), allowed_.end(), opts.core))
      throw ConfigError("thread '" + opts.name + "' core=" + std::to_string(opts.core) +
                        ": not available to this process (allowed CPUs " + format_cpu_list(allowed_) +
                        "; online CPUs " + format_cpu_list(topology_.online) + ")");
  }
}

const ThreadReport& ThreadManager::start(const ThreadOptions& opts, std::function<void(std::stop_token)> fn) {
  check_options(opts);
  auto m = std::make_unique<Managed>();
  m->opts = opts;
  m->spinner = opts.busy_spin;
  ThreadReport& rep = m->report;
  rep.name = opts.name;
  rep.requested_core = opts.core;
  rep.fifo_requested = opts.realtime;

  // The SCHED_FIFO safety rule for spinners, decided here where every other thread is known.
  std::string fifo_refusal;
  if (opts.realtime && opts.busy_spin) {
    std::size_t spinners = 1;
    for (const auto& t : threads_) {
      if (!t->spinner) continue;
      ++spinners;
      if (opts.core >= 0 && t->opts.core == opts.core)
        fifo_refusal = "SCHED_FIFO not applied: busy-spinning thread shares CPU " + std::to_string(opts.core) +
                       " with spinning thread '" + t->opts.name + "' and would starve it";
    }
    if (fifo_refusal.empty() && opts.core < 0)
      fifo_refusal = "SCHED_FIFO not applied: a busy-spinning thread must be pinned to run SCHED_FIFO";
    if (fifo_refusal.empty() && spinners >= allowed_.size())
      fifo_refusal = "SCHED_FIFO not applied: " + std::to_string(spinners) + " busy-spinning threads on " +
                     std::to_string(allowed_.size()) + " CPUs would leave no CPU for the kernel and other threads";
  }

  std::promise<int> ready;  // 0, or the errno of a failed pin; owned by the thread once started
  std::future<int> ready_f = ready.get_future();
  const bool try_fifo = opts.realtime && fifo_refusal.empty();
  // The node of the pinned core: the arena is bound there before its pages are touched.
  const int arena_node = opts.core >= 0 ? topology_.node_of(opts.core) : -1;
  m->thread = std::jthread([&rep, &arena = m->arena, managed = m.get(), ready = std::move(ready), opts, try_fifo,
                            fifo_refusal, arena_node, fn = std::move(fn)](std::stop_token st) mutable {
    rep.tid = static_cast<int>(::gettid());
    if (!opts.name.empty()) pthread_setname_np(pthread_self(), opts.name.c_str());
    if (opts.core >= 0) {
      cpu_set_t set;
      CPU_ZERO(&set);
      CPU_SET(opts.core, &set);
      const int rc = pthread_setaffinity_np(pthread_self(), sizeof set, &set);
      if (rc != 0) {
        ready.set_value(rc);
        return;  // start() throws; fn never runs
      }
      rep.pinned = true;
    }
    rep.observed_cpu = sched_getcpu();
    std::string warning = fifo_refusal;
    if (try_fifo) {
      sched_param sp{};
      sp.sched_priority = opts.priority;
      const int rc = pthread_setschedparam(pthread_self(), SCHED_FIFO, &sp);
      if (rc == EPERM) {
        warning = "SCHED_FIFO priority " + std::to_string(opts.priority) +
                  " refused (EPERM: needs CAP_SYS_NICE or RLIMIT_RTPRIO >= " + std::to_string(opts.priority) +
                  "); running SCHED_OTHER";
      } else if (rc != 0) {
        warning = "SCHED_FIFO priority " + std::to_string(opts.priority) + " refused: " + errno_text(rc) +
                  "; running SCHED_OTHER";
      }
    }
    int policy = SCHED_OTHER;
    sched_param now{};
    pthread_getschedparam(pthread_self(), &policy, &now);
    rep.fifo_granted = policy == SCHED_FIFO;
    rep.priority = rep.fifo_granted ? now.sched_priority : 0;
    rep.policy = policy == SCHED_FIFO ? "SCHED_FIFO" : policy == SCHED_RR ? "SCHED_RR" : "SCHED_OTHER";
    rep.warning = std::move(warning);
    if (opts.arena_bytes > 0) {
      // Built here, after pinning, so that even without a binding the first touch lands on this CPU's node.
      try {
        ArenaOptions ao;
        ao.bytes = opts.arena_bytes;
        ao.pages = opts.arena_pages;
        ao.numa_node = arena_node;
        arena = std::make_unique<Arena>(ao);
      } catch (...) {
        ready.set_exception(std::current_exception());
        return;  // start() rethrows; fn never runs
      }
      rep.arena_bytes = arena->capacity();
      rep.arena_node = arena->report().numa_node_observed;
      rep.arena = arena->report().summary();
      t_arena = arena.get();
    }
    ready.set_value(0);
    fn(std::move(st));
    const std::lock_guard lock(managed->usage_lock);
    managed->usage_at_return = read_thread_usage(rep.tid);
    managed->returned = true;
  });
  int err = 0;
  try {
    err = ready_f.get();
  } catch (...) {
    m->thread.join();
    throw;
  }
  if (err != 0) {
    m->thread.join();
    throw ConfigError("thread '" + opts.name + "' core=" + std::to_string(opts.core) +
                      ": the kernel refused the affinity (" + errno_text(err) + "); CPUs this process may use: " +
                      format_cpu_list(allowed_) + "; online CPUs: " + format_cpu_list(topology_.online));
  }
  threads_.push_back(std::move(m));
  return threads_.back()->report;
}

void ThreadManager::request_stop_all() noexcept {
  for (auto& t : threads_) t->thread.request_stop();
}

void ThreadManager::join_all() {
  for (auto& t : threads_)
    if (t->thread.joinable()) t->thread.join();
}

std::vector<ThreadReport> ThreadManager::reports() const {
  std::vector<ThreadReport> out;
  out.reserve(threads_.size());
  for (const auto& t : threads_) {
    out.push_back(t->report);
    const std::lock_guard lock(t->usage_lock);
    out.back().running = !t->returned;
    out.back().usage = t->returned ? t->usage_at_return : read_thread_usage(t->report.tid);
  }
  return out;
}

MemoryLockReport ThreadManager::lock_memory() {
  MemoryLockReport r;
  if (mlockall(MCL_CURRENT | MCL_FUTURE) == 0) {
    r.locked = true;
    r.detail = "mlockall(MCL_CURRENT | MCL_FUTURE) granted";
    return r;
  }
  const int err = errno;
  rlimit lim{};
  getrlimit(RLIMIT_MEMLOCK, &lim);
  r.detail = "mlockall refused: " + errno_text(err) + "; RLIMIT_MEMLOCK soft=" +
             (lim.rlim_cur == RLIM_INFINITY ? std::string("unlimited") : std::to_string(lim.rlim_cur)) +
             " bytes (raise it with ulimit -l / limits.conf, or grant CAP_IPC_LOCK)";
  return r;
}

Placement ThreadManager::optimize_for_hft(const PerformanceConfig& cfg, const std::vector<ThreadRole>& roles) const {
  for (int c : cfg.isolated_cores)
    if (!topology_.is_online(c))
      throw ConfigError("performance.isolated_cores: CPU " + std::to_string(c) + " is not online (online CPUs: " +
                        format_cpu_list(topology_.online) + ")");
  Placement p;
  p.huge_pages = cfg.enable_huge_pages;
  p.threads.reserve(roles.size());
  for (const ThreadRole& r : roles) p.threads.push_back({r.name, -1, r.realtime, r.priority, r.busy_spin});
  if (!cfg.enable_cpu_affinity) {
    p.notes.push_back("performance.enable_cpu_affinity is false: no thread is pinned");
    return p;
  }

  const std::set<int> usable(allowed_.begin(), allowed_.end());
  std::set<int> isolated;
  for (int c : (cfg.isolated_cores.empty() ? topology_.isolated : cfg.isolated_cores))
    if (usable.count(c) != 0) isolated.insert(c);

  // Physical cores as lists of usable logical CPUs, isolated CPUs first within each.
  struct Phys {
    std::vector<int> cpus;
    bool isolated = false;
    bool has_cpu0 = false;
    int node = -1;
    bool used = false;      // taken whole by the network thread or a busy thread
  };
  std::vector<Phys> phys;
  for (const auto& core : topology_.cores) {
    Phys ph;
    for (int c : core)
      if (usable.count(c) != 0) ph.cpus.push_back(c);
    if (ph.cpus.empty()) continue;
    std::stable_sort(ph.cpus.begin(), ph.cpus.end(),
                     [&](int a, int b) { return isolated.count(a) > isolated.count(b); });
    ph.isolated = isolated.count(ph.cpus.front()) != 0;
    ph.has_cpu0 = std::find(ph.cpus.begin(), ph.cpus.end(), 0) != ph.cpus.end();
    ph.node = topology_.node_of(ph.cpus.front());
    phys.push_back(std::move(ph));
  }
  std::stable_sort(phys.begin(), phys.end(), [](const Phys& a, const Phys& b) {
    if (a.isolated != b.isolated) return a.isolated;
    return !a.has_cpu0 && b.has_cpu0;
  });

  const bool numa = cfg.enable_numa_awareness && topology_.numa_nodes.size() > 1;
  const auto take_whole = [&](int prefer_node) -> int {
    for (int pass = 0; pass < 2; ++pass) {
      for (Phys& ph : phys) {
        if (ph.used) continue;
        if (pass == 0 && prefer_node >= 0 && ph.node != prefer_node) continue;
        ph.used = true;
        return ph.cpus.front();
      }
    }
    return -1;
  };

  // The network thread first: the best physical core, alone.
  for (std::size_t i = 0; i < roles.size(); ++i) {
    if (!roles[i].network) continue;
    p.threads[i].core = take_whole(-1);
    if (numa && p.threads[i].core >= 0) p.numa_node = topology_.node_of(p.threads[i].core);
    if (p.threads[i].core < 0) p.notes.push_back("no CPU for network thread '" + roles[i].name + "': not pinned");
    break;
  }
  // Busy threads: a physical core each.
  for (std::size_t i = 0; i < roles.size(); ++i) {
    if (roles[i].network || !roles[i].busy_spin) continue;
    const int c = take_whole(p.numa_node);
    p.threads[i].core = c;
    if (c < 0) {
      p.notes.push_back("no free physical core for busy thread '" + roles[i].name +
                        "': not pinned (so never SCHED_FIFO)");
    } else if (p.numa_node >= 0 && topology_.node_of(c) != p.numa_node) {
      p.notes.push_back("busy thread '" + roles[i].name + "' placed on NUMA node " +
                        std::to_string(topology_.node_of(c)) + ", away from the network thread's node " +
                        std::to_string(p.numa_node));
    }
  }
  // Everything else shares what is left: non-isolated CPUs of unused cores first, then any unused CPU.
  std::vector<int> shared;
  for (const Phys& ph : phys)
    if (!ph.used)
      for (int c : ph.cpus) shared.push_back(c);
  std::stable_sort(shared.begin(), shared.end(), [&](int a, int b) { return isolated.count(a) < isolated.count(b); });
  std::size_t rr = 0;
  for (std::size_t i = 0; i < roles.size(); ++i) {
    if (roles[i].network || roles[i].busy_spin) continue;
    if (shared.empty()) {
      p.notes.push_back("no CPU left for thread '" + roles[i].name + "': not pinned (scheduler decides)");
      continue;
    }
    p.threads[i].core = shared[rr++ % shared.size()];
  }
  return p;
}

}  // namespace hftx
