# shellcheck shell=sh
# Sourced inside L1 (busybox sh: there is no bash in the L1 initramfs) by the /extra.sh scripts.
# Results go to /out; l1_save_out writes /out as a tar archive onto the raw results disk (virtio
# /dev/vda under QEMU, IDE /dev/sda under Bochs), which the host unpacks after power-off (lib.sh).

L1_OUT=/out
mkdir -p "$L1_OUT"
L1_DISK=/dev/vda

# l1_load_virtio: insmod the virtio block stack in dependency order (virtio_ring first: virtio
# needs its symbols; a wrong order gives no /dev/vda and no error) and wait for /dev/vda.
l1_load_virtio() {
  for m in virtio_ring virtio virtio_pci_modern_dev virtio_pci_legacy_dev virtio_pci virtio_blk; do
    insmod "/lib/modules/virtio/$m.ko" || echo "L1: insmod $m FAILED"
  done
  n=0
  while [ ! -b /dev/vda ] && [ "$n" -lt 50 ]; do
    sleep 0.1
    n=$((n + 1))
  done
  [ -b /dev/vda ] || echo "L1: /dev/vda did not appear"
}

# l1_load_outdisk: the results disk of either bed: the VMX bed's tree has its ATA modules and
# their load order in /lib/modules/ata/order (Bochs' IDE disk: /dev/sda); otherwise virtio.
l1_load_outdisk() {
  if [ -f /lib/modules/ata/order ]; then
    while read -r m; do
      insmod "/lib/modules/ata/$m.ko" || echo "L1: insmod $m FAILED"
    done </lib/modules/ata/order
    L1_DISK=/dev/sda
    n=0
    while [ ! -b /dev/sda ] && [ "$n" -lt 100 ]; do
      sleep 0.1
      n=$((n + 1))
    done
    [ -b /dev/sda ] || echo "L1: /dev/sda did not appear"
  else
    l1_load_virtio
  fi
}

# l1_save_out: checksum everything under /out, then write the archive onto the results disk.
l1_save_out() {
  (cd "$L1_OUT" && find . -type f ! -name SHA256SUMS | sed 's|^\./||' | sort | xargs sha256sum >/tmp/SHA256SUMS)
  mv /tmp/SHA256SUMS "$L1_OUT/SHA256SUMS"
  if [ -b "$L1_DISK" ]; then
    tar -cf "$L1_DISK" -C "$L1_OUT" . && sync
    echo "L1: results written to $L1_DISK ($(wc -l <"$L1_OUT/SHA256SUMS") files)"
  else
    echo "L1: no $L1_DISK, results are only in this log"
  fi
}

T=/sys/kernel/tracing

# l1_isa_files: /out/isa.txt, which hardware the exits come from (vmx, svm; the host picks its
# expectations by it), and /out/kvm_exit.format, the running kernel's kvm_exit format, whose print
# fmt holds its VMX and SVM reason tables (the names kvmscope must print).
l1_isa_files() {
  if [ -d /sys/module/kvm_intel ]; then echo vmx; elif [ -d /sys/module/kvm_amd ]; then echo svm; else echo none; fi >"$L1_OUT/isa.txt"
  cp "$T/events/kvm/kvm_exit/format" "$L1_OUT/kvm_exit.format"
}
uptime_s() { cut -d' ' -f1 /proc/uptime; }

# l1_beat: one heartbeat line, the one the host's stall watch (ks_watch_stall in lib.sh) waits for.
# l1_heartbeat: one every 10 s of L1 time, in the background: when these stop while QEMU idles,
# L1 no longer gets its timer interrupts.
l1_beat() { echo "=== L1 alive $(uptime_s)"; }
l1_heartbeat() {
  (while sleep 10; do l1_beat; done) &
}
# arg NAME: the value of NAME=VALUE on the kernel command line (how run-*.sh pass options).
arg() { sed -n "s/.*\b$1=\([^ ]*\).*/\1/p" /proc/cmdline; }

# hist_start / hist_stop OUT: count exits in the kernel around one case (tracefs hist triggers,
# the exact reference); removing a trigger frees its table, so every case starts from zero.
HIST_EXIT='hist:keys=isa,exit_reason,vcpu_id:size=4096'
HIST_UEXIT='hist:keys=reason,errno:size=256'
hist_start() {
  echo "$HIST_EXIT" >"$T/events/kvm/kvm_exit/trigger"
  echo "$HIST_UEXIT" >"$T/events/kvm/kvm_userspace_exit/trigger"
}
hist_stop() {
  cat "$T/events/kvm/kvm_exit/hist" >"$1.hist"
  cat "$T/events/kvm/kvm_userspace_exit/hist" >"$1.uhist"
  echo "!$HIST_EXIT" >"$T/events/kvm/kvm_exit/trigger"
  echo "!$HIST_UEXIT" >"$T/events/kvm/kvm_userspace_exit/trigger"
}

# wanted CASE: CASE is among the comma-separated $CASES (kernel argument kscases=), or all run.
wanted() { [ -z "$CASES" ] || echo ",$CASES," | grep -q ",$1,"; }

# l1_timed_case NAME CMD...: run CMD with its stdout/stderr in $L1_OUT/NAME.stdout/.stderr, under
# $TMO seconds (SIGKILL 10 s later), between hist_start and hist_stop (NAME.hist, NAME.uhist);
# writes NAME.rc and NAME.secs and returns CMD's status.
l1_timed_case() {
  _case=$1
  shift
  hist_start
  _t0=$(uptime_s)
  timeout -s KILL $((TMO + 10)) timeout "$TMO" "$@" >"$L1_OUT/$_case.stdout" 2>"$L1_OUT/$_case.stderr"
  _rc=$?
  _t1=$(uptime_s)
  hist_stop "$L1_OUT/$_case"
  echo "$_rc" >"$L1_OUT/$_case.rc"
  echo "$_t0 $_t1" | awk '{ printf "%.2f\n", $2 - $1 }' >"$L1_OUT/$_case.secs"
  return "$_rc"
}
