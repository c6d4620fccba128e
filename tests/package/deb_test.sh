#!/usr/bin/env bash
# The Debian package, end to end: scripts/package.sh builds it (dpkg-buildpackage -us -uc -b,
# lintian without errors or warnings), then it is installed with dpkg into a fresh Debian
# bookworm chroot and checked there as an operator would use it:
#   kvmscope --version; man -w kvmscope and kvmscope-stat; bash-completion loads the completion
#   on demand and tests/completion/completion_test.sh passes against the installed files;
#   systemd-analyze verify accepts the unit, and it is installed disabled; dpkg --purge leaves
#   nothing of kvmscope behind.
# The chroot's base (debootstrap --variant=minbase with man-db, bash-completion, systemd and the
# package's Depends) is cached in $KS_DEBROOT_WORK (default /tmp/kvmscope-debroot) as
# base-<key>, <key> hashing its inputs (the package list, the mirror, the steps below), as
# tests/nested/peers/build-rootfs.sh caches its image; each run installs into a fresh overlay
# of it, so the base is never changed. First run: a few minutes for debootstrap.
# Usage: deb_test.sh SOURCE_DIR OUT_DIR     exit 77 (skipped) without root or the tools
set -uo pipefail
src=$(cd "$1" && pwd)
out=$(realpath -m "$2")
work_root=${KS_DEBROOT_WORK:-/tmp/kvmscope-debroot}
skip() { echo "SKIPPED: $*"; exit 77; }
die() { echo "FAIL: $*"; exit 1; }
# shellcheck source=../nested/lib.sh
. "$src/tests/nested/lib.sh"

[ "$(id -u)" = 0 ] || skip "needs root (debootstrap, chroot, mount)"
for tool in dpkg-buildpackage dh lintian debootstrap unshare; do
  command -v "$tool" >/dev/null || skip "$tool is missing (scripts/install-deps.sh installs it)"
done
t0=$(date +%s)

mkdir -p "$out"
KVMSCOPE_DEB_DIR=$out/deb "$src/scripts/package.sh" >"$out/package.log" 2>&1 ||
  { tail -40 "$out/package.log"; die "scripts/package.sh failed (log $out/package.log)"; }
deb=$(tail -1 "$out/package.log")
[ -f "$deb" ] || die "scripts/package.sh printed no .deb (log $out/package.log)"
echo "ok   built and lintian-clean: $deb ($(($(date +%s) - t0)) s)"

# The mirror: the host's bookworm source (ks_bookworm_mirror, as build-rootfs.sh finds it).
mirror=${KS_DEBROOT_MIRROR:-$(ks_bookworm_mirror)}

# The package's Depends, by name (each first alternative): in the base, so that dpkg -i needs no
# network; a new dependency changes the key.
deps=$(dpkg-deb -f "$deb" Depends | tr ',' '\n' | sed 's/|.*//; s/(.*)//; s/[[:space:]]//g' | sed '/^$/d' | sort -u | tr '\n' ' ')
tools="man-db bash-completion systemd"
key=$(
  {
    echo "mirror $mirror"
    echo "packages $tools $deps"
    sed -n '/^# --- base steps begin/,/^# --- base steps end/p' "$0"
  } | sha256sum | cut -c1-16
)
base=$work_root/base-$key
mkdir -p "$work_root"

# --- base steps begin
if [ ! -f "$base/.ok" ]; then
  echo "== debootstrap bookworm into $base ($tools $deps) from $mirror"
  rm -rf "$base"
  include=$(echo "$tools $deps" | tr -s ' ' ',' | sed 's/^,//; s/,$//')
  debootstrap --variant=minbase --include="$include" bookworm "$base" "$mirror" \
    >"$work_root/debootstrap-$key.log" 2>&1 ||
    { tail -20 "$work_root/debootstrap-$key.log"; die "debootstrap failed (log $work_root/debootstrap-$key.log)"; }
  touch "$base/.ok"
fi
# --- base steps end
echo "ok   base chroot $base ($(($(date +%s) - t0)) s so far)"

# A fresh chroot: an overlay on the base, in a private mount namespace that takes its mounts
# away when it ends.
run=$(mktemp -d /tmp/kvmscope-debroot-run.XXXXXX)
trap 'rm -rf "$run"' EXIT
mkdir -p "$run/upper" "$run/work" "$run/root"
cp "$deb" "$run/kvmscope.deb"
cp "$src/tests/completion/completion_test.sh" "$run/completion_test.sh"
version=$(dpkg-deb -f "$deb" Version)

unshare -m --propagation private bash -s "$base" "$run" "$version" <<'INNER'
set -uo pipefail
base=$1 run=$2 version=$3 root=$2/root
failures=0
check() {
  local what=$1
  shift
  if "$@"; then echo "ok   $what"; else echo "FAIL $what"; failures=$((failures + 1)); fi
}
in_root() { chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 "$@"; }
mount -t overlay overlay -o "lowerdir=$base,upperdir=$run/upper,workdir=$run/work" "$root" || exit 1
mount -t proc proc "$root/proc"
mount -t tmpfs tmpfs "$root/tmp"
cp "$run/kvmscope.deb" "$run/completion_test.sh" "$root/tmp/"

check "dpkg -i kvmscope.deb" bash -c "chroot '$root' dpkg -i /tmp/kvmscope.deb >'$run/dpkg.log' 2>&1 || { cat '$run/dpkg.log'; false; }"
check "kvmscope --version says kvmscope ${version%%-*}" \
  test "$(in_root kvmscope --version)" = "kvmscope ${version%%-*}"
check "man -w kvmscope kvmscope-stat: the installed pages" \
  test "$(in_root man -w kvmscope kvmscope-stat | tr '\n' ' ')" = \
  "/usr/share/man/man1/kvmscope.1.gz /usr/share/man/man1/kvmscope-stat.1.gz "
check "man renders kvmscope(1) without a warning" \
  bash -c "chroot '$root' env MANWIDTH=80 man --warnings kvmscope 2>&1 >/dev/null | (! grep .)"
check "bash-completion loads the completion on demand" \
  test "$(in_root bash -c '. /usr/share/bash-completion/bash_completion; _completion_loader kvmscope; complete -p kvmscope')" = \
  "complete -F _kvmscope kvmscope"
check "the completion test passes against the installed files" \
  bash -c "chroot '$root' /tmp/completion_test.sh /usr/bin/kvmscope /usr/share/bash-completion/completions/kvmscope >'$run/completion.log' 2>&1 || { cat '$run/completion.log'; false; }"
unit=/lib/systemd/system/kvmscope-serve.service
check "systemd-analyze verify $unit" \
  bash -c "chroot '$root' systemd-analyze verify $unit >'$run/verify.log' 2>&1 && ! [ -s '$run/verify.log' ] || { cat '$run/verify.log'; false; }"
check "ExecStart=/usr/bin/kvmscope" grep -q '^ExecStart=/usr/bin/kvmscope serve ' "$root$unit"
check "the service is installed disabled" test "$(in_root systemctl is-enabled kvmscope-serve 2>&1)" = disabled
check "dpkg --purge kvmscope leaves nothing of it" \
  bash -c "chroot '$root' dpkg --purge kvmscope >/dev/null 2>&1 && ! [ -e '$root/usr/bin/kvmscope' ] && ! [ -e '$root$unit' ] && [ -z \"\$(find '$root/usr/share' -name '*kvmscope*' 2>/dev/null)\" ]"
exit $((failures > 0))
INNER
rc=$?
echo "$(($(date +%s) - t0)) s in all"
[ "$rc" = 0 ] || die "checks in the chroot failed"
echo "all checks passed"
