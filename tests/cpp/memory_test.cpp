// ObjectPool, ConcurrentObjectPool, BufferPool, Arena (+ ArenaResource, smaps, NUMA calls).
#include <gtest/gtest.h>
#include <link.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory_resource>
#include <set>
#include <span>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "hftx/core/error.hpp"
#include "hftx/cpu/thread_manager.hpp"
#include "hftx/memory/arena.hpp"
#include "hftx/memory/buffer_pool.hpp"
#include "hftx/memory/object_pool.hpp"
#include "hftx/memory/prefault.hpp"
#include "test_support.hpp"

namespace {

using hftx::test::scaled;

struct Tracked {
  static inline std::atomic<int> live{0};
  std::uint64_t a;
  std::uint64_t b;
  explicit Tracked(std::uint64_t v) noexcept : a(v), b(~v) { ++live; }
  ~Tracked() {
    EXPECT_EQ(b, ~a);
    --live;
  }
};

struct ThrowsOnZero {
  explicit ThrowsOnZero(int v) : value(v) {
    if (v == 0) throw std::runtime_error("zero");
  }
  int value;
};

// ---- ObjectPool ----------------------------------------------------------------------------------------

TEST(ObjectPool, FailPolicyStatsAndLifo) {
  Tracked::live = 0;
  hftx::ObjectPool<Tracked> pool(3);
  EXPECT_EQ(pool.capacity(), 3u);
  Tracked* a = pool.acquire(1);
  Tracked* b = pool.acquire(2);
  Tracked* c = pool.acquire(3);
  ASSERT_TRUE(a && b && c);
  EXPECT_EQ(Tracked::live, 3);
  EXPECT_EQ(pool.acquire(4), nullptr);  // exhausted: a status, not an exception
  EXPECT_EQ(pool.stats().misses, 1u);
  EXPECT_EQ(pool.stats().hits, 3u);
  EXPECT_EQ(pool.stats().high_water, 3u);
  EXPECT_TRUE(pool.owns(b));
  int outside = 0;
  EXPECT_FALSE(pool.owns(reinterpret_cast<Tracked*>(&outside)));
  pool.release(b);
  EXPECT_EQ(Tracked::live, 2);
  Tracked* d = pool.acquire(5);
  EXPECT_EQ(d, b) << "LIFO: the slot released last comes back first";
  EXPECT_EQ(d->a, 5u);
  pool.release(a);
  pool.release(c);
  pool.release(d);
  EXPECT_EQ(Tracked::live, 0);
  EXPECT_EQ(pool.stats().in_use, 0u);
  EXPECT_EQ(pool.stats().releases, 4u);
  EXPECT_EQ(pool.stats().high_water, 3u);
  EXPECT_EQ(pool.available(), 3u);
  {
    auto u = pool.acquire_unique(9);
    EXPECT_EQ(pool.stats().in_use, 1u);
  }
  EXPECT_EQ(pool.stats().in_use, 0u);
  EXPECT_EQ(Tracked::live, 0);
}

// Under random acquires, releases (in random order) and throwing constructors the statistics must equal a
// plain model's, and no slot may be handed out twice.
TEST(ObjectPool, StatsEqualAModelUnderRandomUse) {
  hftx::ObjectPool<ThrowsOnZero> pool(64);
  std::vector<ThrowsOnZero*> held;
  std::uint64_t acquires = 0, releases = 0, misses = 0;
  std::uint64_t x = 0x243f6a8885a308d3ull;
  for (int step = 0; step < 20000; ++step) {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    const unsigned r = static_cast<unsigned>(x % 16);
    if (r < 7 || held.empty()) {
      const int v = r == 0 ? 0 : static_cast<int>(r);
      try {
        ThrowsOnZero* p = pool.acquire(v);
        if (p == nullptr) {
          ++misses;
        } else {
          ++acquires;
          ASSERT_EQ(std::find(held.begin(), held.end(), p), held.end()) << "handed out twice, step " << step;
          held.push_back(p);
        }
      } catch (const std::runtime_error&) {
        EXPECT_EQ(v, 0);
      }
    } else {
      const std::size_t i = static_cast<std::size_t>((x >> 20) % held.size());
      pool.release(held[i]);
      held[i] = held.back();
      held.pop_back();
      ++releases;
    }
    const hftx::PoolStats st = pool.stats();
    ASSERT_EQ(st.hits, acquires) << step;
    ASSERT_EQ(st.releases, releases) << step;
    ASSERT_EQ(st.misses, misses) << step;
    ASSERT_EQ(st.in_use, held.size()) << step;
    ASSERT_EQ(pool.available(), 64 - held.size()) << step;
  }
  for (ThrowsOnZero* p : held) pool.release(p);
  EXPECT_EQ(pool.stats().in_use, 0u);
}

TEST(ObjectPool, GrowPolicyAddsChunks) {
  hftx::ObjectPool<std::uint64_t> pool(2, hftx::EmptyPolicy::kGrow, 5);
  std::vector<std::uint64_t*> got;
  std::set<std::uint64_t*> distinct;
  for (std::uint64_t i = 0; i < 13; ++i) {
    got.push_back(pool.acquire(i));
    ASSERT_NE(got.back(), nullptr);
    distinct.insert(got.back());
  }
  EXPECT_EQ(distinct.size(), 13u);
  EXPECT_EQ(pool.capacity(), 2u + 5u * 3u);
  EXPECT_EQ(pool.stats().grows, 3u);
  EXPECT_EQ(pool.stats().misses, 3u);
  for (std::uint64_t i = 0; i < 13; ++i) EXPECT_EQ(*got[i], i);
  for (auto* p : got) {
    EXPECT_TRUE(pool.owns(p));
    pool.release(p);
  }
  EXPECT_EQ(pool.stats().in_use, 0u);
}

// Growing while slots are out, then cycling: the free stack grows with the pool and hands each slot out once.
TEST(ObjectPool, GrowPoolHandsOutEachSlotOnceUnderRandomUse) {
  hftx::ObjectPool<std::uint64_t> pool(3, hftx::EmptyPolicy::kGrow, 4);
  std::vector<std::uint64_t*> held;
  std::uint64_t x = 0x9e3779b97f4a7c15ull, next = 0;
  for (int step = 0; step < 20000; ++step) {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    // Mostly acquires for the first half (the pool grows), mostly releases after.
    const bool take = held.empty() || (x % 8) < (step < 10000 ? 5u : 3u);
    if (take) {
      std::uint64_t* p = pool.acquire(next);
      ASSERT_NE(p, nullptr) << step;
      ASSERT_EQ(std::find(held.begin(), held.end(), p), held.end()) << "handed out twice, step " << step;
      ASSERT_TRUE(pool.owns(p));
      held.push_back(p);
      ++next;
    } else {
      const std::size_t i = static_cast<std::size_t>((x >> 20) % held.size());
      pool.release(held[i]);
      held[i] = held.back();
      held.pop_back();
    }
    ASSERT_EQ(pool.stats().in_use, held.size()) << step;
    ASSERT_LE(pool.stats().high_water, pool.capacity()) << step;
  }
  EXPECT_GT(pool.stats().grows, 10u);
  for (std::uint64_t* p : held) pool.release(p);
  EXPECT_EQ(pool.available(), pool.capacity());
}

TEST(ObjectPool, ThrowingConstructorReturnsTheSlot) {
  hftx::ObjectPool<ThrowsOnZero> pool(1);
  EXPECT_THROW((void)pool.acquire(0), std::runtime_error);
  ThrowsOnZero* p = pool.acquire(7);
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(p->value, 7);
  pool.release(p);
}

TEST(ObjectPool, BadCapacity) {
  EXPECT_THROW(hftx::ObjectPool<int>(0), hftx::ConfigError);
  EXPECT_THROW(hftx::ObjectPool<int>(SIZE_MAX), hftx::ConfigError);
  EXPECT_THROW(hftx::ConcurrentObjectPool<int>(0), hftx::ConfigError);
  EXPECT_THROW(hftx::ConcurrentObjectPool<int>(std::size_t{1} << 33), hftx::ConfigError);
}

// A 64-byte object fills exactly one cache line: the slots start on a line (they started 16 bytes in, so each
// object straddled two lines and the hot acquire+release pair cost 1.7-1.9 instead of 1.25-1.5 ns).
TEST(ObjectPool, SlotsOfALineSizedObjectEachFillOneLine) {
  struct alignas(8) Line {
    std::uint64_t w[8];
  };
  static_assert(sizeof(Line) == hftx::kCacheLine);
  hftx::ObjectPool<Line> pool(100, hftx::EmptyPolicy::kGrow, 50);
  hftx::ConcurrentObjectPool<Line> shared(100);
  std::vector<Line*> held;
  for (int i = 0; i < 180; ++i) {  // into a grown chunk too
    held.push_back(pool.acquire());
    ASSERT_EQ(reinterpret_cast<std::uintptr_t>(held.back()) % hftx::kCacheLine, 0u) << i;
  }
  for (Line* p : held) pool.release(p);
  held.clear();
  for (int i = 0; i < 100; ++i) {
    held.push_back(shared.acquire());
    ASSERT_EQ(reinterpret_cast<std::uintptr_t>(held.back()) % hftx::kCacheLine, 0u) << i;
  }
  for (Line* p : held) shared.release(p);
}

// ---- ConcurrentObjectPool -----------------------------------------------------------------------------

// Threads acquire and release concurrently, each through its own cache (cached[t]) or the uncached calls, and
// every fifth release instead swaps the object into one of 8 mailboxes and takes over whatever was there, so
// that objects are released by threads (and caches) other than the ones that acquired them. Checks that every
// slot is handed to one holder at a time, that objects arrive intact, that the caches' counts are exact, and
// that no slot is lost: afterwards all capacity() slots can be acquired again, each once.
void stress_concurrent_pool(hftx::ConcurrentObjectPool<Tracked>& pool, const std::vector<bool>& cached,
                            std::uint64_t iters) {
  Tracked::live = 0;
  const std::size_t cap = pool.capacity();
  // Learn the slot addresses, to keep one "held by" flag per slot.
  std::vector<Tracked*> addrs;
  for (std::size_t i = 0; i < cap; ++i) addrs.push_back(pool.acquire(i));
  for (Tracked* p : addrs) pool.release(p);
  std::sort(addrs.begin(), addrs.end());
  ASSERT_EQ(std::unique(addrs.begin(), addrs.end()), addrs.end());
  const auto slot_of = [&](const Tracked* p) {
    return static_cast<std::size_t>(std::lower_bound(addrs.begin(), addrs.end(), p) - addrs.begin());
  };
  std::vector<std::atomic<int>> holders(cap);
  std::atomic<Tracked*> mailbox[8] = {};
  std::atomic<std::uint64_t> double_handouts{0}, corrupt{0}, acquired{0}, cached_acquires{0}, cached_releases{0};
  std::vector<std::thread> threads;
  for (unsigned t = 0; t < cached.size(); ++t) {
    threads.emplace_back([&, t] {
      hftx::ConcurrentObjectPool<Tracked>::Cache cache;
      if (cached[t]) cache = pool.make_cache();
      std::uint64_t my_acquires = 0, my_releases = 0;
      const auto release = [&](Tracked* p) {
        if (holders[slot_of(p)].fetch_sub(1) != 1) double_handouts.fetch_add(1);
        if (cached[t]) {
          cache.release(p);
          ++my_releases;
        } else {
          pool.release(p);
        }
      };
      Tracked* held[24] = {};
      for (std::uint64_t i = 0; i < iters; ++i) {
        const std::size_t k = (i * 7 + t) % 24;
        if (held[k] != nullptr) {
          if (held[k]->b != ~held[k]->a) corrupt.fetch_add(1);
          if (i % 5 == 0) {  // hand it over; the flag stays set while it is in a mailbox
            held[k] = mailbox[(i + t) % 8].exchange(held[k], std::memory_order_acq_rel);
            continue;
          }
          release(held[k]);
          held[k] = nullptr;
        } else {
          const std::uint64_t token = (std::uint64_t{t} << 32) | i;
          Tracked* p = cached[t] ? cache.acquire(token) : pool.acquire(token);
          if (p == nullptr) {
            std::this_thread::yield();  // every free slot is in use or in other caches right now
            continue;
          }
          my_acquires += cached[t];
          const std::size_t s = slot_of(p);
          if (s >= cap || addrs[s] != p || holders[s].fetch_add(1) != 0) double_handouts.fetch_add(1);
          if (p->a != token) corrupt.fetch_add(1);
          acquired.fetch_add(1, std::memory_order_relaxed);
          held[k] = p;
        }
      }
      for (Tracked* p : held)
        if (p != nullptr) release(p);
      cached_acquires += my_acquires;
      cached_releases += my_releases;
    });  // the cache, if any, hands its slots back here
  }
  for (auto& th : threads) th.join();
  for (auto& m : mailbox) {
    if (Tracked* p = m.load()) {
      holders[slot_of(p)].fetch_sub(1);
      pool.release(p);
    }
  }
  EXPECT_EQ(double_handouts.load(), 0u);
  EXPECT_EQ(corrupt.load(), 0u);
  EXPECT_EQ(Tracked::live, 0);
  EXPECT_GT(acquired.load(), iters);  // the threads got objects most of the time
  const hftx::PoolStats s = pool.stats();
  EXPECT_EQ(s.in_use, 0u);  // every slot is free again: in the depot or on the free list
  EXPECT_EQ(s.high_water, cap);
  EXPECT_EQ(s.hits, cached_acquires.load());
  EXPECT_EQ(s.releases, cached_releases.load());
  // No slot lost: all cap can be acquired again, all distinct.
  std::set<Tracked*> all;
  for (std::size_t i = 0; i < cap; ++i) {
    Tracked* p = pool.acquire(i);
    ASSERT_NE(p, nullptr) << "slot lost";
    EXPECT_TRUE(pool.owns(p));
    all.insert(p);
  }
  EXPECT_EQ(all.size(), cap);
  const std::uint64_t misses_before = pool.stats().misses;
  EXPECT_EQ(pool.acquire(1), nullptr);
  EXPECT_EQ(pool.stats().misses, misses_before + 1);
  EXPECT_EQ(pool.stats().in_use, cap);
  for (Tracked* p : all) pool.release(p);
  EXPECT_EQ(Tracked::live, 0);
}

TEST(ConcurrentObjectPool, NoLossNoDoubleHandOut) {
  hftx::ConcurrentObjectPool<Tracked> pool(64);  // 4 x 24 held > 64: acquires also fail, and retry
  stress_concurrent_pool(pool, {false, false, false, false}, scaled(100'000));
}

// Three threads through caches, one uncached, with a small batch so that caches trade magazines with the
// depot all the time.
TEST(ConcurrentObjectPool, CachesAndUncachedCallsShareSlotsAcrossThreads) {
  hftx::ConcurrentObjectPool<Tracked> pool(160, 4);
  stress_concurrent_pool(pool, {true, false, true, true}, scaled(200'000));
}

TEST(ConcurrentObjectPool, CacheHandsOutEverySlotOnceAndGivesThemAllBack) {
  Tracked::live = 0;
  hftx::ConcurrentObjectPool<Tracked> pool(100, 8);
  EXPECT_EQ(pool.batch(), 8u);
  {
    auto cache = pool.make_cache();
    std::set<Tracked*> distinct;
    std::vector<Tracked*> v;
    for (std::uint64_t i = 0; i < 100; ++i) {
      Tracked* p = cache.acquire(i);
      ASSERT_NE(p, nullptr) << i;
      ASSERT_TRUE(pool.owns(p));
      EXPECT_EQ(p->a, i);
      distinct.insert(p);
      v.push_back(p);
    }
    EXPECT_EQ(distinct.size(), 100u);
    EXPECT_EQ(cache.acquire(100), nullptr);  // every slot in use
    hftx::PoolStats s = pool.stats();
    EXPECT_EQ(s.hits, 100u);
    EXPECT_EQ(s.misses, 1u);
    EXPECT_EQ(s.in_use, 100u);
    EXPECT_EQ(s.high_water, 100u);
    for (Tracked* p : v) cache.release(p);  // past 2 x 8 held, each further 8 go to the depot in a magazine
    EXPECT_EQ(cache.held(), 12u);           // 8 kept at the last bag, and 4 since
    s = pool.stats();
    EXPECT_EQ(s.releases, 100u);
    EXPECT_EQ(s.in_use, 0u);
  }  // the cache hands its 12 back
  EXPECT_EQ(Tracked::live, 0);
  // Uncached now: every slot comes back, from the depot's magazines and the free list, each once.
  std::set<Tracked*> again;
  for (std::uint64_t i = 0; i < 100; ++i) {
    Tracked* p = pool.acquire(i);
    ASSERT_NE(p, nullptr) << i;
    again.insert(p);
  }
  EXPECT_EQ(again.size(), 100u);
  EXPECT_EQ(pool.acquire(0), nullptr);
  EXPECT_EQ(pool.stats().in_use, 100u);
  EXPECT_EQ(pool.stats().misses, 2u);
  for (Tracked* p : again) pool.release(p);
  // A later cache reuses the first one's state, so its counts carry on.
  auto cache = pool.make_cache();
  Tracked* p = cache.acquire(7);
  ASSERT_NE(p, nullptr);
  auto moved = std::move(cache);  // a Cache moves; the moved-from one is detached
  EXPECT_EQ(cache.held(), 0u);
  moved.release(p);
  EXPECT_EQ(pool.stats().hits, 101u);
  EXPECT_EQ(pool.stats().releases, 101u);
  EXPECT_EQ(pool.stats().in_use, 0u);
}

TEST(ConcurrentObjectPool, ThrowingConstructorKeepsTheSlot) {
  hftx::ConcurrentObjectPool<ThrowsOnZero> pool(4, 2);
  auto cache = pool.make_cache();
  EXPECT_THROW((void)cache.acquire(0), std::runtime_error);  // carved 2 into the cache, used neither
  EXPECT_EQ(cache.held(), 2u);
  EXPECT_EQ(pool.stats().hits, 0u);
  ThrowsOnZero* a = cache.acquire(1);
  EXPECT_THROW((void)pool.acquire(0), std::runtime_error);  // carves the third slot, then frees it
  ThrowsOnZero* b = pool.acquire(2);
  ThrowsOnZero* c = pool.acquire(3);
  ThrowsOnZero* d = cache.acquire(4);
  ASSERT_TRUE(a && b && c && d);
  EXPECT_EQ(std::set<ThrowsOnZero*>({a, b, c, d}).size(), 4u);
  EXPECT_EQ(pool.acquire(5), nullptr);
  for (ThrowsOnZero* p : {a, b, c, d}) cache.release(p);
}

TEST(ConcurrentObjectPool, BatchDefaultsAndBadBatch) {
  EXPECT_EQ(hftx::ConcurrentObjectPool<int>(1000).batch(), 32u);
  EXPECT_EQ(hftx::ConcurrentObjectPool<int>(64).batch(), 8u);
  EXPECT_EQ(hftx::ConcurrentObjectPool<int>(3).batch(), 1u);
  EXPECT_EQ(hftx::ConcurrentObjectPool<int>(3, 3).batch(), 3u);
  try {
    hftx::ConcurrentObjectPool<int> pool(10, 11);
    FAIL() << "no error";
  } catch (const hftx::ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("batch 11"), std::string::npos) << e.what();
  }
}

// ---- BufferPool ----------------------------------------------------------------------------------------

TEST(BufferPool, SizeClassesUpsizeAndMiss) {
  const hftx::BufferClass classes[] = {{256, 2}, {2048, 1}, {65536, 1}};
  hftx::BufferPool pool(classes);
  EXPECT_EQ(pool.stats().bytes_reserved, 2 * 256 + 2048 + 65536u);
  auto a = pool.acquire(100);
  ASSERT_TRUE(a);
  EXPECT_EQ(a.size(), 256u);
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(a.data()) % 64, 0u);
  std::memset(a.data(), 0xab, a.size());
  auto b = pool.acquire(256);
  EXPECT_EQ(b.size(), 256u);
  auto c = pool.acquire(1);  // its class is empty: upsized to 2048
  EXPECT_EQ(c.size(), 2048u);
  EXPECT_EQ(pool.stats().upsized, 1u);
  auto d = pool.acquire(3000);
  EXPECT_EQ(d.size(), 65536u);
  auto e = pool.acquire(10);  // nothing left that fits
  EXPECT_FALSE(e);
  EXPECT_EQ(pool.stats().misses, 1u);
  EXPECT_FALSE(pool.acquire(100000));  // larger than every class
  EXPECT_EQ(pool.stats().misses, 2u);
  EXPECT_EQ(pool.stats().in_use, 4u);
  std::byte* const b_data = b.data();
  b.reset();
  EXPECT_EQ(pool.available(0), 1u);
  auto f = pool.acquire(200);
  EXPECT_EQ(f.data(), b_data) << "LIFO within a class";
  hftx::BufferPool::Buffer moved = std::move(f);
  EXPECT_FALSE(f);  // NOLINT(bugprone-use-after-move): checking the moved-from state
  EXPECT_TRUE(moved);
  EXPECT_EQ(pool.stats().high_water, 4u);
  a.reset();
  c.reset();
  d.reset();
  moved.reset();
  EXPECT_EQ(pool.stats().in_use, 0u);
  EXPECT_EQ(pool.stats().releases, 5u);
}

TEST(BufferPool, BadClassesAreConfigErrors) {
  const hftx::BufferClass zero[] = {{0, 1}};
  const hftx::BufferClass unordered[] = {{512, 1}, {256, 1}};
  const hftx::BufferClass none_count[] = {{64, 0}};
  EXPECT_THROW(hftx::BufferPool{zero}, hftx::ConfigError);
  EXPECT_THROW(hftx::BufferPool{unordered}, hftx::ConfigError);
  EXPECT_THROW(hftx::BufferPool{none_count}, hftx::ConfigError);
  EXPECT_THROW(hftx::BufferPool(std::span<const hftx::BufferClass>{}), hftx::ConfigError);
}

// ---- Arena ---------------------------------------------------------------------------------------------

std::string thp_enabled() {
  std::ifstream in("/sys/kernel/mm/transparent_hugepage/enabled");
  std::string s;
  std::getline(in, s);
  const auto a = s.find('['), b = s.find(']');
  return a == std::string::npos ? "" : s.substr(a + 1, b - a - 1);
}

TEST(Arena, NormalPagesBumpAllocationAndSmaps) {
  hftx::ArenaOptions o;
  o.bytes = 1 << 20;
  o.pages = hftx::PageRequest::kNormal;
  hftx::Arena arena(o);
  const hftx::ArenaReport& r = arena.report();
  EXPECT_EQ(r.pages, hftx::PageKind::kNormal);
  EXPECT_EQ(r.mapped_bytes, std::size_t{1} << 20);
  EXPECT_TRUE(r.populated);
  const hftx::SmapsInfo s = hftx::smaps_for(arena.data());
  ASSERT_TRUE(s.found);
  EXPECT_EQ(s.kernel_page, static_cast<std::size_t>(::sysconf(_SC_PAGESIZE)));
  EXPECT_EQ(s.size, r.mapped_bytes);
  EXPECT_EQ(s.rss, r.mapped_bytes) << "populate touched every page";
  EXPECT_EQ(s.anon_huge, 0u);

  void* a = arena.allocate(10, 1);
  void* b = arena.allocate(64, 64);
  ASSERT_TRUE(a && b);
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(b) % 64, 0u);
  EXPECT_EQ(static_cast<std::byte*>(b) - static_cast<std::byte*>(a), 64);  // no per-object header
  EXPECT_EQ(arena.used(), 128u);
  EXPECT_EQ(arena.allocate(arena.remaining() + 1), nullptr);
  EXPECT_EQ(arena.allocate(SIZE_MAX - 8, 64), nullptr);  // no overflow
  EXPECT_NE(arena.allocate(arena.remaining(), 1), nullptr);
  EXPECT_EQ(arena.remaining(), 0u);
  arena.reset();
  EXPECT_EQ(arena.used(), 0u);

  // A pmr resource over it for setup-time containers.
  hftx::ArenaResource res(arena);
  std::pmr::vector<int> v(&res);
  for (int i = 0; i < 1000; ++i) v.push_back(i);
  EXPECT_GE(reinterpret_cast<std::byte*>(v.data()), arena.data());
  EXPECT_LT(reinterpret_cast<std::byte*>(v.data()), arena.data() + arena.capacity());
  std::pmr::vector<char> huge(&res);
  EXPECT_THROW(huge.resize(arena.capacity() + 1), std::bad_alloc);

  // Moves keep the mapping.
  std::byte* data = arena.data();
  hftx::Arena other = std::move(arena);
  EXPECT_EQ(other.data(), data);
  EXPECT_EQ(arena.data(), nullptr);  // NOLINT(bugprone-use-after-move)
}

TEST(Arena, TransparentHugePagesReportMatchesSmaps) {
  hftx::ArenaOptions o;
  o.bytes = 8 << 20;
  o.pages = hftx::PageRequest::kTransparent;
  hftx::Arena arena(o);
  const hftx::ArenaReport& r = arena.report();
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(arena.data()) % (2 << 20), 0u) << "2 MiB aligned for THP";
  const hftx::SmapsInfo s = hftx::smaps_for(arena.data());
  ASSERT_TRUE(s.found);
  const std::string mode = thp_enabled();
  if (mode == "always" || mode == "madvise") {
    EXPECT_EQ(r.pages, hftx::PageKind::kTransparentHuge) << r.summary();
    EXPECT_TRUE(s.thp_eligible);
  } else {
    EXPECT_EQ(r.pages, hftx::PageKind::kNormal) << r.summary();
    EXPECT_FALSE(r.notes.empty());
  }
  // What the report claims is what smaps showed (the kernel may have backed only part with huge pages;
  // khugepaged may collapse more later, never fewer while the mapping lives).
  EXPECT_LE(r.huge_backed_bytes, s.anon_huge) << r.summary();
  EXPECT_LE(s.anon_huge, r.mapped_bytes);
  std::printf("THP arena: %s\n", r.summary().c_str());
}

// Reserves a few huge pages when root (and puts the setting back), else checks the fallback report.
TEST(Arena, HugeTlbWhenReservedElseFallbackWithReport) {
  const std::string knob = "/proc/sys/vm/nr_hugepages";
  long before = -1;
  {
    std::ifstream in(knob);
    in >> before;
  }
  const bool root = ::geteuid() == 0;
  if (root && before >= 0) std::ofstream(knob) << before + 4 << "\n";
  const bool reserved = hftx::huge_pages_free() >= 2;  // by us, or by the machine's administrator
  struct Restore {
    std::string knob;
    long before;
    bool active;
    ~Restore() {
      if (active) std::ofstream(knob) << before << "\n";
    }
  } restore{knob, before, root && before >= 0};

  hftx::ArenaOptions o;
  o.bytes = 3 << 20;  // rounds up to two 2 MiB pages
  if (reserved) {
    o.pages = hftx::PageRequest::kHugeTlbOnly;
    hftx::Arena arena(o);
    const hftx::ArenaReport& r = arena.report();
    EXPECT_EQ(r.pages, hftx::PageKind::kHugeTlb);
    EXPECT_EQ(r.page_size, hftx::huge_page_size());
    EXPECT_EQ(r.mapped_bytes, 2 * hftx::huge_page_size());
    const hftx::SmapsInfo s = hftx::smaps_for(arena.data());
    ASSERT_TRUE(s.found);
    EXPECT_EQ(s.kernel_page, hftx::huge_page_size());
    EXPECT_EQ(s.hugetlb, r.mapped_bytes);
    std::printf("hugetlb arena: %s\n", r.summary().c_str());
  } else if (hftx::huge_pages_free() == 0) {
    o.pages = hftx::PageRequest::kHugeTlbOnly;
    EXPECT_THROW(hftx::Arena{o}, hftx::SystemError);
    o.pages = hftx::PageRequest::kAuto;
    hftx::Arena arena(o);
    EXPECT_NE(arena.report().pages, hftx::PageKind::kHugeTlb);
    ASSERT_FALSE(arena.report().notes.empty());
    EXPECT_NE(arena.report().notes[0].find("MAP_HUGETLB"), std::string::npos) << arena.report().summary();
  } else {
    GTEST_SKIP() << "only one free huge page and no permission to reserve more";
  }
}

TEST(Arena, LockIsGrantedOrReported) {
  hftx::ArenaOptions o;
  o.bytes = 256 << 10;
  o.pages = hftx::PageRequest::kNormal;
  o.lock = true;
  hftx::Arena arena(o);
  if (arena.report().locked) {
    EXPECT_EQ(hftx::smaps_for(arena.data()).locked, arena.report().mapped_bytes);
  } else {
    ASSERT_FALSE(arena.report().notes.empty());
    EXPECT_NE(arena.report().notes.back().find("mlock"), std::string::npos);
  }
}

TEST(Arena, NumaOnOneNodeMachine) {
  const std::vector<int> nodes = hftx::numa_online_nodes();
  ASSERT_FALSE(nodes.empty());
  hftx::ArenaOptions o;
  o.bytes = 1 << 20;
  o.pages = hftx::PageRequest::kNormal;
  o.numa_node = nodes.front();
  hftx::Arena arena(o);
  const hftx::ArenaReport& r = arena.report();
  if (r.numa_node >= 0) {
    EXPECT_EQ(r.numa_node, nodes.front());
    EXPECT_EQ(r.numa_node_observed, nodes.front()) << r.summary();
    EXPECT_EQ(hftx::numa_node_of(arena.data() + (512 << 10)), nodes.front());
  } else {
    EXPECT_NE(r.summary().find("NUMA"), std::string::npos) << r.summary();  // kernel without NUMA: reported
  }
  // A node that does not exist is a configuration error naming it.
  o.numa_node = nodes.back() + 1;
  try {
    hftx::Arena bad(o);
    FAIL() << "expected ConfigError";
  } catch (const hftx::ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("numa_node = " + std::to_string(nodes.back() + 1)), std::string::npos)
        << e.what();
  }
  o.numa_node = -5;
  EXPECT_THROW(hftx::Arena{o}, hftx::ConfigError);
  EXPECT_EQ(hftx::numa_bind(arena.data(), 4096, -1), EINVAL);
}

TEST(Arena, NumaNodeListFromSysfs) {
  const auto root = std::filesystem::temp_directory_path() / ("hftx_numa_" + std::to_string(::getpid()));
  std::filesystem::create_directories(root / "devices/system/node");
  std::ofstream(root / "devices/system/node/online") << "0-1,3\n";
  EXPECT_EQ(hftx::numa_online_nodes(root.string()), (std::vector<int>{0, 1, 3}));
  std::filesystem::remove_all(root);
  EXPECT_EQ(hftx::numa_online_nodes(root.string()), (std::vector<int>{0}));  // no NUMA in sysfs: one node
}

TEST(Arena, BadSizesAreConfigErrors) {
  hftx::ArenaOptions o;
  o.bytes = 0;
  EXPECT_THROW(hftx::Arena{o}, hftx::ConfigError);
  o.bytes = std::size_t{1} << 50;  // 1 PiB: more than the machine's memory
  try {
    hftx::Arena a(o);
    FAIL();
  } catch (const hftx::ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("MemTotal"), std::string::npos) << e.what();
  }
}

// ---- reserve_mapped ------------------------------------------------------------------------------------

// Pushes into v's reserved room (no reallocation) and returns the minor faults that took.
std::uint64_t faults_filling(std::vector<std::uint64_t>& v) {
  const std::size_t room = v.capacity() - v.size();
  const auto before = hftx::read_thread_usage(::gettid()).minor_faults;
  for (std::size_t i = 0; i < room; ++i) v.push_back(i);
  return static_cast<std::uint64_t>(hftx::read_thread_usage(::gettid()).minor_faults - before);
}

TEST(ReserveMapped, KeepsTheContentsAndMapsTheRoomNow) {
  constexpr std::size_t kRoom = std::size_t{1} << 21;  // 16 MiB: malloc maps it fresh
  std::vector<std::uint64_t> v{7, 8, 9};
  hftx::reserve_mapped(v, kRoom);
  EXPECT_EQ(v, (std::vector<std::uint64_t>{7, 8, 9}));
  ASSERT_GE(v.capacity(), kRoom);
  std::vector<std::uint64_t> plain{7, 8, 9};
  plain.reserve(kRoom);
  const std::uint64_t plain_faults = faults_filling(plain);
  const std::uint64_t mapped_faults = faults_filling(v);
  EXPECT_EQ(v[3], 0u);
  EXPECT_EQ(v.back(), v.size() - 4);
#ifdef HFTX_SANITIZER
  GTEST_SKIP() << "the sanitizer's shadow memory takes faults of its own";
#endif
  // The measurement sees faults: a plain reserve() leaves the pages to the first push into each.
  EXPECT_GT(plain_faults, 0u);
  EXPECT_EQ(mapped_faults, 0u);
}

// ---- prefault_code ----------------------------------------------------------------------------------------

// The pages of this test program's executable segments (hftx is linked in statically).
std::vector<std::uintptr_t> code_pages() {
  struct Found { std::uintptr_t inside, page; std::vector<std::uintptr_t> pages; } f{
      reinterpret_cast<std::uintptr_t>(&hftx::prefault_code), static_cast<std::uintptr_t>(::sysconf(_SC_PAGESIZE)), {}};
  ::dl_iterate_phdr([](dl_phdr_info* info, std::size_t, void* data) {
    auto& found = *static_cast<Found*>(data);
    std::vector<std::uintptr_t> pages;
    bool ours = false;
    for (int i = 0; i < info->dlpi_phnum; ++i) {
      const ElfW(Phdr)& ph = info->dlpi_phdr[i];
      const std::uintptr_t begin = info->dlpi_addr + ph.p_vaddr;
      if (ph.p_type != PT_LOAD) continue;
      ours = ours || (found.inside >= begin && found.inside < begin + ph.p_memsz);
      if ((ph.p_flags & PF_X) != 0)
        for (std::uintptr_t p = begin & ~(found.page - 1); p < begin + ph.p_memsz; p += found.page) pages.push_back(p);
    }
    if (ours) found.pages = std::move(pages);
    return ours ? 1 : 0;
  }, &f);
  return f.pages;
}

// Minor faults taken reading one byte of each page.
std::uint64_t faults_reading(std::span<const std::uintptr_t> pages) {
  const auto before = hftx::read_thread_usage(::gettid()).minor_faults;
  for (std::uintptr_t p : pages) (void)*reinterpret_cast<const volatile char*>(p);
  return static_cast<std::uint64_t>(hftx::read_thread_usage(::gettid()).minor_faults - before);
}

TEST(PrefaultCode, MapsEveryPageOfTheProgramsCode) {
  const std::vector<std::uintptr_t> pages = code_pages();
  ASSERT_GT(pages.size(), 16u);
  // The first half read before: the measurement sees the faults that code not run yet takes.
  const std::size_t half = pages.size() / 2;
  const std::uint64_t unmapped = faults_reading(std::span(pages).first(half));
  const std::size_t mapped = hftx::prefault_code();
  EXPECT_EQ(mapped, pages.size() * static_cast<std::size_t>(::sysconf(_SC_PAGESIZE)));
  const std::uint64_t after = faults_reading(std::span(pages).subspan(half));
  EXPECT_EQ(hftx::prefault_code(), mapped);
#ifdef HFTX_SANITIZER
  GTEST_SKIP() << "the sanitizer's shadow memory takes faults of its own";
#endif
  EXPECT_GT(unmapped, 0u);
  EXPECT_EQ(after, 0u);
}

}  // namespace
