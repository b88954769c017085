#!/usr/bin/env bash
# hftx set-up and entry point — the two commands of README.md:
#   ./dev.sh run [ARGS...]   set up (Debian packages, virtual environment, hftx) and run the main job
#   ./dev.sh test            set up and run every test: C++ (normal, ThreadSanitizer, Address+UB
#                            sanitizer builds) through ctest, the find_package consumer, the fuzzers for a
#                            bounded time (HFTX_FUZZ_SECONDS, default 20 per target), ruff, mypy, pytest
# Re-running on a machine that is already set up is quick: packages, the venv and the build are reused,
# and hftx is reinstalled only when its sources changed.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
ROOT=$PWD
VENV=$ROOT/.venv
BUILD=$ROOT/build
JOBS=${HFTX_JOBS:-$(nproc)}

say() { printf '\033[1;34m==> %s\033[0m\n' "$*" >&2; }
die() { printf '\033[1;31mdev.sh: %s\033[0m\n' "$*" >&2; exit 1; }

# Debian packages: compilers, the C++ dependencies, and the peers the benchmarks compare against.
APT_PACKAGES=(
  g++ make git pkg-config ca-certificates openssl
  libsimdjson-dev libssl-dev zlib1g-dev libbenchmark-dev libgtest-dev libgmock-dev
  libboost-dev libreaderwriterqueue-dev libconcurrentqueue-dev libatomic-queue-dev
  libmimalloc-dev libjemalloc-dev
  clang libclang-rt-14-dev
)
# Only the test command needs a browser (the report's HTML is opened in headless Chromium).
TEST_APT_PACKAGES=(chromium)

install_apt() {
  local wanted=("${APT_PACKAGES[@]}" "$@") missing=()
  command -v python3 >/dev/null || wanted+=(python3)
  # A distribution Python needs its venv and header packages; a self-built one (pyenv) has both.
  if command -v python3 >/dev/null; then
    python3 -c 'import ensurepip, venv' 2>/dev/null || wanted+=(python3-venv)
    python3 -c 'import os, sysconfig; raise SystemExit(not os.path.exists(os.path.join(sysconfig.get_paths()["include"], "Python.h")))' \
      || wanted+=(python3-dev)
  else
    wanted+=(python3-venv python3-dev)
  fi
  for p in "${wanted[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  command -v apt-get >/dev/null || die "missing packages (${missing[*]}) and no apt-get: install them by hand"
  local sudo=()
  [ "$(id -u)" -eq 0 ] || sudo=(sudo)
  say "installing Debian packages: ${missing[*]}"
  "${sudo[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# Hash of everything that goes into the installed package: reinstall only when it changes.
source_hash() {
  { git ls-files -co --exclude-standard -- CMakeLists.txt cmake cpp python pyproject.toml 2>/dev/null \
      || find CMakeLists.txt cmake cpp python pyproject.toml -type f; } \
    | LC_ALL=C sort | xargs sha256sum | sha256sum | cut -c1-16
}

setup_venv() {
  if [ ! -x "$VENV/bin/python" ]; then
    say "creating the virtual environment $VENV"
    python3 -m venv "$VENV"
  fi
  local pip=("$VENV/bin/python" -m pip --disable-pip-version-check -q)
  local req_hash
  req_hash=$(sha256sum pyproject.toml | cut -c1-16)
  if [ "$(cat "$VENV/.hftx-deps" 2>/dev/null)" != "$req_hash" ]; then
    say "installing build and test dependencies"
    "${pip[@]}" install --upgrade pip
    # Build tools in the venv so the build can run without isolation (fast, incremental re-installs).
    "${pip[@]}" install "scikit-build-core>=0.10" "pybind11>=2.12" "cmake>=3.20" ninja
    "${pip[@]}" install numpy pyyaml rich pytest hypothesis ruff mypy types-PyYAML \
      prometheus_client hdrhistogram "websockets>=13" picows
    echo "$req_hash" >"$VENV/.hftx-deps"
  fi
  local src_hash
  src_hash=$(source_hash)
  if [ "$(cat "$VENV/.hftx-src" 2>/dev/null)" != "$src_hash" ] || ! "$VENV/bin/python" -c "import hftx" 2>/dev/null; then
    say "building and installing hftx (C++ core, Python module, benchmark programs)"
    CMAKE_BUILD_PARALLEL_LEVEL=$JOBS "${pip[@]}" install --no-build-isolation ".[test]"
    echo "$src_hash" >"$VENV/.hftx-src"
  fi
  export PATH="$VENV/bin:$PATH"
}

setup() {
  install_apt "$@"
  setup_venv
}

# Configure (once), build and ctest one C++ tree.
cpp_tests() {
  local name=$1; shift
  local dir=$BUILD/$name
  say "C++ tests: $name"
  cmake -S . -B "$dir" -G Ninja -DHFTX_BUILD_TESTS=ON -DHFTX_WERROR=ON "$@" >/dev/null
  cmake --build "$dir" -j "$JOBS"
  # setarch -R: sanitizer runtimes need the classic address-space layout (high mmap entropy breaks TSan).
  setarch "$(uname -m)" -R ctest --test-dir "$dir" --output-on-failure -j "$JOBS" --timeout 900
}

consumer_test() {
  say "C++ consumer: find_package(hftx) from an installed tree"
  rm -rf "$BUILD/install" "$BUILD/consumer"
  cmake --install "$BUILD/cpp" --prefix "$BUILD/install" >/dev/null
  cmake -S examples/cpp_consumer -B "$BUILD/consumer" -G Ninja -DCMAKE_PREFIX_PATH="$BUILD/install" >/dev/null
  cmake --build "$BUILD/consumer"
  "$BUILD/consumer/hftx_consumer"
}

# libFuzzer targets (tests/fuzz/fuzz_*.cpp) under ASan+UBSan with clang, each for a bounded time, starting
# from the checked-in corpus; new inputs go to a scratch folder so the corpus stays as committed.
fuzz_tests() {
  local seconds=${HFTX_FUZZ_SECONDS:-20}
  say "fuzzing: every tests/fuzz target for ${seconds} s (libFuzzer, ASan+UBSan)"
  CC=clang-14 CXX=clang++-14 cmake -S . -B "$BUILD/fuzz" -G Ninja -DHFTX_BUILD_FUZZ=ON -DHFTX_BUILD_TESTS=OFF \
    -DHFTX_BUILD_BENCH=OFF -DHFTX_INSTALL=OFF >/dev/null
  cmake --build "$BUILD/fuzz" -j "$JOBS"
  local target name
  for target in "$BUILD"/fuzz/tests/fuzz/fuzz_*; do
    [ -x "$target" ] || continue
    name=$(basename "$target")
    rm -rf "$BUILD/fuzz/new/$name" && mkdir -p "$BUILD/fuzz/new/$name"
    setarch "$(uname -m)" -R "$target" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=4096 \
      -print_final_stats=1 "$BUILD/fuzz/new/$name" "tests/fuzz/corpus/$name" 2>&1 | tail -n 3
    [ "${PIPESTATUS[0]}" -eq 0 ] || die "fuzzer $name found a crash (see above)"
  done
}

python_tests() {
  say "ruff and mypy on python/"
  ruff check python tests/python
  mypy
  say "pytest"
  HFTX_DATA_DIR="${HFTX_DATA_DIR:-$ROOT/../shared/data}" python -m pytest -q
}

cmd=${1:-}
[ $# -gt 0 ] && shift
case "$cmd" in
  run)
    setup
    say "hftx run ${*:-conf/demo.yaml}"
    if [ $# -eq 0 ]; then exec hftx run conf/demo.yaml --duration 10; fi
    exec hftx run "$@"
    ;;
  test)
    setup "${TEST_APT_PACKAGES[@]}"
    cpp_tests cpp -DCMAKE_BUILD_TYPE=Release -DHFTX_BUILD_BENCH=OFF
    consumer_test
    cpp_tests cpp-tsan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DHFTX_SANITIZE=thread -DHFTX_BUILD_BENCH=OFF -DHFTX_INSTALL=OFF
    cpp_tests cpp-asan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DHFTX_SANITIZE=address -DHFTX_BUILD_BENCH=OFF -DHFTX_INSTALL=OFF
    fuzz_tests
    python_tests
    ;;
  setup)
    setup
    ;;
  *)
    die "usage: ./dev.sh run [ARGS...] | ./dev.sh test | ./dev.sh setup"
    ;;
esac
