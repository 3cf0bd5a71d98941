#!/usr/bin/env bash
# Packs the build dependencies the GPU machine may lack (fmt, spdlog, nlohmann-json, CLI11, gtest,
# OpenBLAS with its Fortran runtime, zlib) from this machine's Debian packages into
# .gpu-deps/prefix.tar.xz, for the device tool to carry (it has no network). gpu_check.sh unpacks
# and uses it when present. Run here, in the repository root, before the device call.
# Usage: scripts/gpu_deps.sh
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(libfmt-dev libfmt9 libspdlog-dev libspdlog1.10 nlohmann-json3-dev libcli11-dev libgtest-dev
  libgmock-dev libopenblas0-pthread libopenblas-pthread-dev libgfortran5 libquadmath0 zlib1g zlib1g-dev)

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/debs" "$work/root"

# Reuse packages apt already holds; download the rest (the ordinary client, no install).
for p in "${packages[@]}"; do
  version=$(dpkg-query -W -f='${Version}' "$p" 2>/dev/null || true)
  cached=""
  if [[ -n $version ]]; then
    cached=$(ls /var/cache/apt/archives/"${p}"_"${version//:/%3a}"_*.deb 2>/dev/null | head -1 || true)
  fi
  if [[ -n $cached ]]; then
    cp "$cached" "$work/debs/"
  else
    (cd "$work/debs" && apt-get download -qq -o APT::Sandbox::User=root "$p")
  fi
done
for deb in "$work"/debs/*.deb; do dpkg-deb -x "$deb" "$work/root"; done

# Debian 12 installs some runtime libraries under /lib (zlib1g: /lib/x86_64-linux-gnu/libz.so.*)
# and points the -dev links at them by absolute path; the bundle is usr/ only, so move the real
# files under usr/ beside their links.
r="$work/root"
if [[ -d $r/lib ]]; then
  cp -a "$r/lib/." "$r/usr/lib/"
  rm -rf "${r:?}/lib"
fi

# Keep headers, shared libraries, the gtest/gmock archives and CMake package files; drop docs,
# OpenBLAS' static archives (50 MB) and its CMake config, whose paths are absolute (gpu_check.sh
# passes the library and include paths instead).
rm -rf "$r/usr/share/doc" "$r/usr/share/man" "$r/usr/share/lintian" "$r/usr/share/bug"
# libgtest-dev's usr/src/gtest points into the googletest source package, which is not packed.
rm -rf "$r/usr/src"
find "$r" -path '*openblas*' -name '*.a' -delete
rm -f "$r"/usr/lib/x86_64-linux-gnu/libz.a
rm -rf "$r/usr/lib/x86_64-linux-gnu/openblas-pthread/cmake" "$r/usr/lib/x86_64-linux-gnu/cmake/openblas"
# Debian points libopenblas.so at /etc/alternatives; give the bundle a direct link.
ln -sf openblas-pthread/libopenblas.so.0 "$r/usr/lib/x86_64-linux-gnu/libopenblas.so.0"
ln -sf openblas-pthread/libopenblas.so "$r/usr/lib/x86_64-linux-gnu/libopenblas.so"

# The bundle is unpacked under another root on the device machine: every link must be relative
# and stay inside it. Absolute links are rewritten to the bundle's own copy of their target.
while IFS= read -r link; do
  target=$(readlink "$link")
  ln -sfr "$r${target/#\/lib\//\/usr\/lib\/}" "$link"  # /lib/... now lives under usr/lib
done < <(find "$r" -type l -lname '/*')
# Then refuse anything that would still break there: an absolute link, a dangling one, or one
# leaving the bundle (it would resolve here and dangle there).
bad=$(find "$r" -type l | while IFS= read -r link; do
  resolved=$(readlink -m "$link")
  if [[ $(readlink "$link") == /* || ! -e $link || $resolved != "$r"/* ]]; then
    echo "  ${link#"$r"/} -> $(readlink "$link")"
  fi
done)
if [[ -n $bad ]]; then
  echo "gpu_deps: links in the bundle that would break on another machine:"$'\n'"$bad" >&2
  exit 1
fi

mkdir -p .gpu-deps
{
  echo "# Debian packages in prefix.tar.xz (made by scripts/gpu_deps.sh on $(date -u +%F))"
  for deb in "$work"/debs/*.deb; do dpkg-deb -f "$deb" Package Version | cut -d" " -f2 | paste -sd" "; done
} >.gpu-deps/MANIFEST
tar -C "$r" -cJf .gpu-deps/prefix.tar.xz usr
echo "gpu_deps: wrote .gpu-deps/prefix.tar.xz ($(du -h .gpu-deps/prefix.tar.xz | cut -f1)); carry '.gpu-deps'"
