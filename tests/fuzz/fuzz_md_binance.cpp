// libFuzzer target: the Binance parser, and what it produces fed through the venue sync into the L2 book.
// Differential as well: the parser's fast scanner, the scanner without its SSE4.1 level reader
// (set_sse41_levels(false)) and simdjson alone (set_fast_path(false)) must give the same status and the
// same message on every input; a difference aborts.
// Built only with -DHFTX_BUILD_FUZZ=ON and clang (-fsanitize=fuzzer,address,undefined); see
// tests/fuzz/CMakeLists.txt. The input is copied into a buffer of exactly size + kJsonPadding bytes so
// that AddressSanitizer flags any read past the padding simdjson is allowed.
#include <cstdint>
#include <cstring>
#include <memory>
#include <vector>

#include "hftx/book/binance_sync.hpp"
#include "hftx/book/l2_book.hpp"
#include "hftx/md/binance.hpp"

namespace {

struct State {
  hftx::md::BinanceParser parser{hftx::Scale::from_step("0.01"), hftx::Scale::from_step("0.00001"), 1u << 16};
  std::vector<hftx::md::Level> levels = std::vector<hftx::md::Level>(4096);
  hftx::md::BinanceParser simdjson_only = [] {
    hftx::md::BinanceParser p{hftx::Scale::from_step("0.01"), hftx::Scale::from_step("0.00001"), 1u << 16};
    p.set_fast_path(false);
    return p;
  }();
  std::vector<hftx::md::Level> levels2 = std::vector<hftx::md::Level>(4096);
  hftx::md::BinanceParser portable = [] {
    hftx::md::BinanceParser p{hftx::Scale::from_step("0.01"), hftx::Scale::from_step("0.00001"), 1u << 16};
    p.set_sse41_levels(false);
    return p;
  }();
  std::vector<hftx::md::Level> levels3 = std::vector<hftx::md::Level>(4096);
  hftx::md::MdMessage msg, msg2, msg3;
  hftx::book::L2Book book{64, hftx::book::CrossedPolicy::drop_stale, 8};
  hftx::book::BinanceSync sync{book, hftx::book::Market::spot, hftx::book::SyncConfig{16, 1024, 0}};
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static State* s = new State();
  const std::size_t cap = size + hftx::md::kJsonPadding;
  std::unique_ptr<char[]> buf(new char[cap]);
  if (size) std::memcpy(buf.get(), data, size);
  std::memset(buf.get() + size, 0, hftx::md::kJsonPadding);
  const std::string_view json(buf.get(), size);
  hftx::md::ParseResult r = s->parser.parse(json, cap, 0, s->msg, s->levels);
  const hftx::md::ParseResult r2 = s->simdjson_only.parse(json, cap, 0, s->msg2, s->levels2);
  const hftx::md::ParseResult r3 = s->portable.parse(json, cap, 0, s->msg3, s->levels3);
  if (r.status != r2.status || std::strcmp(r.field, r2.field) != 0 || r.detail != r2.detail ||
      (r.ok() && !hftx::md::same_content(s->msg, s->msg2)))
    __builtin_trap();
  if (r3.status != r2.status || std::strcmp(r3.field, r2.field) != 0 || r3.detail != r2.detail ||
      (r3.ok() && !hftx::md::same_content(s->msg3, s->msg2)))
    __builtin_trap();
  if (r.ok()) {
    // Alternate markets so both rule sets see arbitrary sequences.
    s->sync.set_market(size & 1 ? hftx::book::Market::usdm : hftx::book::Market::spot);
    if (s->msg.kind == hftx::md::MdKind::depth_update) (void)s->sync.on_diff(s->msg);
    if (s->msg.kind == hftx::md::MdKind::depth_snapshot) s->sync.on_snapshot(s->msg);
    hftx::md::Level out[8];
    (void)s->book.depth(hftx::book::Side::bid, out);
    s->book.publish(0);
  }
  (void)r.describe();
  // The copying entry point too (too_large beyond its 64 KiB buffer).
  // (The fast scanner reads the unpadded text in place: AddressSanitizer checks it stays inside.)
  r = s->parser.parse_unpadded(std::string_view(reinterpret_cast<const char*>(data), size), 0, s->msg, s->levels);
  if (r.status != r2.status || (r.ok() && !hftx::md::same_content(s->msg, s->msg2))) __builtin_trap();
  return 0;
}
