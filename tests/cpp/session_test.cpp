// End to end on loopback: a Session (inline and pipelined) trading against the exchange simulator.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <map>
#include <set>
#include <string>
#include <thread>

#include "session_support.hpp"

namespace hftx::session {
namespace {

using namespace std::chrono_literals;
using test::eventually;
using test::session_config;
using test::sim_config;

double sim_balance(const sim::Exchange& ex, const std::string& asset) {
  for (const auto& [a, v] : ex.balances(true))
    if (a == asset) return std::stod(v);
  return 0;
}

void trades_against_the_simulator(ThreadingMode mode) {
  sim::Exchange ex(sim_config());
  ex.start();
  const double btc0 = sim_balance(ex, "BTC");
  Session s(session_config(ex, mode));
  s.start();
  ASSERT_TRUE(eventually([&] { return s.stats().fills >= 3; }, 20s)) << "no fills: orders_sent=" << s.stats().orders_sent;
  const SessionStats st = s.stats();
  EXPECT_GT(st.orders_sent, 0u);
  EXPECT_GT(st.orders_acked, 0u);
  EXPECT_LE(st.fills, st.orders_sent * 100);
  EXPECT_EQ(st.md_errors, 0u);
  EXPECT_EQ(st.gaps, 0u);
  // Top first (the default): diffs are acted on before they are applied, and the top they were acted on
  // is the one applying them left.
  EXPECT_GT(st.top_first, 0u);
  EXPECT_EQ(st.top_first_mismatch, 0u);
  EXPECT_EQ(st.impossible_updates, 0u);
  EXPECT_EQ(st.unknown_orders, 0u);
  EXPECT_EQ(st.logons, 1u) << "the simulator's demo key is Ed25519: the order connection logs on";
  EXPECT_GT(ex.stats().unsigned_requests, 0u);
  const auto books = s.books(5);
  ASSERT_EQ(books.size(), 1u);
  EXPECT_TRUE(books[0].synced);
  EXPECT_GT(s.tracker().stage_histogram(Stage::tick_to_trade).count(), 0u);

  s.stop();
  // cancel_on_stop: nothing of ours rests at the venue, and the session agrees.
  EXPECT_TRUE(s.orders().empty());
  EXPECT_TRUE(eventually([&] { return ex.orders().empty(); }, 3s)) << ex.orders().size() << " orders left at the venue";
  // Positions equal the venue's: the session's BTC position is the account's BTC balance change.
  const auto pos = s.positions();
  ASSERT_EQ(pos.size(), 1u);
  EXPECT_NEAR(pos[0].position, sim_balance(ex, "BTC") - btc0, 1e-9);
  ex.stop();
}

TEST(Session, InlineTradesAgainstTheSimulator) { trades_against_the_simulator(ThreadingMode::inline_mode); }
TEST(Session, PipelinedTradesAgainstTheSimulator) { trades_against_the_simulator(ThreadingMode::pipelined); }

// session.top_first off: every diff is applied whole before the strategies see it, and trading is the same.
TEST(Session, TopFirstOffAppliesEveryDiffFirst) {
  sim::Exchange ex(sim_config());
  ex.start();
  SessionConfig cfg = session_config(ex);
  cfg.top_first = false;
  Session s(cfg);
  s.start();
  ASSERT_TRUE(eventually([&] { return s.stats().orders_acked >= 3 && s.stats().depth_updates >= 20; }));
  EXPECT_EQ(s.stats().top_first, 0u);
  EXPECT_EQ(s.stats().md_errors, 0u);
  s.stop();
  ex.stop();
}

// A diff whose levels are out of Binance's order past the one the prediction read (here the best bid twice,
// the second quantity being the one that stands): counted, and the strategies get the applied top as well.
// The market is paused so that the injected diff can carry the next id; an order's diff racing it makes
// a gap instead, and the next round tries again.
TEST(Session, TopFirstCatchesLevelsOutOfOrder) {
  sim::Exchange ex(sim_config());
  ex.start();
  Session s(session_config(ex));
  s.start();
  ASSERT_TRUE(eventually([&] { return s.books(1)[0].synced && s.stats().top_first > 0; }));
  ex.pause_market(true);
  EXPECT_TRUE(eventually([&] {
    const BookInfo b = s.books(1)[0];
    if (!b.synced || b.bids.empty()) return false;
    const std::int64_t ticks = b.bids[0].price.raw();  // step 0.01
    char price[32];
    std::snprintf(price, sizeof price, "%lld.%02lld", static_cast<long long>(ticks / 100), static_cast<long long>(ticks % 100));
    const std::string id = std::to_string(b.update_id + 1);
    const std::uint64_t md = s.stats().md_messages;
    ex.inject(sim::Channel::market, R"({"stream":"btcusdt@depth","data":{"e":"depthUpdate","E":1,"s":"BTCUSDT","U":)" + id +
                                        R"(,"u":)" + id + R"(,"b":[[")" + price + R"(","0.00000007"],[")" + price +
                                        R"(","0.00000009"]],"a":[]}})");
    (void)eventually([&] { return s.stats().md_messages > md; }, 1s);
    return s.stats().top_first_mismatch >= 1;
  }, 10s)) << "top_first " << s.stats().top_first << ", gaps " << s.stats().gaps;
  const BookInfo b = s.books(1)[0];
  ASSERT_FALSE(b.bids.empty());
  EXPECT_EQ(b.bids[0].qty.raw(), 9);  // the last of the two stands, as in apply()
  EXPECT_EQ(s.stats().md_errors, 0u);
  s.stop();
  ex.stop();
}

// The session's open orders and the venue's, as sets of client order ids.
std::set<std::string> session_order_ids(const Session& s, const std::string& prefix) {
  std::set<std::string> ids;
  for (const OrderInfo& o : s.orders()) ids.insert(prefix + std::to_string(o.id));
  return ids;
}
std::set<std::string> venue_order_ids(const sim::Exchange& ex) {
  std::set<std::string> ids;
  for (const sim::OrderInfo& o : ex.orders()) ids.insert(o.client_id);
  return ids;
}

// The venue drops every connection and skips a depth id mid-run: the session resyncs its book, reconnects,
// reconciles its orders (order.status) and goes on; at the end its position equals the venue's.
// Every venue answer takes 20 ms and the requests just before each drop are lost, so the drop always
// catches requests and reports in flight: orders the venue never received (-2013), acks and fills that
// were lost, cancels whose answer was lost.
TEST(Session, RecoversFromGapsAndDroppedConnections) {
  sim::ExchangeConfig xc = sim_config();
  xc.latency_us = 20'000;
  sim::Exchange ex(xc);
  ex.start();
  const double btc0 = sim_balance(ex, "BTC");
  const SessionConfig cfg = session_config(ex);
  Session s(cfg);
  // What a failure message needs: both sides' open orders and the session's counters.
  auto describe = [&] {
    std::map<int, int> by_state;
    const std::vector<OrderInfo> open = s.orders();
    for (const OrderInfo& o : open) ++by_state[static_cast<int>(o.state)];
    std::string t = std::to_string(open.size()) + " open in the session (states:";
    for (auto [st, n] : by_state) t += " " + std::to_string(st) + "x" + std::to_string(n);
    const SessionStats ss = s.stats();
    const sim::ExchangeStats xs = ex.stats();
    return t + "), " + std::to_string(ex.orders().size()) + " at the venue; fills " + std::to_string(ss.fills) +
           ", sent " + std::to_string(ss.orders_sent) + ", acked " + std::to_string(ss.orders_acked) + ", cancels sent " +
           std::to_string(ss.cancels_sent) + ", cancelled " + std::to_string(ss.cancelled) + ", lost " +
           std::to_string(ss.orders_lost) + ", risk rejects " + std::to_string(ss.risk_rejects) + ", api errors " +
           std::to_string(ss.api_errors) + ", reconnects " + std::to_string(ss.reconnects) + ", unknown " +
           std::to_string(ss.unknown_orders) + ", md " + std::to_string(ss.md_messages) + ", gaps " +
           std::to_string(ss.gaps) + ", top first " + std::to_string(ss.top_first) + " (mismatches " +
           std::to_string(ss.top_first_mismatch) + "), synced " + std::to_string(s.books(1)[0].synced) +
           ", venue requests " +
           std::to_string(xs.requests) + ", venue orders " + std::to_string(xs.orders) + ", venue fills " +
           std::to_string(xs.fills);
  };
  s.start();
  ASSERT_TRUE(eventually([&] { return s.books(1)[0].synced && s.stats().orders_acked > 0; }));
  ex.skip_sequence("BTCUSDT");
  ASSERT_TRUE(eventually([&] { return s.stats().gaps >= 1; })) << "the skipped id was not seen as a gap";
  ASSERT_TRUE(eventually([&] { return s.books(1)[0].synced; })) << "no resync after the gap";
  for (int round = 0; round < 3; ++round) {
    SCOPED_TRACE("drop " + std::to_string(round));
    const std::uint64_t fills_before = s.stats().fills;
    const std::uint64_t reconnects_before = s.stats().reconnects;
    // Requests from here to the drop are lost on the wire: at least one order the venue never sees.
    ex.lose_requests();
    const std::uint64_t sent_before = s.stats().orders_sent;
    ASSERT_TRUE(eventually([&] { return s.stats().orders_sent > sent_before; }, 5s)) << "no order sent";
    ex.drop_connections();
    // Both connections see the hang-up at once (no heartbeat needed: that would take 3 s).
    ASSERT_TRUE(eventually([&] { return s.stats().reconnects >= reconnects_before + 2; }, 2s))
        << "reconnects: " << s.stats().reconnects - reconnects_before;
    ASSERT_TRUE(eventually([&] { return s.books(1)[0].synced && s.stats().fills > fills_before + 2; }, 20s))
        << "did not go on trading after the reconnect: " << describe();
  }
  // Quiet market: once the last answers are in, the session's open orders are exactly the venue's.
  ex.pause_market(true);
  EXPECT_TRUE(eventually([&] { return session_order_ids(s, cfg.venue.client_id_prefix) == venue_order_ids(ex); }, 3s))
      << describe();
  ex.pause_market(false);
  // Each drop lost at least one order.place on the wire: the reconciliation closed those orders (-2013;
  // not venue rejects, which feed the kill switch).
  EXPECT_GT(ex.stats().requests_lost, 0u);
  EXPECT_GE(s.stats().orders_lost, 3u);
  EXPECT_FALSE(s.stats().kill_switch);
  s.stop();
  EXPECT_EQ(s.stats().impossible_updates, 0u);
  EXPECT_TRUE(s.orders().empty()) << s.orders().size() << " orders still open in the session after stop";
  EXPECT_TRUE(eventually([&] { return ex.orders().empty(); }, 3s));
  EXPECT_NEAR(s.positions()[0].position, sim_balance(ex, "BTC") - btc0, 1e-9);
  ex.stop();
}

// A snapshot request the venue never answers (lost on the wire): the book asks again once the sync's snapshot
// timeout (5 s) has passed, instead of waiting for a snapshot for good.
void lost_snapshot_request_is_asked_again(ThreadingMode mode) {
  sim::Exchange ex(sim_config());
  ex.start();
  Session s(session_config(ex, mode));
  s.start();
  ASSERT_TRUE(eventually([&] { return s.books(1)[0].synced; }));
  ex.lose_depth_requests(1);
  ex.skip_sequence("BTCUSDT");
  ASSERT_TRUE(eventually([&] { return s.stats().gaps >= 1; })) << "the skipped id was not seen as a gap";
  const auto gap_seen = std::chrono::steady_clock::now();
  ASSERT_TRUE(eventually([&] { return s.books(1)[0].synced; }, 15s)) << "no resync after the lost request";
  EXPECT_GE(std::chrono::steady_clock::now() - gap_seen, 4s) << "synced before the timeout: was a request lost?";
  EXPECT_EQ(ex.stats().requests_lost, 1u);
  s.stop();
  ex.stop();
}

TEST(Session, InlineAsksAgainForALostSnapshot) { lost_snapshot_request_is_asked_again(ThreadingMode::inline_mode); }
TEST(Session, PipelinedAsksAgainForALostSnapshot) { lost_snapshot_request_is_asked_again(ThreadingMode::pipelined); }

// The resync's request was lost, and then its API connection dropped. The session asks again as soon as that
// connection is back, within the snapshot rate limit (1 s after the lost request), not after the 5 s timeout.
// Before, nothing asked again after an API reconnect, and with no timeout the book stayed unsynced.
void snapshot_lost_with_its_connection_is_asked_again(ThreadingMode mode) {
  sim::Exchange ex(sim_config());
  ex.start();
  Session s(session_config(ex, mode));
  s.start();
  ASSERT_TRUE(eventually([&] { return s.books(1)[0].synced && s.stats().orders_acked > 0; }));
  ex.lose_depth_requests(1);
  ex.skip_sequence("BTCUSDT");
  // Lost, not held back by the rate limit (within 1 s of the first snapshot it would be sent later, after the
  // reconnect, and prove nothing).
  ASSERT_TRUE(eventually([&] { return ex.stats().requests_lost == 1; })) << "the resync's request was not sent";
  const std::uint64_t reconnects = s.stats().reconnects;
  ex.drop_connections(sim::Channel::api);
  ASSERT_TRUE(eventually([&] { return s.stats().reconnects > reconnects; }, 3s))
      << "the API connection did not come back";
  EXPECT_TRUE(eventually([&] { return s.books(1)[0].synced; }, 3s)) << "not synced within 3 s of the reconnect";
  s.stop();
  ex.stop();
}

TEST(Session, InlineAsksAgainForASnapshotLostWithItsConnection) {
  snapshot_lost_with_its_connection_is_asked_again(ThreadingMode::inline_mode);
}
TEST(Session, PipelinedAsksAgainForASnapshotLostWithItsConnection) {
  snapshot_lost_with_its_connection_is_asked_again(ThreadingMode::pipelined);
}

// With an Ed25519 key the order connection logs on (session.logon, verified by the venue with the public
// key) and its orders go out unsigned; after the venue drops the connection it logs on again and trades
// on. An HMAC key with session_logon = always is a config error naming the key; never signs every order.
TEST(Session, LogsOnWithAnEd25519KeyAndAgainAfterAReconnect) {
  sim::ExchangeConfig xc = sim_config();
  xc.api_key = "session-key";
  xc.api_public_key = test::kEd25519PublicPem;
  sim::Exchange ex(xc);
  ex.start();
  ::setenv("HFTX_LOGON_TEST_KEY", "session-key", 1);
  ::setenv("HFTX_LOGON_TEST_SECRET", test::kEd25519Pem, 1);
  SessionConfig cfg = session_config(ex);
  cfg.venue.api_key_env = "HFTX_LOGON_TEST_KEY";
  cfg.venue.secret_key_env = "HFTX_LOGON_TEST_SECRET";
  {
    Session s(cfg);
    s.start();
    ASSERT_TRUE(eventually([&] { return s.stats().logons == 1 && s.stats().orders_acked > 2; }, 20s))
        << "logons " << s.stats().logons << ", acked " << s.stats().orders_acked << ", api errors " << s.stats().api_errors;
    const std::uint64_t unsigned_before = ex.stats().unsigned_requests;
    EXPECT_GT(unsigned_before, 0u);
    ex.drop_connections();
    ASSERT_TRUE(eventually([&] { return s.stats().logons == 2; }, 10s)) << "no logon after the reconnect";
    const std::uint64_t acked = s.stats().orders_acked;
    ASSERT_TRUE(eventually([&] { return s.stats().orders_acked > acked + 2; }, 20s));
    EXPECT_GT(ex.stats().unsigned_requests, unsigned_before);
    s.stop();
    EXPECT_TRUE(eventually([&] { return ex.orders().empty(); }, 3s));
    const sim::ExchangeStats xs = ex.stats();
    EXPECT_EQ(xs.rejects_by_code[2], 0u) << "-1022: a request failed authentication";
    EXPECT_EQ(xs.rejects_by_code[4], 0u) << "-1102: a request went out unsigned before the logon";
  }
  {
    cfg.venue.options["session_logon"] = "never";
    const std::uint64_t unsigned_before = ex.stats().unsigned_requests;
    Session s(cfg);
    s.start();
    ASSERT_TRUE(eventually([&] { return s.stats().orders_acked > 2; }, 20s));
    s.stop();
    EXPECT_EQ(s.stats().logons, 0u);
    EXPECT_EQ(ex.stats().unsigned_requests, unsigned_before);
  }
  ex.stop();
  ::setenv("HFTX_LOGON_TEST_SECRET", "an-hmac-secret", 1);
  cfg.venue.options["session_logon"] = "always";
  try {
    Session s(cfg);
    s.start();  // the order side (and its key) is built here
    FAIL() << "session_logon = always with an HMAC key was accepted";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("venue.session_logon"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("Ed25519"), std::string::npos) << e.what();
  }
  ::unsetenv("HFTX_LOGON_TEST_KEY");
  ::unsetenv("HFTX_LOGON_TEST_SECRET");
}

// Malformed JSON on both connections, a report for an order that never existed and a fill for an order
// that is closed: counted, survived, and trading goes on.
TEST(Session, SurvivesBadVenueMessages) {
  sim::Exchange ex(sim_config());
  ex.start();
  Session s(session_config(ex));
  s.start();
  // The probe (strategy 1) cancels its orders: its first order, id (2 << 40) | 1, is closed soon.
  ASSERT_TRUE(eventually([&] { return s.stats().cancelled >= 3; }));
  const std::string report_head =
      R"({"subscriptionId":0,"event":{"e":"executionReport","E":1,"s":"BTCUSDT","S":"BUY","o":"LIMIT","f":"GTC",)"
      R"("q":"0.00100000","p":"100.00","r":"NONE","i":1,"n":"0","N":null,"T":1,"m":false,"w":true,"O":1,"Z":"0","Y":"0","Q":"0",)";
  ex.inject(sim::Channel::market, "{not json");
  ex.inject(sim::Channel::api, "[1,2");
  ex.inject(sim::Channel::api, report_head +
                                   R"("c":"hx999999999","C":"","x":"TRADE","X":"PARTIALLY_FILLED","l":"0.00100000","z":"0.00100000","L":"100.00","t":5}})");
  ex.inject(sim::Channel::api, report_head + R"("c":"hx2199023255553","C":"","x":"TRADE","X":"FILLED","l":"0.00100000","z":"0.00100000","L":"100.00","t":6}})");
  ASSERT_TRUE(eventually([&] {
    const SessionStats st = s.stats();
    return st.md_errors >= 1 && st.api_errors >= 1 && st.unknown_orders >= 1 && st.impossible_updates >= 1;
  })) << "md_errors=" << s.stats().md_errors << " api_errors=" << s.stats().api_errors
      << " unknown=" << s.stats().unknown_orders << " impossible=" << s.stats().impossible_updates;
  const std::uint64_t md = s.stats().md_messages;
  EXPECT_TRUE(eventually([&] { return s.stats().md_messages > md + 10; }));
  EXPECT_TRUE(s.running());
  s.stop();
  ex.stop();
}

// `count` latency probes on the pipelined workers, each keeping one order at a time (max_open 1), with the
// risk limits out of their way.
SessionConfig probes_config(const sim::Exchange& ex, int count) {
  SessionConfig c = session_config(ex, ThreadingMode::pipelined);
  c.strategies.clear();
  StrategyConfig probe;
  probe.type = "latency_probe";
  probe.instrument = "BTCUSDT";
  probe.count = count;
  probe.params = {{"max_open", 1.0}};
  c.strategies.push_back(probe);
  c.risk.max_open_orders = 100'000;
  c.risk.orders_per_second = 1e6;
  c.risk.burst = 100'000;
  c.risk.max_position = 1e6;
  return c;
}

// 1,000 strategy instances over the pipelined workers: every one of them places orders; shutdown is clean
// (the AddressSanitizer build checks that nothing leaks).
TEST(Session, ThousandStrategiesPipelined) {
  sim::Exchange ex(sim_config(2000));
  ex.start();
  SessionConfig c = probes_config(ex, 1000);
  c.max_orders = 1u << 16;
  c.threading.queue_capacity = 1u << 14;
  Session s(c);
  s.start();
  ASSERT_TRUE(eventually([&] { return s.stats().orders_acked >= 2000; }, 30s)) << s.stats().orders_acked;
  // Every strategy trades: each probe keeps one order at a time (cancel, wait for the close, place), so
  // a few looks at the open orders see every one of the thousand.
  std::set<oms::StrategyId> placed;
  EXPECT_TRUE(eventually([&] {
    for (const auto& o : s.orders()) placed.insert(o.strategy);
    return placed.size() == 1000;
  }, 30s)) << placed.size() << " strategies seen with an open order";
  s.stop();
  const SessionStats st = s.stats();
  EXPECT_GE(st.orders_sent, 2000u);
  EXPECT_EQ(st.impossible_updates, 0u);
  EXPECT_TRUE(eventually([&] { return ex.orders().empty(); }, 5s)) << ex.orders().size() << " left";
  ex.stop();
}

// Pipelined with queues of 2: the workers' update queues overflow all the time. No order update may be
// lost to that (a probe that missed its order's close would never place again): every one of 200 probes
// keeps trading.
TEST(Session, PipelinedNeverDropsOrderUpdates) {
  sim::Exchange ex(sim_config(2000));
  ex.start();
  SessionConfig c = probes_config(ex, 200);
  c.threading.workers = 1;
  c.threading.queue_capacity = 2;
  Session s(c);
  s.start();
  std::set<oms::StrategyId> seen;
  const std::uint64_t target = 200 * 5;
  EXPECT_TRUE(eventually([&] {
    for (const auto& o : s.orders()) seen.insert(o.strategy);
    return seen.size() == 200 && s.stats().cancelled >= target;
  }, 30s)) << seen.size() << " strategies seen, " << s.stats().cancelled << " orders cancelled (want " << target
           << "), queue drops " << s.stats().queue_drops;
  s.stop();
  EXPECT_EQ(s.stats().impossible_updates, 0u);
  ex.stop();
}

TEST(Session, BadConfigNamesTheKey) {
  SessionConfig c;
  try {
    Session s(c);
    FAIL() << "expected ConfigError";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("instruments"), std::string::npos) << e.what();
  }
  c.instruments.push_back(InstrumentConfig{"BTCUSDT", "0.01", "0.00000001", "0.00001", 1000});
  c.venue.market_url = "ws://127.0.0.1:1/stream";
  c.venue.api_url = "ws://127.0.0.1:1/ws-api/v3";
  StrategyConfig st;
  st.type = "market_maker";
  st.instrument = "ETHUSDT";
  c.strategies.push_back(st);
  try {
    Session s(c);
    FAIL() << "expected ConfigError";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("strategies[0].instrument"), std::string::npos) << e.what();
  }
}

TEST(Session, RefusedConnectionIsAClearError) {
  SessionConfig c;
  c.instruments.push_back(InstrumentConfig{"BTCUSDT", "0.01", "0.00000001", "0.00001", 1000});
  c.venue.market_url = "ws://127.0.0.1:1/stream";
  c.venue.api_url = "ws://127.0.0.1:1/ws-api/v3";
  c.venue.connect_timeout_ms = 1000;
  c.performance.enable_cpu_affinity = false;
  Session s(c);
  EXPECT_THROW(s.start(), Error);
  EXPECT_FALSE(s.running());
}

}  // namespace
}  // namespace hftx::session
