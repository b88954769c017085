// The session configuration's one description (session/config.hpp describe(), core/schema.hpp): every bound,
// choice, pattern and format it declares is enforced by validate(); every member of the configuration structs is
// described; the defaults the schema gives are the structs' own and round-trip through it; the venue block is
// checked against the registry (a key of another venue, an unknown venue or market); every problem at once.
#include <gtest/gtest.h>

#include <array>
#include <cmath>
#include <cstddef>
#include <limits>
#include <map>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "hftx/core/error.hpp"
#include "hftx/core/schema.hpp"
#include "hftx/session/config.hpp"

namespace hftx::session {
namespace {

using schema::Entry;
using schema::Key;
using schema::Problem;
using schema::Type;

// A configuration with no problem: one instrument, a strategy on it, the URLs a session connects to.
SessionConfig valid_config() {
  SessionConfig c;
  c.venue.market_url = "ws://127.0.0.1:9000/stream";
  c.venue.api_url = "ws://127.0.0.1:9000/ws-api/v3";
  c.instruments.push_back(InstrumentConfig{"BTCUSDT", "0.01", "0.00000001", "0.00001", 1000});
  StrategyConfig mm;
  mm.type = "market_maker";
  mm.instrument = "BTCUSDT";
  mm.params = {{"spread_bps", 1.0}};
  c.strategies.push_back(mm);
  return c;
}

bool has_problem(const std::vector<Problem>& ps, const std::string& path) {
  for (const Problem& p : ps)
    if (p.path == path) return true;
  return false;
}

std::string all_text(const std::vector<Problem>& ps) {
  std::string out;
  for (const Problem& p : ps) out += "\n  " + p.text();
  return out;
}

// A value to set: a number (integer or not), text, a list of integers, a choice's index, or a bool.
using Value = std::variant<long double, std::string, std::vector<long double>, std::size_t, bool>;

// Sets the key at `path` (list items as instruments[0].symbol; an integer list's first item as
// hft.performance.isolated_cores[0]) to a value, where the member's C++ type can hold it. Choice keys take a
// choice index (std::size_t), text keys text.
class Setter {
 public:
  Setter(std::string path, Value value) : target_(std::move(path)), value_(std::move(value)) {}

  template <class T>
  void key(T& m, const Key& k) {
    const std::string path = join(k.name);
    constexpr Type type = schema::type_of<T>();
    if constexpr (type == Type::boolean) {
      if (path == target_) {
        m = std::get<bool>(value_);
        done_ = true;
      }
    } else if constexpr (type == Type::integer) {
      if (path == target_) assign_integer(m, std::get<long double>(value_));
    } else if constexpr (type == Type::number) {
      if (path == target_) {
        m = static_cast<T>(std::get<long double>(value_));
        done_ = true;
      }
    } else if constexpr (type == Type::text) {
      if (path == target_) {
        m = std::get<std::string>(value_);
        done_ = true;
      }
    } else if constexpr (type == Type::choice) {
      if (path == target_) {
        m = static_cast<T>(std::get<std::size_t>(value_));
        done_ = true;
      }
    } else if constexpr (type == Type::integer_list) {
      if (path == target_) {
        m.clear();
        for (long double x : std::get<std::vector<long double>>(value_)) m.push_back(static_cast<int>(x));
        done_ = true;
      } else if (path + "[0]" == target_) {
        typename T::value_type x{};
        if (assign_integer(x, std::get<long double>(value_))) m.assign(1, x);
      }
    }
  }

  template <class F>
  void block(std::string_view name, std::string_view, F&& body) {
    const std::string saved = path_;
    path_ = join(name);
    body();
    path_ = saved;
  }

  template <class Vec, class F>
  void list(Vec& items, const Key& k, F&& item) {
    const std::string saved = path_;
    for (std::size_t i = 0; i < items.size(); ++i) {
      path_ = join(k.name) + "[" + std::to_string(i) + "]";
      item(items[i]);
    }
    path_ = saved;
  }

  void venue_options(venue::VenueConfig&) {}

  [[nodiscard]] bool done() const { return done_; }

 private:
  template <class T>
  bool assign_integer(T& m, long double v) {
    if (v < static_cast<long double>(std::numeric_limits<T>::min()) ||
        v > static_cast<long double>(std::numeric_limits<T>::max()))
      return false;  // the member's type cannot hold it: the type is the bound
    m = static_cast<T>(v);
    done_ = true;
    return true;
  }
  [[nodiscard]] std::string join(std::string_view name) const {
    return path_.empty() ? std::string(name) : path_ + "." + std::string(name);
  }

  std::string target_;
  Value value_;
  std::string path_;
  bool done_ = false;
};

// valid_config() with one key set; nullopt-like `false` when the member cannot hold the value.
bool with_key(SessionConfig& c, const std::string& path, Value v) {
  Setter s(path, std::move(v));
  describe(c, s);
  return s.done();
}

// A schema path as the configuration of valid_config() spells it: instruments[].x -> instruments[0].x.
std::string concrete(std::string path) {
  for (std::size_t at = path.find("[]"); at != std::string::npos; at = path.find("[]"))
    path.replace(at, 2, "[0]");
  return path;
}

TEST(SessionConfig, ValidConfigHasNoProblem) {
  const auto ps = valid_config().problems();
  EXPECT_TRUE(ps.empty()) << all_text(ps);
  EXPECT_NO_THROW(valid_config().validate());
}

// Every numeric bound the schema declares: just outside is a problem naming the key, at the bound is not.
TEST(SessionConfig, EveryBoundIsEnforced) {
  std::size_t checked = 0;
  for (const Entry& e : schema::collect<SessionConfig>()) {
    if (e.type != Type::integer && e.type != Type::number && e.type != Type::integer_list) continue;
    const Key& k = e.key;
    const bool integer = e.type != Type::number;
    const std::string path = concrete(e.path) + (e.type == Type::integer_list ? "[0]" : "");
    const auto check = [&](long double outside, long double inside) {
      SessionConfig bad = valid_config();
      if (with_key(bad, path, outside)) {
        const auto ps = bad.problems();
        EXPECT_TRUE(has_problem(ps, path)) << path << " = " << static_cast<double>(outside) << all_text(ps);
        ++checked;
      }
      SessionConfig good = valid_config();
      ASSERT_TRUE(with_key(good, path, inside)) << path;
      const auto ps = good.problems();
      EXPECT_FALSE(has_problem(ps, path)) << path << " = " << static_cast<double>(inside) << all_text(ps);
    };
    if (std::isfinite(k.min)) {
      const long double lo = k.min;
      if (integer)
        check(k.min_exclusive ? lo : lo - 1, k.min_exclusive ? lo + 1 : lo);
      else
        check(k.min_exclusive ? lo : std::nextafter(k.min, -INFINITY),
              k.min_exclusive ? std::nextafter(k.min, INFINITY) : lo);
    }
    if (std::isfinite(k.max)) {
      const long double hi = k.max;
      check(integer ? hi + 1 : std::nextafter(k.max, INFINITY), hi);
    }
  }
  // Every risk, latency, websocket, threading, session and instrument bound: unsigned members whose type is their
  // lower bound (max_traces >= 0) are the only ones skipped.
  EXPECT_GE(checked, 30u);
}

// Choices, required keys, patterns, decimal steps, list sizes, unique items, map keys.
TEST(SessionConfig, EveryChoicePatternAndFormatIsEnforced) {
  std::size_t checked = 0;
  for (const Entry& e : schema::collect<SessionConfig>()) {
    const Key& k = e.key;
    const std::string path = concrete(e.path);
    std::vector<Value> bad_values;
    if (e.type == Type::choice) bad_values.emplace_back(k.choices.size());
    if (e.type == Type::text && !k.choices.empty()) bad_values.emplace_back(std::string("arbitrage"));
    if (e.type == Type::text && k.required) bad_values.emplace_back(std::string());
    if (e.type == Type::text && !k.pattern.empty()) bad_values.emplace_back(std::string("\t"));
    if (e.type == Type::text && k.format == schema::Format::decimal_step) {
      bad_values.emplace_back(std::string("0.0x"));
      bad_values.emplace_back(std::string("-0.01"));
      bad_values.emplace_back(std::string("0"));
    }
    if (e.type == Type::text && k.max_size != schema::kNoLimit)
      bad_values.emplace_back(std::string(k.max_size + 1, 'A'));
    if (e.type == Type::integer_list && !k.unique.empty()) bad_values.emplace_back(std::vector<long double>{1, 1});
    for (Value& v : bad_values) {
      SessionConfig c = valid_config();
      ASSERT_TRUE(with_key(c, path, v)) << path;
      const auto ps = c.problems();
      EXPECT_TRUE(has_problem(ps, path)) << path << all_text(ps);
      ++checked;
    }
  }
  EXPECT_GE(checked, 15u);

  SessionConfig c = valid_config();
  c.instruments.clear();
  c.strategies.clear();
  EXPECT_TRUE(has_problem(c.problems(), "instruments")) << all_text(c.problems());
  c = valid_config();
  c.strategies[0].params["Bad-Key"] = 1;
  EXPECT_TRUE(has_problem(c.problems(), "strategies[0].params.Bad-Key")) << all_text(c.problems());
  c = valid_config();
  c.strategies[0].params["spread_bps"] = std::numeric_limits<double>::infinity();
  EXPECT_TRUE(has_problem(c.problems(), "strategies[0].params.spread_bps")) << all_text(c.problems());
}

// Cross-key checks: a symbol listed twice, a strategy on an unconfigured instrument, a lot step off the quantity
// grid, pipelined with no worker, too many instances, no URL to connect to.
TEST(SessionConfig, CrossKeyChecks) {
  SessionConfig c = valid_config();
  c.instruments.push_back(c.instruments[0]);
  EXPECT_TRUE(has_problem(c.problems(), "instruments[1].symbol"));
  c = valid_config();
  c.strategies[0].instrument = "ETHUSDT";
  const auto ps = c.problems();
  ASSERT_TRUE(has_problem(ps, "strategies[0].instrument"));
  EXPECT_NE(all_text(ps).find("'BTCUSDT'"), std::string::npos) << all_text(ps);
  c = valid_config();
  c.instruments[0].qty_step = "0.001";
  c.instruments[0].lot_step = "0.0001";
  EXPECT_TRUE(has_problem(c.problems(), "instruments[0].lot_step"));
  c = valid_config();
  c.threading.mode = ThreadingMode::pipelined;
  c.threading.workers = 0;
  EXPECT_TRUE(has_problem(c.problems(), "threading.workers"));
  c.threading.mode = ThreadingMode::inline_mode;
  EXPECT_FALSE(has_problem(c.problems(), "threading.workers"));
  c = valid_config();
  c.strategies[0].count = 100'000;
  const StrategyConfig many = c.strategies[0];
  c.strategies.resize(11, many);
  EXPECT_TRUE(has_problem(c.problems(), "strategies"));
  c.strategies.resize(10);
  EXPECT_FALSE(has_problem(c.problems(), "strategies"));
  c = valid_config();
  c.venue.market_url.clear();
  c.venue.api_url.clear();
  EXPECT_TRUE(has_problem(c.problems(), "venue.market_url"));
  EXPECT_TRUE(has_problem(c.problems(), "venue.api_url"));
  c = valid_config();
  c.latency.lowest_ns = 0;  // not a key: the histogram's range, checked once the keys are right
  EXPECT_TRUE(has_problem(c.problems(), "hft.latency"));
}

// validate() says everything at once: the count, then one line per problem.
TEST(SessionConfig, EveryProblemAtOnce) {
  SessionConfig c = valid_config();
  c.risk.max_order_qty = 0;
  c.threading.queue_capacity = 1;
  c.instruments[0].price_step = "0.0x";
  c.venue.options["depth_stream"] = "depth@1ms";
  try {
    c.validate();
    FAIL() << "no error";
  } catch (const ConfigError& e) {
    const std::string msg = e.what();
    EXPECT_EQ(msg.rfind("4 problems in the configuration:", 0), 0u) << msg;
    for (const char* frag :
         {"risk.max_order_qty = 0: expected a value > 0", "threading.queue_capacity = 1: expected a value >= 2",
          "instruments[0].price_step = '0.0x'", "venue.depth_stream = 'depth@1ms'"})
      EXPECT_NE(msg.find(frag), std::string::npos) << frag << " not in " << msg;
  }
  // One problem: the problem alone (what a C++ caller checks for).
  c = valid_config();
  c.risk.burst = 0;
  try {
    c.validate();
    FAIL() << "no error";
  } catch (const ConfigError& e) {
    EXPECT_STREQ(e.what(), "risk.burst = 0: expected a value >= 1");
  }
}

// RiskConfig and LatencyConfig check their own keys through the same description.
TEST(SessionConfig, BlocksValidateThemselves) {
  risk::RiskConfig r;
  r.burst = 0;
  r.reject_storm = -1;
  try {
    r.validate();
    FAIL() << "no error";
  } catch (const ConfigError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("risk.burst = 0"), std::string::npos) << msg;
    EXPECT_NE(msg.find("risk.reject_storm = -1"), std::string::npos) << msg;
  }
  LatencyConfig l;
  l.sample_rate = 2;
  EXPECT_THROW(l.validate(), ConfigError);
}

// ---- every member is described --------------------------------------------------------------------------

// Counts an aggregate's members: the most initialisers T{...} takes from a value convertible to anything.
struct AnyMember {
  template <class T>
  operator T() const;  // NOLINT: unevaluated only
};
template <class T, class... A>
constexpr std::size_t member_count() {
  if constexpr (requires { T{A{}..., AnyMember{}}; })
    return member_count<T, A..., AnyMember>();
  else
    return sizeof...(A);
}

// Counts the keys, lists and venue-option hooks describe() visits, nested describe()s included.
struct Counter {
  std::size_t n = 0;
  template <class T>
  void key(const T&, const Key&) { ++n; }
  template <class F>
  void block(std::string_view, std::string_view, F&& body) { body(); }
  template <class Vec, class F>
  void list(const Vec&, const Key&, F&&) { ++n; }
  void venue_options(const venue::VenueConfig&) { ++n; }
};
template <class S>
std::size_t described() {
  const S s{};
  Counter c;
  describe(s, c);
  return c.n;
}

TEST(SessionConfig, EveryMemberIsDescribed) {
  EXPECT_EQ(described<PerformanceConfig>(), member_count<PerformanceConfig>());
  // The histogram's range (lowest_ns, highest_ns, significant_digits) is C++'s, not a configuration key.
  EXPECT_EQ(described<LatencyConfig>() + 3, member_count<LatencyConfig>());
  EXPECT_EQ(described<WebSocketConfig>(), member_count<WebSocketConfig>());
  EXPECT_EQ(described<venue::VenueConfig>(), member_count<venue::VenueConfig>());  // options: venue_options()
  EXPECT_EQ(described<InstrumentConfig>(), member_count<InstrumentConfig>());
  EXPECT_EQ(described<StrategyConfig>(), member_count<StrategyConfig>());
  EXPECT_EQ(described<ThreadingConfig>(), member_count<ThreadingConfig>());
  EXPECT_EQ(described<risk::RiskConfig>(), member_count<risk::RiskConfig>());
  // SessionConfig's own members: the six keys and two lists it describes itself, and the six blocks above
  // (performance, latency, websocket, venue, risk, threading). A new member fails here until it is described.
  EXPECT_EQ(member_count<SessionConfig>(), 6u + 2u + 6u);
  EXPECT_EQ(described<SessionConfig>(), 6u + 2u + described<PerformanceConfig>() + described<LatencyConfig>() +
                                            described<WebSocketConfig>() + described<venue::VenueConfig>() +
                                            described<risk::RiskConfig>() + described<ThreadingConfig>());
}

// ---- defaults ----------------------------------------------------------------------------------------------

// Every key's value in a configuration, by concrete path (a list's actual items: instruments[0].symbol), as the
// schema's Collector renders a default.
class Values {
 public:
  template <class T>
  void key(const T& m, const Key& k) {
    schema::Collector one;
    one.key(m, Key{.name = k.name, .choices = k.choices});
    values_[join(k.name)] = std::move(one).entries().front().value;
  }
  template <class F>
  void block(std::string_view name, std::string_view, F&& body) {
    const std::string saved = path_;
    path_ = join(name);
    body();
    path_ = saved;
  }
  template <class Vec, class F>
  void list(const Vec& items, const Key& k, F&& item) {
    const std::string saved = path_;
    for (std::size_t i = 0; i < items.size(); ++i) {
      path_ = join(k.name) + "[" + std::to_string(i) + "]";
      item(items[i]);
    }
    path_ = saved;
  }
  void venue_options(const venue::VenueConfig&) {}
  [[nodiscard]] const std::map<std::string, schema::Value>& values() const { return values_; }

 private:
  [[nodiscard]] std::string join(std::string_view name) const {
    return path_.empty() ? std::string(name) : path_ + "." + std::string(name);
  }
  std::string path_;
  std::map<std::string, schema::Value> values_;
};

std::map<std::string, schema::Value> values_of(const SessionConfig& c) {
  Values v;
  describe(c, v);
  return v.values();
}

// The schema's defaults are the structs' initialisers, and writing them back into a configuration whose every key
// was changed gives the default configuration again.
TEST(SessionConfig, DefaultsRoundTrip) {
  const std::vector<Entry> defaults = schema::collect<SessionConfig>();
  const auto find = [&](std::string_view path) -> const Entry& {
    for (const Entry& e : defaults)
      if (e.path == path) return e;
    ADD_FAILURE() << path << " not in the schema";
    return defaults.front();
  };
  EXPECT_EQ(std::get<std::int64_t>(find("risk.burst").value), risk::RiskConfig{}.burst);
  EXPECT_EQ(std::get<double>(find("hft.latency.sample_rate").value), LatencyConfig{}.sample_rate);
  EXPECT_EQ(std::get<std::string>(find("instruments[].price_step").value), InstrumentConfig{}.price_step);
  EXPECT_EQ(std::get<std::string>(find("threading.mode").value), "inline");
  EXPECT_EQ(std::get<std::string>(find("venue.name").value), venue::kSimulator);
  EXPECT_TRUE(std::holds_alternative<std::monostate>(find("instruments[].symbol").value));  // required
  EXPECT_EQ(find("venue").venue_options, true);

  // Change every key (one instrument and strategy, so that the lists' items count too).
  SessionConfig changed;
  changed.instruments.emplace_back();
  changed.strategies.emplace_back();
  std::size_t keys = 0;
  for (const Entry& e : defaults) {
    const std::string path = concrete(e.path);
    bool set = false;
    switch (e.type) {
      case Type::integer:
      case Type::number: {
        const long double v = std::isfinite(e.key.max) ? e.key.max : 7;
        set = with_key(changed, path, v);
        break;
      }
      case Type::text: set = with_key(changed, path, std::string("changed")); break;
      case Type::choice: set = with_key(changed, path, std::size_t{1}); break;
      case Type::integer_list: set = with_key(changed, path, std::vector<long double>{3, 5}); break;
      case Type::boolean: set = with_key(changed, path, !std::get<bool>(e.value)); break;
      default: continue;
    }
    EXPECT_TRUE(set) << path;
    ++keys;
  }
  EXPECT_GE(keys, 45u);
  const auto before = values_of(changed);
  std::size_t differing = 0;
  for (const Entry& e : defaults) {
    if (e.type == Type::block || e.type == Type::list || e.type == Type::number_map) continue;
    const auto it = before.find(concrete(e.path));
    ASSERT_NE(it, before.end()) << e.path;
    EXPECT_FALSE(it->second == e.value) << e.path << " did not change";
    ++differing;
  }
  EXPECT_EQ(differing, keys);

  // Back to the defaults through the schema.
  for (const Entry& e : defaults) {
    const std::string path = concrete(e.path);
    if (const auto* b = std::get_if<bool>(&e.value)) {
      EXPECT_TRUE(with_key(changed, path, *b)) << path;
    } else if (const auto* i = std::get_if<std::int64_t>(&e.value)) {
      EXPECT_TRUE(with_key(changed, path, static_cast<long double>(*i))) << path;
    } else if (const auto* d = std::get_if<double>(&e.value)) {
      EXPECT_TRUE(with_key(changed, path, static_cast<long double>(*d))) << path;
    } else if (const auto* s = std::get_if<std::string>(&e.value)) {
      if (e.type == Type::choice) {
        std::size_t index = 0;
        while (index < e.key.choices.size() && e.key.choices[index] != *s) ++index;
        EXPECT_TRUE(with_key(changed, path, index)) << path;
      } else {
        EXPECT_TRUE(with_key(changed, path, *s)) << path;
      }
    } else if (const auto* l = std::get_if<std::vector<std::int64_t>>(&e.value)) {
      EXPECT_TRUE(with_key(changed, path, std::vector<long double>(l->begin(), l->end()))) << path;
    }
  }
  const auto after = values_of(changed);
  for (const Entry& e : defaults) {
    if (e.type == Type::block || e.type == Type::list || e.type == Type::number_map || e.key.required) continue;
    const auto it = after.find(concrete(e.path));
    ASSERT_NE(it, after.end()) << e.path;
    EXPECT_TRUE(it->second == e.value) << e.path;
  }
}

// ---- the venue block against the registry -------------------------------------------------------------------

TEST(VenueConfig, UnknownVenueAndMarketNameTheOnesThatExist) {
  SessionConfig c = valid_config();
  c.venue.name = "kraken";
  auto ps = c.problems();
  ASSERT_TRUE(has_problem(ps, "venue.name")) << all_text(ps);
  std::string text = all_text(ps);
  EXPECT_NE(text.find("'kraken'"), std::string::npos) << text;
  EXPECT_NE(text.find("'simulator'"), std::string::npos) << text;
  for (const std::string& name : venue::names()) EXPECT_NE(text.find(schema::quoted(name)), std::string::npos) << text;

  c = valid_config();
  c.venue.dialect = "kraken";
  ps = c.problems();
  ASSERT_TRUE(has_problem(ps, "venue.dialect")) << all_text(ps);

  for (const venue::VenueInfo* v : venue::venues()) {
    c = valid_config();
    c.venue.dialect = std::string(v->name);
    c.venue.market = "moon";
    ps = c.problems();
    ASSERT_TRUE(has_problem(ps, "venue.market")) << all_text(ps);
    text = all_text(ps);
    for (const venue::MarketSpec& m : v->markets)
      EXPECT_NE(text.find(schema::quoted(m.name)), std::string::npos) << text;
  }
}

TEST(VenueConfig, OptionsAreTheProtocolVenues) {
  SessionConfig c = valid_config();
  c.venue.options["recv_window_ms"] = "60001";
  EXPECT_TRUE(has_problem(c.problems(), "venue.recv_window_ms"));
  c.venue.options["recv_window_ms"] = "60000";
  EXPECT_FALSE(has_problem(c.problems(), "venue.recv_window_ms"));
  // A key no venue declares.
  c.venue.options["depth_speed"] = "fast";
  auto ps = c.problems();
  ASSERT_TRUE(has_problem(ps, "venue.depth_speed"));
  EXPECT_NE(all_text(ps).find("not a venue key; binance's keys: depth_stream, session_logon, recv_window_ms"),
            std::string::npos)
      << all_text(ps);

  // A key of another registered venue, for every pair the registry has.
  for (const venue::VenueInfo* speaks : venue::venues())
    for (const venue::VenueInfo* other : venue::venues())
      for (const venue::OptionSpec& o : other->options) {
        if (speaks->option(o.key) != nullptr) continue;
        c = valid_config();
        c.venue.dialect = std::string(speaks->name);
        c.venue.options[std::string(o.key)] = std::string(o.default_value);
        ps = c.problems();
        ASSERT_TRUE(has_problem(ps, "venue." + std::string(o.key))) << all_text(ps);
        EXPECT_NE(all_text(ps).find("a key of venue '" + std::string(other->name) + "'"), std::string::npos);
      }
}

// The message for a key of another venue, from a venue that does not declare it: whose key it is, what the
// protocol's keys are, and the venues.
TEST(VenueConfig, ForeignKeyNamesItsVenue) {
  static constexpr std::array<venue::MarketSpec, 1> kMarkets{{{"spot", "wss://x/ws", "wss://x/api"}}};
  static constexpr std::array<std::string_view, 2> kChannels{"books", "bbo"};
  static constexpr std::array<venue::OptionSpec, 1> kOptions{
      {{"channel", venue::OptionKind::choice, "books", kChannels, 0, 0, "book channel"}}};
  const venue::VenueInfo other{
      "testvenue", "a venue of this test", kMarkets, kOptions, "^[A-Z]+$", nullptr, "", nullptr, {}};
  const std::string msg = venue::foreign_option(other, "depth_stream");
  EXPECT_NE(msg.find("a key of venue 'binance', but the session speaks 'testvenue'"), std::string::npos) << msg;
  EXPECT_NE(msg.find("testvenue's keys: channel"), std::string::npos) << msg;
  EXPECT_NE(msg.find("(venues: 'binance'"), std::string::npos) << msg;
}

TEST(VenueConfig, SymbolsDepthsAndPrefixAreTheVenues) {
  SessionConfig c = valid_config();
  c.instruments[0].symbol = "btc-usdt";
  c.strategies[0].instrument = "btc-usdt";
  c.instruments[0].snapshot_depth = 7;
  c.venue.client_id_prefix = "far-too-long-prefix-x";
  const auto ps = c.problems();
  EXPECT_TRUE(has_problem(ps, "instruments[0].symbol")) << all_text(ps);
  EXPECT_TRUE(has_problem(ps, "instruments[0].snapshot_depth")) << all_text(ps);
  EXPECT_TRUE(has_problem(ps, "venue.client_id_prefix")) << all_text(ps);
  EXPECT_NE(all_text(ps).find("binance depth limits"), std::string::npos) << all_text(ps);
}

}  // namespace
}  // namespace hftx::session
