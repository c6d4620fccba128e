/* Shared between the BPF programs and C++: constants and plain-old-data only. */
#ifndef KVMSCOPE_BPF_H
#define KVMSCOPE_BPF_H

#ifdef __cplusplus
#include <cstdint>
typedef std::uint8_t ks_u8;
typedef std::uint16_t ks_u16;
typedef std::uint32_t ks_u32;
typedef std::uint64_t ks_u64;
/* Helpers both sides use: constexpr in C++, always inlined in BPF (no calls there). */
#define KS_INLINE static constexpr inline
#define KS_STATIC_ASSERT(cond, msg) static_assert(cond, msg)
#else
typedef __u8 ks_u8;
typedef __u16 ks_u16;
typedef __u32 ks_u32;
typedef __u64 ks_u64;
#define KS_INLINE static __always_inline
#define KS_STATIC_ASSERT(cond, msg) _Static_assert(cond, msg)
#endif

/* Log-linear histogram of handling time in ns (HdrHistogram-style). Values below KS_HIST_SUB
 * have a slot each; every power of two [2^k, 2^(k+1)) above is cut into KS_HIST_SUB equal slots,
 * so a slot is at most 1/KS_HIST_SUB (12.5 %) of its lowest value wide and its middle is within
 * 6.25 % of any value in it. Powers up to 2^KS_HIST_TOP_LOG2 have their own slots; the last slot
 * also holds everything from 2^(KS_HIST_TOP_LOG2+1) ns (about 18 minutes) up. The slots nest in
 * the log2 slots of KS_LOG2_SLOTS (slot 0 = [0, 2), slot i = [2^i, 2^(i+1))), which JSON and the
 * HTML report show. Both sides compute slots with ks_hist_slot() below. */
#define KS_HIST_SUB_BITS 3
#define KS_HIST_SUB (1u << KS_HIST_SUB_BITS)
#define KS_HIST_TOP_LOG2 39
#define KS_HIST_SLOTS ((KS_HIST_TOP_LOG2 - KS_HIST_SUB_BITS + 2) * KS_HIST_SUB)
#define KS_LOG2_SLOTS (KS_HIST_TOP_LOG2 + 1)
KS_STATIC_ASSERT(KS_HIST_SLOTS == 304, "the counter layout (ks_exit_val) depends on it");
KS_STATIC_ASSERT(KS_LOG2_SLOTS == 40, "JSON's hist_log2_ns has 40 slots");

/* Exit levels, always reported apart. */
#define KS_LEVEL_HW 0  /* kvm:kvm_exit, a hardware VM exit */
#define KS_LEVEL_VMM 1 /* kvm:kvm_userspace_exit, KVM_RUN returned to the VMM */

/* isa as the kernel's kvm_exit tracepoint reports it (KVM_ISA_VMX, _SVM); 0 for VMM exits. */
#define KS_ISA_NONE 0
#define KS_ISA_VMX 1
#define KS_ISA_SVM 2

/* A process name as the kernel keeps it (TASK_COMM_LEN), NUL included. */
#define KS_COMM_LEN 16

/* vCPU not known (a VMM exit on a thread whose vCPU id was never seen). */
#define KS_VCPU_UNKNOWN 0xffffffffu

/* VMM-level reason codes for KVM_RUN failing instead of exiting: high bit set, low bits -errno. */
#define KS_VMM_ERRNO_FLAG 0x80000000u

/* The KVM_EXIT_* codes (include/uapi/linux/kvm.h) kvmscope acts on. The BPF side cannot include
 * <linux/kvm.h> next to vmlinux.h's types, so they are named here once; model/exit_key.cpp
 * checks them against <linux/kvm.h>. */
#define KS_KVM_EXIT_IO 2
#define KS_KVM_EXIT_HYPERCALL 3
#define KS_KVM_EXIT_HLT 5
#define KS_KVM_EXIT_MMIO 6
#define KS_KVM_EXIT_SHUTDOWN 8
#define KS_KVM_EXIT_X86_RDMSR 29
#define KS_KVM_EXIT_X86_WRMSR 30

/* ioctl(vcpu_fd, KVM_RUN): _IO(KVMIO, 0x80), checked against <linux/kvm.h> too. */
#define KS_KVM_RUN 0xae80

/* floor(log2(v)), 0 for v = 0; branch-free (the BPF verifier sees no loop). */
KS_INLINE ks_u32 ks_log2(ks_u64 v) {
  ks_u32 r = 0, shift;
  shift = (ks_u32)(v > 0xffffffffULL) << 5;
  v >>= shift;
  r |= shift;
  shift = (ks_u32)(v > 0xffff) << 4;
  v >>= shift;
  r |= shift;
  shift = (ks_u32)(v > 0xff) << 3;
  v >>= shift;
  r |= shift;
  shift = (ks_u32)(v > 0xf) << 2;
  v >>= shift;
  r |= shift;
  shift = (ks_u32)(v > 0x3) << 1;
  v >>= shift;
  r |= shift;
  return r | (ks_u32)(v >> 1);
}

/* The histogram slot of a handling time (see KS_HIST_SLOTS). */
KS_INLINE ks_u32 ks_hist_slot(ks_u64 ns) {
  if (ns < KS_HIST_SUB) return (ks_u32)ns;
  ks_u32 k = ks_log2(ns);
  if (k > KS_HIST_TOP_LOG2) return KS_HIST_SLOTS - 1;
  return ((k - KS_HIST_SUB_BITS + 1) << KS_HIST_SUB_BITS) + (ks_u32)(ns >> (k - KS_HIST_SUB_BITS)) -
         KS_HIST_SUB;
}

/* The smallest time a slot holds (slot < KS_HIST_SLOTS). */
KS_INLINE ks_u64 ks_hist_slot_low(ks_u32 slot) {
  if (slot < KS_HIST_SUB) return slot;
  ks_u32 k = (slot >> KS_HIST_SUB_BITS) + KS_HIST_SUB_BITS - 1;
  return (ks_u64)(KS_HIST_SUB + (slot & (KS_HIST_SUB - 1))) << (k - KS_HIST_SUB_BITS);
}

struct ks_exit_key {
  ks_u32 tgid;   /* the VM: the process that owns the vCPU thread */
  ks_u32 vcpu;   /* vcpu_id from the tracepoint, KS_VCPU_UNKNOWN if not known */
  ks_u32 reason; /* raw exit_reason (VMX flags included) or KVM_EXIT_* */
  ks_u16 isa;
  ks_u8 level;
  ks_u8 pad;
};

/* One counter of the exits map: 2,480 bytes, most of it the histogram (README, Memory). */
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

/* The kernel side keeps one counter per (VM, vCPU, level, isa, reason) *and thread*: only the
 * thread itself writes it, so its adds need no atomics, and its slot in the counter array can be
 * kept in the thread's state (kvm_entry adds the time there without a hash lookup). User space
 * folds the threads of a key together when it reads them. */
struct ks_slot_key {
  struct ks_exit_key key;
  ks_u32 tid;
  ks_u32 pad;
};

/* No counter slot (the counter array was full: counted in KS_HEALTH_EXITS_NOT_STORED). */
#define KS_NO_SLOT 0xffffffffu

/* One exit, streamed through the ring buffer when exact every-N printing is asked for. */
struct ks_exit_event {
  ks_u64 ts_ns;
  struct ks_exit_key key;
};

/* Drill-downs: what an exit was about (stat --by), aggregated per VM. */
enum ks_drill_kind {
  KS_DRILL_PORT = 1,      /* kvm_pio:  value = port,  flags = ks_port_flags(rw, size) */
  KS_DRILL_MMIO = 2,      /* kvm_mmio: value = gpa,   flags = type (KVM_TRACE_MMIO_*) */
  KS_DRILL_MSR = 3,       /* kvm_msr:  value = index, flags = ks_msr_flags(write, fault) */
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

/* ks_drill_key.flags, packed by the BPF side and unpacked by user space, both with these. */
#define KS_PORT_FLAG_OUT 0x1u     /* port: bit 0 = out (write) */
#define KS_PORT_FLAG_SIZE_SHIFT 1 /* port: bits 1..7 = access size in bytes */
#define KS_MSR_FLAG_WRITE 0x1u
#define KS_MSR_FLAG_FAULT 0x2u

KS_INLINE ks_u8 ks_port_flags(ks_u32 out, ks_u32 size) {
  return (ks_u8)((out & KS_PORT_FLAG_OUT) | (size << KS_PORT_FLAG_SIZE_SHIFT));
}
KS_INLINE int ks_port_flags_out(ks_u8 flags) {
  return (flags & KS_PORT_FLAG_OUT) != 0;
}
KS_INLINE ks_u32 ks_port_flags_size(ks_u8 flags) {
  return (ks_u32)flags >> KS_PORT_FLAG_SIZE_SHIFT;
}

KS_INLINE ks_u8 ks_msr_flags(ks_u32 write, ks_u32 fault) {
  return (ks_u8)((write ? KS_MSR_FLAG_WRITE : 0) | (fault ? KS_MSR_FLAG_FAULT : 0));
}
KS_INLINE int ks_msr_flags_write(ks_u8 flags) {
  return (flags & KS_MSR_FLAG_WRITE) != 0;
}
KS_INLINE int ks_msr_flags_fault(ks_u8 flags) {
  return (flags & KS_MSR_FLAG_FAULT) != 0;
}

/* The KVM_EXIT_* a drill-down kind causes when the VMM handles it (CPUID never leaves the
 * kernel): the handling time of such an event is that exit's where no hardware exit is seen.
 * The BPF collector (stat --by) and the recording analysis (report) use the same rule. */
KS_INLINE int ks_drill_causes(ks_u32 kind, ks_u32 vmm_reason) {
  switch (kind) {
    case KS_DRILL_PORT:
      return vmm_reason == KS_KVM_EXIT_IO;
    case KS_DRILL_MMIO:
      return vmm_reason == KS_KVM_EXIT_MMIO;
    case KS_DRILL_MSR:
      return vmm_reason == KS_KVM_EXIT_X86_RDMSR || vmm_reason == KS_KVM_EXIT_X86_WRMSR;
    case KS_DRILL_HYPERCALL:
      return vmm_reason == KS_KVM_EXIT_HYPERCALL;
    default:
      return 0;
  }
}

/* Guest code (stat/top --by function): the hardware exits of each VM per guest instruction,
 * from the classic kvm_exit's guest_rip (VMX reads the RIP lazily, with a VMREAD a program cannot
 * make: the tp_btf hook has no RIP). A RIP from KS_GUEST_KERNEL_START up is the kernel's (the
 * upper half); a lower one is firmware or early boot until the vCPU's first exit from a kernel
 * RIP, and user space after it. Model's GuestSpace has the same values. */
#define KS_GUEST_KERNEL_START 0xffff800000000000ULL
#define KS_SPACE_KERNEL 0
#define KS_SPACE_EARLY 1
#define KS_SPACE_USER 2

struct ks_site_key {
  ks_u32 tgid;
  ks_u32 reason; /* raw exit_reason, as in ks_exit_key */
  ks_u64 rip;
  ks_u16 isa;
  ks_u8 space; /* KS_SPACE_* */
  ks_u8 pad[5];
};

/* What the exits at one RIP said about their instruction (the first kvm_pio / kvm_msr that
 * followed one of them): the KASLR search checks the instruction bytes against it. */
#define KS_SITE_IO 0x1u  /* io_port, io_flags (ks_port_flags) are set */
#define KS_SITE_MSR 0x2u /* a kvm_msr followed; KS_SITE_MSR_WRITE: a write */
#define KS_SITE_MSR_WRITE 0x4u
#define KS_SITE_MIXED 0x8u /* a later exit here said something else */

struct ks_site_val {
  ks_u64 count;
  ks_u64 timed;
  ks_u64 time_ns;
  ks_u64 max_ns;
  ks_u64 io_port;
  ks_u8 detail; /* KS_SITE_* */
  ks_u8 io_flags;
  ks_u8 pad[6];
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
  ks_u8 type; /* enum ks_event_type */
  ks_u8 pad;
  ks_u64 a;
  ks_u64 b;
  ks_u64 c;
};

/* The layouts user space reads from the kernel and stores in files (docs/file-format.md): no
 * padding the compiler could place differently. The ring carries ks_event (record) or
 * ks_exit_event (stream_exits) and its reader tells them apart by size alone. */
KS_STATIC_ASSERT(sizeof(struct ks_exit_key) == 16, "ks_exit_key layout");
KS_STATIC_ASSERT(__builtin_offsetof(struct ks_exit_key, isa) == 12, "ks_exit_key.isa");
KS_STATIC_ASSERT(__builtin_offsetof(struct ks_exit_key, level) == 14, "ks_exit_key.level");
KS_STATIC_ASSERT(sizeof(struct ks_exit_event) == 24, "ks_exit_event layout");
KS_STATIC_ASSERT(__builtin_offsetof(struct ks_exit_event, key) == 8, "ks_exit_event.key");
KS_STATIC_ASSERT(sizeof(struct ks_event) == 48, "ks_event layout");
KS_STATIC_ASSERT(__builtin_offsetof(struct ks_event, tgid) == 8, "ks_event.tgid");
KS_STATIC_ASSERT(__builtin_offsetof(struct ks_event, vcpu) == 16, "ks_event.vcpu");
KS_STATIC_ASSERT(__builtin_offsetof(struct ks_event, cpu) == 20, "ks_event.cpu");
KS_STATIC_ASSERT(__builtin_offsetof(struct ks_event, type) == 22, "ks_event.type");
KS_STATIC_ASSERT(__builtin_offsetof(struct ks_event, a) == 24, "ks_event.a");
KS_STATIC_ASSERT(__builtin_offsetof(struct ks_event, c) == 40, "ks_event.c");
KS_STATIC_ASSERT(sizeof(struct ks_event) != sizeof(struct ks_exit_event),
                 "the ring reader tells ks_event and ks_exit_event apart by size");
KS_STATIC_ASSERT(sizeof(struct ks_drill_key) == 16, "ks_drill_key layout");
KS_STATIC_ASSERT(sizeof(struct ks_slot_key) == 24, "ks_slot_key layout");
KS_STATIC_ASSERT(__builtin_offsetof(struct ks_slot_key, tid) == 16, "ks_slot_key.tid");
KS_STATIC_ASSERT(sizeof(struct ks_exit_val) == (4 + KS_HIST_SLOTS) * 8 + KS_COMM_LEN,
                 "ks_exit_val layout");
KS_STATIC_ASSERT(sizeof(struct ks_exit_val) == 2480, "ks_exit_val size (README, Memory)");
KS_STATIC_ASSERT(sizeof(struct ks_site_key) == 24, "ks_site_key layout");
KS_STATIC_ASSERT(__builtin_offsetof(struct ks_site_key, isa) == 16, "ks_site_key.isa");
KS_STATIC_ASSERT(sizeof(struct ks_site_val) == 48, "ks_site_val layout");
KS_STATIC_ASSERT(__builtin_offsetof(struct ks_site_val, detail) == 40, "ks_site_val.detail");

/* Collector health counters (a per-CPU array indexed by these). */
enum ks_health {
  KS_HEALTH_EXITS_NOT_STORED = 0,   /* the exits map was full: counted here instead */
  KS_HEALTH_EVENTS_LOST = 1,        /* ring buffer full: events not streamed */
  KS_HEALTH_THREADS_NOT_STORED = 2, /* thread map full: handling time not measured */
  KS_HEALTH_TARGETS_NOT_STORED = 3, /* a forked child could not be added to the filter */
  KS_HEALTH_SITES_NOT_STORED = 4,   /* the guest-code map was full: exits not attributed */
  KS_HEALTH_NR = 5,
};

#endif
