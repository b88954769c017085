#include "hftx/cpu/sysinfo.hpp"

#include <pthread.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/utsname.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>

namespace hftx {
namespace {

std::string first_line(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  return line;
}

// "always [madvise] never" -> "madvise"
std::string selected_mode(const std::string& line) {
  const auto open = line.find('[');
  const auto close = line.find(']');
  if (open == std::string::npos || close == std::string::npos || close < open) return line.empty() ? "unavailable" : line;
  return line.substr(open + 1, close - open - 1);
}

std::string errno_text(int err) { return std::string(strerrordesc_np(err)) + " (" + strerrorname_np(err) + ")"; }

std::int64_t limit_value(rlim_t v) { return v == RLIM_INFINITY ? -1 : static_cast<std::int64_t>(v); }

Capability probe_sched_fifo() {
  Capability cap;
  int policy = 0;
  sched_param saved{};
  pthread_getschedparam(pthread_self(), &policy, &saved);
  sched_param fifo{};
  fifo.sched_priority = sched_get_priority_min(SCHED_FIFO);
  const int rc = pthread_setschedparam(pthread_self(), SCHED_FIFO, &fifo);
  if (rc == 0) {
    pthread_setschedparam(pthread_self(), policy, &saved);
    cap.allowed = true;
    cap.detail = "granted (priority 1..99), then undone";
  } else {
    cap.detail = errno_text(rc) + (rc == EPERM ? ": needs CAP_SYS_NICE or RLIMIT_RTPRIO >= 1" : "");
  }
  return cap;
}

std::uint64_t locked_kb() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("VmLck:", 0) == 0) return std::stoull(line.substr(6));
  return 0;
}

Capability probe_mlockall() {
  Capability cap;
  // munlockall() would also undo locks this process took itself; if it holds any, report them instead.
  if (const std::uint64_t kb = locked_kb(); kb > 0) {
    cap.allowed = true;
    cap.detail = "already holds " + std::to_string(kb) + " kB locked; not probed";
    return cap;
  }
  // MCL_ONFAULT: lock pages as they are touched, so the probe does not fault in the whole address space.
  if (::mlockall(MCL_CURRENT | MCL_FUTURE | MCL_ONFAULT) == 0) {
    ::munlockall();
    cap.allowed = true;
    cap.detail = "granted, then undone";
  } else {
    const int err = errno;
    cap.detail = errno_text(err) +
                 (err == EPERM || err == ENOMEM ? ": needs CAP_IPC_LOCK or a larger RLIMIT_MEMLOCK" : "");
  }
  return cap;
}

}  // namespace

SystemInfo system_info() {
  namespace fs = std::filesystem;
  SystemInfo s;
  {
    std::ifstream in("/proc/cpuinfo");
    std::string line;
    while (std::getline(in, line)) {
      if (line.rfind("model name", 0) == 0) {
        s.cpu_model = line.substr(line.find(':') + 2);
        break;
      }
    }
  }
  utsname u{};
  if (uname(&u) == 0) s.kernel = u.release;
  s.topology = read_cpu_topology();

  const TscClock& clock = TscClock::instance();
  s.tsc = clock.support();
  s.invariant_tsc = s.tsc.cpuid_invariant || (s.tsc.constant_tsc && s.tsc.nonstop_tsc);
  s.clock_source = std::string(to_string(clock.source()));
  s.clock_reason = clock.reason();
  s.tsc_frequency_hz = clock.frequency_hz();

  s.thp_enabled = selected_mode(first_line("/sys/kernel/mm/transparent_hugepage/enabled"));
  s.thp_defrag = selected_mode(first_line("/sys/kernel/mm/transparent_hugepage/defrag"));
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator("/sys/kernel/mm/hugepages", ec)) {
    const std::string name = entry.path().filename().string();  // hugepages-2048kB
    if (name.rfind("hugepages-", 0) != 0) continue;
    HugePagePool pool;
    pool.size_kb = std::stoull(name.substr(10));
    pool.total = std::stoull("0" + first_line(entry.path() / "nr_hugepages"));
    pool.free = std::stoull("0" + first_line(entry.path() / "free_hugepages"));
    s.huge_pages.push_back(pool);
  }
  std::sort(s.huge_pages.begin(), s.huge_pages.end(),
            [](const HugePagePool& a, const HugePagePool& b) { return a.size_kb < b.size_kb; });

  s.sched_fifo = probe_sched_fifo();
  s.mlockall = probe_mlockall();
  rlimit lim{};
  if (getrlimit(RLIMIT_MEMLOCK, &lim) == 0) {
    s.rlimit_memlock_soft = limit_value(lim.rlim_cur);
    s.rlimit_memlock_hard = limit_value(lim.rlim_max);
  }
  if (getrlimit(RLIMIT_RTPRIO, &lim) == 0) {
    s.rlimit_rtprio_soft = limit_value(lim.rlim_cur);
    s.rlimit_rtprio_hard = limit_value(lim.rlim_max);
  }
  return s;
}

}  // namespace hftx
