// The Binance WebSocket-API gateway: signatures against Binance's published vectors, exact request JSON,
// every response / execution-report shape of the contract's §1, and bad input counted, never crashing.
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <simdjson.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "hftx/core/error.hpp"
#include "hftx/venue/binance/md_parser.hpp"
#include "hftx/venue/binance/order_codec.hpp"
#include "test_support.hpp"

namespace {

using hftx::Price;
using hftx::Qty;
using hftx::Scale;
using namespace hftx::oms;
using namespace hftx::venue::binance;

// Binance's example credentials. Source: "SIGNED request example (HMAC)",
// https://developers.binance.com/docs/binance-spot-api-docs/websocket-api/request-security
constexpr const char* kApiKey = "vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A";
constexpr const char* kSecret = "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j";

// Binance's example Ed25519 private key. Source: the FIX API's "Signature computation example" (the only
// Ed25519 vector Binance publishes with its key; the WebSocket API's Ed25519 example shows code only),
// https://developers.binance.com/docs/binance-spot-api-docs/fix-api#signature-computation-example
using hftx::test::kEd25519Pem;

std::string sign(const RequestSigner& s, std::string_view payload) {
  std::string out(s.signature_size(), '\0');
  EXPECT_EQ(s.sign(payload, out.data()), s.signature_size());
  return out;
}

// An independent HMAC-SHA256 (OpenSSL's one-shot HMAC()).
std::string openssl_hmac_hex(std::string_view key, std::string_view msg) {
  unsigned char mac[32];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(msg.data()),
       msg.size(), mac, &len);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string s;
  for (unsigned i = 0; i < len; ++i) {
    s += kHex[mac[i] >> 4];
    s += kHex[mac[i] & 15];
  }
  return s;
}

bool ed25519_verify(std::string_view pem, std::string_view msg, std::string_view b64sig) {
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  EVP_PKEY* key = PEM_read_bio_PrivateKey(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  unsigned char sig[72];
  const int n = EVP_DecodeBlock(sig, reinterpret_cast<const unsigned char*>(b64sig.data()), static_cast<int>(b64sig.size()));
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  const bool ok = key != nullptr && n >= 64 && EVP_DigestVerifyInit(ctx, nullptr, nullptr, nullptr, key) == 1 &&
                  EVP_DigestVerify(ctx, sig, 64, reinterpret_cast<const unsigned char*>(msg.data()), msg.size()) == 1;
  EVP_MD_CTX_free(ctx);
  EVP_PKEY_free(key);
  return ok;
}

// ------------------------------------------------------------------------------------------- signing

TEST(RequestSigner, HmacMatchesBinanceWebSocketApiVector) {
  // https://developers.binance.com/docs/binance-spot-api-docs/websocket-api/request-security (HMAC example)
  const RequestSigner s = RequestSigner::hmac_sha256(kSecret);
  EXPECT_EQ(s.type(), SignatureType::hmac_sha256);
  EXPECT_EQ(sign(s,
                 "apiKey=vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A&newOrderRespType=ACK&"
                 "price=52000.00&quantity=0.01000000&recvWindow=100&side=SELL&symbol=BTCUSDT&timeInForce=GTC&"
                 "timestamp=1645423376532&type=LIMIT"),
            "cc15477742bd704c29492d96c7ead9414dfd8e0ec4a00f947bb5bb454ddbd08a");
}

TEST(RequestSigner, HmacMatchesBinanceRestApiVector) {
  // https://developers.binance.com/docs/binance-spot-api-docs/rest-api/endpoint-security (HMAC example)
  const RequestSigner s = RequestSigner::hmac_sha256(kSecret);
  EXPECT_EQ(sign(s, "symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&price=0.1&recvWindow=5000&"
                    "timestamp=1499827319559"),
            "c8db56825ae71d6d79447849e617115f4a920fa2acdcab2b053c4b2838bd6b71");
}

TEST(RequestSigner, HmacLongKeyAndEdgeLengthsMatchOpenSsl) {
  // RFC 4231 test case 6: a key longer than the block is hashed first.
  const std::string key(131, '\xaa');
  const RequestSigner s = RequestSigner::hmac_sha256(key);
  EXPECT_EQ(sign(s, "Test Using Larger Than Block-Size Key - Hash Key First"),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
  // Messages around the block boundaries (55/56/63/64/65 bytes...) against OpenSSL's HMAC().
  const RequestSigner b = RequestSigner::hmac_sha256(kSecret);
  for (std::size_t n : {0u, 1u, 55u, 56u, 63u, 64u, 65u, 119u, 120u, 128u, 300u, 1000u}) {
    std::string msg(n, 'x');
    for (std::size_t i = 0; i < n; ++i) msg[i] = static_cast<char>('a' + i % 26);
    EXPECT_EQ(sign(b, msg), openssl_hmac_hex(kSecret, msg)) << n;
  }
}

TEST(RequestSigner, Ed25519MatchesBinanceVector) {
  // https://developers.binance.com/docs/binance-spot-api-docs/fix-api#signature-computation-example:
  // payload = MsgType, SenderCompID, TargetCompID, MsgSeqNum, SendingTime joined by SOH.
  const RequestSigner s = RequestSigner::from_secret(kEd25519Pem);
  EXPECT_EQ(s.type(), SignatureType::ed25519);
  const std::string payload = std::string("A\x01") + "EXAMPLE\x01SPOT\x01" + "1\x01" + "20240627-11:17:25.223";
  EXPECT_EQ(sign(s, payload), "4MHXelVVcpkdwuLbl6n73HQUXUf1dse2PCgT1DYqW9w8AVZ1RACFGM+5UdlGPrQHrgtS3CvsRURC1oj73j8gCA==");
  // Deterministic and repeatable on the same context.
  EXPECT_EQ(sign(s, payload), sign(s, payload));
  EXPECT_EQ(s.failures(), 0u);
}

TEST(RequestSigner, PemWithEscapedNewlinesAsInEnvironmentVariables) {
  const RequestSigner s = RequestSigner::from_secret(
      "-----BEGIN PRIVATE KEY-----\\nMC4CAQAwBQYDK2VwBCIEIIJEYWtGBrhACmb9Dvy+qa8WEf0lQOl1s4CLIAB9m89u\\n"
      "-----END PRIVATE KEY-----\\n");
  EXPECT_EQ(s.type(), SignatureType::ed25519);
  EXPECT_TRUE(ed25519_verify(kEd25519Pem, "hello", sign(s, "hello")));
}

TEST(RequestSigner, BadKeysAreConfigErrors) {
  EXPECT_THROW((void)RequestSigner::hmac_sha256(""), hftx::ConfigError);
  EXPECT_THROW((void)RequestSigner::from_secret("-----BEGIN PRIVATE KEY-----\ngarbage\n-----END PRIVATE KEY-----\n"),
               hftx::ConfigError);
  // A valid PEM key of another type (an EC P-256 key) is refused: only Ed25519 and HMAC are supported.
  EVP_PKEY* ec = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256");
  ASSERT_NE(ec, nullptr);
  BIO* bio = BIO_new(BIO_s_mem());
  ASSERT_EQ(PEM_write_bio_PrivateKey(bio, ec, nullptr, nullptr, 0, nullptr, nullptr), 1);
  char* data = nullptr;
  const long len = BIO_get_mem_data(bio, &data);
  const std::string pem(data, static_cast<std::size_t>(len));
  BIO_free(bio);
  EVP_PKEY_free(ec);
  try {
    (void)RequestSigner::from_secret(pem);
    ADD_FAILURE() << "an EC key was accepted";
  } catch (const hftx::ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("not Ed25519"), std::string::npos) << e.what();
  }
}

TEST(ApiCredentials, FromEnvironmentNamesTheMissingVariable) {
  ::unsetenv("HFTX_GW_TEST_KEY");
  ::unsetenv("HFTX_GW_TEST_SECRET");
  try {
    (void)ApiCredentials::from_env("HFTX_GW_TEST_KEY", "HFTX_GW_TEST_SECRET");
    ADD_FAILURE() << "no ConfigError";
  } catch (const hftx::ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("HFTX_GW_TEST_KEY"), std::string::npos) << e.what();
  }
  ::setenv("HFTX_GW_TEST_KEY", kApiKey, 1);
  try {
    (void)ApiCredentials::from_env("HFTX_GW_TEST_KEY", "HFTX_GW_TEST_SECRET");
    ADD_FAILURE() << "no ConfigError";
  } catch (const hftx::ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("HFTX_GW_TEST_SECRET"), std::string::npos) << e.what();
  }
  ::setenv("HFTX_GW_TEST_SECRET", kSecret, 1);
  ApiCredentials c = ApiCredentials::from_env("HFTX_GW_TEST_KEY", "HFTX_GW_TEST_SECRET");
  EXPECT_EQ(c.api_key, kApiKey);
  EXPECT_EQ(c.signer.type(), SignatureType::hmac_sha256);
  ::setenv("HFTX_GW_TEST_SECRET", kEd25519Pem, 1);
  EXPECT_EQ(ApiCredentials::from_env("HFTX_GW_TEST_KEY", "HFTX_GW_TEST_SECRET").signer.type(), SignatureType::ed25519);
  ::setenv("HFTX_GW_TEST_KEY", "bad\"key", 1);
  EXPECT_THROW((void)ApiCredentials::from_env("HFTX_GW_TEST_KEY", "HFTX_GW_TEST_SECRET"), hftx::ConfigError);
  ::unsetenv("HFTX_GW_TEST_KEY");
  ::unsetenv("HFTX_GW_TEST_SECRET");
}

// ------------------------------------------------------------------------------------------- encoding

std::vector<ApiInstrument> instruments() {
  return {ApiInstrument{"BTCUSDT", Scale::from_step("0.01"), Scale::from_step("0.00000001")},
          ApiInstrument{"ETHUSDT", Scale::from_step("0.01"), Scale::from_step("0.0001")}};
}

ApiEncoder make_encoder(RequestSigner signer, int recv_window = 100) {
  ApiEncoderConfig c;
  c.api_key = kApiKey;
  c.recv_window_ms = recv_window;
  c.client_id_prefix = "hx";
  c.instruments = instruments();
  return ApiEncoder(std::move(c), std::move(signer));
}

OrderRequest limit_sell() {
  OrderRequest r;
  r.instrument = 0;
  r.side = Side::ask;
  r.type = OrderType::limit;
  r.tif = TimeInForce::gtc;
  r.price = Price(5'200'000);   // 52000.00
  r.qty = Qty(1'000'000);       // 0.01000000
  return r;
}

std::string encode(ApiEncoder& e, auto&& fn) {
  std::string buf(e.max_request_size(), '\0');
  const std::size_t n = fn(buf.data(), buf.size());
  EXPECT_GT(n, 0u) << to_string(e.last_status());
  buf.resize(n);
  return buf;
}

// Parses the request with simdjson's DOM (an independent reader) and rebuilds the signature payload the
// way Binance does: every param but `signature`, sorted by name, `k=v` joined by `&`, values as sent.
struct Decoded {
  std::string id, method, payload, signature;
  std::map<std::string, std::string> params;
};
Decoded decode(const std::string& json) {
  simdjson::dom::parser p;
  simdjson::dom::element doc = p.parse(json);
  Decoded d;
  d.id = std::string(std::string_view(doc["id"]));
  d.method = std::string(std::string_view(doc["method"]));
  std::vector<std::string> order;
  simdjson::dom::object params;
  EXPECT_EQ(doc["params"].get(params), simdjson::SUCCESS);
  for (simdjson::dom::key_value_pair kv : params) {
    std::string v;
    if (kv.value.is_string()) v = std::string(std::string_view(kv.value));
    else v = std::to_string(int64_t(kv.value));
    order.emplace_back(kv.key);
    d.params[std::string(kv.key)] = v;
  }
  // Our JSON writes the params already sorted (signature last).
  std::vector<std::string> sorted(order.begin(), order.end());
  sorted.erase(std::remove(sorted.begin(), sorted.end(), "signature"), sorted.end());
  std::vector<std::string> check = sorted;
  std::sort(check.begin(), check.end());
  EXPECT_EQ(sorted, check) << "params are not written in sorted order";
  for (const auto& k : check) {
    if (!d.payload.empty()) d.payload += '&';
    d.payload += k + "=" + d.params[k];
  }
  if (d.params.count("signature")) d.signature = d.params["signature"];
  return d;
}

TEST(ApiEncoder, PlaceLimitExactJsonAndSignature) {
  ApiEncoder e = make_encoder(RequestSigner::hmac_sha256(kSecret));
  const std::string json =
      encode(e, [&](char* o, std::size_t c) { return e.encode_place(42, limit_sell(), 1645423376532, o, c); });
  const std::string payload =
      std::string("apiKey=") + kApiKey +
      "&newClientOrderId=hx42&newOrderRespType=ACK&price=52000.00&quantity=0.01000000&recvWindow=100&side=SELL&"
      "symbol=BTCUSDT&timeInForce=GTC&timestamp=1645423376532&type=LIMIT";
  const std::string expected =
      std::string("{\"id\":\"p42\",\"method\":\"order.place\",\"params\":{\"apiKey\":\"") + kApiKey +
      "\",\"newClientOrderId\":\"hx42\",\"newOrderRespType\":\"ACK\",\"price\":\"52000.00\",\"quantity\":\"0.01000000\","
      "\"recvWindow\":100,\"side\":\"SELL\",\"symbol\":\"BTCUSDT\",\"timeInForce\":\"GTC\",\"timestamp\":1645423376532,"
      "\"type\":\"LIMIT\",\"signature\":\"" +
      openssl_hmac_hex(kSecret, payload) + "\"}}";
  EXPECT_EQ(json, expected);
  const Decoded d = decode(json);
  EXPECT_EQ(d.id, "p42");
  EXPECT_EQ(d.method, "order.place");
  EXPECT_EQ(d.payload, payload);
  EXPECT_EQ(d.signature, openssl_hmac_hex(kSecret, d.payload));
  EXPECT_EQ(json.size(), e.stats().requests == 1 ? json.size() : 0u);
  EXPECT_LE(json.size(), e.max_request_size());
}

TEST(ApiEncoder, PlaceVariants) {
  ApiEncoder e = make_encoder(RequestSigner::hmac_sha256(kSecret), 5000);
  OrderRequest r = limit_sell();
  r.side = Side::bid;
  r.tif = TimeInForce::ioc;
  r.price = Price(6'000'001);  // 60000.01
  r.qty = Qty(123);            // 0.00000123
  Decoded d = decode(encode(e, [&](char* o, std::size_t c) { return e.encode_place(7, r, 1700000000000, o, c); }));
  EXPECT_EQ(d.params["side"], "BUY");
  EXPECT_EQ(d.params["timeInForce"], "IOC");
  EXPECT_EQ(d.params["price"], "60000.01");
  EXPECT_EQ(d.params["quantity"], "0.00000123");
  EXPECT_EQ(d.params["recvWindow"], "5000");
  EXPECT_EQ(d.params["type"], "LIMIT");
  EXPECT_EQ(d.signature, openssl_hmac_hex(kSecret, d.payload));

  r.tif = TimeInForce::fok;
  d = decode(encode(e, [&](char* o, std::size_t c) { return e.encode_place(8, r, 1700000000000, o, c); }));
  EXPECT_EQ(d.params["timeInForce"], "FOK");

  r.post_only = true;  // LIMIT_MAKER: price, no timeInForce
  d = decode(encode(e, [&](char* o, std::size_t c) { return e.encode_place(9, r, 1700000000000, o, c); }));
  EXPECT_EQ(d.params["type"], "LIMIT_MAKER");
  EXPECT_EQ(d.params.count("timeInForce"), 0u);
  EXPECT_EQ(d.params["price"], "60000.01");
  EXPECT_EQ(d.signature, openssl_hmac_hex(kSecret, d.payload));

  r.post_only = false;
  r.type = OrderType::market;  // MARKET: no price, no timeInForce
  r.instrument = 1;
  r.qty = Qty(15'000);  // 1.5000 at 0.0001
  const std::string json = encode(e, [&](char* o, std::size_t c) { return e.encode_place(18446744073709551615ull, r, 1, o, c); });
  d = decode(json);
  EXPECT_EQ(d.id, "p18446744073709551615");
  EXPECT_EQ(d.params["newClientOrderId"], "hx18446744073709551615");
  EXPECT_EQ(d.params["type"], "MARKET");
  EXPECT_EQ(d.params["symbol"], "ETHUSDT");
  EXPECT_EQ(d.params["quantity"], "1.5000");
  EXPECT_EQ(d.params.count("price"), 0u);
  EXPECT_EQ(d.params.count("timeInForce"), 0u);
  EXPECT_EQ(d.signature, openssl_hmac_hex(kSecret, d.payload));
}

TEST(ApiEncoder, BadRequestsAreRefused) {
  ApiEncoder e = make_encoder(RequestSigner::hmac_sha256(kSecret));
  char buf[2048];
  OrderRequest r = limit_sell();
  EXPECT_EQ(e.encode_place(0, r, 1, buf, sizeof buf), 0u);
  EXPECT_EQ(e.last_status(), EncodeStatus::bad_request);
  r.qty = Qty(0);
  EXPECT_EQ(e.encode_place(1, r, 1, buf, sizeof buf), 0u);
  r = limit_sell();
  r.price = Price(0);
  EXPECT_EQ(e.encode_place(1, r, 1, buf, sizeof buf), 0u);
  r = limit_sell();
  r.type = OrderType::market;
  r.post_only = true;
  EXPECT_EQ(e.encode_place(1, r, 1, buf, sizeof buf), 0u);
  EXPECT_EQ(e.last_status(), EncodeStatus::bad_request);
  r = limit_sell();
  r.instrument = 2;
  EXPECT_EQ(e.encode_place(1, r, 1, buf, sizeof buf), 0u);
  EXPECT_EQ(e.last_status(), EncodeStatus::unknown_instrument);
  EXPECT_EQ(e.encode_cancel(1, 5, 1, buf, sizeof buf), 0u);
  EXPECT_EQ(e.encode_depth(0, 0, 1, buf, sizeof buf), 0u);
  EXPECT_EQ(e.stats().by_status[static_cast<std::size_t>(EncodeStatus::bad_request)], 5u);
  EXPECT_EQ(e.stats().by_status[static_cast<std::size_t>(EncodeStatus::unknown_instrument)], 2u);
}

TEST(ApiEncoder, CancelCancelAllStatusDepthSubscribeExactJson) {
  ApiEncoder e = make_encoder(RequestSigner::hmac_sha256(kSecret));
  const std::string k = kApiKey;

  std::string json = encode(e, [&](char* o, std::size_t c) { return e.encode_cancel(42, 0, 1645423376532, o, c); });
  std::string payload = "apiKey=" + k + "&origClientOrderId=hx42&recvWindow=100&symbol=BTCUSDT&timestamp=1645423376532";
  EXPECT_EQ(json, "{\"id\":\"c42\",\"method\":\"order.cancel\",\"params\":{\"apiKey\":\"" + k +
                      "\",\"origClientOrderId\":\"hx42\",\"recvWindow\":100,\"symbol\":\"BTCUSDT\",\"timestamp\":"
                      "1645423376532,\"signature\":\"" + openssl_hmac_hex(kSecret, payload) + "\"}}");
  EXPECT_EQ(decode(json).payload, payload);

  json = encode(e, [&](char* o, std::size_t c) { return e.encode_cancel_all(1, 3, 1645423376532, o, c); });
  payload = "apiKey=" + k + "&recvWindow=100&symbol=ETHUSDT&timestamp=1645423376532";
  EXPECT_EQ(json, "{\"id\":\"a3\",\"method\":\"openOrders.cancelAll\",\"params\":{\"apiKey\":\"" + k +
                      "\",\"recvWindow\":100,\"symbol\":\"ETHUSDT\",\"timestamp\":1645423376532,\"signature\":\"" +
                      openssl_hmac_hex(kSecret, payload) + "\"}}");
  EXPECT_EQ(decode(json).payload, payload);

  json = encode(e, [&](char* o, std::size_t c) { return e.encode_order_status(42, 0, 1645423376532, o, c); });
  payload = "apiKey=" + k + "&origClientOrderId=hx42&recvWindow=100&symbol=BTCUSDT&timestamp=1645423376532";
  EXPECT_EQ(json, "{\"id\":\"q42\",\"method\":\"order.status\",\"params\":{\"apiKey\":\"" + k +
                      "\",\"origClientOrderId\":\"hx42\",\"recvWindow\":100,\"symbol\":\"BTCUSDT\",\"timestamp\":"
                      "1645423376532,\"signature\":\"" + openssl_hmac_hex(kSecret, payload) + "\"}}");

  json = encode(e, [&](char* o, std::size_t c) { return e.encode_subscribe(1, 1645423376532, o, c); });
  payload = "apiKey=" + k + "&timestamp=1645423376532";
  EXPECT_EQ(json, "{\"id\":\"s1\",\"method\":\"userDataStream.subscribe.signature\",\"params\":{\"apiKey\":\"" + k +
                      "\",\"timestamp\":1645423376532,\"signature\":\"" + openssl_hmac_hex(kSecret, payload) + "\"}}");
  EXPECT_EQ(decode(json).payload, payload);

  json = encode(e, [&](char* o, std::size_t c) { return e.encode_depth(0, 1000, 12, o, c); });
  EXPECT_EQ(json, "{\"id\":\"d12\",\"method\":\"depth\",\"params\":{\"symbol\":\"BTCUSDT\",\"limit\":1000}}");
}

TEST(ApiEncoder, Ed25519SignedRequestsVerify) {
  ApiEncoder e = make_encoder(RequestSigner::ed25519_pem(kEd25519Pem));
  const std::string json =
      encode(e, [&](char* o, std::size_t c) { return e.encode_place(42, limit_sell(), 1645423376532, o, c); });
  const Decoded d = decode(json);
  EXPECT_EQ(d.signature.size(), 88u);
  EXPECT_TRUE(ed25519_verify(kEd25519Pem, d.payload, d.signature));
  EXPECT_FALSE(ed25519_verify(kEd25519Pem, d.payload + "x", d.signature));
  const Decoded c = decode(encode(e, [&](char* o, std::size_t n) { return e.encode_cancel(42, 0, 1, o, n); }));
  EXPECT_TRUE(ed25519_verify(kEd25519Pem, c.payload, c.signature));
}

// session.logon is signed with the Ed25519 key (apiKey, recvWindow, timestamp); once logged on, the trading
// requests carry neither apiKey nor signature, and are otherwise the same request; an HMAC key cannot log on.
TEST(ApiEncoder, SessionLogonAndUnsignedRequestsOnceLoggedOn) {
  ApiEncoder e = make_encoder(RequestSigner::ed25519_pem(kEd25519Pem));
  const Decoded l = decode(encode(e, [&](char* o, std::size_t c) { return e.encode_logon(7, 1649729878532, o, c); }));
  EXPECT_EQ(l.id, "l7");
  EXPECT_EQ(l.method, "session.logon");
  EXPECT_EQ(l.payload, std::string("apiKey=") + kApiKey + "&recvWindow=100&timestamp=1649729878532");
  EXPECT_TRUE(ed25519_verify(kEd25519Pem, l.payload, l.signature));

  const Decoded signed_place =
      decode(encode(e, [&](char* o, std::size_t c) { return e.encode_place(42, limit_sell(), 1645423376532, o, c); }));
  EXPECT_FALSE(e.logged_on());
  e.set_logged_on(true);
  const std::string json =
      encode(e, [&](char* o, std::size_t c) { return e.encode_place(42, limit_sell(), 1645423376532, o, c); });
  EXPECT_EQ(json,
            "{\"id\":\"p42\",\"method\":\"order.place\",\"params\":{\"newClientOrderId\":\"hx42\","
            "\"newOrderRespType\":\"ACK\",\"price\":\"52000.00\",\"quantity\":\"0.01000000\",\"recvWindow\":100,"
            "\"side\":\"SELL\",\"symbol\":\"BTCUSDT\",\"timeInForce\":\"GTC\",\"timestamp\":1645423376532,"
            "\"type\":\"LIMIT\"}}");
  Decoded unsigned_place = decode(json);
  EXPECT_TRUE(unsigned_place.signature.empty());
  std::map<std::string, std::string> expected = signed_place.params;
  expected.erase("apiKey");
  expected.erase("signature");
  EXPECT_EQ(unsigned_place.params, expected);
  for (const std::string& r : {encode(e, [&](char* o, std::size_t c) { return e.encode_cancel(42, 0, 1, o, c); }),
                               encode(e, [&](char* o, std::size_t c) { return e.encode_order_status(42, 0, 1, o, c); }),
                               encode(e, [&](char* o, std::size_t c) { return e.encode_cancel_all(0, 3, 1, o, c); })}) {
    const Decoded d = decode(r);
    EXPECT_EQ(d.params.count("apiKey") + d.params.count("signature"), 0u) << r;
    EXPECT_EQ(d.params.count("timestamp") + d.params.count("recvWindow"), 2u) << r;
  }
  // The subscription and the logon itself stay signed.
  const Decoded sub = decode(encode(e, [&](char* o, std::size_t c) { return e.encode_subscribe(1, 1, o, c); }));
  EXPECT_TRUE(ed25519_verify(kEd25519Pem, sub.payload, sub.signature));
  EXPECT_FALSE(decode(encode(e, [&](char* o, std::size_t c) { return e.encode_logon(8, 1, o, c); })).signature.empty());
  e.set_logged_on(false);
  EXPECT_EQ(decode(encode(e, [&](char* o, std::size_t c) { return e.encode_cancel(42, 0, 1, o, c); })).params.count("signature"), 1u);

  ApiEncoder h = make_encoder(RequestSigner::hmac_sha256(kSecret));
  char buf[1024];
  EXPECT_EQ(h.encode_logon(1, 1, buf, sizeof buf), 0u);
  EXPECT_EQ(h.last_status(), EncodeStatus::bad_request);
  // Too small at every length, logged on as well.
  e.set_logged_on(true);
  for (std::size_t cap = 0; cap < json.size(); ++cap) {
    std::vector<char> small(cap + 1, '#');
    EXPECT_EQ(e.encode_place(42, limit_sell(), 1645423376532, small.data(), cap), 0u) << cap;
    EXPECT_EQ(small[cap], '#') << cap;
  }
}

TEST(ApiEncoder, BufferTooSmallReturnsZeroAtEveryLength) {
  ApiEncoder e = make_encoder(RequestSigner::hmac_sha256(kSecret));
  const std::string full =
      encode(e, [&](char* o, std::size_t c) { return e.encode_place(42, limit_sell(), 1645423376532, o, c); });
  for (std::size_t cap = 0; cap < full.size(); ++cap) {
    std::vector<char> buf(cap + 1, '#');  // one guard byte past the capacity
    EXPECT_EQ(e.encode_place(42, limit_sell(), 1645423376532, buf.data(), cap), 0u) << cap;
    EXPECT_EQ(e.last_status(), EncodeStatus::too_small);
    EXPECT_EQ(buf[cap], '#') << "wrote past the capacity " << cap;
  }
  std::vector<char> exact(full.size());
  EXPECT_EQ(e.encode_place(42, limit_sell(), 1645423376532, exact.data(), exact.size()), full.size());
  EXPECT_EQ(std::string(exact.begin(), exact.end()), full);
  char small[16];
  EXPECT_EQ(e.encode_depth(0, 1000, 1, small, sizeof small), 0u);
  EXPECT_EQ(e.encode_subscribe(1, 1, small, sizeof small), 0u);
  EXPECT_EQ(e.encode_cancel_all(0, 1, 1, small, sizeof small), 0u);
  EXPECT_EQ(e.encode_cancel(1, 0, 1, small, sizeof small), 0u);
}

TEST(ApiEncoder, DecimalsMatchFormatFixedForEveryScale) {
  // The encoder's fast formatter against format_fixed (the reference) on many values and scales.
  for (const char* step : {"0.01", "0.00000001", "1", "0.1", "0.5", "25", "0.000000000000000001"}) {
    ApiEncoderConfig c;
    c.api_key = kApiKey;
    c.instruments = {ApiInstrument{"XYZ", Scale::from_step(step), Scale::from_step(step)}};
    ApiEncoder e(std::move(c), RequestSigner::hmac_sha256(kSecret));
    std::uint64_t x = 0x9e3779b97f4a7c15ull;
    for (int i = 0; i < 300; ++i) {
      x ^= x << 13;
      x ^= x >> 7;
      x ^= x << 17;
      const int digits = 1 + i % 18;
      std::int64_t v = static_cast<std::int64_t>(x % static_cast<std::uint64_t>(hftx::detail::kPow10[digits]));
      if (v == 0) v = 1;
      OrderRequest r;
      r.price = Price(v);
      r.qty = Qty(v);
      const Decoded d = decode(encode(e, [&](char* o, std::size_t n) { return e.encode_place(1, r, 1, o, n); }));
      EXPECT_EQ(d.params.at("price"), hftx::format_fixed(v, Scale::from_step(step))) << step << " " << v;
      EXPECT_EQ(d.params.at("quantity"), hftx::format_fixed(v, Scale::from_step(step)));
    }
  }
}

TEST(ApiEncoder, ConfigErrorsNameTheKey) {
  auto expect_error = [](ApiEncoderConfig c, const char* key) {
    try {
      ApiEncoder e(std::move(c), RequestSigner::hmac_sha256(kSecret));
      ADD_FAILURE() << "no ConfigError for " << key;
    } catch (const hftx::ConfigError& err) {
      EXPECT_NE(std::string(err.what()).find(key), std::string::npos) << err.what();
    }
  };
  ApiEncoderConfig good;
  good.api_key = kApiKey;
  good.instruments = instruments();
  ApiEncoderConfig c = good;
  c.client_id_prefix = "h x";
  expect_error(c, "client_id_prefix");
  c = good;
  c.client_id_prefix = "abcdefghijklmnopq";  // 17 chars: prefix + 20 digits > 36
  expect_error(c, "client_id_prefix");
  c = good;
  c.recv_window_ms = 60001;
  expect_error(c, "recv_window_ms");
  c = good;
  c.instruments[1].symbol = "ETH\"USDT";
  expect_error(c, "instruments[1].symbol");
  c = good;
  c.api_key = "";
  expect_error(c, "api_key");
}

// ------------------------------------------------------------------------------------------- parsing

struct Parsed {
  std::string buf;  // the message: error_msg points into it
  ApiParseResult r;
  ApiMessage m;
  std::vector<OrderUpdate> u;
};

class ApiParserTest : public ::testing::Test {
 protected:
  ApiParser parser{instruments(), "hx", 1u << 16};

  Parsed parse(const std::string& text, std::int64_t recv_ns = 77) {
    Parsed p;
    p.buf = text;
    p.buf.resize(text.size() + hftx::md::kJsonPadding, '\0');
    auto sink = [&](const OrderUpdate& u) noexcept { p.u.push_back(u); };
    p.r = parser.parse(std::string_view(p.buf.data(), text.size()), p.buf.size(), recv_ns, p.m, UpdateSink(sink));
    EXPECT_EQ(p.m.updates, p.u.size());
    return p;
  }
};

constexpr const char* kExecNew =
    R"({"subscriptionId":0,"event":{"e":"executionReport","E":1499405658658,"s":"BTCUSDT","c":"hx42","S":"BUY","o":"LIMIT","f":"GTC","q":"0.01000000","p":"60000.01","P":"0.00000000","F":"0.00000000","g":-1,"C":"","x":"NEW","X":"NEW","r":"NONE","i":4293153,"l":"0.00000000","z":"0.00000000","L":"0.00000000","n":"0","N":null,"T":1499405658657,"t":-1,"I":8641984,"w":true,"m":false,"M":false,"O":1499405658657,"Z":"0.00000000","Y":"0.00000000","Q":"0.00000000","W":1499405658657,"V":"NONE"}})";
constexpr const char* kExecTrade =
    R"({"subscriptionId":0,"event":{"e":"executionReport","E":1499405658700,"s":"BTCUSDT","c":"hx42","S":"BUY","o":"LIMIT","f":"GTC","q":"0.01000000","p":"60000.01","C":"","x":"TRADE","X":"PARTIALLY_FILLED","r":"NONE","i":4293153,"l":"0.00400000","z":"0.00400000","L":"60000.00","n":"0","N":null,"T":1499405658699,"t":12345,"m":true,"w":false,"O":1499405658657,"Z":"240.00000000","Y":"240.00000000","Q":"0"}})";

TEST_F(ApiParserTest, PlaceAckAndReject) {
  Parsed p = parse(R"({"id":"p42","status":200,"result":{"symbol":"ETHUSDT","orderId":123,"orderListId":-1,"clientOrderId":"hx42","transactTime":1700000000123},"rateLimits":[{"rateLimitType":"ORDERS","interval":"SECOND","intervalNum":10,"limit":50,"count":1}]})");
  ASSERT_TRUE(p.r.ok()) << p.r.describe();
  EXPECT_EQ(p.m.kind, ApiKind::place);
  EXPECT_EQ(p.m.status, 200);
  EXPECT_EQ(p.m.request, 42u);
  ASSERT_EQ(p.u.size(), 1u);
  EXPECT_EQ(p.u[0].kind, UpdateKind::ack);
  EXPECT_EQ(p.u[0].client_id, 42u);
  EXPECT_EQ(p.u[0].venue_order_id, 123u);
  EXPECT_EQ(p.u[0].instrument, 1);
  EXPECT_EQ(p.u[0].venue_time_ns, 1700000000123'000'000);
  EXPECT_EQ(p.u[0].recv_ns, 77);

  p = parse(R"({"id":"p43","status":400,"error":{"code":-2010,"msg":"Account has insufficient balance for requested action."}})");
  ASSERT_TRUE(p.r.ok()) << p.r.describe();
  EXPECT_EQ(p.m.kind, ApiKind::place);
  EXPECT_TRUE(p.m.is_error());
  EXPECT_EQ(p.m.error_code, -2010);
  EXPECT_EQ(p.m.error_msg, "Account has insufficient balance for requested action.");
  ASSERT_EQ(p.u.size(), 1u);
  EXPECT_EQ(p.u[0].kind, UpdateKind::rejected);
  EXPECT_EQ(p.u[0].client_id, 43u);
  EXPECT_EQ(p.u[0].error_code, -2010);

  // Every error code of §1.
  for (const char* err : {R"({"code":-1121,"msg":"Invalid symbol."})", R"({"code":-1013,"msg":"Filter failure: LOT_SIZE"})",
                          R"({"code":-1022,"msg":"Signature for this request is not valid."})",
                          R"({"code":-1102,"msg":"Mandatory parameter 'price' was not sent, was empty/null, or malformed."})",
                          R"({"code":-1100,"msg":"Illegal characters found in parameter 'side'"})",
                          R"({"code":-1000,"msg":"An unknown error occurred while processing the request."})"}) {
    p = parse(std::string(R"({"id":"p44","status":400,"error":)") + err + "}");
    ASSERT_TRUE(p.r.ok()) << p.r.describe() << err;
    ASSERT_EQ(p.u.size(), 1u);
    EXPECT_EQ(p.u[0].kind, UpdateKind::rejected);
    EXPECT_LT(p.u[0].error_code, -999);
  }
}

TEST_F(ApiParserTest, CancelResponseAndCancelReject) {
  Parsed p = parse(R"({"id":"c42","status":200,"result":{"symbol":"BTCUSDT","origClientOrderId":"hx42","orderId":123,"orderListId":-1,"clientOrderId":"x9T3kq","transactTime":1700000000999,"price":"60000.01","origQty":"0.01000000","executedQty":"0.00400000","cummulativeQuoteQty":"240.00000000","status":"CANCELED","timeInForce":"GTC","type":"LIMIT","side":"SELL","selfTradePreventionMode":"NONE"}})");
  ASSERT_TRUE(p.r.ok()) << p.r.describe();
  EXPECT_EQ(p.m.kind, ApiKind::cancel);
  ASSERT_EQ(p.u.size(), 1u);
  EXPECT_EQ(p.u[0].kind, UpdateKind::cancelled);
  EXPECT_EQ(p.u[0].client_id, 42u);
  EXPECT_EQ(p.u[0].venue_order_id, 123u);
  EXPECT_EQ(p.u[0].side, Side::ask);
  EXPECT_EQ(p.u[0].cum_qty, Qty(400'000));
  EXPECT_EQ(p.u[0].instrument, 0);

  p = parse(R"({"id":"c42","status":400,"error":{"code":-2011,"msg":"Unknown order sent."}})");
  ASSERT_TRUE(p.r.ok());
  ASSERT_EQ(p.u.size(), 1u);
  EXPECT_EQ(p.u[0].kind, UpdateKind::cancel_rejected);
  EXPECT_EQ(p.u[0].client_id, 42u);
  EXPECT_EQ(p.u[0].error_code, -2011);
  EXPECT_EQ(p.m.error_msg, "Unknown order sent.");
}

constexpr const char* kCancelAll =
    R"({"id":"a7","status":200,"result":[{"symbol":"BTCUSDT","origClientOrderId":"hx5","orderId":11,"orderListId":-1,"clientOrderId":"r1","price":"60000.00","origQty":"0.01000000","executedQty":"0.00000000","status":"CANCELED","timeInForce":"GTC","type":"LIMIT","side":"BUY"},{"symbol":"BTCUSDT","origClientOrderId":"web_abc","orderId":12,"orderListId":-1,"clientOrderId":"r2","price":"60001.00","origQty":"0.01000000","executedQty":"0.00100000","status":"CANCELED","timeInForce":"GTC","type":"LIMIT","side":"SELL"},{"symbol":"BTCUSDT","origClientOrderId":"hx6","orderId":13,"orderListId":-1,"clientOrderId":"r3","price":"60002.00","origQty":"0.01000000","executedQty":"0.00000000","status":"CANCELED","timeInForce":"GTC","type":"LIMIT","side":"SELL"}]})";

TEST_F(ApiParserTest, CancelAllDeliversEveryOrder) {
  Parsed p = parse(kCancelAll);
  ASSERT_TRUE(p.r.ok()) << p.r.describe();
  EXPECT_EQ(p.m.kind, ApiKind::cancel_all);
  EXPECT_EQ(p.m.request, 7u);
  ASSERT_EQ(p.u.size(), 3u);
  EXPECT_EQ(p.u[0].client_id, 5u);
  EXPECT_EQ(p.u[0].side, Side::bid);
  EXPECT_EQ(p.u[1].client_id, 0u);  // not ours
  EXPECT_EQ(p.u[1].cum_qty, Qty(100'000));
  EXPECT_EQ(p.u[2].client_id, 6u);
  for (const auto& u : p.u) EXPECT_EQ(u.kind, UpdateKind::cancelled);
  EXPECT_EQ(parser.stats().foreign_orders, 1u);
  EXPECT_EQ(parser.stats().updates, 3u);

  // The span form: too small a span writes what fits and says so.
  std::string buf = kCancelAll;
  buf.resize(buf.size() + 64, '\0');
  OrderUpdate two[2];
  ApiMessage m;
  const ApiParseResult r = parser.parse(std::string_view(buf.data(), std::strlen(kCancelAll)), buf.size(), 1, m, std::span(two));
  EXPECT_EQ(r.status, ApiStatus::too_many_updates);
  EXPECT_EQ(m.updates, 2u);
  EXPECT_EQ(two[1].client_id, 0u);
  OrderUpdate three[3];
  EXPECT_TRUE(parser.parse(std::string_view(buf.data(), std::strlen(kCancelAll)), buf.size(), 1, m, std::span(three)).ok());
  EXPECT_EQ(three[2].client_id, 6u);

  // An error (no open orders) and an empty list: no update.
  p = parse(R"({"id":"a8","status":400,"error":{"code":-2011,"msg":"Unknown order sent."}})");
  ASSERT_TRUE(p.r.ok());
  EXPECT_EQ(p.m.kind, ApiKind::cancel_all);
  EXPECT_EQ(p.u.size(), 0u);
  EXPECT_EQ(p.m.error_code, -2011);
  p = parse(R"({"id":"a9","status":200,"result":[]})");
  ASSERT_TRUE(p.r.ok());
  EXPECT_EQ(p.u.size(), 0u);

  // A malformed element anywhere fails the whole message before any update is delivered.
  std::string bad = kCancelAll;
  bad.replace(bad.rfind("\"side\":\"SELL\""), 13, "\"side\":\"SIDE\"");
  p = parse(bad);
  EXPECT_EQ(p.r.status, ApiStatus::wrong_type);
  EXPECT_EQ(p.u.size(), 0u);
}

TEST_F(ApiParserTest, DepthSubscribeStatusAndOtherResponses) {
  const std::string depth =
      R"({"id":"d3","status":200,"result":{"lastUpdateId":1027024,"bids":[["4.00000000","431.00000000"]],"asks":[["4.00000200","12.00000000"]]},"rateLimits":[]})";
  Parsed p = parse(depth);
  ASSERT_TRUE(p.r.ok()) << p.r.describe();
  EXPECT_EQ(p.m.kind, ApiKind::depth);
  EXPECT_EQ(p.m.request, 3u);
  EXPECT_TRUE(p.u.empty());
  // The session hands the same text to the market-data parser.
  hftx::venue::binance::MdParser md(Scale::from_step("0.00000001"), Scale::from_step("0.00000001"));
  hftx::md::MdMessage msg;
  std::vector<hftx::md::Level> levels(16);
  ASSERT_TRUE(md.parse_unpadded(depth, 0, msg, levels).ok());
  EXPECT_EQ(msg.kind, hftx::md::MdKind::depth_snapshot);
  EXPECT_EQ(msg.snapshot.last_update_id, 1027024u);

  p = parse(R"({"id":"d4","status":400,"error":{"code":-1121,"msg":"Invalid symbol."}})");
  ASSERT_TRUE(p.r.ok());
  EXPECT_EQ(p.m.kind, ApiKind::depth);
  EXPECT_EQ(p.m.error_code, -1121);

  p = parse(R"({"id":"s1","status":200,"result":{"subscriptionId":0}})");
  ASSERT_TRUE(p.r.ok()) << p.r.describe();
  EXPECT_EQ(p.m.kind, ApiKind::subscribe);
  EXPECT_EQ(p.m.subscription_id, 0);

  // session.logon: Binance's documented answer, and a refusal.
  p = parse(R"({"id":"l3","status":200,"result":{"apiKey":"vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A","authorizedSince":1649729878532,"connectedSince":1649729873021,"returnRateLimits":false,"serverTime":1649729878630,"userDataStream":false}})");
  ASSERT_TRUE(p.r.ok()) << p.r.describe();
  EXPECT_EQ(p.m.kind, ApiKind::logon);
  EXPECT_FALSE(p.m.is_error());
  p = parse(R"({"id":"l4","status":400,"error":{"code":-1022,"msg":"Signature for this request is not valid."}})");
  ASSERT_TRUE(p.r.ok()) << p.r.describe();
  EXPECT_EQ(p.m.kind, ApiKind::logon);
  EXPECT_EQ(p.m.error_code, -1022);

  p = parse(R"({"id":"q42","status":200,"result":{"symbol":"BTCUSDT","orderId":123,"orderListId":-1,"clientOrderId":"hx42","price":"60000.01","origQty":"0.01000000","executedQty":"0.00400000","cummulativeQuoteQty":"240.00","status":"PARTIALLY_FILLED","timeInForce":"GTC","type":"LIMIT","side":"SELL","time":1,"updateTime":2,"isWorking":true}})");
  ASSERT_TRUE(p.r.ok()) << p.r.describe();
  EXPECT_EQ(p.m.kind, ApiKind::order_status);
  EXPECT_EQ(p.m.order.client_id, 42u);
  EXPECT_EQ(p.m.order.state, OrderState::partially_filled);
  EXPECT_EQ(p.m.order.side, Side::ask);
  EXPECT_EQ(p.m.order.price, Price(6'000'001));
  EXPECT_EQ(p.m.order.orig_qty, Qty(1'000'000));
  EXPECT_EQ(p.m.order.executed_qty, Qty(400'000));
  EXPECT_EQ(p.m.order.cum_quote_e8, 24'000'000'000);

  // -2013: the venue never had the order (the request that placed it was lost with its connection).
  p = parse(R"({"id":"q43","status":400,"error":{"code":-2013,"msg":"Order does not exist."}})");
  ASSERT_TRUE(p.r.ok()) << p.r.describe();
  EXPECT_EQ(p.m.kind, ApiKind::order_status);
  EXPECT_EQ(p.m.request, 43u);
  EXPECT_EQ(p.m.error_code, -2013);
  EXPECT_EQ(p.m.order.client_id, 0u);

  p = parse(R"({"id":"q5","status":200,"result":{}})");
  ASSERT_TRUE(p.r.ok()) << p.r.describe();
  EXPECT_EQ(p.m.kind, ApiKind::other_response);
  p = parse(R"({"id":"3f2a-uuid","status":200,"result":{"serverTime":1}})");
  ASSERT_TRUE(p.r.ok());
  EXPECT_EQ(p.m.kind, ApiKind::other_response);
  EXPECT_EQ(p.m.request, 0u);
  p = parse(R"({"id":null,"status":401,"error":{"code":-2015,"msg":"Invalid API-key, IP, or permissions for action."}})");
  ASSERT_TRUE(p.r.ok());
  EXPECT_EQ(p.m.kind, ApiKind::other_response);
  EXPECT_EQ(p.m.error_code, -2015);
  // "result" before "id": the order is read in a second pass.
  p = parse(R"({"result":{"symbol":"BTCUSDT","orderId":9,"clientOrderId":"hx9","transactTime":5},"status":200,"id":"p9"})");
  ASSERT_TRUE(p.r.ok()) << p.r.describe();
  ASSERT_EQ(p.u.size(), 1u);
  EXPECT_EQ(p.u[0].kind, UpdateKind::ack);
  EXPECT_EQ(p.u[0].venue_order_id, 9u);
  p = parse(R"({"status":200,"result":[{"symbol":"BTCUSDT","origClientOrderId":"hx1","orderId":1}],"id":"a1"})");
  ASSERT_TRUE(p.r.ok()) << p.r.describe();
  ASSERT_EQ(p.u.size(), 1u);
  EXPECT_EQ(p.u[0].client_id, 1u);
}

TEST_F(ApiParserTest, ExecutionReports) {
  Parsed p = parse(kExecNew);
  ASSERT_TRUE(p.r.ok()) << p.r.describe();
  EXPECT_EQ(p.m.kind, ApiKind::execution_report);
  EXPECT_EQ(p.m.subscription_id, 0);
  EXPECT_EQ(p.m.venue_time_ns, 1499405658658'000'000);
  ASSERT_EQ(p.u.size(), 1u);
  EXPECT_EQ(p.u[0].kind, UpdateKind::ack);
  EXPECT_EQ(p.u[0].client_id, 42u);
  EXPECT_EQ(p.u[0].venue_order_id, 4293153u);
  EXPECT_EQ(p.u[0].side, Side::bid);
  EXPECT_EQ(p.u[0].venue_time_ns, 1499405658657'000'000);

  p = parse(kExecTrade);
  ASSERT_TRUE(p.r.ok()) << p.r.describe();
  ASSERT_EQ(p.u.size(), 1u);
  const OrderUpdate& f = p.u[0];
  EXPECT_EQ(f.kind, UpdateKind::fill);
  EXPECT_EQ(f.last_price, Price(6'000'000));
  EXPECT_EQ(f.last_qty, Qty(400'000));
  EXPECT_EQ(f.cum_qty, Qty(400'000));
  EXPECT_EQ(f.trade_id, 12345u);
  EXPECT_TRUE(f.maker);

  // A cancel's report: c is the cancel request's own id, C the order's.
  p = parse(R"({"subscriptionId":0,"event":{"e":"executionReport","E":1,"s":"BTCUSDT","c":"cxl_7Hq","C":"hx42","S":"SELL","o":"LIMIT","f":"GTC","q":"0.01000000","p":"60000.01","x":"CANCELED","X":"CANCELED","r":"NONE","i":5,"l":"0.00000000","z":"0.00100000","L":"0.00000000","T":2,"t":-1,"m":false}})");
  ASSERT_TRUE(p.r.ok()) << p.r.describe();
  ASSERT_EQ(p.u.size(), 1u);
  EXPECT_EQ(p.u[0].kind, UpdateKind::cancelled);
  EXPECT_EQ(p.u[0].client_id, 42u);
  EXPECT_EQ(p.u[0].side, Side::ask);
  EXPECT_EQ(p.u[0].cum_qty, Qty(100'000));

  // CANCELED with an empty C (an expired-by-cancel of our own id): c is used.
  p = parse(R"({"e":"executionReport","E":1,"s":"BTCUSDT","c":"hx8","C":"","S":"BUY","x":"CANCELED","X":"CANCELED","r":"NONE","i":5,"l":"0","z":"0.00000000","L":"0","T":2,"t":-1,"m":false})");
  ASSERT_TRUE(p.r.ok()) << p.r.describe();  // the raw form, without the subscription wrapper
  ASSERT_EQ(p.u.size(), 1u);
  EXPECT_EQ(p.u[0].client_id, 8u);
  EXPECT_EQ(p.m.subscription_id, -1);

  const std::pair<const char*, UpdateKind> kinds[] = {{"REJECTED", UpdateKind::rejected},
                                                      {"EXPIRED", UpdateKind::expired},
                                                      {"TRADE_PREVENTION", UpdateKind::expired}};
  for (const auto& [x, kind] : kinds) {
    p = parse(std::string(R"({"subscriptionId":3,"event":{"e":"executionReport","E":1,"s":"ETHUSDT","c":"hx9","C":"","S":"BUY","x":")") + x +
              R"(","X":"EXPIRED","r":"NONE","i":5,"l":"0.0000","z":"0.0000","L":"0.00","T":2,"t":-1,"m":false}})");
    ASSERT_TRUE(p.r.ok()) << x << " " << p.r.describe();
    ASSERT_EQ(p.u.size(), 1u);
    EXPECT_EQ(p.u[0].kind, kind) << x;
    EXPECT_EQ(p.u[0].instrument, 1);
    EXPECT_EQ(p.m.subscription_id, 3);
  }

  // Not ours: client_id 0.
  p = parse(R"({"e":"executionReport","E":1,"s":"BTCUSDT","c":"web_xyz","C":"","S":"BUY","x":"NEW","X":"NEW","r":"NONE","i":5,"l":"0","z":"0","L":"0","T":2,"t":-1,"m":false})");
  ASSERT_TRUE(p.r.ok());
  EXPECT_EQ(p.u[0].client_id, 0u);
  for (const char* cid : {"hx", "hx0x1", "hx-1", "hx99999999999999999999", "HX5", "h", ""}) {
    EXPECT_EQ(parser.client_id_of(cid), 0u) << cid;
  }
  EXPECT_EQ(parser.client_id_of("hx18446744073709551615"), 18446744073709551615ull);

  // Other user-data events are recognised and ignored.
  p = parse(R"({"subscriptionId":0,"event":{"e":"outboundAccountPosition","E":1564034571105,"u":1564034571073,"B":[{"a":"ETH","f":"10000.000000","l":"0.000000"}]}})");
  ASSERT_TRUE(p.r.ok()) << p.r.describe();
  EXPECT_EQ(p.m.kind, ApiKind::other_event);
  EXPECT_TRUE(p.u.empty());
}

TEST_F(ApiParserTest, BadMessagesAreCountedNotApplied) {
  struct Case {
    const char* json;
    ApiStatus status;
  };
  const Case cases[] = {
      {"", ApiStatus::json_error},
      {"[1,2]", ApiStatus::not_object},
      {"\"text\"", ApiStatus::not_object},
      {R"({"foo":1})", ApiStatus::unknown_message},
      {R"({"id":"p1","status":200,"result":{"symbol":"BTCUSDT","orderId":1}} x)", ApiStatus::json_error},
      {R"({"id":"p1","status":200,"result":{"symbol":"BTCUSDT","orderId":1}} {"id":"p2"})", ApiStatus::trailing_content},
      {R"({"id":"p1","result":{"symbol":"BTCUSDT","orderId":1}})", ApiStatus::missing_field},
      {R"({"id":"p1","status":400})", ApiStatus::missing_field},
      {R"({"id":"p1","status":200})", ApiStatus::missing_field},
      {R"({"id":"p1","status":"200","result":{}})", ApiStatus::wrong_type},
      {R"({"id":7,"status":200,"result":{}})", ApiStatus::wrong_type},
      {R"({"id":"p1","status":200,"result":{"symbol":"DOGEUSDT","orderId":1}})", ApiStatus::unknown_symbol},
      {R"({"id":"p1","status":200,"result":[1]})", ApiStatus::not_object},
      {R"({"id":"a1","status":200,"result":{"x":1}})", ApiStatus::wrong_type},
      {R"({"id":"a1","status":200,"result":[1]})", ApiStatus::not_object},
      {R"({"id":"c1","status":200,"result":{"symbol":"BTCUSDT","orderId":1,"executedQty":"0.000000001","origClientOrderId":"hx1"}})", ApiStatus::bad_number},
      {R"({"id":"p1","status":400,"error":{"msg":"x"}})", ApiStatus::missing_field},
      {R"({"id":"p1","status":400,"error":"oops"})", ApiStatus::not_object},
      {R"({"e":"executionReport","s":"BTCUSDT","c":"hx1","S":"BUY","x":"NEW","i":1})", ApiStatus::missing_field},
      {R"({"e":"executionReport","s":"BTCUSDT","c":"hx1","S":"BUY","x":"REPLACED","i":1,"z":"0"})", ApiStatus::unknown_message},
      {R"({"e":"executionReport","s":"XRPUSDT","c":"hx1","S":"BUY","x":"NEW","i":1,"z":"0"})", ApiStatus::unknown_symbol},
      {R"({"e":"executionReport","s":"BTCUSDT","c":"hx1","S":"LONG","x":"NEW","i":1,"z":"0"})", ApiStatus::wrong_type},
      {R"({"e":"executionReport","s":"BTCUSDT","c":"hx1","S":"BUY","x":"TRADE","i":1,"z":"0.1","l":"0.1","L":"60000.001","t":1,"m":true})", ApiStatus::bad_number},
      {R"({"e":"executionReport","s":"BTCUSDT","c":"hx1","S":"BUY","x":"TRADE","i":1,"z":"0.1","l":"0.1","L":"60000.00","m":true})", ApiStatus::missing_field},
      {R"({"e":"executionReport","s":"BTCUSDT","c":"hx1","S":"BUY","x":"TRADE","i":-1,"z":"0.1"})", ApiStatus::wrong_type},
      {R"({"e":"executionReport","s":"BTCUSDT","c":"hx1","S":"BUY","x":"NEW","i":1,"z":"-1"})", ApiStatus::bad_number},
      {R"({"subscriptionId":0,"event":[1]})", ApiStatus::not_object},
      {R"({"subscriptionId":0,"event":{"e":"executionReport","m":"yes"}})", ApiStatus::wrong_type},
  };
  parser.reset_stats();
  std::uint64_t expected_errors = 0;
  for (const Case& c : cases) {
    const Parsed p = parse(c.json);
    EXPECT_EQ(p.r.status, c.status) << c.json << " → " << p.r.describe();
    EXPECT_TRUE(p.u.empty()) << c.json;
    EXPECT_FALSE(p.r.describe().empty());
    ++expected_errors;
  }
  EXPECT_EQ(parser.stats().errors(), expected_errors);
  EXPECT_EQ(parser.stats().messages, expected_errors);
  EXPECT_GE(parser.stats().by_status[static_cast<std::size_t>(ApiStatus::missing_field)], 5u);
}

TEST_F(ApiParserTest, EveryTruncationFailsCleanly) {
  // Each prefix of each shape (padded and unpadded paths) is an error, never a crash or an update. Under
  // AddressSanitizer the unpadded copies also prove nothing reads past the allowed padding.
  const std::string samples[] = {
      kExecNew, kExecTrade, kCancelAll,
      R"({"id":"p42","status":200,"result":{"symbol":"BTCUSDT","orderId":123,"orderListId":-1,"clientOrderId":"hx42","transactTime":1}})",
      R"({"id":"c42","status":400,"error":{"code":-2011,"msg":"Unknown order sent."}})"};
  for (const std::string& s : samples) {
    for (std::size_t n = 0; n < s.size(); ++n) {
      const std::string cut = s.substr(0, n);
      const Parsed p = parse(cut);
      EXPECT_FALSE(p.r.ok()) << cut;
      EXPECT_TRUE(p.u.empty()) << cut;
      std::vector<OrderUpdate> sink_buf;
      auto sink = [&](const OrderUpdate& u) noexcept { sink_buf.push_back(u); };
      ApiMessage m;
      std::unique_ptr<char[]> exact(new char[n + 1]);
      std::memcpy(exact.get(), cut.data(), n);
      EXPECT_FALSE(parser.parse_unpadded(std::string_view(exact.get(), n), 0, m, UpdateSink(sink)).ok());
      EXPECT_TRUE(sink_buf.empty());
    }
    EXPECT_TRUE(parse(s).r.ok()) << s;
  }
}

TEST_F(ApiParserTest, TooLargeAndParserConfig) {
  ApiParser small(instruments(), "hx", 64);
  ApiMessage m;
  std::vector<OrderUpdate> got;
  auto sink = [&](const OrderUpdate& u) noexcept { got.push_back(u); };
  EXPECT_EQ(small.parse_unpadded(kExecNew, 0, m, UpdateSink(sink)).status, ApiStatus::too_large);
  EXPECT_EQ(small.stats().by_status[static_cast<std::size_t>(ApiStatus::too_large)], 1u);
  EXPECT_THROW(ApiParser(instruments(), "bad prefix"), hftx::ConfigError);
  std::vector<ApiInstrument> dup = instruments();
  dup[1].symbol = "BTCUSDT";
  EXPECT_THROW(ApiParser(dup, "hx"), hftx::ConfigError);
  InstrumentId id = 9;
  EXPECT_TRUE(parser.instrument_of("ETHUSDT", id));
  EXPECT_EQ(id, 1);
  EXPECT_FALSE(parser.instrument_of("ETHUSD", id));
}

// ------------------------------------------------------------------------ the order.place ack scanner

// One text through a parser with the hand scanner and through one without it.
struct BothWays {
  ApiParser fast{instruments(), "hx", 1u << 16};
  ApiParser slow{instruments(), "hx", 1u << 16};
  BothWays() { slow.set_fast_path(false); }

  // True when both give the same status, field, message and updates; `scanned` says which path `fast` took.
  bool same(const std::string& text, bool* scanned = nullptr) {
    std::string buf = text;
    buf.resize(text.size() + hftx::md::kJsonPadding, '\0');
    const std::string_view json(buf.data(), text.size());
    ApiMessage ma, mb;
    std::vector<OrderUpdate> ua, ub;
    auto sa = [&](const OrderUpdate& u) noexcept { ua.push_back(u); };
    auto sb = [&](const OrderUpdate& u) noexcept { ub.push_back(u); };
    const std::uint64_t before = fast.stats().scanned;
    const ApiParseResult ra = fast.parse(json, buf.size(), 5, ma, UpdateSink(sa));
    const ApiParseResult rb = slow.parse(json, buf.size(), 5, mb, UpdateSink(sb));
    if (scanned != nullptr) *scanned = fast.stats().scanned != before;
    const auto same_field = [](const char* x, const char* y) {
      return (x == nullptr || y == nullptr) ? x == y : std::strcmp(x, y) == 0;
    };
    if (ra.status != rb.status || ra.detail != rb.detail || !same_field(ra.field, rb.field)) return false;
    if (!same_content(ma, mb) || ua.size() != ub.size()) return false;
    for (std::size_t i = 0; i < ua.size(); ++i)
      if (!same_content(ua[i], ub[i])) return false;
    return true;
  }
};

constexpr const char* kAck =
    R"({"id":"p42","status":200,"result":{"symbol":"ETHUSDT","orderId":123,"orderListId":-1,"clientOrderId":"hx42","transactTime":1700000000123},"rateLimits":[{"rateLimitType":"ORDERS","interval":"SECOND","intervalNum":10,"limit":50,"count":1},{"rateLimitType":"REQUEST_WEIGHT","interval":"MINUTE","intervalNum":1,"limit":6000,"count":12}]})";

TEST(BinanceApiParserFastPath, ReadsTheAcksAsSimdjsonDoes) {
  BothWays p;
  // Read by the scanner, with simdjson's result.
  for (const std::string& t : {std::string(kAck),
                              std::string(R"({"id":"p7","status":200,"result":{"orderId":9}})"),
                              std::string(R"({"id":"p007","status":200,"result":{"symbol":"BTCUSDT","orderId":0},"rateLimits":[]})"),
                              std::string(R"({"id":"p1","status":200,"result":{"transactTime":-5,"orderListId":-1},"rateLimits":[{}]})"),
                              std::string(R"({"id":"p18446744073709551615","status":200,"result":{"clientOrderId":"x"},"rateLimits":[{"a":true,"b":null,"c":false,"d":"e"}]})")}) {
    bool scanned = false;
    EXPECT_TRUE(p.same(t, &scanned)) << t;
    EXPECT_TRUE(scanned) << t;
  }
  // Left to simdjson (each one declined), with the same result as simdjson alone: errors included.
  for (const std::string& t : {
           std::string(R"({"id":"p42", "status":200,"result":{"orderId":1}})"),                  // whitespace
           std::string(R"({"id":"p42","status":400,"error":{"code":-2010,"msg":"x"}})"),        // a reject
           std::string(R"({"id":"c42","status":200,"result":{"orderId":1}})"),                  // a cancel
           std::string(R"({"id":"p0","status":200,"result":{"orderId":1}})"),                   // id 0
           std::string(R"({"id":"p42","status":200,"result":{}})"),                             // empty result
           std::string(R"({"id":"p42","status":200,"result":{"orderId":1,"orderId":2}})"),      // repeated key
           std::string(R"({"id":"p42","status":200,"result":{"symbol":"XRPUSDT"}})"),           // unknown symbol
           std::string(R"({"id":"p42","status":200,"result":{"orderId":-1}})"),                 // negative id
           std::string(R"({"id":"p42","status":200,"result":{"orderId":1.5}})"),                // float
           std::string("{\"id\":\"p42\",\"status\":200,\"result\":{\"symbol\":\"BTC\\u0055SDT\"}}"),  // escape
           std::string(R"({"id":"p42","status":200,"result":{"status":"NEW"}})"),               // RESULT type
           std::string(R"({"id":"p42","status":200,"result":{"orderId":1},"rateLimits":[{"a":[1]}]})"),
           std::string(R"({"id":"p42","status":200,"result":{"orderId":1},"rateLimits":[1]})"),
           std::string(R"({"id":"p42","status":200,"result":{"orderId":1},"x":1})"),
           std::string(R"({"id":"p42","status":200,"result":{"orderId":1}} )"),
           std::string(R"({"id":"p42","status":200,"result":{"orderId":1}}x)"),
           std::string(R"({"status":200,"id":"p42","result":{"orderId":1}})")}) {
    bool scanned = true;
    EXPECT_TRUE(p.same(t, &scanned)) << t;
    EXPECT_FALSE(scanned) << t;
  }
  // Every truncation, and random damage (a byte replaced by one of JSON's significant characters, or any
  // byte): whichever path reads it, the result is simdjson's.
  const std::string ack = kAck;
  for (std::size_t n = 0; n <= ack.size(); ++n) EXPECT_TRUE(p.same(ack.substr(0, n))) << n;
  std::uint64_t x = 0x9e3779b97f4a7c15ull;
  const std::string alphabet = "{}[]\":,-0123456789.eE \\tnul\x7f\x80";
  for (int i = 0; i < 20000; ++i) {
    std::string t = ack;
    for (int k = 0; k < 1 + i % 3; ++k) {
      x ^= x << 13, x ^= x >> 7, x ^= x << 17;
      const std::size_t at = static_cast<std::size_t>(x % t.size());
      t[at] = (x >> 32) % 4 == 0 ? static_cast<char>(x >> 40) : alphabet[static_cast<std::size_t>((x >> 40) % alphabet.size())];
    }
    ASSERT_TRUE(p.same(t)) << t;
  }
}

TEST(BinanceApiRoundTrip, EncoderIdsMapBackThroughTheParser) {
  // A request's id and newClientOrderId, answered the way §1 says, come back to the same ClientOrderId.
  ApiEncoder e = make_encoder(RequestSigner::hmac_sha256(kSecret));
  ApiParser p(instruments(), "hx");
  for (ClientOrderId id : {1ull, 42ull, 1234567890123ull, 18446744073709551615ull}) {
    const Decoded d = decode(encode(e, [&](char* o, std::size_t c) { return e.encode_place(id, limit_sell(), 1, o, c); }));
    const std::string resp = R"({"id":")" + d.id + R"(","status":200,"result":{"symbol":"BTCUSDT","orderId":1,"orderListId":-1,"clientOrderId":")" +
                             d.params.at("newClientOrderId") + R"(","transactTime":1}})";
    OrderUpdate u[1];
    ApiMessage m;
    ASSERT_TRUE(p.parse(resp, 0, 0, m, std::span(u)).ok());  // capacity 0: the copying path
    EXPECT_EQ(u[0].client_id, id);
    EXPECT_EQ(p.client_id_of(d.params.at("newClientOrderId")), id);
  }
}

}  // namespace

// Reconciled fills: their average price comes from the venue's cumulative quote amount.
TEST(BinanceApi, MissedFillPriceFromTheCumulativeQuote) {
  const Scale px = Scale::from_step("0.01"), qty = Scale::from_step("0.00000001");
  OrderStatusReport v;
  // 0.004 at 60000.01 = 240.00004, nothing of it known yet.
  v.cum_quote_e8 = 24'000'004'000;
  EXPECT_EQ(missed_fill_price(v, Qty(0), Price(6'000'001), Qty(400'000), px, qty), Price(6'000'001));
  // An order that crossed on arrival, all of it missed: 0.003 at 59990.00 and 0.002 at its limit 60000.00
  // = 299.97, an average of 59994.00, not the limit.
  v.cum_quote_e8 = 29'997'000'000;
  EXPECT_EQ(missed_fill_price(v, Qty(0), Price(6'000'000), Qty(500'000), px, qty), Price(5'999'400));
  // A resting order: 0.003 known at its price, 0.002 more missed at the same price.
  v.cum_quote_e8 = 30'000'000'000;
  EXPECT_EQ(missed_fill_price(v, Qty(300'000), Price(6'000'000), Qty(200'000), px, qty), Price(6'000'000));
  // The average of two prices is rounded to the nearest tick: 0.001 at 100.01 and 0.001 at 100.02.
  v.cum_quote_e8 = 20'003'000;  // 0.20003: 100.015 a unit
  EXPECT_EQ(missed_fill_price(v, Qty(0), Price(10'002), Qty(200'000), px, qty), Price(10'002));
  // Absent or inconsistent amounts, and nothing missed: the order's price.
  v.cum_quote_e8 = -1;
  EXPECT_EQ(missed_fill_price(v, Qty(0), Price(777), Qty(1), px, qty), Price(777));
  v.cum_quote_e8 = 1;
  EXPECT_EQ(missed_fill_price(v, Qty(300'000), Price(6'000'000), Qty(1), px, qty), Price(6'000'000));
  EXPECT_EQ(missed_fill_price(v, Qty(0), Price(777), Qty(0), px, qty), Price(777));
  // A price step with a multiplier (0.5) and a coarse quantity step: 0.002 at 25000.5 = 50.001.
  const Scale half = Scale::from_step("0.5"), lots = Scale::from_step("0.001");
  v.cum_quote_e8 = 5'000'100'000;
  EXPECT_EQ(missed_fill_price(v, Qty(0), Price(50'000), Qty(2), half, lots), Price(50'001));
}
