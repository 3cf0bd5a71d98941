#!/usr/bin/env bash
# The main job on a fresh machine: installs what is missing (graphviz too, for the cell
# pictures), builds Release, and runs a DARTS search on Fashion-MNIST: the paper preset on the
# GPU when nvidia-smi sees one, otherwise the quick preset on the CPU. Extra arguments go to
# nas_darts (e.g. ./run.sh --epochs 2 --out runs/mine); see <build dir>/apps/nas_darts --help.
# Afterwards nas_report writes the search's page, <run folder>/report.html.
set -euo pipefail
cd "$(dirname "$0")"

scripts/deps.sh graphviz
launcher=()
command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_CUDA_COMPILER_LAUNCHER=ccache)

if command -v nvidia-smi >/dev/null && nvidia-smi -L 2>/dev/null | grep -q GPU; then
  build=build
  cuda=()
  defaults=(--device cuda --preset paper)
else
  # Without a GPU the apps are built without the CUDA backend (build-cpu/): loading cuBLAS and
  # cuDNN alone took 220 MB resident, and the build skips nvcc. The quick search then peaks at
  # 0.5 GB instead of 0.8 GB (docs/results.md).
  build=build-cpu
  cuda=(-DFUSENAS_CUDA=OFF)
  defaults=(--device cpu --preset quick)
fi
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_FLAGS_RELEASE=-O3 \
  -DCMAKE_CUDA_FLAGS_RELEASE=-O3 -DFUSENAS_BUILD_TESTS=OFF "${cuda[@]}" "${launcher[@]}"
cmake --build "$build" -j "$(nproc)" --target nas_darts nas_train nas_enas nas_report
echo "run.sh: apps in $build/apps (nas_darts, nas_train, nas_enas, nas_report)"

# The run folder: --out/--resume when given, else the newest runs/darts-* the search made.
run_dir=
args=("$@")
for ((i = 0; i < ${#args[@]}; i++)); do
  case ${args[i]} in
    --out | --resume) run_dir=${args[i + 1]:-} ;;
    --out=* | --resume=*) run_dir=${args[i]#*=} ;;
  esac
done

# A later --device/--preset on the command line wins over these (CLI11 keeps the last value).
status=0
"$build"/apps/nas_darts --dataset fashion-mnist "${defaults[@]}" "$@" || status=$?
if [[ -z $run_dir ]]; then
  run_dir=$(ls -dt runs/darts-* 2>/dev/null | head -n 1 || true)
fi
# A stopped search gets its page too (it says "stopped"); --help and bad flags make no folder.
if [[ -n $run_dir && -d $run_dir ]]; then
  "$build"/apps/nas_report "$run_dir" || true
fi
exit "$status"
