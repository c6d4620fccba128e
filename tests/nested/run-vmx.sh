#!/bin/bash
# CTest nested.vmx_exact_counts: run a static kvmscope inside the nested VMX test bed
# (tests/beds/vmx: Debian 6.1 L1 with kvm_intel under Bochs, which emulates Intel VMX with EPT),
# where kvm:kvm_exit fires for real with isa 1, and assert exact exit counts per VMX reason: the
# same cases (l1-tests.sh) and host-side checks (check-results.py, VMX expectations) as the SVM
# stage. Exit 0 = all checks pass, 1 = failure, 77 = skipped (the machine cannot run the bed: no
# Bochs, no kernel download, a Bochs without VMX).
#
# Usage: tests/nested/run-vmx.sh <source-dir>
# Env:
#   KS_NESTED_WORK     the beds' build directory (default /tmp/kvmscope-testbed; this bed is built
#                      in its vmx/ folder, sharing the SVM bed's kernel download)
#   KS_VMX_TIMEOUT     seconds for the whole L1 run under Bochs (default 1500)
#   KS_NESTED_CASES    comma-separated subset of l1-tests.sh cases (default: all)
#   KS_NESTED_BIN      use this static kvmscope instead of building one (harness development)
#   KS_NESTED_DYN_BIN  the dynamic kvmscope for j-serve (CTest: the build's own), else built in
#                      <source-dir>/build-nested-dyn
#   KS_HANG_S          seconds without L1's heartbeat that make a hang (default 240; lib.sh)
# Outputs (kept for reading later): <source-dir>/build-nested-static/vmx-serial.log (and Bochs'
# own .bochs log, .bochsrc, .iso), vmx-out/ (each case's files), vmx-report.txt, vmx-timings.txt.
set -euo pipefail

# shellcheck source=SCRIPTDIR/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
ks_runner_init "$@"
ks_use_vmx_bed

# The static kvmscope is the SVM stage's (same source, same build; CTest's RESOURCE_LOCK
# nested_bed keeps the two stages apart), outputs are vmx-*.
BUILD=$SRC/build-nested-static
TIMEOUT=${KS_VMX_TIMEOUT:-1500}
t_start=$(ks_now)
TIMES=()
stage() { TIMES+=("$1 $(ks_elapsed "$2") s"); }

t0=$(ks_now)
ks_begin "$HERE/check-results.py" "$SRC/tests/beds/vmx"
stage "bed ready" "$t0"

t0=$(ks_now)
ks_static_kvmscope "$SRC" "$BUILD" "$BUILD/nested-cmake.log" "${KS_NESTED_BIN:-}"
ks_serve_kvmscope "$SRC"
stage "static kvmscope" "$t0"

t0=$(ks_now)
ks_l1_tests_initramfs vmx
stage "initramfs" "$t0"

LOG=$BUILD/vmx-serial.log
OUT=$BUILD/vmx-out
# Each case's limit in L1 time (L1's clock runs at Bochs' instructions / 1e8: a fifth to a half
# of the host's). ksnokick=1: Bochs makes no timer exit from a guest spinning with IF=0, which
# hangs L1 (l1-tests.sh, d-vmcall).
args=(kstmo=120 ksnokick=1)
[ -n "${KS_NESTED_CASES:-}" ] && args+=("kscases=$KS_NESTED_CASES")
args+=("kstp=${KS_NESTED_TRACEPOINTS:-btf}")  # as in run-nested.sh
t0=$(ks_now)
KS_BOOT_TRIES=1 ks_run_l1 nested.vmx_exact_counts "$BUILD/vmx-initramfs.cpio.gz" \
  "$LOG" "$BUILD/vmx-out.img" "$OUT" "$TIMEOUT" "${args[@]}"
stage "L1 under Bochs (boot, cases, power off)" "$t0"

if grep -q '^=== L1 has no vmx CPU flag' "$LOG"; then
  ks_skip "the CPU that this Bochs emulates has no VMX (Bochs built without --enable-vmx?)"
fi

rc=0
python3 "$HERE/check-results.py" "$OUT" | tee "$BUILD/vmx-report.txt" || rc=$?
# Whatever the cases said, a run that had to be stopped is a failure.
[ "$boot_rc" = 0 ] || rc=1
{
  printf '%s\n' "${TIMES[@]}"
  grep -E '^=== (L1 up|KS-NESTED (START|END|DONE))' "$LOG" | tr -d '\r' | sed 's/^/L1: /'
  echo "total $(ks_elapsed "$t_start") s"
} | tee "$BUILD/vmx-timings.txt"
echo "== outputs in $OUT, report $BUILD/vmx-report.txt, timings $BUILD/vmx-timings.txt"
exit "$rc"
