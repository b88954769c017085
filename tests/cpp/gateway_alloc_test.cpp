// The order gateway's hot path — encode + HMAC-sign every request, parse every response and execution
// report — allocates nothing after warm-up (counted by the interposed allocator).
#include <gtest/gtest.h>

#include <array>
#include <cstring>
#include <string>
#include <vector>

#include "hftx/md/events.hpp"
#include "hftx/venue/binance/order_codec.hpp"
#include "hftx/testing/alloc_counter.hpp"
#include "test_support.hpp"

namespace {

using namespace hftx::oms;
using namespace hftx::venue::binance;

std::vector<ApiInstrument> instruments() {
  return {ApiInstrument{"BTCUSDT", hftx::Scale::from_step("0.01"), hftx::Scale::from_step("0.00000001")}};
}

// A message in a buffer with simdjson's padding after it, as WsConnection delivers it.
struct Padded {
  std::string buf;
  std::size_t size;
  explicit Padded(std::string s) : buf(std::move(s)), size(buf.size()) { buf.resize(size + hftx::md::kJsonPadding, '\0'); }
  [[nodiscard]] std::string_view view() const { return {buf.data(), size}; }
};

TEST(GatewayAlloc, EncodeSignParseAllocateNothing) {
  ASSERT_TRUE(hftx::testing::alloc_counter_active());
  ApiEncoderConfig cfg;
  cfg.api_key = "vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A";
  cfg.instruments = instruments();
  ApiEncoder enc(std::move(cfg), RequestSigner::hmac_sha256("NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j"));
  ApiParser parser(instruments(), "hx", 1u << 16);

  const Padded msgs[] = {
      Padded(R"({"id":"p42","status":200,"result":{"symbol":"BTCUSDT","orderId":123,"orderListId":-1,"clientOrderId":"hx42","transactTime":1700000000123}})"),
      Padded(R"({"id":"p43","status":400,"error":{"code":-2010,"msg":"Account has insufficient balance for requested action."}})"),
      Padded(R"({"subscriptionId":0,"event":{"e":"executionReport","E":1,"s":"BTCUSDT","c":"hx42","S":"BUY","o":"LIMIT","f":"GTC","q":"0.01000000","p":"60000.01","C":"","x":"TRADE","X":"PARTIALLY_FILLED","r":"NONE","i":4293153,"l":"0.00400000","z":"0.00400000","L":"60000.00","n":"0","N":null,"T":2,"t":12345,"m":true,"w":false,"O":1,"Z":"240.00000000","Y":"240.00000000","Q":"0"}})"),
      Padded(R"({"id":"c42","status":200,"result":{"symbol":"BTCUSDT","origClientOrderId":"hx42","orderId":123,"clientOrderId":"x","price":"60000.01","origQty":"0.01000000","executedQty":"0.00400000","status":"CANCELED","timeInForce":"GTC","type":"LIMIT","side":"BUY"}})"),
      Padded(R"({"id":"a1","status":200,"result":[{"symbol":"BTCUSDT","origClientOrderId":"hx5","orderId":11,"executedQty":"0.00000000","side":"BUY"},{"symbol":"BTCUSDT","origClientOrderId":"hx6","orderId":12,"executedQty":"0.00000000","side":"SELL"}]})"),
      Padded(R"({"result":{"symbol":"BTCUSDT","orderId":9,"clientOrderId":"hx9","transactTime":5},"status":200,"id":"p9"})"),
      Padded(R"({"id":"p1","status":200,"result":{"symbol":"DOGEUSDT","orderId":1}})"),  // an error, counted
      Padded(R"({"truncated":)"),
  };
  std::vector<char> out(enc.max_request_size());
  std::array<OrderUpdate, 8> updates{};
  OrderRequest req;
  req.price = hftx::Price(6'000'001);
  req.qty = hftx::Qty(1'000'000);
  std::uint64_t bytes = 0;
  std::uint64_t delivered = 0;
  auto round = [&](std::uint64_t i) {
    req.side = (i & 1) ? Side::ask : Side::bid;
    req.post_only = (i & 2) != 0;
    bytes += enc.encode_place(i + 1, req, 1700000000000 + static_cast<std::int64_t>(i), out.data(), out.size());
    bytes += enc.encode_cancel(i + 1, 0, 1700000000000, out.data(), out.size());
    bytes += enc.encode_cancel_all(0, i, 1700000000000, out.data(), out.size());
    bytes += enc.encode_depth(0, 1000, i, out.data(), out.size());
    bytes += enc.encode_subscribe(i, 1700000000000, out.data(), out.size());
    for (const Padded& m : msgs) {
      ApiMessage am;
      (void)parser.parse(m.view(), m.buf.size(), 1, am, std::span(updates));
      delivered += am.updates;
      (void)parser.parse(m.view(), 0, 1, am, std::span(updates));  // the copying path
    }
  };
  for (std::uint64_t i = 0; i < 100; ++i) round(i);  // warm-up
  const std::uint64_t n = hftx::test::scaled(20'000);
  hftx::testing::AllocScope scope;
  for (std::uint64_t i = 0; i < n; ++i) round(i);
  EXPECT_EQ(scope.delta().allocations, 0u);
  EXPECT_GT(bytes, 0u);
  EXPECT_GT(delivered, 0u);
  EXPECT_EQ(enc.stats().by_status[0], enc.stats().requests);
  EXPECT_GT(parser.stats().errors(), 0u);
}

// Ed25519 goes through OpenSSL's EVP layer, which allocates per signature: measured here so that the
// claim in the README stays true (a few small allocations, no growth).
TEST(GatewayAlloc, Ed25519SigningAllocationsAreBounded) {
  const RequestSigner s = RequestSigner::ed25519_pem(
      "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIIJEYWtGBrhACmb9Dvy+qa8WEf0lQOl1s4CLIAB9m89u\n-----END PRIVATE KEY-----\n");
  char sig[RequestSigner::kMaxSignatureSize];
  for (int i = 0; i < 10; ++i) ASSERT_EQ(s.sign("warm", sig), RequestSigner::kEd25519Size);
  const int n = 200;
  hftx::testing::AllocScope scope;
  for (int i = 0; i < n; ++i) ASSERT_EQ(s.sign("apiKey=x&timestamp=1", sig), RequestSigner::kEd25519Size);
  const auto d = scope.delta();
  std::printf("Ed25519 sign: %.1f allocations, %.0f bytes per signature\n",
              static_cast<double>(d.allocations) / n, static_cast<double>(d.bytes) / n);
  EXPECT_LE(d.allocations, static_cast<std::uint64_t>(n) * 16u);
  EXPECT_EQ(d.allocations, d.frees);  // nothing kept
}

}  // namespace
