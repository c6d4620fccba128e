#!/bin/bash
# CTest nested.l2_boot_recording: record a full L2 Linux boot with a static kvmscope inside the
# nested SVM test bed (tests/beds/svm: Debian 6.1 L1 with kvm_amd under QEMU TCG, where
# kvm:kvm_exit fires for real), then report on the recording here and check it against the
# kernel's own counts of the same run. KS_BOOT_BED=vmx does the same in the VMX bed
# (tests/beds/vmx: kvm_intel under Bochs; outputs in build-nested-boot/vmx/). Exit 0 = every check passed, 1 = failure, 77 = skipped (the
# machine cannot run the bed: no QEMU, no kernel download, no firmware).
#
# Inside L1 (l1-boot.sh): the L2 boot runs once alone ("base", the kernel's counts only) and once
# under `kvmscope record -o boot.kvms -- qemu-system-x86_64 -enable-kvm ...` ("boot"), each with
# tracefs hist triggers on kvm_exit and kvm_userspace_exit. Here: `kvmscope report` as text, JSON
# and HTML, headless Chromium on the HTML, and check-boot.py.
#
# Usage: tests/nested/run-boot.sh <source-dir>
# Env:
#   KS_BOOT_BED       svm (default) or vmx: the bed that runs L1
#   KS_NESTED_WORK    the bed's build directory (default /tmp/kvmscope-testbed; built if empty);
#                     the L2 layer (QEMU + libraries + firmware + L2 kernel/initrd) is cached there
#   KS_BOOT_TIMEOUT   seconds for the whole L1 boot (default 600 on SVM, 3600 on VMX)
#   KS_BOOT_TRIES     boots of L1 while it stalls (default 4; see ks_watch_stall in lib.sh)
#   KS_STALL_S        seconds without L1's heartbeat (QEMU idle) that make a stall (default 60)
#   KS_BOOT_RUN_TIMEOUT  seconds of L1 time for each L2 boot inside L1 (default 480 on SVM, where the
#                     recorded one took 280 s: kvmscope record slows the boot about 5x; 1500 on VMX)
#   KS_BOOT_MACHINE   L2 machine type, pc or microvm (default pc)
#   KS_BOOT_DIFF      another machine type (microvm; SVM bed): L1 records the same boot on it too
#                     (boot2.kvms), and `kvmscope diff boot.kvms boot2.kvms` is checked against
#                     the kernel's counts of both by check-boot-diff.py (CTest nested.l2_boot_diff)
#   KS_BOOT_BUILD     this run's outputs' directory (default: as below; the static kvmscope is
#                     built in <source-dir>/build-nested-boot in any case)
#   KS_BOOT_BASE      0 = leave out the base run (saves about a minute; no observer comparison)
#   KS_NESTED_BIN     use this static kvmscope instead of building one (harness development)
# Outputs, kept in <source-dir>/build-nested-boot/ (the VMX bed's in its vmx/): boot-serial.log (L1's console), boot-out/
# (what L1 wrote: boot.kvms, hist counts, logs), boot-report.{txt,json,html}, boot-dom.html,
# boot-report.png (screenshot), boot-chromium-*.log, boot-check.txt, boot-timings.txt.
set -euo pipefail

# shellcheck source=SCRIPTDIR/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
ks_runner_init "$@"
# shellcheck source=SCRIPTDIR/boot-lib.sh
. "$HERE/boot-lib.sh"

BED=${KS_BOOT_BED:-svm}
# The L2 layer (QEMU, L2 kernel, the L2 initrd with the SVM bed's l2-init) is the same in both beds.
L2_RECIPE=$SRC/tests/beds/svm
# The static kvmscope is built in BUILD; this run's outputs go to R.
BUILD=$SRC/build-nested-boot
case $BED in
  svm)
    R=${KS_BOOT_BUILD:-$BUILD}
    # Two recorded boots (KS_BOOT_DIFF) take twice as long.
    TIMEOUT=${KS_BOOT_TIMEOUT:-$([ -n "${KS_BOOT_DIFF:-}" ] && echo 1200 || echo 600)}
    RUN_TIMEOUT=${KS_BOOT_RUN_TIMEOUT:-480}
    ;;
  vmx)
    ks_use_vmx_bed
    R=${KS_BOOT_BUILD:-$BUILD/vmx}
    # Bochs runs L1 at 20 to 60 MIPS: L1's boot takes ~2 min, an unrecorded L2 boot ~4 min.
    TIMEOUT=${KS_BOOT_TIMEOUT:-3600}
    RUN_TIMEOUT=${KS_BOOT_RUN_TIMEOUT:-1500}
    ;;
  *) ks_die "KS_BOOT_BED is svm or vmx, not $BED" ;;
esac
NAME=nested.l2_boot_recording
[ "$BED" = vmx ] && NAME=nested.l2_boot_recording_vmx
DIFF_MACHINE=${KS_BOOT_DIFF:-}
[ -n "$DIFF_MACHINE" ] && NAME=nested.l2_boot_diff
MACHINE=${KS_BOOT_MACHINE:-pc}
t_start=$(ks_now)

ks_begin "$HERE/check-boot.py" "$SRC/tests/beds/$BED"
if [ -n "$DIFF_MACHINE" ]; then
  python3 "$HERE/check-boot-diff.py" --self-test >/dev/null || ks_die "check-boot-diff.py --self-test failed"
fi
mkdir -p "$BUILD" "$R"
TIMINGS=$R/boot-timings.txt
: >"$TIMINGS"

t0=$(ks_now)
ks_static_kvmscope "$SRC" "$BUILD" "$BUILD/boot-cmake.log" "${KS_NESTED_BIN:-}"
echo "build $(ks_elapsed "$t0") s" >>"$TIMINGS"

t0=$(ks_now)
LAYER=$KS_WORK/kvmscope-boot-l2-layer.cpio.gz
ks_l2_layer "$L2_RECIPE" "$LAYER"
# Stripped copy for L1: the build keeps its debug info.
strip -o "$R/boot-kvmscope" "$BIN"
ks_make_initramfs "$R/boot-initramfs" "$R/boot-initramfs-base.cpio.gz" "$HERE/l1-boot.sh" \
  "$HERE/l1-lib.sh:l1-lib.sh" "$R/boot-kvmscope:bin/kvmscope"
rm -rf "$R/boot-initramfs"
# Concatenated archives: the kernel unpacks one after the other into the same rootfs.
cat "$R/boot-initramfs-base.cpio.gz" "$LAYER" >"$R/boot-initramfs.cpio.gz"
rm -f "$R/boot-initramfs-base.cpio.gz"
layer_note=$([ "$KS_L2_LAYER_CACHED" = 1 ] && echo "L2 layer cached" || echo "L2 layer built")
echo "initramfs $(ks_elapsed "$t0") s ($layer_note, $(du -h "$R/boot-initramfs.cpio.gz" | cut -f1))" |
  tee -a "$TIMINGS"

LOG=$R/boot-serial.log
OUT=$R/boot-out
args=("l2machine=$MACHINE" "kstmo=$RUN_TIMEOUT")
if [ "${KS_BOOT_BASE:-1}" = 0 ]; then args+=(ksbase=0); fi
if [ -n "$DIFF_MACHINE" ]; then args+=("l2diff=$DIFF_MACHINE"); fi
# Rarely, L1 stalls during an L2 boot (nested SVM on QEMU TCG: L1 halts with its timer interrupt
# pending and nothing wakes it; seen in the run without kvmscope too). ks_boot's watch sees that
# within KS_STALL_S and ks_run_l1 boots L1 again, loudly (tests/nested/README.md, "When L1
# stalls").
t0=$(ks_now)
# 3G: L1 holds the 30 MB initramfs, the 256 MB L2 and kvmscope's 64 MB ring buffer (Bochs: its
# most, 2 GB, which is enough). No stall known under Bochs: not retried (run-vmx.sh).
tries=${KS_BOOT_TRIES:-4}
[ "$BED" = vmx ] && tries=1
MEM=${MEM:-3G} KS_BOOT_TRIES=$tries ks_run_l1 "$NAME" "$R/boot-initramfs.cpio.gz" "$LOG" \
  "$R/boot-out.img" "$OUT" "$TIMEOUT" "${args[@]}"
echo "L1 boot and runs $(ks_elapsed "$t0") s ($KS_VMM rc=$boot_rc)" | tee -a "$TIMINGS"
for f in base.secs boot.secs boot2.secs; do
  [ -f "$OUT/$f" ] && echo "L2 run ${f%.secs} $(cat "$OUT/$f") s of L1 time" | tee -a "$TIMINGS"
done

# report_to NAME ARGS...: one `kvmscope report` on the recording; its stderr and status are kept
# for the checker (a report that fails must show as a failed check, not stop this script).
report_to() {
  local name=$1 rc=0
  shift
  "$BIN" report "$OUT/boot.kvms" "$@" >"$R/$name.stdout" 2>"$R/$name.stderr" || rc=$?
  echo "$rc" >"$R/$name.rc"
  [ "$rc" = 0 ] || echo "ERROR: kvmscope report $* exited $rc: $(tail -3 "$R/$name.stderr")"
}

t0=$(ks_now)
rm -f "$R"/boot-report.* "$R"/boot-pass1.*
if [ -f "$OUT/boot.kvms" ]; then
  # Pass 1 gives time 0 on L1's clock, which turns L1's observations into phase marks.
  report_to boot-pass1 --json -o "$R/boot-pass1.json"
  marks=()
  if [ -s "$R/boot-pass1.json" ]; then
    mapfile -t marks < <(python3 "$HERE/check-boot.py" --marks "$OUT" "$R/boot-pass1.json")
  fi
  echo "== phase marks: ${marks[*]:-none}"
  report_to boot-report.text "${marks[@]}" -o "$R/boot-report.txt"
  report_to boot-report.json "${marks[@]}" --json -o "$R/boot-report.json" --html "$R/boot-report.html"
fi
echo "reports $(ks_elapsed "$t0") s" | tee -a "$TIMINGS"

# Guest code: which L2 functions exited. L2 boots the kernel L1 runs (one bzImage), so L1's code
# symbols less L1's own KASLR offset are that kernel's System.map (Debian ships the real one
# only in the ~1 GB -dbg package); the bzImage is the code the offset search checks. The report
# must find L2's own offset, which L2 printed from its /proc/kallsyms.
t0=$(ks_now)
rm -f "$R"/boot-guest.* "$R/System.map-l2"
if [ -f "$OUT/boot.kvms" ] && [ -s "$OUT/l1-kallsyms" ]; then
  python3 "$HERE/kallsyms-to-map.py" "$OUT/l1-kallsyms" >"$R/System.map-l2"
  rc=0
  "$BIN" report "$OUT/boot.kvms" --by function --guest-symbols "$R/System.map-l2" \
    --guest-kernel "$KS_WORK/vmlinuz" --rows 8 -o "$R/boot-guest.txt" \
    --html "$R/boot-guest.html" >/dev/null 2>"$R/boot-guest.txt.stderr" || rc=$?
  "$BIN" report "$OUT/boot.kvms" --by function --guest-symbols "$R/System.map-l2" \
    --guest-kernel "$KS_WORK/vmlinuz" --json -o "$R/boot-guest.json" --csv "$R/boot-guest-csv" \
    >"$R/boot-guest.stdout" 2>"$R/boot-guest.stderr" || rc=$?
  echo "$rc" >"$R/boot-guest.rc"
  cat "$R/boot-guest.stderr"
fi
echo "guest code $(ks_elapsed "$t0") s" | tee -a "$TIMINGS"

# The HTML page reports its own state in #kvmscope-status (see tests/browser/check-html-report.sh).
t0=$(ks_now)
browser=$(command -v chromium || command -v chromium-browser || true)
rm -f "$R"/boot-dom.html "$R"/boot-guest-dom.html "$R"/boot-report.png "$R"/boot-chromium-*.log
if [ -z "$browser" ]; then
  echo "chromium is not installed" >"$R/boot-chromium-missing.log"
elif [ -s "$R/boot-report.html" ]; then
  profile=$(mktemp -d)
  # --no-sandbox: run as root, where Chromium's sandbox refuses to start. The virtual time budget
  # lets the page finish its work before the DOM is dumped and the screenshot taken.
  flags=(--headless=new --no-sandbox --disable-gpu --disable-background-networking
    --disable-component-update --disable-sync --no-first-run --user-data-dir="$profile"
    --enable-logging=stderr --v=0 --virtual-time-budget=10000)
  timeout 120 "$browser" "${flags[@]}" --dump-dom "file://$R/boot-report.html" \
    >"$R/boot-dom.html" 2>"$R/boot-chromium-dom.log" || echo "ERROR: chromium --dump-dom failed"
  timeout 120 "$browser" "${flags[@]}" --screenshot="$R/boot-report.png" --window-size=1280,2400 \
    "file://$R/boot-report.html" 2>"$R/boot-chromium-screenshot.log" ||
    echo "ERROR: chromium --screenshot failed"
  if [ -s "$R/boot-guest.html" ]; then
    timeout 120 "$browser" "${flags[@]}" --dump-dom "file://$R/boot-guest.html" \
      >"$R/boot-guest-dom.html" 2>"$R/boot-chromium-guest.log" ||
      echo "ERROR: chromium --dump-dom failed on boot-guest.html"
  fi
  rm -rf "$profile"
fi
echo "chromium $(ks_elapsed "$t0") s" | tee -a "$TIMINGS"

# KS_BOOT_DIFF: the two recordings compared, as JSON (checked), text and HTML, and one --fail-if
# gate whose exit status the kernel's own totals decide (check-boot-diff.py --gate-expect).
diff_rc=0
if [ -n "$DIFF_MACHINE" ]; then
  t0=$(ks_now)
  rm -f "$R"/boot-diff*
  rc=0
  "$BIN" diff "$OUT/boot.kvms" "$OUT/boot2.kvms" --json -o "$R/boot-diff.json" \
    --html "$R/boot-diff.html" 2>"$R/boot-diff.stderr" || rc=$?
  echo "$rc" >"$R/boot-diff.rc"
  "$BIN" diff "$OUT/boot.kvms" "$OUT/boot2.kvms" >"$R/boot-diff.txt" 2>>"$R/boot-diff.stderr" || true
  rc=0
  "$BIN" diff "$OUT/boot.kvms" "$OUT/boot2.kvms" --fail-if 'hardware:-1%' --fail-on-numbers \
    >/dev/null 2>>"$R/boot-diff.stderr" || rc=$?
  echo "$rc" >"$R/boot-diff-gate.rc"
  python3 "$HERE/check-boot-diff.py" --gate-expect "$OUT" >"$R/boot-diff-gate.expect"
  echo "diff $(ks_elapsed "$t0") s" | tee -a "$TIMINGS"
  python3 "$HERE/check-boot-diff.py" "$OUT" "$R" | tee "$R/boot-diff-check.txt" || diff_rc=$?
fi

rc=0
python3 "$HERE/check-boot.py" "$OUT" "$R" | tee "$R/boot-check.txt" || rc=$?
# Whatever the checks said, an L1 that had to be killed is a failure.
[ "$boot_rc" = 0 ] || rc=1
[ "$diff_rc" = 0 ] || rc=1
echo "total $(ks_elapsed "$t_start") s" | tee -a "$TIMINGS"
echo "== outputs in $R: boot-out/, boot-report.{txt,json,html}, boot-report.png, boot-check.txt"
if [ "$rc" = 0 ]; then echo "PASS $NAME"; else echo "FAIL $NAME"; fi
exit "$rc"
