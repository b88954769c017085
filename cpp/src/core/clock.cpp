// TscClock: detection, calibration and drift correction. See hftx/core/clock.hpp.
#include "hftx/core/clock.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>

#if HFTX_X86
#include <cpuid.h>
#endif

#include "core/kernel_file.hpp"

namespace hftx {
namespace {

std::uint64_t realtime_ns() noexcept {
  timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000'000ull + static_cast<std::uint64_t>(ts.tv_nsec);
}

// Decides the source from what detection saw; returns the reason in words.
bool choose_tsc(const TscSupport& s, std::string& reason) {
#if !HFTX_X86
  reason = "not an x86 CPU: no TSC";
  return false;
#else
  if (s.forced == "monotonic") {
    reason = "HFTX_CLOCK=monotonic";
    return false;
  }
  if (s.forced == "tsc") {
    reason = "HFTX_CLOCK=tsc";
    return true;
  }
  const bool invariant = s.cpuid_invariant || (s.constant_tsc && s.nonstop_tsc);
  if (!invariant) {
    reason = "TSC is not invariant (no CPUID invariant-TSC bit, no constant_tsc+nonstop_tsc flags)";
    return false;
  }
  if (s.kernel_clocksource != "tsc") {
    reason = "kernel clocksource is '" + s.kernel_clocksource +
             "', not 'tsc': the kernel does not trust this TSC to be synchronised";
    return false;
  }
  reason = s.cpuid_invariant ? "invariant TSC (CPUID) and kernel clocksource tsc"
                             : "constant_tsc + nonstop_tsc and kernel clocksource tsc";
  return true;
#endif
}

}  // namespace

TscSupport detect_tsc_support() {
  TscSupport s;
#if HFTX_X86
  unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
  if (__get_cpuid(0x80000000u, &eax, &ebx, &ecx, &edx) && eax >= 0x80000007u) {
    __get_cpuid(0x80000007u, &eax, &ebx, &ecx, &edx);
    s.cpuid_invariant = (edx & (1u << 8)) != 0;
  }
#endif
  std::ifstream cpuinfo("/proc/cpuinfo");
  std::string line;
  while (std::getline(cpuinfo, line)) {
    if (line.rfind("flags", 0) != 0) continue;
    std::istringstream words(line.substr(line.find(':') + 1));
    std::string w;
    while (words >> w) {
      s.constant_tsc |= w == "constant_tsc";
      s.nonstop_tsc |= w == "nonstop_tsc";
      s.rdtscp |= w == "rdtscp";
    }
    break;  // the first CPU's flags; the kernel reports the same set for every CPU
  }
  s.kernel_clocksource = detail::read_first_line("/sys/devices/system/clocksource/clocksource0/current_clocksource");
  if (const char* forced = std::getenv("HFTX_CLOCK")) s.forced = forced;
  return s;
}

namespace detail {
std::int8_t clock_decide_mode() noexcept {
  // Racing first callers may each detect; they reach the same answer, and the store is idempotent.
  std::int8_t mode = 0;
  try {
    std::string reason;
    mode = choose_tsc(detect_tsc_support(), reason) ? 1 : 0;
  } catch (...) {
    mode = 0;  // reading /proc failed to allocate: the safe choice needs no detection
  }
  std::int8_t expected = -1;
  g_clock_mode.compare_exchange_strong(expected, mode, std::memory_order_relaxed);
  return g_clock_mode.load(std::memory_order_relaxed);
}
}  // namespace detail

TscClock& TscClock::instance() {
  static TscClock clock;
  return clock;
}

TscClock::TscClock() : support_(detect_tsc_support()) {
  const bool tsc = choose_tsc(support_, reason_);
  std::int8_t expected = -1;
  detail::g_clock_mode.compare_exchange_strong(expected, tsc ? 1 : 0, std::memory_order_relaxed);
  source_ = detail::g_clock_mode.load(std::memory_order_relaxed) == 1 ? ClockSource::tsc : ClockSource::monotonic;
  if ((source_ == ClockSource::tsc) != tsc) reason_ += " (overridden: ticks() was used before calibration)";

  if (source_ == ClockSource::monotonic) {
    // Ticks are already nanoseconds: the mapping is an offset from CLOCK_MONOTONIC to CLOCK_REALTIME.
    first_ = sample();
    publish({first_.ticks, first_.realtime_ns, 1ull << kShift});
    return;
  }
  // Two samples 20 ms apart: each is the tightest of many TSC brackets around clock_gettime, so the
  // frequency is good to a few ppm at once; recalibrate() refines it over a longer baseline later.
  first_ = sample();
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  const Sample second = sample();
  const double ns_per_tick = static_cast<double>(second.realtime_ns - first_.realtime_ns) /
                             static_cast<double>(second.ticks - first_.ticks);
  const auto mult = static_cast<std::uint64_t>(std::llround(std::ldexp(ns_per_tick, kShift)));
  publish({second.ticks, second.realtime_ns, mult});
}

TscClock::Sample TscClock::sample() const noexcept {
  // The pair with the smallest TSC gap around clock_gettime: the others were interrupted or preempted.
  Sample best{0, 0, INT64_MAX};
  for (int i = 0; i < 64; ++i) {
    const std::uint64_t t1 = ticks_begin();
    const std::uint64_t ns = realtime_ns();
    const std::uint64_t t2 = ticks_end();
    const auto width = static_cast<std::int64_t>(t2 - t1);
    if (width < best.width_ticks) best = {t1 + (t2 - t1) / 2, ns, width};
  }
  return best;
}

void TscClock::publish(const Params& p) noexcept {
  const std::uint32_t s = seq_.load(std::memory_order_relaxed);
  seq_.store(s + 1, std::memory_order_relaxed);
  // Release on each field: the odd sequence number is visible to whoever reads a new field value.
  base_ticks_.store(p.base_ticks, std::memory_order_release);
  base_ns_.store(p.base_ns, std::memory_order_release);
  mult_.store(p.mult, std::memory_order_release);
  seq_.store(s + 2, std::memory_order_release);
}

double TscClock::frequency_hz() const noexcept {
  return std::ldexp(1e9 / static_cast<double>(mult_.load(std::memory_order_relaxed)), kShift);
}

std::int64_t TscClock::ns_to_ticks(std::int64_t ns) const noexcept {
  const std::uint64_t mult = mult_.load(std::memory_order_relaxed);
  return static_cast<std::int64_t>((static_cast<int128>(ns) << kShift) / static_cast<int128>(mult));
}

std::int64_t TscClock::recalibrate() noexcept {
  const Sample s = sample();
  last_width_ns_.store(ticks_to_ns(s.width_ticks), std::memory_order_relaxed);
  Params old;
  read_params(old);
  const std::int64_t error = static_cast<std::int64_t>(s.realtime_ns - map(old, s.ticks));

  // Frequency over the whole baseline since calibration (longer baseline, smaller error).
  std::uint64_t mult = old.mult;
  if (source_ == ClockSource::tsc && s.ticks > first_.ticks && s.realtime_ns > first_.realtime_ns) {
    const long double ns_per_tick = static_cast<long double>(s.realtime_ns - first_.realtime_ns) /
                                    static_cast<long double>(s.ticks - first_.ticks);
    mult = static_cast<std::uint64_t>(std::llround(std::ldexp(static_cast<double>(ns_per_tick), kShift)));
  }
  // Slew: run fast or slow by error / 1 s, bounded, so the error is gone in about a second without ever
  // stepping back. A wall clock stepped forward (NTP, settimeofday) is followed with a forward step.
  std::int64_t step = 0;
  std::int64_t ppm = std::clamp<std::int64_t>(error / 1000, -kMaxSlewPpm, kMaxSlewPpm);
  if (error > kStepNs) {
    step = error;
    ppm = 0;
  }
  const auto slewed = static_cast<std::uint64_t>(
      static_cast<int128>(mult) * (1'000'000 + ppm) / 1'000'000);

  // Continuity: the new mapping starts where the old one is now, plus a margin that covers readers who
  // took their tick just before the switch with the old (possibly faster) rate. The attempt is retried
  // when this thread was preempted between reading the base tick and publishing.
  constexpr std::int64_t kWindowNs = 20'000;
  for (int attempt = 0; attempt < 8; ++attempt) {
    const std::uint64_t base = ticks_begin();
    const std::int64_t window_ticks = ns_to_ticks(kWindowNs);
    const std::uint64_t rate_gap = old.mult > slewed ? old.mult - slewed : 0;
    const auto margin = static_cast<std::uint64_t>(
        (static_cast<int128>(window_ticks) * rate_gap >> kShift) + 1);
    const Params next{base, map(old, base) + margin + static_cast<std::uint64_t>(step), slewed};
    if (static_cast<std::int64_t>(ticks_end() - base) > window_ticks) continue;
    publish(next);
    break;
  }
  return error;
}

}  // namespace hftx
