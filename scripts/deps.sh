#!/usr/bin/env bash
# Installs the Debian packages FuseNAS needs, only those missing, non-interactively.
# chromium is for the `browser` tests (nas_report's page in a real browser).
# Open MPI is for nas_search over several ranks (mpirun) and its `mpi` tests.
# fortunes is the default language-modelling corpus (/usr/share/games/fortunes), a stand-in for
# Penn Treebank, not PTB itself.
# Usage: scripts/deps.sh [extra packages...]
set -euo pipefail

packages=(cmake ninja-build g++ pkg-config libfmt-dev libspdlog-dev libcli11-dev nlohmann-json3-dev
  libgtest-dev libbenchmark-dev libopenblas-dev zlib1g-dev libboost-context-dev libsqlite3-dev
  python3-torch python3-numpy dataset-fashion-mnist chromium openmpi-bin libopenmpi-dev fortunes
  "$@")

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
if ((${#missing[@]})); then
  echo "deps: installing ${missing[*]}"
  sudo_cmd=()
  if [[ $(id -u) -ne 0 ]]; then sudo_cmd=(sudo); fi
  export DEBIAN_FRONTEND=noninteractive
  "${sudo_cmd[@]}" apt-get update -qq
  "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
