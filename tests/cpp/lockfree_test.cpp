// SeqLock, SpscQueue, MpmcQueue and the wait strategies: element lifetimes at every capacity 1..1024,
// multi-threaded stress (exactly once, FIFO per producer, random delays), bad input.
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <deque>
#include <iterator>
#include <memory>
#include <random>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "hftx/core/error.hpp"
#include "hftx/lockfree/mpmc_queue.hpp"
#include "hftx/lockfree/seqlock.hpp"
#include "hftx/lockfree/spsc_queue.hpp"
#include "hftx/lockfree/wait.hpp"
#include "test_support.hpp"

namespace {

using hftx::test::scaled;

// Counts live objects; every construction path increments, every destruction decrements.
struct Counted {
  static inline std::atomic<long> constructed{0};
  static inline std::atomic<long> destroyed{0};
  static void reset() {
    constructed = 0;
    destroyed = 0;
  }
  static long live() { return constructed.load() - destroyed.load(); }

  std::uint64_t value = 0;
  std::uint64_t check = ~std::uint64_t{0};  // detects use of a destroyed or never-constructed object

  explicit Counted(std::uint64_t v) noexcept : value(v), check(~v) { ++constructed; }
  Counted(const Counted& o) noexcept : value(o.value), check(o.check) { ++constructed; }
  Counted(Counted&& o) noexcept : value(o.value), check(o.check) { ++constructed; }
  Counted& operator=(const Counted&) noexcept = default;
  Counted& operator=(Counted&&) noexcept = default;
  ~Counted() {
    EXPECT_EQ(check, ~value) << "destroying a corrupt or already-destroyed element";
    check = 0xdeadbeef;
    ++destroyed;
  }
};

// Random short pauses: makes the threads interleave in many different ways.
class Jitter {
 public:
  explicit Jitter(unsigned seed) : rng_(seed) {}
  void maybe_pause() {
    const unsigned r = rng_() % 1024;
    if (r < 2) std::this_thread::sleep_for(std::chrono::microseconds(rng_() % 50));
    else if (r < 20) std::this_thread::yield();
    else if (r < 100)
      for (unsigned i = rng_() % 64; i > 0; --i) hftx::cpu_relax();
  }

 private:
  std::minstd_rand rng_;
};

// ---- SeqLock -----------------------------------------------------------------------------------------

struct Snapshot {
  std::uint64_t seq;
  std::int64_t bid;
  std::int64_t ask;
  std::uint32_t bid_qty;
  std::uint32_t ask_qty;
  std::uint64_t checksum;
  char tag[5];  // odd size: the payload is not a whole number of words
};

Snapshot make_snapshot(std::uint64_t i) {
  Snapshot s{};
  s.seq = i;
  s.bid = static_cast<std::int64_t>(i * 3);
  s.ask = s.bid + 7;
  s.bid_qty = static_cast<std::uint32_t>(i ^ 0x5555u);
  s.ask_qty = static_cast<std::uint32_t>(i * 13u);
  s.checksum = i * 0x9E3779B97F4A7C15ull;
  for (int k = 0; k < 5; ++k) s.tag[k] = static_cast<char>('a' + (i + static_cast<std::uint64_t>(k)) % 26);
  return s;
}

bool consistent(const Snapshot& s) {
  const Snapshot e = make_snapshot(s.seq);
  return s.bid == e.bid && s.ask == e.ask && s.bid_qty == e.bid_qty && s.ask_qty == e.ask_qty &&
         s.checksum == e.checksum && std::equal(s.tag, s.tag + 5, e.tag);
}

TEST(SeqLock, StoreLoadWriteTryLoad) {
  hftx::SeqLock<Snapshot> lock(make_snapshot(0));
  EXPECT_EQ(lock.version(), 0u);
  EXPECT_TRUE(consistent(lock.load()));
  lock.store(make_snapshot(5));
  EXPECT_EQ(lock.load().seq, 5u);
  EXPECT_EQ(lock.version(), 1u);
  lock.write([](Snapshot& s) { s = make_snapshot(s.seq + 1); });
  Snapshot out{};
  ASSERT_TRUE(lock.try_load(out));
  EXPECT_EQ(out.seq, 6u);
  EXPECT_TRUE(consistent(out));
  EXPECT_EQ(lock.version(), 2u);
  EXPECT_EQ(lock.writer_value().seq, 6u);
  EXPECT_EQ(alignof(hftx::SeqLock<Snapshot>), hftx::kCacheLine);

  hftx::SeqLock<int> small;  // default-constructs T{}
  EXPECT_EQ(small.load(), 0);
  small.store(-3);
  EXPECT_EQ(small.load(), -3);
}

TEST(SeqLock, ReadersNeverSeeTornValuesAndSeeMonotonicVersions) {
  hftx::SeqLock<Snapshot> lock(make_snapshot(0));
  const std::uint64_t writes = scaled(300'000);
  std::atomic<bool> done{false};
  std::atomic<std::uint64_t> reads{0}, failed_try{0}, bad{0};
  std::atomic<int> started{0};
  auto reader = [&] {
    std::uint64_t last = 0;
    std::uint64_t n = 0;
    started.fetch_add(1, std::memory_order_release);
    do {
      const Snapshot s = lock.load();
      if (!consistent(s) || s.seq < last) bad.fetch_add(1);
      last = s.seq;
      Snapshot t{};
      if (lock.try_load(t)) {
        if (!consistent(t) || t.seq < last) bad.fetch_add(1);
        last = t.seq;
      } else {
        failed_try.fetch_add(1, std::memory_order_relaxed);
      }
      ++n;
    } while (!done.load(std::memory_order_acquire));
    reads.fetch_add(n);
  };
  std::thread r1(reader);
  std::thread r2(reader);
  // The readers must overlap the writes: a slow thread start (sanitizers, a loaded machine) would otherwise
  // let the writer finish first and the test check nothing.
  while (started.load(std::memory_order_acquire) < 2) std::this_thread::yield();
  for (std::uint64_t i = 1; i <= writes; ++i) {
    if (i % 2) lock.store(make_snapshot(i));
    else lock.write([i](Snapshot& s) { s = make_snapshot(i); });
  }
  done.store(true, std::memory_order_release);
  r1.join();
  r2.join();
  EXPECT_EQ(bad.load(), 0u);
  EXPECT_GT(reads.load(), 0u);
  EXPECT_EQ(lock.load().seq, writes);
  EXPECT_EQ(lock.version(), writes);
}

// ---- SpscQueue: lifetimes at every capacity ------------------------------------------------------------

// A Counted too large to share a line with its block's word: one element per block.
struct BigCounted : Counted {
  using Counted::Counted;
  unsigned char pad[48] = {};
};

// Small elements share a cache line (a block) with one sequence word; large ones get a block each.
static_assert(hftx::SpscQueue<std::uint64_t>::kItemsPerBlock == 7);
static_assert(hftx::SpscQueue<Counted>::kItemsPerBlock == 3);
static_assert(hftx::SpscQueue<int>::kItemsPerBlock == 14);
static_assert(hftx::SpscQueue<BigCounted>::kItemsPerBlock == 1);

template <class E>
void spsc_fill_drain_wrap() {
  for (std::size_t cap = 1; cap <= 1024; ++cap) {
    Counted::reset();
    {
      hftx::SpscQueue<E> q(cap);
      const std::size_t real = q.capacity();
      ASSERT_GE(real, cap);
      ASSERT_EQ(real & (real - 1), 0u) << "capacity is a power of two";
      ASSERT_LT(real, 2 * cap);
      EXPECT_TRUE(q.empty());
      EXPECT_EQ(q.front(), nullptr);
      std::uint64_t next_in = 0, next_out = 0;
      // Fill, check full, drain in order.
      for (std::size_t i = 0; i < real; ++i) ASSERT_TRUE(q.try_emplace(next_in++));
      ASSERT_FALSE(q.try_push(E(999))) << "cap " << cap;
      ASSERT_EQ(q.size(), real);
      while (E* f = q.front()) {
        ASSERT_EQ(f->value, next_out++);
        q.pop();
      }
      ASSERT_EQ(next_out, next_in);
      // Wrap around at least three times, with bursts of varying size (the ring partly full at every
      // offset); O(capacity) work per capacity.
      const std::uint64_t wrap_end = next_in + 3 * real + 3;
      for (std::size_t round = 0; next_in < wrap_end; ++round) {
        const std::size_t burst = 1 + (round * 37) % real;
        for (std::size_t i = 0; i < burst; ++i) ASSERT_TRUE(q.try_push(E(next_in++)));
        for (std::size_t i = 0; i < burst; ++i) {
          E out(0);
          ASSERT_TRUE(q.try_pop(out));
          ASSERT_EQ(out.value, next_out++);
        }
      }
      // Leave some elements inside: the destructor must destroy exactly those.
      for (std::size_t i = 0; i < (real + 1) / 2; ++i) q.push(E(next_in++));
      EXPECT_EQ(Counted::live(), static_cast<long>((real + 1) / 2));
    }
    ASSERT_EQ(Counted::live(), 0) << "capacity " << cap;
  }
}

TEST(SpscQueue, FillDrainWrapAtEveryCapacity) {
  spsc_fill_drain_wrap<Counted>();     // 3 per block: the ring has unused slots at most capacities
  spsc_fill_drain_wrap<BigCounted>();  // 1 per block
}

// Every way in and out, interleaved at random on one thread, against a std::deque: single pushes succeed
// exactly while fewer than capacity() are queued, try_push_n takes exactly the room there is, and consume_n
// returns 0 only when the queue is empty (it may stop at the end of a try_push_n batch) and never more than
// is queued, in order. Capacities 1..70 (rings of 1 to 128) include rings with fewer spare slots than a
// block, where the producer refills the front of the consumer's block a lap ahead (2, 4, 16, 32 and 128
// at 7 per block; 2, 8, 32 and 128 at 3).
std::uint64_t value_of(std::uint64_t v) { return v; }
std::uint64_t value_of(const Counted& c) { return c.value; }

template <class E>
void spsc_model(std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  for (std::size_t cap = 1; cap <= 70; ++cap) {
    Counted::reset();
    {
      hftx::SpscQueue<E> q(cap);
      const std::size_t real = q.capacity();
      std::deque<std::uint64_t> model;
      std::uint64_t next_in = 0;
      std::vector<E> src;
      src.reserve(2 * real + 3);
      const auto take = [&](std::uint64_t v) {
        ASSERT_FALSE(model.empty());
        ASSERT_EQ(v, model.front()) << "cap " << cap;
        model.pop_front();
      };
      for (int op = 0; op < 3000; ++op) {
        switch (rng() % 6) {
          case 0: {  // single push
            const bool room = model.size() < real;
            ASSERT_EQ(q.try_emplace(next_in), room) << "cap " << cap << " size " << model.size();
            if (room) model.push_back(next_in++);
            break;
          }
          case 1: {  // a batch of 0 .. 2 * capacity + 2
            src.clear();
            const std::size_t n = rng() % (2 * real + 3);
            for (std::size_t i = 0; i < n; ++i) src.emplace_back(next_in + i);
            const std::size_t pushed = q.try_push_n(src.begin(), n);
            ASSERT_EQ(pushed, std::min(n, real - model.size())) << "cap " << cap;
            for (std::size_t i = 0; i < pushed; ++i) model.push_back(next_in++);
            break;
          }
          case 2:  // front + pop
            if (E* f = q.front()) {
              take(value_of(*f));
              q.pop();
            } else {
              ASSERT_TRUE(model.empty()) << "cap " << cap;
            }
            break;
          case 3:
          case 4: {  // consume_n with a random limit
            const std::size_t before = model.size();
            const std::size_t max = 1 + rng() % (real + 2);
            const std::size_t got = q.consume_n([&](E& e) { take(value_of(e)); }, max);
            ASSERT_EQ(got, before - model.size());
            ASSERT_LE(got, max);
            ASSERT_EQ(got == 0, before == 0) << "cap " << cap << ": consume_n returned 0 with items queued";
            break;
          }
          default: {  // pop_n of everything, in as many calls as it takes
            std::vector<E> out;
            while (!model.empty()) {
              const std::size_t before = out.size();
              ASSERT_GT(q.pop_n(std::back_inserter(out), SIZE_MAX), 0u) << "cap " << cap;
              for (std::size_t i = before; i < out.size(); ++i) take(value_of(out[i]));
            }
            ASSERT_EQ(q.pop_n(std::back_inserter(out), SIZE_MAX), 0u);
            break;
          }
        }
        ASSERT_EQ(q.size(), model.size()) << "cap " << cap;
      }
      if constexpr (std::is_same_v<E, Counted>) {
        EXPECT_EQ(Counted::live(), static_cast<long>(model.size() + src.size()));
      }
    }
    ASSERT_EQ(Counted::live(), 0) << "cap " << cap;
  }
}

TEST(SpscQueue, EveryVerbAgainstADequeAtEveryOffset) {
  spsc_model<std::uint64_t>(1);  // 7 per block
  spsc_model<Counted>(2);        // 3 per block
  spsc_model<BigCounted>(3);     // 1 per block
}

// Capacity 4 of 8-byte items is one block of 7 slots. Once the consumer is at offset 5 the producer has
// refilled offsets 0 and 1 a lap ahead, so the block's word (9) counts past the block's end: consume_n must
// take the 2 items left in this lap and then the 2 of the next, in order.
TEST(SpscQueue, ConsumeNInsideABlockTheProducerHasLapped) {
  hftx::SpscQueue<std::uint64_t> q(4);
  ASSERT_EQ(q.capacity(), 4u);
  std::uint64_t next = 0;
  const auto push = [&](int n) {
    for (int i = 0; i < n; ++i) ASSERT_TRUE(q.try_push(next++));
  };
  const auto pop = [&](int n) {
    for (int i = 0; i < n; ++i) q.pop();
  };
  push(4);
  pop(3);
  push(3);
  pop(2);
  push(2);  // tickets 7 and 8, in offsets 0 and 1
  ASSERT_FALSE(q.try_push(next));
  std::vector<std::uint64_t> got;
  EXPECT_EQ(q.consume_n([&](std::uint64_t v) { got.push_back(v); }), 4u);
  EXPECT_EQ(got, (std::vector<std::uint64_t>{5, 6, 7, 8}));
  EXPECT_TRUE(q.empty());
}

TEST(SpscQueue, MoveOnlyBatchAndCallerMemory) {
  hftx::SpscQueue<std::unique_ptr<int>> q(4);
  ASSERT_TRUE(q.try_push(std::make_unique<int>(1)));
  q.emplace(new int(2));
  ASSERT_NE(q.front(), nullptr);
  EXPECT_EQ(**q.front(), 1);
  std::unique_ptr<int> out;
  ASSERT_TRUE(q.try_pop(out));
  EXPECT_EQ(*out, 1);
  q.push(std::make_unique<int>(3));  // left in the queue: freed by the destructor (ASan checks the leak)

  // Batch calls.
  hftx::SpscQueue<int> b(8);
  std::array<int, 12> src{};
  for (int i = 0; i < 12; ++i) src[static_cast<std::size_t>(i)] = i;
  EXPECT_EQ(b.try_push_n(src.begin(), 12), 8u);
  EXPECT_EQ(b.try_push_n(src.begin(), 1), 0u);
  std::array<int, 5> dst{};
  EXPECT_EQ(b.pop_n(dst.begin(), 5), 5u);
  EXPECT_EQ(dst[4], 4);
  EXPECT_EQ(b.try_push_n(src.begin() + 8, 4), 4u);
  std::vector<int> rest;
  EXPECT_EQ(b.consume_n([&](int& v) { rest.push_back(v); }), 7u);
  EXPECT_EQ(rest, (std::vector<int>{5, 6, 7, 8, 9, 10, 11}));
  EXPECT_EQ(b.consume_n([](int&) {}), 0u);

  // Caller-provided memory (an arena, shared memory): nothing allocated by the queue.
  using Q = hftx::SpscQueue<Counted>;
  Counted::reset();
  const std::size_t bytes = Q::required_bytes(100);
  void* mem = ::operator new(bytes, std::align_val_t{Q::kBufferAlignment});
  {
    Q q2(100, mem, bytes);
    EXPECT_EQ(q2.capacity(), 128u);
    for (std::uint64_t i = 0; i < 128; ++i) ASSERT_TRUE(q2.try_emplace(i));
    EXPECT_FALSE(q2.try_emplace(std::uint64_t{0}));
  }
  EXPECT_EQ(Counted::live(), 0);
  EXPECT_THROW(Q(100, mem, bytes - 1), hftx::ConfigError);
  EXPECT_THROW(Q(100, static_cast<char*>(mem) + 8, bytes - 8), hftx::ConfigError);
  ::operator delete(mem, std::align_val_t{Q::kBufferAlignment});
}

// A copy that throws on one value: try_push_n must publish nothing and destroy what it built; a consumer
// callback that throws leaves the element it threw on at the front.
struct Fragile : Counted {
  using Counted::Counted;
  Fragile(const Fragile& o) : Counted(o) {
    if (o.value == 13) throw std::runtime_error("copy of 13");  // the base is destroyed (and counted)
  }
};

TEST(SpscQueue, ThrowingCopyAndThrowingConsumerLoseNothing) {
  Counted::reset();
  {
    hftx::SpscQueue<Fragile> q(16);  // 3 per block: a batch spans blocks
    std::vector<Fragile> src;
    src.reserve(8);
    for (std::uint64_t i = 8; i < 16; ++i) src.emplace_back(i);
    const long before = Counted::live();
    EXPECT_THROW((void)q.try_push_n(src.begin(), src.size()), std::runtime_error);
    EXPECT_TRUE(q.empty());
    EXPECT_EQ(q.front(), nullptr);
    EXPECT_EQ(Counted::live(), before) << "the five built before the throw were destroyed";
    EXPECT_EQ(q.try_push_n(src.begin(), 5), 5u);  // 8..12
    std::uint64_t seen = 0;
    EXPECT_THROW(q.consume_n([&](Fragile& f) {
      if (f.value == 11) throw std::runtime_error("consumer");
      ++seen;
    }),
                 std::runtime_error);
    EXPECT_EQ(seen, 3u);
    ASSERT_NE(q.front(), nullptr);
    EXPECT_EQ(q.front()->value, 11u);
    EXPECT_EQ(q.size(), 2u);
    EXPECT_EQ(q.consume_n([](Fragile&) {}), 2u);
  }
  EXPECT_EQ(Counted::live(), 0);
}

// The queue and its buffer in one MAP_SHARED mapping taken before fork(): a producer and a consumer process
// (children, so that a hang ends in their alarm instead of stalling the test binary). Every 1,000 items each
// side waits until the other is asleep in the kernel (the consumer on an empty queue, the producer on a full
// one) before it acts, so those hand-overs are futex wake-ups across processes. With process-private futexes
// the sleeper is never woken: the children die of SIGALRM and the test fails.
TEST(SpscQueue, AcrossProcessesInSharedMemory) {
  using Q = hftx::SpscQueue<std::uint64_t, hftx::InterprocessBlockingWait>;
  constexpr std::size_t kCapacity = 16;
  const std::uint64_t items = std::max<std::uint64_t>(scaled(50'000), 5'000);
  struct Shared {
    std::atomic<std::uint64_t> received{0};
    std::atomic<std::uint64_t> out_of_order{0};
    std::atomic<std::uint64_t> sleeps_seen{0};  // rendezvous where the other side was found asleep
  };
  const auto round_up = [](std::size_t n) {
    return (n + Q::kBufferAlignment - 1) / Q::kBufferAlignment * Q::kBufferAlignment;
  };
  const std::size_t queue_at = round_up(sizeof(Shared));
  const std::size_t buffer_at = queue_at + round_up(sizeof(Q));
  const std::size_t bytes = buffer_at + Q::required_bytes(kCapacity);
  void* map = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  ASSERT_NE(map, MAP_FAILED);
  auto* base = static_cast<unsigned char*>(map);
  auto* shared = ::new (base) Shared{};
  auto* q = ::new (base + queue_at) Q(kCapacity, base + buffer_at, Q::required_bytes(kCapacity));
  q->wait_strategy().spins = 16;

  // Waits (up to 2 s) until the other side is registered as a sleeper, then a little longer so that it is
  // in the kernel, not between its registration and the futex call.
  const auto other_side_asleep = [&] {
    for (int i = 0; i < 20'000 && q->wait_strategy().waiters() == 0; ++i) ::usleep(100);
    if (q->wait_strategy().waiters() == 0) return;
    ::usleep(1'000);
    shared->sleeps_seen.fetch_add(1, std::memory_order_relaxed);
  };
  const auto spawn = [](auto body) {
    const pid_t pid = ::fork();
    if (pid == 0) {
      ::alarm(60);
      body();
      ::_exit(0);
    }
    return pid;
  };
  const pid_t consumer = spawn([&] {
    for (std::uint64_t next = 0; next < items; ++next) {
      if (next % 1000 == 500) other_side_asleep();  // the producer has filled the ring and sleeps in push
      const std::uint64_t v = q->wait_front();
      q->pop();
      if (v != 3 * next + 1) shared->out_of_order.fetch_add(1, std::memory_order_relaxed);
      shared->received.fetch_add(1, std::memory_order_relaxed);
    }
  });
  const pid_t producer = spawn([&] {
    for (std::uint64_t i = 0; i < items; ++i) {
      if (i % 1000 == 0) other_side_asleep();  // the consumer has drained the ring and sleeps in wait_front
      q->push(3 * i + 1);
    }
  });
  ASSERT_GT(consumer, 0);
  ASSERT_GT(producer, 0);
  for (const pid_t pid : {producer, consumer}) {
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
        << (pid == producer ? "producer" : "consumer") << " process "
        << (WIFSIGNALED(status) ? std::string("killed by ") + ::strsignal(WTERMSIG(status)) : std::string("failed"));
  }
  EXPECT_EQ(shared->received.load(), items);
  EXPECT_EQ(shared->out_of_order.load(), 0u);
  // Each side found the other asleep at (nearly) every one of its rendezvous.
  EXPECT_GE(shared->sleeps_seen.load(), 2 * (items / 1000) - 2);
  EXPECT_EQ(q->size(), 0u);
  q->~Q();
  ::munmap(map, bytes);
}

TEST(SpscQueue, BadCapacityIsAConfigError) {
  EXPECT_THROW(hftx::SpscQueue<int>(0), hftx::ConfigError);
  EXPECT_THROW(hftx::SpscQueue<int>(hftx::SpscQueue<int>::kMaxCapacity + 1), hftx::ConfigError);
  EXPECT_THROW(hftx::SpscQueue<int>(SIZE_MAX), hftx::ConfigError);
  try {
    hftx::SpscQueue<int> q(0);
    FAIL();
  } catch (const hftx::ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("capacity 0"), std::string::npos) << e.what();
  }
  EXPECT_THROW(hftx::MpmcQueue<int>(0), hftx::ConfigError);
  EXPECT_THROW(hftx::MpmcQueue<int>(SIZE_MAX), hftx::ConfigError);
}

// ---- SpscQueue: threads --------------------------------------------------------------------------------

template <class Wait>
void spsc_stress(std::size_t cap, std::uint64_t n, bool jitter, bool batch) {
  Counted::reset();
  {
    hftx::SpscQueue<Counted, Wait> q(cap);
    std::uint64_t sum_out = 0, next = 0;
    bool in_order = true;
    std::thread consumer([&] {
      Jitter j(7);
      while (next < n) {
        if (batch && next % 3 == 0) {
          q.consume_n(
              [&](Counted& c) {
                in_order &= c.value == next;
                sum_out += c.value;
                ++next;
              },
              5);
        } else {
          Counted& c = q.wait_front();
          in_order &= c.value == next;
          sum_out += c.value;
          ++next;
          q.pop();
        }
        if (jitter) j.maybe_pause();
      }
    });
    Jitter j(11);
    std::uint64_t sum_in = 0;
    std::array<Counted, 4> block{Counted(0), Counted(0), Counted(0), Counted(0)};
    for (std::uint64_t i = 0; i < n;) {
      if (batch && i % 7 == 0 && i + 4 <= n) {
        for (std::uint64_t k = 0; k < 4; ++k) block[k] = Counted(i + k);
        const std::size_t pushed = q.try_push_n(block.begin(), 4);
        for (std::size_t k = 0; k < pushed; ++k) sum_in += i + k;
        i += pushed;
      } else {
        q.emplace(i);
        sum_in += i;
        ++i;
      }
      if (jitter) j.maybe_pause();
    }
    consumer.join();
    EXPECT_TRUE(in_order) << "cap " << cap;
    EXPECT_EQ(sum_in, sum_out);
    EXPECT_TRUE(q.empty());
  }
  EXPECT_EQ(Counted::live(), 0);
}

TEST(SpscQueue, StressManyCapacitiesAndStrategies) {
  for (std::size_t cap : {1, 2, 3, 7, 64, 1000}) {
    // At capacities below 8 nearly every item is a hand-off that may wait a scheduler tick (or a backoff
    // sleep) on a loaded machine: fewer items there keep the test in seconds under load (it took minutes
    // under TSan with other jobs on both cores) while still wrapping the ring thousands of times.
    const std::uint64_t k = cap < 8 ? 5 : 1;
    spsc_stress<hftx::BackoffWait>(cap, scaled(100'000 / k), false, false);
    spsc_stress<hftx::BlockingWait>(cap, scaled(50'000 / k), true, true);
    spsc_stress<hftx::SpinThenYieldWait>(cap, scaled(50'000 / k), true, false);
  }
  spsc_stress<hftx::BusySpinWait>(16, scaled(50'000), false, true);  // two spinning threads, two cores
}

// ---- MpmcQueue -----------------------------------------------------------------------------------------

TEST(MpmcQueue, FillDrainWrapAtEveryCapacity) {
  for (std::size_t cap = 1; cap <= 1024; ++cap) {
    Counted::reset();
    {
      hftx::MpmcQueue<Counted> q(cap);
      const std::size_t real = q.capacity();
      ASSERT_GE(real, cap);
      ASSERT_EQ(real & (real - 1), 0u);
      std::uint64_t next_in = 0, next_out = 0;
      for (std::size_t i = 0; i < real; ++i) ASSERT_TRUE(q.try_emplace(next_in++));
      ASSERT_FALSE(q.try_push(Counted(1))) << cap;
      ASSERT_EQ(q.size(), real);
      Counted out(0);
      for (std::size_t i = 0; i < real; ++i) {
        ASSERT_TRUE(q.try_pop(out));
        ASSERT_EQ(out.value, next_out++);
      }
      ASSERT_FALSE(q.try_pop(out));
      // Wrap around at least three times, with bursts of varying size (the ring partly full at every
      // offset); O(capacity) work per capacity.
      const std::uint64_t wrap_end = next_in + 3 * real + 3;
      for (std::size_t round = 0; next_in < wrap_end; ++round) {
        const std::size_t burst = 1 + (round * 37) % real;
        for (std::size_t i = 0; i < burst; ++i) {
          if (i % 2) q.push(Counted(next_in++));
          else ASSERT_TRUE(q.try_push(Counted(next_in++)));
        }
        for (std::size_t i = 0; i < burst; ++i) {
          if (i % 2) q.pop(out);
          else ASSERT_TRUE(q.try_pop(out));
          ASSERT_EQ(out.value, next_out++);
        }
      }
      for (std::size_t i = 0; i < (real + 1) / 2; ++i) q.emplace(next_in++);
      EXPECT_EQ(Counted::live(), static_cast<long>((real + 1) / 2 + 1));  // + `out`
    }
    ASSERT_EQ(Counted::live(), 0) << "capacity " << cap;
  }
}

// Items carry (producer, sequence). Every item must arrive exactly once, and each consumer must see each
// producer's items in increasing sequence (tickets are taken in order by each thread).
template <class Wait>
void mpmc_stress(std::size_t cap, unsigned producers, unsigned consumers, std::uint64_t per_producer, bool use_try,
                 bool jitter) {
  Counted::reset();
  {
    hftx::MpmcQueue<Counted, Wait> q(cap);
    const std::uint64_t total = per_producer * producers;
    std::vector<std::atomic<std::uint8_t>> seen(total);
    std::atomic<std::uint64_t> popped{0}, order_errors{0}, dupes{0};
    std::vector<std::thread> threads;
    for (unsigned p = 0; p < producers; ++p) {
      threads.emplace_back([&, p] {
        Jitter j(100 + p);
        for (std::uint64_t s = 0; s < per_producer; ++s) {
          const std::uint64_t v = (static_cast<std::uint64_t>(p) << 40) | s;
          if (use_try && s % 2 == 0) {
            while (!q.try_emplace(v)) std::this_thread::yield();
          } else {
            q.emplace(v);
          }
          if (jitter) j.maybe_pause();
        }
      });
    }
    // Consumers split the total exactly, so blocking pops never wait for items that will not come.
    for (unsigned c = 0; c < consumers; ++c) {
      const std::uint64_t quota = total / consumers + (c < total % consumers ? 1 : 0);
      threads.emplace_back([&, c, quota] {
        Jitter j(200 + c);
        std::vector<std::int64_t> last(producers, -1);
        Counted out(0);
        for (std::uint64_t k = 0; k < quota; ++k) {
          if (use_try && k % 2 == 0) {
            while (!q.try_pop(out)) std::this_thread::yield();
          } else {
            q.pop(out);
          }
          const auto p = static_cast<unsigned>(out.value >> 40);
          const auto s = static_cast<std::int64_t>(out.value & ((std::uint64_t{1} << 40) - 1));
          if (p >= producers || s <= last[p]) order_errors.fetch_add(1);
          else last[p] = s;
          if (p < producers && static_cast<std::uint64_t>(s) < per_producer) {
            if (seen[p * per_producer + static_cast<std::uint64_t>(s)].fetch_add(1) != 0) dupes.fetch_add(1);
          }
          popped.fetch_add(1, std::memory_order_relaxed);
          if (jitter) j.maybe_pause();
        }
      });
    }
    for (auto& t : threads) t.join();
    EXPECT_EQ(popped.load(), total);
    EXPECT_EQ(order_errors.load(), 0u);
    EXPECT_EQ(dupes.load(), 0u);
    std::uint64_t missing = 0;
    for (auto& s : seen) missing += s.load() == 0;
    EXPECT_EQ(missing, 0u) << "cap " << cap << " " << producers << "P" << consumers << "C";
    EXPECT_TRUE(q.empty());
  }
  EXPECT_EQ(Counted::live(), 0);
}

TEST(MpmcQueue, StressExactlyOnceAndPerProducerFifo) {
  for (std::size_t cap : {1, 2, 3, 16, 1000}) {
    mpmc_stress<hftx::BlockingWait>(cap, 2, 2, scaled(40'000), false, false);
    mpmc_stress<hftx::BlockingWait>(cap, 3, 2, scaled(10'000), true, true);
    mpmc_stress<hftx::BackoffWait>(cap, 2, 3, scaled(10'000), true, true);
  }
  mpmc_stress<hftx::SpinThenYieldWait>(64, 1, 1, scaled(100'000), false, false);
  mpmc_stress<hftx::BusySpinWait>(64, 1, 1, scaled(100'000), true, false);
}

// ---- wait strategies -----------------------------------------------------------------------------------

// Both futex flavours: InterprocessBlockingWait's shared futexes work in private memory too.
template <class W>
void sleeps_and_is_woken() {
  W w;
  w.spins = 16;
  std::atomic<std::uint64_t> word{0};
  std::atomic<bool> woke{false};
  std::thread t([&] {
    w.wait(word, [&] { return word.load(std::memory_order_acquire) == 3; });
    woke = true;
  });
  // The waiter registers itself before sleeping in the kernel.
  for (int i = 0; i < 5000 && w.waiters() == 0; ++i) std::this_thread::sleep_for(std::chrono::microseconds(200));
  EXPECT_EQ(w.waiters(), 1u);
  word.store(1, std::memory_order_release);  // not yet what it waits for: wakes, re-checks, sleeps again
  w.notify(word);
  std::this_thread::sleep_for(std::chrono::milliseconds(5));
  EXPECT_FALSE(woke.load());
  word.store(3, std::memory_order_release);
  w.notify(word);
  t.join();
  EXPECT_TRUE(woke.load());
  EXPECT_EQ(w.waiters(), 0u);
}

TEST(WaitStrategy, BlockingWaitSleepsAndIsWoken) {
  sleeps_and_is_woken<hftx::BlockingWait>();
  sleeps_and_is_woken<hftx::InterprocessBlockingWait>();
}

TEST(WaitStrategy, AllStrategiesReturnOnceReady) {
  std::atomic<std::uint32_t> word{0};
  auto run = [&](auto strategy) {
    word = 0;
    std::thread t([&] {
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
      word.store(1, std::memory_order_release);
      strategy.notify(word);
    });
    strategy.wait(word, [&] { return word.load(std::memory_order_acquire) == 1; });
    t.join();
    EXPECT_EQ(word.load(), 1u);
  };
  run(hftx::BusySpinWait{});
  run(hftx::SpinThenYieldWait{});
  run(hftx::BackoffWait{});
  static_assert(hftx::WaitStrategy<hftx::BusySpinWait> && hftx::WaitStrategy<hftx::BackoffWait> &&
                hftx::WaitStrategy<hftx::BlockingWait> && hftx::WaitStrategy<hftx::SpinThenYieldWait> &&
                hftx::WaitStrategy<hftx::InterprocessBlockingWait>);
}

}  // namespace
