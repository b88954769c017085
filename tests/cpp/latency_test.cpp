// Histogram and LatencyTracker. Agreement with HdrHistogram itself (via the hdrhistogram Python package)
// is tested in tests/python/test_latency.py; here: layout, precision, overflow, merge, correction,
// encoding round trip, the .hgrm/.hlog shapes, and the tracker's threads, sampling and trace export.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>
#include <cstdio>
#include <sstream>
#include <thread>

#include "hftx/core/error.hpp"
#include "hftx/latency/histogram.hpp"
#include "hftx/latency/tracker.hpp"
#include "test_support.hpp"

namespace {

using hftx::Histogram;

TEST(Histogram, DefaultLayoutIsHdrHistogramsForOneNsTo60s) {
  Histogram h;
  EXPECT_EQ(h.sub_bucket_count(), 2048);
  EXPECT_EQ(h.bucket_count(), 26);
  EXPECT_EQ(h.counts_len(), 27u * 1024u);
  EXPECT_LT(h.memory_bytes(), 230'000u);
  Histogram h2(1000, 3'600'000'000, 2);
  EXPECT_EQ(h2.sub_bucket_count(), 256);
  EXPECT_THROW(Histogram(0, 100, 3), hftx::ConfigError);
  EXPECT_THROW(Histogram(10, 15, 3), hftx::ConfigError);
  EXPECT_THROW(Histogram(1, 100, 6), hftx::ConfigError);
}

TEST(Histogram, EveryValueStaysWithinItsPrecision) {
  Histogram h;
  std::mt19937_64 rng(7);
  for (int i = 0; i < 200'000; ++i) {
    const auto v = static_cast<std::int64_t>(rng() % 60'000'000'000ull);
    const std::int64_t lo = h.lowest_equivalent_value(v), hi = h.highest_equivalent_value(v);
    ASSERT_LE(lo, v);
    ASSERT_GE(hi, v);
    // 3 significant digits: the bucket is at most 1/1000 of the value (exact below 2048).
    ASSERT_LE(static_cast<double>(hi - lo), std::max(0.0, static_cast<double>(v) / 1000.0)) << v;
    ASSERT_EQ(h.value_from_index(h.index_of(static_cast<std::uint64_t>(v))), lo);
  }
}

TEST(Histogram, CountsMinMaxAndPercentilesOfKnownValues) {
  Histogram h;
  for (int v = 1; v <= 1000; ++v) EXPECT_TRUE(h.record(v));
  EXPECT_EQ(h.count(), 1000u);
  EXPECT_EQ(h.min(), 1);
  EXPECT_EQ(h.max(), 1000);
  EXPECT_EQ(h.value_at_percentile(50), 500);  // exact below 2048
  EXPECT_EQ(h.value_at_percentile(99), 990);
  EXPECT_EQ(h.value_at_percentile(100), 1000);
  EXPECT_EQ(h.value_at_percentile(0), 1);
  EXPECT_DOUBLE_EQ(h.mean(), 500.5);
  EXPECT_NEAR(h.stddev(), std::sqrt((1000.0 * 1000.0 - 1) / 12.0), 1e-9);
  const double ps[] = {99.0, 50.0, 100.0, 0.0};
  EXPECT_EQ(h.values_at_percentiles(ps), (std::vector<std::int64_t>{990, 500, 1000, 1}));
}

TEST(Histogram, PercentilesMatchSortedSamplesToThePrecision) {
  Histogram h;
  std::mt19937_64 rng(11);
  std::lognormal_distribution<double> dist(9.0, 1.5);
  std::vector<std::int64_t> xs(static_cast<std::size_t>(hftx::test::scaled(100'000)));
  for (auto& x : xs) {
    x = static_cast<std::int64_t>(dist(rng)) + 1;
    h.record(x);
  }
  std::sort(xs.begin(), xs.end());
  for (double p : {1.0, 10.0, 50.0, 90.0, 99.0, 99.9, 99.99, 100.0}) {
    auto rank = static_cast<std::size_t>(p * static_cast<double>(xs.size()) / 100.0 + 0.5);
    rank = std::max<std::size_t>(rank, 1);
    const std::int64_t exact = xs[rank - 1];
    EXPECT_EQ(h.lowest_equivalent_value(h.value_at_percentile(p)), h.lowest_equivalent_value(exact)) << p;
  }
}

TEST(Histogram, ValuesAboveTheRangeAndNegativeValuesAreCountedAsOverflow) {
  Histogram h(1, 1'000'000, 3);
  EXPECT_TRUE(h.record(1'000'000));
  EXPECT_FALSE(h.record(1'000'001));
  EXPECT_FALSE(h.record(-5));
  EXPECT_EQ(h.count(), 1u);
  EXPECT_EQ(h.overflow_count(), 2u);
  EXPECT_EQ(h.max(), 1'000'000);
  EXPECT_NE(h.percentile_distribution().find("#[Overflow ="), std::string::npos);
}

TEST(Histogram, CorrectedRecordingFillsInTheMissedIntervals) {
  Histogram h;
  h.record_corrected(1000, 100);  // 1000, 900, ..., 100
  EXPECT_EQ(h.count(), 10u);
  EXPECT_EQ(h.min(), 100);
  Histogram g;
  g.record_corrected(250, 100);  // 250, 150 (HdrHistogram stops below the interval)
  EXPECT_EQ(g.count(), 2u);
  EXPECT_EQ(g.min(), 150);
  Histogram k;
  k.record_corrected(50, 100);
  k.record_corrected(500, 0);
  EXPECT_EQ(k.count(), 2u);
}

TEST(Histogram, MergeEqualsRecordingEverythingInOne) {
  Histogram all, a, b, other_layout(1, 3'600'000'000'000, 2);
  std::mt19937_64 rng(3);
  for (int i = 0; i < 50'000; ++i) {
    const auto v = static_cast<std::int64_t>(rng() % 10'000'000);
    all.record(v);
    (i % 2 ? a : b).record(v);
  }
  all.record(100'000'000'000);  // overflow
  a.record(100'000'000'000);
  Histogram m;
  m.merge(a);
  m.merge(b);
  EXPECT_EQ(m.count(), all.count());
  EXPECT_EQ(m.overflow_count(), 1u);
  EXPECT_EQ(m.min(), all.min());
  EXPECT_EQ(m.max(), all.max());
  for (std::size_t i = 0; i < all.counts_len(); ++i) ASSERT_EQ(m.count_at_index(i), all.count_at_index(i)) << i;
  EXPECT_EQ(m.percentile_distribution(), all.percentile_distribution());
  // A different layout re-records bucket by bucket: same count, values within the coarser precision.
  other_layout.merge(all);
  EXPECT_EQ(other_layout.count(), all.count());
  EXPECT_NEAR(static_cast<double>(other_layout.value_at_percentile(99)), static_cast<double>(all.value_at_percentile(99)),
              static_cast<double>(all.value_at_percentile(99)) / 100.0);
  m.reset();
  EXPECT_EQ(m.count(), 0u);
  EXPECT_EQ(m.overflow_count(), 0u);
  EXPECT_EQ(m.max(), 0);
  EXPECT_EQ(m.value_at_percentile(50), 0);
}

TEST(Histogram, EncodeDecodeRoundTrips) {
  Histogram h;
  std::mt19937_64 rng(5);
  for (int i = 0; i < 20'000; ++i) h.record(static_cast<std::int64_t>(rng() % 5'000'000) + (i % 7 == 0 ? 0 : 1000));
  const std::string enc = h.encode();
  EXPECT_EQ(enc.rfind("HISTFAAA", 0), 0u) << enc.substr(0, 16);
  const Histogram d = Histogram::decode(enc);
  EXPECT_EQ(d.count(), h.count());
  for (std::size_t i = 0; i < h.counts_len(); ++i) ASSERT_EQ(d.count_at_index(i), h.count_at_index(i));
  EXPECT_EQ(d.encode(), enc);
  EXPECT_EQ(Histogram::decode(Histogram().encode()).count(), 0u);
  EXPECT_THROW((void)Histogram::decode("not base64!"), hftx::ParseError);
  EXPECT_THROW((void)Histogram::decode("AAAAAAAAAAAA"), hftx::ParseError);
  std::string corrupt = enc;
  corrupt[20] = corrupt[20] == 'A' ? 'B' : 'A';
  EXPECT_THROW((void)Histogram::decode(corrupt), hftx::ParseError);
}

TEST(Histogram, PercentileDistributionHasHdrHistogramsShape) {
  Histogram h;
  for (int v = 1; v <= 10'000; ++v) h.record(v * 100);
  const std::string text = h.percentile_distribution(1000.0);
  std::istringstream in(text);
  std::string line;
  std::getline(in, line);
  EXPECT_EQ(line, "       Value     Percentile TotalCount 1/(1-Percentile)");
  std::getline(in, line);
  EXPECT_EQ(line, "");
  // Each row re-printed from its parsed numbers with HdrHistogram's format gives the row back.
  const auto is_row = [](const std::string& l, bool last_row) {
    double v = 0, q = 0, inv = 0;
    unsigned long long c = 0;
    const int n = std::sscanf(l.c_str(), "%lf %lf %llu %lf", &v, &q, &c, &inv);
    char buf[128];
    if (last_row) {
      std::snprintf(buf, sizeof buf, "%12.3f %2.12f %10llu", v, q, c);
      return n == 3 && l == buf;
    }
    std::snprintf(buf, sizeof buf, "%12.3f %2.12f %10llu %14.2f", v, q, c, inv);
    return n == 4 && l == buf;
  };
  int rows = 0;
  std::vector<std::string> lines;
  while (std::getline(in, line)) lines.push_back(line);
  ASSERT_GE(lines.size(), 5u);
  for (std::size_t i = 0; i + 4 < lines.size(); ++i, ++rows) EXPECT_TRUE(is_row(lines[i], false)) << lines[i];
  EXPECT_TRUE(is_row(lines[lines.size() - 4], true)) << lines[lines.size() - 4];
  EXPECT_NE(lines[lines.size() - 4].find(" 1.000000000000      10000"), std::string::npos);
  EXPECT_EQ(lines[lines.size() - 3].rfind("#[Mean    = ", 0), 0u);
  EXPECT_EQ(lines[lines.size() - 2], "#[Max     =     1000.447, Total count    =        10000]");
  EXPECT_EQ(lines.back(), "#[Buckets =           26, SubBuckets     =         2048]");
  EXPECT_GT(rows, 50);
  // The first levels step by 10% (5 ticks per half distance), as HdrHistogram's Java and C print.
  const auto table = h.percentile_table();
  ASSERT_GE(table.size(), 8u);
  EXPECT_DOUBLE_EQ(table[0].percentile, 0.0);
  EXPECT_DOUBLE_EQ(table[1].percentile, 10.0);
  EXPECT_NEAR(table[5].percentile, 50.0, 1e-9);
  EXPECT_NEAR(table[6].percentile, 55.0, 1e-9);
  EXPECT_EQ(table.back().percentile, 100.0);
  for (std::size_t i = 1; i < table.size(); ++i) {
    EXPECT_GE(table[i].value, table[i - 1].value);
    EXPECT_GE(table[i].percentile, table[i - 1].percentile);
  }
}

TEST(Histogram, IntervalLogLinesCarryStartLengthMaxAndTheEncoding) {
  Histogram h;
  for (int i = 1; i <= 100; ++i) h.record(i * 1'000'000);  // 1..100 ms
  std::ostringstream out;
  hftx::HistogramLogWriter w(out);
  w.write_header(1'700'000'000.0, 1'700'000'000.0);
  w.write_interval(h, 0.0, 1.5);
  w.write_interval(h, 1.5, 2.5, 1e6, "tick_to_trade");
  std::istringstream in(out.str());
  std::string line;
  std::getline(in, line);
  EXPECT_EQ(line, "#[Histogram log format version 1.3]");
  std::getline(in, line);
  EXPECT_EQ(line.rfind("#[StartTime: 1700000000.000 (seconds since epoch), ", 0), 0u) << line;
  std::getline(in, line);
  EXPECT_EQ(line, "#[BaseTime: 1700000000.000 (seconds since epoch)]");
  std::getline(in, line);
  EXPECT_EQ(line, R"("StartTimestamp","Interval_Length","Interval_Max","Interval_Compressed_Histogram")");
  std::getline(in, line);
  EXPECT_EQ(line.rfind("0.000,1.500,100.008,HISTFAAA", 0), 0u) << line;
  EXPECT_EQ(Histogram::decode(line.substr(line.rfind(',') + 1)).count(), 100u);
  std::getline(in, line);
  EXPECT_EQ(line.rfind("Tag=tick_to_trade,1.500,1.000,100.008,HISTFAAA", 0), 0u) << line;
}

TEST(Histogram, ConcurrentReaderSeesConsistentSnapshots) {
  Histogram h;
  const auto n = hftx::test::scaled(400'000);
  std::atomic<bool> done{false};
  std::thread writer([&] {
    for (std::uint64_t i = 0; i < n; ++i) h.record(static_cast<std::int64_t>(i % 5000) + 1);
    done.store(true, std::memory_order_release);
  });
  std::uint64_t last = 0;
  while (!done.load(std::memory_order_acquire)) {
    const Histogram s = h.snapshot();
    std::uint64_t sum = 0;
    for (const auto& b : s.recorded_buckets()) sum += b.count;
    EXPECT_EQ(sum, s.count());
    EXPECT_GE(s.count(), last);
    last = s.count();
    (void)h.value_at_percentile(99);
  }
  writer.join();
  EXPECT_EQ(h.count(), n);
}

// ---- tracker ---------------------------------------------------------------------------------------

using hftx::LatencyConfig;
using hftx::LatencyTracker;
using hftx::Stage;

TEST(LatencyTracker, ConfigIsValidatedWithTheKeyName) {
  LatencyConfig c;
  c.sample_rate = 1.5;
  try {
    LatencyTracker t(c);
    FAIL();
  } catch (const hftx::ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("latency.sample_rate"), std::string::npos);
  }
  EXPECT_EQ(hftx::stage_from_string("risk"), Stage::risk);
  EXPECT_THROW((void)hftx::stage_from_string("bogus"), hftx::ConfigError);
}

TEST(LatencyTracker, StagesFromTwoThreadsMergeOnRead) {
  LatencyConfig c;
  c.sample_rate = 0.0;
  LatencyTracker t(c);
  const auto n = hftx::test::scaled(20'000);
  auto work = [&](std::int64_t base) {
    auto& r = t.local();
    for (std::uint64_t i = 0; i < n; ++i) {
      r.record(Stage::parse, base);
      r.record(Stage::risk, base * 2);
    }
  };
  std::thread a(work, 100), b(work, 300);
  // Read while they write: merge on read must not race (TSan) and counts only grow.
  std::uint64_t seen = 0;
  for (int i = 0; i < 20; ++i) {
    const auto c1 = t.stage_histogram(Stage::parse).count();
    EXPECT_GE(c1, seen);
    seen = c1;
  }
  a.join();
  b.join();
  EXPECT_EQ(t.thread_count(), 2u);
  const Histogram parse = t.stage_histogram(Stage::parse);
  EXPECT_EQ(parse.count(), 2 * n);
  EXPECT_EQ(parse.min(), 100);
  EXPECT_EQ(parse.max(), 300);
  EXPECT_EQ(parse.value_at_percentile(50), 100);
  EXPECT_EQ(parse.value_at_percentile(51), 300);
  EXPECT_EQ(t.stage_histogram(Stage::risk).max(), 600);
  EXPECT_EQ(t.stage_histogram(Stage::book).count(), 0u);
}

TEST(LatencyTracker, EventsStampEveryStageAndSampleAtTheRate) {
  LatencyConfig c;
  c.sample_rate = 0.1;
  c.max_traces = 1000;
  LatencyTracker t(c);
  auto& r = t.register_thread("feed");
  const std::uint64_t ticks_per_us = static_cast<std::uint64_t>(hftx::TscClock::instance().frequency_hz() / 1e6);
  std::uint64_t now = hftx::TscClock::ticks();
  for (int e = 0; e < 5000; ++e) {
    r.begin(now);
    for (std::size_t s = 0; s < hftx::kPathStages; ++s) {
      now += ticks_per_us;  // 1 us per stage
      r.stamp(static_cast<Stage>(s), now);
    }
    r.end();
    now += ticks_per_us;
  }
  EXPECT_EQ(t.events(), 5000u);
  EXPECT_EQ(r.traces_written(), 500u);  // exactly 10%: deterministic sampling
  const Histogram ttt = t.stage_histogram(Stage::tick_to_trade);
  EXPECT_EQ(ttt.count(), 5000u);
  EXPECT_NEAR(static_cast<double>(ttt.value_at_percentile(50)), 7000.0, 7000.0 * 0.01);
  EXPECT_NEAR(static_cast<double>(t.stage_histogram(Stage::send).value_at_percentile(50)), 1000.0, 10.0);
  const auto traces = t.traces();
  ASSERT_EQ(traces.size(), 500u);
  for (std::size_t i = 1; i < traces.size(); ++i) EXPECT_GT(traces[i].begin_ticks, traces[i - 1].begin_ticks);
  EXPECT_EQ(traces.front().end_ticks - traces.front().begin_ticks, 7 * ticks_per_us);
  const std::string json = t.chrome_trace_json();
  EXPECT_EQ(json.rfind("{\"displayTimeUnit\":\"ns\",\"traceEvents\":[", 0), 0u);
  EXPECT_NE(json.find("\"args\":{\"name\":\"feed\"}"), std::string::npos);
  std::size_t spans = 0;
  for (std::size_t pos = 0; (pos = json.find("\"ph\":\"X\"", pos)) != std::string::npos; ++pos) ++spans;
  EXPECT_EQ(spans, 500u * 8u);
}

TEST(LatencyTracker, RingKeepsTheLatestMaxTraces) {
  LatencyConfig c;
  c.sample_rate = 1.0;
  c.max_traces = 16;
  LatencyTracker t(c);
  auto& r = t.local();
  for (int e = 0; e < 100; ++e) {
    r.begin(1000 + static_cast<std::uint64_t>(e) * 10);
    r.stamp(Stage::parse, 1005 + static_cast<std::uint64_t>(e) * 10);
    r.end();
  }
  const auto traces = t.traces();
  ASSERT_EQ(traces.size(), 16u);
  EXPECT_EQ(traces.front().event, 84u);
  EXPECT_EQ(traces.back().event, 99u);
  EXPECT_EQ(traces.back().stage_end_ticks[static_cast<std::size_t>(Stage::parse)], 1995u);
  EXPECT_EQ(traces.back().stage_end_ticks[static_cast<std::size_t>(Stage::book)], 0u);
}

TEST(LatencyTracker, DisabledTrackingRecordsNothing) {
  LatencyConfig c;
  c.enable_tracking = false;
  LatencyTracker t(c);
  auto& r = t.local();
  r.begin();
  r.stamp(Stage::parse);
  r.end();
  r.record(Stage::risk, 5);
  EXPECT_EQ(t.events(), 0u);
  EXPECT_EQ(t.stage_histogram(Stage::parse).count(), 0u);
  EXPECT_TRUE(t.traces().empty());
}

}  // namespace
