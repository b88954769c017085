// Reading recorded files line by line. See hftx/md/recording.hpp.
#include "hftx/md/recording.hpp"

#include <zlib.h>

#include <cerrno>
#include <cstring>

#include "hftx/core/error.hpp"
#include "hftx/md/events.hpp"

namespace hftx::md {

struct LineReader::Impl {
  gzFile file = nullptr;
  std::vector<char> buf;
  std::size_t cap = 1u << 22;  // bytes of text the buffer holds (plus kJsonPadding)
  std::size_t start = 0;       // the next line's first byte
  std::size_t have = 0;        // bytes of text in the buffer
  bool eof = false;

  ~Impl() {
    if (file != nullptr) gzclose(file);
  }
};

LineReader::LineReader(const std::string& path) : impl_(std::make_unique<Impl>()), path_(path) {
  impl_->file = gzopen(path.c_str(), "rb");
  if (impl_->file == nullptr) throw SystemError("cannot open '" + path + "': " + std::strerror(errno));
  gzbuffer(impl_->file, 1u << 17);
  impl_->buf.resize(impl_->cap + kJsonPadding);
}

LineReader::~LineReader() = default;

std::optional<RecordedLine> LineReader::next() {
  Impl& im = *impl_;
  for (;;) {
    const void* nl = std::memchr(im.buf.data() + im.start, '\n', im.have - im.start);
    if (nl != nullptr || (im.eof && im.start < im.have)) {
      const std::size_t end =
          nl != nullptr ? static_cast<std::size_t>(static_cast<const char*>(nl) - im.buf.data()) : im.have;
      const RecordedLine line{std::string_view(im.buf.data() + im.start, end - im.start), im.buf.size() - im.start};
      im.start = nl != nullptr ? end + 1 : im.have;
      return line;
    }
    if (im.eof) return std::nullopt;
    // Keep the partial line, then read more behind it.
    if (im.start > 0) {
      std::memmove(im.buf.data(), im.buf.data() + im.start, im.have - im.start);
      im.have -= im.start;
      im.start = 0;
    }
    if (im.have == im.cap) {  // a line longer than the buffer: grow
      im.cap *= 2;
      im.buf.resize(im.cap + kJsonPadding);
    }
    const int got = gzread(im.file, im.buf.data() + im.have, static_cast<unsigned>(im.cap - im.have));
    if (got < 0) {
      int err = 0;
      throw SystemError("cannot read '" + path_ + "': " + gzerror(im.file, &err));
    }
    if (got == 0) im.eof = true;
    im.have += static_cast<std::size_t>(got);
  }
}

std::vector<std::string> read_recorded_lines(const std::string& path, std::size_t max_lines) {
  std::vector<std::string> lines;
  LineReader r(path);
  while (lines.size() < max_lines) {
    const std::optional<RecordedLine> line = r.next();
    if (!line) break;
    lines.emplace_back(line->text);
  }
  return lines;
}

}  // namespace hftx::md
