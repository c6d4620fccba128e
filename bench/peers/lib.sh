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

host_kvmscope() {
  local b
  for b in "${KS_BENCH_BIN:-}" "$SRC/build/kvmscope"; do
    [ -n "$b" ] && [ -x "$b" ] && { echo "$b"; return 0; }
  done
  echo "no kvmscope build found: cmake -S $SRC -B $SRC/build && cmake --build $SRC/build -j2 (or KS_BENCH_BIN)" >&2
  return 1
}
