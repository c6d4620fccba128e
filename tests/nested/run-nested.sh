#!/bin/bash
# CTest nested.svm_exact_counts: run a static kvmscope inside the nested SVM test bed
# (tests/beds/svm: Debian 6.1 L1 with kvm_amd under QEMU TCG), where kvm:kvm_exit fires for
# real, and assert exact exit counts. Exit 0 = all checks pass, 1 = failure, 77 = skipped
# (the machine cannot run the bed: no QEMU, no kernel download).
#
# Usage: tests/nested/run-nested.sh <source-dir>
# Env:
#   KS_NESTED_WORK     the bed's build directory (default /tmp/kvmscope-testbed; built if empty)
#   KS_NESTED_TIMEOUT  seconds for the whole L1 boot (default 420)
#   KS_NESTED_CASES    comma-separated subset of l1-tests.sh cases (default: all)
#   KS_NESTED_TRACEPOINTS  btf (default) or classic: the hooks kvmscope uses in every case
#   KS_NESTED_ICOUNT   QEMU -icount option (e.g. shift=0,sleep=off): L1's clocks count
#                      instructions, not host time (ks_boot in lib.sh); default off
#   KS_NESTED_BIN      use this static kvmscope instead of building one (harness development)
#   KS_NESTED_DYN_BIN  the dynamic kvmscope for j-serve (CTest: the build's own), else built in
#                      <source-dir>/build-nested-dyn
#   KS_BOOT_TRIES      boots of L1 while it stalls (default 4; ks_watch_stall in lib.sh)
#   KS_STALL_S         seconds without L1's heartbeat, QEMU idle, that make a stall (default 60)
# Outputs (kept for reading later): <source-dir>/build-nested-static/nested-serial.log and
# nested-out/ (each case's stdout, stderr, exit status and perfkvm counts), nested-report.txt.
set -euo pipefail

# shellcheck source=SCRIPTDIR/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
ks_runner_init "$@"

BUILD=$SRC/build-nested-static
TIMEOUT=${KS_NESTED_TIMEOUT:-420}
t_start=$(ks_now)

ks_begin "$HERE/check-results.py" "$SRC/tests/beds/svm"

ks_static_kvmscope "$SRC" "$BUILD" "$BUILD/nested-cmake.log" "${KS_NESTED_BIN:-}"
ks_serve_kvmscope "$SRC"

ks_l1_tests_initramfs nested

LOG=$BUILD/nested-serial.log
OUT=$BUILD/nested-out
args=()
[ -n "${KS_NESTED_CASES:-}" ] && args+=("kscases=$KS_NESTED_CASES")
# The hooks every case runs on: btf (default: BTF raw tracepoints, an error where they cannot
# load) or classic (the fallback); the stage runs both (tests/CMakeLists.txt).
args+=("kstp=${KS_NESTED_TRACEPOINTS:-btf}")
ks_run_l1 nested.svm_exact_counts "$BUILD/nested-initramfs.cpio.gz" \
  "$LOG" "$BUILD/nested-out.img" "$OUT" "$TIMEOUT" "${args[@]}"

# What L1's clock counted (check-results.py holds k-pct's p99 only where it is instructions).
if [ -n "${KS_NESTED_ICOUNT:-}" ]; then echo instructions; else echo host; fi >"$OUT/l1-clock.txt"

rc=0
python3 "$HERE/check-results.py" "$OUT" | tee "$BUILD/nested-report.txt" || rc=$?
# Whatever the cases said, a boot that had to be killed is a failure.
[ "$boot_rc" = 0 ] || rc=1
echo "== total $(ks_elapsed "$t_start") s; outputs in $OUT, report $BUILD/nested-report.txt"
exit "$rc"
