# shellcheck shell=bash
# Helpers shared by the nested runners and the fixture capture scripts: prepare a nested bed
# (tests/beds/svm: QEMU TCG with AMD SVM; tests/beds/vmx: Bochs with Intel VMX, KS_VMM=bochs),
# build an L1 initramfs with extra files, boot it with a raw results disk, and unpack what L1
# wrote onto that disk. Sourced, never run.
#
# Why a raw disk: the serial console is a log for humans; kernel messages can land in the middle
# of a line there. Results that the host parses travel as a tar archive on a raw disk (virtio
# /dev/vda under QEMU, IDE /dev/sda under Bochs; tests/beds/svm/README.md, "Bringing files out of
# L1") and are checked against sha256 sums made inside L1.

# shellcheck source=SCRIPTDIR/../beds/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../beds/lib.sh"

KS_EXIT_SKIP=77
# The emulator that runs L1: qemu (the SVM bed) or bochs (the VMX bed); a runner sets it.
KS_VMM=${KS_VMM:-qemu}

# ks_runner_init "$@": a runner's one argument, the source directory. Sets SRC, HERE (its
# tests/nested) and KS_WORK (the bed's build directory: KS_NESTED_WORK, built there if empty).
ks_runner_init() {
  [ $# -eq 1 ] || {
    echo "usage: $0 <source-dir>" >&2
    exit 2
  }
  SRC=$(cd "$1" && pwd)
  # shellcheck disable=SC2034 # read by the runners
  HERE=$SRC/tests/nested
  KS_WORK=${KS_NESTED_WORK:-/tmp/kvmscope-testbed}
}

# ks_use_vmx_bed: the runner boots the VMX bed (tests/beds/vmx) under Bochs: KS_WORK becomes its
# folder $KS_WORK/vmx, and the kernel download is the SVM bed's, in $KS_WORK (or KS_KERNEL_CACHE
# where that is set: one download for several work folders).
ks_use_vmx_bed() {
  KS_VMM=bochs
  export KS_KERNEL_CACHE=${KS_KERNEL_CACHE:-$KS_WORK}
  KS_WORK=$KS_WORK/vmx
  mkdir -p "$KS_WORK"
}

# ks_skip REASON...: the machine cannot run the nested bed; CTest shows the test as skipped.
ks_skip() {
  echo "SKIP: $*"
  exit "$KS_EXIT_SKIP"
}

ks_die() {
  echo "ERROR: $*" >&2
  exit 1
}

# The Debian mirror debootstrap takes: the first URI of the host's apt sources that serves
# bookworm itself (not -security/-updates), else deb.debian.org.
ks_bookworm_mirror() {
  local mirror
  mirror=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.sources /etc/apt/sources.list.d/*.list 2>/dev/null |
    awk '
      /^deb[ \t]/ && $3 == "bookworm" { print $2; exit }
      /^URIs:/ { uri = $2 } /^Suites:/ && uri != "" { for (i = 2; i <= NF; i++) if ($i == "bookworm") { print uri; exit } }
      /^$/ { uri = "" }' | head -1) || true
  echo "${mirror:-http://deb.debian.org/debian}"
}

ks_now() { date +%s.%N; }
ks_elapsed() { awk -v a="$1" -v b="$(ks_now)" 'BEGIN { printf "%.1f", b - a }'; }

# ks_l1_tests_initramfs NAME: $BUILD/NAME-initramfs.cpio.gz, the L1 initramfs of the l1-tests.sh
# cases with a stripped copy of $BIN (half the size; the build keeps its debug info) and, where
# DYN_BIN is set (ks_dynamic_kvmscope), a stripped copy of that as bin/kvmscope-serve with its
# shared libraries at their own paths (the j-serve case).
ks_l1_tests_initramfs() {
  local name=$1 t0 files=() lib
  t0=$(ks_now)
  strip -o "$BUILD/$name-kvmscope" "$BIN"
  files=("$HERE/l1-lib.sh:l1-lib.sh" "$BUILD/$name-kvmscope:bin/kvmscope")
  if [ -n "${DYN_BIN:-}" ]; then
    strip -o "$BUILD/$name-kvmscope-serve" "$DYN_BIN"
    files+=("$BUILD/$name-kvmscope-serve:bin/kvmscope-serve")
    for lib in $(ks_shared_libs "$DYN_BIN"); do files+=("$lib:${lib#/}"); done
  fi
  ks_make_initramfs "$BUILD/$name-initramfs" "$BUILD/$name-initramfs.cpio.gz" "$HERE/l1-tests.sh" "${files[@]}"
  rm -rf "$BUILD/$name-initramfs"
  echo "== initramfs $(du -h "$BUILD/$name-initramfs.cpio.gz" | cut -f1) in $(ks_elapsed "$t0") s"
}

# ks_case_wanted CASE: CASE is among KS_NESTED_CASES (comma-separated), or that is empty (all).
ks_case_wanted() { [ -z "${KS_NESTED_CASES:-}" ] || [[ ",$KS_NESTED_CASES," == *",$1,"* ]]; }

# ks_serve_kvmscope SRC: the dynamic kvmscope for the j-serve case (ks_dynamic_kvmscope, built in
# SRC/build-nested-dyn) where that case runs; DYN_BIN stays empty otherwise.
ks_serve_kvmscope() {
  DYN_BIN=""
  if ks_case_wanted j-serve; then
    ks_dynamic_kvmscope "$1" "$1/build-nested-dyn" "$1/build-nested-dyn/build.log"
  fi
}

# ks_shared_libs BIN: the shared libraries BIN loads, the dynamic loader included, one path per
# line (ldd). Copied into an initramfs at the same paths, they let BIN run there (L1 has no libc).
ks_shared_libs() {
  ldd "$1" | awk '/=>/ { print $3 } /ld-linux/ { print $1 }' | sort -u
}

# ks_copy_libs ROOT LIB...: copy each library (its target, where it is a link) to ROOT/LIB.
ks_copy_libs() {
  local root=$1 lib
  shift
  for lib in "$@"; do
    mkdir -p "$root$(dirname "$lib")"
    cp -L "$lib" "$root$lib"
  done
}

# ks_dynamic_kvmscope SRC BUILD LOG: the dynamic kvmscope (with `serve`, which the static build
# lacks) in DYN_BIN: KS_NESTED_DYN_BIN where set (CTest passes the build's own binary), else built
# in BUILD. Checked to have the HTTP server.
ks_dynamic_kvmscope() {
  local src=$1 build=$2 log=$3 t0
  if [ -n "${KS_NESTED_DYN_BIN:-}" ]; then
    DYN_BIN=$KS_NESTED_DYN_BIN
  else
    t0=$(ks_now)
    echo "== building the dynamic kvmscope (for serve) in $build"
    mkdir -p "$build"
    cmake -S "$src" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DKVMSCOPE_TESTS=OFF -DKVMSCOPE_WERROR=ON \
      >"$log" 2>&1 || { tail -30 "$log"; ks_die "cmake configure failed (log: $log)"; }
    cmake --build "$build" --target kvmscope -j2 >>"$log" 2>&1 ||
      { tail -30 "$log"; ks_die "dynamic build failed (log: $log)"; }
    DYN_BIN=$build/kvmscope
    echo "== build took $(ks_elapsed "$t0") s"
  fi
  [ -x "$DYN_BIN" ] || ks_die "no kvmscope binary at $DYN_BIN"
  ks_shared_libs "$DYN_BIN" | grep -q libmicrohttpd ||
    ks_die "$DYN_BIN does not link libmicrohttpd: built without serve?"
  echo "== $DYN_BIN: dynamic, $(ks_shared_libs "$DYN_BIN" | wc -l) shared libraries"
}

# ks_check WHAT CMD...: one check of a harness self-test (the watch tests): an "ok" or "FAIL"
# line; failures are counted in KS_CHECKS_FAILED. ks_checks_end NAME: the PASS/FAIL line, and
# status 0 only when every check passed.
KS_CHECKS_FAILED=0
ks_check() {
  local what=$1
  shift
  if "$@"; then echo "ok   $what"; else
    echo "FAIL $what"
    KS_CHECKS_FAILED=$((KS_CHECKS_FAILED + 1))
  fi
}
ks_checks_end() {
  if [ "$KS_CHECKS_FAILED" = 0 ]; then echo "PASS $1"; else echo "FAIL $1 ($KS_CHECKS_FAILED checks)"; fi
  [ "$KS_CHECKS_FAILED" = 0 ]
}

# ks_vmm_cmd: the emulator's command for KS_VMM.
ks_vmm_cmd() { if [ "$KS_VMM" = bochs ]; then echo bochs; else echo qemu-system-x86_64; fi; }

# ks_prepare_bed RECIPE_DIR: make sure $KS_WORK holds the bed's build output (initramfs tree,
# vmlinuz, the extracted kernel with its modules) of this recipe (tests/beds/svm or vmx), building
# it with the recipe's build.sh if not.
# Skips where the machine truly cannot: no emulator and no way to install it, no kernel download.
ks_prepare_bed() {
  local recipe=$1 vmm
  vmm=$(ks_vmm_cmd)
  [ -x "$recipe/build.sh" ] || ks_die "test bed recipe not found at $recipe"
  KS_BED_KEY=$(ks_bed_key "$recipe")
  export KS_BED_KEY
  if ! ks_bed_ready; then
    echo "== building the test bed in $KS_WORK (first run downloads the Debian 6.1 kernel)"
    if ! WORK=$KS_WORK "$recipe/build.sh"; then
      command -v "$vmm" >/dev/null || ks_skip "$vmm is missing and could not be installed"
      compgen -G "$KS_WORK/kernel/boot/vmlinuz-*" >/dev/null ||
        ks_skip "could not download the L1 kernel (linux-image-6.1.0-*-amd64) with apt-get download"
      ks_die "test bed build failed ($recipe/build.sh)"
    fi
    ks_bed_ready || ks_die "test bed build finished but $KS_WORK is incomplete"
  fi
  command -v "$vmm" >/dev/null || ks_skip "$vmm is not installed"
  if [ "$KS_VMM" = bochs ]; then
    # A Bochs that cannot start, or lacks the bed's CPU model (one with VMX and EPT), cannot run
    # the bed: skipped. Every other failure of a run is the test's.
    # Bochs lists its models on stderr. Read whole: grep -q on a pipe ends early, and pipefail
    # takes Bochs' SIGPIPE for a failure.
    local model cpus
    model=$(sed -n 's/^cpu: model=\([^,]*\),.*/\1/p' "$KS_WORK/bochsrc.in")
    cpus=$(bochs -help cpu 2>&1 </dev/null) || true
    grep -qw "$model" <<<"$cpus" || ks_skip "bochs does not start, or has no CPU model $model (bochs -help cpu)"
  fi
  KS_KVER=$(basename "$(ls -d "$KS_WORK"/kernel/lib/modules/*)")
  KS_MODDIR=$KS_WORK/kernel/lib/modules/$KS_KVER/kernel
}

# ks_bed_key RECIPE_DIR: a digest of the bed's inputs (the recipe's files, the beds' shared
# lib.sh and busybox); a $KS_WORK built from other inputs (an older recipe) is built again.
ks_bed_key() {
  cat "$1"/* "$1/../lib.sh" /bin/busybox 2>/dev/null | sha256sum | cut -c1-16
}

ks_bed_ready() {
  [ -f "$KS_WORK/initramfs/init" ] && [ -e "$KS_WORK/vmlinuz" ] &&
    compgen -G "$KS_WORK/kernel/lib/modules/*/kernel" >/dev/null &&
    [ "$(cat "$KS_WORK/bed-key" 2>/dev/null)" = "$KS_BED_KEY" ]
}

# ks_copy_module REL DEST: copy one L1 kernel module, uncompressing .ko.xz / .ko.zst because
# busybox insmod loads plain ELF only.
ks_copy_module() {
  bed_copy_module "$KS_MODDIR" "$1" "$2" || ks_die "module $1 not found under $KS_MODDIR"
}

# ks_make_initramfs TREE OUT.cpio.gz EXTRA_SH [SRC:DEST]...: copy the bed's initramfs tree to TREE,
# add the virtio block modules (QEMU; the VMX bed's tree has its ATA modules), /extra.sh (run by
# the bed's init after kvm_amd / kvm_intel is loaded) and the given files, and pack it.
ks_make_initramfs() {
  local tree=$1 out=$2 extra=$3
  shift 3
  rm -rf "$tree"
  cp -a "$KS_WORK/initramfs" "$tree"
  local m
  if [ "$KS_VMM" = qemu ]; then
    mkdir -p "$tree/lib/modules/virtio"
    for m in drivers/virtio/virtio_ring.ko drivers/virtio/virtio.ko \
      drivers/virtio/virtio_pci_modern_dev.ko drivers/virtio/virtio_pci_legacy_dev.ko \
      drivers/virtio/virtio_pci.ko drivers/block/virtio_blk.ko; do
      ks_copy_module "$m" "$tree/lib/modules/virtio"
    done
  fi
  install -m 0755 "$extra" "$tree/extra.sh"
  local pair
  for pair in "$@"; do
    mkdir -p "$tree/$(dirname "${pair#*:}")"
    cp "${pair%%:*}" "$tree/${pair#*:}"
  done
  (cd "$tree" && find . -print0 | cpio --null -o -H newc --quiet | gzip -1) >"$out"
}

# ks_boot INITRD LOG DISK TIMEOUT [kernel args...]: boot L1 with the runner's emulator (KS_VMM)
# and a raw results disk; the serial console goes to LOG. Returns the emulator's status (0 = L1
# powered off, 124 = timeout), KS_STALLED (ks_watch_stall stopped an idle L1: retried) or KS_HUNG
# (it stopped a silent L1 that kept Bochs busy: not retried).
KS_STALLED=125
KS_HUNG=126
ks_boot() {
  if [ "$KS_VMM" = bochs ]; then ks_boot_bochs "$@"; else ks_boot_qemu "$@"; fi
}

# ks_boot_qemu: ks_boot under QEMU TCG (-cpu max: AMD SVM with NPT), with a raw virtio disk and a
# QMP socket (LOG.qmp) for the stall watch's evidence.
ks_boot_qemu() {
  local initrd=$1 log=$2 disk=$3 tmo=$4
  shift 4
  rm -f "$disk" "$log.qmp" "$log.stall"
  truncate -s 256M "$disk"
  local rc=0 tpid accel=(-accel tcg)
  # KS_NESTED_ICOUNT (e.g. shift=0,sleep=off): L1's clocks count guest instructions, not host
  # time (as the Bochs bed's do), so the host's load cannot stretch what L1 times.
  [ -n "${KS_NESTED_ICOUNT:-}" ] && accel=(-accel tcg,thread=single -icount "$KS_NESTED_ICOUNT")
  timeout "$tmo" qemu-system-x86_64 \
    "${accel[@]}" -cpu "${CPU:-max}" -smp 1 -m "${MEM:-2G}" \
    -kernel "$KS_WORK/vmlinuz" -initrd "$initrd" \
    -append "console=ttyS0 panic=-1 quiet loglevel=4 l2only $*" \
    -nographic -no-reboot -serial file:"$log" -monitor none -display none \
    -qmp unix:"$log.qmp",server=on,wait=off \
    -nic none -drive file="$disk",format=raw,if=virtio &
  tpid=$!
  ks_wait_watched "$tpid" "$log" || rc=$?
  rm -f "$log.qmp"
  return "$rc"
}

# ks_wait_watched TIMEOUT_PID LOG: wait for the emulator under `timeout` (TIMEOUT_PID) while
# ks_watch_stall watches it; stops it on a stall or hang. Returns the emulator's status,
# KS_STALLED or KS_HUNG.
ks_wait_watched() {
  local tpid=$1 log=$2 watch=0 rc=0
  ks_watch_stall "$tpid" "$log" || watch=$?
  if [ "$watch" != 0 ]; then
    kill -TERM "$tpid" 2>/dev/null
    wait "$tpid" 2>/dev/null
    [ "$watch" = 2 ] && return "$KS_HUNG"
    return "$KS_STALLED"
  fi
  wait "$tpid" || rc=$?
  return "$rc"
}

# ks_make_iso INITRD ISO [kernel args...]: a BIOS-bootable GRUB ISO (grub-mkrescue) with the bed's
# kernel, INITRD and the VMX bed's grub.cfg.in with the kernel arguments filled in. Bochs loads no
# kernel by itself: its BIOS boots the ISO from the IDE CD-ROM.
ks_make_iso() {
  local initrd=$1 iso=$2 dir=$2.tree
  shift 2
  rm -rf "$dir"
  mkdir -p "$dir/boot/grub"
  cp -L "$KS_WORK/vmlinuz" "$dir/boot/vmlinuz"
  cp "$initrd" "$dir/boot/initrd.gz"
  sed "s|@ARGS@|$*|" "$KS_WORK/grub.cfg.in" >"$dir/boot/grub/grub.cfg"
  grub-mkrescue -o "$iso" "$dir" >"$iso.log" 2>&1 || {
    cat "$iso.log"
    return 1
  }
  rm -rf "$dir"
}

# ks_boot_bochs: ks_boot under Bochs (the VMX bed: tests/beds/vmx/bochsrc.in, filled in as
# LOG.bochsrc), booting INITRD from a GRUB ISO (LOG.iso), the results disk as an IDE disk (L1's
# /dev/sda) of the template's geometry. Bochs' own log is LOG.bochs, its console LOG.bochsout.
ks_boot_bochs() {
  local initrd=$1 log=$2 disk=$3 tmo=$4 geom rc=0 tpid
  shift 4
  # DISK.lock: Bochs' lock on the image, left behind by a Bochs that was stopped (a hang, the
  # timeout); with it there, the next Bochs refuses the image ("could not open hard drive image").
  rm -f "$disk" "$disk.lock" "$log" "$log.stall"
  ks_make_iso "$initrd" "$log.iso" "$@" || return 1
  # A flat image must hold exactly cylinders x heads x spt sectors.
  geom=$(sed -n 's/.*cylinders=\([0-9]*\), heads=\([0-9]*\), spt=\([0-9]*\).*/\1 * \2 * \3 * 512/p' \
    "$KS_WORK/bochsrc.in")
  truncate -s $((geom)) "$disk"
  sed -e "s|@ISO@|$log.iso|" -e "s|@DISK@|$disk|" -e "s|@SERIAL@|$log|" -e "s|@BOCHSLOG@|$log.bochs|" \
    "$KS_WORK/bochsrc.in" >"$log.bochsrc"
  # Debian's Bochs is built with its debugger, which waits for a command: "c" (continue).
  echo c >"$log.bochscmd"
  timeout "$tmo" bochs -q -f "$log.bochsrc" -rc "$log.bochscmd" </dev/null >"$log.bochsout" 2>&1 &
  tpid=$!
  ks_wait_watched "$tpid" "$log" || rc=$?
  # Bochs quits on L1's ACPI soft power off with status 1; its log says that is what happened.
  if [ "$rc" = 1 ] && grep -q 'ACPI control: soft power off' "$log.bochs" "$log.bochsout" 2>/dev/null; then
    rc=0
  fi
  return "$rc"
}

# ks_watch_stall TIMEOUT_PID LOG: returns 0 when the emulator ends by itself, 1 when L1 stalled,
# 2 when L1 hung under Bochs.
# A stall: the serial log, which the L1 scripts keep growing with a heartbeat line every 10 s
# (l1_heartbeat in l1-lib.sh), did not grow for KS_STALL_S seconds (default 60) while QEMU was
# nearly idle. That is the bed's known failure: rarely, an L1 under nested SVM on QEMU TCG halts
# with interrupts enabled and its timer interrupt pending in the local APIC, and is never woken
# (an NMI from the host does not wake it either), so only the host's timeout would end it. The
# watch saves the evidence (CPU time, QEMU's view of the vCPU and its local APIC) in LOG.stall.
# A quiet L1 that keeps QEMU busy is not a stall (it may be L1 spinning in kvmscope's BPF code, a
# product bug): the watch says so once and leaves it to TIMEOUT.
# Under Bochs (KS_VMM=bochs) the emulator is never idle: it runs its CPU loop all the time, an L1
# in hlt included (clock sync=none skips ahead to the next timer event). So an idle-emulator stall
# cannot be seen there; instead an L1 silent for KS_HANG_S (default 240 s; its heartbeat comes
# every 10 s of L1 time, 15 to 40 s of the host's) is a hang: stopped at once and not retried (the
# VMX bed has no known stall to retry), its evidence (the serial log's tail) kept in LOG.stall.
ks_watch_stall() {
  local tpid=$1 log=$2 limit=${KS_STALL_S:-60} size last=-1 since cpu0=0 cpu qpid now said=0
  since=$(date +%s)
  while kill -0 "$tpid" 2>/dev/null; do
    sleep 5
    qpid=$(pgrep -P "$tpid" -x qemu-system-x86 || pgrep -P "$tpid" | head -1)
    [ -n "$qpid" ] || continue
    size=$(stat -c %s "$log" 2>/dev/null || echo 0)
    cpu=$(ks_cpu_ticks "$qpid")
    now=$(date +%s)
    if [ "$size" != "$last" ]; then
      last=$size since=$now cpu0=$cpu said=0
      continue
    fi
    grep -q '^=== L1 alive' "$log" 2>/dev/null || continue # no heartbeat yet (or ever)
    if [ "$KS_VMM" = bochs ]; then
      [ $((now - since)) -ge "${KS_HANG_S:-240}" ] || continue
      {
        echo "L1 hung: serial log unchanged for $((now - since)) s (heartbeat every 10 s of L1" \
          "time) while Bochs used $(((cpu - cpu0) / (now - since))) % of a core; serial tail:"
        tail -20 "$log"
      } >"$log.stall" 2>&1
      echo "ERROR: L1 hung (no heartbeat for $((now - since)) s, Bochs busy); stopped, not retried;" \
        "see $log.stall"
      return 2
    fi
    [ $((now - since)) -ge "$limit" ] || continue
    # Clock ticks are 1/100 s: under 10 % of one core over the quiet time is an idle QEMU.
    if [ $((cpu - cpu0)) -ge $(((now - since) * 10)) ]; then
      [ "$said" = 1 ] || echo "WARNING: L1 printed nothing for $((now - since)) s but QEMU is busy" \
        "($(((cpu - cpu0) / (now - since))) % of a core): not a stall; waiting for the timeout"
      said=1
      continue
    fi
    {
      echo "L1 stalled: serial log unchanged for $((now - since)) s (heartbeat every 10 s)," \
        "QEMU used $(((cpu - cpu0) / 100)).$(((cpu - cpu0) % 100)) s of CPU meanwhile"
      ks_qmp_info "$log.qmp" "info registers" "info lapic" "info pic"
    } >"$log.stall" 2>&1
    echo "ERROR: L1 stalled (no heartbeat for $((now - since)) s, QEMU idle); QEMU's view in $log.stall"
    return 1
  done
  return 0
}

# ks_cpu_ticks PID: user + system CPU time of PID in clock ticks.
ks_cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat" 2>/dev/null || echo 0; }

# ks_qmp_info SOCKET COMMAND...: QEMU's answers to monitor commands ("info lapic"), through QMP
# (plain text, unlike the human monitor's echo of every keystroke).
ks_qmp_info() {
  python3 - "$@" <<'PY'
import json, socket, sys
sock = socket.socket(socket.AF_UNIX)
sock.settimeout(10)
sock.connect(sys.argv[1])
stream = sock.makefile("rw")
def call(cmd, **args):
    stream.write(json.dumps({"execute": cmd, "arguments": args}) + "\n")
    stream.flush()
    while True:
        reply = json.loads(stream.readline())
        if "return" in reply or "error" in reply:
            return reply
stream.readline()  # greeting
call("qmp_capabilities")
for line in sys.argv[2:]:
    print("==", line)
    reply = call("human-monitor-command", **{"command-line": line})
    print(reply.get("return", reply))
PY
}

# ks_boot_tries TRIES INITRD LOG DISK TIMEOUT [kernel args...]: ks_boot, booted again (TRIES in
# all) while L1 stalls; sets boot_rc. Each stalled attempt's serial log and evidence stay as
# LOG.stalled-N and LOG.stalled-N.stall. Only a stall is retried: it is the bed's fault, while an
# L1 that runs past TIMEOUT or fails is the test's business.
ks_boot_tries() {
  local tries=$1 initrd=$2 log=$3 disk=$4 tmo=$5 attempt t0
  shift 5
  for ((attempt = 1; attempt <= tries; attempt++)); do
    t0=$(ks_now)
    boot_rc=0
    ks_boot "$initrd" "$log" "$disk" "$tmo" "$@" || boot_rc=$?
    echo "== L1 ran $(ks_elapsed "$t0") s ($KS_VMM rc=$boot_rc, attempt $attempt of $tries)"
    [ "$boot_rc" = "$KS_STALLED" ] || return 0
    cp "$log" "$log.stalled-$attempt"
    mv "$log.stall" "$log.stalled-$attempt.stall"
    echo "WARNING: L1 stalled in attempt $attempt; its serial log and QEMU's view are in" \
      "$log.stalled-$attempt{,.stall}; the gist, then the log's tail:"
    grep -E '^L1 stalled|^RIP=|^(LVTT|Timer|ISR|IRR)\b' "$log.stalled-$attempt.stall" | sed 's/^/    /'
    tail -5 "$log" | sed 's/^/    /'
  done
  echo "ERROR: L1 stalled in all $tries attempts"
}

# ks_unpack_disk DISK DIR: extract the tar archive L1 wrote onto the raw disk and check the
# sha256 sums L1 made (SHA256SUMS inside the archive). Fails when L1 wrote nothing.
ks_unpack_disk() {
  local disk=$1 dir=$2
  rm -rf "$dir"
  mkdir -p "$dir"
  tar -xf "$disk" -C "$dir" 2>/dev/null || return 1
  [ -f "$dir/SHA256SUMS" ] || return 1
  (cd "$dir" && sha256sum --quiet -c SHA256SUMS)
}

# ks_build_static SRC BUILD LOG: configure and build a fully static kvmscope in BUILD; sets BIN.
# CMAKE_LINK_SEARCH_START_STATIC=ON: with only LINK_SEARCH_END_STATIC (CMakeLists.txt), CMake puts
# -Wl,-Bdynamic before the plain "-lzstd" that ks_store links, and the -static link then fails
# with "attempted static link of dynamic object libzstd.so". Starting the search static changes
# only the link line (no -B switches); the result is checked to be static below anyway.
ks_build_static() {
  local src=$1 build=$2 log=$3
  cmake -S "$src" -B "$build" -DKVMSCOPE_STATIC=ON -DKVMSCOPE_TESTS=OFF -DKVMSCOPE_WERROR=ON \
    -DCMAKE_LINK_SEARCH_START_STATIC=ON >"$log" 2>&1 ||
    { tail -30 "$log"; ks_die "cmake configure failed (log: $log)"; }
  cmake --build "$build" --target kvmscope -j2 >>"$log" 2>&1 ||
    { tail -30 "$log"; ks_die "static build failed (log: $log)"; }
  # shellcheck disable=SC2034 # read by the caller
  BIN=$build/kvmscope
}

# ks_check_static BIN: L1 has no libc, libbpf or libelf; a dynamic binary fails there with a
# confusing "not found".
ks_check_static() {
  local bin=$1 desc
  [ -x "$bin" ] || ks_die "no kvmscope binary at $bin"
  desc=$(file -b "$bin")
  case $desc in
    *"statically linked"* | *"static-pie linked"*) ;;
    *) ks_die "kvmscope is not static: $desc" ;;
  esac
  if ldd "$bin" >/dev/null 2>&1; then
    ks_die "ldd lists shared libraries for $bin: $(ldd "$bin" | tr '\n' ' ')"
  fi
  echo "== $bin: $desc"
}

# ks_static_kvmscope SRC BUILD LOG [PREBUILT]: the static kvmscope for L1 in BIN: PREBUILT when
# given (harness development), else built in BUILD; checked to be static either way.
ks_static_kvmscope() {
  local src=$1 build=$2 log=$3 prebuilt=${4:-} t0
  mkdir -p "$build"
  if [ -n "$prebuilt" ]; then
    BIN=$prebuilt
    echo "== using the prebuilt $BIN (not building)"
  else
    t0=$(ks_now)
    echo "== building static kvmscope in $build"
    ks_build_static "$src" "$build" "$log"
    echo "== build took $(ks_elapsed "$t0") s"
  fi
  ks_check_static "$BIN"
}

# ks_begin CHECKER RECIPE_DIR: what every runner does first. The host-side checker checks itself
# (a second, no boot: a broken checker must not pass anything), then the bed is made ready.
ks_begin() {
  local checker=$1 recipe=$2
  command -v python3 >/dev/null || ks_skip "python3 is needed to check the results on the host"
  python3 "$checker" --self-test >/dev/null || ks_die "$(basename "$checker") --self-test failed"
  ks_prepare_bed "$recipe"
  echo "== bed: $KS_WORK (L1 kernel $KS_KVER)"
}

# ks_run_l1 NAME INITRD LOG DISK OUT TIMEOUT [KERNEL ARGS...]: boot L1 (ks_boot) and unpack its
# verified results into OUT; sets boot_rc (the emulator's status: non-zero = no clean power-off
# within TIMEOUT). Where nothing verified came back, prints the serial log's tail and exits 1 (test NAME
# failed).
ks_run_l1() {
  local name=$1 initrd=$2 log=$3 disk=$4 out=$5 tmo=$6
  shift 6
  local how="QEMU TCG"
  [ "$KS_VMM" = bochs ] && how="Bochs (Intel VMX)"
  echo "== booting L1 under $how (timeout ${tmo} s, serial log $log)"
  ks_boot_tries "${KS_BOOT_TRIES:-4}" "$initrd" "$log" "$disk" "$tmo" "$@"
  [ "$boot_rc" = 0 ] || echo "ERROR: L1 did not power off cleanly within $tmo s ($KS_VMM rc=$boot_rc)"
  if ! ks_unpack_disk "$disk" "$out"; then
    echo "ERROR: no verified results came back from L1; tail of $log:"
    tail -60 "$log"
    echo "FAIL $name (total $(ks_elapsed "$t_start") s)"
    exit 1
  fi
  rm -f "$disk"
}
