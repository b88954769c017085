// hftx/lockfree/mpmc_queue.hpp — bounded multi-producer multi-consumer queue.
//
// Threading contract:
//  - Any number of threads may call push/emplace/try_push/try_emplace and pop/try_pop concurrently.
//  - Each element is delivered exactly once. Items pushed by one producer are popped in the order it pushed
//    them (global order is ticket order: a push that completed before another push began is popped first).
//  - An element's construction happens-before its pop (release/acquire on the slot's turn counter); its
//    destruction happens-before the slot's reuse.
//  - size()/empty()/capacity() from any thread; size() is a snapshot and may be transiently negative-clamped.
//  - Construction and destruction are not concurrent with anything; the destructor destroys elements left.
//  - Element constructors used by push/emplace/try_push/try_emplace run after a ticket is taken and must not
//    throw (blocking calls static_assert it; try_* terminate if one does) — as in rigtorp::MPMCQueue.
//
// Design (after rigtorp::MPMCQueue / Vyukov's bounded queue): a power-of-two array of slots, each on its own
// cache line with a turn counter. Ticket t uses slot t & mask in lap t >> log2(size); the slot's turn is 2*lap
// when it is free for that lap's push and 2*lap+1 when it holds that lap's element. push/pop take a ticket
// with one fetch_add (no CAS retry loop) and then wait only for their own slot's turn, through the Wait
// strategy. The default, BlockingWait, spins with `pause` and then sleeps on a futex instead of burning a
// core, and is woken at once — for one seq_cst fence per push and pop (its notify). BackoffWait (spin,
// yield, then sleep 1 us .. 1 ms) costs nothing on the hot path but wakes up to one sleep step late;
// BusySpinWait is for threads pinned to cores of their own.
// try_push/try_pop must not commit to a ticket they cannot serve, so they check the slot's turn first and
// claim the ticket with a compare-exchange (retried only when another thread took that ticket meanwhile).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <new>
#include <string>
#include <type_traits>
#include <utility>

#include "hftx/core/error.hpp"
#include "hftx/core/platform.hpp"
#include "hftx/lockfree/spsc_queue.hpp"  // detail::ring_size_for
#include "hftx/lockfree/wait.hpp"

namespace hftx {

template <class T, class Wait = BlockingWait>
class MpmcQueue {
  static_assert(std::is_nothrow_destructible_v<T>, "MpmcQueue<T> needs a nothrow-destructible T");
  static_assert(!std::is_reference_v<T> && !std::is_const_v<T>);

  struct alignas(kCacheLine) Slot {
    std::atomic<std::uint64_t> turn{0};
    alignas(T) unsigned char storage[sizeof(T)];
    T* ptr() noexcept { return std::launder(reinterpret_cast<T*>(storage)); }
  };

 public:
  using value_type = T;
  static constexpr std::size_t kMaxCapacity = (std::size_t{1} << 40) / sizeof(Slot);

  // Capacity is rounded up to a power of two (capacity() reports it). Throws ConfigError for 0 or more
  // than kMaxCapacity, std::bad_alloc when the slots cannot be allocated.
  explicit MpmcQueue(std::size_t capacity, Wait wait = Wait{}) : wait_(std::move(wait)) {
    const std::size_t ring = detail::ring_size_for(capacity, kMaxCapacity);
    if (ring == 0)
      throw ConfigError("MpmcQueue: capacity " + std::to_string(capacity) + " is invalid; expected 1.." +
                        std::to_string(kMaxCapacity) + " (rounded up to a power of two)");
    mask_ = ring - 1;
    shift_ = static_cast<unsigned>(__builtin_ctzll(ring));
    // One extra slot: slots_[0] is never used so slot 0 of the ring does not share a line pair with the
    // allocation's neighbour.
    raw_ = static_cast<Slot*>(::operator new((ring + 1) * sizeof(Slot), std::align_val_t{alignof(Slot)}));
    slots_ = raw_ + 1;
    for (std::size_t i = 0; i < ring; ++i) ::new (static_cast<void*>(slots_ + i)) Slot();
  }

  ~MpmcQueue() {
    for (std::size_t i = 0; i <= mask_; ++i) {
      if (slots_[i].turn.load(std::memory_order_relaxed) & 1u) std::destroy_at(slots_[i].ptr());
      slots_[i].~Slot();
    }
    ::operator delete(raw_, std::align_val_t{alignof(Slot)});
  }

  MpmcQueue(const MpmcQueue&) = delete;
  MpmcQueue& operator=(const MpmcQueue&) = delete;

  // ---- blocking (ticket by fetch_add, then wait for this slot's turn) --------------------------------

  template <class... Args>
  void emplace(Args&&... args) noexcept {
    static_assert(std::is_nothrow_constructible_v<T, Args&&...>,
                  "a blocking emplace has taken its ticket and cannot back out: the constructor must be noexcept");
    const std::uint64_t t = head_.fetch_add(1, std::memory_order_relaxed);
    Slot& s = slots_[t & mask_];
    const std::uint64_t want = lap(t) * 2;
    if (HFTX_UNLIKELY(s.turn.load(std::memory_order_acquire) != want))
      wait_.wait(s.turn, [&] { return s.turn.load(std::memory_order_acquire) == want; });
    ::new (static_cast<void*>(s.storage)) T(std::forward<Args>(args)...);
    s.turn.store(want + 1, std::memory_order_release);
    wait_.notify(s.turn);
  }
  void push(const T& v) noexcept { emplace(v); }
  void push(T&& v) noexcept { emplace(std::move(v)); }

  // Blocks until an element is available and moves it into `out`.
  void pop(T& out) noexcept {
    static_assert(std::is_nothrow_move_assignable_v<T>, "a blocking pop cannot back out: T's move must be noexcept");
    const std::uint64_t t = tail_.fetch_add(1, std::memory_order_relaxed);
    Slot& s = slots_[t & mask_];
    const std::uint64_t want = lap(t) * 2 + 1;
    if (HFTX_UNLIKELY(s.turn.load(std::memory_order_acquire) != want))
      wait_.wait(s.turn, [&] { return s.turn.load(std::memory_order_acquire) == want; });
    out = std::move(*s.ptr());
    std::destroy_at(s.ptr());
    s.turn.store(want + 1, std::memory_order_release);
    wait_.notify(s.turn);
  }

  // ---- non-blocking --------------------------------------------------------------------------------

  template <class... Args>
  [[nodiscard]] bool try_emplace(Args&&... args) noexcept {
    std::uint64_t t = head_.load(std::memory_order_acquire);
    for (;;) {
      Slot& s = slots_[t & mask_];
      if (s.turn.load(std::memory_order_acquire) == lap(t) * 2) {
        if (head_.compare_exchange_strong(t, t + 1, std::memory_order_acquire, std::memory_order_acquire)) {
          // The ticket is ours and cannot be given back: a consumer of this lap may already wait for it. A
          // throwing constructor therefore terminates (noexcept) rather than wedge the queue.
          construct_or_terminate(s, std::forward<Args>(args)...);
          s.turn.store(lap(t) * 2 + 1, std::memory_order_release);
          wait_.notify(s.turn);
          return true;
        }
        // t was reloaded by the failed CAS: another producer took the ticket, try the next one.
      } else {
        const std::uint64_t prev = t;
        t = head_.load(std::memory_order_acquire);
        if (t == prev) return false;  // the slot for the next ticket is still occupied: full
      }
    }
  }
  [[nodiscard]] bool try_push(const T& v) noexcept { return try_emplace(v); }
  [[nodiscard]] bool try_push(T&& v) noexcept {
    return try_emplace(std::move(v));
  }

  [[nodiscard]] bool try_pop(T& out) noexcept(std::is_nothrow_move_assignable_v<T>) {
    std::uint64_t t = tail_.load(std::memory_order_acquire);
    for (;;) {
      Slot& s = slots_[t & mask_];
      if (s.turn.load(std::memory_order_acquire) == lap(t) * 2 + 1) {
        if (tail_.compare_exchange_strong(t, t + 1, std::memory_order_acquire, std::memory_order_acquire)) {
          out = std::move(*s.ptr());
          std::destroy_at(s.ptr());
          s.turn.store(lap(t) * 2 + 2, std::memory_order_release);
          wait_.notify(s.turn);
          return true;
        }
      } else {
        const std::uint64_t prev = t;
        t = tail_.load(std::memory_order_acquire);
        if (t == prev) return false;  // empty
      }
    }
  }

  // ---- any thread ----------------------------------------------------------------------------------

  // Pushes started minus pops started (blocked callers included), clamped at 0.
  [[nodiscard]] std::size_t size() const noexcept {
    const auto d = static_cast<std::int64_t>(head_.load(std::memory_order_relaxed) -
                                             tail_.load(std::memory_order_relaxed));
    return d > 0 ? static_cast<std::size_t>(d) : 0;
  }
  [[nodiscard]] bool empty() const noexcept { return size() == 0; }
  [[nodiscard]] std::size_t capacity() const noexcept { return mask_ + 1; }
  [[nodiscard]] Wait& wait_strategy() noexcept { return wait_; }

 private:
  HFTX_FORCE_INLINE std::uint64_t lap(std::uint64_t ticket) const noexcept { return ticket >> shift_; }

  template <class... Args>
  static void construct_or_terminate(Slot& s, Args&&... args) noexcept {
    ::new (static_cast<void*>(s.storage)) T(std::forward<Args>(args)...);
  }

  // Read-only after construction.
  alignas(2 * kCacheLine) Slot* slots_ = nullptr;
  Slot* raw_ = nullptr;
  std::size_t mask_ = 0;
  unsigned shift_ = 0;
  [[no_unique_address]] Wait wait_;

  alignas(2 * kCacheLine) std::atomic<std::uint64_t> head_{0};  // next push ticket
  alignas(2 * kCacheLine) std::atomic<std::uint64_t> tail_{0};  // next pop ticket
};

}  // namespace hftx
