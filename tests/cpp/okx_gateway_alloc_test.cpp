// OKX's order codec allocates nothing after construction: every request encoded (login included) and every
// answer, push and event of the private connection parsed, through both parser entry points, counted by the
// interposed allocator.
#include <gtest/gtest.h>

#include <array>
#include <string>
#include <vector>

#include "hftx/md/events.hpp"
#include "hftx/testing/alloc_counter.hpp"
#include "hftx/venue/okx/order_codec.hpp"
#include "test_support.hpp"

namespace {

using namespace hftx::oms;
using namespace hftx::venue::okx;

std::vector<ApiInstrument> instruments() {
  return {ApiInstrument{"BTC-USDT", hftx::Scale::from_step("0.1"), hftx::Scale::from_step("0.00000001")},
          ApiInstrument{"ETH-USDT", hftx::Scale::from_step("0.01"), hftx::Scale::from_step("0.000001")}};
}

// A message in a buffer with simdjson's padding after it, as WsConnection delivers it.
struct Padded {
  std::string buf;
  std::size_t size;
  explicit Padded(std::string s) : buf(std::move(s)), size(buf.size()) {
    buf.resize(size + hftx::md::kJsonPadding, '\0');
  }
  [[nodiscard]] std::string_view view() const { return {buf.data(), size}; }
};

std::string order(const char* cl, const char* state, const char* fill_sz, const char* trade) {
  return std::string(R"({"accFillSz":"0.001","algoClOrdId":"","attachAlgoOrds":[],"avgPx":"31527.1","cancelSource":"","clOrdId":")") +
         cl + R"(","execType":"M","fee":"-0.02","fillPx":"31527.1","fillSz":")" + fill_sz +
         R"(","fillTime":"1654084353263","instId":"BTC-USDT","linkedAlgoOrd":{"algoId":""},"ordId":"452197707845865472","ordType":"limit","px":"31527.1","side":"sell","state":")" +
         state + R"(","sz":"0.002","tdMode":"cash","tradeId":")" + trade + R"(","uTime":"1654084353264"})";
}

TEST(OkxGatewayAlloc, EncodeAndParseAllocateNothing) {
  ASSERT_TRUE(hftx::testing::alloc_counter_active());
  ApiEncoderConfig cfg;
  cfg.instruments = instruments();
  ApiEncoder enc(std::move(cfg), Credentials{"985d5b66-57ce-40fb-b714-afc0b9787083", "passphrase",
                                             LoginSigner("22582BD0CFF14C41EDBF1AB98506286D")});
  ApiParser parser(instruments(), "hx", 1u << 16);

  std::string many = R"({"arg":{"channel":"orders","instType":"SPOT"},"data":[)";
  for (int i = 0; i < 30; ++i) {
    if (i != 0) many += ',';
    many += order("hx7", "partially_filled", "0.0005", "12");
  }
  many += "]}";
  const Padded msgs[] = {
      Padded(R"({"id":"p42","op":"order","data":[{"clOrdId":"hx42","ordId":"12345689","tag":"","ts":"1695190491421","sCode":"0","sMsg":""}],"code":"0","msg":"","inTime":"1695190491421339","outTime":"1695190491423240"})"),
      Padded(R"({"id":"p43","op":"order","data":[{"clOrdId":"hx43","ordId":"","tag":"","ts":"1","sCode":"51008","sMsg":"Insufficient"}],"code":"1","msg":""})"),
      Padded(R"({"id":"p44","op":"order","data":[],"code":"60013","msg":"Invalid args"})"),
      Padded(R"({"id":"b1","op":"batch-orders","data":[{"clOrdId":"hx1","ordId":"1","sCode":"0","sMsg":""},{"clOrdId":"hx2","ordId":"","sCode":"51016","sMsg":"dup"}],"code":"2","msg":""})"),
      Padded(R"({"id":"c42","op":"cancel-order","data":[{"clOrdId":"hx42","ordId":"1","ts":"1","sCode":"51402","sMsg":"done"}],"code":"1","msg":""})"),
      Padded(R"({"id":"m42","op":"amend-order","data":[{"clOrdId":"hx42","ordId":"1","ts":"1","reqId":"","sCode":"0","sMsg":""}],"code":"0","msg":""})"),
      Padded(R"({"arg":{"channel":"orders","instType":"SPOT"},"data":[)" + order("hx42", "filled", "0.001", "242589207") + "," +
             order("other", "canceled", "0", "") + "]}"),
      Padded(many),  // more updates than the stage: read twice
      Padded(R"({"data":[{"clOrdId":"","ordId":"5","sCode":"0","sMsg":""}],"code":"0","msg":"","op":"order","id":"p8"})"),
      Padded(R"({"event":"login","code":"0","msg":"","connId":"a4d3ae55"})"),
      Padded(R"({"event":"error","code":"60009","msg":"Login failed.","connId":"a4d3ae55"})"),
      Padded(R"({"event":"subscribe","arg":{"channel":"orders","instType":"ANY"},"connId":"a4d3ae55"})"),
      Padded("pong"),
      Padded(R"({"arg":{"channel":"orders"},"data":[{"instId":"XRP-USDT","ordId":"1","side":"buy","state":"live","accFillSz":"0"}]})"),  // error
      Padded(R"({"truncated":)"),
  };
  std::vector<char> out(enc.max_request_size());
  std::array<OrderUpdate, 8> updates{};
  const PlaceOrder batch[] = {{1, OrderRequest{}}, {2, OrderRequest{}}};
  const CancelOrder cancels[] = {{1, 0}, {2, 1}};
  OrderRequest req;
  req.price = hftx::Price(600'001);
  req.qty = hftx::Qty(1'000'000);
  std::uint64_t bytes = 0, delivered = 0;
  auto round = [&](std::uint64_t i) {
    req.side = (i & 1) ? Side::ask : Side::bid;
    req.post_only = (i & 2) != 0;
    PlaceOrder b[2] = {batch[0], batch[1]};
    b[0].request = req;
    b[1].request = req;
    bytes += enc.encode_login(1538054050 + static_cast<std::int64_t>(i), out.data(), out.size());
    bytes += enc.encode_subscribe_orders(out.data(), out.size());
    bytes += enc.encode_ping(out.data(), out.size());
    bytes += enc.encode_place(i + 1, req, out.data(), out.size());
    bytes += enc.encode_cancel(i + 1, 0, out.data(), out.size());
    bytes += enc.encode_amend(i + 1, 0, req.price, req.qty, out.data(), out.size());
    bytes += enc.encode_batch_place(i, b, out.data(), out.size());
    bytes += enc.encode_batch_cancel(i, cancels, out.data(), out.size());
    for (const Padded& m : msgs) {
      ApiMessage am;
      (void)parser.parse(m.view(), m.buf.size(), 1, am, std::span(updates));
      delivered += am.updates;
      std::size_t seen = 0;
      auto sink = [&](const OrderUpdate&) noexcept { ++seen; };
      (void)parser.parse_unpadded(m.view(), 1, am, UpdateSink(sink));  // the copying path
      delivered += seen;
    }
  };
  for (std::uint64_t i = 0; i < 100; ++i) round(i);  // warm-up
  const std::uint64_t n = hftx::test::scaled(10'000);
  hftx::testing::AllocScope scope;
  for (std::uint64_t i = 0; i < n; ++i) round(i);
  EXPECT_EQ(scope.delta().allocations, 0u);
  EXPECT_GT(bytes, 0u);
  EXPECT_GT(delivered, 0u);
  EXPECT_EQ(enc.stats().by_status[0], enc.stats().requests);
  EXPECT_GT(parser.stats().errors(), 0u);
  EXPECT_GT(parser.stats().scanned, 0u);
}

}  // namespace
