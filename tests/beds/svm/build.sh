#!/bin/bash
# Builds the nested SVM test bed into $WORK (default /tmp/kvmscope-testbed): Debian's 6.1 kernel
# (downloaded with apt-get download and unpacked, never installed: ../lib.sh, shared with the VMX
# bed) and an L1 initramfs tree of busybox, the kvm/kvm_amd modules, this folder's init and a
# static kvmtest. The runners (tests/nested/lib.sh, ks_prepare_bed) call it when $WORK is missing
# or was built from other inputs.
set -euo pipefail
WORK=${WORK:-/tmp/kvmscope-testbed}
BED=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=SCRIPTDIR/../lib.sh
. "$BED/../lib.sh"
mkdir -p "$WORK"
cd "$WORK"

missing=()
command -v qemu-system-x86_64 >/dev/null || missing+=(qemu-system-x86)
[ -x /bin/busybox ] || missing+=(busybox-static)
command -v cpio >/dev/null || missing+=(cpio)
command -v gcc >/dev/null || missing+=(gcc libc6-dev)
bed_install "${missing[@]}"

bed_fetch_kernel "$WORK"
bed_busybox_tree initramfs
# Load order: irqbypass before kvm, ccp before kvm-amd (the init loads them in this order).
for ko in virt/lib/irqbypass.ko arch/x86/kvm/kvm.ko drivers/crypto/ccp/ccp.ko arch/x86/kvm/kvm-amd.ko; do
  bed_copy_module "$BED_MODDIR" "$ko" initramfs/lib/modules
done
gcc -static -O2 -Wall -Werror -o initramfs/bin/kvmtest "$BED/kvmtest.c"
install -m 0755 "$BED/init" initramfs/init
# ks_bed_ready compares this with the inputs' digest (tests/nested/lib.sh: ks_bed_key).
echo "${KS_BED_KEY:-}" >"$WORK/bed-key"
echo "built the bed in $WORK (L1 kernel $BED_KVER)"
