#!/bin/bash
# kvmscope versus trace-cmd (issue 3): the same real event stream, recorded by trace-cmd into a
# trace.dat, then processed by `trace-cmd report` (prints every event as text) and by
# `kvmscope report` (tables, timeline, stability, bursts, boots; --json adds every drill-down).
#
#   trace-cmd record -F -c -b 65536 -e kvm:kvm_userspace_exit -e kvm:kvm_pio -e kvm:kvm_entry \
#       -e kvm:kvm_exit -e sched:sched_process_exec -e task:task_newtask -o trace.dat \
#       kvmscope guest --io IO --vcpus 2
#   trace-cmd report -i trace.dat > /dev/null                      (B, the yardstick)
#   kvmscope report trace.dat -o /dev/null ; ... --json -o /dev/null    (A)
# The kvm_pvm host here fires kvm_pio + kvm_userspace_exit per OUT (kvm_exit/kvm_entry never),
# so the trace.dat holds ~2 x IO x 2 events. sched_process_exec/task_newtask let the reader
# group the vCPU threads into their VM. The same workload recorded by `kvmscope record` (3
# events per OUT: it also sees the VMM's KVM_RUN) is reported too, for reference.
#
# Prints the medians of RUNS runs (each A run paired with a B run) of CPU (user + sys) and wall
# seconds, events/s per core, and the ratios trace-cmd / kvmscope (> 1: kvmscope is faster).
# If this kvmscope cannot read trace.dat, says so and compares against `kvmscope report` on the
# kvmscope recording of the same workload instead.
#
# usage: sudo bench/vs-tracecmd.sh [BUILD_DIR]       (default: build-bench, then build)
# env:   IO=750000 (OUTs per vCPU; 2 vCPUs)  RUNS=5  WORKDIR=/tmp/kvmscope-bench  KEEP=1
# needs: root, /dev/kvm, trace-cmd (apt-get install trace-cmd), /usr/bin/time.
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-}
if [ -z "$build" ]; then
  for d in "$here/build-bench" "$here/build"; do
    [ -x "$d/kvmscope" ] && { build=$d; break; }
  done
fi
[ -n "$build" ] && [ -x "$build/kvmscope" ] || { echo "vs-tracecmd: no kvmscope build found" >&2; exit 2; }
command -v trace-cmd >/dev/null || { echo "vs-tracecmd: needs trace-cmd (apt-get install trace-cmd)" >&2; exit 2; }
[ -x /usr/bin/time ] || { echo "vs-tracecmd: needs /usr/bin/time (apt-get install time)" >&2; exit 2; }
[ "$(id -u)" = 0 ] || { echo "vs-tracecmd: needs root" >&2; exit 2; }

IO=${IO:-750000}
RUNS=${RUNS:-5}
WORKDIR=${WORKDIR:-/tmp/kvmscope-bench}
mkdir -p "$WORKDIR"
ks=$build/kvmscope
dat=$WORKDIR/vs.dat
kvms=$WORKDIR/vs.kvms
[ "${KEEP:-0}" = 1 ] || trap 'rm -f "$dat" "$kvms" "$WORKDIR"/vs.*.txt' EXIT

echo "== kvmscope vs trace-cmd: $(nproc) cores, kernel $(uname -r), $(trace-cmd version 2>/dev/null | grep -m1 version | sed 's/^ *//')"
# Some sandboxed hosts refuse writes to /proc/sys/kernel/ftrace_enabled and the function
# tracer's files (set_ftrace_filter, ...), which trace-cmd record resets even when it traces
# only events, and it gives up. Then it runs again in a private mount namespace where those
# files are stand-in regular files (events are unaffected; nothing outside the namespace sees it).
tracecmd_record() {
  if trace-cmd record "$@" >"$WORKDIR/vs.record.txt" 2>&1; then return 0; fi
  grep -q "Can't enable ftrace\|set_ftrace" "$WORKDIR/vs.record.txt" || { cat "$WORKDIR/vs.record.txt" >&2; return 1; }
  echo "(trace-cmd cannot touch the function tracer here: recording in a private mount namespace with stand-ins)"
  unshare -m sh -c '
    d=$(mktemp -d) && echo 1 >"$d/ftrace_enabled" &&
    mount --bind "$d/ftrace_enabled" /proc/sys/kernel/ftrace_enabled || exit 1
    for f in set_ftrace_filter set_ftrace_notrace set_ftrace_pid set_ftrace_notrace_pid; do
      [ -e "/sys/kernel/tracing/$f" ] || continue
      : >"$d/$f" && mount --bind "$d/$f" "/sys/kernel/tracing/$f" || exit 1
    done
    exec trace-cmd record "$@"' sh "$@" >"$WORKDIR/vs.record.txt" 2>&1 ||
    { cat "$WORKDIR/vs.record.txt" >&2; return 1; }
}
if [ ! -s "$dat" ]; then
  tracecmd_record -q -F -c -b 65536 -o "$dat" \
    -e kvm:kvm_userspace_exit -e kvm:kvm_pio -e kvm:kvm_entry -e kvm:kvm_exit \
    -e sched:sched_process_exec -e task:task_newtask \
    "$ks" guest --io "$IO" --vcpus 2 --quiet
fi
if [ ! -s "$kvms" ]; then
  "$ks" record --force -o "$kvms" -- "$ks" guest --io "$IO" --vcpus 2 --quiet 2>"$WORKDIR/vs.kvmsrecord.txt"
fi
dat_events=$(trace-cmd report -i "$dat" 2>/dev/null | grep -vc '^cpus=' || true)
kvms_events=$(sed -n 's/^kvmscope record: \([0-9,]*\) events.*/\1/p' "$WORKDIR/vs.kvmsrecord.txt" | tr -d ,)
echo "trace.dat: $dat_events events, $(stat -c %s "$dat") bytes; lost per trace-cmd:" \
  "$(trace-cmd report -i "$dat" --stat 2>/dev/null | awk '/^overrun:/ { o += $2 } /^dropped events:/ { o += $3 } END { print o + 0 }') (overrun + dropped)"
echo "kvmscope recording of the same workload: $kvms_events events, $(stat -c %s "$kvms") bytes"

same_file=1
if ! "$ks" report "$dat" -o /dev/null 2>"$WORKDIR/vs.err.txt"; then
  same_file=0
  echo
  echo "NOTE: this kvmscope cannot read trace.dat ($(head -1 "$WORKDIR/vs.err.txt")):"
  echo "      comparing trace-cmd report on trace.dat with kvmscope report on kvmscope's own"
  echo "      recording of the same workload (not the same file)."
fi
trace-cmd report -i "$dat" >/dev/null 2>&1  # warm the page cache

# name | command...: times one run, appends "name user sys wall rss" to vs.times.txt
timed() {
  local name=$1; shift
  /usr/bin/time -f "%U %S %e %M" -o "$WORKDIR/vs.time.txt" "$@" >/dev/null 2>&1
  echo "$name $(cat "$WORKDIR/vs.time.txt")" >>"$WORKDIR/vs.times.txt"
}
: >"$WORKDIR/vs.times.txt"
for ((i = 0; i < RUNS; i++)); do
  timed tracecmd trace-cmd report -i "$dat"
  if [ "$same_file" = 1 ]; then
    timed ks_dat_text "$ks" report "$dat" -o /dev/null
    timed ks_dat_json "$ks" report "$dat" --json -o /dev/null
  fi
  timed ks_kvms_text "$ks" report "$kvms" -o /dev/null
  timed ks_kvms_json "$ks" report "$kvms" --json -o /dev/null
done

median() { sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
stat_of() { awk -v n="$1" "\$1 == n { print $2 }" "$WORKDIR/vs.times.txt" | median; }

tc_cpu=$(stat_of tracecmd '$2 + $3')
echo
printf '%-44s %9s %9s %9s %14s %12s %12s\n' "" events "cpu s" "wall s" "M events/s/core" "CPU ratio" "peak RSS MB"
row() {  # label name events
  local cpu wall rss
  cpu=$(stat_of "$2" '$2 + $3') wall=$(stat_of "$2" '$4') rss=$(stat_of "$2" '$5')
  printf '%-44s %9s %9.2f %9.2f %14.2f %11.1fx %12.1f\n' "$1" "$3" "$cpu" "$wall" \
    "$(echo "$3 $cpu" | awk '{ c = $2 < 0.005 ? 0.005 : $2; print $1 / c / 1e6 }')" \
    "$(echo "$tc_cpu $cpu" | awk '{ c = $2 < 0.005 ? 0.005 : $2; print $1 / c }')" \
    "$(echo "$rss" | awk '{ print $1 / 1024 }')"
}
row "trace-cmd report -i trace.dat" tracecmd "$dat_events"
if [ "$same_file" = 1 ]; then
  row "kvmscope report trace.dat (text)" ks_dat_text "$dat_events"
  row "kvmscope report trace.dat --json" ks_dat_json "$dat_events"
fi
row "kvmscope report recording.kvms (text)" ks_kvms_text "$kvms_events"
row "kvmscope report recording.kvms --json" ks_kvms_json "$kvms_events"
echo "(CPU ratio = trace-cmd report's CPU seconds / this row's: > 1 means kvmscope is faster;"
echo " medians of $RUNS interleaved runs; raw: $WORKDIR/vs.times.txt as 'name user sys wall maxrss_KB')"
