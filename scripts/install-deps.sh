#!/usr/bin/env bash
# Installs everything kvmscope needs to build and test, from Debian bookworm's packages only.
set -euo pipefail
pkgs=(
  build-essential cmake pkg-config            # C++20 toolchain
  clang-format clang-tidy                     # scripts/check-style.sh (CI)
  clang llvm libbpf-dev bpftool               # BPF programs and their skeletons
  libelf-dev zlib1g-dev libzstd-dev           # libbpf's own needs (static build too)
  liblzma-dev                                 # report --guest-kernel: xz bzImages (Debian's)
  libgtest-dev googletest                     # unit and live tests
  libclang-rt-dev                             # libFuzzer runtime for fuzz/run-fuzz.sh
  libjs-chart.js                              # Chart.js, embedded into report --html pages
  libtracecmd-dev libtraceevent-dev libtracefs-dev trace-cmd  # trace.dat tests (oracle)
  libncurses-dev tmux                         # top: its screen; driven under tmux in tests
  chromium                                    # the HTML report's browser test
  util-linux procps                           # setpriv and pkill, used by tests
  libmicrohttpd-dev prometheus curl          # serve: its HTTP server; a real Prometheus in tests
  qemu-system-x86 busybox-static cpio         # the nested SVM test bed
  bochs bochs-term bochsbios vgabios          # the nested VMX test bed: Bochs with Intel VMX,
  grub-pc-bin grub-common xorriso mtools      # booting L1 from a GRUB ISO
  python3 file                                # the nested harness's log checks
  gcc-12 make bc flex bison libssl-dev dwarves xz-utils patch binutils  # kernel/build-modules.sh
  debootstrap e2fsprogs                       # bench/peers: the peers' L1 root filesystem
  dpkg-dev debhelper lintian                  # scripts/package.sh: the .deb, the Debian way
  man-db groff-base bash-completion zsh systemd  # tests: man pages, completion, systemd-analyze
)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
