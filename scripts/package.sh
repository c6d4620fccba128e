#!/usr/bin/env bash
# Builds the Debian package the Debian way (dpkg-buildpackage -us -uc -b with debian/) and checks
# it with lintian: no errors, no warnings (each one accepted is overridden, with the reason, in
# debian/kvmscope.lintian-overrides). The build runs on a copy of the working tree (tracked and
# untracked files, not the ignored ones) in build-deb/src, so nothing lands in the source tree;
# the .deb, .changes and .buildinfo end in build-deb/. Prints the .deb's path on the last line.
# Env: KVMSCOPE_DEB_DIR  where to build (default build-deb in the repository root)
# Needs: dpkg-dev, debhelper, lintian and the Build-Depends of debian/control
# (scripts/install-deps.sh installs them all).
set -euo pipefail
out=$(realpath -m "${KVMSCOPE_DEB_DIR:-$(dirname "$0")/../build-deb}")
cd "$(dirname "$0")/.."
src=$PWD
for tool in dpkg-buildpackage dh lintian; do
  command -v "$tool" >/dev/null || { echo "package.sh: $tool is missing (scripts/install-deps.sh)" >&2; exit 1; }
done

# A fresh copy each time: a file deleted from the tree must not linger in the package.
mkdir -p "$out"
rm -rf "$out/src" "$out"/kvmscope_* "$out"/kvmscope-dbgsym_*
mkdir -p "$out/src"
git ls-files -z --cached --others --exclude-standard |
  while IFS= read -r -d '' f; do [ -e "$f" ] && printf '%s\0' "$f"; done |
  tar --null -T - -cf - | tar -xf - -C "$out/src"

# ccache where it is installed: dpkg-buildpackage starts from a clean build directory, and the
# package's compiler flags differ from the tests' build, so this speeds up the next package build.
if command -v ccache >/dev/null && [ -z "${KVMSCOPE_CMAKE_ARGS:-}" ]; then
  export KVMSCOPE_CMAKE_ARGS="-DCMAKE_C_COMPILER_LAUNCHER=ccache -DCMAKE_CXX_COMPILER_LAUNCHER=ccache"
  export CCACHE_BASEDIR=${CCACHE_BASEDIR:-$out/src}
fi

cd "$out/src"
echo "== dpkg-buildpackage -us -uc -b in $out/src (log: $out/build.log)" >&2
if ! dpkg-buildpackage -us -uc -b >"$out/build.log" 2>&1; then
  tail -40 "$out/build.log" >&2
  echo "package.sh: dpkg-buildpackage failed (log: $out/build.log)" >&2
  exit 1
fi
changes=$(ls "$out"/kvmscope_*_"$(dpkg --print-architecture)".changes)
deb=$(ls "$out"/kvmscope_*_"$(dpkg --print-architecture)".deb)

echo "== lintian $changes" >&2
lintian --fail-on error,warning --info --display-level '>=warning' "$changes" >&2 ||
  { echo "package.sh: lintian found errors or warnings (above)" >&2; exit 1; }
echo "$deb"
