// hftx/memory/object_pool.hpp — fixed-size object pools: ObjectPool<T> (one thread) and
// ConcurrentObjectPool<T> (shared between threads).
//
// Threading contract:
//  - ObjectPool<T>: not thread-safe. One owner thread calls acquire/release/stats (or the owner changes
//    only through an external happens-before). The hot path is a LIFO pop/push: O(1), no atomics; the most
//    recently released slot is kept in a one-entry cache in front of the free stack (still LIFO).
//  - ConcurrentObjectPool<T>: acquire() and release() from any number of threads concurrently. release()
//    of an object acquired by another thread is allowed. The construction of the pool, and its destruction,
//    are not concurrent with anything, and every Cache of it is gone before it is destroyed. A Cache (from
//    make_cache()) is used by one thread at a time; objects acquired through one may be released through
//    another, or uncached. A release's writes to the object happen-before the next acquire of that slot, by
//    whichever path (release CAS / acquire load on the stack the slot travels through).
//    Free slots live in three places: each cache's private array (up to 2 * batch), the depot (a Treiber
//    stack of magazines of `batch` slots) and a Treiber stack of single slots for the uncached calls. Both
//    stacks are TaggedIndexStack: 32-bit indices under a head with a 32-bit ABA tag (empty magazines wait on a
//    third). A cached acquire or release touches no shared line until its array runs empty or full; then it
//    trades one magazine with the depot, two CASes for `batch` objects (one on the depot, one on the stack of
//    empty magazines). The uncached calls cost one CAS each.
//
// Both pools preallocate (and pre-fault) at construction; acquire() constructs T in place and release()
// destroys it. Slots are carved lazily: the free list holds released slots, and a never-used slot is taken
// only when the free list is empty — i.e. when every slot handed out so far is in use — so the number of
// slots ever carved is exactly the high-water mark, with no compare on the hot path (a ConcurrentObjectPool
// cache carves a batch at a time: see its stats()). ObjectPool keeps its free slots in an array of pointers
// (8 bytes per slot) rather than linking them through the slots: taking a slot then never waits on a load from
// the slot taken before it, so a run of acquires overlaps (cycling 1,000 objects: 3.0-3.1 -> 2.3-2.4 ns per
// acquire + release on the 2-core machine). When
// empty, ObjectPool follows its EmptyPolicy — kFail: acquire returns nullptr and counts a miss (the hot
// path never throws); kGrow: it allocates one more chunk of `chunk_size` slots (a heap allocation, counted
// as a miss and a grow) and never shrinks. ConcurrentObjectPool has a fixed capacity and fails.
#pragma once

#include <algorithm>
#include <atomic>
#include <cassert>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <mutex>
#include <new>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "hftx/core/error.hpp"
#include "hftx/core/platform.hpp"

namespace hftx {

enum class EmptyPolicy : std::uint8_t {
  kFail,  // acquire() returns nullptr when no slot is free
  kGrow,  // acquire() allocates another chunk of slots when none is free
};

struct PoolStats {
  std::uint64_t hits = 0;        // acquires served from the free list
  std::uint64_t misses = 0;      // acquires that found the free list empty (failed, or grew the pool)
  std::uint64_t grows = 0;       // chunks added by kGrow
  std::uint64_t releases = 0;
  std::size_t in_use = 0;        // objects currently handed out
  std::size_t high_water = 0;    // most objects ever handed out at once
  std::size_t capacity = 0;      // slots owned (all chunks)
};

template <class T>
class ObjectPool {
  struct Slot {
    alignas(T) unsigned char storage[sizeof(T)];
  };
  struct Chunk {
    Chunk* next;
    std::size_t count;
    Slot* slots() noexcept { return reinterpret_cast<Slot*>(reinterpret_cast<unsigned char*>(this) + kHeader); }
  };
  static constexpr std::size_t kAlign = std::max({alignof(Slot), alignof(Chunk), kCacheLine});
  // The slots start on a cache line: a 64-byte object then fills one line instead of straddling two.
  static constexpr std::size_t kHeader = (sizeof(Chunk) + kAlign - 1) / kAlign * kAlign;

 public:
  using value_type = T;
  static constexpr std::size_t kMaxCapacity = (std::size_t{1} << 40) / sizeof(Slot);

  // `capacity` slots now; with kGrow, `chunk_size` more (default: capacity) each time it runs dry.
  explicit ObjectPool(std::size_t capacity, EmptyPolicy policy = EmptyPolicy::kFail, std::size_t chunk_size = 0)
      : policy_(policy), chunk_size_(chunk_size != 0 ? chunk_size : capacity) {
    if (capacity == 0 || capacity > kMaxCapacity)
      throw ConfigError("ObjectPool: capacity " + std::to_string(capacity) + " is invalid; expected 1.." +
                        std::to_string(kMaxCapacity));
    if (chunk_size_ > kMaxCapacity)
      throw ConfigError("ObjectPool: chunk_size " + std::to_string(chunk_size) + " is invalid; expected 1.." +
                        std::to_string(kMaxCapacity));
    add_chunk(capacity);
  }

  ObjectPool(const ObjectPool&) = delete;
  ObjectPool& operator=(const ObjectPool&) = delete;

  // Objects still handed out are NOT destroyed (the pool cannot tell which slots hold live objects without
  // a per-slot header); release everything first. Debug builds assert it.
  ~ObjectPool() {
    assert(acquired_ == released_ && "ObjectPool destroyed with objects still in use");
    for (Chunk* c = chunks_; c != nullptr;) {
      Chunk* next = c->next;
      ::operator delete(c, std::align_val_t{kAlign});
      c = next;
    }
  }

  // Constructs a T from args in a free slot. nullptr when the pool is empty (kFail) or growing failed.
  template <class... Args>
  [[nodiscard]] HFTX_FORCE_INLINE T* acquire(Args&&... args) noexcept(std::is_nothrow_constructible_v<T, Args&&...>) {
    Slot* s = hot_;
    if (s != nullptr) {
      hot_ = nullptr;
    } else if (HFTX_LIKELY(top_ != 0)) {
      s = stack_[--top_];
    } else {
      s = carve();
      if (s == nullptr) return nullptr;
    }
    if constexpr (std::is_nothrow_constructible_v<T, Args&&...>) {
      ::new (static_cast<void*>(s->storage)) T(std::forward<Args>(args)...);
    } else {
      try {
        ::new (static_cast<void*>(s->storage)) T(std::forward<Args>(args)...);
      } catch (...) {
        stack_[top_++] = s;
        throw;
      }
    }
    ++acquired_;
    return std::launder(reinterpret_cast<T*>(s->storage));
  }

  // Destroys *p and returns its slot. p must come from this pool's acquire() and not be released twice.
  HFTX_FORCE_INLINE void release(T* p) noexcept {
    assert(p != nullptr);
    std::destroy_at(p);
    Slot* s = reinterpret_cast<Slot*>(p);
    if (hot_ == nullptr) {
      hot_ = s;
    } else {
      stack_[top_++] = s;
    }
    ++released_;
  }

  // unique_ptr that releases into this pool.
  struct Deleter {
    ObjectPool* pool;
    void operator()(T* p) const noexcept { pool->release(p); }
  };
  using Ptr = std::unique_ptr<T, Deleter>;
  template <class... Args>
  [[nodiscard]] Ptr acquire_unique(Args&&... args) {
    return Ptr(acquire(std::forward<Args>(args)...), Deleter{this});
  }

  // True when p points at a slot of this pool (O(chunks); for checks, not the hot path).
  [[nodiscard]] bool owns(const T* p) const noexcept {
    const auto a = reinterpret_cast<std::uintptr_t>(p);
    for (Chunk* c = chunks_; c != nullptr; c = c->next) {
      const auto b = reinterpret_cast<std::uintptr_t>(c->slots());
      if (a >= b && a < b + c->count * sizeof(Slot)) return (a - b) % sizeof(Slot) == 0;
    }
    return false;
  }

  [[nodiscard]] PoolStats stats() const noexcept {
    PoolStats st;
    st.hits = acquired_;
    st.misses = misses_;
    st.grows = grows_;
    st.releases = released_;
    st.in_use = static_cast<std::size_t>(acquired_ - released_);
    st.high_water = carved_total_ + static_cast<std::size_t>(bump_ - bump_begin_);
    st.capacity = capacity_;
    return st;
  }
  [[nodiscard]] std::size_t capacity() const noexcept { return capacity_; }
  [[nodiscard]] std::size_t available() const noexcept {
    return capacity_ - static_cast<std::size_t>(acquired_ - released_);
  }
  [[nodiscard]] EmptyPolicy policy() const noexcept { return policy_; }

 private:
  // The free list is empty: every slot handed out so far is in use. Take a never-used slot from the newest
  // chunk (so the number of slots ever carved IS the high-water mark), else grow or fail.
  HFTX_COLD Slot* carve() noexcept {
    if (bump_ == bump_end_) {
      ++misses_;  // failed or grew: a miss either way
      if (policy_ != EmptyPolicy::kGrow || !add_chunk(chunk_size_, std::nothrow)) return nullptr;
      ++grows_;
    }
    return bump_++;
  }

  void add_chunk(std::size_t count) {
    if (!add_chunk(count, std::nothrow)) throw std::bad_alloc();
  }

  bool add_chunk(std::size_t count, std::nothrow_t) noexcept {
    // The free stack grows to hold every slot, the new ones included. It is empty here (a pool grows only
    // when no slot is free), so nothing moves over.
    assert(top_ == 0);
    std::unique_ptr<Slot*[]> stack(new (std::nothrow) Slot*[capacity_ + count]);
    if (stack == nullptr) return false;
    const std::size_t bytes = kHeader + count * sizeof(Slot);
    void* mem = ::operator new(bytes, std::align_val_t{kAlign}, std::nothrow);
    if (mem == nullptr) return false;
    std::memset(mem, 0, bytes);  // fault the pages in now, not on the hot path
    std::fill_n(stack.get(), capacity_ + count, nullptr);  // faulted in now too
    stack_ = std::move(stack);
    Chunk* c = ::new (mem) Chunk{chunks_, count};
    chunks_ = c;
    carved_total_ += static_cast<std::size_t>(bump_ - bump_begin_);
    bump_begin_ = bump_ = c->slots();
    bump_end_ = bump_ + count;
    capacity_ += count;
    return true;
  }

  // Hot: touched by every acquire/release. hot_ holds the most recently released slot outside the stack, so
  // the common release-then-acquire pattern hands it straight back without a store and reload of the
  // stack's top (a store-to-load forwarding chain of ~5 cycles per pair).
  Slot* hot_ = nullptr;
  std::unique_ptr<Slot*[]> stack_;  // free slots, [0, top_)
  std::size_t top_ = 0;
  std::uint64_t acquired_ = 0;
  std::uint64_t released_ = 0;
  Slot* bump_ = nullptr;  // next never-used slot of the newest chunk
  Slot* bump_end_ = nullptr;
  // Cold.
  Slot* bump_begin_ = nullptr;
  std::size_t carved_total_ = 0;  // slots carved from older chunks
  std::uint64_t misses_ = 0;
  std::uint64_t grows_ = 0;
  std::size_t capacity_ = 0;
  Chunk* chunks_ = nullptr;
  EmptyPolicy policy_;
  std::size_t chunk_size_;
};

// ---- concurrent variant ----------------------------------------------------------------------------------

namespace detail {

// A Treiber stack of 32-bit indices linked through an array of `next` words the owner keeps. The head packs
// the top index with a 32-bit tag bumped by every successful CAS, so a pop that read (A, tag) cannot succeed
// after A was popped and pushed back (ABA): the tag differs. The links are relaxed atomics: a pop may read a
// link another thread is rewriting without a data race; its CAS then fails on the tag and it retries. Pushes
// are release and pops acquire, so what a pusher wrote before pushing (a chain's links, a magazine's
// contents, a released object) is visible to whoever pops it.
class TaggedIndexStack {
 public:
  static constexpr std::uint32_t kNil = UINT32_MAX;

  void attach(std::atomic<std::uint32_t>* next) noexcept { next_ = next; }

  // Pushes first -> ... -> last, already linked through next[] (last's link is set here). One CAS.
  void push_chain(std::uint32_t first, std::uint32_t last) noexcept {
    std::uint64_t head = head_.load(std::memory_order_relaxed);
    do {
      next_[last].store(index_of(head), std::memory_order_relaxed);
    } while (!head_.compare_exchange_weak(head, pack(first, tag_of(head) + 1), std::memory_order_release,
                                          std::memory_order_relaxed));
  }
  void push(std::uint32_t i) noexcept { push_chain(i, i); }

  // The top index, removed; kNil when empty. One CAS.
  [[nodiscard]] std::uint32_t try_pop() noexcept {
    std::uint64_t head = head_.load(std::memory_order_acquire);
    for (;;) {
      const std::uint32_t top = index_of(head);
      if (top == kNil) return kNil;
      const std::uint32_t next = next_[top].load(std::memory_order_relaxed);
      if (head_.compare_exchange_weak(head, pack(next, tag_of(head) + 1), std::memory_order_acquire,
                                      std::memory_order_acquire))
        return top;
    }
  }

  // How many indices are on the stack (at most `limit`); exact only while nobody pushes or pops.
  [[nodiscard]] std::size_t count(std::size_t limit) const noexcept {
    std::size_t n = 0;
    for (std::uint32_t i = index_of(head_.load(std::memory_order_acquire)); i != kNil && n < limit;
         i = next_[i].load(std::memory_order_relaxed))
      ++n;
    return n;
  }

 private:
  static std::uint64_t pack(std::uint32_t index, std::uint32_t tag) noexcept {
    return (std::uint64_t{tag} << 32) | index;
  }
  static std::uint32_t index_of(std::uint64_t h) noexcept { return static_cast<std::uint32_t>(h); }
  static std::uint32_t tag_of(std::uint64_t h) noexcept { return static_cast<std::uint32_t>(h >> 32); }

  // Its own pair of lines: every CAS on it pulls the line to the CASing core.
  alignas(2 * kCacheLine) std::atomic<std::uint64_t> head_{pack(kNil, 0)};
  std::atomic<std::uint32_t>* next_ = nullptr;
};

}  // namespace detail

template <class T>
class ConcurrentObjectPool {
  static constexpr std::uint32_t kNil = detail::TaggedIndexStack::kNil;
  static constexpr std::size_t kSlotAlign = std::max(alignof(T), alignof(std::max_align_t));
  static constexpr std::size_t kSlotSize = (sizeof(T) + kSlotAlign - 1) / kSlotAlign * kSlotAlign;
  // The slots start on a cache line, as in ObjectPool.
  static constexpr std::size_t kStorageAlign = std::max(kSlotAlign, kCacheLine);

  // A cache's state. It lives in the pool (a Cache handle points at it), so that stats() can read the counters
  // of every cache, gone ones included, and a later make_cache() reuses it. Written only by the thread that
  // owns the cache; the atomics are relaxed loads and stores (plain moves on x86), atomic only for stats().
  struct alignas(kCacheLine) CacheState {
    std::atomic<std::uint32_t> count{0};  // free slots held: slots[0, count), at most 2 * batch
    std::atomic<std::uint64_t> hits{0};
    std::atomic<std::uint64_t> releases{0};
    // Addresses rather than indices: the index <-> address arithmetic would lengthen the chain that runs
    // from one release's store to the next acquire's construction (2.5 -> 2.0 ns a hot pair).
    std::unique_ptr<unsigned char*[]> slots;
    bool live = false;  // guarded by caches_mutex_
  };

 public:
  using value_type = T;
  static constexpr std::size_t kMaxCapacity = kNil - 1;
  static constexpr std::size_t kDefaultBatch = 32;

  class Cache;

  // `batch`: the slots a cache moves to or from the shared depot at once, 1..capacity; 0 takes
  // min(kDefaultBatch, max(1, capacity / 8)), so that one cache holds at most a quarter of a small pool. Throws
  // ConfigError for a capacity or batch out of range.
  explicit ConcurrentObjectPool(std::size_t capacity, std::size_t batch = 0) : capacity_(capacity) {
    if (capacity == 0 || capacity > kMaxCapacity)
      throw ConfigError("ConcurrentObjectPool: capacity " + std::to_string(capacity) + " is invalid; expected 1.." +
                        std::to_string(kMaxCapacity));
    if (batch > capacity)
      throw ConfigError("ConcurrentObjectPool: batch " + std::to_string(batch) + " is invalid; expected 1..capacity (" +
                        std::to_string(capacity) + "), or 0 for the default");
    batch_ = static_cast<std::uint32_t>(batch != 0 ? batch : std::clamp<std::size_t>(capacity / 8, 1, kDefaultBatch));
    storage_ = static_cast<unsigned char*>(::operator new(capacity * kSlotSize, std::align_val_t{kStorageAlign}));
    std::memset(storage_, 0, capacity * kSlotSize);  // fault the pages in now
    slot_next_ = std::make_unique<std::atomic<std::uint32_t>[]>(capacity);
    // Every full magazine holds batch_ slots, so capacity / batch_ of them can be full at once; one more keeps
    // an empty one at hand for a cache that bags slots while most of the pool sits in the depot.
    const std::size_t magazines = capacity / batch_ + 1;
    magazine_slots_ = std::make_unique<unsigned char*[]>(magazines * batch_);
    magazine_next_ = std::make_unique<std::atomic<std::uint32_t>[]>(magazines);
    free_.attach(slot_next_.get());
    full_.attach(magazine_next_.get());
    empty_.attach(magazine_next_.get());
    for (std::size_t m = 0; m < magazines; ++m) empty_.push(static_cast<std::uint32_t>(m));
  }

  ConcurrentObjectPool(const ConcurrentObjectPool&) = delete;
  ConcurrentObjectPool& operator=(const ConcurrentObjectPool&) = delete;

  // As ObjectPool: objects still in use are not destroyed. Every Cache must be gone first.
  ~ConcurrentObjectPool() {
    assert(std::none_of(caches_.begin(), caches_.end(), [](const auto& c) { return c->live; }) &&
           "ConcurrentObjectPool destroyed while a Cache of it is alive");
    ::operator delete(storage_, std::align_val_t{kStorageAlign});
  }

  // A per-thread front for this pool (see Cache). Allocates its array unless it reuses a gone cache's (setup
  // time); the pool must outlive it.
  [[nodiscard]] Cache make_cache() {
    std::lock_guard lock(caches_mutex_);
    for (auto& c : caches_) {
      if (!c->live) {
        c->live = true;
        return Cache(this, c.get());
      }
    }
    auto c = std::make_unique<CacheState>();
    c->slots = std::make_unique<unsigned char*[]>(2 * std::size_t{batch_});
    c->live = true;
    caches_.push_back(std::move(c));
    return Cache(this, caches_.back().get());
  }

  // Constructs a T in a free slot, without a cache; nullptr (and a miss) when every slot is in use or held by
  // a cache. One CAS.
  template <class... Args>
  [[nodiscard]] T* acquire(Args&&... args) noexcept(std::is_nothrow_constructible_v<T, Args&&...>) {
    std::uint32_t index = free_.try_pop();
    if (HFTX_UNLIKELY(index == kNil)) {
      index = take_one();
      if (index == kNil) return nullptr;
    }
    return construct(slot(index), [&] { free_.push(index); }, std::forward<Args>(args)...);
  }

  // Destroys *p and returns its slot, without a cache; from any thread, whoever acquired p. One CAS.
  void release(T* p) noexcept { free_.push(index_of(destroy(p))); }

  [[nodiscard]] bool owns(const T* p) const noexcept {
    const auto a = reinterpret_cast<std::uintptr_t>(p);
    const auto b = reinterpret_cast<std::uintptr_t>(storage_);
    return a >= b && a < b + capacity_ * kSlotSize && (a - b) % kSlotSize == 0;
  }

  // hits and releases count what went through caches (single-writer counters); the uncached calls are not
  // counted, as each count would be one more contended read-modify-write. high_water is the number of slots
  // ever carved: a slot is carved only when no free one was found, but a cache carves a batch at a time, so
  // it may exceed the most ever in use by up to `batch` per cache. in_use is exact only while no thread
  // acquires or releases.
  [[nodiscard]] PoolStats stats() const {
    PoolStats s;
    s.misses = misses_.load(std::memory_order_relaxed);
    s.high_water = std::min<std::size_t>(carved_.load(std::memory_order_relaxed), capacity_);
    std::size_t free_count = free_.count(capacity_) + full_.count(capacity_) * batch_;
    {
      std::lock_guard lock(caches_mutex_);
      for (const auto& c : caches_) {
        s.hits += c->hits.load(std::memory_order_relaxed);
        s.releases += c->releases.load(std::memory_order_relaxed);
        free_count += c->count.load(std::memory_order_relaxed);
      }
    }
    s.in_use = s.high_water - std::min(free_count, s.high_water);
    s.capacity = capacity_;
    return s;
  }
  [[nodiscard]] std::size_t capacity() const noexcept { return capacity_; }
  [[nodiscard]] std::size_t batch() const noexcept { return batch_; }

  // A thread's front for the pool (per-thread caches over a shared depot, after Bonwick's magazines): it keeps
  // up to 2 * batch free slots in a private array, so its acquire and release are a pop and a push there, with
  // no atomic read-modify-write, and it trades whole magazines of `batch` slots with the depot (a Treiber stack
  // of magazines) at two CASes a magazine. On the 2-core machine: 2.0-2.3 ns a hot acquire + release
  // against 18 ns uncached (two CASes), and 21-22 ns against 260-310 ns an object acquired on one core and
  // released on the other (pool_handoff: uncached, both cores CAS the one head line for every object).
  // Objects may be released through any cache or uncached, whoever acquired them. The slots a cache holds are
  // not available to others: size the pool for the most in use plus 2 * batch per cache. Threading: one thread
  // at a time uses a Cache (it may move between threads through an external happens-before). Destroying it
  // (or reset()) hands its slots back.
  class Cache {
   public:
    Cache() = default;  // no pool: only for assigning to
    Cache(Cache&& o) noexcept : pool_(std::exchange(o.pool_, nullptr)), state_(std::exchange(o.state_, nullptr)) {}
    Cache& operator=(Cache&& o) noexcept {
      if (this != &o) {
        reset();
        pool_ = std::exchange(o.pool_, nullptr);
        state_ = std::exchange(o.state_, nullptr);
      }
      return *this;
    }
    Cache(const Cache&) = delete;
    Cache& operator=(const Cache&) = delete;
    ~Cache() { reset(); }

    // As the pool's acquire, through this cache: nullptr (and a miss) when the cache, the depot and the
    // pool's uncached free slots are all empty and every slot is carved.
    template <class... Args>
    [[nodiscard]] HFTX_FORCE_INLINE T* acquire(Args&&... args) noexcept(std::is_nothrow_constructible_v<T, Args&&...>) {
      assert(state_ != nullptr && "ConcurrentObjectPool::Cache used without a pool");
      CacheState& s = *state_;
      std::uint32_t n = s.count.load(std::memory_order_relaxed);
      if (HFTX_UNLIKELY(n == 0)) {
        n = pool_->refill(s);
        if (n == 0) return nullptr;
      }
      unsigned char* const slot = s.slots[n - 1];
      s.count.store(n - 1, std::memory_order_relaxed);
      T* p = pool_->construct(slot, [&] { s.count.store(n, std::memory_order_relaxed); }, std::forward<Args>(args)...);
      s.hits.store(s.hits.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
      return p;
    }

    // As the pool's release, through this cache; p may come from any cache or from the pool's acquire.
    HFTX_FORCE_INLINE void release(T* p) noexcept {
      assert(state_ != nullptr && "ConcurrentObjectPool::Cache used without a pool");
      CacheState& s = *state_;
      unsigned char* const slot = pool_->destroy(p);
      std::uint32_t n = s.count.load(std::memory_order_relaxed);
      if (HFTX_UNLIKELY(n == 2 * pool_->batch_)) n = pool_->bag(s, n);
      s.slots[n] = slot;
      s.count.store(n + 1, std::memory_order_relaxed);
      s.releases.store(s.releases.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
    }

    // Hands every slot this cache holds back to the pool and detaches from it.
    void reset() noexcept {
      if (pool_ == nullptr) return;
      pool_->retire(*state_);
      pool_ = nullptr;
      state_ = nullptr;
    }

    // Free slots this cache holds (0 when detached).
    [[nodiscard]] std::size_t held() const noexcept {
      return state_ != nullptr ? state_->count.load(std::memory_order_relaxed) : 0;
    }

   private:
    friend class ConcurrentObjectPool;
    Cache(ConcurrentObjectPool* pool, CacheState* state) noexcept : pool_(pool), state_(state) {}
    ConcurrentObjectPool* pool_ = nullptr;
    CacheState* state_ = nullptr;
  };

 private:
  unsigned char** magazine(std::uint32_t m) noexcept { return magazine_slots_.get() + std::size_t{m} * batch_; }
  unsigned char* slot(std::uint32_t index) const noexcept { return storage_ + std::size_t{index} * kSlotSize; }
  std::uint32_t index_of(const unsigned char* slot) const noexcept {
    return static_cast<std::uint32_t>(static_cast<std::size_t>(slot - storage_) / kSlotSize);
  }

  // Constructs T in `slot`; when the constructor throws, `undo` gives the slot back first.
  template <class Undo, class... Args>
  HFTX_FORCE_INLINE T* construct(unsigned char* slot, Undo&& undo, Args&&... args) noexcept(
      std::is_nothrow_constructible_v<T, Args&&...>) {
    if constexpr (std::is_nothrow_constructible_v<T, Args&&...>) {
      ::new (slot) T(std::forward<Args>(args)...);
    } else {
      try {
        ::new (slot) T(std::forward<Args>(args)...);
      } catch (...) {
        undo();
        throw;
      }
    }
    return std::launder(reinterpret_cast<T*>(slot));
  }

  HFTX_FORCE_INLINE unsigned char* destroy(T* p) noexcept {
    assert(owns(p) && "ConcurrentObjectPool: not its object");
    std::destroy_at(p);
    return reinterpret_cast<unsigned char*>(p);
  }

  // Up to `want` never-used slots, [first, first + returned); 0 when all are carved.
  std::uint32_t carve(std::uint32_t want, std::uint32_t& first) noexcept {
    std::size_t c = carved_.load(std::memory_order_relaxed);
    std::size_t got = 0;
    do {
      if (c >= capacity_) return 0;
      got = std::min<std::size_t>(want, capacity_ - c);
    } while (!carved_.compare_exchange_weak(c, c + got, std::memory_order_relaxed));
    first = static_cast<std::uint32_t>(c);
    return static_cast<std::uint32_t>(got);
  }

  HFTX_COLD std::uint32_t miss() noexcept {
    misses_.fetch_add(1, std::memory_order_relaxed);
    return 0;
  }

  // Pushes slots[0, n) onto the uncached free list as one chain (one CAS).
  void push_slots(unsigned char* const* slots, std::uint32_t n) noexcept {
    if (n == 0) return;
    for (std::uint32_t i = 0; i + 1 < n; ++i)
      slot_next_[index_of(slots[i])].store(index_of(slots[i + 1]), std::memory_order_relaxed);
    free_.push_chain(index_of(slots[0]), index_of(slots[n - 1]));
  }

  // Hands slots[0, batch) to the depot in an empty magazine or, when none is at hand, to the free list.
  void stow(unsigned char* const* slots) noexcept {
    if (const std::uint32_t m = empty_.try_pop(); m != kNil) {
      std::copy_n(slots, batch_, magazine(m));
      full_.push(m);
    } else {
      push_slots(slots, batch_);
    }
  }

  // The uncached acquire found no free single slot: break a full magazine (its other slots go onto the free
  // list as one chain), else carve one. kNil (and a miss) when neither has any.
  HFTX_COLD std::uint32_t take_one() noexcept {
    if (const std::uint32_t m = full_.try_pop(); m != kNil) {
      unsigned char* const* slots = magazine(m);
      const std::uint32_t index = index_of(slots[batch_ - 1]);
      push_slots(slots, batch_ - 1);
      empty_.push(m);
      return index;
    }
    std::uint32_t first = 0;
    if (carve(1, first) == 1) return first;
    miss();
    return kNil;
  }

  // An empty cache: fill it with a full magazine, else with free single slots, else with never-used ones.
  // Returns how many it now holds; 0 is a miss.
  HFTX_COLD std::uint32_t refill(CacheState& s) noexcept {
    std::uint32_t n = 0;
    if (const std::uint32_t m = full_.try_pop(); m != kNil) {
      std::copy_n(magazine(m), batch_, s.slots.get());
      empty_.push(m);
      n = batch_;
    } else {
      for (std::uint32_t i; n < batch_ && (i = free_.try_pop()) != kNil;) s.slots[n++] = slot(i);
      std::uint32_t first = 0;
      if (n == 0) {
        n = carve(batch_, first);
        for (std::uint32_t i = 0; i < n; ++i) s.slots[i] = slot(first + n - 1 - i);  // lowest first out
      }
      if (n == 0) return miss();
    }
    s.count.store(n, std::memory_order_relaxed);
    return n;
  }

  // A full cache (n = 2 * batch slots): its newest `batch` stay, the older `batch` are stowed. Returns how
  // many it now holds.
  HFTX_COLD std::uint32_t bag(CacheState& s, std::uint32_t n) noexcept {
    unsigned char** slots = s.slots.get();
    stow(slots);
    std::copy(slots + batch_, slots + n, slots);
    n -= batch_;
    s.count.store(n, std::memory_order_relaxed);
    return n;
  }

  // A Cache is going away: every slot it holds goes back (whole batches stowed, the rest onto the free list),
  // and its state is free for the next make_cache().
  void retire(CacheState& s) noexcept {
    std::uint32_t n = s.count.load(std::memory_order_relaxed);
    for (; n >= batch_; n -= batch_) stow(s.slots.get() + n - batch_);
    push_slots(s.slots.get(), n);
    s.count.store(0, std::memory_order_relaxed);
    std::lock_guard lock(caches_mutex_);
    s.live = false;
  }

  // Shared, contended lines: each stack's head sits on its own pair (see TaggedIndexStack).
  detail::TaggedIndexStack free_;   // single free slots: the uncached calls, and what a cache could not bag
  detail::TaggedIndexStack full_;   // the depot: magazines of `batch_` free slots
  detail::TaggedIndexStack empty_;  // magazines holding nothing
  alignas(2 * kCacheLine) std::atomic<std::size_t> carved_{0};
  std::atomic<std::uint64_t> misses_{0};
  // Read-only after construction.
  alignas(2 * kCacheLine) unsigned char* storage_ = nullptr;
  std::size_t capacity_;
  std::uint32_t batch_ = 1;
  std::unique_ptr<std::atomic<std::uint32_t>[]> slot_next_;      // free_'s links
  std::unique_ptr<unsigned char*[]> magazine_slots_;             // magazine m: [m * batch_, (m + 1) * batch_)
  std::unique_ptr<std::atomic<std::uint32_t>[]> magazine_next_;  // full_'s and empty_'s links
  // Cold: make_cache(), a Cache's end, stats().
  mutable std::mutex caches_mutex_;
  std::vector<std::unique_ptr<CacheState>> caches_;
};

}  // namespace hftx
