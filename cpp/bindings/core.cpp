// Fixed point and the clock.
#include <pybind11/stl.h>

#include "hftx/core/clock.hpp"
#include "hftx/core/fixed_point.hpp"
#include "register.hpp"

namespace hftx::py {

void register_core(pyb::module_& m) {
  pyb::class_<Scale>(m, "Scale", "The step of prices or quantities: multiplier * 10**-decimals.")
      .def(pyb::init(&Scale::from_step), pyb::arg("step"),
           "Scale from the step as the venue writes it: '0.01', '0.00001000', '0.5', '25'.")
      .def_property_readonly("decimals", &Scale::decimals)
      .def_property_readonly("multiplier", &Scale::multiplier)
      .def_property_readonly("step", &Scale::step_string)
      .def(
          "parse",
          [](const Scale& s, std::string_view text, bool signed_) {
            return parse_fixed_or_throw(text, s, signed_ ? Sign::allow_negative : Sign::unsigned_only);
          },
          pyb::arg("text"), pyb::arg("signed") = true,
          "Decimal text -> integer count of steps. Raises ParseError (a ValueError) naming the reason.")
      .def(
          "try_parse",
          [](const Scale& s, std::string_view text, bool signed_) {
            std::int64_t v = 0;
            const FixedStatus st = parse_fixed(text, s, v, signed_ ? Sign::allow_negative : Sign::unsigned_only);
            return pyb::make_tuple(std::string(to_string(st)), st == FixedStatus::ok ? pyb::object(pyb::int_(v)) : pyb::none());
          },
          pyb::arg("text"), pyb::arg("signed") = true,
          "(status, value): status is 'ok', 'empty', 'bad_format', 'negative', 'off_grid' or 'overflow'.")
      .def(
          "format", [](const Scale& s, std::int64_t raw) { return format_fixed(raw, s); }, pyb::arg("raw"),
          "Exact decimal text of `raw` steps, with exactly `decimals` decimals.")
      .def(
          "to_float", [](const Scale& s, std::int64_t raw) { return to_double(raw, s); }, pyb::arg("raw"))
      .def("__eq__", [](const Scale& a, const Scale& b) { return a == b; })
      .def("__hash__", [](const Scale& s) { return std::hash<std::int64_t>{}(s.multiplier() * 31 + s.decimals()); })
      .def("__repr__", [](const Scale& s) { return "Scale('" + s.step_string() + "')"; });

  m.def("clock_ticks", &TscClock::ticks, "Raw clock ticks (TSC cycles, or CLOCK_MONOTONIC ns in fallback).");
  m.def("clock_now_ns", [] { return TscClock::instance().now_ns(); },
        "CLOCK_REALTIME-aligned nanoseconds since the epoch, from the TSC.");
  m.def("clock_ticks_to_ns", [](std::int64_t dt) { return TscClock::instance().ticks_to_ns(dt); },
        pyb::arg("ticks"), "A tick difference in nanoseconds.");
  m.def("clock_info", [] {
    const TscClock& c = TscClock::instance();
    pyb::dict d;
    d["source"] = std::string(to_string(c.source()));
    d["reason"] = c.reason();
    d["frequency_hz"] = c.frequency_hz();
    return d;
  });
}

}  // namespace hftx::py
