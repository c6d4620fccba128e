#!/bin/bash
# Build (or reuse) the L1 root filesystem image in which kvmscope runs side by side with its peers:
# Debian bookworm from debootstrap with linux-perf (perf kvm stat), bpfcc-tools (kvmexit-bpfcc),
# bpftool, the linux-headers of the nested bed's L1 kernel (BCC compiles against them), python3,
# qemu-system-x86 (an L2 Linux boot inside L1), trace-cmd, and kvm_stat taken from the
# linux-source-6.1 tarball (tools/kvm/kvm_stat/kvm_stat). The bed's kernel image is copied to
# /opt/l2/vmlinuz for the L2 boot.
#
# The image is cached in $KS_PEERS_WORK (default /tmp/kvmscope-peers) as rootfs-<key>.ext4, where
# <key> hashes every input (this recipe's package list and steps, the L1 kernel version and
# image, the mirror): a clean clone on the same machine reuses it; any change builds a new one.
# kvmscope itself is NOT in the image (it changes with every commit): run-l1.sh carries the static
# binary, the runner and the cases in a small initramfs that mounts this image as L1's root.
#
# Usage: tests/nested/peers/build-rootfs.sh            prints the image path on the last line
# Env:   KS_PEERS_WORK   cache dir (default /tmp/kvmscope-peers)
#        KS_NESTED_WORK  the nested bed (default /tmp/kvmscope-testbed; built if empty)
#        KS_PEERS_MIRROR Debian mirror for debootstrap (default: the deb.debian.org-style URI
#                        of bookworm main in /etc/apt/sources.list*)
# Needs root (debootstrap, chroot), debootstrap, e2fsprogs (mke2fs -d), xz-utils. ~10 min first.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
SRC=$(cd "$HERE/../../.." && pwd)
# shellcheck source=../lib.sh
. "$SRC/tests/nested/lib.sh"

WORK=${KS_PEERS_WORK:-/tmp/kvmscope-peers}
KS_WORK=${KS_NESTED_WORK:-/tmp/kvmscope-testbed}
mkdir -p "$WORK"

[ "$(id -u)" = 0 ] || ks_skip "building the L1 root filesystem needs root (debootstrap, chroot)"
ks_prepare_bed "$SRC/tests/beds/svm" >&2
command -v debootstrap >/dev/null || {
  apt-get -o DPkg::Lock::Timeout=300 install -y --no-install-recommends debootstrap >&2 ||
    ks_skip "debootstrap is missing and could not be installed"
}

# The mirror: first URI that serves bookworm (not -security/-updates) in the host's apt sources.
mirror=${KS_PEERS_MIRROR:-$(ks_bookworm_mirror)}

# Everything that decides the image's content goes into the key.
PKGS="linux-perf bpfcc-tools bpftool linux-headers-$KS_KVER python3 qemu-system-x86 trace-cmd"
PKGS="$PKGS procps kmod iproute2 xz-utils zstd time"
RECIPE_VERSION=3 # bump when the steps below change what lands in the image
key=$(
  {
    echo "recipe $RECIPE_VERSION"
    echo "pkgs $PKGS"
    echo "kver $KS_KVER"
    echo "mirror $mirror"
    sha256sum "$KS_WORK/vmlinuz" | cut -d' ' -f1
    sed -n '/^# --- image steps begin/,/^# --- image steps end/p' "$0"
  } | sha256sum | cut -c1-16
)
IMG=$WORK/rootfs-$key.ext4
if [ -s "$IMG" ] && [ -f "$IMG.ok" ]; then
  echo "== reusing $IMG (key $key)" >&2
  echo "$IMG"
  exit 0
fi

t0=$(ks_now)
TREE=$WORK/tree-$key
echo "== building $IMG from $mirror (L1 kernel $KS_KVER); tree $TREE" >&2
umount_tree() {
  local m
  for m in dev/pts dev proc sys; do
    mountpoint -q "$TREE/$m" 2>/dev/null && umount -l "$TREE/$m"
  done
  return 0
}
trap umount_tree EXIT

# --- image steps begin
# A tree left by an interrupted build of the same key resumes after debootstrap (the package
# install below is idempotent).
if [ ! -f "$TREE/.debootstrap-ok" ]; then
  rm -rf "$TREE"
  debootstrap --variant=minbase bookworm "$TREE" "$mirror" >"$WORK/debootstrap-$key.log" 2>&1 ||
    { tail -20 "$WORK/debootstrap-$key.log" >&2; ks_die "debootstrap failed (log $WORK/debootstrap-$key.log)"; }
  touch "$TREE/.debootstrap-ok"
fi
# The same suites as the host (bookworm-updates, bookworm-security: the L1 kernel's headers live
# in -security), with the chosen mirror for the main suite.
rm -f "$TREE/etc/apt/sources.list"
cat >"$TREE/etc/apt/sources.list.d/debian.sources" <<EOF
Types: deb
URIs: $mirror
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: http://deb.debian.org/debian-security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
printf '#!/bin/sh\nexit 101\n' >"$TREE/usr/sbin/policy-rc.d"
chmod +x "$TREE/usr/sbin/policy-rc.d"
mount -t proc proc "$TREE/proc"
mount -t sysfs sysfs "$TREE/sys"
mount --bind /dev "$TREE/dev"
mount --bind /dev/pts "$TREE/dev/pts"
# shellcheck disable=SC2086
chroot "$TREE" /bin/sh -c "apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $PKGS" \
  >"$WORK/apt-$key.log" 2>&1 ||
  { tail -30 "$WORK/apt-$key.log" >&2; ks_die "package install failed (log $WORK/apt-$key.log)"; }
umount_tree
[ -d "$TREE/usr/src/linux-headers-$KS_KVER" ] || ks_die "linux-headers-$KS_KVER did not install"
ln -sfn "/usr/src/linux-headers-$KS_KVER" "$TREE/lib/modules/$KS_KVER/build" 2>/dev/null ||
  { mkdir -p "$TREE/lib/modules/$KS_KVER" && ln -sfn "/usr/src/linux-headers-$KS_KVER" "$TREE/lib/modules/$KS_KVER/build"; }

# kvm_stat from the kernel source tarball (it is not packaged on its own in bookworm).
srcdeb_dir=$WORK/linux-source
mkdir -p "$srcdeb_dir"
if [ ! -s "$srcdeb_dir/kvm_stat" ]; then
  (cd "$srcdeb_dir" && rm -f linux-source-6.1_*.deb && apt-get download linux-source-6.1 >&2)
  rm -rf "$srcdeb_dir/x" && dpkg-deb -x "$srcdeb_dir"/linux-source-6.1_*.deb "$srcdeb_dir/x"
  tarball=$(ls "$srcdeb_dir"/x/usr/src/linux-source-6.1.tar.*)
  tar -xf "$tarball" -C "$srcdeb_dir" --wildcards '*/tools/kvm/kvm_stat/kvm_stat'
  cp "$(find "$srcdeb_dir" -path '*/tools/kvm/kvm_stat/kvm_stat' -type f | head -1)" "$srcdeb_dir/kvm_stat"
  rm -rf "$srcdeb_dir/x" "$srcdeb_dir"/linux-source-6.1* "$srcdeb_dir"/linux-source-6.1_*.deb
fi
install -m 0755 "$srcdeb_dir/kvm_stat" "$TREE/usr/local/bin/kvm_stat"

# The L2 kernel for the boot inside L1: the bed's own 6.1 image.
mkdir -p "$TREE/opt/l2"
cp -L "$KS_WORK/vmlinuz" "$TREE/opt/l2/vmlinuz"

# Smaller image: no apt lists or caches, docs or locales.
rm -rf "$TREE"/var/cache/apt/archives/*.deb "$TREE"/var/lib/apt/lists/* "$TREE"/usr/share/doc/* \
  "$TREE"/usr/share/man/* "$TREE"/usr/share/locale/* "$TREE"/usr/share/info/*
rm -f "$TREE/.debootstrap-ok"
echo "kvmscope-peers rootfs $key, L1 kernel $KS_KVER, built $(date -u +%FT%TZ)" >"$TREE/etc/kvmscope-peers"
# --- image steps end

size_mb=$(($(du -sm "$TREE" | cut -f1) * 13 / 10 + 512))
rm -f "$IMG" "$IMG.ok"
mke2fs -q -t ext4 -L ksroot -d "$TREE" "$IMG" "${size_mb}M" || ks_die "mke2fs -d failed"
rm -rf "$TREE"
touch "$IMG.ok"
# Older images (other keys) are never needed again by this recipe.
for old in "$WORK"/rootfs-*.ext4; do
  [ "$old" = "$IMG" ] || rm -f "$old" "$old.ok"
done
echo "== built $IMG (${size_mb} MB) in $(ks_elapsed "$t0") s" >&2
echo "$IMG"
