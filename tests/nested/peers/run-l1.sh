#!/bin/bash
# Boot the peers' L1 and run a directory of cases in it; bring the results back to the host.
#
#   tests/nested/peers/run-l1.sh CASES_DIR OUT_DIR
#
# L1 = the nested bed's Debian 6.1 kernel with kvm_amd under QEMU TCG -cpu max (same QEMU flags
# as the SVM bed tests/beds/svm), root filesystem = build-rootfs.sh's cached image (perf, bcc, bpftool,
# kvm_stat, qemu, trace-cmd; opened with snapshot=on, so it stays pristine), kvmscope = a static
# build of this tree carried with the runner and the cases in a small initramfs (stage1-init).
# CASES_DIR holds NN-name.sh bash scripts (see l1-runner.sh); anything else in it travels along
# and is found in L1 under /opt/peers-run/cases/. OUT_DIR receives one directory per case
# (stdout, stderr, rc, secs, and what the case wrote) plus l1-info.txt, dmesg.txt and the
# serial log, checked against sha256 sums made inside L1.
#
# Env: KS_PEERS_BIN     a static kvmscope to use (default: build one in <src>/build-peers-static)
#      KS_PEERS_WORK    cache dir (default /tmp/kvmscope-peers), KS_NESTED_WORK the bed
#      KS_PEERS_TIMEOUT seconds for the whole L1 run (default 3000)
#      KS_PEERS_MEM     L1 memory (default 4G), KS_PEERS_OUT_SIZE results disk (default 2G)
#      KS_PEERS_ICOUNT  QEMU's -icount option, e.g. shift=0,sleep=off: L1's clocks (TSC, HPET,
#                       timers) then count guest instructions (2^shift ns each) instead of host
#                       time, as in the Bochs VMX bed, so a loaded host no longer changes what L1
#                       measures (rates, bpf_stats); single-threaded TCG. Default: host time
# Exit: 0 = L1 powered off and every case's files came back; 1 = not; 77 = cannot run here.
set -euo pipefail
[ $# -ge 2 ] || {
  echo "usage: $0 CASES_DIR OUT_DIR" >&2
  exit 2
}
HERE=$(cd "$(dirname "$0")" && pwd)
SRC=$(cd "$HERE/../../.." && pwd)
CASES=$(cd "$1" && pwd)
mkdir -p "$2"
OUTDIR=$(cd "$2" && pwd)
# shellcheck source=../lib.sh
. "$SRC/tests/nested/lib.sh"
WORK=${KS_PEERS_WORK:-/tmp/kvmscope-peers}
KS_WORK=${KS_NESTED_WORK:-/tmp/kvmscope-testbed}
export KS_PEERS_WORK=$WORK KS_NESTED_WORK=$KS_WORK

IMG=$("$HERE/build-rootfs.sh" | tail -1)
[ -f "$IMG" ] || ks_die "no root filesystem image"
ks_prepare_bed "$SRC/tests/beds/svm" >/dev/null

# Messages to stderr: bench scripts may read this script's output.
ks_static_kvmscope "$SRC" "$SRC/build-peers-static" "$SRC/build-peers-static/peers-build.log" \
  "${KS_PEERS_BIN:-}" >&2

# The small initramfs: busybox, the modules stage 1 loads, and the payload.
P=$(mktemp -d "$WORK/payload.XXXXXX")
trap 'rm -rf "$P"' EXIT
mkdir -p "$P"/{bin,dev,proc,sys,newroot,lib/modules,peers/cases}
cp /bin/busybox "$P/bin/busybox"
for a in sh mount umount insmod sleep mkdir rm cp cat cut ls echo switch_root; do ln -s busybox "$P/bin/$a"; done
for m in drivers/virtio/virtio_ring.ko drivers/virtio/virtio.ko drivers/virtio/virtio_pci_modern_dev.ko \
  drivers/virtio/virtio_pci_legacy_dev.ko drivers/virtio/virtio_pci.ko drivers/block/virtio_blk.ko \
  lib/crc16.ko fs/mbcache.ko fs/jbd2/jbd2.ko crypto/crc32c_generic.ko fs/ext4/ext4.ko \
  virt/lib/irqbypass.ko arch/x86/kvm/kvm.ko drivers/crypto/ccp/ccp.ko arch/x86/kvm/kvm-amd.ko; do
  ks_copy_module "$m" "$P/lib/modules"
done
install -m 0755 "$HERE/stage1-init" "$P/init"
strip -o "$P/peers/kvmscope" "$BIN"
install -m 0755 "$HERE/l1-runner.sh" "$HERE/l1-lib.sh" "$P/peers/"
install -m 0644 "$HERE/../l1-lib.sh" "$P/peers/nested-l1-lib.sh"
cp -a "$CASES/." "$P/peers/cases/"
# An L2 initramfs for cases that boot a Linux guest inside L1 (tests/beds/svm/l2-init).
mkdir -p "$P/l2/bin" "$P/l2/proc" "$P/l2/sys" "$P/l2/dev"
cp /bin/busybox "$P/l2/bin/busybox"
for a in sh mount cut poweroff echo cat; do ln -s busybox "$P/l2/bin/$a"; done
install -m 0755 "$SRC/tests/beds/svm/l2-init" "$P/l2/init"
(cd "$P/l2" && find . -print0 | cpio --null -o -H newc --quiet | gzip -1) >"$P/peers/l2-initrd.gz"
rm -rf "$P/l2"
INITRD=$WORK/payload-$$.cpio.gz
(cd "$P" && find . -print0 | cpio --null -o -H newc --quiet | gzip -1) >"$INITRD"

DISK=$WORK/out-$$.img
rm -f "$DISK"
truncate -s "${KS_PEERS_OUT_SIZE:-2G}" "$DISK"
LOG=$OUTDIR/serial.log
TMO=${KS_PEERS_TIMEOUT:-3000}
t0=$(ks_now)
accel=(-accel tcg)
[ -n "${KS_PEERS_ICOUNT:-}" ] && accel=(-accel tcg,thread=single -icount "$KS_PEERS_ICOUNT")
echo "== booting L1 (TCG -cpu ${CPU:-max}${KS_PEERS_ICOUNT:+, -icount $KS_PEERS_ICOUNT}, ${KS_PEERS_MEM:-4G}, root $IMG, timeout ${TMO}s, log $LOG)" >&2
rc=0
timeout "$TMO" qemu-system-x86_64 \
  "${accel[@]}" -cpu "${CPU:-max}" -smp 1 -m "${KS_PEERS_MEM:-4G}" \
  -kernel "$KS_WORK/vmlinuz" -initrd "$INITRD" \
  -append "console=ttyS0 panic=-1 quiet loglevel=4" \
  -nographic -no-reboot -serial file:"$LOG" -monitor none -display none -nic none \
  -drive file="$IMG",format=raw,if=virtio,snapshot=on \
  -drive file="$DISK",format=raw,if=virtio || rc=$?
echo "== L1 ran $(ks_elapsed "$t0") s (qemu rc=$rc)" >&2
rm -f "$INITRD"
log_keep=$(mktemp)
cp "$LOG" "$log_keep"
if ! ks_unpack_disk "$DISK" "$OUTDIR"; then
  mv "$log_keep" "$LOG"
  rm -f "$DISK"
  echo "ERROR: no verified results came back from L1; tail of $LOG:" >&2
  tail -40 "$LOG" >&2
  exit 1
fi
mv "$log_keep" "$LOG"
rm -f "$DISK"
missing=0
for c in "$CASES"/*.sh; do
  n=$(basename "$c" .sh)
  [ -f "$OUTDIR/$n/rc" ] || { echo "ERROR: case $n left no results" >&2; missing=1; }
done
[ "$rc" = 0 ] && [ "$missing" = 0 ]
