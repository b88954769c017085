// hftx/lockfree/spsc_queue.hpp — bounded single-producer single-consumer ring.
//
// Threading contract:
//  - Exactly one producer thread calls push/emplace/try_push/try_emplace/try_push_n; exactly one consumer
//    thread calls front/pop/try_pop/pop_n/consume_n/wait_front. (Which threads these are may change over
//    time only through an external happens-before, e.g. a thread join.)
//  - size()/empty()/capacity() may be called from any thread; size() is a snapshot.
//  - An element's construction by the producer happens-before its observation by the consumer (release
//    store of the slot's sequence / acquire load), and its destruction by the consumer happens-before the
//    producer reuses the slot (release store of the read index / acquire load).
//  - Construction and destruction of the queue itself are not concurrent with anything.
//
// Design: a power-of-two ring indexed by free-running 64-bit counters (after rigtorp::SPSCQueue), with one
// change that halves the cache-line traffic per item: each slot carries a sequence word next to the element
// (slot i holds ticket t when its sequence is t + 1). The consumer polls the slot itself — the element and
// the "it is there" flag arrive in ONE cache-line transfer — instead of polling the producer's index and
// then fetching the slot (two serialized transfers). The producer learns about free space from the
// consumer's read index, which it caches and re-reads only when the ring looks full; each index lives on
// its own pair of cache lines (adjacent-line prefetch pairs lines). Slack slots before and after the buffer
// keep the first and last slots off lines that hold anything else. Blocking calls (push, emplace,
// wait_front) use the Wait strategy; try_* never wait.
//
// Elements: any type that is nothrow-destructible; moves/copies may throw in try_emplace (then nothing is
// published). Every element constructed is destroyed exactly once: by pop/try_pop/pop_n/consume_n or by the
// queue's destructor.
//
// Memory: the buffer comes from the heap (aligned operator new) at construction, or from caller-provided
// memory (an arena, a huge-page mapping) of at least required_bytes(capacity) bytes aligned to
// kBufferAlignment; nothing is allocated after construction.
#pragma once

#include <algorithm>
#include <atomic>
#include <cassert>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <new>
#include <string>
#include <type_traits>
#include <utility>

#include "hftx/core/error.hpp"
#include "hftx/core/platform.hpp"
#include "hftx/lockfree/wait.hpp"

namespace hftx {

namespace detail {

// Smallest power of two >= n (n >= 1), or 0 when not representable / over `limit`.
inline std::size_t ring_size_for(std::size_t n, std::size_t limit) noexcept {
  if (n == 0 || n > limit) return 0;
  std::size_t r = 1;
  while (r < n) r <<= 1;
  return r <= limit ? r : 0;
}

}  // namespace detail

template <class T, class Wait = BackoffWait>
class SpscQueue {
  static_assert(std::is_nothrow_destructible_v<T>, "SpscQueue<T> needs a nothrow-destructible T");
  static_assert(!std::is_reference_v<T> && !std::is_const_v<T>);

  struct Slot {
    std::atomic<std::size_t> seq;  // ticket + 1 once the element of that ticket is constructed
    alignas(T) unsigned char storage[sizeof(T)];
    T* ptr() noexcept { return std::launder(reinterpret_cast<T*>(storage)); }
  };
  // Slack slots on each side of the buffer: two cache lines' worth.
  static constexpr std::size_t kPadding = (2 * kCacheLine - 1) / sizeof(Slot) + 1;

 public:
  using value_type = T;
  static constexpr std::size_t kBufferAlignment = std::max<std::size_t>(2 * kCacheLine, alignof(Slot));
  // Largest capacity accepted (keeps every byte count representable).
  static constexpr std::size_t kMaxCapacity = (std::size_t{1} << 40) / sizeof(Slot);

  // Capacity is rounded up to a power of two (capacity() reports it). Throws ConfigError for 0 or more
  // than kMaxCapacity, std::bad_alloc when the buffer cannot be allocated.
  explicit SpscQueue(std::size_t capacity, Wait wait = Wait{})
      : SpscQueue(capacity, nullptr, 0, std::move(wait)) {}

  // Places the buffer in caller memory: `bytes` must be >= required_bytes(capacity) and `memory` aligned to
  // kBufferAlignment. The caller keeps the memory alive until the queue is destroyed.
  SpscQueue(std::size_t capacity, void* memory, std::size_t bytes, Wait wait = Wait{})
      : wait_(std::move(wait)) {
    const std::size_t ring = checked_ring(capacity);
    mask_ = ring - 1;
    const std::size_t need = required_bytes(ring);
    if (memory == nullptr) {
      raw_ = static_cast<Slot*>(::operator new(need, std::align_val_t{kBufferAlignment}));
      owned_ = true;
    } else {
      if (bytes < need)
        throw ConfigError("SpscQueue: caller memory of " + std::to_string(bytes) + " bytes is too small; capacity " +
                          std::to_string(ring) + " needs required_bytes() = " + std::to_string(need));
      if (reinterpret_cast<std::uintptr_t>(memory) % kBufferAlignment != 0)
        throw ConfigError("SpscQueue: caller memory must be aligned to " + std::to_string(kBufferAlignment) +
                          " bytes");
      raw_ = static_cast<Slot*>(memory);
    }
    slots_ = raw_ + kPadding;
    for (std::size_t i = 0; i < ring; ++i) ::new (static_cast<void*>(slots_ + i)) Slot{};
  }

  ~SpscQueue() {
    const std::size_t w = write_.load(std::memory_order_relaxed);
    for (std::size_t r = read_.load(std::memory_order_relaxed); r != w; ++r) std::destroy_at(slot(r).ptr());
    if (owned_) ::operator delete(raw_, std::align_val_t{kBufferAlignment});
  }

  SpscQueue(const SpscQueue&) = delete;
  SpscQueue& operator=(const SpscQueue&) = delete;

  // Bytes of buffer a queue of `capacity` (rounded up to a power of two) needs in caller memory.
  [[nodiscard]] static std::size_t required_bytes(std::size_t capacity) {
    return (checked_ring(capacity) + 2 * kPadding) * sizeof(Slot);
  }

  // ---- producer ------------------------------------------------------------------------------------

  template <class... Args>
  [[nodiscard]] HFTX_FORCE_INLINE bool try_emplace(Args&&... args) noexcept(
      std::is_nothrow_constructible_v<T, Args&&...>) {
    const std::size_t w = write_.load(std::memory_order_relaxed);
    if (HFTX_UNLIKELY(w - read_cache_ > mask_)) {
      read_cache_ = read_.load(std::memory_order_acquire);
      if (w - read_cache_ > mask_) return false;
    }
    publish_one(w, std::forward<Args>(args)...);
    return true;
  }

  [[nodiscard]] HFTX_FORCE_INLINE bool try_push(const T& v) noexcept(std::is_nothrow_copy_constructible_v<T>) {
    return try_emplace(v);
  }
  [[nodiscard]] HFTX_FORCE_INLINE bool try_push(T&& v) noexcept(std::is_nothrow_move_constructible_v<T>) {
    return try_emplace(std::move(v));
  }

  // Blocks (per the Wait strategy) while the queue is full.
  template <class... Args>
  void emplace(Args&&... args) noexcept(std::is_nothrow_constructible_v<T, Args&&...>) {
    const std::size_t w = write_.load(std::memory_order_relaxed);
    if (HFTX_UNLIKELY(w - read_cache_ > mask_)) {
      wait_.wait(read_, [&] {
        read_cache_ = read_.load(std::memory_order_acquire);
        return w - read_cache_ <= mask_;
      });
    }
    publish_one(w, std::forward<Args>(args)...);
  }
  void push(const T& v) noexcept(std::is_nothrow_copy_constructible_v<T>) { emplace(v); }
  void push(T&& v) noexcept(std::is_nothrow_move_constructible_v<T>) { emplace(std::move(v)); }

  // Pushes up to n items copied (or moved, with std::make_move_iterator) from `first`, checking for room
  // once. Returns how many were pushed (0 when full). The cost of the per-slot sequence word shows here:
  // a batch of small items moves twice the bytes of a ring without one (boost::lockfree's bulk push is
  // about 2x faster per 8-byte item in bench_queues), the price of the single item's one-line hand-off.
  template <class It>
  [[nodiscard]] std::size_t try_push_n(It first, std::size_t n) noexcept(
      std::is_nothrow_constructible_v<T, decltype(*first)>) {
    const std::size_t w = write_.load(std::memory_order_relaxed);
    std::size_t room = mask_ + 1 - (w - read_cache_);
    if (room < n) {
      read_cache_ = read_.load(std::memory_order_acquire);
      room = mask_ + 1 - (w - read_cache_);
    }
    const std::size_t k = n < room ? n : room;
    if constexpr (std::is_nothrow_constructible_v<T, decltype(*first)>) {
      for (std::size_t i = 0; i < k; ++i, ++first) ::new (static_cast<void*>(slot(w + i).storage)) T(*first);
    } else {
      std::size_t i = 0;
      try {
        for (; i < k; ++i, ++first) ::new (static_cast<void*>(slot(w + i).storage)) T(*first);
      } catch (...) {
        for (std::size_t j = 0; j < i; ++j) std::destroy_at(slot(w + j).ptr());  // nothing was published
        throw;
      }
    }
    // Publish in order: the consumer may start on the first while the last is being flagged.
    for (std::size_t i = 0; i < k; ++i) slot(w + i).seq.store(w + i + 1, std::memory_order_release);
    if (k != 0) {
      write_.store(w + k, std::memory_order_relaxed);
      wait_.notify(slot(w).seq);  // a waiting consumer waits on the first of them
    }
    return k;
  }

  // ---- consumer ------------------------------------------------------------------------------------

  // The oldest element, or nullptr when empty.
  [[nodiscard]] HFTX_FORCE_INLINE T* front() noexcept {
    const std::size_t r = read_.load(std::memory_order_relaxed);
    Slot& s = slot(r);
    if (s.seq.load(std::memory_order_acquire) != r + 1) return nullptr;
    return s.ptr();
  }

  // Blocks (per the Wait strategy) until an element is available; returns it (pop() removes it).
  [[nodiscard]] T& wait_front() noexcept {
    const std::size_t r = read_.load(std::memory_order_relaxed);
    Slot& s = slot(r);
    if (s.seq.load(std::memory_order_acquire) != r + 1)
      wait_.wait(s.seq, [&] { return s.seq.load(std::memory_order_acquire) == r + 1; });
    return *s.ptr();
  }

  // Destroys the oldest element. Precondition: front() returned non-null (or wait_front() returned).
  HFTX_FORCE_INLINE void pop() noexcept {
    const std::size_t r = read_.load(std::memory_order_relaxed);
    assert(slot(r).seq.load(std::memory_order_acquire) == r + 1 && "SpscQueue::pop on an empty queue");
    std::destroy_at(slot(r).ptr());
    read_.store(r + 1, std::memory_order_release);
    wait_.notify(read_);
  }

  // Moves the oldest element into `out` and removes it; false when empty.
  [[nodiscard]] HFTX_FORCE_INLINE bool try_pop(T& out) noexcept(std::is_nothrow_move_assignable_v<T>) {
    T* p = front();
    if (p == nullptr) return false;
    out = std::move(*p);
    pop();
    return true;
  }

  // Calls f(T&) on up to `max` elements in order, destroying each, then frees their slots with one index
  // store. Returns how many were consumed.
  template <class F>
  std::size_t consume_n(F&& f, std::size_t max = SIZE_MAX) noexcept(noexcept(f(std::declval<T&>()))) {
    const std::size_t r = read_.load(std::memory_order_relaxed);
    std::size_t k = 0;
    while (k < max && k <= mask_ && slot(r + k).seq.load(std::memory_order_acquire) == r + k + 1) ++k;
    // Publishes what was consumed even when f throws (the element f threw on stays at the front).
    struct Publish {
      SpscQueue& q;
      std::size_t r;
      std::size_t done = 0;
      ~Publish() {
        if (done != 0) {
          q.read_.store(r + done, std::memory_order_release);
          q.wait_.notify(q.read_);
        }
      }
    } guard{*this, r};
    for (; guard.done < k; ++guard.done) {
      T* p = slot(r + guard.done).ptr();
      f(*p);
      std::destroy_at(p);
    }
    return k;
  }

  // Moves up to `max` elements into out[0..), returns how many.
  template <class OutIt>
  std::size_t pop_n(OutIt out, std::size_t max) noexcept(std::is_nothrow_move_assignable_v<T>) {
    return consume_n([&](T& v) { *out++ = std::move(v); }, max);
  }

  // ---- any thread ----------------------------------------------------------------------------------

  [[nodiscard]] std::size_t size() const noexcept {
    const std::size_t r = read_.load(std::memory_order_acquire);
    const std::size_t w = write_.load(std::memory_order_acquire);
    // The two loads are not one snapshot: clamp to [0, capacity].
    const auto d = static_cast<std::ptrdiff_t>(w - r);
    return d < 0 ? 0 : std::min<std::size_t>(static_cast<std::size_t>(d), mask_ + 1);
  }
  [[nodiscard]] bool empty() const noexcept { return size() == 0; }
  [[nodiscard]] std::size_t capacity() const noexcept { return mask_ + 1; }
  [[nodiscard]] Wait& wait_strategy() noexcept { return wait_; }

 private:
  static std::size_t checked_ring(std::size_t capacity) {
    const std::size_t ring = detail::ring_size_for(capacity, kMaxCapacity);
    if (ring == 0)
      throw ConfigError("SpscQueue: capacity " + std::to_string(capacity) + " is invalid; expected 1.." +
                        std::to_string(kMaxCapacity) + " (rounded up to a power of two)");
    return ring;
  }

  HFTX_FORCE_INLINE Slot& slot(std::size_t i) const noexcept { return slots_[i & mask_]; }

  template <class... Args>
  HFTX_FORCE_INLINE void publish_one(std::size_t w, Args&&... args) noexcept(std::is_nothrow_constructible_v<T, Args&&...>) {
    Slot& s = slot(w);
    ::new (static_cast<void*>(s.storage)) T(std::forward<Args>(args)...);
    s.seq.store(w + 1, std::memory_order_release);
    write_.store(w + 1, std::memory_order_relaxed);  // for size()/empty() and the destructor only
    wait_.notify(s.seq);
  }

  // Read-only after construction, shared by both sides.
  alignas(2 * kCacheLine) std::size_t mask_ = 0;
  Slot* slots_ = nullptr;
  Slot* raw_ = nullptr;
  bool owned_ = false;
  // Read-mostly: empty for the spinning strategies; BlockingWait's waiter count changes only when a thread
  // is about to sleep.
  [[no_unique_address]] Wait wait_;

  // Producer's line(s): its index and its cache of the consumer's.
  alignas(2 * kCacheLine) std::atomic<std::size_t> write_{0};
  std::size_t read_cache_ = 0;

  // Consumer's line(s).
  alignas(2 * kCacheLine) std::atomic<std::size_t> read_{0};

};

}  // namespace hftx
