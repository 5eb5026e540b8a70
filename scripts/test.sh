#!/bin/sh
# Install dependencies, build, run the whole test suite under ctest.
#   scripts/test.sh                  plain build in ./build
#   PARKLOG_SANITIZE=1 scripts/test.sh   ASan+UBSan build in ./build-asan
# PARKLOG_WERROR=1 turns warnings into errors (CI sets it).
set -eu
cd "$(dirname "$0")/.."
./scripts/install-deps.sh

san=${PARKLOG_SANITIZE:-0}
werror=${PARKLOG_WERROR:-0}
if [ "$san" = 1 ]; then build=${BUILD_DIR:-build-asan}; else build=${BUILD_DIR:-build}; fi

cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	-DPARKLOG_SANITIZE="$([ "$san" = 1 ] && echo ON || echo OFF)" \
	-DPARKLOG_WERROR="$([ "$werror" = 1 ] && echo ON || echo OFF)" >/dev/null
cmake --build "$build" -j"$(nproc)"

# LeakSanitizer is on with ASan; abort on the first UBSan report.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
ctest --test-dir "$build" --output-on-failure -j2 --timeout 900
