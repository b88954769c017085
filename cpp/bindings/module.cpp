// hftx._core — the switchboard: one register_<area>() call per binding file.
#include "register.hpp"

PYBIND11_MODULE(_core, m) {
  m.doc() = "hftx's C++ core. Use the `hftx` package; names here are not public API.";
  m.attr("__version__") = HFTX_VERSION;
  hftx::py::register_errors(m);
  hftx::py::register_core(m);
  hftx::py::register_sysinfo(m);
  hftx::py::register_latency(m);
  hftx::py::register_net(m);
  hftx::py::register_book(m);
  hftx::py::register_config(m);
  hftx::py::register_session(m);
  hftx::py::register_sim(m);
}
