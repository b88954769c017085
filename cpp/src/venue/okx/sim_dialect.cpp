// The exchange simulator's OKX dialect (venue/okx/sim_dialect.hpp): OKX v5 public channels, login, the orders
// channel and the trade ops, over the venue-neutral engine.
//
// Everything here runs on the simulator's reactor thread.
#include "hftx/venue/okx/sim_dialect.hpp"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "hftx/core/error.hpp"
#include "hftx/venue/okx/checksum.hpp"

namespace hftx::venue::okx {

namespace {

using sim::Core;

// BTC-USDT -> {BTC, USDT}.
std::pair<std::string, std::string> split_symbol(const std::string& sym) {
  const std::size_t dash = sym.find('-');
  if (dash == std::string::npos || dash == 0 || dash + 1 >= sym.size()) return {"", ""};
  return {sym.substr(0, dash), sym.substr(dash + 1)};
}

bool valid_symbol(std::string_view s) {
  const auto alnum = [](std::string_view p) {
    return !p.empty() && p.size() <= 15 &&
           std::all_of(p.begin(), p.end(), [](char c) { return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); });
  };
  const std::size_t dash = s.find('-');
  return dash != std::string_view::npos && alnum(s.substr(0, dash)) && alnum(s.substr(dash + 1));
}

void validate(const sim::ExchangeConfig& cfg) {
  if (!cfg.api_public_key.empty())
    throw ConfigError("simulator.api_public_key = (a PEM key): expected none for venue okx (OKX logins are signed "
                      "with api_secret, HMAC-SHA256)");
  if (!cfg.api_key.empty() && cfg.api_secret.empty())
    throw ConfigError("simulator.api_secret = '': expected the secret that signs OKX logins when api_key is set");
}

std::unique_ptr<sim::Core> make(const sim::ExchangeConfig& cfg) { return std::make_unique<SimDialect::Engine>(cfg); }

// The codes the dialect answers with (ExchangeStats::rejects_by_venue_code); the first also counts any other.
constexpr int kCodes[] = {1,     60004, 60005, 60006, 60007, 60009, 60011, 60012, 60013, 60018, 60019, 60024,
                          60028, 64004, 50014, 50015, 51000, 51001, 51003, 51008, 51016, 51020, 51025,
                          51121, 51401, 51402, 51502, 51509, 51510, 51511, 51603};
static_assert(std::size(kCodes) <= sim::kMaxRejectCodes);

const char* ord_type(const Core::Order& o) {
  if (o.type == OrderType::market) return "market";
  if (o.post_only) return "post_only";
  switch (o.tif) {
    case TimeInForce::ioc: return "ioc";
    case TimeInForce::fok: return "fok";
    case TimeInForce::gtc: break;
  }
  return "limit";
}

char* lit(char* p, std::string_view s) noexcept {
  std::memcpy(p, s.data(), s.size());
  return p + s.size();
}
char* num(char* p, std::uint64_t v) noexcept { return std::to_chars(p, p + 24, v).ptr; }
char* num(char* p, std::int64_t v) noexcept { return std::to_chars(p, p + 24, v).ptr; }
char* num(char* p, std::int32_t v) noexcept { return std::to_chars(p, p + 24, v).ptr; }

std::string dec(std::int64_t raw, const Scale& s) {
  char tmp[kMaxFixedText];
  return std::string(tmp, shortest_decimal(raw, s, tmp));
}

// v / 10^decimals as OKX writes numbers: shortest, no trailing zeros.
std::string shortest_int128(int128 v, int decimals) {
  std::string s = sim::format_amount(v * sim::pow10_128(sim::kAtomDecimals - decimals), decimals);
  if (s.find('.') != std::string::npos) {
    while (!s.empty() && s.back() == '0') s.pop_back();
    if (!s.empty() && s.back() == '.') s.pop_back();
  }
  return s;
}

bool alnum_id(std::string_view s, std::size_t max) {
  return !s.empty() && s.size() <= max &&
         std::all_of(s.begin(), s.end(), [](char c) {
           return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
         });
}

std::string base64_hmac(const std::string& secret, const std::string& payload) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(payload.data()), payload.size(), md, &len);
  unsigned char out[4 * ((EVP_MAX_MD_SIZE + 2) / 3) + 1];
  const int n = EVP_EncodeBlock(out, md, static_cast<int>(len));
  return std::string(reinterpret_cast<const char*>(out), static_cast<std::size_t>(n));
}

std::string json_str(std::string_view s) {
  std::string out = "\"";
  sim::json_escape(out, s);
  out += '"';
  return out;
}

}  // namespace

sim::DialectInfo sim_dialect_info() {
  sim::DialectInfo d;
  d.name = "okx";
  d.market_path = "/ws/v5/public";
  d.api_path = "/ws/v5/private";
  d.valid_symbol = &valid_symbol;
  d.symbol_rule = "an OKX spot instrument id: upper-case letters or digits, BASE-QUOTE (BTC-USDT)";
  d.split_symbol = &split_symbol;
  d.validate = &validate;
  d.make = &make;
  return d;
}

std::span<const int> SimDialect::reject_codes() noexcept { return kCodes; }

std::string SimDialect::type_text(const Order& o) { return ord_type(o); }

// ---- market writer -----------------------------------------------------------------------------------------

SimMarketWriter::SimMarketWriter(std::string inst_id, const Scale& price_scale, const Scale& qty_scale)
    : inst_id_(std::move(inst_id)), price_scale_(price_scale), qty_scale_(qty_scale) {
  buf_.resize(1u << 16);
  out_[0].reserve(1024);
  out_[1].reserve(1024);
}

char* SimMarketWriter::reserve(std::size_t levels) noexcept {
  const std::size_t need = 512 + inst_id_.size() + levels * (2 * kMaxFixedText + 32);
  if (buf_.size() < need) buf_.resize(need);  // more levels than any message before: grows once
  return buf_.data();
}

char* SimMarketWriter::head(char* p, std::string_view channel) const noexcept {
  p = lit(p, "{\"arg\":{\"channel\":\"");
  p = lit(p, channel);
  p = lit(p, "\",\"instId\":\"");
  p = lit(p, inst_id_);
  return lit(p, "\"}");
}

char* SimMarketWriter::level(char* p, std::int64_t price, std::int64_t qty, std::uint32_t orders) const noexcept {
  p = lit(p, "[\"");
  p += shortest_decimal(price, price_scale_, p);
  p = lit(p, "\",\"");
  p += shortest_decimal(qty, qty_scale_, p);
  p = lit(p, "\",\"0\",\"");
  p = num(p, static_cast<std::uint64_t>(orders));
  return lit(p, "\"]");
}

char* SimMarketWriter::side_levels(char* p, const sim::MarketGenerator& g, Side s, std::size_t n) const noexcept {
  const book::MatchingEngine& eng = g.engine();
  for (std::size_t i = 0; i < n; ++i) {
    if (i != 0) *p++ = ',';
    const book::Level l = eng.level(s, i);
    p = level(p, l.price.raw(), l.qty.raw(), g.level_orders(s, i));
  }
  return p;
}

void SimMarketWriter::reset_view(const sim::MarketGenerator& g, BookView& view) noexcept {
  for (int si = 0; si < 2; ++si) {
    const Side s = si == 0 ? Side::bid : Side::ask;
    const std::size_t n = std::min(view.depth, g.engine().level_count(s));
    view.count[si] = n;
    view.worst[si] = n > 0 ? g.engine().level(s, n - 1).price.raw() : 0;
  }
}

std::int32_t SimMarketWriter::checksum(const sim::MarketGenerator& g) noexcept {
  if (cs_valid_) return cs_value_;
  md::Level b[kChecksumLevels], a[kChecksumLevels];
  const book::MatchingEngine& eng = g.engine();
  const std::size_t nb = std::min(kChecksumLevels, eng.level_count(Side::bid));
  const std::size_t na = std::min(kChecksumLevels, eng.level_count(Side::ask));
  for (std::size_t i = 0; i < nb; ++i) b[i] = eng.level(Side::bid, i);
  for (std::size_t i = 0; i < na; ++i) a[i] = eng.level(Side::ask, i);
  cs_value_ = book_checksum(std::span<const md::Level>(b, nb), std::span<const md::Level>(a, na), price_scale_,
                            qty_scale_);
  cs_count_[0] = nb;
  cs_count_[1] = na;
  cs_worst_[0] = nb > 0 ? b[nb - 1].price.raw() : 0;
  cs_worst_[1] = na > 0 ? a[na - 1].price.raw() : 0;
  cs_valid_ = true;
  return cs_value_;
}

void SimMarketWriter::note(std::span<const md::Level> bids, std::span<const md::Level> asks) noexcept {
  if (!cs_valid_) return;
  // A side shorter than 25 levels: any change is within its top 25. Else a change at or above the 25th level
  // (an insert there pushes the 25th out, a removal pulls the 26th in).
  for (const md::Level& l : bids)
    if (cs_count_[0] < kChecksumLevels || l.price.raw() >= cs_worst_[0]) {
      cs_valid_ = false;
      return;
    }
  for (const md::Level& l : asks)
    if (cs_count_[1] < kChecksumLevels || l.price.raw() <= cs_worst_[1]) {
      cs_valid_ = false;
      return;
    }
}

std::string_view SimMarketWriter::snapshot(const sim::MarketGenerator& g, std::string_view channel, BookView& view,
                                           std::uint64_t seq, std::int64_t ms) noexcept {
  reset_view(g, view);
  char* const b = reserve(view.count[0] + view.count[1]);
  char* p = head(b, channel);
  p = lit(p, ",\"action\":\"snapshot\",\"data\":[{\"asks\":[");
  p = side_levels(p, g, Side::ask, view.count[1]);
  p = lit(p, "],\"bids\":[");
  p = side_levels(p, g, Side::bid, view.count[0]);
  p = lit(p, "],\"ts\":\"");
  p = num(p, ms);
  p = lit(p, "\",\"checksum\":");
  p = num(p, checksum(g));
  p = lit(p, ",\"prevSeqId\":-1,\"seqId\":");
  p = num(p, seq);
  p = lit(p, "}]}");
  view.seq = seq;
  return {b, static_cast<std::size_t>(p - b)};
}

// The levels of side `s` that a holder of `view` must change after the prices `touched` changed: those within
// the depth now (their size now), those that were within it and are gone or pushed out (size 0), and the
// untouched ones that entered it as others left. Levels are read from the book, which is the served book.
void SimMarketWriter::diff_side(const sim::MarketGenerator& g, Side s, BookView& view,
                                std::span<const md::Level> touched, std::vector<Out>& out) noexcept {
  const int si = s == Side::bid ? 0 : 1;
  const book::MatchingEngine& eng = g.engine();
  const auto at_or_better = [s](std::int64_t a, std::int64_t b) { return s == Side::bid ? a >= b : a <= b; };
  const std::size_t old_count = view.count[si];
  const std::int64_t old_worst = view.worst[si];
  const auto held = [&](std::int64_t p) { return old_count > 0 && at_or_better(p, old_worst); };
  const auto was_touched = [&](std::int64_t p) {
    for (const md::Level& l : touched)
      if (l.price.raw() == p) return true;
    return false;
  };
  const std::size_t n = eng.level_count(s);
  const std::size_t new_count = std::min(view.depth, n);
  for (const md::Level& l : touched) {
    const std::int64_t p = l.price.raw();
    const std::size_t i = g.level_index(s, p);
    if (i != SIZE_MAX && i < new_count) out.push_back({p, eng.level(s, i).qty.raw(), g.level_orders(s, i)});
    else if (held(p)) out.push_back({p, 0, 0});
  }
  // Held levels pushed below the depth by new ones above them.
  for (std::size_t i = new_count; i < n; ++i) {
    const std::int64_t p = eng.level(s, i).price.raw();
    if (!held(p)) break;
    if (!was_touched(p)) out.push_back({p, 0, 0});
  }
  // Levels below the old depth that entered it as levels above them left.
  for (std::size_t i = new_count; i-- > 0;) {
    const std::int64_t p = eng.level(s, i).price.raw();
    if (held(p)) break;
    if (!was_touched(p)) out.push_back({p, eng.level(s, i).qty.raw(), g.level_orders(s, i)});
  }
  view.count[si] = new_count;
  view.worst[si] = new_count > 0 ? eng.level(s, new_count - 1).price.raw() : 0;
}

std::string_view SimMarketWriter::update(const sim::MarketGenerator& g, std::string_view channel, BookView& view,
                                         std::span<const md::Level> bids, std::span<const md::Level> asks,
                                         std::uint64_t prev_seq, std::uint64_t seq, std::int64_t ms) noexcept {
  note(bids, asks);
  out_[0].clear();
  out_[1].clear();
  if (!bids.empty()) diff_side(g, Side::bid, view, bids, out_[0]);
  if (!asks.empty()) diff_side(g, Side::ask, view, asks, out_[1]);
  if (out_[0].empty() && out_[1].empty()) return {};
  std::sort(out_[0].begin(), out_[0].end(), [](const Out& x, const Out& y) { return x.price > y.price; });
  std::sort(out_[1].begin(), out_[1].end(), [](const Out& x, const Out& y) { return x.price < y.price; });
  char* const b = reserve(out_[0].size() + out_[1].size());
  char* p = head(b, channel);
  p = lit(p, ",\"action\":\"update\",\"data\":[{\"asks\":[");
  for (std::size_t i = 0; i < out_[1].size(); ++i) {
    if (i != 0) *p++ = ',';
    p = level(p, out_[1][i].price, out_[1][i].qty, out_[1][i].orders);
  }
  p = lit(p, "],\"bids\":[");
  for (std::size_t i = 0; i < out_[0].size(); ++i) {
    if (i != 0) *p++ = ',';
    p = level(p, out_[0][i].price, out_[0][i].qty, out_[0][i].orders);
  }
  p = lit(p, "],\"ts\":\"");
  p = num(p, ms);
  p = lit(p, "\",\"checksum\":");
  p = num(p, checksum(g));
  p = lit(p, ",\"prevSeqId\":");
  p = num(p, prev_seq);
  p = lit(p, ",\"seqId\":");
  p = num(p, seq);
  p = lit(p, "}]}");
  view.seq = seq;
  return {b, static_cast<std::size_t>(p - b)};
}

std::string_view SimMarketWriter::top(const sim::MarketGenerator& g, std::string_view channel, std::size_t depth,
                                      std::uint64_t seq, std::int64_t ms) noexcept {
  const std::size_t nb = std::min(depth, g.engine().level_count(Side::bid));
  const std::size_t na = std::min(depth, g.engine().level_count(Side::ask));
  char* const b = reserve(nb + na);
  char* p = head(b, channel);
  p = lit(p, ",\"data\":[{\"asks\":[");
  p = side_levels(p, g, Side::ask, na);
  p = lit(p, "],\"bids\":[");
  p = side_levels(p, g, Side::bid, nb);
  p = lit(p, "],");
  if (channel == "books5") {
    p = lit(p, "\"instId\":\"");
    p = lit(p, inst_id_);
    p = lit(p, "\",");
  }
  p = lit(p, "\"ts\":\"");
  p = num(p, ms);
  p = lit(p, "\",\"seqId\":");
  p = num(p, seq);
  p = lit(p, "}]}");
  return {b, static_cast<std::size_t>(p - b)};
}

std::string_view SimMarketWriter::trade(const md::Trade& t, std::int64_t ms) noexcept {
  char* const b = reserve(1);
  char* p = head(b, "trades");
  p = lit(p, ",\"data\":[{\"instId\":\"");
  p = lit(p, inst_id_);
  p = lit(p, "\",\"tradeId\":\"");
  p = num(p, t.id);
  p = lit(p, "\",\"px\":\"");
  p += shortest_decimal(t.price.raw(), price_scale_, p);
  p = lit(p, "\",\"sz\":\"");
  p += shortest_decimal(t.qty.raw(), qty_scale_, p);
  // side: the taker's (the buyer was the maker: the taker sold)
  p = lit(p, t.buyer_is_maker ? "\",\"side\":\"sell\",\"ts\":\"" : "\",\"side\":\"buy\",\"ts\":\"");
  p = num(p, ms);
  p = lit(p, "\",\"count\":\"1\"}]}");
  return {b, static_cast<std::size_t>(p - b)};
}

// ---- the dialect's state -----------------------------------------------------------------------------------

struct SimDialect::Arg {
  std::vector<std::pair<std::string, std::string>> kv;
  std::string bad;  // a key whose value is not a string, number or boolean
  [[nodiscard]] const std::string* get(std::string_view k) const {
    for (const auto& p : kv)
      if (p.first == k) return &p.second;
    return nullptr;
  }
};

struct SimDialect::Request {
  std::string id;  // "" when absent
  bool id_string = true;
  std::string op;
  bool has_args = false;  // args is an array of objects
  std::vector<Arg> args;
};

struct SimDialect::Inst {
  explicit Inst(SimMarketWriter writer) : w(std::move(writer)) {}
  SimMarketWriter w;
  BookView books{400}, tbt400{400}, tbt50{50};
  std::uint64_t seen = 0;  // the last book-update id processed
  // books: the prices changed since the last books message
  std::vector<md::Level> books_bids, books_asks;
  bool books_gap = false;
  std::uint64_t books_gap_prev = 0;
  // books5 / bbo-tbt: what was sent last
  md::Level top5[2][5] = {};
  std::size_t top5_n[2] = {0, 0};
  bool top5_sent = false;
  md::Level bbo[2] = {};
  // tickers
  bool traded = false, ticker_dirty = true;
  std::int64_t last_px = 0, last_sz = 0, open = 0, high = 0, low = 0;
  int128 vol = 0, vol_quote = 0;  // qty steps; atoms of quote
};

struct SimDialect::Private {
  std::uint32_t filter = 0;  // 0: every instrument; n: instrument n-1 only; UINT32_MAX: none (another instType)
  std::string arg;           // the push's "arg" object
};

SimDialect::SimDialect(Engine& e) {
  insts_.reserve(e.instruments.size());
  for (const auto& in : e.instruments) {
    insts_.emplace_back(SimMarketWriter(in.spec.symbol, in.price_scale, in.qty_scale));
    insts_.back().seen = in.gen->last_update_id();
  }
}

SimDialect::~SimDialect() = default;

std::string SimDialect::conn_id(const Conn& c) const {
  char tmp[16];
  std::snprintf(tmp, sizeof tmp, "%08x", static_cast<unsigned>((c.id * 2654435761u) & 0xffffffffu));
  return tmp;
}

// ---- connections -------------------------------------------------------------------------------------------

bool SimDialect::on_open(Engine&, Conn& c, std::string_view path, std::string_view) {
  if (path == "/ws/v5/public") {
    c.channel = sim::Channel::market;
    return true;
  }
  if (path == "/ws/v5/private") {
    c.channel = sim::Channel::api;
    return true;
  }
  c.ws->close(net::close_code::kPolicyViolation, ("unknown path '" + std::string(path) + "'").substr(0, 120));
  return false;
}

void SimDialect::on_close(Engine&, Conn& c) {
  private_.erase(c.id);
  pending_books_.erase(std::remove_if(pending_books_.begin(), pending_books_.end(),
                                      [&](const auto& p) { return p.first == c.id; }),
                       pending_books_.end());
}

bool SimDialect::parse(std::string_view text, Request& r) {
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
    simdjson::ondemand::json_type t;
    if (v.type().get(t)) return false;
    if (key == "id") {
      std::string_view s;
      if (t == simdjson::ondemand::json_type::string) {
        if (v.get_string().get(s)) return false;
        r.id = std::string(s);
      } else {
        r.id_string = false;
        s = v.raw_json_token();
        while (!s.empty() && s.back() <= ' ') s.remove_suffix(1);
        r.id = std::string(s);
      }
    } else if (key == "op") {
      std::string_view s;
      if (t != simdjson::ondemand::json_type::string || v.get_string().get(s)) return false;
      r.op = std::string(s);
    } else if (key == "args") {
      simdjson::ondemand::array arr;
      if (t != simdjson::ondemand::json_type::array || v.get_array().get(arr)) continue;
      r.has_args = true;
      for (auto el : arr) {
        simdjson::ondemand::object ao;
        if (el.get_object().get(ao)) {
          r.has_args = false;
          continue;
        }
        Arg a;
        for (auto af : ao) {
          std::string_view ak;
          if (af.unescaped_key().get(ak)) return false;
          simdjson::ondemand::value av;
          if (af.value().get(av)) return false;
          simdjson::ondemand::json_type at;
          if (av.type().get(at)) return false;
          if (at == simdjson::ondemand::json_type::string) {
            std::string_view s;
            if (av.get_string().get(s)) return false;
            a.kv.emplace_back(std::string(ak), std::string(s));
          } else if (at == simdjson::ondemand::json_type::number || at == simdjson::ondemand::json_type::boolean) {
            std::string_view s = av.raw_json_token();
            while (!s.empty() && s.back() <= ' ') s.remove_suffix(1);
            a.kv.emplace_back(std::string(ak), std::string(s));
          } else if (a.bad.empty()) {
            a.bad = std::string(ak);  // skipped by the iterator
          }
        }
        r.args.push_back(std::move(a));
      }
    }
  }
  return true;
}

void SimDialect::on_message(Engine& e, Conn& c, std::string_view text) {
  if (text == "ping") {
    if (c.channel == sim::Channel::api) e.send(c.id, "pong");
    else c.ws->send_text("pong");
    return;
  }
  Request r;
  if (!parse(text, r)) {
    if (c.channel == sim::Channel::api) e.stats_requests.add();
    send_event_error(e, c, r, 60012, "Invalid request: " + std::string(text.substr(0, 200)));
    return;
  }
  if (c.channel == sim::Channel::api) handle_private(e, c, r, text);
  else handle_public(e, c, r, text);
}

void SimDialect::send_event_error(Engine& e, Conn& c, const Request& r, int code, const std::string& msg) {
  e.count_reject(code);
  std::string t = "{";
  if (!r.id.empty()) t += "\"id\":" + (r.id_string ? json_str(r.id) : r.id) + ",";
  t += "\"event\":\"error\",\"code\":\"" + std::to_string(code) + "\",\"msg\":" + json_str(msg) + ",\"connId\":\"" +
       conn_id(c) + "\"}";
  if (c.channel == sim::Channel::api) e.send(c.id, std::move(t));
  else c.ws->send_text(t);
}

// ---- public channels ---------------------------------------------------------------------------------------

void SimDialect::handle_public(Engine& e, Conn& c, const Request& r, std::string_view text) {
  if (r.op == "subscribe" || r.op == "unsubscribe") {
    if (!r.has_args || r.args.empty()) {
      send_event_error(e, c, r, 60012, "Invalid request: " + std::string(text.substr(0, 200)));
      return;
    }
    for (const Arg& a : r.args) subscribe(e, c, r, a, r.op == "subscribe");
  } else if (r.op == "login") {
    login(e, c, r);
  } else if (r.op == "order" || r.op == "batch-orders" || r.op == "cancel-order" || r.op == "batch-cancel-orders" ||
             r.op == "amend-order") {
    send_event_error(e, c, r, 60028,
                     "The current operation is not supported by this URL. Please use the correct WebSocket URL for "
                     "the operation.");
  } else {
    send_event_error(e, c, r, 60019, "Invalid op: " + r.op);
  }
}

void SimDialect::subscribe(Engine& e, Conn& c, const Request& r, const Arg& a, bool sub) {
  const std::string* ch = a.get("channel");
  const std::string* id = a.get("instId");
  if (ch == nullptr || ch->empty()) {
    send_event_error(e, c, r, 60013, "Invalid args");
    return;
  }
  static constexpr std::string_view kNames[] = {"books", "books5", "bbo-tbt", "books-l2-tbt", "books50-l2-tbt",
                                                "trades", "tickers"};
  std::size_t kind = kStreamKinds;
  for (std::size_t k = 0; k < kStreamKinds; ++k)
    if (*ch == kNames[k]) kind = k;
  const std::size_t inst = id == nullptr ? Core::kNone : e.find_instrument(*id);
  if (kind == kStreamKinds || inst == Core::kNone) {
    send_event_error(e, c, r, 60018,
                     "Wrong URL or channel:" + *ch + ",instId:" + (id == nullptr ? std::string() : *id) +
                         " doesn't exist. Please use the correct URL, channel and parameters referring to API "
                         "document.");
    return;
  }
  const auto si = static_cast<std::uint32_t>(inst);
  const auto k = static_cast<std::uint8_t>(kind);
  const auto has = [&](std::uint8_t kk) {
    for (const auto& [i, sk] : c.subs)
      if (i == si && sk == kk) return true;
    if (kk == kBooks)
      for (const auto& [cid, i] : pending_books_)
        if (cid == c.id && i == si) return true;
    return false;
  };
  if (sub && ((k == kBooksL2Tbt && (has(kBooks) || has(kBooks50L2Tbt))) ||
              ((k == kBooks || k == kBooks50L2Tbt) && has(kBooksL2Tbt)))) {
    send_event_error(e, c, r, 64004,
                     "Subscribe to both " + std::string(k == kBooksL2Tbt ? (has(kBooks) ? "books" : "books50-l2-tbt")
                                                                         : kNames[k]) +
                         " and books-l2-tbt for " + *id + " is not allowed. Unsubscribe books-l2-tbt first.");
    return;
  }
  std::string t = "{";
  if (!r.id.empty()) t += "\"id\":" + (r.id_string ? json_str(r.id) : r.id) + ",";
  t += std::string("\"event\":\"") + (sub ? "subscribe" : "unsubscribe") + "\",\"arg\":{\"channel\":\"" + *ch +
       "\",\"instId\":\"" + *id + "\"},\"connId\":\"" + conn_id(c) + "\"}";
  c.ws->send_text(t);
  if (!sub) {
    (void)e.unsubscribe(c, si, k);
    if (k == kBooks)
      pending_books_.erase(std::remove(pending_books_.begin(), pending_books_.end(), std::pair(c.id, si)),
                           pending_books_.end());
    return;
  }
  // A book channel subscribed again gets a new snapshot, as at OKX (its recording in shared/data subscribed
  // books-l2-tbt twice and got two snapshots per instrument): how a client resyncs a book that fell out of step.
  const bool again = has(k);
  if (again && (k == kTrades || k == kTickers)) return;  // OKX answers again and sends nothing more
  if (k == kBooks) {
    const std::pair<std::uint64_t, std::uint32_t> p(c.id, si);
    if (std::find(pending_books_.begin(), pending_books_.end(), p) == pending_books_.end())
      pending_books_.push_back(p);  // the snapshot goes with the next 100 ms batch
    return;
  }
  send_snapshot(e, c, si, k);
  if (!again) (void)e.subscribe(c, si, k, std::string());
}

// The first message of a channel: the book (or top, or ticker) as it is now.
void SimDialect::send_snapshot(Engine& e, Conn& c, std::uint32_t inst, std::uint8_t kind) {
  Inst& s = insts_[inst];
  const sim::MarketGenerator& g = *e.instruments[inst].gen;
  const std::int64_t ms = sim::wall_ms();
  std::string_view text;
  switch (kind) {
    case kBooksL2Tbt: text = s.w.snapshot(g, "books-l2-tbt", s.tbt400, g.last_update_id(), ms); break;
    case kBooks50L2Tbt: text = s.w.snapshot(g, "books50-l2-tbt", s.tbt50, g.last_update_id(), ms); break;
    case kBooks: text = s.w.snapshot(g, "books", s.books, g.last_update_id(), ms); break;
    case kBooks5: text = s.w.top(g, "books5", 5, g.last_update_id(), ms); break;
    case kBboTbt: text = s.w.top(g, "bbo-tbt", 1, g.last_update_id(), ms); break;
    case kTickers: {
      s.ticker_dirty = true;  // everyone gets the ticker with the next batch, the new subscriber included
      return;
    }
    default: return;
  }
  e.write(c, {}, text, {});
}

void SimDialect::on_depth(Engine& e, std::uint32_t inst, const md::DepthUpdate& d, std::int64_t ms,
                          sim::Recorded) noexcept {
  Inst& s = insts_[inst];
  s.w.note(d.bids, d.asks);
  // A replayed diff the book already held (buffered before the recording's snapshot): OKX's seqId never goes back.
  if (d.last_id <= s.seen) return;
  // prevSeqId is the last seqId the holder got, unless ids were skipped (the skip_sequence hook): then the id
  // before this update, which the holder never got.
  const bool continuous = d.first_id <= s.seen + 1;
  s.seen = d.last_id;
  const sim::MarketGenerator& g = *e.instruments[inst].gen;
  if (e.has_subs(inst, kBooksL2Tbt)) {
    const std::string_view t = s.w.update(g, "books-l2-tbt", s.tbt400, d.bids, d.asks,
                                          continuous ? s.tbt400.seq : d.first_id - 1, d.last_id, ms);
    if (!t.empty()) e.broadcast(inst, kBooksL2Tbt, t);
  }
  if (e.has_subs(inst, kBooks50L2Tbt)) {
    const std::string_view t = s.w.update(g, "books50-l2-tbt", s.tbt50, d.bids, d.asks,
                                          continuous ? s.tbt50.seq : d.first_id - 1, d.last_id, ms);
    if (!t.empty()) e.broadcast(inst, kBooks50L2Tbt, t);
  }
  if (e.has_subs(inst, kBooks)) {
    s.books_bids.insert(s.books_bids.end(), d.bids.begin(), d.bids.end());
    s.books_asks.insert(s.books_asks.end(), d.asks.begin(), d.asks.end());
    if (!continuous && !s.books_gap) {
      s.books_gap = true;
      s.books_gap_prev = d.first_id - 1;
    }
  }
  if (e.has_subs(inst, kBboTbt)) {
    const book::Level b = g.engine().best(Side::bid), a = g.engine().best(Side::ask);
    if (!(b == s.bbo[0]) || !(a == s.bbo[1])) {
      s.bbo[0] = b;
      s.bbo[1] = a;
      e.broadcast(inst, kBboTbt, s.w.top(g, "bbo-tbt", 1, d.last_id, ms));
    }
  }
  s.ticker_dirty = true;
}

void SimDialect::on_top(Engine&, std::uint32_t inst, const md::BookTicker&, std::int64_t, sim::Recorded) noexcept {
  insts_[inst].ticker_dirty = true;  // bbo-tbt follows the served book itself (on_depth)
}

void SimDialect::on_trade(Engine& e, std::uint32_t inst, const md::Trade& t, std::int64_t ms, sim::Recorded) noexcept {
  Inst& s = insts_[inst];
  if (e.has_subs(inst, kTrades)) e.broadcast(inst, kTrades, s.w.trade(t, ms));
  const std::int64_t px = t.price.raw();
  if (!s.traded) {
    s.traded = true;
    s.open = s.high = s.low = px;
  }
  s.last_px = px;
  s.last_sz = t.qty.raw();
  s.high = std::max(s.high, px);
  s.low = std::min(s.low, px);
  s.vol += t.qty.raw();
  s.vol_quote += int128(px) * t.qty.raw() * e.instruments[inst].quote_per_pq;
  s.ticker_dirty = true;
}

// Every 100 ms: books (the changes of the period, then new subscribers' snapshots), books5 when the top 5
// changed, tickers when something changed.
void SimDialect::on_tick(Engine& e) {
  const std::int64_t ms = sim::wall_ms();
  for (std::uint32_t i = 0; i < insts_.size(); ++i) {
    Inst& s = insts_[i];
    const sim::MarketGenerator& g = *e.instruments[i].gen;
    flush_books(e, i, ms);
    if (e.has_subs(i, kBooks5)) {
      bool same = s.top5_sent;
      for (int si = 0; si < 2; ++si) {
        const Side side = si == 0 ? Side::bid : Side::ask;
        const std::size_t n = std::min<std::size_t>(5, g.engine().level_count(side));
        same = same && n == s.top5_n[si];
        for (std::size_t k = 0; k < n; ++k) {
          const book::Level l = g.engine().level(side, k);
          same = same && l == s.top5[si][k];
          s.top5[si][k] = l;
        }
        s.top5_n[si] = n;
      }
      s.top5_sent = true;
      if (!same) e.broadcast(i, kBooks5, s.w.top(g, "books5", 5, g.last_update_id(), ms));
    } else {
      s.top5_sent = false;
    }
    if (e.has_subs(i, kTickers) && s.ticker_dirty) {
      s.ticker_dirty = false;
      const book::Level b = g.engine().best(Side::bid), a = g.engine().best(Side::ask);
      const Scale& ps = s.w.price_scale();
      const Scale& qs = s.w.qty_scale();
      if (!s.traded) s.last_px = s.open = s.high = s.low = b.price.raw();
      const int qd = qs.decimals();
      std::string t = "{\"arg\":{\"channel\":\"tickers\",\"instId\":\"" + s.w.inst_id() +
                      "\"},\"data\":[{\"instType\":\"SPOT\",\"instId\":\"" + s.w.inst_id() + "\",\"last\":\"" +
                      dec(s.last_px, ps) + "\",\"lastSz\":\"" + dec(s.last_sz, qs) + "\",\"askPx\":\"" +
                      dec(a.price.raw(), ps) + "\",\"askSz\":\"" + dec(a.qty.raw(), qs) + "\",\"bidPx\":\"" +
                      dec(b.price.raw(), ps) + "\",\"bidSz\":\"" + dec(b.qty.raw(), qs) + "\",\"open24h\":\"" +
                      dec(s.open, ps) + "\",\"high24h\":\"" + dec(s.high, ps) + "\",\"low24h\":\"" + dec(s.low, ps) +
                      "\",\"sodUtc0\":\"" + dec(s.open, ps) + "\",\"sodUtc8\":\"" + dec(s.open, ps) +
                      "\",\"volCcy24h\":\"" + shortest_int128(s.vol_quote / sim::pow10_128(sim::kAtomDecimals - 8), 8) +
                      "\",\"vol24h\":\"" + shortest_int128(s.vol * qs.multiplier(), qd) + "\",\"ts\":\"" +
                      std::to_string(ms) + "\"}]}";
      e.broadcast(i, kTickers, t);
    }
  }
}

void SimDialect::flush_books(Engine& e, std::uint32_t inst, std::int64_t ms) {
  Inst& s = insts_[inst];
  const sim::MarketGenerator& g = *e.instruments[inst].gen;
  if (e.has_subs(inst, kBooks) && (!s.books_bids.empty() || !s.books_asks.empty())) {
    const auto by_price = [](const md::Level& x, const md::Level& y) { return x.price < y.price; };
    const auto same_price = [](const md::Level& x, const md::Level& y) { return x.price == y.price; };
    for (auto* v : {&s.books_bids, &s.books_asks}) {
      std::sort(v->begin(), v->end(), by_price);
      v->erase(std::unique(v->begin(), v->end(), same_price), v->end());
    }
    const std::string_view t = s.w.update(g, "books", s.books, s.books_bids, s.books_asks,
                                          s.books_gap ? s.books_gap_prev : s.books.seq, g.last_update_id(), ms);
    if (!t.empty()) e.broadcast(inst, kBooks, t);
  }
  s.books_bids.clear();
  s.books_asks.clear();
  s.books_gap = false;
  // New subscribers: a snapshot of the book now (the holders above have it too), then the batches from here on.
  for (std::size_t k = 0; k < pending_books_.size();) {
    if (pending_books_[k].second != inst) {
      ++k;
      continue;
    }
    if (Conn* c = e.conn(pending_books_[k].first)) {
      send_snapshot(e, *c, inst, kBooks);
      (void)e.subscribe(*c, inst, kBooks, std::string());
    }
    pending_books_.erase(pending_books_.begin() + static_cast<std::ptrdiff_t>(k));
  }
}

// ---- private channel: login, orders, trade ops -------------------------------------------------------------

void SimDialect::handle_private(Engine& e, Conn& c, const Request& r, std::string_view text) {
  e.stats_requests.add();
  if (r.op == "login") {
    login(e, c, r);
  } else if (r.op == "subscribe" || r.op == "unsubscribe") {
    if (!r.has_args || r.args.empty()) {
      send_event_error(e, c, r, 60012, "Invalid request: " + std::string(text.substr(0, 200)));
      return;
    }
    for (const Arg& a : r.args) subscribe_orders(e, c, r, a, r.op == "subscribe");
  } else if (r.op == "order" || r.op == "batch-orders" || r.op == "cancel-order" || r.op == "batch-cancel-orders" ||
             r.op == "amend-order") {
    trade_op(e, c, r);
  } else {
    send_event_error(e, c, r, 60019, "Invalid op: " + r.op);
  }
}

void SimDialect::login(Engine& e, Conn& c, const Request& r) {
  const auto fail = [&](int code, const char* msg) { send_event_error(e, c, r, code, msg); };
  if (!r.has_args || r.args.size() != 1) return fail(60009, "Login failed.");
  const Arg& a = r.args[0];
  if (!e.cfg.api_key.empty()) {
    const std::string* key = a.get("apiKey");
    const std::string* pass = a.get("passphrase");
    const std::string* ts = a.get("timestamp");
    const std::string* sign = a.get("sign");
    if (key == nullptr || pass == nullptr || ts == nullptr || sign == nullptr) return fail(60009, "Login failed.");
    if (*key != e.cfg.api_key) return fail(60005, "Invalid apiKey");
    if (!e.cfg.api_passphrase.empty() && *pass != e.cfg.api_passphrase) return fail(60024, "Wrong passphrase");
    std::int64_t secs = 0;
    const auto [end, ec] = std::from_chars(ts->data(), ts->data() + ts->size(), secs);
    if (ec != std::errc() || end != ts->data() + ts->size()) return fail(60004, "Invalid timestamp");
    if (std::abs(secs - sim::wall_ms() / 1000) > 30) return fail(60006, "Timestamp request expired");
    if (*sign != base64_hmac(e.cfg.api_secret, *ts + "GET/users/self/verify")) return fail(60007, "Invalid sign");
  }
  c.authenticated = true;
  e.stats_logons.add();
  std::string t = "{";
  if (!r.id.empty()) t += "\"id\":" + (r.id_string ? json_str(r.id) : r.id) + ",";
  t += "\"event\":\"login\",\"code\":\"0\",\"msg\":\"\",\"connId\":\"" + conn_id(c) + "\"}";
  if (c.channel == sim::Channel::api) e.send(c.id, std::move(t));
  else c.ws->send_text(t);
}

void SimDialect::subscribe_orders(Engine& e, Conn& c, const Request& r, const Arg& a, bool sub) {
  const std::string* ch = a.get("channel");
  if (ch == nullptr || ch->empty()) return send_event_error(e, c, r, 60013, "Invalid args");
  const std::string* type = a.get("instType");
  const std::string* id = a.get("instId");
  const std::size_t inst = id == nullptr ? Core::kNone : e.find_instrument(*id);
  static constexpr std::string_view kTypes[] = {"SPOT", "ANY", "MARGIN", "SWAP", "FUTURES", "OPTION"};
  const bool type_ok = type != nullptr && std::find(std::begin(kTypes), std::end(kTypes), *type) != std::end(kTypes);
  if (*ch != "orders" || !type_ok || (id != nullptr && inst == Core::kNone))
    return send_event_error(e, c, r, 60018,
                            "Wrong URL or channel:" + *ch + ",instType:" + (type ? *type : std::string()) +
                                " doesn't exist. Please use the correct URL, channel and parameters referring to API "
                                "document.");
  if (!c.authenticated) return send_event_error(e, c, r, 60011, "Please log in");
  std::string arg = "{\"channel\":\"orders\",\"instType\":\"" + *type + "\"";
  if (id != nullptr) arg += ",\"instId\":\"" + *id + "\"";
  std::string t = "{";
  if (!r.id.empty()) t += "\"id\":" + (r.id_string ? json_str(r.id) : r.id) + ",";
  t += std::string("\"event\":\"") + (sub ? "subscribe" : "unsubscribe") + "\",\"arg\":" + arg + "},\"connId\":\"" +
       conn_id(c) + "\"}";
  e.send(c.id, std::move(t));
  if (!sub) {
    c.order_stream = false;
    private_.erase(c.id);
    return;
  }
  Private p;
  p.filter = (*type == "SPOT" || *type == "ANY") ? (id == nullptr ? 0 : static_cast<std::uint32_t>(inst) + 1)
                                                  : UINT32_MAX;
  p.arg = arg + ",\"uid\":\"1\"}";
  private_[c.id] = std::move(p);
  c.order_stream = true;
}

void SimDialect::answer(Engine& e, Conn& c, const Request& r, const std::vector<Element>& data, std::int64_t in_us,
                        int code, const std::string& msg) {
  if (code < 0) {
    std::size_t ok = 0;
    for (const Element& el : data) ok += el.code == 0;
    code = ok == data.size() ? 0 : ok == 0 ? 1 : 2;  // all, none, some succeeded
  }
  const std::string ts = std::to_string(sim::wall_ms());
  std::string t = "{\"id\":" + (r.id_string ? json_str(r.id) : r.id) + ",\"op\":" + json_str(r.op) + ",\"data\":[";
  for (std::size_t i = 0; i < data.size(); ++i) {
    const Element& el = data[i];
    if (i != 0) t += ',';
    t += "{\"clOrdId\":" + json_str(el.cl_ord_id) + ",\"ordId\":\"" + el.ord_id + "\",";
    if (r.op == "amend-order") t += "\"reqId\":" + json_str(el.req_id) + ",";
    else if (r.op == "order" || r.op == "batch-orders") t += "\"tag\":\"\",";
    t += "\"ts\":\"" + ts + "\",\"sCode\":\"" + std::to_string(el.code) + "\",\"sMsg\":" + json_str(el.msg) + "}";
  }
  const std::int64_t out_us = sim::wall_ms() * 1000;
  t += "],\"code\":\"" + std::to_string(code) + "\",\"msg\":" + json_str(msg) + ",\"inTime\":\"" +
       std::to_string(in_us) +
       "\",\"outTime\":\"" + std::to_string(std::max(out_us, in_us)) + "\"}";
  e.send(c.id, std::move(t));
}

void SimDialect::trade_op(Engine& e, Conn& c, const Request& r) {
  const std::int64_t in_us = sim::wall_ms() * 1000;
  if (r.id.empty() || !r.id_string || !alnum_id(r.id, 32)) {
    send_event_error(e, c, r, 60012, "Invalid request: the id must be 1..32 letters or digits");
    return;
  }
  if (!c.authenticated) {
    e.count_reject(60011);
    answer(e, c, r, {}, in_us, 60011, "Please log in");
    return;
  }
  const bool batch = r.op == "batch-orders" || r.op == "batch-cancel-orders";
  if (!r.has_args || r.args.empty() || (!batch && r.args.size() != 1) || r.args.size() > kMaxBatch) {
    e.count_reject(60013);
    answer(e, c, r, {}, in_us, 60013,
           r.args.size() > kMaxBatch ? "Invalid args: at most 20 orders per request" : "Invalid args");
    return;
  }
  std::vector<Element> data;
  data.reserve(r.args.size());
  // The answer goes out before the orders channel's pushes (live, fills, cancels) the ops cause.
  e.begin_defer();
  for (const Arg& a : r.args) {
    Element el;
    if (!a.bad.empty()) {
      el.code = 51000;
      el.msg = "Parameter " + a.bad + " error";
      if (const std::string* cl = a.get("clOrdId")) el.cl_ord_id = *cl;
    } else if (r.op == "order" || r.op == "batch-orders") {
      el = place(e, a);
    } else if (r.op == "amend-order") {
      el = amend(e, a);
    } else {
      el = cancel(e, a);
    }
    if (el.code != 0) e.count_reject(el.code);
    data.push_back(std::move(el));
  }
  e.deferring = false;
  answer(e, c, r, data, in_us);
  e.flush_deferred();
  e.update_resting();
}

SimDialect::Element SimDialect::place(Engine& e, const Arg& a) {
  Element el;
  const auto err = [&](int code, std::string msg) {
    el.code = code;
    el.msg = std::move(msg);
    return el;
  };
  const auto empty = [&](const char* p) { return err(50014, std::string("Parameter ") + p + " can not be empty."); };
  if (const std::string* cl = a.get("clOrdId")) el.cl_ord_id = *cl;
  const std::string* inst_s = a.get("instId");
  if (inst_s == nullptr || inst_s->empty()) return empty("instId");
  const std::size_t inst = e.find_instrument(*inst_s);
  if (inst == Core::kNone) return err(51001, "Instrument ID, Instrument ID code or Spread ID doesn't exist.");
  const Core::Instrument& in = e.instruments[inst];
  const std::string* td = a.get("tdMode");
  if (td == nullptr || td->empty()) return empty("tdMode");
  if (*td != "cash") return err(51000, "Parameter tdMode error");
  Order o;
  o.inst = static_cast<std::uint32_t>(inst);
  const std::string* side = a.get("side");
  if (side == nullptr || side->empty()) return empty("side");
  if (*side == "buy") o.side = Side::bid;
  else if (*side == "sell") o.side = Side::ask;
  else return err(51000, "Parameter side error");
  const std::string* type = a.get("ordType");
  if (type == nullptr || type->empty()) return empty("ordType");
  if (*type == "limit") {
    o.type = OrderType::limit;
  } else if (*type == "post_only") {
    o.type = OrderType::limit;
    o.post_only = true;
  } else if (*type == "ioc") {
    o.type = OrderType::limit;
    o.tif = TimeInForce::ioc;
  } else if (*type == "fok") {
    o.type = OrderType::limit;
    o.tif = TimeInForce::fok;
  } else if (*type == "market") {
    o.type = OrderType::market;
  } else {
    return err(51000, "Parameter ordType error");
  }
  if (!el.cl_ord_id.empty()) {
    if (!alnum_id(el.cl_ord_id, 32)) return err(51000, "Parameter clOrdId error");
    if (e.duplicate_client_id(el.cl_ord_id)) return err(51016, "Duplicated clOrdId");
    o.client_id = el.cl_ord_id;
  }
  const std::string* sz = a.get("sz");
  if (sz == nullptr || sz->empty()) return empty("sz");
  // A spot market buy's sz is in the quote asset unless tgtCcy says base_ccy (OKX's default); a sell's in the base.
  const std::string* tgt = a.get("tgtCcy");
  if (tgt != nullptr && !tgt->empty() && *tgt != "base_ccy" && *tgt != "quote_ccy")
    return err(51000, "Parameter tgtCcy error");
  const bool market_buy = o.type == OrderType::market && o.side == Side::bid;
  const bool in_quote = market_buy && (tgt == nullptr || tgt->empty() || *tgt == "quote_ccy");
  if (o.type == OrderType::market && o.side == Side::ask && tgt != nullptr && *tgt == "quote_ccy")
    return err(51000, "Parameter tgtCcy error");  // a sell sized in the quote asset: not simulated
  int128 quote = 0;
  if (in_quote) {
    const int decimals = in.price_scale.decimals() + in.qty_scale.decimals();
    std::int64_t raw = 0;
    if (parse_fixed(*sz, Scale::with_decimals(decimals), raw, Sign::unsigned_only) != FixedStatus::ok || raw <= 0)
      return err(51000, "Parameter sz error");
    quote = int128(raw) * sim::pow10_128(sim::kAtomDecimals - decimals);
    o.qty = e.market_buy_qty_for(o.inst, quote);
    if (o.qty <= 0) return err(51020, "Your order should meet or exceed the minimum order amount.");
    o.venue_text = *sz;
  } else {
    switch (parse_fixed(*sz, in.qty_scale, o.qty, Sign::unsigned_only)) {
      case FixedStatus::ok: break;
      case FixedStatus::off_grid: return err(51121, "Order quantity must be a multiple of the lot size.");
      default: return err(51000, "Parameter sz error");
    }
    if (o.qty <= 0) return err(51000, "Parameter sz error");
    if (o.qty % in.lot != 0) return err(51121, "Order quantity must be a multiple of the lot size.");
  }
  if (o.type == OrderType::limit) {
    const std::string* px = a.get("px");
    if (px == nullptr || px->empty()) return empty("px");
    if (parse_fixed(*px, in.price_scale, o.price, Sign::unsigned_only) != FixedStatus::ok || o.price <= 0)
      return err(51000, "Parameter px error");
  }
  const int128 lock = e.lock_for(in, o.side, o.type, o.price, o.qty);
  const int128 need = in_quote ? quote : market_buy ? e.market_buy_cost(o.inst, o.qty) : lock;
  const std::size_t asset = o.side == Side::bid ? in.quote : in.base;
  if (e.free_of(asset) < need)
    return err(51008, "Order failed. Insufficient " + e.assets[asset].name + " balance in account");
  o.resting = o.type == OrderType::limit;
  const bool market = o.type == OrderType::market;
  Order& placed = e.open_order(std::move(o), lock);
  const std::uint64_t id = placed.id;
  el.ord_id = std::to_string(id);
  el.msg = "Order placed";
  push_order(e, placed, "live", nullptr, "");
  const auto end = [&](Core::Cause cause, const char* source) {
    Order* live = e.open_order_by_id(id);
    if (live == nullptr) return;
    live->resting = false;
    live->cause = cause;
    push_order(e, *live, "canceled", nullptr, source);
    e.close_order(id, Core::End::canceled);
  };
  if (placed.post_only && e.would_take(placed.inst, placed.side, placed.price)) {
    end(Core::Cause::post_only, "31");  // OKX accepts it, then cancels it: it would have taken liquidity
    return el;
  }
  const book::OrderResult res = e.submit(placed);
  switch (res.status) {
    case book::OrderStatus::resting:
      if (Order* live = e.open_order_by_id(id)) live->resting = true;
      break;
    case book::OrderStatus::filled: break;
    case book::OrderStatus::rejected_post_only: end(Core::Cause::post_only, "31"); break;
    case book::OrderStatus::rejected_fok: end(Core::Cause::fok, "13"); break;
    case book::OrderStatus::cancelled:  // the IOC / market remainder
      end(market ? Core::Cause::market : Core::Cause::ioc, "14");
      break;
    default: end(Core::Cause::none, "0"); break;  // the simulator's book is full
  }
  return el;
}

namespace {
// The order an element names by ordId or clOrdId: open or closed; nullptr with code/msg set when it names none.
const Core::Order* named_order(Core& e, const SimDialect::Arg& a, std::size_t inst, int& code, std::string& msg) {
  const std::string* ord = a.get("ordId");
  const std::string* cl = a.get("clOrdId");
  const Core::Order* o = nullptr;
  if (ord != nullptr && !ord->empty()) {
    std::uint64_t id = 0;
    const auto [end, ec] = std::from_chars(ord->data(), ord->data() + ord->size(), id);
    if (ec != std::errc() || end != ord->data() + ord->size()) {
      code = 51000;
      msg = "Parameter ordId error";
      return nullptr;
    }
    o = e.order_by_id(id, true);
  } else if (cl != nullptr && !cl->empty()) {
    o = e.order_by_client(*cl, true);
  } else {
    code = 51003;
    msg = "Either client order ID or order ID is required.";
    return nullptr;
  }
  if (o == nullptr || o->inst != inst) {
    code = 51603;
    msg = "Order does not exist.";
    return nullptr;
  }
  return o;
}
}  // namespace

SimDialect::Element SimDialect::cancel(Engine& e, const Arg& a) {
  Element el;
  if (const std::string* cl = a.get("clOrdId")) el.cl_ord_id = *cl;
  if (const std::string* ord = a.get("ordId")) el.ord_id = *ord;
  const std::string* inst_s = a.get("instId");
  if (inst_s == nullptr || inst_s->empty())
    return {el.cl_ord_id, el.ord_id, {}, 50014, "Parameter instId can not be empty."};
  const std::size_t inst = e.find_instrument(*inst_s);
  if (inst == Core::kNone)
    return {el.cl_ord_id, el.ord_id, {}, 51001, "Instrument ID, Instrument ID code or Spread ID doesn't exist."};
  const Order* o = named_order(e, a, inst, el.code, el.msg);
  if (o == nullptr) return el;
  el.cl_ord_id = o->client_id;
  el.ord_id = std::to_string(o->id);
  if (o->end == Core::End::filled)
    return {el.cl_ord_id, el.ord_id, {}, 51402, "Cancellation failed as the order has been filled."};
  if (o->end != Core::End::open)
    return {el.cl_ord_id, el.ord_id, {}, 51401, "Cancellation failed as the order has been canceled."};
  Order& live = *e.open_order_by_id(o->id);
  e.cancel_resting(live);
  live.resting = false;
  live.cause = Core::Cause::user;
  push_order(e, live, "canceled", nullptr, "1");
  e.stats_cancels.add();
  e.close_order(live.id, Core::End::canceled);
  return el;
}

SimDialect::Element SimDialect::amend(Engine& e, const Arg& a) {
  Element el;
  if (const std::string* cl = a.get("clOrdId")) el.cl_ord_id = *cl;
  if (const std::string* ord = a.get("ordId")) el.ord_id = *ord;
  if (const std::string* req = a.get("reqId")) el.req_id = *req;
  const auto err = [&](int code, std::string msg) {
    el.code = code;
    el.msg = std::move(msg);
    return el;
  };
  const std::string* inst_s = a.get("instId");
  if (inst_s == nullptr || inst_s->empty()) return err(50014, "Parameter instId can not be empty.");
  const std::size_t inst = e.find_instrument(*inst_s);
  if (inst == Core::kNone) return err(51001, "Instrument ID, Instrument ID code or Spread ID doesn't exist.");
  if (!el.req_id.empty() && !alnum_id(el.req_id, 32)) return err(51000, "Parameter reqId error");
  const Order* found = named_order(e, a, inst, el.code, el.msg);
  if (found == nullptr) return el;
  el.cl_ord_id = found->client_id;
  el.ord_id = std::to_string(found->id);
  if (found->end == Core::End::filled) return err(51510, "Modification failed as the order has been completed.");
  if (found->end != Core::End::open) return err(51509, "Modification failed as the order has been canceled.");
  Order& o = *e.open_order_by_id(found->id);
  const Core::Instrument& in = e.instruments[inst];
  const std::string* new_sz = a.get("newSz");
  const std::string* new_px = a.get("newPx");
  if ((new_sz == nullptr || new_sz->empty()) && (new_px == nullptr || new_px->empty()))
    return err(50015, "Either parameter newSz or newPx is required.");
  std::int64_t qty = o.qty, price = o.price;
  if (new_sz != nullptr && !new_sz->empty()) {
    switch (parse_fixed(*new_sz, in.qty_scale, qty, Sign::unsigned_only)) {
      case FixedStatus::ok: break;
      case FixedStatus::off_grid: return err(51121, "Order quantity must be a multiple of the lot size.");
      default: return err(51000, "Parameter newSz error");
    }
    if (qty % in.lot != 0) return err(51121, "Order quantity must be a multiple of the lot size.");
    // newSz is the whole order's new size, the filled part included: it must leave something to fill.
    if (qty <= o.filled) return err(51000, "Parameter newSz error");
  }
  if (new_px != nullptr && !new_px->empty()) {
    if (parse_fixed(*new_px, in.price_scale, price, Sign::unsigned_only) != FixedStatus::ok || price <= 0)
      return err(51000, "Parameter newPx error");
  }
  const std::string* cxl = a.get("cxlOnFail");
  const bool cancel_on_fail = cxl != nullptr && *cxl == "true";
  const auto fail = [&](int code, std::string msg) {
    if (cancel_on_fail) {  // the order is canceled when the amendment fails
      e.cancel_resting(o);
      o.resting = false;
      o.cause = Core::Cause::user;
      push_order(e, o, "canceled", nullptr, "1", el.req_id, "1");
      e.close_order(o.id, Core::End::canceled);
    }
    return err(code, std::move(msg));
  };
  if (o.post_only && price != o.price && e.would_take(o.inst, o.side, price))
    return fail(51511, "Modification failed as the order price did not meet the requirement for Post Only.");
  const std::int64_t remaining = qty - o.filled;
  const int128 lock = e.lock_for(in, o.side, o.type, price, remaining);
  const std::size_t asset = o.side == Side::bid ? in.quote : in.base;
  if (lock - o.locked > e.free_of(asset))
    return fail(51502, "Order modification failed. Insufficient " + e.assets[asset].name + " balance in account");
  e.assets[asset].free -= lock - o.locked;
  e.assets[asset].locked += lock - o.locked;
  o.locked = lock;
  o.price = price;
  o.qty = qty;
  o.updated_ms = sim::wall_ms();
  e.stats_amends.add();
  const std::uint64_t id = o.id;
  push_order(e, o, o.filled > 0 ? "partially_filled" : "live", nullptr, "", el.req_id, "0");
  const book::OrderResult res = e.amend_resting(o, price, remaining);  // may trade at a crossing price
  if (res.status != book::OrderStatus::resting && res.status != book::OrderStatus::filled) {
    if (Order* live = e.open_order_by_id(id)) {  // re-entry refused (the simulator's book is full)
      live->resting = false;
      live->cause = Core::Cause::none;
      push_order(e, *live, "canceled", nullptr, "0");
      e.close_order(id, Core::End::canceled);
    }
  }
  el.msg = "";
  return el;
}

void SimDialect::on_fill(Engine& e, const Order& o, const Fill& f) {
  push_order(e, o, f.done ? "filled" : "partially_filled", &f, "");
}

// One orders-channel push per subscribed connection (its own arg), held back while a request is answered.
void SimDialect::push_order(Engine& e, const Order& o, const char* state, const Fill* f, const char* cancel_source,
                            const std::string& req_id, const char* amend_result) {
  const Core::Instrument& in = e.instruments[o.inst];
  const std::string ts = std::to_string(sim::wall_ms());
  const std::string& base = e.assets[in.base].name;
  const std::string& quote = e.assets[in.quote].name;
  std::string avg = "0";
  if (o.filled > 0) {
    // cum_quote / filled base, with 4 more decimals than the tick (OKX writes what the average needs).
    const int d = std::min(sim::kAtomDecimals, in.price_scale.decimals() + 4);
    avg = shortest_int128(o.cum_quote * sim::pow10_128(d) / (int128(o.filled) * in.base_per_q), d);
  }
  std::string d = "{\"instType\":\"SPOT\",\"instId\":\"" + in.spec.symbol + "\",\"tgtCcy\":\"" +
                  (o.venue_text.empty() ? (o.type == OrderType::market ? "base_ccy" : "") : "quote_ccy") +
                  "\",\"ccy\":\"\",\"ordId\":\"" + std::to_string(o.id) + "\",\"clOrdId\":" + json_str(o.client_id) +
                  ",\"tag\":\"\",\"px\":\"" +
                  (o.type == OrderType::market ? std::string() : dec(o.price, in.price_scale)) +
                  "\",\"sz\":\"" + (o.venue_text.empty() ? dec(o.qty, in.qty_scale) : o.venue_text) +
                  "\",\"notionalUsd\":\"\",\"ordType\":\"" + ord_type(o) + "\",\"side\":\"" + side_text(o.side) +
                  "\",\"posSide\":\"\",\"tdMode\":\"cash\",\"fillPx\":\"" + (f ? dec(f->price, in.price_scale) : "") +
                  "\",\"tradeId\":\"" + (f ? std::to_string(f->trade_id != 0 ? f->trade_id : f->sequence) : "") +
                  "\",\"fillSz\":\"" + (f ? dec(f->qty, in.qty_scale) : "0") + "\",\"fillPnl\":\"0\",\"fillTime\":\"" +
                  (f ? ts : "") + "\",\"fillFee\":\"0\",\"fillFeeCcy\":\"" +
                  (f ? (o.side == Side::bid ? base : quote) : "") + "\",\"fillNotionalUsd\":\"\",\"execType\":\"" +
                  (f ? (f->maker ? "M" : "T") : "") + "\",\"accFillSz\":\"" + dec(o.filled, in.qty_scale) +
                  "\",\"avgPx\":\"" + avg + "\",\"state\":\"" + state +
                  "\",\"lever\":\"0\",\"stpMode\":\"cancel_maker\",\"feeCcy\":\"" +
                  (o.side == Side::bid ? base : quote) + "\",\"fee\":\"0\",\"rebateCcy\":\"" +
                  (o.side == Side::bid ? quote : base) +
                  "\",\"rebate\":\"0\",\"pnl\":\"0\",\"source\":\"\",\"category\":\"normal\",\"reduceOnly\":\"false\","
                  "\"cancelSource\":\"" + cancel_source + "\",\"amendResult\":\"" + amend_result +
                  "\",\"amendSource\":\"\",\"reqId\":" + json_str(req_id) +
                  ",\"code\":\"0\",\"msg\":\"\",\"uTime\":\"" +
                  std::to_string(o.updated_ms) + "\",\"cTime\":\"" + std::to_string(o.created_ms) + "\"}";
  for (const auto& [id, p] : private_) {
    if (p.filter == UINT32_MAX || (p.filter != 0 && p.filter != o.inst + 1)) continue;
    const Conn* c = e.conn(id);
    if (c == nullptr || !c->order_stream) continue;
    e.report_to(id, "{\"arg\":" + p.arg + ",\"data\":[" + d + "]}");
  }
}

}  // namespace hftx::venue::okx

// The OKX engine is instantiated here, with the dialect's definitions in view.
template class hftx::sim::Engine<hftx::venue::okx::SimDialect>;
