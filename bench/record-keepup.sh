#!/bin/bash
# record keeps up (issue 3): `kvmscope record` must store every event of the fastest real event
# stream this host makes, and count (never silently drop) what does not fit its ring buffer.
#
# The workload is the built-in guest doing OUTs: each OUT makes kvm_pio + kvm_userspace_exit +
# the VMM's next KVM_RUN = 3 recorded events (plus one process exit at the end), so a run of
# --io N per vCPU must record exactly 3 x N x vCPUs + 1 events, or events + lost must add up
# to that. Three parts:
#  1. keeping up: for 1 and 2 vCPUs, one `kvmscope record -o F -- kvmscope guest --io IO`:
#     record's own summary (events, events/s, bytes/event, lost: must be 0), and record's own CPU
#     time and voluntary context switches (the recorder process, sampled from /proc) per event:
#     the headroom before it could no longer keep up, and whether it wakes up once per event.
#  2. what tracing costs the guest: RATIO_RUNS pairs (untraced, traced, in turn) of --io
#     RATIO_IO; the guest's own exits/s, medians, and the median of the pairs' ratios.
#  3. overflow is counted: a 1 MB ring (--ring-size 1) alone, and a 1 MB ring whose reader is
#     stopped (SIGSTOP) for 2 s mid-run as a stalled consumer would be: lost must be > 0, shown
#     by record and by report, and events + lost must still equal the exact expected count.
#
# usage: sudo bench/record-keepup.sh [BUILD_DIR]    (default: build-bench, then build)
# env:   IO=2000000  VCPUS="1 2"  RATIO_IO=200000  RATIO_RUNS=7  OVERFLOW_IO=500000
#        WORKDIR=/tmp/kvmscope-bench
# needs: root, /dev/kvm, BPF.
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-}
if [ -z "$build" ]; then
  for d in "$here/build-bench" "$here/build"; do
    [ -x "$d/kvmscope" ] && { build=$d; break; }
  done
fi
[ -n "$build" ] && [ -x "$build/kvmscope" ] || { echo "record-keepup: no kvmscope build found" >&2; exit 2; }
[ "$(id -u)" = 0 ] || { echo "record-keepup: needs root (BPF)" >&2; exit 2; }
[ -w /dev/kvm ] || { echo "record-keepup: needs /dev/kvm" >&2; exit 2; }

IO=${IO:-2000000}
VCPUS=${VCPUS:-"1 2"}
RATIO_IO=${RATIO_IO:-200000}
RATIO_RUNS=${RATIO_RUNS:-7}
OVERFLOW_IO=${OVERFLOW_IO:-500000}
WORKDIR=${WORKDIR:-/tmp/kvmscope-bench}
mkdir -p "$WORKDIR"
ks=$build/kvmscope
rec=$WORKDIR/keepup.kvms
trap 'rm -f "$rec" "$WORKDIR"/keepup.*.txt' EXIT
hz=$(getconf CLK_TCK)

# "elapsed 0.942 s, 21,242 exits/s" -> 21242
guest_rate() { sed -n 's/^elapsed .* s, \([0-9,]*\) exits\/s$/\1/p' "$1" | tr -d ,; }
# "kvmscope record: 600,001 events in 6.40 s (93,768 events/s), 1,065,001 bytes (1.8 bytes/event) in F; lost: 0"
summary() { grep '^kvmscope record: .* events in ' "$1"; }
field() {  # field NAME FILE: events | seconds | rate | bpe | lost
  local s; s=$(summary "$2")
  case $1 in
    events) echo "$s" | sed 's/^kvmscope record: \([0-9,]*\) events.*/\1/' | tr -d , ;;
    seconds) echo "$s" | sed 's/.* events in \([0-9.]*\) s .*/\1/' ;;
    rate) echo "$s" | sed 's/.* s (\([0-9,]*\) events\/s).*/\1/' | tr -d , ;;
    bpe) echo "$s" | sed 's/.* bytes (\([0-9.]*\) bytes\/event).*/\1/' ;;
    lost) echo "$s" | sed 's/.*; lost: \([0-9,]*\)$/\1/' | tr -d , ;;
  esac
}
median() { sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# Runs record in the background and samples its own CPU ticks (utime + stime, all its threads,
# not the guest's) and its voluntary context switches from /proc until it ends; prints the last
# samples: "CPU_SECONDS SWITCHES". $1: output file
# for record's stderr+stdout; the rest: record's arguments.
record_sampled() {
  local out=$1; shift
  "$ks" record "$@" >"$out" 2>&1 &
  local pid=$! ticks=0 csw=0 t c
  while kill -0 "$pid" 2>/dev/null; do
    t=$(awk '{ print $14 + $15 }' "/proc/$pid/stat" 2>/dev/null) && ticks=$t
    c=$(awk '/^voluntary_ctxt_switches/ { print $2 }' "/proc/$pid/status" 2>/dev/null) && csw=$c
    sleep 0.2
  done
  wait "$pid" || { echo "record-keepup: record failed:" >&2; cat "$out" >&2; exit 1; }
  echo "$ticks $hz $csw" | awk '{ print $1 / $2, $3 }'
}

echo "== record keeps up: $(nproc) cores, kernel $(uname -r), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
echo "   workload: $ks guest --io $IO [--vcpus V] (3 events per OUT)"
fail=0
echo
echo "-- 1. keeping up: record -o F -- guest --io $IO --vcpus V"
printf '%-6s %11s %10s %13s %9s %6s %14s %11s %14s\n' vCPUs events expected "rec events/s" bytes/ev lost \
  "rec CPU us/ev" "rec % core" "wakeups/event"
for v in $VCPUS; do
  read -r cpu csw < <(record_sampled "$WORKDIR/keepup.traced.txt" --force -o "$rec" -- "$ks" guest --io "$IO" --vcpus "$v" --quiet)
  f=$WORKDIR/keepup.traced.txt
  ev=$(field events "$f") lost=$(field lost "$f") expected=$((3 * IO * v + 1))
  printf '%-6s %11s %10s %13s %9s %6s %14.3f %10.1f%% %14.3f\n' "$v" "$ev" "$expected" "$(field rate "$f")" \
    "$(field bpe "$f")" "$lost" "$(echo "$cpu $ev" | awk '{ print $1 / $2 * 1e6 }')" \
    "$(echo "$cpu $(field seconds "$f")" | awk '{ print $1 / $2 * 100 }')" \
    "$(echo "$csw $ev" | awk '{ print $1 / $2 }')"
  if [ "$ev" != "$expected" ] || [ "$lost" != 0 ]; then
    echo "record-keepup: expected $expected events and lost 0, got: $(summary "$f")" >&2
    fail=1
  fi
done
echo "   record's summary line, last run: $(summary "$WORKDIR/keepup.traced.txt" | sed 's/^kvmscope record: //')"

echo
echo "-- 2. what tracing costs the guest: $RATIO_RUNS pairs of guest --io $RATIO_IO, untraced and under record, in turn"
printf '%-6s %14s %14s %16s\n' vCPUs "untraced ex/s" "traced ex/s" "traced/untraced"
for v in $VCPUS; do
  : >"$WORKDIR/keepup.rows.txt"
  for ((i = 0; i < RATIO_RUNS; i++)); do
    "$ks" guest --io "$RATIO_IO" --vcpus "$v" >"$WORKDIR/keepup.untraced.txt" 2>&1
    "$ks" record --force -o "$rec" -- "$ks" guest --io "$RATIO_IO" --vcpus "$v" >"$WORKDIR/keepup.ratio.txt" 2>&1
    un=$(guest_rate "$WORKDIR/keepup.untraced.txt") tr=$(guest_rate "$WORKDIR/keepup.ratio.txt")
    echo "$un $tr $(echo "$tr $un" | awk '{ print $1 / $2 }')" >>"$WORKDIR/keepup.rows.txt"
  done
  col() { awk "{ print \$$1 }" "$WORKDIR/keepup.rows.txt" | median; }
  printf '%-6s %14.0f %14.0f %16.3f\n' "$v" "$(col 1)" "$(col 2)" "$(col 3)"
done
echo "   (medians; the ratio is the median of the pairs' ratios: 1.0 = tracing costs the guest nothing)"

echo
echo "== overflow is counted: --ring-size 1 (1 MB)"
small=$OVERFLOW_IO
expected=$((3 * small + 1))
record_sampled "$WORKDIR/keepup.small.txt" --ring-size 1 --force -o "$rec" -- "$ks" guest --io "$small" >/dev/null
echo "1 MB ring, reader running:     $(summary "$WORKDIR/keepup.small.txt" | sed 's/^kvmscope record: //')"
echo "   events + lost = $(($(field events "$WORKDIR/keepup.small.txt") + $(field lost "$WORKDIR/keepup.small.txt"))) (expected $expected)"

"$ks" record --ring-size 1 --force -o "$rec" -- "$ks" guest --io "$small" >"$WORKDIR/keepup.stall.txt" 2>&1 &
pid=$!
sleep 1
kill -STOP "$pid"  # the reader stalls (as a slow disk would make it); the guest runs on
sleep 2
kill -CONT "$pid"
wait "$pid"
ev=$(field events "$WORKDIR/keepup.stall.txt") lost=$(field lost "$WORKDIR/keepup.stall.txt")
echo "1 MB ring, reader stopped 2 s: $(summary "$WORKDIR/keepup.stall.txt" | sed 's/^kvmscope record: //')"
echo "   events + lost = $((ev + lost)) (expected $expected)"
echo "   report says: $("$ks" report "$rec" 2>&1 | grep -i -m1 'lost' || echo '(no mention of lost events!)')"
if [ "$lost" -gt 0 ] && [ $((ev + lost)) = "$expected" ]; then
  echo "   overflow counted: yes (lost > 0, and events + lost add up exactly)"
else
  echo "   overflow counted: NO" >&2
  fail=1
fi
exit $fail
