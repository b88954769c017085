// Embeds hftx through find_package(hftx): prices from the venue's decimal strings, timed with the TSC
// clock. Exits non-zero if anything is off, so the test command can run it.
#include <hftx/core/clock.hpp>
#include <hftx/core/fixed_point.hpp>
#include <hftx/cpu/sysinfo.hpp>

#include <cstdio>

int main() {
  const hftx::Scale tick = hftx::Scale::from_step("0.01");
  const hftx::Scale lot = hftx::Scale::from_step("0.00001");
  const hftx::TscClock& clock = hftx::TscClock::instance();

  hftx::Price bid, ask;
  hftx::Qty size;
  const std::uint64_t t0 = hftx::TscClock::ticks_begin();
  const bool ok = hftx::parse_fixed("61837.63000000", tick, bid) == hftx::FixedStatus::ok &&
                  hftx::parse_fixed("61837.64000000", tick, ask) == hftx::FixedStatus::ok &&
                  hftx::parse_fixed("0.00100000", lot, size, hftx::Sign::unsigned_only) == hftx::FixedStatus::ok;
  const std::uint64_t t1 = hftx::TscClock::ticks_end();
  if (!ok || (ask - bid).raw() != 1 || size.raw() != 100) {
    std::fprintf(stderr, "hftx_consumer: unexpected parse result\n");
    return 1;
  }
  const hftx::SystemInfo info = hftx::system_info();
  std::printf("hftx_consumer: bid %s ask %s size %s, spread %lld tick, parsed in %lld ns\n",
              hftx::format_fixed(bid.raw(), tick).c_str(), hftx::format_fixed(ask.raw(), tick).c_str(),
              hftx::format_fixed(size.raw(), lot).c_str(), static_cast<long long>((ask - bid).raw()),
              static_cast<long long>(clock.ticks_to_ns(static_cast<std::int64_t>(t1 - t0))));
  std::printf("hftx_consumer: clock %s (%.3f GHz), %zu CPUs, %s\n", std::string(hftx::to_string(clock.source())).c_str(),
              clock.frequency_hz() / 1e9, info.topology.online.size(), info.cpu_model.c_str());
  return 0;
}
