// libFuzzer target: the Binance parser, and what it produces fed through the venue sync into the L2 book.
// Differential as well: the parser's fast scanner, the scanner without its SSE4.1 level reader
// (set_sse41_levels(false)) and simdjson alone (set_fast_path(false)) must give the same status and the
// same message on every input; so must top-first reading (parse_deferred(), every level through the
// LevelReaders, read_deferred()), whose readers, when they read a whole array, give the message's levels.
// The book's predict_top() must give the top that applying the diff leaves, whenever it gives one for
// levels that come best first.
// A difference aborts.
// Built only with -DHFTX_BUILD_FUZZ=ON and clang (-fsanitize=fuzzer,address,undefined); see
// tests/fuzz/CMakeLists.txt. The input is copied into a buffer of exactly size + kJsonPadding bytes so
// that AddressSanitizer flags any read past the padding simdjson is allowed.
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <memory>
#include <vector>

#include "hftx/venue/binance/book_sync.hpp"
#include "hftx/book/l2_book.hpp"
#include "hftx/venue/binance/md_parser.hpp"

namespace {

struct State {
  hftx::venue::binance::MdParser parser{hftx::Scale::from_step("0.01"), hftx::Scale::from_step("0.00001"), 1u << 16};
  std::vector<hftx::md::Level> levels = std::vector<hftx::md::Level>(4096);
  hftx::venue::binance::MdParser simdjson_only = [] {
    hftx::venue::binance::MdParser p{hftx::Scale::from_step("0.01"), hftx::Scale::from_step("0.00001"), 1u << 16};
    p.set_fast_path(false);
    return p;
  }();
  std::vector<hftx::md::Level> levels2 = std::vector<hftx::md::Level>(4096);
  hftx::venue::binance::MdParser portable = [] {
    hftx::venue::binance::MdParser p{hftx::Scale::from_step("0.01"), hftx::Scale::from_step("0.00001"), 1u << 16};
    p.set_sse41_levels(false);
    return p;
  }();
  std::vector<hftx::md::Level> levels3 = std::vector<hftx::md::Level>(4096);
  hftx::venue::binance::MdParser deferred{hftx::Scale::from_step("0.01"), hftx::Scale::from_step("0.00001"), 1u << 16};
  std::vector<hftx::md::Level> levels4 = std::vector<hftx::md::Level>(4096);
  std::vector<hftx::md::Level> read;
  hftx::md::MdMessage msg, msg2, msg3, msg4;
  hftx::book::L2Book book{64, hftx::book::CrossedPolicy::drop_stale, 8};
  hftx::venue::binance::BookSync sync{book, hftx::venue::binance::Market::spot, hftx::book::SyncConfig{16, 1024, 0}};
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
  hftx::md::ParseResult r4 = s->deferred.parse_deferred(json, cap, 0, s->msg4, s->levels4);
  if (s->deferred.deferred()) {
    // Both sides read whole: the message is good, with those levels.
    bool whole = true;
    s->read.clear();
    for (auto reader : {s->deferred.deferred_bids(), s->deferred.deferred_asks()}) {
      for (hftx::md::Level l; reader.next(l);) s->read.push_back(l);
      whole &= !reader.failed();
    }
    // From the end, the same levels backwards (or a failure; the readers may differ on where a malformed
    // array fails, never on the levels of a good one).
    bool whole_back = true;
    std::size_t n = s->read.size();
    using Order = hftx::venue::binance::MdParser::LevelOrder;
    for (auto reader : {s->deferred.deferred_asks(Order::reversed), s->deferred.deferred_bids(Order::reversed)}) {
      for (hftx::md::Level l; reader.next(l);)
        if (!(n > 0 && s->read[--n] == l)) whole_back = false;
      whole_back &= !reader.failed();
    }
    if (whole != (whole_back && n == 0)) __builtin_trap();
    if (whole) {
      const auto& d2 = s->msg2.depth;
      if (!r2.ok() || s->read.size() != d2.bids.size() + d2.asks.size() ||
          !std::equal(d2.bids.begin(), d2.bids.end(), s->read.begin()) ||
          !std::equal(d2.asks.begin(), d2.asks.end(), s->read.begin() + static_cast<std::ptrdiff_t>(d2.bids.size())))
        __builtin_trap();
    }
    r4 = s->deferred.read_deferred(s->msg4);
  }
  if (r4.status != r2.status || std::strcmp(r4.field, r2.field) != 0 || r4.detail != r2.detail ||
      (r4.ok() && !hftx::md::same_content(s->msg4, s->msg2)))
    __builtin_trap();
  if (r.ok()) {
    // Alternate markets so both rule sets see arbitrary sequences.
    s->sync.set_market(size & 1 ? hftx::venue::binance::Market::usdm : hftx::venue::binance::Market::spot);
    if (s->msg.kind == hftx::md::MdKind::depth_update) {
      hftx::book::TopOfBook predicted;
      std::size_t bi = 0, ai = 0;
      const auto& d = s->msg.depth;
      const bool known = s->sync.continues(d) &&
                         s->book.predict_top([&](hftx::md::Level& l) { return bi < d.bids.size() && (l = d.bids[bi++], true); },
                                             [&](hftx::md::Level& l) { return ai < d.asks.size() && (l = d.asks[ai++], true); },
                                             predicted);
      if (s->sync.on_diff(s->msg) != hftx::book::DiffOutcome::applied && known) __builtin_trap();
      // predict_top() takes the levels it does not read to be best first: checked where they are.
      const auto not_below = [](const hftx::md::Level& x, const hftx::md::Level& y) { return x.price <= y.price; };
      const auto not_above = [](const hftx::md::Level& x, const hftx::md::Level& y) { return x.price >= y.price; };
      const bool best_first = std::adjacent_find(d.bids.begin(), d.bids.end(), not_below) == d.bids.end() &&
                              std::adjacent_find(d.asks.begin(), d.asks.end(), not_above) == d.asks.end();
      const hftx::md::Level b = s->book.best_bid(), a = s->book.best_ask();
      if (known && best_first && (b.price.raw() != predicted.bid_price || b.qty.raw() != predicted.bid_qty ||
                    a.price.raw() != predicted.ask_price || a.qty.raw() != predicted.ask_qty))
        __builtin_trap();
    }
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
