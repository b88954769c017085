#include "hftx/memory/prefault.hpp"

#include <link.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>

#ifndef MADV_POPULATE_READ
#define MADV_POPULATE_READ 22  // Linux 5.14; older kernels answer EINVAL
#endif

namespace hftx {
namespace {

struct Search {
  std::uintptr_t inside;  // an address of this object's code
  std::uintptr_t page;
  std::size_t mapped = 0;
};

int visit(dl_phdr_info* info, std::size_t, void* data) noexcept {
  auto& s = *static_cast<Search*>(data);
  bool ours = false;
  for (int i = 0; i < info->dlpi_phnum && !ours; ++i) {
    const ElfW(Phdr)& ph = info->dlpi_phdr[i];
    const std::uintptr_t begin = info->dlpi_addr + ph.p_vaddr;
    ours = ph.p_type == PT_LOAD && s.inside >= begin && s.inside < begin + ph.p_memsz;
  }
  if (!ours) return 0;
  for (int i = 0; i < info->dlpi_phnum; ++i) {
    const ElfW(Phdr)& ph = info->dlpi_phdr[i];
    if (ph.p_type != PT_LOAD || (ph.p_flags & PF_X) == 0) continue;
    const std::uintptr_t begin = (info->dlpi_addr + ph.p_vaddr) & ~(s.page - 1);
    const std::uintptr_t end = (info->dlpi_addr + ph.p_vaddr + ph.p_memsz + s.page - 1) & ~(s.page - 1);
    if (::madvise(reinterpret_cast<void*>(begin), end - begin, MADV_POPULATE_READ) != 0) {
      if (errno != EINVAL || (ph.p_flags & PF_R) == 0) continue;
      for (std::uintptr_t p = begin; p < end; p += s.page) (void)*reinterpret_cast<const volatile char*>(p);
    }
    s.mapped += end - begin;
  }
  return 1;  // found: stop iterating
}

}  // namespace

std::size_t prefault_code() noexcept {
  const long page = ::sysconf(_SC_PAGESIZE);
  Search s{reinterpret_cast<std::uintptr_t>(&prefault_code), static_cast<std::uintptr_t>(page > 0 ? page : 4096)};
  ::dl_iterate_phdr(&visit, &s);
  return s.mapped;
}

}  // namespace hftx
