#!/bin/bash
# Memory of kvmscope: peak RSS (GNU time -v) of `kvmscope stat -a` on this host in its modes
# (default, --by all, --every), the kernel memory of its BPF maps (bpftool map show: memlock),
# and a summary of the peak RSS of every tool run the other bench/peers scripts recorded
# (agreement, slowdown, percost, scale; run those first).
# Note: for `stat -- COMMAND` GNU time reports the largest of kvmscope and the command it ran
# (ru_maxrss covers waited-for descendants), so those rows are shown next to the command alone.
#
#   bench/peers/memory.sh
. "$(dirname "$0")/lib.sh"
KS=$(host_kvmscope)
OUT=$RESULTS/memory
rm -rf "$OUT" && mkdir -p "$OUT"
[ "$(id -u)" = 0 ] && [ -c /dev/kvm ] || { echo "SKIP: needs root and /dev/kvm"; exit 77; }

echo "== kvmscope stat -a on this host ($(uname -r)), a guest making 100,000 exits to the VMM meanwhile"
for mode in default byall every; do
  args=()
  case $mode in
    byall) args=(--by all) ;;
    every) args=(--every 10000 --every-level vmm) ;;
  esac
  /usr/bin/time -v -o "$OUT/$mode.time" "$KS" stat -a "${args[@]}" -o "$OUT/$mode.out" &
  tpid=$!
  kpid=
  while [ -z "$kpid" ]; do kpid=$(pgrep -P $tpid | head -1); done
  until grep -q '^map_id:' /proc/"$kpid"/fdinfo/* 2>/dev/null; do sleep 0.1; done
  sleep 0.5
  total=0
  for id in $(grep -h '^map_id:' /proc/"$kpid"/fdinfo/* | awk '{ print $2 }' | sort -u); do
    b=$(bpftool map show id "$id" | sed -n 's/.*memlock \([0-9]*\)B.*/\1/p')
    total=$((total + ${b:-0}))
  done
  "$KS" guest --io 100000 --quiet
  kill -INT "$kpid"
  wait "$tpid" || true
  rss=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$OUT/$mode.time")
  printf '%-8s peak RSS %6.1f MiB   BPF maps (kernel, memlock) %6.1f MiB\n' "$mode" \
    "$(echo "$rss / 1024" | bc -l)" "$(echo "$total / 1048576" | bc -l)"
done
echo
echo "== peak RSS of every tool run under GNU time in $RESULTS"
python3 "$PY" memory "$RESULTS"
