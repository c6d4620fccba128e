#!/bin/bash
# Agreement: one guest run traced at once by kvmscope and by perf kvm stat (and counted by the
# kernel's own tracefs hist triggers as the reference), inside the nested SVM L1 where kvm_exit
# fires for real. Per reason, the counts must be equal to the exit, and the mean handling times
# within a stated tolerance.
#
#   bench/peers/agreement.sh            guest run, then a full L2 Linux boot (qemu in L1)
# Env: AGREE_CPUID/AGREE_IO/AGREE_HLT (default 200000/20000/20000), AGREE_L2=0 to skip the L2
#      boot, AGREE_TOL_PCT / AGREE_TOL_US (mean time tolerance: 5 % or 2 us, whichever is larger).
#
# How both trace the very same exits with no race: kvmscope traces the command it starts and
# everything forked from it, so it wraps perf, and perf wraps the guest:
#   kvmscope stat --share-tracepoints --json -o ks.json -- sh -c '
#       perf kvm stat record -o perf.data -- kvmscope guest --cpuid ... --io ... --hlt ...; ...'
#   perf kvm -i perf.data stat report --event=vmexit
# Both are attached before the guest's first instruction and detached after its last.
# --share-tracepoints: without it kvmscope's BPF programs return 0 and the kernel hands the
# kvm tracepoints to no perf consumer (perf would see nothing).
# perf kvm stat counts an exit when the next kvm_entry arrives; the last exit of each vCPU
# (the guest's final HLT, after which the VMM never re-enters) has none. kvmscope counts it
# and says so with timed = count - 1 for that reason; the check is perf == kvmscope.timed for
# every reason, and kvmscope.count == the tracefs reference.
# The shell under kvmscope also saves kvmscope's BPF program statistics
# (kernel.bpf_stats_enabled) before kvmscope unloads them: how long its kvm_exit and kvm_entry
# programs run per event is the known part of the offset between the two mean times (each tool
# stamps the events at a different point; see peers.py).
. "$(dirname "$0")/lib.sh"

C=${AGREE_CPUID:-200000} I=${AGREE_IO:-20000} H=${AGREE_HLT:-20000}
CASES=$RESULTS/agreement-cases
rm -rf "$CASES" && mkdir -p "$CASES"

# agreement_case FILE COMMAND: the case script tracing COMMAND with both tools.
agreement_case() {
  local f=$1 cmd=$2
  {
    echo "# timeout: 1500"
    echo ". /opt/peers-run/l1-lib.sh"
    echo "sysctl -q -w kernel.bpf_stats_enabled=1"
    echo "hist_start"
    echo "cat >inner.sh <<'EOS'"
    echo "perf kvm stat record -o perf.data -- $cmd >inner.out 2>perf-record.err; rc=\$?"
    echo "grep -h '^prog_id:' /proc/\$PPID/fdinfo/* | awk '{ print \"kvmscope\", \$2 }' | sort -u >owners"
    echo "bpftool prog show --json >progs.json"
    echo "exit \$rc"
    echo "EOS"
    echo "/usr/bin/time -v -o ks.time kvmscope stat --share-tracepoints --json -o ks.json -- sh inner.sh"
    echo "echo \"stat rc=\$?\""
    echo "hist_stop ref"
    echo "sysctl -q -w kernel.bpf_stats_enabled=0"
    echo "cat inner.out"
    echo "# perf 6.1 prints the report on stderr."
    echo "perf kvm -i perf.data stat report --event=vmexit >perf-report.txt 2>&1"
    echo "echo \"report rc=\$?\""
    echo "cat perf-report.txt"
  } >"$f"
}

agreement_case "$CASES/10-guest.sh" "kvmscope guest --cpuid $C --io $I --hlt $H"
# Observer effect on the mean times: the same guest under each tool alone.
cat >"$CASES/11-perf-alone.sh" <<EOF
# timeout: 1200
perf kvm stat record -o perf.data -- kvmscope guest --cpuid $C --io $I --hlt $H >inner.out 2>perf-record.err
perf kvm -i perf.data stat report --event=vmexit >perf-report.txt 2>&1
cat perf-report.txt
rm -f perf.data
EOF
cat >"$CASES/12-kvmscope-alone.sh" <<EOF
# timeout: 1200
kvmscope stat --json -o ks.json -- kvmscope guest --cpuid $C --io $I --hlt $H
EOF
if [ "${AGREE_L2:-1}" = 1 ]; then
  # A full L2 Linux boot (the bed's 6.1 kernel, pc machine, SeaBIOS) with qemu -enable-kvm in
  # L1; the L2 init powers off at once.
  agreement_case "$CASES/20-l2boot.sh" "qemu-system-x86_64 -enable-kvm -cpu host -M pc -m 256M \
-smp 1 -nodefaults -no-user-config -vga none -nic none -display none -no-reboot \
-serial file:l2-serial.log -monitor none -kernel /opt/l2/vmlinuz -initrd /opt/peers-run/l2-initrd.gz \
-append 'console=ttyS0 panic=-1 quiet loglevel=4'"
fi

run_l1_cases agreement "$CASES"
python3 "$PY" agreement "$RESULTS/agreement" --tol-pct "${AGREE_TOL_PCT:-5}" --tol-us "${AGREE_TOL_US:-2}"
