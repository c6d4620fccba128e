# shellcheck shell=bash
# Helpers of run-boot.sh (sourced after lib.sh, never run): the static kvmscope build and the
# "L2 layer" of the L1 initramfs (QEMU with its shared libraries and firmware, an L2 kernel and
# an L2 initrd), cached in the bed's work directory.
#
# Why a separate layer: QEMU and its libraries make ~28 MB of the initramfs and change only when
# the host's QEMU or the bed's kernel does, while kvmscope changes with every build. The kernel
# unpacks concatenated cpio archives one after the other, so the layer is packed once (as the
# bed's build-l2.sh does, minus its /extra.sh) and appended to the small per-run initramfs.

# Firmware the L2 QEMU needs: SeaBIOS and the linuxboot option ROMs for -M pc with -kernel,
# qboot for -M microvm (the same list as the bed's build-l2.sh).
KS_L2_FIRMWARE=(/usr/share/seabios/bios-256k.bin /usr/share/qemu/linuxboot_dma.bin
  /usr/share/qemu/kvmvapic.bin /usr/share/qemu/qboot.rom)

# ks_l2_layer RECIPE_DIR OUT.cpio.gz: make (or reuse) the L2 layer. It is rebuilt when any input
# changes: the QEMU binary, its libraries, the firmware, the L2 kernel (the bed's L1 kernel, as in
# build-l2.sh), busybox and the bed's l2-init. Sets KS_L2_LAYER_CACHED=1 when reused.
ks_l2_layer() {
  local recipe=$1 out=$2 q libs key
  q=$(command -v qemu-system-x86_64) || ks_skip "qemu-system-x86_64 is not installed"
  [ -f "$recipe/l2-init" ] || ks_skip "the bed's l2-init is missing ($recipe)"
  local fw
  for fw in "${KS_L2_FIRMWARE[@]}"; do
    [ -f "$fw" ] || ks_skip "QEMU firmware $fw is missing (packages seabios, qemu-system-data)"
  done
  libs=$(ks_shared_libs "$q")
  # shellcheck disable=SC2086 # libs: one path per word
  key=$(sha256sum "$q" $libs "${KS_L2_FIRMWARE[@]}" "$(readlink -f "$KS_WORK/vmlinuz")" \
    /bin/busybox "$recipe/l2-init" | awk '{ print $1 }' | sha256sum | cut -c1-16)
  # shellcheck disable=SC2034 # read by the caller
  KS_L2_LAYER_CACHED=0
  if [ -f "$out" ] && [ "$(cat "$out.key" 2>/dev/null)" = "$key" ]; then
    # shellcheck disable=SC2034
    KS_L2_LAYER_CACHED=1
    return 0
  fi
  local tree=$out.tree
  rm -rf "$tree"
  # L2 initrd: busybox and the bed's l2-init (prints "=== L2 up ... L2 uptime Ns", powers off).
  mkdir -p "$tree/l2root/bin" "$tree/l2root/proc" "$tree/l2root/sys" "$tree/l2root/dev"
  cp /bin/busybox "$tree/l2root/bin/busybox"
  local a
  for a in sh mount cut poweroff echo cat grep; do ln -sf busybox "$tree/l2root/bin/$a"; done
  install -m 0755 "$recipe/l2-init" "$tree/l2root/init"
  mkdir -p "$tree/root/opt/qemu/fw" "$tree/root/opt/l2" "$tree/root/tmp"
  (cd "$tree/l2root" && find . -print0 | cpio --null -o -H newc --quiet | gzip -9) >"$tree/root/opt/l2/initrd.gz"
  cp "$q" "$tree/root/opt/qemu/"
  # shellcheck disable=SC2086 # libs: one path per word
  ks_copy_libs "$tree/root" $libs
  for fw in "${KS_L2_FIRMWARE[@]}"; do cp -L "$fw" "$tree/root/opt/qemu/fw/"; done
  ln -sf qboot.rom "$tree/root/opt/qemu/fw/bios-microvm.bin"
  cp -L "$KS_WORK/vmlinuz" "$tree/root/opt/l2/vmlinuz"
  # gzip -1: L1 (under TCG) unpacks this at boot; a lighter level costs little space.
  (cd "$tree/root" && find . -print0 | cpio --null -o -H newc --quiet | gzip -1) >"$out.tmp"
  mv "$out.tmp" "$out"
  echo "$key" >"$out.key"
  rm -rf "$tree"
}
