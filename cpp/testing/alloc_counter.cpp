// Counting malloc interposition over glibc's __libc_* entry points. operator new in libstdc++ calls
// malloc, so C++ allocations are counted too.
#include "hftx/testing/alloc_counter.hpp"

#include <atomic>
#include <cerrno>
#include <cstddef>
#include <cstdint>

#include <sys/syscall.h>
#include <unistd.h>

#include "hftx/core/platform.hpp"

extern "C" {
void* __libc_malloc(std::size_t);
void* __libc_calloc(std::size_t, std::size_t);
void* __libc_realloc(void*, std::size_t);
void* __libc_memalign(std::size_t, std::size_t);
void __libc_free(void*);
}

namespace {
std::atomic<std::uint64_t> g_allocs{0};
std::atomic<std::uint64_t> g_bytes{0};
std::atomic<std::uint64_t> g_frees{0};

// Per-thread counts: a fixed table (no allocation inside malloc), a slot claimed by a thread's first
// allocation and remembered in a thread_local. Threads beyond the table are counted only in the totals.
struct ThreadSlot {
  std::atomic<int> tid{0};
  std::atomic<std::uint64_t> allocs{0};
};
constexpr int kThreadSlots = 256;
ThreadSlot g_threads[kThreadSlots];
thread_local int t_slot = -2;  // -2: not looked up yet, -1: table full

inline void count(std::size_t n) noexcept {
  g_allocs.fetch_add(1, std::memory_order_relaxed);
  g_bytes.fetch_add(n, std::memory_order_relaxed);
  if (HFTX_UNLIKELY(t_slot == -2)) {
    t_slot = -1;
    const int tid = static_cast<int>(::syscall(SYS_gettid));
    for (int i = 0; i < kThreadSlots; ++i) {
      int expected = 0;
      if (g_threads[i].tid.compare_exchange_strong(expected, tid, std::memory_order_relaxed)) {
        t_slot = i;
        break;
      }
    }
  }
  if (t_slot >= 0) g_threads[t_slot].allocs.fetch_add(1, std::memory_order_relaxed);
}
}  // namespace

namespace hftx::testing {
AllocStats alloc_stats() noexcept {
  return {g_allocs.load(std::memory_order_relaxed), g_bytes.load(std::memory_order_relaxed),
          g_frees.load(std::memory_order_relaxed)};
}
std::uint64_t thread_allocations(int tid) noexcept {
  std::uint64_t n = 0;
  for (const ThreadSlot& t : g_threads)
    if (t.tid.load(std::memory_order_relaxed) == tid) n += t.allocs.load(std::memory_order_relaxed);
  return n;
}
bool alloc_counter_active() noexcept {
  const std::uint64_t before = g_allocs.load(std::memory_order_relaxed);
  void* volatile p = __builtin_malloc(1);  // through the interposed symbol, not folded away
  ::free(p);
  return g_allocs.load(std::memory_order_relaxed) > before;
}
}  // namespace hftx::testing

extern "C" {
void* malloc(std::size_t n) {
  count(n);
  return __libc_malloc(n);
}
void* calloc(std::size_t a, std::size_t b) {
  count(a * b);
  return __libc_calloc(a, b);
}
void* realloc(void* p, std::size_t n) {
  count(n);
  return __libc_realloc(p, n);
}
void free(void* p) {
  if (p != nullptr) g_frees.fetch_add(1, std::memory_order_relaxed);
  __libc_free(p);
}
void* memalign(std::size_t align, std::size_t n) {
  count(n);
  return __libc_memalign(align, n);
}
void* aligned_alloc(std::size_t align, std::size_t n) {
  count(n);
  return __libc_memalign(align, n);
}
int posix_memalign(void** out, std::size_t align, std::size_t n) {
  if (align < sizeof(void*) || (align & (align - 1)) != 0) return EINVAL;
  count(n);
  void* p = __libc_memalign(align, n);
  if (p == nullptr) return ENOMEM;
  *out = p;
  return 0;
}
void* valloc(std::size_t n) {
  count(n);
  return __libc_memalign(4096, n);
}
void* pvalloc(std::size_t n) {
  count(n);
  return __libc_memalign(4096, (n + 4095) & ~std::size_t{4095});
}
}
