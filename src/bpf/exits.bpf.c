// SPDX-License-Identifier: GPL-2.0
/* kvmscope's kernel side: one object, three uses chosen before load (const volatile):
 *  - aggregate: count exits per (VM, vCPU, level, isa, reason) with handling-time sums and log2
 *    histograms (kvmscope stat);
 *  - drills: the same per port / MMIO address / MSR / CPUID leaf / hypercall (stat --by);
 *  - record: stream every event as a struct ks_event through a ring buffer (kvmscope record).
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

#define EEXIST 17

/* Set between open and load. */
const volatile bool filter_tgid = false;   /* only processes in `targets` and their children */
const volatile bool aggregate = true;      /* count in `exits` */
const volatile bool drills = false;        /* count in `drill_counts` */
const volatile bool record = false;        /* stream every event to `events` as ks_event */
const volatile bool stream_exits = false;  /* stream exits of stream_level as ks_exit_event */
const volatile __u8 stream_level = KS_LEVEL_HW;
/* What the tracepoint programs return. 0 tells the kernel not to hand the event on to the
 * tracepoint's perf consumers (perf record/stat, perf kvm stat): cheapest. 1 keeps them
 * working while kvmscope runs, at the cost of the kernel's perf path for every event. */
const volatile int share_tracepoints = 0;
/* Waking the ring buffer's reader on every event costs a self-IPI (irq_work) per event, and on
 * a CPU that runs a guest each IPI is one more exit: the recorder would inflate what it
 * records. So the reader polls on a timer and is woken only once this much is waiting. */
const volatile __u64 wakeup_bytes = 1;

/* A tracepoint program: its body returns early freely; the program returns share_tracepoints. */
#define KS_TRACEPOINT(name, sec, ctx_decl)              \
  static __always_inline int name##_body(ctx_decl);     \
  SEC(sec)                                              \
  int name(ctx_decl) {                                  \
    name##_body(ctx);                                   \
    return share_tracepoints;                           \
  }                                                     \
  static __always_inline int name##_body(ctx_decl)

struct trace_event_raw_kvm_exit___ks {
  unsigned int exit_reason;
  unsigned long guest_rip;
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

struct trace_event_raw_kvm_pio___ks {
  unsigned int rw;
  unsigned int port;
  unsigned int size;
  unsigned int count;
} __attribute__((preserve_access_index));

struct trace_event_raw_kvm_mmio___ks {
  __u32 type;
  __u32 len;
  __u64 gpa;
} __attribute__((preserve_access_index));

struct trace_event_raw_kvm_msr___ks {
  unsigned int write;
  __u32 ecx;
  __u8 exception;
} __attribute__((preserve_access_index));

struct trace_event_raw_kvm_cpuid___ks {
  unsigned int function;
  unsigned int index;
} __attribute__((preserve_access_index));

struct trace_event_raw_kvm_hypercall___ks {
  unsigned long nr;
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
  struct task_struct___ks* group_leader;
  char comm[KS_COMM_LEN];
} __attribute__((preserve_access_index));

/* A vCPU runs on one CPU at a time and the key holds the vCPU, so one shared hash with atomic
 * adds sees no contention; per-CPU copies would only multiply memory and readout time. */
struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 16384); /* resized from user space before load */
  __type(key, struct ks_exit_key);
  __type(value, struct ks_exit_val);
} exits SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 16384); /* resized from user space before load */
  __type(key, struct ks_drill_key);
  __type(value, struct ks_exit_val);
} drill_counts SEC(".maps");

/* Per vCPU thread: the exits waiting for their entry, what they were about, and the vCPU. */
struct ks_thread {
  __u64 hw_ts;  /* kvm_exit not yet followed by kvm_entry */
  __u64 vmm_ts; /* kvm_userspace_exit not yet followed by KVM_RUN */
  struct ks_exit_key hw_key;
  struct ks_exit_key vmm_key;
  struct ks_drill_key drill_key;
  __u64 drill_ts;    /* the exit the drill-down belongs to, 0 = none pending */
  __u32 vcpu;
  __u32 vcpu_fd;     /* the fd vcpu was read from */
  __u8 drill_awaits; /* no hardware exit open: the drill-down waits for its exit to the VMM */
  __u8 pad2[7];
};

/* Task-local storage, not a tid-keyed hash: the kernel finds it from the task itself (no hash of
 * the key, no bucket walk: measurably less per event, bench/peers/percost.sh), it has no fixed
 * capacity and it goes away with the thread. */
struct {
  __uint(type, BPF_MAP_TYPE_TASK_STORAGE);
  __uint(map_flags, BPF_F_NO_PREALLOC);
  __type(key, int);
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
  __uint(max_entries, 4096); /* resized from user space when streaming or recording */
} events SEC(".maps");

static const struct ks_exit_val zero_val;

static __always_inline void health_inc(__u32 which) {
  __u64* n = bpf_map_lookup_elem(&health, &which);
  if (n) *n += 1; /* per-CPU slot: lost events are thereby counted per CPU */
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

static const struct ks_thread fresh_thread = {.vcpu = KS_VCPU_UNKNOWN};

/* The current thread's state, or NULL where it has none. */
static __always_inline struct ks_thread* thread_find(void) {
  return bpf_task_storage_get(&threads, bpf_get_current_task_btf(), NULL, 0);
}

/* The current thread's state, created on first use; a failed allocation is counted. */
static __always_inline struct ks_thread* thread_get(void) {
  struct ks_thread* t = bpf_task_storage_get(&threads, bpf_get_current_task_btf(),
                                             (void*)&fresh_thread,
                                             BPF_LOCAL_STORAGE_GET_F_CREATE);
  if (!t) health_inc(KS_HEALTH_THREADS_NOT_STORED);
  return t;
}

/* Looks up a counter, creating it; a full map is counted in `health`, never ignored. The
 * creator writes the VM's process name into the new counter: user space reads names from /proc
 * only at a readout, when a short-lived VM may be gone. Once per counter, not per exit; the
 * group leader's comm, not the vCPU thread's ("CPU 0/KVM" in QEMU). */
static __always_inline struct ks_exit_val* counter(void* map, const void* key) {
  struct ks_exit_val* v = bpf_map_lookup_elem(map, key);
  if (v) return v;
  long err = bpf_map_update_elem(map, key, &zero_val, BPF_NOEXIST);
  if (err && err != -EEXIST) {
    health_inc(KS_HEALTH_EXITS_NOT_STORED);
    return NULL;
  }
  v = bpf_map_lookup_elem(map, key);
  if (v && !err) {
    struct task_struct___ks* task = (void*)bpf_get_current_task();
    BPF_CORE_READ_STR_INTO(&v->comm, task, group_leader, comm);
  }
  return v;
}

static __always_inline void add_time(struct ks_exit_val* v, __u64 delta) {
  __sync_fetch_and_add(&v->timed, 1);
  __sync_fetch_and_add(&v->time_ns, delta);
  /* 6.1's verifier cannot see log2_slot()'s clamp through the arithmetic: bound it again. */
  __u32 slot = log2_slot(delta);
  barrier_var(slot);
  if (slot < KS_HIST_SLOTS) __sync_fetch_and_add(&v->hist[slot], 1);
  if (delta > v->max_ns) v->max_ns = delta; /* one vCPU per key: no concurrent writer */
}

static __always_inline void submit(void* e) {
  bool wake = bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA) >= wakeup_bytes;
  bpf_ringbuf_submit(e, wake ? BPF_RB_FORCE_WAKEUP : BPF_RB_NO_WAKEUP);
}

static __always_inline void emit(__u8 type, __u32 tgid, __u32 tid, __u32 vcpu, __u64 now, __u64 a,
                                 __u64 b, __u64 c) {
  struct ks_event* e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
  if (!e) {
    health_inc(KS_HEALTH_EVENTS_LOST);
    return;
  }
  e->ts_ns = now;
  e->tgid = tgid;
  e->tid = tid;
  e->vcpu = vcpu;
  e->cpu = (__u16)bpf_get_smp_processor_id();
  e->type = type;
  e->pad = 0;
  e->a = a;
  e->b = b;
  e->c = c;
  submit(e);
}

static __always_inline void count_exit(const struct ks_exit_key* key, __u64 now) {
  struct ks_exit_val* v = counter(&exits, key);
  if (v) __sync_fetch_and_add(&v->count, 1);

  if (stream_exits && key->level == stream_level) {
    struct ks_exit_event* e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
    if (!e) {
      health_inc(KS_HEALTH_EVENTS_LOST);
      return;
    }
    e->ts_ns = now;
    e->key = *key;
    submit(e);
  }
}

static __always_inline void time_exit(const struct ks_exit_key* key, __u64 delta) {
  struct ks_exit_val* v = bpf_map_lookup_elem(&exits, key);
  if (v) add_time(v, delta); /* absent: the exit itself was not stored, and counted as such */
}

/* A drill-down event happens while KVM handles an exit; its handling time is that exit's: the
 * open hardware exit's (until kvm_entry), else, where no hardware exit is seen (kvm_pvm), the
 * exit to the VMM it causes when that comes next on the thread and is of the matching kind
 * (until KVM_RUN). The same rule as the recording analysis, so stat and report agree. */
static __always_inline void drill(struct ks_thread* t, __u32 tgid, __u8 kind, __u8 flags,
                                  __u64 value) {
  struct ks_drill_key key = {};
  key.tgid = tgid;
  key.kind = kind;
  key.flags = flags;
  key.value = value;
  struct ks_exit_val* v = counter(&drill_counts, &key);
  if (!v) return;
  __sync_fetch_and_add(&v->count, 1);
  if (!t) return;
  t->drill_key = key;
  t->drill_ts = t->hw_ts;
  t->drill_awaits = !t->hw_ts;
}

static __always_inline void time_drill(struct ks_thread* t, __u64 now) {
  if (!drills || !t->drill_ts) return;
  struct ks_exit_val* v = bpf_map_lookup_elem(&drill_counts, &t->drill_key);
  if (v) add_time(v, now - t->drill_ts);
  t->drill_ts = 0;
}

KS_TRACEPOINT(on_kvm_exit, "tracepoint/kvm/kvm_exit", struct trace_event_raw_kvm_exit___ks* ctx) {
  __u64 id = bpf_get_current_pid_tgid();
  __u32 tgid = id >> 32, tid = (__u32)id;
  if (!traced(tgid)) return 0;

  __u64 now = bpf_ktime_get_ns();
  __u32 vcpu = ctx->vcpu_id, reason = ctx->exit_reason, isa = ctx->isa;
  if (record) emit(KS_EV_EXIT, tgid, tid, vcpu, now, reason, isa, ctx->guest_rip);

  struct ks_exit_key key = {};
  key.tgid = tgid;
  key.vcpu = vcpu;
  key.reason = reason;
  key.isa = (__u16)isa;
  key.level = KS_LEVEL_HW;
  if (aggregate) count_exit(&key, now);

  struct ks_thread* t = thread_get();
  if (t) {
    t->hw_key = key;
    t->hw_ts = now;
    t->vcpu = vcpu;
    t->drill_ts = 0;
    t->drill_awaits = 0;
  }
  return 0;
}

KS_TRACEPOINT(on_kvm_entry, "tracepoint/kvm/kvm_entry", struct trace_event_raw_kvm_entry___ks* ctx) {
  /* Only threads that exited while traced have state: no target lookup needed. */
  __u64 id = bpf_get_current_pid_tgid();
  __u32 tid = (__u32)id;
  struct ks_thread* t = thread_find();
  if (!t) return 0;
  __u64 now = bpf_ktime_get_ns();
  if (record) emit(KS_EV_ENTRY, id >> 32, tid, ctx->vcpu_id, now, 0, 0, 0);
  if (!t->hw_ts) return 0;
  if (aggregate) time_exit(&t->hw_key, now - t->hw_ts);
  time_drill(t, now);
  t->hw_ts = 0;
  return 0;
}

KS_TRACEPOINT(on_userspace_exit, "tracepoint/kvm/kvm_userspace_exit", struct trace_event_raw_kvm_userspace_exit___ks* ctx) {
  __u64 id = bpf_get_current_pid_tgid();
  __u32 tgid = id >> 32, tid = (__u32)id;
  if (!traced(tgid)) return 0;

  __u64 now = bpf_ktime_get_ns();
  int err = ctx->errno;
  struct ks_thread* t = thread_get();
  struct ks_exit_key key = {};
  key.tgid = tgid;
  key.vcpu = t ? t->vcpu : KS_VCPU_UNKNOWN;
  key.reason = err < 0 ? (KS_VMM_ERRNO_FLAG | (__u32)-err) : ctx->reason;
  key.isa = KS_ISA_NONE;
  key.level = KS_LEVEL_VMM;
  if (record) emit(KS_EV_USERSPACE_EXIT, tgid, tid, key.vcpu, now, key.reason, 0, 0);
  if (aggregate) count_exit(&key, now);
  if (t) {
    t->vmm_key = key;
    t->vmm_ts = now;
    if (t->drill_awaits && ks_drill_causes(t->drill_key.kind, key.reason)) t->drill_ts = now;
    t->drill_awaits = 0;
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

KS_TRACEPOINT(on_ioctl, "tracepoint/syscalls/sys_enter_ioctl", struct sys_enter_ioctl_args* ctx) {
  if ((__u32)ctx->cmd != KS_KVM_RUN) return 0;
  __u64 id = bpf_get_current_pid_tgid();
  __u32 tgid = id >> 32, tid = (__u32)id;
  if (!traced(tgid)) return 0;

  struct ks_thread* t = thread_get();
  if (!t) return 0;
  __u32 fd = (__u32)ctx->fd;
  if (t->vcpu == KS_VCPU_UNKNOWN || t->vcpu_fd != fd) {
    t->vcpu = vcpu_of_fd(fd);
    t->vcpu_fd = fd;
  }
  __u64 now = bpf_ktime_get_ns();
  if (record) emit(KS_EV_KVM_RUN, tgid, tid, t->vcpu, now, 0, 0, 0);
  if (t->vmm_ts) {
    if (aggregate) time_exit(&t->vmm_key, now - t->vmm_ts);
    /* Where hardware exits are seen, the drill-down waits for kvm_entry instead. */
    if (!t->hw_ts) time_drill(t, now);
    t->vmm_ts = 0;
  }
  t->drill_awaits = 0;
  return 0;
}

/* Drill-down events: counted per VM when `drills`, streamed when `record`. */
static __always_inline struct ks_thread* drill_thread(__u32* tgid, __u32* tid) {
  __u64 id = bpf_get_current_pid_tgid();
  *tgid = id >> 32;
  *tid = (__u32)id;
  if (!traced(*tgid)) return NULL;
  return thread_find();
}

KS_TRACEPOINT(on_pio, "tracepoint/kvm/kvm_pio", struct trace_event_raw_kvm_pio___ks* ctx) {
  __u32 tgid, tid;
  struct ks_thread* t = drill_thread(&tgid, &tid);
  if (!t && !traced(tgid)) return 0;
  __u32 rw = ctx->rw, port = ctx->port, size = ctx->size, count = ctx->count;
  if (record)
    emit(KS_EV_PIO, tgid, tid, t ? t->vcpu : KS_VCPU_UNKNOWN, bpf_ktime_get_ns(), port, rw,
         size | ((__u64)count << 32));
  if (drills) drill(t, tgid, KS_DRILL_PORT, ks_port_flags(rw, size), port);
  return 0;
}

KS_TRACEPOINT(on_mmio, "tracepoint/kvm/kvm_mmio", struct trace_event_raw_kvm_mmio___ks* ctx) {
  __u32 tgid, tid;
  struct ks_thread* t = drill_thread(&tgid, &tid);
  if (!t && !traced(tgid)) return 0;
  __u32 type = ctx->type, len = ctx->len;
  __u64 gpa = ctx->gpa;
  if (record)
    emit(KS_EV_MMIO, tgid, tid, t ? t->vcpu : KS_VCPU_UNKNOWN, bpf_ktime_get_ns(), gpa, type, len);
  if (drills) drill(t, tgid, KS_DRILL_MMIO, (__u8)type, gpa);
  return 0;
}

KS_TRACEPOINT(on_msr, "tracepoint/kvm/kvm_msr", struct trace_event_raw_kvm_msr___ks* ctx) {
  __u32 tgid, tid;
  struct ks_thread* t = drill_thread(&tgid, &tid);
  if (!t && !traced(tgid)) return 0;
  __u32 write = ctx->write, index = ctx->ecx, fault = ctx->exception;
  if (record)
    emit(KS_EV_MSR, tgid, tid, t ? t->vcpu : KS_VCPU_UNKNOWN, bpf_ktime_get_ns(), index, write,
         fault);
  if (drills) drill(t, tgid, KS_DRILL_MSR, ks_msr_flags(write & 1, fault & 1), index);
  return 0;
}

KS_TRACEPOINT(on_cpuid, "tracepoint/kvm/kvm_cpuid", struct trace_event_raw_kvm_cpuid___ks* ctx) {
  __u32 tgid, tid;
  struct ks_thread* t = drill_thread(&tgid, &tid);
  if (!t && !traced(tgid)) return 0;
  __u32 function = ctx->function, index = ctx->index;
  if (record)
    emit(KS_EV_CPUID, tgid, tid, t ? t->vcpu : KS_VCPU_UNKNOWN, bpf_ktime_get_ns(), function,
         index, 0);
  if (drills) drill(t, tgid, KS_DRILL_CPUID, 0, function);
  return 0;
}

KS_TRACEPOINT(on_hypercall, "tracepoint/kvm/kvm_hypercall", struct trace_event_raw_kvm_hypercall___ks* ctx) {
  __u32 tgid, tid;
  struct ks_thread* t = drill_thread(&tgid, &tid);
  if (!t && !traced(tgid)) return 0;
  __u64 nr = ctx->nr;
  if (record)
    emit(KS_EV_HYPERCALL, tgid, tid, t ? t->vcpu : KS_VCPU_UNKNOWN, bpf_ktime_get_ns(), nr, 0, 0);
  if (drills) drill(t, tgid, KS_DRILL_HYPERCALL, 0, nr);
  return 0;
}

/* Follow the traced process tree. The classic tracepoint does not say whether the child is a
 * process or a thread, so both are added; a thread id is removed again when it exits. */
KS_TRACEPOINT(on_fork, "tracepoint/sched/sched_process_fork", struct trace_event_raw_sched_process_fork___ks* ctx) {
  if (!filter_tgid) return 0;
  __u32 tgid = bpf_get_current_pid_tgid() >> 32;
  if (!bpf_map_lookup_elem(&targets, &tgid)) return 0;
  __u32 child = (__u32)ctx->child_pid;
  __u8 one = 1;
  if (bpf_map_update_elem(&targets, &child, &one, BPF_ANY))
    health_inc(KS_HEALTH_TARGETS_NOT_STORED);
  return 0;
}

KS_TRACEPOINT(on_exit, "tracepoint/sched/sched_process_exit", void* ctx) {
  __u64 id = bpf_get_current_pid_tgid();
  __u32 tgid = id >> 32, tid = (__u32)id;
  if (tid == tgid) {
    if (record && traced(tgid))
      emit(KS_EV_PROCESS_EXIT, tgid, tid, KS_VCPU_UNKNOWN, bpf_ktime_get_ns(), 0, 0, 0);
  } else if (filter_tgid) {
    /* A process's own tgid stays a target: its counters are still being read. */
    bpf_map_delete_elem(&targets, &tid);
  }
  return 0;
}
