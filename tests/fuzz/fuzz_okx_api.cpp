// libFuzzer target: OKX's order codec. Arbitrary input goes through the parser's every entry point — padded
// (the `order` ack's hand scanner, then simdjson On-Demand), padded with the scanner off, a span sink and the
// unpadded copying path — and any difference between the scanner's result and simdjson's aborts. For inputs
// the parser accepts, the encoder is fed with what came out (ids, prices, quantities, kinds) at full and at
// short buffer lengths, so both directions run on arbitrary data. Built only with -DHFTX_BUILD_FUZZ=ON and
// clang; see tests/fuzz/CMakeLists.txt. The input is copied into a buffer of exactly size + kJsonPadding
// bytes so that AddressSanitizer flags any read past the padding simdjson is allowed.
#include <cstdint>
#include <cstring>
#include <memory>
#include <vector>

#include "hftx/md/events.hpp"
#include "hftx/venue/okx/order_codec.hpp"

namespace {

using namespace hftx::oms;
using namespace hftx::venue::okx;

std::vector<ApiInstrument> instruments() {
  return {ApiInstrument{"BTC-USDT", hftx::Scale::from_step("0.1"), hftx::Scale::from_step("0.00000001")},
          ApiInstrument{"ETH-USDT", hftx::Scale::from_step("0.01"), hftx::Scale::from_step("0.000001")},
          ApiInstrument{"TST-USDT-SWAP", hftx::Scale::from_step("0.5"), hftx::Scale::from_step("10")}};
}

ApiEncoder make_encoder(Market market, const char* td_mode) {
  ApiEncoderConfig c;
  c.market = market;
  c.td_mode = td_mode;
  c.instruments = instruments();
  return ApiEncoder(std::move(c), Credentials{"fuzzkey", "fuzz pass", LoginSigner("fuzzsecret")});
}

struct State {
  ApiParser parser{instruments(), "hx", 1u << 16};
  ApiParser slow = [] {
    ApiParser p{instruments(), "hx", 1u << 16};
    p.set_fast_path(false);
    return p;
  }();
  ApiEncoder spot = make_encoder(Market::spot, "");
  ApiEncoder swap = make_encoder(Market::swap, "isolated");
  std::vector<char> out = std::vector<char>(8192);
};

bool same_field(const char* a, const char* b) {
  return (a == nullptr || b == nullptr) ? a == b : std::strcmp(a, b) == 0;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static State* s = new State();
  const std::size_t cap = size + hftx::md::kJsonPadding;
  std::unique_ptr<char[]> buf(new char[cap]);
  if (size) std::memcpy(buf.get(), data, size);
  std::memset(buf.get() + size, 0, hftx::md::kJsonPadding);
  const std::string_view json(buf.get(), size);

  OrderUpdate ups[8];
  ApiMessage m;
  ApiParseResult r = s->parser.parse(json, cap, 0, m, std::span(ups));
  (void)r.describe();
  if (m.updates > 8) __builtin_trap();
  {
    OrderUpdate slow_ups[8];
    ApiMessage sm;
    const ApiParseResult sr = s->slow.parse(json, cap, 0, sm, std::span(slow_ups));
    if (r.status != sr.status || r.detail != sr.detail || !same_field(r.field, sr.field) || !same_content(m, sm))
      __builtin_trap();
    for (std::size_t i = 0; i < m.updates && i < 8; ++i)
      if (!same_content(ups[i], slow_ups[i])) __builtin_trap();
  }
  // A failed parse delivers nothing (updates are staged until the message is valid).
  if (!r.ok() && r.status != ApiStatus::too_many_updates && m.updates != 0) __builtin_trap();

  for (std::size_t i = 0; i < m.updates && i < 8; ++i) {
    const OrderUpdate& u = ups[i];
    OrderRequest req;
    req.instrument = u.instrument;
    req.side = u.side;
    req.price = u.last_price;
    req.qty = u.cum_qty.raw() != 0 ? u.cum_qty : u.last_qty;
    req.type = (u.trade_id & 1) ? OrderType::market : OrderType::limit;
    req.tif = static_cast<TimeInForce>(u.trade_id % 3);
    req.post_only = (u.trade_id & 2) != 0;
    ApiEncoder& e = (u.venue_order_id & 1) ? s->swap : s->spot;
    const std::size_t small = static_cast<std::size_t>(u.venue_order_id % 512);
    (void)e.encode_place(u.client_id, req, s->out.data(), small);
    const std::size_t n = e.encode_place(u.client_id, req, s->out.data(), s->out.size());
    if (n > e.max_request_size()) __builtin_trap();
    (void)e.encode_cancel(u.client_id, u.instrument, s->out.data(), s->out.size());
    (void)e.encode_amend(u.client_id, u.instrument, u.last_price, u.last_qty, s->out.data(), small);
    const PlaceOrder batch[2] = {{u.client_id, req}, {u.client_id + 1, req}};
    const CancelOrder cancels[2] = {{u.client_id, u.instrument}, {u.client_id + 1, u.instrument}};
    (void)e.encode_batch_place(u.trade_id, batch, s->out.data(), s->out.size());
    (void)e.encode_batch_cancel(u.trade_id, cancels, s->out.data(), small);
    (void)e.encode_login(u.venue_time_ns / 1'000'000'000, s->out.data(), small);
  }

  // The copying entry point too (too_large beyond its 64 KiB buffer), with a callback sink.
  std::size_t seen = 0;
  auto sink = [&](const OrderUpdate&) noexcept { ++seen; };
  r = s->parser.parse_unpadded(std::string_view(reinterpret_cast<const char*>(data), size), 0, m, UpdateSink(sink));
  if (seen != m.updates) __builtin_trap();
  return 0;
}
