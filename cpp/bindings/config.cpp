// The session configuration for Python: the schema (_core.config_schema()), the venue registry (_core.venues()),
// and the reader that turns the normalised dict (hftx.config's Config.to_core()) into a SessionConfig.
//
// All three come from the one description of the keys (session/config.hpp's describe(), core/schema.hpp): the
// reader is a visitor over it, generic in the key types; the schema is its Collector's list. hftx.config builds its
// pydantic models from both exports, so no key is written in Python.
#include "config.hpp"

#include <pybind11/stl.h>

#include <algorithm>
#include <climits>
#include <cmath>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "hftx/core/error.hpp"
#include "hftx/core/schema.hpp"

namespace hftx::py {

namespace {

using schema::Key;
using schema::Type;

// Top-level blocks of the dict that are other components' (the simulator's, Python's): skipped, not refused.
constexpr std::string_view kForeignBlocks[] = {"simulator", "metrics", "report"};

std::string repr_of(const pyb::handle& o) { return pyb::cast<std::string>(pyb::repr(o)); }

bool is_int(const pyb::handle& o) { return PyLong_Check(o.ptr()) != 0 && PyBool_Check(o.ptr()) == 0; }
bool is_number(const pyb::handle& o) { return is_int(o) || PyFloat_Check(o.ptr()) != 0; }

// Reads a Python dict into a configuration struct through its describe(): a missing key (or None) keeps the
// struct's default, a wrong type or an unknown key is a problem naming its path; every problem is collected and
// thrown at once by finish(). The values' bounds are validate()'s (the session checks them next).
class DictReader {
 public:
  explicit DictReader(const pyb::dict& root) { frames_.push_back({root, "", {}}); }

  template <class T>
  void key(T& out, const Key& k) {
    Frame& f = frames_.back();
    const pyb::object v = take(f, k.name);
    if (!v) return;
    const std::string path = join(f.path, k.name);
    constexpr Type type = schema::type_of<T>();
    if constexpr (type == Type::boolean) {
      if (PyBool_Check(v.ptr()) == 0) return bad(path, v, "expected true or false");
      out = v.ptr() == Py_True;
    } else if constexpr (type == Type::integer) {
      if (!is_int(v)) return bad(path, v, "expected an integer");
      read_integer(path, v, k, out);
    } else if constexpr (type == Type::number) {
      if (!is_number(v)) return bad(path, v, "expected a number");
      out = pyb::cast<double>(v);
    } else if constexpr (type == Type::text) {
      if (!pyb::isinstance<pyb::str>(v)) return bad(path, v, "expected a string");
      out = pyb::cast<std::string>(v);
    } else if constexpr (type == Type::choice) {
      const auto it = pyb::isinstance<pyb::str>(v)
                          ? std::find(k.choices.begin(), k.choices.end(), pyb::cast<std::string>(v))
                          : k.choices.end();
      if (it == k.choices.end()) return bad(path, v, "expected one of " + schema::choice_list(k.choices));
      out = static_cast<T>(it - k.choices.begin());
    } else if constexpr (type == Type::integer_list) {
      if (!pyb::isinstance<pyb::list>(v) && !pyb::isinstance<pyb::tuple>(v)) return bad(path, v, "expected a list");
      out.clear();
      std::size_t i = 0;
      for (const pyb::handle item : v) {
        const std::string ip = path + "[" + std::to_string(i++) + "]";
        typename T::value_type x{};
        if (!is_int(item)) {
          bad(ip, item, "expected an integer");
          continue;
        }
        read_integer(ip, pyb::reinterpret_borrow<pyb::object>(item), k, x);
        out.push_back(x);
      }
    } else if constexpr (type == Type::number_map) {
      if (!pyb::isinstance<pyb::dict>(v)) return bad(path, v, "expected a mapping (key: value)");
      out.clear();
      for (const auto& [name, value] : pyb::cast<pyb::dict>(v)) {
        if (!pyb::isinstance<pyb::str>(name)) {
          bad(path, name, "expected text keys");
          continue;
        }
        const std::string key_path = path + "." + pyb::cast<std::string>(name);
        if (!is_number(value)) {
          bad(key_path, value, "expected a number");
          continue;
        }
        out[pyb::cast<std::string>(name)] = pyb::cast<double>(value);
      }
    }
  }

  template <class F>
  void block(std::string_view name, std::string_view /*doc*/, F&& body) {
    Frame& f = frames_.back();
    const std::string path = join(f.path, name);
    const pyb::object v = take(f, name);
    pyb::dict d;
    if (v) {
      if (!pyb::isinstance<pyb::dict>(v)) return bad(path, v, "expected a mapping (key: value)");
      d = pyb::cast<pyb::dict>(v);
    }
    frames_.push_back({d, path, {}});
    std::forward<F>(body)();
    end_frame();
  }

  template <class Vec, class F>
  void list(Vec& out, const Key& k, F&& item) {
    Frame& f = frames_.back();
    const std::string path = join(f.path, k.name);
    const pyb::object v = take(f, k.name);
    if (!v) return;
    if (!pyb::isinstance<pyb::list>(v) && !pyb::isinstance<pyb::tuple>(v)) return bad(path, v, "expected a list");
    out.clear();
    std::size_t i = 0;
    for (const pyb::handle element : v) {
      const std::string ip = path + "[" + std::to_string(i++) + "]";
      if (!pyb::isinstance<pyb::dict>(element)) {
        bad(ip, element, "expected a mapping (key: value)");
        continue;
      }
      typename Vec::value_type x{};
      frames_.push_back({pyb::reinterpret_borrow<pyb::dict>(element), ip, {}});
      item(x);
      end_frame();
      out.push_back(std::move(x));
    }
  }

  // The venue block's other keys are the protocol venue's own (venue/venue.hpp OptionSpec), as text; a key it
  // does not declare is a problem naming whose key it is.
  void venue_options(venue::VenueConfig& c) {
    Frame& f = frames_.back();
    const venue::VenueInfo* protocol = venue::find(c.protocol());
    c.options.clear();
    for (const auto& [name, value] : f.d) {
      const std::string k = pyb::str(name).cast<std::string>();
      if (std::find(f.seen.begin(), f.seen.end(), k) != f.seen.end()) continue;
      f.seen.push_back(k);
      if (value.is_none()) continue;
      const std::string path = join(f.path, k);
      if (protocol == nullptr) continue;  // venue.name / venue.dialect are wrong: validate() says so
      if (protocol->option(k) == nullptr) {
        problems_.push_back({path, "", venue::foreign_option(*protocol, k)});
        continue;
      }
      if (!pyb::isinstance<pyb::str>(value) && !is_int(value)) {
        bad(path, value, "expected text or an integer");
        continue;
      }
      c.options[k] = pyb::str(value).cast<std::string>();
    }
  }

  // Every problem found (the root's unknown blocks too); the reader is done.
  [[nodiscard]] std::vector<schema::Problem> finish() {
    end_frame();
    return std::move(problems_);
  }

 private:
  struct Frame {
    pyb::dict d;
    std::string path;
    std::vector<std::string> seen;  // keys read (or declared) in this mapping
  };

  static std::string join(const std::string& path, std::string_view name) {
    return path.empty() ? std::string(name) : path + "." + std::string(name);
  }

  // The value of `name` in the mapping (marked as read), or a null object when it is absent or None.
  static pyb::object take(Frame& f, std::string_view name) {
    f.seen.emplace_back(name);
    const pyb::str key(name.data(), name.size());
    if (!f.d.contains(key)) return {};
    pyb::object v = f.d[key];
    return v.is_none() ? pyb::object() : v;
  }

  template <class T>
  void read_integer(const std::string& path, const pyb::object& v, const Key& k, T& out) {
    int overflow = 0;
    const long long x = PyLong_AsLongLongAndOverflow(v.ptr(), &overflow);
    const bool fits = overflow == 0 && std::in_range<T>(x);
    if (!fits) {
      // Outside the member's type: outside the key's bounds too (they lie within it), which say what to write.
      const std::size_t before = problems_.size();
      schema::check_integer(path, overflow != 0 ? overflow * 1e30L : static_cast<long double>(x), k, problems_);
      if (problems_.size() == before) bad(path, v, "expected an integer that fits");
      return;
    }
    out = static_cast<T>(x);
  }

  void bad(const std::string& path, const pyb::handle& v, std::string expected) {
    problems_.push_back({path, repr_of(v), std::move(expected)});
  }

  // Unknown keys of the innermost mapping, then leave it.
  void end_frame() {
    const Frame& f = frames_.back();
    const bool root = frames_.size() == 1;
    std::string known;
    for (const std::string& s : f.seen) {
      if (!known.empty()) known += ", ";
      known += s;
    }
    for (const auto& [name, value] : f.d) {
      const std::string k = pyb::str(name).cast<std::string>();
      if (std::find(f.seen.begin(), f.seen.end(), k) != f.seen.end()) continue;
      if (root && std::find(std::begin(kForeignBlocks), std::end(kForeignBlocks), k) != std::end(kForeignBlocks))
        continue;
      problems_.push_back({join(f.path, k), "", "unknown key; expected one of: " + known});
    }
    frames_.pop_back();
  }

  std::vector<Frame> frames_;
  std::vector<schema::Problem> problems_;
};

pyb::object bound(double v, Type t) {
  if (std::isinf(v)) return pyb::none();
  if (t == Type::integer || t == Type::integer_list) return pyb::int_(static_cast<long long>(v));
  return pyb::float_(v);
}

pyb::object value_of(const schema::Value& v) {
  return std::visit(
      [](const auto& x) -> pyb::object {
        using X = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<X, std::monostate>) return pyb::none();
        else return pyb::cast(x);
      },
      v);
}

pyb::list strings(std::span<const std::string_view> items) {
  pyb::list out;
  for (std::string_view s : items) out.append(pyb::str(s.data(), s.size()));
  return out;
}

pyb::list config_schema() {
  pyb::list out;
  for (const schema::Entry& e : schema::collect<session::SessionConfig>()) {
    const Key& k = e.key;
    pyb::dict d;
    d["path"] = e.path;
    d["type"] = std::string(schema::to_string(e.type));
    d["doc"] = std::string(k.doc);
    d["required"] = k.required;
    d["default"] = e.type == Type::number_map && !k.required ? pyb::object(pyb::dict()) : value_of(e.value);
    d["min"] = bound(k.min, e.type);
    d["max"] = bound(k.max, e.type);
    d["min_exclusive"] = k.min_exclusive;
    d["min_length"] = k.min_size;
    d["max_length"] = k.max_size == schema::kNoLimit ? pyb::object(pyb::none()) : pyb::int_(k.max_size);
    d["choices"] = strings(k.choices);
    d["pattern"] = std::string(k.pattern);
    d["expected"] = std::string(k.expected);
    d["format"] = std::string(schema::to_string(k.format));
    d["unique"] = std::string(k.unique);
    d["venue"] = std::string(schema::to_string(k.venue));
    d["venue_options"] = e.venue_options;
    out.append(d);
  }
  return out;
}

std::string_view kind_name(venue::OptionKind k) {
  switch (k) {
    case venue::OptionKind::choice: return "choice";
    case venue::OptionKind::integer: return "integer";
    case venue::OptionKind::env_name: return "env_name";
  }
  return "unknown";
}

pyb::list venues() {
  pyb::list out;
  for (const venue::VenueInfo* e : venue::venues()) {
    const venue::VenueInfo& info = *e;
    pyb::dict d;
    d["name"] = std::string(info.name);
    d["doc"] = std::string(info.doc);
    pyb::list markets;
    for (const venue::MarketSpec& m : info.markets) {
      pyb::dict md;
      md["name"] = std::string(m.name);
      md["market_url"] = std::string(m.market_url);
      md["api_url"] = std::string(m.api_url);
      markets.append(md);
    }
    d["markets"] = markets;
    pyb::list options;
    for (const venue::OptionSpec& o : info.options) {
      pyb::dict od;
      od["key"] = std::string(o.key);
      od["kind"] = std::string(kind_name(o.kind));
      const std::string text(o.default_value);
      od["default"] = o.kind == venue::OptionKind::integer ? pyb::object(pyb::int_(std::stoll(text)))
                                                           : pyb::object(pyb::str(text));
      od["choices"] = strings(o.choices);
      od["min"] = o.kind == venue::OptionKind::integer ? pyb::object(pyb::int_(o.min)) : pyb::object(pyb::none());
      od["max"] = o.kind == venue::OptionKind::integer ? pyb::object(pyb::int_(o.max)) : pyb::object(pyb::none());
      od["pattern"] = o.kind == venue::OptionKind::env_name ? std::string(venue::kEnvNamePattern) : std::string();
      od["expected"] = o.kind == venue::OptionKind::env_name ? std::string(venue::kEnvNameExpected) : std::string();
      od["doc"] = std::string(o.doc);
      options.append(od);
    }
    d["options"] = options;
    d["symbol_pattern"] = std::string(info.symbol_pattern);
    d["client_id_prefix_pattern"] = std::string(info.client_id_prefix_pattern);
    pyb::list depths;
    for (int x : info.snapshot_depths) depths.append(x);
    d["snapshot_depths"] = depths;
    out.append(d);
  }
  return out;
}

}  // namespace

session::SessionConfig session_config_from(const pyb::dict& d) {
  session::SessionConfig c;
  DictReader reader(d);
  describe(c, reader);
  schema::throw_if_any(reader.finish());
  return c;
}

namespace {

// What the session would say of the dict, without building one: the reader's problems (types, unknown keys) or,
// when it read everything, validate()'s.
pyb::list config_problems(const pyb::dict& d) {
  session::SessionConfig c;
  DictReader reader(d);
  describe(c, reader);
  std::vector<schema::Problem> problems = reader.finish();
  if (problems.empty()) problems = c.problems();
  pyb::list out;
  for (const schema::Problem& p : problems) out.append(pyb::make_tuple(p.path, p.value, p.expected));
  return out;
}

}  // namespace

void register_config(pyb::module_& m) {
  m.def("config_schema", &config_schema,
        "Every key of the session configuration, in order: a dict per block, list and key (path, type, doc, "
        "required, default, min, max, min_exclusive, min_length, max_length, choices, pattern, expected, format, "
        "unique, venue, venue_options), from the C++ description (session/config.hpp).");
  m.def("venues", &venues,
        "The venues built in, in registration order: name, doc, markets (name, market_url, api_url; the first is "
        "the default), options (key, kind, default, choices, min, max, pattern, expected, doc), symbol_pattern, "
        "client_id_prefix_pattern, snapshot_depths.");
  m.def("config_problems", &config_problems, pyb::arg("config"),
        "What the C++ session says of a normalised config dict, without building a session: a (path, value, "
        "expected) tuple per problem, [] when there is none.");
  m.def("simulator_name", [] { return std::string(venue::kSimulator); },
        "The venue.name under which the built-in exchange simulator runs (it speaks venue.dialect).");
}

}  // namespace hftx::py
