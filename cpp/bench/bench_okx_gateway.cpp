// OKX's order codec: request encoding, the login signature, and the parsing of the private connection's answers and
// pushes.
//  okx_place:      an `order` request (limit GTC, spot) encoded into a caller buffer. OKX signs the login, not the
//                  requests, so this is the whole per-order cost. Peer: what a user would write — snprintf of the
//                  same JSON with integer formatting of the fixed-point values (no double); same bytes (asserted).
//  okx_login_sign: the login signature alone, base64(HMAC-SHA256) of "<ts>GET/users/self/verify": keyed SHA-256
//                  states copied per call + a hand base64 (hftx) vs OpenSSL's one-shot HMAC() (re-keys every call)
//                  + EVP_EncodeBlock. Once per connection: shown for completeness, not a hot path.
//  okx_login:      the whole login request (hftx only).
//  okx_parse_ack:  an `order` answer → OrderUpdate (ack). hftx reads it with its hand scanner; hftx_simdjson_only
//                  is the On-Demand path behind it. Peer: simdjson DOM (parser reused) extracting the same fields.
//  okx_parse_fill: an `orders` push of one maker fill (OKX's documented ~70-field shape) → OrderUpdate (fill,
//                  fixed point). Peer: simdjson DOM extracting the same fields into the same OrderUpdate.
// Items are requests / messages.
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
#include "hftx/venue/okx/order_codec.hpp"

namespace {

using namespace hftx;
using namespace hftx::oms;
using namespace hftx::venue::okx;

constexpr const char* kApiKey = "985d5b66-57ce-40fb-b714-afc0b9787083";
constexpr const char* kPassphrase = "passphrase";
constexpr const char* kSecret = "22582BD0CFF14C41EDBF1AB98506286D";

std::vector<ApiInstrument> instruments() {
  return {ApiInstrument{"BTC-USDT", Scale::from_step("0.1"), Scale::from_step("0.00000001")}};
}

ApiEncoder make_encoder() {
  ApiEncoderConfig c;
  c.instruments = instruments();
  return ApiEncoder(std::move(c), Credentials{kApiKey, kPassphrase, LoginSigner(kSecret)});
}

OrderRequest order(std::uint64_t i) {
  OrderRequest r;
  r.side = (i & 1) ? Side::ask : Side::bid;
  r.price = Price(600'000 + static_cast<std::int64_t>(i & 1023));
  r.qty = Qty(100'000 + static_cast<std::int64_t>(i & 255));
  return r;
}

void BM_place_hftx(benchmark::State& state) {
  ApiEncoder enc = make_encoder();
  std::vector<char> out(enc.max_request_size());
  bench::OpSampler sampler;
  bench::AllocMeter alloc;
  std::uint64_t i = 0, bytes = 0;
  for (auto _ : state) {
    const std::uint64_t t0 = TscClock::ticks();
    const std::size_t n = enc.encode_place(i + 1, order(i), out.data(), out.size());
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

// The peer: snprintf, the same bytes as hftx's.
std::size_t snprintf_place(std::uint64_t id, const OrderRequest& r, char* out, std::size_t cap) {
  const int n = std::snprintf(
      out, cap,
      "{\"id\":\"p%" PRIu64 "\",\"op\":\"order\",\"args\":[{\"instId\":\"%s\",\"tdMode\":\"cash\","
      "\"clOrdId\":\"hx%" PRIu64 "\",\"side\":\"%s\",\"ordType\":\"limit\","
      "\"px\":\"%" PRId64 ".%01" PRId64 "\",\"sz\":\"%" PRId64 ".%08" PRId64 "\"}]}",
      id, "BTC-USDT", id, r.side == Side::bid ? "buy" : "sell", r.price.raw() / 10, r.price.raw() % 10,
      r.qty.raw() / 100'000'000, r.qty.raw() % 100'000'000);
  return n > 0 && static_cast<std::size_t>(n) < cap ? static_cast<std::size_t>(n) : 0;
}

void BM_place_snprintf(benchmark::State& state) {
  {  // same output as hftx, or the comparison is meaningless
    ApiEncoder enc = make_encoder();
    std::vector<char> a(enc.max_request_size()), b(1024);
    for (std::uint64_t k : {6u, 7u, 1023u}) {
      const std::size_t na = enc.encode_place(k, order(k), a.data(), a.size());
      const std::size_t nb = snprintf_place(k, order(k), b.data(), b.size());
      if (na != nb || std::memcmp(a.data(), b.data(), na) != 0) {
        state.SkipWithError("peer output differs from hftx's");
        return;
      }
    }
  }
  std::vector<char> out(1024);
  bench::OpSampler sampler;
  bench::AllocMeter alloc;
  std::uint64_t i = 0, bytes = 0;
  for (auto _ : state) {
    const std::uint64_t t0 = TscClock::ticks();
    const std::size_t n = snprintf_place(i + 1, order(i), out.data(), out.size());
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

void BM_sign_hftx(benchmark::State& state) {
  const LoginSigner s(kSecret);
  std::string prehash = "1700000000GET/users/self/verify";
  char sig[LoginSigner::kSignatureSize];
  bench::OpSampler sampler;
  bench::AllocMeter alloc;
  std::uint64_t i = 0;
  for (auto _ : state) {
    prehash[9] = static_cast<char>('0' + (i++ % 10));  // a different message each time
    const std::uint64_t t0 = TscClock::ticks();
    benchmark::DoNotOptimize(s.sign(prehash, sig));
    sampler.add(TscClock::ticks() - t0);
    benchmark::DoNotOptimize(sig);
  }
  alloc.publish(state);
  sampler.publish(state);
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}

void BM_sign_openssl(benchmark::State& state) {
  {  // the same signature as hftx's
    const LoginSigner s(kSecret);
    char a[LoginSigner::kSignatureSize];
    (void)s.sign("1700000000GET/users/self/verify", a);
    unsigned char mac[32], b64[48];
    unsigned int len = 0;
    HMAC(EVP_sha256(), kSecret, static_cast<int>(std::strlen(kSecret)),
         reinterpret_cast<const unsigned char*>("1700000000GET/users/self/verify"), 31, mac, &len);
    if (EVP_EncodeBlock(b64, mac, 32) != 44 || std::memcmp(a, b64, 44) != 0) {
      state.SkipWithError("peer signature differs from hftx's");
      return;
    }
  }
  std::string prehash = "1700000000GET/users/self/verify";
  const int key_len = static_cast<int>(std::strlen(kSecret));
  unsigned char mac[32];
  unsigned char b64[48];
  bench::OpSampler sampler;
  bench::AllocMeter alloc;
  std::uint64_t i = 0;
  for (auto _ : state) {
    prehash[9] = static_cast<char>('0' + (i++ % 10));
    const std::uint64_t t0 = TscClock::ticks();
    unsigned int len = 0;
    HMAC(EVP_sha256(), kSecret, key_len, reinterpret_cast<const unsigned char*>(prehash.data()), prehash.size(), mac,
         &len);
    EVP_EncodeBlock(b64, mac, static_cast<int>(len));
    sampler.add(TscClock::ticks() - t0);
    benchmark::DoNotOptimize(b64);
  }
  alloc.publish(state);
  sampler.publish(state);
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}

void BM_login_hftx(benchmark::State& state) {
  ApiEncoder enc = make_encoder();
  std::vector<char> out(enc.max_request_size());
  bench::OpSampler sampler;
  bench::AllocMeter alloc;
  std::int64_t ts = 1700000000;
  for (auto _ : state) {
    const std::uint64_t t0 = TscClock::ticks();
    benchmark::DoNotOptimize(enc.encode_login(ts++, out.data(), out.size()));
    sampler.add(TscClock::ticks() - t0);
  }
  alloc.publish(state);
  sampler.publish(state);
  if (enc.stats().by_status[0] != enc.stats().requests) state.SkipWithError("encode failed");
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}

// ------------------------------------------------------------------------------------------- parsing

constexpr const char* kAck =
    R"({"id":"p42","op":"order","data":[{"clOrdId":"hx42","ordId":"590908157585625111","tag":"","ts":"1695190491421","sCode":"0","sMsg":""}],"code":"0","msg":"","inTime":"1695190491421339","outTime":"1695190491423240"})";
constexpr const char* kFill =
    R"({"arg":{"channel":"orders","instType":"SPOT","uid":"614488474791936"},"data":[{"accFillSz":"0.001","algoClOrdId":"","algoId":"","amendResult":"","amendSource":"","attachAlgoClOrdId":"","attachAlgoOrds":[],"avgPx":"31527.1","cTime":"1654084334977","cancelSource":"","cancelSourceReason":"","category":"normal","ccy":"","clOrdId":"hx42","code":"0","execType":"M","fee":"-0.02522168","feeCcy":"USDT","fillFee":"-0.02522168","fillFeeCcy":"USDT","fillNotionalUsd":"31.50818374","fillPx":"31527.1","fillSz":"0.001","fillPnl":"0","fillTime":"1654084353263","fillPxVol":"","fillPxUsd":"","fillMarkVol":"","fillFwdPx":"","fillMarkPx":"","instId":"BTC-USDT","instType":"SPOT","isTpLimit":"false","lever":"0","linkedAlgoOrd":{"algoId":""},"msg":"","notionalUsd":"31.50818374","ordId":"452197707845865472","ordType":"limit","pnl":"0","posSide":"","px":"31527.1","pxType":"","pxUsd":"","pxVol":"","quickMgnType":"","rebate":"0","rebateCcy":"BTC","reduceOnly":"false","reqId":"","side":"sell","slOrdPx":"","slTriggerPx":"","slTriggerPxType":"","source":"","state":"filled","stpId":"","stpMode":"","sz":"0.001","tag":"","tdMode":"cash","tgtCcy":"","tpOrdPx":"","tpTriggerPx":"","tpTriggerPxType":"","tradeId":"242589207","uTime":"1654084353264"}]})";

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
  if (fast && want == UpdateKind::ack && parser.stats().scanned == 0) state.SkipWithError("scanner not used");
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * json.size()));
}
void BM_parse_ack_hftx(benchmark::State& s) { BM_parse_hftx(s, kAck, UpdateKind::ack); }
void BM_parse_ack_simdjson_only(benchmark::State& s) { BM_parse_hftx(s, kAck, UpdateKind::ack, false); }
void BM_parse_fill_hftx(benchmark::State& s) { BM_parse_hftx(s, kFill, UpdateKind::fill); }

std::uint64_t digits(std::string_view s) {
  std::uint64_t v = 0;
  for (const char c : s) v = v * 10 + static_cast<unsigned>(c - '0');
  return v;
}

// The peer: simdjson DOM, the same fields into the same OrderUpdate.
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
    std::string_view id, op, code, out_time, cl, ord, ts, s_code;
    simdjson::dom::array data;
    bad += doc["id"].get(id) || doc["op"].get(op) || doc["code"].get(code) || doc["outTime"].get(out_time) ||
           doc["data"].get(data);
    simdjson::dom::object el;
    bad += data.at(0).get(el) || el["clOrdId"].get(cl) || el["ordId"].get(ord) || el["ts"].get(ts) ||
           el["sCode"].get(s_code);
    u.kind = s_code == "0" ? UpdateKind::ack : UpdateKind::rejected;
    u.client_id = digits(cl.substr(2));
    u.venue_order_id = digits(ord);
    u.venue_time_ns = static_cast<std::int64_t>(digits(ts)) * 1'000'000;
    sampler.add(TscClock::ticks() - t0);
    benchmark::DoNotOptimize(u);
  }
  alloc.publish(state);
  sampler.publish(state);
  if (bad) state.SkipWithError("parse failed");
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * len));
}

void BM_parse_fill_dom(benchmark::State& state) {
  simdjson::dom::parser parser;
  const std::string buf = padded(kFill);
  const std::size_t len = std::strlen(kFill);
  const Scale ps = Scale::from_step("0.1"), qs = Scale::from_step("0.00000001");
  bench::OpSampler sampler;
  bench::AllocMeter alloc;
  std::uint64_t bad = 0;
  for (auto _ : state) {
    const std::uint64_t t0 = TscClock::ticks();
    OrderUpdate u;
    simdjson::dom::element doc;
    bad += parser.parse(buf.data(), len, false).get(doc) != simdjson::SUCCESS;
    std::string_view channel;
    simdjson::dom::array data;
    bad += doc["arg"]["channel"].get(channel) || doc["data"].get(data);
    simdjson::dom::object o;
    std::string_view inst, ord, cl, side, st, acc, fsz, fpx, trade, exec, ftime, utime, csrc, amend, type;
    bad += data.at(0).get(o) || o["instId"].get(inst) || o["ordId"].get(ord) || o["clOrdId"].get(cl) ||
           o["side"].get(side) || o["state"].get(st) || o["accFillSz"].get(acc) || o["fillSz"].get(fsz) ||
           o["fillPx"].get(fpx) || o["tradeId"].get(trade) || o["execType"].get(exec) ||
           o["fillTime"].get(ftime) || o["uTime"].get(utime) || o["cancelSource"].get(csrc) ||
           o["amendResult"].get(amend) || o["ordType"].get(type);
    u.kind = st == "filled" || st == "partially_filled" ? UpdateKind::fill : UpdateKind::ack;
    u.instrument = inst == "BTC-USDT" ? 0 : 1;
    u.side = side == "buy" ? Side::bid : Side::ask;
    u.client_id = digits(cl.substr(2));
    u.venue_order_id = digits(ord);
    bad += parse_fixed(acc, qs, u.cum_qty) != FixedStatus::ok;
    bad += parse_fixed(fsz, qs, u.last_qty) != FixedStatus::ok;
    bad += parse_fixed(fpx, ps, u.last_price) != FixedStatus::ok;
    u.trade_id = digits(trade);
    u.maker = exec == "M";
    u.venue_time_ns = static_cast<std::int64_t>(digits(ftime)) * 1'000'000;
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

// Interleaved hftx / peer (DESIGN §9).
BENCHMARK(BM_place_hftx)->Name("okx_place/hftx");
BENCHMARK(BM_place_snprintf)->Name("okx_place/snprintf");
BENCHMARK(BM_sign_hftx)->Name("okx_login_sign/hftx");
BENCHMARK(BM_sign_openssl)->Name("okx_login_sign/openssl_hmac_encodeblock");
BENCHMARK(BM_login_hftx)->Name("okx_login/hftx");
BENCHMARK(BM_parse_ack_hftx)->Name("okx_parse_ack/hftx");
BENCHMARK(BM_parse_ack_simdjson_only)->Name("okx_parse_ack/hftx_simdjson_only");
BENCHMARK(BM_parse_ack_dom)->Name("okx_parse_ack/simdjson_dom");
BENCHMARK(BM_parse_fill_hftx)->Name("okx_parse_fill/hftx");
BENCHMARK(BM_parse_fill_dom)->Name("okx_parse_fill/simdjson_dom");

BENCHMARK_MAIN();
