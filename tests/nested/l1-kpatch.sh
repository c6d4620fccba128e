#!/bin/sh
# Runs inside L1 as /extra.sh for run-kpatch.sh (busybox sh). The bed's init has loaded the
# PATCHED kvm.ko and kvm-amd.ko (the SVM bed) or kvm-intel.ko (the VMX bed) (kernel/patches,
# built by kernel/build-modules.sh); Debian's stock ones are in /lib/modules/stock/ for the
# overhead comparison.
#
# Each case runs one command with:
#   - tracefs hist triggers counting every kvm:kvm_exit (isa, reason, vCPU) and
#     kvm:kvm_userspace_exit in the kernel: the exact reference;
#   - kvm.exit_stats_every set for the VMs the case creates (a VM takes it at creation);
#   - the kernel log of the case (the patch's kvm_exit_stats lines) captured with dmesg -c.
# Outputs /out/<case>.{cmd,every,stdout,stderr,rc,secs,hist,uhist,dmesg}, and <case>.stat for the
# cases under kvmscope stat (its -o: stat's results of a command go to stderr otherwise, like
# perf stat's, and stdout stays the workload's); the host checks them
# (check-kpatch.py). Rate cases (no hist triggers, no tracing) leave /out/rate-<variant>-<round>.*.
#
# Adding a case: one line, e.g.
#   run_case two-vcpus 1000 "$KS" guest --vcpus 2 --cpuid 3000 --io 500 --hlt 500
# and a check in check-kpatch.py.
# Kernel args: kscases=a,b (run only these cases), kstmo=SEC (per-case timeout, default 60),
# ksrounds=N (overhead rounds, default 3).
# shellcheck source=SCRIPTDIR/l1-lib.sh
. /l1-lib.sh

KS=/bin/kvmscope
PROBE=/bin/kpatch-probe
EVERY=/sys/module/kvm/parameters/exit_stats_every
CASES=$(arg kscases)
TMO=$(arg kstmo)
TMO=${TMO:-60}
ROUNDS=$(arg ksrounds)
ROUNDS=${ROUNDS:-3}

ALL_CASES="load probe stat query every storm rate"

# The vendor module and where the bed keeps the modules: the VMX bed's tree has them in
# /lib/modules/kvm/ (with their load order), the SVM bed's in /lib/modules/.
if [ -f /lib/modules/kvm/order ]; then
  VMOD=kvm-intel
  MODS=/lib/modules/kvm
else
  VMOD=kvm-amd
  MODS=/lib/modules
fi

# load_kvm stock|patched: replace the loaded kvm and vendor modules.
load_kvm() {
  rmmod "$(echo "$VMOD" | tr - _)" 2>/dev/null
  rmmod kvm 2>/dev/null
  if [ "$1" = stock ]; then
    insmod /lib/modules/stock/kvm.ko && insmod "/lib/modules/stock/$VMOD.ko"
  else
    insmod "$MODS/kvm.ko" && insmod "$MODS/$VMOD.ko"
  fi || echo "L1: loading the $1 kvm modules FAILED"
}

# run_case NAME EVERY CMD...: run CMD (stdout/stderr to files, under a timeout) with the hist
# reference and kvm.exit_stats_every=EVERY, and keep the kernel log lines of the case.
run_case() {
  name=$1
  every=$2
  shift 2
  wanted "$name" || return 0
  echo "$*" >"$L1_OUT/$name.cmd"
  echo "$every" >"$EVERY"
  cat "$EVERY" >"$L1_OUT/$name.every"
  echo "=== KS-KPATCH BEGIN $name (exit_stats_every=$every): $*"
  dmesg -c >/dev/null
  l1_timed_case "$name" "$@"
  rc=$?
  dmesg -c >"$L1_OUT/$name.dmesg"
  echo "--- stdout (tail)"
  tail -5 "$L1_OUT/$name.stdout"
  echo "--- stderr (tail)"
  tail -5 "$L1_OUT/$name.stderr"
  echo "--- kvm_exit hist (reference)"
  grep -E '^\{|Hits|Dropped' "$L1_OUT/$name.hist"
  echo "--- kernel log: $(grep -c 'kvm_exit_stats: ' "$L1_OUT/$name.dmesg") kvm_exit_stats lines, last:"
  grep 'kvm_exit_stats: ' "$L1_OUT/$name.dmesg" | tail -8
  echo "=== KS-KPATCH END $name: rc=$rc secs=$(cat "$L1_OUT/$name.secs")"
  l1_save_out >/dev/null
}

# run_rate NAME CMD...: a timing run, nothing else attached (no hist triggers, no capture).
run_rate() {
  name=$1
  shift
  echo "$*" >"$L1_OUT/$name.cmd"
  timeout -s KILL $((TMO + 10)) timeout "$TMO" "$@" >"$L1_OUT/$name.stdout" 2>"$L1_OUT/$name.stderr"
  echo "$?" >"$L1_OUT/$name.rc"
  echo "$name: $(grep -h 'exits/s' "$L1_OUT/$name.stdout" "$L1_OUT/$name.stderr" | tail -1)"
}

l1_heartbeat
l1_load_outdisk
l1_isa_files
for c in $ALL_CASES; do
  if wanted "$c"; then echo "$c"; fi
done >"$L1_OUT/cases.txt"
echo "=== KS-KPATCH START $(uname -r) uptime $(uptime_s)s"
"$KS" --version >"$L1_OUT/version.txt" 2>&1

# load: the patched modules came up at boot (the bed's init insmods /lib/modules/kvm*.ko).
if wanted load; then
  {
    echo "modules:"
    grep -E '^(kvm|kvm_amd|kvm_intel) ' /proc/modules
    echo "exit_stats_every: $(cat "$EVERY" 2>&1)"
    echo "tainted: $(cat /proc/sys/kernel/tainted)"
    echo "btf kvm: $(ls /sys/kernel/btf/kvm 2>&1)"
    echo "btf kvm_amd: $(ls /sys/kernel/btf/kvm_amd 2>&1)"
    echo "btf kvm_intel: $(ls /sys/kernel/btf/kvm_intel 2>&1)"
    echo "dev kvm: $(ls /dev/kvm 2>&1)"
  } >"$L1_OUT/load.txt"
  dmesg >"$L1_OUT/load.dmesg"
  cat "$L1_OUT/load.txt"
fi

# The exits of reasons CPUID, IO, HLT, VMMCALL / VMCALL, the timer interrupt; the cycles of CPUID
# (SVM codes 0x72 0x7b 0x78 0x81 0x60; VMX 10 30 12 18 1); an undefined reason; the totals.
if [ "$(cat "$L1_OUT/isa.txt")" = vmx ]; then
  PROBE_QUERIES="4ffffffd:fffffff0 4ffffffd:a 4ffffffd:1e 4ffffffd:c 4ffffffd:12 4ffffffd:1 \
4ffffffc:a 4ffffffc:fffffff0 4ffffffe:0 4fffffff:0"
else
  PROBE_QUERIES="4ffffffd:fffffff0 4ffffffd:72 4ffffffd:7b 4ffffffd:78 4ffffffd:81 4ffffffd:60 \
4ffffffc:72 4ffffffc:fffffff0 4ffffffe:0 4fffffff:0"
fi
# probe: the guest reads the counters with CPUID, under kvmscope stat (BPF), with the hist
# reference and periodic + final reports in the kernel log: four views of the same exits.
# shellcheck disable=SC2086
run_case probe 1000 "$KS" stat --json -o "$L1_OUT/probe.stat" -- "$PROBE" 3000 500 500 $PROBE_QUERIES
# stat: the issue's run: kvmscope guest under kvmscope stat, default exit_stats_every.
run_case stat 10000 "$KS" stat --json -o "$L1_OUT/stat.stat" -- "$KS" guest --cpuid 10000 --io 1000 --hlt 1000
# query: kvmscope's own in-guest view (guest --query-exits) of the same counters, under kvmscope
# stat (BPF); the host also reads this case's kernel log with `kvmscope report --dmesg`.
run_case query 1000 "$KS" stat --json -o "$L1_OUT/query.stat" -- \
  "$KS" guest --cpuid 3000 --io 500 --hlt 500 --query-exits
# every: exit_stats_every=1000 gives floor(total / 1000) reports (printed + suppressed).
run_case every 1000 "$KS" guest --cpuid 3000 --io 500 --hlt 500
# storm: a report per exit: the rate limit keeps the log short and counts what it dropped.
run_case storm 1 "$KS" guest --cpuid 20000 --io 10 --hlt 10

# rate: exits/s of the built-in guest, interleaved rounds: stock modules alone, stock under
# kvmscope stat (BPF), patched with exit_stats_every=0 and =10000.
if wanted rate; then
  echo "=== KS-KPATCH BEGIN rate ($ROUNDS rounds)"
  RATE="$KS guest --cpuid 20000 --io 1000 --hlt 1000"
  # shellcheck disable=SC2086
  rate_stock() {
    load_kvm stock
    run_rate "rate-stock-$r" $RATE
    run_rate "rate-bpf-$r" "$KS" stat -- $RATE
  }
  # shellcheck disable=SC2086
  rate_patched() {
    load_kvm patched
    echo 0 >"$EVERY"
    run_rate "rate-patched0-$r" $RATE
    echo 10000 >"$EVERY"
    run_rate "rate-patched10k-$r" $RATE
  }
  r=1
  while [ "$r" -le "$ROUNDS" ]; do
    # Alternate the order, so that drift over the run does not favour one variant.
    if [ $((r % 2)) = 1 ]; then
      rate_stock
      rate_patched
    else
      rate_patched
      rate_stock
    fi
    r=$((r + 1))
  done
  load_kvm patched
  dmesg -c >"$L1_OUT/rate.dmesg"
  echo "=== KS-KPATCH END rate"
fi

dmesg >"$L1_OUT/dmesg.txt"
uptime_s >"$L1_OUT/done.txt"
echo "=== KS-KPATCH DONE uptime $(uptime_s)s"
l1_save_out
