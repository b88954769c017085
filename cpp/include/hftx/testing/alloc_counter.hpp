// hftx/testing/alloc_counter.hpp — counts heap allocations, to prove zero-allocation claims.
//
// Link the `hftx_alloc_counter` object library into a test or benchmark executable: it interposes
// malloc/calloc/realloc/free/aligned allocation (and so operator new, which calls malloc) and counts
// every call from every thread. Not for sanitizer builds, which interpose malloc themselves.
//
// Threading contract: counters are process-wide relaxed atomics; read them from any thread. A scope
// measures whatever every thread allocated while it was open.
#pragma once

#include <cstdint>

namespace hftx::testing {

struct AllocStats {
  std::uint64_t allocations = 0;  // malloc, calloc, realloc (growing or new), aligned allocations
  std::uint64_t bytes = 0;        // bytes asked for
  std::uint64_t frees = 0;
};

// Totals since the process started.
[[nodiscard]] AllocStats alloc_stats() noexcept;
// Allocations made so far by the thread with kernel id `tid` (a ThreadReport's tid), counted from its first
// allocation; every thread that ever had that id, should the kernel reuse it.
[[nodiscard]] std::uint64_t thread_allocations(int tid) noexcept;
// True when the interposed allocator is linked in (false would make a zero-allocation test vacuous).
[[nodiscard]] bool alloc_counter_active() noexcept;

class AllocScope {
 public:
  AllocScope() noexcept : start_(alloc_stats()) {}
  [[nodiscard]] AllocStats delta() const noexcept {
    const AllocStats now = alloc_stats();
    return {now.allocations - start_.allocations, now.bytes - start_.bytes, now.frees - start_.frees};
  }

 private:
  AllocStats start_;
};

}  // namespace hftx::testing
