// hftx/session/timeline.hpp — append-only sample logs that the hot thread writes and any thread reads.
//
// Threading contract: one writer thread calls push(); any thread calls size() / copy(). The storage is the
// caller's (the session carves it from its pre-faulted arena), so push() neither allocates nor takes a page
// fault. Entries below the published size are never written again, so a reader that loads the size
// (acquire) reads them without a race. A full log stops recording and counts what it dropped (a report of
// the first N samples beats an allocation on the hot path).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <type_traits>
#include <vector>

namespace hftx::session {

template <class T>
class SampleLog {
  static_assert(std::is_trivially_copyable_v<T> && std::is_trivially_destructible_v<T>);

 public:
  // Records into `storage`, which must outlive the log.
  explicit SampleLog(std::span<T> storage) noexcept : data_(storage.data()), capacity_(storage.size()) {
    std::uninitialized_default_construct_n(data_, capacity_);  // begins the elements' lifetimes; writes nothing
  }

  // Writer only.
  void push(const T& v) noexcept {
    const std::size_t n = size_.load(std::memory_order_relaxed);
    if (n == capacity_) {
      dropped_.store(dropped_.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
      return;
    }
    data_[n] = v;
    size_.store(n + 1, std::memory_order_release);
  }

  // Any thread.
  [[nodiscard]] std::size_t size() const noexcept { return size_.load(std::memory_order_acquire); }
  [[nodiscard]] std::uint64_t dropped() const noexcept { return dropped_.load(std::memory_order_relaxed); }
  [[nodiscard]] std::vector<T> copy() const {
    const std::size_t n = size();
    return std::vector<T>(data_, data_ + n);
  }

 private:
  T* data_;
  std::size_t capacity_;
  std::atomic<std::size_t> size_{0};
  std::atomic<std::uint64_t> dropped_{0};
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
