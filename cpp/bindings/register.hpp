// One register_<area>() per binding file; module.cpp calls them in order. Only cpp/bindings/ includes
// pybind11: the core never sees Python.
#pragma once

#include <pybind11/pybind11.h>

namespace hftx::py {

namespace pyb = pybind11;

// Runs f() with the GIL released and returns its result: the C++ work runs unlocked, and the result is
// converted to Python objects after it, with the GIL held again. (Arguments are converted before.)
template <class F>
auto without_gil(F&& f) -> decltype(f()) {
  pyb::gil_scoped_release release;
  return f();
}

// Exceptions first: later areas translate hftx errors through them.
void register_errors(pyb::module_& m);
void register_core(pyb::module_& m);     // fixed point, clock
void register_sysinfo(pyb::module_& m);  // topology, system info
void register_latency(pyb::module_& m);  // latency histograms, stage tracker
void register_net(pyb::module_& m);      // WebSocket client and server
void register_book(pyb::module_& m);     // order books, replay
void register_config(pyb::module_& m);   // the session configuration's schema, the venue registry
void register_session(pyb::module_& m);  // trading session
void register_sim(pyb::module_& m);      // exchange simulator

}  // namespace hftx::py
