// After warm-up, millions of queue, seqlock and pool operations perform zero heap allocations (the counting
// allocator sees every malloc/new of every thread).
#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <thread>

#include "hftx/lockfree/mpmc_queue.hpp"
#include "hftx/lockfree/seqlock.hpp"
#include "hftx/lockfree/spsc_queue.hpp"
#include "hftx/memory/arena.hpp"
#include "hftx/memory/buffer_pool.hpp"
#include "hftx/memory/object_pool.hpp"
#include "hftx/testing/alloc_counter.hpp"

namespace {

struct Order {
  std::uint64_t id;
  std::int64_t price;
  std::int64_t qty;
};

constexpr std::uint64_t kOps = 2'000'000;

TEST(LockfreeAlloc, QueuesAndSeqLockDoNotAllocate) {
  ASSERT_TRUE(hftx::testing::alloc_counter_active());
  hftx::SpscQueue<Order> spsc(1024);
  hftx::MpmcQueue<Order> mpmc(1024);
  hftx::SeqLock<Order> top;
  Order out{};
  std::uint64_t sum = 0;
  // Warm-up: first touches, lazy libc/TSC initialisation.
  for (std::uint64_t i = 0; i < 1000; ++i) {
    spsc.push({i, 1, 1});
    sum += spsc.front()->id;
    spsc.pop();
    mpmc.push({i, 1, 1});
    mpmc.pop(out);
  }

  // The two-thread run's consumer is started (std::thread allocates its state) before counting begins.
  std::atomic<bool> go{false};
  std::uint64_t consumer_sum = 0;
  std::thread consumer([&] {
    while (!go.load(std::memory_order_acquire)) std::this_thread::yield();
    std::uint64_t s = 0;
    for (std::uint64_t i = 0; i < kOps; ++i) {
      s += spsc.wait_front().id;
      spsc.pop();
    }
    consumer_sum = s;
  });

  hftx::testing::AllocScope scope;
  for (std::uint64_t i = 0; i < kOps; ++i) {
    const Order o{i, static_cast<std::int64_t>(i) * 2, 3};
    if (!spsc.try_push(o)) ADD_FAILURE();
    if (!spsc.try_pop(out)) ADD_FAILURE();
    sum += out.id;
    if (!mpmc.try_push(o)) ADD_FAILURE();
    mpmc.pop(out);
    sum += out.id;
    top.store(o);
    sum += top.load().id;
  }
  // Two threads on the SPSC queue (blocking calls, the default wait strategy).
  go.store(true, std::memory_order_release);
  for (std::uint64_t i = 0; i < kOps; ++i) spsc.push({i, 0, 0});
  while (!spsc.empty()) std::this_thread::yield();
  EXPECT_EQ(scope.delta().allocations, 0u);
  consumer.join();
  EXPECT_EQ(consumer_sum, kOps * (kOps - 1) / 2);
  EXPECT_GT(sum, 0u);

  hftx::testing::AllocScope scope2;
  for (std::uint64_t i = 0; i < kOps; ++i) {
    spsc.emplace(Order{i, 0, 0});
    spsc.consume_n([&](Order& v) { sum += v.id; });
  }
  EXPECT_EQ(scope2.delta().allocations, 0u);
}

TEST(LockfreeAlloc, PoolsAndArenaDoNotAllocate) {
  hftx::ObjectPool<Order> pool(1000);
  hftx::ConcurrentObjectPool<Order> cpool(1000);
  auto cache = cpool.make_cache();  // setup: allocates its array
  const hftx::BufferClass classes[] = {{512, 64}, {4096, 16}};
  hftx::BufferPool buffers(classes);
  hftx::ArenaOptions ao;
  ao.bytes = 1 << 20;
  ao.pages = hftx::PageRequest::kNormal;
  hftx::Arena arena(ao);
  Order* held[1000];
  std::uint64_t sum = 0;
  for (int w = 0; w < 2; ++w) {  // warm-up
    for (auto& h : held) h = pool.acquire(Order{1, 2, 3});
    for (auto* h : held) pool.release(h);
  }

  hftx::testing::AllocScope scope;
  for (std::uint64_t i = 0; i < kOps; ++i) {
    Order* o = pool.acquire(Order{i, 0, 0});
    sum += o->id;
    pool.release(o);
    Order* c = cpool.acquire(Order{i, 0, 0});
    sum += c->id;
    cpool.release(c);
    Order* d = cache.acquire(Order{i, 0, 0});
    sum += d->id;
    cache.release(d);
    auto b = buffers.acquire(100 + i % 4000);
    sum += b.size();
    if (i % 1024 == 0) arena.reset();
    sum += arena.allocate(64, 64) != nullptr;
  }
  for (std::uint64_t r = 0; r < kOps / 1000; ++r) {  // cycling 1,000 objects
    for (std::uint64_t k = 0; k < 1000; ++k) held[k] = pool.acquire(Order{k, 0, 0});
    for (std::uint64_t k = 0; k < 1000; ++k) pool.release(held[k]);
    // Through the cache: it trades magazines with the depot every 32.
    for (std::uint64_t k = 0; k < 1000; ++k) held[k] = cache.acquire(Order{k, 0, 0});
    for (std::uint64_t k = 0; k < 1000; ++k) cache.release(held[k]);
  }
  EXPECT_EQ(scope.delta().allocations, 0u);
  EXPECT_EQ(pool.stats().misses, 0u);
  EXPECT_EQ(pool.stats().high_water, 1000u);
  EXPECT_EQ(cpool.stats().misses, 0u);
  EXPECT_GT(sum, 0u);
}

}  // namespace
