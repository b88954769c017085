// ThreadManager: pinning lands where asked, bad cores are clear errors, SCHED_FIFO refusals are reported,
// the spinner safety rule holds, and optimize_for_hft() places roles on a fake topology.
#include "hftx/cpu/thread_manager.hpp"

#include <gtest/gtest.h>
#include <linux/capability.h>
#include <pthread.h>
#include <sched.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <ctime>
#include <future>
#include <thread>

#include "hftx/core/error.hpp"

namespace {

using hftx::ThreadManager;
using hftx::ThreadOptions;

TEST(ThreadManager, PinnedNamedThreadRunsOnItsCore) {
  ThreadManager tm;
  const int core = tm.allowed_cpus().back();
  std::promise<std::pair<int, std::string>> seen;
  auto f = seen.get_future();
  const auto& rep = tm.start({"hftx-pin", core, false, 0, false}, [&](std::stop_token) {
    char name[16] = {};
    pthread_getname_np(pthread_self(), name, sizeof name);
    seen.set_value({sched_getcpu(), name});
  });
  EXPECT_TRUE(rep.pinned);
  EXPECT_EQ(rep.observed_cpu, core);
  EXPECT_EQ(rep.policy, "SCHED_OTHER");
  EXPECT_TRUE(rep.warning.empty()) << rep.warning;
  const auto [cpu, name] = f.get();
  EXPECT_EQ(cpu, core);
  EXPECT_EQ(name, "hftx-pin");
  tm.join_all();
  EXPECT_EQ(tm.reports().size(), 1u);
}

TEST(ThreadManager, StopTokenEndsALoopingThread) {
  ThreadManager tm;
  std::atomic<int> loops{0};
  tm.start({"hftx-loop", -1, false, 0, false}, [&](std::stop_token st) {
    while (!st.stop_requested()) loops.fetch_add(1, std::memory_order_relaxed);
  });
  while (loops.load() == 0) std::this_thread::yield();
  tm.request_stop_all();
  tm.join_all();
  EXPECT_GT(loops.load(), 0);
}

TEST(ThreadManager, ACoreThatDoesNotExistIsAClearError) {
  ThreadManager tm;
  try {
    tm.start({"bad", 4000, false, 0, false}, [](std::stop_token) {});
    FAIL() << "expected ConfigError";
  } catch (const hftx::ConfigError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("core=4000"), std::string::npos) << msg;
    EXPECT_NE(msg.find("online CPUs are " + hftx::format_cpu_list(tm.topology().online)), std::string::npos) << msg;
  }
  EXPECT_THROW(tm.start({"a-name-longer-than-15", -1, false, 0, false}, [](std::stop_token) {}), hftx::ConfigError);
  EXPECT_THROW(tm.start({"prio", -1, true, 100, false}, [](std::stop_token) {}), hftx::ConfigError);
  EXPECT_EQ(tm.size(), 0u);
}

TEST(ThreadManager, FifoReportMatchesWhatTheThreadRunsWith) {
  ThreadManager tm;
  std::promise<int> policy;
  auto f = policy.get_future();
  const auto& rep = tm.start({"hftx-rt", -1, true, 10, false}, [&](std::stop_token) {
    int p = 0;
    sched_param sp{};
    pthread_getschedparam(pthread_self(), &p, &sp);
    policy.set_value(p);
  });
  const int p = f.get();
  EXPECT_EQ(rep.fifo_granted, p == SCHED_FIFO);
  EXPECT_EQ(rep.warning.empty(), rep.fifo_granted) << rep.warning;
  if (rep.fifo_granted) {
    EXPECT_EQ(rep.priority, 10);
  }
}

// Drops CAP_SYS_NICE from every capability set of this (child) process and RLIMIT_RTPRIO to 0, so
// SCHED_FIFO is refused even for root.
bool drop_rt_permission() {
  rlimit zero{0, 0};
  if (setrlimit(RLIMIT_RTPRIO, &zero) != 0) return false;
  __user_cap_header_struct hdr{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[2] = {};
  if (syscall(SYS_capget, &hdr, data) != 0) return false;
  const unsigned bit = 1u << (CAP_SYS_NICE % 32);
  data[CAP_SYS_NICE / 32].effective &= ~bit;
  data[CAP_SYS_NICE / 32].permitted &= ~bit;
  data[CAP_SYS_NICE / 32].inheritable &= ~bit;
  return syscall(SYS_capset, &hdr, data) == 0;
}

TEST(ThreadManager, FifoRefusalIsReportedNotFatal) {
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    close(fds[0]);
    std::string out;
    if (!drop_rt_permission()) {
      out = "setup failed: " + std::string(strerror(errno));
    } else {
      ThreadManager tm;
      const auto& rep = tm.start({"hftx-rt", -1, true, 20, false}, [](std::stop_token) {});
      out = std::string(rep.fifo_granted ? "granted" : "refused") + "|" + rep.policy + "|" + rep.warning;
      tm.join_all();
    }
    (void)!write(fds[1], out.data(), out.size());
    _exit(0);
  }
  close(fds[1]);
  std::string got;
  char buf[512];
  ssize_t n;
  while ((n = read(fds[0], buf, sizeof buf)) > 0) got.append(buf, static_cast<std::size_t>(n));
  close(fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  EXPECT_EQ(got.rfind("refused|SCHED_OTHER|SCHED_FIFO priority 20 refused (EPERM", 0), 0u) << got;
}

TEST(ThreadManager, SpinnersNeverGetFifoWithoutACoreOfTheirOwn) {
  ThreadManager tm;
  std::atomic<bool> stop{false};
  auto spin = [&](std::stop_token) {
    while (!stop.load(std::memory_order_relaxed)) std::this_thread::yield();
  };
  // Unpinned spinner: refused by the rule before asking the kernel.
  const auto& a = tm.start({"spin-a", -1, true, 10, true}, spin);
  EXPECT_FALSE(a.fifo_granted);
  EXPECT_NE(a.warning.find("must be pinned"), std::string::npos) << a.warning;
  // Two spinners on one core: the second is refused.
  const int core = tm.allowed_cpus().front();
  const auto& b = tm.start({"spin-b", core, false, 0, true}, spin);
  EXPECT_FALSE(b.fifo_requested);
  const auto& c = tm.start({"spin-c", core, true, 10, true}, spin);
  EXPECT_FALSE(c.fifo_granted);
  EXPECT_NE(c.warning.find("shares CPU " + std::to_string(core)), std::string::npos) << c.warning;
  // As many spinners as CPUs: refused (no CPU left for anything else).
  const auto& d = tm.start({"spin-d", tm.allowed_cpus().back(), true, 10, true}, spin);
  if (tm.allowed_cpus().size() <= 3) {
    EXPECT_FALSE(d.fifo_granted);
    EXPECT_NE(d.warning.find("would leave no CPU"), std::string::npos) << d.warning;
  }
  stop = true;
  tm.join_all();
}

TEST(ThreadManager, LockMemoryReportsTheOutcome) {
#ifdef HFTX_SANITIZER
  GTEST_SKIP() << "mlockall(MCL_FUTURE) would lock the sanitizer's shadow mappings";
#else
  const pid_t pid = fork();  // in a child: mlockall is process-wide and permanent
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    const auto r = ThreadManager::lock_memory();
    const bool consistent = r.locked ? r.detail.find("granted") != std::string::npos
                                     : r.detail.find("RLIMIT_MEMLOCK") != std::string::npos;
    _exit(consistent ? 0 : 1);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
#endif
}

hftx::CpuTopology fake_topology() {
  // 4 physical cores x 2 threads: (0,4) (1,5) (2,6) (3,7); 2 NUMA nodes; CPUs 2,3,6,7 isolated.
  hftx::CpuTopology t;
  t.online = {0, 1, 2, 3, 4, 5, 6, 7};
  t.isolated = {2, 3, 6, 7};
  t.cores = {{0, 4}, {1, 5}, {2, 6}, {3, 7}};
  t.numa_nodes = {{0, {0, 1, 4, 5}}, {1, {2, 3, 6, 7}}};
  return t;
}

TEST(ThreadManager, OptimizeForHftPlacesIsolatedCoresFirstAndNeverSpinnersOnSiblings) {
  const ThreadManager tm(fake_topology(), {0, 1, 2, 3, 4, 5, 6, 7});
  hftx::PerformanceConfig cfg;
  const auto p = tm.optimize_for_hft(cfg, {{"net", true, true, true, 50},
                                            {"strat", true, false, true, 40},
                                            {"logger", false, false, false, 0},
                                            {"spare", true, false, false, 0}});
  EXPECT_EQ(p.threads[0].core, 2);  // isolated physical core, alone
  EXPECT_EQ(p.threads[1].core, 3);  // the other isolated physical core (not 6, 2's sibling)
  EXPECT_EQ(p.numa_node, 1);
  EXPECT_EQ(p.threads[3].core, 1);  // off-node: noted
  EXPECT_FALSE(p.notes.empty());
  EXPECT_EQ(p.threads[2].core, 0);  // housekeeping on what is left
  EXPECT_TRUE(p.huge_pages);
}

TEST(ThreadManager, OptimizeForHftOnASmallMachine) {
  hftx::CpuTopology t;
  t.online = {0, 1};
  t.cores = {{0}, {1}};
  t.numa_nodes = {{0, {0, 1}}};
  const ThreadManager tm(t, {0, 1});
  hftx::PerformanceConfig cfg;
  const auto p = tm.optimize_for_hft(cfg, {{"net", true, true, false, 0}, {"s1", true, false, false, 0},
                                           {"s2", true, false, false, 0}});
  std::vector<int> cores;
  for (const auto& o : p.threads) cores.push_back(o.core);
  EXPECT_EQ(cores, (std::vector<int>{1, 0, -1}));  // CPU 0 last; the third spinner gets no core
  EXPECT_NE(p.notes.back().find("no free physical core for busy thread 's2'"), std::string::npos);
  cfg.isolated_cores = {9};
  EXPECT_THROW((void)tm.optimize_for_hft(cfg, {}), hftx::ConfigError);
  cfg.isolated_cores = {};
  cfg.enable_cpu_affinity = false;
  const auto q = tm.optimize_for_hft(cfg, {{"net", true, true, false, 0}});
  EXPECT_EQ(q.threads[0].core, -1);
}

}  // namespace

namespace {

// The thread's arena is built by the thread after pinning, on the pinned core's NUMA node, and handed to it.
TEST(ThreadManagerArena, PinnedThreadGetsANumaLocalArena) {
  hftx::ThreadManager tm;
  const int core = tm.allowed_cpus().front();
  hftx::ThreadOptions opts;
  opts.name = "hftx-arena";
  opts.core = core;
  opts.arena_bytes = 4u << 20;
  std::promise<int> node_of_memory;
  auto f = node_of_memory.get_future();
  const auto& rep = tm.start(opts, [&](std::stop_token) {
    hftx::Arena* arena = hftx::ThreadManager::current_arena();
    void* p = arena != nullptr ? arena->allocate(1 << 20, 64) : nullptr;
    node_of_memory.set_value(p != nullptr ? hftx::numa_node_of(p) : -2);
  });
  const int expected_node = tm.topology().node_of(core);
  EXPECT_GE(rep.arena_bytes, opts.arena_bytes);
  EXPECT_FALSE(rep.arena.empty());
  EXPECT_EQ(rep.arena_node, expected_node) << rep.arena;
  EXPECT_EQ(f.get(), expected_node);
  EXPECT_EQ(hftx::ThreadManager::current_arena(), nullptr);  // this thread was not started by the manager
  tm.join_all();
}

TEST(ThreadManagerArena, AnArenaTheMachineCannotHoldIsAnErrorFromStart) {
  hftx::ThreadManager tm;
  hftx::ThreadOptions opts;
  opts.name = "hftx-huge";
  opts.arena_bytes = std::size_t{1} << 60;
  bool ran = false;
  EXPECT_THROW(tm.start(opts, [&](std::stop_token) { ran = true; }), hftx::ConfigError);
  EXPECT_FALSE(ran);
}

// What a thread costs, read from /proc while it runs and kept when it returns.
TEST(ThreadUsage, CountsFaultsSwitchesAndTimeWhileRunningAndAfterReturning) {
  constexpr std::size_t kPages = 256;
  const std::size_t page = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
  hftx::ThreadManager tm;
  std::promise<void> worked, may_return;
  auto worked_f = worked.get_future();
  auto may_return_f = may_return.get_future();
  const auto& rep = tm.start({"hftx-usage", -1, false, 0, false}, [&](std::stop_token) {
    // First touches of fresh anonymous pages: one minor fault each (no THP: the mapping is asked not to).
    void* p = mmap(nullptr, kPages * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p != MAP_FAILED) {
      madvise(p, kPages * page, MADV_NOHUGEPAGE);
      for (std::size_t i = 0; i < kPages; ++i) static_cast<volatile char*>(p)[i * page] = 1;
      munmap(p, kPages * page);
    }
    for (int i = 0; i < 10; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(1));  // blocks: voluntary
    // 30 ms on a CPU by this thread's own clock: 30 ms of wall time is less CPU on a loaded machine (17 ms in a
    // TSan CI run).
    const auto cpu_ns = [] {
      timespec ts{};
      clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
      return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
    };
    const std::int64_t until = cpu_ns() + 30'000'000;
    while (cpu_ns() < until) {}
    worked.set_value();
    may_return_f.wait();
  });
  worked_f.wait();
  const hftx::ThreadReport live = tm.reports().front();
  EXPECT_TRUE(live.running);
  EXPECT_GE(live.usage.minor_faults, static_cast<std::int64_t>(kPages));
  EXPECT_GE(live.usage.major_faults, 0);
  EXPECT_GE(live.usage.voluntary_switches, 10);
  EXPECT_GE(live.usage.involuntary_switches, 0);
  EXPECT_GE(live.usage.cpu_ns, 20'000'000);  // schedstat's ns; stat's 10 ms ticks where it is missing
  may_return.set_value();
  tm.join_all();
  const hftx::ThreadReport after = tm.reports().front();
  EXPECT_FALSE(after.running);
  EXPECT_GE(after.usage.minor_faults, live.usage.minor_faults);
  EXPECT_GE(after.usage.voluntary_switches, live.usage.voluntary_switches);
  EXPECT_GE(after.usage.cpu_ns, live.usage.cpu_ns);
  EXPECT_EQ(after.usage.runqueue_wait_ns < 0, live.usage.runqueue_wait_ns < 0);
  // Gone from /proc: nothing to read, and read_thread_usage says so rather than inventing zeros.
  const hftx::ThreadUsage gone = hftx::read_thread_usage(rep.tid);
  EXPECT_EQ(gone.minor_faults, -1);
  EXPECT_EQ(gone.cpu_ns, -1);
  EXPECT_EQ(gone.voluntary_switches, -1);
}

}  // namespace
