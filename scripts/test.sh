#!/bin/sh
# Install dependencies, build, run the whole test suite under ctest.
#   scripts/test.sh                  plain build in ./build
#   PARKLOG_SANITIZE=1 scripts/test.sh   ASan+UBSan build in ./build-asan
#   PARKLOG_TSAN=1 scripts/test.sh       ThreadSanitizer build in ./build-tsan
# PARKLOG_WERROR=1 turns warnings into errors (CI sets it).
set -eu
cd "$(dirname "$0")/.."
./scripts/install-deps.sh

san=${PARKLOG_SANITIZE:-0}
tsan=${PARKLOG_TSAN:-0}
werror=${PARKLOG_WERROR:-0}
if [ "$san" = 1 ] && [ "$tsan" = 1 ]; then
	echo "test.sh: PARKLOG_SANITIZE and PARKLOG_TSAN exclude each other" >&2
	exit 2
fi
if [ "$san" = 1 ]; then build=${BUILD_DIR:-build-asan}
elif [ "$tsan" = 1 ]; then build=${BUILD_DIR:-build-tsan}
else build=${BUILD_DIR:-build}; fi
onoff() { if [ "$1" = 1 ]; then echo ON; else echo OFF; fi; }

cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	-DPARKLOG_SANITIZE="$(onoff "$san")" -DPARKLOG_TSAN="$(onoff "$tsan")" \
	-DPARKLOG_WERROR="$(onoff "$werror")" >/dev/null
cmake --build "$build" -j"$(nproc)"

# LeakSanitizer is on with ASan; abort on the first UBSan report.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
if [ "$tsan" = 1 ]; then
	# Any report fails the test (exit 66); reports inside libraries not
	# built with TSan are suppressed one by one, with a reason, in
	# tests/tsan.supp — never our own code. Every test runs under TSan
	# (the browser test too: about 10 s).
	export TSAN_OPTIONS=${TSAN_OPTIONS:-halt_on_error=1:exitcode=66:second_deadlock_stack=1:suppressions=$(pwd)/tests/tsan.supp}
fi
ctest --test-dir "$build" --output-on-failure -j2 --timeout 900
