// Counting malloc interposition over glibc's __libc_* entry points. operator new in libstdc++ calls
// malloc, so C++ allocations are counted too.
#include "hftx/testing/alloc_counter.hpp"

#include <atomic>
#include <cerrno>
#include <cstddef>
#include <cstdint>

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

inline void count(std::size_t n) noexcept {
  g_allocs.fetch_add(1, std::memory_order_relaxed);
  g_bytes.fetch_add(n, std::memory_order_relaxed);
}
}  // namespace

namespace hftx::testing {
AllocStats alloc_stats() noexcept {
  return {g_allocs.load(std::memory_order_relaxed), g_bytes.load(std::memory_order_relaxed),
          g_frees.load(std::memory_order_relaxed)};
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
