// The whole session, trading against the simulator over loopback WebSocket: its threads (reactor,
// WebSocket clients, parser, venue sync, book, strategies, risk, OMS, encoder, latency tracker; inline: one
// thread, pipelined: feed, workers and gateway with the queues between them) allocate nothing once warm,
// and take no page faults: what they write as they go (timeline logs, queues) lives in the session's
// populated arena, not on heap pages the kernel maps on first touch.
// The simulator runs on its own thread and allocates as it likes; the counter tells the threads apart
// (hftx::testing::thread_allocations).
#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <iostream>
#include <string>
#include <utility>
#include <vector>
#include <thread>

#include "hftx/testing/alloc_counter.hpp"
#include "session_support.hpp"

namespace hftx::session {
namespace {

using namespace std::chrono_literals;

// Allocations so far by the session's own threads (named hftx-...), and how many of them there are.
std::pair<std::uint64_t, std::size_t> session_allocations(const std::vector<ThreadReport>& threads) {
  std::uint64_t n = 0;
  std::size_t count = 0;
  for (const ThreadReport& t : threads)
    if (t.name.rfind("hftx-", 0) == 0) {
      n += testing::thread_allocations(t.tid);
      ++count;
    }
  return {n, count};
}

// Minor and major page faults of one of the session's threads so far.
std::uint64_t page_faults(int tid) {
  const ThreadUsage u = read_thread_usage(tid);
  return static_cast<std::uint64_t>(u.minor_faults + u.major_faults);
}

// With automatic NUMA balancing on several nodes, the kernel unmaps pages now and then to sample their
// users: minor faults no memory layout avoids.
bool numa_hinting_faults() {
  std::ifstream in("/proc/sys/kernel/numa_balancing");
  int on = 0;
  return (in >> on) && on != 0 && numa_online_nodes().size() > 1;
}

void quiet_while_trading(ThreadingMode mode, std::size_t threads, bool okx = false) {
  ASSERT_TRUE(testing::alloc_counter_active());
  sim::Exchange ex(okx ? test::okx_sim_config(20'000) : test::sim_config(20'000));
  ex.start();
  SessionConfig cfg = okx ? test::okx_session_config(ex, mode) : test::session_config(ex, mode);
  // Send buffers sized for the test's peaks: past its size, a buffer grows (by doubling, up to
  // max_write_buffer) rather than refusing orders, and on a loaded machine the simulator's thread may not
  // read for a while. That growth is the one allocation the send path makes, and only under back-pressure.
  cfg.websocket.write_buffer_size = std::size_t{4} << 20;
  Session s(cfg);
  s.start();
  const std::vector<ThreadReport> reports = s.system_report().threads;
  ASSERT_EQ(session_allocations(reports).second, threads) << "the session's threads are not all in the report";
  // Warm-up: synced, quoting, cancelling and filled, so every path has run at least once.
  ASSERT_TRUE(test::eventually([&] {
    const SessionStats st = s.stats();
    return st.fills >= 2 && st.cancelled >= 100;
  }, 20s)) << "fills " << s.stats().fills << ", cancelled " << s.stats().cancelled;
  const SessionStats before = s.stats();
  // Nothing is asked of the session's threads in the window (stats() reads counters; other queries post work).
  std::vector<std::uint64_t> per_thread, faults;
  for (const ThreadReport& t : reports) {
    per_thread.push_back(testing::thread_allocations(t.tid));
    faults.push_back(page_faults(t.tid));
  }
  const std::uint64_t a0 = session_allocations(reports).first;
  ASSERT_GT(a0, 0u) << "the counter does not see the session's threads (their setup allocates)";
  std::this_thread::sleep_for(test::scaled(2000) * 1ms);
  const std::uint64_t a1 = session_allocations(reports).first;
  std::string faulted;
  for (std::size_t i = 0; i < reports.size(); ++i)
    if (const std::uint64_t n = page_faults(reports[i].tid) - faults[i]; n != 0)
      faulted += " " + reports[i].name + " " + std::to_string(n);
  const SessionStats after = s.stats();
  if (numa_hinting_faults())
    std::cout << "page faults not checked (NUMA balancing on several nodes):" << faulted << "\n";
  else
    EXPECT_EQ(faulted, "") << "the session's threads took page faults while trading";
  EXPECT_TRUE(s.system_report().memory.populated);
  EXPECT_GT(s.system_report().code_mapped, 0u);  // the cold paths too (a late cancel reject, say)
  EXPECT_EQ(a1 - a0, 0u) << "the session's threads allocated while trading:" << [&] {
    std::string t;
    for (std::size_t i = 0; i < reports.size(); ++i)
      t += " " + reports[i].name + " " + std::to_string(testing::thread_allocations(reports[i].tid) - per_thread[i]);
    return t;
  }();
  // ... while they did real work.
  EXPECT_GT(after.md_messages - before.md_messages, 10'000u);
  EXPECT_GT(after.orders_sent - before.orders_sent, 1'000u);
  EXPECT_GT(after.cancelled - before.cancelled, 1'000u);
  EXPECT_EQ(after.md_errors, 0u);
  s.stop();
  ex.stop();
}

TEST(SessionAlloc, InlineSessionNeitherAllocatesNorFaultsWhileTrading) {
  quiet_while_trading(ThreadingMode::inline_mode, 1);
}
TEST(SessionAlloc, PipelinedSessionNeitherAllocatesNorFaultsWhileTrading) {
  quiet_while_trading(ThreadingMode::pipelined, 4);  // feed, 2 workers, gateway
}
// The same through OKX's module: its parser, sync with the checksum, stream protocol and codec.
TEST(SessionAlloc, OkxInlineSessionNeitherAllocatesNorFaultsWhileTrading) {
  quiet_while_trading(ThreadingMode::inline_mode, 1, true);
}
TEST(SessionAlloc, OkxPipelinedSessionNeitherAllocatesNorFaultsWhileTrading) {
  quiet_while_trading(ThreadingMode::pipelined, 4, true);
}

}  // namespace
}  // namespace hftx::session
