// SPDX-License-Identifier: GPL-2.0
/* kvmscope's in-kernel aggregation of VM exits.
 *
 * Hardware exits: kvm:kvm_exit counts the exit; the next kvm:kvm_entry on the same thread adds
 * the handling time. Exits to the VMM: kvm:kvm_userspace_exit counts the exit; the thread's next
 * ioctl(KVM_RUN) (the VMM re-entering the guest) adds the time the VMM took. That ioctl also
 * tells which vCPU a thread runs, since kvm_userspace_exit has no vcpu_id.
 *
 * Tracepoint fields are read through CO-RE (the structs below are relocated against the running
 * kernel's BTF, vmlinux or the kvm module), so one object loads on 6.1 and 6.18 alike. */
#include <linux/bpf.h>
#include <linux/types.h>
#include <stdbool.h>
#include <asm/ptrace.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "bpf/kvmscope_bpf.h"

char LICENSE[] SEC("license") = "GPL";

#define E2BIG 7
#define EEXIST 17

/* Set between open and load. */
const volatile bool filter_tgid = false; /* count only processes in `targets` */
const volatile bool stream_events = false; /* also send each exit of stream_level to `events` */
const volatile __u8 stream_level = KS_LEVEL_HW;

struct trace_event_raw_kvm_exit___ks {
  unsigned int exit_reason;
  unsigned int isa;
  unsigned int vcpu_id;
} __attribute__((preserve_access_index));

struct trace_event_raw_kvm_entry___ks {
  unsigned int vcpu_id;
} __attribute__((preserve_access_index));

struct trace_event_raw_kvm_userspace_exit___ks {
  __u32 reason;
  int errno;
} __attribute__((preserve_access_index));

struct trace_event_raw_sched_process_fork___ks {
  int child_pid;
} __attribute__((preserve_access_index));

struct kvm_vcpu___ks {
  int vcpu_id;
} __attribute__((preserve_access_index));

struct file___ks {
  void* private_data;
} __attribute__((preserve_access_index));

struct fdtable___ks {
  unsigned int max_fds;
  struct file___ks** fd;
} __attribute__((preserve_access_index));

struct files_struct___ks {
  struct fdtable___ks* fdt;
} __attribute__((preserve_access_index));

struct task_struct___ks {
  struct files_struct___ks* files;
} __attribute__((preserve_access_index));

/* A vCPU runs on one CPU at a time and the key holds the vCPU, so one shared hash with atomic
 * adds sees no contention; per-CPU copies would only multiply memory and readout time. */
struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 16384); /* resized from user space before load */
  __type(key, struct ks_exit_key);
  __type(value, struct ks_exit_val);
} exits SEC(".maps");

/* Per vCPU thread: the exit waiting for its entry, and the vCPU id the thread runs. */
struct ks_thread {
  __u64 hw_ts;
  __u64 vmm_ts;
  struct ks_exit_key hw_key;
  struct ks_exit_key vmm_key;
  __u32 vcpu;
  __u32 vcpu_fd; /* the fd vcpu was read from */
};

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 65536);
  __type(key, __u32); /* tid */
  __type(value, struct ks_thread);
} threads SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 8192);
  __type(key, __u32); /* tgid, or the tid of a thread a target created (see on_fork) */
  __type(value, __u8);
} targets SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, KS_HEALTH_NR);
  __type(key, __u32);
  __type(value, __u64);
} health SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_RINGBUF);
  __uint(max_entries, 4096); /* resized from user space when streaming */
} events SEC(".maps");

static const struct ks_exit_val zero_val;

static __always_inline void health_inc(__u32 which) {
  __u64* n = bpf_map_lookup_elem(&health, &which);
  if (n) *n += 1; /* per-CPU slot */
}

static __always_inline bool traced(__u32 tgid) {
  return !filter_tgid || bpf_map_lookup_elem(&targets, &tgid) != NULL;
}

static __always_inline __u32 log2_slot(__u64 v) {
  __u32 r = 0, shift;
  shift = (v > 0xffffffffULL) << 5; v >>= shift; r |= shift;
  shift = (v > 0xffff) << 4; v >>= shift; r |= shift;
  shift = (v > 0xff) << 3; v >>= shift; r |= shift;
  shift = (v > 0xf) << 2; v >>= shift; r |= shift;
  shift = (v > 0x3) << 1; v >>= shift; r |= shift;
  r |= (v >> 1);
  return r < KS_HIST_SLOTS ? r : KS_HIST_SLOTS - 1;
}

static __always_inline struct ks_thread* thread_get(__u32 tid) {
  struct ks_thread* t = bpf_map_lookup_elem(&threads, &tid);
  if (t) return t;
  struct ks_thread fresh = {};
  fresh.vcpu = KS_VCPU_UNKNOWN;
  long err = bpf_map_update_elem(&threads, &tid, &fresh, BPF_NOEXIST);
  if (err && err != -EEXIST) {
    health_inc(KS_HEALTH_THREADS_NOT_STORED);
    return NULL;
  }
  return bpf_map_lookup_elem(&threads, &tid);
}

static __always_inline void count_exit(const struct ks_exit_key* key, __u64 now) {
  struct ks_exit_val* v = bpf_map_lookup_elem(&exits, key);
  if (!v) {
    long err = bpf_map_update_elem(&exits, key, &zero_val, BPF_NOEXIST);
    if (err && err != -EEXIST) {
      health_inc(KS_HEALTH_EXITS_NOT_STORED);
      return;
    }
    v = bpf_map_lookup_elem(&exits, key);
    if (!v) return;
  }
  __sync_fetch_and_add(&v->count, 1);

  if (stream_events && key->level == stream_level) {
    struct ks_exit_event* e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
    if (!e) {
      health_inc(KS_HEALTH_EVENTS_LOST);
      return;
    }
    e->ts_ns = now;
    e->key = *key;
    bpf_ringbuf_submit(e, 0);
  }
}

static __always_inline void add_time(const struct ks_exit_key* key, __u64 delta) {
  struct ks_exit_val* v = bpf_map_lookup_elem(&exits, key);
  if (!v) return; /* the exit itself was not stored, and was counted as such */
  __sync_fetch_and_add(&v->timed, 1);
  __sync_fetch_and_add(&v->time_ns, delta);
  __sync_fetch_and_add(&v->hist[log2_slot(delta)], 1);
  if (delta > v->max_ns) v->max_ns = delta; /* one vCPU per key: no concurrent writer */
}

SEC("tracepoint/kvm/kvm_exit")
int on_kvm_exit(struct trace_event_raw_kvm_exit___ks* ctx) {
  __u64 id = bpf_get_current_pid_tgid();
  __u32 tgid = id >> 32, tid = (__u32)id;
  if (!traced(tgid)) return 0;

  __u64 now = bpf_ktime_get_ns();
  struct ks_exit_key key = {};
  key.tgid = tgid;
  key.vcpu = ctx->vcpu_id;
  key.reason = ctx->exit_reason;
  key.isa = (__u16)ctx->isa;
  key.level = KS_LEVEL_HW;
  count_exit(&key, now);

  struct ks_thread* t = thread_get(tid);
  if (t) {
    t->hw_key = key;
    t->hw_ts = now;
    t->vcpu = key.vcpu;
  }
  return 0;
}

SEC("tracepoint/kvm/kvm_entry")
int on_kvm_entry(struct trace_event_raw_kvm_entry___ks* ctx) {
  /* Only threads that exited while traced have state: no target lookup needed. */
  __u32 tid = (__u32)bpf_get_current_pid_tgid();
  struct ks_thread* t = bpf_map_lookup_elem(&threads, &tid);
  if (!t || !t->hw_ts) return 0;
  __u64 delta = bpf_ktime_get_ns() - t->hw_ts;
  t->hw_ts = 0;
  add_time(&t->hw_key, delta);
  return 0;
}

SEC("tracepoint/kvm/kvm_userspace_exit")
int on_userspace_exit(struct trace_event_raw_kvm_userspace_exit___ks* ctx) {
  __u64 id = bpf_get_current_pid_tgid();
  __u32 tgid = id >> 32, tid = (__u32)id;
  if (!traced(tgid)) return 0;

  __u64 now = bpf_ktime_get_ns();
  int err = ctx->errno;
  struct ks_thread* t = thread_get(tid);
  struct ks_exit_key key = {};
  key.tgid = tgid;
  key.vcpu = t ? t->vcpu : KS_VCPU_UNKNOWN;
  key.reason = err < 0 ? (KS_VMM_ERRNO_FLAG | (__u32)-err) : ctx->reason;
  key.isa = KS_ISA_NONE;
  key.level = KS_LEVEL_VMM;
  count_exit(&key, now);
  if (t) {
    t->vmm_key = key;
    t->vmm_ts = now;
  }
  return 0;
}

/* The VMM re-enters KVM_RUN: ioctl(vcpu_fd, KVM_RUN). A syscall tracepoint, not a kprobe or
 * fentry on kvm_arch_vcpu_ioctl_run(): those are missing on kernels built without kprobes or
 * with function tracing locked down, while syscall tracepoints are classic and stable ABI. */
struct sys_enter_ioctl_args {
  __u64 common;
  int nr;
  int pad;
  __u64 fd;
  __u64 cmd;
  __u64 arg;
};

#define KS_KVM_RUN 0xae80 /* _IO(KVMIO, 0x80) */

/* fd -> struct file -> private_data (struct kvm_vcpu) -> vcpu_id, as the kernel itself does. */
static __always_inline __u32 vcpu_of_fd(__u32 fd) {
  struct task_struct___ks* task = (void*)bpf_get_current_task();
  struct fdtable___ks* fdt = BPF_CORE_READ(task, files, fdt);
  if (!fdt || fd >= BPF_CORE_READ(fdt, max_fds)) return KS_VCPU_UNKNOWN;
  struct file___ks** fds = BPF_CORE_READ(fdt, fd);
  struct file___ks* file = NULL;
  if (bpf_probe_read_kernel(&file, sizeof(file), &fds[fd]) || !file) return KS_VCPU_UNKNOWN;
  struct kvm_vcpu___ks* vcpu = BPF_CORE_READ(file, private_data);
  if (!vcpu) return KS_VCPU_UNKNOWN;
  return (__u32)BPF_CORE_READ(vcpu, vcpu_id);
}

SEC("tracepoint/syscalls/sys_enter_ioctl")
int on_ioctl(struct sys_enter_ioctl_args* ctx) {
  if ((__u32)ctx->cmd != KS_KVM_RUN) return 0;
  __u64 id = bpf_get_current_pid_tgid();
  __u32 tgid = id >> 32, tid = (__u32)id;
  if (!traced(tgid)) return 0;

  struct ks_thread* t = thread_get(tid);
  if (!t) return 0;
  __u32 fd = (__u32)ctx->fd;
  if (t->vcpu == KS_VCPU_UNKNOWN || t->vcpu_fd != fd) {
    t->vcpu = vcpu_of_fd(fd);
    t->vcpu_fd = fd;
  }
  if (t->vmm_ts) {
    __u64 delta = bpf_ktime_get_ns() - t->vmm_ts;
    t->vmm_ts = 0;
    add_time(&t->vmm_key, delta);
  }
  return 0;
}

/* Follow the traced process tree. The classic tracepoint does not say whether the child is a
 * process or a thread, so both are added; a thread id is removed again when it exits. */
SEC("tracepoint/sched/sched_process_fork")
int on_fork(struct trace_event_raw_sched_process_fork___ks* ctx) {
  if (!filter_tgid) return 0;
  __u32 tgid = bpf_get_current_pid_tgid() >> 32;
  if (!bpf_map_lookup_elem(&targets, &tgid)) return 0;
  __u32 child = (__u32)ctx->child_pid;
  __u8 one = 1;
  if (bpf_map_update_elem(&targets, &child, &one, BPF_ANY))
    health_inc(KS_HEALTH_TARGETS_NOT_STORED);
  return 0;
}

SEC("tracepoint/sched/sched_process_exit")
int on_exit(void* ctx) {
  __u64 id = bpf_get_current_pid_tgid();
  __u32 tgid = id >> 32, tid = (__u32)id;
  bpf_map_delete_elem(&threads, &tid);
  /* A process's own tgid stays a target: its counters are still being read. */
  if (filter_tgid && tid != tgid) bpf_map_delete_elem(&targets, &tid);
  return 0;
}
