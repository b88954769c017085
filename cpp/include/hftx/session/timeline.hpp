// hftx/session/timeline.hpp — sample logs that cover a whole run in fixed memory: the hot thread appends,
// any thread reads an evenly thinned copy.
//
// Threading contract: one writer thread calls push(); any thread calls kept() / seen() / snapshot(). The
// storage is the caller's (the session carves it from its pre-faulted arena), so push() neither allocates nor
// takes a page fault. Entries below the published count are never written again, so a reader that loads the
// count (acquire) copies them without a race.
//
// Why levels: a session runs for seconds or for days, and a log that keeps its first N samples shows the first
// seconds of a long run (the demo's tick-to-trade filled 1 Mi samples in 25 s). Compacting in place to halve
// the rate would stall the hot thread for milliseconds and rewrite what readers copy. Instead the storage is
// `levels` equal runs of `per_level` entries written one after another: level k keeps every 2^k-th sample,
// so level k holds samples S(k) + j * 2^k with S(k) = per_level * (2^k - 1). Nothing is moved or rewritten;
// push() costs a countdown and a store. A reader picks from every level the samples on the top level's grid,
// which gives one sample in 2^top, evenly spread over the whole run (between per_level / 2 and
// 2 * per_level samples once the first level is full). 32 levels of 32 Ki cover 1.4e14 samples; past the
// last level, samples are counted in seen() and not kept.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

namespace hftx::session {

// An evenly thinned series, oldest first: consecutive samples were pushed `every` pushes apart.
template <class T>
struct SampleSeries {
  std::vector<T> samples;
  std::uint64_t every = 1;  // one kept sample in `every`
  std::uint64_t seen = 0;   // samples pushed, kept or not (read first: while the log is written, samples may
                            // run a few pushes past it)
};

template <class T>
class SampleLog {
  static_assert(std::is_trivially_copyable_v<T> && std::is_trivially_destructible_v<T>);

 public:
  static constexpr std::size_t kMaxLevels = 40;

  // Records into `storage`, which must outlive the log, as `levels` levels of storage.size() / levels entries.
  // Throws std::invalid_argument when levels is 0 or above kMaxLevels, when the storage has fewer entries, or
  // when the levels would count past 2^63 samples (per_level * 2^levels).
  explicit SampleLog(std::span<T> storage, std::size_t levels = 32)
      : data_(storage.data()), levels_(levels), per_level_(levels == 0 ? 0 : storage.size() / levels) {
    if (levels == 0 || levels > kMaxLevels || per_level_ == 0 || per_level_ > (std::uint64_t{1} << (63 - levels)))
      throw std::invalid_argument("SampleLog: " + std::to_string(storage.size()) + " entries in " +
                                  std::to_string(levels) + " levels; expected 1.." + std::to_string(kMaxLevels) +
                                  " levels of 1..2^(63 - levels) entries each");
    std::uninitialized_default_construct_n(data_, levels_ * per_level_);  // begins lifetimes; writes nothing
  }

  // Writer only.
  void push(const T& v) noexcept {
    seen_.store(seen_.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
    if (--skip_ != 0) return;
    if (in_level_ == per_level_) {
      if (level_ + 1 == levels_) {  // every level full: count, keep nothing more
        skip_ = 1;
        return;
      }
      ++level_;
      in_level_ = 0;
    }
    skip_ = std::uint64_t{1} << level_;
    const std::size_t n = kept_.load(std::memory_order_relaxed);
    data_[n] = v;
    ++in_level_;
    kept_.store(n + 1, std::memory_order_release);
  }

  // Any thread.
  [[nodiscard]] std::size_t kept() const noexcept { return kept_.load(std::memory_order_acquire); }
  [[nodiscard]] std::uint64_t seen() const noexcept { return seen_.load(std::memory_order_relaxed); }
  [[nodiscard]] std::size_t per_level() const noexcept { return per_level_; }

  // Every sample kept so far that lies on the top level's grid, oldest first.
  [[nodiscard]] SampleSeries<T> snapshot() const {
    SampleSeries<T> out;
    out.seen = seen();
    const std::size_t n = kept();
    if (n == 0) return out;
    const std::size_t top = (n - 1) / per_level_;
    out.every = std::uint64_t{1} << top;
    out.samples.reserve(n < 2 * per_level_ ? n : 2 * per_level_);  // what the grid can hold
    const auto start = [this](std::size_t k) { return per_level_ * ((std::uint64_t{1} << k) - 1); };
    for (std::size_t k = 0; k <= top; ++k) {
      const std::size_t in_level = k < top ? per_level_ : n - top * per_level_;
      // Level k's entry j is sample start(k) + j * 2^k; it is on the grid when that is start(top) modulo
      // 2^top. start(top) - start(k) is a multiple of 2^k, so j must be that quotient modulo 2^(top - k).
      const std::uint64_t step = std::uint64_t{1} << (top - k);
      const std::uint64_t first = ((start(top) - start(k)) >> k) & (step - 1);
      const T* level = data_ + k * per_level_;
      for (std::uint64_t j = first; j < in_level; j += step) out.samples.push_back(level[j]);
    }
    return out;
  }

 private:
  T* data_;
  std::size_t levels_;
  std::size_t per_level_;
  // The writer's own state.
  std::size_t level_ = 0;
  std::size_t in_level_ = 0;
  std::uint64_t skip_ = 1;  // samples until the next kept one
  std::atomic<std::size_t> kept_{0};
  std::atomic<std::uint64_t> seen_{0};
};

// A counter with one writer and any number of readers: a relaxed load + store (no read-modify-write on
// the hot path), readable from any thread without tearing.
class Counter {
 public:
  void add(std::uint64_t n = 1) noexcept { v_.store(v_.load(std::memory_order_relaxed) + n, std::memory_order_relaxed); }
  void set(std::uint64_t n) noexcept { v_.store(n, std::memory_order_relaxed); }
  [[nodiscard]] std::uint64_t get() const noexcept { return v_.load(std::memory_order_relaxed); }

 private:
  std::atomic<std::uint64_t> v_{0};
};

}  // namespace hftx::session
