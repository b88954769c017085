// hftx/core/clock.hpp — TscClock: nanosecond time from the time-stamp counter.
//
// Threading contract:
//  - ticks(), ticks_begin(), ticks_end() are static, lock-free and safe from any thread; they return raw
//    ticks (TSC cycles, or CLOCK_MONOTONIC nanoseconds where the TSC is not usable — see source()).
//  - TscClock::instance() calibrates once (about 20 ms, thread-safe static init); every const member is
//    safe from any thread at any time, also while another thread runs recalibrate().
//  - recalibrate() corrects drift; call it from one thread at a time (a housekeeping thread, once a second
//    or so). Readers never block: they retry a seqlock'd read of the conversion parameters.
//  - now_ns() never goes backwards, across threads too (the TSC is synchronised across cores wherever it
//    is invariant and the kernel uses it as its clocksource, which is the condition for using it here).
//
// Raw ticks on the hot path; nanoseconds at the edges. A tick difference converts with ticks_to_ns();
// an absolute tick stamp converts to CLOCK_REALTIME-aligned nanoseconds with to_realtime_ns().
#pragma once

#include <atomic>
#include <cstdint>
#include <ctime>
#include <string>
#include <string_view>

#include "hftx/core/platform.hpp"

#if HFTX_X86
#include <x86intrin.h>
#endif

namespace hftx {

enum class ClockSource : std::uint8_t {
  tsc,        // invariant TSC read with rdtsc; ticks are CPU reference cycles
  monotonic,  // clock_gettime(CLOCK_MONOTONIC); ticks are nanoseconds
};

[[nodiscard]] constexpr std::string_view to_string(ClockSource s) noexcept {
  return s == ClockSource::tsc ? "tsc" : "clock_monotonic";
}

namespace detail {
// -1: not decided yet, 1: TSC, 0: CLOCK_MONOTONIC. Constant-initialised, so reading it before any
// dynamic initialiser has run is well defined.
inline std::atomic<std::int8_t> g_clock_mode{-1};
HFTX_COLD std::int8_t clock_decide_mode() noexcept;

HFTX_FORCE_INLINE std::uint64_t monotonic_ns() noexcept {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000'000ull + static_cast<std::uint64_t>(ts.tv_nsec);
}

HFTX_FORCE_INLINE std::int8_t clock_mode() noexcept {
  const std::int8_t m = g_clock_mode.load(std::memory_order_relaxed);
  return HFTX_LIKELY(m >= 0) ? m : clock_decide_mode();
}
}  // namespace detail

// What the invariant-TSC detection saw, for reports (hftx sysinfo) and for choosing the source.
struct TscSupport {
  bool cpuid_invariant = false;  // CPUID 0x80000007 EDX bit 8
  bool constant_tsc = false;     // /proc/cpuinfo flag
  bool nonstop_tsc = false;      // /proc/cpuinfo flag
  bool rdtscp = false;           // /proc/cpuinfo flag
  std::string kernel_clocksource;  // /sys/.../clocksource0/current_clocksource
  std::string forced;              // HFTX_CLOCK environment override, if any
};

// Detects TSC support (reads CPUID, /proc/cpuinfo and /sys). Setup-time.
[[nodiscard]] TscSupport detect_tsc_support();

class TscClock {
 public:
  // Raw ticks, as cheap as the platform allows (rdtsc; not ordered with surrounding instructions).
  [[nodiscard]] static HFTX_FORCE_INLINE std::uint64_t ticks() noexcept {
#if HFTX_X86
    if (HFTX_LIKELY(detail::clock_mode() == 1)) return __rdtsc();
#endif
    return detail::monotonic_ns();
  }

  // Ordered reads for measuring a region: ticks_begin() does not start before earlier instructions have
  // completed (lfence; rdtsc); ticks_end() waits for the measured code (rdtscp) and keeps later code from
  // starting before it (lfence).
  [[nodiscard]] static HFTX_FORCE_INLINE std::uint64_t ticks_begin() noexcept {
#if HFTX_X86
    if (HFTX_LIKELY(detail::clock_mode() == 1)) {
      _mm_lfence();
      return __rdtsc();
    }
#endif
    return detail::monotonic_ns();
  }
  [[nodiscard]] static HFTX_FORCE_INLINE std::uint64_t ticks_end() noexcept {
#if HFTX_X86
    if (HFTX_LIKELY(detail::clock_mode() == 1)) {
      unsigned aux;
      const std::uint64_t t = __rdtscp(&aux);
      _mm_lfence();
      return t;
    }
#endif
    return detail::monotonic_ns();
  }

  // The process-wide clock, calibrated on first use.
  [[nodiscard]] static TscClock& instance();

  [[nodiscard]] ClockSource source() const noexcept { return source_; }
  // Why this source: which detection result decided it (for reports).
  [[nodiscard]] const std::string& reason() const noexcept { return reason_; }
  [[nodiscard]] const TscSupport& support() const noexcept { return support_; }

  // Measured tick frequency in Hz (1e9 for the CLOCK_MONOTONIC fallback).
  [[nodiscard]] double frequency_hz() const noexcept;

  // A signed tick difference in nanoseconds, at the current calibration.
  [[nodiscard]] HFTX_FORCE_INLINE std::int64_t ticks_to_ns(std::int64_t dt) const noexcept {
    const std::uint64_t mult = mult_.load(std::memory_order_relaxed);
    return static_cast<std::int64_t>((static_cast<int128>(dt) * mult) >> kShift);
  }
  // Nanoseconds back to ticks (for deadlines expressed in ticks).
  [[nodiscard]] std::int64_t ns_to_ticks(std::int64_t ns) const noexcept;

  // CLOCK_REALTIME-aligned nanoseconds since the epoch for an absolute tick stamp taken with ticks().
  [[nodiscard]] HFTX_FORCE_INLINE std::uint64_t to_realtime_ns(std::uint64_t t) const noexcept {
    Params p;
    read_params(p);
    return map(p, t);
  }

  // CLOCK_REALTIME-aligned nanoseconds since the epoch, now. Monotonic: never goes backwards.
  [[nodiscard]] HFTX_FORCE_INLINE std::uint64_t now_ns() const noexcept {
    Params p;
    std::uint64_t t;
    std::uint32_t s1, s2;
    do {
      s1 = seq_.load(std::memory_order_acquire);
      p.base_ticks = base_ticks_.load(std::memory_order_acquire);
      p.base_ns = base_ns_.load(std::memory_order_acquire);
      p.mult = mult_.load(std::memory_order_acquire);
      t = ticks();  // inside the read window: an update that overlaps it makes us retry
      s2 = seq_.load(std::memory_order_relaxed);
    } while (HFTX_UNLIKELY((s1 & 1u) != 0 || s1 != s2));
    return map(p, t);
  }

  // Drift correction against CLOCK_REALTIME: re-measures the frequency over the whole time since
  // calibration and slews (at most kMaxSlewPpm) so the mapping converges on CLOCK_REALTIME without a
  // backward jump; a forward error above kStepNs (the wall clock was stepped) is stepped forward.
  // Returns the error that was found, in nanoseconds (CLOCK_REALTIME minus our reading).
  std::int64_t recalibrate() noexcept;

  // Error of the last calibration sample: the width of the TSC bracket around clock_gettime, in ns.
  [[nodiscard]] std::int64_t last_sample_width_ns() const noexcept {
    return last_width_ns_.load(std::memory_order_relaxed);
  }

  static constexpr int kShift = 32;
  static constexpr std::int64_t kMaxSlewPpm = 500;
  static constexpr std::int64_t kStepNs = 10'000'000;

  TscClock(const TscClock&) = delete;
  TscClock& operator=(const TscClock&) = delete;

 private:
  TscClock();

  struct Params {
    std::uint64_t base_ticks;
    std::uint64_t base_ns;
    std::uint64_t mult;  // ns per tick << kShift
  };
  struct Sample {
    std::uint64_t ticks;
    std::uint64_t realtime_ns;
    std::int64_t width_ticks;
  };

  [[nodiscard]] static HFTX_FORCE_INLINE std::uint64_t map(const Params& p, std::uint64_t t) noexcept {
    // Ticks before the base (a stamp taken just before a recalibration) map backwards correctly.
    const std::int64_t dt = static_cast<std::int64_t>(t - p.base_ticks);
    return p.base_ns + static_cast<std::uint64_t>((static_cast<int128>(dt) * p.mult) >> kShift);
  }
  HFTX_FORCE_INLINE void read_params(Params& p) const noexcept {
    std::uint32_t s1, s2;
    do {
      s1 = seq_.load(std::memory_order_acquire);
      p.base_ticks = base_ticks_.load(std::memory_order_acquire);
      p.base_ns = base_ns_.load(std::memory_order_acquire);
      p.mult = mult_.load(std::memory_order_acquire);
      s2 = seq_.load(std::memory_order_relaxed);
    } while (HFTX_UNLIKELY((s1 & 1u) != 0 || s1 != s2));
  }
  Sample sample() const noexcept;
  void publish(const Params& p) noexcept;

  ClockSource source_;
  std::string reason_;
  TscSupport support_;
  Sample first_{};  // the calibration origin: frequency is measured from here
  std::atomic<std::int64_t> last_width_ns_{0};

  // Conversion parameters, seqlock'd: every field is an atomic, so a reader racing a writer reads stale
  // or new values (and retries), never torn memory — no data race for ThreadSanitizer to report. Fields
  // are stored with release and loaded with acquire instead of using fences: the same plain movs on
  // x86, and ThreadSanitizer (which does not model atomic_thread_fence) follows the ordering. A reader
  // that sees any new field value therefore sees the odd sequence number in its second read and retries.
  alignas(kCacheLine) std::atomic<std::uint32_t> seq_{0};
  std::atomic<std::uint64_t> base_ticks_{0};
  std::atomic<std::uint64_t> base_ns_{0};
  std::atomic<std::uint64_t> mult_{0};
};

}  // namespace hftx
