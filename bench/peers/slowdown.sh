#!/bin/bash
# Guest slowdown: exits/s of the built-in guest (it prints its own rate) untraced and under each
# tracer, inside the nested SVM L1 (real kvm_exit/kvm_entry): kvmscope stat (default, and with
# --share-tracepoints), perf kvm stat record, perf kvm stat live, kvmexit-bpfcc (made to run on
# AMD, see tests/nested/peers/l1-lib.sh) and kvm_stat's per-reason counting. Rounds are
# interleaved (each round runs every configuration, the order rotating), medians over rounds,
# printed as ratios to untraced. Target: kvmscope's slowdown (1 - ratio) at most half of the
# best peer's.
#
#   bench/peers/slowdown.sh
# Env: SLOW_ROUNDS (default 5), SLOW_GUEST (default "--cpuid 50000 --io 5000 --hlt 5000"),
#      SLOW_TRACERS (default all), SLOW_BASE_BIN (a static kvmscope to compare as tracer
#      kvmscope-base, e.g. the last release's: carried stripped into L1 with the cases; name
#      kvmscope-base-counts in SLOW_TRACERS for its --counts-only too).
# Tracers floor-* (l1-tracers.sh) are no tool but the floor of a hook: empty BPF programs on
# kvm_exit (and kvm_entry), tp_btf or classic, from bpf_floor.bpf.c, built here and carried along.
. "$(dirname "$0")/lib.sh"

ROUNDS=${SLOW_ROUNDS:-5}
GUEST=${SLOW_GUEST:---cpuid 50000 --io 5000 --hlt 5000}
TRACERS=${SLOW_TRACERS:-none kvmscope kvmscope-counts kvmscope-classic kvmscope-share perf-record perf-live kvmexit kvm_stat}
CASES=$RESULTS/slowdown-cases
rm -rf "$CASES" && mkdir -p "$CASES"
cp "$PEERS_BENCH/l1-tracers.sh" "$CASES/tracers.lib"
if [ -n "${SLOW_BASE_BIN:-}" ]; then
  strip -o "$CASES/kvmscope-base" "$SLOW_BASE_BIN"
  case " $TRACERS " in *" kvmscope-base "*) ;; *) TRACERS="$TRACERS kvmscope-base" ;; esac
fi

case " $TRACERS " in *" floor-"*) build_bpf_floor "$CASES" static ;; esac

read -r -a T <<<"$TRACERS"
n=${#T[@]}
for r in $(seq 1 "$ROUNDS"); do
  order=()
  for i in $(seq 0 $((n - 1))); do order+=("${T[$(((i + r) % n))]}"); done
  f=$CASES/$(printf '%02d' $((10 + r)))-round$r.sh
  {
    echo "# timeout: 2400"
    echo ". /opt/peers-run/cases/tracers.lib"
    for t in "${order[@]}"; do
      echo "echo \"== $t\"; under $t $t kvmscope guest $GUEST >$t.guest 2>&1; echo \"rc=\$?\"; grep 'exits/s' $t.guest"
    done
  } >"$f"
done

# kvmexit-bpfcc as packaged (raw tracepoint): shown once, it counts nothing on 6.1.
[ "${SLOW_RAW:-1}" = 1 ] && cat >"$CASES/90-kvmexit-raw.sh" <<EOF
# timeout: 1500
. /opt/peers-run/cases/tracers.lib
under kvmexit-raw kvmexit-raw kvmscope guest --cpuid 5000 --io 500 --hlt 500 >kvmexit-raw.guest 2>&1
grep exits/s kvmexit-raw.guest
cat kvmexit-raw.tracer.out
EOF

export KS_PEERS_TIMEOUT=${KS_PEERS_TIMEOUT:-7200}
run_l1_cases slowdown "$CASES"
python3 "$PY" slowdown "$RESULTS/slowdown" --tracers "$TRACERS"
