// hftx/core/schema.hpp — a configuration described once: every key's name, type, default, bounds or choices and
// one line of doc, next to the struct it describes, visited by whatever needs the keys.
//
// Threading contract: constants and value types; a visitor lives on the thread that runs it (setup only).
//
// A configuration struct keeps its defaults as its own member initialisers and declares its keys in a
// `describe(C& c, V& v)` template beside it (C: the struct, const or not; V: any visitor). The visitors:
//  - schema::Checker (below): every bound, choice, pattern and format the keys declare, every problem at once
//    (SessionConfig::validate(), RiskConfig::validate(), LatencyConfig::validate());
//  - schema::Collector (below): the flat list of keys with their defaults (the Python schema, hftx.config);
//  - the binding's reader (cpp/bindings/config.cpp): a Python dict into the struct, key by key.
// A visitor has four calls:
//    v.key(member, Key{...})              one key; the member's C++ type gives its type (bool, integer, number,
//                                         text, an enum named by Key::choices, a list of integers, a map of numbers)
//    v.block("name", "doc", [&] {...})    a nested mapping: the keys visited inside are name.<key>
//    v.list(vector, Key{...}, f)          a list of mappings: f(item) describes one item's keys
//    v.venue_options(venue_config)        the venue's own keys (venue/venue.hpp OptionSpec), flat in the block
// Nothing here is on a hot path: visitors allocate and may throw.
#pragma once

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <unordered_map>
#include <utility>
#include <variant>
#include <vector>

namespace hftx::schema {

inline constexpr double kNoMin = -std::numeric_limits<double>::infinity();
inline constexpr double kNoMax = std::numeric_limits<double>::infinity();
inline constexpr std::size_t kNoLimit = std::numeric_limits<std::size_t>::max();

// What a text key holds beyond its pattern (checked by code both in C++ and in Python).
enum class Format : std::uint8_t {
  none,
  decimal_step,  // a positive decimal grid step such as "0.01": C++ parses it (Scale::from_step)
};

// A key whose valid values are the registry's (venue/venue.hpp), not the schema's: the venue checks it
// (venue::check), and Python reads the rule from hftx.venues().
enum class VenueRule : std::uint8_t {
  none,
  name,              // "simulator" or a registered venue
  dialect,           // a registered venue (the protocol the simulator speaks)
  market,            // one of the protocol venue's markets
  client_id_prefix,  // the protocol venue's client id prefix rule
  symbol,            // the protocol venue's instrument names
  snapshot_depth,    // one of the protocol venue's snapshot depths (if it has any)
};

// One key. Designated initialisers name what applies: Key{.name = "burst", .doc = "...", .min = 1, .max = 1e6}.
struct Key {
  std::string_view name = {};  // the last part of the key's path
  std::string_view doc = {};   // one line: the schema's, the config files' comments
  // Numbers (and each item of a list of integers): min <= value <= max, or min < value with min_exclusive.
  double min = kNoMin;
  double max = kNoMax;
  bool min_exclusive = false;
  // Text: characters; lists: items.
  std::size_t min_size = 0;
  std::size_t max_size = kNoLimit;
  // Text: one of these. Enums: the names of the values 0, 1, 2... in order.
  std::span<const std::string_view> choices = {};
  // Text (a map: its keys): must match this regular expression whole (ECMAScript in C++, `re` in Python: keep to
  // their common part); `expected` says what a mismatch is told ("the NAME of an environment variable").
  std::string_view pattern = {};
  std::string_view expected = {};
  Format format = Format::none;
  // A list: each item at most once; names the item in messages ("CPU").
  std::string_view unique = {};
  VenueRule venue = VenueRule::none;
  // No default: the key must be given (the struct's initialiser is a placeholder, such as an empty symbol).
  bool required = false;
};

// `C` describes `S`: S itself or const S (one describe() serves readers, which write, and checkers, which read).
template <class C, class S>
concept Of = std::same_as<std::remove_const_t<C>, S>;

// ---- types -----------------------------------------------------------------------------------------------

enum class Type : std::uint8_t { boolean, integer, number, text, choice, integer_list, number_map, block, list };

[[nodiscard]] std::string_view to_string(Type t) noexcept;
[[nodiscard]] std::string_view to_string(Format f) noexcept;     // "", "decimal_step"
[[nodiscard]] std::string_view to_string(VenueRule r) noexcept;  // "", "name", "dialect", "market", ...

template <class T>
inline constexpr bool kIsIntegerList = false;
template <std::integral I>
inline constexpr bool kIsIntegerList<std::vector<I>> = true;

template <class T>
inline constexpr bool kIsNumberMap = false;
template <class K, std::floating_point D, class... R>
inline constexpr bool kIsNumberMap<std::unordered_map<K, D, R...>> = std::same_as<K, std::string>;
template <class K, std::floating_point D, class... R>
inline constexpr bool kIsNumberMap<std::map<K, D, R...>> = std::same_as<K, std::string>;

// The schema type of a member of C++ type T (cv-qualifiers ignored).
template <class T>
[[nodiscard]] constexpr Type type_of() noexcept {
  using U = std::remove_cvref_t<T>;
  if constexpr (std::same_as<U, bool>) return Type::boolean;
  else if constexpr (std::integral<U>) return Type::integer;
  else if constexpr (std::floating_point<U>) return Type::number;
  else if constexpr (std::same_as<U, std::string>) return Type::text;
  else if constexpr (std::is_enum_v<U>) return Type::choice;
  else if constexpr (kIsIntegerList<U>) return Type::integer_list;
  else if constexpr (kIsNumberMap<U>) return Type::number_map;
  else static_assert(sizeof(U) == 0, "schema: no schema type for this member type");
}

// ---- problems --------------------------------------------------------------------------------------------

// One thing wrong with a configuration: `path = value: expected ...`.
struct Problem {
  std::string path;      // instruments[0].price_step
  std::string value;     // as the message quotes it ('0.0x', 5, true); empty when there is none to show
  std::string expected;  // what was expected, in words

  [[nodiscard]] std::string text() const;
};

// Throws one ConfigError listing every problem (one per line after a count when there are several); returns when
// there is none.
void throw_if_any(std::span<const Problem> problems);

// The text a message quotes for a value.
[[nodiscard]] std::string quoted(std::string_view text);
[[nodiscard]] std::string number_text(double v);
// 'a', 'b', 'c'
[[nodiscard]] std::string choice_list(std::span<const std::string_view> choices);

// ---- the checker -----------------------------------------------------------------------------------------

// Checks values against their keys. Out of line, by type (cpp/src/core/schema.cpp).
void check_integer(const std::string& path, long double v, const Key& k, std::vector<Problem>& out);
void check_number(const std::string& path, double v, const Key& k, std::vector<Problem>& out);
void check_text(const std::string& path, const std::string& v, const Key& k, std::vector<Problem>& out);
void check_choice(const std::string& path, std::size_t index, const Key& k, std::vector<Problem>& out);
void check_integer_list(const std::string& path, std::span<const long double> v, const Key& k,
                        std::vector<Problem>& out);
void check_map_key(const std::string& path, const std::string& key, const Key& k, std::vector<Problem>& out);
void check_list_size(const std::string& path, std::size_t n, const Key& k, std::vector<Problem>& out);

// A visitor that checks a struct's values against its keys and collects every problem. What a VenueRule adds
// and the venue's own keys are the venue's to check (venue::check).
class Checker {
 public:
  // `prefix`: the path of the struct described ("risk" for a RiskConfig on its own; "" for a whole SessionConfig).
  explicit Checker(std::string prefix = {}) : path_(std::move(prefix)) {}

  template <class T>
  void key(const T& v, const Key& k) {
    using U = std::remove_cvref_t<T>;
    const std::string path = join(k.name);
    if constexpr (type_of<U>() == Type::boolean) {
      (void)v;
    } else if constexpr (type_of<U>() == Type::integer) {
      check_integer(path, static_cast<long double>(v), k, problems_);
    } else if constexpr (type_of<U>() == Type::number) {
      check_number(path, static_cast<double>(v), k, problems_);
    } else if constexpr (type_of<U>() == Type::text) {
      check_text(path, v, k, problems_);
    } else if constexpr (type_of<U>() == Type::choice) {
      check_choice(path, static_cast<std::size_t>(v), k, problems_);
    } else if constexpr (type_of<U>() == Type::integer_list) {
      std::vector<long double> items(v.begin(), v.end());
      check_integer_list(path, items, k, problems_);
    } else if constexpr (type_of<U>() == Type::number_map) {
      for (const auto& [name, value] : v) {
        check_map_key(path, name, k, problems_);
        check_number(path + "." + name, static_cast<double>(value), Key{}, problems_);
      }
    }
  }

  template <class F>
  void block(std::string_view name, std::string_view /*doc*/, F&& body) {
    const std::size_t mark = path_.size();
    path_ = join(name);
    std::forward<F>(body)();
    path_.resize(mark);
  }

  template <class Vec, class F>
  void list(const Vec& items, const Key& k, F&& item) {
    const std::string path = join(k.name);
    check_list_size(path, items.size(), k, problems_);
    const std::string saved = path_;
    for (std::size_t i = 0; i < items.size(); ++i) {
      path_ = path + "[" + std::to_string(i) + "]";
      item(items[i]);
    }
    path_ = saved;
  }

  template <class VenueConfig>
  void venue_options(const VenueConfig& /*c*/) {}

  void add(std::string path, std::string value, std::string expected) {
    problems_.push_back({std::move(path), std::move(value), std::move(expected)});
  }
  [[nodiscard]] const std::vector<Problem>& problems() const& noexcept { return problems_; }
  [[nodiscard]] std::vector<Problem> problems() && noexcept { return std::move(problems_); }
  void throw_if_any() const { schema::throw_if_any(problems_); }

 private:
  [[nodiscard]] std::string join(std::string_view name) const {
    return path_.empty() ? std::string(name) : path_ + "." + std::string(name);
  }

  std::string path_;
  std::vector<Problem> problems_;
};

// ---- the collector ---------------------------------------------------------------------------------------

// A default value as the schema gives it (none: a block, a list, a required key, an empty map).
using Value = std::variant<std::monostate, bool, std::int64_t, double, std::string, std::vector<std::int64_t>>;

struct Entry {
  std::string path;  // hft.latency.sample_rate; a list's items: instruments[].symbol
  Type type = Type::block;
  Key key;           // for blocks: name and doc only
  Value value;       // the default
  bool venue_options = false;  // a block that also holds the venue's own keys (venue/venue.hpp)
};

// Visits a default-constructed struct (a list: one default item) and lists every block, list and key in visiting
// order, with the struct's initialisers as the defaults.
class Collector {
 public:
  template <class T>
  void key(const T& v, const Key& k) {
    using U = std::remove_cvref_t<T>;
    Entry e{join(k.name), type_of<U>(), k, {}};
    if (!k.required) {
      if constexpr (type_of<U>() == Type::boolean) e.value = v;
      else if constexpr (type_of<U>() == Type::integer) e.value = static_cast<std::int64_t>(v);
      else if constexpr (type_of<U>() == Type::number) e.value = static_cast<double>(v);
      else if constexpr (type_of<U>() == Type::text) e.value = v;
      else if constexpr (type_of<U>() == Type::choice)
        e.value = std::string(static_cast<std::size_t>(v) < k.choices.size() ? k.choices[static_cast<std::size_t>(v)]
                                                                              : std::string_view{});
      else if constexpr (type_of<U>() == Type::integer_list) e.value = std::vector<std::int64_t>(v.begin(), v.end());
    }
    entries_.push_back(std::move(e));
  }

  template <class F>
  void block(std::string_view name, std::string_view doc, F&& body) {
    entries_.push_back(Entry{join(name), Type::block, Key{.name = name, .doc = doc}, {}});
    const std::size_t mark = path_.size();
    path_ = join(name);
    std::forward<F>(body)();
    path_.resize(mark);
  }

  template <class Vec, class F>
  void list(const Vec& /*items*/, const Key& k, F&& item) {
    entries_.push_back(Entry{join(k.name), Type::list, k, {}});
    const std::size_t mark = path_.size();
    path_ = join(k.name) + "[]";
    const typename Vec::value_type prototype{};
    std::forward<F>(item)(prototype);
    path_.resize(mark);
  }

  template <class VenueConfig>
  void venue_options(const VenueConfig& /*c*/) {
    // The enclosing block's entry: the venue's own keys sit beside its common ones.
    for (auto it = entries_.rbegin(); it != entries_.rend(); ++it)
      if (it->type == Type::block && it->path == path_) {
        it->venue_options = true;
        return;
      }
  }

  [[nodiscard]] const std::vector<Entry>& entries() const& noexcept { return entries_; }
  [[nodiscard]] std::vector<Entry> entries() && noexcept { return std::move(entries_); }

 private:
  [[nodiscard]] std::string join(std::string_view name) const {
    return path_.empty() ? std::string(name) : path_ + "." + std::string(name);
  }

  std::string path_;
  std::vector<Entry> entries_;
};

// Every key of a struct type, with its defaults: collect<SessionConfig>().
template <class S>
[[nodiscard]] std::vector<Entry> collect() {
  const S s{};
  Collector c;
  describe(s, c);
  return std::move(c).entries();
}

}  // namespace hftx::schema
