#!/bin/bash
# CTest nested.l2_boot_recording: record a full L2 Linux boot with a static kvmscope inside the
# nested SVM test bed (tests/beds/svm: Debian 6.1 L1 with kvm_amd under QEMU TCG, where
# kvm:kvm_exit fires for real), then report on the recording here and check it against the
# kernel's own counts of the same run. Exit 0 = every check passed, 1 = failure, 77 = skipped (the
# machine cannot run the bed: no QEMU, no kernel download, no firmware).
#
# Inside L1 (l1-boot.sh): the L2 boot runs once alone ("base", the kernel's counts only) and once
# under `kvmscope record -o boot.kvms -- qemu-system-x86_64 -enable-kvm ...` ("boot"), each with
# tracefs hist triggers on kvm_exit and kvm_userspace_exit. Here: `kvmscope report` as text, JSON
# and HTML, headless Chromium on the HTML, and check-boot.py.
#
# Usage: tests/nested/run-boot.sh <source-dir>
# Env:
#   KS_NESTED_WORK    the bed's build directory (default /tmp/kvmscope-testbed; built if empty);
#                     the L2 layer (QEMU + libraries + firmware + L2 kernel/initrd) is cached there
#   KS_BOOT_TIMEOUT   seconds for the whole L1 boot (default 600; 40-250 s here since the ring
#                     buffer wakes its reader rarely)
#   KS_BOOT_TRIES     boots of L1 while it stalls (default 4; see ks_watch_stall in lib.sh)
#   KS_STALL_S        seconds without L1's heartbeat (QEMU idle) that make a stall (default 60)
#   KS_BOOT_RUN_TIMEOUT  seconds for each L2 boot inside L1 (default 480; there the recorded one
#                     took 280 s: kvmscope record slows the boot about 5x)
#   KS_BOOT_MACHINE   L2 machine type, pc or microvm (default pc)
#   KS_BOOT_DIFF      another machine type (microvm): L1 records the same boot on it too
#                     (boot2.kvms), and `kvmscope diff boot.kvms boot2.kvms` is checked against
#                     the kernel's counts of both by check-boot-diff.py (CTest nested.l2_boot_diff)
#   KS_BOOT_BUILD     the outputs' directory (default <source-dir>/build-nested-boot; the static
#                     kvmscope is built there in either case)
#   KS_BOOT_BASE      0 = leave out the base run (saves about a minute; no observer comparison)
#   KS_NESTED_BIN     use this static kvmscope instead of building one (harness development)
# Outputs, kept in <source-dir>/build-nested-boot/: boot-serial.log (L1's console), boot-out/
# (what L1 wrote: boot.kvms, hist counts, logs), boot-report.{txt,json,html}, boot-dom.html,
# boot-report.png (screenshot), boot-chromium-*.log, boot-check.txt, boot-timings.txt.
set -euo pipefail

# shellcheck source=SCRIPTDIR/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
ks_runner_init "$@"
# shellcheck source=SCRIPTDIR/boot-lib.sh
. "$HERE/boot-lib.sh"

RECIPE=$SRC/tests/beds/svm
BUILD=${KS_BOOT_BUILD:-$SRC/build-nested-boot}
DIFF_MACHINE=${KS_BOOT_DIFF:-}
# Two recorded boots take twice as long.
TIMEOUT=${KS_BOOT_TIMEOUT:-$([ -n "$DIFF_MACHINE" ] && echo 1200 || echo 600)}
TEST_NAME=$([ -n "$DIFF_MACHINE" ] && echo nested.l2_boot_diff || echo nested.l2_boot_recording)
MACHINE=${KS_BOOT_MACHINE:-pc}
t_start=$(ks_now)

ks_begin "$HERE/check-boot.py" "$RECIPE"
if [ -n "$DIFF_MACHINE" ]; then
  python3 "$HERE/check-boot-diff.py" --self-test >/dev/null || ks_die "check-boot-diff.py --self-test failed"
fi
mkdir -p "$BUILD"
TIMINGS=$BUILD/boot-timings.txt
: >"$TIMINGS"

t0=$(ks_now)
# The static build is shared by every run-boot.sh stage (outputs may go elsewhere: KS_BOOT_BUILD),
# so a second stage builds nothing.
ks_static_kvmscope "$SRC" "$SRC/build-nested-boot" "$BUILD/boot-cmake.log" "${KS_NESTED_BIN:-}"
echo "build $(ks_elapsed "$t0") s" >>"$TIMINGS"

t0=$(ks_now)
LAYER=$KS_WORK/kvmscope-boot-l2-layer.cpio.gz
ks_l2_layer "$RECIPE" "$LAYER"
# Stripped copy for L1: the build keeps its debug info.
strip -o "$BUILD/boot-kvmscope" "$BIN"
ks_make_initramfs "$BUILD/boot-initramfs" "$BUILD/boot-initramfs-base.cpio.gz" "$HERE/l1-boot.sh" \
  "$HERE/l1-lib.sh:l1-lib.sh" "$BUILD/boot-kvmscope:bin/kvmscope"
rm -rf "$BUILD/boot-initramfs"
# Concatenated archives: the kernel unpacks one after the other into the same rootfs.
cat "$BUILD/boot-initramfs-base.cpio.gz" "$LAYER" >"$BUILD/boot-initramfs.cpio.gz"
rm -f "$BUILD/boot-initramfs-base.cpio.gz"
layer_note=$([ "$KS_L2_LAYER_CACHED" = 1 ] && echo "L2 layer cached" || echo "L2 layer built")
echo "initramfs $(ks_elapsed "$t0") s ($layer_note, $(du -h "$BUILD/boot-initramfs.cpio.gz" | cut -f1))" |
  tee -a "$TIMINGS"

LOG=$BUILD/boot-serial.log
OUT=$BUILD/boot-out
args=("l2machine=$MACHINE" "kstmo=${KS_BOOT_RUN_TIMEOUT:-480}")
if [ "${KS_BOOT_BASE:-1}" = 0 ]; then args+=(ksbase=0); fi
if [ -n "$DIFF_MACHINE" ]; then args+=("l2diff=$DIFF_MACHINE"); fi
# Rarely, L1 stalls during an L2 boot (nested SVM on QEMU TCG: L1 halts with its timer interrupt
# pending and nothing wakes it; seen in the run without kvmscope too). ks_boot's watch sees that
# within KS_STALL_S and ks_run_l1 boots L1 again, loudly (tests/nested/README.md, "When L1
# stalls").
t0=$(ks_now)
# 3G: L1 holds the 30 MB initramfs, the 256 MB L2 and kvmscope's 64 MB ring buffer.
MEM=${MEM:-3G} ks_run_l1 "$TEST_NAME" "$BUILD/boot-initramfs.cpio.gz" "$LOG" \
  "$BUILD/boot-out.img" "$OUT" "$TIMEOUT" "${args[@]}"
echo "L1 boot and runs $(ks_elapsed "$t0") s (qemu rc=$boot_rc)" | tee -a "$TIMINGS"
for f in base.secs boot.secs boot2.secs; do
  [ -f "$OUT/$f" ] && echo "L2 run ${f%.secs} $(cat "$OUT/$f") s of L1 time" | tee -a "$TIMINGS"
done

# report_to NAME ARGS...: one `kvmscope report` on the recording; its stderr and status are kept
# for the checker (a report that fails must show as a failed check, not stop this script).
report_to() {
  local name=$1 rc=0
  shift
  "$BIN" report "$OUT/boot.kvms" "$@" >"$BUILD/$name.stdout" 2>"$BUILD/$name.stderr" || rc=$?
  echo "$rc" >"$BUILD/$name.rc"
  [ "$rc" = 0 ] || echo "ERROR: kvmscope report $* exited $rc: $(tail -3 "$BUILD/$name.stderr")"
}

t0=$(ks_now)
rm -f "$BUILD"/boot-report.* "$BUILD"/boot-pass1.*
if [ -f "$OUT/boot.kvms" ]; then
  # Pass 1 gives time 0 on L1's clock, which turns L1's observations into phase marks.
  report_to boot-pass1 --json -o "$BUILD/boot-pass1.json"
  marks=()
  if [ -s "$BUILD/boot-pass1.json" ]; then
    mapfile -t marks < <(python3 "$HERE/check-boot.py" --marks "$OUT" "$BUILD/boot-pass1.json")
  fi
  echo "== phase marks: ${marks[*]:-none}"
  report_to boot-report.text "${marks[@]}" -o "$BUILD/boot-report.txt"
  report_to boot-report.json "${marks[@]}" --json -o "$BUILD/boot-report.json" --html "$BUILD/boot-report.html"
fi
echo "reports $(ks_elapsed "$t0") s" | tee -a "$TIMINGS"

# The HTML page reports its own state in #kvmscope-status (see tests/browser/check-html-report.sh).
t0=$(ks_now)
browser=$(command -v chromium || command -v chromium-browser || true)
rm -f "$BUILD"/boot-dom.html "$BUILD"/boot-report.png "$BUILD"/boot-chromium-*.log
if [ -z "$browser" ]; then
  echo "chromium is not installed" >"$BUILD/boot-chromium-missing.log"
elif [ -s "$BUILD/boot-report.html" ]; then
  profile=$(mktemp -d)
  # --no-sandbox: run as root, where Chromium's sandbox refuses to start. The virtual time budget
  # lets the page finish its work before the DOM is dumped and the screenshot taken.
  flags=(--headless=new --no-sandbox --disable-gpu --disable-background-networking
    --disable-component-update --disable-sync --no-first-run --user-data-dir="$profile"
    --enable-logging=stderr --v=0 --virtual-time-budget=10000)
  timeout 120 "$browser" "${flags[@]}" --dump-dom "file://$BUILD/boot-report.html" \
    >"$BUILD/boot-dom.html" 2>"$BUILD/boot-chromium-dom.log" || echo "ERROR: chromium --dump-dom failed"
  timeout 120 "$browser" "${flags[@]}" --screenshot="$BUILD/boot-report.png" --window-size=1280,2400 \
    "file://$BUILD/boot-report.html" 2>"$BUILD/boot-chromium-screenshot.log" ||
    echo "ERROR: chromium --screenshot failed"
  rm -rf "$profile"
fi
echo "chromium $(ks_elapsed "$t0") s" | tee -a "$TIMINGS"

# KS_BOOT_DIFF: the two recordings compared, as JSON (checked) and text, and one --fail-if gate
# whose exit status the kernel's own totals decide (check-boot-diff.py --gate-expect).
diff_rc=0
if [ -n "$DIFF_MACHINE" ]; then
  t0=$(ks_now)
  rm -f "$BUILD"/boot-diff*
  rc=0
  "$BIN" diff "$OUT/boot.kvms" "$OUT/boot2.kvms" --json -o "$BUILD/boot-diff.json" \
    --html "$BUILD/boot-diff.html" 2>"$BUILD/boot-diff.stderr" || rc=$?
  echo "$rc" >"$BUILD/boot-diff.rc"
  "$BIN" diff "$OUT/boot.kvms" "$OUT/boot2.kvms" >"$BUILD/boot-diff.txt" 2>>"$BUILD/boot-diff.stderr" || true
  rc=0
  "$BIN" diff "$OUT/boot.kvms" "$OUT/boot2.kvms" --fail-if 'hardware:-1%' --fail-on-numbers \
    >/dev/null 2>>"$BUILD/boot-diff.stderr" || rc=$?
  echo "$rc" >"$BUILD/boot-diff-gate.rc"
  python3 "$HERE/check-boot-diff.py" --gate-expect "$OUT" >"$BUILD/boot-diff-gate.expect"
  echo "diff $(ks_elapsed "$t0") s" | tee -a "$TIMINGS"
  python3 "$HERE/check-boot-diff.py" "$OUT" "$BUILD" | tee "$BUILD/boot-diff-check.txt" || diff_rc=$?
fi

rc=0
python3 "$HERE/check-boot.py" "$OUT" "$BUILD" | tee "$BUILD/boot-check.txt" || rc=$?
# Whatever the checks said, an L1 that had to be killed is a failure.
[ "$boot_rc" = 0 ] || rc=1
[ "$diff_rc" = 0 ] || rc=1
echo "total $(ks_elapsed "$t_start") s" | tee -a "$TIMINGS"
echo "== outputs in $BUILD: boot-out/, boot-report.{txt,json,html}, boot-report.png, boot-check.txt"
if [ "$rc" = 0 ]; then echo "PASS $TEST_NAME"; else echo "FAIL $TEST_NAME"; fi
exit "$rc"
