// libFuzzer target: the Binance WebSocket-API parser (responses, execution reports) and, for inputs it
// accepts, the encoder fed with what came out (ids, quantities, prices), so both directions run on
// arbitrary data. Differential: every input is also parsed by simdjson alone (the order.place ack scanner
// off), and any difference in status, message or updates aborts. Built only with -DHFTX_BUILD_FUZZ=ON and clang; see tests/fuzz/CMakeLists.txt. The input
// is copied into a buffer of exactly size + kJsonPadding bytes so that AddressSanitizer flags any read past
// the padding simdjson is allowed.
#include <cstdint>
#include <cstring>
#include <memory>
#include <vector>

#include "hftx/md/events.hpp"
#include "hftx/venue/binance/order_codec.hpp"

namespace {

using namespace hftx::oms;
using namespace hftx::venue::binance;

std::vector<ApiInstrument> instruments() {
  return {ApiInstrument{"BTCUSDT", hftx::Scale::from_step("0.01"), hftx::Scale::from_step("0.00000001")},
          ApiInstrument{"ETHUSDT", hftx::Scale::from_step("0.5"), hftx::Scale::from_step("0.0001")}};
}

struct State {
  ApiParser parser{instruments(), "hx", 1u << 16};
  ApiParser slow = [] {
    ApiParser p{instruments(), "hx", 1u << 16};
    p.set_fast_path(false);
    return p;
  }();
  ApiEncoder encoder{[] {
                              ApiEncoderConfig c;
                              c.api_key = "fuzzkey";
                              c.instruments = instruments();
                              return c;
                            }(),
                            RequestSigner::hmac_sha256("fuzzsecret")};
  std::vector<char> out = std::vector<char>(4096);
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static State* s = new State();
  const std::size_t cap = size + hftx::md::kJsonPadding;
  std::unique_ptr<char[]> buf(new char[cap]);
  if (size) std::memcpy(buf.get(), data, size);
  std::memset(buf.get() + size, 0, hftx::md::kJsonPadding);
  OrderUpdate ups[4];
  ApiMessage m;
  ApiParseResult r = s->parser.parse(std::string_view(buf.get(), size), cap, 0, m, std::span(ups));
  (void)r.describe();
  if (m.updates > 4) __builtin_trap();
  {
    OrderUpdate slow_ups[4];
    ApiMessage sm;
    const ApiParseResult sr = s->slow.parse(std::string_view(buf.get(), size), cap, 0, sm, std::span(slow_ups));
    const bool same_field = (r.field == nullptr || sr.field == nullptr) ? r.field == sr.field
                                                                        : std::strcmp(r.field, sr.field) == 0;
    if (r.status != sr.status || r.detail != sr.detail || !same_field || !same_content(m, sm)) __builtin_trap();
    for (std::size_t i = 0; i < m.updates && i < 4; ++i)
      if (!same_content(ups[i], slow_ups[i])) __builtin_trap();
  }
  for (std::size_t i = 0; i < m.updates && i < 4; ++i) {
    const OrderUpdate& u = ups[i];
    OrderRequest req;
    req.instrument = u.instrument;
    req.side = u.side;
    req.price = u.last_price;
    req.qty = u.cum_qty;
    req.type = (u.trade_id & 1) ? OrderType::market : OrderType::limit;
    req.post_only = (u.trade_id & 2) != 0;
    const std::size_t small = static_cast<std::size_t>(u.venue_order_id % s->out.size());
    (void)s->encoder.encode_place(u.client_id, req, u.venue_time_ns, s->out.data(), small);
    (void)s->encoder.encode_place(u.client_id, req, u.venue_time_ns, s->out.data(), s->out.size());
    (void)s->encoder.encode_cancel(u.client_id, u.instrument, u.venue_time_ns, s->out.data(), s->out.size());
  }
  // The copying entry point too (too_large beyond its 64 KiB buffer), with a callback sink.
  std::size_t seen = 0;
  auto sink = [&](const OrderUpdate&) noexcept { ++seen; };
  r = s->parser.parse_unpadded(std::string_view(reinterpret_cast<const char*>(data), size), 0, m, UpdateSink(sink));
  if (seen != m.updates) __builtin_trap();
  return 0;
}
