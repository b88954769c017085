// Memory: hftx pools and arenas against the allocators a user would otherwise call.
//  pool_hot/<impl>            acquire + release of one 64-byte object, over and over (the free list's top
//                             stays in L1): the per-message cost of taking an order object and giving it back
//  pool_cycle_1000/<impl>     acquire 1,000 objects, then release them in acquisition order: a working set
//                             that cycles through the pool
//  pool_handoff/<impl>        one thread acquires, a second releases: 64-byte objects cross between the cores
//                             through an SPSC queue, as orders do from a strategy to a gateway (the queue's
//                             cost is in every impl's figure)
//  arena_random_access/<impl> dependent random 8-byte reads over a 1 GiB arena: hftx_huge (huge pages:
//                             MAP_HUGETLB when reserved, else transparent) vs hftx_normal (4 KiB pages): the
//                             TLB-miss cost huge pages remove
// Peers: glibc malloc/free (called through __libc_malloc/__libc_free, so the counting allocator linked into
// every benchmark adds nothing), mimalloc (mi_malloc/mi_free), std::pmr::unsynchronized_pool_resource.
//
// mimalloc: Debian ships only the shared libmimalloc.so, which also exports malloc/free; linking it would
// override malloc for the whole program and turn the malloc peer into a second mimalloc run. So it is
// dlopen()ed with RTLD_LOCAL (its malloc never enters the global symbol scope) and called through
// dlsym("mi_malloc"/"mi_free"); the program checks at start-up that `malloc` still resolves outside
// libmimalloc and reports the check as the counter mimalloc_isolated = 1.
#include <dlfcn.h>

#include <cstdint>
#include <cstdlib>
#include <memory_resource>
#include <random>
#include <thread>
#include <vector>

#include "bench_support.hpp"
#include "hftx/lockfree/spsc_queue.hpp"
#include "hftx/memory/arena.hpp"
#include "hftx/memory/object_pool.hpp"

extern "C" {
void* __libc_malloc(std::size_t);
void __libc_free(void*);
}

namespace {

constexpr int kBatch = 256;

struct Order {  // 64 bytes: a typical pooled hot-path object
  std::uint64_t id;
  std::int64_t price;
  std::int64_t qty;
  std::uint64_t ts;
  std::uint64_t pad[4];
};
static_assert(sizeof(Order) == 64);

// ---- mimalloc, isolated ------------------------------------------------------------------------------

struct Mimalloc {
  using Malloc = void* (*)(std::size_t);
  using Free = void (*)(void*);
  Malloc malloc = nullptr;
  Free free = nullptr;
  bool isolated = false;

  Mimalloc() {
    void* h = ::dlopen("libmimalloc.so.2", RTLD_NOW | RTLD_LOCAL);
    if (h == nullptr) h = ::dlopen("libmimalloc.so", RTLD_NOW | RTLD_LOCAL);
    if (h == nullptr) return;
    malloc = reinterpret_cast<Malloc>(::dlsym(h, "mi_malloc"));
    free = reinterpret_cast<Free>(::dlsym(h, "mi_free"));
    // The global `malloc` must not be mimalloc's: compare what the global scope resolves with the library's.
    void* global_malloc = ::dlsym(RTLD_DEFAULT, "malloc");
    void* mi_exported_malloc = ::dlsym(h, "malloc");
    Dl_info info{};
    const bool global_outside = ::dladdr(global_malloc, &info) != 0 && info.dli_fname != nullptr &&
                                std::string(info.dli_fname).find("mimalloc") == std::string::npos;
    isolated = malloc != nullptr && free != nullptr && global_malloc != mi_exported_malloc && global_outside;
  }
};

const Mimalloc& mimalloc() {
  static const Mimalloc m;
  return m;
}

// ---- pool_hot ------------------------------------------------------------------------------------------

// Makes the benchmark use the object: the asm reads *o from memory, so every impl must really have built a
// 64-byte Order there (its stores cannot be elided), without a blanket memory clobber that would also force
// the pool's own bookkeeping out of registers (which a real caller's inlined code does not suffer).
HFTX_FORCE_INLINE void use(Order* o) noexcept { asm volatile("" : : "r"(o), "m"(*o)); }

template <class Acquire, class Release>
void hot_loop(benchmark::State& state, Acquire acquire, Release release) {
  hftx::bench::OpSampler sampler;
  for (int i = 0; i < 1000; ++i) release(acquire(static_cast<std::uint64_t>(i)));  // warm-up
  hftx::bench::AllocMeter alloc;
  std::uint64_t n = 0;
  for (auto _ : state) {
    const std::uint64_t t0 = hftx::TscClock::ticks();
    for (int i = 0; i < kBatch; ++i) {
      Order* o = acquire(n++);
      use(o);
      release(o);
    }
    sampler.add(hftx::TscClock::ticks() - t0, kBatch);
  }
  alloc.publish(state);
  state.SetItemsProcessed(state.iterations() * kBatch);
  sampler.publish(state);
}

Order* construct(void* p, std::uint64_t id) { return ::new (p) Order{id, 0, 0, 0, {}}; }

void pool_hot_hftx(benchmark::State& s) {
  hftx::ObjectPool<Order> pool(1024);
  hot_loop(s, [&](std::uint64_t id) { return pool.acquire(Order{id, 0, 0, 0, {}}); },
           [&](Order* o) { pool.release(o); });
}
void pool_hot_hftx_concurrent(benchmark::State& s) {
  hftx::ConcurrentObjectPool<Order> pool(1024);
  hot_loop(s, [&](std::uint64_t id) { return pool.acquire(Order{id, 0, 0, 0, {}}); },
           [&](Order* o) { pool.release(o); });
}
// The same pool through a per-thread cache: pops and pushes on a private array, two CASes per magazine of slots.
void pool_hot_hftx_concurrent_cache(benchmark::State& s) {
  hftx::ConcurrentObjectPool<Order> pool(1024);
  auto cache = pool.make_cache();
  hot_loop(s, [&](std::uint64_t id) { return cache.acquire(Order{id, 0, 0, 0, {}}); },
           [&](Order* o) { cache.release(o); });
}
void pool_hot_malloc(benchmark::State& s) {
  hot_loop(s, [](std::uint64_t id) { return construct(__libc_malloc(sizeof(Order)), id); },
           [](Order* o) { __libc_free(o); });
}
void pool_hot_mimalloc(benchmark::State& s) {
  const Mimalloc& mi = mimalloc();
  if (!mi.isolated) {
    s.SkipWithError("libmimalloc could not be loaded in isolation");
    return;
  }
  hot_loop(s, [&](std::uint64_t id) { return construct(mi.malloc(sizeof(Order)), id); },
           [&](Order* o) { mi.free(o); });
  s.counters["mimalloc_isolated"] = 1;
}
void pool_hot_pmr(benchmark::State& s) {
  std::pmr::unsynchronized_pool_resource res;
  hot_loop(s, [&](std::uint64_t id) { return construct(res.allocate(sizeof(Order), alignof(Order)), id); },
           [&](Order* o) { res.deallocate(o, sizeof(Order), alignof(Order)); });
}

// ---- pool_cycle_1000 -----------------------------------------------------------------------------------

template <class Acquire, class Release>
void cycle_loop(benchmark::State& state, Acquire acquire, Release release) {
  constexpr int kN = 1000;
  std::vector<Order*> held(kN);
  for (int w = 0; w < 3; ++w) {  // warm-up: the allocators' caches and the pool's first touch
    for (int i = 0; i < kN; ++i) held[static_cast<std::size_t>(i)] = acquire(static_cast<std::uint64_t>(i));
    for (Order* o : held) release(o);
  }
  hftx::bench::OpSampler sampler;
  hftx::bench::AllocMeter alloc;
  for (auto _ : state) {
    const std::uint64_t t0 = hftx::TscClock::ticks();
    for (int i = 0; i < kN; ++i) {
      Order* o = acquire(static_cast<std::uint64_t>(i));
      use(o);
      held[static_cast<std::size_t>(i)] = o;
    }
    benchmark::DoNotOptimize(held.data());
    for (Order* o : held) release(o);
    sampler.add(hftx::TscClock::ticks() - t0, kN);
  }
  alloc.publish(state);
  state.SetItemsProcessed(state.iterations() * kN);  // one item = one acquire + one release
  sampler.publish(state);
}

void pool_cycle_hftx(benchmark::State& s) {
  hftx::ObjectPool<Order> pool(1000);
  cycle_loop(s, [&](std::uint64_t id) { return pool.acquire(Order{id, 0, 0, 0, {}}); },
             [&](Order* o) { pool.release(o); });
}
void pool_cycle_hftx_concurrent(benchmark::State& s) {
  hftx::ConcurrentObjectPool<Order> pool(1000);
  cycle_loop(s, [&](std::uint64_t id) { return pool.acquire(Order{id, 0, 0, 0, {}}); },
             [&](Order* o) { pool.release(o); });
}
void pool_cycle_hftx_concurrent_cache(benchmark::State& s) {
  hftx::ConcurrentObjectPool<Order> pool(1000);
  auto cache = pool.make_cache();
  cycle_loop(s, [&](std::uint64_t id) { return cache.acquire(Order{id, 0, 0, 0, {}}); },
             [&](Order* o) { cache.release(o); });
}
void pool_cycle_malloc(benchmark::State& s) {
  cycle_loop(s, [](std::uint64_t id) { return construct(__libc_malloc(sizeof(Order)), id); },
             [](Order* o) { __libc_free(o); });
}
void pool_cycle_mimalloc(benchmark::State& s) {
  const Mimalloc& mi = mimalloc();
  if (!mi.isolated) {
    s.SkipWithError("libmimalloc could not be loaded in isolation");
    return;
  }
  cycle_loop(s, [&](std::uint64_t id) { return construct(mi.malloc(sizeof(Order)), id); },
             [&](Order* o) { mi.free(o); });
  s.counters["mimalloc_isolated"] = 1;
}
void pool_cycle_pmr(benchmark::State& s) {
  std::pmr::unsynchronized_pool_resource res;
  cycle_loop(s, [&](std::uint64_t id) { return construct(res.allocate(sizeof(Order), alignof(Order)), id); },
             [&](Order* o) { res.deallocate(o, sizeof(Order), alignof(Order)); });
}

// ---- pool_handoff --------------------------------------------------------------------------------------

// make_acquire() and make_release() are called on the thread that will use what they return (a cache is
// per-thread). Items: objects acquired on the first CPU and released on the second.
template <class MakeAcquire, class MakeRelease>
void handoff_loop(benchmark::State& state, MakeAcquire make_acquire, MakeRelease make_release) {
  if (hftx::bench::allowed_cpus().size() < 2) {
    state.SkipWithError("needs two CPUs");
    return;
  }
  auto q = std::make_unique<hftx::SpscQueue<Order*, hftx::BusySpinWait>>(1024);
  std::thread consumer([&] {
    hftx::bench::pin_self(hftx::bench::cpu_at(1));
    auto release = make_release();
    for (;;) {
      Order* const* front = q->front();
      if (front == nullptr) {
        hftx::cpu_relax();
        continue;
      }
      Order* o = *front;
      q->pop();
      if (o == nullptr) break;  // the end
      use(o);
      release(o);
    }
  });
  hftx::bench::PinScope pin(hftx::bench::cpu_at(0));
  bool failed = false;
  {
    auto acquire = make_acquire();
    std::uint64_t id = 0;
    for (auto _ : state) {
      for (int i = 0; i < kBatch && !failed; ++i) {
        Order* o = acquire(id++);
        failed = o == nullptr;
        while (o != nullptr && !q->try_push(o)) hftx::cpu_relax();
      }
    }
  }
  q->push(nullptr);
  consumer.join();
  if (failed) state.SkipWithError("the pool ran out of objects");
  state.SetItemsProcessed(state.iterations() * kBatch);
}

// Room for the queue's 1,024 in flight and both caches' arrays.
constexpr std::size_t kHandoffPool = 4096;

void pool_handoff_hftx_concurrent_cache(benchmark::State& s) {
  hftx::ConcurrentObjectPool<Order> pool(kHandoffPool);
  const auto side = [&](auto op) {
    return [&pool, op] {
      return [cache = pool.make_cache(), op](auto arg) mutable { return op(cache, arg); };
    };
  };
  handoff_loop(s, side([](auto& c, std::uint64_t id) { return c.acquire(Order{id, 0, 0, 0, {}}); }),
               side([](auto& c, Order* o) { c.release(o); }));
}
void pool_handoff_hftx_concurrent(benchmark::State& s) {
  hftx::ConcurrentObjectPool<Order> pool(kHandoffPool);
  handoff_loop(s, [&] { return [&](std::uint64_t id) { return pool.acquire(Order{id, 0, 0, 0, {}}); }; },
               [&] { return [&](Order* o) { pool.release(o); }; });
}
void pool_handoff_malloc(benchmark::State& s) {
  handoff_loop(s, [] { return [](std::uint64_t id) { return construct(__libc_malloc(sizeof(Order)), id); }; },
               [] { return [](Order* o) { __libc_free(o); }; });
}
void pool_handoff_mimalloc(benchmark::State& s) {
  const Mimalloc& mi = mimalloc();
  if (!mi.isolated) {
    s.SkipWithError("libmimalloc could not be loaded in isolation");
    return;
  }
  handoff_loop(s, [&] { return [&](std::uint64_t id) { return construct(mi.malloc(sizeof(Order)), id); }; },
               [&] { return [&](Order* o) { mi.free(o); }; });
  s.counters["mimalloc_isolated"] = 1;
}
// The standard's thread-safe pool (the unsynchronized one cannot be shared).
void pool_handoff_pmr(benchmark::State& s) {
  std::pmr::synchronized_pool_resource res;
  handoff_loop(
      s, [&] { return [&](std::uint64_t id) { return construct(res.allocate(sizeof(Order), alignof(Order)), id); }; },
      [&] { return [&](Order* o) { res.deallocate(o, sizeof(Order), alignof(Order)); }; });
}

// ---- arena_random_access -------------------------------------------------------------------------------

void arena_random_access(benchmark::State& state, hftx::PageRequest pages) {
  constexpr std::size_t kBytes = std::size_t{1} << 30;
  hftx::ArenaOptions o;
  o.bytes = kBytes;
  o.pages = pages;
  hftx::Arena arena(o);
  auto* words = static_cast<std::uint64_t*>(arena.allocate(kBytes, 64));
  const std::size_t n = kBytes / sizeof(std::uint64_t);
  std::mt19937_64 fill(42);
  for (std::size_t i = 0; i < n; i += 512) words[i] = fill();  // a few distinct values; pages are populated
  state.SetLabel(std::string(hftx::to_string(arena.report().pages)) + ", " +
                 std::to_string(arena.report().huge_backed_bytes >> 20) + " MiB on huge pages");
  hftx::bench::AllocMeter alloc;
  std::uint64_t x = 0x9E3779B97F4A7C15ull, acc = 0;
  for (auto _ : state) {
    for (int i = 0; i < kBatch; ++i) {
      // xorshift64 mixed with the loaded value: each address depends on the previous load (latency, not
      // memory-level parallelism, as a pointer-chasing book or hash lookup would see).
      x ^= x << 13;
      x ^= x >> 7;
      x ^= x << 17;
      acc += words[(x ^ acc) & (n - 1)];
    }
  }
  benchmark::DoNotOptimize(acc);
  alloc.publish(state);
  state.SetItemsProcessed(state.iterations() * kBatch);
  state.counters["huge_mib"] = static_cast<double>(arena.report().huge_backed_bytes >> 20);
}

void arena_huge(benchmark::State& s) { arena_random_access(s, hftx::PageRequest::kAuto); }
void arena_normal(benchmark::State& s) { arena_random_access(s, hftx::PageRequest::kNormal); }

}  // namespace

BENCHMARK(pool_hot_hftx)->Name("pool_hot/hftx");
BENCHMARK(pool_hot_hftx_concurrent)->Name("pool_hot/hftx_concurrent");
BENCHMARK(pool_hot_hftx_concurrent_cache)->Name("pool_hot/hftx_concurrent_cache");
BENCHMARK(pool_hot_malloc)->Name("pool_hot/malloc");
BENCHMARK(pool_hot_mimalloc)->Name("pool_hot/mimalloc");
BENCHMARK(pool_hot_pmr)->Name("pool_hot/pmr_pool");
BENCHMARK(pool_cycle_hftx)->Name("pool_cycle_1000/hftx");
BENCHMARK(pool_cycle_hftx_concurrent)->Name("pool_cycle_1000/hftx_concurrent");
BENCHMARK(pool_cycle_hftx_concurrent_cache)->Name("pool_cycle_1000/hftx_concurrent_cache");
BENCHMARK(pool_cycle_malloc)->Name("pool_cycle_1000/malloc");
BENCHMARK(pool_cycle_mimalloc)->Name("pool_cycle_1000/mimalloc");
BENCHMARK(pool_cycle_pmr)->Name("pool_cycle_1000/pmr_pool");
BENCHMARK(pool_handoff_hftx_concurrent_cache)->Name("pool_handoff/hftx_concurrent_cache")->UseRealTime();
BENCHMARK(pool_handoff_hftx_concurrent)->Name("pool_handoff/hftx_concurrent")->UseRealTime();
BENCHMARK(pool_handoff_malloc)->Name("pool_handoff/malloc")->UseRealTime();
BENCHMARK(pool_handoff_mimalloc)->Name("pool_handoff/mimalloc")->UseRealTime();
BENCHMARK(pool_handoff_pmr)->Name("pool_handoff/pmr_sync_pool")->UseRealTime();
BENCHMARK(arena_huge)->Name("arena_random_access/hftx_huge")->Unit(benchmark::kMillisecond);
BENCHMARK(arena_normal)->Name("arena_random_access/hftx_normal")->Unit(benchmark::kMillisecond);

BENCHMARK_MAIN();
