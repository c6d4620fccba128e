#!/bin/bash
# CTest nested.stall_watch: the nested harness's stall watch (ks_watch_stall and ks_boot_tries in
# lib.sh; tests/nested/README.md, "When L1 stalls") against two made-up L1s (l1-stall.sh) that
# print one heartbeat and then nothing: one idles, which must be taken for a stall, seen within
# KS_STALL_S, its evidence saved, and booted again; one spins, which must not, and runs into the
# timeout instead. Exit 0 = every check passed, 1 = failure, 77 = skipped (no bed here).
#
# Usage: tests/nested/run-stall-watch.sh <source-dir>
# Outputs in <source-dir>/build-nested-stall/: {idle,busy}-serial.log*, {idle,busy}.txt.
set -euo pipefail

# shellcheck source=SCRIPTDIR/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
ks_runner_init "$@"

BUILD=$SRC/build-nested-stall
t_start=$(ks_now)
command -v python3 >/dev/null || ks_skip "python3 is needed to ask QEMU for its state"
ks_prepare_bed "$SRC/tests/beds/svm"
mkdir -p "$BUILD"
rm -f "$BUILD"/*-serial.log*
ks_make_initramfs "$BUILD/stall-initramfs" "$BUILD/stall-initramfs.cpio.gz" "$HERE/l1-stall.sh" \
  "$HERE/l1-lib.sh:l1-lib.sh"
rm -rf "$BUILD/stall-initramfs"

# attempt_secs FILE N: how long attempt N ran, from ks_boot_tries' "== L1 ran S s" lines.
attempt_secs() { sed -n 's/^== L1 ran \([0-9.]*\) s .*attempt '"$2"' of.*/\1/p' "$1"; }
halted_with_apic() { grep -q '^RIP=.*HLT=1' "$1" && grep -q '^Timer' "$1"; }
below() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a != "" && a < b) }'; }

export KS_STALL_S=15
echo "== idle L1: a stall, twice (KS_STALL_S=$KS_STALL_S, 2 tries)"
log=$BUILD/idle-serial.log
ks_boot_tries 2 "$BUILD/stall-initramfs.cpio.gz" "$log" "$BUILD/idle.img" 300 ksstall=idle \
  >"$BUILD/idle.txt" 2>&1
sed 's/^/    /' "$BUILD/idle.txt"
ks_check "idle: ks_boot_tries ends with status $KS_STALLED (stalled)" [ "$boot_rc" = "$KS_STALLED" ]
for n in 1 2; do
  ks_check "idle: attempt $n's serial log and QEMU's view are kept" \
    test -s "$log.stalled-$n" -a -s "$log.stalled-$n.stall"
  ks_check "idle: attempt $n's view holds the halted vCPU and its local APIC" \
    halted_with_apic "$log.stalled-$n.stall"
  # L1 reaches /extra.sh within ~10 s (more on a loaded host); then KS_STALL_S of silence,
  # polled every 5 s. The point: well before the 300 s timeout.
  ks_check "idle: attempt $n was stopped within 120 s ($(attempt_secs "$BUILD/idle.txt" "$n") s)" \
    below "$(attempt_secs "$BUILD/idle.txt" "$n")" 120
done
ks_check "idle: the output says it stalled in both tries" grep -q 'L1 stalled in all 2 attempts' "$BUILD/idle.txt"

echo "== busy L1: quiet but not a stall, ends by the 60 s timeout"
log=$BUILD/busy-serial.log
ks_boot_tries 2 "$BUILD/stall-initramfs.cpio.gz" "$log" "$BUILD/busy.img" 60 ksstall=busy \
  >"$BUILD/busy.txt" 2>&1
sed 's/^/    /' "$BUILD/busy.txt"
ks_check "busy: QEMU's status is 124 (the timeout), not $KS_STALLED" [ "$boot_rc" = 124 ]
ks_check "busy: one attempt only, nothing kept as stalled" [ ! -e "$log.stalled-1" ]
ks_check "busy: the watch said why it waits" grep -q 'but QEMU is busy.*not a stall' "$BUILD/busy.txt"

rm -f "$BUILD/idle.img" "$BUILD/busy.img"
echo "== total $(ks_elapsed "$t_start") s"
ks_checks_end nested.stall_watch
