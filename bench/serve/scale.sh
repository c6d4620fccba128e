#!/usr/bin/env bash
# Scale check of `kvmscope serve` (not a test: it prints numbers). Starts VMS built-in guests of
# VCPUS vCPUs each, all busy (1e9 OUTs per vCPU), serves the whole host, and reports what a
# scrape costs: time (plain and gzip), page size, series, the readout's duration, kvmscope's
# memory and CPU; then ends the guests and checks that the series and memory of ended VMs go
# after the grace period.
#
# The guests run under SCHED_IDLE: they soak up every idle cycle, but do not starve kvmscope
# (or anything else on the machine) the way 1,024 busy threads at normal priority would on a
# small host. What is measured is kvmscope's own cost at this many VMs and series.
#
# TARGET=pids traces only the guests (-p) instead of the whole host (-a, the default), to leave
# other work on a shared machine alone.
#
# usage: [TARGET=pids] bench/serve/scale.sh [KVMSCOPE] [VMS] [VCPUS] [SECONDS]
#        (root; curl, chrt, awk)
set -euo pipefail
bin=${1:-build/kvmscope}
vms=${2:-256}
vcpus=${3:-4}
seconds=${4:-30}
grace=10
target=${TARGET:-all}
work=$(mktemp -d /tmp/kvmscope-serve-scale.XXXXXX)
guests=()
serve_pid=

cleanup() {
  for p in "${guests[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${guests[@]}"; do wait "$p" 2>/dev/null || true; done
  [ -n "$serve_pid" ] && kill -TERM "$serve_pid" 2>/dev/null && wait "$serve_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT


metric() {  # metric NAME_AND_LABELS: its value in a fresh scrape
  curl -s "$url" | awk -v m="$1" 'index($0, m" ") == 1 { print $2 }'
}
status_kb() { awk -v k="$1:" '$1 == k { print $2 }' "/proc/$serve_pid/status"; }
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$serve_pid/stat"; }

echo "kvmscope serve scale check: $vms VMs x $vcpus vCPUs, $(nproc) CPUs, $(uname -r), target: $target"
t0=$(date +%s.%N)
for _ in $(seq "$vms"); do
  # --timeout: a starved guest must not give up as "stalled".
  chrt --idle 0 "$bin" guest --vcpus "$vcpus" --io 1000000000 --timeout 3600 --quiet \
    >/dev/null 2>&1 &
  guests+=($!)
done
if [ "$target" = pids ]; then
  select_args=(-p "$(IFS=,; echo "${guests[*]}")")
else
  select_args=(-a)
fi
"$bin" serve --listen 127.0.0.1:0 --interval 1s --grace ${grace}s "${select_args[@]}" \
  >"$work/serve.log" 2>&1 &
serve_pid=$!
for _ in $(seq 600); do grep -qs serving "$work/serve.log" && break; sleep 0.1; done
port=$(grep -o '127\.0\.0\.1:[0-9]*' "$work/serve.log" | head -1 | cut -d: -f2 || true)
if [ -z "$port" ]; then
  echo "kvmscope serve did not start:" >&2
  cat "$work/serve.log" >&2
  exit 1
fi
url="http://127.0.0.1:$port/metrics"
awk -v n="$vms" -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "started %d guests in %.1f s\n", n, b - a }'

# Every guest exports series once it made its first exits.
for _ in $(seq 300); do
  running=$(metric 'kvmscope_vms{state="running"}')
  [ "${running:-0}" -ge "$vms" ] && break
  sleep 1
done
awk -v n="${running:-0}" -v a="$t0" -v b="$(date +%s.%N)" \
  'BEGIN { printf "VMs exported: %d running, %.0f s after the first guest started\n", n, b - a }'

# Let it run; measure kvmscope's CPU over the window.
c0=$(cpu_ticks)
sleep "$seconds"
c1=$(cpu_ticks)
hz=$(getconf CLK_TCK)

measure() {  # measure WHEN: scrape and readout times over 10 scrapes, one a second
  local plain=() gz=() readout=()
  for _ in $(seq 10); do
    plain+=("$(curl -s -o /dev/null -w '%{time_total} %{size_download}' "$url")")
    gz+=("$(curl -s --compressed -o /dev/null -w '%{time_total} %{size_download}' "$url")")
    readout+=("$(metric kvmscope_readout_duration_seconds)")
    sleep 1
  done
  echo "$1:"
  printf '  scrape, plain (s):  %s   %s bytes\n' "$(printf '%s\n' "${plain[@]}" | cut -d' ' -f1 | stats)" "$(echo "${plain[0]}" | cut -d' ' -f2)"
  printf '  scrape, gzip  (s):  %s   %s bytes\n' "$(printf '%s\n' "${gz[@]}" | cut -d' ' -f1 | stats)" "$(echo "${gz[-1]}" | cut -d' ' -f2)"
  printf '  readout (maps + series, s): %s\n' "$(printf '%s\n' "${readout[@]}" | stats)"
}
stats() {  # stats: min median max of the numbers on stdin
  sort -g | awk '{ v[NR] = $1 } END { printf "min %.4f  median %.4f  max %.4f", v[1], v[int((NR + 1) / 2)], v[NR] }'
}

curl -s "$url" >"$work/page.txt"
echo "page: $(wc -c <"$work/page.txt") bytes, $(grep -c '^kvmscope_' "$work/page.txt") samples" \
  "($(grep -c '^kvmscope_exits_total{' "$work/page.txt") exits_total," \
  "$(grep -c '^kvmscope_exit_handling_seconds_bucket{' "$work/page.txt") histogram buckets)"
printf 'kvmscope: RSS %s kB, peak %s kB, CPU %.1f%% of one core over %d s (readout every 1 s)\n' \
  "$(status_kb VmRSS)" "$(status_kb VmHWM)" "$(awk -v d=$((c1 - c0)) -v hz="$hz" -v s="$seconds" 'BEGIN { print d * 100 / hz / s }')" "$seconds"
echo "collector: exits not stored $(metric kvmscope_collector_exits_not_stored_total), threads not stored $(metric kvmscope_collector_threads_not_stored_total)"
measure "with all $((vms * vcpus)) vCPUs busy (SCHED_IDLE)"
# The same series with the guests frozen: kvmscope's own cost without 1,000 runnable threads.
for p in "${guests[@]}"; do kill -STOP "$p" 2>/dev/null || true; done
sleep 2
measure "with the guests stopped (SIGSTOP; still running VMs to kvmscope)"
for p in "${guests[@]}"; do kill -CONT "$p" 2>/dev/null || true; done

# End the guests: their series stay for the grace period, then go (and their map entries).
for p in "${guests[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
for p in "${guests[@]}"; do wait "$p" 2>/dev/null || true; done
guests=()
sleep 2
echo "guests ended: VMs running $(metric 'kvmscope_vms{state="running"}'), ended $(metric 'kvmscope_vms{state="ended"}')"
sleep $((grace + 3))
left=$(curl -s "$url" | grep -c '^kvmscope_exits_total{' || true)
echo "after the ${grace} s grace: VMs ended $(metric 'kvmscope_vms{state="ended"}'), exits_total series left $left, RSS $(status_kb VmRSS) kB"
