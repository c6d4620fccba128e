# shellcheck shell=bash
# Sourced by the cases inside the peers' L1 (bash). Helpers to start a tracer in the background,
# wait until it is attached, stop it the way a user would (SIGINT), count the reference with
# tracefs hist triggers, and read peak memory.
#
# The nested bed's L1 helpers (tests/nested/l1-lib.sh): hist_start / hist_stop (the kernel's own
# exit counts, tracefs hist triggers), uptime_s, arg.
# shellcheck source=../l1-lib.sh
. /opt/peers-run/nested-l1-lib.sh

# wait_for_file_text FILE REGEX TIMEOUT_S [PID]: until FILE holds a line matching REGEX; gives
# up early when PID (the process expected to write it) is gone.
wait_for_file_text() {
  local f=$1 re=$2 tmo=$3 pid=${4:-} n=0
  while ! grep -q -E "$re" "$f" 2>/dev/null; do
    [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null && return 1
    sleep 0.2
    n=$((n + 1))
    [ $((n / 5)) -ge "$tmo" ] && return 1
  done
  return 0
}

# wait_bpf_prog NAME TIMEOUT_S: until a BPF program NAME is loaded (attach follows at once; the
# caller sleeps a little more).
wait_bpf_prog() {
  local name=$1 tmo=$2 n=0
  while ! bpftool prog show name "$name" >/dev/null 2>&1; do
    sleep 0.2
    n=$((n + 1))
    [ $((n / 5)) -ge "$tmo" ] && return 1
  done
  return 0
}

# child_of PID: the first child of PID (a tracer started under GNU time: time ignores SIGINT
# while it waits, so the signal must go to the tracer itself; `env` execs, same pid).
child_of() {
  local n=0 c
  while [ $n -lt 100 ]; do
    c=$(pgrep -P "$1" | head -1)
    [ -n "$c" ] && { echo "$c"; return 0; }
    sleep 0.05
    n=$((n + 1))
  done
  echo "$1"
}

# stop_and_wait PID [TIMEOUT_S] [WAIT_PID]: SIGINT (what Ctrl-C sends) to PID, then wait for it
# (and for WAIT_PID, its GNU time parent, if given); SIGKILL after the timeout.
stop_and_wait() {
  local pid=$1 tmo=${2:-120} wpid=${3:-$1} n=0
  kill -INT "$pid" 2>/dev/null
  while kill -0 "$pid" 2>/dev/null; do
    sleep 0.2
    n=$((n + 1))
    if [ $((n / 5)) -ge "$tmo" ]; then
      echo "stop_and_wait: $pid still running after ${tmo}s, SIGKILL" >&2
      kill -KILL "$pid" 2>/dev/null
    fi
  done
  wait "$wpid" 2>/dev/null
}

# bpf_owners TOOL PID: "TOOL prog_id" for every BPF program PID holds open (its fdinfo says
# prog_id; bpftool of bookworm does not list the owning pids).
bpf_owners() {
  grep -h '^prog_id:' /proc/"$2"/fdinfo/* 2>/dev/null | awk -v t="$1" '{ print t, $2 }' | sort -u
}

# timed OUTPREFIX CMD...: run CMD under GNU time -v (peak RSS, CPU); OUTPREFIX.time gets its report.
timed() {
  local p=$1
  shift
  /usr/bin/time -v -o "$p.time" "$@"
}

# kvmexit_svm OUT [raw]: a copy of Debian's kvmexit-bpfcc (bcc 0.26) that can count SVM exits.
# As packaged it cannot, for three reasons, each patched here and nothing else:
#  1. it refuses any CPU vendor but Intel (a precondition check): AMD is accepted;
#  2. it drops every exit_reason >= REASON_NUM (69), i.e. all SVM codes (cpuid 0x72, hlt 0x78,
#     io 0x7b, intr 0x60, npf 0x400): REASON_NUM becomes 1025, names become hex codes;
#  3. where raw tracepoints in modules are supported (5.0+) it attaches RAW_TRACEPOINT_PROBE(kvm_exit)
#     and reads ctx->args[0] as the exit reason, but since 5.x kvm_exit's first argument is the
#     struct kvm_vcpu pointer (TP_PROTO(struct kvm_vcpu *vcpu, u32 isa) in 6.1): every event is
#     dropped by the REASON_NUM check. Its own fallback, the classic tracepoint with
#     args->exit_reason, is used instead. With "raw" as 2nd argument, 3 is left as packaged (to
#     show that it counts nothing).
kvmexit_svm() {
  python3 - "$1" "${2:-}" <<'EOF'
import re, sys
src = open("/usr/sbin/kvmexit-bpfcc").read()
subs = [
    ('if b"Intel" in arch_info:', 'if b"Intel" in arch_info or b"AMD" in arch_info:'),
    ("#define REASON_NUM 69", "#define REASON_NUM 1025"),
    ("#\n# Do some checks", "exit_reasons = tuple('0x%x' % i for i in range(1025))\n\n#\n# Do some checks"),
]
if sys.argv[2] != "raw":
    subs.append(("if BPF.support_raw_tracepoint_in_module():", "if False:  # kvmscope bench: see l1-lib.sh"))
for old, new in subs:
    if old not in src:
        sys.exit("kvmexit_svm: cannot patch: %r not found" % old)
    src = src.replace(old, new, 1)
open(sys.argv[1], "w").write(src)
EOF
  chmod +x "$1"
}
