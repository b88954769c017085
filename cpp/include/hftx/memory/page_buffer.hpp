// hftx/memory/page_buffer.hpp — a byte buffer of whole pages straight from the kernel: pages are faulted in when
// first written (or at once, for a hot path that must not fault), and returned to the kernel when freed.
//
// Threading contract: a value type owned by one thread at a time; move-only.
//
// Why not new[]: a connection's 256 KiB buffers from malloc stay in the process after the connection closes
// (glibc serves them from its heap once its mmap threshold has adapted, and does not give the heap back), and
// value-initialising them touches every page. A server with 1,500 connections that never finished their
// handshake held ~580 kB each and kept it all after they closed. mmap'ed pages cost only what is written, and
// munmap gives them back at once.
#pragma once

#include <sys/mman.h>

#include <cstddef>
#include <cstdint>
#include <utility>

namespace hftx {

class PageBuffer {
 public:
  PageBuffer() noexcept = default;
  // `bytes` rounded up to whole pages; `prefault`: every page faulted in now (MAP_POPULATE). Empty (!*this) when
  // the kernel refused.
  PageBuffer(std::size_t bytes, bool prefault) noexcept {
    if (bytes == 0) return;
    const int flags = MAP_PRIVATE | MAP_ANONYMOUS | (prefault ? MAP_POPULATE : 0);
    void* p = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, flags, -1, 0);
    if (p == MAP_FAILED) return;
    data_ = static_cast<std::uint8_t*>(p);
    size_ = bytes;
  }
  ~PageBuffer() { release(); }
  PageBuffer(PageBuffer&& o) noexcept : data_(std::exchange(o.data_, nullptr)), size_(std::exchange(o.size_, 0)) {}
  PageBuffer& operator=(PageBuffer&& o) noexcept {
    if (this != &o) {
      release();
      data_ = std::exchange(o.data_, nullptr);
      size_ = std::exchange(o.size_, 0);
    }
    return *this;
  }
  PageBuffer(const PageBuffer&) = delete;
  PageBuffer& operator=(const PageBuffer&) = delete;

  [[nodiscard]] std::uint8_t* get() const noexcept { return data_; }
  [[nodiscard]] std::size_t size() const noexcept { return size_; }
  explicit operator bool() const noexcept { return data_ != nullptr; }

 private:
  void release() noexcept {
    if (data_ != nullptr) ::munmap(data_, size_);
    data_ = nullptr;
    size_ = 0;
  }

  std::uint8_t* data_ = nullptr;
  std::size_t size_ = 0;
};

}  // namespace hftx
