#include "hftx/core/fixed_point.hpp"

#include <gtest/gtest.h>

#include <cctype>
#include <random>
#include <string>

#include "hftx/core/error.hpp"
#include "test_support.hpp"

namespace {

using hftx::FixedStatus;
using hftx::Scale;
using hftx::Sign;

struct Case {
  const char* text;
  const char* step;
  Sign sign;
  FixedStatus status;
  std::int64_t value;
};

class ParseCases : public ::testing::TestWithParam<Case> {};

TEST_P(ParseCases, ParsesOrRejects) {
  const Case& c = GetParam();
  std::int64_t out = -777;
  const FixedStatus s = hftx::parse_fixed(c.text, Scale::from_step(c.step), out, c.sign);
  EXPECT_EQ(s, c.status) << "'" << c.text << "' at step " << c.step << ": got " << hftx::to_string(s);
  if (c.status == FixedStatus::ok) {
    EXPECT_EQ(out, c.value) << c.text;
  } else {
    EXPECT_EQ(out, -777) << "an error must leave the output untouched";
  }
}

constexpr Sign kS = Sign::allow_negative;
constexpr Sign kU = Sign::unsigned_only;
constexpr FixedStatus kOk = FixedStatus::ok;

INSTANTIATE_TEST_SUITE_P(
    Venue, ParseCases,
    ::testing::Values(
        // Binance's strings, on BTCUSDT's grid (tick 0.01, lot 0.00001) and finer.
        Case{"61837.63000000", "0.01", kU, kOk, 6183763}, Case{"0.00100000", "0.00001", kU, kOk, 100},
        Case{"5", "0.01", kU, kOk, 500}, Case{"-0.5", "0.1", kS, kOk, -5}, Case{"-0.5", "0.5", kS, kOk, -1},
        Case{"0", "0.01", kU, kOk, 0}, Case{"-0", "0.01", kS, kOk, 0}, Case{"007.50", "0.25", kU, kOk, 30},
        Case{"125", "25", kU, kOk, 5}, Case{"61837.63000000", "0.00000001", kU, kOk, 6183763000000},
        Case{"9223372036854775807", "1", kS, kOk, INT64_MAX},
        Case{"-9223372036854775807", "1", kS, kOk, -INT64_MAX},
        Case{"92233720368547758.07", "0.01", kS, kOk, INT64_MAX},
        Case{"0.000000000000000001", "0.000000000000000001", kU, kOk, 1},
        // Errors, never a silent rounding.
        Case{"61837.635", "0.01", kU, FixedStatus::off_grid, 0}, Case{"0.3", "0.25", kU, FixedStatus::off_grid, 0},
        Case{"130", "25", kU, FixedStatus::off_grid, 0}, Case{"9223372036854775808", "1", kS, FixedStatus::overflow, 0},
        Case{"92233720368547758.08", "0.01", kS, FixedStatus::overflow, 0},
        Case{"1234567890123456789012345678901234567890", "1", kS, FixedStatus::overflow, 0},
        Case{"99999999999999999999", "0.01", kS, FixedStatus::overflow, 0},
        Case{"100000000000000000", "0.01", kS, FixedStatus::overflow, 0},  // fits as digits, not as steps
        Case{"", "0.01", kS, FixedStatus::empty, 0}, Case{"1e5", "0.01", kS, FixedStatus::bad_format, 0},
        Case{"--1", "0.01", kS, FixedStatus::bad_format, 0}, Case{"0.1.2", "0.01", kS, FixedStatus::bad_format, 0},
        Case{" 1", "0.01", kS, FixedStatus::bad_format, 0}, Case{"1 ", "0.01", kS, FixedStatus::bad_format, 0},
        Case{"1. 5", "0.01", kS, FixedStatus::bad_format, 0}, Case{"+1", "0.01", kS, FixedStatus::bad_format, 0},
        Case{".5", "0.1", kS, FixedStatus::bad_format, 0}, Case{"5.", "0.1", kS, FixedStatus::bad_format, 0},
        Case{"-", "0.1", kS, FixedStatus::bad_format, 0}, Case{"0x10", "1", kS, FixedStatus::bad_format, 0},
        Case{"1,5", "0.1", kS, FixedStatus::bad_format, 0}, Case{"nan", "0.1", kS, FixedStatus::bad_format, 0},
        Case{"12345678901234567890123e5", "1", kS, FixedStatus::bad_format, 0},
        Case{"1.00000000000000000000000x", "0.01", kS, FixedStatus::bad_format, 0},
        Case{"-0.5", "0.1", kU, FixedStatus::negative, 0}),
    [](const ::testing::TestParamInfo<Case>& p) {
      std::string name = std::to_string(p.index) + "_" + std::string(hftx::to_string(p.param.status));
      for (const char* c = p.param.text; *c != 0 && name.size() < 40; ++c)
        name += std::isalnum(static_cast<unsigned char>(*c)) ? *c : '_';
      return name;
    });

TEST(FixedPoint, FormatsExactly) {
  const Scale tick = Scale::from_step("0.01");
  EXPECT_EQ(hftx::format_fixed(6183763, tick), "61837.63");
  EXPECT_EQ(hftx::format_fixed(5, tick), "0.05");
  EXPECT_EQ(hftx::format_fixed(-5, tick), "-0.05");
  EXPECT_EQ(hftx::format_fixed(0, tick), "0.00");
  EXPECT_EQ(hftx::format_fixed(INT64_MAX, tick), "92233720368547758.07");
  EXPECT_EQ(hftx::format_fixed(INT64_MIN, tick), "-92233720368547758.08");
  EXPECT_EQ(hftx::format_fixed(3, Scale::from_step("0.25")), "0.75");
  EXPECT_EQ(hftx::format_fixed(INT64_MAX, Scale::from_step("25")), "230584300921369395175");
  EXPECT_EQ(hftx::format_fixed(7, Scale{}), "7");
  EXPECT_EQ(hftx::format_fixed(1, Scale::with_decimals(18)), "0.000000000000000001");
}

TEST(FixedPoint, RoundTripsRandomValues) {
  std::mt19937_64 rng(42);
  const char* steps[] = {"1", "0.01", "0.00001", "0.5", "0.25", "25", "0.00000001", "0.000000000000000001"};
  for (const char* step : steps) {
    const Scale scale = Scale::from_step(step);
    for (int i = 0; i < 20'000; ++i) {
      // Values whose decimal text fits int64 in 10^-decimals units: the range parse accepts.
      const std::int64_t limit = INT64_MAX / scale.multiplier();
      const std::int64_t raw = static_cast<std::int64_t>(rng() % static_cast<std::uint64_t>(limit)) *
                               (rng() & 1 ? 1 : -1) >> (rng() % 60);
      const std::string text = hftx::format_fixed(raw, scale);
      std::int64_t back = 0;
      ASSERT_EQ(hftx::parse_fixed(text, scale, back), FixedStatus::ok) << text << " at " << step;
      ASSERT_EQ(back, raw) << text << " at " << step;
    }
  }
}

TEST(FixedPoint, ScaleFromStep) {
  EXPECT_EQ(Scale::from_step("0.01").decimals(), 2);
  EXPECT_EQ(Scale::from_step("0.01").multiplier(), 1);
  EXPECT_EQ(Scale::from_step("0.00001000").decimals(), 5);
  EXPECT_EQ(Scale::from_step("0.5").multiplier(), 5);
  EXPECT_EQ(Scale::from_step("25").decimals(), 0);
  EXPECT_EQ(Scale::from_step("25").multiplier(), 25);
  EXPECT_EQ(Scale::from_step("010.0").multiplier(), 10);
  EXPECT_EQ(Scale::from_step("0.01").step_string(), "0.01");
  EXPECT_EQ(Scale::from_step("0.5").step_string(), "0.5");
  for (const char* bad : {"", "0", "0.000", "-0.01", "1e-2", "abc", ".5", "5.", "0.0000000000000000001"}) {
    EXPECT_THROW((void)Scale::from_step(bad), hftx::ConfigError) << bad;
  }
  try {
    (void)Scale::from_step("1e-2");
    FAIL();
  } catch (const hftx::ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("'1e-2'"), std::string::npos) << e.what();
  }
  EXPECT_THROW((void)Scale::with_decimals(19), hftx::ConfigError);
}

TEST(FixedPoint, ThrowingHelperNamesTheProblem) {
  const Scale tick = Scale::from_step("0.01");
  EXPECT_EQ(hftx::parse_fixed_or_throw("1.5", tick, Sign::unsigned_only, "price"), 150);
  try {
    (void)hftx::parse_fixed_or_throw("61837.635", tick, Sign::unsigned_only, "price");
    FAIL();
  } catch (const hftx::ParseError& e) {
    EXPECT_STREQ(e.what(), "price '61837.635' is not a multiple of the step 0.01");
  }
  EXPECT_THROW((void)hftx::parse_fixed_or_throw("1e5", tick), hftx::ParseError);
  EXPECT_THROW((void)hftx::parse_fixed_or_throw("", tick), hftx::ParseError);
  EXPECT_THROW((void)hftx::parse_fixed_or_throw("-1", tick, Sign::unsigned_only), hftx::ParseError);
}

TEST(FixedPoint, StrongTypes) {
  hftx::Price a(100), b(250);
  EXPECT_LT(a, b);
  EXPECT_EQ((a + b).raw(), 350);
  EXPECT_EQ((b - a).raw(), 150);
  EXPECT_EQ((-a).raw(), -100);
  a += b;
  EXPECT_EQ(a.raw(), 350);
  hftx::Qty q;
  ASSERT_EQ(hftx::parse_fixed("0.00100000", Scale::from_step("0.00001"), q, Sign::unsigned_only), FixedStatus::ok);
  EXPECT_EQ(q.raw(), 100);
  EXPECT_DOUBLE_EQ(hftx::to_double(6183763, Scale::from_step("0.01")), 61837.63);
}

}  // namespace
