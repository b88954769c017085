// The order gateway: request serialisation + signing, and execution-report / response parsing.
//  gw_place_hmac:    order.place, LIMIT, encoded and HMAC-SHA256 signed into a caller buffer (one op = one
//                    complete request). Peer: what a user would write — snprintf for the sorted payload and
//                    the JSON (integer formatting of the fixed-point values, no double) and OpenSSL's
//                    one-shot HMAC().
//  gw_sign_hmac:     the signature alone over the same ~260-byte payload: keyed SHA-256 states copied per
//                    call (hftx) vs OpenSSL's one-shot HMAC() (re-keys every call). encode-only cost =
//                    gw_place_hmac − gw_sign_hmac.
//  gw_place_ed25519: the same request signed with Ed25519 (OpenSSL EVP; no peer: the cost is the curve).
//  gw_place_logon:   the same request on a logged-on connection (session.logon, Ed25519 keys): no apiKey,
//                    no signature. What an order costs the gateway once the connection is authenticated.
//  gw_depth:         an unsigned request (depth), encode only.
//  gw_parse_exec:    an executionReport TRADE inside the subscription wrapper → OrderUpdate (fill, fixed
//                    point). Peer: simdjson DOM (parser reused) extracting the same fields.
//  gw_parse_ack:     an order.place response → OrderUpdate (ack). Peer: simdjson DOM. hftx reads it with its
//                    hand scanner; hftx_simdjson_only is the On-Demand path behind it.
// Items are requests / messages; the seed claimed 100,000 orders/s and 10 µs order processing.
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <simdjson.h>

#include <array>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "bench_support.hpp"
#include "hftx/md/events.hpp"
#include "hftx/venue/binance/order_codec.hpp"

namespace {

using namespace hftx;
using namespace hftx::oms;
using namespace hftx::venue::binance;

constexpr const char* kApiKey = "vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A";
constexpr const char* kSecret = "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j";

std::vector<ApiInstrument> instruments() {
  return {ApiInstrument{"BTCUSDT", Scale::from_step("0.01"), Scale::from_step("0.00000001")}};
}

ApiEncoder make_encoder(RequestSigner s) {
  ApiEncoderConfig c;
  c.api_key = kApiKey;
  c.instruments = instruments();
  return ApiEncoder(std::move(c), std::move(s));
}

OrderRequest order(std::uint64_t i) {
  OrderRequest r;
  r.side = (i & 1) ? Side::ask : Side::bid;
  r.price = Price(6'000'000 + static_cast<std::int64_t>(i & 1023));
  r.qty = Qty(100'000 + static_cast<std::int64_t>(i & 255));
  return r;
}

void BM_place(benchmark::State& state, bool ed25519, bool logged_on = false) {
  ApiEncoder enc =
      make_encoder(ed25519 ? RequestSigner::ed25519_pem(bench::kEd25519Pem) : RequestSigner::hmac_sha256(kSecret));
  enc.set_logged_on(logged_on);
  std::vector<char> out(enc.max_request_size());
  bench::OpSampler sampler;
  bench::AllocMeter alloc;
  std::uint64_t i = 0, bytes = 0;
  for (auto _ : state) {
    const std::uint64_t t0 = TscClock::ticks();
    const std::size_t n = enc.encode_place(i + 1, order(i), 1700000000000 + static_cast<std::int64_t>(i), out.data(), out.size());
    sampler.add(TscClock::ticks() - t0);
    benchmark::DoNotOptimize(out.data());
    bytes += n;
    ++i;
  }
  alloc.publish(state);
  sampler.publish(state);
  if (enc.stats().by_status[0] != enc.stats().requests) state.SkipWithError("encode failed");
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
  state.SetBytesProcessed(static_cast<std::int64_t>(bytes));
}
void BM_place_hmac(benchmark::State& s) { BM_place(s, false); }
void BM_place_ed25519(benchmark::State& s) { BM_place(s, true); }
void BM_place_logon(benchmark::State& s) { BM_place(s, true, true); }

// The peer: snprintf + HMAC(). Same bytes on the wire as hftx's (asserted once before the loop).
std::size_t snprintf_place(std::uint64_t id, const OrderRequest& r, std::int64_t ts, char* out, std::size_t cap) {
  char px[32], qty[32], payload[1024];
  std::snprintf(px, sizeof px, "%" PRId64 ".%02" PRId64, r.price.raw() / 100, r.price.raw() % 100);
  std::snprintf(qty, sizeof qty, "%" PRId64 ".%08" PRId64, r.qty.raw() / 100000000, r.qty.raw() % 100000000);
  const char* side = r.side == Side::bid ? "BUY" : "SELL";
  const int pn = std::snprintf(payload, sizeof payload,
                               "apiKey=%s&newClientOrderId=hx%" PRIu64 "&newOrderRespType=ACK&price=%s&quantity=%s&"
                               "recvWindow=5000&side=%s&symbol=%s&timeInForce=GTC&timestamp=%" PRId64 "&type=LIMIT",
                               kApiKey, id, px, qty, side, "BTCUSDT", ts);
  unsigned char mac[32];
  unsigned int mac_len = 0;
  HMAC(EVP_sha256(), kSecret, static_cast<int>(std::strlen(kSecret)), reinterpret_cast<const unsigned char*>(payload),
       static_cast<std::size_t>(pn), mac, &mac_len);
  char sig[65];
  for (unsigned k = 0; k < 32; ++k) std::snprintf(sig + 2 * k, 3, "%02x", mac[k]);
  const int n = std::snprintf(
      out, cap,
      "{\"id\":\"p%" PRIu64 "\",\"method\":\"order.place\",\"params\":{\"apiKey\":\"%s\",\"newClientOrderId\":\"hx%" PRIu64
      "\",\"newOrderRespType\":\"ACK\",\"price\":\"%s\",\"quantity\":\"%s\",\"recvWindow\":5000,\"side\":\"%s\","
      "\"symbol\":\"%s\",\"timeInForce\":\"GTC\",\"timestamp\":%" PRId64 ",\"type\":\"LIMIT\",\"signature\":\"%s\"}}",
      id, kApiKey, id, px, qty, side, "BTCUSDT", ts, sig);
  return n > 0 && static_cast<std::size_t>(n) < cap ? static_cast<std::size_t>(n) : 0;
}

void BM_place_snprintf(benchmark::State& state) {
  {  // same output as hftx, or the comparison is meaningless
    ApiEncoder enc = make_encoder(RequestSigner::hmac_sha256(kSecret));
    std::vector<char> a(enc.max_request_size()), b(2048);
    const std::size_t na = enc.encode_place(7, order(7), 1700000000007, a.data(), a.size());
    const std::size_t nb = snprintf_place(7, order(7), 1700000000007, b.data(), b.size());
    if (na != nb || std::memcmp(a.data(), b.data(), na) != 0) {
      state.SkipWithError("peer output differs from hftx's");
      return;
    }
  }
  std::vector<char> out(2048);
  bench::OpSampler sampler;
  bench::AllocMeter alloc;
  std::uint64_t i = 0, bytes = 0;
  for (auto _ : state) {
    const std::uint64_t t0 = TscClock::ticks();
    const std::size_t n = snprintf_place(i + 1, order(i), 1700000000000 + static_cast<std::int64_t>(i), out.data(), out.size());
    sampler.add(TscClock::ticks() - t0);
    benchmark::DoNotOptimize(out.data());
    bytes += n;
    ++i;
  }
  alloc.publish(state);
  sampler.publish(state);
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
  state.SetBytesProcessed(static_cast<std::int64_t>(bytes));
}

std::string typical_payload() {
  return std::string("apiKey=") + kApiKey +
         "&newClientOrderId=hx123456&newOrderRespType=ACK&price=60000.01&quantity=0.00100000&recvWindow=5000&"
         "side=BUY&symbol=BTCUSDT&timeInForce=GTC&timestamp=1700000000000&type=LIMIT";
}

void BM_sign_hftx(benchmark::State& state) {
  const RequestSigner s = RequestSigner::hmac_sha256(kSecret);
  std::string payload = typical_payload();
  char sig[RequestSigner::kMaxSignatureSize];
  bench::OpSampler sampler;
  bench::AllocMeter alloc;
  std::uint64_t i = 0;
  for (auto _ : state) {
    payload[payload.size() - 12] = static_cast<char>('0' + (i++ % 10));  // a different message each time
    const std::uint64_t t0 = TscClock::ticks();
    benchmark::DoNotOptimize(s.sign(payload, sig));
    sampler.add(TscClock::ticks() - t0);
  }
  alloc.publish(state);
  sampler.publish(state);
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}

void BM_sign_openssl(benchmark::State& state) {
  std::string payload = typical_payload();
  unsigned char mac[32];
  bench::OpSampler sampler;
  bench::AllocMeter alloc;
  std::uint64_t i = 0;
  for (auto _ : state) {
    payload[payload.size() - 12] = static_cast<char>('0' + (i++ % 10));
    const std::uint64_t t0 = TscClock::ticks();
    unsigned int len = 0;
    HMAC(EVP_sha256(), kSecret, 64, reinterpret_cast<const unsigned char*>(payload.data()), payload.size(), mac, &len);
    sampler.add(TscClock::ticks() - t0);
    benchmark::DoNotOptimize(mac);
  }
  alloc.publish(state);
  sampler.publish(state);
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}

void BM_depth(benchmark::State& state) {
  ApiEncoder enc = make_encoder(RequestSigner::hmac_sha256(kSecret));
  std::vector<char> out(enc.max_request_size());
  bench::OpSampler sampler;
  bench::AllocMeter alloc;
  std::uint64_t i = 0;
  for (auto _ : state) {
    const std::uint64_t t0 = TscClock::ticks();
    benchmark::DoNotOptimize(enc.encode_depth(0, 1000, i++, out.data(), out.size()));
    sampler.add(TscClock::ticks() - t0);
  }
  alloc.publish(state);
  sampler.publish(state);
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}

// ------------------------------------------------------------------------------------------- parsing

constexpr const char* kExecTrade =
    R"({"subscriptionId":0,"event":{"e":"executionReport","E":1499405658658,"s":"BTCUSDT","c":"hx42","S":"BUY","o":"LIMIT","f":"GTC","q":"0.01000000","p":"60000.01","P":"0.00000000","F":"0.00000000","g":-1,"C":"","x":"TRADE","X":"PARTIALLY_FILLED","r":"NONE","i":4293153,"l":"0.00400000","z":"0.00400000","L":"60000.00","n":"0","N":null,"T":1499405658657,"t":12345,"I":8641984,"w":false,"m":true,"M":false,"O":1499405658657,"Z":"240.00000000","Y":"240.00000000","Q":"0.00000000","W":1499405658657,"V":"NONE"}})";
constexpr const char* kAck =
    R"({"id":"p42","status":200,"result":{"symbol":"BTCUSDT","orderId":123,"orderListId":-1,"clientOrderId":"hx42","transactTime":1700000000123},"rateLimits":[{"rateLimitType":"ORDERS","interval":"SECOND","intervalNum":10,"limit":50,"count":1}]})";

std::string padded(const char* s) {
  std::string b = s;
  b.resize(b.size() + md::kJsonPadding, '\0');
  return b;
}

void BM_parse_hftx(benchmark::State& state, const char* text, UpdateKind want, bool fast = true) {
  ApiParser parser(instruments(), "hx", 1u << 16);
  parser.set_fast_path(fast);
  const std::string buf = padded(text);
  const std::string_view json(buf.data(), std::strlen(text));
  std::array<OrderUpdate, 4> ups{};
  bench::OpSampler sampler;
  bench::AllocMeter alloc;
  std::uint64_t bad = 0;
  for (auto _ : state) {
    ApiMessage m;
    const std::uint64_t t0 = TscClock::ticks();
    const ApiParseResult r = parser.parse(json, buf.size(), 0, m, std::span(ups));
    sampler.add(TscClock::ticks() - t0);
    bad += !r.ok() || m.updates != 1 || ups[0].kind != want;
    benchmark::DoNotOptimize(ups[0].cum_qty);
  }
  alloc.publish(state);
  sampler.publish(state);
  if (bad) state.SkipWithError("parse failed");
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * json.size()));
}
void BM_parse_exec_hftx(benchmark::State& s) { BM_parse_hftx(s, kExecTrade, UpdateKind::fill); }
void BM_parse_ack_hftx(benchmark::State& s) { BM_parse_hftx(s, kAck, UpdateKind::ack); }
void BM_parse_ack_simdjson_only(benchmark::State& s) { BM_parse_hftx(s, kAck, UpdateKind::ack, false); }

// The peer: simdjson DOM, the same fields into the same OrderUpdate.
void BM_parse_exec_dom(benchmark::State& state) {
  simdjson::dom::parser parser;
  const std::string buf = padded(kExecTrade);
  const std::size_t len = std::strlen(kExecTrade);
  const Scale ps = Scale::from_step("0.01"), qs = Scale::from_step("0.00000001");
  bench::OpSampler sampler;
  bench::AllocMeter alloc;
  std::uint64_t bad = 0;
  for (auto _ : state) {
    const std::uint64_t t0 = TscClock::ticks();
    OrderUpdate u;
    simdjson::dom::element doc;
    bad += parser.parse(buf.data(), len, false).get(doc) != simdjson::SUCCESS;
    simdjson::dom::object ev;
    bad += doc["event"].get(ev) != simdjson::SUCCESS;
    std::string_view e, s, c, cc, side, x, l, z, lp;
    std::int64_t t = 0, tt = 0;
    std::uint64_t oid = 0;
    bool m = false;
    bad += ev["e"].get(e) || ev["s"].get(s) || ev["c"].get(c) || ev["C"].get(cc) || ev["S"].get(side) ||
           ev["x"].get(x) || ev["i"].get(oid) || ev["l"].get(l) || ev["z"].get(z) || ev["L"].get(lp) ||
           ev["t"].get(t) || ev["m"].get(m) || ev["T"].get(tt);
    u.kind = x == "TRADE" ? UpdateKind::fill : UpdateKind::ack;
    u.side = side == "BUY" ? Side::bid : Side::ask;
    u.instrument = s == "BTCUSDT" ? 0 : 1;
    std::uint64_t id = 0;
    for (char ch : c.substr(2)) id = id * 10 + static_cast<unsigned>(ch - '0');
    u.client_id = id;
    u.venue_order_id = oid;
    bad += parse_fixed(lp, ps, u.last_price) != FixedStatus::ok;
    bad += parse_fixed(l, qs, u.last_qty) != FixedStatus::ok;
    bad += parse_fixed(z, qs, u.cum_qty) != FixedStatus::ok;
    u.trade_id = static_cast<std::uint64_t>(t);
    u.maker = m;
    u.venue_time_ns = tt;
    sampler.add(TscClock::ticks() - t0);
    benchmark::DoNotOptimize(u);
  }
  alloc.publish(state);
  sampler.publish(state);
  if (bad) state.SkipWithError("parse failed");
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * len));
}

void BM_parse_ack_dom(benchmark::State& state) {
  simdjson::dom::parser parser;
  const std::string buf = padded(kAck);
  const std::size_t len = std::strlen(kAck);
  bench::OpSampler sampler;
  bench::AllocMeter alloc;
  std::uint64_t bad = 0;
  for (auto _ : state) {
    const std::uint64_t t0 = TscClock::ticks();
    OrderUpdate u;
    simdjson::dom::element doc;
    bad += parser.parse(buf.data(), len, false).get(doc) != simdjson::SUCCESS;
    std::string_view id, sym;
    std::int64_t status = 0, tt = 0;
    std::uint64_t oid = 0;
    bad += doc["id"].get(id) || doc["status"].get(status);
    simdjson::dom::object res;
    bad += doc["result"].get(res) || res["symbol"].get(sym) || res["orderId"].get(oid) || res["transactTime"].get(tt);
    std::uint64_t cid = 0;
    for (char ch : id.substr(1)) cid = cid * 10 + static_cast<unsigned>(ch - '0');
    u.kind = status == 200 ? UpdateKind::ack : UpdateKind::rejected;
    u.client_id = cid;
    u.venue_order_id = oid;
    u.instrument = sym == "BTCUSDT" ? 0 : 1;
    u.venue_time_ns = tt;
    sampler.add(TscClock::ticks() - t0);
    benchmark::DoNotOptimize(u);
  }
  alloc.publish(state);
  sampler.publish(state);
  if (bad) state.SkipWithError("parse failed");
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * len));
}

}  // namespace

// Interleaved hftx / peer (ARCHITECTURE §12).
BENCHMARK(BM_place_hmac)->Name("gw_place_hmac/hftx");
BENCHMARK(BM_place_snprintf)->Name("gw_place_hmac/snprintf_openssl_hmac");
BENCHMARK(BM_sign_hftx)->Name("gw_sign_hmac/hftx");
BENCHMARK(BM_sign_openssl)->Name("gw_sign_hmac/openssl_hmac");
BENCHMARK(BM_place_ed25519)->Name("gw_place_ed25519/hftx");
BENCHMARK(BM_place_logon)->Name("gw_place_logon/hftx");
BENCHMARK(BM_depth)->Name("gw_depth/hftx");
BENCHMARK(BM_parse_exec_hftx)->Name("gw_parse_exec/hftx");
BENCHMARK(BM_parse_exec_dom)->Name("gw_parse_exec/simdjson_dom");
BENCHMARK(BM_parse_ack_hftx)->Name("gw_parse_ack/hftx");
BENCHMARK(BM_parse_ack_simdjson_only)->Name("gw_parse_ack/hftx_simdjson_only");
BENCHMARK(BM_parse_ack_dom)->Name("gw_parse_ack/simdjson_dom");

BENCHMARK_MAIN();
