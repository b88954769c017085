#include "hftx/cpu/topology.hpp"

#include <gtest/gtest.h>
#include <sched.h>

#include <filesystem>
#include <fstream>

#include "hftx/core/error.hpp"
#include "hftx/cpu/sysinfo.hpp"

namespace {

namespace fs = std::filesystem;

TEST(CpuList, ParsesKernelSyntax) {
  EXPECT_EQ(hftx::parse_cpu_list("0-3,8,10-11"), (std::vector<int>{0, 1, 2, 3, 8, 10, 11}));
  EXPECT_EQ(hftx::parse_cpu_list(""), std::vector<int>{});
  EXPECT_EQ(hftx::parse_cpu_list("5"), std::vector<int>{5});
  EXPECT_EQ(hftx::parse_cpu_list("3,1,1"), (std::vector<int>{1, 3}));
  for (const char* bad : {"a", "1-", "-1", "3-1", "1,,2", "1,", "1 2"})
    EXPECT_THROW((void)hftx::parse_cpu_list(bad), hftx::ConfigError) << bad;
  EXPECT_EQ(hftx::format_cpu_list({0, 1, 2, 3, 8, 10, 11}), "0-3,8,10-11");
}

void write(const fs::path& p, const std::string& text) {
  fs::create_directories(p.parent_path());
  std::ofstream(p) << text << "\n";
}

TEST(Topology, ReadsAFakeSysfs) {
  const fs::path root = fs::temp_directory_path() / ("hftx_topo_" + std::to_string(::getpid()));
  const fs::path cpu = root / "devices/system/cpu";
  write(cpu / "online", "0-3");
  write(cpu / "isolated", "2-3");
  // Two cores with two hyper-threads each: (0,2) and (1,3).
  write(cpu / "cpu0/topology/thread_siblings_list", "0,2");
  write(cpu / "cpu2/topology/thread_siblings_list", "0,2");
  write(cpu / "cpu1/topology/thread_siblings_list", "1,3");
  write(cpu / "cpu3/topology/thread_siblings_list", "1,3");
  write(root / "devices/system/node/node0/cpulist", "0,2");
  write(root / "devices/system/node/node1/cpulist", "1,3");
  const hftx::CpuTopology t = hftx::read_cpu_topology(root.string());
  fs::remove_all(root);
  EXPECT_EQ(t.online, (std::vector<int>{0, 1, 2, 3}));
  EXPECT_EQ(t.isolated, (std::vector<int>{2, 3}));
  ASSERT_EQ(t.cores.size(), 2u);
  EXPECT_EQ(t.siblings_of(0), std::vector<int>{2});
  ASSERT_EQ(t.numa_nodes.size(), 2u);
  EXPECT_EQ(t.node_of(3), 1);
  EXPECT_EQ(t.node_of(9), -1);
  EXPECT_FALSE(t.is_online(4));
}

TEST(Topology, ThisMachine) {
  const hftx::CpuTopology t = hftx::read_cpu_topology();
  ASSERT_FALSE(t.online.empty());
  EXPECT_TRUE(t.is_online(sched_getcpu()));
  EXPECT_FALSE(t.cores.empty());
  EXPECT_FALSE(t.numa_nodes.empty());
}

TEST(SystemInfo, HasEveryField) {
  const hftx::SystemInfo s = hftx::system_info();
  EXPECT_FALSE(s.cpu_model.empty());
  EXPECT_FALSE(s.kernel.empty());
  EXPECT_TRUE(s.clock_source == "tsc" || s.clock_source == "clock_monotonic");
  EXPECT_FALSE(s.clock_reason.empty());
  EXPECT_GT(s.tsc_frequency_hz, 0);
  EXPECT_FALSE(s.thp_enabled.empty());
  EXPECT_FALSE(s.sched_fifo.detail.empty());
  EXPECT_FALSE(s.mlockall.detail.empty());
  // The probes undo what they tried.
  int policy = -1;
  sched_param p{};
  pthread_getschedparam(pthread_self(), &policy, &p);
  EXPECT_EQ(policy, SCHED_OTHER);
}

}  // namespace
