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
};

/* One exit, streamed through the ring buffer when exact every-N printing is asked for. */
struct ks_exit_event {
  ks_u64 ts_ns;
  struct ks_exit_key key;
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
