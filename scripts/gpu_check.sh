#!/usr/bin/env bash
# The one command for a GPU machine, made to pass the first time in one short device call (about 8
# minutes): most information first, and every stage under its own timeout so a hang costs that
# stage, never the call. Stages and their caps in seconds (the time plan):
#   preflight   40  GPU, tool and library versions; builds and runs scripts/gpu_probe.cu, which
#                   settles on the real driver what the allocator assumes about graph capture
#   build      210  only the gpu tests and bench, Release for sm_90 (else the device's own
#                   compute capability) with -lineinfo, every core
#   tests       90  ctest -L gpu (passive OpenMP, few threads per process); failures rerun with
#                   FUSENAS_SYNC_DEBUG=1 so a fault names its launch
#   racecheck   50  racecheck and synccheck on the kernels with shared memory or shuffles
#   memcheck    70  memcheck on every gpu test binary but the long DARTS ones, exact-size
#                   allocations; errors in cuDNN/cuBLAS kernels are counted apart from FuseNAS'
#   bench     rest  bench --suite ops --quick, then --suite darts --quick, beside PyTorch
#   summary     10  reserved at the end
# $OUT (else ./gpu-check-logs) gets at most 8 files, as the device tool returns no more: seven
# loose ones (summary.txt, preflight.txt, build.log, tests.log, sanitizers.log, bench_ops.json,
# bench_darts.json), refreshed after every stage, and logs.tar.gz with everything.
#
# Usage: scripts/gpu_check.sh [--dry-run] [--skip-build]
#   --dry-run     everything on this machine, with the CUDA emulator build (cuda_emu/) standing in
#                 for the GPU build and the test binaries themselves for compute-sanitizer: proves
#                 the script, the carried bundle (the machine's own copies of its packages are
#                 hidden, see scripts/hide_deps.sh) and the $OUT contract without a device
#   --skip-build  reuse the build directory (a rerun on a warm machine)
# Environment: JOBS (default: all cores), BUILD_DIR (default build-gpu, build-gpu-dry for a dry
#   run), FUSENAS_TORCH_PYTHON (python with torch for the peers), CUDNN_INCLUDE_DIR /
#   CUDNN_LIBRARY (override the cuDNN search), GPU_CHECK_SCALE (multiplies every cap; default 1,
#   3 for a dry run, whose emulator on a small CPU is slower than a GPU machine).
# Dependencies the GPU machine lacks (it has no network) come from .gpu-deps/prefix.tar.xz: make it
# beforehand with scripts/gpu_deps.sh and carry .gpu-deps.
set -u
set -o pipefail

cd "$(dirname "$0")/.." || exit 2
ROOT=$(pwd)

DRY_RUN=0
SKIP_BUILD=0
for arg in "$@"; do
  case $arg in
    --dry-run) DRY_RUN=1 ;;
    --skip-build) SKIP_BUILD=1 ;;
    -h | --help)
      sed -n '2,/^set -u/p' "$0" | grep '^#' | sed 's/^# \{0,1\}//'
      exit 0
      ;;
    *)
      echo "gpu_check: unknown argument $arg (see --help)" >&2
      exit 2
      ;;
  esac
done

# A dry run proves the bundle too: rerun inside a namespace that hides the machine's own copies
# of the bundled packages, when this machine allows it.
if ((DRY_RUN)) && [[ -z ${FUSENAS_DEPS_HIDDEN:-} && -f .gpu-deps/MANIFEST && $EUID == 0 ]] &&
  unshare --mount true 2>/dev/null; then
  exec scripts/hide_deps.sh "$0" "$@"
fi

START=$SECONDS
CORES=$(nproc)  # before OMP_NUM_THREADS is set below: nproc honours it
JOBS=${JOBS:-$CORES}
SCALE=${GPU_CHECK_SCALE:-$((DRY_RUN ? 3 : 1))}
if ((DRY_RUN)); then BUILD=${BUILD_DIR:-build-gpu-dry}; else BUILD=${BUILD_DIR:-build-gpu}; fi
OUT_DIR=${OUT:-$ROOT/gpu-check-logs}
WORK=$(mktemp -d /tmp/fusenas-gpu-check.XXXXXX)
mkdir -p "$OUT_DIR"
LOOSE=(summary.txt preflight.txt build.log tests.log sanitizers.log bench_ops.json bench_darts.json)
for f in "${LOOSE[@]}"; do : >"$WORK/$f"; done
rm -f "$WORK/bench_ops.json" "$WORK/bench_darts.json"

# ctest runs several test processes at once: OpenMP workers must sleep, not spin, while waiting
# (as in test.sh), and each process gets a few threads only.
export OMP_WAIT_POLICY=passive
PARALLEL=$((JOBS >= 8 ? 4 : (JOBS >= 2 ? 2 : 1)))
export OMP_NUM_THREADS=$((JOBS / PARALLEL > 0 ? JOBS / PARALLEL : 1))

# The gpu test binaries (tests/**/*_gpu_test.cpp) and those left out of memcheck for their length.
GPU_TESTS=()
while IFS= read -r f; do GPU_TESTS+=("$(basename "$f" .cpp)"); done < <(find tests -name '*_gpu_test.cpp' | sort)
LONG_TESTS=(darts_gpu_test)
# Kernels with shared memory or warp shuffles (kernels/src: batch_norm, conv2d_depthwise's weight
# gradient, cross_entropy, index_check, pool2d's global average, reduce's row sums, softmax,
# weighted_sum) and the tests that run them.
RACE_OPS=(batch_norm conv2d cross_entropy global_avg_pool sum mean softmax log_softmax weighted_sum)
# The fused DARTS cell's kernels all use shared tiles and last-block reductions: its two smallest
# cases run every one of them.
RACE_RUNS=("op_cases_gpu_test --gtest_filter=$(printf 'Ops/OpGpu.MatchesCpu/%s:' "${RACE_OPS[@]}")"
  "misc_ops_gpu_test --gtest_filter=*Reported*:*BadIndices*"
  "darts_cell_gpu_test --gtest_filter=*SampledChoice*:*EvaluationMode*")

declare -A RESULT DETAIL TIME
STAGES=()
FAILED=0

note() { printf '[gpu_check %4ds] %s\n' $((SECONDS - START)) "$*"; }

# Copies the loose files to $OUT, so a call cut short still returns them.
sync_out() {
  local f
  for f in "${LOOSE[@]}"; do [[ -f $WORK/$f ]] && cp "$WORK/$f" "$OUT_DIR/$f"; done
  return 0
}

# record STAGE RESULT SECONDS DETAIL: RESULT is ok, FAIL or skip.
record() {
  STAGES+=("$1")
  RESULT[$1]=$2
  TIME[$1]=$3
  DETAIL[$1]=$4
  [[ $2 == FAIL ]] && FAILED=1
  note "$1: $2 ($3 s) $4"
  sync_out
}

# The cap of a stage in seconds, scaled, and never past what is left before the summary.
cap() {
  local want=$(($1 * SCALE)) left=$((TOTAL_BUDGET * SCALE - 10 * SCALE - (SECONDS - START)))
  ((left < 5)) && left=5
  ((want < left)) && echo "$want" || echo "$left"
}
TOTAL_BUDGET=480

# run LOG SECONDS CMD...: CMD under its timeout, output appended to LOG.
run() {
  local log=$1 secs=$2
  shift 2
  echo "+ $* (timeout ${secs}s)" >>"$log"
  timeout --kill-after=10 "$secs" "$@" >>"$log" 2>&1
}

# ---- Preflight -----------------------------------------------------------------------------

t0=$SECONDS
PRE=$WORK/preflight.txt
have_any() {
  local f
  for f in "$@"; do [[ -e $f ]] && return 0; done
  return 1
}

GPU_NAME="(none)"
if ((DRY_RUN)); then
  GPU_NAME="none: dry run on the CUDA emulator"
elif ! command -v nvidia-smi >/dev/null 2>&1 || ! nvidia-smi -L 2>/dev/null | grep -q '^GPU'; then
  echo "gpu_check: no usable NVIDIA GPU (nvidia-smi missing or lists none). Run this on the GPU" \
    "machine, or pass --dry-run." >&2
  rm -rf "$WORK"
  exit 2
else
  GPU_NAME=$(nvidia-smi --query-gpu=name,driver_version,memory.total,compute_cap --format=csv,noheader | head -1)
fi
# sm_90 (the H100 the plan is made for) unless the device reports another compute capability.
ARCH=$(nvidia-smi --query-gpu=compute_cap --format=csv,noheader 2>/dev/null | head -1 | tr -d ' .')
[[ $ARCH =~ ^[0-9]+$ ]] || ARCH=90

NVCC=$(command -v nvcc || true)
for candidate in /usr/local/cuda/bin/nvcc /usr/local/cuda-*/bin/nvcc /opt/cuda/bin/nvcc; do
  [[ -z $NVCC && -x $candidate ]] && NVCC=$candidate
done
CUDA_ROOT=$([[ -n $NVCC ]] && dirname "$(dirname "$(readlink -f "$NVCC")")")
SANITIZER=$(command -v compute-sanitizer || true)
for candidate in "$CUDA_ROOT/bin/compute-sanitizer" "$CUDA_ROOT/compute-sanitizer/compute-sanitizer"; do
  [[ -z $SANITIZER && -n $CUDA_ROOT && -x $candidate ]] && SANITIZER=$candidate
done

# The peers' python: $FUSENAS_TORCH_PYTHON, else the first python3 whose torch sees a GPU.
PEER_PY=""
TORCH_INFO=""
for candidate in ${FUSENAS_TORCH_PYTHON:-} "$(command -v python3 || true)" /usr/bin/python3; do
  [[ -n $candidate && -x $candidate && -z $PEER_PY ]] || continue
  info=$(timeout 20 "$candidate" -c "import torch; print(torch.__version__, 'cuda', torch.version.cuda, 'gpu', torch.cuda.is_available())" 2>/dev/null)
  [[ -n $info ]] && TORCH_INFO="$candidate: torch $info"
  [[ $info == *"gpu True" ]] && PEER_PY=$candidate
done

CMAKE_ARGS=(-G Ninja -DCMAKE_BUILD_TYPE=Release -DFUSENAS_BUILD_TESTS=ON -DFUSENAS_BUILD_APPS=ON)
if ((DRY_RUN)); then
  CMAKE_ARGS+=(-DFUSENAS_CUDA=OFF -DFUSENAS_CUDA_EMULATION=ON)
else
  CMAKE_ARGS+=(-DFUSENAS_CUDA=ON -DCMAKE_CUDA_ARCHITECTURES="$ARCH" -DCMAKE_CUDA_COMPILER="$NVCC")
fi
command -v ccache >/dev/null && CMAKE_ARGS+=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_CUDA_COMPILER_LAUNCHER=ccache)
[[ -n $PEER_PY ]] && CMAKE_ARGS+=(-DFUSENAS_TORCH_PYTHON="$PEER_PY")
LIB_PATHS=()

# The carried Debian packages, for what the machine lacks (scripts/gpu_deps.sh).
DEPS_NOTE="no .gpu-deps bundle: the machine's own packages"
if [[ -f $ROOT/.gpu-deps/prefix.tar.xz ]]; then
  DEPS=/tmp/fusenas-gpu-deps
  rm -rf "$DEPS" && mkdir -p "$DEPS" && tar -C "$DEPS" -xJf "$ROOT/.gpu-deps/prefix.tar.xz"
  lib=$DEPS/usr/lib/x86_64-linux-gnu
  CMAKE_ARGS+=(-Dfmt_DIR="$lib/cmake/fmt" -Dspdlog_DIR="$lib/cmake/spdlog"
    -DGTest_DIR="$lib/cmake/GTest" -Dnlohmann_json_DIR="$DEPS/usr/share/cmake/nlohmann_json"
    -DCLI11_DIR="$DEPS/usr/share/cmake/CLI11" -DCMAKE_DISABLE_FIND_PACKAGE_OpenBLAS=ON
    -DOpenBLAS_LIBRARIES="$lib/openblas-pthread/libopenblas.so"
    -DOpenBLAS_INCLUDE_DIRS="$DEPS/usr/include/x86_64-linux-gnu/openblas-pthread"
    -DZLIB_INCLUDE_DIR="$DEPS/usr/include" -DZLIB_LIBRARY="$lib/libz.so")
  LIB_PATHS+=("$lib" "$lib/openblas-pthread")
  broken=$(find "$DEPS" -xtype l | head -3)
  DEPS_NOTE="carried bundle, $(grep -vc '^#' "$ROOT/.gpu-deps/MANIFEST") packages unpacked in $DEPS${broken:+; BROKEN LINKS: $broken}"
  [[ -n ${FUSENAS_DEPS_HIDDEN:-} ]] && DEPS_NOTE+="; this machine's own copies hidden ($FUSENAS_DEPS_HIDDEN files)"
fi

# cuDNN: the toolkit's or the system's when there is one; only when none is, the one PyTorch ships.
CUDNN_NOTE="found by CMake"
if [[ -n ${CUDNN_INCLUDE_DIR:-} && -n ${CUDNN_LIBRARY:-} ]]; then
  CMAKE_ARGS+=(-DCUDNN_INCLUDE_DIR="$CUDNN_INCLUDE_DIR" -DCUDNN_LIBRARY="$CUDNN_LIBRARY")
  LIB_PATHS+=("$(dirname "$CUDNN_LIBRARY")")
  CUDNN_NOTE="given: $CUDNN_LIBRARY"
elif ((!DRY_RUN)) && ! have_any "$CUDA_ROOT"/include/cudnn.h /usr/include/cudnn.h \
  /usr/include/x86_64-linux-gnu/cudnn.h && [[ -n $PEER_PY ]]; then
  CUDNN_DIR=$("$PEER_PY" -c "import nvidia.cudnn as m; print(list(m.__path__)[0])" 2>/dev/null)
  so=$(compgen -G "$CUDNN_DIR/lib/libcudnn.so*" | head -1)
  if [[ -n $CUDNN_DIR && -f $CUDNN_DIR/include/cudnn.h && -n $so ]]; then
    CMAKE_ARGS+=(-DCUDNN_INCLUDE_DIR="$CUDNN_DIR/include" -DCUDNN_LIBRARY="$so")
    LIB_PATHS+=("$CUDNN_DIR/lib")
    CUDNN_NOTE="PyTorch's, $CUDNN_DIR (no system cuDNN)"
  fi
fi
# cuBLAS likewise, when the toolkit has no linkable libcublas.so.
if ((!DRY_RUN)) && [[ -n $CUDA_ROOT ]] && ! have_any "$CUDA_ROOT"/lib64/libcublas.so \
  "$CUDA_ROOT"/lib/libcublas.so "$CUDA_ROOT"/targets/x86_64-linux/lib/libcublas.so && [[ -n $PEER_PY ]]; then
  CUBLAS_DIR=$("$PEER_PY" -c "import nvidia.cublas as m; print(list(m.__path__)[0])" 2>/dev/null)
  so=$(compgen -G "$CUBLAS_DIR/lib/libcublas.so*" | head -1)
  if [[ -n $so ]]; then
    CMAKE_ARGS+=(-DCUDA_cublas_LIBRARY="$so")
    LIB_PATHS+=("$CUBLAS_DIR/lib")
  fi
fi
# The build, the tests and bench see the carried libraries (OpenBLAS finds libgfortran through the
# search path); cmake and python keep the machine's own.
RUNENV=(env)
if ((${#LIB_PATHS[@]})); then
  RUNENV+=("LD_LIBRARY_PATH=$(
    IFS=:
    echo "${LIB_PATHS[*]}"
  )${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}")
fi

{
  echo "gpu_check $(date -u '+%F %T UTC') on $(hostname), $CORES cores, jobs $JOBS, scale $SCALE"
  echo "mode: $( ((DRY_RUN)) && echo 'DRY RUN (CUDA emulator build; no device, no sanitizer)' || echo 'GPU')"
  echo "GPU: $GPU_NAME"
  echo "git: $(git -C "$ROOT" log -1 --format='%h %s' 2>/dev/null | cut -c1-100)"
  echo "nvcc: ${NVCC:-not found} $([[ -n $NVCC ]] && "$NVCC" --version | sed -n 's/.*release \([0-9.]*\).*/\1/p')"
  echo "host compiler: $(c++ --version 2>/dev/null | head -1)"
  echo "cmake: $(cmake --version 2>/dev/null | head -1); ninja $(ninja --version 2>/dev/null); ccache: $(command -v ccache || echo none)"
  echo "compute-sanitizer: ${SANITIZER:-not found} $([[ -n $SANITIZER ]] && "$SANITIZER" --version 2>/dev/null | tail -1)"
  echo "cuDNN: $CUDNN_NOTE; headers: $(ls "$CUDA_ROOT"/include/cudnn.h /usr/include/cudnn.h /usr/include/x86_64-linux-gnu/cudnn.h 2>/dev/null | paste -sd' ')"
  echo "cuBLAS: $(ls "$CUDA_ROOT"/lib64/libcublas.so* "$CUDA_ROOT"/lib/libcublas.so* 2>/dev/null | head -1)"
  echo "deps: $DEPS_NOTE"
  echo "peers: ${PEER_PY:-none (no python whose torch sees a GPU)}; ${TORCH_INFO:-no torch found}"
  echo "gpu tests: ${GPU_TESTS[*]}"
  echo "--- nvidia-smi"
  ((DRY_RUN)) || timeout 10 nvidia-smi 2>&1
} >>"$PRE"

# The probe: real nvcc, run on the device (in a dry run it builds, then finds no device).
PROBE_NOTE="no nvcc"
if [[ -n $NVCC ]]; then
  PROBE=$(mktemp /tmp/fusenas-gpu-probe.XXXXXX)  # outside $WORK: no binary in the archive
  if run "$PRE" "$(cap 30)" "$NVCC" -arch="sm_$ARCH" -lineinfo -o "$PROBE" scripts/gpu_probe.cu; then
    run "$PRE" "$(cap 10)" "$PROBE"
    rc=$?
    PROBE_NOTE=$(grep '^probe:' "$PRE" | tail -2 | sed 's/^probe: //' | paste -sd' ' | cut -c1-160)
    if ((rc != 0)) && ! ((DRY_RUN && rc == 3)); then PROBE_NOTE="FAILED rc $rc: $PROBE_NOTE"; fi
  else
    PROBE_NOTE="FAILED to compile (preflight.txt)"
  fi
  rm -f "$PROBE"
fi
if [[ $PROBE_NOTE == FAILED* && $DRY_RUN == 0 ]]; then
  record preflight FAIL $((SECONDS - t0)) "probe: $PROBE_NOTE"
else
  record preflight ok $((SECONDS - t0)) "probe: $PROBE_NOTE"
fi

# ---- Build ---------------------------------------------------------------------------------

BUILD_LOG=$WORK/build.log
TARGETS=("${GPU_TESTS[@]}" bench)
BUILT=0
t0=$SECONDS
if ((SKIP_BUILD)) && [[ -f $BUILD/build.ninja ]]; then
  record build skip 0 "reused $BUILD"
  BUILT=1
elif run "$BUILD_LOG" "$(cap 40)" cmake -S . -B "$BUILD" "${CMAKE_ARGS[@]}" &&
  run "$BUILD_LOG" "$(cap 170)" "${RUNENV[@]}" cmake --build "$BUILD" -j "$JOBS" --target "${TARGETS[@]}"; then
  record build ok $((SECONDS - t0)) "${#TARGETS[@]} targets in $BUILD$( ((DRY_RUN)) && echo ' (emulator)' || echo ", sm_$ARCH")"
  BUILT=1
else
  record build FAIL $((SECONDS - t0)) "$(grep -m1 -E 'error|Error|FAILED|timeout' "$BUILD_LOG" | cut -c1-120)"
fi

# ---- Tests ---------------------------------------------------------------------------------

TEST_LOG=$WORK/tests.log
if ((BUILT)); then
  t0=$SECONDS
  run "$TEST_LOG" "$(cap 75)" "${RUNENV[@]}" ctest --test-dir "$BUILD" -L gpu -j "$PARALLEL" \
    --output-on-failure --timeout 120
  rc=$?
  summary=$(grep -E 'tests passed|tests failed' "$TEST_LOG" | tail -1)
  if ((rc != 0)); then
    # Synchronise after every launch, so an asynchronous fault names the launch that caused it.
    echo "===== rerun of the failures with FUSENAS_SYNC_DEBUG=1" >>"$TEST_LOG"
    run "$TEST_LOG" "$(cap 15)" "${RUNENV[@]}" FUSENAS_SYNC_DEBUG=1 ctest --test-dir "$BUILD" \
      --rerun-failed --output-on-failure --timeout 60
    record tests FAIL $((SECONDS - t0)) "${summary:-rc $rc} (tests.log; rerun with FUSENAS_SYNC_DEBUG=1 there)"
  else
    record tests ok $((SECONDS - t0)) "$summary"
  fi
else
  record tests skip 0 "no build"
fi

# ---- Sanitizers ----------------------------------------------------------------------------

SAN_LOG=$WORK/sanitizers.log

# sanitize SECONDS ENV RUN...: each RUN ("tool binary [gtest args]") at once, in parallel, under
# compute-sanitizer's TOOL; the log of each goes to $WORK/<tool>-<binary>.log. Sets BAD to the
# runs that failed, with their status (99: errors found, 124: timeout). In a dry run the binaries
# run bare where compute-sanitizer would wrap them (ASan checks them in test.sh instead).
sanitize() {
  local secs=$1 env=$2
  shift 2
  local pids=() names=() spec tool bin args i
  BAD=""
  for spec in "$@"; do
    read -r tool bin args <<<"$spec"
    local cmd=()
    if ((!DRY_RUN)); then
      cmd=("$SANITIZER" --tool "$tool" --error-exitcode 99 --print-limit 50)
      # The tests provoke API errors on purpose (out-of-memory, a broken capture).
      [[ $tool == memcheck ]] && cmd+=(--report-api-errors no)
      # Races and barrier misuse are only of interest in FuseNAS' own kernels.
      [[ $tool != memcheck ]] && cmd+=(--kernel-name kns=fusenas)
    fi
    # shellcheck disable=SC2086  # env and args are word lists
    run "$WORK/$tool-$bin.log" "$secs" "${RUNENV[@]}" $env "${cmd[@]}" "$BUILD/tests/$bin" \
      --gtest_brief=1 $args &
    pids+=($!)
    names+=("$tool:$bin")
  done
  for i in "${!pids[@]}"; do
    wait "${pids[$i]}" || BAD+="${names[$i]}:rc$? "
  done
}

# Error counts of TOOL's logs: "N errors (FuseNAS kernels M, cuDNN/cuBLAS/other L)", by the kernel
# each error names (FuseNAS kernels live in namespace fusenas).
count_errors() {
  cat "$WORK"/"$1"-*.log 2>/dev/null | awk '
    function blame() { if ($0 ~ /fusenas/) own++; else lib++; pending = 0 }
    # An error starts one space after the marker (details are indented further); its kernel is
    # on that line (racecheck) or on the first "at" line after it (memcheck).
    /^========= (Invalid|Race|Barrier|Warp|Program hit|Error|Uninitialized|Misaligned|Divergent)/ {
      n++; if ($0 ~ / at /) blame(); else pending = 1; next }
    pending && / at / { blame() }
    END { if (n == 0) print "no errors"
          else printf "%d errors (FuseNAS kernels %d, cuDNN/cuBLAS/other %d)\n", n, own + 0, lib + 0 }'
}

if ((BUILT)) && [[ -n $SANITIZER || $DRY_RUN == 1 ]]; then
  t0=$SECONDS
  runs=()
  for tool in racecheck synccheck; do
    for r in "${RACE_RUNS[@]}"; do runs+=("$tool $r"); done
  done
  sanitize "$(cap 50)" "" "${runs[@]}"
  if ((DRY_RUN)); then
    detail="stand-in: ${#runs[@]} runs without compute-sanitizer"
  else
    detail="racecheck: $(count_errors racecheck); synccheck: $(count_errors synccheck)"
  fi
  if [[ -n $BAD ]]; then record racecheck FAIL $((SECONDS - t0)) "$detail; $BAD"; else record racecheck ok $((SECONDS - t0)) "$detail"; fi

  t0=$SECONDS
  runs=()
  for t in "${GPU_TESTS[@]}"; do [[ " ${LONG_TESTS[*]} " == *" $t "* ]] || runs+=("memcheck $t"); done
  # Exact-size allocations: inside the cache's rounded blocks an overrun would go unseen.
  sanitize "$(cap 70)" FUSENAS_CUDA_NO_CACHING=1 "${runs[@]}"
  if ((DRY_RUN)); then
    detail="stand-in: ${#runs[@]} binaries without compute-sanitizer"
  else
    detail="$(count_errors memcheck) in ${#runs[@]} binaries"
  fi
  if [[ -n $BAD ]]; then record memcheck FAIL $((SECONDS - t0)) "$detail; $BAD"; else record memcheck ok $((SECONDS - t0)) "$detail"; fi
  for f in "$WORK"/racecheck-*.log "$WORK"/synccheck-*.log "$WORK"/memcheck-*.log; do
    [[ -f $f ]] || continue
    echo "===== $(basename "$f" .log)"
    # The commands and the errors, not the lines of every passing test.
    grep -E '^=========|Failure|FAILED|\[  PASSED  \]|^\+ ' "$f" | head -200
  done >"$SAN_LOG"
else
  record racecheck skip 0 "${SANITIZER:-compute-sanitizer not found}"
  record memcheck skip 0 "${SANITIZER:-compute-sanitizer not found}"
fi

# ---- Bench ---------------------------------------------------------------------------------

BENCH_LOG=$WORK/bench.log
if ((BUILT)); then
  peers=()
  [[ -z $PEER_PY ]] && peers=(--no-peers)
  for suite in ops darts; do
    left=$(cap 1000)
    if ((left < 30 * SCALE)); then
      record "bench $suite" skip 0 "out of time"
      continue
    fi
    t0=$SECONDS
    run "$BENCH_LOG" "$left" "${RUNENV[@]}" "$BUILD/bench/bench" --suite "$suite" --device cuda \
      --quick "${peers[@]}" --json "$WORK/bench_$suite.json"
    rc=$?
    if ((rc == 0)); then
      record "bench $suite" ok $((SECONDS - t0)) "$(grep -c '"name"' "$WORK/bench_$suite.json") cases${PEER_PY:+, torch beside}"
    else
      record "bench $suite" FAIL $((SECONDS - t0)) "rc $rc (bench.log in logs.tar.gz)"
    fi
  done
else
  record "bench ops" skip 0 "no build"
  record "bench darts" skip 0 "no build"
fi

# ---- Summary (printed last) ----------------------------------------------------------------

SUMMARY=$WORK/summary.txt
{
  echo "================ gpu_check summary ================"
  head -3 "$PRE"
  printf '%-12s %-5s %5s  %s\n' stage result secs detail
  for s in "${STAGES[@]}"; do printf '%-12s %-5s %5s  %s\n' "$s" "${RESULT[$s]}" "${TIME[$s]}" "${DETAIL[$s]}"; done
  if [[ ${RESULT[build]:-} == FAIL ]]; then
    echo "--- build.log, last lines:"
    grep -v '^\[' "$BUILD_LOG" | tail -25
  fi
  if [[ ${RESULT[tests]:-} == FAIL ]]; then
    echo "--- failed gpu tests:"
    sed -n '/The following tests FAILED/,/^Errors/p' "$TEST_LOG" | head -25
  fi
  if grep -q -E '^=========.*(Invalid|Race|Barrier|Error)' "$SAN_LOG" 2>/dev/null; then
    echo "--- first sanitizer errors (sanitizers.log):"
    grep -E -A2 '^=========.*(Invalid|Race|Barrier|Error)' "$SAN_LOG" | head -20
  fi
  for suite in ops darts; do
    [[ -s $WORK/bench_$suite.json ]] || continue
    python3 - "$suite" "$WORK/bench_$suite.json" <<'EOF'
import json, sys
suite, d = sys.argv[1], json.load(open(sys.argv[2]))
if suite == "ops":
    print(f"\nbench ops --quick: {d.get('gpu')}; copy {d['copy_gbps']:.0f} GB/s, SGEMM "
          f"{d['sgemm_tflops']:.1f} TFLOP/s; {d['failures']} failed; torch {d.get('torch') or 'absent'}")
    print(f"{'case':<52} {'ms':>9} {'GB/s':>6} {'launch':>6} {'torch ms':>9} {'torch/us':>8}")
    for c in d["cases"]:
        ms, t = c.get("fusenas_ms"), c.get("torch_ms")
        ratio = f"{t / ms:.2f}x" if ms and t else "-"
        print(f"{c['name'][:52]:<52} {'FAIL' if ms is None else format(ms, '.4f'):>9} "
              f"{c['gbps']:>6.0f} {c['launches']:>6.0f} {'-' if t is None else format(t, '.4f'):>9} {ratio:>8}")
else:
    print("\nbench darts --quick (search step):")
    print(f"{'case':<46} {'fusenas ms':>10} {'torch ms':>9} {'peak MB':>8} {'launches':>9}")
    for c in d["cases"]:
        t = (c.get("torch") or {}).get("median_ms")
        print(f"{c['name'][:46]:<46} {c['fusenas_ms']:>10.1f} {'-' if t is None else format(t, '.1f'):>9} "
              f"{c.get('fusenas_peak_mb', 0):>8.0f} {c.get('fusenas_launches', 0):>9.0f}")
EOF
  done
  echo
  echo "files in $OUT_DIR: ${LOOSE[*]} logs.tar.gz"
  echo "total $((SECONDS - START)) s of a $((TOTAL_BUDGET * SCALE)) s plan; $([[ $FAILED == 0 ]] && echo 'gpu_check: all stages passed' || echo 'gpu_check: FAILED')"
} >"$SUMMARY" 2>&1

sync_out
tar -C "$WORK" -czf "$OUT_DIR/logs.tar.gz" . 2>/dev/null
rm -rf "$WORK"
cat "$OUT_DIR/summary.txt"
exit $FAILED
