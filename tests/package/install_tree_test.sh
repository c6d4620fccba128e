#!/usr/bin/env bash
# `cmake --install BUILD --prefix X` lays out the tree of install-tree.txt (plus a man page per
# docs/man/*.1) and nothing else; the installed binary runs; the systemd unit's ExecStart is
# X/bin/kvmscope and systemd-analyze verify accepts it; man finds the pages. Then the Debian way,
# DESTDIR=D --prefix /usr: ExecStart=/usr/bin/kvmscope, the files under D.
# Usage: install_tree_test.sh BUILD_DIR EXPECTED_LIST
set -uo pipefail
build=$1 expected_list=$2
src=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failures=0
check() { # check WHAT COMMAND...: runs COMMAND, says ok or FAIL
  local what=$1
  shift
  if "$@"; then echo "ok   $what"; else echo "FAIL $what"; failures=$((failures + 1)); fi
}

prefix=$work/prefix
cmake --install "$build" --prefix "$prefix" >"$work/install.log" 2>&1 ||
  { cat "$work/install.log"; echo "FAIL cmake --install"; exit 1; }
{
  grep -v '^#' "$expected_list"
  for page in "$src"/docs/man/*.1; do echo "share/man/man1/$(basename "$page")"; done
} | sort >"$work/expected"
(cd "$prefix" && find . -type f -o -type l | sed 's|^\./||' | sort) >"$work/got"
check "the installed tree is exactly the expected one" diff -u "$work/expected" "$work/got"

version=$(sed -n 's/^project(kvmscope VERSION \([^ ]*\) .*/\1/p' "$src/CMakeLists.txt")
check "bin/kvmscope --version says kvmscope $version" \
  test "$("$prefix/bin/kvmscope" --version)" = "kvmscope $version"
unit=$prefix/lib/systemd/system/kvmscope-serve.service
check "the unit starts the installed binary" \
  grep -qx "ExecStart=$prefix/bin/kvmscope serve --listen 127.0.0.1:9580" "$unit"
check "the unit has no unconfigured @VARIABLE@" bash -c "! grep -n '@[A-Z_]*@' '$unit'"
for key in AmbientCapabilities CapabilityBoundingSet; do
  check "$key: CAP_BPF CAP_PERFMON CAP_DAC_READ_SEARCH" \
    grep -qE "^$key=.*CAP_BPF CAP_PERFMON CAP_DAC_READ_SEARCH" "$unit"
done
# It also runs man for the unit's Documentation=man:kvmscope-serve(1): found in the prefix.
if command -v systemd-analyze >/dev/null; then
  check "systemd-analyze verify accepts the unit" \
    bash -c "MANPATH='$prefix/share/man' systemd-analyze verify '$unit' >'$work/verify.log' 2>&1 && ! [ -s '$work/verify.log' ] || { cat '$work/verify.log'; false; }"
else
  echo "note: no systemd-analyze: the unit is not verified"
fi
if command -v man >/dev/null; then
  check "man finds kvmscope(1) and kvmscope-stat(1)" \
    test "$(MANPATH="$prefix/share/man" man -w kvmscope kvmscope-stat | tr '\n' ' ')" = \
    "$prefix/share/man/man1/kvmscope.1 $prefix/share/man/man1/kvmscope-stat.1 "
fi
check "the bash completion is contrib's" \
  cmp -s "$src/contrib/completion/kvmscope.bash" "$prefix/share/bash-completion/completions/kvmscope"

# Packagers: DESTDIR and prefix /usr.
dest=$work/dest
DESTDIR=$dest cmake --install "$build" --prefix /usr >"$work/install2.log" 2>&1 ||
  { cat "$work/install2.log"; echo "FAIL DESTDIR=... cmake --install --prefix /usr"; exit 1; }
check "DESTDIR: the binary under DESTDIR/usr/bin" test -x "$dest/usr/bin/kvmscope"
check "DESTDIR: ExecStart=/usr/bin/kvmscope" \
  grep -qx "ExecStart=/usr/bin/kvmscope serve --listen 127.0.0.1:9580" \
  "$dest/usr/lib/systemd/system/kvmscope-serve.service"
[ "$failures" = 0 ] || { echo "$failures check(s) failed"; exit 1; }
echo "all checks passed"
