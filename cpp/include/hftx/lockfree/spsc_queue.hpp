// hftx/lockfree/spsc_queue.hpp — bounded single-producer single-consumer ring.
//
// Threading contract:
//  - Exactly one producer thread calls push/emplace/try_push/try_emplace/try_push_n; exactly one consumer
//    thread calls front/pop/try_pop/pop_n/consume_n/wait_front, in one process or two (see "Across
//    processes" below). (Which threads these are may change over time only through an external
//    happens-before, e.g. a thread join.)
//  - size()/empty()/capacity() may be called from any thread; size() is a snapshot.
//  - An element's construction by the producer happens-before its observation by the consumer (release
//    store of its block's sequence word / acquire load; for a whole try_push_n batch taken by consume_n,
//    of the batch index), and its destruction by the consumer happens-before the producer reuses the slot
//    (release store of the read index / acquire load).
//  - Construction and destruction of the queue itself are not concurrent with anything.
//
// Design: a ring indexed by free-running 64-bit counters (after rigtorp::SPSCQueue), with one change that
// cuts the cache-line traffic per item: the "it is there" flag travels in the same line as the element. The
// ring is made of blocks, each one sequence word followed by kItemsPerBlock elements: as many as fit in
// one cache line beside the word (7 of 8 bytes, 3 of 16), or one element per block when fewer than two fit.
// Publishing item t stores t + 1 into its block's word (release); the consumer polls the word of the block
// it is reading, so the element and its flag arrive in ONE cache-line transfer instead of two serialized
// ones (poll the producer's index, then fetch the slot), and small elements share that line with six
// neighbours instead of paying a word per element. A word only grows (the producer writes its block's
// items in order), so "word >= t + 1" means item t and every item before it in that block are there.
// That is for latency: one item as soon as it is there.
// consume_n (and pop_n) takes what it can in one call, two ways. A batch from try_push_n is published, after
// its words, by one store of a batch index on a line of its own, and consume_n takes everything up to that
// index without looking at a word: it never polls a line that try_push_n is still filling, and the batch
// arrives whole (on the 2-core machine 560-620 M items/s, against 330-370 M when consume_n read the words
// of such batches). Past that index it walks the words, block by block, as pop() does. Single pushes
// never store the batch index, so a consume_n that drains a single-item producer reads only lines it
// consumes from: when it read an index the producer stored on every push, each of its calls took that line
// away from the producer, and the pair ran at 23 M items/s instead of 296-300 M (spsc_throughput_drain).
// The producer learns about free space from the consumer's read index, which it caches and re-reads only
// when the ring looks full; each index lives on its own pair of cache lines (adjacent-line prefetch pairs
// lines), and the consumer keeps its cursor and its own count apart from the index it publishes. Slack
// blocks before and after the buffer keep the first and last blocks off lines that hold anything else.
// Blocking calls (push, emplace, wait_front) use the Wait strategy; try_* never wait.
//
// Capacity: rounded up to a power of two (the bound the producer checks per item); the ring has as many
// blocks as hold that many slots, so up to kItemsPerBlock - 1 slots are never used at once.
//
// Elements: any type that is nothrow-destructible; moves/copies may throw in try_emplace (then nothing is
// published). Every element constructed is destroyed exactly once: by pop/try_pop/pop_n/consume_n or by the
// queue's destructor.
//
// Memory: the buffer comes from the heap (aligned operator new) at construction, or from caller-provided
// memory (an arena, a huge-page mapping) of at least required_bytes(capacity) bytes aligned to
// kBufferAlignment; nothing is allocated after construction.
//
// Across processes: the producer and the consumer may be threads of two processes when the queue object
// itself (placement new) and its buffer lie in memory both map MAP_SHARED at the same address (mapped before
// fork(), or with MAP_FIXED_NOREPLACE at the creator's address): the queue holds pointers into its buffer,
// so a mapping at another address is not the same queue. One process constructs and finally destroys it;
// elements must not point into either process's private memory. Wait must be one that works across
// processes: BusySpinWait, SpinThenYieldWait, BackoffWait or InterprocessBlockingWait, never BlockingWait,
// whose process-private futexes would leave a sleeper unwoken (lockfree_test AcrossProcessesInSharedMemory).
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

  // Where the elements start in a block: after the sequence word, at T's alignment.
  static constexpr std::size_t kItemOffset =
      (sizeof(std::atomic<std::size_t>) + alignof(T) - 1) / alignof(T) * alignof(T);
  static constexpr std::size_t kFitInLine = kItemOffset < kCacheLine ? (kCacheLine - kItemOffset) / sizeof(T) : 0;

 public:
  // Elements per block: as many as share one cache line with the block's sequence word, else one.
  static constexpr std::size_t kItemsPerBlock = kFitInLine >= 2 ? kFitInLine : 1;

 private:
  static constexpr std::size_t K = kItemsPerBlock;
  // A block of several elements fills exactly one line; a block of one is packed (word, element) as it
  // comes, so a large element wastes no padding.
  struct alignas(K > 1 ? kCacheLine : alignof(std::atomic<std::size_t>)) Block {
    std::atomic<std::size_t> seq;  // 1 + the newest ticket published in this block
    alignas(T) unsigned char storage[K * sizeof(T)];
    T* ptr(std::size_t i) noexcept { return std::launder(reinterpret_cast<T*>(storage + i * sizeof(T))); }
    void* raw(std::size_t i) noexcept { return storage + i * sizeof(T); }
  };
  static_assert(K == 1 || sizeof(Block) == kCacheLine);
  // Slack blocks on each side of the buffer: two cache lines' worth.
  static constexpr std::size_t kPadding = (2 * kCacheLine - 1) / sizeof(Block) + 1;

  // Where the next element of one side lives. Each side keeps its own; advanced with skip().
  struct Cursor {
    Block* block = nullptr;
    std::size_t index = 0;  // 0 .. K-1 within the block
  };

 public:
  using value_type = T;
  static constexpr std::size_t kBufferAlignment = std::max<std::size_t>(2 * kCacheLine, alignof(Block));
  // Largest capacity accepted (keeps every byte count representable).
  static constexpr std::size_t kMaxCapacity = (std::size_t{1} << 40) / sizeof(Block);

  // Capacity is rounded up to a power of two (capacity() reports it). Throws ConfigError for 0 or more
  // than kMaxCapacity, std::bad_alloc when the buffer cannot be allocated.
  explicit SpscQueue(std::size_t capacity, Wait wait = Wait{})
      : SpscQueue(capacity, nullptr, 0, std::move(wait)) {}

  // Places the buffer in caller memory: `bytes` must be >= required_bytes(capacity) and `memory` aligned to
  // kBufferAlignment. The caller keeps the memory alive until the queue is destroyed.
  SpscQueue(std::size_t capacity, void* memory, std::size_t bytes, Wait wait = Wait{})
      : wait_(std::move(wait)) {
    capacity_ = checked_ring(capacity);
    const std::size_t blocks = blocks_for(capacity_);
    const std::size_t need = (blocks + 2 * kPadding) * sizeof(Block);
    if (memory == nullptr) {
      raw_ = static_cast<Block*>(::operator new(need, std::align_val_t{kBufferAlignment}));
      owned_ = true;
    } else {
      if (bytes < need)
        throw ConfigError("SpscQueue: caller memory of " + std::to_string(bytes) + " bytes is too small; capacity " +
                          std::to_string(capacity_) + " needs required_bytes() = " + std::to_string(need));
      if (reinterpret_cast<std::uintptr_t>(memory) % kBufferAlignment != 0)
        throw ConfigError("SpscQueue: caller memory must be aligned to " + std::to_string(kBufferAlignment) +
                          " bytes");
      raw_ = static_cast<Block*>(memory);
    }
    blocks_ = raw_ + kPadding;
    end_ = blocks_ + blocks;
    for (std::size_t i = 0; i < blocks; ++i) ::new (static_cast<void*>(blocks_ + i)) Block{};
    wpos_.block = blocks_;
    rpos_.block = blocks_;
  }

  ~SpscQueue() {
    const std::size_t w = write_.load(std::memory_order_relaxed);
    Cursor c = rpos_;
    for (std::size_t r = read_.load(std::memory_order_relaxed); r != w; ++r, skip(c, 1))
      std::destroy_at(c.block->ptr(c.index));
    if (owned_) ::operator delete(raw_, std::align_val_t{kBufferAlignment});
  }

  SpscQueue(const SpscQueue&) = delete;
  SpscQueue& operator=(const SpscQueue&) = delete;

  // Bytes of buffer a queue of `capacity` (rounded up to a power of two) needs in caller memory.
  [[nodiscard]] static std::size_t required_bytes(std::size_t capacity) {
    return (blocks_for(checked_ring(capacity)) + 2 * kPadding) * sizeof(Block);
  }

  // ---- producer ------------------------------------------------------------------------------------

  template <class... Args>
  [[nodiscard]] HFTX_FORCE_INLINE bool try_emplace(Args&&... args) noexcept(
      std::is_nothrow_constructible_v<T, Args&&...>) {
    const std::size_t w = write_.load(std::memory_order_relaxed);
    if (HFTX_UNLIKELY(w - read_cache_ >= capacity_)) {
      read_cache_ = read_.load(std::memory_order_acquire);
      if (w - read_cache_ >= capacity_) return false;
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
    if (HFTX_UNLIKELY(w - read_cache_ >= capacity_)) {
      wait_.wait(read_, [&] {
        read_cache_ = read_.load(std::memory_order_acquire);
        return w - read_cache_ < capacity_;
      });
    }
    publish_one(w, std::forward<Args>(args)...);
  }
  void push(const T& v) noexcept(std::is_nothrow_copy_constructible_v<T>) { emplace(v); }
  void push(T&& v) noexcept(std::is_nothrow_move_constructible_v<T>) { emplace(std::move(v)); }

  // Pushes up to n items copied (or moved, with std::make_move_iterator) from `first`, checking for room
  // once and storing each block's sequence word once. Returns how many were pushed (0 when full).
  template <class It>
  [[nodiscard]] std::size_t try_push_n(It first, std::size_t n) noexcept(
      std::is_nothrow_constructible_v<T, decltype(*first)>) {
    const std::size_t w = write_.load(std::memory_order_relaxed);
    std::size_t room = capacity_ - (w - read_cache_);
    if (room < n) {
      read_cache_ = read_.load(std::memory_order_acquire);
      room = capacity_ - (w - read_cache_);
    }
    const std::size_t k = n < room ? n : room;
    if (k == 0) return 0;
    // Build all k first (so that nothing is published when a constructor throws), block by block: a run
    // of slots in one block is contiguous. Then publish each block with one store, in order.
    Cursor c = wpos_;
    std::size_t built = 0;
    const auto build = [&] {
      while (built < k) {
        const std::size_t run = std::min(K - c.index, k - built);
        for (std::size_t i = 0; i < run; ++i, ++first, ++built) ::new (c.block->raw(c.index + i)) T(*first);
        skip(c, run);
      }
    };
    if constexpr (std::is_nothrow_constructible_v<T, decltype(*first)>) {
      build();
    } else {
      try {
        build();
      } catch (...) {
        for (Cursor d = wpos_; built != 0; --built, skip(d, 1)) std::destroy_at(d.block->ptr(d.index));
        throw;
      }
    }
    Block& head = *wpos_.block;  // where a waiting consumer waits
    for (std::size_t done = 0; done < k;) {
      const std::size_t run = std::min(K - wpos_.index, k - done);
      done += run;
      wpos_.block->seq.store(w + done, std::memory_order_release);
      skip(wpos_, run);
    }
    wait_.notify(head.seq);
    write_.store(w + k, std::memory_order_release);
    batched_.store(w + k, std::memory_order_release);
    return k;
  }

  // ---- consumer ------------------------------------------------------------------------------------

  // The oldest element, or nullptr when empty.
  [[nodiscard]] HFTX_FORCE_INLINE T* front() noexcept {
    Block& b = *rpos_.block;
    if (b.seq.load(std::memory_order_acquire) <= rcount_) return nullptr;
    return b.ptr(rpos_.index);
  }

  // Blocks (per the Wait strategy) until an element is available; returns it (pop() removes it).
  [[nodiscard]] T& wait_front() noexcept {
    const std::size_t r = rcount_;
    Block& b = *rpos_.block;
    if (b.seq.load(std::memory_order_acquire) <= r)
      wait_.wait(b.seq, [&] { return b.seq.load(std::memory_order_acquire) > r; });
    return *b.ptr(rpos_.index);
  }

  // Destroys the oldest element. Precondition: front() returned non-null (or wait_front() returned).
  HFTX_FORCE_INLINE void pop() noexcept {
    const std::size_t r = rcount_;
    Block& b = *rpos_.block;
    assert(b.seq.load(std::memory_order_acquire) > r && "SpscQueue::pop on an empty queue");
    std::destroy_at(b.ptr(rpos_.index));
    skip(rpos_, 1);
    rcount_ = r + 1;
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
  // store. Returns how many were consumed (0 when empty). Whole try_push_n batches are taken by their batch
  // index, anything else by the blocks' words (see the design note above).
  template <class F>
  std::size_t consume_n(F&& f, std::size_t max = SIZE_MAX) noexcept(noexcept(f(std::declval<T&>()))) {
    const std::size_t r = rcount_;
    const auto batched = static_cast<std::ptrdiff_t>(batched_.load(std::memory_order_acquire) - r);
    const std::size_t n =
        batched > 0 ? std::min(static_cast<std::size_t>(batched), max) : published_from(r, max);
    if (n == 0) return 0;
    Cursor c = rpos_;
    std::size_t done = 0;
    const auto publish = [&] {
      rpos_ = c;
      rcount_ = r + done;
      read_.store(r + done, std::memory_order_release);
      wait_.notify(read_);
    };
    std::size_t i = 0;  // within the current run
    try {
      while (done < n) {
        const std::size_t run = std::min(K - c.index, n - done);
        for (i = 0; i < run; ++i) {
          T* const p = c.block->ptr(c.index + i);
          f(*p);
          std::destroy_at(p);
        }
        done += run;
        skip(c, run);
      }
    } catch (...) {
      // Frees what was consumed before f threw; the element it threw on stays at the front.
      done += i;
      c.index += i;
      publish();
      throw;
    }
    publish();
    return n;
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
    return d < 0 ? 0 : std::min<std::size_t>(static_cast<std::size_t>(d), capacity_);
  }
  [[nodiscard]] bool empty() const noexcept { return size() == 0; }
  [[nodiscard]] std::size_t capacity() const noexcept { return capacity_; }
  [[nodiscard]] Wait& wait_strategy() noexcept { return wait_; }

 private:
  static std::size_t checked_ring(std::size_t capacity) {
    const std::size_t ring = detail::ring_size_for(capacity, kMaxCapacity);
    if (ring == 0)
      throw ConfigError("SpscQueue: capacity " + std::to_string(capacity) + " is invalid; expected 1.." +
                        std::to_string(kMaxCapacity) + " (rounded up to a power of two)");
    return ring;
  }
  // Blocks for `capacity` slots. Not rounded to a power of two: the cursors wrap by pointer compare, and a
  // ring of 4096 8-byte items stays 37 KB (one L1) instead of 64 KB.
  static constexpr std::size_t blocks_for(std::size_t capacity) noexcept { return (capacity + K - 1) / K; }

  // How many elements from ticket r on (at most max) the blocks' words say are published. The producer
  // publishes in ticket order, so a word w means every ticket below w is there: w - r of them, counted from
  // the consumer's block. That count may run past the block's end when the producer has already refilled
  // the block's consumed front a lap ahead; when it ends exactly at the block's end, the next block's word
  // may say more.
  [[nodiscard]] std::size_t published_from(std::size_t r, std::size_t max) const noexcept {
    std::size_t n = 0;
    for (Cursor c = rpos_; n < max;) {
      const std::size_t word = c.block->seq.load(std::memory_order_acquire);
      if (word <= r + n) break;
      const std::size_t run = std::min(word - (r + n), max - n);
      n += run;
      if (c.index + run != K) break;
      skip(c, run);
    }
    return n;
  }

  // Moves `c` n elements on, within its block or exactly to its end (then to the next block, wrapping).
  HFTX_FORCE_INLINE void skip(Cursor& c, std::size_t n) const noexcept {
    c.index += n;
    if (c.index == K) {
      c.index = 0;
      if (++c.block == end_) c.block = blocks_;
    }
  }

  template <class... Args>
  HFTX_FORCE_INLINE void publish_one(std::size_t w, Args&&... args) noexcept(std::is_nothrow_constructible_v<T, Args&&...>) {
    Block& b = *wpos_.block;
    ::new (b.raw(wpos_.index)) T(std::forward<Args>(args)...);
    b.seq.store(w + 1, std::memory_order_release);
    skip(wpos_, 1);
    write_.store(w + 1, std::memory_order_release);  // for size() and the destructor; no consumer reads it
    wait_.notify(b.seq);
  }

  // Read-only after construction, shared by both sides.
  alignas(2 * kCacheLine) std::size_t capacity_ = 0;
  Block* blocks_ = nullptr;
  Block* end_ = nullptr;
  Block* raw_ = nullptr;
  bool owned_ = false;
  // Read-mostly: empty for the spinning strategies; BlockingWait's waiter count changes only when a thread
  // is about to sleep.
  [[no_unique_address]] Wait wait_;

  // The producer's index as of its last try_push_n (see consume_n): stored once a batch, read by every
  // consume_n, so on lines of its own, away from the index single pushes store.
  alignas(2 * kCacheLine) std::atomic<std::size_t> batched_{0};

  // Producer's line(s): its index, where its next element goes, and its cache of the consumer's index.
  alignas(2 * kCacheLine) std::atomic<std::size_t> write_{0};
  Cursor wpos_;
  std::size_t read_cache_ = 0;

  // The consumer's index, published for the producer (which reads it when the ring looks full), size() and
  // the destructor: stored by every pop, never read on the consumer's own hot path.
  alignas(2 * kCacheLine) std::atomic<std::size_t> read_{0};

  // Consumer's private line(s): where its next element is, and its own copy of read_. When the cursor
  // shared read_'s line and front() read read_, a producer polling a full ring met the consumer on that
  // line every item: 16-byte items ran at 135-145 M items/s, against 215-247 M apart (8-byte: 277-307 M
  // against 302-335 M; the run in BENCHMARKS.md Session 11).
  alignas(2 * kCacheLine) Cursor rpos_;
  std::size_t rcount_ = 0;  // == read_ (the consumer stores both)
};

}  // namespace hftx
