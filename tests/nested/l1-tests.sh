#!/bin/sh
# Runs inside L1 as /extra.sh (busybox sh; the bed's init has loaded kvm_amd or kvm_intel and
# mounted tracefs: the same cases run in the SVM and the VMX bed).
# Each case runs one kvmscope command while tracefs hist triggers count every kvm:kvm_exit (by isa,
# reason, vCPU) and kvm:kvm_userspace_exit in the kernel, independently of kvmscope: the host
# compares the two exactly. (Not perf_event_open: while a BPF program attached to a tracepoint
# returns 0, the kernel hands that tracepoint's events to no perf consumer at all; ftrace
# triggers are a separate probe.) Outputs go to /out/<case>.{cmd,stdout,stderr,rc,secs,hist,uhist}
# (parsed on the host: TCG makes L1 slow) and are echoed to the serial console between markers.
# Each stat case writes its results with -o to /out/<case>.stat: stdout stays the guest's own
# (stat's results of a command go to stderr otherwise, like perf stat's).
# Kernel args: kscases=a,b (run only these cases), kstmo=SEC (per-case timeout, default 60;
# SIGTERM first so that stat can still print what it has, SIGKILL 10 s later), ksnokick=1 (end
# the in-kernel-only plan of d-vmcall with one HLT instead of the guest's spin and the VMM's kick:
# the Bochs bed needs it, see d-vmcall), kstp=btf|classic (how kvmscope hooks kvm_exit/kvm_entry:
# exported as KVMSCOPE_TRACEPOINTS, so every case runs on those hooks; btf fails where they
# cannot load instead of falling back; record always takes the classic ones).
# shellcheck source=SCRIPTDIR/l1-lib.sh
. /l1-lib.sh

KS=/bin/kvmscope
CASES=$(arg kscases)
TMO=$(arg kstmo)
TMO=${TMO:-60}

ALL_CASES="guest a-json b-every c-vcpus d-vmcall e-table f-msr-mmio g-drill h-record i-pct"
KSTP=$(arg kstp)
[ -n "$KSTP" ] && export KVMSCOPE_TRACEPOINTS="$KSTP"

# run_case NAME CMD...: run CMD with stdout/stderr to files, under a timeout, with reference
# counts from the hist triggers.
run_case() {
  name=$1
  shift
  wanted "$name" || return 0
  echo "$*" >"$L1_OUT/$name.cmd"
  echo "=== KS-NESTED BEGIN $name: $*"
  l1_timed_case "$name" "$@"
  rc=$?
  echo "--- stdout"
  cat "$L1_OUT/$name.stdout"
  echo "--- stderr"
  cat "$L1_OUT/$name.stderr"
  if [ -f "$L1_OUT/$name.stat" ]; then
    echo "--- kvmscope stat -o"
    cat "$L1_OUT/$name.stat"
  fi
  echo "--- kvm_exit hist (reference)"
  grep -E '^\{|Hits|Dropped' "$L1_OUT/$name.hist"
  echo "=== KS-NESTED END $name: rc=$rc secs=$(cat "$L1_OUT/$name.secs")"
  reap_leftovers "$name"
  # Save after every case: should a later case hang L1 past the host's timeout, what ran so
  # far still comes back.
  l1_save_out >/dev/null
}

# reap_leftovers NAME: a guest left running by a killed or buggy stat would add its exits to
# the next case's counts. L1 is this test's own throwaway VM, so every leftover kvmscope goes.
reap_leftovers() {
  left=""
  for p in /proc/[0-9]*; do
    [ "$(readlink "$p/exe" 2>/dev/null)" = "$KS" ] || continue
    left="$left ${p#/proc/}"
    kill -9 "${p#/proc/}" 2>/dev/null
  done
  if [ -n "$left" ]; then
    echo "L1: $1 left kvmscope processes running, killed:$left" | tee "$L1_OUT/$1.leftovers"
  fi
}

l1_heartbeat
l1_load_outdisk
# The host checks that every case meant to run has left its files (a hang leaves some out).
for c in $ALL_CASES; do
  if wanted "$c"; then echo "$c"; fi
done >"$L1_OUT/cases.txt"
{
  uname -r
  grep -m1 'model name' /proc/cpuinfo
} >"$L1_OUT/l1-info.txt"
# Which hardware the exits come from (the host picks its expectations by it) and the running
# kernel's kvm_exit format, whose print fmt holds its VMX and SVM reason tables (the names
# kvmscope must print).
if [ -d /sys/module/kvm_intel ]; then echo vmx; elif [ -d /sys/module/kvm_amd ]; then echo svm; else echo none; fi >"$L1_OUT/isa.txt"
cp "$T/events/kvm/kvm_exit/format" "$L1_OUT/kvm_exit.format"
echo "=== KS-NESTED START $(uname -r) uptime $(uptime_s)s"
"$KS" --version >"$L1_OUT/version.txt" 2>&1
echo "kvmscope: $(cat "$L1_OUT/version.txt")"
# Which hooks the cases run on (stat --verbose says; the host checks it against kstp).
echo "${KSTP:-auto}" >"$L1_OUT/tracepoints.txt"
"$KS" stat --verbose -a -d 0.2 -o /dev/null 2>"$L1_OUT/hooks.txt"
echo "kvmscope hooks (kstp=${KSTP:-auto}): $(cat "$L1_OUT/hooks.txt")"

# The guest alone: its exit counts without kvmscope stat in the way (tells guest bugs from
# collector bugs).
run_case guest "$KS" guest --cpuid 10000 --io 1000 --hlt 1000
# a) exact per-reason counts, handling times, exits to the VMM.
run_case a-json "$KS" stat -o "$L1_OUT/a-json.stat" --json -- "$KS" guest --cpuid 10000 --io 1000 --hlt 1000
# b) kernel-patch style blocks every 1000 exits.
run_case b-every "$KS" stat -o "$L1_OUT/b-every.stat" --every 1000 -- "$KS" guest --cpuid 3000 --io 500 --hlt 500
# c) per-vCPU split: every vCPU performs the whole plan.
run_case c-vcpus "$KS" stat -o "$L1_OUT/c-vcpus.stat" --json --per-vcpu -- "$KS" guest --vcpus 2 --cpuid 3000 --io 200 --hlt 100
# d) VMMCALL (SVM code 0x81) / VMCALL (VMX 18) handled in the kernel. A plan of in-kernel work
# only ends with the guest spinning (IF=0) until the VMM kicks its thread out of KVM_RUN. Under
# Bochs that never happens: unlike VMX hardware, Bochs makes no EXTERNAL_INTERRUPT exit while the
# guest runs with IF=0, so L1's one CPU never comes back from the spinning guest to run the VMM's
# kick. There (ksnokick=1) the plan ends with one HLT, an exit to the VMM.
if [ "$(arg ksnokick)" = 1 ]; then
  run_case d-vmcall "$KS" stat -o "$L1_OUT/d-vmcall.stat" --json -- "$KS" guest --vmcall 500 --hlt 1
else
  run_case d-vmcall "$KS" stat -o "$L1_OUT/d-vmcall.stat" --json -- "$KS" guest --vmcall 500
fi
# e) the human table of a), for the README and this log.
run_case e-table "$KS" stat -o "$L1_OUT/e-table.stat" -- "$KS" guest --cpuid 10000 --io 1000 --hlt 1000
# f) MSR reads and writes handled in the kernel; MMIO writes to a GPA without memory, which KVM
# hands to the VMM (VMX: EPT_VIOLATION once, EPT_MISCONFIG after; SVM: npf).
run_case f-msr-mmio "$KS" stat -o "$L1_OUT/f-msr-mmio.stat" --json -- "$KS" guest --msr-read 500 --msr-write 500 --mmio 500
# g) drill-downs: every port, GPA, MSR, CPUID leaf and hypercall nr of the plan, exactly
# (check-results.py G_PLAN; the plan ends with an exit to the VMM, as d-vmcall's does in Bochs).
run_case g-drill "$KS" stat -o "$L1_OUT/g-drill.stat" --json --by port,mmio,msr,cpuid,hypercall -- \
  "$KS" guest --cpuid 700 --io 300 --msr-read 200 --msr-write 100 --vmcall 50 --mmio 40 --hlt 1
# h) record, then report of that recording (JSON) in L1: the report's counts are the kernel's.
run_case h-record sh -c "'$KS' record -o /tmp/h-record.kvms -- '$KS' guest --cpuid 2000 --io 300 \
  --hlt 300 && '$KS' report --json -o '$L1_OUT/h-record.stat' /tmp/h-record.kvms"

# i) live vs exact percentiles: the same run under stat (tp_btf or classic, log-linear
# histogram in the kernel) and record (every event; report's exact percentiles): p50/p99 per
# reason must agree within 12.5 %.
run_case i-pct sh -c "'$KS' record -o /tmp/i-pct.kvms -- '$KS' stat --json -o '$L1_OUT/i-pct.stat' \
  -- '$KS' guest --cpuid 3000 --io 600 --hlt 400 && '$KS' report --json -o '$L1_OUT/i-pct.report' /tmp/i-pct.kvms"

dmesg >"$L1_OUT/dmesg.txt"
uptime_s >"$L1_OUT/done.txt"
echo "=== KS-NESTED DONE uptime $(uptime_s)s"
l1_save_out
