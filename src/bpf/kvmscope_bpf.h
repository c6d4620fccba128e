/* Shared between the BPF programs and C++: constants and plain-old-data only. */
#ifndef KVMSCOPE_BPF_H
#define KVMSCOPE_BPF_H

#ifdef __cplusplus
#include <cstdint>
typedef std::uint8_t ks_u8;
typedef std::uint16_t ks_u16;
typedef std::uint32_t ks_u32;
typedef std::uint64_t ks_u64;
#else
typedef __u8 ks_u8;
typedef __u16 ks_u16;
typedef __u32 ks_u32;
typedef __u64 ks_u64;
#endif

/* log2 histogram of handling time in ns: slot 0 holds [0, 2), slot i holds [2^i, 2^(i+1)),
 * the last slot everything from 2^39 ns (about 9 minutes) up. */
#define KS_HIST_SLOTS 40

/* Exit levels, always reported apart. */
#define KS_LEVEL_HW 0  /* kvm:kvm_exit, a hardware VM exit */
#define KS_LEVEL_VMM 1 /* kvm:kvm_userspace_exit, KVM_RUN returned to the VMM */

/* isa as the kernel's kvm_exit tracepoint reports it (KVM_ISA_VMX, KVM_ISA_SVM); 0 for VMM exits. */
#define KS_ISA_NONE 0
#define KS_ISA_VMX 1
#define KS_ISA_SVM 2

/* A process name as the kernel keeps it (TASK_COMM_LEN), NUL included. */
#define KS_COMM_LEN 16

/* vCPU not known (a VMM exit on a thread whose vCPU id was never seen). */
#define KS_VCPU_UNKNOWN 0xffffffffu

/* VMM-level reason codes for KVM_RUN failing instead of exiting: high bit set, low bits -errno. */
#define KS_VMM_ERRNO_FLAG 0x80000000u

struct ks_exit_key {
  ks_u32 tgid;   /* the VM: the process that owns the vCPU thread */
  ks_u32 vcpu;   /* vcpu_id from the tracepoint, KS_VCPU_UNKNOWN if not known */
  ks_u32 reason; /* raw exit_reason (VMX flags included) or KVM_EXIT_* */
  ks_u16 isa;
  ks_u8 level;
  ks_u8 pad;
};

struct ks_exit_val {
  ks_u64 count;   /* exits seen */
  ks_u64 timed;   /* exits whose handling time was measured */
  ks_u64 time_ns; /* sum of the measured handling times */
  ks_u64 max_ns;
  ks_u64 hist[KS_HIST_SLOTS];
  /* The VM's process name (its group leader's comm), written by the exit that created this
   * counter: a VM that ended before user space read the counters keeps its name. */
  char comm[KS_COMM_LEN];
};

/* One exit, streamed through the ring buffer when exact every-N printing is asked for. */
struct ks_exit_event {
  ks_u64 ts_ns;
  struct ks_exit_key key;
};

/* Drill-downs: what an exit was about (stat --by), aggregated per VM. */
enum ks_drill_kind {
  KS_DRILL_PORT = 1,      /* kvm_pio:  value = port,  flags = rw (1 = out) | size << 1 */
  KS_DRILL_MMIO = 2,      /* kvm_mmio: value = gpa,   flags = type (0 unsatisfied read, 1 read, 2 write) */
  KS_DRILL_MSR = 3,       /* kvm_msr:  value = index, flags = write | fault << 1 */
  KS_DRILL_CPUID = 4,     /* kvm_cpuid: value = function (leaf) */
  KS_DRILL_HYPERCALL = 5, /* kvm_hypercall: value = nr */
};

struct ks_drill_key {
  ks_u32 tgid;
  ks_u8 kind;
  ks_u8 flags;
  ks_u16 pad;
  ks_u64 value;
};

/* Every event `record` keeps, one fixed-size record each (the file format stores these, see
 * docs/file-format.md). Fields a, b, c depend on the type:
 *   KS_EV_EXIT            a = exit_reason (raw), b = isa,            c = guest rip
 *   KS_EV_ENTRY           (none)
 *   KS_EV_USERSPACE_EXIT  a = KVM_EXIT_* or KS_VMM_ERRNO_FLAG|errno
 *   KS_EV_KVM_RUN         (none): the VMM re-enters KVM_RUN
 *   KS_EV_PIO             a = port,   b = rw (1 = out/write), c = size | count << 32
 *   KS_EV_MMIO            a = gpa,    b = type (KVM_TRACE_MMIO_*: 0 read-unsatisfied, 1 read,
 *                                      2 write), c = len
 *   KS_EV_MSR             a = index,  b = write,  c = fault
 *   KS_EV_CPUID           a = function (leaf), b = index (subleaf)
 *   KS_EV_HYPERCALL       a = nr
 *   KS_EV_PROCESS_EXIT    (none): a traced process (the VM) ended */
enum ks_event_type {
  KS_EV_EXIT = 1,
  KS_EV_ENTRY = 2,
  KS_EV_USERSPACE_EXIT = 3,
  KS_EV_KVM_RUN = 4,
  KS_EV_PIO = 5,
  KS_EV_MMIO = 6,
  KS_EV_MSR = 7,
  KS_EV_CPUID = 8,
  KS_EV_HYPERCALL = 9,
  KS_EV_PROCESS_EXIT = 10,
  KS_EV_TYPE_MAX = 10,
};

struct ks_event {
  ks_u64 ts_ns; /* CLOCK_MONOTONIC (bpf_ktime_get_ns) */
  ks_u32 tgid;
  ks_u32 tid;
  ks_u32 vcpu; /* KS_VCPU_UNKNOWN where the event does not say and the thread is not known */
  ks_u16 cpu;
  ks_u8 type;  /* enum ks_event_type */
  ks_u8 pad;
  ks_u64 a;
  ks_u64 b;
  ks_u64 c;
};

/* Collector health counters (a per-CPU array indexed by these). */
enum ks_health {
  KS_HEALTH_EXITS_NOT_STORED = 0, /* the exits map was full: counted here instead */
  KS_HEALTH_EVENTS_LOST = 1,      /* ring buffer full: events not streamed */
  KS_HEALTH_THREADS_NOT_STORED = 2, /* thread map full: handling time not measured */
  KS_HEALTH_TARGETS_NOT_STORED = 3, /* a forked child could not be added to the filter */
  KS_HEALTH_NR = 4,
};

#endif
