#!/bin/bash
# Builds kvm.ko, kvm-amd.ko and kvm-intel.ko with the patches in kernel/patches/ applied, from
# Debian's linux-source-6.1 with Debian's own .config and Module.symvers, so that they load into
# the stock Debian kernel of the same ABI (the nested bed's L1: linux-image-6.1.0-56-amd64).
#
# Usage: kernel/build-modules.sh
# Env:
#   KVMSCOPE_KPATCH_WORK     work dir: downloads, the prepared kernel tree, outputs
#                            (default /tmp/kvmscope-kpatch; reused by later runs)
#   KVMSCOPE_KPATCH_ABI      Debian kernel ABI (default 6.1.0-56: kernel release 6.1.0-56-amd64)
#   KVMSCOPE_KPATCH_VERSION  Debian package version of that ABI (default 6.1.192-2)
#   JOBS                     make -j (default: nproc)
# The last line of the output is the directory that holds the three modules. Exit status: 0 built
# (or already built from the same patches), 1 error, 77 skipped (a "SKIP: reason" line: the
# machine cannot download or install what the build needs).
#
# First run on 2 cores: ~250 MB of downloads, then ~70 s (extract + modules_prepare ~35 s, the kvm
# modules ~30 s), ~1.9 GB in the work dir. Later runs with unchanged patches (and script): under a
# second; after a patch change: the kvm modules only (~30-60 s).
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
PATCHES=$HERE/patches
WORK=${KVMSCOPE_KPATCH_WORK:-/tmp/kvmscope-kpatch}
ABI=${KVMSCOPE_KPATCH_ABI:-6.1.0-56}
PKGVER=${KVMSCOPE_KPATCH_VERSION:-6.1.192-2}
KREL=$ABI-amd64
JOBS=${JOBS:-$(nproc)}
TREE=$WORK/tree-$PKGVER
PRISTINE=$WORK/pristine-$PKGVER
# Directories whose pristine copies are kept, so that patches can be re-applied from scratch.
PRISTINE_DIRS=(MAINTAINERS arch/x86/kvm arch/x86/include include/linux virt/kvm)

skip() {
  echo "SKIP: $*"
  exit 77
}
die() {
  echo "ERROR: $*" >&2
  exit 1
}
now() { date +%s; }
t_start=$(now)

# modinfo_field KO FIELD: one field of a module's .modinfo section (no kmod needed).
modinfo_field() {
  objcopy -O binary --only-section=.modinfo "$1" /dev/stdout 2>/dev/null | tr '\0' '\n' |
    sed -n "s/^$2=//p"
}

# --- 1. tools ------------------------------------------------------------------------------------
TOOLS=(gcc-12 make bc flex bison libelf-dev libssl-dev dwarves xz-utils patch binutils)
missing=()
for p in "${TOOLS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  command -v apt-get >/dev/null || skip "no apt-get to install ${missing[*]}"
  [ "$(id -u)" = 0 ] || skip "not root: cannot install ${missing[*]}"
  echo "== installing ${missing[*]}"
  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
    --no-install-recommends "${missing[@]}"; } >"$WORK.apt.log" 2>&1 ||
    { tail -5 "$WORK.apt.log"; skip "apt-get could not install ${missing[*]}"; }
fi

# --- 2. Debian's packages (downloaded, never installed) -----------------------------------------
mkdir -p "$WORK/debs"
SRC_DEB=$WORK/debs/linux-source-6.1_${PKGVER}_all.deb
HDR_DEB=$WORK/debs/linux-headers-${KREL}_${PKGVER}_amd64.deb
IMG_DEB=$WORK/debs/linux-image-${KREL}_${PKGVER}_amd64.deb
# The nested bed downloads the same image package: reuse it.
for d in /tmp/kvmscope-testbed/debs "${KS_NESTED_WORK:-/nonexistent}/debs"; do
  [ -f "$IMG_DEB" ] || [ ! -f "$d/$(basename "$IMG_DEB")" ] || cp "$d/$(basename "$IMG_DEB")" "$IMG_DEB"
done
need=()
[ -f "$SRC_DEB" ] || need+=("linux-source-6.1=$PKGVER")
[ -f "$HDR_DEB" ] || need+=("linux-headers-$KREL=$PKGVER")
[ -f "$IMG_DEB" ] || need+=("linux-image-$KREL=$PKGVER")
if [ ${#need[@]} -gt 0 ]; then
  command -v apt-get >/dev/null || skip "no apt-get to download ${need[*]}"
  echo "== downloading ${need[*]}"
  if ! (cd "$WORK/debs" && apt-get download "${need[@]}") >"$WORK/debs/download.log" 2>&1; then
    # The package lists may predate the version: refresh them once (root only).
    if [ "$(id -u)" = 0 ]; then apt-get update -qq >/dev/null 2>&1 || true; fi
    (cd "$WORK/debs" && apt-get download "${need[@]}") >"$WORK/debs/download.log" 2>&1 ||
      { tail -5 "$WORK/debs/download.log"; skip "apt-get download ${need[*]} failed (no network or no such version)"; }
  fi
  # apt names the files with an epoch-free version; check what we rely on is there.
  for f in "$SRC_DEB" "$HDR_DEB" "$IMG_DEB"; do [ -f "$f" ] || die "download did not produce $f"; done
fi

# --- 3. the prepared tree: Debian's source, Debian's config, modules_prepare, Module.symvers ----
MAKEARGS=(CC=gcc-12 HOSTCC=gcc-12 KERNELRELEASE="$KREL" -j"$JOBS")
if [ ! -f "$TREE/.kvmscope-prepared" ]; then
  t0=$(now)
  echo "== preparing $TREE (extract, olddefconfig, modules_prepare; several minutes)"
  rm -rf "$TREE" "$TREE.tmp" "$PRISTINE" "$WORK/hdr"
  mkdir -p "$TREE.tmp" "$WORK/hdr"
  dpkg-deb --fsys-tarfile "$SRC_DEB" | tar -xO ./usr/src/linux-source-6.1.tar.xz |
    tar -xJ -C "$TREE.tmp" --strip-components=1
  dpkg-deb -x "$HDR_DEB" "$WORK/hdr"
  HDR=$WORK/hdr/usr/src/linux-headers-$KREL
  if [ ! -f "$HDR/.config" ] || [ ! -f "$HDR/Module.symvers" ]; then
    die "no .config / Module.symvers in $HDR_DEB"
  fi
  mkdir -p "$PRISTINE"
  for p in "${PRISTINE_DIRS[@]}"; do
    mkdir -p "$PRISTINE/$(dirname "$p")"
    cp -a "$TREE.tmp/$p" "$PRISTINE/$p"
  done
  cp "$HDR/.config" "$TREE.tmp/.config"
  make -C "$TREE.tmp" "${MAKEARGS[@]}" olddefconfig >"$WORK/prepare.log" 2>&1 ||
    { tail -20 "$WORK/prepare.log"; die "make olddefconfig failed (log: $WORK/prepare.log)"; }
  # The config must come out as Debian's: a changed option could change a struct layout.
  if ! diff <(grep '^CONFIG_' "$HDR/.config" | sort) <(grep '^CONFIG_' "$TREE.tmp/.config" | sort) \
    >"$WORK/config.diff"; then
    cat "$WORK/config.diff"
    die "olddefconfig changed Debian's config (compiler or pahole version differs?)"
  fi
  make -C "$TREE.tmp" "${MAKEARGS[@]}" modules_prepare >>"$WORK/prepare.log" 2>&1 ||
    { tail -20 "$WORK/prepare.log"; die "make modules_prepare failed (log: $WORK/prepare.log)"; }
  cp "$HDR/Module.symvers" "$TREE.tmp/Module.symvers"
  # The modules' BTF (/sys/kernel/btf/kvm*, which BPF CO-RE tools use) is split BTF on top of
  # vmlinux's: without a vmlinux, kbuild skips it. Debian's own vmlinux comes out of its vmlinuz.
  dpkg-deb --fsys-tarfile "$IMG_DEB" | tar -xO "./boot/vmlinuz-$KREL" >"$WORK/vmlinuz"
  "$TREE.tmp/scripts/extract-vmlinux" "$WORK/vmlinuz" >"$TREE.tmp/vmlinux" ||
    die "could not extract vmlinux from vmlinuz-$KREL"
  readelf -S "$TREE.tmp/vmlinux" | grep -q '\.BTF ' || die "the extracted vmlinux has no .BTF section"
  rm -f "$WORK/vmlinuz"
  touch "$TREE.tmp/.kvmscope-prepared"
  mv "$TREE.tmp" "$TREE"
  echo "== prepared in $(($(now) - t0)) s"
fi
grep -qx "#define UTS_RELEASE \"$KREL\"" "$TREE/include/generated/utsrelease.h" ||
  die "$TREE was prepared for another release: $(cat "$TREE/include/generated/utsrelease.h")"

# --- 4. apply the patches (from pristine files, whenever the series changed) --------------------
shopt -s nullglob
series=("$PATCHES"/*.patch)
shopt -u nullglob
[ ${#series[@]} -gt 0 ] || die "no patches in $PATCHES"
hash=$(cat "${series[@]}" "$0" | sha256sum | cut -c1-12)
OUTDIR=$WORK/out/$KREL-$hash
if [ -f "$OUTDIR/.done" ]; then
  echo "== up to date (patches unchanged since the build in $OUTDIR)"
  echo "$OUTDIR"
  exit 0
fi
if [ "$(cat "$TREE/.kvmscope-applied" 2>/dev/null)" != "$hash" ]; then
  rm -f "$TREE/.kvmscope-applied"
  # Every file that any patch touches goes back to its pristine state (or away, if new).
  mapfile -t files < <(sed -n 's@^+++ b/@@p; s@^--- a/@@p' "${series[@]}" | sort -u)
  for f in "${files[@]}"; do
    covered=0
    for p in "${PRISTINE_DIRS[@]}"; do
      case $f in "$p" | "$p"/*) covered=1 ;; esac
    done
    [ "$covered" = 1 ] || die "a patch touches $f, outside the pristine copies (${PRISTINE_DIRS[*]})"
    if [ -e "$PRISTINE/$f" ]; then cp -p "$PRISTINE/$f" "$TREE/$f"; else rm -f "$TREE/$f"; fi
  done
  for p in "${series[@]}"; do
    echo "== applying $(basename "$p")"
    patch -d "$TREE" -p1 --forward --batch --quiet <"$p" || die "$(basename "$p") does not apply"
  done
  # Patched files get a fresh mtime so that make rebuilds what depends on them.
  for f in "${files[@]}"; do [ -e "$TREE/$f" ] && touch "$TREE/$f"; done
  echo "$hash" >"$TREE/.kvmscope-applied"
fi

# --- 5. build ------------------------------------------------------------------------------------
t0=$(now)
echo "== building arch/x86/kvm (make M=arch/x86/kvm modules, -j$JOBS)"
make -C "$TREE" "${MAKEARGS[@]}" M=arch/x86/kvm modules >"$WORK/build.log" 2>&1 ||
  { grep -E 'error|warning' "$WORK/build.log" | head -30; tail -10 "$WORK/build.log"; die "build failed (log: $WORK/build.log)"; }
if grep -E '(warning|error):' "$WORK/build.log" | grep -v 'Skipping BTF generation' >"$WORK/build.warnings"; then
  cat "$WORK/build.warnings"
  die "the build printed warnings (log: $WORK/build.log)"
fi
echo "== built in $(($(now) - t0)) s"

# --- 6. check against the stock modules and hand out ---------------------------------------------
STOCK=$WORK/stock-$KREL
if [ ! -f "$STOCK/kvm.ko" ]; then
  rm -rf "$STOCK.tmp"
  mkdir -p "$STOCK.tmp"
  dpkg-deb --fsys-tarfile "$IMG_DEB" |
    tar -x -C "$STOCK.tmp" --wildcards "./lib/modules/$KREL/kernel/arch/x86/kvm/*"
  mv "$STOCK.tmp/lib/modules/$KREL/kernel/arch/x86/kvm" "$STOCK"
  rm -rf "$STOCK.tmp"
fi
rm -rf "$OUTDIR"
mkdir -p "$OUTDIR"
for m in kvm kvm-amd kvm-intel; do
  ko=$TREE/arch/x86/kvm/$m.ko
  [ -f "$ko" ] || die "$m.ko was not built"
  mine=$(modinfo_field "$ko" vermagic)
  stock=$(modinfo_field "$STOCK/$m.ko" vermagic)
  [ -n "$stock" ] || die "no vermagic in the stock $m.ko"
  [ "$mine" = "$stock" ] || die "$m.ko vermagic '$mine' differs from the stock module's '$stock'"
  readelf -S "$ko" | grep -q '\.BTF ' || die "$m.ko has no BTF"
  strip --strip-debug -o "$OUTDIR/$m.ko" "$ko"
done
modinfo_field "$OUTDIR/kvm.ko" parm | grep -q '^exit_stats_every:' ||
  die "kvm.ko has no exit_stats_every parameter: were the patches applied?"
echo "vermagic: $(modinfo_field "$OUTDIR/kvm.ko" vermagic)" >"$OUTDIR/BUILDINFO"
{
  echo "kernel release: $KREL (Debian $PKGVER)"
  echo "patches:"
  for p in "${series[@]}"; do echo "  $(basename "$p")"; done
} >>"$OUTDIR/BUILDINFO"
touch "$OUTDIR/.done"
echo "== vermagic matches the stock modules: $(modinfo_field "$OUTDIR/kvm.ko" vermagic)"
echo "== total $(($(now) - t_start)) s"
echo "$OUTDIR"
