// hftx/lockfree/seqlock.hpp — single-writer, many-reader publication of trivially copyable snapshots
// (top of book, statistics).
//
// Threading contract:
//  - store() and write() are called by ONE writer thread at a time (the owner). They never block and never
//    wait for readers.
//  - load() and try_load() may be called from any number of threads concurrently with the writer. load()
//    retries while a write overlaps its copy; try_load() makes one attempt and reports failure.
//  - Every successful read returns a value the writer stored in full (no torn values), and everything the
//    writer did before that store() happens-before the reader's return (release/acquire on the sequence).
//
// Why it is free of data races in the C++ memory-model sense (and so clean under ThreadSanitizer without
// annotations): the payload is not stored as a plain T that readers memcpy while the writer overwrites it —
// that classic seqlock is formally a data race (undefined behaviour) that only works in practice. Here the
// payload lives in an array of std::atomic<uint64_t> words. The writer copies T into local words and stores
// them with atomic stores; a reader loads them with atomic loads into a local buffer and
// only turns that buffer into a T once the sequence check proves it is consistent. Concurrent relaxed
// atomic accesses are never a data race, so TSan has nothing to report and needs no __tsan_ hooks.
// Ordering (Boehm, "Can seqlocks get along with programming language memory models?", 2012, without the
// stand-alone fences, which ThreadSanitizer does not model):
//   writer: seq = s+1 (relaxed); payload word stores (release); seq = s+2 (release)
//   reader: s0 = seq (acquire); payload word loads (acquire); s1 = seq (relaxed); consistent iff s0 == s1, even
// A reader that loads any word of an overlapping write synchronizes with that word's release store, so the
// odd sequence store (sequenced before it) happens-before its re-check: s1 != s0. The acquire payload loads
// also keep the re-check from being hoisted above them. On x86-64 release stores and acquire loads are plain
// movs, so this costs the same as the classic (racy) memcpy seqlock.
// Layout: the sequence word and the payload share cache lines (one line for payloads up to 56 bytes), so a
// reader touches as few lines as possible; the object is aligned to and padded to whole cache lines so it
// never shares a line with a neighbour.
#pragma once

#include <array>
#include <atomic>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <type_traits>

#include "hftx/core/platform.hpp"

namespace hftx {

template <class T>
class alignas(kCacheLine) SeqLock {
  static_assert(std::is_trivially_copyable_v<T>, "SeqLock<T> needs a trivially copyable T");
  static_assert(std::atomic<std::uint64_t>::is_always_lock_free);

  static constexpr std::size_t kWords = (sizeof(T) + sizeof(std::uint64_t) - 1) / sizeof(std::uint64_t);
  using Words = std::array<std::uint64_t, kWords>;

 public:
  using value_type = T;

  SeqLock() noexcept(std::is_nothrow_default_constructible_v<T>)
    requires std::is_default_constructible_v<T>
      : SeqLock(T{}) {}

  explicit SeqLock(const T& initial) noexcept : shadow_(initial) {
    Words w = to_words(initial);
    for (std::size_t i = 0; i < kWords; ++i) words_[i].store(w[i], std::memory_order_relaxed);
  }

  SeqLock(const SeqLock&) = delete;
  SeqLock& operator=(const SeqLock&) = delete;

  // Writer only. Publishes `value`; never blocks.
  void store(const T& value) noexcept {
    shadow_ = value;
    publish(to_words(value));
  }

  // Writer only. Calls f(T&) on the writer's copy of the current value, then publishes the result. The
  // sequence is odd while f runs, so readers retry rather than see a half-made value.
  template <class F>
  void write(F&& f) noexcept {
    const std::uint64_t s = seq_.load(std::memory_order_relaxed);
    seq_.store(s + 1, std::memory_order_relaxed);
    static_cast<F&&>(f)(shadow_);
    const Words w = to_words(shadow_);
    for (std::size_t i = 0; i < kWords; ++i) words_[i].store(w[i], std::memory_order_release);
    seq_.store(s + 2, std::memory_order_release);
  }

  // Readers: one attempt. False (and `out` untouched) when a write overlapped the copy.
  [[nodiscard]] bool try_load(T& out) const noexcept {
    Words w;
    if (!try_copy(w)) return false;
    out = from_words(w);
    return true;
  }

  // Readers: retries (with `pause`) until a consistent copy; the writer never waits for it.
  [[nodiscard]] T load() const noexcept {
    Words w;
    while (!try_copy(w)) cpu_relax();
    return from_words(w);
  }

  // Number of completed writes (sequence / 2); any thread. A reader can poll it to see whether anything
  // changed since it last looked without copying the payload.
  [[nodiscard]] std::uint64_t version() const noexcept { return seq_.load(std::memory_order_acquire) >> 1; }

  // Writer only: the last value written (no synchronisation needed, the writer owns it).
  [[nodiscard]] const T& writer_value() const noexcept { return shadow_; }

 private:
  void publish(const Words& w) noexcept {
    const std::uint64_t s = seq_.load(std::memory_order_relaxed);
    seq_.store(s + 1, std::memory_order_relaxed);
    // Release: a reader that sees any new word also sees the odd sequence (or later) when it re-checks.
    for (std::size_t i = 0; i < kWords; ++i) words_[i].store(w[i], std::memory_order_release);
    seq_.store(s + 2, std::memory_order_release);
  }

  HFTX_FORCE_INLINE bool try_copy(Words& w) const noexcept {
    const std::uint64_t s0 = seq_.load(std::memory_order_acquire);
    if (s0 & 1u) return false;  // a write is in progress
    // Acquire: the re-check below cannot move above these loads.
    for (std::size_t i = 0; i < kWords; ++i) w[i] = words_[i].load(std::memory_order_acquire);
    return seq_.load(std::memory_order_relaxed) == s0;
  }

  static Words to_words(const T& v) noexcept {
    Words w{};
    std::memcpy(w.data(), &v, sizeof(T));
    return w;
  }

  static T from_words(const Words& w) noexcept {
    std::array<std::byte, sizeof(T)> bytes;
    std::memcpy(bytes.data(), w.data(), sizeof(T));
    return std::bit_cast<T>(bytes);
  }

  std::atomic<std::uint64_t> seq_{0};
  std::array<std::atomic<std::uint64_t>, kWords> words_;
  // Writer-private: the current value, so write() can mutate in place. Read-mostly by the writer, after the
  // shared words so small payloads keep seq_ and words_ on one line.
  T shadow_;
};

}  // namespace hftx
