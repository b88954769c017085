# System dependencies. A missing one stops the configure step naming the Debian package to install.
include_guard(GLOBAL)

function(hftx_missing what package)
  message(FATAL_ERROR
    "hftx: ${what} was not found. On Debian/Ubuntu install it with:\n"
    "    sudo apt-get install ${package}\n"
    "(or run ./dev.sh, which installs every dependency).")
endfunction()

set(THREADS_PREFER_PTHREAD_FLAG ON)
find_package(Threads REQUIRED)

find_package(simdjson CONFIG QUIET)
if(NOT simdjson_FOUND)
  hftx_missing("simdjson" "libsimdjson-dev")
endif()
find_package(OpenSSL QUIET)
if(NOT OPENSSL_FOUND)
  hftx_missing("OpenSSL" "libssl-dev")
endif()
find_package(ZLIB QUIET)
if(NOT ZLIB_FOUND)
  hftx_missing("zlib" "zlib1g-dev")
endif()

if(HFTX_BUILD_TESTS)
  find_package(GTest CONFIG QUIET)
  if(NOT GTest_FOUND)
    hftx_missing("GoogleTest" "libgtest-dev libgmock-dev")
  endif()
endif()

if(HFTX_BUILD_BENCH)
  find_package(benchmark CONFIG QUIET)
  if(NOT benchmark_FOUND)
    hftx_missing("Google Benchmark" "libbenchmark-dev")
  endif()
endif()
