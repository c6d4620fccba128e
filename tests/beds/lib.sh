# shellcheck shell=bash
# Helpers shared by the nested beds' build scripts (svm/build.sh, vmx/build.sh) and the nested
# runners (tests/nested/lib.sh sources this file): missing packages, the L1 kernel download, the
# busybox tree of an L1 initramfs, kernel modules with their dependencies. Sourced, never run.
# The beds' cache key (ks_bed_key) covers this file too: a change here rebuilds every bed.

# bed_install PKG...: install the named Debian packages (the caller names only missing ones).
bed_install() {
  [ $# -gt 0 ] || return 0
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@"
}

# bed_fetch_kernel WORK: the L1 kernel, the newest linux-image-6.1 package that linux-image-amd64
# depends on, downloaded with apt-get download and unpacked (never installed) into
# ${KS_KERNEL_CACHE:-WORK}/kernel; WORK/kernel links there when the cache is elsewhere (one
# download serves both beds). Sets BED_KVER and BED_MODDIR; links WORK/vmlinuz.
bed_fetch_kernel() {
  local work=$1 cache=${KS_KERNEL_CACHE:-$1} pkg
  if ! compgen -G "$cache/kernel/boot/vmlinuz-*" >/dev/null; then
    pkg=$(apt-cache depends linux-image-amd64 | awk '/Depends: linux-image-[0-9]/ { print $2; exit }')
    [ -n "$pkg" ] || { echo "bed: apt-cache names no linux-image package (apt-get update?)" >&2; return 1; }
    rm -rf "$cache/debs" "$cache/kernel" && mkdir -p "$cache/debs"
    (cd "$cache/debs" && apt-get download "$pkg")
    dpkg-deb -x "$cache"/debs/"$pkg"_*.deb "$cache/kernel"
  fi
  if [ ! "$cache" -ef "$work" ]; then
    rm -rf "$work/kernel"
    ln -sfn "$(cd "$cache" && pwd)/kernel" "$work/kernel"
  fi
  BED_KVER=$(basename "$(ls -d "$cache"/kernel/lib/modules/*)")
  # shellcheck disable=SC2034 # read by the beds' build.sh
  BED_MODDIR=$cache/kernel/lib/modules/$BED_KVER/kernel
  ln -sf "$(ls "$cache"/kernel/boot/vmlinuz-*)" "$work/vmlinuz"
}

# bed_busybox_tree DIR: a fresh L1 initramfs tree: busybox with a link per applet.
bed_busybox_tree() {
  local dir=$1 applet
  rm -rf "$dir"
  mkdir -p "$dir"/{bin,dev,proc,sys,tmp,lib/modules}
  cp /bin/busybox "$dir/bin/"
  for applet in $(/bin/busybox --list); do
    [ "$applet" = busybox ] || ln -sf busybox "$dir/bin/$applet"
  done
}

# bed_copy_module MODDIR REL DEST: copy one module (REL under MODDIR, without .xz/.zst) into the
# folder DEST, uncompressed: busybox insmod loads plain ELF only.
bed_copy_module() {
  local f=$1/$2 dst
  dst=$3/$(basename "$2")
  if [ -f "$f" ]; then
    cp "$f" "$dst"
  elif [ -f "$f.xz" ]; then
    xz -dc "$f.xz" >"$dst"
  elif [ -f "$f.zst" ]; then
    zstd -qdc "$f.zst" >"$dst"
  else
    echo "bed: module $2 not found under $1" >&2
    return 1
  fi
}

# bed_modules MODDIR DEST NAME...: copy the named modules and everything they depend on into DEST
# and append each to DEST/order once, dependencies first: the order busybox insmod needs. The
# downloaded kernel has no modules.dep (depmod runs at install time), so the dependencies come
# from each module's own .modinfo ("depends=a,b").
bed_modules() {
  local moddir=$1 dest=$2 name rel dep
  shift 2
  mkdir -p "$dest"
  touch "$dest/order"
  for name in "$@"; do
    grep -qx "$name" "$dest/order" && continue
    # A dependency's name may spell '-' as '_' (or the reverse); its file keeps its own spelling.
    rel=$(cd "$moddir" && find . \( -name "$name.ko*" -o -name "${name//_/-}.ko*" -o -name "${name//-/_}.ko*" \) |
      head -1 | sed 's|^\./||; s/\.\(xz\|zst\)$//')
    [ -n "$rel" ] || { echo "bed: module $name not found under $moddir" >&2; return 1; }
    bed_copy_module "$moddir" "$rel" "$dest" || return 1
    for dep in $(strings "$dest/$(basename "$rel")" | sed -n 's/^depends=//p' | tr ',' ' '); do
      bed_modules "$moddir" "$dest" "$dep" || return 1
    done
    grep -qx "$(basename "$rel" .ko)" "$dest/order" || basename "$rel" .ko >>"$dest/order"
  done
}
