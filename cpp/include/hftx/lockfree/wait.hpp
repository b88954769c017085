// hftx/lockfree/wait.hpp — wait strategies shared by every blocking call of the queues.
//
// A strategy decides what a thread does while the condition it needs (space to push, an item to pop, its
// turn on an MPMC slot) is false:
//   BusySpinWait       `pause` forever. Lowest wake-up latency; burns its core. Only for threads pinned to a
//                      core of their own (never more spinning threads than cores).
//   SpinThenYieldWait  spins a bounded number of `pause`s, then sched_yield()s between checks.
//   BackoffWait        spin -> yield -> park in nanosleep with growing sleeps (1 us doubling to 1 ms): an idle
//                      waiter costs almost nothing, a busy one reacts within one sleep step.
//   BlockingWait       spin, then sleep in the kernel (futex) until the other side notifies. The only
//                      strategy whose notify() does work: one seq_cst fence and a relaxed load of the waiter
//                      count, plus a FUTEX_WAKE syscall only while somebody actually sleeps. Its futexes are
//                      process-private (the kernel keys them by address space), so both sides must be threads
//                      of one process.
//   InterprocessBlockingWait  the same with shared futexes (keyed by the page), for a queue placed in memory
//                      that several processes map (MAP_SHARED): a sleeper in one process is woken by a
//                      notify in another. A private futex there would never be woken: a hang, not an error.
//                      The three strategies above watch nothing but the word itself (no futex), so they work
//                      across processes as they are.
//
// Interface (a concept, WaitStrategy): the queue owns one strategy object.
//   wait(word, ready)  returns once ready() is true. ready() must read `word` (an std::atomic whose change is
//                      what makes it true); BlockingWait sleeps until `word` changes.
//   notify(word)       called by the side that changed `word` (after its release store).
//
// Threading contract: wait() and notify() may be called from any number of threads concurrently. BlockingWait
// avoids lost wake-ups with the Dekker pattern: the waiter increments waiters_ (seq_cst) before re-checking,
// the notifier issues a seq_cst fence between its store and reading waiters_, and the kernel re-checks the
// word under the futex lock (FUTEX_WAIT returns at once when the word already differs).
#pragma once

#include <linux/futex.h>
#include <sched.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <bit>
#include <climits>
#include <concepts>
#include <cstdint>
#include <ctime>

#include "hftx/core/platform.hpp"

namespace hftx {

namespace detail {

// The futex word is the low 32 bits of the atomic (64-bit turn counters included): a change that keeps the
// low 32 bits equal would need 2^32 steps while one thread sleeps, which the queues' protocols rule out (a
// slot's turn cannot advance past a waiting owner).
template <class W>
inline std::uint32_t* futex_word(const std::atomic<W>& word) noexcept {
  static_assert(sizeof(W) == 4 || sizeof(W) == 8, "futex waits need a 32- or 64-bit word");
  static_assert(std::endian::native == std::endian::little, "futex on the low half assumes little endian");
  return reinterpret_cast<std::uint32_t*>(const_cast<std::atomic<W>*>(&word));
}

// kShared: a futex other processes mapping the same page can wait on and wake (FUTEX_WAIT / FUTEX_WAKE
// without FUTEX_PRIVATE_FLAG).
template <bool kShared>
inline void futex_wait(std::uint32_t* addr, std::uint32_t expected) noexcept {
  // EAGAIN (word already changed), EINTR and spurious wake-ups all just return: callers re-check.
  (void)::syscall(SYS_futex, addr, kShared ? FUTEX_WAIT : FUTEX_WAIT_PRIVATE, expected, nullptr, nullptr, 0);
}

template <bool kShared>
inline void futex_wake_all(std::uint32_t* addr) noexcept {
  (void)::syscall(SYS_futex, addr, kShared ? FUTEX_WAKE : FUTEX_WAKE_PRIVATE, INT_MAX, nullptr, nullptr, 0);
}

inline void sleep_ns(long ns) noexcept {
  timespec ts{0, ns};
  (void)::nanosleep(&ts, nullptr);
}

}  // namespace detail

// Busy-spin with `pause`.
struct BusySpinWait {
  template <class W, class Ready>
  HFTX_FORCE_INLINE void wait(const std::atomic<W>& /*word*/, Ready&& ready) noexcept {
    while (!ready()) cpu_relax();
  }
  template <class W>
  HFTX_FORCE_INLINE void notify(std::atomic<W>& /*word*/) noexcept {}
};

// Spin `spins` times, then yield the CPU between checks.
struct SpinThenYieldWait {
  std::uint32_t spins = 256;

  template <class W, class Ready>
  void wait(const std::atomic<W>& /*word*/, Ready&& ready) noexcept {
    for (std::uint32_t i = 0; i < spins; ++i) {
      if (ready()) return;
      cpu_relax();
    }
    while (!ready()) ::sched_yield();
  }
  template <class W>
  HFTX_FORCE_INLINE void notify(std::atomic<W>& /*word*/) noexcept {}
};

// Spin, then yield a few times, then sleep with exponentially growing pauses up to max_sleep_ns.
struct BackoffWait {
  std::uint32_t spins = 256;
  std::uint32_t yields = 16;
  long min_sleep_ns = 1'000;
  long max_sleep_ns = 1'000'000;

  template <class W, class Ready>
  void wait(const std::atomic<W>& /*word*/, Ready&& ready) noexcept {
    for (std::uint32_t i = 0; i < spins; ++i) {
      if (ready()) return;
      cpu_relax();
    }
    for (std::uint32_t i = 0; i < yields; ++i) {
      if (ready()) return;
      ::sched_yield();
    }
    long sleep = min_sleep_ns;
    while (!ready()) {
      detail::sleep_ns(sleep);
      sleep = sleep * 2 > max_sleep_ns ? max_sleep_ns : sleep * 2;
    }
  }
  template <class W>
  HFTX_FORCE_INLINE void notify(std::atomic<W>& /*word*/) noexcept {}
};

// Spin, then sleep on a futex until notified. The object is shared by all waiters of one queue and sits on
// its own cache line (the waiter count is written only by threads about to sleep). kInterprocess: shared
// futexes (see InterprocessBlockingWait).
template <bool kInterprocess>
struct alignas(kCacheLine) BasicBlockingWait {
  std::uint32_t spins = 512;

  BasicBlockingWait() = default;
  BasicBlockingWait(const BasicBlockingWait& other) noexcept : spins(other.spins) {}
  BasicBlockingWait& operator=(const BasicBlockingWait& other) noexcept {
    spins = other.spins;
    return *this;
  }

  template <class W, class Ready>
  void wait(const std::atomic<W>& word, Ready&& ready) noexcept {
    for (std::uint32_t i = 0; i < spins; ++i) {
      if (ready()) return;
      cpu_relax();
    }
    while (!ready()) {
      waiters_.fetch_add(1, std::memory_order_seq_cst);
      const W seen = word.load(std::memory_order_seq_cst);
      if (!ready()) detail::futex_wait<kInterprocess>(detail::futex_word(word), static_cast<std::uint32_t>(seen));
      waiters_.fetch_sub(1, std::memory_order_relaxed);
    }
  }

  template <class W>
  HFTX_FORCE_INLINE void notify(std::atomic<W>& word) noexcept {
#if defined(__SANITIZE_THREAD__)
    // ThreadSanitizer does not model stand-alone fences (GCC rejects them under -fsanitize=thread): a
    // seq_cst read-modify-write of the waiter count gives the same StoreLoad ordering. Not used in normal
    // builds because it would make every notify write the shared line.
    if (HFTX_UNLIKELY(waiters_.fetch_add(0, std::memory_order_seq_cst) != 0))
      detail::futex_wake_all<kInterprocess>(detail::futex_word(word));
#else
    std::atomic_thread_fence(std::memory_order_seq_cst);
    if (HFTX_UNLIKELY(waiters_.load(std::memory_order_relaxed) != 0))
      detail::futex_wake_all<kInterprocess>(detail::futex_word(word));
#endif
  }

  [[nodiscard]] std::uint32_t waiters() const noexcept { return waiters_.load(std::memory_order_relaxed); }

 private:
  std::atomic<std::uint32_t> waiters_{0};
};

using BlockingWait = BasicBlockingWait<false>;
using InterprocessBlockingWait = BasicBlockingWait<true>;

template <class S>
concept WaitStrategy = requires(S s, std::atomic<std::uint64_t>& w) {
  s.wait(w, [] { return true; });
  s.notify(w);
};

}  // namespace hftx
