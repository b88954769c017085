// Queues: hftx SpscQueue / MpmcQueue against moodycamel ReaderWriterQueue / ConcurrentQueue,
// boost::lockfree spsc_queue / queue and atomic_queue, in one binary.
//  spsc_throughput/<impl>      items/s, producer pinned to the first allowed CPU, consumer to the second
//                              (hftx_batch, boost_bulk: both sides in the queue's batch calls, 64 in, up to
//                              256 out)
//  spsc_throughput_drain/<impl>  single pushes, drained in batch calls of up to 256 (hftx consume_n, boost
//                              bulk pop): a feed thread pushing each message as it comes, a consumer taking
//                              what has piled up
//  spsc_throughput_{16,32,64}b/<impl>  the same with 16-, 32- and 64-byte messages (an id and zeros; the consumer
//                              reads the first and the last word): where each queue's two sides settle, far
//                              apart or on the same lines, changes with the size (atomic_queue takes only
//                              atomic-sized elements, so it is not in these)
//  spsc_round_trip/<impl>      ping-pong through two queues, p50 of TSC-stamped round trips (figure_p50);
//                              `limit` = the same ping-pong through two bare atomic words (core-to-core)
//  mpmc_throughput_1p1c/<impl> items/s, one producer, one consumer
//  mpmc_throughput_2p2c/<impl> items/s, two of each (on a 2-core machine: four threads on two cores, so
//                              every waiter gives its core away: try_* loops spin briefly then sched_yield,
//                              hftx's blocking push/pop spin then sleep on a futex; never more busy-spinning
//                              threads than cores). hftx = blocking push/pop (fetch_add tickets, default
//                              BlockingWait: futex wake-ups, one fence per operation), hftx_backoff = the
//                              same with BackoffWait (no fence; sleeps up to 1 ms), hftx_try =
//                              try_push/try_pop in the peers' spin loop.
#include <atomic>
#include <boost/lockfree/queue.hpp>
#include <boost/lockfree/spsc_queue.hpp>
#include <concurrentqueue/concurrentqueue.h>
#include <cstdint>
#include <iterator>
#include <memory>
#include <readerwriterqueue/readerwriterqueue.h>
#include <thread>
#include <vector>

#include <atomic_queue/atomic_queue.h>

#include "bench_support.hpp"
#include "hftx/lockfree/mpmc_queue.hpp"
#include "hftx/lockfree/spsc_queue.hpp"

namespace {

using hftx::TscClock;
constexpr std::size_t kCapacity = 4096;
constexpr std::uint64_t kBatch = 4096;  // items per benchmark iteration (throughput cases)
constexpr std::uint64_t kStop = ~std::uint64_t{0};

using hftx::bench::allowed_cpus;
using hftx::bench::cpu_at;
using hftx::bench::pin_self;
using hftx::bench::PinScope;

// How peers (and hftx's try_* loops) wait when the queue is full or empty: spin with `pause`, and give the
// core away when more threads than cores are running.
struct Spin {
  bool yield;
  unsigned n = 0;
  HFTX_FORCE_INLINE void operator()() noexcept {
    hftx::cpu_relax();
    if (yield && ++n % 64 == 0) std::this_thread::yield();
  }
};

// ---- adapters: one spelling per queue ------------------------------------------------------------------

constexpr std::size_t kDrainMax = 256;  // most items one drain call takes

struct HftxSpsc {
  hftx::SpscQueue<std::uint64_t, hftx::BusySpinWait> q{kCapacity};
  HFTX_FORCE_INLINE bool try_push(std::uint64_t v) noexcept { return q.try_push(v); }
  HFTX_FORCE_INLINE std::size_t try_push_n(const std::uint64_t* p, std::size_t n) noexcept {
    return q.try_push_n(p, n);
  }
  template <class F>
  HFTX_FORCE_INLINE std::size_t drain(F&& f) noexcept {
    return q.consume_n([&](std::uint64_t v) { f(v); }, kDrainMax);
  }
  HFTX_FORCE_INLINE bool try_pop(std::uint64_t& v) noexcept {
    const std::uint64_t* p = q.front();
    if (p == nullptr) return false;
    v = *p;
    q.pop();
    return true;
  }
};
struct MoodycamelRwq {
  moodycamel::ReaderWriterQueue<std::uint64_t> q{kCapacity};
  HFTX_FORCE_INLINE bool try_push(std::uint64_t v) noexcept { return q.try_enqueue(v); }
  HFTX_FORCE_INLINE bool try_pop(std::uint64_t& v) noexcept { return q.try_dequeue(v); }
};
struct BoostSpsc {
  boost::lockfree::spsc_queue<std::uint64_t> q{kCapacity};
  HFTX_FORCE_INLINE bool try_push(std::uint64_t v) noexcept { return q.push(v); }
  HFTX_FORCE_INLINE bool try_pop(std::uint64_t& v) noexcept { return q.pop(v); }
  // Its bulk push and pop: the peer's own batch API.
  HFTX_FORCE_INLINE std::size_t try_push_n(const std::uint64_t* p, std::size_t n) noexcept { return q.push(p, n); }
  template <class F>
  HFTX_FORCE_INLINE std::size_t drain(F&& f) noexcept {
    std::uint64_t buf[kDrainMax];
    const std::size_t k = q.pop(buf, kDrainMax);
    for (std::size_t i = 0; i < k; ++i) f(buf[i]);
    return k;
  }
};
// atomic_queue stores atomic elements with a NIL value (0) marking empty slots: items travel as v + 1, and
// the stop marker (all ones, whose + 1 would be NIL) as itself.
HFTX_FORCE_INLINE std::uint64_t aq_encode(std::uint64_t v) noexcept { return v == kStop ? kStop : v + 1; }
HFTX_FORCE_INLINE std::uint64_t aq_decode(std::uint64_t v) noexcept { return v == kStop ? kStop : v - 1; }

// atomic_queue's fastest SPSC configuration: atomic elements, SPSC = true.
struct AtomicQueueSpsc {
  atomic_queue::AtomicQueueB<std::uint64_t, std::allocator<std::uint64_t>, std::uint64_t{0}, true, false, true> q{kCapacity};
  HFTX_FORCE_INLINE bool try_push(std::uint64_t v) noexcept { return q.try_push(aq_encode(v)); }
  HFTX_FORCE_INLINE bool try_pop(std::uint64_t& v) noexcept {
    if (!q.try_pop(v)) return false;
    v = aq_decode(v);
    return true;
  }
};

// ---- sized messages ------------------------------------------------------------------------------------

template <std::size_t Bytes>
struct Msg {
  std::uint64_t id;
  std::uint64_t rest[Bytes / 8 - 1];
};
template <class M>
HFTX_FORCE_INLINE M make_msg(std::uint64_t v) noexcept {
  M m{};
  m.id = v;
  return m;
}
// The first and the last word, so that every impl brings the whole object to the consumer's core.
template <class M>
HFTX_FORCE_INLINE std::uint64_t read_msg(const M& m) noexcept {
  return m.id + m.rest[std::size(m.rest) - 1];
}

template <class M>
struct HftxSpscOf {
  hftx::SpscQueue<M, hftx::BusySpinWait> q{kCapacity};
  HFTX_FORCE_INLINE bool try_push(std::uint64_t v) noexcept { return q.try_push(make_msg<M>(v)); }
  HFTX_FORCE_INLINE bool try_pop(std::uint64_t& v) noexcept {
    const M* p = q.front();
    if (p == nullptr) return false;
    v = read_msg(*p);
    q.pop();
    return true;
  }
};
template <class M>
struct MoodycamelRwqOf {
  moodycamel::ReaderWriterQueue<M> q{kCapacity};
  HFTX_FORCE_INLINE bool try_push(std::uint64_t v) noexcept { return q.try_enqueue(make_msg<M>(v)); }
  HFTX_FORCE_INLINE bool try_pop(std::uint64_t& v) noexcept {
    M m;
    if (!q.try_dequeue(m)) return false;
    v = read_msg(m);
    return true;
  }
};
template <class M>
struct BoostSpscOf {
  boost::lockfree::spsc_queue<M> q{kCapacity};
  HFTX_FORCE_INLINE bool try_push(std::uint64_t v) noexcept { return q.push(make_msg<M>(v)); }
  HFTX_FORCE_INLINE bool try_pop(std::uint64_t& v) noexcept {
    M m;
    if (!q.pop(m)) return false;
    v = read_msg(m);
    return true;
  }
};

struct HftxMpmc {
  hftx::MpmcQueue<std::uint64_t> q{kCapacity};  // default wait: BlockingWait (spin, then futex)
  static constexpr bool kBlocking = true;
  HFTX_FORCE_INLINE void push(std::uint64_t v) noexcept { q.push(v); }
  HFTX_FORCE_INLINE void pop(std::uint64_t& v) noexcept { q.pop(v); }
  HFTX_FORCE_INLINE bool try_push(std::uint64_t v) noexcept { return q.try_push(v); }
  HFTX_FORCE_INLINE bool try_pop(std::uint64_t& v) noexcept { return q.try_pop(v); }
};
struct HftxMpmcTry : HftxMpmc {
  static constexpr bool kBlocking = false;
};
// The same queue with BackoffWait: no notify fence per operation, but a sleeper wakes up to 1 ms late.
struct HftxMpmcBackoff {
  hftx::MpmcQueue<std::uint64_t, hftx::BackoffWait> q{kCapacity};
  static constexpr bool kBlocking = true;
  HFTX_FORCE_INLINE void push(std::uint64_t v) noexcept { q.push(v); }
  HFTX_FORCE_INLINE void pop(std::uint64_t& v) noexcept { q.pop(v); }
};
struct MoodycamelCq {
  moodycamel::ConcurrentQueue<std::uint64_t> q{kCapacity * 4};
  static constexpr bool kBlocking = false;
  HFTX_FORCE_INLINE bool try_push(std::uint64_t v) noexcept { return q.try_enqueue(v); }
  HFTX_FORCE_INLINE bool try_pop(std::uint64_t& v) noexcept { return q.try_dequeue(v); }
};
struct BoostQueue {
  boost::lockfree::queue<std::uint64_t, boost::lockfree::fixed_sized<true>> q{kCapacity};
  static constexpr bool kBlocking = false;
  HFTX_FORCE_INLINE bool try_push(std::uint64_t v) noexcept { return q.bounded_push(v); }
  HFTX_FORCE_INLINE bool try_pop(std::uint64_t& v) noexcept { return q.pop(v); }
};
struct AtomicQueueMpmc {
  atomic_queue::AtomicQueueB<std::uint64_t> q{kCapacity};
  static constexpr bool kBlocking = false;
  HFTX_FORCE_INLINE bool try_push(std::uint64_t v) noexcept { return q.try_push(aq_encode(v)); }
  HFTX_FORCE_INLINE bool try_pop(std::uint64_t& v) noexcept {
    if (!q.try_pop(v)) return false;
    v = aq_decode(v);
    return true;
  }
};

// ---- SPSC throughput -----------------------------------------------------------------------------------

// How items go in and come out of an SPSC throughput case: one at a time (try_push, try_pop), or in the
// queue's batch calls (try_push_n of 64, drain of up to 256).
enum class In { kOne, kBatches };
enum class Out { kOne, kDrain };

template <class Q, In kIn = In::kOne, Out kOut = Out::kOne>
void spsc_throughput(benchmark::State& state) {
  if (allowed_cpus().size() < 2) {
    state.SkipWithError("needs two CPUs");
    return;
  }
  auto q = std::make_unique<Q>();
  std::atomic<std::uint64_t> received{0};
  std::thread consumer([&] {
    pin_self(cpu_at(1));
    std::uint64_t n = 0, sum = 0;
    if constexpr (kOut == Out::kOne) {
      std::uint64_t v = 0;
      for (;;) {
        if (!q->try_pop(v)) {
          hftx::cpu_relax();
          continue;
        }
        if (v == kStop) break;
        sum += v;
        ++n;
      }
    } else {
      for (bool stop = false; !stop;) {
        const std::size_t k = q->drain([&](std::uint64_t v) {
          if (v == kStop) stop = true;
          else sum += v, ++n;
        });
        if (k == 0) hftx::cpu_relax();
      }
    }
    hftx::do_not_optimize(sum);
    received.store(n, std::memory_order_release);
  });
  PinScope pin(cpu_at(0));
  hftx::bench::AllocMeter alloc;
  std::uint64_t sent = 0;
  std::uint64_t block[64];
  for (auto _ : state) {
    if constexpr (kIn == In::kOne) {
      for (std::uint64_t i = 0; i < kBatch; ++i) {
        while (!q->try_push(sent)) hftx::cpu_relax();
        ++sent;
      }
    } else {
      for (std::uint64_t i = 0; i < kBatch; i += 64) {
        for (std::uint64_t k = 0; k < 64; ++k) block[k] = sent + k;
        for (std::size_t done = 0; done < 64;) {
          const std::size_t k = q->try_push_n(block + done, 64 - done);
          if (k == 0) hftx::cpu_relax();
          done += k;
        }
        sent += 64;
      }
    }
  }
  while (!q->try_push(kStop)) hftx::cpu_relax();
  consumer.join();
  alloc.publish(state);
  if (received.load() != sent) state.SkipWithError("items lost");
  state.SetItemsProcessed(static_cast<std::int64_t>(sent));
}

// ---- SPSC round trip -----------------------------------------------------------------------------------

template <class Q>
void spsc_round_trip(benchmark::State& state) {
  if (allowed_cpus().size() < 2) {
    state.SkipWithError("needs two CPUs");
    return;
  }
  auto ping = std::make_unique<Q>();
  auto pong = std::make_unique<Q>();
  std::thread echo([&] {
    pin_self(cpu_at(1));
    std::uint64_t v = 0;
    for (;;) {
      while (!ping->try_pop(v)) hftx::cpu_relax();
      while (!pong->try_push(v)) hftx::cpu_relax();
      if (v == kStop) break;
    }
  });
  PinScope pin(cpu_at(0));
  hftx::bench::OpSampler sampler;
  hftx::bench::AllocMeter alloc;
  std::uint64_t v = 0;
  for (auto _ : state) {
    const std::uint64_t t0 = TscClock::ticks();
    while (!ping->try_push(t0 & 0xffffffff)) hftx::cpu_relax();
    while (!pong->try_pop(v)) hftx::cpu_relax();
    sampler.add(TscClock::ticks() - t0);
  }
  while (!ping->try_push(kStop)) hftx::cpu_relax();
  while (!pong->try_pop(v) || v != kStop) hftx::cpu_relax();
  echo.join();
  alloc.publish(state);
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
  sampler.publish(state);
  state.counters["figure_p50"] = 1;
}

// The floor: the same ping-pong through two bare atomic words on their own cache lines (one line transfer
// each way, nothing else).
void spsc_round_trip_limit(benchmark::State& state) {
  if (allowed_cpus().size() < 2) {
    state.SkipWithError("needs two CPUs");
    return;
  }
  struct alignas(2 * hftx::kCacheLine) Line {
    std::atomic<std::uint64_t> v{0};
  };
  auto ping = std::make_unique<Line>();
  auto pong = std::make_unique<Line>();
  std::thread echo([&] {
    pin_self(cpu_at(1));
    for (std::uint64_t seen = 0;;) {
      std::uint64_t v;
      while ((v = ping->v.load(std::memory_order_acquire)) == seen) hftx::cpu_relax();
      seen = v;
      pong->v.store(v, std::memory_order_release);
      if (v == kStop) break;
    }
  });
  PinScope pin(cpu_at(0));
  hftx::bench::OpSampler sampler;
  hftx::bench::AllocMeter alloc;
  std::uint64_t seq = 0;
  for (auto _ : state) {
    const std::uint64_t t0 = TscClock::ticks();
    ping->v.store(++seq, std::memory_order_release);
    while (pong->v.load(std::memory_order_acquire) != seq) hftx::cpu_relax();
    sampler.add(TscClock::ticks() - t0);
  }
  ping->v.store(kStop, std::memory_order_release);
  echo.join();
  alloc.publish(state);
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
  sampler.publish(state);
  state.counters["figure_p50"] = 1;
}

// ---- MPMC throughput -----------------------------------------------------------------------------------

// The main thread is producer 0 and pushes kBatch items per benchmark iteration; the other producers push
// continuously from the start of the timed loop until it ends; consumers pop continuously and count. The
// figure is items consumed / wall time. No thread sleeps between iterations (a per-iteration wake-up would
// measure the scheduler, not the queue). At the end each consumer gets one stop marker.
template <class Q>
void mpmc_throughput(benchmark::State& state, unsigned producers, unsigned consumers) {
  const bool oversubscribed = producers + consumers > allowed_cpus().size();
  auto q = std::make_unique<Q>();
  std::atomic<bool> go{false}, stop{false};
  std::atomic<std::uint64_t> consumed{0};
  auto push = [&](std::uint64_t v, Spin& spin) {
    if constexpr (Q::kBlocking) q->push(v);
    else
      while (!q->try_push(v)) spin();
  };
  std::vector<std::thread> threads;
  for (unsigned p = 1; p < producers; ++p) {
    threads.emplace_back([&, p] {
      pin_self(cpu_at(p));
      while (!go.load(std::memory_order_acquire)) std::this_thread::yield();
      Spin spin{oversubscribed};
      for (std::uint64_t next = 0; !stop.load(std::memory_order_relaxed); ++next) push(next, spin);
    });
  }
  for (unsigned c = 0; c < consumers; ++c) {
    threads.emplace_back([&, c] {
      pin_self(cpu_at(producers == 1 && consumers == 1 ? 1 : c));
      Spin spin{oversubscribed};
      std::uint64_t n = 0, sum = 0, v = 0;
      for (;;) {
        if constexpr (Q::kBlocking) q->pop(v);
        else
          while (!q->try_pop(v)) spin();
        if (v == kStop) break;
        sum += v;
        ++n;
      }
      hftx::do_not_optimize(sum);
      consumed.fetch_add(n, std::memory_order_relaxed);
    });
  }
  PinScope pin(cpu_at(0));
  hftx::bench::AllocMeter alloc;
  Spin spin{oversubscribed};
  std::uint64_t next = 0;
  go.store(true, std::memory_order_release);
  for (auto _ : state) {
    for (std::uint64_t i = 0; i < kBatch; ++i) push(next++, spin);
  }
  stop.store(true, std::memory_order_relaxed);
  for (unsigned p = 1; p < producers; ++p) threads[p - 1].join();
  for (unsigned c = 0; c < consumers; ++c) push(kStop, spin);
  for (std::size_t t = producers - 1; t < threads.size(); ++t) threads[t].join();
  alloc.publish(state);
  state.SetItemsProcessed(static_cast<std::int64_t>(consumed.load()));
}

template <class Q>
void mpmc_1p1c(benchmark::State& s) { mpmc_throughput<Q>(s, 1, 1); }
template <class Q>
void mpmc_2p2c(benchmark::State& s) { mpmc_throughput<Q>(s, 2, 2); }

}  // namespace

BENCHMARK(spsc_throughput<HftxSpsc>)->Name("spsc_throughput/hftx")->UseRealTime();
BENCHMARK(spsc_throughput<HftxSpsc, In::kBatches, Out::kDrain>)->Name("spsc_throughput/hftx_batch")->UseRealTime();
BENCHMARK(spsc_throughput<MoodycamelRwq>)->Name("spsc_throughput/moodycamel")->UseRealTime();
BENCHMARK(spsc_throughput<BoostSpsc>)->Name("spsc_throughput/boost")->UseRealTime();
BENCHMARK(spsc_throughput<BoostSpsc, In::kBatches, Out::kDrain>)->Name("spsc_throughput/boost_bulk")->UseRealTime();
BENCHMARK(spsc_throughput<AtomicQueueSpsc>)->Name("spsc_throughput/atomic_queue")->UseRealTime();

BENCHMARK(spsc_throughput<HftxSpsc, In::kOne, Out::kDrain>)->Name("spsc_throughput_drain/hftx")->UseRealTime();
BENCHMARK(spsc_throughput<BoostSpsc, In::kOne, Out::kDrain>)->Name("spsc_throughput_drain/boost")->UseRealTime();

BENCHMARK(spsc_throughput<HftxSpscOf<Msg<16>>>)->Name("spsc_throughput_16b/hftx")->UseRealTime();
BENCHMARK(spsc_throughput<MoodycamelRwqOf<Msg<16>>>)->Name("spsc_throughput_16b/moodycamel")->UseRealTime();
BENCHMARK(spsc_throughput<BoostSpscOf<Msg<16>>>)->Name("spsc_throughput_16b/boost")->UseRealTime();
BENCHMARK(spsc_throughput<HftxSpscOf<Msg<32>>>)->Name("spsc_throughput_32b/hftx")->UseRealTime();
BENCHMARK(spsc_throughput<MoodycamelRwqOf<Msg<32>>>)->Name("spsc_throughput_32b/moodycamel")->UseRealTime();
BENCHMARK(spsc_throughput<BoostSpscOf<Msg<32>>>)->Name("spsc_throughput_32b/boost")->UseRealTime();
BENCHMARK(spsc_throughput<HftxSpscOf<Msg<64>>>)->Name("spsc_throughput_64b/hftx")->UseRealTime();
BENCHMARK(spsc_throughput<MoodycamelRwqOf<Msg<64>>>)->Name("spsc_throughput_64b/moodycamel")->UseRealTime();
BENCHMARK(spsc_throughput<BoostSpscOf<Msg<64>>>)->Name("spsc_throughput_64b/boost")->UseRealTime();

BENCHMARK(spsc_round_trip<HftxSpsc>)->Name("spsc_round_trip/hftx")->UseRealTime();
BENCHMARK(spsc_round_trip<MoodycamelRwq>)->Name("spsc_round_trip/moodycamel")->UseRealTime();
BENCHMARK(spsc_round_trip<BoostSpsc>)->Name("spsc_round_trip/boost")->UseRealTime();
BENCHMARK(spsc_round_trip<AtomicQueueSpsc>)->Name("spsc_round_trip/atomic_queue")->UseRealTime();
BENCHMARK(spsc_round_trip_limit)->Name("spsc_round_trip/limit")->UseRealTime();

BENCHMARK(mpmc_1p1c<HftxMpmc>)->Name("mpmc_throughput_1p1c/hftx")->UseRealTime();
BENCHMARK(mpmc_1p1c<HftxMpmcTry>)->Name("mpmc_throughput_1p1c/hftx_try")->UseRealTime();
BENCHMARK(mpmc_1p1c<HftxMpmcBackoff>)->Name("mpmc_throughput_1p1c/hftx_backoff")->UseRealTime();
BENCHMARK(mpmc_1p1c<MoodycamelCq>)->Name("mpmc_throughput_1p1c/moodycamel")->UseRealTime();
BENCHMARK(mpmc_1p1c<BoostQueue>)->Name("mpmc_throughput_1p1c/boost")->UseRealTime();
BENCHMARK(mpmc_1p1c<AtomicQueueMpmc>)->Name("mpmc_throughput_1p1c/atomic_queue")->UseRealTime();
BENCHMARK(mpmc_2p2c<HftxMpmc>)->Name("mpmc_throughput_2p2c/hftx")->UseRealTime();
BENCHMARK(mpmc_2p2c<HftxMpmcTry>)->Name("mpmc_throughput_2p2c/hftx_try")->UseRealTime();
BENCHMARK(mpmc_2p2c<HftxMpmcBackoff>)->Name("mpmc_throughput_2p2c/hftx_backoff")->UseRealTime();
BENCHMARK(mpmc_2p2c<MoodycamelCq>)->Name("mpmc_throughput_2p2c/moodycamel")->UseRealTime();
BENCHMARK(mpmc_2p2c<BoostQueue>)->Name("mpmc_throughput_2p2c/boost")->UseRealTime();
BENCHMARK(mpmc_2p2c<AtomicQueueMpmc>)->Name("mpmc_throughput_2p2c/atomic_queue")->UseRealTime();

BENCHMARK_MAIN();
