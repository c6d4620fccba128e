#!/bin/bash
# Builds the nested VMX test bed into $WORK (default /tmp/kvmscope-testbed/vmx): Debian's 6.1
# kernel (../lib.sh: downloaded once into $KS_KERNEL_CACHE, the SVM bed's folder, and linked here)
# and an L1 initramfs tree of busybox, the kvm/kvm_intel modules, the ATA disk modules (results
# come out on an IDE disk: Bochs has no virtio), this folder's init, and the Bochs and GRUB
# templates the runners fill in (tests/nested/lib.sh: ks_boot_bochs). The runners
# (ks_prepare_bed) call it when $WORK is missing or was built from other inputs.
set -euo pipefail
WORK=${WORK:-/tmp/kvmscope-testbed/vmx}
BED=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=SCRIPTDIR/../lib.sh
. "$BED/../lib.sh"
mkdir -p "$WORK"
cd "$WORK"

# Bochs 2.7 as Debian builds it (--enable-vmx=2: VMX with EPT and unrestricted guests); its BIOS
# and VGA BIOS; GRUB for a BIOS-bootable ISO (Bochs loads no kernel by itself).
missing=()
# bochs needs one GUI package; bochs-term is the smallest (the bed's VNC display is built in).
command -v bochs >/dev/null || missing+=(bochs bochs-term)
[ -e /usr/share/bochs/BIOS-bochs-latest ] || missing+=(bochsbios)
[ -e /usr/share/vgabios/vgabios.bin ] || missing+=(vgabios)
[ -d /usr/lib/grub/i386-pc ] || missing+=(grub-pc-bin)
command -v grub-mkrescue >/dev/null || missing+=(grub-common)
command -v xorriso >/dev/null || missing+=(xorriso)
command -v mformat >/dev/null || missing+=(mtools)
[ -x /bin/busybox ] || missing+=(busybox-static)
command -v cpio >/dev/null || missing+=(cpio)
command -v strings >/dev/null || missing+=(binutils)
bed_install "${missing[@]}"

bed_fetch_kernel "$WORK"
bed_busybox_tree initramfs
# lib/modules/kvm/order and lib/modules/ata/order: the load order (dependencies first).
bed_modules "$BED_MODDIR" initramfs/lib/modules/kvm kvm-intel
bed_modules "$BED_MODDIR" initramfs/lib/modules/ata ata_piix sd_mod
install -m 0755 "$BED/init" initramfs/init
cp "$BED/bochsrc.in" "$BED/grub.cfg.in" "$WORK/"
# ks_bed_ready compares this with the inputs' digest (tests/nested/lib.sh: ks_bed_key).
echo "${KS_BED_KEY:-}" >"$WORK/bed-key"
echo "built the VMX bed in $WORK (L1 kernel $BED_KVER;" \
  "modules: $(cat initramfs/lib/modules/kvm/order initramfs/lib/modules/ata/order | tr '\n' ' '))"
