// Binance WebSocket API gateway: request signing, request encoding, response / execution-report parsing.
// See hftx/venue/binance/order_codec.hpp for the contract.
//
// HMAC-SHA256 is keyed once at setup (oms::HmacSha256): a signature costs the message's blocks plus one
// outer block, no EVP context, no allocation. Ed25519 signs through EVP.
//
// Parsing is simdjson On-Demand, with one hand scanner in front of it (scan_place_ack(), on
// detail::FastScan, shared with the market-data parser) for the response every order gets.

#include "hftx/venue/binance/order_codec.hpp"

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <simdjson.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>

#include "hftx/core/error.hpp"
#include "hftx/md/events.hpp"
#include "hftx/oms/hmac_sha256.hpp"
#include "md/json_detail.hpp"
#include "md/json_scan.hpp"
#include "oms/request_text.hpp"
#include "venue/binance/pem_text.hpp"

namespace hftx::venue::binance {

using namespace hftx::oms;  // the neutral words this codec speaks

namespace od = simdjson::ondemand;

// =============================================================================================== signing

struct RequestSigner::Impl {
  std::optional<HmacSha256> hmac;
  EVP_PKEY* pkey = nullptr;
  EVP_MD_CTX* md = nullptr;
  mutable std::uint64_t failures = 0;

  Impl() = default;
  Impl(const Impl&) = delete;
  Impl& operator=(const Impl&) = delete;
  ~Impl() {
    EVP_MD_CTX_free(md);
    EVP_PKEY_free(pkey);
  }
};

namespace {

constexpr char kHex[] = "0123456789abcdef";

bool looks_like_pem(std::string_view s) noexcept {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\n' || s.front() == '\r' || s.front() == '\t'))
    s.remove_prefix(1);
  return s.starts_with("-----BEGIN");
}

}  // namespace

RequestSigner::RequestSigner(SignatureType type, std::unique_ptr<Impl> impl) noexcept
    : type_(type), impl_(std::move(impl)) {}
RequestSigner::RequestSigner(RequestSigner&&) noexcept = default;
RequestSigner& RequestSigner::operator=(RequestSigner&&) noexcept = default;
RequestSigner::~RequestSigner() = default;

RequestSigner RequestSigner::hmac_sha256(std::string_view secret) {
  if (secret.empty()) throw ConfigError("RequestSigner: the HMAC secret key is empty (expected the API secret)");
  auto impl = std::make_unique<Impl>();
  impl->hmac.emplace(secret);
  return RequestSigner(SignatureType::hmac_sha256, std::move(impl));
}

RequestSigner RequestSigner::ed25519_pem(std::string_view pem) {
  std::string text = detail::pem_with_newlines(pem);  // environment variables carry "\n" for newlines
  auto impl = std::make_unique<Impl>();
  BIO* bio = BIO_new_mem_buf(text.data(), static_cast<int>(text.size()));
  if (bio == nullptr) throw ConfigError("RequestSigner: BIO_new_mem_buf failed");
  impl->pkey = PEM_read_bio_PrivateKey(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  OPENSSL_cleanse(text.data(), text.size());
  if (impl->pkey == nullptr)
    throw ConfigError("RequestSigner: the secret key is PEM but not a readable unencrypted private key "
                      "(expected '-----BEGIN PRIVATE KEY-----' PKCS#8 Ed25519)");
  if (EVP_PKEY_id(impl->pkey) != EVP_PKEY_ED25519)
    throw ConfigError("RequestSigner: the PEM private key is not Ed25519 (only Ed25519 and HMAC keys are supported)");
  impl->md = EVP_MD_CTX_new();
  if (impl->md == nullptr) throw ConfigError("RequestSigner: EVP_MD_CTX_new failed");
  return RequestSigner(SignatureType::ed25519, std::move(impl));
}

RequestSigner RequestSigner::from_secret(std::string_view secret) {
  return looks_like_pem(secret) ? ed25519_pem(secret) : hmac_sha256(secret);
}

std::uint64_t RequestSigner::failures() const noexcept { return impl_->failures; }

std::size_t RequestSigner::sign(std::string_view payload, char* out) const noexcept {
  Impl& im = *impl_;
  if (type_ == SignatureType::hmac_sha256) {
    unsigned char digest[HmacSha256::kDigestSize];
    im.hmac->mac(payload, digest);
    for (std::size_t i = 0; i < HmacSha256::kDigestSize; ++i) {
      out[2 * i] = kHex[digest[i] >> 4];
      out[2 * i + 1] = kHex[digest[i] & 0xfu];
    }
    return kHmacSize;
  }
  unsigned char sig[64];
  std::size_t sig_len = sizeof sig;
  if (EVP_DigestSignInit(im.md, nullptr, nullptr, nullptr, im.pkey) != 1 ||
      EVP_DigestSign(im.md, sig, &sig_len, reinterpret_cast<const unsigned char*>(payload.data()), payload.size()) !=
          1 ||
      sig_len != sizeof sig) {
    ++im.failures;
    return 0;
  }
  unsigned char b64[kEd25519Size + 1];  // EVP_EncodeBlock writes a NUL
  if (EVP_EncodeBlock(b64, sig, static_cast<int>(sizeof sig)) != static_cast<int>(kEd25519Size)) {
    ++im.failures;
    return 0;
  }
  std::memcpy(out, b64, kEd25519Size);
  return kEd25519Size;
}

namespace {

bool sendable_key(std::string_view s) noexcept {
  for (const char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (c < 0x21 || c > 0x7e || c == '"' || c == '\\' || c == '&' || c == '=') return false;
  }
  return true;
}

std::string env_or_throw(std::string_view name, const char* what) {
  if (name.empty()) throw ConfigError(std::string("venue.") + what + " is empty: expected the name of an environment variable");
  const std::string n(name);
  const char* v = std::getenv(n.c_str());
  if (v == nullptr || *v == '\0')
    throw ConfigError("environment variable '" + n + "' (venue." + what + ") is not set: expected the " +
                      (std::string_view(what) == "api_key_env" ? "Binance API key" : "API secret (HMAC) or Ed25519 PEM private key"));
  return v;
}

}  // namespace

ApiCredentials ApiCredentials::from_env(std::string_view api_key_env, std::string_view secret_key_env) {
  std::string key = env_or_throw(api_key_env, "api_key_env");
  if (!sendable_key(key))
    throw ConfigError("environment variable '" + std::string(api_key_env) +
                      "': the API key has characters that cannot be sent (expected printable ASCII without '\"', "
                      "'\\\\', '&', '=' or spaces)");
  std::string secret = env_or_throw(secret_key_env, "secret_key_env");
  RequestSigner signer = RequestSigner::from_secret(secret);
  OPENSSL_cleanse(secret.data(), secret.size());
  return ApiCredentials{std::move(key), std::move(signer)};
}

// ============================================================================================== encoding

namespace {

using Out = hftx::detail::RequestWriter;
using hftx::detail::fixed_text;
using hftx::detail::U64Text;

// One string param: `"name":"value",` into the JSON and `name=value&` into the signature payload.
#define HFTX_PARAM_STR(name, value)   \
  do {                                \
    js.lit("\"" name "\":\"");        \
    js.put(value);                    \
    js.lit("\",");                    \
    pay.lit(name "=");                \
    pay.put(value);                   \
    pay.lit("&");                     \
  } while (0)
// One integer param (unquoted in the JSON).
#define HFTX_PARAM_NUM(name, value)   \
  do {                                \
    js.lit("\"" name "\":");          \
    js.put(value);                    \
    js.lit(",");                      \
    pay.lit(name "=");                \
    pay.put(value);                   \
    pay.lit("&");                     \
  } while (0)

constexpr std::size_t kPayloadCap = 1024;  // the longest payload: bounded at setup (api key <= 256, ids <= 37)

bool valid_token(std::string_view s, std::size_t max) noexcept {
  if (s.empty() || s.size() > max) return false;
  for (const char c : s)
    if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-'))
      return false;
  return true;
}

}  // namespace

ApiEncoder::ApiEncoder(ApiEncoderConfig config, RequestSigner signer)
    : api_key_(std::move(config.api_key)), signer_(std::move(signer)), prefix_(std::move(config.client_id_prefix)) {
  if (api_key_.empty() || api_key_.size() > 256 || !sendable_key(api_key_))
    throw ConfigError("api_key: expected 1..256 printable ASCII characters without '\"', '\\\\', '&', '=' or spaces");
  if (config.recv_window_ms < 1 || config.recv_window_ms > 60000)
    throw ConfigError("venue.recv_window_ms: " + std::to_string(config.recv_window_ms) +
                      " is out of range (expected 1..60000 ms, Binance's maximum)");
  if (!valid_token(prefix_, 16))
    throw ConfigError("venue.client_id_prefix: '" + prefix_ +
                      "' is invalid (expected 1..16 characters of [A-Za-z0-9_-], so that prefix + 20 digits <= 36)");
  recv_window_ = std::to_string(config.recv_window_ms);
  instruments_ = ApiInstruments(std::move(config.instruments));
  const std::size_t longest_symbol = instruments_.longest_symbol();
  // Fixed text (~330 bytes for order.place) + variable fields at their maxima; generous by design.
  max_request_ = 512 + api_key_.size() + longest_symbol + 2 * 40 + 2 * kMaxFixedText + 3 * 20 +
                 RequestSigner::kMaxSignatureSize;
  static_assert(kPayloadCap >= 256 + 32 + 2 * 40 + 2 * kMaxFixedText + 3 * 20 + 256, "payload bound");
}

std::size_t ApiEncoder::format_client_id(ClientOrderId id, char* out) const noexcept {
  std::memcpy(out, prefix_.data(), prefix_.size());
  const U64Text digits(id);
  std::memcpy(out + prefix_.size(), digits.text.data(), digits.text.size());
  return prefix_.size() + digits.text.size();
}

std::size_t ApiEncoder::finish(EncodeStatus s, std::size_t n) noexcept {
  last_ = s;
  ++stats_.requests;
  ++stats_.by_status[static_cast<std::size_t>(s)];
  return s == EncodeStatus::ok ? n : 0;
}

namespace {

// Appends `"signature":"<sig>"}}` signing pay[0, used - 1) (the trailing '&' dropped).
HFTX_FORCE_INLINE EncodeStatus sign_and_close(const RequestSigner& signer, Out& js, const char* pay_begin,
                                              const Out& pay) noexcept {
  if (HFTX_UNLIKELY(!pay.ok)) return EncodeStatus::too_small;  // cannot happen: bounded at setup
  const auto len = static_cast<std::size_t>(pay.p - pay_begin) - 1;
  js.lit("\"signature\":\"");
  if (HFTX_UNLIKELY(static_cast<std::size_t>(js.end - js.p) < signer.signature_size() + 3)) return EncodeStatus::too_small;
  const std::size_t n = signer.sign(std::string_view(pay_begin, len), js.p);
  if (HFTX_UNLIKELY(n == 0)) return EncodeStatus::sign_failed;
  js.p += n;
  js.lit("\"}}");
  return js.ok ? EncodeStatus::ok : EncodeStatus::too_small;
}

// Closes a request that needs authentication: signed, or once the connection is logged on (session.logon)
// with neither apiKey nor signature, which Binance then takes from the connection. A logged-on request's
// params end with the ',' of the last one: it becomes the closing brace.
HFTX_FORCE_INLINE EncodeStatus authenticate_and_close(const RequestSigner& signer, bool logged_on, Out& js,
                                                      const char* pay_begin, const Out& pay) noexcept {
  if (!logged_on) return sign_and_close(signer, js, pay_begin, pay);
  if (HFTX_UNLIKELY(!js.ok)) return EncodeStatus::too_small;
  --js.p;
  js.lit("}}");
  return js.ok ? EncodeStatus::ok : EncodeStatus::too_small;
}

}  // namespace

std::size_t ApiEncoder::encode_place(ClientOrderId id, const OrderRequest& req, std::int64_t timestamp_ms,
                                            char* out, std::size_t cap) noexcept {
  if (HFTX_UNLIKELY(req.instrument >= instruments_.size())) return finish(EncodeStatus::unknown_instrument, 0);
  const bool market = req.type == OrderType::market;
  if (HFTX_UNLIKELY(id == 0 || req.qty.raw() <= 0 || timestamp_ms <= 0 || (!market && req.price.raw() <= 0) ||
                    (market && req.post_only)))
    return finish(EncodeStatus::bad_request, 0);
  const ApiInstrument& in = instruments_[req.instrument];

  char cid[40];
  const std::size_t cid_len = format_client_id(id, cid);
  char px[kMaxFixedText];
  const std::size_t px_len = market ? 0 : fixed_text(req.price.raw(), in.price_scale, px);
  char qty[kMaxFixedText];
  const std::size_t qty_len = fixed_text(req.qty.raw(), in.qty_scale, qty);
  const U64Text ts(static_cast<std::uint64_t>(timestamp_ms));

  char payload[kPayloadCap];
  Out js{out, out + cap};
  Out pay{payload, logged_on_ ? payload : payload + kPayloadCap};  // no payload when logged on
  js.lit("{\"id\":\"p");
  js.put(cid + prefix_.size(), cid_len - prefix_.size());
  js.lit("\",\"method\":\"order.place\",\"params\":{");
  // Sorted by name (byte order): the signature payload is the params in this order.
  if (!logged_on_) HFTX_PARAM_STR("apiKey", api_key_);
  HFTX_PARAM_STR("newClientOrderId", std::string_view(cid, cid_len));
  HFTX_PARAM_STR("newOrderRespType", std::string_view("ACK"));
  if (!market) HFTX_PARAM_STR("price", std::string_view(px, px_len));
  HFTX_PARAM_STR("quantity", std::string_view(qty, qty_len));
  HFTX_PARAM_NUM("recvWindow", recv_window_);
  HFTX_PARAM_STR("side", req.side == Side::bid ? std::string_view("BUY") : std::string_view("SELL"));
  HFTX_PARAM_STR("symbol", in.symbol);
  if (!market && !req.post_only) {
    const std::string_view tif = req.tif == TimeInForce::gtc   ? std::string_view("GTC")
                                 : req.tif == TimeInForce::ioc ? std::string_view("IOC")
                                                               : std::string_view("FOK");
    HFTX_PARAM_STR("timeInForce", tif);
  }
  HFTX_PARAM_NUM("timestamp", ts.text);
  HFTX_PARAM_STR("type", market          ? std::string_view("MARKET")
                         : req.post_only ? std::string_view("LIMIT_MAKER")
                                         : std::string_view("LIMIT"));
  const EncodeStatus s = authenticate_and_close(signer_, logged_on_, js, payload, pay);
  return finish(s, static_cast<std::size_t>(js.p - out));
}

std::size_t ApiEncoder::encode_by_client_id(char letter, std::string_view method, ClientOrderId id,
                                                   InstrumentId instrument, std::int64_t timestamp_ms, char* out,
                                                   std::size_t cap) noexcept {
  if (HFTX_UNLIKELY(instrument >= instruments_.size())) return finish(EncodeStatus::unknown_instrument, 0);
  if (HFTX_UNLIKELY(id == 0 || timestamp_ms <= 0)) return finish(EncodeStatus::bad_request, 0);
  const ApiInstrument& in = instruments_[instrument];
  char cid[40];
  const std::size_t cid_len = format_client_id(id, cid);
  const U64Text ts(static_cast<std::uint64_t>(timestamp_ms));

  char payload[kPayloadCap];
  Out js{out, out + cap};
  Out pay{payload, logged_on_ ? payload : payload + kPayloadCap};  // no payload when logged on
  js.lit("{\"id\":\"");
  js.put(&letter, 1);
  js.put(cid + prefix_.size(), cid_len - prefix_.size());
  js.lit("\",\"method\":\"");
  js.put(method);
  js.lit("\",\"params\":{");
  if (!logged_on_) HFTX_PARAM_STR("apiKey", api_key_);
  HFTX_PARAM_STR("origClientOrderId", std::string_view(cid, cid_len));
  HFTX_PARAM_NUM("recvWindow", recv_window_);
  HFTX_PARAM_STR("symbol", in.symbol);
  HFTX_PARAM_NUM("timestamp", ts.text);
  const EncodeStatus s = authenticate_and_close(signer_, logged_on_, js, payload, pay);
  return finish(s, static_cast<std::size_t>(js.p - out));
}

std::size_t ApiEncoder::encode_cancel(ClientOrderId id, InstrumentId instrument, std::int64_t timestamp_ms,
                                             char* out, std::size_t cap) noexcept {
  return encode_by_client_id('c', "order.cancel", id, instrument, timestamp_ms, out, cap);
}

std::size_t ApiEncoder::encode_order_status(ClientOrderId id, InstrumentId instrument,
                                                   std::int64_t timestamp_ms, char* out, std::size_t cap) noexcept {
  return encode_by_client_id('q', "order.status", id, instrument, timestamp_ms, out, cap);
}

std::size_t ApiEncoder::encode_cancel_all(InstrumentId instrument, std::uint64_t n, std::int64_t timestamp_ms,
                                                 char* out, std::size_t cap) noexcept {
  if (HFTX_UNLIKELY(instrument >= instruments_.size())) return finish(EncodeStatus::unknown_instrument, 0);
  if (HFTX_UNLIKELY(timestamp_ms <= 0)) return finish(EncodeStatus::bad_request, 0);
  const ApiInstrument& in = instruments_[instrument];
  const U64Text ts(static_cast<std::uint64_t>(timestamp_ms));
  char payload[kPayloadCap];
  Out js{out, out + cap};
  Out pay{payload, logged_on_ ? payload : payload + kPayloadCap};  // no payload when logged on
  js.lit("{\"id\":\"a");
  js.u64(n);
  js.lit("\",\"method\":\"openOrders.cancelAll\",\"params\":{");
  if (!logged_on_) HFTX_PARAM_STR("apiKey", api_key_);
  HFTX_PARAM_NUM("recvWindow", recv_window_);
  HFTX_PARAM_STR("symbol", in.symbol);
  HFTX_PARAM_NUM("timestamp", ts.text);
  const EncodeStatus s = authenticate_and_close(signer_, logged_on_, js, payload, pay);
  return finish(s, static_cast<std::size_t>(js.p - out));
}

// The requests about the key itself (userDataStream.subscribe.signature, session.logon): apiKey,
// recvWindow where the method takes one, timestamp; always signed.
std::size_t ApiEncoder::encode_key_request(char letter, std::string_view method, bool recv_window,
                                                  std::uint64_t n, std::int64_t timestamp_ms, char* out,
                                                  std::size_t cap) noexcept {
  if (HFTX_UNLIKELY(timestamp_ms <= 0)) return finish(EncodeStatus::bad_request, 0);
  const U64Text ts(static_cast<std::uint64_t>(timestamp_ms));
  char payload[kPayloadCap];
  Out js{out, out + cap};
  Out pay{payload, payload + kPayloadCap};
  js.lit("{\"id\":\"");
  js.put(&letter, 1);
  js.u64(n);
  js.lit("\",\"method\":\"");
  js.put(method);
  js.lit("\",\"params\":{");
  HFTX_PARAM_STR("apiKey", api_key_);
  if (recv_window) HFTX_PARAM_NUM("recvWindow", recv_window_);
  HFTX_PARAM_NUM("timestamp", ts.text);
  const EncodeStatus s = sign_and_close(signer_, js, payload, pay);
  return finish(s, static_cast<std::size_t>(js.p - out));
}

std::size_t ApiEncoder::encode_subscribe(std::uint64_t n, std::int64_t timestamp_ms, char* out,
                                                std::size_t cap) noexcept {
  return encode_key_request('s', "userDataStream.subscribe.signature", false, n, timestamp_ms, out, cap);
}

std::size_t ApiEncoder::encode_logon(std::uint64_t n, std::int64_t timestamp_ms, char* out,
                                            std::size_t cap) noexcept {
  // Binance accepts session.logon only with an Ed25519 key.
  if (HFTX_UNLIKELY(signer_.type() != SignatureType::ed25519)) return finish(EncodeStatus::bad_request, 0);
  return encode_key_request('l', "session.logon", true, n, timestamp_ms, out, cap);
}

std::size_t ApiEncoder::encode_depth(InstrumentId instrument, int limit, std::uint64_t n, char* out,
                                            std::size_t cap) noexcept {
  if (HFTX_UNLIKELY(instrument >= instruments_.size())) return finish(EncodeStatus::unknown_instrument, 0);
  if (HFTX_UNLIKELY(limit < 1 || limit > 5000)) return finish(EncodeStatus::bad_request, 0);
  const ApiInstrument& in = instruments_[instrument];
  Out js{out, out + cap};
  js.lit("{\"id\":\"d");
  js.u64(n);
  js.lit("\",\"method\":\"depth\",\"params\":{\"symbol\":\"");
  js.put(in.symbol);
  js.lit("\",\"limit\":");
  js.u64(static_cast<std::uint64_t>(limit));
  js.lit("}}");
  return finish(js.ok ? EncodeStatus::ok : EncodeStatus::too_small, static_cast<std::size_t>(js.p - out));
}

#undef HFTX_PARAM_STR
#undef HFTX_PARAM_NUM

// =============================================================================================== parsing

oms::RejectReason reason_of(std::int32_t code, std::string_view msg) noexcept {
  using R = oms::RejectReason;
  const auto says = [msg](std::string_view what) {  // Binance's messages, case as sent
    return msg.find(what) != std::string_view::npos;
  };
  switch (code) {
    case kOrderDoesNotExist: return R::order_not_found;
    case -2011: return R::unknown_order;
    case -1003:
    case -1015: return R::rate_limited;
    case -1022:
    case -2014:
    case -2015: return R::not_logged_on;
    case -1013:
    case -1111:
    case -1121: return R::invalid_request;
    default: break;
  }
  if (code <= -1100 && code >= -1199) return R::invalid_request;  // parameter errors
  // -2010 and executionReport REJECTED (code 0) say why in words.
  if (says("immediately match") || says("would immediately")) return R::would_take;
  if (says("insufficient balance") || says("INSUFFICIENT_BALANCE")) return R::insufficient_balance;
  if (says("Duplicate order") || says("DUPLICATE_ORDER")) return R::duplicate_client_id;
  return code == 0 && msg.empty() ? R::none : R::other;
}

static_assert(md::kJsonPadding == simdjson::SIMDJSON_PADDING, "kJsonPadding must equal simdjson's padding");


namespace {

HFTX_FORCE_INLINE ApiParseResult fail(ApiStatus s, const char* field, std::uint8_t detail = 0) noexcept {
  return ApiParseResult{s, detail, field};
}
HFTX_FORCE_INLINE ApiParseResult json_fail(simdjson::error_code e, const char* field) noexcept {
  return ApiParseResult{ApiStatus::json_error, static_cast<std::uint8_t>(e), field};
}
using detail::string_token;

HFTX_FORCE_INLINE ApiParseResult str(od::value& v, std::string_view& out, const char* field) noexcept {
  std::string_view tok;
  if (tok = v.raw_json_token(); !string_token(tok, out)) return fail(ApiStatus::wrong_type, field);
  return {};
}
template <class T>
HFTX_FORCE_INLINE ApiParseResult integer(od::value& v, T& out, const char* field) noexcept {
  return detail::integer_field<ApiParseResult>(v, out, field);
}

// 1..20 decimal digits without overflow; false otherwise.
HFTX_FORCE_INLINE bool parse_u64(std::string_view s, std::uint64_t& out) noexcept {
  if (s.empty() || s.size() > 20) return false;
  std::uint64_t v = 0;
  for (const char c : s) {
    const unsigned d = static_cast<unsigned>(c - '0');
    if (d > 9u) return false;
    if (v > (UINT64_MAX - d) / 10u) return false;
    v = v * 10u + d;
  }
  out = v;
  return true;
}

// Key test without unescaping: the raw key equals `lit` and is followed by its closing quote. Reads at
// most sizeof(lit) bytes from the key start, inside the document or its padding.
#define HFTX_KEY_IS(k, lit) (std::memcmp((k), lit "\"", sizeof(lit)) == 0)

// Fields of an executionReport (raw text; numbers parsed once the symbol's scales are known).
enum ExecHave : std::uint32_t {
  kXe = 1u << 0, kXE = 1u << 1, kXs = 1u << 2, kXc = 1u << 3, kXC = 1u << 4, kXS = 1u << 5, kXx = 1u << 6,
  kXi = 1u << 7, kXl = 1u << 8, kXz = 1u << 9, kXL = 1u << 10, kXt = 1u << 11, kXm = 1u << 12, kXT = 1u << 13,
  kXr = 1u << 14,
};
struct ExecFields {
  std::uint32_t have = 0;
  std::string_view e, s, c, C, S, x, r, l, z, L;
  std::int64_t E = 0, T = 0, t = -1;
  std::uint64_t i = 0;
  bool m = false;
};

// Fields of an order object in a response's result (place / cancel / cancelAll element / order.status).
enum OrderHave : std::uint32_t {
  kOsym = 1u << 0, kOid = 1u << 1, kOcid = 1u << 2, kOorig = 1u << 3, kOtt = 1u << 4, kOexec = 1u << 5,
  kOqty = 1u << 6, kOpx = 1u << 7, kOside = 1u << 8, kOstatus = 1u << 9, kOsub = 1u << 10, kOlist = 1u << 11,
  kOquote = 1u << 12,
};
struct OrderFields {
  std::uint32_t have = 0;
  std::string_view symbol, client, orig_client, executed, orig_qty, price, side, status, cum_quote;
  std::uint64_t order_id = 0;
  std::int64_t transact = 0, subscription = -1;
};

}  // namespace

struct ApiParser::Impl {
  Impl(std::vector<ApiInstrument> instruments_in, std::string prefix_in, std::size_t cap)
      : parser(cap), unpadded(new char[cap + md::kJsonPadding]), unpadded_cap(cap), prefix(std::move(prefix_in)) {
    if (parser.allocate(cap) != simdjson::SUCCESS)
      throw ConfigError("ApiParser: could not allocate simdjson buffers for " + std::to_string(cap) + " bytes");
    if (!valid_token(prefix, 16))
      throw ConfigError("venue.client_id_prefix: '" + prefix + "' is invalid (expected 1..16 characters of [A-Za-z0-9_-])");
    instruments = ApiInstruments(std::move(instruments_in));
  }

  od::parser parser;
  std::unique_ptr<char[]> unpadded;
  std::size_t unpadded_cap;
  std::string prefix;
  ApiInstruments instruments;

  // Per-message state.
  ApiMessage* msg = nullptr;
  const UpdateSink* sink = nullptr;
  std::int64_t recv_ns = 0;
  bool have_id = false;
  bool have_status = false;
  bool result_pending = false;  // "result" came before "id": a second pass reads it
  bool list_seen = false;       // cancelAll array validated: a second pass delivers it
  bool have_error = false;
  bool have_code = false;
  ExecFields ex;
  OrderFields of;
  std::size_t list_count = 0;
  std::uint64_t foreign = 0;  // updates of this message whose client order id is not ours
  bool fast = true;           // scan_place_ack() before simdjson

  [[nodiscard]] ClientOrderId client_id(std::string_view text) const noexcept {
    if (text.size() <= prefix.size() || std::memcmp(text.data(), prefix.data(), prefix.size()) != 0) return 0;
    std::uint64_t v = 0;
    return parse_u64(text.substr(prefix.size()), v) ? v : 0;
  }

  void emit(OrderUpdate& u) noexcept {
    u.recv_ns = recv_ns;
    ++msg->updates;
    foreign += u.client_id == 0 ? 1u : 0u;
    (*sink)(u);
  }

  bool scan_place_ack(std::string_view json, std::size_t capacity) noexcept;
  ApiParseResult run(std::string_view json, std::size_t capacity) noexcept;
  ApiParseResult pass(od::object& obj, bool second) noexcept;
  ApiParseResult id_value(od::value& v) noexcept;
  ApiParseResult error_value(od::value& v) noexcept;
  ApiParseResult result_value(od::value& v, bool deliver) noexcept;
  ApiParseResult exec_fields(od::object& obj) noexcept;
  ApiParseResult exec_field(char key, od::value& v) noexcept;
  ApiParseResult order_fields(od::object& obj, OrderFields& f) noexcept;
  ApiParseResult exec_update() noexcept;
  ApiParseResult cancelled_update(const OrderFields& f, bool from_list) noexcept;
  ApiParseResult response_update() noexcept;
};

ApiParseResult ApiParser::Impl::id_value(od::value& v) noexcept {
  have_id = true;
  // The raw token tells a string from null without a type() probe.
  const std::string_view tok = v.raw_json_token();
  if (tok.starts_with("null")) {
    msg->kind = ApiKind::other_response;
    return {};
  }
  std::string_view id;
  if (!string_token(tok, id)) return fail(ApiStatus::wrong_type, "id");
  std::uint64_t n = 0;
  ApiKind k = ApiKind::other_response;
  if (id.size() >= 2 && parse_u64(id.substr(1), n)) {
    switch (id[0]) {
      case 'p': k = n != 0 ? ApiKind::place : ApiKind::other_response; break;
      case 'c': k = n != 0 ? ApiKind::cancel : ApiKind::other_response; break;
      case 'a': k = ApiKind::cancel_all; break;
      case 'd': k = ApiKind::depth; break;
      case 's': k = ApiKind::subscribe; break;
      case 'l': k = ApiKind::logon; break;
      // order.status; a success whose result is not an order is downgraded to other_response.
      case 'q': k = n != 0 ? ApiKind::order_status : ApiKind::other_response; break;
      default: n = 0; break;
    }
  }
  msg->kind = k;
  msg->request = n;
  return {};
}

ApiParseResult ApiParser::Impl::error_value(od::value& v) noexcept {
  od::object obj;
  if (auto e = v.get_object().get(obj); e != simdjson::SUCCESS)
    return e == simdjson::INCORRECT_TYPE ? fail(ApiStatus::not_object, "error") : json_fail(e, "error");
  have_error = true;
  for (auto fr : obj) {
    if (auto e = fr.error(); e != simdjson::SUCCESS) return json_fail(e, "error");
    od::field& f = fr.value_unsafe();
    const char* k = reinterpret_cast<const char*>(f.key().raw());
    od::value& fv = f.value();
    if (HFTX_KEY_IS(k, "code")) {
      std::int64_t code = 0;
      if (auto r = integer(fv, code, "code"); !r.ok()) return r;
      if (code < INT32_MIN || code > INT32_MAX) return fail(ApiStatus::wrong_type, "code");
      msg->error_code = static_cast<std::int32_t>(code);
      have_code = true;
    } else if (HFTX_KEY_IS(k, "msg")) {
      if (auto r = str(fv, msg->error_msg, "msg"); !r.ok()) return r;
    }
  }
  if (!have_code) return fail(ApiStatus::missing_field, "code");
  msg->reason = reason_of(msg->error_code, msg->error_msg);
  return {};
}

ApiParseResult ApiParser::Impl::order_fields(od::object& obj, OrderFields& f) noexcept {
  for (auto fr : obj) {
    if (auto e = fr.error(); e != simdjson::SUCCESS) return json_fail(e, "result");
    od::field& fl = fr.value_unsafe();
    const char* k = reinterpret_cast<const char*>(fl.key().raw());
    od::value& v = fl.value();
    ApiParseResult r;
    switch (k[0]) {
      case 's':
        if (HFTX_KEY_IS(k, "symbol")) { r = str(v, f.symbol, "symbol"); f.have |= kOsym; }
        else if (HFTX_KEY_IS(k, "side")) { r = str(v, f.side, "side"); f.have |= kOside; }
        else if (HFTX_KEY_IS(k, "status")) { r = str(v, f.status, "status"); f.have |= kOstatus; }
        else if (HFTX_KEY_IS(k, "subscriptionId")) { r = integer(v, f.subscription, "subscriptionId"); f.have |= kOsub; }
        break;
      case 'o':
        if (HFTX_KEY_IS(k, "orderId")) { r = integer(v, f.order_id, "orderId"); f.have |= kOid; }
        else if (HFTX_KEY_IS(k, "origClientOrderId")) { r = str(v, f.orig_client, "origClientOrderId"); f.have |= kOorig; }
        else if (HFTX_KEY_IS(k, "origQty")) { r = str(v, f.orig_qty, "origQty"); f.have |= kOqty; }
        else if (HFTX_KEY_IS(k, "orderListId")) { f.have |= kOlist; }
        else if (HFTX_KEY_IS(k, "orders")) { f.have |= kOlist; }  // an order list's entry (OCO): not ours
        break;
      case 'c':
        if (HFTX_KEY_IS(k, "clientOrderId")) { r = str(v, f.client, "clientOrderId"); f.have |= kOcid; }
        else if (HFTX_KEY_IS(k, "cummulativeQuoteQty")) { r = str(v, f.cum_quote, "cummulativeQuoteQty"); f.have |= kOquote; }
        break;
      case 't':
        if (HFTX_KEY_IS(k, "transactTime")) { r = integer(v, f.transact, "transactTime"); f.have |= kOtt; }
        break;
      case 'e':
        if (HFTX_KEY_IS(k, "executedQty")) { r = str(v, f.executed, "executedQty"); f.have |= kOexec; }
        break;
      case 'p':
        if (HFTX_KEY_IS(k, "price")) { r = str(v, f.price, "price"); f.have |= kOpx; }
        break;
      default:
        break;
    }
    if (HFTX_UNLIKELY(!r.ok())) return r;
  }
  return {};
}

// A cancelled order (order.cancel result, or one element of openOrders.cancelAll's result).
ApiParseResult ApiParser::Impl::cancelled_update(const OrderFields& f, bool from_list) noexcept {
  OrderUpdate u;
  u.kind = UpdateKind::cancelled;
  const std::string_view cid = (f.have & kOorig) ? f.orig_client : f.client;
  if (!(f.have & (kOorig | kOcid))) return fail(ApiStatus::missing_field, "origClientOrderId");
  if (!(f.have & kOsym)) return fail(ApiStatus::missing_field, "symbol");
  if (!instruments.find(f.symbol, u.instrument)) return fail(ApiStatus::unknown_symbol, "symbol");
  u.client_id = client_id(cid);
  if (!from_list && u.client_id == 0 && msg->request != 0) u.client_id = msg->request;  // id c<n> is ours
  u.venue_order_id = f.order_id;
  if (f.have & kOside) {
    if (f.side == "BUY") u.side = Side::bid;
    else if (f.side == "SELL") u.side = Side::ask;
    else return fail(ApiStatus::wrong_type, "side");
  }
  const ApiInstrument& in = instruments[u.instrument];
  if (f.have & kOexec) {
    if (const FixedStatus s = parse_fixed(f.executed, in.qty_scale, u.cum_qty, Sign::unsigned_only); s != FixedStatus::ok)
      return fail(ApiStatus::bad_number, "executedQty", static_cast<std::uint8_t>(s));
  }
  if (f.have & kOtt) u.venue_time_ns = md::ms_to_ns(f.transact);
  emit(u);
  return {};
}

ApiParseResult ApiParser::Impl::result_value(od::value& v, bool deliver) noexcept {
  const ApiKind kind = msg->kind;
  if (kind == ApiKind::depth) return {};  // venue::binance::MdParser reads the same text; skipped here
  if (kind == ApiKind::cancel_all) {
    od::array arr;
    if (auto e = v.get_array().get(arr); e != simdjson::SUCCESS)
      return e == simdjson::INCORRECT_TYPE ? fail(ApiStatus::wrong_type, "result") : json_fail(e, "result");
    list_seen = true;
    for (auto el : arr) {
      od::object o;
      if (auto e = el.get_object().get(o); e != simdjson::SUCCESS)
        return e == simdjson::INCORRECT_TYPE ? fail(ApiStatus::not_object, "result") : json_fail(e, "result");
      OrderFields f;
      if (auto r = order_fields(o, f); !r.ok()) return r;
      if (f.have & kOlist && !(f.have & (kOorig | kOcid))) continue;  // an order-list summary entry
      if (deliver) {
        if (auto r = cancelled_update(f, true); !r.ok()) return r;
      } else {
        // Validate everything the delivery pass needs, so that it cannot fail half-way.
        if (!(f.have & (kOorig | kOcid))) return fail(ApiStatus::missing_field, "origClientOrderId");
        if (!(f.have & kOsym)) return fail(ApiStatus::missing_field, "symbol");
        InstrumentId id = 0;
        if (!instruments.find(f.symbol, id)) return fail(ApiStatus::unknown_symbol, "symbol");
        if (f.have & kOside && f.side != "BUY" && f.side != "SELL") return fail(ApiStatus::wrong_type, "side");
        Qty q;
        if (f.have & kOexec) {
          if (const FixedStatus s = parse_fixed(f.executed, instruments[id].qty_scale, q, Sign::unsigned_only);
              s != FixedStatus::ok)
            return fail(ApiStatus::bad_number, "executedQty", static_cast<std::uint8_t>(s));
        }
        ++list_count;
      }
    }
    return {};
  }
  od::object obj;
  if (auto e = v.get_object().get(obj); e != simdjson::SUCCESS) {
    if (e != simdjson::INCORRECT_TYPE) return json_fail(e, "result");
    if (kind == ApiKind::other_response || kind == ApiKind::order_status) return {};  // not an order: see response_update
    return fail(ApiStatus::not_object, "result");
  }
  return order_fields(obj, of);
}

// One single-letter field of an executionReport (inside the wrapper's "event", or at the top level).
ApiParseResult ApiParser::Impl::exec_field(char key, od::value& v) noexcept {
  ExecFields& x = ex;
  ApiParseResult r;
  switch (key) {
    case 'e': r = str(v, x.e, "e"); x.have |= kXe; break;
    case 'E': r = integer(v, x.E, "E"); x.have |= kXE; break;
    case 's': r = str(v, x.s, "s"); x.have |= kXs; break;
    case 'c': r = str(v, x.c, "c"); x.have |= kXc; break;
    case 'C': {
      od::json_type t;
      if (auto e = v.type().get(t); e != simdjson::SUCCESS) return json_fail(e, "C");
      if (t != od::json_type::null) r = str(v, x.C, "C");
      x.have |= kXC;
      break;
    }
    case 'S': r = str(v, x.S, "S"); x.have |= kXS; break;
    case 'x': r = str(v, x.x, "x"); x.have |= kXx; break;
    case 'r': r = str(v, x.r, "r"); x.have |= kXr; break;
    case 'i': r = integer(v, x.i, "i"); x.have |= kXi; break;
    case 'l': r = str(v, x.l, "l"); x.have |= kXl; break;
    case 'z': r = str(v, x.z, "z"); x.have |= kXz; break;
    case 'L': r = str(v, x.L, "L"); x.have |= kXL; break;
    case 't': r = integer(v, x.t, "t"); x.have |= kXt; break;
    case 'T': r = integer(v, x.T, "T"); x.have |= kXT; break;
    case 'm':
      if (auto e = v.get_bool().get(x.m); e != simdjson::SUCCESS) return detail::field_error<ApiParseResult>(e, "m");
      x.have |= kXm;
      break;
    default: break;  // o, f, q, p, X, n, N, w, O, Z, Y, Q, ...: not needed for the update
  }
  return r;
}

ApiParseResult ApiParser::Impl::exec_fields(od::object& obj) noexcept {
  for (auto fr : obj) {
    if (auto e = fr.error(); e != simdjson::SUCCESS) return json_fail(e, "event");
    od::field& fl = fr.value_unsafe();
    const char* k = reinterpret_cast<const char*>(fl.key().raw());
    if (k[0] == '"' || k[1] != '"') continue;  // executionReport fields are single letters
    if (auto r = exec_field(k[0], fl.value()); HFTX_UNLIKELY(!r.ok())) return r;
  }
  return {};
}

ApiParseResult ApiParser::Impl::exec_update() noexcept {
  const ExecFields& x = ex;
  msg->venue_time_ns = md::ms_to_ns(x.E);
  constexpr std::uint32_t kNeed = kXs | kXc | kXS | kXx | kXi | kXz;
  if ((x.have & kNeed) != kNeed) {
    constexpr const char* kNames[] = {"e", "E", "s", "c", "C", "S", "x", "i", "l", "z", "L", "t", "m", "T", "r"};
    return fail(ApiStatus::missing_field, kNames[__builtin_ctz(kNeed & ~x.have)]);
  }
  OrderUpdate u;
  if (x.x == "NEW") u.kind = UpdateKind::ack;
  else if (x.x == "TRADE") u.kind = UpdateKind::fill;
  else if (x.x == "CANCELED") u.kind = UpdateKind::cancelled;
  else if (x.x == "REJECTED") u.kind = UpdateKind::rejected;
  else if (x.x == "EXPIRED" || x.x == "TRADE_PREVENTION") u.kind = UpdateKind::expired;
  else return fail(ApiStatus::unknown_message, "x");
  if (!instruments.find(x.s, u.instrument)) return fail(ApiStatus::unknown_symbol, "s");
  if (x.S == "BUY") u.side = Side::bid;
  else if (x.S == "SELL") u.side = Side::ask;
  else return fail(ApiStatus::wrong_type, "S");
  // A cancel's report carries the cancel request's own id in c and the order's in C.
  u.client_id = client_id(u.kind == UpdateKind::cancelled && !x.C.empty() ? x.C : x.c);
  u.venue_order_id = x.i;
  const ApiInstrument& in = instruments[u.instrument];
  if (const FixedStatus s = parse_fixed(x.z, in.qty_scale, u.cum_qty, Sign::unsigned_only); s != FixedStatus::ok)
    return fail(ApiStatus::bad_number, "z", static_cast<std::uint8_t>(s));
  if (u.kind == UpdateKind::fill) {
    constexpr std::uint32_t kTrade = kXl | kXL | kXt | kXm;
    if ((x.have & kTrade) != kTrade)
      return fail(ApiStatus::missing_field, !(x.have & kXl) ? "l" : !(x.have & kXL) ? "L" : !(x.have & kXt) ? "t" : "m");
    if (const FixedStatus s = parse_fixed(x.L, in.price_scale, u.last_price, Sign::unsigned_only); s != FixedStatus::ok)
      return fail(ApiStatus::bad_number, "L", static_cast<std::uint8_t>(s));
    if (const FixedStatus s = parse_fixed(x.l, in.qty_scale, u.last_qty, Sign::unsigned_only); s != FixedStatus::ok)
      return fail(ApiStatus::bad_number, "l", static_cast<std::uint8_t>(s));
    if (x.t < 0) return fail(ApiStatus::wrong_type, "t");
    u.trade_id = static_cast<std::uint64_t>(x.t);
    u.maker = x.m;
  }
  if (u.kind == UpdateKind::rejected) {
    msg->error_msg = x.r;
    u.reason = reason_of(0, x.r);
  }
  u.venue_time_ns = md::ms_to_ns(x.T);
  emit(u);
  return {};
}

// The update of a single-order response (place, cancel), once the whole message was read.
ApiParseResult ApiParser::Impl::response_update() noexcept {
  ApiMessage& m = *msg;
  const bool ok = m.status == 200;
  if (m.kind == ApiKind::order_status && ok && !((of.have & kOcid) && (of.have & kOstatus))) m.kind = ApiKind::other_response;
  if (m.kind == ApiKind::order_status && ok) {
    // order.status (q<client id>): the order as the venue has it.
    OrderStatusReport& o = m.order;
    if (!(of.have & kOsym)) return fail(ApiStatus::missing_field, "symbol");
    if (!instruments.find(of.symbol, o.instrument)) return fail(ApiStatus::unknown_symbol, "symbol");
    const ApiInstrument& in = instruments[o.instrument];
    o.client_id = client_id(of.client);
    o.venue_order_id = of.order_id;
    if (of.side == "SELL") o.side = Side::ask;
    const std::string_view st = of.status;
    o.state = st == "NEW"                ? OrderState::acked
              : st == "PARTIALLY_FILLED" ? OrderState::partially_filled
              : st == "FILLED"           ? OrderState::filled
              : st == "CANCELED"         ? OrderState::cancelled
              : st == "REJECTED"         ? OrderState::rejected
              : (st == "EXPIRED" || st == "EXPIRED_IN_MATCH") ? OrderState::expired
                                                              : OrderState::new_order;
    if (o.state == OrderState::new_order) return fail(ApiStatus::unknown_message, "status");
    if (of.have & kOpx) {
      if (const FixedStatus s = parse_fixed(of.price, in.price_scale, o.price, Sign::unsigned_only); s != FixedStatus::ok)
        return fail(ApiStatus::bad_number, "price", static_cast<std::uint8_t>(s));
    }
    if (of.have & kOqty) {
      if (const FixedStatus s = parse_fixed(of.orig_qty, in.qty_scale, o.orig_qty, Sign::unsigned_only); s != FixedStatus::ok)
        return fail(ApiStatus::bad_number, "origQty", static_cast<std::uint8_t>(s));
    }
    if (of.have & kOexec) {
      if (const FixedStatus s = parse_fixed(of.executed, in.qty_scale, o.executed_qty, Sign::unsigned_only);
          s != FixedStatus::ok)
        return fail(ApiStatus::bad_number, "executedQty", static_cast<std::uint8_t>(s));
    }
    if (of.have & kOquote) {
      static const Scale kQuoteE8 = Scale::with_decimals(8);  // Binance prints quote amounts with 8 decimals
      if (const FixedStatus s = parse_fixed(of.cum_quote, kQuoteE8, o.cum_quote_e8, Sign::unsigned_only);
          s != FixedStatus::ok)
        return fail(ApiStatus::bad_number, "cummulativeQuoteQty", static_cast<std::uint8_t>(s));
    }
    return {};
  }
  if (m.kind == ApiKind::subscribe && ok) {
    if (!(of.have & kOsub)) return fail(ApiStatus::missing_field, "subscriptionId");
    m.subscription_id = of.subscription;
    return {};
  }
  if (m.kind == ApiKind::place) {
    OrderUpdate u;
    u.client_id = m.request;
    if (ok) {
      u.kind = UpdateKind::ack;
      if (of.have & kOsym && !instruments.find(of.symbol, u.instrument)) return fail(ApiStatus::unknown_symbol, "symbol");
      u.venue_order_id = of.order_id;
      u.venue_time_ns = md::ms_to_ns(of.transact);
    } else {
      u.kind = UpdateKind::rejected;
      u.error_code = m.error_code;
      u.reason = m.reason;
    }
    emit(u);
    return {};
  }
  if (m.kind == ApiKind::cancel) {
    if (ok) return cancelled_update(of, false);
    OrderUpdate u;
    u.kind = UpdateKind::cancel_rejected;
    u.client_id = m.request;
    u.error_code = m.error_code;
    u.reason = m.reason;
    emit(u);
    return {};
  }
  return {};
}

ApiParseResult ApiParser::Impl::pass(od::object& obj, bool second) noexcept {
  for (auto fr : obj) {
    if (auto e = fr.error(); e != simdjson::SUCCESS) return json_fail(e, "");
    od::field& f = fr.value_unsafe();
    const char* k = reinterpret_cast<const char*>(f.key().raw());
    od::value& v = f.value();
    if (second) {
      if (HFTX_KEY_IS(k, "result")) return result_value(v, true);
      continue;
    }
    if (k[0] != '"' && k[1] == '"') {
      // One-letter keys: a raw executionReport at the top level, collected as inside the wrapper.
      if (auto r = exec_field(k[0], v); HFTX_UNLIKELY(!r.ok())) return r;
      continue;
    }
    ApiParseResult r;
    switch (k[0]) {
      case 'i':
        if (HFTX_KEY_IS(k, "id")) r = id_value(v);
        break;
      case 's':
        if (HFTX_KEY_IS(k, "status")) {
          std::int64_t st = 0;
          r = integer(v, st, "status");
          if (r.ok() && (st < 0 || st > 999)) r = fail(ApiStatus::wrong_type, "status");
          msg->status = static_cast<int>(st);
          have_status = true;
        } else if (HFTX_KEY_IS(k, "subscriptionId")) {
          r = integer(v, msg->subscription_id, "subscriptionId");
        }
        break;
      case 'r':
        if (HFTX_KEY_IS(k, "result")) {
          if (have_id) r = result_value(v, false);
          else result_pending = true;
        }
        break;
      case 'e':
        if (HFTX_KEY_IS(k, "error")) {
          r = error_value(v);
        } else if (HFTX_KEY_IS(k, "event")) {
          od::object inner;
          if (auto e = v.get_object().get(inner); e != simdjson::SUCCESS)
            return e == simdjson::INCORRECT_TYPE ? fail(ApiStatus::not_object, "event") : json_fail(e, "event");
          r = exec_fields(inner);
        }
        break;
      default:
        break;
    }
    if (HFTX_UNLIKELY(!r.ok())) return r;
  }
  return {};
}

// The order.place ACK, as Binance writes it: {"id":"p<id>","status":200,"result":{...},"rateLimits":[...]},
// compact, members in this order, result members among symbol, orderId, orderListId, clientOrderId and
// transactTime (each once, at least one), rateLimits (optional) an array of flat objects of scalars. It is
// read in one forward pass (detail::FastScan) instead of simdjson's two (stage 1 indexes every structural
// character before On-Demand walks them again). Anything else declines (false, nothing written): another
// shape, whitespace, escapes, duplicate keys, an unknown symbol — run() then parses it, and reports what
// the simdjson path reports. Whatever this accepts, run() gives the same ApiMessage and update
// (tests/fuzz/fuzz_binance_api.cpp checks it on every input).
bool ApiParser::Impl::scan_place_ack(std::string_view json, std::size_t capacity) noexcept {
  using detail::key_is;
  detail::FastScan s{json.data(), json.data() + json.size(), json.data() + std::max(capacity, json.size())};
  std::string_view id;
  std::uint64_t request = 0;
  if (!s.lit("{\"id\":") || !s.wide_string(id) || id.size() < 2 || id[0] != 'p' || !parse_u64(id.substr(1), request) ||
      request == 0 || !s.lit(",\"status\":200,\"result\":{"))
    return false;
  std::string_view symbol, text;
  std::uint64_t order_id = 0;
  std::int64_t transact = 0, list = 0;
  unsigned seen = 0;
  for (bool more = true; more;) {
    std::string_view key;
    if (!s.wide_string(key) || !s.ch(':')) return false;
    unsigned bit = 0;
    bool ok = false;
    if (key_is(key, "symbol")) bit = 1, ok = s.wide_string(symbol);
    else if (key_is(key, "orderId")) bit = 2, ok = s.integer(order_id);
    else if (key_is(key, "orderListId")) bit = 4, ok = s.signed_integer(list);
    else if (key_is(key, "clientOrderId")) bit = 8, ok = s.wide_string(text);
    else if (key_is(key, "transactTime")) bit = 16, ok = s.signed_integer(transact);
    if (!ok || (seen & bit) != 0 || !s.next('}', more)) return false;
    seen |= bit;
  }
  if (s.p != s.end && *s.p == ',') {
    if (!s.lit(",\"rateLimits\":[")) return false;
    bool more = s.p != s.end && *s.p != ']';
    if (!more && !s.ch(']')) return false;
    while (more) {
      if (!s.ch('{')) return false;
      if (!s.ch('}')) {  // not empty: members up to the closing brace
        for (bool member = true; member;) {
          std::string_view key;
          std::string_view value;
          if (!s.wide_string(key) || !s.ch(':') ||
              !(s.p != s.end && *s.p == '"' ? s.wide_string(value) : s.skip_scalar()) || !s.next('}', member))
            return false;
        }
      }
      if (!s.next(']', more)) return false;
    }
  }
  if (!s.ch('}') || s.p != s.end) return false;
  InstrumentId instrument = 0;
  if ((seen & 1) != 0 && !instruments.find(symbol, instrument)) return false;
  msg->kind = ApiKind::place;
  msg->request = request;
  msg->status = 200;
  OrderUpdate u;
  u.kind = UpdateKind::ack;
  u.client_id = request;
  u.instrument = instrument;
  u.venue_order_id = order_id;
  u.venue_time_ns = md::ms_to_ns(transact);
  emit(u);
  return true;
}

ApiParseResult ApiParser::Impl::run(std::string_view json, std::size_t capacity) noexcept {
  have_id = have_status = result_pending = list_seen = have_error = have_code = false;
  ex = ExecFields{};
  of = OrderFields{};
  list_count = 0;

  od::document doc;
  if (auto e = parser.iterate(json, capacity).get(doc); e != simdjson::SUCCESS) return json_fail(e, "");
  od::object obj;
  if (auto e = doc.get_object().get(obj); e != simdjson::SUCCESS)
    return e == simdjson::INCORRECT_TYPE ? fail(ApiStatus::not_object, "") : json_fail(e, "");
  if (auto r = pass(obj, false); !r.ok()) return r;
  if (const char* loc = nullptr; doc.current_location().get(loc) == simdjson::SUCCESS)
    return fail(ApiStatus::trailing_content, "");

  if (have_id) {
    if (!have_status) return fail(ApiStatus::missing_field, "status");
    if (msg->status != 200 && !have_error) return fail(ApiStatus::missing_field, "error");
    if (msg->status == 200 && have_error) return fail(ApiStatus::unknown_message, "error");
    if (result_pending) {
      // "result" came before "id": read it again now that the kind is known.
      doc.rewind();
      od::object again;
      if (auto e = doc.get_object().get(again); e != simdjson::SUCCESS) return json_fail(e, "");
      for (auto fr : again) {
        if (auto e = fr.error(); e != simdjson::SUCCESS) return json_fail(e, "");
        od::field& f = fr.value_unsafe();
        if (HFTX_KEY_IS(reinterpret_cast<const char*>(f.key().raw()), "result")) {
          if (auto r = result_value(f.value(), false); !r.ok()) return r;
          break;
        }
      }
    }
    if (msg->kind == ApiKind::cancel_all) {
      if (msg->status == 200 && !list_seen) return fail(ApiStatus::missing_field, "result");
      if (list_seen && list_count != 0) {
        // The list was validated whole; deliver it in a second pass (a cancelAll is rare, a half-delivered
        // list on a malformed message is worse).
        doc.rewind();
        od::object again;
        if (auto e = doc.get_object().get(again); e != simdjson::SUCCESS) return json_fail(e, "");
        return pass(again, true);
      }
      return {};
    }
    if (msg->status == 200 && (msg->kind == ApiKind::place || msg->kind == ApiKind::cancel) && of.have == 0)
      return fail(ApiStatus::missing_field, "result");
    return response_update();
  }
  if (ex.have & kXe) {
    msg->status = 0;
    if (ex.e == "executionReport") {
      msg->kind = ApiKind::execution_report;
      return exec_update();
    }
    msg->kind = ApiKind::other_event;
    msg->venue_time_ns = md::ms_to_ns(ex.E);
    return {};
  }
  return fail(ApiStatus::unknown_message, "");
}

#undef HFTX_KEY_IS

ApiParser::ApiParser(std::vector<ApiInstrument> instruments, std::string client_id_prefix,
                                   std::size_t unpadded_capacity)
    : impl_(std::make_unique<Impl>(std::move(instruments), std::move(client_id_prefix), unpadded_capacity)) {}
ApiParser::~ApiParser() = default;
ApiParser::ApiParser(ApiParser&&) noexcept = default;
ApiParser& ApiParser::operator=(ApiParser&&) noexcept = default;

void ApiParser::set_fast_path(bool on) noexcept { impl_->fast = on; }
bool ApiParser::fast_path() const noexcept { return impl_->fast; }

ClientOrderId ApiParser::client_id_of(std::string_view text) const noexcept { return impl_->client_id(text); }
bool ApiParser::instrument_of(std::string_view symbol, InstrumentId& out) const noexcept {
  return impl_->instruments.find(symbol, out);
}

ApiParseResult ApiParser::parse(std::string_view json, std::size_t capacity, std::int64_t recv_ns,
                                       ApiMessage& out, UpdateSink sink) noexcept {
  Impl& im = *impl_;
  out = ApiMessage{};
  im.msg = &out;
  im.sink = &sink;
  im.recv_ns = recv_ns;
  im.foreign = 0;
  ApiParseResult r;
  if (HFTX_UNLIKELY(json.size() > im.unpadded_cap)) {
    r = fail(ApiStatus::too_large, "");
  } else if (im.fast && im.scan_place_ack(json, capacity)) {  // needs no padding
    ++stats_.scanned;
  } else {
    // Copied when not padded: error_msg then points into our buffer, valid until the next parse.
    detail::pad_if_needed(json, capacity, im.unpadded.get());
    r = im.run(json, capacity);
  }
  ++stats_.messages;
  ++stats_.by_status[static_cast<std::size_t>(r.status)];
  if (r.ok()) {
    ++stats_.by_kind[static_cast<std::size_t>(out.kind)];
    if (out.is_error()) ++stats_.error_responses;
  }
  stats_.updates += out.updates;
  stats_.foreign_orders += im.foreign;
  return r;
}

ApiParseResult ApiParser::parse_unpadded(std::string_view json, std::int64_t recv_ns, ApiMessage& out,
                                                UpdateSink sink) noexcept {
  return parse(json, 0, recv_ns, out, sink);
}

ApiParseResult ApiParser::parse(std::string_view json, std::size_t capacity, std::int64_t recv_ns,
                                       ApiMessage& out, std::span<OrderUpdate> updates) noexcept {
  std::size_t n = 0;
  bool overflow = false;
  auto into_span = [&](const OrderUpdate& u) noexcept {
    if (n < updates.size()) updates[n++] = u;
    else overflow = true;
  };
  ApiParseResult r = parse(json, capacity, recv_ns, out, UpdateSink(into_span));
  if (r.ok() && overflow) {
    out.updates = n;
    --stats_.by_status[0];
    ++stats_.by_status[static_cast<std::size_t>(ApiStatus::too_many_updates)];
    --stats_.by_kind[static_cast<std::size_t>(out.kind)];
    return fail(ApiStatus::too_many_updates, "result");
  }
  return r;
}

}  // namespace hftx::venue::binance

