// C++ exception types -> Python exceptions. The `hftx` package re-exports them under the same names;
// ConfigError and ParseError are ValueErrors too, so generic handlers keep working.
#include "hftx/core/error.hpp"
#include "register.hpp"

namespace hftx::py {

void register_errors(pyb::module_& m) {
  // pybind11 tries translators newest first, so the base is registered before the derived types.
  auto& base = pyb::register_exception<Error>(m, "HftxError", PyExc_RuntimeError);
  const auto value_error = [&] { return pyb::make_tuple(base, pyb::handle(PyExc_ValueError)); };
  pyb::register_exception<ConfigError>(m, "ConfigError", value_error());
  pyb::register_exception<ParseError>(m, "ParseError", value_error());
  pyb::register_exception<SystemError>(m, "SystemError", base);
}

}  // namespace hftx::py
