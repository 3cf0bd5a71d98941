#!/usr/bin/env bash
# Installs what is missing, builds Release (assertions on), runs every test, then builds again
# under ASan+UBSan with the CUDA backend on the CPU emulator (cuda_emu/) and runs the CPU tests and
# the GPU tests there. `./test.sh --sanitize` runs only the sanitizer pass.
set -euo pipefail
cd "$(dirname "$0")"

mode=all
[[ ${1:-} == --sanitize ]] && mode=sanitize

scripts/deps.sh
jobs=$(nproc)
# ctest runs tests in parallel, so each test's OpenMP threads share the cores with others';
# spinning workers would then steal time from the threads doing the work.
export OMP_WAIT_POLICY=passive
launcher=()
command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_CUDA_COMPILER_LAUNCHER=ccache)
# Paths relative to the checkout, and the build dir left out of the hash of objects with debug
# info, so that a fresh clone elsewhere (as CI makes) hits the cache of the last one.
export CCACHE_BASEDIR="$PWD" CCACHE_NOHASHDIR=true

# Wall time of each phase, printed at the end so CI logs show where the minutes go.
phase_start=$SECONDS
phases=()
phase_done() {
  phases+=("$(printf '  %5d s  %s' $((SECONDS - phase_start)) "$1")")
  phase_start=$SECONDS
}

# Prints the five slowest tests of the last ctest run in build dir $1.
slowest() {
  echo "Slowest tests:"
  grep -hE '^ *[0-9]+/[0-9]+ Test +#' "$1/ctest.out" | sed -E 's/.*Test +#[0-9]+: ([^ ]+) .* ([0-9.]+) sec/\2 \1/' |
    sort -rn | awk 'NR <= 5 {printf "  %8.2f s  %s\n", $1, $2}'
  # awk reads to the end (head would close the pipe early, and under pipefail sort's SIGPIPE
  # would end the script).
}

if [[ $mode == all ]]; then
  # CUDA is built whenever nvcc is found (FUSENAS_CUDA defaults to ON then); GPU tests skip
  # themselves without a device.
  cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_FLAGS_RELEASE=-O3 \
    -DCMAKE_CUDA_FLAGS_RELEASE=-O3 "${launcher[@]}"
  cmake --build build -j "$jobs"
  phase_done "Release build"
  (cd build && ctest --output-on-failure -j "$jobs" --timeout 900 | tee ctest.out)
  slowest build
  phase_done "Release tests"
fi

# Without a GPU the emulator is the only place the CUDA backend runs: ASan then checks every
# kernel's memory accesses, as compute-sanitizer would on a card. -g1 (line tables) is all that
# sanitizer stack traces need, and compiles and links much faster than full debug info.
cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS_DEBUG="-O1 -g1" \
  -DFUSENAS_CUDA=OFF -DFUSENAS_CUDA_EMULATION=ON -DFUSENAS_SANITIZE=ON -DFUSENAS_BUILD_APPS=OFF \
  "${launcher[@]}"
cmake --build build-asan -j "$jobs"
phase_done "sanitizer build"
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
# The CPU tests see no device (as on a machine without a GPU); the GPU tests see the emulated one.
# The second-order resume test is left to the Release pass: under ASan it takes 1.5 minutes, and
# the first-order one runs the same checkpoint code (the emulator pass runs the second-order
# architect under ASan).
(cd build-asan && CUDA_VISIBLE_DEVICES= ctest --output-on-failure -j "$jobs" -L cpu -LE install \
  -E 'DartsResume.*Order2' --timeout 900 | tee ctest.out)
slowest build-asan
phase_done "sanitizer CPU tests"
# Every parser of untrusted input under our mutation-loop fuzzer, 15 s per target (tests/fuzz/).
(cd build-asan && ctest --output-on-failure -j "$jobs" -L fuzz --timeout 300 | tee ctest.out)
slowest build-asan
phase_done "fuzzing"
# Exact-size device allocations put ASan's red zones right after every tensor.
(cd build-asan && FUSENAS_CUDA_NO_CACHING=1 ctest --output-on-failure -j "$jobs" -L gpu \
  --timeout 900 | tee ctest.out)
slowest build-asan
phase_done "sanitizer GPU-emulator tests"
echo "Phases:"
printf '%s\n' "${phases[@]}"
echo "test.sh: all tests passed"
