// SPDX-License-Identifier: GPL-2.0
/* kvmscope's kernel side: one object, three uses chosen before load (const volatile):
 *  - aggregate: count exits per (VM, vCPU, level, isa, reason) with handling-time sums and log2
 *    histograms (kvmscope stat);
 *  - drills: the same per port / MMIO address / MSR / CPUID leaf / hypercall (stat --by);
 *  - guest_sites: hardware exits per guest instruction (RIP) per VM (stat --by function);
 *  - record: stream every event as a struct ks_event through a ring buffer (kvmscope record).
 *
 * Hardware exits: kvm_exit counts the exit; the next kvm_entry on the same thread adds the
 * handling time. Two ways to see them, chosen at load time (ExitCollector): BTF-typed raw
 * tracepoints (tp_btf: the kernel builds no trace record, the exit reason is read from the vCPU:
 * vcpu_svm->vmcb->control.exit_code or vcpu_vmx->exit_reason, the same values the classic
 * tracepoint reports) or, where those cannot load, the classic tracepoints kvm:kvm_exit and
 * kvm:kvm_entry. `record` and guest_sites always take the classic ones: they need the guest RIP,
 * which VMX reads lazily (VMREAD) and a program cannot. Exits to the VMM: kvm_userspace_exit
 * (tp_btf where the kernel's BTF has it as on_vmm_exit_btf reads it, else the classic tracepoint)
 * counts the exit; the thread's next ioctl(KVM_RUN) (the VMM re-entering the guest) adds the time
 * the VMM took. That ioctl also tells which vCPU a thread runs, since kvm_userspace_exit has no
 * vcpu_id; --counts-only, where kvm_exit fires, takes it from the thread's kvm_exit instead.
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

#include "bpf/kvm_vcpu.bpf.h"
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
/* Counts only: no kvm_entry program, no clock read for hardware exits. */
const volatile bool counts_only = false;
/* Count hardware exits per guest instruction in `sites` (stat/top --by function). */
const volatile bool guest_sites = false;
/* The tp_btf kvm_exit program: where the exit reason is (KS_ISA_SVM: the VMCB, KS_ISA_VMX:
 * vcpu_vmx). The other ISA's CO-RE reads are left unresolved and never reached. */
const volatile __u8 hw_isa = KS_ISA_NONE;

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

/* Exit counters: one array slot per (key, thread) (struct ks_slot_key says why). `slots` finds
 * a key's slot; the thread's state caches it (ks_thread.cache_*) and holds the open exit's slot,
 * so kvm_entry reaches its counter by array index, and the thread's own counter takes plain adds.
 * Free slots wait in `free_slots` (filled by user space, which also takes back those of VMs that
 * ended). All three are resized from user space before load. */
struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 16384);
  __type(key, struct ks_slot_key);
  __type(value, __u32);
} slots SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, 16384);
  __type(key, __u32);
  __type(value, struct ks_exit_val);
} counters SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_QUEUE);
  __uint(max_entries, 16384);
  __type(value, __u32);
} free_slots SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 16384); /* resized from user space before load */
  __type(key, struct ks_drill_key);
  __type(value, struct ks_exit_val);
} drill_counts SEC(".maps");

/* Hardware exits per (VM, reason, guest RIP): shared by the VM's threads, atomic adds. Resized
 * from user space before load; a full map is counted (KS_HEALTH_SITES_NOT_STORED). */
struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 16384);
  __type(key, struct ks_site_key);
  __type(value, struct ks_site_val);
} sites SEC(".maps");

/* Per thread, a small direct-mapped cache of counter slots: an exit whose reason is cached
 * costs no hash lookup. Tag 0 is never a real one (bit 56 is always set). */
#define KS_SLOT_CACHE 16

/* Per vCPU thread: the exits waiting for their entry, what they were about, and the vCPU. */
struct ks_thread {
  __u64 hw_ts;  /* kvm_exit not yet followed by kvm_entry */
  __u64 vmm_ts; /* kvm_userspace_exit not yet followed by KVM_RUN */
  __u32 hw_slot;  /* the open exits' counters */
  __u32 vmm_slot;
  __u32 cache_vcpu; /* the vCPU the cached slots are of */
  __u32 pad1;
  __u64 cache_tag[KS_SLOT_CACHE];
  __u32 cache_slot[KS_SLOT_CACHE];
  struct ks_drill_key drill_key;
  __u64 drill_ts;    /* the exit the drill-down belongs to, 0 = none pending */
  __u32 vcpu;
  __u32 vcpu_fd;     /* the fd vcpu was read from */
  __u8 drill_awaits; /* no hardware exit open: the drill-down waits for its exit to the VMM */
  __u8 site_open;    /* site_key is the open hardware exit's (guest_sites) */
  __u8 kernel_seen;  /* this vCPU thread has exited from a kernel RIP (guest_sites) */
  __u8 pad2[5];
  struct ks_site_key site_key;
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

/* --counts-only's fast path: per CPU, the slots of the thread that last counted a hardware exit
 * there. A vCPU thread runs thousands of exits on one CPU between migrations, so its next exit
 * finds its slot here with a per-CPU array lookup instead of the task-local storage lookup (which
 * costs more than the rest of the counting: bench/peers/percost.sh). Only --counts-only: timing
 * holds the open exit until kvm_entry, which may come on another CPU, so it stays per thread.
 * A cache line is valid for its thread (pid_tgid), its vCPU, and lean_gen: user space bumps
 * lean_gen whenever it hands counter slots back (ExitCollector::forget_vms), so a thread whose
 * ids a new process reuses never counts into a slot that now belongs to another key. */
struct ks_lean {
  __u64 id; /* bpf_get_current_pid_tgid() of the thread, 0 = none */
  __u64 gen;
  __u32 vcpu;
  __u32 pad;
  __u64 cache_tag[KS_SLOT_CACHE];
  __u32 cache_slot[KS_SLOT_CACHE];
};

struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, struct ks_lean);
} lean_slots SEC(".maps");

volatile __u64 lean_gen = 0; /* .bss: written by user space, an aligned 8-byte store */

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
static const struct ks_site_val zero_site;

static __always_inline void health_inc(__u32 which) {
  __u64* n = bpf_map_lookup_elem(&health, &which);
  if (n) *n += 1; /* per-CPU slot: lost events are thereby counted per CPU */
}

static __always_inline bool traced(__u32 tgid) {
  return !filter_tgid || bpf_map_lookup_elem(&targets, &tgid) != NULL;
}

static const struct ks_thread fresh_thread = {
    .vcpu = KS_VCPU_UNKNOWN, .hw_slot = KS_NO_SLOT, .vmm_slot = KS_NO_SLOT};

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

/* A drill-down counter is shared by the VM's threads: atomic adds. */
static __always_inline void add_time(struct ks_exit_val* v, __u64 delta) {
  __sync_fetch_and_add(&v->timed, 1);
  __sync_fetch_and_add(&v->time_ns, delta);
  /* 6.1's verifier cannot see ks_hist_slot()'s clamp through the arithmetic: bound it again. */
  __u32 slot = ks_hist_slot(delta);
  barrier_var(slot);
  if (slot < KS_HIST_SLOTS) __sync_fetch_and_add(&v->hist[slot], 1);
  if (delta > v->max_ns) v->max_ns = delta; /* a lost race here only loses a maximum */
}

/* An exit counter belongs to one thread (ks_slot_key): plain adds. */
static __always_inline void add_time_own(struct ks_exit_val* v, __u64 delta) {
  v->timed += 1;
  v->time_ns += delta;
  __u32 slot = ks_hist_slot(delta);
  barrier_var(slot);
  if (slot < KS_HIST_SLOTS) v->hist[slot] += 1;
  if (delta > v->max_ns) v->max_ns = delta;
}

static __always_inline struct ks_exit_val* slot_counter(__u32 slot) {
  return bpf_map_lookup_elem(&counters, &slot); /* NULL for KS_NO_SLOT */
}

/* The counter slot of this thread's `key`, taken from `free_slots` on first use. Only this
 * thread creates its keys (tid is in them): no other CPU races for the same one. */
static __noinline __u32 slot_create(const struct ks_exit_key* key, __u32 tid) {
  struct ks_slot_key sk = {};
  sk.key = *key;
  sk.tid = tid;
  __u32* found = bpf_map_lookup_elem(&slots, &sk);
  if (found) return *found;
  __u32 slot;
  if (bpf_map_pop_elem(&free_slots, &slot)) {
    health_inc(KS_HEALTH_EXITS_NOT_STORED);
    return KS_NO_SLOT;
  }
  struct ks_exit_val* v = slot_counter(slot);
  if (!v) return KS_NO_SLOT;
  /* The VM's process name goes into its counter once: user space reads names from /proc only at
   * a readout, when a short-lived VM may be gone. The group leader's comm, not the vCPU
   * thread's ("CPU 0/KVM" in QEMU). */
  struct task_struct___ks* task = (void*)bpf_get_current_task();
  BPF_CORE_READ_STR_INTO(&v->comm, task, group_leader, comm);
  if (bpf_map_update_elem(&slots, &sk, &slot, BPF_NOEXIST)) {
    bpf_map_push_elem(&free_slots, &slot, 0);
    health_inc(KS_HEALTH_EXITS_NOT_STORED);
    return KS_NO_SLOT;
  }
  return slot;
}

/* Where `key` sits in a slot cache (the thread's, or --counts-only's per-CPU one): its tag, and
 * the cache line it maps to. */
static __always_inline __u64 cache_tag(const struct ks_exit_key* key) {
  return key->reason | (__u64)key->isa << 32 | (__u64)key->level << 48 | 1ULL << 56;
}

static __always_inline __u32 cache_index(const struct ks_exit_key* key) {
  return (key->reason ^ (key->reason >> 4) ^ (key->reason >> 8) ^ key->level) &
         (KS_SLOT_CACHE - 1);
}

/* The slot of `key` through the thread's cache (t may be NULL: no state, no cache). */
static __always_inline __u32 slot_of(struct ks_thread* t, const struct ks_exit_key* key,
                                      __u32 tid) {
  if (!t) return slot_create(key, tid);
  if (t->cache_vcpu != key->vcpu) {
    __builtin_memset(t->cache_tag, 0, sizeof(t->cache_tag));
    t->cache_vcpu = key->vcpu;
  }
  __u64 tag = cache_tag(key);
  __u32 i = cache_index(key);
  if (t->cache_tag[i] == tag) return t->cache_slot[i];
  __u32 slot = slot_create(key, tid);
  if (slot != KS_NO_SLOT) {
    t->cache_tag[i] = tag;
    t->cache_slot[i] = slot;
  }
  return slot;
}

/* The counter key of an exit to the VMM (its reason, or its errno code), of `vcpu`. */
static __always_inline struct ks_exit_key vmm_key(__u32 tgid, __u32 vcpu, __u32 code) {
  struct ks_exit_key key = {};
  key.tgid = tgid;
  key.vcpu = vcpu;
  key.reason = code;
  key.isa = KS_ISA_NONE;
  key.level = KS_LEVEL_VMM;
  return key;
}

/* --counts-only's per-CPU slot cache (struct ks_lean): this CPU's line, NULL where absent. */
static __always_inline struct ks_lean* lean_line(void) {
  __u32 zero = 0;
  return bpf_map_lookup_elem(&lean_slots, &zero);
}

/* Counts `key` in its cached slot; false where the line holds no slot for it. */
static __always_inline bool lean_count(struct ks_lean* l, const struct ks_exit_key* key) {
  __u32 i = cache_index(key);
  if (l->cache_tag[i] != cache_tag(key)) return false;
  struct ks_exit_val* v = slot_counter(l->cache_slot[i]);
  if (!v) return false;
  v->count += 1;
  return true;
}

static __always_inline void lean_fill(struct ks_lean* l, const struct ks_exit_key* key, __u32 slot) {
  __u32 i = cache_index(key);
  l->cache_tag[i] = cache_tag(key);
  l->cache_slot[i] = slot;
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

static __always_inline void stream_exit(const struct ks_exit_key* key, __u64 now) {
  struct ks_exit_event* e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
  if (!e) {
    health_inc(KS_HEALTH_EVENTS_LOST);
    return;
  }
  e->ts_ns = now;
  e->key = *key;
  submit(e);
}

/* Counts an exit in the thread's own counter; returns its slot (the open exit's, for timing). */
static __always_inline __u32 count_exit(struct ks_thread* t, const struct ks_exit_key* key,
                                        __u32 tid, __u64 now) {
  __u32 slot = slot_of(t, key, tid);
  struct ks_exit_val* v = slot_counter(slot);
  if (v) v->count += 1;
  if (stream_exits && key->level == stream_level) stream_exit(key, now);
  return slot;
}

static __always_inline void time_exit(__u32 slot, __u64 delta) {
  struct ks_exit_val* v = slot_counter(slot);
  if (v) add_time_own(v, delta); /* absent: the exit itself was not stored, and counted as such */
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

/* The current thread's state where it is traced (its state exists only once it was: no
 * target lookup then), created on its first traced event; NULL when not traced or not stored. */
static __always_inline struct ks_thread* traced_thread(__u32 tgid, bool* is_traced) {
  struct ks_thread* t = thread_find();
  *is_traced = t != NULL || traced(tgid);
  if (t || !*is_traced) return t;
  return thread_get();
}

/* Counts a hardware exit at its guest instruction and keeps the site open on the thread, for
 * its handling time (kvm_entry) and what its instruction was (kvm_pio, kvm_msr). */
static __always_inline void site_exit(struct ks_thread* t, __u32 tgid, __u32 reason, __u32 isa,
                                      __u64 rip) {
  struct ks_site_key key = {};
  key.tgid = tgid;
  key.reason = reason;
  key.rip = rip;
  key.isa = (__u16)isa;
  if (rip >= KS_GUEST_KERNEL_START) {
    key.space = KS_SPACE_KERNEL;
    if (t) t->kernel_seen = 1;
  } else {
    key.space = t && t->kernel_seen ? KS_SPACE_USER : KS_SPACE_EARLY;
  }
  if (t) t->site_open = 0;
  struct ks_site_val* v = bpf_map_lookup_elem(&sites, &key);
  if (!v) {
    long err = bpf_map_update_elem(&sites, &key, &zero_site, BPF_NOEXIST);
    if (err && err != -EEXIST) {
      health_inc(KS_HEALTH_SITES_NOT_STORED);
      return;
    }
    v = bpf_map_lookup_elem(&sites, &key);
    if (!v) return;
  }
  __sync_fetch_and_add(&v->count, 1);
  if (t) {
    t->site_key = key;
    t->site_open = 1;
  }
}

/* The open site's counter, or NULL. */
static __always_inline struct ks_site_val* open_site(struct ks_thread* t) {
  if (!guest_sites || !t || !t->site_open) return NULL;
  return bpf_map_lookup_elem(&sites, &t->site_key);
}

/* A site is shared by the VM's threads: atomic adds, as add_time. */
static __always_inline void time_site(struct ks_thread* t, __u64 delta) {
  struct ks_site_val* v = open_site(t);
  t->site_open = 0;
  if (!v) return;
  __sync_fetch_and_add(&v->timed, 1);
  __sync_fetch_and_add(&v->time_ns, delta);
  if (delta > v->max_ns) v->max_ns = delta; /* a lost race here only loses a maximum */
}

/* What the open exit's instruction did. The first report sets the detail; one that differs
 * marks the site mixed (a port in DX may vary: not mixed). Plain stores: vCPUs racing on the
 * first report of one RIP report the same instruction, so either write is right. */
static __always_inline void site_note_io(struct ks_thread* t, __u32 out, __u32 size, __u64 port) {
  struct ks_site_val* v = open_site(t);
  if (!v) return;
  __u8 flags = ks_port_flags(out, size);
  if (!(v->detail & KS_SITE_IO)) {
    v->io_port = port;
    v->io_flags = flags;
    v->detail |= KS_SITE_IO;
  } else if (v->io_flags != flags) {
    v->detail |= KS_SITE_MIXED;
  }
}

static __always_inline void site_note_msr(struct ks_thread* t, __u32 write) {
  struct ks_site_val* v = open_site(t);
  if (!v) return;
  __u8 w = write ? KS_SITE_MSR_WRITE : 0;
  if (!(v->detail & KS_SITE_MSR))
    v->detail |= KS_SITE_MSR | w;
  else if ((v->detail & KS_SITE_MSR_WRITE) != w)
    v->detail |= KS_SITE_MIXED;
}

/* A hardware exit, from either hook. rip only where `record` or guest_sites (classic
 * tracepoint). `sites`, a compile-time constant, is true only in the programs loaded for
 * guest_sites (on_kvm_exit_sites, on_kvm_entry_sites): the verifier would prune a branch on the
 * read-only guest_sites alone, but the compiler would still keep its operands alive across the
 * counting, spilling registers in every program (14 instructions more per exit, measured). */
static __always_inline void hw_exit(__u32 vcpu, __u32 reason, __u32 isa, __u64 rip, bool sites,
                                    bool lean) {
  __u64 id = bpf_get_current_pid_tgid();
  __u32 tgid = id >> 32, tid = (__u32)id;
  /* --counts-only with nothing else to do for the exit: the per-CPU cache may hold its slot.
   * `lean`, like `sites`, is a compile-time constant: true only in the programs loaded for it
   * (on_kvm_exit_cnt, on_btf_exit_cnt), so the others stay instruction for instruction. */
  const bool lean_path =
      lean && counts_only && aggregate && !record && !stream_exits && !drills && !sites;
  struct ks_lean* l = NULL;
  struct ks_exit_key key = {};
  key.tgid = tgid;
  key.vcpu = vcpu;
  key.reason = reason;
  key.isa = (__u16)isa;
  key.level = KS_LEVEL_HW;
  if (lean_path) {
    l = lean_line();
    if (l && (l->id != id || l->gen != lean_gen || l->vcpu != vcpu)) {
      __builtin_memset(l->cache_tag, 0, sizeof(l->cache_tag));
      l->id = 0; /* filled below once this thread is known to be traced */
    }
    if (l && l->id && lean_count(l, &key)) return;
  }
  bool is_traced;
  struct ks_thread* t = traced_thread(tgid, &is_traced);
  if (!is_traced) return;

  __u64 now = counts_only && !stream_exits && !record ? 0 : bpf_ktime_get_ns();
  if (record) emit(KS_EV_EXIT, tgid, tid, vcpu, now, reason, isa, rip);

  __u32 slot = aggregate ? count_exit(t, &key, tid, now) : KS_NO_SLOT;
  if (l && slot != KS_NO_SLOT) {
    l->id = id;
    l->gen = lean_gen;
    l->vcpu = vcpu;
    lean_fill(l, &key, slot);
  }
  if (sites) site_exit(t, tgid, reason, isa, rip);
  if (t) {
    t->hw_slot = slot;
    t->hw_ts = now;
    t->vcpu = vcpu;
    t->drill_ts = 0;
    t->drill_awaits = 0;
  }
}

/* The thread enters the guest again: the open hardware exit is over. */
static __always_inline void hw_entry(__u32 vcpu, bool sites) {
  /* Only threads that exited while traced have state: no target lookup needed. */
  struct ks_thread* t = thread_find();
  if (!t) return;
  __u64 now = bpf_ktime_get_ns();
  if (record) {
    __u64 id = bpf_get_current_pid_tgid();
    emit(KS_EV_ENTRY, id >> 32, (__u32)id, vcpu, now, 0, 0, 0);
  }
  if (!t->hw_ts) return;
  if (aggregate) time_exit(t->hw_slot, now - t->hw_ts);
  time_drill(t, now);
  if (sites) time_site(t, now - t->hw_ts);
  t->hw_ts = 0;
}

KS_TRACEPOINT(on_kvm_exit, "tracepoint/kvm/kvm_exit", struct trace_event_raw_kvm_exit___ks* ctx) {
  hw_exit(ctx->vcpu_id, ctx->exit_reason, ctx->isa, record ? ctx->guest_rip : 0, false, false);
  return 0;
}

/* The same with the exits counted per guest RIP (guest_sites: stat/top --by function). */
KS_TRACEPOINT(on_kvm_exit_sites, "tracepoint/kvm/kvm_exit", struct trace_event_raw_kvm_exit___ks* ctx) {
  hw_exit(ctx->vcpu_id, ctx->exit_reason, ctx->isa, ctx->guest_rip, true, false);
  return 0;
}

/* The same for --counts-only with its per-CPU slot cache (struct ks_lean). */
KS_TRACEPOINT(on_kvm_exit_cnt, "tracepoint/kvm/kvm_exit", struct trace_event_raw_kvm_exit___ks* ctx) {
  hw_exit(ctx->vcpu_id, ctx->exit_reason, ctx->isa, 0, false, true);
  return 0;
}

KS_TRACEPOINT(on_kvm_entry, "tracepoint/kvm/kvm_entry", struct trace_event_raw_kvm_entry___ks* ctx) {
  hw_entry(ctx->vcpu_id, false);
  return 0;
}

KS_TRACEPOINT(on_kvm_entry_sites, "tracepoint/kvm/kvm_entry", struct trace_event_raw_kvm_entry___ks* ctx) {
  hw_entry(ctx->vcpu_id, true);
  return 0;
}

/* The exit reason as the classic tracepoint reports it (kvm_x86_ops.get_exit_info): SVM's
 * vmcb->control.exit_code, VMX's exit_reason.full. vcpu_svm and vcpu_vmx reach beyond struct
 * kvm_vcpu, which is all the verifier lets a program load from directly; bpf_rdonly_cast (6.2+)
 * would cast to them, but it casts only to types of vmlinux's own BTF, and these live in
 * kvm_amd's and kvm_intel's module BTF wherever KVM is built as modules (every distribution
 * kernel). So they are read through CO-RE probe reads (SVM: two, VMX: one), on every kernel. */
static __always_inline __u32 vcpu_exit_reason(void* vcpu) {
  if (hw_isa == KS_ISA_SVM) {
    struct vcpu_svm___ks* svm =
        (void*)((char*)vcpu - bpf_core_field_offset(struct vcpu_svm___ks, vcpu));
    return BPF_CORE_READ(svm, vmcb, control.exit_code);
  }
  if (bpf_core_type_exists(union vmx_exit_reason___ks)) {
    struct vcpu_vmx___ks* vmx =
        (void*)((char*)vcpu - bpf_core_field_offset(struct vcpu_vmx___ks, vcpu));
    return BPF_CORE_READ(vmx, exit_reason.full);
  }
  struct vcpu_vmx___u32* vmx =
      (void*)((char*)vcpu - bpf_core_field_offset(struct vcpu_vmx___u32, vcpu));
  return BPF_CORE_READ(vmx, exit_reason);
}

/* BTF-typed raw tracepoints: the tracepoint's arguments as they are, no trace record built.
 * kvm_exit(struct kvm_vcpu *vcpu, u32 isa); kvm_entry(struct kvm_vcpu *vcpu[, bool ...]). */
SEC("tp_btf/kvm_exit")
int BPF_PROG(on_kvm_exit_btf, struct kvm_vcpu___ks* vcpu, __u32 isa) {
  hw_exit(vcpu->vcpu_id, vcpu_exit_reason(vcpu), isa, 0, false, false);
  return 0;
}

SEC("tp_btf/kvm_exit")
int BPF_PROG(on_btf_exit_cnt, struct kvm_vcpu___ks* vcpu, __u32 isa) {
  hw_exit(vcpu->vcpu_id, vcpu_exit_reason(vcpu), isa, 0, false, true);
  return 0;
}

SEC("tp_btf/kvm_entry")
int BPF_PROG(on_kvm_entry_btf, struct kvm_vcpu___ks* vcpu) {
  hw_entry(record ? vcpu->vcpu_id : 0, false);
  return 0;
}

/* An exit to the VMM (kvm_userspace_exit: KVM_RUN returns to user space with this reason, or
 * with an errno), from either hook. */
static __always_inline void vmm_exit(__u32 reason, int err, bool lean) {
  __u64 id = bpf_get_current_pid_tgid();
  __u32 tgid = id >> 32, tid = (__u32)id;
  const __u32 code = err < 0 ? (KS_VMM_ERRNO_FLAG | (__u32)-err) : reason;
  /* --counts-only where kvm_exit fires (`lean`: on_uexit_cnt, on_vmm_btf_cnt only): the exit
   * to the VMM follows its thread's kvm_exit, which most often left this CPU's slot cache
   * filled for the thread and its vCPU. */
  const bool lean_path = lean && counts_only && aggregate && !record && !stream_exits && !drills;
  struct ks_lean* l = NULL;
  if (lean_path) {
    l = lean_line();
    if (l && (l->id != id || l->gen != lean_gen)) l = NULL; /* another thread's: the slow way */
    if (l) {
      struct ks_exit_key key = vmm_key(tgid, l->vcpu, code);
      if (lean_count(l, &key)) return;
    }
  }
  bool is_traced;
  struct ks_thread* t = traced_thread(tgid, &is_traced);
  if (!is_traced) return;

  __u64 now = counts_only && !stream_exits ? 0 : bpf_ktime_get_ns();
  struct ks_exit_key key = vmm_key(tgid, t ? t->vcpu : KS_VCPU_UNKNOWN, code);
  if (record) emit(KS_EV_USERSPACE_EXIT, tgid, tid, key.vcpu, now, key.reason, 0, 0);
  __u32 slot = aggregate ? count_exit(t, &key, tid, now) : KS_NO_SLOT;
  if (l && slot != KS_NO_SLOT && l->vcpu == key.vcpu) lean_fill(l, &key, slot);
  if (t) {
    t->vmm_slot = slot;
    t->vmm_ts = now;
    if (t->drill_awaits && ks_drill_causes(t->drill_key.kind, key.reason)) t->drill_ts = now;
    t->drill_awaits = 0;
  }
}

KS_TRACEPOINT(on_userspace_exit, "tracepoint/kvm/kvm_userspace_exit", struct trace_event_raw_kvm_userspace_exit___ks* ctx) {
  vmm_exit(ctx->reason, ctx->errno, false);
  return 0;
}

KS_TRACEPOINT(on_uexit_cnt, "tracepoint/kvm/kvm_userspace_exit", struct trace_event_raw_kvm_userspace_exit___ks* ctx) {
  vmm_exit(ctx->reason, ctx->errno, true);
  return 0;
}

/* The same on the BTF raw tracepoint, kvm_userspace_exit(__u32 reason, int errno): the kernel
 * builds no trace record. User space checks that prototype in the kernel's BTF before it
 * chooses this program (collect/tracepoint_btf: raw_tracepoint_takes). */
SEC("tp_btf/kvm_userspace_exit")
int BPF_PROG(on_vmm_exit_btf, __u32 reason, int err) {
  vmm_exit(reason, err, false);
  return 0;
}

SEC("tp_btf/kvm_userspace_exit")
int BPF_PROG(on_vmm_btf_cnt, __u32 reason, int err) {
  vmm_exit(reason, err, true);
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
  bool is_traced;
  struct ks_thread* t = traced_thread(tgid, &is_traced);
  if (!t) return 0;
  __u32 fd = (__u32)ctx->fd;
  if (t->vcpu == KS_VCPU_UNKNOWN || t->vcpu_fd != fd) {
    t->vcpu = vcpu_of_fd(fd);
    t->vcpu_fd = fd;
  }
  if (counts_only) return 0; /* nothing to time */
  __u64 now = bpf_ktime_get_ns();
  if (record) emit(KS_EV_KVM_RUN, tgid, tid, t->vcpu, now, 0, 0, 0);
  if (t->vmm_ts) {
    if (aggregate) time_exit(t->vmm_slot, now - t->vmm_ts);
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

/* Drill-down events, from either hook: the classic tracepoint's record, or the BTF raw
 * tracepoint's arguments (no record built; user space checks each prototype in the kernel's BTF
 * before it chooses the tp_btf program, collect/tracepoint_btf). */
static __always_inline void pio_event(__u32 rw, __u32 port, __u32 size, __u32 count) {
  __u32 tgid, tid;
  struct ks_thread* t = drill_thread(&tgid, &tid);
  if (!t && !traced(tgid)) return;
  if (record)
    emit(KS_EV_PIO, tgid, tid, t ? t->vcpu : KS_VCPU_UNKNOWN, bpf_ktime_get_ns(), port, rw,
         size | ((__u64)count << 32));
  if (drills) drill(t, tgid, KS_DRILL_PORT, ks_port_flags(rw, size), port);
  if (guest_sites) site_note_io(t, rw, size, port);
}

static __always_inline void mmio_event(__u32 type, __u32 len, __u64 gpa) {
  __u32 tgid, tid;
  struct ks_thread* t = drill_thread(&tgid, &tid);
  if (!t && !traced(tgid)) return;
  if (record)
    emit(KS_EV_MMIO, tgid, tid, t ? t->vcpu : KS_VCPU_UNKNOWN, bpf_ktime_get_ns(), gpa, type, len);
  if (drills) drill(t, tgid, KS_DRILL_MMIO, (__u8)type, gpa);
}

static __always_inline void msr_event(__u32 write, __u32 index, __u32 fault) {
  __u32 tgid, tid;
  struct ks_thread* t = drill_thread(&tgid, &tid);
  if (!t && !traced(tgid)) return;
  if (record)
    emit(KS_EV_MSR, tgid, tid, t ? t->vcpu : KS_VCPU_UNKNOWN, bpf_ktime_get_ns(), index, write,
         fault);
  if (drills) drill(t, tgid, KS_DRILL_MSR, ks_msr_flags(write & 1, fault & 1), index);
  if (guest_sites) site_note_msr(t, write & 1);
}

static __always_inline void cpuid_event(__u32 function, __u32 index) {
  __u32 tgid, tid;
  struct ks_thread* t = drill_thread(&tgid, &tid);
  if (!t && !traced(tgid)) return;
  if (record)
    emit(KS_EV_CPUID, tgid, tid, t ? t->vcpu : KS_VCPU_UNKNOWN, bpf_ktime_get_ns(), function,
         index, 0);
  if (drills) drill(t, tgid, KS_DRILL_CPUID, 0, function);
}

static __always_inline void hypercall_event(__u64 nr) {
  __u32 tgid, tid;
  struct ks_thread* t = drill_thread(&tgid, &tid);
  if (!t && !traced(tgid)) return;
  if (record)
    emit(KS_EV_HYPERCALL, tgid, tid, t ? t->vcpu : KS_VCPU_UNKNOWN, bpf_ktime_get_ns(), nr, 0, 0);
  if (drills) drill(t, tgid, KS_DRILL_HYPERCALL, 0, nr);
}

KS_TRACEPOINT(on_pio, "tracepoint/kvm/kvm_pio", struct trace_event_raw_kvm_pio___ks* ctx) {
  pio_event(ctx->rw, ctx->port, ctx->size, ctx->count);
  return 0;
}

KS_TRACEPOINT(on_mmio, "tracepoint/kvm/kvm_mmio", struct trace_event_raw_kvm_mmio___ks* ctx) {
  mmio_event(ctx->type, ctx->len, ctx->gpa);
  return 0;
}

KS_TRACEPOINT(on_msr, "tracepoint/kvm/kvm_msr", struct trace_event_raw_kvm_msr___ks* ctx) {
  msr_event(ctx->write, ctx->ecx, ctx->exception);
  return 0;
}

KS_TRACEPOINT(on_cpuid, "tracepoint/kvm/kvm_cpuid", struct trace_event_raw_kvm_cpuid___ks* ctx) {
  cpuid_event(ctx->function, ctx->index);
  return 0;
}

KS_TRACEPOINT(on_hypercall, "tracepoint/kvm/kvm_hypercall", struct trace_event_raw_kvm_hypercall___ks* ctx) {
  hypercall_event(ctx->nr);
  return 0;
}

/* The same on the BTF raw tracepoints; the arguments as the kernel passes them (the prototypes
 * are those of drill_tracepoints in exit_collector.cpp, checked there):
 *   kvm_pio(u32 rw, u32 port, u32 size, u32 count, const void *data)
 *   kvm_mmio(int type, int len, u64 gpa, void *val)
 *   kvm_msr(u32 write, u32 ecx, u64 data, bool exception)
 *   kvm_cpuid(u32 function, u32 index, unsigned long rax, rbx, rcx, rdx, bool found, bool max)
 *   kvm_hypercall(unsigned long nr, a0, a1, a2, a3) */
SEC("tp_btf/kvm_pio")
int on_pio_btf(__u64* ctx) {
  pio_event((__u32)ctx[0], (__u32)ctx[1], (__u32)ctx[2], (__u32)ctx[3]);
  return 0;
}

SEC("tp_btf/kvm_mmio")
int on_mmio_btf(__u64* ctx) {
  mmio_event((__u32)ctx[0], (__u32)ctx[1], ctx[2]);
  return 0;
}

SEC("tp_btf/kvm_msr")
int on_msr_btf(__u64* ctx) {
  msr_event((__u32)ctx[0], (__u32)ctx[1], (__u8)ctx[3]);
  return 0;
}

SEC("tp_btf/kvm_cpuid")
int on_cpuid_btf(__u64* ctx) {
  cpuid_event((__u32)ctx[0], (__u32)ctx[1]);
  return 0;
}

SEC("tp_btf/kvm_hypercall")
int on_hcall_btf(__u64* ctx) {
  hypercall_event(ctx[0]);
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
