#!/bin/bash
# Builds the nested SVM test bed into $WORK (default /tmp/kvmscope-testbed): Debian's 6.1 kernel
# (downloaded with apt-get download and unpacked, never installed) and an L1 initramfs tree of
# busybox, the kvm/kvm_amd modules, this folder's init and a static kvmtest. The runners
# (tests/nested/lib.sh, ks_prepare_bed) call it when $WORK is missing or was built from other inputs.
set -euo pipefail
WORK=${WORK:-/tmp/kvmscope-testbed}
BED=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$WORK"
cd "$WORK"

missing=()
command -v qemu-system-x86_64 >/dev/null || missing+=(qemu-system-x86)
[ -x /bin/busybox ] || missing+=(busybox-static)
command -v cpio >/dev/null || missing+=(cpio)
command -v gcc >/dev/null || missing+=(gcc libc6-dev)
if [ ${#missing[@]} -gt 0 ]; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# The L1 kernel: the newest linux-image-6.1 package that linux-image-amd64 depends on.
if ! compgen -G "kernel/boot/vmlinuz-*" >/dev/null; then
  pkg=$(apt-cache depends linux-image-amd64 | awk '/Depends: linux-image-[0-9]/ { print $2; exit }')
  [ -n "$pkg" ] || { echo "build.sh: apt-cache names no linux-image package (apt-get update?)" >&2; exit 1; }
  rm -rf debs kernel && mkdir -p debs
  (cd debs && apt-get download "$pkg")
  dpkg-deb -x debs/"$pkg"_*.deb kernel
fi
kver=$(basename "$(ls -d kernel/lib/modules/*)")
ln -sf "$(ls "$WORK"/kernel/boot/vmlinuz-*)" "$WORK/vmlinuz"
mods=kernel/lib/modules/$kver/kernel

rm -rf initramfs
mkdir -p initramfs/{bin,dev,proc,sys,tmp,lib/modules}
cp /bin/busybox initramfs/bin/
for applet in $(/bin/busybox --list); do
  [ "$applet" = busybox ] || ln -sf busybox "initramfs/bin/$applet"
done
# Load order (modules.dep): irqbypass before kvm, ccp before kvm-amd. busybox insmod reads plain
# ELF only, so compressed modules are unpacked.
for ko in virt/lib/irqbypass.ko arch/x86/kvm/kvm.ko drivers/crypto/ccp/ccp.ko arch/x86/kvm/kvm-amd.ko; do
  src=$mods/$ko
  dst=initramfs/lib/modules/$(basename "$ko")
  if [ -f "$src" ]; then cp "$src" "$dst"
  elif [ -f "$src.xz" ]; then xz -dc "$src.xz" >"$dst"
  elif [ -f "$src.zst" ]; then zstd -qdc "$src.zst" >"$dst"
  else echo "build.sh: $src not found in $pkg" >&2; exit 1
  fi
done
gcc -static -O2 -Wall -Werror -o initramfs/bin/kvmtest "$BED/kvmtest.c"
install -m 0755 "$BED/init" initramfs/init
# ks_bed_ready compares this with the inputs' digest (tests/nested/lib.sh: ks_bed_key).
echo "${KS_BED_KEY:-}" >"$WORK/bed-key"
echo "built the bed in $WORK (L1 kernel $kver)"
