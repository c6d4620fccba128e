# shellcheck shell=bash
# Shared by the bench/peers/*.sh scripts (sourced): paths, and running a set of L1 cases.
# These are benchmarks, not tests: they print what they measured, ratios and whether the target
# was met; nothing here is run by CTest.
set -euo pipefail
PEERS_BENCH=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SRC=$(cd "$PEERS_BENCH/../.." && pwd)
PEERS_L1=$SRC/tests/nested/peers
PY=$PEERS_BENCH/peers.py
# Results of every run are kept here (cases, L1 outputs, serial log).
RESULTS=${KS_BENCH_RESULTS:-$SRC/build-bench-peers}
mkdir -p "$RESULTS"

# run_l1_cases NAME CASES_DIR: boot the peers' L1 with these cases; outputs in $RESULTS/NAME.
run_l1_cases() {
  local name=$1 cases=$2 rc=0
  echo "== L1 run '$name': $(find "$cases" -maxdepth 1 -name '*.sh' | wc -l) cases; outputs in $RESULTS/$name"
  "$PEERS_L1/run-l1.sh" "$cases" "$RESULTS/$name" || rc=$?
  [ "$rc" = 77 ] && exit 77
  [ "$rc" = 0 ] || echo "WARNING: L1 run '$name' did not complete cleanly (rc=$rc); using what came back"
  return 0
}

# build_bpf_floor DIR [static]: the calibration and floor programs (bpf_floor.bpf.c) and their
# loader (bpf_floor.c) into DIR; "static" for L1, which has no libbpf.
build_bpf_floor() {
  local dir=$1
  clang -O2 -g -target bpf -I"$SRC/src" -I/usr/include/x86_64-linux-gnu -c "$PEERS_BENCH/bpf_floor.bpf.c" \
    -o "$dir/bpf_floor.bpf.o"
  if [ "${2:-}" = static ]; then
    gcc -O2 -Wall -static "$PEERS_BENCH/bpf_floor.c" -lbpf -lelf -lz -lzstd -o "$dir/bpf_floor"
  else
    gcc -O2 -Wall "$PEERS_BENCH/bpf_floor.c" -lbpf -o "$dir/bpf_floor"
  fi
}

host_kvmscope() {
  local b
  for b in "${KS_BENCH_BIN:-}" "$SRC/build/kvmscope"; do
    [ -n "$b" ] && [ -x "$b" ] && { echo "$b"; return 0; }
  done
  echo "no kvmscope build found: cmake -S $SRC -B $SRC/build && cmake --build $SRC/build -j2 (or KS_BENCH_BIN)" >&2
  return 1
}
