// A session speaking OKX (venue/okx) against the simulator's OKX dialect over loopback: the same OMS, risk and
// latency stages as Binance's, through the venue seam. Books are checked by OKX's checksum and seqId chain; a
// book out of step resubscribes; a dropped private connection logs in again and reconciles by cancelling (OKX's
// WebSocket API has no order query).
#include <gtest/gtest.h>

#include <cstdlib>
#include <set>
#include <string>

#include "hftx/session/session.hpp"
#include "hftx/sim/exchange.hpp"
#include "session_support.hpp"

namespace hftx::session {
namespace {

using namespace std::chrono_literals;
using test::eventually;

sim::ExchangeConfig okx_sim(double rate = 5000) { return test::okx_sim_config(rate); }
SessionConfig okx_session(const sim::Exchange& ex, ThreadingMode mode = ThreadingMode::inline_mode) {
  return test::okx_session_config(ex, mode);
}

double balance(const sim::Exchange& ex, const std::string& asset) {
  for (const auto& [a, v] : ex.balances(true))
    if (a == asset) return std::stod(v);
  return 0;
}

void trades_against_okx(ThreadingMode mode) {
  sim::Exchange ex(okx_sim());
  ex.start();
  const double btc0 = balance(ex, "BTC");
  Session s(okx_session(ex, mode));
  s.start();
  ASSERT_TRUE(eventually([&] { return s.stats().fills >= 3; }, 20s))
      << "no fills: orders_sent=" << s.stats().orders_sent;
  const SessionStats st = s.stats();
  EXPECT_GT(st.orders_acked, 0u);
  EXPECT_GT(st.cancelled, 0u);
  EXPECT_EQ(st.md_errors, 0u);
  EXPECT_EQ(st.gaps, 0u);
  EXPECT_EQ(st.checksum_mismatches, 0u);
  EXPECT_EQ(st.top_first, 0u) << "OKX's diffs are applied whole";
  EXPECT_EQ(st.impossible_updates, 0u);
  EXPECT_EQ(st.unknown_orders, 0u);
  EXPECT_EQ(st.logons, 1u) << "the private connection logs in once";
  const auto books = s.books(5);
  ASSERT_EQ(books.size(), 1u);
  EXPECT_TRUE(books[0].synced);
  EXPECT_GT(s.tracker().stage_histogram(Stage::tick_to_trade).count(), 0u);
  s.stop();
  EXPECT_TRUE(s.orders().empty());
  EXPECT_TRUE(eventually([&] { return ex.orders().empty(); }, 3s)) << ex.orders().size() << " orders left at the venue";
  ASSERT_EQ(s.positions().size(), 1u);
  EXPECT_NEAR(s.positions()[0].position, balance(ex, "BTC") - btc0, 1e-9);
  ex.stop();
}

TEST(SessionOkx, InlineTradesAgainstTheSimulator) { trades_against_okx(ThreadingMode::inline_mode); }
TEST(SessionOkx, PipelinedTradesAgainstTheSimulator) { trades_against_okx(ThreadingMode::pipelined); }

std::set<std::string> session_ids(const Session& s, const std::string& prefix) {
  std::set<std::string> out;
  for (const OrderInfo& o : s.orders()) out.insert(prefix + std::to_string(o.id));
  return out;
}
std::set<std::string> venue_ids(const sim::Exchange& ex) {
  std::set<std::string> out;
  for (const sim::OrderInfo& o : ex.orders()) out.insert(o.client_id);
  return out;
}

// A book out of step (the venue skips a seqId) resubscribes and is back in step; after each drop of both
// connections the session reconnects, logs in again, reconciles its open orders by cancelling them (orders lost
// on the wire are closed as lost: OKX answers 51603), and trades on; at the end its orders are the venue's.
TEST(SessionOkx, RecoversFromGapsAndDroppedConnections) {
  sim::ExchangeConfig xc = okx_sim();
  xc.latency_us = 20'000;
  sim::Exchange ex(xc);
  ex.start();
  const double btc0 = balance(ex, "BTC");
  const SessionConfig cfg = okx_session(ex);
  Session s(cfg);
  s.start();
  ASSERT_TRUE(eventually([&] { return s.books(1)[0].synced && s.stats().orders_acked > 0; }));
  ex.skip_sequence("BTC-USDT");
  ASSERT_TRUE(eventually([&] { return s.stats().gaps >= 1; })) << "the skipped seqId was not seen";
  ASSERT_TRUE(eventually([&] { return s.books(1)[0].synced; })) << "no resync after the gap";
  for (int round = 0; round < 2; ++round) {
    SCOPED_TRACE("drop " + std::to_string(round));
    const std::uint64_t fills_before = s.stats().fills;
    const std::uint64_t reconnects_before = s.stats().reconnects;
    const std::uint64_t logons_before = s.stats().logons;
    ex.lose_requests();
    const std::uint64_t sent_before = s.stats().orders_sent;
    ASSERT_TRUE(eventually([&] { return s.stats().orders_sent > sent_before; }, 5s)) << "no order sent";
    ex.drop_connections();
    ASSERT_TRUE(eventually([&] { return s.stats().reconnects >= reconnects_before + 2; }, 5s));
    ASSERT_TRUE(eventually([&] { return s.stats().logons > logons_before; }, 5s)) << "no login after the reconnect";
    ASSERT_TRUE(eventually([&] { return s.books(1)[0].synced && s.stats().fills > fills_before + 2; }, 20s))
        << "did not go on trading: fills " << s.stats().fills << ", sent " << s.stats().orders_sent;
  }
  ex.pause_market(true);
  EXPECT_TRUE(eventually([&] { return session_ids(s, cfg.venue.client_id_prefix) == venue_ids(ex); }, 5s))
      << s.orders().size() << " open in the session, " << ex.orders().size() << " at the venue";
  ex.pause_market(false);
  EXPECT_GT(ex.stats().requests_lost, 0u);
  EXPECT_GE(s.stats().orders_lost, 1u);
  EXPECT_FALSE(s.stats().kill_switch);
  s.stop();
  EXPECT_EQ(s.stats().impossible_updates, 0u);
  EXPECT_TRUE(s.orders().empty());
  EXPECT_TRUE(eventually([&] { return ex.orders().empty(); }, 3s));
  EXPECT_NEAR(s.positions()[0].position, balance(ex, "BTC") - btc0, 1e-9);
  ex.stop();
}

// Credentials OKX refuses: no order could ever go out, so the session stops at once and says why (rather than
// run on, refusing every order locally). Good ones: it logs in and trades.
TEST(SessionOkx, ARefusedLoginStopsTheSession) {
  sim::ExchangeConfig xc = okx_sim();
  xc.api_key = "okx-key";
  xc.api_secret = "okx-secret";
  xc.api_passphrase = "okx-pass";
  sim::Exchange ex(xc);
  ex.start();
  ::setenv("HFTX_OKX_TEST_KEY", "okx-key", 1);
  ::setenv("HFTX_OKX_TEST_PASS", "okx-pass", 1);
  SessionConfig cfg = okx_session(ex);
  cfg.venue.api_key_env = "HFTX_OKX_TEST_KEY";
  cfg.venue.secret_key_env = "HFTX_OKX_TEST_SECRET";
  cfg.venue.options["passphrase_env"] = "HFTX_OKX_TEST_PASS";
  {
    ::setenv("HFTX_OKX_TEST_SECRET", "okx-secret", 1);
    Session s(cfg);
    s.start();
    EXPECT_TRUE(eventually([&] { return s.stats().orders_acked > 2; }, 10s));
    EXPECT_EQ(s.stats().logons, 1u);
    EXPECT_EQ(s.failure(), "");
    s.stop();
  }
  ::setenv("HFTX_OKX_TEST_SECRET", "not-the-secret", 1);
  Session s(cfg);
  s.start();
  ASSERT_TRUE(eventually([&] { return !s.failure().empty(); }, 10s)) << "the refused login went unnoticed";
  EXPECT_NE(s.failure().find("login refused"), std::string::npos) << s.failure();
  EXPECT_NE(s.failure().find(ex.api_url()), std::string::npos) << s.failure();
  EXPECT_TRUE(eventually([&] { return !s.running(); }, 5s));
  EXPECT_EQ(s.stats().orders_sent, 0u);
  s.stop();
  ex.stop();
}

// A key of Binance's given to an OKX session: a ConfigError naming the key, its venue and the venues.
TEST(SessionOkx, AKeyOfAnotherVenueIsAConfigError) {
  sim::Exchange ex(okx_sim());
  SessionConfig cfg = okx_session(ex);
  cfg.venue.market_url = "ws://127.0.0.1:1/ws/v5/public";
  cfg.venue.api_url = "ws://127.0.0.1:1/ws/v5/private";
  cfg.venue.options["depth_stream"] = "depth";
  try {
    Session s(cfg);
    FAIL() << "accepted";
  } catch (const ConfigError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("venue.depth_stream"), std::string::npos) << what;
    EXPECT_NE(what.find("'binance'"), std::string::npos) << what;
    EXPECT_NE(what.find("'okx'"), std::string::npos) << what;
  }
}

}  // namespace
}  // namespace hftx::session
