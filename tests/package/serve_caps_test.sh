#!/usr/bin/env bash
# The capabilities kvmscope-serve.service grants are enough: `kvmscope serve` runs as a user that
# is not root, with no_new_privs, and only the unit's AmbientCapabilities (those this host's
# bounding set has: CAP_SYS_RESOURCE is for kernels before 5.11), as systemd would start it
# (DynamicUser: an unprivileged uid); a `kvmscope guest --io 123` is then counted exactly in
# /metrics. The unit's sandboxing (ProtectSystem, SystemCallFilter, ...) needs systemd as init and
# is checked by systemd-analyze verify (install_tree_test.sh, deb_test.sh) only.
# Usage: serve_caps_test.sh KVMSCOPE_BINARY UNIT_TEMPLATE     exit 77 (skipped) where it cannot run
set -uo pipefail
bin=$1 unit=$2
[ "$(id -u)" = 0 ] || { echo "SKIPPED: needs root (to hand the capabilities to another uid)"; exit 77; }
command -v setpriv >/dev/null || { echo "SKIPPED: setpriv (util-linux) missing"; exit 77; }
[ -w /dev/kvm ] || { echo "SKIPPED: no /dev/kvm"; exit 77; }
command -v curl >/dev/null || { echo "SKIPPED: curl missing"; exit 77; }

# "CAP_BPF CAP_PERFMON ..." -> "bpf perfmon ...", less those this host cannot grant at all.
bounding=$(awk '/^CapBnd:/ { print $2 }' /proc/self/status)
caps=()
for cap in $(sed -n 's/^AmbientCapabilities=//p' "$unit"); do
  name=$(echo "${cap#CAP_}" | tr 'A-Z' 'a-z')
  num=$(grep -w "define CAP_${cap#CAP_}" /usr/include/linux/capability.h | awk '{ print $3 }')
  if [ -n "$num" ] && (((0x$bounding >> num) & 1)); then caps+=("+$name"); else echo "note: $cap is not in this host's bounding set: left out"; fi
done
[ ${#caps[@]} -gt 0 ] || { echo "FAIL: no AmbientCapabilities= in $unit"; exit 1; }
list=$(IFS=,; echo "${caps[*]}")
echo "serve as uid 61234 with $list"

work=$(mktemp -d)
cp "$bin" "$work/kvmscope" && chmod 755 "$work" "$work/kvmscope"
setpriv --reuid=61234 --regid=61234 --clear-groups --inh-caps="$list" --ambient-caps="$list" \
  --bounding-set=-all,"$list" --no-new-privs "$work/kvmscope" serve --listen 127.0.0.1:0 \
  --duration 60 >"$work/out" 2>"$work/err" &
serve=$!
trap 'kill $serve 2>/dev/null; wait $serve 2>/dev/null; rm -rf "$work"' EXIT
url=
for _ in $(seq 100); do
  url=$(grep -o 'http://127.0.0.1:[0-9]*/metrics' "$work/out" "$work/err" 2>/dev/null | head -1 | cut -d: -f2-)
  [ -n "$url" ] && break
  kill -0 $serve 2>/dev/null || break
  sleep 0.1
done
[ -n "$url" ] || { cat "$work/out" "$work/err"; echo "FAIL: serve did not start with $list"; exit 1; }
"$bin" guest --io 123 --quiet >"$work/guest.out" 2>&1 &
guest=$!
wait $guest || { cat "$work/guest.out"; echo "FAIL: kvmscope guest failed"; exit 1; }
sleep 2.5 # two readouts (--interval 1s)
line=$(curl -s "$url" | grep "^kvmscope_exits_total{.*vm_pid=\"$guest\".*reason=\"KVM_EXIT_IO\"")
echo "$line"
[ "${line##* }" = 123 ] || { cat "$work/err"; echo "FAIL: expected 123 KVM_EXIT_IO exits of pid $guest"; exit 1; }
echo "ok   serve counted the guest's 123 exits with only $list"
