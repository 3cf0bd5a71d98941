#!/usr/bin/env bash
# The one command for a GPU machine: builds Release for sm_90, runs the gpu tests (and a quick CPU
# sanity subset), runs the kernel benchmarks beside the PyTorch peers, reruns the GPU test binaries
# under compute-sanitizer (memcheck; racecheck for the custom-kernel tests), and prints a short
# summary last. Every stage has a time budget (the benchmarks go before the slow sanitizers, so a
# tight budget cuts those first) and later stages run even when one fails; the exit status is
# non-zero when anything failed. Logs go to $OUT when set, else ./gpu-check-logs.
#
# Usage: scripts/gpu_check.sh [--dry-run] [--skip-build] [--quick]
#   --dry-run     print what each stage would run, without a GPU, and exit 0
#   --skip-build  reuse an existing build-gpu/ (for a rerun on a warm machine)
#   --quick       bench only a handful of cases
# Environment: FUSENAS_TORCH_PYTHON (python with torch for the peers; default: the python3 on PATH
#   when it imports torch), JOBS (default 16), BUILD_DIR (default build-gpu),
#   CUDNN_INCLUDE_DIR / CUDNN_LIBRARY (override the cuDNN search), GPU_CHECK_BUDGET (seconds for
#   the whole run, default 470).
# Dependencies missing on the machine (it has no network) come from .gpu-deps/prefix.tar.xz when
# present: make it beforehand with scripts/gpu_deps.sh and carry .gpu-deps.
set -u
set -o pipefail

cd "$(dirname "$0")/.." || exit 2
ROOT=$(pwd)

DRY_RUN=0
SKIP_BUILD=0
QUICK=0
for arg in "$@"; do
  case $arg in
    --dry-run) DRY_RUN=1 ;;
    --skip-build) SKIP_BUILD=1 ;;
    --quick) QUICK=1 ;;
    -h | --help)
      sed -n '2,18p' "$0" | sed 's/^# \{0,1\}//'
      exit 0
      ;;
    *)
      echo "gpu_check: unknown argument $arg (see --help)" >&2
      exit 2
      ;;
  esac
done

JOBS=${JOBS:-16}
BUILD=${BUILD_DIR:-build-gpu}
LOGS=${OUT:-$ROOT/gpu-check-logs}
# Per-stage logs live in WORK; LOGS gets the main ones after every stage plus one archive at the
# end, as the device tool brings back at most 8 files from $OUT.
WORK=$(mktemp -d /tmp/fusenas-gpu-check.XXXXXX)
mkdir -p "$LOGS"
START=$SECONDS
# Seconds for everything (the issue's limit is 8 minutes on an H100); GPU_CHECK_BUDGET scales every
# stage's cap with it, for a slower machine.
BUDGET=${GPU_CHECK_BUDGET:-470}
SUMMARY_RESERVE=15

GPU_TESTS=(conv_gpu_test core_ops_gpu_test misc_ops_gpu_test optim_gpu_test pool_bn_gpu_test darts_gpu_test)
RACE_TESTS=(conv_gpu_test pool_bn_gpu_test misc_ops_gpu_test optim_gpu_test)
CPU_SANITY=(tensor_test autograd_test elementwise_test)

declare -A RESULT DETAIL TIME
STAGES=()
FAILED=0

note() { printf '[gpu_check %4ds] %s\n' $((SECONDS - START)) "$*"; }

# Seconds a stage may take: its cap (for the default budget), cut to what is left before the summary.
budget() {
  local want=$(($1 * BUDGET / 470)) left=$((BUDGET - SUMMARY_RESERVE - (SECONDS - START)))
  ((left < 5)) && left=5
  ((want < left)) && echo "$want" || echo "$left"
}

MAIN_LOGS=(env.txt build.log ctest.log sanitizer.log bench.log bench_ops.json bench_darts.json summary.txt)

# Copies the main logs to LOGS, so a run cut short still leaves them there.
sync_logs() {
  local f
  for f in "${MAIN_LOGS[@]}"; do
    [[ -f $WORK/$f ]] && cp "$WORK/$f" "$LOGS/$f"
  done
  return 0
}

# record STAGE RESULT DETAIL SECONDS: RESULT is ok, FAIL or skip.
record() {
  STAGES+=("$1")
  RESULT[$1]=$2
  DETAIL[$1]=$3
  TIME[$1]=$4
  [[ $2 == FAIL ]] && FAILED=1
  note "$1: $2 $3"
  sync_logs
}

# run LOG SECONDS CMD...: runs CMD under timeout into LOG (appended); prints it in dry-run mode.
run() {
  local log=$1 secs=$2
  shift 2
  if ((DRY_RUN)); then
    printf '  [dry-run] timeout %ss %s  >> %s\n' "$secs" "$*" "${log#"$LOGS"/}"
    return 0
  fi
  echo "+ $*" >>"$log"
  timeout --kill-after=10 "$secs" "$@" >>"$log" 2>&1
}

# ---- Environment ---------------------------------------------------------------------------

ENV_LOG=$WORK/env.txt
: >"$ENV_LOG"
GPU_NAME="(none)"
DRIVER="?"
if ! command -v nvidia-smi >/dev/null 2>&1; then
  GPU_PROBLEM="nvidia-smi not found"
elif ! nvidia-smi -L >>"$ENV_LOG" 2>&1; then
  GPU_PROBLEM="nvidia-smi -L failed (no driver or no device visible)"
elif ! nvidia-smi -L 2>/dev/null | grep -q '^GPU'; then
  GPU_PROBLEM="nvidia-smi lists no GPU"
else
  GPU_PROBLEM=""
  GPU_NAME=$(nvidia-smi --query-gpu=name --format=csv,noheader 2>/dev/null | head -1)
  DRIVER=$(nvidia-smi --query-gpu=driver_version --format=csv,noheader 2>/dev/null | head -1)
  nvidia-smi >>"$ENV_LOG" 2>&1
fi
if [[ -n $GPU_PROBLEM ]] && ((!DRY_RUN)); then
  echo "gpu_check: no usable NVIDIA GPU: $GPU_PROBLEM. Run this on the GPU machine (or pass" \
    "--dry-run to see the plan)." >&2
  rm -rf "$WORK"
  exit 2
fi

NVCC=$(command -v nvcc || true)
for candidate in /usr/local/cuda/bin/nvcc /usr/local/cuda-*/bin/nvcc /opt/cuda/bin/nvcc; do
  [[ -z $NVCC && -x $candidate ]] && NVCC=$candidate
done
NVCC_VERSION=$([[ -n $NVCC ]] && "$NVCC" --version | sed -n 's/.*release \([0-9.]*\).*/\1/p' | head -1)
CUDA_ROOT=$([[ -n $NVCC ]] && dirname "$(dirname "$(readlink -f "$NVCC")")")

# The peers' python: $FUSENAS_TORCH_PYTHON, else the first python3 that imports torch.
PEER_PY=""
TORCH_VERSION=""
for candidate in ${FUSENAS_TORCH_PYTHON:-} "$(command -v python3 || true)" /usr/bin/python3 \
  /opt/torch/.venv/bin/python3; do
  [[ -n $candidate && -x $candidate && -z $PEER_PY ]] || continue
  TORCH_VERSION=$("$candidate" -c "import torch; print(torch.__version__, 'cuda', torch.version.cuda, 'gpu', torch.cuda.is_available())" 2>/dev/null || true)
  [[ -n $TORCH_VERSION ]] && PEER_PY=$candidate
done
export FUSENAS_TORCH_PYTHON=$PEER_PY

{
  echo "GPU: $GPU_NAME (driver $DRIVER)"
  echo "nvcc: ${NVCC:-not found} ${NVCC_VERSION:-}"
  echo "host compiler: $(c++ --version 2>/dev/null | head -1)"
  echo "cmake: $(cmake --version 2>/dev/null | head -1), ninja $(ninja --version 2>/dev/null)"

  echo "peer python: ${PEER_PY:-none with torch} ${TORCH_VERSION:-}"
  echo "cpus: $(nproc), jobs: $JOBS, build dir: $BUILD"
  echo "git: $(git -C "$ROOT" log -1 --format='%h %s' 2>/dev/null || echo '?')"
} | tee -a "$ENV_LOG"

SANITIZER=$(command -v compute-sanitizer || true)
for candidate in "$CUDA_ROOT/bin/compute-sanitizer" "$CUDA_ROOT/compute-sanitizer/compute-sanitizer"; do
  [[ -z $SANITIZER && -n $CUDA_ROOT && -x $candidate ]] && SANITIZER=$candidate
done
echo "compute-sanitizer: ${SANITIZER:-not found}" | tee -a "$ENV_LOG"

# ---- Dependencies --------------------------------------------------------------------------

CMAKE_ARGS=(-G Ninja -DCMAKE_BUILD_TYPE=Release -DFUSENAS_CUDA=ON -DCMAKE_CUDA_ARCHITECTURES=90)
[[ -n $NVCC ]] && CMAKE_ARGS+=(-DCMAKE_CUDA_COMPILER="$NVCC")
[[ -n $PEER_PY ]] && CMAKE_ARGS+=(-DFUSENAS_TORCH_PYTHON="$PEER_PY")
LIB_PATHS=()

# Carried Debian packages for what the machine lacks (see scripts/gpu_deps.sh).
if [[ -f $ROOT/.gpu-deps/prefix.tar.xz ]]; then
  DEPS=/tmp/fusenas-gpu-deps
  if ((DRY_RUN)); then
    echo "  [dry-run] tar -C $DEPS -xJf .gpu-deps/prefix.tar.xz"
  else
    rm -rf "$DEPS" && mkdir -p "$DEPS" && tar -C "$DEPS" -xJf "$ROOT/.gpu-deps/prefix.tar.xz"
  fi
  lib=$DEPS/usr/lib/x86_64-linux-gnu
  CMAKE_ARGS+=(-Dfmt_DIR="$lib/cmake/fmt" -Dspdlog_DIR="$lib/cmake/spdlog"
    -DGTest_DIR="$lib/cmake/GTest" -Dnlohmann_json_DIR="$DEPS/usr/share/cmake/nlohmann_json"
    -DCLI11_DIR="$DEPS/usr/share/cmake/CLI11" -DCMAKE_DISABLE_FIND_PACKAGE_OpenBLAS=ON
    -DOpenBLAS_LIBRARIES="$lib/openblas-pthread/libopenblas.so"
    -DOpenBLAS_INCLUDE_DIRS="$DEPS/usr/include/x86_64-linux-gnu/openblas-pthread"
    -DZLIB_INCLUDE_DIR="$DEPS/usr/include" -DZLIB_LIBRARY="$lib/libz.so")
  LIB_PATHS+=("$lib" "$lib/openblas-pthread")
  echo "deps: using the carried bundle ($(grep -vc '^#' "$ROOT/.gpu-deps/MANIFEST" 2>/dev/null) packages)" | tee -a "$ENV_LOG"
else
  echo "deps: no .gpu-deps bundle; relying on the machine's packages" | tee -a "$ENV_LOG"
fi

# cuDNN: the toolkit's or the system's when CMake can find it, else the one PyTorch ships.
if [[ -n ${CUDNN_INCLUDE_DIR:-} && -n ${CUDNN_LIBRARY:-} ]]; then
  CMAKE_ARGS+=(-DCUDNN_INCLUDE_DIR="$CUDNN_INCLUDE_DIR" -DCUDNN_LIBRARY="$CUDNN_LIBRARY")
  LIB_PATHS+=("$(dirname "$CUDNN_LIBRARY")")
elif ! ls "$CUDA_ROOT"/include/cudnn.h /usr/include/cudnn.h /usr/include/x86_64-linux-gnu/cudnn.h >/dev/null 2>&1 &&
  [[ -n $PEER_PY ]]; then
  CUDNN_DIR=$("$PEER_PY" -c "import nvidia.cudnn as m; print(list(m.__path__)[0])" 2>/dev/null || true)
  so=$(compgen -G "$CUDNN_DIR/lib/libcudnn.so*" | head -1)
  if [[ -n $CUDNN_DIR && -f $CUDNN_DIR/include/cudnn.h && -n $so ]]; then
    CMAKE_ARGS+=(-DCUDNN_INCLUDE_DIR="$CUDNN_DIR/include" -DCUDNN_LIBRARY="$so")
    LIB_PATHS+=("$CUDNN_DIR/lib")
    echo "cudnn: PyTorch's, $CUDNN_DIR" | tee -a "$ENV_LOG"
  fi
fi
# cuBLAS: likewise, when the toolkit has no linkable libcublas.so.
if [[ -n $CUDA_ROOT ]] && ! ls "$CUDA_ROOT"/lib64/libcublas.so "$CUDA_ROOT"/lib/libcublas.so \
  "$CUDA_ROOT"/targets/x86_64-linux/lib/libcublas.so >/dev/null 2>&1 && [[ -n $PEER_PY ]]; then
  CUBLAS_DIR=$("$PEER_PY" -c "import nvidia.cublas as m; print(list(m.__path__)[0])" 2>/dev/null || true)
  so=$(compgen -G "$CUBLAS_DIR/lib/libcublas.so*" | head -1)
  if [[ -n $so ]]; then
    CMAKE_ARGS+=(-DCUDA_cublas_LIBRARY="$so")
    LIB_PATHS+=("$CUBLAS_DIR/lib")
    echo "cublas: PyTorch's, $CUBLAS_DIR" | tee -a "$ENV_LOG"
  fi
fi
# Only the build, the tests and bench see the carried libraries (OpenBLAS loads libgfortran through
# the search path); cmake and python keep the machine's own.
RUNENV=(env)
if ((${#LIB_PATHS[@]})); then
  RUNENV+=("LD_LIBRARY_PATH=$(
    IFS=:
    echo "${LIB_PATHS[*]}"
  )${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}")
fi

# ---- Build ---------------------------------------------------------------------------------

TARGETS=("${GPU_TESTS[@]}" "${CPU_SANITY[@]}" bench)
BUILD_LOG=$WORK/build.log
BUILT=0
t0=$SECONDS
if ((SKIP_BUILD)) && [[ -f $BUILD/build.ninja ]]; then
  record build skip "reused $BUILD" 0
  BUILT=1
else
  : >"$BUILD_LOG"
  note "configure + build (${#TARGETS[@]} targets, -j$JOBS)"
  if run "$BUILD_LOG" "$(budget 60)" cmake -S . -B "$BUILD" "${CMAKE_ARGS[@]}" &&
    run "$BUILD_LOG" "$(budget 330)" "${RUNENV[@]}" cmake --build "$BUILD" -j "$JOBS" --target "${TARGETS[@]}"; then
    record build ok "sm_90 Release" $((SECONDS - t0))
    BUILT=1
  else
    record build FAIL "see build.log: $(grep -m1 -E 'error|Error|FAILED' "$BUILD_LOG" | cut -c1-100)" $((SECONDS - t0))
  fi
fi
((DRY_RUN)) && BUILT=1

# ---- Tests ---------------------------------------------------------------------------------

CTEST_LOG=$WORK/ctest.log
: >"$CTEST_LOG"
if ((BUILT)); then
  t0=$SECONDS
  run "$CTEST_LOG" "$(budget 150)" "${RUNENV[@]}" ctest --test-dir "$BUILD" -L gpu -j 4 --output-on-failure --timeout 120
  rc=$?
  summary_line=$(grep -E 'tests passed|tests failed' "$CTEST_LOG" | tail -1)
  if ((DRY_RUN)); then
    record "ctest -L gpu" ok "(dry run)" 0
  elif ((rc == 0)); then
    record "ctest -L gpu" ok "$summary_line" $((SECONDS - t0))
  else
    record "ctest -L gpu" FAIL "${summary_line:-rc $rc} (ctest.log)" $((SECONDS - t0))
  fi

  t0=$SECONDS
  bad=()
  for t in "${CPU_SANITY[@]}"; do
    run "$CTEST_LOG" "$(budget 60)" "${RUNENV[@]}" "$BUILD/tests/$t" --gtest_brief=1 || bad+=("$t")
  done
  if ((${#bad[@]})); then
    record "cpu sanity" FAIL "${bad[*]} (ctest.log)" $((SECONDS - t0))
  else
    record "cpu sanity" ok "${CPU_SANITY[*]}" $((SECONDS - t0))
  fi
else
  record "ctest -L gpu" skip "no build" 0
  record "cpu sanity" skip "no build" 0
fi

# ---- Benchmarks ----------------------------------------------------------------------------

BENCH_LOG=$WORK/bench.log
: >"$BENCH_LOG"
BENCH_JSON=$WORK/bench_ops.json
if ((BUILT)); then
  t0=$SECONDS
  bench_args=(--suite ops --device cuda --threads "$(nproc)" --json "$BENCH_JSON")
  ((QUICK)) && bench_args+=(--quick)
  [[ -z $PEER_PY ]] && bench_args+=(--no-peers)
  run "$BENCH_LOG" "$(budget 150)" "${RUNENV[@]}" "$BUILD/bench/bench" "${bench_args[@]}"
  rc=$?
  if ((DRY_RUN)); then
    record "bench ops" ok "(dry run)" 0
  elif ((rc == 0)); then
    record "bench ops" ok "$(grep -c '"name"' "$BENCH_JSON" 2>/dev/null) cases${PEER_PY:+, with torch peer}" $((SECONDS - t0))
  else
    record "bench ops" FAIL "rc $rc (bench.log)" $((SECONDS - t0))
  fi
  # The DARTS search-step suite, once bench has it.
  if ((DRY_RUN)) || "${RUNENV[@]}" "$BUILD/bench/bench" --help 2>/dev/null | grep -q darts; then
    t0=$SECONDS
    darts_args=(--suite darts --device cuda --json "$WORK/bench_darts.json")
    [[ -z $PEER_PY ]] && darts_args+=(--no-peers)
    run "$BENCH_LOG" "$(budget 90)" "${RUNENV[@]}" "$BUILD/bench/bench" "${darts_args[@]}"
    rc=$?
    if ((DRY_RUN)); then
      record "bench darts" ok "(dry run)" 0
    elif ((rc == 0)); then record "bench darts" ok "" $((SECONDS - t0)); else record "bench darts" FAIL "rc $rc (bench.log)" $((SECONDS - t0)); fi
  else
    record "bench darts" skip "bench has no darts suite yet" 0
  fi
else
  record "bench ops" skip "no build" 0
fi

# ---- compute-sanitizer ---------------------------------------------------------------------

SAN_LOG=$WORK/sanitizer.log
: >"$SAN_LOG"
# sanitize TOOL SECONDS BINARIES...: each binary once, in parallel (the GPU has room, the
# instrumentation is mostly host work); sets SAN_BAD to the binaries that failed, with their status.
sanitize() {
  local tool=$1 secs=$2
  shift 2
  local pids=() names=() bad=() i
  for t in "$@"; do
    local log=$WORK/$tool-$t.log
    : >"$log"
    # --report-api-errors no: the allocator tests provoke cudaMalloc failures on purpose.
    run "$log" "$secs" "${RUNENV[@]}" "${SAN_ENV[@]}" "$SANITIZER" --tool "$tool" --error-exitcode 99 \
      --report-api-errors no "${SAN_FILTER[@]}" "$BUILD/tests/$t" --gtest_brief=1 &
    pids+=($!)
    names+=("$t")
  done
  for i in "${!pids[@]}"; do
    wait "${pids[$i]}" || bad+=("${names[$i]}:rc$?")
  done
  for t in "$@"; do
    {
      echo "===== $tool $t"
      cat "$WORK/$tool-$t.log"
    } >>"$SAN_LOG"
  done
  SAN_BAD="${bad[*]}"
}

if ((BUILT)) && [[ -n $SANITIZER || $DRY_RUN == 1 ]]; then
  SANITIZER=${SANITIZER:-compute-sanitizer}
  for tool in memcheck racecheck; do
    t0=$SECONDS
    SAN_FILTER=() SAN_ENV=()
    if [[ $tool == memcheck ]]; then
      # Exact-size allocations: inside the cache's rounded blocks an overrun would go unseen.
      SAN_ENV=(FUSENAS_CUDA_NO_CACHING=1)
      # Every kernel, cuDNN's and cuBLAS' too: a wrong descriptor shows up as their bad access.
      list=("${GPU_TESTS[@]}") secs=$(budget 150)
    else
      # Shared-memory races: only FuseNAS' own kernels (namespace fusenas::kernels) are of interest.
      list=("${RACE_TESTS[@]}") secs=$(budget 100)
      if ((DRY_RUN)) || "$SANITIZER" --help 2>/dev/null | grep -q -- '--kernel-name '; then
        SAN_FILTER=(--kernel-name kns=fusenas)
      fi
    fi
    if ((secs < 20)); then
      record "$tool" skip "out of time" 0
      continue
    fi
    sanitize "$tool" "$secs" "${list[@]}"
    if ((DRY_RUN)); then
      record "$tool" ok "(dry run)" 0
    elif [[ -z $SAN_BAD ]]; then
      errors=$(grep -h 'ERROR SUMMARY' "$WORK"/$tool-*.log | awk '{s += $4} END {print s + 0}')
      record "$tool" ok "clean: ${#list[@]} binaries, $errors errors" $((SECONDS - t0))
    else
      record "$tool" FAIL "$SAN_BAD (rc 99 = sanitizer errors, 124 = timeout; sanitizer.log)" $((SECONDS - t0))
    fi
  done
else
  record memcheck skip "${SANITIZER:-compute-sanitizer not found}" 0
  record racecheck skip "${SANITIZER:-compute-sanitizer not found}" 0
fi

# ---- Summary (printed last) ----------------------------------------------------------------

SUMMARY=$WORK/summary.txt
{
  echo
  echo "================ gpu_check summary ================"
  echo "GPU: $GPU_NAME, driver $DRIVER, nvcc ${NVCC_VERSION:-?}, torch ${TORCH_VERSION:-none}"
  printf '%-14s %-5s %5s  %s\n' stage result secs detail
  for s in "${STAGES[@]}"; do
    printf '%-14s %-5s %5s  %s\n' "$s" "${RESULT[$s]}" "${TIME[$s]}" "${DETAIL[$s]}"
  done
  if [[ ${RESULT[build]:-} == FAIL ]]; then
    echo "--- build.log, last lines:"
    grep -v '^\[' "$BUILD_LOG" | tail -15
  fi
  if [[ ${RESULT["ctest -L gpu"]:-} == FAIL ]]; then
    echo "--- failed gpu tests:"
    sed -n '/The following tests FAILED/,$p' "$CTEST_LOG" | head -20
  fi
  if [[ -s $WORK/bench_darts.json && -n $(command -v python3) ]]; then
    python3 - "$WORK/bench_darts.json" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
print("\nbench darts (search step, CIFAR 3x32x32, batch 64, C=16, 8 cells):")
print(f"{'case':<46} {'fusenas ms':>10} {'torch ms':>9} {'ratio':>7} {'peak MB':>8} {'launches':>9} {'torch lnch':>10}")
for c in d["cases"]:
    t = c.get("torch") or {}
    tm = t.get("median_ms")
    print(f"{c['name']:<46} {c['fusenas_ms']:>10.1f} {'-' if tm is None else format(tm, '.1f'):>9} "
          f"{'-' if tm is None else format(tm / c['fusenas_ms'], '.2f') + 'x':>7} {c['fusenas_peak_mb']:>8.0f} "
          f"{c['fusenas_launches']:>9.0f} {str(t.get('launches', '-')):>10}")
EOF
  fi
  if [[ -s $BENCH_JSON && -n $(command -v python3) ]]; then
    python3 - "$BENCH_JSON" <<'EOF'
import json, math, sys
d = json.load(open(sys.argv[1]))
cases = d["cases"]
print(f"\nbench ops: ceilings copy {d['copy_gbps']:.0f} GB/s, SGEMM {d['sgemm_tflops']:.1f} TFLOP/s; "
      f"{sum(1 for c in cases if not c['ok'])} FAIL of {len(cases)}; torch {d.get('torch') or 'absent'}")
heads = ["dwconv3x3 d1 s1 C16 32px fwd+bwd", "dwconv5x5 d2 s1 C16 32px fwd+bwd",
         "conv1x1 C16 32px fwd+bwd", "batchnorm train C16 32px fwd+bwd",
         "maxpool3x3 s1 C16 32px fwd+bwd", "weighted_sum8 C16 32px fwd+bwd"]
print(f"{'case':<38} {'ms':>8} {'GB/s':>6} {'torch ms':>9} {'torch/us':>8}")
for c in cases:
    if c["name"] in heads:
        t = c.get("torch_ms")
        ms = c.get("fusenas_ms")
        print(f"{c['name']:<38} {'-' if ms is None else format(ms, '.4f'):>8} {c['gbps']:>6.0f} "
              f"{'-' if t is None else format(t, '.4f'):>9} "
              f"{'-' if (t is None or ms is None) else format(t / ms, '.2f') + 'x':>8}")
fam = {}
for c in cases:
    if c["ok"] and c.get("torch_ms") and c.get("fusenas_ms"):
        fam.setdefault(c["name"].split(" ")[0].rstrip("0123456789x"), []).append(c["torch_ms"] / c["fusenas_ms"])
if fam:
    print("geomean torch/us by family (> 1: FuseNAS faster): " + ", ".join(
        f"{k} {math.exp(sum(map(math.log, v)) / len(v)):.2f}x" for k, v in sorted(fam.items())))
EOF
  fi
  echo "logs: $LOGS (summary.txt, env.txt, build.log, ctest.log, sanitizer.log, bench.log, bench_ops.json, all-logs.tar.gz)"
  if ((DRY_RUN)); then
    echo "gpu_check: dry run, nothing was executed"
  else
    echo "total $((SECONDS - START)) s; $([[ $FAILED == 0 ]] && echo 'gpu_check: all stages passed' || echo 'gpu_check: FAILED')"
  fi
} >"$SUMMARY" 2>&1

# At most 8 files in $OUT: the main logs, everything else in one archive.
sync_logs
tar -C "$WORK" -czf "$LOGS/all-logs.tar.gz" . 2>/dev/null
rm -rf "$WORK"
cat "$LOGS/summary.txt"
((DRY_RUN)) && exit 0
exit $FAILED
