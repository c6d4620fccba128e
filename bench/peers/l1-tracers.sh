# shellcheck shell=bash
# Runs inside the peers' L1 (copied into the cases directory, sourced by the cases): run the
# guest workload untraced or under one tracer, the way a user runs each tool, and print the
# guest's own "elapsed ..., N exits/s" line. Peak RSS and CPU of the tracer go to <prefix>.time.
#
#   under TRACER PREFIX GUEST...
# TRACER: none | kvmscope | kvmscope-counts | kvmscope-classic | kvmscope-base |
#         kvmscope-base-counts | kvmscope-share |
#         perf-record | perf-live | kvmexit | kvm_stat | floor-btf-exit | floor-btf-pair |
#         floor-classic-exit | floor-classic-pair | floor-btf-count | floor-classic-uexit |
#         floor-btf-uexit
# kvmscope: tp_btf hooks where they load (the default); -counts: --counts-only; -classic: the
# classic tracepoints (KVMSCOPE_TRACEPOINTS=classic); -base: an older kvmscope carried in the
# cases directory as kvmscope-base (slowdown.sh SLOW_BASE_BIN), for before/after in one run.
# floor-*: no tool, the floor of a hook (bpf_floor.bpf.c's slow_* programs, carried in the cases
# directory): empty programs on tp_btf kvm_exit (-btf-exit), on tp_btf kvm_exit and kvm_entry
# (-btf-pair), the same on the classic tracepoints (-classic-exit, -classic-pair), and the least
# tp_btf counting by reason (-btf-count: probe reads of the SVM exit code, a per-CPU array add),
# and an empty program on kvm_userspace_exit, classic or tp_btf (-classic-uexit, -btf-uexit).
. /opt/peers-run/l1-lib.sh

KVMEXIT=/tmp/kvmexit-svm
[ -x "$KVMEXIT" ] || kvmexit_svm "$KVMEXIT"
[ -x /tmp/kvmexit-raw ] || kvmexit_svm /tmp/kvmexit-raw raw

# bg_tracer PREFIX READY_REGEX READY_TIMEOUT CMD...: start a tracer in the background under
# GNU time, wait until it prints READY_REGEX (its "attached" message), then 1 s more.
# BG_PID: the tracer, BG_TIME_PID: GNU time around it (bg_stop stops both).
bg_tracer() {
  local p=$1 re=$2 tmo=$3
  shift 3
  # A background job of a non-interactive shell starts with SIGINT ignored, and Python keeps it
  # ignored (no KeyboardInterrupt, so kvmexit-bpfcc would never print and kvm_stat never stop):
  # env restores the default disposition, as an interactive Ctrl-C would find it.
  PYTHONUNBUFFERED=1 /usr/bin/time -v -o "$p.time" env --default-signal=INT "$@" >"$p.tracer.out" 2>"$p.tracer.err" &
  BG_TIME_PID=$!
  BG_PID=$(child_of "$BG_TIME_PID")
  if ! wait_for_file_text "$p.tracer.out" "$re" "$tmo" "$BG_PID" && ! grep -q -E "$re" "$p.tracer.err"; then
    echo "tracer not ready after ${tmo}s: $*" >&2
  fi
  sleep 1
}

bg_stop() { stop_and_wait "$BG_PID" "${1:-120}" "$BG_TIME_PID"; }

under() {
  local tracer=$1 p=$2
  shift 2
  case $tracer in
    none)
      /usr/bin/time -v -o "$p.time" "$@" ;;
    kvmscope)
      /usr/bin/time -v -o "$p.time" kvmscope stat -o "$p.tracer.out" -- "$@" ;;
    kvmscope-counts)
      /usr/bin/time -v -o "$p.time" kvmscope stat --counts-only -o "$p.tracer.out" -- "$@" ;;
    kvmscope-classic)
      KVMSCOPE_TRACEPOINTS=classic /usr/bin/time -v -o "$p.time" kvmscope stat -o "$p.tracer.out" -- "$@" ;;
    kvmscope-base)
      /usr/bin/time -v -o "$p.time" /opt/peers-run/cases/kvmscope-base stat -o "$p.tracer.out" -- "$@" ;;
    kvmscope-base-counts)
      /usr/bin/time -v -o "$p.time" /opt/peers-run/cases/kvmscope-base stat --counts-only -o "$p.tracer.out" -- "$@" ;;
    kvmscope-share)
      /usr/bin/time -v -o "$p.time" kvmscope stat --share-tracepoints -o "$p.tracer.out" -- "$@" ;;
    perf-record)
      /usr/bin/time -v -o "$p.time" perf kvm stat record -o "/tmp/$p.perf.data" -- "$@" 2>"$p.tracer.err"
      rm -f "/tmp/$p.perf.data" ;;
    perf-live)
      # System-wide (perf kvm stat live has no command mode); refreshes its table every second.
      # Ready: the first refresh (it clears the screen) comes after the events are opened.
      bg_tracer "$p" '\[2J|Analyze events' 60 perf kvm stat live -d 1
      "$@"
      bg_stop ;;
    kvmexit)
      # bcc compiles its program first (a minute under TCG); its banner follows the attach.
      bg_tracer "$p" 'Display kvm exit reasons' 900 python3 "$KVMEXIT"
      "$@"
      bg_stop 600 ;;
    kvmexit-raw)
      # As packaged (raw tracepoint), vendor check and REASON_NUM patched only: counts nothing.
      bg_tracer "$p" 'Display kvm exit reasons' 900 python3 /tmp/kvmexit-raw
      "$@"
      bg_stop 600 ;;
    kvm_stat)
      # kvm_stat's per-reason counting: one perf counter per kvm event and per exit reason
      # (kvm_exit(<reason>) with a filter), read once a second in logging mode.
      bg_tracer "$p" 'kvm_exit' 120 kvm_stat -t -l -f 'kvm_exit'
      "$@"
      bg_stop ;;
    floor-*)
      local progs
      case $tracer in
        floor-btf-exit) progs=slow_btf_exit ;;
        floor-btf-pair) progs=slow_btf_exit,slow_btf_entry ;;
        floor-classic-exit) progs=slow_classic_exit ;;
        floor-classic-pair) progs=slow_classic_exit,slow_classic_entry ;;
        floor-btf-count) progs=slow_btf_count ;;
        floor-classic-uexit) progs=slow_classic_uexit ;;
        floor-btf-uexit) progs=slow_btf_uexit ;;
        *) echo "unknown tracer $tracer" >&2; return 2 ;;
      esac
      bg_tracer "$p" '^ready' 120 /opt/peers-run/cases/bpf_floor /opt/peers-run/cases/bpf_floor.bpf.o "$progs"
      "$@"
      bg_stop ;;
    *)
      echo "unknown tracer $tracer" >&2
      return 2 ;;
  esac
}
