// OKX's order codec: the login signature against independently computed vectors, the exact text of every
// request, every answer / push / event shape of the private connection (test data written from OKX's v5
// documentation), errors and their neutral reasons, and bad input counted, never crashing. The hand scanner of
// the `order` ack is checked against simdjson on every shape and on every truncation and random damage.
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <cstdlib>
#include <cstring>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "hftx/core/error.hpp"
#include "hftx/md/events.hpp"
#include "hftx/venue/okx/order_codec.hpp"

namespace {

using hftx::ConfigError;
using hftx::FixedStatus;
using hftx::Price;
using hftx::Qty;
using hftx::Scale;
using namespace hftx::oms;
using namespace hftx::venue::okx;

// The example secret key of OKX's REST authentication docs (its WebSocket login example publishes the
// signature, 7L+zFQ+CEgGu5rzCj4+BdV2/uUHGqddA9pI6ztsRRPs=, but not the secret it was made with).
constexpr const char* kSecret = "22582BD0CFF14C41EDBF1AB98506286D";
constexpr const char* kApiKey = "985d5b66-57ce-40fb-b714-afc0b9787083";
constexpr const char* kPassphrase = "Pass phrase#1";
// printf '%s' '1538054050GET/users/self/verify' | openssl dgst -sha256 -hmac 22582BD0CFF14C41EDBF1AB98506286D
//   -binary | base64
constexpr const char* kLoginSign = "+LdIr8lkkvhr5hoA3g9TMC0+uQJ849ftAcocA/ouu4M=";

std::vector<ApiInstrument> instruments() {
  return {ApiInstrument{"BTC-USDT", Scale::from_step("0.1"), Scale::from_step("0.00000001")},
          ApiInstrument{"ETH-USDT", Scale::from_step("0.01"), Scale::from_step("0.000001")},
          ApiInstrument{"TST-USDT", Scale::from_step("0.5"), Scale::from_step("10")}};
}
std::vector<ApiInstrument> swap_instruments() {
  return {ApiInstrument{"BTC-USDT-SWAP", Scale::from_step("0.1"), Scale::from_step("0.01")}};
}

Credentials credentials() { return Credentials{kApiKey, kPassphrase, LoginSigner(kSecret)}; }

ApiEncoder make_encoder(Market market = Market::spot, std::string td_mode = "",
                        std::vector<ApiInstrument> ins = instruments(), std::string prefix = "hx") {
  ApiEncoderConfig c;
  c.client_id_prefix = std::move(prefix);
  c.market = market;
  c.td_mode = std::move(td_mode);
  c.instruments = std::move(ins);
  return ApiEncoder(std::move(c), credentials());
}

// One encode into a buffer of max_request_size(): its text, "" when refused.
std::string encode(ApiEncoder& e, const std::function<std::size_t(char*, std::size_t)>& f) {
  std::string out(e.max_request_size(), '\0');
  out.resize(f(out.data(), out.size()));
  return out;
}

std::string openssl_login_sign(std::string_view key, std::string_view msg) {
  unsigned char mac[32];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(msg.data()),
       msg.size(), mac, &len);
  unsigned char b64[64];
  const int n = EVP_EncodeBlock(b64, mac, static_cast<int>(len));
  return std::string(reinterpret_cast<const char*>(b64), static_cast<std::size_t>(n));
}

OrderRequest req(InstrumentId inst, Side side, OrderType type, TimeInForce tif, bool post_only, std::int64_t px,
                 std::int64_t qty) {
  OrderRequest r;
  r.instrument = inst;
  r.side = side;
  r.type = type;
  r.tif = tif;
  r.post_only = post_only;
  r.price = Price(px);
  r.qty = Qty(qty);
  return r;
}
OrderRequest limit_buy() {
  return req(0, Side::bid, OrderType::limit, TimeInForce::gtc, false, 600'001, 1'000'000);  // 60000.1, 0.01
}

// ------------------------------------------------------------------------------------------- signing

TEST(OkxLoginSigner, MatchesTheHandComputedVector) {
  const LoginSigner s(kSecret);
  char sig[LoginSigner::kSignatureSize];
  ASSERT_EQ(s.sign_login(1538054050, sig), LoginSigner::kSignatureSize);
  EXPECT_EQ(std::string(sig, sizeof sig), kLoginSign);
  ASSERT_EQ(s.sign("1538054050GET/users/self/verify", sig), LoginSigner::kSignatureSize);
  EXPECT_EQ(std::string(sig, sizeof sig), kLoginSign);
  // A 100-byte key (hashed first, RFC 2104): python3 hmac / openssl dgst give this.
  const LoginSigner long_key(std::string(100, 'K'));
  ASSERT_EQ(long_key.sign_login(1700000001, sig), LoginSigner::kSignatureSize);
  EXPECT_EQ(std::string(sig, sizeof sig), "2PVdIjNR+ZETky4oVg2rK38phBXjRz5xde6tBDVj9CA=");
  EXPECT_EQ(s.sign_login(0, sig), 0u);
  EXPECT_EQ(s.sign_login(-5, sig), 0u);
}

TEST(OkxLoginSigner, MatchesOpenSslForEveryLengthAndKey) {
  // Keys and messages across the block boundaries (55/56/64 bytes), against OpenSSL's HMAC() + EVP_EncodeBlock.
  for (const std::size_t key_len : {1u, 16u, 32u, 63u, 64u, 65u, 200u}) {
    std::string key(key_len, '\0');
    for (std::size_t i = 0; i < key_len; ++i) key[i] = static_cast<char>('!' + (i * 7) % 90);
    const LoginSigner s(key);
    for (std::size_t n = 0; n < 140; ++n) {
      std::string msg(n, '\0');
      for (std::size_t i = 0; i < n; ++i) msg[i] = static_cast<char>(i * 31 + n);
      char sig[LoginSigner::kSignatureSize];
      ASSERT_EQ(s.sign(msg, sig), LoginSigner::kSignatureSize);
      ASSERT_EQ(std::string(sig, sizeof sig), openssl_login_sign(key, msg)) << key_len << " " << n;
    }
  }
  EXPECT_THROW(LoginSigner(""), ConfigError);
  // Moved: still signs the same.
  LoginSigner a(kSecret);
  LoginSigner b(std::move(a));
  char sig[LoginSigner::kSignatureSize];
  ASSERT_EQ(b.sign_login(1538054050, sig), LoginSigner::kSignatureSize);
  EXPECT_EQ(std::string(sig, sizeof sig), kLoginSign);
}

struct EnvVar {
  std::string name;
  EnvVar(std::string n, const char* value) : name(std::move(n)) {
    if (value != nullptr) setenv(name.c_str(), value, 1);
    else unsetenv(name.c_str());
  }
  ~EnvVar() { unsetenv(name.c_str()); }
};

std::string config_error(const std::function<void()>& f) {
  try {
    f();
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}

TEST(OkxCredentials, FromEnvironmentNamesTheVariable) {
  {
    EnvVar k("HFTX_T_OKX_KEY", kApiKey), s("HFTX_T_OKX_SECRET", kSecret), p("HFTX_T_OKX_PASS", kPassphrase);
    const Credentials c = Credentials::from_env(k.name, s.name, p.name);
    EXPECT_EQ(c.api_key, kApiKey);
    EXPECT_EQ(c.passphrase, kPassphrase);
    char sig[LoginSigner::kSignatureSize];
    ASSERT_EQ(c.signer.sign_login(1538054050, sig), LoginSigner::kSignatureSize);
    EXPECT_EQ(std::string(sig, sizeof sig), kLoginSign);
  }
  struct Case {
    const char *key, *secret, *pass, *named;
  };
  for (const Case& t : {Case{nullptr, kSecret, kPassphrase, "HFTX_T_OKX_KEY"},
                        Case{"", kSecret, kPassphrase, "HFTX_T_OKX_KEY"},
                        Case{kApiKey, nullptr, kPassphrase, "HFTX_T_OKX_SECRET"},
                        Case{kApiKey, "", kPassphrase, "HFTX_T_OKX_SECRET"},
                        Case{kApiKey, kSecret, nullptr, "HFTX_T_OKX_PASS"},
                        Case{kApiKey, kSecret, "", "HFTX_T_OKX_PASS"},
                        Case{"has space", kSecret, kPassphrase, "HFTX_T_OKX_KEY"},
                        Case{"quo\"te", kSecret, kPassphrase, "HFTX_T_OKX_KEY"},
                        Case{kApiKey, kSecret, "back\\slash", "HFTX_T_OKX_PASS"},
                        Case{kApiKey, kSecret, "tab\there", "HFTX_T_OKX_PASS"},
                        Case{kApiKey, kSecret, "caf\xc3\xa9", "HFTX_T_OKX_PASS"}}) {
    EnvVar k("HFTX_T_OKX_KEY", t.key), s("HFTX_T_OKX_SECRET", t.secret), p("HFTX_T_OKX_PASS", t.pass);
    const std::string what = config_error([&] { (void)Credentials::from_env(k.name, s.name, p.name); });
    EXPECT_NE(what.find(t.named), std::string::npos) << what;
  }
  EXPECT_NE(config_error([] { (void)Credentials::from_env("", "S", "P"); }).find("venue.api_key_env"),
            std::string::npos);
  EXPECT_TRUE(sendable_credential("a b", true));
  EXPECT_FALSE(sendable_credential("a b", false));
  EXPECT_FALSE(sendable_credential(std::string(257, 'a'), true));
  EXPECT_FALSE(sendable_credential("", true));
}

// ------------------------------------------------------------------------------------------- encoding

TEST(OkxApiEncoder, LoginSubscribePingExactText) {
  ApiEncoder e = make_encoder();
  EXPECT_EQ(encode(e, [&](char* o, std::size_t c) { return e.encode_login(1538054050, o, c); }),
            std::string(R"({"op":"login","args":[{"apiKey":")") + kApiKey + R"(","passphrase":")" + kPassphrase +
                R"(","timestamp":"1538054050","sign":")" + kLoginSign + R"("}]})");
  EXPECT_EQ(encode(e, [&](char* o, std::size_t c) { return e.encode_subscribe_orders(o, c); }),
            R"({"op":"subscribe","args":[{"channel":"orders","instType":"SPOT"}]})");
  EXPECT_EQ(encode(e, [&](char* o, std::size_t c) { return e.encode_subscribe_orders(o, c, true); }),
            R"({"op":"subscribe","args":[{"channel":"orders","instType":"ANY"}]})");
  EXPECT_EQ(encode(e, [&](char* o, std::size_t c) { return e.encode_ping(o, c); }), "ping");
  ApiEncoder s = make_encoder(Market::swap, "cross", swap_instruments());
  EXPECT_EQ(encode(s, [&](char* o, std::size_t c) { return s.encode_subscribe_orders(o, c); }),
            R"({"op":"subscribe","args":[{"channel":"orders","instType":"SWAP"}]})");
  EXPECT_EQ(encode(e, [&](char* o, std::size_t c) { return e.encode_login(0, o, c); }), "");
  EXPECT_EQ(e.last_status(), EncodeStatus::bad_request);
}

TEST(OkxApiEncoder, PlaceEveryOrdTypeSideAndTdModeExactText) {
  ApiEncoder e = make_encoder();
  const auto place = [&](ClientOrderId id, const OrderRequest& r) {
    return encode(e, [&](char* o, std::size_t c) { return e.encode_place(id, r, o, c); });
  };
  EXPECT_EQ(place(42, limit_buy()),
            R"({"id":"p42","op":"order","args":[{"instId":"BTC-USDT","tdMode":"cash","clOrdId":"hx42","side":"buy","ordType":"limit","px":"60000.1","sz":"0.01000000"}]})");
  EXPECT_EQ(place(7, req(1, Side::ask, OrderType::limit, TimeInForce::gtc, true, 312'345, 1'500'000)),
            R"({"id":"p7","op":"order","args":[{"instId":"ETH-USDT","tdMode":"cash","clOrdId":"hx7","side":"sell","ordType":"post_only","px":"3123.45","sz":"1.500000"}]})");
  EXPECT_EQ(place(8, req(0, Side::bid, OrderType::limit, TimeInForce::ioc, false, 1, 1)),
            R"({"id":"p8","op":"order","args":[{"instId":"BTC-USDT","tdMode":"cash","clOrdId":"hx8","side":"buy","ordType":"ioc","px":"0.1","sz":"0.00000001"}]})");
  EXPECT_EQ(place(9, req(0, Side::ask, OrderType::limit, TimeInForce::fok, false, 600'000, 100'000'000)),
            R"({"id":"p9","op":"order","args":[{"instId":"BTC-USDT","tdMode":"cash","clOrdId":"hx9","side":"sell","ordType":"fok","px":"60000.0","sz":"1.00000000"}]})");
  // Spot market orders: sz in the base currency whatever the side (tgtCcy), no px.
  EXPECT_EQ(place(10, req(0, Side::bid, OrderType::market, TimeInForce::gtc, false, 0, 2'000'000)),
            R"({"id":"p10","op":"order","args":[{"instId":"BTC-USDT","tdMode":"cash","clOrdId":"hx10","side":"buy","ordType":"market","sz":"0.02000000","tgtCcy":"base_ccy"}]})");
  EXPECT_EQ(place(11, req(0, Side::ask, OrderType::market, TimeInForce::ioc, false, 999, 2'000'000)),
            R"({"id":"p11","op":"order","args":[{"instId":"BTC-USDT","tdMode":"cash","clOrdId":"hx11","side":"sell","ordType":"market","sz":"0.02000000","tgtCcy":"base_ccy"}]})");
  // A scale with a multiplier (tick 0.5, lot 10).
  EXPECT_EQ(place(12, req(2, Side::bid, OrderType::limit, TimeInForce::gtc, false, 3, 7)),
            R"({"id":"p12","op":"order","args":[{"instId":"TST-USDT","tdMode":"cash","clOrdId":"hx12","side":"buy","ordType":"limit","px":"1.5","sz":"70"}]})");
  // Swaps: contracts (lot 0.01), tdMode from the config, no tgtCcy on market orders.
  ApiEncoder s = make_encoder(Market::swap, "cross", swap_instruments(), "Strat9");
  EXPECT_EQ(encode(s, [&](char* o, std::size_t c) {
              return s.encode_place(18446744073709551615ull,
                                    req(0, Side::ask, OrderType::market, TimeInForce::gtc, false, 0, 300), o, c);
            }),
            R"({"id":"p18446744073709551615","op":"order","args":[{"instId":"BTC-USDT-SWAP","tdMode":"cross","clOrdId":"Strat918446744073709551615","side":"sell","ordType":"market","sz":"3.00"}]})");
  ApiEncoder iso = make_encoder(Market::futures, "isolated", swap_instruments());
  EXPECT_EQ(encode(iso, [&](char* o, std::size_t c) {
              return iso.encode_place(5, req(0, Side::bid, OrderType::limit, TimeInForce::gtc, true, 650'000, 1), o, c);
            }),
            R"({"id":"p5","op":"order","args":[{"instId":"BTC-USDT-SWAP","tdMode":"isolated","clOrdId":"hx5","side":"buy","ordType":"post_only","px":"65000.0","sz":"0.01"}]})");
  EXPECT_EQ(e.stats().by_status[0], e.stats().requests);
}

TEST(OkxApiEncoder, RefusesWhatOkxDoesNotHave) {
  ApiEncoder e = make_encoder();
  char out[1024];
  const auto refused = [&](ClientOrderId id, const OrderRequest& r, EncodeStatus want) {
    const std::uint64_t before = e.stats().by_status[static_cast<std::size_t>(want)];
    EXPECT_EQ(e.encode_place(id, r, out, sizeof out), 0u);
    EXPECT_EQ(e.last_status(), want);
    EXPECT_EQ(e.stats().by_status[static_cast<std::size_t>(want)], before + 1);
  };
  refused(0, limit_buy(), EncodeStatus::bad_request);  // client id 0
  refused(1, req(0, Side::bid, OrderType::limit, TimeInForce::gtc, false, 600'001, 0), EncodeStatus::bad_request);
  refused(1, req(0, Side::bid, OrderType::limit, TimeInForce::gtc, false, 600'001, -1), EncodeStatus::bad_request);
  refused(1, req(0, Side::bid, OrderType::limit, TimeInForce::gtc, false, 0, 1), EncodeStatus::bad_request);
  refused(1, req(0, Side::bid, OrderType::limit, TimeInForce::gtc, false, -5, 1), EncodeStatus::bad_request);
  refused(1, req(0, Side::bid, OrderType::limit, TimeInForce::ioc, true, 600'001, 1), EncodeStatus::bad_request);
  refused(1, req(0, Side::bid, OrderType::limit, TimeInForce::fok, true, 600'001, 1), EncodeStatus::bad_request);
  refused(1, req(0, Side::bid, OrderType::market, TimeInForce::gtc, true, 0, 1), EncodeStatus::bad_request);
  refused(1, req(0, Side::bid, OrderType::market, TimeInForce::fok, false, 0, 1), EncodeStatus::bad_request);
  refused(1, req(3, Side::bid, OrderType::limit, TimeInForce::gtc, false, 1, 1), EncodeStatus::unknown_instrument);
  ApiEncoder opt = make_encoder(Market::option, "cross",
                                {ApiInstrument{"BTC-USD-250328-100000-C", Scale::from_step("0.0005"),
                                               Scale::from_step("1")}});
  EXPECT_EQ(opt.encode_place(1, req(0, Side::bid, OrderType::market, TimeInForce::gtc, false, 0, 1), out, sizeof out),
            0u);
  EXPECT_EQ(opt.last_status(), EncodeStatus::bad_request);
  EXPECT_GT(opt.encode_place(1, req(0, Side::bid, OrderType::limit, TimeInForce::gtc, false, 65, 1), out, sizeof out),
            0u);
  EXPECT_NE(std::string(out, 200).find(R"("px":"0.0325")"), std::string::npos);
}

TEST(OkxApiEncoder, CancelAndAmendExactText) {
  ApiEncoder e = make_encoder();
  EXPECT_EQ(encode(e, [&](char* o, std::size_t c) { return e.encode_cancel(42, 1, o, c); }),
            R"({"id":"c42","op":"cancel-order","args":[{"instId":"ETH-USDT","clOrdId":"hx42"}]})");
  EXPECT_EQ(encode(e, [&](char* o, std::size_t c) { return e.encode_amend(42, 0, Price(600'002), Qty(3), o, c); }),
            R"({"id":"m42","op":"amend-order","args":[{"instId":"BTC-USDT","clOrdId":"hx42","newSz":"0.00000003","newPx":"60000.2"}]})");
  EXPECT_EQ(encode(e, [&](char* o, std::size_t c) { return e.encode_amend(43, 0, Price(600'002), Qty(0), o, c); }),
            R"({"id":"m43","op":"amend-order","args":[{"instId":"BTC-USDT","clOrdId":"hx43","newPx":"60000.2"}]})");
  EXPECT_EQ(encode(e, [&](char* o, std::size_t c) { return e.encode_amend(44, 1, Price(0), Qty(2'500'000), o, c); }),
            R"({"id":"m44","op":"amend-order","args":[{"instId":"ETH-USDT","clOrdId":"hx44","newSz":"2.500000"}]})");
  char out[512];
  EXPECT_EQ(e.encode_amend(44, 1, Price(0), Qty(0), out, sizeof out), 0u);
  EXPECT_EQ(e.last_status(), EncodeStatus::bad_request);
  EXPECT_EQ(e.encode_amend(44, 1, Price(-1), Qty(5), out, sizeof out), 0u);
  EXPECT_EQ(e.last_status(), EncodeStatus::bad_request);
  EXPECT_EQ(e.encode_amend(44, 1, Price(1), Qty(-5), out, sizeof out), 0u);
  EXPECT_EQ(e.encode_amend(0, 1, Price(1), Qty(5), out, sizeof out), 0u);
  EXPECT_EQ(e.encode_amend(44, 9, Price(1), Qty(5), out, sizeof out), 0u);
  EXPECT_EQ(e.last_status(), EncodeStatus::unknown_instrument);
  EXPECT_EQ(e.encode_cancel(0, 1, out, sizeof out), 0u);
  EXPECT_EQ(e.last_status(), EncodeStatus::bad_request);
  EXPECT_EQ(e.encode_cancel(1, 3, out, sizeof out), 0u);
  EXPECT_EQ(e.last_status(), EncodeStatus::unknown_instrument);
}

TEST(OkxApiEncoder, BatchesExactTextAndLimits) {
  ApiEncoder e = make_encoder();
  const PlaceOrder two[] = {{1, limit_buy()},
                            {2, req(1, Side::ask, OrderType::limit, TimeInForce::gtc, true, 300'000, 1'000)}};
  EXPECT_EQ(encode(e, [&](char* o, std::size_t c) { return e.encode_batch_place(77, two, o, c); }),
            R"({"id":"b77","op":"batch-orders","args":[{"instId":"BTC-USDT","tdMode":"cash","clOrdId":"hx1","side":"buy","ordType":"limit","px":"60000.1","sz":"0.01000000"},{"instId":"ETH-USDT","tdMode":"cash","clOrdId":"hx2","side":"sell","ordType":"post_only","px":"3000.00","sz":"0.001000"}]})");
  const CancelOrder cancels[] = {{1, 0}, {2, 1}};
  EXPECT_EQ(encode(e, [&](char* o, std::size_t c) { return e.encode_batch_cancel(78, cancels, o, c); }),
            R"({"id":"x78","op":"batch-cancel-orders","args":[{"instId":"BTC-USDT","clOrdId":"hx1"},{"instId":"ETH-USDT","clOrdId":"hx2"}]})");

  // The longest batch there can be fits max_request_size(): 20 orders of the longest symbol, ids and numbers.
  std::vector<ApiInstrument> ins = {
      ApiInstrument{std::string(32, 'A'), Scale::from_step("0.5"), Scale::from_step("5")}};
  ApiEncoder big = make_encoder(Market::swap, "isolated", ins, "abcdefghijkl");
  std::vector<PlaceOrder> full(kMaxBatch);
  for (std::size_t i = 0; i < full.size(); ++i)
    full[i] = {18446744073709551615ull - i,
               req(0, Side::ask, OrderType::limit, TimeInForce::fok, false, INT64_MAX, INT64_MAX)};
  std::vector<char> out(big.max_request_size());
  const std::size_t n = big.encode_batch_place(18446744073709551615ull, full, out.data(), out.size());
  EXPECT_GT(n, 0u);
  EXPECT_LE(n, big.max_request_size());
  // Limits: none, one over, one bad order refuses the batch.
  full.push_back(full.back());
  EXPECT_EQ(big.encode_batch_place(1, full, out.data(), out.size()), 0u);
  EXPECT_EQ(big.last_status(), EncodeStatus::bad_request);
  EXPECT_EQ(big.encode_batch_place(1, {}, out.data(), out.size()), 0u);
  EXPECT_EQ(big.last_status(), EncodeStatus::bad_request);
  full.resize(3);
  full[1].request.qty = Qty(0);
  EXPECT_EQ(big.encode_batch_place(1, full, out.data(), out.size()), 0u);
  EXPECT_EQ(big.last_status(), EncodeStatus::bad_request);
  full[1].request.qty = Qty(1);
  full[2].request.instrument = 1;
  EXPECT_EQ(big.encode_batch_place(1, full, out.data(), out.size()), 0u);
  EXPECT_EQ(big.last_status(), EncodeStatus::unknown_instrument);
  std::vector<CancelOrder> cs(kMaxBatch, CancelOrder{5, 0});
  EXPECT_GT(big.encode_batch_cancel(1, cs, out.data(), out.size()), 0u);
  cs.push_back(CancelOrder{5, 0});
  EXPECT_EQ(big.encode_batch_cancel(1, cs, out.data(), out.size()), 0u);
  EXPECT_EQ(big.last_status(), EncodeStatus::bad_request);
  EXPECT_EQ(big.encode_batch_cancel(1, {}, out.data(), out.size()), 0u);
  cs.resize(2);
  cs[1].id = 0;
  EXPECT_EQ(big.encode_batch_cancel(1, cs, out.data(), out.size()), 0u);
  EXPECT_EQ(big.last_status(), EncodeStatus::bad_request);
  cs[1] = {3, 4};
  EXPECT_EQ(big.encode_batch_cancel(1, cs, out.data(), out.size()), 0u);
  EXPECT_EQ(big.last_status(), EncodeStatus::unknown_instrument);
}

TEST(OkxApiEncoder, BufferTooSmallReturnsZeroAtEveryLength) {
  ApiEncoder e = make_encoder();
  const PlaceOrder two[] = {{1, limit_buy()}, {2, limit_buy()}};
  const CancelOrder cancels[] = {{1, 0}, {2, 1}};
  const std::vector<std::function<std::size_t(char*, std::size_t)>> all = {
      [&](char* o, std::size_t c) { return e.encode_login(1538054050, o, c); },
      [&](char* o, std::size_t c) { return e.encode_subscribe_orders(o, c); },
      [&](char* o, std::size_t c) { return e.encode_ping(o, c); },
      [&](char* o, std::size_t c) { return e.encode_place(42, limit_buy(), o, c); },
      [&](char* o, std::size_t c) { return e.encode_cancel(42, 0, o, c); },
      [&](char* o, std::size_t c) { return e.encode_amend(42, 0, Price(1), Qty(1), o, c); },
      [&](char* o, std::size_t c) { return e.encode_batch_place(1, two, o, c); },
      [&](char* o, std::size_t c) { return e.encode_batch_cancel(1, cancels, o, c); }};
  for (const auto& f : all) {
    const std::string full = encode(e, f);
    ASSERT_FALSE(full.empty());
    for (std::size_t cap = 0; cap < full.size(); ++cap) {
      std::string buf(cap + 8, '#');
      ASSERT_EQ(f(buf.data(), cap), 0u) << full << " cap " << cap;
      ASSERT_EQ(e.last_status(), EncodeStatus::too_small);
      ASSERT_EQ(buf.substr(cap), std::string(8, '#'));  // nothing written past cap
    }
    std::string exact(full.size(), '\0');
    EXPECT_EQ(f(exact.data(), exact.size()), full.size());
    EXPECT_EQ(exact, full);
  }
}

TEST(OkxApiEncoder, ClientIdsAndConfigErrors) {
  ApiEncoder e = make_encoder(Market::spot, "", instruments(), "abcdefghijkl");
  char cid[32];
  const std::size_t n = e.format_client_id(18446744073709551615ull, cid);
  EXPECT_EQ(std::string(cid, n), "abcdefghijkl18446744073709551615");  // 32 characters: OKX's limit
  EXPECT_EQ(e.td_mode(), "cash");
  const auto fails = [](const std::function<void()>& f, const char* key) {
    const std::string what = config_error(f);
    EXPECT_NE(what.find(key), std::string::npos) << what;
  };
  fails([] { (void)make_encoder(Market::spot, "", instruments(), "abcdefghijklm"); }, "client_id_prefix");
  fails([] { (void)make_encoder(Market::spot, "", instruments(), "h-x"); }, "client_id_prefix");
  fails([] { (void)make_encoder(Market::spot, "", instruments(), "h_x"); }, "client_id_prefix");
  fails([] { (void)make_encoder(Market::spot, "", instruments(), ""); }, "client_id_prefix");
  fails([] { (void)make_encoder(Market::spot, "cross", instruments()); }, "td_mode");
  fails([] { (void)make_encoder(Market::swap, "", swap_instruments()); }, "td_mode");
  fails([] { (void)make_encoder(Market::swap, "cash", swap_instruments()); }, "td_mode");
  fails([] { (void)make_encoder(Market::spot, "", {}); }, "instruments");
  fails([] { (void)make_encoder(Market::spot, "", {ApiInstrument{"BTC USDT", Scale(), Scale()}}); },
        "instruments[0].symbol");
  fails([] { (void)ApiEncoder(ApiEncoderConfig{"hx", Market::spot, "", instruments()},
                              Credentials{"a b", "p", LoginSigner("s")}); },
        "api_key");
  fails([] { (void)ApiEncoder(ApiEncoderConfig{"hx", Market::spot, "", instruments()},
                              Credentials{"k", "p\"", LoginSigner("s")}); },
        "passphrase");
  fails([] { (void)ApiParser(instruments(), "h-x"); }, "client_id_prefix");
  fails([] {
    (void)ApiParser({ApiInstrument{"BTC-USDT", Scale(), Scale()}, ApiInstrument{"BTC-USDT", Scale(), Scale()}}, "hx");
  }, "instruments[1].symbol");
}

TEST(OkxApiCodes, NeutralReasonsAndStatuses) {
  EXPECT_EQ(reason_of(0), RejectReason::none);
  EXPECT_EQ(reason_of(51603), RejectReason::order_not_found);
  EXPECT_EQ(reason_of(51400), RejectReason::unknown_order);
  EXPECT_EQ(reason_of(51401), RejectReason::order_cancelled);
  EXPECT_EQ(reason_of(51402), RejectReason::order_filled);
  EXPECT_EQ(reason_of(51503), RejectReason::unknown_order);
  EXPECT_EQ(reason_of(51509), RejectReason::order_cancelled);
  EXPECT_EQ(reason_of(51510), RejectReason::order_filled);
  EXPECT_EQ(reason_of(51008), RejectReason::insufficient_balance);
  EXPECT_EQ(reason_of(51131), RejectReason::insufficient_balance);
  EXPECT_EQ(reason_of(51016), RejectReason::duplicate_client_id);
  EXPECT_EQ(reason_of(51511), RejectReason::would_take);
  EXPECT_EQ(reason_of(50011), RejectReason::rate_limited);
  EXPECT_EQ(reason_of(60014), RejectReason::rate_limited);
  EXPECT_EQ(reason_of(60011), RejectReason::not_logged_on);
  EXPECT_EQ(reason_of(50113), RejectReason::not_logged_on);
  EXPECT_EQ(reason_of(51000), RejectReason::invalid_request);
  EXPECT_EQ(reason_of(51121), RejectReason::invalid_request);
  EXPECT_EQ(reason_of(60013), RejectReason::invalid_request);
  EXPECT_EQ(reason_of(1), RejectReason::other);
  EXPECT_EQ(reason_of(58350), RejectReason::other);
  EXPECT_EQ(status_of(0), 200);
  EXPECT_EQ(status_of(50011), 429);
  EXPECT_EQ(status_of(60009), 401);
  EXPECT_EQ(status_of(50013), 503);
  EXPECT_EQ(status_of(51008), 400);
  EXPECT_EQ(status_of(1), 400);
}

// ------------------------------------------------------------------------------------------- parsing

struct Parsed {
  std::shared_ptr<std::string> buf;  // the message: m.error_msg points into it
  ApiParseResult r;
  ApiMessage m;
  std::vector<OrderUpdate> u;
};

// Parses `text` from a padded buffer (as WsConnection delivers it), collecting the updates.
Parsed parse(ApiParser& p, const std::string& text, std::int64_t recv_ns = 5) {
  Parsed out;
  out.buf = std::make_shared<std::string>(text);
  out.buf->resize(text.size() + hftx::md::kJsonPadding, '\0');
  auto sink = [&](const OrderUpdate& u) noexcept { out.u.push_back(u); };
  out.r = p.parse(std::string_view(out.buf->data(), text.size()), out.buf->size(), recv_ns, out.m, UpdateSink(sink));
  return out;
}

// OKX's `order` answers, as its WebSocket "Place order" documentation shows them.
constexpr const char* kOrderAck =
    R"({"id":"p42","op":"order","data":[{"clOrdId":"hx42","ordId":"12345689","tag":"","ts":"1695190491421","sCode":"0","sMsg":""}],"code":"0","msg":"","inTime":"1695190491421339","outTime":"1695190491423240"})";
constexpr const char* kOrderRejected =
    R"({"id":"p43","op":"order","data":[{"clOrdId":"hx43","ordId":"","tag":"","ts":"1695190491421","sCode":"51008","sMsg":"Order failed. Insufficient USDT balance in account."}],"code":"1","msg":"","inTime":"1695190491421339","outTime":"1695190491423240"})";
constexpr const char* kOrderRefused =
    R"({"id":"p44","op":"order","data":[],"code":"60013","msg":"Invalid args","inTime":"1695190491421339","outTime":"1695190491423240"})";

TEST(OkxApiParser, OrderAnswers) {
  ApiParser p(instruments(), "hx", 1u << 16);
  Parsed a = parse(p, kOrderAck, 77);
  ASSERT_TRUE(a.r.ok()) << a.r.describe();
  EXPECT_EQ(a.m.kind, ApiKind::place);
  EXPECT_EQ(a.m.status, 200);
  EXPECT_EQ(a.m.request, 42u);
  EXPECT_EQ(a.m.venue_time_ns, 1695190491423240000);
  ASSERT_EQ(a.u.size(), 1u);
  EXPECT_EQ(a.u[0].kind, UpdateKind::ack);
  EXPECT_EQ(a.u[0].client_id, 42u);
  EXPECT_EQ(a.u[0].venue_order_id, 12345689u);
  EXPECT_EQ(a.u[0].venue_time_ns, 1695190491421000000);
  EXPECT_EQ(a.u[0].recv_ns, 77);
  EXPECT_EQ(p.stats().scanned, 1u);  // the hand scanner read it

  Parsed r = parse(p, kOrderRejected);
  ASSERT_TRUE(r.r.ok()) << r.r.describe();
  EXPECT_EQ(r.m.kind, ApiKind::place);
  EXPECT_EQ(r.m.status, 400);
  EXPECT_EQ(r.m.error_code, 51008);  // the element's: code 1 only says "see the elements"
  EXPECT_EQ(r.m.reason, RejectReason::insufficient_balance);
  EXPECT_EQ(r.m.error_msg, "Order failed. Insufficient USDT balance in account.");
  ASSERT_EQ(r.u.size(), 1u);
  EXPECT_EQ(r.u[0].kind, UpdateKind::rejected);
  EXPECT_EQ(r.u[0].client_id, 43u);
  EXPECT_EQ(r.u[0].error_code, 51008);
  EXPECT_EQ(r.u[0].reason, RejectReason::insufficient_balance);
  EXPECT_EQ(r.u[0].venue_order_id, 0u);

  // Refused whole (no elements): the request id names the order.
  Parsed w = parse(p, kOrderRefused);
  ASSERT_TRUE(w.r.ok()) << w.r.describe();
  EXPECT_EQ(w.m.status, 400);
  EXPECT_EQ(w.m.error_code, 60013);
  EXPECT_EQ(w.m.reason, RejectReason::invalid_request);
  EXPECT_EQ(w.m.error_msg, "Invalid args");
  ASSERT_EQ(w.u.size(), 1u);
  EXPECT_EQ(w.u[0].kind, UpdateKind::rejected);
  EXPECT_EQ(w.u[0].client_id, 44u);
  EXPECT_EQ(w.u[0].error_code, 60013);
  EXPECT_EQ(w.u[0].reason, RejectReason::invalid_request);

  Parsed rl = parse(p, R"({"id":"p45","op":"order","data":[],"code":"50011","msg":"Rate limit reached"})");
  ASSERT_TRUE(rl.r.ok());
  EXPECT_EQ(rl.m.status, 429);
  EXPECT_EQ(rl.m.reason, RejectReason::rate_limited);
  ASSERT_EQ(rl.u.size(), 1u);
  EXPECT_EQ(rl.u[0].reason, RejectReason::rate_limited);

  // An ack without clOrdId: the request id; one with somebody else's clOrdId: client id 0, counted.
  Parsed e = parse(p, R"({"id":"p46","op":"order","data":[{"clOrdId":"","ordId":"9","sCode":"0","sMsg":""}],"code":"0","msg":""})");
  ASSERT_TRUE(e.r.ok());
  ASSERT_EQ(e.u.size(), 1u);
  EXPECT_EQ(e.u[0].client_id, 46u);
  EXPECT_EQ(e.m.venue_time_ns, 0);
  const std::uint64_t foreign = p.stats().foreign_orders;
  Parsed f = parse(p, R"({"id":"p47","op":"order","data":[{"clOrdId":"manual1","ordId":"9","sCode":"0","sMsg":""}],"code":"0","msg":""})");
  ASSERT_TRUE(f.r.ok());
  ASSERT_EQ(f.u.size(), 1u);
  EXPECT_EQ(f.u[0].client_id, 0u);
  EXPECT_EQ(p.stats().foreign_orders, foreign + 1);
}

TEST(OkxApiParser, BatchOrderAnswerPerElement) {
  ApiParser p(instruments(), "hx", 1u << 16);
  Parsed b = parse(p, R"({"id":"b9","op":"batch-orders","data":[)"
                      R"({"clOrdId":"hx1","ordId":"101","tag":"","ts":"1","sCode":"0","sMsg":""},)"
                      R"({"clOrdId":"hx2","ordId":"","tag":"","ts":"2","sCode":"51016","sMsg":"Duplicated clOrdId"},)"
                      R"({"clOrdId":"hx3","ordId":"103","tag":"","ts":"3","sCode":"0","sMsg":""}],)"
                      R"("code":"2","msg":"","inTime":"1","outTime":"2"})");
  ASSERT_TRUE(b.r.ok()) << b.r.describe();
  EXPECT_EQ(b.m.kind, ApiKind::place);
  EXPECT_EQ(b.m.request, 9u);
  EXPECT_EQ(b.m.status, 400);
  EXPECT_EQ(b.m.error_code, 51016);
  EXPECT_EQ(b.m.reason, RejectReason::duplicate_client_id);
  ASSERT_EQ(b.u.size(), 3u);
  EXPECT_EQ(b.u[0].kind, UpdateKind::ack);
  EXPECT_EQ(b.u[0].client_id, 1u);
  EXPECT_EQ(b.u[0].venue_order_id, 101u);
  EXPECT_EQ(b.u[0].venue_time_ns, 1'000'000);
  EXPECT_EQ(b.u[1].kind, UpdateKind::rejected);
  EXPECT_EQ(b.u[1].client_id, 2u);
  EXPECT_EQ(b.u[1].reason, RejectReason::duplicate_client_id);
  EXPECT_EQ(b.u[2].kind, UpdateKind::ack);
  EXPECT_EQ(b.u[2].client_id, 3u);
  // A batch refused whole: the answer says so, no order can be named.
  Parsed w = parse(p, R"({"id":"b10","op":"batch-orders","data":[],"code":"50011","msg":"Rate limit reached"})");
  ASSERT_TRUE(w.r.ok());
  EXPECT_EQ(w.m.request, 10u);
  EXPECT_EQ(w.m.status, 429);
  EXPECT_TRUE(w.u.empty());
}

TEST(OkxApiParser, CancelAnswersKeepTheClosedStatesApart) {
  ApiParser p(instruments(), "hx", 1u << 16);
  Parsed ok = parse(p, R"({"id":"c42","op":"cancel-order","data":[{"clOrdId":"hx42","ordId":"2510789768709120","ts":"1695190491421","sCode":"0","sMsg":""}],"code":"0","msg":"","inTime":"1695190491421339","outTime":"1695190491423240"})");
  ASSERT_TRUE(ok.r.ok()) << ok.r.describe();
  EXPECT_EQ(ok.m.kind, ApiKind::cancel);
  EXPECT_EQ(ok.m.status, 200);
  EXPECT_EQ(ok.m.request, 42u);
  EXPECT_TRUE(ok.u.empty());  // the orders push that follows closes it, with the cumulative fill
  struct Case {
    const char* code;
    RejectReason reason;
  };
  for (const Case& c : {Case{"51400", RejectReason::unknown_order}, Case{"51401", RejectReason::order_cancelled},
                        Case{"51402", RejectReason::order_filled}, Case{"51603", RejectReason::order_not_found}}) {
    const std::string text = std::string(R"({"id":"c42","op":"cancel-order","data":[{"clOrdId":"hx42","ordId":"","ts":"1695190491421","sCode":")") +
                             c.code + R"(","sMsg":"Cancellation failed"}],"code":"1","msg":""})";
    Parsed r = parse(p, text);
    ASSERT_TRUE(r.r.ok()) << r.r.describe();
    EXPECT_EQ(r.m.error_code, std::atoi(c.code));
    EXPECT_EQ(r.m.reason, c.reason);
    EXPECT_EQ(r.m.error_msg, "Cancellation failed");
    ASSERT_EQ(r.u.size(), 1u) << c.code;
    EXPECT_EQ(r.u[0].kind, UpdateKind::cancel_rejected);
    EXPECT_EQ(r.u[0].client_id, 42u);
    EXPECT_EQ(r.u[0].error_code, std::atoi(c.code));
    EXPECT_EQ(r.u[0].reason, c.reason);
  }
  Parsed w = parse(p, R"({"id":"c43","op":"cancel-order","data":[],"code":"60011","msg":"Please log in"})");
  ASSERT_TRUE(w.r.ok());
  EXPECT_EQ(w.m.status, 401);
  ASSERT_EQ(w.u.size(), 1u);
  EXPECT_EQ(w.u[0].kind, UpdateKind::cancel_rejected);
  EXPECT_EQ(w.u[0].client_id, 43u);
  EXPECT_EQ(w.u[0].reason, RejectReason::not_logged_on);
  Parsed b = parse(p, R"({"id":"x5","op":"batch-cancel-orders","data":[{"clOrdId":"hx1","ordId":"1","ts":"1","sCode":"0","sMsg":""},{"clOrdId":"hx2","ordId":"2","ts":"1","sCode":"51402","sMsg":"done"}],"code":"2","msg":""})");
  ASSERT_TRUE(b.r.ok());
  EXPECT_EQ(b.m.kind, ApiKind::cancel);
  EXPECT_EQ(b.m.request, 5u);
  ASSERT_EQ(b.u.size(), 1u);
  EXPECT_EQ(b.u[0].client_id, 2u);
  EXPECT_EQ(b.u[0].venue_order_id, 2u);
  EXPECT_EQ(b.u[0].reason, RejectReason::order_filled);
}

TEST(OkxApiParser, AmendAnswers) {
  ApiParser p(instruments(), "hx", 1u << 16);
  Parsed ok = parse(p, R"({"id":"m42","op":"amend-order","data":[{"clOrdId":"hx42","ordId":"2510789768709120","ts":"1695190491421","reqId":"","sCode":"0","sMsg":""}],"code":"0","msg":"","inTime":"1","outTime":"2"})");
  ASSERT_TRUE(ok.r.ok()) << ok.r.describe();
  EXPECT_EQ(ok.m.kind, ApiKind::amend);
  EXPECT_EQ(ok.m.status, 200);
  EXPECT_EQ(ok.m.request, 42u);
  EXPECT_TRUE(ok.u.empty());
  Parsed no = parse(p, R"({"id":"m42","op":"amend-order","data":[{"clOrdId":"hx42","ordId":"1","ts":"1","reqId":"","sCode":"51509","sMsg":"Modification failed as the order has been canceled"}],"code":"1","msg":""})");
  ASSERT_TRUE(no.r.ok());
  EXPECT_EQ(no.m.kind, ApiKind::amend);
  EXPECT_EQ(no.m.status, 400);
  EXPECT_EQ(no.m.error_code, 51509);
  EXPECT_EQ(no.m.reason, RejectReason::order_cancelled);
  EXPECT_TRUE(no.u.empty());
}

TEST(OkxApiParser, EventsAndPong) {
  ApiParser p(instruments(), "hx", 1u << 16);
  Parsed login = parse(p, R"({"event":"login","code":"0","msg":"","connId":"a4d3ae55"})");
  ASSERT_TRUE(login.r.ok());
  EXPECT_EQ(login.m.kind, ApiKind::logon);
  EXPECT_EQ(login.m.status, 200);
  Parsed bad = parse(p, R"({"event":"error","code":"60009","msg":"Login failed.","connId":"a4d3ae55"})");
  ASSERT_TRUE(bad.r.ok());
  EXPECT_EQ(bad.m.kind, ApiKind::logon);
  EXPECT_EQ(bad.m.status, 401);
  EXPECT_EQ(bad.m.error_code, 60009);
  EXPECT_EQ(bad.m.reason, RejectReason::not_logged_on);
  EXPECT_EQ(bad.m.error_msg, "Login failed.");
  Parsed sign = parse(p, R"({"event":"error","code":"60007","msg":"Invalid sign","connId":"a4d3ae55"})");
  EXPECT_EQ(sign.m.kind, ApiKind::logon);
  Parsed lf = parse(p, R"({"event":"login","code":"60024","msg":"Wrong passphrase","connId":"a"})");
  EXPECT_EQ(lf.m.kind, ApiKind::logon);
  EXPECT_TRUE(lf.m.is_error());
  Parsed sub = parse(p, R"({"event":"subscribe","arg":{"channel":"orders","instType":"ANY"},"connId":"a4d3ae55"})");
  ASSERT_TRUE(sub.r.ok());
  EXPECT_EQ(sub.m.kind, ApiKind::subscribe);
  EXPECT_EQ(sub.m.status, 200);
  Parsed err = parse(p, R"({"event":"error","code":"60012","msg":"Invalid request: {\"op\": \"subscribe\"}","connId":"a4d3ae55"})");
  ASSERT_TRUE(err.r.ok());
  EXPECT_EQ(err.m.kind, ApiKind::other_response);
  EXPECT_EQ(err.m.status, 400);
  EXPECT_EQ(err.m.error_code, 60012);
  EXPECT_EQ(err.m.reason, RejectReason::invalid_request);
  EXPECT_EQ(err.m.error_msg, R"(Invalid request: {\"op\": \"subscribe\"})");  // escapes not decoded
  Parsed notice = parse(p, R"({"event":"notice","code":"64008","msg":"The connection will soon be closed for a service upgrade. Please reconnect.","connId":"a4d3ae55"})");
  ASSERT_TRUE(notice.r.ok());
  EXPECT_EQ(notice.m.kind, ApiKind::other_event);
  EXPECT_EQ(notice.m.status, 0);
  EXPECT_EQ(notice.m.error_code, 64008);
  Parsed count = parse(p, R"({"event":"channel-conn-count","channel":"orders","connCount":"2","connId":"abcd1234"})");
  ASSERT_TRUE(count.r.ok());
  EXPECT_EQ(count.m.kind, ApiKind::other_event);
  Parsed pong = parse(p, "pong");
  ASSERT_TRUE(pong.r.ok());
  EXPECT_EQ(pong.m.kind, ApiKind::other_response);
  EXPECT_EQ(pong.m.status, 200);
  Parsed acct = parse(p, R"({"arg":{"channel":"account","uid":"44705892343619584"},"data":[{"uTime":"1597026383085","totalEq":"41624.32"}]})");
  ASSERT_TRUE(acct.r.ok());
  EXPECT_EQ(acct.m.kind, ApiKind::other_event);
  EXPECT_TRUE(acct.u.empty());
  EXPECT_EQ(parse(p, R"({"event":"error","msg":"x"})").r.status, ApiStatus::missing_field);
}

// An `orders` push of one order, as OKX's "Order channel" documentation shows it (most of the ~70 fields),
// with the fields a test varies substituted.
std::string order_push(const std::string& fields_override, const std::string& inst = "BTC-USDT") {
  std::string body = R"({"accFillSz":"0.001","algoClOrdId":"","algoId":"","amendResult":"","amendSource":"",)"
                     R"("attachAlgoOrds":[],"avgPx":"31527.1","cTime":"1654084334977","cancelSource":"",)"
                     R"("category":"normal","ccy":"","clOrdId":"hx42","code":"0","execType":"M",)"
                     R"("fee":"-0.02522168","feeCcy":"USDT","fillFee":"-0.02522168","fillFeeCcy":"USDT",)"
                     R"("fillNotionalUsd":"31.50818374","fillPx":"31527.1","fillSz":"0.001",)"
                     R"("fillTime":"1654084353263","instId":")" +
                     inst +
                     R"(","instType":"SPOT","lever":"0","linkedAlgoOrd":{"algoId":""},"msg":"",)"
                     R"("notionalUsd":"31.50818374","ordId":"452197707845865472","ordType":"limit","pnl":"0",)"
                     R"("posSide":"","px":"31527.1","rebate":"0","rebateCcy":"BTC","reduceOnly":"false",)"
                     R"("side":"sell","source":"","state":"filled","stpMode":"","sz":"0.001","tag":"",)"
                     R"("tdMode":"cash","tgtCcy":"","tradeId":"242589207","reqId":"","uTime":"1654084353264"})";
  // Override: "key":"value" pairs replace the document's.
  std::size_t at = 0;
  while (at < fields_override.size()) {
    const std::size_t k0 = fields_override.find('"', at);
    if (k0 == std::string::npos) break;
    const std::size_t k1 = fields_override.find('"', k0 + 1);
    const std::size_t v0 = fields_override.find('"', k1 + 1);
    const std::size_t v1 = fields_override.find('"', v0 + 1);
    const std::string key = fields_override.substr(k0, k1 - k0 + 1);
    const std::string value = fields_override.substr(v0, v1 - v0 + 1);
    const std::size_t pos = body.find(key + ":");
    EXPECT_NE(pos, std::string::npos) << key;
    const std::size_t vs = pos + key.size() + 1;
    const std::size_t ve = body.find('"', vs + 1);
    body.replace(vs, ve - vs + 1, value);
    at = v1 + 1;
  }
  return body;
}
std::string push(const std::vector<std::string>& orders) {
  std::string s = R"({"arg":{"channel":"orders","instType":"SPOT","uid":"614488474791936"},"data":[)";
  for (std::size_t i = 0; i < orders.size(); ++i) {
    if (i != 0) s += ',';
    s += orders[i];
  }
  return s + "]}";
}

TEST(OkxApiParser, OrdersPushFillsAndStates) {
  ApiParser p(instruments(), "hx", 1u << 16);
  // A maker fill that completes the order: one fill, the OMS closes it.
  Parsed f = parse(p, push({order_push("")}), 9);
  ASSERT_TRUE(f.r.ok()) << f.r.describe();
  EXPECT_EQ(f.m.kind, ApiKind::execution_report);
  EXPECT_EQ(f.m.status, 0);
  ASSERT_EQ(f.u.size(), 1u);
  const OrderUpdate& u = f.u[0];
  EXPECT_EQ(u.kind, UpdateKind::fill);
  EXPECT_EQ(u.client_id, 42u);
  EXPECT_EQ(u.venue_order_id, 452197707845865472u);
  EXPECT_EQ(u.instrument, 0u);
  EXPECT_EQ(u.side, Side::ask);
  EXPECT_EQ(u.last_price, Price(315'271));
  EXPECT_EQ(u.last_qty, Qty(100'000));
  EXPECT_EQ(u.cum_qty, Qty(100'000));
  EXPECT_EQ(u.trade_id, 242589207u);
  EXPECT_TRUE(u.maker);
  EXPECT_EQ(u.venue_time_ns, 1654084353263000000);  // fillTime
  EXPECT_EQ(u.recv_ns, 9);

  // A taker partial fill.
  Parsed t = parse(p, push({order_push(R"("state":"partially_filled","execType":"T","accFillSz":"0.003","fillSz":"0.002")")}));
  ASSERT_TRUE(t.r.ok()) << t.r.describe();
  ASSERT_EQ(t.u.size(), 1u);
  EXPECT_EQ(t.u[0].kind, UpdateKind::fill);
  EXPECT_FALSE(t.u[0].maker);
  EXPECT_EQ(t.u[0].last_qty, Qty(200'000));
  EXPECT_EQ(t.u[0].cum_qty, Qty(300'000));

  // A new resting order: ack (uTime).
  const std::string nofill = R"("fillSz":"0","fillPx":"","tradeId":"","fillTime":"","execType":"","accFillSz":"0")";
  Parsed live = parse(p, push({order_push(nofill + R"(,"state":"live")")}));
  ASSERT_TRUE(live.r.ok()) << live.r.describe();
  ASSERT_EQ(live.u.size(), 1u);
  EXPECT_EQ(live.u[0].kind, UpdateKind::ack);
  EXPECT_EQ(live.u[0].venue_time_ns, 1654084353264000000);
  EXPECT_EQ(live.u[0].cum_qty, Qty(0));
  // After an amend (amendResult set): nothing for the OMS.
  Parsed amended = parse(p, push({order_push(nofill + R"(,"state":"live","amendResult":"0")")}));
  ASSERT_TRUE(amended.r.ok());
  EXPECT_TRUE(amended.u.empty());
  EXPECT_EQ(amended.m.kind, ApiKind::execution_report);

  // Cancelled by the user, with what had filled.
  Parsed c = parse(p, push({order_push(R"("fillSz":"0","fillPx":"","tradeId":"","state":"canceled","cancelSource":"1","accFillSz":"0.0005")")}));
  ASSERT_TRUE(c.r.ok()) << c.r.describe();
  ASSERT_EQ(c.u.size(), 1u);
  EXPECT_EQ(c.u[0].kind, UpdateKind::cancelled);
  EXPECT_EQ(c.u[0].cum_qty, Qty(50'000));
  EXPECT_EQ(c.u[0].reason, RejectReason::none);
  EXPECT_EQ(c.u[0].venue_time_ns, 1654084353264000000);

  // A post-only order that would have taken: OKX accepted it, then cancelled it (cancelSource 31).
  Parsed po = parse(p, push({order_push(nofill + R"(,"state":"canceled","ordType":"post_only","cancelSource":"31")")}));
  ASSERT_TRUE(po.r.ok());
  ASSERT_EQ(po.u.size(), 1u);
  EXPECT_EQ(po.u[0].kind, UpdateKind::expired);
  EXPECT_EQ(po.u[0].reason, RejectReason::would_take);

  // An IOC remainder, a market order's, self-trade prevention: expired.
  for (const char* o : {R"(,"state":"canceled","ordType":"ioc","cancelSource":"14")",
                        R"(,"state":"canceled","ordType":"fok","cancelSource":"0")",
                        R"(,"state":"canceled","ordType":"market","cancelSource":"0")",
                        R"(,"state":"canceled","ordType":"limit","cancelSource":"32")"}) {
    Parsed x = parse(p, push({order_push(nofill + o)}));
    ASSERT_TRUE(x.r.ok()) << o;
    ASSERT_EQ(x.u.size(), 1u) << o;
    EXPECT_EQ(x.u[0].kind, UpdateKind::expired) << o;
  }
  // Cancelled for margin; MMP.
  Parsed m = parse(p, push({order_push(nofill + R"(,"state":"canceled","cancelSource":"34")")}));
  ASSERT_EQ(m.u.size(), 1u);
  EXPECT_EQ(m.u[0].kind, UpdateKind::cancelled);
  EXPECT_EQ(m.u[0].reason, RejectReason::insufficient_balance);
  Parsed mmp = parse(p, push({order_push(nofill + R"(,"state":"mmp_canceled","cancelSource":"39")")}));
  ASSERT_EQ(mmp.u.size(), 1u);
  EXPECT_EQ(mmp.u[0].kind, UpdateKind::cancelled);

  // An IOC order's last fill and its cancel in one push: the fill, then the close.
  Parsed fc = parse(p, push({order_push(R"("state":"canceled","ordType":"ioc","execType":"T")")}));
  ASSERT_TRUE(fc.r.ok());
  ASSERT_EQ(fc.u.size(), 2u);
  EXPECT_EQ(fc.u[0].kind, UpdateKind::fill);
  EXPECT_EQ(fc.u[1].kind, UpdateKind::expired);
  EXPECT_EQ(fc.u[1].cum_qty, Qty(100'000));

  // "filled" without a fill (a repeated push): nothing.
  Parsed rep = parse(p, push({order_push(nofill + R"(,"state":"filled","accFillSz":"0.001")")}));
  ASSERT_TRUE(rep.r.ok());
  EXPECT_TRUE(rep.u.empty());
}

TEST(OkxApiParser, SeveralOrdersPerPushForeignIdsAndAtomicity) {
  ApiParser p(instruments(), "hx", 1u << 16);
  const std::string nofill = R"("fillSz":"0","fillPx":"","tradeId":"","fillTime":"","accFillSz":"0")";
  Parsed s = parse(p, push({order_push(nofill + R"(,"state":"live","clOrdId":"hx1")"),
                            order_push(R"("clOrdId":"somebody","side":"buy","instId":"ETH-USDT","fillPx":"3000.01","fillSz":"0.5","accFillSz":"0.5")"),
                            order_push(nofill + R"(,"state":"canceled","clOrdId":"hx3")")}));
  ASSERT_TRUE(s.r.ok()) << s.r.describe();
  ASSERT_EQ(s.u.size(), 3u);
  EXPECT_EQ(s.u[0].kind, UpdateKind::ack);
  EXPECT_EQ(s.u[0].client_id, 1u);
  EXPECT_EQ(s.u[1].kind, UpdateKind::fill);
  EXPECT_EQ(s.u[1].client_id, 0u);
  EXPECT_EQ(s.u[1].instrument, 1u);
  EXPECT_EQ(s.u[1].side, Side::bid);
  EXPECT_EQ(s.u[1].last_price, Price(300'001));
  EXPECT_EQ(s.u[1].last_qty, Qty(500'000));
  EXPECT_EQ(s.u[2].kind, UpdateKind::cancelled);
  EXPECT_EQ(s.u[2].client_id, 3u);
  EXPECT_EQ(s.m.updates, 3u);
  EXPECT_EQ(p.stats().foreign_orders, 1u);

  // An order of an instrument we do not trade in the middle: the message fails, naming instId, and delivers
  // nothing (not even the first order's ack).
  Parsed bad = parse(p, push({order_push(nofill + R"(,"state":"live")"), order_push("", "XRP-USDT")}));
  EXPECT_EQ(bad.r.status, ApiStatus::unknown_symbol);
  EXPECT_STREQ(bad.r.field, "instId");
  EXPECT_TRUE(bad.u.empty());
  EXPECT_EQ(bad.m.updates, 0u);

  // More updates than the stage holds (30 fills): read again and delivered in order.
  std::vector<std::string> many;
  for (int i = 1; i <= 30; ++i)
    many.push_back(order_push(std::string(R"("clOrdId":"hx)") + std::to_string(i) + R"(","tradeId":")" +
                              std::to_string(1000 + i) + R"(")"));
  Parsed lots = parse(p, push(many));
  ASSERT_TRUE(lots.r.ok()) << lots.r.describe();
  ASSERT_EQ(lots.u.size(), 30u);
  for (std::size_t i = 0; i < 30; ++i) {
    EXPECT_EQ(lots.u[i].client_id, i + 1);
    EXPECT_EQ(lots.u[i].trade_id, 1001 + i);
  }
  EXPECT_EQ(lots.m.updates, 30u);
  // The same with the 30th order bad: nothing delivered.
  many.back() = order_push(R"("fillPx":"31527.15")");
  Parsed lots_bad = parse(p, push(many));
  EXPECT_EQ(lots_bad.r.status, ApiStatus::bad_number);
  EXPECT_STREQ(lots_bad.r.field, "fillPx");
  EXPECT_EQ(lots_bad.r.detail, static_cast<std::uint8_t>(FixedStatus::off_grid));
  EXPECT_TRUE(lots_bad.u.empty());

  // Into a span too small: the first ones, too_many_updates.
  std::string buf = push(many.size() > 3 ? std::vector<std::string>(many.begin(), many.begin() + 3) : many);
  const std::size_t len = buf.size();
  buf.resize(len + hftx::md::kJsonPadding, '\0');
  OrderUpdate two[2];
  ApiMessage m;
  const ApiParseResult r = p.parse(std::string_view(buf.data(), len), buf.size(), 0, m, std::span(two));
  EXPECT_EQ(r.status, ApiStatus::too_many_updates);
  EXPECT_EQ(m.updates, 2u);
  EXPECT_EQ(two[1].client_id, 2u);
}

TEST(OkxApiParser, MemberOrderDoesNotMatter) {
  ApiParser p(instruments(), "hx", 1u << 16);
  // data before op and id; before arg; a duplicate op (the last one counts, as simdjson's DOM would say).
  Parsed a = parse(p, R"({"data":[{"clOrdId":"","ordId":"5","ts":"1","sCode":"0","sMsg":""}],"code":"0","msg":"","op":"order","id":"p8"})");
  ASSERT_TRUE(a.r.ok()) << a.r.describe();
  ASSERT_EQ(a.u.size(), 1u);
  EXPECT_EQ(a.u[0].kind, UpdateKind::ack);
  EXPECT_EQ(a.u[0].client_id, 8u);  // from the id, which came last
  Parsed b = parse(p, std::string(R"({"data":[)") + order_push("") + R"(],"arg":{"channel":"orders"}})");
  ASSERT_TRUE(b.r.ok()) << b.r.describe();
  ASSERT_EQ(b.u.size(), 1u);
  EXPECT_EQ(b.u[0].kind, UpdateKind::fill);
  Parsed c = parse(p, R"({"id":"c8","op":"order","data":[{"clOrdId":"","ordId":"5","sCode":"51400","sMsg":""}],"code":"1","msg":"","op":"cancel-order"})");
  ASSERT_TRUE(c.r.ok()) << c.r.describe();
  EXPECT_EQ(c.m.kind, ApiKind::cancel);
  ASSERT_EQ(c.u.size(), 1u);
  EXPECT_EQ(c.u[0].kind, UpdateKind::cancel_rejected);
  EXPECT_EQ(c.u[0].client_id, 8u);
  // A push read as an orders push, then an "op" that makes it an answer to something else: nothing delivered.
  Parsed d = parse(p, std::string(R"({"arg":{"channel":"orders"},"data":[)") + order_push("") +
                          R"(],"op":"mass-cancel","code":"0"})");
  ASSERT_TRUE(d.r.ok()) << d.r.describe();
  EXPECT_EQ(d.m.kind, ApiKind::other_response);
  EXPECT_TRUE(d.u.empty());
}

TEST(OkxApiParser, MalformedInputNamesTheField) {
  ApiParser p(instruments(), "hx", 1u << 12);
  struct Case {
    std::string text;
    ApiStatus status;
    const char* field;
  };
  const std::string nofill = R"("fillSz":"0","fillPx":"","tradeId":"")";
  const std::vector<Case> cases = {
      {R"({"id":"p1","op":"order","data":[{"ordId":"1"}],"code":"0","msg":""})", ApiStatus::missing_field, "sCode"},
      {R"({"id":"p1","op":"order","data":[{"sCode":0}],"code":"0","msg":""})", ApiStatus::wrong_type, "sCode"},
      {R"({"id":"p1","op":"order","data":[{"sCode":"x1"}],"code":"0","msg":""})", ApiStatus::wrong_type, "sCode"},
      {R"({"id":"p1","op":"order","data":[{"sCode":"0","ordId":"12a"}],"code":"0","msg":""})", ApiStatus::wrong_type, "ordId"},
      {R"({"id":"p1","op":"order","data":[{"sCode":"0","ts":"-1"}],"code":"0","msg":""})", ApiStatus::wrong_type, "ts"},
      {R"({"id":"p1","op":"order","data":[{"sCode":"0","clOrdId":7}],"code":"0","msg":""})", ApiStatus::wrong_type, "clOrdId"},
      {R"({"id":"p1","op":"order","data":[{"sCode":"0"}],"msg":""})", ApiStatus::missing_field, "code"},
      {R"({"id":"p1","op":"order","data":[{"sCode":"0"}],"code":0})", ApiStatus::wrong_type, "code"},
      {R"({"id":"p1","op":"order","data":[],"code":"0"})", ApiStatus::missing_field, "data"},
      {R"({"id":"p1","op":"order","code":"0"})", ApiStatus::missing_field, "data"},
      {R"({"id":"p1","op":"order","data":{},"code":"0"})", ApiStatus::wrong_type, "data"},
      {R"({"id":"p1","op":"order","data":[1],"code":"0"})", ApiStatus::not_object, "data"},
      {R"({"id":1,"op":"order","data":[],"code":"0"})", ApiStatus::wrong_type, "id"},
      {R"({"id":"p1","op":"order","data":[{"sCode":"0"}],"code":"0","outTime":"1.5"})", ApiStatus::wrong_type, "outTime"},
      {push({order_push(R"("state":"open")")}), ApiStatus::unknown_message, "state"},
      {push({order_push(R"("side":"up")")}), ApiStatus::wrong_type, "side"},
      {push({order_push(R"("fillPx":"31527.15")")}), ApiStatus::bad_number, "fillPx"},
      {push({order_push(R"("fillPx":"")")}), ApiStatus::bad_number, "fillPx"},
      {push({order_push(R"("fillSz":"-0.001")")}), ApiStatus::bad_number, "fillSz"},
      {push({order_push(R"("accFillSz":"1e3")")}), ApiStatus::bad_number, "accFillSz"},
      {push({order_push(R"("tradeId":"")")}), ApiStatus::wrong_type, "tradeId"},
      {push({order_push(R"("execType":"X")")}), ApiStatus::wrong_type, "execType"},
      {push({order_push(R"("fillTime":"soon")")}), ApiStatus::wrong_type, "fillTime"},
      {push({order_push(R"("uTime":"99999999999999999999")")}), ApiStatus::wrong_type, "uTime"},
      {push({order_push(R"("ordId":"")")}), ApiStatus::wrong_type, "ordId"},
      {push({order_push(nofill + R"(,"state":"live")", "DOGE-USDT")}), ApiStatus::unknown_symbol, "instId"},
      {R"({"arg":{"channel":"orders"},"data":[{"instId":"BTC-USDT","ordId":"1","side":"buy","accFillSz":"0"}]})",
       ApiStatus::missing_field, "state"},
      {R"({"arg":{"channel":"orders"},"data":[{"ordId":"1"}]})", ApiStatus::missing_field, "instId"},
      {R"({"arg":{"channel":"orders"}})", ApiStatus::missing_field, "data"},
      {R"({"arg":"orders","data":[]})", ApiStatus::not_object, "arg"},
      {R"({"arg":{"channel":7},"data":[]})", ApiStatus::wrong_type, "channel"},
      {R"({"hello":"world"})", ApiStatus::unknown_message, ""},
      {R"([1,2])", ApiStatus::not_object, ""},
      {R"({"event":"login","code":"0"} {})", ApiStatus::trailing_content, ""},
      {R"({"event":"login","code":"0)", ApiStatus::json_error, ""},
      {std::string(5000, ' '), ApiStatus::too_large, ""},
  };
  for (const Case& c : cases) {
    Parsed r = parse(p, c.text);
    EXPECT_EQ(r.r.status, c.status) << c.text << " → " << r.r.describe();
    EXPECT_STREQ(r.r.field, c.field) << c.text;
    EXPECT_TRUE(r.u.empty()) << c.text;
    EXPECT_FALSE(r.r.describe().empty());
  }
  EXPECT_EQ(p.stats().errors(), cases.size());
  EXPECT_EQ(p.stats().messages, cases.size());
}

TEST(OkxApiParser, UnpaddedInputAndClientIds) {
  ApiParser p(instruments(), "hx", 1u << 16);
  // Exactly the message's bytes on the heap (ASan flags any read past them).
  for (const char* text : {kOrderAck, kOrderRejected}) {
    const std::size_t n = std::strlen(text);
    std::unique_ptr<char[]> exact(new char[n]);
    std::memcpy(exact.get(), text, n);
    std::vector<OrderUpdate> got;
    auto sink = [&](const OrderUpdate& u) noexcept { got.push_back(u); };
    ApiMessage m;
    ASSERT_TRUE(p.parse_unpadded(std::string_view(exact.get(), n), 3, m, UpdateSink(sink)).ok());
    ASSERT_EQ(got.size(), 1u);
    exact.reset();
    if (m.is_error()) {
      EXPECT_EQ(m.error_msg, "Order failed. Insufficient USDT balance in account.");  // our copy
    }
  }
  EXPECT_EQ(p.client_id_of("hx42"), 42u);
  EXPECT_EQ(p.client_id_of("hx18446744073709551615"), 18446744073709551615ull);
  EXPECT_EQ(p.client_id_of("hx18446744073709551616"), 0u);
  EXPECT_EQ(p.client_id_of("hx99999999999999999999"), 0u);
  EXPECT_EQ(p.client_id_of("hx100000000000000000000"), 0u);  // 21 digits
  EXPECT_EQ(p.client_id_of("hx9999999999999999999"), 9999999999999999999ull);
  EXPECT_EQ(p.client_id_of("hx12345678"), 12345678u);
  EXPECT_EQ(p.client_id_of("hx123456789012345678"), 123456789012345678u);
  EXPECT_EQ(p.client_id_of("hx00000001"), 1u);
  EXPECT_EQ(p.client_id_of("hx1234567a9"), 0u);
  EXPECT_EQ(p.client_id_of("hx123456789/"), 0u);
  EXPECT_EQ(p.client_id_of("hx1234567890123456789:"), 0u);
  EXPECT_EQ(p.client_id_of("hx"), 0u);
  EXPECT_EQ(p.client_id_of("hx4a"), 0u);
  EXPECT_EQ(p.client_id_of("HX42"), 0u);
  EXPECT_EQ(p.client_id_of(""), 0u);
  InstrumentId id = 9;
  EXPECT_TRUE(p.instrument_of("ETH-USDT", id));
  EXPECT_EQ(id, 1u);
  EXPECT_FALSE(p.instrument_of("ETH-USDC", id));
}

TEST(OkxApiRoundTrip, EncoderIdsMapBackThroughTheParser) {
  ApiEncoder e = make_encoder(Market::spot, "", instruments(), "Q7");
  ApiParser p(instruments(), "Q7");
  for (ClientOrderId id : {1ull, 42ull, 1234567890123ull, 18446744073709551615ull}) {
    const std::string sent = encode(e, [&](char* o, std::size_t c) { return e.encode_place(id, limit_buy(), o, c); });
    const auto field = [&](const std::string& key) {
      const std::size_t a = sent.find("\"" + key + "\":\"") + key.size() + 4;
      return sent.substr(a, sent.find('"', a) - a);
    };
    const std::string answer = R"({"id":")" + field("id") + R"(","op":"order","data":[{"clOrdId":")" +
                               field("clOrdId") + R"(","ordId":"1","tag":"","ts":"1","sCode":"0","sMsg":""}],"code":"0","msg":""})";
    Parsed a = parse(p, answer);
    ASSERT_TRUE(a.r.ok());
    ASSERT_EQ(a.u.size(), 1u);
    EXPECT_EQ(a.u[0].client_id, id);
    EXPECT_EQ(a.m.request, id);
  }
}

// ------------------------------------------------------------------------- the hand scanner vs simdjson

struct BothWays {
  ApiParser fast{instruments(), "hx", 1u << 16};
  ApiParser slow{instruments(), "hx", 1u << 16};
  BothWays() { slow.set_fast_path(false); }

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

TEST(OkxApiParserFastPath, ReadsTheAcksAsSimdjsonDoes) {
  BothWays p;
  for (const std::string& t :
       {std::string(kOrderAck),
        std::string(R"({"id":"p7","op":"order","data":[{"sCode":"0"}],"code":"0","msg":""})"),
        std::string(R"({"id":"p7","op":"order","data":[{"sMsg":"","sCode":"0","ordId":"","ts":"","clOrdId":"hx9"}],"code":"0","msg":"ok","outTime":"5"})"),
        std::string(R"({"id":"p7","op":"order","data":[{"sCode":"0","subCode":"","tag":"t"}],"code":"0","msg":"","inTime":"x"})"),
        std::string(R"({"id":"p18446744073709551615","op":"order","data":[{"clOrdId":"other","ordId":"18446744073709551615","sCode":"0"}],"code":"0","msg":""})")}) {
    bool scanned = false;
    EXPECT_TRUE(p.same(t, &scanned)) << t;
    EXPECT_TRUE(scanned) << t;
  }
  // Declined (left to simdjson), with the same result as simdjson alone, errors included.
  for (const std::string& t : {
           std::string(kOrderRejected), std::string(kOrderRefused),
           std::string(R"({"id":"p42", "op":"order","data":[{"sCode":"0"}],"code":"0","msg":""})"),   // whitespace
           std::string(R"({"id":"c42","op":"cancel-order","data":[{"sCode":"0"}],"code":"0","msg":""})"),
           std::string(R"({"id":"p0","op":"order","data":[{"sCode":"0"}],"code":"0","msg":""})"),     // id 0
           std::string(R"({"id":"p42","op":"order","data":[{}],"code":"0","msg":""})"),               // empty element
           std::string(R"({"id":"p42","op":"order","data":[{"sCode":"0","sCode":"0"}],"code":"0","msg":""})"),
           std::string(R"({"id":"p42","op":"order","data":[{"sCode":"0","ordId":"-1"}],"code":"0","msg":""})"),
           std::string(R"({"id":"p42","op":"order","data":[{"sCode":"0","ordId":1}],"code":"0","msg":""})"),
           std::string("{\"id\":\"p42\",\"op\":\"order\",\"data\":[{\"sCode\":\"0\",\"clOrdId\":\"hx\\u0034\"}],\"code\":\"0\",\"msg\":\"\"}"),
           std::string(R"({"id":"p42","op":"order","data":[{"sCode":"0"},{"sCode":"0"}],"code":"0","msg":""})"),
           std::string(R"({"id":"p42","op":"order","data":[{"sCode":"0"}],"code":"0","msg":"","outTime":"-3"})"),
           std::string(R"({"id":"p42","op":"order","data":[{"sCode":"0"}],"code":"0","msg":"","x":1})"),
           std::string(R"({"id":"p42","op":"order","data":[{"sCode":"0"}],"code":"0","msg":""} )"),
           std::string(R"({"id":"p42","op":"order","data":[{"sCode":"0"}],"code":"0","msg":""}x)"),
           std::string(R"({"op":"order","id":"p42","data":[{"sCode":"0"}],"code":"0","msg":""})")}) {
    bool scanned = true;
    EXPECT_TRUE(p.same(t, &scanned)) << t;
    EXPECT_FALSE(scanned) << t;
  }
  // Every truncation and random damage of every shape: whichever path reads it, the result is simdjson's.
  std::vector<std::string> shapes = {kOrderAck, kOrderRejected, kOrderRefused, push({order_push("")}),
                                     R"({"event":"login","code":"0","msg":"","connId":"a4d3ae55"})"};
  std::uint64_t x = 0x9e3779b97f4a7c15ull;
  const std::string alphabet = "{}[]\":,-0123456789.eE \\tnul\x7f\x80";
  for (const std::string& shape : shapes) {
    for (std::size_t n = 0; n <= shape.size(); ++n) ASSERT_TRUE(p.same(shape.substr(0, n))) << n;
    for (int i = 0; i < 5000; ++i) {
      std::string t = shape;
      for (int k = 0; k < 1 + i % 3; ++k) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        const auto at = static_cast<std::size_t>(x % t.size());
        t[at] = (x >> 32) % 4 == 0 ? static_cast<char>(x >> 40)
                                   : alphabet[static_cast<std::size_t>((x >> 40) % alphabet.size())];
      }
      ASSERT_TRUE(p.same(t)) << t;
    }
  }
  EXPECT_GT(p.fast.stats().scanned, 0u);
}

}  // namespace
