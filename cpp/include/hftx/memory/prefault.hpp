// hftx/memory/prefault.hpp — have the kernel map now, not on the hot path: a vector's reserved room, and the
// program's code.
//
// Threading contract: setup-time helpers on a container the caller owns, or on the process's own code
// (read only); no shared state.
//
// Why: vector::reserve() (like `new T[n]` of a trivial T) only takes address space. The kernel maps each
// page on its first write: a minor page fault of about a microsecond, taken by whichever path first grows
// into that page. For the containers the hot threads fill only now and then (diffs buffered during a
// resync, orders collected for a kill-switch cancel, updates held under back-pressure), that path is the
// one that must be fast.
#pragma once

#include <algorithm>
#include <cstddef>
#include <vector>

namespace hftx {

// Capacity for at least `n` elements, with every page of it written once. Elements are value-constructed
// into the spare room and destroyed again, so size() and the contents are unchanged; T must be
// default-constructible.
template <class T, class Alloc>
void reserve_mapped(std::vector<T, Alloc>& v, std::size_t n) {
  const std::size_t size = v.size();
  v.reserve(n);
  v.resize(std::max(v.capacity(), size));
  v.resize(size);
}

// The code of the program or shared library hftx is linked into, mapped now: each executable segment's
// pages entered in the page tables (MADV_POPULATE_READ; before Linux 5.14, one read per page). Without it
// the first run of a cold path (HFTX_COLD code, a late cancel reject, say) takes a minor fault on its page
// of text, mid-trade. Returns the bytes of code mapped; 0 when the segments could not be found.
// mlockall (performance.lock_memory) does this and more; this is for the sessions that run without it.
std::size_t prefault_code() noexcept;

}  // namespace hftx
