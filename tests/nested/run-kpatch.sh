#!/bin/bash
# Nested check of the kernel patch series (kernel/patches): boot the bed's L1 (Debian 6.1 under
# QEMU TCG, tests/beds/svm) with the PATCHED kvm.ko and kvm-amd.ko instead of the stock ones
# (KS_KPATCH_BED=vmx: under Bochs, tests/beds/vmx, with the patched kvm.ko and kvm-intel.ko)
# and check, against the tracefs hist triggers on kvm:kvm_exit (exact kernel counts):
#   - the modules load (vermagic, modversions, BTF) and have exit_stats_every;
#   - the kernel-log reports: the final report equals the hist per reason; printed + suppressed =
#     floor(total / exit_stats_every); the rate limit holds under exit_stats_every=1;
#   - the CPUID leaves 0x4FFFFFFC-0x4FFFFFFF, read by a guest (kpatch-probe.c), answer exactly;
#   - kvmscope stat's BPF counts equal both;
#   - overhead: exits/s of `kvmscope guest` with stock modules, stock under kvmscope stat (BPF),
#     patched with exit_stats_every=0 and =10000, interleaved rounds.
# Exit 0 = all checks pass, 1 = failure, 77 = skipped (no QEMU, no kernel download, the modules
# cannot be built here).
#
# Usage: tests/nested/run-kpatch.sh <source-dir>
# Env:
#   KS_KPATCH_BED       svm (default) or vmx: the bed that runs L1
#   KS_NESTED_WORK      the bed's build directory (default /tmp/kvmscope-testbed; built if empty)
#   KS_KPATCH_TIMEOUT   seconds for the whole L1 boot (default 480; 1800 under Bochs)
#   KS_KPATCH_CASES     comma-separated subset of l1-kpatch.sh cases (default: all)
#   KS_KPATCH_ROUNDS    overhead rounds (default 3; 1 under Bochs, where they agree to 0.1 %)
#   KS_NESTED_BIN       use this static kvmscope instead of building one
#   KS_BOOT_TRIES       boots of L1 while it stalls (default 4; ks_watch_stall in lib.sh)
#   KS_STALL_S          seconds without L1's heartbeat, QEMU idle, that make a stall (default 60)
#   KVMSCOPE_KPATCH_WORK  passed on to kernel/build-modules.sh (default /tmp/kvmscope-kpatch)
# Outputs: <source-dir>/build-nested-static/kpatch-serial.log, kpatch-out/, kpatch-report.txt
# (the VMX bed's: kpatch-vmx-*).
set -euo pipefail
KPATCH_ARGS=()

# shellcheck source=SCRIPTDIR/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
ks_runner_init "$@"

BUILD=$SRC/build-nested-static
BED=${KS_KPATCH_BED:-svm}
t_start=$(ks_now)
case $BED in
  svm)
    NAME=nested.kernel_patch_counters PRE=kpatch VMOD=kvm-amd
    TIMEOUT=${KS_KPATCH_TIMEOUT:-480}
    # Where the bed's init loads the modules from, in its initramfs tree.
    BEDMODS=lib/modules
    ;;
  vmx)
    ks_use_vmx_bed
    NAME=nested.kernel_patch_vmx PRE=kpatch-vmx VMOD=kvm-intel
    TIMEOUT=${KS_KPATCH_TIMEOUT:-1800}
    BEDMODS=lib/modules/kvm
    # Each case's limit in L1 time (Bochs runs L1's clock at a fifth to a half of the host's).
    # One overhead round: L1's clock counts Bochs' instructions, so rounds agree to 0.1 % (3
    # rounds: 58,302 / 58,303 / 58,303 exits/s stock) and each costs ~1 min of the host's.
    KPATCH_ARGS=(kstmo=120 "ksrounds=${KS_KPATCH_ROUNDS:-1}")
    ;;
  *) ks_die "KS_KPATCH_BED is svm or vmx, not $BED" ;;
esac

ks_begin "$HERE/check-kpatch.py" "$SRC/tests/beds/$BED"

# The patched modules, for exactly the L1 kernel's ABI.
t0=$(ks_now)
abi=${KS_KVER%-amd64}
img_deb=$(find "${KS_KERNEL_CACHE:-$KS_WORK}/debs" -maxdepth 1 -name "linux-image-${KS_KVER}_*.deb" 2>/dev/null | head -1)
pkgver=""
if [ -n "$img_deb" ]; then pkgver=$(dpkg-deb -f "$img_deb" Version 2>/dev/null || true); fi
echo "== building the patched modules for $KS_KVER ${pkgver:+(Debian $pkgver)}"
mkdir -p "$BUILD"
brc=0
env KVMSCOPE_KPATCH_ABI="$abi" ${pkgver:+KVMSCOPE_KPATCH_VERSION="$pkgver"} \
  "$SRC/kernel/build-modules.sh" >"$BUILD/kpatch-build.log" 2>&1 || brc=$?
if [ "$brc" = 77 ]; then
  ks_skip "$(grep '^SKIP: ' "$BUILD/kpatch-build.log" | head -1 | sed 's/^SKIP: //')"
elif [ "$brc" != 0 ]; then
  tail -30 "$BUILD/kpatch-build.log"
  ks_die "kernel/build-modules.sh failed (log: $BUILD/kpatch-build.log)"
fi
MODS=$(tail -1 "$BUILD/kpatch-build.log")
if [ ! -f "$MODS/kvm.ko" ] || [ ! -f "$MODS/$VMOD.ko" ]; then ks_die "no modules in '$MODS'"; fi
echo "== modules in $MODS ($(ks_elapsed "$t0") s)"

ks_static_kvmscope "$SRC" "$BUILD" "$BUILD/kpatch-cmake.log" "${KS_NESTED_BIN:-}"

t0=$(ks_now)
gcc -static -O2 -Wall -Werror -o "$BUILD/kpatch-probe" "$HERE/kpatch-probe.c" ||
  ks_die "could not build kpatch-probe (static)"
strip -o "$BUILD/$PRE-kvmscope" "$BIN"
# The patched modules replace the stock ones where the bed's init loads them from; the stock
# ones stay in lib/modules/stock/ for the overhead comparison.
ks_make_initramfs "$BUILD/$PRE-initramfs" "$BUILD/$PRE-initramfs.cpio.gz" "$HERE/l1-kpatch.sh" \
  "$HERE/l1-lib.sh:l1-lib.sh" "$BUILD/$PRE-kvmscope:bin/kvmscope" "$BUILD/kpatch-probe:bin/kpatch-probe" \
  "$KS_WORK/initramfs/$BEDMODS/kvm.ko:lib/modules/stock/kvm.ko" \
  "$KS_WORK/initramfs/$BEDMODS/$VMOD.ko:lib/modules/stock/$VMOD.ko" \
  "$MODS/kvm.ko:$BEDMODS/kvm.ko" "$MODS/$VMOD.ko:$BEDMODS/$VMOD.ko"
rm -rf "$BUILD/$PRE-initramfs"
echo "== initramfs $(du -h "$BUILD/$PRE-initramfs.cpio.gz" | cut -f1) in $(ks_elapsed "$t0") s"

LOG=$BUILD/$PRE-serial.log
OUT=$BUILD/$PRE-out
args=("${KPATCH_ARGS[@]}")
[ -n "${KS_KPATCH_CASES:-}" ] && args+=("kscases=$KS_KPATCH_CASES")
[ "$BED" = svm ] && [ -n "${KS_KPATCH_ROUNDS:-}" ] && args+=("ksrounds=$KS_KPATCH_ROUNDS")
t0=$(ks_now)
# No stall is known under Bochs: not retried there (run-vmx.sh).
tries=${KS_BOOT_TRIES:-4}
[ "$BED" = vmx ] && tries=1
KS_BOOT_TRIES=$tries ks_run_l1 "$NAME" "$BUILD/$PRE-initramfs.cpio.gz" \
  "$LOG" "$BUILD/$PRE-out.img" "$OUT" "$TIMEOUT" "${args[@]}"
echo "== L1 ran $(ks_elapsed "$t0") s"

rc=0
python3 "$HERE/check-kpatch.py" "$OUT" --kvmscope "$BIN" | tee "$BUILD/$PRE-report.txt" || rc=$?
[ "$boot_rc" = 0 ] || rc=1
echo "== total $(ks_elapsed "$t_start") s; outputs in $OUT, report $BUILD/$PRE-report.txt"
if [ "$rc" = 0 ]; then echo "PASS $NAME"; else echo "FAIL $NAME"; fi
exit "$rc"
