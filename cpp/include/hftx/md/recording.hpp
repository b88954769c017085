// hftx/md/recording.hpp — reading recorded market data files line by line (gzip or plain), for every venue's
// replay.
//
// Threading contract: a LineReader is used by one thread; read_recorded_lines() on the calling thread.
//
// Recordings are text, one record per line: hftx's and hftbacktest's `<ns> <json>`, cryptofeed's
// `<unix_s>: <json>` and its connection lines. What a line means is the venue's replay's business; this reads
// them. Streaming: lines are returned as views into one reusable buffer with md::kJsonPadding readable bytes
// after each (a parser reads them in place), so a replay copies nothing per line.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace hftx::md {

// One line: its text (without the newline) and the readable bytes from its first byte (>= size + kJsonPadding).
struct RecordedLine {
  std::string_view text;
  std::size_t capacity = 0;
};

class LineReader {
 public:
  // Opens a gzip (or plain) file. Throws SystemError naming the file when it cannot be opened.
  explicit LineReader(const std::string& path);
  ~LineReader();
  LineReader(const LineReader&) = delete;
  LineReader& operator=(const LineReader&) = delete;

  // The next line, valid until the next call; nullopt at the end. Throws SystemError naming the file when
  // it cannot be read.
  std::optional<RecordedLine> next();
  [[nodiscard]] const std::string& path() const noexcept { return path_; }

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::string path_;
};

// Every line of a file (at most max_lines), copied. Throws SystemError naming the file when it cannot be read.
[[nodiscard]] std::vector<std::string> read_recorded_lines(const std::string& path, std::size_t max_lines = SIZE_MAX);

}  // namespace hftx::md
