// hftx/core/platform.hpp — compiler and CPU helpers shared by every layer.
//
// Threading contract: everything here is stateless and safe from any thread.
#pragma once

#include <cstddef>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define HFTX_X86 1
#else
#define HFTX_X86 0
#endif

namespace hftx {

// Our own constant rather than std::hardware_destructive_interference_size: GCC 12 warns when that one
// appears in a header (its value may differ between translation units compiled with other -mtune), and
// every x86-64 part hftx targets has 64-byte lines. Adjacent-line prefetch pairs lines, so structures that
// must never share a prefetch pair use 2 * kCacheLine.
inline constexpr std::size_t kCacheLine = 64;

// 128-bit integers for exact 64x64 multiplications (one `mul` instruction on x86-64). __extension__
// keeps -Wpedantic quiet about the GNU type.
__extension__ typedef __int128 int128;
__extension__ typedef unsigned __int128 uint128;

}  // namespace hftx

#define HFTX_LIKELY(x) __builtin_expect(!!(x), 1)
#define HFTX_UNLIKELY(x) __builtin_expect(!!(x), 0)
#define HFTX_FORCE_INLINE inline __attribute__((always_inline))
#define HFTX_NOINLINE __attribute__((noinline))
#define HFTX_COLD __attribute__((cold, noinline))

namespace hftx {

// One spin-wait step: `pause` tells the core we are spinning, which frees the sibling hyper-thread's
// resources and avoids the memory-order mis-speculation flush when the awaited line changes.
HFTX_FORCE_INLINE void cpu_relax() noexcept {
#if HFTX_X86
  _mm_pause();
#elif defined(__aarch64__)
  asm volatile("yield" ::: "memory");
#else
  asm volatile("" ::: "memory");
#endif
}

// Keeps a value alive (and its computation un-elided) without a memory round trip: used by benchmarks
// and by tests that time code.
template <class T>
HFTX_FORCE_INLINE void do_not_optimize(T const& value) noexcept {
  asm volatile("" : : "r,m"(value) : "memory");
}

}  // namespace hftx
