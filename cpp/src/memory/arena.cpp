// Arena: mapping with huge-page fallbacks, NUMA binding, smaps inspection. See hftx/memory/arena.hpp.
#include "hftx/memory/arena.hpp"

#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <new>
#include <sstream>
#include <string>
#include <utility>

#include "hftx/core/error.hpp"
#include "hftx/core/cpu_list.hpp"
#include "core/kernel_file.hpp"

namespace hftx {

namespace {

constexpr std::size_t kThpSize = std::size_t{2} << 20;  // x86-64 PMD size: the unit THP backs
constexpr int kMpolBind = 2;                          // <linux/mempolicy.h>
constexpr unsigned kMpolMfStrict = 1u << 0;
constexpr unsigned kMpolMfMove = 1u << 1;
constexpr unsigned long kMpolFNode = 1ul << 0;
constexpr unsigned long kMpolFAddr = 1ul << 1;
constexpr std::size_t kMaskWords = 16;                // 1024 nodes

std::string errno_text(int err) { return std::string(std::strerror(err)) + " (errno " + std::to_string(err) + ")"; }

std::size_t base_page_size() noexcept {
  const long p = ::sysconf(_SC_PAGESIZE);
  return p > 0 ? static_cast<std::size_t>(p) : 4096;
}

std::size_t round_up(std::size_t n, std::size_t unit) { return (n + unit - 1) / unit * unit; }

// A "Key:   123 kB" line of /proc/meminfo, in bytes (0 when absent).
std::size_t meminfo_bytes(const char* key) noexcept {
  std::ifstream in("/proc/meminfo");
  std::string line;
  const std::size_t klen = std::strlen(key);
  while (std::getline(in, line)) {
    if (line.compare(0, klen, key) == 0 && line.size() > klen && line[klen] == ':') {
      unsigned long long v = 0;
      char unit[8] = {};
      if (std::sscanf(line.c_str() + klen + 1, "%llu %7s", &v, unit) >= 1)
        return static_cast<std::size_t>(v) * (unit[0] == 'k' ? 1024 : 1);
    }
  }
  return 0;
}

// The bracketed choice of /sys/kernel/mm/transparent_hugepage/enabled ("always", "madvise", "never"), or ""
// when the kernel has no THP.
std::string thp_mode() {
  const std::string s = detail::read_first_line("/sys/kernel/mm/transparent_hugepage/enabled");
  const auto a = s.find('[');
  const auto b = s.find(']');
  return a != std::string::npos && b != std::string::npos && b > a ? s.substr(a + 1, b - a - 1) : std::string();
}

void touch(std::byte* p, std::size_t bytes, std::size_t step) noexcept {
  // A volatile write per page: faults each page in (and, for THP, each 2 MiB extent as one huge page).
  for (std::size_t off = 0; off < bytes; off += step) static_cast<volatile std::byte*>(p)[off] = std::byte{0};
}

}  // namespace

std::string_view to_string(PageKind kind) noexcept {
  switch (kind) {
    case PageKind::kNormal:
      return "normal";
    case PageKind::kTransparentHuge:
      return "transparent_huge";
    case PageKind::kHugeTlb:
      return "hugetlb";
  }
  return "unknown";
}

std::string ArenaReport::summary() const {
  std::ostringstream o;
  o << to_string(pages) << " pages of " << page_size << " B, " << mapped_bytes << " B mapped";
  if (pages != PageKind::kNormal) o << ", " << huge_backed_bytes << " B backed by huge pages";
  o << (populated ? ", populated" : ", not populated") << (locked ? ", locked" : ", not locked");
  if (numa_node >= 0) o << ", bound to NUMA node " << numa_node;
  if (numa_node_observed >= 0) o << ", first page on node " << numa_node_observed;
  for (const std::string& n : notes) o << "; " << n;
  return o.str();
}

std::size_t huge_page_size() noexcept {
  const std::size_t s = meminfo_bytes("Hugepagesize");
  return s != 0 ? s : kThpSize;
}

std::size_t huge_pages_free() noexcept { return meminfo_bytes("HugePages_Free"); }

std::vector<int> numa_online_nodes(const std::string& sysfs_root) {
  std::ifstream in(sysfs_root + "/devices/system/node/online");
  if (!in) return {0};
  std::string line;
  std::getline(in, line);
  std::vector<int> nodes = parse_cpu_list(line);  // same list syntax as CPU lists
  if (nodes.empty()) nodes.push_back(0);
  return nodes;
}

int numa_node_of(const void* addr) noexcept {
  int node = -1;
  const long rc = ::syscall(SYS_get_mempolicy, &node, nullptr, 0ul, addr, kMpolFNode | kMpolFAddr);
  return rc == 0 ? node : -1;
}

int numa_bind(void* addr, std::size_t len, int node) noexcept {
  if (node < 0 || static_cast<std::size_t>(node) >= kMaskWords * 64) return EINVAL;
  unsigned long mask[kMaskWords] = {};
  mask[static_cast<std::size_t>(node) / 64] = 1ul << (static_cast<std::size_t>(node) % 64);
  // maxnode counts bits + 1: the kernel reads maxnode - 1 bits.
  const long rc = ::syscall(SYS_mbind, addr, len, kMpolBind, mask, kMaskWords * 64 + 1, kMpolMfStrict | kMpolMfMove);
  return rc == 0 ? 0 : errno;
}

SmapsInfo smaps_for(const void* addr) {
  SmapsInfo info;
  std::ifstream in("/proc/self/smaps");
  std::string line;
  const auto a = reinterpret_cast<std::uintptr_t>(addr);
  bool inside = false;
  while (std::getline(in, line)) {
    unsigned long long lo = 0, hi = 0;
    // Mapping header: "start-end perms ..." (hex); attribute lines start with a capitalised key.
    if (!line.empty() && std::isxdigit(static_cast<unsigned char>(line[0])) && line.find('-') != std::string::npos &&
        std::sscanf(line.c_str(), "%llx-%llx", &lo, &hi) == 2 && line.find(':') > line.find(' ')) {
      if (inside) break;  // the entry we wanted has ended
      inside = a >= lo && a < hi;
      continue;
    }
    if (!inside) continue;
    info.found = true;
    char key[64] = {};
    unsigned long long v = 0;
    if (std::sscanf(line.c_str(), "%63[^:]: %llu", key, &v) != 2) continue;
    const std::string k = key;
    const std::size_t bytes = static_cast<std::size_t>(v) * 1024;
    if (k == "Size") info.size = bytes;
    else if (k == "Rss") info.rss = bytes;
    else if (k == "AnonHugePages") info.anon_huge = bytes;
    else if (k == "Private_Hugetlb" || k == "Shared_Hugetlb") info.hugetlb += bytes;
    else if (k == "KernelPageSize") info.kernel_page = bytes;
    else if (k == "Locked") info.locked = bytes;
    else if (k == "THPeligible") info.thp_eligible = v != 0;
  }
  return info;
}

Arena::Arena(const ArenaOptions& options) {
  if (options.bytes == 0) throw ConfigError("Arena: bytes = 0; expected a size of at least 1 byte");
  const std::size_t mem_total = meminfo_bytes("MemTotal");
  if (mem_total != 0 && options.bytes > mem_total)
    throw ConfigError("Arena: bytes = " + std::to_string(options.bytes) + " is more than this machine's memory (" +
                      std::to_string(mem_total) + " B, /proc/meminfo MemTotal)");
  if (options.numa_node >= 0) {
    const std::vector<int> nodes = numa_online_nodes();
    bool ok = false;
    for (int n : nodes) ok |= n == options.numa_node;
    if (!ok)
      throw ConfigError("Arena: numa_node = " + std::to_string(options.numa_node) +
                        " does not exist; online nodes: " + format_cpu_list(nodes));
  } else if (options.numa_node < -1) {
    throw ConfigError("Arena: numa_node = " + std::to_string(options.numa_node) + "; expected -1 (none) or a node id");
  }

  const std::size_t base_page = base_page_size();
  report_.page_size = base_page;

  // 1. Reserved huge pages.
  if (options.pages == PageRequest::kAuto || options.pages == PageRequest::kHugeTlbOnly) {
    const std::size_t hp = huge_page_size();
    const std::size_t len = round_up(options.bytes, hp);
    void* p = ::mmap(nullptr, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB, -1, 0);
    if (p != MAP_FAILED) {
      map_ = p;
      map_bytes_ = len;
      base_ = static_cast<std::byte*>(p);
      capacity_ = len;
      report_.pages = PageKind::kHugeTlb;
      report_.page_size = hp;
    } else {
      const int err = errno;
      std::string why = "MAP_HUGETLB refused: " + errno_text(err) + "; HugePages_Free = " +
                        std::to_string(huge_pages_free()) + " of " + std::to_string(len / hp) +
                        " needed (reserve them with sysctl vm.nr_hugepages)";
      if (options.pages == PageRequest::kHugeTlbOnly) throw SystemError("Arena: " + why);
      report_.notes.push_back(std::move(why));
    }
  }

  // 2. Transparent huge pages, or 3. normal pages. THP wants 2 MiB-aligned extents: over-map and trim.
  if (map_ == nullptr) {
    const bool want_thp = options.pages == PageRequest::kAuto || options.pages == PageRequest::kTransparent;
    const std::size_t len = want_thp ? round_up(options.bytes, kThpSize) : round_up(options.bytes, base_page);
    const std::size_t over = want_thp ? len + kThpSize : len;
    void* p = ::mmap(nullptr, over, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED)
      throw SystemError("Arena: mmap of " + std::to_string(over) + " bytes failed: " + errno_text(errno));
    auto* start = static_cast<std::byte*>(p);
    if (want_thp) {
      const auto addr = reinterpret_cast<std::uintptr_t>(p);
      const std::size_t head = (kThpSize - addr % kThpSize) % kThpSize;
      if (head != 0) ::munmap(p, head);
      const std::size_t tail = over - head - len;
      if (tail != 0) ::munmap(start + head + len, tail);
      start += head;
    }
    map_ = start;
    map_bytes_ = len;
    base_ = start;
    capacity_ = len;
    report_.pages = PageKind::kNormal;
    if (want_thp) {
      const std::string mode = thp_mode();
      if (mode.empty()) {
        report_.notes.emplace_back("transparent huge pages: not supported by this kernel");
      } else if (mode == "never") {
        report_.notes.emplace_back(
            "transparent huge pages disabled (/sys/kernel/mm/transparent_hugepage/enabled = never)");
      } else if (::madvise(start, len, MADV_HUGEPAGE) != 0) {
        report_.notes.push_back("madvise(MADV_HUGEPAGE) refused: " + errno_text(errno));
      } else {
        report_.pages = PageKind::kTransparentHuge;
      }
    }
  }
  report_.mapped_bytes = map_bytes_;

  // NUMA binding before the first touch, so every page is allocated on the node.
  if (options.numa_node >= 0) {
    const int err = numa_bind(map_, map_bytes_, options.numa_node);
    if (err == 0) {
      report_.numa_node = options.numa_node;
    } else if (err == ENOSYS) {
      report_.notes.push_back("mbind: kernel without NUMA support (" + errno_text(err) + "); one node, not bound");
    } else {
      const std::string why = errno_text(err);
      release();
      throw SystemError("Arena: mbind to NUMA node " + std::to_string(options.numa_node) + " failed: " + why);
    }
  }

  if (options.populate) {
    touch(base_, capacity_, report_.pages == PageKind::kHugeTlb ? report_.page_size : base_page);
    report_.populated = true;
    report_.numa_node_observed = numa_node_of(base_);
  }
  if (report_.pages == PageKind::kHugeTlb) {
    report_.huge_backed_bytes = map_bytes_;
  } else if (report_.pages == PageKind::kTransparentHuge && options.populate) {
    report_.huge_backed_bytes = smaps_for(base_).anon_huge;
    if (report_.huge_backed_bytes < map_bytes_)
      report_.notes.push_back("transparent huge pages: kernel backed " + std::to_string(report_.huge_backed_bytes) +
                              " of " + std::to_string(map_bytes_) + " bytes with huge pages (the rest: 4 KiB pages)");
  }

  if (options.lock) {
    if (::mlock(map_, map_bytes_) == 0) {
      // Trust but verify: sanitizer runtimes intercept mlock() and return success without locking.
      const std::size_t locked = smaps_for(map_).locked;
      if (locked >= map_bytes_) {
        report_.locked = true;
      } else {
        report_.notes.push_back("mlock returned success but /proc/self/smaps shows " + std::to_string(locked) +
                                " of " + std::to_string(map_bytes_) + " bytes locked (an interposed mlock?)");
      }
    } else {
      const int err = errno;
      rlimit rl{};
      ::getrlimit(RLIMIT_MEMLOCK, &rl);
      report_.notes.push_back("mlock refused: " + errno_text(err) + "; RLIMIT_MEMLOCK = " +
                              (rl.rlim_cur == RLIM_INFINITY ? std::string("unlimited") : std::to_string(rl.rlim_cur)) +
                              " B (raise it or grant CAP_IPC_LOCK)");
    }
  }
}

void Arena::release() noexcept {
  if (map_ != nullptr) ::munmap(map_, map_bytes_);  // also drops an mlock
  map_ = nullptr;
  map_bytes_ = 0;
  base_ = nullptr;
  capacity_ = 0;
  used_ = 0;
}

Arena::~Arena() { release(); }

Arena::Arena(Arena&& other) noexcept
    : base_(std::exchange(other.base_, nullptr)),
      capacity_(std::exchange(other.capacity_, 0)),
      used_(std::exchange(other.used_, 0)),
      map_(std::exchange(other.map_, nullptr)),
      map_bytes_(std::exchange(other.map_bytes_, 0)),
      report_(std::move(other.report_)) {}

Arena& Arena::operator=(Arena&& other) noexcept {
  if (this != &other) {
    release();
    base_ = std::exchange(other.base_, nullptr);
    capacity_ = std::exchange(other.capacity_, 0);
    used_ = std::exchange(other.used_, 0);
    map_ = std::exchange(other.map_, nullptr);
    map_bytes_ = std::exchange(other.map_bytes_, 0);
    report_ = std::move(other.report_);
  }
  return *this;
}

void* ArenaResource::do_allocate(std::size_t bytes, std::size_t align) {
  void* p = arena_->allocate(bytes, align);
  if (p == nullptr) throw std::bad_alloc();
  return p;
}

}  // namespace hftx
