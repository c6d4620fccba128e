#!/bin/bash
# PID 1 of the peers' L1 (after stage1-init's switch_root into the debootstrap image): mount what
# the tracers need, run every case in /opt/peers-run/cases/*.sh in name order, and bring the
# results out as a tar archive on the raw virtio disk /dev/vdb, like tests/nested does.
#
# A case is a bash script; it runs in its own output directory $CASE_OUT (= /out/<case>) with
# stdout, stderr, rc and secs saved there, under the limit given by a "# timeout: SECONDS" line
# (default 600; SIGTERM, then SIGKILL 15 s later). Cases source /opt/peers-run/l1-lib.sh for
# helpers. The archive is rewritten after every case, so a later hang loses nothing before it.
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/root LANG=C.UTF-8 TERM=dumb
R=/opt/peers-run
OUT=/out

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t tmpfs tmpfs /tmp
mount -t tmpfs tmpfs /run
mkdir -p /dev/pts /dev/shm && mount -t devpts devpts /dev/pts && mount -t tmpfs tmpfs /dev/shm
mount -t tracefs tracefs /sys/kernel/tracing
mount -t debugfs debugfs /sys/kernel/debug
mount -t bpf bpf /sys/fs/bpf
ln -sf /proc/self/fd /dev/fd 2>/dev/null
mount -o remount,rw / 2>/dev/null
hostname l1 2>/dev/null
ulimit -l unlimited
install -m 0755 "$R/kvmscope" /usr/local/bin/kvmscope
mkdir -p "$OUT"

uptime_s() { cut -d' ' -f1 /proc/uptime; }

save_out() {
  (cd "$OUT" && find . -type f ! -name SHA256SUMS | sed 's|^\./||' | sort | xargs -r sha256sum) >/tmp/SHA256SUMS
  mv /tmp/SHA256SUMS "$OUT/SHA256SUMS"
  if [ -b /dev/vdb ]; then
    tar -cf /dev/vdb -C "$OUT" . && sync
  else
    echo "L1: no /dev/vdb, results are only in this log"
  fi
}

{
  echo "l1_kernel $(uname -r)"
  echo "l1_cpu $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2-)"
  echo "l1_cpus $(nproc)"
  echo "l1_mem_kb $(awk '/MemTotal/{print $2}' /proc/meminfo)"
  echo "kvmscope $(kvmscope --version 2>&1 | head -1)"
  echo "perf $(perf version 2>&1 | head -1)"
  echo "bcc $(dpkg-query -W -f '${Version}' bpfcc-tools 2>&1)"
  echo "qemu $(qemu-system-x86_64 --version 2>&1 | head -1)"
  echo "trace-cmd $(trace-cmd --version 2>&1 | grep -m1 version)"
  echo "rootfs $(cat /etc/kvmscope-peers)"
  echo "kvm_amd_npt $(cat /sys/module/kvm_amd/parameters/npt 2>&1)"
} >"$OUT/l1-info.txt"
echo "=== PEERS START uptime $(uptime_s)s"
cat "$OUT/l1-info.txt"
[ -c /dev/kvm ] || echo "L1: /dev/kvm missing: kvm_amd did not load"

for case in "$R"/cases/*.sh; do
  [ -f "$case" ] || continue
  name=$(basename "$case" .sh)
  tmo=$(sed -n 's/^# timeout: *\([0-9][0-9]*\).*/\1/p' "$case" | head -1)
  tmo=${tmo:-600}
  mkdir -p "$OUT/$name"
  echo "=== PEERS BEGIN $name (timeout ${tmo}s) uptime $(uptime_s)s"
  t0=$(uptime_s)
  (cd "$OUT/$name" && CASE_OUT=$OUT/$name timeout -k 15 "$tmo" bash "$case" >stdout 2>stderr)
  rc=$?
  t1=$(uptime_s)
  echo "$rc" >"$OUT/$name/rc"
  awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f\n", b - a }' >"$OUT/$name/secs"
  tail -n 25 "$OUT/$name/stdout"
  tail -n 8 "$OUT/$name/stderr" | sed 's/^/stderr: /'
  echo "=== PEERS END $name rc=$rc secs=$(cat "$OUT/$name/secs")"
  save_out
done
dmesg >"$OUT/dmesg.txt"
uptime_s >"$OUT/done.txt"
save_out
echo "=== PEERS DONE uptime $(uptime_s)s"
sync
echo o >/proc/sysrq-trigger
sleep 10
