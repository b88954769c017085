// The simulator's OKX dialect against hftx's own WebSocket client on loopback: public channels applied to
// books (every checksum and the seqId chain verified), login, the orders channel, every trade op and error
// path. The test reads OKX's messages with simdjson DOM, independently of the dialect's writer. The simulator
// runs on its own thread; every wait has a deadline so a broken build fails instead of hanging.
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <simdjson.h>

#include "hftx/book/l2_book.hpp"
#include "hftx/core/error.hpp"
#include "hftx/md/recording.hpp"
#include "hftx/net/websocket.hpp"
#include "hftx/sim/exchange.hpp"
#include "hftx/venue/okx/checksum.hpp"
#include "test_support.hpp"

using namespace hftx;
using namespace std::chrono_literals;

namespace {

const Scale kPx = Scale::from_step("0.01");
const Scale kQty = Scale::from_step("0.00000001");

sim::ExchangeConfig okx_config() {
  sim::ExchangeConfig c;
  c.venue = "okx";
  c.event_rate = 0;
  c.depth_levels = 200;
  c.trade_probability = 0.3;
  c.seed = 11;
  c.instruments = {sim::InstrumentSpec{"BTC-USDT", "0.01", "0.00000001", "0.00001", "", ""}};
  return c;
}

bool pump(net::Reactor& r, const std::function<bool()>& done, std::chrono::milliseconds limit = 5000ms) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    r.poll(5);
  }
  return true;
}

std::int64_t px(std::string_view s) { return parse_fixed_or_throw(s, kPx, Sign::unsigned_only, "px"); }
std::int64_t sz(std::string_view s) { return parse_fixed_or_throw(s, kQty, Sign::unsigned_only, "sz"); }
std::string px_text(std::int64_t ticks) { return format_fixed(ticks, kPx); }

// OKX's login signature, computed here independently of the simulator.
std::string okx_sign(const std::string& secret, const std::string& ts) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  const std::string payload = ts + "GET/users/self/verify";
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(payload.data()), payload.size(), md, &len);
  unsigned char out[128];
  const int n = EVP_EncodeBlock(out, md, static_cast<int>(len));
  return std::string(reinterpret_cast<const char*>(out), static_cast<std::size_t>(n));
}

std::string now_s() {
  return std::to_string(
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count());
}

// One channel's book as a subscriber keeps it, with the checks OKX's documentation prescribes.
struct ChannelBook {
  book::BasicL2Book<0> book{4096};
  bool have = false;
  std::int64_t seq = -1;
  std::uint64_t snapshots = 0, updates = 0, checksums = 0, checksum_bad = 0, seq_breaks = 0, crossed = 0;
  std::size_t max_depth = 0;
};

// A public-channel client: subscribes, applies books, checks checksums and the seqId chain, counts the rest.
struct PublicClient {
  net::Reactor reactor;
  std::unique_ptr<net::WsClient> ws;
  simdjson::dom::parser json;
  std::map<std::string, ChannelBook> books;  // by channel
  std::vector<std::string> events;           // subscribe / unsubscribe / error messages, raw
  std::vector<std::string> raw;              // every data message, raw
  std::uint64_t messages = 0, trades = 0, trade_gaps = 0, bbo = 0, bbo_mismatch = 0, books5 = 0,
                books5_mismatch = 0, tickers = 0, pongs = 0;
  std::uint64_t last_trade = 0;
  std::int64_t last_trade_px = 0;
  bool closed = false;
  std::optional<net::WsCloseInfo> close_info;

  explicit PublicClient(const sim::Exchange& ex, std::string subscribe = {}, std::string path = {}) {
    net::WsClientConfig cc;
    cc.url = path.empty() ? ex.market_url() : "ws://127.0.0.1:" + std::to_string(ex.port()) + path;
    cc.read_buffer_size = 1u << 20;
    ws = std::make_unique<net::WsClient>(reactor, cc);
    ws->on_message = [this](net::WsConnection&, const net::WsMessage& m) { on_message(m.data); };
    ws->on_close = [this](net::WsConnection&, const net::WsCloseInfo& i) {
      closed = true;
      close_info = i;
    };
    ws->on_open = [s = std::move(subscribe)](net::WsConnection& c) {
      if (!s.empty()) c.send_text(s);
    };
    ws->connect();
  }

  static std::vector<md::Level> levels(simdjson::dom::array a) {
    std::vector<md::Level> out;
    for (simdjson::dom::element l : a) {
      simdjson::dom::array v = l.get_array();
      std::vector<std::string_view> f;
      for (simdjson::dom::element x : v) f.push_back(std::string_view(x.get_string()));
      EXPECT_EQ(f.size(), 4u);
      EXPECT_EQ(f[2], "0");
      out.push_back(md::Level{Price(px(f[0])), Qty(sz(f[1]))});
      // numbers as OKX writes them: the shortest decimal
      EXPECT_TRUE(f[0].find('.') == std::string_view::npos || f[0].back() != '0') << f[0];
      EXPECT_TRUE(f[1].find('.') == std::string_view::npos || f[1].back() != '0') << f[1];
      EXPECT_GE(std::stoi(std::string(f[3])), sz(f[1]) > 0 ? 1 : 0);
    }
    return out;
  }

  void on_message(std::string_view text) {
    if (text == "pong") {
      ++pongs;
      return;
    }
    simdjson::dom::element doc = json.parse(text.data(), text.size());
    if (doc["event"].error() == simdjson::SUCCESS) {
      events.emplace_back(text);
      return;
    }
    ++messages;
    raw.emplace_back(text);
    const std::string channel(std::string_view(doc["arg"]["channel"].get_string()));
    EXPECT_EQ(std::string_view(doc["arg"]["instId"].get_string()), "BTC-USDT");
    simdjson::dom::element d = doc["data"].at(0);
    if (channel == "trades") {
      ++trades;
      const std::uint64_t id = std::stoull(std::string(std::string_view(d["tradeId"].get_string())));
      if (last_trade != 0 && id != last_trade + 1) ++trade_gaps;
      last_trade = id;
      last_trade_px = px(std::string_view(d["px"].get_string()));
      const std::string_view side = d["side"].get_string();
      EXPECT_TRUE(side == "buy" || side == "sell") << side;
      return;
    }
    if (channel == "tickers") {
      ++tickers;
      EXPECT_LT(px(std::string_view(d["bidPx"].get_string())), px(std::string_view(d["askPx"].get_string())));
      return;
    }
    const std::vector<md::Level> asks = levels(d["asks"].get_array());
    const std::vector<md::Level> bids = levels(d["bids"].get_array());
    if (channel == "bbo-tbt" || channel == "books5") {
      // A whole top: it equals the incremental book this connection holds (its updates came first).
      for (auto& [name, b] : books) {
        if (!b.have) continue;
        std::vector<md::Level> tb(bids.size()), ta(asks.size());
        tb.resize(b.book.depth(Side::bid, tb));
        ta.resize(b.book.depth(Side::ask, ta));
        const bool same = tb == bids && ta == asks;
        (channel == "bbo-tbt" ? bbo_mismatch : books5_mismatch) += same ? 0 : 1;
      }
      (channel == "bbo-tbt" ? bbo : books5) += 1;
      EXPECT_LE(bids.size(), channel == "bbo-tbt" ? 1u : 5u);
      return;
    }
    ChannelBook& b = books[channel];
    const std::string_view action = doc["action"].get_string();
    const std::int64_t seq = d["seqId"].get_int64();
    const std::int64_t prev = d["prevSeqId"].get_int64();
    if (action == "snapshot") {
      EXPECT_EQ(prev, -1);
      b.book.load_snapshot(bids, asks, static_cast<std::uint64_t>(seq));
      b.have = true;
      ++b.snapshots;
    } else {
      ASSERT_EQ(action, "update");
      ASSERT_TRUE(b.have) << "an update before the snapshot";
      if (prev != b.seq) ++b.seq_breaks;
      EXPECT_TRUE(std::is_sorted(bids.rbegin(), bids.rend(), [](auto& x, auto& y) { return x.price < y.price; }));
      EXPECT_TRUE(std::is_sorted(asks.begin(), asks.end(), [](auto& x, auto& y) { return x.price < y.price; }));
      b.book.apply(bids, asks, static_cast<std::uint64_t>(seq));
      ++b.updates;
    }
    b.seq = seq;
    ++b.checksums;
    if (venue::okx::book_checksum(b.book, kPx, kQty) != static_cast<std::int32_t>(d["checksum"].get_int64()))
      ++b.checksum_bad;
    b.max_depth = std::max({b.max_depth, b.book.bid_count(), b.book.ask_count()});
    if (b.book.bid_count() > 0 && b.book.ask_count() > 0 && !(b.book.best_bid().price < b.book.best_ask().price))
      ++b.crossed;
  }

  // The client's book equals the simulator's top `depth` levels.
  void expect_book_equals(const sim::Exchange& ex, const std::string& channel, std::size_t depth) {
    ChannelBook& b = books[channel];
    const auto [sb, sa] = ex.book("BTC-USDT", depth);
    std::vector<md::Level> cb(depth + 16), ca(depth + 16);
    cb.resize(b.book.depth(Side::bid, cb));
    ca.resize(b.book.depth(Side::ask, ca));
    ASSERT_EQ(cb.size(), sb.size()) << channel;
    ASSERT_EQ(ca.size(), sa.size()) << channel;
    for (std::size_t i = 0; i < cb.size(); ++i) {
      ASSERT_EQ(cb[i].price.raw(), sb[i].first) << channel << " bid " << i;
      ASSERT_EQ(cb[i].qty.raw(), sb[i].second) << channel << " bid " << i;
    }
    for (std::size_t i = 0; i < ca.size(); ++i) {
      ASSERT_EQ(ca[i].price.raw(), sa[i].first) << channel << " ask " << i;
      ASSERT_EQ(ca[i].qty.raw(), sa[i].second) << channel << " ask " << i;
    }
  }
  std::string last_event() const { return events.empty() ? std::string() : events.back(); }
};

std::string sub(const std::vector<std::string>& channels, const std::string& inst = "BTC-USDT",
                const std::string& op = "subscribe") {
  std::string s = R"({"op":")" + op + R"(","args":[)";
  for (std::size_t i = 0; i < channels.size(); ++i) {
    s.append(i ? "," : "").append(R"({"channel":")").append(channels[i]);
    s.append(R"(","instId":")").append(inst).append("\"}");
  }
  return s + "]}";
}

// A private-channel client: ops by id, events in order, orders-channel pushes in order.
struct PrivateClient {
  net::Reactor reactor;
  std::unique_ptr<net::WsClient> ws;
  simdjson::dom::parser json;
  std::map<std::string, std::string> answers;  // op answers by id
  std::vector<std::string> events;             // login / subscribe / error
  std::vector<std::string> pushes;             // orders-channel data objects, one per order change
  std::vector<std::string> order;              // "A:<id>" / "P:<state>" arrival order
  bool closed = false;

  explicit PrivateClient(const sim::Exchange& ex) {
    net::WsClientConfig cc;
    cc.url = ex.api_url();
    ws = std::make_unique<net::WsClient>(reactor, cc);
    ws->on_message = [this](net::WsConnection&, const net::WsMessage& m) { on_message(m.data); };
    ws->on_close = [this](net::WsConnection&, const net::WsCloseInfo&) { closed = true; };
    ws->connect();
  }
  void on_message(std::string_view text) {
    if (text == "pong") {
      events.emplace_back(text);
      return;
    }
    simdjson::dom::element doc = json.parse(text.data(), text.size());
    if (doc["event"].error() == simdjson::SUCCESS) {
      events.emplace_back(text);
      return;
    }
    if (doc["op"].error() == simdjson::SUCCESS) {
      const std::string id(std::string_view(doc["id"].get_string()));
      answers[id] = std::string(text);
      order.push_back("A:" + id);
      return;
    }
    EXPECT_EQ(std::string_view(doc["arg"]["channel"].get_string()), "orders") << text;
    for (simdjson::dom::element d : doc["data"].get_array()) {
      pushes.push_back(simdjson::minify(d));
      order.push_back("P:" + std::string(std::string_view(d["state"].get_string())));
    }
  }
  std::string send_op(const std::string& id, const std::string& op, const std::string& args) {
    ws->send_text(R"({"id":")" + id + R"(","op":")" + op + R"(","args":[)" + args + "]}");
    EXPECT_TRUE(pump(reactor, [&] { return answers.count(id) != 0; })) << id;
    return answers[id];
  }
  std::string event_after(const std::string& request) {
    const std::size_t n = events.size();
    ws->send_text(request);
    EXPECT_TRUE(pump(reactor, [&] { return events.size() > n; })) << request;
    return events.size() > n ? events[n] : std::string();
  }
  bool login(const sim::ExchangeConfig& cfg) {
    const std::string ts = now_s();
    const std::string e = event_after(R"({"op":"login","args":[{"apiKey":")" + cfg.api_key + R"(","passphrase":")" +
                                      cfg.api_passphrase + R"(","timestamp":")" + ts + R"(","sign":")" +
                                      okx_sign(cfg.api_secret, ts) + "\"}]}");
    return e.find(R"("event":"login","code":"0")") != std::string::npos;
  }
  void subscribe_orders() {
    const std::string e = event_after(R"({"op":"subscribe","args":[{"channel":"orders","instType":"ANY"}]})");
    EXPECT_NE(e.find(R"("event":"subscribe")"), std::string::npos) << e;
  }
  // Waits for `n` pushes in all.
  bool wait_pushes(std::size_t n, std::chrono::milliseconds limit = 5000ms) {
    return pump(reactor, [&] { return pushes.size() >= n; }, limit);
  }
  std::string field(const std::string& obj, const std::string& key) {
    simdjson::dom::element d = json.parse(obj);
    simdjson::dom::element v;
    if (d[key].get(v)) return "<absent>";
    if (v.is_string()) return std::string(std::string_view(v.get_string()));
    return simdjson::minify(v);
  }
  // The answer's top-level code and each element's sCode.
  std::string code(const std::string& answer) { return field(answer, "code"); }
  std::vector<std::string> scodes(const std::string& answer) {
    std::vector<std::string> out;
    simdjson::dom::element d = json.parse(answer);
    for (simdjson::dom::element el : d["data"].get_array())
      out.emplace_back(std::string_view(el["sCode"].get_string()));
    return out;
  }
  std::string data0(const std::string& answer, const std::string& key) {
    simdjson::dom::element d = json.parse(answer);
    simdjson::dom::element v;
    if (d["data"].at(0)[key].get(v)) return "<absent>";
    return std::string(std::string_view(v.get_string()));
  }
};

std::string order_arg(const std::string& side, const std::string& type, const std::string& size,
                      const std::string& price, const std::string& cl, const std::string& extra = {}) {
  std::string a = R"({"instId":"BTC-USDT","tdMode":"cash","side":")" + side + R"(","ordType":")" + type +
                  R"(","sz":")" + size + "\"";
  if (!price.empty()) a += R"(,"px":")" + price + "\"";
  if (!cl.empty()) a += R"(,"clOrdId":")" + cl + "\"";
  return a + extra + "}";
}

// "<prefix><n>" (spelled without operator+: GCC 12 warns falsely at -O3 on "x" + std::to_string(n)).
std::string cl_id(char prefix, int n) {
  std::string s(1, prefix);
  return s.append(std::to_string(n));
}

std::string balance(const sim::Exchange& ex, const std::string& asset, bool total = false) {
  for (const auto& [a, v] : ex.balances(total))
    if (a == asset) return v;
  return "";
}

}  // namespace

TEST(SimOkxConfig, VenueSymbolsKeysAndUrls) {
  auto expect_error = [](const sim::ExchangeConfig& c, const std::string& key) {
    try {
      c.validate();
      ADD_FAILURE() << "no error for " << key;
    } catch (const ConfigError& e) {
      EXPECT_NE(std::string(e.what()).find(key), std::string::npos) << e.what();
    }
  };
  sim::ExchangeConfig c = okx_config();
  EXPECT_NO_THROW(c.validate());
  c.venue = "kraken";
  expect_error(c, "simulator.venue");
  c = okx_config();
  c.instruments[0].symbol = "BTCUSDT";  // Binance's spelling
  expect_error(c, "instruments[0].symbol");
  c = okx_config();
  c.api_key = "k";
  expect_error(c, "simulator.api_secret");
  c.api_public_key = test::kEd25519PublicPem;
  c.api_secret = "s";
  expect_error(c, "simulator.api_public_key");
  sim::Exchange ex(okx_config());
  ex.start();
  EXPECT_EQ(ex.market_url(), "ws://127.0.0.1:" + std::to_string(ex.port()) + "/ws/v5/public");
  EXPECT_EQ(ex.api_url(), "ws://127.0.0.1:" + std::to_string(ex.port()) + "/ws/v5/private");
  // BTC-USDT's assets: BTC and USDT (the balances' defaults).
  EXPECT_EQ(balance(ex, "BTC"), "1000.00000000");
  EXPECT_EQ(balance(ex, "USDT"), "10000000.00000000");
}

// Every incremental channel applied to a book: each message's checksum matches the book it leaves, the seqId
// chain has no break, the books equal the simulator's (400 / 50 levels), bbo-tbt and books5 equal the top.
TEST(SimOkxPublic, BooksChecksumsSeqChainTopsAndTrades) {
  sim::ExchangeConfig cfg = okx_config();
  cfg.event_rate = 50000;
  sim::Exchange ex(cfg);
  ex.start();
  PublicClient tbt(ex, sub({"books-l2-tbt", "bbo-tbt", "books5", "trades", "tickers"}));
  PublicClient b50(ex, sub({"books50-l2-tbt"}));
  PublicClient books(ex, sub({"books"}));
  const auto progress = [&] {
    tbt.reactor.poll(0);
    b50.reactor.poll(0);
    books.reactor.poll(0);
    return tbt.books["books-l2-tbt"].updates > test::scaled(20000) && b50.books["books50-l2-tbt"].updates > 1000 &&
           books.books["books"].updates > 20 && tbt.books5 > 10 && tbt.tickers > 5;
  };
  ASSERT_TRUE(pump(tbt.reactor, progress, 30000ms))
      << tbt.books["books-l2-tbt"].updates << " " << b50.books["books50-l2-tbt"].updates << " "
      << books.books["books"].updates;
  ex.pause_market(true);
  // Quiet: no message for 500 ms (a channel's seqId moves only with the messages it sends: a change beyond 50
  // levels sends nothing on books50-l2-tbt, so the last seqIds differ by channel).
  std::uint64_t last_total = 0;
  auto quiet_since = std::chrono::steady_clock::now();
  const auto quiet = [&] {
    tbt.reactor.poll(0);
    b50.reactor.poll(0);
    books.reactor.poll(0);
    const std::uint64_t total = tbt.messages + b50.messages + books.messages;
    if (total != last_total) {
      last_total = total;
      quiet_since = std::chrono::steady_clock::now();
    }
    return std::chrono::steady_clock::now() - quiet_since > 500ms;
  };
  ASSERT_TRUE(pump(tbt.reactor, quiet, 10000ms));
  const sim::Top top = ex.top("BTC-USDT");
  EXPECT_EQ(tbt.books["books-l2-tbt"].seq, static_cast<std::int64_t>(top.update_id));  // every change is sent
  for (PublicClient* c : {&tbt, &b50, &books})
    for (auto& [name, b] : c->books) {
      SCOPED_TRACE(name);
      EXPECT_EQ(b.snapshots, 1u);
      EXPECT_GT(b.checksums, 20u);
      EXPECT_EQ(b.checksum_bad, 0u);
      EXPECT_EQ(b.seq_breaks, 0u);
      EXPECT_EQ(b.crossed, 0u);
    }
  EXPECT_LE(b50.books["books50-l2-tbt"].max_depth, 50u);
  EXPECT_EQ(b50.books["books50-l2-tbt"].max_depth, 50u);
  EXPECT_LE(tbt.books["books-l2-tbt"].max_depth, 400u);
  tbt.expect_book_equals(ex, "books-l2-tbt", 400);
  b50.expect_book_equals(ex, "books50-l2-tbt", 50);
  books.expect_book_equals(ex, "books", 400);
  EXPECT_GT(tbt.bbo, 100u);
  EXPECT_EQ(tbt.bbo_mismatch, 0u);
  EXPECT_EQ(tbt.books5_mismatch, 0u);
  EXPECT_GT(tbt.trades, 100u);
  EXPECT_EQ(tbt.trade_gaps, 0u);
  // The subscribe answers: one per channel, named back.
  EXPECT_EQ(tbt.events.size(), 5u);
  EXPECT_NE(tbt.events[0].find(R"("event":"subscribe","arg":{"channel":"books-l2-tbt","instId":"BTC-USDT"})"),
            std::string::npos)
      << tbt.events[0];
  // books: 100 ms batches (seconds of traffic in tens of messages), tbt: one message per change.
  EXPECT_LT(books.books["books"].updates * 20, tbt.books["books-l2-tbt"].updates);
}

TEST(SimOkxPublic, SkipSequenceBreaksTheChainOnceAndPingPong) {
  sim::ExchangeConfig cfg = okx_config();
  cfg.event_rate = 2000;
  sim::Exchange ex(cfg);
  ex.start();
  PublicClient c(ex, sub({"books-l2-tbt"}));
  ASSERT_TRUE(pump(c.reactor, [&] { return c.books["books-l2-tbt"].updates > 50; }));
  ex.skip_sequence("BTC-USDT");
  const std::uint64_t before = c.books["books-l2-tbt"].updates;
  ASSERT_TRUE(pump(c.reactor, [&] { return c.books["books-l2-tbt"].updates > before + 100; }));
  EXPECT_EQ(c.books["books-l2-tbt"].seq_breaks, 1u);
  EXPECT_EQ(c.books["books-l2-tbt"].checksum_bad, 0u);
  c.ws->send_text("ping");
  ASSERT_TRUE(pump(c.reactor, [&] { return c.pongs == 1; }));
  EXPECT_THROW(ex.skip_sequence("BTCUSDT"), ConfigError);
}

TEST(SimOkxPublic, SubscribeErrorsUnsubscribeAndPaths) {
  sim::Exchange ex(okx_config());
  ex.start();
  PublicClient c(ex);
  ASSERT_TRUE(pump(c.reactor, [&] { return c.ws->is_open(); }));
  const auto event = [&](const std::string& request) {
    const std::size_t n = c.events.size();
    c.ws->send_text(request);
    EXPECT_TRUE(pump(c.reactor, [&] { return c.events.size() > n; })) << request;
    return c.events.size() > n ? c.events[n] : std::string();
  };
  EXPECT_NE(event(sub({"candle1m"})).find(R"("code":"60018")"), std::string::npos);
  EXPECT_NE(event(sub({"books"}, "DOGE-USDT")).find(R"("code":"60018")"), std::string::npos);
  EXPECT_NE(event(R"({"op":"subscribe","argss":[{"channel":"books","instId":"BTC-USDT"}]})").find(R"("code":"60012")"),
            std::string::npos);
  EXPECT_NE(event("{not json").find(R"("code":"60012")"), std::string::npos);
  EXPECT_NE(event(R"({"op":"dance","args":[]})").find(R"("code":"60019")"), std::string::npos);
  EXPECT_NE(event(R"({"op":"subscribe","args":[{"instId":"BTC-USDT"}]})").find(R"("code":"60013")"), std::string::npos);
  EXPECT_NE(event(R"({"id":"o1","op":"order","args":[{}]})").find(R"("code":"60028")"), std::string::npos);
  // The id comes back; books-l2-tbt beside books50-l2-tbt on one connection is refused (64004).
  std::string e = event(R"({"id":"s1","op":"subscribe","args":[{"channel":"books50-l2-tbt","instId":"BTC-USDT"}]})");
  EXPECT_NE(e.find(R"("id":"s1","event":"subscribe")"), std::string::npos) << e;
  EXPECT_NE(event(sub({"books-l2-tbt"})).find(R"("code":"64004")"), std::string::npos);
  // Unsubscribed: no more messages of the channel.
  ASSERT_TRUE(pump(c.reactor, [&] { return c.books["books50-l2-tbt"].snapshots == 1; }));
  EXPECT_NE(event(sub({"books50-l2-tbt"}, "BTC-USDT", "unsubscribe")).find(R"("event":"unsubscribe")"),
            std::string::npos);
  const std::uint64_t seen = c.messages;
  const auto until = std::chrono::steady_clock::now() + 300ms;
  while (std::chrono::steady_clock::now() < until) c.reactor.poll(10);
  EXPECT_EQ(c.messages, seen);
  const sim::ExchangeStats s = ex.stats();
  std::map<int, std::uint64_t> by;
  for (const auto& r : s.rejects_by_venue_code) by[r.code] = r.count;
  EXPECT_EQ(by[60018], 2u);
  EXPECT_EQ(by[60012], 2u);
  EXPECT_EQ(by[64004], 1u);
  EXPECT_EQ(by[60019], 1u);
  // An unknown path is closed with 1008.
  PublicClient bad(ex, {}, "/ws/v5/nope");
  ASSERT_TRUE(pump(bad.reactor, [&] { return bad.closed; }));
  EXPECT_EQ(bad.close_info->code, 1008);
}

TEST(SimOkxPrivate, LoginGoodAndBadSignatures) {
  EXPECT_EQ(okx_sign("22582BD0CFF14C41EDBF1AB98506286D", "1538054050"), "+LdIr8lkkvhr5hoA3g9TMC0+uQJ849ftAcocA/ouu4M=");
  sim::ExchangeConfig cfg = okx_config();
  cfg.api_key = "985d5b66-57ce-40fb-b714-afc0b9787083";
  cfg.api_secret = "22582BD0CFF14C41EDBF1AB98506286D";
  cfg.api_passphrase = "hftx-pass";
  sim::Exchange ex(cfg);
  ex.start();
  PrivateClient c(ex);
  // Before login: trade ops and the orders channel are refused.
  std::string a = c.send_op("p1", "order", order_arg("buy", "limit", "0.001", "1000.00", "hx1"));
  EXPECT_EQ(c.code(a), "60011") << a;
  EXPECT_NE(c.event_after(R"({"op":"subscribe","args":[{"channel":"orders","instType":"ANY"}]})")
                .find(R"("code":"60011")"),
            std::string::npos);
  const auto login = [&](const std::string& key, const std::string& pass, const std::string& ts,
                         const std::string& sign) {
    return c.event_after(R"({"op":"login","args":[{"apiKey":")" + key + R"(","passphrase":")" + pass +
                         R"(","timestamp":")" + ts + R"(","sign":")" + sign + "\"}]}");
  };
  const std::string ts = now_s();
  const std::string good = okx_sign(cfg.api_secret, ts);
  EXPECT_NE(login("other-key", cfg.api_passphrase, ts, good).find(R"("code":"60005")"), std::string::npos);
  EXPECT_NE(login(cfg.api_key, "wrong", ts, good).find(R"("code":"60024")"), std::string::npos);
  EXPECT_NE(login(cfg.api_key, cfg.api_passphrase, ts, okx_sign("other-secret", ts)).find(R"("code":"60007")"),
            std::string::npos);
  const std::string old = std::to_string(std::stoll(ts) - 120);
  EXPECT_NE(login(cfg.api_key, cfg.api_passphrase, old, okx_sign(cfg.api_secret, old)).find(R"("code":"60006")"),
            std::string::npos);
  EXPECT_NE(login(cfg.api_key, cfg.api_passphrase, "soon", okx_sign(cfg.api_secret, "soon")).find(R"("code":"60004")"),
            std::string::npos);
  EXPECT_NE(c.event_after(R"({"op":"login","args":[{"apiKey":"x"}]})").find(R"("code":"60009")"), std::string::npos);
  a = c.send_op("p2", "order", order_arg("buy", "limit", "0.001", "1000.00", "hx2"));
  EXPECT_EQ(c.code(a), "60011") << "refused logins leave the connection anonymous";
  const std::string ok = login(cfg.api_key, cfg.api_passphrase, ts, good);
  EXPECT_NE(ok.find(R"("event":"login","code":"0","msg":"")"), std::string::npos) << ok;
  EXPECT_NE(ok.find(R"("connId":")"), std::string::npos) << ok;
  c.subscribe_orders();
  a = c.send_op("p3", "order", order_arg("buy", "limit", "0.001", "1000.00", "hx3"));
  EXPECT_EQ(c.code(a), "0") << a;
  // Another connection is not logged in.
  PrivateClient other(ex);
  EXPECT_EQ(other.code(other.send_op("p4", "order", order_arg("buy", "limit", "0.001", "1000.00", "hx4"))), "60011");
  const sim::ExchangeStats s = ex.stats();
  EXPECT_EQ(s.logons, 1u);
  EXPECT_EQ(s.orders, 1u);
  std::map<int, std::uint64_t> by;
  for (const auto& r : s.rejects_by_venue_code) by[r.code] = r.count;
  EXPECT_EQ(by[60011], 4u);
  EXPECT_EQ(by[60005], 1u);
  EXPECT_EQ(by[60024], 1u);
  EXPECT_EQ(by[60007], 1u);
  EXPECT_EQ(by[60006], 1u);
  EXPECT_EQ(by[60004], 1u);
  EXPECT_EQ(by[60009], 1u);

  // Without an API key any login is accepted.
  sim::Exchange open(okx_config());
  open.start();
  PrivateClient d(open);
  EXPECT_NE(d.event_after(R"({"op":"login","args":[{"apiKey":"a","passphrase":"b","timestamp":"1","sign":"c"}]})")
                .find(R"("event":"login","code":"0")"),
            std::string::npos);
}

// Orders that rest, are amended, cancelled, cross, fill in part (IOC), cannot fill (FOK), would take (post
// only), buy at the market with a quote-asset size, and rest until generated flow fills them; every push of
// the orders channel in order, balances kept.
TEST(SimOkxPrivate, OrdersRestAmendCancelFillAndPushes) {
  sim::ExchangeConfig cfg = okx_config();
  cfg.trade_probability = 0.5;
  sim::Exchange ex(cfg);
  ex.start();
  ex.pause_market(true);
  PrivateClient c(ex);
  ASSERT_TRUE(c.login(cfg));
  c.subscribe_orders();
  const sim::Top top = ex.top("BTC-USDT");

  // Rests: answer (ordId, sCode 0), then the push "live"; the quote is locked.
  std::string a = c.send_op("p1", "order", order_arg("buy", "limit", "0.01", px_text(top.bid_price - 1000), "hx1"));
  EXPECT_EQ(c.code(a), "0") << a;
  EXPECT_EQ(c.scodes(a), std::vector<std::string>{"0"});
  EXPECT_EQ(c.data0(a, "clOrdId"), "hx1");
  const std::string ord_id = c.data0(a, "ordId");
  EXPECT_FALSE(ord_id.empty());
  ASSERT_TRUE(c.wait_pushes(1));
  EXPECT_EQ(c.order[0], "A:p1");
  EXPECT_EQ(c.field(c.pushes[0], "state"), "live");
  EXPECT_EQ(c.field(c.pushes[0], "ordId"), ord_id);
  EXPECT_EQ(c.field(c.pushes[0], "ordType"), "limit");
  EXPECT_EQ(c.field(c.pushes[0], "side"), "buy");
  EXPECT_EQ(c.field(c.pushes[0], "tdMode"), "cash");
  EXPECT_EQ(c.field(c.pushes[0], "sz"), "0.01");
  EXPECT_EQ(c.field(c.pushes[0], "accFillSz"), "0");
  EXPECT_FALSE(c.field(c.pushes[0], "cTime").empty());
  ASSERT_EQ(ex.orders().size(), 1u);
  EXPECT_EQ(ex.orders()[0].type, "limit");
  const double locked = 0.01 * static_cast<double>(top.bid_price - 1000) / 100.0;
  EXPECT_NEAR(std::stod(balance(ex, "USDT")), 10000000.0 - locked, 1e-6);

  // Amend: new price and size, the push carries reqId and amendResult 0.
  a = c.send_op("m1", "amend-order",
                R"({"instId":"BTC-USDT","clOrdId":"hx1","newSz":"0.02","newPx":")" + px_text(top.bid_price - 900) +
                    R"(","reqId":"r1"})");
  EXPECT_EQ(c.code(a), "0") << a;
  EXPECT_EQ(c.data0(a, "reqId"), "r1");
  ASSERT_TRUE(c.wait_pushes(2));
  EXPECT_EQ(c.field(c.pushes[1], "amendResult"), "0");
  EXPECT_EQ(c.field(c.pushes[1], "reqId"), "r1");
  EXPECT_EQ(c.field(c.pushes[1], "sz"), "0.02");
  EXPECT_EQ(c.field(c.pushes[1], "px"), px_text(top.bid_price - 900));
  EXPECT_EQ(ex.orders()[0].qty, "0.02000000");
  EXPECT_NEAR(std::stod(balance(ex, "USDT")), 10000000.0 - 0.02 * static_cast<double>(top.bid_price - 900) / 100.0,
              1e-6);

  // Cancel: the push "canceled", cancelSource 1; a second cancel is 51401, an amend 51509.
  a = c.send_op("c1", "cancel-order", R"({"instId":"BTC-USDT","ordId":")" + ord_id + "\"}");
  EXPECT_EQ(c.code(a), "0") << a;
  ASSERT_TRUE(c.wait_pushes(3));
  EXPECT_EQ(c.field(c.pushes[2], "state"), "canceled");
  EXPECT_EQ(c.field(c.pushes[2], "cancelSource"), "1");
  EXPECT_TRUE(ex.orders().empty());
  EXPECT_EQ(balance(ex, "USDT"), "10000000.00000000");
  EXPECT_EQ(c.scodes(c.send_op("c2", "cancel-order", R"({"instId":"BTC-USDT","clOrdId":"hx1"})")),
            std::vector<std::string>{"51401"});
  EXPECT_EQ(c.scodes(c.send_op("m2", "amend-order", R"({"instId":"BTC-USDT","clOrdId":"hx1","newSz":"1"})")),
            std::vector<std::string>{"51509"});

  // Crossing: a sell of less than the best bid fills at once: live, then filled (taker, the bid's price).
  const double btc0 = std::stod(balance(ex, "BTC"));
  a = c.send_op("p2", "order", order_arg("sell", "limit", "0.00001", px_text(top.bid_price), "hx2"));
  EXPECT_EQ(c.code(a), "0") << a;
  ASSERT_TRUE(c.wait_pushes(5));
  EXPECT_EQ(c.field(c.pushes[3], "state"), "live");
  EXPECT_EQ(c.field(c.pushes[4], "state"), "filled");
  EXPECT_EQ(c.field(c.pushes[4], "execType"), "T");
  EXPECT_EQ(px(c.field(c.pushes[4], "fillPx")), top.bid_price);
  EXPECT_EQ(c.field(c.pushes[4], "fillSz"), "0.00001");
  EXPECT_EQ(c.field(c.pushes[4], "accFillSz"), "0.00001");
  EXPECT_EQ(px(c.field(c.pushes[4], "avgPx")), top.bid_price);
  EXPECT_FALSE(c.field(c.pushes[4], "tradeId").empty());
  EXPECT_FALSE(c.field(c.pushes[4], "fillTime").empty());
  EXPECT_NEAR(std::stod(balance(ex, "BTC")), btc0 - 0.00001, 1e-9);
  EXPECT_EQ(c.scodes(c.send_op("c3", "cancel-order", R"({"instId":"BTC-USDT","clOrdId":"hx2"})")),
            std::vector<std::string>{"51402"});
  EXPECT_EQ(c.scodes(c.send_op("m3", "amend-order", R"({"instId":"BTC-USDT","clOrdId":"hx2","newSz":"1"})")),
            std::vector<std::string>{"51510"});

  // IOC larger than the best bid's level at its price: one partial fill, the rest canceled (cancelSource 14).
  const sim::Top t2 = ex.top("BTC-USDT");
  const std::string level = format_fixed(t2.bid_qty + 100000, kQty);  // the level plus 0.001 BTC
  a = c.send_op("p3", "order", order_arg("sell", "ioc", level, px_text(t2.bid_price), "hx3"));
  ASSERT_TRUE(c.wait_pushes(8));
  EXPECT_EQ(c.field(c.pushes[5], "state"), "live");
  EXPECT_EQ(c.field(c.pushes[5], "ordType"), "ioc");
  EXPECT_EQ(c.field(c.pushes[6], "state"), "partially_filled");
  EXPECT_EQ(sz(c.field(c.pushes[6], "accFillSz")), t2.bid_qty);
  EXPECT_EQ(c.field(c.pushes[7], "state"), "canceled");
  EXPECT_EQ(c.field(c.pushes[7], "cancelSource"), "14");

  // FOK that cannot fill: canceled (13), nothing traded.
  const sim::Top t3 = ex.top("BTC-USDT");
  a = c.send_op("p4", "order",
                order_arg("buy", "fok", format_fixed(t3.ask_qty + 100000, kQty), px_text(t3.ask_price), "hx4"));
  ASSERT_TRUE(c.wait_pushes(10));
  EXPECT_EQ(c.field(c.pushes[9], "state"), "canceled");
  EXPECT_EQ(c.field(c.pushes[9], "cancelSource"), "13");
  EXPECT_EQ(c.field(c.pushes[9], "accFillSz"), "0");

  // post_only that would take: accepted, then canceled (31).
  a = c.send_op("p5", "order", order_arg("buy", "post_only", "0.001", px_text(t3.ask_price), "hx5"));
  EXPECT_EQ(c.scodes(a), std::vector<std::string>{"0"});
  ASSERT_TRUE(c.wait_pushes(12));
  EXPECT_EQ(c.field(c.pushes[11], "state"), "canceled");
  EXPECT_EQ(c.field(c.pushes[11], "cancelSource"), "31");

  // Market buy sized in USDT (tgtCcy defaults to quote_ccy): fills for at most 100 USDT.
  const double usdt0 = std::stod(balance(ex, "USDT"));
  a = c.send_op("p6", "order", order_arg("buy", "market", "100", "", "hx6"));
  EXPECT_EQ(c.code(a), "0") << a;
  ASSERT_TRUE(pump(c.reactor, [&] {
    return !c.pushes.empty() && c.field(c.pushes.back(), "clOrdId") == "hx6" &&
           (c.field(c.pushes.back(), "state") == "filled" || c.field(c.pushes.back(), "state") == "canceled");
  }));
  EXPECT_EQ(c.field(c.pushes.back(), "tgtCcy"), "quote_ccy");
  EXPECT_EQ(c.field(c.pushes.back(), "sz"), "100");
  const double spent = usdt0 - std::stod(balance(ex, "USDT"));
  EXPECT_GT(spent, 99.0);
  EXPECT_LE(spent, 100.0 + 1e-9);

  // A bid at the best bid rests; generated sells reach it: maker fills (execType M).
  const sim::Top t4 = ex.top("BTC-USDT");
  a = c.send_op("p7", "order", order_arg("buy", "limit", "0.001", px_text(t4.bid_price), "hx7"));
  EXPECT_EQ(c.code(a), "0") << a;
  ex.pause_market(false);
  PublicClient md(ex, sub({"trades"}));  // generation runs while someone subscribes
  bool maker = false;
  ASSERT_TRUE(pump(c.reactor, [&] {
    md.reactor.poll(0);
    for (const auto& p : c.pushes)
      if (c.field(p, "clOrdId") == "hx7" && c.field(p, "execType") == "M") maker = true;
    return maker;
  }, 10000ms));
  ex.pause_market(true);
  const sim::ExchangeStats s = ex.stats();
  EXPECT_EQ(s.amends, 1u);
  EXPECT_EQ(s.cancels, 1u);
  EXPECT_GE(s.fills, 4u);
  // Every push names a state OKX has.
  for (const auto& p : c.pushes) {
    const std::string st = c.field(p, "state");
    EXPECT_TRUE(st == "live" || st == "partially_filled" || st == "filled" || st == "canceled") << p;
  }
}

TEST(SimOkxPrivate, BatchOps) {
  sim::ExchangeConfig cfg = okx_config();
  sim::Exchange ex(cfg);
  ex.start();
  ex.pause_market(true);
  PrivateClient c(ex);
  ASSERT_TRUE(c.login(cfg));
  c.subscribe_orders();
  const sim::Top top = ex.top("BTC-USDT");
  const std::string low = px_text(top.bid_price - 2000);
  // Two that rest and one off the lot grid: code 2 (some succeeded), each element its sCode.
  std::string a = c.send_op("b1", "batch-orders",
                            order_arg("buy", "limit", "0.001", low, "b1a") + "," +
                                order_arg("buy", "limit", "0.000001", low, "b1b") + "," +
                                order_arg("buy", "limit", "0.002", low, "b1c"));
  EXPECT_EQ(c.code(a), "2") << a;
  EXPECT_EQ(c.scodes(a), (std::vector<std::string>{"0", "51121", "0"}));
  EXPECT_EQ(ex.orders().size(), 2u);
  // The pushes follow the answer.
  ASSERT_TRUE(c.wait_pushes(2));
  EXPECT_EQ(c.order[0], "A:b1");
  // All failed: code 1.
  a = c.send_op("b2", "batch-orders", order_arg("buy", "limit", "0.001", low, "b1a"));
  EXPECT_EQ(c.code(a), "1") << a;
  EXPECT_EQ(c.scodes(a), std::vector<std::string>{"51016"});
  // Batch cancel: two known, one unknown.
  a = c.send_op("b3", "batch-cancel-orders",
                R"({"instId":"BTC-USDT","clOrdId":"b1a"},{"instId":"BTC-USDT","clOrdId":"nope"},)"
                R"({"instId":"BTC-USDT","clOrdId":"b1c"})");
  EXPECT_EQ(c.code(a), "2") << a;
  EXPECT_EQ(c.scodes(a), (std::vector<std::string>{"0", "51603", "0"}));
  EXPECT_TRUE(ex.orders().empty());
  // More than 20: refused whole (60013).
  std::string many;
  for (int i = 0; i < 21; ++i) many.append(i ? "," : "").append(order_arg("buy", "limit", "0.001", low, cl_id('m', i)));
  a = c.send_op("b4", "batch-orders", many);
  EXPECT_EQ(c.code(a), "60013") << a;
  EXPECT_TRUE(ex.orders().empty());
  // Exactly 20: all placed.
  many.clear();
  for (int i = 0; i < 20; ++i) many.append(i ? "," : "").append(order_arg("buy", "limit", "0.001", low, cl_id('n', i)));
  a = c.send_op("b5", "batch-orders", many);
  EXPECT_EQ(c.code(a), "0") << a;
  EXPECT_EQ(ex.orders().size(), 20u);
  // A single op with two args: 60013.
  EXPECT_EQ(c.code(c.send_op("b6", "order", order_arg("buy", "limit", "0.001", low, "x1") + "," +
                                                order_arg("buy", "limit", "0.001", low, "x2"))),
            "60013");
}

TEST(SimOkxPrivate, ErrorCodes) {
  sim::ExchangeConfig cfg = okx_config();
  cfg.balances = {{"USDT", "100"}, {"BTC", "0.001"}};
  sim::Exchange ex(cfg);
  ex.start();
  ex.pause_market(true);
  PrivateClient c(ex);
  ASSERT_TRUE(c.login(cfg));
  c.subscribe_orders();
  const sim::Top top = ex.top("BTC-USDT");
  const std::string low = px_text(top.bid_price - 100);
  int n = 0;
  const auto place = [&](const std::string& arg) {
    const std::string a = c.send_op(cl_id('e', ++n), "order", arg);
    EXPECT_EQ(c.code(a), "1") << a;
    const auto s = c.scodes(a);
    return s.empty() ? std::string() : s[0];
  };
  EXPECT_EQ(place(R"({"instId":"DOGE-USDT","tdMode":"cash","side":"buy","ordType":"limit","sz":"1","px":"1"})"),
            "51001");
  EXPECT_EQ(place(R"({"tdMode":"cash","side":"buy","ordType":"limit","sz":"1","px":"1"})"), "50014");
  EXPECT_EQ(place(R"({"instId":"BTC-USDT","tdMode":"cross","side":"buy","ordType":"limit","sz":"0.001","px":"1"})"),
            "51000");
  EXPECT_EQ(place(order_arg("hold", "limit", "0.001", low, "")), "51000");
  EXPECT_EQ(place(order_arg("buy", "stop", "0.001", low, "")), "51000");
  EXPECT_EQ(place(R"({"instId":"BTC-USDT","tdMode":"cash","side":"buy","ordType":"limit","px":"1"})"), "50014");
  EXPECT_EQ(place(order_arg("buy", "limit", "0.000001", low, "")), "51121");
  EXPECT_EQ(place(order_arg("buy", "limit", "0.001", "60000.001", "")), "51000");
  EXPECT_EQ(place(order_arg("buy", "limit", "0.001", "", "")), "50014");
  EXPECT_EQ(place(order_arg("buy", "limit", "1", low, "")), "51008");  // 100 USDT
  EXPECT_EQ(place(order_arg("sell", "limit", "0.01", low, "")), "51008");  // 0.001 BTC
  EXPECT_EQ(place(order_arg("buy", "limit", "0.001", low, "bad-id!")), "51000");
  EXPECT_EQ(place(order_arg("buy", "limit", "0.001", low, "", R"(,"reduceOnly":["x"])")), "51000");
  // Duplicate clOrdId among open orders.
  std::string a = c.send_op("d1", "order", order_arg("buy", "limit", "0.0001", low, "dup1"));
  EXPECT_EQ(c.code(a), "0") << a;
  EXPECT_EQ(place(order_arg("buy", "limit", "0.0001", low, "dup1")), "51016");
  const auto op = [&](const std::string& name, const std::string& arg) {
    const auto s = c.scodes(c.send_op(cl_id('e', ++n), name, arg));
    return s.empty() ? std::string() : s[0];
  };
  EXPECT_EQ(op("cancel-order", R"({"instId":"BTC-USDT","ordId":"999999"})"), "51603");
  EXPECT_EQ(op("cancel-order", R"({"instId":"BTC-USDT","clOrdId":"nope"})"), "51603");
  EXPECT_EQ(op("cancel-order", R"({"instId":"BTC-USDT"})"), "51003");
  EXPECT_EQ(op("cancel-order", R"({"instId":"ETH-USDT","clOrdId":"dup1"})"), "51001");
  EXPECT_EQ(op("amend-order", R"({"instId":"BTC-USDT","clOrdId":"dup1"})"), "50015");
  EXPECT_EQ(op("amend-order", R"({"instId":"BTC-USDT","clOrdId":"dup1","newSz":"0.0000001"})"), "51121");
  EXPECT_EQ(op("amend-order", R"({"instId":"BTC-USDT","clOrdId":"dup1","newSz":"1"})"), "51502");  // funds
  EXPECT_EQ(op("amend-order", R"({"instId":"BTC-USDT","clOrdId":"nope","newSz":"1"})"), "51603");
  // A post_only order amended to a price that would take: 51511; with cxlOnFail it is canceled.
  a = c.send_op("d2", "order", order_arg("buy", "post_only", "0.0001", low, "po1"));
  EXPECT_EQ(c.code(a), "0") << a;
  EXPECT_EQ(op("amend-order", R"({"instId":"BTC-USDT","clOrdId":"po1","newPx":")" + px_text(top.ask_price) + "\"}"),
            "51511");
  EXPECT_EQ(ex.orders().size(), 2u);
  EXPECT_EQ(op("amend-order", R"({"instId":"BTC-USDT","clOrdId":"po1","cxlOnFail":true,"newPx":")" +
                                  px_text(top.ask_price) + "\"}"),
            "51511");
  EXPECT_EQ(ex.orders().size(), 1u);
  // Malformed requests and unknown ops are error events.
  EXPECT_NE(c.event_after("{\"op\":").find(R"("code":"60012")"), std::string::npos);
  EXPECT_NE(c.event_after(R"({"op":"order","args":[]})").find(R"("code":"60012")"), std::string::npos);  // no id
  EXPECT_NE(c.event_after(R"({"id":"z","op":"dance","args":[]})").find(R"("code":"60019")"), std::string::npos);
  EXPECT_EQ(c.code(c.send_op("e99", "order", "")), "60013");
  EXPECT_NE(c.event_after(R"({"op":"subscribe","args":[{"channel":"books","instId":"BTC-USDT"}]})")
                .find(R"("code":"60018")"),
            std::string::npos);
  c.ws->send_text("ping");
  ASSERT_TRUE(pump(c.reactor, [&] { return !c.events.empty() && c.events.back() == "pong"; }));
  const sim::ExchangeStats s = ex.stats();
  EXPECT_EQ(s.orders, 2u);
  std::map<int, std::uint64_t> by;
  for (const auto& r : s.rejects_by_venue_code) by[r.code] = r.count;
  EXPECT_EQ(by[51008], 2u);
  EXPECT_EQ(by[51016], 1u);
  EXPECT_EQ(by[51603], 3u);
  EXPECT_EQ(by[51511], 2u);
}

TEST(SimOkxPrivate, TwoClientsAndDroppedConnections) {
  sim::ExchangeConfig cfg = okx_config();
  cfg.api_key = "k";
  cfg.api_secret = "s";
  sim::Exchange ex(cfg);
  ex.start();
  ex.pause_market(true);
  PrivateClient a(ex), b(ex);
  ASSERT_TRUE(a.login(cfg));
  ASSERT_TRUE(b.login(cfg));
  a.subscribe_orders();
  b.subscribe_orders();
  const sim::Top top = ex.top("BTC-USDT");
  EXPECT_EQ(a.code(a.send_op("p1", "order", order_arg("buy", "limit", "0.001", px_text(top.bid_price - 500), "t1"))),
            "0");
  // Both connections of the account get the push; only the one that asked gets the answer.
  ASSERT_TRUE(b.wait_pushes(1));
  ASSERT_TRUE(a.wait_pushes(1));
  EXPECT_TRUE(b.answers.empty());
  EXPECT_EQ(ex.stats().api_connections, 2u);
  ex.drop_connections(sim::Channel::api);
  ASSERT_TRUE(pump(a.reactor, [&] {
    b.reactor.poll(0);
    for (auto* w : {a.ws.get(), b.ws.get()})
      if (w->is_open()) (void)w->ping("x", false);
    return a.closed && b.closed;
  }));
  ASSERT_TRUE(pump(a.reactor, [&] { return ex.stats().api_connections == 0; }));
  // The order outlives the connection; a new connection must log in again.
  EXPECT_EQ(ex.orders().size(), 1u);
  PrivateClient c(ex);
  EXPECT_EQ(c.code(c.send_op("p2", "cancel-order", R"({"instId":"BTC-USDT","clOrdId":"t1"})")), "60011");
  ASSERT_TRUE(c.login(cfg));
  EXPECT_EQ(c.code(c.send_op("p3", "cancel-order", R"({"instId":"BTC-USDT","clOrdId":"t1"})")), "0");
  EXPECT_TRUE(ex.orders().empty());
  // lose_requests: requests on the connections open now go unanswered.
  ex.lose_requests();
  c.ws->send_text(R"({"id":"p4","op":"order","args":[{}]})");
  ASSERT_TRUE(pump(c.reactor, [&] { return ex.stats().requests_lost == 1; }));
  EXPECT_EQ(c.answers.count("p4"), 0u);
}

// A recorded Binance file served through the OKX dialect: books-l2-tbt follows the recorded book (every
// checksum, no seq break), and every recorded trade is a trades message.
TEST(SimOkxReplay, BinanceRecordingThroughTheOkxDialect) {
  const std::string file = test::data_dir() + "/binance/spot_btcusdt_20240808.gz";
  sim::ExchangeConfig cfg = okx_config();
  cfg.mode = sim::Mode::replay;
  cfg.replay_files = {file};
  cfg.replay_pace = sim::Pace::fast;
  sim::Exchange ex(cfg);
  ex.start();
  std::uint64_t recorded_trades = 0;
  for (const auto& l : md::read_recorded_lines(file)) recorded_trades += l.find("@trade\"") != std::string::npos;
  PublicClient c(ex, sub({"books-l2-tbt", "trades"}));
  ASSERT_TRUE(pump(c.reactor, [&] { return ex.stats().replay_done == 1 && c.trades >= recorded_trades; }, 30000ms))
      << c.trades << " of " << recorded_trades;
  const sim::Top top = ex.top("BTC-USDT");
  ASSERT_TRUE(pump(c.reactor, [&] { return c.books["books-l2-tbt"].seq == static_cast<std::int64_t>(top.update_id); }));
  ChannelBook& b = c.books["books-l2-tbt"];
  EXPECT_EQ(b.snapshots, 1u);
  EXPECT_GT(b.updates, 3000u);
  EXPECT_EQ(b.checksum_bad, 0u);
  EXPECT_EQ(b.seq_breaks, 0u);
  EXPECT_EQ(c.trades, recorded_trades);
  EXPECT_EQ(c.trade_gaps, 0u);
  c.expect_book_equals(ex, "books-l2-tbt", 400);
}
