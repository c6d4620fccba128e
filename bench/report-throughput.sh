#!/bin/sh
# report throughput (issue 3): `kvmscope report` must process >= 20 million events/s per core,
# in memory that does not grow with the recording.
#
# Makes two synthetic recordings (bench/make_recording: 2 VMs x 4 vCPUs on an SVM host, hardware
# exits/entries, exits to the VMM with KVM_RUN, pio/mmio/msr/cpuid drill events; 10 M and 40 M
# events by default), then times `kvmscope report FILE --json -o /dev/null` and the text report
# `kvmscope report FILE -o /dev/null` RUNS times each, interleaved, with /usr/bin/time. Prints
# the medians: events/s per core (events / (user + sys) CPU seconds), the ratio to the target,
# and the peak RSS of the big recording over the small one (~1.0 = memory does not grow).
#
# usage: bench/report-throughput.sh [BUILD_DIR]        (default: build-bench, then build)
# env:   RUNS=5  SIZES="10000000 40000000"  WORKDIR=/tmp/kvmscope-bench  KEEP=1 (keep the files)
#        TARGET=20000000 (events/s per core)
# needs: /usr/bin/time (Debian package `time`), a Release build with the make_recording target.
set -eu

here=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-}
if [ -z "$build" ]; then
  for d in "$here/build-bench" "$here/build"; do
    [ -x "$d/kvmscope" ] && [ -x "$d/make_recording" ] && { build=$d; break; }
  done
fi
[ -n "$build" ] && [ -x "$build/kvmscope" ] && [ -x "$build/make_recording" ] || {
  echo "report-throughput: no build with kvmscope and make_recording; build one with" >&2
  echo "  cmake -S $here -B $here/build-bench -DCMAKE_BUILD_TYPE=Release && cmake --build $here/build-bench" >&2
  exit 2
}
[ -x /usr/bin/time ] || { echo "report-throughput: needs /usr/bin/time (apt-get install time)" >&2; exit 2; }

RUNS=${RUNS:-5}
SIZES=${SIZES:-"10000000 40000000"}
TARGET=${TARGET:-20000000}
WORKDIR=${WORKDIR:-/tmp/kvmscope-bench}
mkdir -p "$WORKDIR"
ks=$build/kvmscope
results=$WORKDIR/report-times.txt
: >"$results"
[ "${KEEP:-0}" = 1 ] || trap 'for s in $SIZES; do rm -f "$WORKDIR/report-$s.kvms"; done' EXIT

echo "== report throughput: $(nproc) cores, kernel $(uname -r), build $build"
for s in $SIZES; do
  f=$WORKDIR/report-$s.kvms
  if [ ! -s "$f" ]; then
    "$build/make_recording" "$f" "$s" --vms 2 --vcpus 4 --formats "$here/tests/fixtures/tracefs-6.1-svm"
  fi
  "$ks" report "$f" --json -o /dev/null  # warm the page cache; fails loudly if report fails
done

# A B A B ...: every configuration sees the same machine drift.
i=0
while [ "$i" -lt "$RUNS" ]; do
  for s in $SIZES; do
    for mode in json text; do
      f=$WORKDIR/report-$s.kvms
      flag=""; [ "$mode" = json ] && flag=--json
      /usr/bin/time -f "%U %S %e %M" -o "$WORKDIR/time.out" "$ks" report "$f" $flag -o /dev/null
      echo "$s $mode $(cat "$WORKDIR/time.out")" >>"$results"
    done
  done
  i=$((i + 1))
done

# median of column $3 of the lines of stdin
median() { sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

echo
printf '%-11s %-5s %9s %9s %15s %10s %12s\n' events output "cpu s" "wall s" "M events/s/core" "vs target" "peak RSS MB"
for s in $SIZES; do
  for mode in json text; do
    sel="\$1 == $s && \$2 == \"$mode\""
    cpu=$(awk "$sel { print \$3 + \$4 }" "$results" | median)
    wall=$(awk "$sel { print \$5 }" "$results" | median)
    rate=$(awk "$sel { c = \$3 + \$4; if (c < 0.001) c = 0.001; print $s / c }" "$results" | median)
    rss=$(awk "$sel { print \$6 }" "$results" | median)
    printf '%-11s %-5s %9.2f %9.2f %15.1f %9.2fx %12.1f\n' "$s" "$mode" "$cpu" "$wall" \
      "$(echo "$rate" | awk '{ print $1 / 1e6 }')" "$(echo "$rate $TARGET" | awk '{ print $1 / $2 }')" \
      "$(echo "$rss" | awk '{ print $1 / 1024 }')"
    echo "$s $mode $rate $rss" >>"$WORKDIR/report-medians.txt.$$"
  done
done

small=$(echo $SIZES | awk '{ print $1 }')
big=$(echo $SIZES | awk '{ print $NF }')
echo
for mode in json text; do
  awk -v s="$small" -v b="$big" -v m="$mode" -v t="$TARGET" '
    $2 == m && $1 == s { rs = $3; ms = $4 } $2 == m && $1 == b { rb = $3; mb = $4 }
    END {
      printf "%s: peak RSS %s/%s events = %.3f (%.1f MB vs %.1f MB): %s\n", m, b, s, mb / ms,
             mb / 1024, ms / 1024, (mb / ms < 1.1 ? "memory does not grow with the file" : "MEMORY GROWS");
      printf "%s: rate %s/%s events = %.3f; slowest median %.1f M events/s per core = %.2fx the %.0f M/s target: %s\n",
             m, b, s, rb / rs, (rb < rs ? rb : rs) / 1e6, (rb < rs ? rb : rs) / t, t / 1e6,
             ((rb < rs ? rb : rs) >= t ? "met" : "MISSED")
    }' "$WORKDIR/report-medians.txt.$$"
done
rm -f "$WORKDIR/report-medians.txt.$$" "$WORKDIR/time.out"
echo "(medians of $RUNS runs; raw figures: $results as 'events output user sys wall maxrss_KB')"
