// hftx/memory/arena.hpp — one large mapping (huge pages when the machine has them, NUMA-bound on request)
// carved by a bump pointer with no per-object headers, plus a std::pmr::memory_resource over it.
//
// Threading contract: constructing an Arena (which maps, binds, touches and locks its memory) is setup
// work: it may throw and takes milliseconds per GiB. After that, allocate()/reset() are NOT thread-safe:
// one owner thread carves the arena (typically at setup, handing pieces to pools and queues); the memory
// itself may then be used by any thread. report(), capacity() and data() are safe from any thread once
// constructed (they never change). smaps_for()/numa_* read /proc and /sys or make read-only syscalls: any
// thread, setup time.
//
// What you ask for and what you get (ArenaReport says exactly which, and why):
//   PageRequest::kAuto        MAP_HUGETLB (reserved huge pages, vm.nr_hugepages) -> madvise(MADV_HUGEPAGE)
//                             (transparent huge pages) -> normal pages.
//   PageRequest::kTransparent madvise(MADV_HUGEPAGE) -> normal pages.
//   PageRequest::kNormal      normal pages (what the huge-vs-normal benchmark compares against).
//   PageRequest::kHugeTlbOnly MAP_HUGETLB or a SystemError.
// Transparent huge pages are a request the kernel may partly refuse (fragmentation, `enabled = never`):
// report().huge_backed_bytes is measured from /proc/self/smaps after populating, not assumed.
// numa_node >= 0 binds the range with mbind(MPOL_BIND) before any page is touched (so every page lands on
// that node); a node that does not exist is a ConfigError, a kernel without NUMA support a note in the
// report (there is only one node then). lock = true mlock()s the range; a refusal (RLIMIT_MEMLOCK, no
// CAP_IPC_LOCK) is reported, not fatal.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory_resource>
#include <string>
#include <string_view>
#include <vector>

#include "hftx/core/platform.hpp"

namespace hftx {

enum class PageRequest : std::uint8_t { kAuto, kTransparent, kNormal, kHugeTlbOnly };
enum class PageKind : std::uint8_t {
  kNormal,           // base pages (4 KiB)
  kTransparentHuge,  // madvise(MADV_HUGEPAGE) accepted and THP enabled; see huge_backed_bytes for the outcome
  kHugeTlb,          // MAP_HUGETLB: reserved huge pages, guaranteed
};
[[nodiscard]] std::string_view to_string(PageKind kind) noexcept;

struct ArenaOptions {
  std::size_t bytes = 0;                 // usable size; rounded up to whole pages of the kind obtained
  PageRequest pages = PageRequest::kAuto;
  bool populate = true;                  // touch every page now, so the hot path takes no page faults
  bool lock = false;                     // mlock() the range (reported when refused)
  int numa_node = -1;                    // bind to this node before touching; -1 = the kernel's default policy
};

struct ArenaReport {
  PageKind pages = PageKind::kNormal;
  std::size_t page_size = 4096;          // huge page size for kHugeTlb, base page size otherwise
  std::size_t mapped_bytes = 0;
  std::size_t huge_backed_bytes = 0;     // measured (smaps AnonHugePages / hugetlb size) after populating
  bool populated = false;
  bool locked = false;
  int numa_node = -1;                    // node the range is bound to (-1: not bound)
  int numa_node_observed = -1;           // node of the first page per get_mempolicy (-1: unknown)
  std::vector<std::string> notes;        // each request that was refused or degraded, and why
  [[nodiscard]] std::string summary() const;
};

class Arena {
 public:
  // Throws ConfigError (bytes 0 or more than the machine's memory, a NUMA node that does not exist),
  // SystemError (mmap refused, or kHugeTlbOnly without huge pages).
  explicit Arena(const ArenaOptions& options);
  ~Arena();
  Arena(Arena&& other) noexcept;
  Arena& operator=(Arena&& other) noexcept;
  Arena(const Arena&) = delete;
  Arena& operator=(const Arena&) = delete;

  // Bump allocation: `bytes` aligned to `align` (a power of two); nullptr when the arena is full.
  [[nodiscard]] HFTX_FORCE_INLINE void* allocate(std::size_t bytes, std::size_t align = alignof(std::max_align_t)) noexcept {
    const std::size_t start = (used_ + align - 1) & ~(align - 1);
    if (HFTX_UNLIKELY(start < used_ || start > capacity_ || bytes > capacity_ - start)) return nullptr;
    used_ = start + bytes;
    return base_ + start;
  }
  // Forgets every allocation (the memory stays mapped, populated and locked).
  void reset() noexcept { used_ = 0; }

  [[nodiscard]] std::byte* data() const noexcept { return base_; }
  [[nodiscard]] std::size_t capacity() const noexcept { return capacity_; }
  [[nodiscard]] std::size_t used() const noexcept { return used_; }
  [[nodiscard]] std::size_t remaining() const noexcept { return capacity_ - used_; }
  [[nodiscard]] const ArenaReport& report() const noexcept { return report_; }

 private:
  void release() noexcept;

  std::byte* base_ = nullptr;
  std::size_t capacity_ = 0;
  std::size_t used_ = 0;
  void* map_ = nullptr;
  std::size_t map_bytes_ = 0;
  ArenaReport report_;
};

// std::pmr::memory_resource over an Arena, for setup-time containers (monotonic: deallocate is a no-op,
// memory comes back with Arena::reset()). Throws std::bad_alloc when the arena is full. Same threading
// contract as Arena::allocate.
class ArenaResource final : public std::pmr::memory_resource {
 public:
  explicit ArenaResource(Arena& arena) noexcept : arena_(&arena) {}
  [[nodiscard]] Arena& arena() const noexcept { return *arena_; }

 private:
  void* do_allocate(std::size_t bytes, std::size_t align) override;
  void do_deallocate(void*, std::size_t, std::size_t) noexcept override {}
  [[nodiscard]] bool do_is_equal(const std::pmr::memory_resource& other) const noexcept override {
    return this == &other;
  }
  Arena* arena_;
};

// The /proc/self/smaps entry of the mapping containing addr (all sizes in bytes; found = false if none).
struct SmapsInfo {
  bool found = false;
  std::size_t size = 0;
  std::size_t rss = 0;
  std::size_t anon_huge = 0;       // AnonHugePages: transparent huge pages
  std::size_t hugetlb = 0;         // Private_Hugetlb + Shared_Hugetlb
  std::size_t kernel_page = 0;     // KernelPageSize (2 MiB for MAP_HUGETLB mappings)
  std::size_t locked = 0;
  bool thp_eligible = false;
};
[[nodiscard]] SmapsInfo smaps_for(const void* addr);

// NUMA nodes online (/sys/devices/system/node/online below sysfs_root); {0} when the file is absent.
[[nodiscard]] std::vector<int> numa_online_nodes(const std::string& sysfs_root = "/sys");
// The node holding the page at addr (get_mempolicy MPOL_F_NODE|MPOL_F_ADDR), or -1 when the kernel cannot
// tell (no NUMA support).
[[nodiscard]] int numa_node_of(const void* addr) noexcept;
// mbind(MPOL_BIND) of [addr, addr+len) (page-aligned) to `node`. Returns 0 or the errno of the refusal.
[[nodiscard]] int numa_bind(void* addr, std::size_t len, int node) noexcept;
// Size of a reserved huge page (/proc/meminfo Hugepagesize), 2 MiB when unknown; and how many are free.
[[nodiscard]] std::size_t huge_page_size() noexcept;
[[nodiscard]] std::size_t huge_pages_free() noexcept;

}  // namespace hftx
