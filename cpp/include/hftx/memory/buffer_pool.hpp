// hftx/memory/buffer_pool.hpp — byte buffers in size classes for network reads and writes.
//
// Threading contract: not thread-safe; one owner thread (the reactor thread that reads and writes the
// sockets) calls acquire/release/stats. A Buffer may be handed to another thread only through an external
// happens-before (e.g. an SPSC queue), and must come back to the owner thread to be released.
//
// Each size class is one contiguous block (taken at construction from a std::pmr::memory_resource — the
// heap by default, or an ArenaResource over a huge-page arena) carved into `count` buffers of `bytes`
// bytes, with a LIFO free list of indices (the most recently released buffer, still hot in cache, is
// reused first). acquire(n) serves the smallest class with bytes >= n; when that class is empty it takes
// the next larger non-empty class (counted as `upsized`), and when none fits it returns an empty Buffer and
// counts a miss: the hot path neither throws nor allocates.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory_resource>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "hftx/core/error.hpp"
#include "hftx/core/platform.hpp"

namespace hftx {

struct BufferClass {
  std::size_t bytes;  // size of each buffer in the class
  std::size_t count;  // how many buffers
};

struct BufferPoolStats {
  std::uint64_t hits = 0;     // acquires served (from their own class or a larger one)
  std::uint64_t upsized = 0;  // ... of which from a larger class because theirs was empty
  std::uint64_t misses = 0;   // acquires that got an empty Buffer (no class large enough had a buffer)
  std::uint64_t releases = 0;
  std::size_t in_use = 0;
  std::size_t high_water = 0;
  std::size_t bytes_reserved = 0;  // all classes
};

class BufferPool {
 public:
  // A buffer handed out by the pool; returns itself to the pool when destroyed (or by release()).
  class Buffer {
   public:
    Buffer() noexcept = default;
    Buffer(Buffer&& o) noexcept : pool_(std::exchange(o.pool_, nullptr)), data_(o.data_), size_(o.size_), cls_(o.cls_) {}
    Buffer& operator=(Buffer&& o) noexcept {
      if (this != &o) {
        reset();
        pool_ = std::exchange(o.pool_, nullptr);
        data_ = o.data_;
        size_ = o.size_;
        cls_ = o.cls_;
      }
      return *this;
    }
    Buffer(const Buffer&) = delete;
    Buffer& operator=(const Buffer&) = delete;
    ~Buffer() { reset(); }

    [[nodiscard]] std::byte* data() const noexcept { return data_; }
    [[nodiscard]] std::size_t size() const noexcept { return size_; }  // the class size: >= requested
    [[nodiscard]] std::span<std::byte> span() const noexcept { return {data_, size_}; }
    [[nodiscard]] explicit operator bool() const noexcept { return pool_ != nullptr; }
    // Returns the buffer to its pool now (no-op for an empty Buffer).
    void reset() noexcept {
      if (pool_ != nullptr) std::exchange(pool_, nullptr)->give_back(data_, cls_);
    }

   private:
    friend class BufferPool;
    Buffer(BufferPool* pool, std::byte* data, std::size_t size, std::uint32_t cls) noexcept
        : pool_(pool), data_(data), size_(size), cls_(cls) {}
    BufferPool* pool_ = nullptr;
    std::byte* data_ = nullptr;
    std::size_t size_ = 0;
    std::uint32_t cls_ = 0;
  };

  // Classes must have nonzero bytes and count and strictly increasing sizes. Buffers are aligned to a cache
  // line when their size is a multiple of one. Throws ConfigError on a bad class list, std::bad_alloc (or
  // whatever `upstream` throws) when the memory cannot be had.
  explicit BufferPool(std::span<const BufferClass> classes,
                      std::pmr::memory_resource* upstream = std::pmr::new_delete_resource())
      : upstream_(upstream) {
    if (classes.empty()) throw ConfigError("BufferPool: classes is empty; expected at least one {bytes, count}");
    for (std::size_t i = 0; i < classes.size(); ++i) {
      const BufferClass& c = classes[i];
      if (c.bytes == 0 || c.count == 0 || c.count > UINT32_MAX || c.bytes > (std::size_t{1} << 40) / c.count)
        throw ConfigError("BufferPool: class " + std::to_string(i) + " {bytes=" + std::to_string(c.bytes) +
                          ", count=" + std::to_string(c.count) + "} is invalid; expected bytes >= 1, 1 <= count < 2^32 "
                          "and bytes*count <= 1 TiB");
      if (i > 0 && c.bytes <= classes[i - 1].bytes)
        throw ConfigError("BufferPool: class sizes must increase strictly; class " + std::to_string(i) + " has bytes=" +
                          std::to_string(c.bytes) + " after " + std::to_string(classes[i - 1].bytes));
    }
    classes_.reserve(classes.size());
    try {
      for (const BufferClass& c : classes) {
        Class& k = classes_.emplace_back();  // in classes_ before it owns anything: free_blocks() sees it
        k.bytes = c.bytes;
        k.count = c.count;
        k.free.resize(c.count);
        // LIFO stack of free indices; index 0 on top so the first acquires walk memory forwards.
        for (std::size_t j = 0; j < c.count; ++j) k.free[j] = static_cast<std::uint32_t>(c.count - 1 - j);
        k.block = static_cast<std::byte*>(upstream_->allocate(c.bytes * c.count, kCacheLine));
        k.top = c.count;
        stats_.bytes_reserved += c.bytes * c.count;
      }
    } catch (...) {
      free_blocks();
      throw;
    }
  }

  BufferPool(const BufferPool&) = delete;
  BufferPool& operator=(const BufferPool&) = delete;
  // Every Buffer must have been returned (they point into the pool's memory).
  ~BufferPool() { free_blocks(); }

  // A buffer of at least `bytes` bytes, or an empty Buffer (and a miss) when none is free.
  [[nodiscard]] Buffer acquire(std::size_t bytes) noexcept {
    std::size_t i = 0;
    while (i < classes_.size() && classes_[i].bytes < bytes) ++i;
    bool up = false;
    for (; i < classes_.size(); ++i, up = true) {
      Class& k = classes_[i];
      if (HFTX_LIKELY(k.top != 0)) {
        const std::uint32_t idx = k.free[--k.top];
        ++stats_.hits;
        stats_.upsized += up;
        if (++stats_.in_use > stats_.high_water) stats_.high_water = stats_.in_use;
        return Buffer(this, k.block + std::size_t{idx} * k.bytes, k.bytes, static_cast<std::uint32_t>(&k - classes_.data()));
      }
    }
    ++stats_.misses;
    return Buffer();
  }

  [[nodiscard]] const BufferPoolStats& stats() const noexcept { return stats_; }
  [[nodiscard]] std::size_t available(std::size_t class_index) const noexcept { return classes_.at(class_index).top; }
  [[nodiscard]] std::size_t class_count() const noexcept { return classes_.size(); }

 private:
  struct Class {
    std::size_t bytes = 0;
    std::size_t count = 0;
    std::byte* block = nullptr;
    std::vector<std::uint32_t> free;
    std::size_t top = 0;
  };

  void give_back(std::byte* data, std::uint32_t cls) noexcept {
    Class& k = classes_[cls];
    k.free[k.top++] = static_cast<std::uint32_t>(static_cast<std::size_t>(data - k.block) / k.bytes);
    --stats_.in_use;
    ++stats_.releases;
  }

  void free_blocks() noexcept {
    for (Class& k : classes_)
      if (k.block != nullptr) upstream_->deallocate(k.block, k.bytes * k.count, kCacheLine);
    classes_.clear();
  }

  std::pmr::memory_resource* upstream_;
  std::vector<Class> classes_;
  BufferPoolStats stats_{};
};

}  // namespace hftx
