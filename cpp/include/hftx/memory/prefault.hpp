// hftx/memory/prefault.hpp — reserve a vector's room and have the kernel map it now, not on the hot path.
//
// Threading contract: setup-time helpers on a container the caller owns; no shared state.
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

}  // namespace hftx
