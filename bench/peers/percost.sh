#!/bin/bash
# Per-event cost of the BPF programs: with kernel.bpf_stats_enabled=1 the kernel times every run
# of every BPF program; `bpftool prog show` gives run_time_ns and run_cnt. Before and after each
# guest run (5 runs, medians) the difference gives ns per event, per program.
#   1. this host (kvm_pvm: kvm_userspace_exit, KVM_RUN ioctls, kvm_pio/_mmio/_msr/_cpuid fire;
#      kvm_exit/kvm_entry never do): kvmscope stat -a, default and --by all (drill-downs).
#   2. the nested SVM L1 (real kvm_exit/kvm_entry): kvmscope stat -a and kvmexit-bpfcc attached
#      at the same time to the same guest run.
# Target: <= 100 ns per event on this host. PERCOST_BASE_BIN: an older static kvmscope measured
# in the same L1 run as "base" (before/after), with PERCOST_BASE_ARGS (e.g. --counts-only) in L1.
#
#   bench/peers/percost.sh          PERCOST_L1=0 for the host part only, PERCOST_HOST=0 for L1 only
. "$(dirname "$0")/lib.sh"
KS=$(host_kvmscope)
ROUNDS=${PERCOST_ROUNDS:-5}
HOST_GUEST=${PERCOST_HOST_GUEST:---cpuid 20000 --io 100000 --hlt 20000 --msr-read 20000 --mmio 20000}
L1_GUEST=${PERCOST_L1_GUEST:---cpuid 50000 --io 5000 --hlt 5000}
OUT=$RESULTS/percost-host
rm -rf "$OUT" && mkdir -p "$OUT"

if [ "${PERCOST_HOST:-1}" = 1 ] && [ "$(id -u)" = 0 ] && [ -c /dev/kvm ]; then
  old=$(sysctl -n kernel.bpf_stats_enabled)
  restore() { sysctl -q -w kernel.bpf_stats_enabled="$old"; }
  trap restore EXIT
  # The calibration programs (bpf_floor.bpf.c): what each building block costs here.
  build_bpf_floor "$OUT"
  sysctl -q -w kernel.bpf_stats_enabled=1
  CFGS="default byall counts floor"
  [ -n "${PERCOST_BASE_BIN:-}" ] && CFGS="$CFGS base base_byall"
  echo "== host $(uname -r): kvmscope guest $HOST_GUEST, $ROUNDS rounds, $CFGS"
  for r in $(seq "$ROUNDS"); do
    for cfg in $CFGS; do
      args=()
      ks=$KS
      case $cfg in
        byall) args=(--by all) ;;
        counts) args=(--counts-only) ;;
        base) ks=$PERCOST_BASE_BIN ;;
        base_byall) ks=$PERCOST_BASE_BIN args=(--by all) ;;
      esac
      p=$OUT/$cfg-$r
      if [ $cfg = floor ]; then
        /usr/bin/time -v -o "$p.time" "$OUT/bpf_floor" "$OUT/bpf_floor.bpf.o" >/dev/null &
      else
        /usr/bin/time -v -o "$p.time" "$ks" stat -a "${args[@]}" -o "$p.table" &
      fi
      tpid=$!
      kpid=
      while [ -z "$kpid" ]; do kpid=$(pgrep -P $tpid | head -1 || true); done  # none yet: set -e must not end the script
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
if [ -n "${PERCOST_BASE_BIN:-}" ]; then strip -o "$CASES/kvmscope-base" "$PERCOST_BASE_BIN"; fi
# The calibration programs in L1 too (PERCOST_L1_FLOOR=1): a static bpf_floor (L1 has no
# libbpf) and its object travel with the cases; they run on kvm_userspace_exit as on the host.
if [ "${PERCOST_L1_FLOOR:-0}" = 1 ]; then
  build_bpf_floor "$CASES" static
fi
# kvmexit-bpfcc stays attached throughout; kvmscope runs once per configuration (tp_btf hooks,
# --counts-only, the classic tracepoints, and PERCOST_BASE_BIN as "base" where given), each for
# ROUNDS guest runs. Files: <config>-<round>.{before,after}.json, <config>-<round>.owners.
cat >"$CASES/10-percost.sh" <<EOF
# timeout: 3600
. /opt/peers-run/cases/tracers.lib
sysctl -q -w kernel.bpf_stats_enabled=1
bg_tracer kvmexit 'Display kvm exit reasons' 900 python3 "\$KVMEXIT"
for cfg in btf counts classic base; do
  ks=kvmscope; args=""; env=""
  case \$cfg in
    counts) args=--counts-only ;;
    classic) env=KVMSCOPE_TRACEPOINTS=classic ;;
    base) ks=/opt/peers-run/cases/kvmscope-base; args="${PERCOST_BASE_ARGS:-}"; [ -x \$ks ] || continue ;;
  esac
  env \$env /usr/bin/time -v -o \$cfg.time \$ks stat -a \$args -o \$cfg.table &
  ktime=\$!
  kpid=\$(child_of \$ktime)
  wait_bpf_prog on_userspace_exit 120
  sleep 1
  { bpf_owners kvmscope \$kpid; bpf_owners kvmexit \$BG_PID; } >owners
  cat owners
  for r in \$(seq $ROUNDS); do
    bpftool prog show --json >\$cfg-\$r.before.json
    kvmscope guest $L1_GUEST >\$cfg-guest\$r.out
    bpftool prog show --json >\$cfg-\$r.after.json
    grep exits/s \$cfg-guest\$r.out
    cp owners \$cfg-\$r.owners
  done
  stop_and_wait \$kpid 120 \$ktime
done
if [ -x /opt/peers-run/cases/bpf_floor ]; then
  /opt/peers-run/cases/bpf_floor /opt/peers-run/cases/bpf_floor.bpf.o >floor.out &
  fpid=\$!
  wait_bpf_prog f0_empty 120
  sleep 1
  { bpf_owners calibration \$fpid; bpf_owners kvmexit \$BG_PID; } >owners
  for r in \$(seq $ROUNDS); do
    bpftool prog show --json >floor-\$r.before.json
    kvmscope guest $L1_GUEST >floor-guest\$r.out
    bpftool prog show --json >floor-\$r.after.json
    cp owners floor-\$r.owners
  done
  kill -INT \$fpid; wait \$fpid
fi
bg_stop 600
EOF
run_l1_cases percost "$CASES"
python3 "$PY" percost "$RESULTS/percost/10-percost" --label "nested L1 $(sed -n 's/^l1_kernel //p' "$RESULTS/percost/l1-info.txt" 2>/dev/null)"
