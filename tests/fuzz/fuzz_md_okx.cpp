// libFuzzer target: the OKX parser, and what it produces fed through the OKX book sync (checksum at once and
// deferred) into the L2 book; the stream classifier; the replay's line handling.
// Differential: the parser's fast scanner and simdjson alone (set_fast_path(false)) must give the same status,
// field, detail and message on every input, the same trades after the first, and the unpadded entry point the
// same again. classify() must return views inside the input. A difference aborts.
// Built only with -DHFTX_BUILD_FUZZ=ON and clang (-fsanitize=fuzzer,address,undefined); see
// tests/fuzz/CMakeLists.txt. The input is copied into a buffer of exactly size + kJsonPadding bytes so that
// AddressSanitizer flags any read past the padding simdjson is allowed.
#include <cstdint>
#include <cstring>
#include <memory>
#include <string_view>
#include <vector>

#include "hftx/book/l2_book.hpp"
#include "hftx/venue/okx/book_sync.hpp"
#include "hftx/venue/okx/md_parser.hpp"
#include "hftx/venue/okx/replay.hpp"
#include "hftx/venue/okx/stream.hpp"

namespace {

using hftx::Scale;
namespace okx = hftx::venue::okx;

okx::MdParser make(bool fast) {
  okx::MdParser p{Scale::from_step("0.001"), Scale::from_step("0.01"), 1u << 16};
  p.set_fast_path(fast);
  return p;
}

struct State {
  okx::MdParser fast = make(true);
  okx::MdParser slow = make(false);
  std::vector<hftx::md::Level> levels = std::vector<hftx::md::Level>(4096);
  std::vector<hftx::md::Level> levels2 = std::vector<hftx::md::Level>(4096);
  hftx::md::MdMessage msg, msg2, msg3;
  hftx::book::BasicL2Book<0> book{64, hftx::book::CrossedPolicy::keep_and_flag, 8};
  hftx::book::BasicL2Book<0> book2{64, hftx::book::CrossedPolicy::drop_stale, 8};
  okx::BasicBookSync<hftx::book::BasicL2Book<0>> sync{book, Scale::from_step("0.001"), Scale::from_step("0.01"),
                                                      hftx::book::SyncConfig{16, 1024, 0, 1000}};
  okx::BasicBookSync<hftx::book::BasicL2Book<0>> deferred = [this] {
    okx::BasicBookSync<hftx::book::BasicL2Book<0>> s{book2, Scale::from_step("0.001"), Scale::from_step("0.01"),
                                                     hftx::book::SyncConfig{16, 1024, 0, 1000}};
    s.set_defer_checksum(true);
    return s;
  }();
  std::vector<okx::InstrumentSpec> specs{
      {"UNI-USD-SWAP", "books-l2-tbt", Scale::from_step("0.001"), Scale::from_step("1")},
      {"X", "books5", Scale::from_step("0.1"), Scale::from_step("0.01")}};
  okx::ReplayOptions opts = [] {
    okx::ReplayOptions o;
    o.max_levels_per_message = 4096;
    return o;
  }();
  okx::Replayer replayer{specs, opts};
};

bool inside(std::string_view v, std::string_view text) {
  return v.empty() || (v.data() >= text.data() && v.data() + v.size() <= text.data() + text.size());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static State* s = new State();
  const std::size_t cap = size + hftx::md::kJsonPadding;
  std::unique_ptr<char[]> buf(new char[cap]);
  if (size) std::memcpy(buf.get(), data, size);
  std::memset(buf.get() + size, 0, hftx::md::kJsonPadding);
  const std::string_view json(buf.get(), size);

  const hftx::md::ParseResult r = s->fast.parse(json, cap, 0, s->msg, s->levels);
  const hftx::md::ParseResult r2 = s->slow.parse(json, cap, 0, s->msg2, s->levels2);
  if (r.status != r2.status || std::strcmp(r.field, r2.field) != 0 || r.detail != r2.detail ||
      (r.ok() && !hftx::md::same_content(s->msg, s->msg2)) || s->fast.trades_left() != s->slow.trades_left())
    __builtin_trap();
  (void)r.describe();
  if (r.ok()) {
    switch (s->msg.kind) {
      case hftx::md::MdKind::depth_update:
        (void)s->sync.on_diff(s->msg);
        (void)s->deferred.on_diff(s->msg);
        (void)s->deferred.verify_pending(1);
        break;
      case hftx::md::MdKind::depth_snapshot:
        s->sync.on_snapshot(s->msg);
        s->deferred.on_snapshot(s->msg);
        break;
      case hftx::md::MdKind::trade: {
        hftx::md::MdMessage a = s->msg, b = s->msg2;
        while (s->fast.next_trade(a)) {
          if (!s->slow.next_trade(b) || !hftx::md::same_content(a, b)) __builtin_trap();
        }
        if (s->slow.next_trade(b)) __builtin_trap();
        break;
      }
      default:
        break;
    }
    s->sync.poll(2);
    (void)okx::book_checksum(s->book, Scale::from_step("0.001"), Scale::from_step("0.01"));
  }
  // The copying entry point: the fast scanner reads the unpadded text in place (AddressSanitizer checks it stays
  // inside); a declined message is copied for simdjson.
  const std::string_view raw(reinterpret_cast<const char*>(data), size);
  const hftx::md::ParseResult r3 = s->fast.parse_unpadded(raw, 0, s->msg3, s->levels);
  if (r3.status != r2.status || (r3.ok() && !hftx::md::same_content(s->msg3, s->msg2))) __builtin_trap();

  // The classifier on the unpadded text: views inside it.
  const okx::Classified c = okx::classify(raw);
  if (!inside(c.channel, raw) || !inside(c.inst_id, raw) || !inside(c.event_name, raw) || !inside(c.code, raw) ||
      !inside(c.msg, raw))
    __builtin_trap();
  // Whatever the parser takes as a book or a trade, the classifier routes there.
  if (r.ok() && c.type == okx::MessageType::other) __builtin_trap();
  // The replay's line handling, on the input as a line (unpadded, in place).
  (void)s->replayer.feed_line(raw, size);
  const okx::ReplayStats& st = s->replayer.stats();
  if (st.lines != st.messages + st.control_lines + st.skipped_lines + st.parse_errors) __builtin_trap();
  return 0;
}
