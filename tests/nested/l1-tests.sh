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

ALL_CASES="guest a-json b-every c-vcpus d-vmcall e-table f-msr-mmio g-drill h-record i-top j-serve k-pct l-func m-counts"
# The dynamic kvmscope with its shared libraries (the static one has no HTTP server: Debian ships
# no static GnuTLS / p11-kit for libmicrohttpd); only j-serve runs it.
KS_SERVE=/bin/kvmscope-serve
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

# wait_until TENTHS CMD...: run CMD every 0.1 s until it succeeds; fails after TENTHS tries.
wait_until() {
  _n=$1
  shift
  until "$@"; do
    [ "$_n" -gt 0 ] || return 1
    _n=$((_n - 1))
    sleep 0.1
  done
}

# observe_case NAME READY AFTER OBSERVER... -- GUEST...: a live view (top, serve) runs in the
# background, its stdout in NAME.stdout, between the hist triggers. Once its stdout matches READY
# (grep -E: its BPF programs are attached), GUEST runs to its end (NAME.guest, NAME.guest-rc);
# then the function AFTER NAME waits for (and fetches) the view's final state, and the view is
# stopped with SIGINT, as a user would (NAME.rc: its status). busybox timeout execs its command,
# so $! is the view's own pid once it is ready.
observe_case() {
  name=$1 ready=$2 after=$3
  shift 3
  wanted "$name" || return 0
  echo "$*" >"$L1_OUT/$name.cmd"
  echo "=== KS-NESTED BEGIN $name: $*"
  obs=""
  while [ "$1" != -- ]; do
    obs="$obs $1"
    shift
  done
  shift
  hist_start
  _t0=$(uptime_s)
  # shellcheck disable=SC2086 # obs: the view's words
  timeout -s KILL $((TMO + 10)) timeout "$TMO" $obs >"$L1_OUT/$name.stdout" 2>"$L1_OUT/$name.stderr" &
  view=$!
  if wait_until $((TMO * 10)) grep -qE "$ready" "$L1_OUT/$name.stdout"; then
    "$@" >"$L1_OUT/$name.guest" 2>&1
    echo $? >"$L1_OUT/$name.guest-rc"
    "$after" "$name"
  else
    echo "L1: $name: the view never printed /$ready/" | tee -a "$L1_OUT/$name.stderr"
  fi
  kill -INT "$view" 2>/dev/null
  wait "$view"
  rc=$?
  _t1=$(uptime_s)
  hist_stop "$L1_OUT/$name"
  echo "$rc" >"$L1_OUT/$name.rc"
  echo "$_t0 $_t1" | awk '{ printf "%.2f\n", $2 - $1 }' >"$L1_OUT/$name.secs"
  echo "--- view's stdout (tail)"
  tail -40 "$L1_OUT/$name.stdout"
  echo "--- stderr"
  cat "$L1_OUT/$name.stderr"
  echo "--- guest (rc $(cat "$L1_OUT/$name.guest-rc" 2>/dev/null))"
  cat "$L1_OUT/$name.guest" 2>/dev/null
  echo "--- kvm_exit hist (reference)"
  grep -E '^\{|Hits|Dropped' "$L1_OUT/$name.hist"
  echo "=== KS-NESTED END $name: rc=$rc secs=$(cat "$L1_OUT/$name.secs")"
  reap_leftovers "$name"
  l1_save_out >/dev/null
}

# top_ended NAME: true once top has printed two frames in which the guest's VM is ended: the
# second's counts were read after the first found the process gone, so they are final.
top_ended() { [ "$(grep -c '^VM .*  ended$' "$L1_OUT/$1.stdout")" -ge 2 ]; }
top_after() { wait_until $((TMO * 10)) top_ended "$1"; }

# serve_after NAME: serve reads the maps every second (L1 time); 3 s after the guest's end at
# least two readouts began after it. Then one scrape, as Prometheus would, into NAME.metrics.
serve_after() {
  sleep 3
  wget -q -O "$L1_OUT/$1.metrics" http://127.0.0.1:9580/metrics || echo "L1: $1: wget failed ($?)" >>"$L1_OUT/$1.stderr"
}

# reap_leftovers NAME: a guest left running by a killed or buggy stat would add its exits to
# the next case's counts. L1 is this test's own throwaway VM, so every leftover kvmscope goes.
reap_leftovers() {
  left=""
  for p in /proc/[0-9]*; do
    case $(readlink "$p/exe" 2>/dev/null) in "$KS" | "$KS_SERVE") ;; *) continue ;; esac
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
l1_isa_files
echo "=== KS-NESTED START $(uname -r) uptime $(uptime_s)s"
"$KS" --version >"$L1_OUT/version.txt" 2>&1
echo "kvmscope: $(cat "$L1_OUT/version.txt")"
# Which hooks the cases run on (stat --verbose says; the host checks it against kstp).
echo "${KSTP:-auto}" >"$L1_OUT/tracepoints.txt"
"$KS" stat --verbose --by all -a -d 0.2 -o /dev/null 2>"$L1_OUT/hooks.txt"
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

# i) top --batch over every VM (-a) while a guest runs: the guest VM's last frame (ended) holds
# its final counts per reason, which must be the kernel's.
observe_case i-top '^kvmscope top ' top_after "$KS" top --batch --interval 1 -- \
  "$KS" guest --cpuid 2000 --io 300 --hlt 300
# j) serve (the dynamic build) scraped with wget after a guest ran: kvmscope_exits_total per
# reason, kvmscope_pio_total and kvmscope_msr_total must be the kernel's counts.
if wanted j-serve; then
  ifconfig lo 127.0.0.1 up
  if [ -x "$KS_SERVE" ]; then
    observe_case j-serve '^kvmscope serve: serving' serve_after "$KS_SERVE" serve --listen 127.0.0.1:9580 \
      --interval 1 -- "$KS" guest --cpuid 2000 --io 300 --msr-read 200 --hlt 100
  else
    echo "L1: j-serve: no $KS_SERVE in this initramfs" | tee "$L1_OUT/j-serve.missing"
  fi
fi
# k) live vs exact percentiles: the same run under stat (log-linear histogram in the kernel) and
# record (every event; report's exact percentiles): p50/p99 per reason must agree within 12.5 %.
# record always takes the classic tracepoints, so stat does here too, whatever kstp says
# (KVMSCOPE_TRACEPOINTS=classic; -v names the hooks on stderr, the host checks it): both then
# stamp on the same two tracepoints, where tp_btf's hooks would fire before the classic trace
# record is built and time a different interval (15 % apart under TCG). stat runs record, not
# the other way round: programs on one tracepoint run in the order they were attached, so
# stat's run first at kvm_exit and at kvm_entry, and each tracer's interval differs from the
# other's by what runs between the two stamps (stat's count after its exit stamp vs its time
# after its entry stamp, record's lookups before its stamps). Under TCG (SVM bed) that put live
# cpuid p50 at -3 to +6 % of exact this way (8 runs), at -3 to -11 % (-8 to -11 % in 5 of 6
# runs; p99 once +13.9 %) with record first, whose ring-buffer write after its exit stamp is the
# longer part.
# 1,000 io and hlt exits: p99 is then decided by 10 exits, not 4 (check_k holds it from 900).
run_case k-pct sh -c "export KVMSCOPE_TRACEPOINTS=classic; '$KS' stat -v --json -o '$L1_OUT/k-pct.stat' -- \
  '$KS' record -o /tmp/k-pct.kvms -- '$KS' guest --cpuid 3000 --io 1000 --hlt 1000 && \
  '$KS' report --json -o '$L1_OUT/k-pct.report' /tmp/k-pct.kvms"

# l) guest code live: stat --by function counts the hardware exits per guest RIP in the kernel;
# each (reason, RIP) must be the kernel's own count (a hist trigger keyed by exit_reason,guest_rip,
# in a trace instance of its own: a second trigger on kvm_exit would print into the same `hist`
# file as the case's reference).
if wanted l-func; then
  RIPI=$T/instances/ksrip
  HIST_RIP='hist:keys=exit_reason,guest_rip:size=4096'
  mkdir -p "$RIPI"
  echo "$HIST_RIP" >"$RIPI/events/kvm/kvm_exit/trigger"
  run_case l-func "$KS" stat -o "$L1_OUT/l-func.stat" --json --by function,port -- \
    "$KS" guest --cpuid 700 --io 300 --msr-read 200 --msr-write 100 --hlt 50
  cat "$RIPI/events/kvm/kvm_exit/hist" >"$L1_OUT/l-func.rhist"
  echo "!$HIST_RIP" >"$RIPI/events/kvm/kvm_exit/trigger"
  rmdir "$RIPI"
  echo "--- l-func: kvm_exit hist by exit_reason,guest_rip"
  grep -E '^\{|Hits|Dropped' "$L1_OUT/l-func.rhist"
  l1_save_out >/dev/null
fi

# m) --counts-only (one program per hardware exit, no kvm_entry program, no clock read, no
# KVM_RUN hook where kvm_exit fires: -v says so) on two vCPUs, whose threads take turns in the
# per-CPU slot cache: every count still the kernel's, per vCPU, exits to the VMM included.
run_case m-counts "$KS" stat -v -o "$L1_OUT/m-counts.stat" --json --per-vcpu --counts-only -- \
  "$KS" guest --vcpus 2 --cpuid 2000 --io 300 --hlt 300

dmesg >"$L1_OUT/dmesg.txt"
uptime_s >"$L1_OUT/done.txt"
echo "=== KS-NESTED DONE uptime $(uptime_s)s"
l1_save_out
