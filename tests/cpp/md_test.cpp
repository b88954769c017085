// Binance parser: every supported format (raw and enveloped), field order, bad input reported and counted.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <random>
#include <ranges>
#include <string>
#include <vector>

#include "hftx/venue/binance/replay.hpp"
#include "hftx/venue/binance/md_parser.hpp"
#include "test_support.hpp"

namespace {

using hftx::Scale;
using namespace hftx::md;
using namespace hftx::venue::binance;

struct Fixture {
  Fixture() = default;
  Fixture(Scale ps, Scale qs) : parser(ps, qs) {}
  MdParser parser{Scale::from_step("0.01"), Scale::from_step("0.00001")};
  std::vector<Level> levels = std::vector<Level>(64);
  MdMessage msg;
  std::string buf;

  // json copied into buf with the padding after it: no copy in the parser.
  std::string_view padded(const std::string& json) {
    buf = json;
    buf.resize(json.size() + kJsonPadding, '\0');
    return std::string_view(buf.data(), json.size());
  }
  ParseResult parse(const std::string& json, std::int64_t recv = 7) {
    const std::string_view text = padded(json);  // before buf.size() is read
    return parser.parse(text, buf.size(), recv, msg, levels);
  }

  // parse_deferred(); when it deferred the levels, every one read through the LevelReaders (into read_bids,
  // read_asks; read again from the end, which must give them backwards), then read_deferred().
  std::vector<Level> read_bids, read_asks, backwards;
  bool was_deferred = false, readers_failed = false;
  ParseResult parse_deferred(const std::string& json, std::int64_t recv = 7) {
    const std::string_view text = padded(json);
    ParseResult r = parser.parse_deferred(text, buf.size(), recv, msg, levels);
    was_deferred = parser.deferred();
    read_bids.clear();
    read_asks.clear();
    readers_failed = false;
    if (!was_deferred) return r;
    EXPECT_TRUE(r.ok() && msg.kind == MdKind::depth_update && msg.depth.bids.empty() && msg.depth.asks.empty());
    using Order = MdParser::LevelOrder;
    for (auto [reader, out] : {std::pair{parser.deferred_bids(), &read_bids}, std::pair{parser.deferred_asks(), &read_asks}}) {
      for (Level l; reader.next(l);) out->push_back(l);
      readers_failed |= reader.failed();
    }
    for (auto [reader, forwards] : {std::pair{parser.deferred_bids(Order::reversed), &read_bids},
                                    std::pair{parser.deferred_asks(Order::reversed), &read_asks}}) {
      backwards.clear();
      for (Level l; reader.next(l);) backwards.push_back(l);
      if (!readers_failed) {
        EXPECT_FALSE(reader.failed());
        EXPECT_TRUE(std::ranges::equal(backwards, *forwards | std::views::reverse));
      }
    }
    return parser.read_deferred(msg);
  }
};

// The same input through the fast scanner (with simdjson behind it) and through simdjson alone; through
// the scanner without its SSE4.1 level reader (what CPUs without SSE4.1 run); and read top-first
// (parse_deferred(), the LevelReaders, read_deferred()), with and without the SSE4.1 level reader.
struct Twin {
  Fixture fast, slow, portable, deferred, deferred_portable;
  Twin(Scale ps = Scale::from_step("0.01"), Scale qs = Scale::from_step("0.00001"))
      : fast(ps, qs), slow(ps, qs), portable(ps, qs), deferred(ps, qs), deferred_portable(ps, qs) {
    slow.parser.set_fast_path(false);
    portable.parser.set_sse41_levels(false);
    deferred_portable.parser.set_sse41_levels(false);
  }
  // All give the same status, field and detail, and on success the same message.
  ::testing::AssertionResult agree(const std::string& json) {
    const ParseResult b = slow.parse(json);
    struct Run {
      Fixture* f;
      ParseResult r;
      const char* name;
    };
    const Run runs[] = {{&fast, fast.parse(json), "fast"},
                        {&portable, portable.parse(json), "portable"},
                        {&deferred, deferred.parse_deferred(json), "deferred"},
                        {&deferred_portable, deferred_portable.parse_deferred(json), "deferred_portable"}};
    for (const auto& [f, r, name] : runs) {
      if (r.status != b.status || std::string_view(r.field) != b.field || r.detail != b.detail)
        return ::testing::AssertionFailure() << name << ": " << r.describe() << ", simdjson: " << b.describe()
                                             << " for " << json;
      if (r.ok() && !same_content(f->msg, slow.msg))
        return ::testing::AssertionFailure() << "different messages (" << name << ") for " << json;
      // Levels the readers read whole are the message's levels (what a session acts on is what it applies).
      if (f->was_deferred && !f->readers_failed &&
          (!r.ok() || !std::ranges::equal(f->read_bids, f->msg.depth.bids) ||
           !std::ranges::equal(f->read_asks, f->msg.depth.asks)))
        return ::testing::AssertionFailure() << "the LevelReaders (" << name << ") read other levels for " << json;
      // A message counted once, with its final verdict.
      const ParserStats &sd = f->parser.stats(), &ss = slow.parser.stats();
      if (sd.messages != ss.messages || sd.by_status != ss.by_status || sd.by_kind != ss.by_kind)
        return ::testing::AssertionFailure() << name << " statistics differ after " << json;
    }
    return ::testing::AssertionSuccess();
  }
};

TEST(MdParser, SpotDepthUpdateInCombinedEnvelope) {
  Fixture f;
  const ParseResult r = f.parse(
      R"({"stream":"btcusdt@depth@100ms","data":{"e":"depthUpdate","E":1723161255208,"s":"BTCUSDT",)"
      R"("U":50093239189,"u":50093239202,"b":[["61737.63000000","0.00000000"],["61730.17000000","1.50000000"]],)"
      R"("a":[["61837.64000000","1.54698000"]]}})",
      42);
  ASSERT_TRUE(r.ok()) << r.describe();
  EXPECT_EQ(f.msg.kind, MdKind::depth_update);
  EXPECT_EQ(f.msg.stream, "btcusdt@depth@100ms");
  EXPECT_EQ(f.msg.symbol.view(), "BTCUSDT");
  EXPECT_EQ(f.msg.venue_time_ns, 1723161255208'000'000);
  EXPECT_EQ(f.msg.recv_ns, 42);
  EXPECT_EQ(f.msg.depth.first_id, 50093239189u);
  EXPECT_EQ(f.msg.depth.last_id, 50093239202u);
  EXPECT_FALSE(f.msg.depth.has_prev);
  ASSERT_EQ(f.msg.depth.bids.size(), 2u);
  ASSERT_EQ(f.msg.depth.asks.size(), 1u);
  EXPECT_EQ(f.msg.depth.bids[0].price.raw(), 6173763);
  EXPECT_EQ(f.msg.depth.bids[0].qty.raw(), 0);
  EXPECT_EQ(f.msg.depth.bids[1].qty.raw(), 150000);
  EXPECT_EQ(f.msg.depth.asks[0].price.raw(), 6183764);
  EXPECT_EQ(f.msg.depth.asks[0].qty.raw(), 154698);
  // The levels are in the caller's buffer.
  EXPECT_EQ(f.msg.depth.bids.data(), f.levels.data());
}

TEST(MdParser, FuturesDepthUpdateRawWithPu) {
  Fixture f;
  ASSERT_TRUE(f.parse(R"({"e":"depthUpdate","E":1,"T":2,"s":"BTCUSDT","U":10,"u":20,"pu":9,)"
                      R"("b":[],"a":[["61800.30","0.51"]]})")
                  .ok());
  EXPECT_TRUE(f.msg.depth.has_prev);
  EXPECT_EQ(f.msg.depth.prev_last_id, 9u);
  EXPECT_EQ(f.msg.transact_time_ns, 2'000'000);
  EXPECT_TRUE(f.msg.depth.bids.empty());
  EXPECT_EQ(f.msg.depth.asks[0].price.raw(), 6180030);
}

TEST(MdParser, BookTickerSpotAndFutures) {
  Fixture f;
  ASSERT_TRUE(f.parse(R"({"stream":"btcusdt@bookTicker","data":{"u":50093239212,"s":"BTCUSDT",)"
                      R"("b":"61837.63000000","B":"3.78826000","a":"61837.64000000","A":"1.54698000"}})")
                  .ok());
  EXPECT_EQ(f.msg.kind, MdKind::book_ticker);
  EXPECT_EQ(f.msg.ticker.update_id, 50093239212u);
  EXPECT_EQ(f.msg.ticker.bid_price.raw(), 6183763);
  EXPECT_EQ(f.msg.ticker.bid_qty.raw(), 378826);
  EXPECT_EQ(f.msg.ticker.ask_price.raw(), 6183764);
  EXPECT_EQ(f.msg.venue_time_ns, 0);
  ASSERT_TRUE(f.parse(R"({"e":"bookTicker","u":5123107839020,"s":"BTCUSDT","b":"61800.20","B":"2.507",)"
                      R"("a":"61800.30","A":"2.510","T":1723161256313,"E":1723161256314})")
                  .ok());
  EXPECT_EQ(f.msg.kind, MdKind::book_ticker);
  EXPECT_EQ(f.msg.venue_time_ns, 1723161256314'000'000);
  EXPECT_EQ(f.msg.transact_time_ns, 1723161256313'000'000);
  EXPECT_EQ(f.msg.ticker.ask_qty.raw(), 251000);
}

TEST(MdParser, TradeAndAggTrade) {
  Fixture f;
  ASSERT_TRUE(f.parse(R"({"stream":"btcusdt@trade","data":{"e":"trade","E":1723161255343,"s":"BTCUSDT",)"
                      R"("t":3735683259,"p":"61837.63000000","q":"0.02000000","T":1723161255342,"m":true,"M":true}})")
                  .ok());
  EXPECT_EQ(f.msg.kind, MdKind::trade);
  EXPECT_EQ(f.msg.trade.id, 3735683259u);
  EXPECT_EQ(f.msg.trade.qty.raw(), 2000);
  EXPECT_TRUE(f.msg.trade.buyer_is_maker);
  ASSERT_TRUE(f.parse(R"({"e":"trade","E":1,"T":1,"s":"BTCUSDT","t":5,"p":"1.00","q":"0.006","X":"MARKET","m":false})")
                  .ok());
  EXPECT_EQ(f.msg.trade.type, TradeType::market);
  EXPECT_FALSE(f.msg.trade.buyer_is_maker);
  ASSERT_TRUE(f.parse(R"({"e":"aggTrade","E":2,"s":"ETHUSDT","a":26129,"p":"0.01633102","q":"4.70443515",)"
                      R"("f":27781,"l":27781,"T":1498793709153,"m":true,"M":true})")
                  .ok() == false);  // 0.01633102 is off the 0.01 grid
  EXPECT_EQ(f.parser.stats().by_status[static_cast<int>(ParseStatus::bad_number)], 1u);
  ASSERT_TRUE(f.parse(R"({"e":"aggTrade","E":2,"s":"ETHUSDT","a":26129,"p":"2683.81","q":"4.70443",)"
                      R"("f":27781,"l":27783,"T":1498793709153,"m":true,"M":true})")
                  .ok());
  EXPECT_EQ(f.msg.kind, MdKind::agg_trade);
  EXPECT_EQ(f.msg.agg.id, 26129u);
  EXPECT_EQ(f.msg.agg.price.raw(), 268381);
  EXPECT_EQ(f.msg.agg.last_trade_id, 27783u);
}

TEST(MdParser, SnapshotsRestAndWebSocketApi) {
  Fixture f;
  ASSERT_TRUE(f.parse(R"({"lastUpdateId":50093239218,"bids":[["61837.63000000","3.78826000"]],)"
                      R"("asks":[["61837.64000000","1.0"],["61838.00","2"]]})")
                  .ok());
  EXPECT_EQ(f.msg.kind, MdKind::depth_snapshot);
  EXPECT_EQ(f.msg.snapshot.last_update_id, 50093239218u);
  EXPECT_EQ(f.msg.snapshot.bids.size(), 1u);
  EXPECT_EQ(f.msg.snapshot.asks.size(), 2u);
  // Futures REST snapshot carries E and T.
  ASSERT_TRUE(f.parse(R"({"lastUpdateId":5,"E":1723161256501,"T":1723161256493,"bids":[],"asks":[]})").ok());
  EXPECT_EQ(f.msg.kind, MdKind::depth_snapshot);
  EXPECT_EQ(f.msg.venue_time_ns, 1723161256501'000'000);
  // WebSocket API response.
  ASSERT_TRUE(f.parse(R"({"id":"51e2affb","status":200,"result":{"lastUpdateId":1027024,)"
                      R"("bids":[["4.00000000","431.00000000"]],"asks":[["4.00000200","12.00000000"]]},)"
                      R"("rateLimits":[{"rateLimitType":"REQUEST_WEIGHT","interval":"MINUTE","limit":6000,"count":2}]})")
                  .ok() == false);  // 4.00000200 is off the 0.01 grid
  ASSERT_TRUE(f.parse(R"({"id":"51e2affb","status":200,"result":{"lastUpdateId":1027024,)"
                      R"("bids":[["4.00000000","431.00000000"]],"asks":[["4.01000000","12.00000000"]]},)"
                      R"("rateLimits":[]})")
                  .ok());
  EXPECT_EQ(f.msg.kind, MdKind::depth_snapshot);
  EXPECT_EQ(f.msg.snapshot.last_update_id, 1027024u);
  EXPECT_EQ(f.msg.snapshot.asks[0].price.raw(), 401);
  // A WS-API error response is not a snapshot.
  const ParseResult r = f.parse(R"({"id":"x","status":400,"error":{"code":-1121,"msg":"Invalid symbol."}})");
  EXPECT_EQ(r.status, ParseStatus::unknown_event);
}

TEST(MdParser, FieldOrderDoesNotMatter) {
  Fixture f;
  ASSERT_TRUE(f.parse(R"({"data":{"a":[["2.00","1"]],"b":[["1.00","1"]],"u":9,"U":8,"s":"X","E":3,"e":"depthUpdate"},)"
                      R"("stream":"x@depth"})")
                  .ok());
  EXPECT_EQ(f.msg.kind, MdKind::depth_update);
  EXPECT_EQ(f.msg.depth.bids[0].price.raw(), 100);
  EXPECT_EQ(f.msg.depth.asks[0].price.raw(), 200);
  EXPECT_EQ(f.msg.stream, "x@depth");
}

TEST(MdParser, UnpaddedInputIsCopiedOnce) {
  Fixture f;
  const std::string s = R"({"u":1,"s":"BTCUSDT","b":"1.00","B":"1","a":"1.01","A":"2"})";
  ASSERT_TRUE(f.parser.parse_unpadded(s, 0, f.msg, f.levels).ok());
  EXPECT_EQ(f.msg.ticker.ask_qty.raw(), 200000);
  // capacity without padding falls back to the copy as well
  ASSERT_TRUE(f.parser.parse(s, s.size(), 0, f.msg, f.levels).ok());
}

TEST(MdParser, BadInputIsReportedAndCounted) {
  Fixture f;
  struct Case {
    const char* json;
    ParseStatus status;
    const char* field;
  };
  const Case cases[] = {
      {R"({"e":"depthUpdate","U":1,"u":2,"b":[["1.00","1"]],"a":[["2.00","1")", ParseStatus::json_error, ""},
      {R"([1,2,3])", ParseStatus::not_object, ""},
      {R"("x")", ParseStatus::not_object, ""},
      {R"({"e":"depthUpdate","U":1,"b":[],"a":[]})", ParseStatus::missing_field, "u"},
      {R"({"e":"depthUpdate","U":"1","u":2,"b":[],"a":[]})", ParseStatus::wrong_type, "U"},
      {R"({"e":"depthUpdate","U":1,"u":2,"b":[["1.001","1"]],"a":[]})", ParseStatus::bad_number, "b"},
      {R"({"e":"depthUpdate","U":1,"u":2,"b":[["-1.00","1"]],"a":[]})", ParseStatus::bad_number, "b"},
      {R"({"e":"depthUpdate","U":1,"u":2,"b":[["1.00"]],"a":[]})", ParseStatus::bad_level, "b"},
      {R"({"e":"depthUpdate","U":1,"u":2,"b":[[1.0,"1"]],"a":[]})", ParseStatus::bad_level, "b"},
      {R"({"e":"depthUpdate","U":1,"u":2,"b":["1.00"],"a":[]})", ParseStatus::bad_level, "b"},
      {R"({"e":"kline","E":1,"s":"BTCUSDT","k":{}})", ParseStatus::unknown_event, "e"},
      {R"({"result":null,"id":1})", ParseStatus::not_object, "result"},
      {R"({"u":1,"s":"X","b":"1.00","a":"1.01"})", ParseStatus::unknown_event, ""},
      {R"({"e":"trade","t":1,"p":"1.00","q":"1","m":true} x)", ParseStatus::json_error, ""},
      {R"({"e":"trade","t":1,"p":"1.00","q":"1","m":1})", ParseStatus::wrong_type, "m"},
      {R"({"e":"trade","t":1,"p":"1.00","q":"1"})", ParseStatus::missing_field, "m"},
      {"", ParseStatus::json_error, ""},
  };
  std::uint64_t n = 0;
  for (const Case& c : cases) {
    const ParseResult r = f.parse(c.json);
    ++n;
    EXPECT_EQ(r.status, c.status) << c.json << " -> " << r.describe();
    EXPECT_STREQ(r.field, c.field) << c.json;
    EXPECT_FALSE(r.describe().empty());
  }
  EXPECT_EQ(f.parser.stats().messages, n);
  EXPECT_EQ(f.parser.stats().errors(), n);
}

// Level arrays in Binance's compact shape and in others (spaces, newlines, the third element of old formats):
// the same levels; and the same errors.
TEST(MdParser, LevelArraysInAnyShapeGiveTheSameLevels) {
  Fixture f;
  const std::string compact = R"({"e":"depthUpdate","U":1,"u":2,"b":[["1.00","3"],["0.99","0"]],"a":[["1.01","2"]]})";
  const std::string others[] = {
      R"({"e":"depthUpdate","U":1,"u":2,"b":[ ["1.00", "3"], ["0.99","0"] ],"a":[["1.01","2"]]})",
      "{\"e\":\"depthUpdate\",\"U\":1,\"u\":2,\"b\":[\n[\"1.00\",\"3\"],\n[\"0.99\",\"0\"]\n],\"a\":[[\"1.01\",\"2\"]]}",
      R"({"e":"depthUpdate","U":1,"u":2,"b":[["1.00","3",[]],["0.99","0"]],"a":[["1.01","2",[]]]})",
  };
  const auto levels_of = [&](const std::string& json) {
    const ParseResult r = f.parse(json);
    EXPECT_TRUE(r.ok()) << json << " -> " << r.describe();
    std::vector<std::int64_t> v;
    for (const auto* side : {&f.msg.depth.bids, &f.msg.depth.asks}) {
      for (const Level& l : *side) {
        v.push_back(l.price.raw());
        v.push_back(l.qty.raw());
      }
      v.push_back(-1);
    }
    return v;
  };
  const std::vector<std::int64_t> want = levels_of(compact);
  ASSERT_EQ(want.size(), 8u);
  for (const std::string& o : others) EXPECT_EQ(levels_of(o), want) << o;
  // Errors are the same whichever path finds them.
  for (const char* bad : {R"({"e":"depthUpdate","U":1,"u":2,"b":[["1.00","3"],["1.001","1"]],"a":[]})",
                          R"({"e":"depthUpdate","U":1,"u":2,"b":[ ["1.00","3"], ["1.001","1"] ],"a":[]})"}) {
    const ParseResult r = f.parse(bad);
    EXPECT_EQ(r.status, ParseStatus::bad_number) << bad;
    EXPECT_STREQ(r.field, "b");
  }
  for (const char* bad : {R"({"e":"depthUpdate","U":1,"u":2,"b":[["1.00","3"],["1\u0030","1"]],"a":[]})",
                          R"({"e":"depthUpdate","U":1,"u":2,"b":[["1.00","3"],["1.00"]],"a":[]})"}) {
    const ParseResult r = f.parse(bad);
    EXPECT_FALSE(r.ok()) << bad;
    EXPECT_STREQ(r.field, "b");
  }
}

TEST(MdParser, TooManyLevelsForTheCallersBuffer) {
  Fixture f;
  f.levels.resize(2);
  const ParseResult r = f.parse(R"({"e":"depthUpdate","U":1,"u":2,"b":[["1.00","1"],["2.00","1"]],"a":[["3.00","1"]]})");
  EXPECT_EQ(r.status, ParseStatus::too_many_levels);
  EXPECT_STREQ(r.field, "a");
}

// Every prefix of a valid message (truncation at every byte) and random byte flips: always a clean status.
TEST(MdParser, TruncatedAndCorruptedNeverCrash) {
  Fixture f;
  const std::string good =
      R"({"stream":"btcusdt@depth@100ms","data":{"e":"depthUpdate","E":1723161255208,"s":"BTCUSDT",)"
      R"("U":50093239189,"u":50093239202,"b":[["61737.63000000","0.00000000"]],"a":[["61837.64000000","1.54698000"]]}})";
  ASSERT_TRUE(f.parse(good).ok());
  for (std::size_t n = 0; n < good.size(); ++n) {
    const ParseResult r = f.parse(good.substr(0, n));
    EXPECT_FALSE(r.ok()) << n;
  }
  std::mt19937_64 rng(5);
  const std::uint64_t iters = hftx::test::scaled(20000);
  for (std::uint64_t i = 0; i < iters; ++i) {
    std::string s = good;
    const int flips = 1 + static_cast<int>(rng() % 4);
    for (int k = 0; k < flips; ++k) s[rng() % s.size()] = static_cast<char>(rng() % 256);
    (void)f.parse(s);
  }
  EXPECT_EQ(f.parser.stats().messages, 1 + good.size() + iters);
}

}  // namespace

namespace {

// The fast scanner takes Binance's compact shapes and declines the rest, which simdjson then parses: either
// way the result is simdjson's. Each case below is one the scanner must accept or must decline correctly.
TEST(BinanceParserFastPath, AgreesWithSimdjsonOnEdgeCases) {
  Twin t;
#if defined(__x86_64__)
  // Where the CPU has SSE4.1 the level reader is on (so that these tests exercise it), and only there.
  EXPECT_EQ(t.fast.parser.sse41_levels(), static_cast<bool>(__builtin_cpu_supports("sse4.1")));
#endif
  EXPECT_FALSE(t.portable.parser.sse41_levels());
  MdParser half_step(Scale::from_step("0.5"), Scale::from_step("0.001"));  // not 10^-k: never
  EXPECT_FALSE(half_step.sse41_levels());
  const std::string depth_head = R"({"e":"depthUpdate","E":1,"s":"BTCUSDT","U":10,"u":20,)";
  const std::vector<std::string> accepted = {
      R"({"stream":"btcusdt@depth","data":{"e":"depthUpdate","E":1,"s":"BTCUSDT","U":10,"u":20,"b":[],"a":[]}})",
      depth_head + R"("b":[["61685.99000000","1.25869000"],["0.01","0.00001"]],)"
                   R"("a":[["99999999.99","12345678.12345"]]})",
      depth_head + R"("b":[["1.5","2.1"],["61685.9","0.0"],["00061685.99","1.00000000000000"]],"a":[]})",
      depth_head + R"("b":[["123456789.00","1"],["1234567890123.5","0.1"]],"a":[]})",  // past 8 digits: parse_fixed
      depth_head + R"("b":[["1.00","0.32332000000000000000"],["1.00","0.323320000000000"]],"a":[]})",
      depth_head + R"("pu":9,"T":2,"b":[["1.00","1"]],"a":[["2.00","100"]]})",
      // Whole levels in Binance's shape mixed with others in one array (the SSE4.1 reader takes levels of
      // at most 32 bytes and hands the rest to the number-at-a-time path).
      depth_head + R"("b":[["61837.63000000","0.00123000"],["1234567.12000000","1234567.00000000"],)"
                   R"(["5.00","1"],["61837.64000000","12.50000000"],["1.00000000","1.00000000"],)"
                   R"(["1234567.12000000","0.00001000"]],)"  // 33 bytes: the quantity's quote is byte 31
                   R"("a":[["61837.65000000","0.00001000"]]})",
      // Binance's shape (exactly 8 decimals) at 1, 7 and 8 integer digits (8 takes the general path).
      depth_head + R"("b":[["1.00000000","0.00001000"],["1234567.12000000","1234567.00000000"]],)"
                   R"("a":[["12345678.12000000","12345678.00010000"],["9.99000000","9.99999000"]]})",
      R"({"u":1,"s":"BTCUSDT","b":"1.00","B":"1","a":"1.01","A":"2"})",
      R"({"e":"bookTicker","u":1,"s":"BTCUSDT","b":"1.00","B":"1","a":"1.01","A":"2","T":5,"E":6})",
      R"({"e":"trade","E":1,"s":"BTCUSDT","t":7,"p":"61685.99000000","q":"0.00032000","T":2,"m":true,"M":true})",
      R"({"e":"trade","E":1,"s":"BTCUSDT","t":7,"p":"61685.90","q":"0.003","T":2,"X":"MARKET","m":false})",
      R"({"e":"aggTrade","E":1,"s":"BTCUSDT","a":5,"p":"1.00","q":"2","f":100,"l":105,"T":2,"m":false,"M":true})",
      R"({"e":"trade","t":0,"p":"1.00","q":"1","m":true,"x":null,"y":"","z":false,"w":123})",
  };
  for (const std::string& j : accepted) {
    const std::uint64_t before = t.fast.parser.stats().fallbacks;
    EXPECT_TRUE(t.agree(j));
    EXPECT_EQ(t.fast.parser.stats().fallbacks, before) << "declined: " << j;
    EXPECT_EQ(t.portable.parser.stats().fallbacks, t.fast.parser.stats().fallbacks) << j;
  }
  const std::vector<std::string> declined = {
      depth_head + R"("b":[ ["1.00","1"]],"a":[]})",                      // whitespace
      depth_head + R"("b":[["1.00","1","x"]],"a":[]})",                   // a third element
      depth_head + R"("b":[["1.00","1"]],"a":[],"b":[]})",                // a repeated key
      depth_head + R"("b":[["1.001","1"]],"a":[]})",                      // off the grid
      depth_head + R"("b":[["1.00100","1"]],"a":[]})",                    // off the grid past 8 bytes
      depth_head + R"("b":[["1.00000001","1"]],"a":[]})",                 // off the grid, Binance's shape
      depth_head + R"("b":[["1.00","0.00001001"]],"a":[]})",
      depth_head + R"("b":[["1.00","-1"]],"a":[]})",                      // negative
      depth_head + R"("b":[["1.00","0.32332000000000b]],"a":[]})",         // 16 digits, no closing quote
      depth_head + R"("b":[["1.00","0.3233200000000000]],"a":[]})",
      depth_head + R"("b":[["1.0.0","1"]],"a":[]})",                      // two points
      depth_head + R"("b":[[".5","1"]],"a":[]})", depth_head + R"("b":[["5.","1"]],"a":[]})",
      depth_head + R"("b":[["","1"]],"a":[]})", depth_head + R"("b":[["1e2","1"]],"a":[]})",
      depth_head + R"("b":[["1.00","1"]],"a":[]} )",                      // trailing space
      depth_head + R"("b":[["1.00","1"]],"a":[]}x)",                      // trailing content
      depth_head + R"("b":[["1.00","1"]],"a":[],"k":{"x":1}})",           // a nested unknown value
      depth_head + R"("b":[["1.00","1"]],"a":[],"k":1.5})",               // a float
      depth_head + R"("b":[["1.00","1"]],"a":[],"k":-1})",                // a negative integer
      depth_head + R"("b":[["1.00","1"]],"a":[],"k":01})",                // a leading zero
      depth_head + R"("b":[["1.00","1"]],"a":[],"k":12345678901234567890})",
      R"({"e":"depthUpdate","E":1,"s":"BTC\u0055SDT","U":10,"u":20,"b":[],"a":[]})",  // an escape
      R"({"e":"depthUpdate","E":1,"s":"BTCÃ©","U":10,"u":20,"b":[],"a":[]})",     // non-ASCII
      R"({"e":"depthUpdate","E":1,"s":"BTCÿ","U":10,"u":20,"b":[],"a":[]})",         // invalid UTF-8
      R"({"e":"depthUpdate","U":10,"b":[],"a":[]})",                     // missing u
      R"({"e":"kline","E":1,"s":"BTCUSDT","k":{}})",                      // unknown event
      R"({"e":"trade","t":1,"p":"1.00","q":"1","m":1})",
      R"({"e":"trade","t":1,"p":"1.00","q":"1","m":tru})",
      R"({"e":"trade","t":1,"p":"1.00","q":"1","m":true,"M":nul})",
      R"({"data":{"u":1,"s":"BTCUSDT","b":"1.00","B":"1","a":"1.01","A":"2"},"stream":"x"})",  // envelope reversed
      R"({"lastUpdateId":5,"bids":[["1.00","1"]],"asks":[]})",            // snapshot
      R"({"id":"d1","status":200,"result":{"lastUpdateId":5,"bids":[],"asks":[]}})",
      R"({"stream":"x","data":{"u":1,"s":"BTCUSDT","b":"1.00","B":"1","a":"1.01","A":"2"}})" "\n",
      "", "{", "{}", "[]", R"({"stream":"x"})", R"({"stream":"x","data":{}})",
  };
  for (const std::string& j : declined) {
    const std::uint64_t before = t.fast.parser.stats().fallbacks;
    EXPECT_TRUE(t.agree(j));
    EXPECT_EQ(t.fast.parser.stats().fallbacks, before + 1) << "accepted: " << j;
    EXPECT_EQ(t.portable.parser.stats().fallbacks, t.fast.parser.stats().fallbacks) << j;
  }
  // Without padding (parse_unpadded), and with the text ending right after a number: the byte-loop path.
  for (const std::string& j : accepted) {
    const ParseResult a = t.fast.parser.parse_unpadded(j, 7, t.fast.msg, t.fast.levels);
    const ParseResult b = t.slow.parse(j);
    ASSERT_TRUE(a.ok() && b.ok()) << j;
    EXPECT_TRUE(same_content(t.fast.msg, t.slow.msg)) << j;
  }
}

// Top-first reading (parse_deferred(), LevelReader, read_deferred()) on the shapes around a skipped level
// array: parse()'s result every time (Twin::agree), deferred where the compact shape allows it.
TEST(BinanceParserDeferred, ReadsWhatParseReads) {
  Twin t;
  const std::string head = R"({"e":"depthUpdate","E":1,"s":"BTCUSDT","U":5,"u":9,)";
  struct Case {
    std::string body;
    bool deferred;  // the levels were left for the readers
    bool readers;   // the readers read every level
  };
  const Case cases[] = {
      {R"("b":[["100.01","1.5"],["99.99","0"]],"a":[["100.02","2"]]})", true, true},
      {R"("b":[],"a":[]})", true, true},
      {R"("b":[["100.01","1.5"]],"a":[]})", true, true},
      {R"("b":[],"a":[["100.02","2"],["100.03","0.00001"]]})", true, true},
      // Members after the arrays: the skip finds the next key's colon and steps back over the key.
      {R"("b":[["100.01","1.5"]],"pu":4,"a":[["100.02","2"]],"T":77})", true, true},
      {R"("a":[["100.02","2"]],"b":[["100.01","1.5"]]})", true, true},
      // Spaces in the levels: simdjson's shape. The readers decline the level; read_deferred() has simdjson
      // read the message, which accepts it.
      {R"("b":[["100.01", "1.5"]],"a":[["100.02","2"]]})", true, false},
      {R"("b":[ ["100.01","1.5"]],"a":[["100.02","2"]]})", true, false},
      // Spaces after an array: the skip's "]]" check fails and the fast pass declines (simdjson reads it all).
      {R"("b":[["100.01","1.5"]] ,"a":[["100.02","2"]]})", false, false},
      // Malformed levels: the same errors as parse(), after the readers stopped at them.
      {R"("b":[["100.01","1.5"],["x","1"]],"a":[["100.02","2"]]})", true, false},
      {R"("b":[["100.01","1.5"],["100.005","1"]],"a":[["100.02","2"]]})", true, false},
      {R"("b":[["100.01","1.5","7"]],"a":[["100.02","2"]]})", true, false},
      {R"("b":[["100.01","1.5"]],"a":[["100.02","2"]}})", false, false},
      {R"("b":[["100.01","1.5"]],"a":[["100.02","2"]])", false, false},
      {R"("b":[["100.01","1.5"]]"a":[["100.02","2"]]})", false, false},
      {R"("b":[["100.01","1.5"]],"a":[["100.02","2"])", false, false},
  };
  for (const Case& c : cases) {
    const std::string json = head + c.body;
    ASSERT_TRUE(t.agree(json));
    EXPECT_EQ(t.deferred.was_deferred, c.deferred) << json;
    EXPECT_EQ(t.deferred.was_deferred && !t.deferred.readers_failed, c.readers) << json;
  }
  // Inside an envelope, and the other kinds (never deferred).
  ASSERT_TRUE(t.agree(R"({"stream":"btcusdt@depth","data":)" + head + cases[0].body + "}"));
  EXPECT_TRUE(t.deferred.was_deferred);
  ASSERT_TRUE(t.agree(R"({"u":1,"s":"BTCUSDT","b":"1.00","B":"1","a":"1.01","A":"2"})"));
  EXPECT_FALSE(t.deferred.was_deferred);
  // parse() after parse_deferred() leaves nothing deferred; read_deferred() then has nothing to do.
  ASSERT_TRUE(t.deferred.parse_deferred(head + cases[0].body).ok());
  ASSERT_TRUE(t.deferred.parse(head + cases[0].body).ok());
  EXPECT_FALSE(t.deferred.parser.deferred());
  Level l;
  EXPECT_FALSE(t.deferred.parser.deferred_bids().next(l));
  EXPECT_TRUE(t.deferred.parser.read_deferred(t.deferred.msg).ok());
  EXPECT_EQ(t.deferred.msg.depth.bids.size(), 2u);
}

// Every truncation and thousands of random byte flips of real messages: the two paths agree on each.
TEST(BinanceParserFastPath, AgreesWithSimdjsonOnDamagedMessages) {
  Twin t;
  const std::string goods[] = {
      R"({"stream":"btcusdt@depth@100ms","data":{"e":"depthUpdate","E":1723161255208,"s":"BTCUSDT",)"
      R"("U":50093239189,"u":50093239202,"b":[["61737.63000000","0.00000000"],["61730.17000000","0.00100000"]],)"
      R"("a":[["61837.64000000","1.54698000"]]}})",
      R"({"stream":"btcusdt@bookTicker","data":{"u":50093421613,"s":"BTCUSDT","b":"61685.99000000",)"
      R"("B":"1.25869000","a":"61686.00000000","A":"2.44816000"}})",
      R"({"stream":"btcusdt@trade","data":{"e":"trade","E":1723161255208,"s":"BTCUSDT","t":3719516583,)"
      R"("p":"61737.63000000","q":"0.00016000","T":1723161255207,"m":true,"M":true}})",
  };
  std::mt19937_64 rng(11);
  const std::uint64_t iters = hftx::test::scaled(20000);
  for (const std::string& good : goods) {
    ASSERT_TRUE(t.agree(good));
    for (std::size_t n = 0; n < good.size(); ++n) ASSERT_TRUE(t.agree(good.substr(0, n)));
    for (std::uint64_t i = 0; i < iters; ++i) {
      std::string s = good;
      const int flips = 1 + static_cast<int>(rng() % 3);
      for (int k = 0; k < flips; ++k) {
        // Mostly characters that keep the shape plausible, so that the scanner gets far into the message.
        static constexpr char kChars[] = "0123456789.\",:[]{} -eE\x80";
        s[rng() % s.size()] = rng() % 4 == 0 ? static_cast<char>(rng() % 256) : kChars[rng() % (sizeof(kChars) - 1)];
      }
      ASSERT_TRUE(t.agree(s));
    }
  }
}

// Every line of every recorded file: the same messages both ways, and the scanner declines only the
// depth snapshots (a shape it leaves to simdjson).
TEST(BinanceParserFastPath, AgreesWithSimdjsonOnEveryRecordedMessage) {
  const std::string dir = hftx::test::data_dir() + "/binance/";
  if (!std::filesystem::exists(dir + "spot_btcusdt_20240808.gz")) GTEST_SKIP() << "no recorded data in " << dir;
  struct File {
    const char* name;
    const char* price_step;
    const char* qty_step;
  };
  for (const File& f : {File{"spot_btcusdt_20240808.gz", "0.01", "0.00000001"},
                        File{"spot_ethusdt_20240808.gz", "0.01", "0.00000001"},
                        File{"usdm_btcusdt_20240808.gz", "0.1", "0.001"}}) {
    Twin t(Scale::from_step(f.price_step), Scale::from_step(f.qty_step));
    t.fast.levels.resize(1u << 14);
    t.slow.levels.resize(1u << 14);
    t.portable.levels.resize(1u << 14);
    t.deferred.levels.resize(1u << 14);
    t.deferred_portable.levels.resize(1u << 14);
    std::uint64_t snapshots = 0, diffs = 0, deferred = 0;
    for (const std::string& line : hftx::md::read_recorded_lines(dir + f.name)) {
      const std::string json = line.substr(line.find(' ') + 1);
      ASSERT_TRUE(t.agree(json)) << f.name;
      diffs += t.fast.msg.kind == MdKind::depth_update;
      deferred += t.deferred.was_deferred && !t.deferred.readers_failed;
      ASSERT_TRUE(t.fast.parser.stats().errors() == 0) << f.name << ": " << json.substr(0, 200);
      snapshots += t.fast.msg.kind == MdKind::depth_snapshot;
    }
    EXPECT_GT(t.fast.parser.stats().messages, 30000u) << f.name;
    EXPECT_EQ(snapshots, 1u) << f.name;
    EXPECT_EQ(t.fast.parser.stats().fallbacks, snapshots) << f.name;
    EXPECT_GT(diffs, 1000u) << f.name;
    EXPECT_EQ(deferred, diffs) << f.name;  // every recorded diff can be read top-first
  }
}

}  // namespace
