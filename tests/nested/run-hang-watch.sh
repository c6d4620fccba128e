#!/bin/bash
# CTest nested.vmx_hang_watch: the watch over a Bochs run (ks_watch_stall in lib.sh with
# KS_VMM=bochs; tests/nested/README.md, "What watches a VMX run") against a made-up L1
# (l1-stall.sh, ksstall=idle) that prints one heartbeat and then nothing. Bochs stays busy all the
# same, so that must be taken for a hang within KS_HANG_S of the heartbeat: stopped with
# KS_HUNG, not retried, its serial tail kept. Booted twice: a stopped Bochs leaves its disk image
# locked, and the second boot must still come up. Exit 0 = every check passed, 1 = failure,
# 77 = skipped (no Bochs, no bed here).
#
# Usage: tests/nested/run-hang-watch.sh <source-dir>
# Outputs in <source-dir>/build-nested-stall/: hang-{1,2}-serial.log*, hang-{1,2}.txt.
set -euo pipefail

# shellcheck source=SCRIPTDIR/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
ks_runner_init "$@"
ks_use_vmx_bed

BUILD=$SRC/build-nested-stall
t_start=$(ks_now)
ks_prepare_bed "$SRC/tests/beds/vmx"
mkdir -p "$BUILD"
rm -f "$BUILD"/hang-*-serial.log*
ks_make_initramfs "$BUILD/hang-initramfs" "$BUILD/hang-initramfs.cpio.gz" "$HERE/l1-stall.sh" \
  "$HERE/l1-lib.sh:l1-lib.sh"
rm -rf "$BUILD/hang-initramfs"

secs() { sed -n 's/^== L1 ran \([0-9.]*\) s .*/\1/p' "$1"; }
below() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a != "" && a < b) }'; }

export KS_HANG_S=30
for n in 1 2; do
  echo "== silent L1 under Bochs, boot $n: a hang (KS_HANG_S=$KS_HANG_S, 3 tries allowed)"
  log=$BUILD/hang-$n-serial.log
  ks_boot_tries 3 "$BUILD/hang-initramfs.cpio.gz" "$log" "$BUILD/hang.img" 600 ksstall=idle \
    >"$BUILD/hang-$n.txt" 2>&1
  sed 's/^/    /' "$BUILD/hang-$n.txt"
  ks_check "boot $n: L1 came up and beat once" grep -q '^=== L1 alive' "$log"
  ks_check "boot $n: ends with status $KS_HUNG (hung), not $KS_STALLED or the timeout" [ "$boot_rc" = "$KS_HUNG" ]
  ks_check "boot $n: one attempt only, nothing kept as stalled" [ ! -e "$log.stalled-1" ]
  ks_check "boot $n: the output says it hung and why" grep -q 'L1 hung (no heartbeat for .* Bochs busy)' "$BUILD/hang-$n.txt"
  ks_check "boot $n: the serial tail is kept in $log.stall" grep -q '^=== L1 alive' "$log.stall"
  # Polled every 5 s: the silence it reports is KS_HANG_S to KS_HANG_S + 5 s (not KS_STALL_S).
  quiet=$(sed -n 's/.*L1 hung (no heartbeat for \([0-9]*\) s.*/\1/p' "$BUILD/hang-$n.txt")
  ks_check "boot $n: taken for a hang after ${quiet:-?} s of silence, KS_HANG_S to KS_HANG_S + 10" \
    below "${quiet:-999}" $((KS_HANG_S + 11))
  ks_check "boot $n: ... and not before KS_HANG_S" below $((KS_HANG_S - 1)) "${quiet:-0}"
  # L1 reaches /extra.sh 90 to 130 s after Bochs starts, then KS_HANG_S of silence, polled every
  # 5 s. The point: well before the 600 s timeout.
  ks_check "boot $n: stopped within 300 s ($(secs "$BUILD/hang-$n.txt") s)" below "$(secs "$BUILD/hang-$n.txt")" 300
  ks_check "boot $n: no Bochs left running" [ -z "$(pgrep -f "bochs-bin.* -f $log.bochsrc" || true)" ]
done

rm -f "$BUILD/hang.img" "$BUILD/hang.img.lock"
echo "== total $(ks_elapsed "$t_start") s"
ks_checks_end nested.vmx_hang_watch
