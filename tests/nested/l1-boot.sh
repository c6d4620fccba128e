#!/bin/sh
# Runs inside L1 as /extra.sh (busybox sh; the bed's init has loaded kvm_amd or kvm_intel and
# mounted tracefs: the SVM bed under QEMU TCG or the VMX bed under Bochs).
# Boots a full L2 Linux (QEMU -enable-kvm with the L2 layer of run-boot.sh) twice: "base" alone,
# then "boot" under `kvmscope record`. Around each, tracefs hist triggers count every kvm:kvm_exit
# (by thread, isa, reason) and kvm:kvm_userspace_exit in the kernel. The host reports on the
# recording and compares (TCG makes L1 slow: nothing is analysed here).
# Kernel args: l2machine=pc|microvm (default pc), l2mem=SIZE (default 256M), ksbase=0 (no base
# run), l2diff=MACHINE (a third run "boot2": the same boot on that machine type, recorded too,
# for the host's `kvmscope diff`), kstmo=SEC (limit per run, default 300; SIGTERM first so that
# record closes its file, SIGKILL 20 s later).
# Outputs in /out, per run NAME (base, boot, boot2): NAME.{cmd,stdout,stderr,rc,secs,hist,uhist,riphist},
# NAME.t0 / NAME.t1 (L1 CLOCK_BOOTTIME in s around the run; L1 never suspends, so this is also
# CLOCK_MONOTONIC, the recording's clock), NAME.l2up (the same clock when L2's init line reached
# the serial file), NAME.qemu-pid, NAME.qemu-tids (every thread of QEMU seen while it ran),
# NAME.kernel-exit (the first exit from a kernel address, CLOCK_MONOTONIC time stamp),
# NAME.irq0 / NAME.irq1 (/proc/interrupts before and after), NAME.l2-serial.log; boot.kvms,
# boot2.kvms; version.txt, l1-kernel.txt, l1-kallsyms (L1's code symbols), isa.txt,
# kvm_exit.format, dmesg.txt, done.txt.
# shellcheck source=SCRIPTDIR/l1-lib.sh
. /l1-lib.sh

KS=/bin/kvmscope
QEMU=/opt/qemu/qemu-system-x86_64
L2M=$(arg l2machine)
L2M=${L2M:-pc}
L2MEM=$(arg l2mem)
L2MEM=${L2MEM:-256M}
TMO=$(arg kstmo)
TMO=${TMO:-300}

# common_pid: the thread that exited; the host checks that every counted thread belongs to the
# recorded QEMU (no other VM runs in L1, but that is then checked, not assumed). A hist trigger
# takes at most 3 keys (TRACING_MAP_KEYS_MAX), so vcpu_id is left out: L2 has one vCPU.
HIST_EXIT='hist:keys=common_pid,isa,exit_reason:size=4096'
HIST_UEXIT='hist:keys=reason,errno:size=256'
# The kernel's own count per guest instruction: the reference for report's attribution of exits
# to guest functions (`--guest-symbols`). 2^15 slots: a boot exits from a few thousand RIPs. In a
# trace instance of its own: a second hist trigger on the same event would print into the same
# `hist` file as HIST_EXIT's.
HIST_RIP='hist:keys=exit_reason,guest_rip:size=32768'
RIPI=$T/instances/ksrip

# watch_qemu: while the run lasts, note QEMU's pid, each of its threads, and the L1 time when L2's
# init line ("=== L2 up") reached the serial file; the host turns that time into a phase mark.
# Polling every 0.2 s: a thread that lives shorter than that can be missed, which only makes the
# host's thread check stricter (the vCPU thread lives from start to end).
watch_qemu() {
  pid=""
  up=""
  while [ ! -f /tmp/boot.done ]; do
    if [ -z "$pid" ]; then
      for p in /proc/[0-9]*; do
        if [ "$(readlink "$p/exe" 2>/dev/null)" = "$QEMU" ]; then
          pid=${p#/proc/}
          echo "$pid" >/tmp/qemu.pid
        fi
      done
    fi
    if [ -n "$pid" ]; then
      for t in /proc/"$pid"/task/*; do
        tid=${t##*/}
        [ "$tid" = "*" ] || grep -qx "$tid" /tmp/qemu-tids 2>/dev/null || echo "$tid" >>/tmp/qemu-tids
      done
    fi
    if [ -z "$up" ] && grep -q '=== L2 up' /tmp/l2.log 2>/dev/null; then
      up=$(uptime_s)
      echo "$up" >/tmp/l2up
    fi
    sleep 0.2
  done
}

# kernel_mark_start / kernel_mark_stop NAME: when did the L2 kernel proper start? A trace instance
# of its own (the main buffer and the hist triggers stay untouched) logs the first kvm_exit whose
# guest RIP is a kernel address (>= 0xffffffff80000000: SeaBIOS, the option ROM and the
# decompressor run at low addresses) and then turns itself off. Exits come often (L1's timer
# interrupts exit too), so that first one is within milliseconds of the kernel's start. The 'mono'
# clock is CLOCK_MONOTONIC, the recording's clock.
KM=$T/instances/ksboot
KM_IF='guest_rip >= 0xffffffff80000000'
kernel_mark_start() {
  rmdir "$KM" 2>/dev/null
  mkdir "$KM" || return 0
  echo mono >"$KM/trace_clock"
  echo "$KM_IF" >"$KM/events/kvm/kvm_exit/filter"
  echo "traceoff:1 if $KM_IF" >"$KM/events/kvm/kvm_exit/trigger"
  echo 1 >"$KM/events/kvm/kvm_exit/enable"
}
kernel_mark_stop() {
  [ -d "$KM" ] || return 0
  echo 0 >"$KM/events/kvm/kvm_exit/enable"
  grep -v '^#' "$KM/trace" | head -3 >"$L1_OUT/$1.kernel-exit"
  echo "!traceoff:1 if $KM_IF" >"$KM/events/kvm/kvm_exit/trigger"
  rmdir "$KM" 2>/dev/null
}

# l2_run NAME CMD...: one L2 boot with the kernel's own counts around it. The hist triggers are
# added before CMD starts and read after it ends, so they cover every exit CMD can cause; removing
# a trigger frees its table, so each run starts from zero. /proc/interrupts before and after shows
# what L1 itself handled meanwhile (LOC timer ticks, IWI irq_work self-IPIs, ...).
l2_run() {
  name=$1
  shift
  echo "$*" >"$L1_OUT/$name.cmd"
  echo "=== KS-BOOT BEGIN $name: $*"
  rm -f /tmp/boot.done /tmp/l2.log /tmp/qemu.pid /tmp/l2up
  : >/tmp/qemu-tids
  echo "$HIST_EXIT" >"$T/events/kvm/kvm_exit/trigger"
  echo "$HIST_UEXIT" >"$T/events/kvm/kvm_userspace_exit/trigger"
  rmdir "$RIPI" 2>/dev/null
  mkdir "$RIPI" && echo "$HIST_RIP" >"$RIPI/events/kvm/kvm_exit/trigger"
  cat /proc/interrupts >"$L1_OUT/$name.irq0"
  kernel_mark_start
  watch_qemu &
  watcher=$!
  uptime_s >"$L1_OUT/$name.t0"
  timeout -s KILL $((TMO + 20)) timeout "$TMO" "$@" >"$L1_OUT/$name.stdout" 2>"$L1_OUT/$name.stderr"
  rc=$?
  uptime_s >"$L1_OUT/$name.t1"
  cat /proc/interrupts >"$L1_OUT/$name.irq1"
  kernel_mark_stop "$name"
  cat "$T/events/kvm/kvm_exit/hist" >"$L1_OUT/$name.hist"
  cat "$T/events/kvm/kvm_userspace_exit/hist" >"$L1_OUT/$name.uhist"
  cat "$RIPI/events/kvm/kvm_exit/hist" >"$L1_OUT/$name.riphist" 2>/dev/null
  echo "!$HIST_RIP" >"$RIPI/events/kvm/kvm_exit/trigger" 2>/dev/null
  rmdir "$RIPI" 2>/dev/null
  echo "!$HIST_EXIT" >"$T/events/kvm/kvm_exit/trigger"
  echo "!$HIST_UEXIT" >"$T/events/kvm/kvm_userspace_exit/trigger"
  touch /tmp/boot.done
  wait "$watcher"
  echo "$rc" >"$L1_OUT/$name.rc"
  awk -v a="$(cat "$L1_OUT/$name.t0")" -v b="$(cat "$L1_OUT/$name.t1")" 'BEGIN { printf "%.2f\n", b - a }' \
    >"$L1_OUT/$name.secs"
  cp /tmp/l2.log "$L1_OUT/$name.l2-serial.log" 2>/dev/null
  mv /tmp/qemu-tids "$L1_OUT/$name.qemu-tids"
  mv /tmp/qemu.pid "$L1_OUT/$name.qemu-pid" 2>/dev/null
  mv /tmp/l2up "$L1_OUT/$name.l2up" 2>/dev/null
  echo "--- stdout"
  cat "$L1_OUT/$name.stdout"
  echo "--- stderr"
  cat "$L1_OUT/$name.stderr"
  echo "--- L2 serial log"
  cat "$L1_OUT/$name.l2-serial.log" 2>/dev/null
  echo "--- kvm_exit hist (reference)"
  grep -E 'Hits|Dropped' "$L1_OUT/$name.hist"
  echo "=== KS-BOOT END $name: rc=$rc secs=$(cat "$L1_OUT/$name.secs")"
  # Save after each run: should the next one hang L1 past the host's timeout, this one comes back.
  l1_save_out >/dev/null
}

l1_heartbeat
l1_load_outdisk
l1_isa_files
"$KS" --version >"$L1_OUT/version.txt" 2>&1
uname -r >"$L1_OUT/l1-kernel.txt"
# L1 runs the very kernel L2 boots (one bzImage): its own code symbols, less its own KASLR offset,
# are that kernel's System.map, which Debian ships only in the ~1 GB -dbg package. The host makes
# the System.map from this (tests/nested/README.md, "Guest code").
awk '$2 ~ /^[tTwW]$/ && NF == 3' /proc/kallsyms >"$L1_OUT/l1-kallsyms"
echo "=== KS-BOOT START $(uname -r) uptime $(uptime_s)s kvmscope $(cat "$L1_OUT/version.txt")"

# The bed's L2 command line (the one the bed always used) plus -name, so the report names the VM.
set -- "$QEMU" -enable-kvm -name l2-boot -cpu host -M "$L2M" -m "$L2MEM" -smp 1 \
  -L /opt/qemu/fw -nodefaults -no-user-config -vga none -nic none -display none -no-reboot \
  -serial file:/tmp/l2.log -monitor none \
  -kernel /opt/l2/vmlinuz -initrd /opt/l2/initrd.gz \
  -append "console=ttyS0 panic=-1 quiet loglevel=4"

# base: the same boot without kvmscope, counted by the kernel alone: what the boot costs with
# no observer but the hist triggers (ksbase=0 leaves it out).
[ "$(arg ksbase)" = 0 ] || l2_run base "$@"
# boot: the recording. Its hist counts are the reference the host compares the report with.
# Inside it, the same boot is watched live by `stat --by function --guest-kernel` (the kernel's
# per-RIP counts, the KASLR offset found in L2's own bzImage): the host holds it to the same hist
# (kslive=0 leaves it out). stat makes no exits itself, and record follows it into QEMU.
if [ "$(arg kslive)" = 0 ]; then
  l2_run boot "$KS" record --force -o "$L1_OUT/boot.kvms" -- "$@"
else
  l2_run boot "$KS" record --force -o "$L1_OUT/boot.kvms" -- "$KS" stat --by function \
    --guest-kernel /opt/l2/vmlinuz --json -o "$L1_OUT/boot.live" -- "$@"
fi

# boot2 (l2diff=MACHINE): the same command with -M MACHINE, recorded with its own hist counts.
L2DIFF=$(arg l2diff)
if [ -n "$L2DIFF" ]; then
  n=$#
  prev=
  for a do
    if [ "$prev" = -M ]; then set -- "$@" "$L2DIFF"; else set -- "$@" "$a"; fi
    prev=$a
  done
  shift "$n"
  l2_run boot2 "$KS" record --force -o "$L1_OUT/boot2.kvms" -- "$@"
fi

dmesg >"$L1_OUT/dmesg.txt"
uptime_s >"$L1_OUT/done.txt"
echo "=== KS-BOOT DONE uptime $(uptime_s)s"
l1_save_out
