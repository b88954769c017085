// OKX market data: the parser (every channel shape, numbers, errors naming the field, the fast scanner against
// simdjson on every recorded line and on damaged ones), the stream helpers (classification, subscription
// encoders), the book checksum's text, the book sync's rules (checksum, seqId/prevSeqId: gap, heartbeat,
// reset; resubscription requests; the deferred check), a randomized book against a std::map reference, and the
// replay of the recording (venues/okx/okx_books-l2-tbt_20220227.gz, recorded by cryptofeed, by Bryant Moscon):
// every checksum it carries matched, against an independent model that checksums the strings as sent; one
// corrupted level resubscribes exactly its instrument.
#include <gtest/gtest.h>
#include <zlib.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "hftx/core/error.hpp"
#include "hftx/md/recording.hpp"
#include "hftx/venue/okx/book_sync.hpp"
#include "hftx/venue/okx/checksum.hpp"
#include "hftx/venue/okx/md_parser.hpp"
#include "hftx/venue/okx/replay.hpp"
#include "hftx/venue/okx/stream.hpp"
#include "test_support.hpp"

namespace {

using namespace hftx;
using namespace hftx::md;
using namespace hftx::venue::okx;
using book::SyncReason;
using book::SyncState;

const std::string kFile = "venues/okx/okx_books-l2-tbt_20220227.gz";
std::string data_file() { return test::data_dir() + "/" + kFile; }
bool have_data() { return std::filesystem::exists(data_file()); }
#define REQUIRE_DATA()                                                                   \
  do {                                                                                   \
    if (!have_data()) GTEST_SKIP() << "no recorded data in " << test::data_dir(); \
  } while (0)

struct Fixture {
  Fixture() = default;
  Fixture(Scale ps, Scale qs) : parser(ps, qs) {}
  MdParser parser{Scale::from_step("0.001"), Scale::from_step("1")};
  std::vector<Level> levels = std::vector<Level>(64);
  MdMessage msg;
  std::string buf;

  ParseResult parse(const std::string& json, std::int64_t recv = 7) {
    buf = json;
    buf.resize(json.size() + kJsonPadding, '\0');
    return parser.parse(std::string_view(buf.data(), json.size()), buf.size(), recv, msg, levels);
  }
};

Level lv(std::int64_t p, std::int64_t q) { return Level{Price(p), Qty(q)}; }

std::string book_msg(const std::string& channel, const std::string& action, const std::string& data_fields,
                     const std::string& inst = "UNI-USD-SWAP") {
  std::string s = R"({"arg":{"channel":")" + channel + R"(","instId":")" + inst + R"("},)";
  if (!action.empty()) s += R"("action":")" + action + R"(",)";
  return s + R"("data":[{)" + data_fields + "}]}";
}

// ---- parser ------------------------------------------------------------------------------------------

TEST(OkxParser, BooksL2TbtUpdateAsRecorded) {
  Fixture f;
  const std::string m =
      R"({"arg":{"channel":"books-l2-tbt","instId":"UNI-USD-SWAP"},"action":"update","data":[{"asks":[],)"
      R"("bids":[["9.617","441","0","4"],["9.581","107","0","2"]],"ts":"1646003667640","checksum":-980833328}]})";
  ASSERT_TRUE(f.parse(m, 42).ok());
  EXPECT_EQ(f.msg.kind, MdKind::depth_update);
  EXPECT_EQ(f.msg.symbol.view(), "UNI-USD-SWAP");
  EXPECT_EQ(f.msg.stream, "books-l2-tbt");
  EXPECT_EQ(f.msg.recv_ns, 42);
  EXPECT_EQ(f.msg.venue_time_ns, 1646003667640LL * 1'000'000);
  ASSERT_EQ(f.msg.depth.bids.size(), 2u);
  EXPECT_EQ(f.msg.depth.bids[0], lv(9617, 441));
  EXPECT_EQ(f.msg.depth.bids[1], lv(9581, 107));
  EXPECT_TRUE(f.msg.depth.asks.empty());
  EXPECT_TRUE(f.msg.depth.has_checksum);
  EXPECT_EQ(f.msg.depth.checksum, -980833328);
  EXPECT_FALSE(f.msg.depth.has_prev);
  EXPECT_EQ(f.msg.depth.first_id, 0u);
  EXPECT_EQ(f.parser.stats().fallbacks, 0u) << "the fast scanner reads OKX's own shape";
  EXPECT_EQ(f.parser.stats().by_kind[static_cast<std::size_t>(MdKind::depth_update)], 1u);
}

TEST(OkxParser, SnapshotWithSequenceAndUpdateWithPrev) {
  Fixture f;
  ASSERT_TRUE(f.parse(book_msg("books", "snapshot",
                               R"("asks":[["9.62","10","0","1"]],"bids":[["9.61","5","0","1"]],"ts":"1",)"
                               R"("checksum":123,"prevSeqId":-1,"seqId":1000)"))
                  .ok());
  EXPECT_EQ(f.msg.kind, MdKind::depth_snapshot);
  EXPECT_EQ(f.msg.snapshot.last_update_id, 1000u);
  EXPECT_TRUE(f.msg.snapshot.has_checksum);
  EXPECT_EQ(f.msg.snapshot.checksum, 123);
  EXPECT_EQ(f.msg.snapshot.asks[0], lv(9620, 10));
  EXPECT_EQ(f.msg.snapshot.bids[0], lv(9610, 5));
  EXPECT_TRUE(f.msg.depth.bids.empty());
  ASSERT_TRUE(
      f.parse(book_msg("books", "update", R"("asks":[],"bids":[],"ts":"2","checksum":0,"prevSeqId":1000,"seqId":1003)"))
          .ok());
  EXPECT_EQ(f.msg.kind, MdKind::depth_update);
  EXPECT_EQ(f.msg.depth.first_id, 1003u);
  EXPECT_EQ(f.msg.depth.last_id, 1003u);
  EXPECT_TRUE(f.msg.depth.has_prev);
  EXPECT_EQ(f.msg.depth.prev_last_id, 1000u);
  EXPECT_FALSE(f.msg.depth.has_checksum) << "checksum 0: OKX no longer computes it";
  // Field order does not matter; unknown fields are skipped.
  ASSERT_TRUE(f.parse(R"({"data":[{"seqId":7,"x":"y","ts":"3","bids":[],"prevSeqId":6,"asks":[["1","2"]]}],)"
                      R"("action":"update","arg":{"instId":"BTC-USDT","uid":"1","channel":"books50-l2-tbt"}})")
                  .ok());
  EXPECT_EQ(f.msg.kind, MdKind::depth_update);
  EXPECT_EQ(f.msg.symbol.view(), "BTC-USDT");
  EXPECT_EQ(f.msg.depth.asks[0], lv(1000, 2)) << "a level of two elements is enough";
  EXPECT_EQ(f.msg.depth.prev_last_id, 6u);
}

TEST(OkxParser, WholeTopChannelsAreSnapshots) {
  Fixture f;
  const std::string fields = R"("asks":[["9.62","10","0","1"]],"bids":[],"instId":"UNI-USD-SWAP","ts":"5","seqId":9)";
  ASSERT_TRUE(f.parse(book_msg("books5", "", fields)).ok());
  EXPECT_EQ(f.msg.kind, MdKind::depth_snapshot);
  EXPECT_EQ(f.msg.stream, "books5");
  EXPECT_EQ(f.msg.snapshot.last_update_id, 9u);
  EXPECT_FALSE(f.msg.snapshot.has_checksum);
  ASSERT_TRUE(
      f.parse(book_msg("bbo-tbt", "", R"("asks":[["9.62","10","0","1"]],"bids":[["9.6","1","0","1"]],"ts":"5")")).ok());
  EXPECT_EQ(f.msg.kind, MdKind::depth_snapshot);
  EXPECT_EQ(f.msg.snapshot.bids[0], lv(9600, 1));
  ASSERT_TRUE(f.parse(book_msg("bbo-tbt", "snapshot", R"("asks":[],"bids":[],"ts":"5")")).ok());
  const ParseResult r = f.parse(book_msg("books5", "update", R"("asks":[],"bids":[],"ts":"5")"));
  EXPECT_EQ(r.status, ParseStatus::unknown_event);
  EXPECT_STREQ(r.field, "action");
}

TEST(OkxParser, TradesOneAndSeveral) {
  Fixture f(Scale::from_step("0.00000001"), Scale::from_step("0.00000001"));
  ASSERT_TRUE(f.parse(R"({"arg":{"channel":"trades","instId":"PROPS-ETH"},)"
                      R"("data":[{"instId":"PROPS-ETH","tradeId":"47220",)"
                      R"("px":"0.00000166","sz":"637.04056847","side":"sell","ts":"1645999995692"}]})")
                  .ok());
  EXPECT_EQ(f.msg.kind, MdKind::trade);
  EXPECT_EQ(f.msg.trade.id, 47220u);
  EXPECT_EQ(f.msg.trade.price.raw(), 166);
  EXPECT_EQ(f.msg.trade.qty.raw(), 63704056847);
  EXPECT_TRUE(f.msg.trade.buyer_is_maker) << "the aggressor sold";
  EXPECT_EQ(f.msg.venue_time_ns, 1645999995692LL * 1'000'000);
  EXPECT_EQ(f.msg.transact_time_ns, f.msg.venue_time_ns);
  EXPECT_EQ(f.parser.trades_left(), 0u);
  EXPECT_FALSE(f.parser.next_trade(f.msg));
  ASSERT_TRUE(f.parse(R"({"arg":{"channel":"trades-all","instId":"X"},"data":[)"
                      R"({"tradeId":"1","px":"1","sz":"2","side":"buy","ts":"10","count":"3","source":"0"},)"
                      R"({"tradeId":"2","px":"1.5","sz":"3","side":"sell","ts":"11"},)"
                      R"({"tradeId":"3","px":"2","sz":"0.00000001","side":"buy","ts":"12"}]})")
                  .ok());
  EXPECT_EQ(f.msg.trade.id, 1u);
  EXPECT_FALSE(f.msg.trade.buyer_is_maker);
  EXPECT_EQ(f.parser.trades_left(), 2u);
  ASSERT_TRUE(f.parser.next_trade(f.msg));
  EXPECT_EQ(f.msg.trade.id, 2u);
  EXPECT_EQ(f.msg.trade.price.raw(), 150000000);
  EXPECT_TRUE(f.msg.trade.buyer_is_maker);
  EXPECT_EQ(f.msg.venue_time_ns, 11'000'000);
  ASSERT_TRUE(f.parser.next_trade(f.msg));
  EXPECT_EQ(f.msg.trade.id, 3u);
  EXPECT_EQ(f.msg.trade.qty.raw(), 1);
  EXPECT_EQ(f.msg.symbol.view(), "X");
  EXPECT_FALSE(f.parser.next_trade(f.msg));
  EXPECT_EQ(f.parser.trades_left(), 0u);
  // One bad element fails the message, and nothing is kept.
  const ParseResult r = f.parse(R"({"arg":{"channel":"trades","instId":"X"},"data":[)"
                                R"({"tradeId":"1","px":"1","sz":"2","side":"buy","ts":"10"},)"
                                R"({"tradeId":"2","px":"1","sz":"2","ts":"11"}]})");
  EXPECT_EQ(r.status, ParseStatus::missing_field);
  EXPECT_STREQ(r.field, "side");
  EXPECT_EQ(f.parser.trades_left(), 0u);
  // More than kMaxTrades.
  std::string many = R"({"arg":{"channel":"trades","instId":"X"},"data":[)";
  for (std::size_t i = 0; i <= MdParser::kMaxTrades; ++i)
    many += std::string(i ? "," : "") + R"({"tradeId":"1","px":"1","sz":"2","side":"buy","ts":"10"})";
  const ParseResult r2 = f.parse(many + "]}");
  EXPECT_EQ(r2.status, ParseStatus::too_many_levels);
  EXPECT_STREQ(r2.field, "data");
}

struct Bad {
  std::string json;
  ParseStatus status;
  const char* field;
  FixedStatus detail = FixedStatus::ok;
};

TEST(OkxParser, BadInputNamesTheField) {
  const std::string ok_fields = R"("asks":[],"bids":[],"ts":"1")";
  const std::vector<Bad> cases = {
      {"[1,2]", ParseStatus::not_object, ""},
      {R"({"arg":{"channel":"books-l2-tbt","instId":"X"},"action":"update","data":[{"asks":[)", ParseStatus::json_error,
       ""},
      {"{", ParseStatus::json_error, ""},
      {R"({"event":"error","code":"60012","msg":"Invalid request"})", ParseStatus::unknown_event, "event"},
      {R"({"event":"subscribe","arg":{"channel":"books","instId":"X"}})", ParseStatus::unknown_event, "event"},
      {R"({"data":[{}]})", ParseStatus::missing_field, "arg"},
      {R"({"arg":{"instId":"X"},"data":[{}]})", ParseStatus::missing_field, "channel"},
      {R"({"arg":{"channel":"books"},"data":[{}]})", ParseStatus::missing_field, "instId"},
      {R"({"arg":"books","data":[{}]})", ParseStatus::wrong_type, "arg"},
      {R"({"arg":{"channel":7,"instId":"X"},"data":[]})", ParseStatus::wrong_type, "channel"},
      {R"({"arg":{"channel":"tickers","instId":"X"},"data":[{"last":"1"}]})", ParseStatus::unknown_event, "channel"},
      {R"({"arg":{"channel":"books","instId":"X"},"action":"update"})", ParseStatus::missing_field, "data"},
      {R"({"arg":{"channel":"books","instId":"X"},"action":"update","data":[]})", ParseStatus::missing_field, "data"},
      {R"({"arg":{"channel":"books","instId":"X"},"action":"update","data":{}})", ParseStatus::wrong_type, "data"},
      {R"({"arg":{"channel":"books","instId":"X"},"action":"update","data":[1]})", ParseStatus::not_object, "data"},
      {R"({"arg":{"channel":"books","instId":"X"},"action":"update","data":[{)" + ok_fields + "},{" + ok_fields + "}]}",
       ParseStatus::unknown_event, "data"},
      {book_msg("books", "update", R"("bids":[],"ts":"1")"), ParseStatus::missing_field, "asks"},
      {book_msg("books", "update", R"("asks":[],"ts":"1")"), ParseStatus::missing_field, "bids"},
      {book_msg("books", "update", R"("asks":[],"bids":[])"), ParseStatus::missing_field, "ts"},
      {book_msg("books", "", ok_fields), ParseStatus::missing_field, "action"},
      {book_msg("books", "partial", ok_fields), ParseStatus::unknown_event, "action"},
      {book_msg("books", "update", R"("asks":{},"bids":[],"ts":"1")"), ParseStatus::wrong_type, "asks"},
      {book_msg("books", "update", R"("asks":[],"bids":"x","ts":"1")"), ParseStatus::wrong_type, "bids"},
      {book_msg("books", "update", R"("asks":[],"asks":[],"bids":[],"ts":"1")"), ParseStatus::wrong_type, "asks"},
      {book_msg("books", "update", R"("asks":["1"],"bids":[],"ts":"1")"), ParseStatus::bad_level, "asks"},
      {book_msg("books", "update", R"("asks":[["1"]],"bids":[],"ts":"1")"), ParseStatus::bad_level, "asks"},
      {book_msg("books", "update", R"("asks":[[1,"2"]],"bids":[],"ts":"1")"), ParseStatus::bad_level, "asks"},
      {book_msg("books", "update", R"("asks":[],"bids":[["1","2.5"]],"ts":"1")"), ParseStatus::bad_number, "bids",
       FixedStatus::off_grid},
      {book_msg("books", "update", R"("asks":[],"bids":[["1.0001","2"]],"ts":"1")"), ParseStatus::bad_number, "bids",
       FixedStatus::off_grid},
      {book_msg("books", "update", R"("asks":[],"bids":[["-1","2"]],"ts":"1")"), ParseStatus::bad_number, "bids",
       FixedStatus::negative},
      {book_msg("books", "update", R"("asks":[],"bids":[["","2"]],"ts":"1")"), ParseStatus::bad_number, "bids",
       FixedStatus::empty},
      {book_msg("books", "update", R"("asks":[],"bids":[["1","99999999999999999999"]],"ts":"1")"),
       ParseStatus::bad_number, "bids", FixedStatus::overflow},
      {book_msg("books", "update", R"("asks":[],"bids":[["1e3","2"]],"ts":"1")"), ParseStatus::bad_number, "bids",
       FixedStatus::bad_format},
      {book_msg("books", "update", R"("asks":[],"bids":[],"ts":1)"), ParseStatus::wrong_type, "ts"},
      {book_msg("books", "update", R"("asks":[],"bids":[],"ts":"17x")"), ParseStatus::bad_number, "ts",
       FixedStatus::bad_format},
      {book_msg("books", "update", R"("asks":[],"bids":[],"ts":"")"), ParseStatus::bad_number, "ts",
       FixedStatus::empty},
      {book_msg("books", "update", R"("asks":[],"bids":[],"ts":"99999999999999999999")"), ParseStatus::bad_number, "ts",
       FixedStatus::overflow},
      {book_msg("books", "update", ok_fields + R"(,"checksum":"5")"), ParseStatus::wrong_type, "checksum"},
      {book_msg("books", "update", ok_fields + R"(,"checksum":2147483648)"), ParseStatus::wrong_type, "checksum"},
      {book_msg("books", "update", ok_fields + R"(,"checksum":1.5)"), ParseStatus::wrong_type, "checksum"},
      {book_msg("books", "update", ok_fields + R"(,"seqId":-3)"), ParseStatus::wrong_type, "seqId"},
      {book_msg("books", "update", ok_fields + R"(,"prevSeqId":-2)"), ParseStatus::wrong_type, "prevSeqId"},
      {book_msg("books", "update", ok_fields, std::string(40, 'X')), ParseStatus::wrong_type, "instId"},
      {R"({"arg":{"channel":"trades","instId":"X"},"data":[{"px":"1","sz":"2","side":"buy","ts":"10"}]})",
       ParseStatus::missing_field, "tradeId"},
      {R"({"arg":{"channel":"trades","instId":"X"},"data":[{"tradeId":"1","sz":"2","side":"buy","ts":"10"}]})",
       ParseStatus::missing_field, "px"},
      {R"({"arg":{"channel":"trades","instId":"X"},"data":[{"tradeId":"1","px":"1","side":"buy","ts":"10"}]})",
       ParseStatus::missing_field, "sz"},
      {R"({"arg":{"channel":"trades","instId":"X"},"data":[{"tradeId":"1","px":"1","sz":"2","side":"buy"}]})",
       ParseStatus::missing_field, "ts"},
      {R"({"arg":{"channel":"trades","instId":"X"},"data":[{"tradeId":"1","px":"1","sz":"2","side":"hold","ts":"1"}]})",
       ParseStatus::wrong_type, "side"},
      {R"({"arg":{"channel":"trades","instId":"X"},"data":[{"tradeId":12,"px":"1","sz":"2","side":"buy","ts":"1"}]})",
       ParseStatus::wrong_type, "tradeId"},
      {R"({"arg":{"channel":"trades","instId":"X"},"data":[{"tradeId":"1a","px":"1","sz":"2","side":"buy","ts":"1"}]})",
       ParseStatus::bad_number, "tradeId", FixedStatus::bad_format},
      {R"({"arg":{"channel":"trades","instId":"X"},)"
       R"("data":[{"tradeId":"1","px":"1.0005","sz":"2","side":"buy","ts":"1"}]})",
       ParseStatus::bad_number, "px", FixedStatus::off_grid},
      {R"({"arg":{"channel":"trades","instId":"X"},"data":[{"tradeId":"1","px":"1","sz":"-2","side":"buy","ts":"1"}]})",
       ParseStatus::bad_number, "sz", FixedStatus::negative},
      {book_msg("books", "update", ok_fields) + "x", ParseStatus::json_error, ""},
      // Malformed where simdjson On-Demand would skip without looking (the fuzzer's finds): errors, not messages.
      {R"({"arg":{"channel":"books","instId":"U":"books"},"action":"update","data":[{)" + ok_fields + "}]}",
       ParseStatus::json_error, "arg"},
      {R"({"arg":{"channel":"books","instId":"U"},"x":"y":"z","action":"update","data":[{)" + ok_fields + "}]}",
       ParseStatus::json_error, ""},
      {book_msg("books", "update", R"("asks":[],"bids":[["1","2","0":"4"]],"ts":"1")"), ParseStatus::json_error,
       "bids"},
      {book_msg("books", "update", ok_fields + R"(,"count":[1,{"a":2:3}])"), ParseStatus::json_error, "data"},
      {book_msg("books", "update", ok_fields) + " {}", ParseStatus::trailing_content, ""},
  };
  Fixture f;
  for (const Bad& c : cases) {
    const ParseResult r = f.parse(c.json);
    EXPECT_EQ(r.status, c.status) << c.json << " -> " << r.describe();
    EXPECT_STREQ(r.field, c.field) << c.json << " -> " << r.describe();
    if (c.status == ParseStatus::bad_number) {
      EXPECT_EQ(static_cast<FixedStatus>(r.detail), c.detail) << c.json << " -> " << r.describe();
    }
  }
  EXPECT_EQ(f.parser.stats().messages, cases.size());
  EXPECT_EQ(f.parser.stats().errors(), cases.size());
  const auto missing = std::count_if(cases.begin(), cases.end(),
                                     [](const Bad& c) { return c.status == ParseStatus::missing_field; });
  EXPECT_EQ(f.parser.stats().by_status[static_cast<std::size_t>(ParseStatus::missing_field)],
            static_cast<std::size_t>(missing));
  EXPECT_EQ(std::string(f.parse(cases[3].json).describe()), "unknown_event: field 'event'");
}

TEST(OkxParser, TooManyLevelsAndTooLarge) {
  MdParser p(Scale::from_step("1"), Scale::from_step("1"), 256);
  std::vector<Level> two(2);
  MdMessage m;
  const std::string three = book_msg("books", "update", R"("asks":[["1","1"],["2","1"],["3","1"]],"bids":[],"ts":"1")");
  ParseResult r = p.parse_unpadded(three, 0, m, two);
  EXPECT_EQ(r.status, ParseStatus::too_many_levels);
  EXPECT_STREQ(r.field, "asks");
  r = p.parse_unpadded(std::string(300, ' '), 0, m, two);
  EXPECT_EQ(r.status, ParseStatus::too_large);
}

// Both readers, padded and unpadded: same status, field, detail and message.
void expect_same(const std::string& json, MdParser& fast, MdParser& slow, std::vector<Level>& l1,
                 std::vector<Level>& l2) {
  std::string buf = json;
  buf.resize(json.size() + kJsonPadding, '\0');
  const std::string_view text(buf.data(), json.size());
  MdMessage a, b, c;
  const ParseResult ra = fast.parse(text, buf.size(), 1, a, l1);
  const std::size_t ta = fast.trades_left();
  const ParseResult rb = slow.parse(text, buf.size(), 1, b, l2);
  ASSERT_EQ(ra.status, rb.status) << json << "\nfast: " << ra.describe() << "\nslow: " << rb.describe();
  ASSERT_STREQ(ra.field, rb.field) << json;
  ASSERT_EQ(ra.detail, rb.detail) << json;
  if (ra.ok()) {
    ASSERT_TRUE(same_content(a, b)) << json;
    ASSERT_EQ(ta, slow.trades_left()) << json;
    while (fast.next_trade(a)) {
      ASSERT_TRUE(slow.next_trade(b));
      ASSERT_TRUE(same_content(a, b)) << json;
    }
  }
  // Unpadded, in place: the fast scanner needs no padding, a declined message is copied.
  std::vector<Level> l3(l1.size());
  const ParseResult rc = fast.parse_unpadded(json, 1, c, l3);
  ASSERT_EQ(rc.status, rb.status) << json;
  if (rc.ok()) {
    ASSERT_TRUE(same_content(c, b)) << json;
  }
}

// The received JSON of every line of the recording (events, tickers and all).
std::vector<std::string> recorded_messages() {
  std::vector<std::string> out;
  for (const std::string& line : read_recorded_lines(data_file())) {
    const std::size_t at = line.find(": {");
    if (at != std::string::npos && line.find(" <- ") == std::string::npos) out.push_back(line.substr(at + 2));
  }
  return out;
}

TEST(OkxParserFastPath, AgreesWithSimdjsonOnEveryRecordedMessage) {
  REQUIRE_DATA();
  const std::vector<std::string> msgs = recorded_messages();
  ASSERT_GT(msgs.size(), 3700u);
  // Every instrument's scales, as the replay infers them.
  std::vector<std::string_view> views;
  const std::vector<std::string> lines = read_recorded_lines(data_file());
  for (const std::string& l : lines) views.emplace_back(l);
  const std::vector<InstrumentSpec> specs = scan_instruments(views);
  ASSERT_EQ(specs.size(), 10u);
  std::vector<Level> l1(1u << 14), l2(1u << 14);
  std::uint64_t ok = 0;
  for (const InstrumentSpec& s : specs) {
    MdParser fast(s.price, s.qty), slow(s.price, s.qty);
    slow.set_fast_path(false);
    for (const std::string& m : msgs) {
      if (m.find("\"instId\":\"" + s.inst_id + "\"") == std::string::npos) continue;
      expect_same(m, fast, slow, l1, l2);
      if (HasFatalFailure()) return;
    }
    ok += slow.stats().by_status[0];
    EXPECT_EQ(fast.stats().fallbacks, fast.stats().errors())
        << s.inst_id << ": only the messages it rejects go to simdjson";
  }
  EXPECT_EQ(ok, 20u + 3659u + 19u) << "every book and trade message of the recording parses";
}

TEST(OkxParserFastPath, AgreesWithSimdjsonOnDamagedMessages) {
  REQUIRE_DATA();
  const std::vector<std::string> msgs = recorded_messages();
  const Scale ps = Scale::with_decimals(11), qs = Scale::with_decimals(8);
  MdParser fast(ps, qs), slow(ps, qs);
  slow.set_fast_path(false);
  std::vector<Level> l1(1u << 14), l2(1u << 14);
  std::mt19937_64 rng(11);
  const std::string alphabet = "{}[]\",:0123456789.-e \\abx";
  std::size_t n = 0;
  for (std::size_t i = 0; i < msgs.size(); i += 7) {
    const std::string& m = msgs[i];
    // Every truncation of short messages, some of the long ones.
    for (std::size_t cut = 0; cut < m.size(); cut += m.size() < 400 ? 1 : 1 + m.size() / 50) {
      expect_same(m.substr(0, cut), fast, slow, l1, l2);
      if (HasFatalFailure()) return;
      ++n;
    }
    // Bytes replaced, inserted, deleted.
    for (int k = 0; k < 40; ++k) {
      std::string d = m;
      const std::size_t at = rng() % d.size();
      const char c = alphabet[rng() % alphabet.size()];
      switch (rng() % 3) {
        case 0: d[at] = c; break;
        case 1: d.insert(d.begin() + static_cast<std::ptrdiff_t>(at), c); break;
        default: d.erase(at, 1); break;
      }
      expect_same(d, fast, slow, l1, l2);
      if (HasFatalFailure()) return;
      ++n;
    }
  }
  EXPECT_GT(n, 20000u);
  EXPECT_GT(fast.stats().by_status[0], 100u) << "some damaged messages still parse";
}

// ---- the checksum's text ------------------------------------------------------------------------------

TEST(OkxChecksum, ShortestDecimalEqualsFormatFixedWithoutTrailingZeros) {
  std::mt19937_64 rng(5);
  char a[kMaxFixedText + 8], b[kMaxFixedText + 8];
  for (int i = 0; i < 300000; ++i) {
    const int d = static_cast<int>(rng() % 19);
    const Scale s = i % 10 == 0 ? Scale::from_step(i % 20 == 0 ? "0.5" : "25") : Scale::with_decimals(d);
    auto raw = static_cast<std::int64_t>(rng() >> (rng() % 64));
    if (rng() & 1) raw = -raw;
    if (i < 1000) raw = i - 500;
    if (i == 1000) raw = INT64_MIN;
    if (i == 1001) raw = INT64_MAX;
    const std::size_t na = shortest_decimal(raw, s, a);
    std::size_t nb = format_fixed(raw, s, b);
    if (s.decimals() > 0) {
      while (b[nb - 1] == '0') --nb;
      if (b[nb - 1] == '.') --nb;
    }
    ASSERT_EQ(std::string(a, na), std::string(b, nb)) << raw << " at " << s.step_string();
  }
  const Scale s8 = Scale::with_decimals(8);
  EXPECT_EQ(std::string(a, shortest_decimal(460, s8, a)), "0.0000046");
  EXPECT_EQ(std::string(a, shortest_decimal(44100000000, s8, a)), "441");
  EXPECT_EQ(std::string(a, shortest_decimal(0, s8, a)), "0");
  EXPECT_EQ(std::string(a, shortest_decimal(-150000000, s8, a)), "-1.5");
}

TEST(OkxChecksum, TextInterleavesTheTop25) {
  const Scale ps = Scale::from_step("0.1"), qs = Scale::from_step("1");
  std::vector<Level> bids, asks;
  for (int i = 0; i < 30; ++i) bids.push_back(lv(1000 - i, 1 + i));
  asks.push_back(lv(1001, 7));
  asks.push_back(lv(1002, 8));
  char buf[kChecksumTextCapacity];
  const std::string text(buf, checksum_text(bids, asks, ps, qs, buf));
  EXPECT_TRUE(text.starts_with("100:1:100.1:7:99.9:2:100.2:8:99.8:3:99.7:4:")) << text;
  EXPECT_TRUE(text.ends_with(":97.6:25")) << "25 bids, not 30: " << text;
  const auto crc =
      static_cast<std::int32_t>(crc32(0, reinterpret_cast<const Bytef*>(text.data()), static_cast<uInt>(text.size())));
  EXPECT_EQ(book_checksum(bids, asks, ps, qs), crc);
}

TEST(OkxChecksum, WriterRemembersNumbersAndGivesTheSameChecksums) {
  std::mt19937_64 rng(9);
  for (const char* step : {"0.1", "0.00000000001", "1", "0.5"}) {
    const Scale ps = Scale::from_step(step), qs = Scale::from_step("0.001");
    ChecksumWriter w(ps, qs);
    std::vector<Level> bids, asks;
    char a[kChecksumTextCapacity], b[kChecksumTextCapacity];
    for (int i = 0; i < 3000; ++i) {
      // Books that change a little each time (the writer's case), and now and then a different one; values
      // that collide in its table (equal modulo nothing in particular), zeros and large values.
      if (i % 100 == 0 || bids.empty()) {
        bids.clear();
        asks.clear();
        const auto n = rng() % 40;
        for (std::size_t k = 0; k < n; ++k) {
          const auto gap = static_cast<std::int64_t>(k * (1 + rng() % 3));
          bids.push_back(lv(1'000'000 - gap, static_cast<std::int64_t>(rng() % 10'000'000)));
          asks.push_back(lv(1'000'001 + gap, static_cast<std::int64_t>(rng() >> (rng() % 64))));
        }
      } else if (!bids.empty()) {
        bids[rng() % bids.size()].qty = Qty(static_cast<std::int64_t>(rng() % 1000));
        if (!asks.empty()) asks[rng() % asks.size()].qty = Qty(static_cast<std::int64_t>(rng() >> 20));
      }
      ASSERT_EQ(w.checksum(bids, asks), book_checksum(bids, asks, ps, qs)) << step << " " << i;
      const std::size_t na = w.text(bids, asks, a), nb = checksum_text(bids, asks, ps, qs, b);
      ASSERT_EQ(std::string(a, na), std::string(b, nb)) << step << " " << i;
    }
  }
}

// ---- stream helpers ------------------------------------------------------------------------------------

TEST(OkxStream, ClassifiesEveryKindOfMessage) {
  Classified c = classify(R"({"arg":{"channel":"books-l2-tbt","instId":"UNI-USD-SWAP"},"action":"update","data":[]})");
  EXPECT_EQ(c.type, MessageType::book);
  EXPECT_EQ(c.channel, "books-l2-tbt");
  EXPECT_EQ(c.inst_id, "UNI-USD-SWAP");
  c = classify(R"({"arg":{"channel":"trades","instId":"ZEN-USDT"},"data":[{"px":"1"}]})");
  EXPECT_EQ(c.type, MessageType::trade);
  EXPECT_EQ(c.inst_id, "ZEN-USDT");
  c = classify(R"({"arg":{"channel":"tickers","instId":"ZEN-USDT"},"data":[{"last":"1"}]})");
  EXPECT_EQ(c.type, MessageType::other_channel);
  EXPECT_EQ(c.channel, "tickers");
  // Other layouts: walked member by member.
  c = classify(
      R"( { "data" : [ {"asks":[["1","2"]],"x":"}]"} ], "arg" : { "instId" : "A\"B", "channel" : "books5" } } )");
  EXPECT_EQ(c.type, MessageType::book);
  EXPECT_EQ(c.inst_id, R"(A\"B)") << "as sent: escapes are not decoded";
  c = classify(R"({"arg":{"channel":"bbo-tbt","instId":"X","instType":"SPOT"},"data":[]})");
  EXPECT_EQ(c.type, MessageType::book);
  EXPECT_EQ(c.inst_id, "X");
  // Events.
  c = classify(R"({"event":"subscribe","arg":{"channel":"books-l2-tbt","instId":"PROPS-ETH"},"connId":"a"})");
  EXPECT_EQ(c.type, MessageType::event);
  EXPECT_EQ(c.event, EventType::subscribe);
  EXPECT_EQ(c.channel, "books-l2-tbt");
  EXPECT_EQ(c.inst_id, "PROPS-ETH");
  c = classify(R"({"event":"unsubscribe","arg":{"channel":"trades","instId":"X"}})");
  EXPECT_EQ(c.event, EventType::unsubscribe);
  c = classify(R"({"event":"error","code":"60012","msg":"Invalid request: {\"op\": \"subscribe\"}","connId":"b"})");
  EXPECT_EQ(c.type, MessageType::event);
  EXPECT_EQ(c.event, EventType::error);
  EXPECT_EQ(c.code, "60012");
  EXPECT_EQ(c.msg, R"(Invalid request: {\"op\": \"subscribe\"})");
  c = classify(R"({"event":"error","code":60018,"msg":"x"})");
  EXPECT_EQ(c.code, "60018") << "a number's text";
  c = classify(R"({"event":"notice","code":"64008","msg":"The connection will soon be closed for an upgrade."})");
  EXPECT_EQ(c.event, EventType::notice);
  c = classify(R"({"event":"channel-conn-count","channel":"orders","connCount":"2"})");
  EXPECT_EQ(c.event, EventType::other);
  EXPECT_EQ(c.event_name, "channel-conn-count");
  // pong, and the rest.
  EXPECT_EQ(classify("pong").type, MessageType::pong);
  EXPECT_EQ(classify(" pong\r\n").type, MessageType::pong);
  for (const char* s : {"", "ping", "{", "{}", "[1]", R"({"arg":{"channel":"books"}})", R"({"data":[]})",
                        R"({"arg":{"channel":"books","instId":"X"})",
                        R"({"arg":{"channel":"books","instId":"X"},"data")",
                        R"({"arg":{"channel":"bo)"})
    EXPECT_EQ(classify(s).type, MessageType::other) << s;
  // The rest of a data message is the parser's to check: a truncated one is still routed.
  EXPECT_EQ(classify(R"({"arg":{"channel":"books","instId":"X"},"data":[)").type, MessageType::book);
  EXPECT_EQ(channel_type("books50-l2-tbt"), MessageType::book);
  EXPECT_EQ(channel_type("trades-all"), MessageType::trade);
  EXPECT_EQ(channel_type("candle1m"), MessageType::other_channel);
}

TEST(OkxStream, EveryRecordedLineIsClassified) {
  REQUIRE_DATA();
  std::map<MessageType, int> n;
  for (const std::string& m : recorded_messages()) {
    const Classified c = classify(m);
    ++n[c.type];
    if (c.type == MessageType::book || c.type == MessageType::trade) {
      // The prefix reader and the walk agree (the walk sees the text with a space in front).
      const std::string spaced = " " + m;
      const Classified w = classify(spaced);
      EXPECT_EQ(w.type, c.type);
      EXPECT_EQ(w.channel, c.channel);
      EXPECT_EQ(w.inst_id, c.inst_id);
    }
  }
  EXPECT_EQ(n[MessageType::book], 3679);
  EXPECT_EQ(n[MessageType::trade], 19);
  EXPECT_EQ(n[MessageType::other_channel], 19);
  EXPECT_EQ(n[MessageType::event], 60);
  EXPECT_EQ(n[MessageType::other], 0);
}

TEST(OkxStream, SubscriptionEncoders) {
  char buf[512];
  const ChannelArg args[] = {{"books-l2-tbt", "BTC-USDT"}, {"trades", "BTC-USDT"}};
  std::size_t n = encode_subscribe(args, buf);
  EXPECT_EQ(std::string(buf, n),
            R"({"op":"subscribe","args":[{"channel":"books-l2-tbt","instId":"BTC-USDT"},)"
            R"({"channel":"trades","instId":"BTC-USDT"}]})");
  n = encode_unsubscribe(std::span<const ChannelArg>(args, 1), buf);
  EXPECT_EQ(std::string(buf, n), R"({"op":"unsubscribe","args":[{"channel":"books-l2-tbt","instId":"BTC-USDT"}]})");
  n = encode_resubscribe(BookChannel::books50_l2_tbt, "ETH-USD-220624-20000-C", buf);
  EXPECT_EQ(std::string(buf, n),
            R"({"op":"subscribe","args":[{"channel":"books50-l2-tbt","instId":"ETH-USD-220624-20000-C"}]})");
  // Does not fit: 0, at every size short of the message.
  const std::size_t full = encode_subscribe(args, buf);
  for (std::size_t cap = 0; cap < full; ++cap) EXPECT_EQ(encode_subscribe(args, std::span<char>(buf, cap)), 0u) << cap;
  EXPECT_EQ(encode_subscribe(args, std::span<char>(buf, full)), full);
  // Nothing that would need escaping, no empty names, no empty list.
  const ChannelArg quote[] = {{"books", "A\"B"}};
  const ChannelArg backslash[] = {{"bo\\oks", "A"}};
  const ChannelArg control[] = {{"books", "A\nB"}};
  const ChannelArg empty[] = {{"books", ""}};
  for (const auto* a : {quote, backslash, control, empty})
    EXPECT_EQ(encode_subscribe(std::span<const ChannelArg>(a, 1), buf), 0u);
  EXPECT_EQ(encode_subscribe({}, buf), 0u);
  // The answer to a subscription is classified as its event.
  EXPECT_EQ(
      classify(R"({"event":"subscribe","arg":{"channel":"books50-l2-tbt","instId":"ETH-USD-220624-20000-C"}})").inst_id,
      "ETH-USD-220624-20000-C");
}

// ---- book sync -----------------------------------------------------------------------------------------

// Messages built directly (the parser's output), levels in steps of 0.1 / 1.
struct SyncRig {
  Scale ps = Scale::from_step("0.1"), qs = Scale::from_step("1");
  book::L2Book book{64, book::CrossedPolicy::keep_and_flag, 10};
  BookSync sync{book, ps, qs, book::SyncConfig{16, 1024, 1'000'000'000, 5'000'000'000}};
  std::vector<book::SyncTransition> transitions;
  std::vector<std::int64_t> requests;
  std::vector<Level> bids, asks;
  MdMessage m;
  SyncRig() {
    sync.on_transition([this](const book::SyncTransition& t) { transitions.push_back(t); });
    sync.on_snapshot_request([this](std::int64_t now) { requests.push_back(now); });
  }
  // The checksum of the book the message leaves: `good` the right one, else off by one.
  std::int32_t expected_after(std::span<const Level> b, std::span<const Level> a, bool snapshot) {
    std::map<std::int64_t, std::int64_t, std::greater<>> rb;
    std::map<std::int64_t, std::int64_t> ra;
    if (!snapshot) {
      Level tmp[64];
      for (std::size_t i = 0, n = book.depth(book::Side::bid, tmp); i < n; ++i)
        rb[tmp[i].price.raw()] = tmp[i].qty.raw();
      for (std::size_t i = 0, n = book.depth(book::Side::ask, tmp); i < n; ++i)
        ra[tmp[i].price.raw()] = tmp[i].qty.raw();
    }
    for (const Level& l : b) l.qty.raw() ? void(rb[l.price.raw()] = l.qty.raw()) : void(rb.erase(l.price.raw()));
    for (const Level& l : a) l.qty.raw() ? void(ra[l.price.raw()] = l.qty.raw()) : void(ra.erase(l.price.raw()));
    std::vector<Level> vb, va;
    for (auto [p, q] : rb) vb.push_back(lv(p, q));
    for (auto [p, q] : ra) va.push_back(lv(p, q));
    return book_checksum(vb, va, ps, qs);
  }
  void snapshot(std::vector<Level> b, std::vector<Level> a, std::uint64_t seq, std::int64_t now, bool good = true) {
    bids = std::move(b);
    asks = std::move(a);
    m = MdMessage{};
    m.kind = MdKind::depth_snapshot;
    m.recv_ns = now;
    m.snapshot.bids = bids;
    m.snapshot.asks = asks;
    m.snapshot.last_update_id = seq;
    m.snapshot.has_checksum = true;
    m.snapshot.checksum = expected_after(bids, asks, true) + (good ? 0 : 1);
    sync.on_snapshot(m);
  }
  book::DiffOutcome update(std::vector<Level> b, std::vector<Level> a, std::uint64_t seq, std::int64_t prev,
                           std::int64_t now, bool good = true, bool with_checksum = true) {
    bids = std::move(b);
    asks = std::move(a);
    m = MdMessage{};
    m.kind = MdKind::depth_update;
    m.recv_ns = now;
    m.depth.bids = bids;
    m.depth.asks = asks;
    m.depth.first_id = m.depth.last_id = seq;
    m.depth.has_prev = prev >= 0;
    m.depth.prev_last_id = prev >= 0 ? static_cast<std::uint64_t>(prev) : 0;
    m.depth.has_checksum = with_checksum;
    m.depth.checksum = with_checksum ? expected_after(bids, asks, false) + (good ? 0 : 1) : 0;
    return sync.on_diff(m);
  }
};

TEST(OkxBookSync, UpdatesBeforeTheSnapshotAreDroppedThenChecksumAndSequenceAreChecked) {
  SyncRig r;
  EXPECT_EQ(r.update({lv(100, 1)}, {}, 5, 4, 1), book::DiffOutcome::dropped_old);
  EXPECT_EQ(r.sync.stats().dropped_old, 1u);
  EXPECT_EQ(r.sync.state(), SyncState::awaiting_snapshot);
  r.snapshot({lv(100, 1), lv(99, 2)}, {lv(101, 3)}, 10, 2);
  EXPECT_TRUE(r.sync.synced());
  ASSERT_EQ(r.transitions.size(), 1u);
  EXPECT_EQ(r.transitions[0].reason, SyncReason::snapshot_loaded);
  EXPECT_EQ(r.sync.last_update_id(), 10u);
  EXPECT_TRUE(r.book.top().flags & book::kTopSynced);
  EXPECT_EQ(r.update({lv(100, 5)}, {lv(102, 1)}, 12, 10, 3), book::DiffOutcome::applied);
  EXPECT_EQ(r.book.best_bid(), lv(100, 5));
  EXPECT_EQ(r.sync.stats().checksums_checked, 2u);
  EXPECT_EQ(r.sync.stats().checksum_mismatches, 0u);
  EXPECT_EQ(r.sync.last_update_id(), 12u);
  EXPECT_TRUE(r.requests.empty());
}

TEST(OkxBookSync, SequenceGapHeartbeatAndReset) {
  SyncRig r;
  r.snapshot({lv(100, 1)}, {lv(101, 1)}, 10, 1);
  // Heartbeat: seqId == prevSeqId == the last seqId, no levels.
  EXPECT_EQ(r.update({}, {}, 10, 10, 2), book::DiffOutcome::applied);
  EXPECT_EQ(r.sync.okx_stats().heartbeats, 1u);
  // Reset after maintenance: seqId below prevSeqId; the next continues from it.
  EXPECT_EQ(r.update({lv(100, 2)}, {}, 3, 10, 3), book::DiffOutcome::applied);
  EXPECT_EQ(r.sync.okx_stats().sequence_resets, 1u);
  EXPECT_EQ(r.sync.last_update_id(), 3u);
  EXPECT_EQ(r.update({lv(100, 3)}, {}, 8, 3, 4), book::DiffOutcome::applied);
  EXPECT_EQ(r.sync.stats().gaps, 0u);
  // Gap: prevSeqId is not the last seqId.
  EXPECT_EQ(r.update({lv(100, 4)}, {}, 20, 15, 5), book::DiffOutcome::gap);
  EXPECT_EQ(r.sync.stats().gaps, 1u);
  EXPECT_EQ(r.sync.state(), SyncState::awaiting_snapshot);
  EXPECT_EQ(r.book.best_bid(), lv(100, 3)) << "the gap's update is not applied";
  ASSERT_EQ(r.transitions.size(), 2u);
  EXPECT_EQ(r.transitions[1].reason, SyncReason::gap);
  EXPECT_EQ(r.transitions[1].expected, 8u);
  EXPECT_EQ(r.transitions[1].first_id, 20u);
  ASSERT_EQ(r.requests.size(), 1u) << "a resubscription";
  EXPECT_EQ(r.requests[0], 5);
  EXPECT_FALSE(r.book.top().flags & book::kTopSynced);
  // Dropped until the next snapshot, which resyncs.
  EXPECT_EQ(r.update({lv(100, 9)}, {}, 21, 20, 6), book::DiffOutcome::dropped_old);
  r.snapshot({lv(99, 1)}, {lv(101, 1)}, 30, 7);
  EXPECT_TRUE(r.sync.synced());
  EXPECT_EQ(r.update({lv(99, 2)}, {}, 31, 30, 8), book::DiffOutcome::applied);
  // A recording from before seqId: no prevSeqId, only the checksum.
  SyncRig old;
  old.snapshot({lv(100, 1)}, {lv(101, 1)}, 0, 1);
  EXPECT_EQ(old.update({lv(100, 2)}, {}, 0, -1, 2), book::DiffOutcome::applied);
  EXPECT_EQ(old.sync.stats().gaps, 0u);
}

TEST(OkxBookSync, ChecksumMismatchResubscribesRateLimitedAndAgainOnTimeout) {
  SyncRig r;
  r.snapshot({lv(100, 1)}, {lv(101, 1)}, 0, 1'000);
  EXPECT_EQ(r.update({lv(100, 2)}, {}, 0, -1, 2'000, /*good=*/false), book::DiffOutcome::gap);
  EXPECT_EQ(r.sync.stats().checksum_mismatches, 1u);
  EXPECT_EQ(r.sync.stats().gaps, 1u);
  EXPECT_EQ(r.sync.state(), SyncState::awaiting_snapshot);
  ASSERT_EQ(r.transitions.back().reason, SyncReason::checksum_mismatch);
  EXPECT_EQ(r.transitions.back().expected, static_cast<std::uint32_t>(r.m.depth.checksum));
  ASSERT_EQ(r.requests.size(), 1u);
  // The resubscription's snapshot is itself wrong: asked again, but not before the rate limit allows.
  r.snapshot({lv(100, 1)}, {lv(101, 1)}, 0, 3'000, /*good=*/false);
  EXPECT_EQ(r.sync.stats().checksum_mismatches, 2u);
  EXPECT_EQ(r.requests.size(), 1u);
  EXPECT_EQ(r.sync.stats().requests_deferred, 1u);
  r.sync.poll(1'000'002'000);
  ASSERT_EQ(r.requests.size(), 2u) << "sent once the interval passed";
  // No snapshot for snapshot_timeout_ns: asked again.
  r.sync.poll(7'000'000'000);
  EXPECT_EQ(r.requests.size(), 3u);
  EXPECT_EQ(r.sync.stats().snapshot_timeouts, 1u);
  r.snapshot({lv(100, 1)}, {lv(101, 1)}, 0, 7'100'000'000);
  EXPECT_TRUE(r.sync.synced());
  r.sync.poll(20'000'000'000);
  EXPECT_EQ(r.requests.size(), 3u) << "answered: nothing owed";
  // A reconnect: reset(), then request_again() when the connection is back.
  r.sync.reset(21'000'000'000);
  EXPECT_EQ(r.transitions.back().reason, SyncReason::reset);
  r.sync.request_again(22'000'000'000);
  EXPECT_EQ(r.requests.size(), 4u);
}

TEST(OkxBookSync, DeferredChecksumPublishesFirstAndChecksJustAfter) {
  SyncRig r;
  r.sync.set_defer_checksum(true);
  r.snapshot({lv(100, 1)}, {lv(101, 1)}, 0, 1);
  EXPECT_TRUE(r.sync.checksum_pending());
  EXPECT_EQ(r.sync.stats().checksums_checked, 0u);
  EXPECT_TRUE(r.sync.verify_pending(2));
  EXPECT_EQ(r.sync.stats().checksums_checked, 1u);
  EXPECT_TRUE(r.sync.verify_pending(2)) << "nothing pending";
  // A bad update: applied and published as synced at once (the session acts on it), found out just after.
  EXPECT_EQ(r.update({lv(100, 7)}, {}, 0, -1, 3, /*good=*/false), book::DiffOutcome::applied);
  EXPECT_TRUE(r.book.top().flags & book::kTopSynced);
  EXPECT_EQ(r.book.top().bid_qty, 7);
  EXPECT_FALSE(r.sync.verify_pending(4));
  EXPECT_EQ(r.sync.state(), SyncState::awaiting_snapshot);
  EXPECT_FALSE(r.book.top().flags & book::kTopSynced);
  EXPECT_EQ(r.requests.size(), 1u);
  // A pending check is made before the next message even without verify_pending().
  r.snapshot({lv(100, 1)}, {lv(101, 1)}, 0, 5);
  EXPECT_EQ(r.update({lv(100, 8)}, {}, 0, -1, 6, /*good=*/false), book::DiffOutcome::applied);
  EXPECT_EQ(r.update({lv(100, 9)}, {}, 0, -1, 7), book::DiffOutcome::dropped_old)
      << "the previous one failed its check";
  EXPECT_EQ(r.sync.stats().checksum_mismatches, 2u);
}

// The randomized test: random snapshots and updates (inserts, changes, deletes of present and absent levels,
// far levels, crossing levels, heartbeats) through BasicBookSync, checksums computed from a std::map reference;
// the book equals the reference after every message, and every check passes; a message with a wrong checksum
// is caught, and the next snapshot resyncs.
TEST(OkxBookSync, RandomizedAgainstAMapReference) {
  const Scale ps = Scale::from_step("0.01"), qs = Scale::from_step("0.001");
  book::BasicL2Book<0> b(256, book::CrossedPolicy::keep_and_flag, 8);  // a 256-tick window: far levels happen
  BasicBookSync<book::BasicL2Book<0>> sync(b, ps, qs, book::SyncConfig{16, 1024, 0, 1'000'000'000});
  std::uint64_t requests = 0;
  sync.on_snapshot_request([&](std::int64_t) { ++requests; });
  std::map<std::int64_t, std::int64_t, std::greater<>> rb;
  std::map<std::int64_t, std::int64_t> ra;
  std::mt19937_64 rng(2024);
  const auto price_near = [&](std::int64_t mid) {
    const auto r = rng() % 100;
    if (r < 3) return mid + 3000 + static_cast<std::int64_t>(rng() % 5000);   // far above
    if (r < 6) return std::max<std::int64_t>(1, mid - 3000 - static_cast<std::int64_t>(rng() % 5000));  // far below
    return std::max<std::int64_t>(1, mid + static_cast<std::int64_t>(rng() % 81) - 40);
  };
  const auto reference_checksum = [&] {
    std::vector<Level> vb, va;
    for (auto [p, q] : rb) vb.push_back(lv(p, q));
    for (auto [p, q] : ra) va.push_back(lv(p, q));
    return book_checksum(vb, va, ps, qs);
  };
  const auto expect_equal = [&](int step) {
    ASSERT_EQ(b.bid_count(), rb.size()) << step;
    ASSERT_EQ(b.ask_count(), ra.size()) << step;
    std::vector<Level> vb(rb.size() + 1), va(ra.size() + 1);
    vb.resize(b.depth(book::Side::bid, vb));
    va.resize(b.depth(book::Side::ask, va));
    std::size_t i = 0;
    for (auto [p, q] : rb) ASSERT_EQ(vb[i++], lv(p, q)) << step;
    i = 0;
    for (auto [p, q] : ra) ASSERT_EQ(va[i++], lv(p, q)) << step;
  };
  std::int64_t mid = 10'000;
  std::uint64_t seq = 100, bad = 0, crossed_seen = 0;
  std::vector<Level> bids, asks;
  MdMessage m;
  const int steps = static_cast<int>(test::scaled(20'000));
  for (int step = 0; step < steps; ++step) {
    m = MdMessage{};
    m.recv_ns = step;
    bids.clear();
    asks.clear();
    const bool snapshot = step == 0 || rng() % 500 == 0 || !sync.synced();
    if (rng() % 50 == 0) mid += static_cast<std::int64_t>(rng() % 41) - 20;
    if (snapshot) {
      rb.clear();
      ra.clear();
      const int n = static_cast<int>(rng() % 60);
      for (int i = 0; i < n; ++i) {
        const std::int64_t p = price_near(mid), q = 1 + static_cast<std::int64_t>(rng() % 100'000);
        if (p < mid) rb[p] = q;
        else ra[p] = q;
      }
      for (auto [p, q] : rb) bids.push_back(lv(p, q));
      for (auto [p, q] : ra) asks.push_back(lv(p, q));
      m.kind = MdKind::depth_snapshot;
      m.snapshot.bids = bids;
      m.snapshot.asks = asks;
      m.snapshot.last_update_id = ++seq;
      m.snapshot.has_checksum = true;
      m.snapshot.checksum = reference_checksum();
      sync.on_snapshot(m);
    } else {
      const int n = rng() % 20 == 0 ? 0 : 1 + static_cast<int>(rng() % 12);
      for (int i = 0; i < n; ++i) {
        const bool bid = rng() & 1;
        auto& side = bid ? bids : asks;
        std::int64_t p = price_near(mid);
        const auto kind = rng() % 10;
        std::int64_t q = 1 + static_cast<std::int64_t>(rng() % 100'000);
        if (kind < 3) {  // delete a present level (or an absent one)
          q = 0;
          if (bid && !rb.empty()) p = std::next(rb.begin(), static_cast<std::ptrdiff_t>(rng() % rb.size()))->first;
          if (!bid && !ra.empty()) p = std::next(ra.begin(), static_cast<std::ptrdiff_t>(rng() % ra.size()))->first;
        } else if (kind < 5) {  // change a present level
          if (bid && !rb.empty()) p = rb.begin()->first;
          if (!bid && !ra.empty()) p = ra.begin()->first;
        }
        // (kind >= 5: a new price near the mid, on either side: some cross the book)
        if (std::any_of(side.begin(), side.end(), [p](const Level& l) { return l.price.raw() == p; })) continue;
        side.push_back(lv(p, q));
        if (bid) q ? void(rb[p] = q) : void(rb.erase(p));
        else q ? void(ra[p] = q) : void(ra.erase(p));
      }
      const bool heartbeat = n == 0;
      m.kind = MdKind::depth_update;
      m.depth.bids = bids;
      m.depth.asks = asks;
      m.depth.has_prev = true;
      m.depth.prev_last_id = seq;
      m.depth.first_id = m.depth.last_id = heartbeat ? seq : seq + 1 + rng() % 3;
      seq = m.depth.last_id;
      m.depth.has_checksum = rng() % 10 != 0;  // some without (OKX's 0)
      m.depth.checksum = reference_checksum();
      const bool corrupt = m.depth.has_checksum && rng() % 400 == 0;
      if (corrupt) {
        m.depth.checksum ^= 0x10;
        ++bad;
      }
      const book::DiffOutcome o = sync.on_diff(m);
      ASSERT_EQ(o, corrupt ? book::DiffOutcome::gap : book::DiffOutcome::applied) << step;
      ASSERT_EQ(sync.synced(), !corrupt) << step;
    }
    expect_equal(step);
    if (HasFatalFailure()) return;
    crossed_seen += b.is_crossed();
  }
  EXPECT_EQ(sync.stats().checksum_mismatches, bad);
  EXPECT_EQ(sync.stats().gaps, bad);
  EXPECT_GT(bad, 0u);
  EXPECT_EQ(requests, bad);
  EXPECT_GT(sync.stats().checksums_checked, static_cast<std::uint64_t>(steps) / 2);
  EXPECT_GT(sync.okx_stats().heartbeats, 0u);
  EXPECT_GT(crossed_seen, 0u) << "crossing updates were exercised";
  EXPECT_GT(b.far_levels(book::Side::bid) + b.far_levels(book::Side::ask), 0u) << "far levels were exercised";
}

// ---- replay of the recording ---------------------------------------------------------------------------

// The independent model: std::map books of the strings as sent (keyed by their fixed-point value for order),
// every message applied in file order per instrument, the checksum computed from those strings with zlib.
struct StringModel {
  struct Book {
    std::map<std::int64_t, std::pair<std::string, std::string>, std::greater<>> bids;
    std::map<std::int64_t, std::pair<std::string, std::string>> asks;
  };
  std::map<std::string, Book> books;
  std::uint64_t checked = 0, matched = 0, crossed = 0;
};

TEST(OkxReplay, EveryChecksumOfTheRecordingMatches) {
  REQUIRE_DATA();
  const std::vector<std::string> paths{data_file()};
  const ReplayResult r = replay_files(paths);
  const ReplayStats& s = r.stats;
  EXPECT_EQ(s.parse_errors, 0u) << s.first_parse_error;
  EXPECT_EQ(s.lines, s.messages + s.control_lines + s.skipped_lines + s.parse_errors) << "one bucket a line";
  EXPECT_EQ(s.cryptofeed_lines, s.lines);
  EXPECT_EQ(s.connection_lines, 1u);
  EXPECT_EQ(s.sent_lines, 3u);
  EXPECT_EQ(s.events, 60u);
  EXPECT_EQ(s.skipped[static_cast<std::size_t>(SkipReason::other_channel)], 19u) << "tickers";
  EXPECT_EQ(s.snapshots, 20u);
  EXPECT_EQ(s.updates, 3659u);
  EXPECT_EQ(s.trades, 19u);
  ASSERT_EQ(r.instruments.size(), 10u);
  // Computed by an independent model from the strings as sent.
  StringModel model;
  std::vector<Level> levels(1u << 14);
  for (const std::string& json : recorded_messages()) {
    const Classified c = classify(json);
    if (c.type != MessageType::book) continue;
    const auto spec = std::find_if(r.instruments.begin(), r.instruments.end(),
                                   [&](const InstrumentResult& i) { return i.spec.inst_id == c.inst_id; });
    ASSERT_NE(spec, r.instruments.end());
    MdParser p(spec->spec.price, spec->spec.qty);
    MdMessage m;
    ASSERT_TRUE(p.parse_unpadded(json, 0, m, levels).ok());
    StringModel::Book& b = model.books[std::string(c.inst_id)];
    // The strings of each level, in order: find them in the text.
    const bool snap = m.kind == MdKind::depth_snapshot;
    if (snap) b = StringModel::Book{};
    for (const char* side : {"\"asks\":[", "\"bids\":["}) {
      std::size_t at = json.find(side) + std::strlen(side);
      while (json[at] == '[') {
        const std::size_t p0 = at + 2, p1 = json.find('"', p0), q0 = p1 + 3, q1 = json.find('"', q0);
        const std::string px = json.substr(p0, p1 - p0), sz = json.substr(q0, q1 - q0);
        std::int64_t key = 0;
        ASSERT_EQ(parse_fixed(px, spec->spec.price, key), FixedStatus::ok);
        const bool zero = sz.find_first_not_of("0.") == std::string::npos;
        if (side[1] == 'a') zero ? void(b.asks.erase(key)) : void(b.asks[key] = {px, sz});
        else zero ? void(b.bids.erase(key)) : void(b.bids[key] = {px, sz});
        at = json.find(']', q1) + 1;
        if (json[at] == ',') ++at;
      }
    }
    std::string text;
    auto bi = b.bids.begin();
    auto ai = b.asks.begin();
    for (int i = 0; i < 25; ++i) {
      if (bi != b.bids.end()) text += (text.empty() ? "" : ":") + bi->second.first + ":" + bi->second.second, ++bi;
      if (ai != b.asks.end()) text += (text.empty() ? "" : ":") + ai->second.first + ":" + ai->second.second, ++ai;
    }
    const auto crc = static_cast<std::int32_t>(
        crc32(0, reinterpret_cast<const Bytef*>(text.data()), static_cast<uInt>(text.size())));
    const std::int32_t sent = snap ? m.snapshot.checksum : m.depth.checksum;
    ++model.checked;
    model.matched += crc == sent;
    model.crossed += !b.bids.empty() && !b.asks.empty() && b.bids.begin()->first >= b.asks.begin()->first;
  }
  EXPECT_EQ(model.checked, 3679u);
  EXPECT_EQ(model.matched, model.checked) << "the model reproduces OKX's checksum from the strings as sent";
  EXPECT_EQ(r.sync.checksums_checked, model.checked);
  EXPECT_EQ(r.sync.checksum_mismatches, 0u);
  EXPECT_EQ(r.sync.gaps, 0u);
  EXPECT_EQ(r.sync.snapshot_requests, 0u);
  EXPECT_EQ(r.sync.dropped_old, 0u);
  EXPECT_EQ(model.crossed, 0u);
  std::uint64_t crossed = 0;
  for (const InstrumentResult& i : r.instruments) {
    crossed += i.stats.crossed;
    EXPECT_EQ(i.final_state, SyncState::synced) << i.spec.inst_id;
    EXPECT_EQ(i.sync.checksums_checked, i.stats.snapshots + i.stats.updates) << i.spec.inst_id;
    EXPECT_EQ(i.stats.snapshots, 2u) << i.spec.inst_id << ": subscribed twice, two snapshots";
    EXPECT_EQ(i.spec.book_channel, "books-l2-tbt");
    // The final book equals the model's.
    const StringModel::Book& mb = model.books.at(i.spec.inst_id);
    EXPECT_EQ(i.bid_levels, mb.bids.size()) << i.spec.inst_id;
    EXPECT_EQ(i.ask_levels, mb.asks.size()) << i.spec.inst_id;
    if (!mb.bids.empty()) {
      EXPECT_EQ(i.best_bid.price.raw(), mb.bids.begin()->first) << i.spec.inst_id;
    }
    if (!mb.asks.empty()) {
      EXPECT_EQ(i.best_ask.price.raw(), mb.asks.begin()->first) << i.spec.inst_id;
    }
  }
  EXPECT_EQ(crossed, 0u);
  // Steps inferred from the data: the finest decimals each instrument writes.
  const auto step = [&](const char* id) {
    for (const InstrumentResult& i : r.instruments)
      if (i.spec.inst_id == id) return i.spec.price.step_string() + " " + i.spec.qty.step_string();
    return std::string();
  };
  EXPECT_EQ(step("ELON-USDT"), "0.00000000001 1");
  EXPECT_EQ(step("UNI-USD-SWAP"), "0.001 1");
}

TEST(OkxReplay, DeferredChecksumLinesAndFilesGiveTheSameCounts) {
  REQUIRE_DATA();
  const std::vector<std::string> paths{data_file()};
  const ReplayResult a = replay_files(paths);
  ReplayOptions o;
  o.defer_checksum = true;
  const ReplayResult b = replay_files(paths, o);
  const std::vector<std::string> lines = read_recorded_lines(data_file());
  std::vector<std::string_view> views(lines.begin(), lines.end());
  const ReplayResult c = replay_lines(views);
  for (const ReplayResult* x : {&b, &c}) {
    EXPECT_EQ(x->sync.checksums_checked, a.sync.checksums_checked);
    EXPECT_EQ(x->sync.checksum_mismatches, 0u);
    EXPECT_EQ(x->stats.messages, a.stats.messages);
    EXPECT_EQ(x->sync.level_updates, a.sync.level_updates);
    EXPECT_EQ(x->stats.lines, a.stats.lines);
  }
  // books_only: trades skipped unparsed, the books the same.
  ReplayOptions bo;
  bo.books_only = true;
  const ReplayResult d = replay_files(paths, bo);
  EXPECT_EQ(d.stats.trades, 0u);
  EXPECT_EQ(d.stats.skipped[static_cast<std::size_t>(SkipReason::books_only)], 19u);
  EXPECT_EQ(d.sync.checksums_checked, a.sync.checksums_checked);
  // Given steps: coarser than the data is a parse error per off-grid message, counted per instrument.
  ReplayOptions g;
  g.steps.push_back({"UNI-USD-SWAP", "0.01", ""});
  const ReplayResult e = replay_files(paths, g);
  std::uint64_t uni_errors = 0;
  for (const InstrumentResult& i : e.instruments) {
    if (i.spec.inst_id == "UNI-USD-SWAP") {
      EXPECT_EQ(i.spec.price.step_string(), "0.01");
      uni_errors = i.stats.parse_errors;
    } else {
      EXPECT_EQ(i.stats.parse_errors, 0u) << i.spec.inst_id;
    }
  }
  EXPECT_GT(uni_errors, 0u);
  EXPECT_EQ(e.stats.parse_errors, uni_errors);
  EXPECT_EQ(e.stats.errors_by_status[static_cast<std::size_t>(ParseStatus::bad_number)], uni_errors);
  EXPECT_NE(e.stats.first_parse_error.find("off_grid"), std::string::npos) << e.stats.first_parse_error;
}

// One level of one update corrupted (its size changed, a level then in the top 25): exactly that instrument
// has one checksum mismatch and asks to resubscribe; every other instrument is untouched.
TEST(OkxReplay, OneCorruptedLevelResubscribesExactlyItsInstrument) {
  REQUIRE_DATA();
  std::vector<std::string> lines = read_recorded_lines(data_file());
  std::vector<std::string_view> views(lines.begin(), lines.end());
  const std::vector<InstrumentSpec> specs = scan_instruments(views);
  const std::string victim = "UNI-USD-SWAP";
  // Find an update of the victim, after both its snapshots, whose first bid is at or above the book's 25th bid.
  std::size_t target = 0;
  {
    Replayer rp(specs);
    int snapshots = 0;
    for (std::size_t i = 0; i < lines.size() && target == 0; ++i) {
      const std::string& l = lines[i];
      const bool mine = l.find("\"instId\":\"" + victim + "\"},\"action\"") != std::string::npos;
      if (mine && l.find("\"action\":\"snapshot\"") != std::string::npos) ++snapshots;
      if (mine && snapshots == 2 && l.find("\"action\":\"update\"") != std::string::npos &&
          l.find("\"bids\":[[") != std::string::npos) {
        const Replayer::Instrument& inst = *rp.find(victim);
        Level top[25];
        const std::size_t n = inst.book.depth(book::Side::bid, top);
        const std::size_t at = l.find("\"bids\":[[\"") + 10;
        std::int64_t px = 0;
        if (parse_fixed(l.substr(at, l.find('"', at) - at), inst.spec.price, px) == FixedStatus::ok && n == 25 &&
            px >= top[24].price.raw() && l.find("\",\"0\",\"", at) != std::string::npos)
          target = i;
      }
      (void)rp.feed_line(l, l.size());
    }
  }
  ASSERT_NE(target, 0u);
  // Its first bid's size: one more digit (a valid, different size).
  std::string& l = lines[target];
  const std::size_t size_at = l.find("\",\"", l.find("\"bids\":[[\"") + 10) + 3;
  l.insert(size_at, "1");
  views.assign(lines.begin(), lines.end());
  const ReplayResult clean = [&] {
    const std::vector<std::string> p{data_file()};
    return replay_files(p);
  }();
  const ReplayResult r = replay_lines(views);
  EXPECT_EQ(r.stats.parse_errors, 0u);
  EXPECT_EQ(r.sync.checksum_mismatches, 1u);
  for (std::size_t i = 0; i < r.instruments.size(); ++i) {
    const InstrumentResult& x = r.instruments[i];
    const InstrumentResult& c = clean.instruments[i];
    ASSERT_EQ(x.spec.inst_id, c.spec.inst_id);
    if (x.spec.inst_id == victim) {
      EXPECT_EQ(x.sync.checksum_mismatches, 1u);
      EXPECT_GE(x.sync.snapshot_requests, 1u) << "a resubscription";
      EXPECT_EQ(x.final_state, SyncState::awaiting_snapshot) << "no snapshot of it follows in the recording";
      EXPECT_GT(x.sync.dropped_old, 0u) << "its later updates wait for a snapshot";
      EXPECT_LT(x.sync.checksums_checked, c.sync.checksums_checked);
    } else {
      EXPECT_EQ(x.sync.checksum_mismatches, 0u) << x.spec.inst_id;
      EXPECT_EQ(x.sync.snapshot_requests, 0u) << x.spec.inst_id;
      EXPECT_EQ(x.sync.checksums_checked, c.sync.checksums_checked) << x.spec.inst_id;
      EXPECT_EQ(x.final_state, SyncState::synced) << x.spec.inst_id;
    }
  }
}

TEST(OkxReplay, LineFormatsAndBuckets) {
  const std::vector<InstrumentSpec> specs{{"X", "books-l2-tbt", Scale::from_step("0.1"), Scale::from_step("1")}};
  Replayer rp(specs);
  const std::string snap =
      R"({"arg":{"channel":"books-l2-tbt","instId":"X"},"action":"snapshot",)"
      R"("data":[{"asks":[["10.1","3","0","1"]],"bids":[["10","2","0","1"]],"ts":"5"}]})";
  const std::vector<std::string> lines = {
      "wss://ws.okx.com:8443/ws/v5/public <-> 1646003666.6408682",                               // connection
      R"(wss://ws.okx.com:8443/ws/v5/public <- 1646003667.399285: {"op":"subscribe","args":[]})",  // sent
      "1646003667.5: " + snap,                                                                    // cryptofeed
      "1646003668000000001 " + snap,                                                              // hftx
      R"(1646003667.6: {"event":"subscribe","arg":{"channel":"books-l2-tbt","instId":"X"}})",     // event
      R"(1646003667.6: {"event":"error","code":"60012","msg":"bad"})",                            // event (error)
      "1646003667.7: pong",                                                                       // pong
      R"(1646003667.8: {"arg":{"channel":"tickers","instId":"X"},"data":[{}]})",                 // other channel
      R"(https://www.okx.com/api/v5/market/books?instId=X -> 1646003667.9: {"code":"0"})",       // http body
      "",                                                                                         // empty
      // An unknown instrument; a second book channel of X.
      R"(1646003668: {"arg":{"channel":"books-l2-tbt","instId":"Y"},"action":"update","data":[]})",
      R"(1646003668: {"arg":{"channel":"books5","instId":"X"},"data":[{"asks":[],"bids":[],"ts":"1"}]})",
      R"(1646003668: {"broken)",                                                                   // parse error
      "hello world",                                                                              // bad line
      "12x {}",                                                                                   // bad line
  };
  for (const std::string& l : lines) (void)rp.feed_line(l, l.size());
  const ReplayStats& s = rp.stats();
  EXPECT_EQ(s.lines, lines.size());
  EXPECT_EQ(s.messages, 2u);
  EXPECT_EQ(s.snapshots, 2u);
  EXPECT_EQ(s.control_lines, 5u);
  EXPECT_EQ(s.connection_lines, 1u);
  EXPECT_EQ(s.sent_lines, 1u);
  EXPECT_EQ(s.events, 2u);
  EXPECT_EQ(s.event_errors, 1u);
  EXPECT_EQ(s.pongs, 1u);
  EXPECT_EQ(s.skipped_lines, 4u);
  EXPECT_EQ(s.skipped[static_cast<std::size_t>(SkipReason::other_channel)], 1u);
  EXPECT_EQ(s.skipped[static_cast<std::size_t>(SkipReason::http_body)], 1u);
  EXPECT_EQ(s.skipped[static_cast<std::size_t>(SkipReason::empty)], 1u);
  EXPECT_EQ(s.skipped[static_cast<std::size_t>(SkipReason::other_book_channel)], 1u);
  EXPECT_EQ(s.parse_errors, 4u);
  EXPECT_EQ(s.bad_lines, 2u);
  EXPECT_EQ(s.lines, s.messages + s.control_lines + s.skipped_lines + s.parse_errors);
  EXPECT_EQ(s.cryptofeed_lines, 11u);
  // Receive times: cryptofeed's seconds and hftx's ns.
  const Replayer::Instrument& x = *rp.find("X");
  EXPECT_EQ(x.book.top().recv_ns, 1646003668000000001);
  EXPECT_EQ(x.book.best_bid(), lv(100, 2));
  EXPECT_THROW((Replayer(std::vector<InstrumentSpec>{specs[0], specs[0]})), ConfigError);
}

}  // namespace
