#!/bin/bash
# Per-event cost of the BPF programs: with kernel.bpf_stats_enabled=1 the kernel times every run
# of every BPF program; `bpftool prog show` gives run_time_ns and run_cnt. Before and after each
# guest run (5 runs, medians) the difference gives ns per event, per program.
#   1. this host (kvm_pvm: kvm_userspace_exit, KVM_RUN ioctls, kvm_pio/_mmio/_msr/_cpuid fire;
#      kvm_exit/kvm_entry never do): kvmscope stat -a, default and --by all (drill-downs).
#   2. the nested SVM L1 (real kvm_exit/kvm_entry): kvmscope stat -a and kvmexit-bpfcc attached
#      at the same time to the same guest run.
# Target: <= 100 ns per event on this host.
#
#   bench/peers/percost.sh          PERCOST_L1=0 for the host part only
. "$(dirname "$0")/lib.sh"
KS=$(host_kvmscope)
ROUNDS=${PERCOST_ROUNDS:-5}
HOST_GUEST=${PERCOST_HOST_GUEST:---cpuid 20000 --io 100000 --hlt 20000 --msr-read 20000 --mmio 20000}
L1_GUEST=${PERCOST_L1_GUEST:---cpuid 50000 --io 5000 --hlt 5000}
OUT=$RESULTS/percost-host
rm -rf "$OUT" && mkdir -p "$OUT"

if [ "$(id -u)" = 0 ] && [ -c /dev/kvm ]; then
  old=$(sysctl -n kernel.bpf_stats_enabled)
  restore() { sysctl -q -w kernel.bpf_stats_enabled="$old"; }
  trap restore EXIT
  # The calibration programs (bpf_floor.bpf.c): what each building block costs here.
  clang -O2 -g -target bpf -I/usr/include/x86_64-linux-gnu -c "$PEERS_BENCH/bpf_floor.bpf.c" -o "$OUT/bpf_floor.bpf.o"
  gcc -O2 -Wall "$PEERS_BENCH/bpf_floor.c" -lbpf -o "$OUT/bpf_floor"
  sysctl -q -w kernel.bpf_stats_enabled=1
  echo "== host $(uname -r): kvmscope guest $HOST_GUEST, $ROUNDS rounds, default and --by all"
  for r in $(seq "$ROUNDS"); do
    for cfg in default byall floor; do
      args=()
      [ $cfg = byall ] && args=(--by all)
      p=$OUT/$cfg-$r
      if [ $cfg = floor ]; then
        /usr/bin/time -v -o "$p.time" "$OUT/bpf_floor" "$OUT/bpf_floor.bpf.o" >/dev/null &
      else
        /usr/bin/time -v -o "$p.time" "$KS" stat -a "${args[@]}" -o "$p.table" &
      fi
      tpid=$!
      kpid=
      while [ -z "$kpid" ]; do kpid=$(pgrep -P $tpid | head -1); done
      n=0
      until grep -q '^prog_id:' /proc/$kpid/fdinfo/* 2>/dev/null; do
        sleep 0.1
        n=$((n + 1))
        [ $n -lt 300 ] || { echo "kvmscope did not load" >&2; break; }
      done
      sleep 0.5
      grep -h '^prog_id:' /proc/$kpid/fdinfo/* | awk -v t="$([ $cfg = floor ] && echo calibration || echo kvmscope)" '{ print t, $2 }' | sort -u >"$p.owners"
      bpftool prog show --json >"$p.before.json"
      "$KS" guest $HOST_GUEST --quiet
      bpftool prog show --json >"$p.after.json"
      kill -INT $kpid
      wait $tpid || true
    done
  done
  restore
  trap - EXIT
  python3 "$PY" percost "$OUT" --target-ns 100 --label "host $(uname -r)" || true
else
  echo "SKIP host part: needs root and /dev/kvm"
fi

[ "${PERCOST_L1:-1}" = 1 ] || exit 0
CASES=$RESULTS/percost-cases
rm -rf "$CASES" && mkdir -p "$CASES"
cp "$PEERS_BENCH/l1-tracers.sh" "$CASES/tracers.lib"
cat >"$CASES/10-percost.sh" <<EOF
# timeout: 2400
. /opt/peers-run/cases/tracers.lib
sysctl -q -w kernel.bpf_stats_enabled=1
bg_tracer kvmexit 'Display kvm exit reasons' 900 python3 "\$KVMEXIT"
/usr/bin/time -v -o kvmscope.time kvmscope stat -a -o kvmscope.table &
ktime=\$!
kpid=\$(child_of \$ktime)
wait_bpf_prog on_kvm_exit 120
sleep 1
{ bpf_owners kvmscope \$kpid; bpf_owners kvmexit \$BG_PID; } >owners
cat owners
for r in \$(seq $ROUNDS); do
  bpftool prog show --json >round\$r.before.json
  kvmscope guest $L1_GUEST >guest\$r.out
  bpftool prog show --json >round\$r.after.json
  grep exits/s guest\$r.out
done
stop_and_wait \$kpid 120 \$ktime
bg_stop 600
for r in \$(seq $ROUNDS); do cp owners round\$r.owners; done
EOF
run_l1_cases percost "$CASES"
python3 "$PY" percost "$RESULTS/percost/10-percost" --label "nested L1 $(sed -n 's/^l1_kernel //p' "$RESULTS/percost/l1-info.txt" 2>/dev/null)"
