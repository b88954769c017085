// The exchange simulator's Binance dialect (venue/binance/sim_dialect.hpp): combined market streams, the
// WebSocket API, Binance's answers, errors and executionReports, over the venue-neutral engine.
//
// Everything here runs on the simulator's reactor thread.
#include "hftx/venue/binance/sim_dialect.hpp"

#include <openssl/hmac.h>
#include <openssl/pem.h>

#include <algorithm>
#include <charconv>
#include <cstring>

#include "hftx/core/error.hpp"
#include "venue/binance/pem_text.hpp"

namespace hftx::venue::binance {

namespace {

using sim::Core;

// BTCUSDT -> {BTC, USDT}: the longest known quote suffix.
std::pair<std::string, std::string> split_symbol(const std::string& sym) {
  static const char* kQuotes[] = {"FDUSD", "USDT", "USDC", "BUSD", "TUSD", "DAI", "EUR", "TRY", "BRL",
                                  "GBP",   "JPY",  "BTC",  "ETH",  "BNB"};
  for (const char* q : kQuotes) {
    const std::size_t n = std::strlen(q);
    if (sym.size() > n && sym.compare(sym.size() - n, n, q) == 0) return {sym.substr(0, sym.size() - n), q};
  }
  return {"", ""};
}

bool valid_symbol(std::string_view s) {
  return !s.empty() && s.size() <= 20 &&
         std::all_of(s.begin(), s.end(), [](char c) { return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); });
}

// The Ed25519 public key of a PEM text (literal "\n" sequences accepted, as env variables carry them);
// throws ConfigError naming simulator.api_public_key when it is not one. The caller frees it.
EVP_PKEY* ed25519_public_key(const std::string& pem) {
  const std::string text = detail::pem_with_newlines(pem);
  BIO* bio = BIO_new_mem_buf(text.data(), static_cast<int>(text.size()));
  EVP_PKEY* key = bio != nullptr ? PEM_read_bio_PUBKEY(bio, nullptr, nullptr, nullptr) : nullptr;
  BIO_free(bio);
  if (key == nullptr || EVP_PKEY_get_id(key) != EVP_PKEY_ED25519) {
    EVP_PKEY_free(key);
    throw ConfigError(
        "simulator.api_public_key: not an Ed25519 public key (expected a PEM '-----BEGIN PUBLIC KEY-----')");
  }
  return key;
}

void validate(const sim::ExchangeConfig& cfg) {
  if (!cfg.api_public_key.empty()) EVP_PKEY_free(ed25519_public_key(cfg.api_public_key));  // throws when unusable
}

std::unique_ptr<sim::Core> make(const sim::ExchangeConfig& cfg) { return std::make_unique<SimDialect::Engine>(cfg); }

const char* type_name(const Core::Order& o) {
  if (o.type == OrderType::market) return "MARKET";
  return o.post_only ? "LIMIT_MAKER" : "LIMIT";
}
const char* tif_name(TimeInForce t) {
  switch (t) {
    case TimeInForce::gtc: return "GTC";
    case TimeInForce::ioc: return "IOC";
    case TimeInForce::fok: return "FOK";
  }
  return "GTC";
}
const char* status_name(const Core::Order& o) {
  switch (o.end) {
    case Core::End::filled: return "FILLED";
    case Core::End::canceled: return "CANCELED";
    case Core::End::expired: return "EXPIRED";
    case Core::End::open: break;
  }
  if (o.filled == o.qty) return "FILLED";
  if (o.filled > 0) return "PARTIALLY_FILLED";
  return "NEW";
}

std::string hmac_hex(const std::string& secret, const std::string& payload) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(payload.data()), payload.size(), md, &len);
  static const char* hex = "0123456789abcdef";
  std::string out;
  for (unsigned i = 0; i < len; ++i) {
    out += hex[md[i] >> 4];
    out += hex[md[i] & 15];
  }
  return out;
}

bool valid_client_id(const std::string& s) {
  if (s.empty() || s.size() > 36) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
  });
}

std::string trimmed(std::string_view raw) {
  while (!raw.empty() && (raw.back() == ' ' || raw.back() == '\n' || raw.back() == '\r' || raw.back() == '\t'))
    raw.remove_suffix(1);
  return std::string(raw);
}

}  // namespace

sim::DialectInfo sim_dialect_info() {
  sim::DialectInfo d;
  d.name = "binance";
  d.market_path = "/stream";
  d.api_path = "/ws-api/v3";
  d.valid_symbol = &valid_symbol;
  d.symbol_rule = "1..20 upper-case letters or digits (BTCUSDT)";
  d.split_symbol = &split_symbol;
  d.validate = &validate;
  d.make = &make;
  return d;
}

// ---- market writer -----------------------------------------------------------------------------------------

namespace {
char* lit(char* p, std::string_view s) noexcept {
  std::memcpy(p, s.data(), s.size());
  return p + s.size();
}
char* num(char* p, std::uint64_t v) noexcept { return std::to_chars(p, p + 24, v).ptr; }
char* num(char* p, std::int64_t v) noexcept { return std::to_chars(p, p + 24, v).ptr; }
}  // namespace

SimMarketWriter::SimMarketWriter(std::string symbol, const Scale& price_scale, const Scale& qty_scale)
    : symbol_(std::move(symbol)), price_scale_(price_scale), qty_scale_(qty_scale) {
  buf_.resize(1u << 16);
}

char* SimMarketWriter::reserve(std::size_t levels) noexcept {
  const std::size_t need = 256 + symbol_.size() + levels * (2 * kMaxFixedText + 8);
  if (buf_.size() < need) buf_.resize(need);  // a sweep larger than any before: grows once
  return buf_.data();
}

std::string_view SimMarketWriter::depth(const md::DepthUpdate& d, std::int64_t ms) noexcept {
  char* const b = reserve(d.bids.size() + d.asks.size());
  char* p = b;
  p = lit(p, "{\"e\":\"depthUpdate\",\"E\":");
  p = num(p, ms);
  p = lit(p, ",\"s\":\"");
  p = lit(p, symbol_);
  p = lit(p, "\",\"U\":");
  p = num(p, d.first_id);
  p = lit(p, ",\"u\":");
  p = num(p, d.last_id);
  for (int side = 0; side < 2; ++side) {
    p = lit(p, side == 0 ? ",\"b\":[" : "],\"a\":[");
    const std::span<const md::Level> lv = side == 0 ? d.bids : d.asks;
    for (std::size_t i = 0; i < lv.size(); ++i) {
      if (i != 0) *p++ = ',';
      p = lit(p, "[\"");
      p += format_fixed(lv[i].price.raw(), price_scale_, p);
      p = lit(p, "\",\"");
      p += format_fixed(lv[i].qty.raw(), qty_scale_, p);
      p = lit(p, "\"]");
    }
  }
  p = lit(p, "]}");
  return {b, static_cast<std::size_t>(p - b)};
}

std::string_view SimMarketWriter::ticker(const md::BookTicker& t) noexcept {
  char* const b = reserve(2);
  char* p = b;
  p = lit(p, "{\"u\":");
  p = num(p, t.update_id);
  p = lit(p, ",\"s\":\"");
  p = lit(p, symbol_);
  p = lit(p, "\",\"b\":\"");
  p += format_fixed(t.bid_price.raw(), price_scale_, p);
  p = lit(p, "\",\"B\":\"");
  p += format_fixed(t.bid_qty.raw(), qty_scale_, p);
  p = lit(p, "\",\"a\":\"");
  p += format_fixed(t.ask_price.raw(), price_scale_, p);
  p = lit(p, "\",\"A\":\"");
  p += format_fixed(t.ask_qty.raw(), qty_scale_, p);
  p = lit(p, "\"}");
  return {b, static_cast<std::size_t>(p - b)};
}

std::string_view SimMarketWriter::trade(const md::Trade& t, std::int64_t ms) noexcept {
  char* const b = reserve(1);
  char* p = b;
  p = lit(p, "{\"e\":\"trade\",\"E\":");
  p = num(p, ms);
  p = lit(p, ",\"s\":\"");
  p = lit(p, symbol_);
  p = lit(p, "\",\"t\":");
  p = num(p, t.id);
  p = lit(p, ",\"p\":\"");
  p += format_fixed(t.price.raw(), price_scale_, p);
  p = lit(p, "\",\"q\":\"");
  p += format_fixed(t.qty.raw(), qty_scale_, p);
  p = lit(p, "\",\"T\":");
  p = num(p, ms);
  // m: the buyer is the maker (the taker sold).
  p = lit(p, t.buyer_is_maker ? ",\"m\":true,\"M\":true}" : ",\"m\":false,\"M\":true}");
  return {b, static_cast<std::size_t>(p - b)};
}

void write_depth_result(const book::MatchingEngine& book, const Scale& price_scale, const Scale& qty_scale,
                        std::uint64_t last_update_id, std::size_t limit, std::string& out) {
  char tmp[64];
  out += "{\"lastUpdateId\":";
  out.append(tmp, static_cast<std::size_t>(std::to_chars(tmp, tmp + sizeof tmp, last_update_id).ptr - tmp));
  for (int side = 0; side < 2; ++side) {
    const Side s = side == 0 ? Side::bid : Side::ask;
    out += side == 0 ? ",\"bids\":[" : "],\"asks\":[";
    const std::size_t n = std::min(limit, book.level_count(s));
    for (std::size_t i = 0; i < n; ++i) {
      const book::Level l = book.level(s, i);
      if (i != 0) out += ',';
      out += "[\"";
      out.append(tmp, format_fixed(l.price.raw(), price_scale, tmp));
      out += "\",\"";
      out.append(tmp, format_fixed(l.qty.raw(), qty_scale, tmp));
      out += "\"]";
    }
  }
  out += "]}";
}

// ---- the dialect -------------------------------------------------------------------------------------------

struct SimDialect::Request {
  std::string id = "null";  // as JSON
  std::string method;
  std::vector<std::pair<std::string, std::string>> params;
  std::string bad_param;  // a param whose JSON type we cannot use
  [[nodiscard]] const std::string* get(std::string_view k) const {
    for (const auto& p : params)
      if (p.first == k) return &p.second;
    return nullptr;
  }
};

namespace {
SimDialect::ApiError mandatory(std::string_view p);
}

SimDialect::SimDialect(Engine& e) {
  if (!e.cfg.api_public_key.empty()) pubkey_.reset(ed25519_public_key(e.cfg.api_public_key));
  for (const auto& in : e.instruments) {
    writers_.emplace_back(in.spec.symbol, in.price_scale, in.qty_scale);
    std::string lower(in.spec.symbol);
    std::transform(lower.begin(), lower.end(), lower.begin(),
                   [](char c) { return static_cast<char>(c >= 'A' && c <= 'Z' ? c + 32 : c); });
    lower_.push_back(std::move(lower));
  }
}

SimDialect::~SimDialect() = default;

std::string SimDialect::type_text(const Order& o) { return type_name(o); }

bool SimDialect::on_open(Engine& e, Conn& c, std::string_view path, std::string_view query) {
  if (path == "/ws-api/v3") {
    c.channel = sim::Channel::api;
    return true;
  }
  if (path != "/stream" && path != "/stream/") {
    c.ws->close(net::close_code::kPolicyViolation, ("unknown path '" + std::string(path) + "'").substr(0, 120));
    return false;
  }
  c.channel = sim::Channel::market;
  std::string streams;
  for (std::size_t pos = 0; pos < query.size();) {
    std::size_t amp = query.find('&', pos);
    if (amp == std::string_view::npos) amp = query.size();
    const std::string_view kv = query.substr(pos, amp - pos);
    if (kv.substr(0, 8) == "streams=") streams = std::string(kv.substr(8));
    pos = amp + 1;
  }
  // %2F / %40 as some clients encode them
  std::string decoded;
  for (std::size_t i = 0; i < streams.size(); ++i) {
    if (streams[i] == '%' && i + 2 < streams.size()) {
      decoded += static_cast<char>(std::strtol(streams.substr(i + 1, 2).c_str(), nullptr, 16));
      i += 2;
    } else {
      decoded += streams[i];
    }
  }
  std::size_t pos = 0;
  while (pos < decoded.size()) {
    std::size_t slash = decoded.find('/', pos);
    if (slash == std::string::npos) slash = decoded.size();
    const std::string name = decoded.substr(pos, slash - pos);
    pos = slash + 1;
    if (name.empty()) continue;
    if (!subscribe(e, c, name)) {
      c.ws->close(net::close_code::kPolicyViolation, ("unknown stream '" + name + "'").substr(0, 120));
      return false;
    }
  }
  return true;
}

// "btcusdt@depth@100ms" -> subscribed. False when it is not a stream we serve.
bool SimDialect::subscribe(Engine& e, Conn& c, const std::string& name) {
  const std::size_t at = name.find('@');
  if (at == std::string::npos) return false;
  const std::string sym = name.substr(0, at);
  const std::string kind = name.substr(at + 1);
  std::uint8_t k;
  if (kind == "depth" || kind == "depth@100ms" || kind == "depth@0ms") k = kDepth;
  else if (kind == "bookTicker" || kind == "bookticker") k = kBookTicker;
  else if (kind == "trade") k = kTrade;
  else return false;
  for (std::size_t i = 0; i < lower_.size(); ++i) {
    if (lower_[i] != sym) continue;
    std::string prefix = "{\"stream\":\"";
    sim::json_escape(prefix, name);
    prefix += "\",\"data\":";
    (void)e.subscribe(c, static_cast<std::uint32_t>(i), k, std::move(prefix));  // false: already subscribed
    return true;
  }
  return false;
}

void SimDialect::on_message(Engine& e, Conn& c, std::string_view text) {
  if (c.channel == sim::Channel::api) handle_request(e, c, text);
  else handle_market_request(e, c, text);
}

void SimDialect::handle_market_request(Engine& e, Conn& c, std::string_view text) {
  simdjson::padded_string ps(text);
  simdjson::ondemand::document doc;
  std::string method, id = "null";
  std::vector<std::string> names;
  bool ok = !json_.iterate(ps).get(doc);
  if (ok) {
    simdjson::ondemand::object obj;
    ok = !doc.get_object().get(obj);
    if (ok) {
      for (auto field : obj) {
        std::string_view key;
        if (field.unescaped_key().get(key)) {
          ok = false;
          break;
        }
        if (key == "method") {
          std::string_view s;
          ok = ok && !field.value().get_string().get(s);
          method = std::string(s);
        } else if (key == "id") {
          std::string_view raw = field.value().raw_json_token();
          while (!raw.empty() && raw.back() <= ' ') raw.remove_suffix(1);
          id = std::string(raw);
        } else if (key == "params") {
          simdjson::ondemand::array arr;
          if (field.value().get_array().get(arr)) {
            ok = false;
            break;
          }
          for (auto el : arr) {
            std::string_view s;
            if (el.get_string().get(s)) {
              ok = false;
              break;
            }
            names.emplace_back(s);
          }
        }
      }
    }
  }
  if (!ok || (method != "SUBSCRIBE" && method != "UNSUBSCRIBE" && method != "LIST_SUBSCRIPTIONS")) {
    c.ws->send_text("{\"error\":{\"code\":2,\"msg\":\"Invalid request\"},\"id\":" + id + "}");
    return;
  }
  if (method == "SUBSCRIBE") {
    for (const auto& n : names)
      if (!subscribe(e, c, n)) {
        c.ws->close(net::close_code::kPolicyViolation, ("unknown stream '" + n + "'").substr(0, 120));
        return;
      }
  } else if (method == "UNSUBSCRIBE") {
    e.unsubscribe_all(c);  // coarse: drops every stream of the connection, then re-adds the others
    (void)names;
  }
  c.ws->send_text("{\"result\":null,\"id\":" + id + "}");
}

// Parses {"id":..,"method":..,"params":{..}}. False (with r.id as far as read) on malformed JSON.
bool SimDialect::parse_request(std::string_view text, Request& r) {
  simdjson::padded_string ps(text);
  simdjson::ondemand::document doc;
  if (json_.iterate(ps).get(doc)) return false;
  simdjson::ondemand::object obj;
  if (doc.get_object().get(obj)) return false;
  for (auto field : obj) {
    std::string_view key;
    if (field.unescaped_key().get(key)) return false;
    simdjson::ondemand::value v;
    if (field.value().get(v)) return false;
    if (key == "id") {
      simdjson::ondemand::json_type t;
      if (v.type().get(t)) return false;
      if (t == simdjson::ondemand::json_type::string) {
        std::string_view s;
        if (v.get_string().get(s)) return false;
        r.id = "\"";
        sim::json_escape(r.id, s);
        r.id += "\"";
      } else if (t == simdjson::ondemand::json_type::number) {
        r.id = trimmed(v.raw_json_token());
      } else {
        r.id = "null";
        if (t != simdjson::ondemand::json_type::null) return false;
      }
    } else if (key == "method") {
      std::string_view s;
      if (v.get_string().get(s)) return false;
      r.method = std::string(s);
    } else if (key == "params") {
      simdjson::ondemand::object po;
      if (v.get_object().get(po)) return false;
      for (auto pf : po) {
        std::string_view pk;
        if (pf.unescaped_key().get(pk)) return false;
        simdjson::ondemand::value pv;
        if (pf.value().get(pv)) return false;
        simdjson::ondemand::json_type t;
        if (pv.type().get(t)) return false;
        std::string value;
        if (t == simdjson::ondemand::json_type::string) {
          std::string_view s;
          if (pv.get_string().get(s)) return false;
          value = std::string(s);
        } else if (t == simdjson::ondemand::json_type::number || t == simdjson::ondemand::json_type::boolean) {
          value = trimmed(pv.raw_json_token());
        } else {
          // null / array / object: not a parameter value (skipped by the iterator)
          if (r.bad_param.empty()) r.bad_param = std::string(pk);
          continue;
        }
        r.params.emplace_back(std::string(pk), std::move(value));
      }
    }
  }
  return true;
}

namespace {
SimDialect::ApiError mandatory(std::string_view p) {
  return {-1102, "Mandatory parameter '" + std::string(p) + "' was not sent, was empty/null, or malformed."};
}
SimDialect::ApiError illegal(std::string_view p) {
  return {-1100, "Illegal characters found in parameter '" + std::string(p) + "'."};
}
}  // namespace

void SimDialect::reply_ok(Engine& e, const Conn& c, const Request& r, const std::string& result) {
  e.send(c.id, "{\"id\":" + r.id + ",\"status\":200,\"result\":" + result + "}");
}

void SimDialect::reply_err(Engine& e, const Conn& c, const std::string& id, int code, const std::string& msg) {
  e.count_reject(code);
  std::string t = "{\"id\":" + id + ",\"status\":400,\"error\":{\"code\":" + std::to_string(code) + ",\"msg\":\"";
  sim::json_escape(t, msg);
  t += "\"}}";
  e.send(c.id, std::move(t));
}

// Whether a base64 Ed25519 signature of `payload` verifies with the configured public key.
bool SimDialect::ed25519_valid(const std::string& payload, const std::string& b64) const {
  if (!pubkey_ || b64.size() != 88) return false;
  unsigned char sig[66];
  if (EVP_DecodeBlock(sig, reinterpret_cast<const unsigned char*>(b64.data()), 88) != 66) return false;  // 64 + padding
  EVP_MD_CTX* md = EVP_MD_CTX_new();
  const bool ok = md != nullptr && EVP_DigestVerifyInit(md, nullptr, nullptr, nullptr, pubkey_.get()) == 1 &&
                  EVP_DigestVerify(md, sig, 64, reinterpret_cast<const unsigned char*>(payload.data()),
                                   payload.size()) == 1;
  EVP_MD_CTX_free(md);
  return ok;
}

// A request that needs authentication: signed, or (after session.logon) by its connection. A logon must
// be signed with the Ed25519 key.
std::optional<SimDialect::ApiError> SimDialect::check_signature(Engine& e, const Conn& c, const Request& r,
                                                                bool logon) {
  if (!logon && c.authenticated && r.get("apiKey") == nullptr && r.get("signature") == nullptr) {
    if (r.get("timestamp") == nullptr) return mandatory("timestamp");
    e.stats_unsigned.add();
    return std::nullopt;
  }
  if (e.cfg.api_key.empty()) return std::nullopt;
  const std::string* key = r.get("apiKey");
  if (key == nullptr) return mandatory("apiKey");
  const std::string* sig = r.get("signature");
  if (sig == nullptr) return mandatory("signature");
  if (r.get("timestamp") == nullptr) return mandatory("timestamp");
  if (*key != e.cfg.api_key) return ApiError{-1022, "Signature for this request is not valid."};
  std::vector<std::pair<std::string, std::string>> p;
  for (const auto& kv : r.params)
    if (kv.first != "signature") p.push_back(kv);
  std::sort(p.begin(), p.end());
  std::string payload;
  for (const auto& [k, v] : p) {
    if (!payload.empty()) payload += '&';
    payload += k + "=" + v;
  }
  const bool valid = ed25519_valid(payload, *sig) ||
                     (!logon && !e.cfg.api_secret.empty() && hmac_hex(e.cfg.api_secret, payload) == *sig);
  if (!valid) return ApiError{-1022, "Signature for this request is not valid."};
  return std::nullopt;
}

void SimDialect::api_logon(Engine& e, Conn& c, const Request& r) {
  c.authenticated = true;
  e.stats_logons.add();
  const std::string* key = r.get("apiKey");
  std::string res = "{\"apiKey\":\"";
  sim::json_escape(res, key != nullptr ? *key : std::string());
  const std::int64_t now = sim::wall_ms();
  res += "\",\"authorizedSince\":" + std::to_string(now) + ",\"connectedSince\":" + std::to_string(c.connected_ms) +
         ",\"returnRateLimits\":false,\"serverTime\":" + std::to_string(now) +
         ",\"userDataStream\":" + (c.order_stream ? "true" : "false") + "}";
  reply_ok(e, c, r, res);
}

void SimDialect::handle_request(Engine& e, Conn& c, std::string_view text) {
  e.stats_requests.add();
  Request r;
  if (!parse_request(text, r)) {
    reply_err(e, c, r.id, -1000, "Malformed request: invalid JSON.");
    return;
  }
  if (!r.bad_param.empty()) {
    reply_err(e, c, r.id, -1102, mandatory(r.bad_param).msg);
    return;
  }
  std::optional<ApiError> err;
  const bool logon = r.method == "session.logon";
  const bool is_signed = logon || r.method == "order.place" || r.method == "order.cancel" ||
                         r.method == "order.status" || r.method == "openOrders.cancelAll" ||
                         r.method == "userDataStream.subscribe.signature";
  if (is_signed) err = check_signature(e, c, r, logon);
  if (r.method == "depth" && e.lose_depth > 0) {
    --e.lose_depth;
    e.stats_lost.add();
    return;
  }
  if (!err) {
    if (r.method == "depth") err = api_depth(e, c, r);
    else if (r.method == "order.place") err = api_place(e, c, r);
    else if (r.method == "order.cancel") err = api_cancel(e, c, r);
    else if (r.method == "order.status") err = api_order_status(e, c, r);
    else if (r.method == "openOrders.cancelAll") err = api_cancel_all(e, c, r);
    else if (logon) api_logon(e, c, r);
    else if (r.method == "userDataStream.subscribe.signature" || r.method == "userDataStream.subscribe") {
      c.order_stream = true;
      reply_ok(e, c, r, "{\"subscriptionId\":0}");
    } else if (r.method == "ping") reply_ok(e, c, r, "{}");
    else if (r.method == "time") reply_ok(e, c, r, "{\"serverTime\":" + std::to_string(sim::wall_ms()) + "}");
    else err = ApiError{-1000, "Unknown method '" + r.method + "'."};
  }
  if (err) reply_err(e, c, r.id, err->code, err->msg);
}

std::optional<SimDialect::ApiError> SimDialect::need_symbol(Engine& e, const Request& r, std::uint32_t& inst) {
  const std::string* s = r.get("symbol");
  if (s == nullptr || s->empty()) return mandatory("symbol");
  const std::size_t i = e.find_instrument(*s);
  if (i == Core::kNone) return ApiError{-1121, "Invalid symbol."};
  inst = static_cast<std::uint32_t>(i);
  return std::nullopt;
}

std::optional<SimDialect::ApiError> SimDialect::api_depth(Engine& e, Conn& c, const Request& r) {
  std::uint32_t si = 0;
  if (auto err = need_symbol(e, r, si)) return err;
  std::size_t limit = 100;
  if (const std::string* l = r.get("limit")) {
    char* end = nullptr;
    const long v = std::strtol(l->c_str(), &end, 10);
    if (l->empty() || *end != '\0' || v <= 0) return illegal("limit");
    limit = static_cast<std::size_t>(std::min<long>(v, 5000));
  }
  const Core::Instrument& in = e.instruments[si];
  std::string result;
  write_depth_result(in.gen->engine(), in.price_scale, in.qty_scale, in.gen->last_update_id(), limit, result);
  reply_ok(e, c, r, result);
  return std::nullopt;
}

std::string SimDialect::report(Engine& e, const Order& o, const char* x, const char* status, std::int64_t last_qty,
                               std::int64_t last_price, std::int64_t trade_id, bool maker, const std::string& cid,
                               const std::string& orig) {
  const Core::Instrument& s = e.instruments[o.inst];
  const std::int64_t now = sim::wall_ms();
  std::string t =
      "{\"e\":\"executionReport\",\"E\":" + std::to_string(now) + ",\"s\":\"" + s.spec.symbol + "\",\"c\":\"";
  sim::json_escape(t, cid);
  t += "\",\"S\":\"";
  t += side_text(o.side);
  t += "\",\"o\":\"";
  t += type_name(o);
  t += "\",\"f\":\"";
  t += tif_name(o.tif);
  t += "\",\"q\":\"" + format_fixed(o.qty, s.qty_scale) + "\",\"p\":\"" +
       format_fixed(o.type == OrderType::market ? 0 : o.price, s.price_scale) +
       "\",\"P\":\"0.00000000\",\"F\":\"0.00000000\",\"g\":-1,\"C\":\"";
  sim::json_escape(t, orig);
  t += "\",\"x\":\"";
  t += x;
  t += "\",\"X\":\"";
  t += status;
  t += "\",\"r\":\"NONE\",\"i\":" + std::to_string(o.id) + ",\"l\":\"" + format_fixed(last_qty, s.qty_scale) +
       "\",\"z\":\"" + format_fixed(o.filled, s.qty_scale) + "\",\"L\":\"" + format_fixed(last_price, s.price_scale) +
       "\",\"n\":\"0\",\"N\":null,\"T\":" + std::to_string(now) + ",\"t\":" + std::to_string(trade_id) +
       ",\"I\":0,\"w\":" + (o.resting ? "true" : "false") + ",\"m\":" + (maker ? "true" : "false") +
       ",\"M\":false,\"O\":" + std::to_string(o.created_ms) + ",\"Z\":\"" + sim::format_amount(o.cum_quote) +
       "\",\"Y\":\"" + sim::format_amount(int128(last_price) * last_qty * s.quote_per_pq) + "\",\"Q\":\"0\"}";
  return t;
}

void SimDialect::on_fill(Engine& e, const Order& o, const Fill& f) {
  e.push_report("{\"subscriptionId\":0,\"event\":" +
                report(e, o, "TRADE", f.done ? "FILLED" : "PARTIALLY_FILLED", f.qty, f.price,
                       static_cast<std::int64_t>(f.sequence), f.maker, o.client_id, "") +
                "}");
}

std::optional<SimDialect::ApiError> SimDialect::api_place(Engine& e, Conn& c, const Request& r) {
  std::uint32_t si = 0;
  if (auto err = need_symbol(e, r, si)) return err;
  const Core::Instrument& s = e.instruments[si];
  Order o;
  o.inst = si;
  const std::string* side_s = r.get("side");
  if (side_s == nullptr || side_s->empty()) return mandatory("side");
  if (*side_s == "BUY") o.side = Side::bid;
  else if (*side_s == "SELL") o.side = Side::ask;
  else return illegal("side");
  const std::string* type_s = r.get("type");
  if (type_s == nullptr || type_s->empty()) return mandatory("type");
  if (*type_s == "LIMIT") {
    o.type = OrderType::limit;
  } else if (*type_s == "MARKET") {
    o.type = OrderType::market;
  } else if (*type_s == "LIMIT_MAKER") {
    o.type = OrderType::limit;
    o.post_only = true;
  } else {
    return illegal("type");
  }
  if (o.type == OrderType::limit && !o.post_only) {
    const std::string* t = r.get("timeInForce");
    if (t == nullptr || t->empty()) return mandatory("timeInForce");
    if (*t == "GTC") o.tif = TimeInForce::gtc;
    else if (*t == "IOC") o.tif = TimeInForce::ioc;
    else if (*t == "FOK") o.tif = TimeInForce::fok;
    else return illegal("timeInForce");
  }
  const std::string* qty_s = r.get("quantity");
  if (qty_s == nullptr || qty_s->empty()) return mandatory("quantity");
  switch (parse_fixed(*qty_s, s.qty_scale, o.qty, Sign::unsigned_only)) {
    case FixedStatus::ok: break;
    case FixedStatus::off_grid: return ApiError{-1013, "Filter failure: LOT_SIZE"};
    default: return illegal("quantity");
  }
  if (o.qty <= 0 || o.qty % s.lot != 0) return ApiError{-1013, "Filter failure: LOT_SIZE"};
  if (o.type != OrderType::market) {
    const std::string* p = r.get("price");
    if (p == nullptr || p->empty()) return mandatory("price");
    switch (parse_fixed(*p, s.price_scale, o.price, Sign::unsigned_only)) {
      case FixedStatus::ok: break;
      case FixedStatus::off_grid: return ApiError{-1013, "Filter failure: PRICE_FILTER"};
      default: return illegal("price");
    }
    if (o.price <= 0) return ApiError{-1013, "Filter failure: PRICE_FILTER"};
  }
  if (const std::string* cid = r.get("newClientOrderId")) {
    if (!valid_client_id(*cid)) return illegal("newClientOrderId");
    o.client_id = *cid;
  } else {
    o.client_id = "sim" + std::to_string(e.next_order_id + 1);
  }
  if (e.duplicate_client_id(o.client_id)) return ApiError{-2010, "Duplicate order sent."};
  if (o.post_only && e.would_take(si, o.side, o.price))
    return ApiError{-2010, "Order would immediately match and take."};
  // Funds: buys lock quote at the limit price, sells lock the base; a market buy needs what it would
  // pay walking the book now.
  const int128 lock = e.lock_for(s, o.side, o.type, o.price, o.qty);
  const int128 need = o.side == Side::bid && o.type == OrderType::market ? e.market_buy_cost(si, o.qty) : lock;
  if (e.free_of(o.side == Side::bid ? s.quote : s.base) < need)
    return ApiError{-2010, "Account has insufficient balance for requested action."};
  o.resting = o.type != OrderType::market;  // for the NEW report's w
  const std::string cid = o.client_id;
  Order& placed = e.open_order(std::move(o), lock);
  const std::uint64_t id = placed.id;
  const std::int64_t created_ms = placed.created_ms;  // `placed` may be gone after submit (filled on arrival)
  // Held back until the answer is out: NEW, then the executions of the submit.
  e.begin_defer();
  e.push_report("{\"subscriptionId\":0,\"event\":" + report(e, placed, "NEW", "NEW", 0, 0, -1, false, cid, "") + "}");
  const book::OrderResult res = e.submit(placed);
  if (res.status == book::OrderStatus::rejected_full || res.status == book::OrderStatus::rejected_post_only ||
      res.status == book::OrderStatus::rejected_duplicate || res.status == book::OrderStatus::rejected_invalid) {
    e.deferring = false;
    e.deferred_reports.clear();
    e.close_order(id, Core::End::open);
    e.update_resting();
    return res.status == book::OrderStatus::rejected_post_only
               ? ApiError{-2010, "Order would immediately match and take."}
               : ApiError{-2010, "Order rejected: the simulator's book is full."};
  }
  e.deferring = false;
  reply_ok(e, c, r,
           "{\"symbol\":\"" + s.spec.symbol + "\",\"orderId\":" + std::to_string(id) +
               ",\"orderListId\":-1,\"clientOrderId\":\"" + cid + "\",\"transactTime\":" +
               std::to_string(created_ms) + "}");
  e.flush_deferred();
  if (Order* live = e.open_order_by_id(id)) {
    if (res.status == book::OrderStatus::resting) {
      live->resting = true;
    } else {  // IOC / FOK / market remainder (or an FOK that could not fill) expires
      live->resting = false;
      live->cause = live->type == OrderType::market ? Core::Cause::market
                    : live->tif == TimeInForce::fok ? Core::Cause::fok
                                                    : Core::Cause::ioc;
      e.push_report("{\"subscriptionId\":0,\"event\":" +
                    report(e, *live, "EXPIRED", "EXPIRED", 0, 0, -1, false, live->client_id, "") + "}");
      e.close_order(id, Core::End::expired);
    }
  }
  e.update_resting();
  return std::nullopt;
}

// The fields an order's responses share (cancel, order.status): "price":..,"side":"..".
std::string SimDialect::order_fields(Engine& e, const Order& o, const char* status) const {
  const Core::Instrument& s = e.instruments[o.inst];
  return "\"price\":\"" + format_fixed(o.type == OrderType::market ? 0 : o.price, s.price_scale) +
         "\",\"origQty\":\"" + format_fixed(o.qty, s.qty_scale) + "\",\"executedQty\":\"" +
         format_fixed(o.filled, s.qty_scale) + "\",\"cummulativeQuoteQty\":\"" + sim::format_amount(o.cum_quote) +
         "\",\"status\":\"" + status + "\",\"timeInForce\":\"" + tif_name(o.tif) + "\",\"type\":\"" + type_name(o) +
         "\",\"side\":\"" + side_text(o.side) + "\"";
}

std::string SimDialect::cancel_result(Engine& e, const Order& o, const std::string& new_cid) {
  const Core::Instrument& s = e.instruments[o.inst];
  return "{\"symbol\":\"" + s.spec.symbol + "\",\"origClientOrderId\":\"" + o.client_id + "\",\"orderId\":" +
         std::to_string(o.id) + ",\"orderListId\":-1,\"clientOrderId\":\"" + new_cid + "\",\"transactTime\":" +
         std::to_string(sim::wall_ms()) + "," + order_fields(e, o, "CANCELED") +
         ",\"selfTradePreventionMode\":\"NONE\"}";
}

// The order a request names by origClientOrderId (open orders; and closed ones when `closed_too`) or by
// orderId. id stays 0 when no order has that client id.
std::optional<SimDialect::ApiError> SimDialect::requested_order(Engine& e, const Request& r, bool closed_too,
                                                                std::uint64_t& id) const {
  if (const std::string* c = r.get("origClientOrderId"); c != nullptr && !c->empty()) {
    if (const Order* o = e.order_by_client(*c, closed_too)) id = o->id;
  } else if (const std::string* oid = r.get("orderId"); oid != nullptr && !oid->empty()) {
    id = std::strtoull(oid->c_str(), nullptr, 10);
  } else {
    return mandatory("origClientOrderId");
  }
  return std::nullopt;
}

// Cancels a resting order: book, funds, report. Returns the response object.
std::string SimDialect::do_cancel(Engine& e, std::uint64_t id, const std::string& new_cid) {
  Order& o = *e.open_order_by_id(id);
  e.cancel_resting(o);
  o.resting = false;
  o.cause = Core::Cause::user;
  const std::string result = cancel_result(e, o, new_cid);
  e.push_report("{\"subscriptionId\":0,\"event\":" +
                report(e, o, "CANCELED", "CANCELED", 0, 0, -1, false, new_cid, o.client_id) + "}");
  e.stats_cancels.add();
  e.close_order(id, Core::End::canceled);
  e.update_resting();
  return result;
}

std::string SimDialect::new_cancel_id(const Request& r) {
  if (const std::string* c = r.get("newClientOrderId"); c != nullptr && valid_client_id(*c)) return *c;
  return "simcancel" + std::to_string(++next_cancel_id_);
}

std::optional<SimDialect::ApiError> SimDialect::api_cancel(Engine& e, Conn& c, const Request& r) {
  std::uint32_t si = 0;
  if (auto err = need_symbol(e, r, si)) return err;
  std::uint64_t id = 0;
  if (auto err = requested_order(e, r, false, id)) return err;
  const Order* o = id == 0 ? nullptr : e.open_order_by_id(id);
  if (o == nullptr || o->inst != si || !o->resting) return ApiError{-2011, "Unknown order sent."};
  reply_ok(e, c, r, do_cancel(e, id, new_cancel_id(r)));
  return std::nullopt;
}

std::optional<SimDialect::ApiError> SimDialect::api_cancel_all(Engine& e, Conn& c, const Request& r) {
  std::uint32_t si = 0;
  if (auto err = need_symbol(e, r, si)) return err;
  std::vector<std::uint64_t> ids;
  for (const auto& [id, o] : e.orders)
    if (o.inst == si && o.resting) ids.push_back(id);
  if (ids.empty()) return ApiError{-2011, "Unknown order sent."};
  std::sort(ids.begin(), ids.end());
  std::string result = "[";
  for (std::size_t i = 0; i < ids.size(); ++i) {
    if (i) result += ',';
    result += do_cancel(e, ids[i], "simcancel" + std::to_string(++next_cancel_id_));
  }
  result += "]";
  reply_ok(e, c, r, result);
  return std::nullopt;
}

// order.status: an open order or one of the last kClosedKept closed ones; -2013 for any other.
std::optional<SimDialect::ApiError> SimDialect::api_order_status(Engine& e, Conn& c, const Request& r) {
  std::uint32_t si = 0;
  if (auto err = need_symbol(e, r, si)) return err;
  std::uint64_t id = 0;
  if (auto err = requested_order(e, r, true, id)) return err;
  const Order* o = e.order_by_id(id, true);
  if (o == nullptr || o->inst != si) return ApiError{-2013, "Order does not exist."};
  const Core::Instrument& s = e.instruments[o->inst];
  reply_ok(e, c, r,
           "{\"symbol\":\"" + s.spec.symbol + "\",\"orderId\":" + std::to_string(o->id) +
               ",\"orderListId\":-1,\"clientOrderId\":\"" + o->client_id + "\"," +
               order_fields(e, *o, status_name(*o)) + ",\"stopPrice\":\"0\",\"icebergQty\":\"0\",\"time\":" +
               std::to_string(o->created_ms) + ",\"updateTime\":" + std::to_string(o->updated_ms) +
               ",\"isWorking\":" + (o->resting ? "true" : "false") + ",\"workingTime\":" +
               std::to_string(o->created_ms) + ",\"origQuoteOrderQty\":\"0\",\"selfTradePreventionMode\":\"NONE\"}");
  return std::nullopt;
}

}  // namespace hftx::venue::binance

// The Binance engine is instantiated here, with the dialect's definitions in view.
template class hftx::sim::Engine<hftx::venue::binance::SimDialect>;
