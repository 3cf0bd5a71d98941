#!/usr/bin/env bash
# Runs a command with this machine's own copies of the Debian packages in .gpu-deps hidden, so a
# build there can only succeed from the carried bundle: the proof that the bundle is complete,
# without a GPU machine. Every regular file of those packages (headers, CMake configs, archives,
# shared libraries) is covered with /dev/null in a private mount namespace; links to them then
# lead nowhere useful. zlib1g's runtime library stays visible: the compiler and cmake themselves
# load it (a GPU machine has a libz.so.1 of its own too; what it may lack is the -dev part).
# Needs root (unshare). Usage: scripts/hide_deps.sh CMD [ARGS...]
set -euo pipefail
cd "$(dirname "$0")/.."
manifest=.gpu-deps/MANIFEST
[[ -f $manifest ]] || {
  echo "hide_deps: no $manifest (run scripts/gpu_deps.sh first)" >&2
  exit 2
}
((EUID == 0)) || {
  echo "hide_deps: needs root for a private mount namespace" >&2
  exit 2
}

list=$(mktemp)
trap 'rm -f "$list"' EXIT
while read -r package _; do
  [[ $package == zlib1g ]] && continue
  dpkg -L "$package" 2>/dev/null | while IFS= read -r path; do
    if [[ -f $path && ! -L $path ]]; then echo "$path"; fi
  done
done < <(grep -v '^#' "$manifest") >"$list"
echo "hide_deps: hiding $(wc -l <"$list") files of $(grep -vc '^#' "$manifest") packages (zlib1g's runtime kept)" >&2

FUSENAS_DEPS_HIDDEN=$(wc -l <"$list")
export FUSENAS_DEPS_HIDDEN
exec unshare --mount --propagation private bash -c '
  while IFS= read -r path; do mount --bind /dev/null "$path"; done <"$0"
  shift
  exec "$@"' "$list" _ "$@"
