// kernel_file.hpp (internal) — the kernel's small text files (/proc, /sys), read whole or by their first line,
// for reports and topology. A file that cannot be read reads as "": callers take that as "the kernel does not
// say". Shared by the arena, the clock, the topology and the thread manager.
//
// Threading contract: reads of the file system only; any thread.
#pragma once

#include <fstream>
#include <sstream>
#include <string>

namespace hftx::detail {

inline std::string read_kernel_file(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

inline std::string read_first_line(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  return line;
}

}  // namespace hftx::detail
