// SPDX-License-Identifier: GPL-2.0
/* Calibration for bench/peers/percost.sh (bpftool prog profile is not available with Debian's
 * bpftool): the building blocks of kvmscope's per-event work as separate programs, all on the
 * same tracepoint, each timed by the kernel's bpf_stats. Differences between them say what each
 * block costs on this machine: the empty program is the floor (bpf_stats' own clock reads and
 * the call), then the ids and clock, a u32 hash lookup (kvmscope's `threads`), a 16-byte-key
 * hash lookup (its `exits`), atomic vs plain adds, task-local storage instead of the threads
 * hash, a per-CPU array (what kvmexit-bpfcc uses), and two dependent probe reads (the tp_btf
 * kvm_exit program's way to the SVM exit code on kernels without bpf_rdonly_cast). */
#include <linux/bpf.h>
#include <linux/types.h>
/* after the kernel types it uses */
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>

#include "bpf/kvm_vcpu.bpf.h" /* kvmscope's own CO-RE vCPU structs: the same read */

char LICENSE[] SEC("license") = "GPL";

struct task_struct;

struct key16 {
  __u32 tgid, vcpu, reason;
  __u16 isa;
  __u8 level, pad;
};

struct val {
  __u64 count, timed, time_ns, max_ns, hist[40];
};

struct thread {
  __u64 ts;
  struct key16 key;
  __u32 vcpu, fd;
};

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 16384);
  __type(key, struct key16);
  __type(value, struct val);
} exits SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 65536);
  __type(key, __u32);
  __type(value, struct thread);
} threads SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_TASK_STORAGE);
  __uint(map_flags, BPF_F_NO_PREALLOC);
  __type(key, int);
  __type(value, struct thread);
} tstore SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, struct val);
} pcpu SEC(".maps");

static const struct val zero;

static __always_inline struct val* counter(const struct key16* k) {
  struct val* v = bpf_map_lookup_elem(&exits, k);
  if (v) return v;
  bpf_map_update_elem(&exits, k, &zero, BPF_NOEXIST);
  return bpf_map_lookup_elem(&exits, k);
}

static __always_inline struct key16 key_of(__u64 id) {
  struct key16 k = {};
  k.tgid = id >> 32;
  k.vcpu = 0;
  k.reason = 2;
  k.level = 1;
  return k;
}

#define TP "tracepoint/kvm/kvm_userspace_exit"

SEC(TP) int f0_empty(void* ctx) {
  return 0;
}

SEC(TP) int f1_ids_clock(void* ctx) {
  volatile __u64 id = bpf_get_current_pid_tgid();
  volatile __u64 t = bpf_ktime_get_ns();
  (void)id;
  (void)t;
  return 0;
}

SEC(TP) int f2_hash_u32(void* ctx) {
  __u32 tid = (__u32)bpf_get_current_pid_tgid();
  struct thread* t = bpf_map_lookup_elem(&threads, &tid);
  if (!t) {
    struct thread fresh = {};
    bpf_map_update_elem(&threads, &tid, &fresh, BPF_NOEXIST);
    return 0;
  }
  t->ts = 1;
  return 0;
}

SEC(TP) int f3_task_storage(void* ctx) {
  struct thread* t =
      bpf_task_storage_get(&tstore, bpf_get_current_task_btf(), 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
  if (t) t->ts = 1;
  return 0;
}

SEC(TP) int f4_hash16_plain1(void* ctx) {
  struct key16 k = key_of(bpf_get_current_pid_tgid());
  struct val* v = counter(&k);
  if (v) v->count += 1;
  return 0;
}

SEC(TP) int f5_hash16_atomic1(void* ctx) {
  struct key16 k = key_of(bpf_get_current_pid_tgid());
  struct val* v = counter(&k);
  if (v) __sync_fetch_and_add(&v->count, 1);
  return 0;
}

SEC(TP) int f6_hash16_atomic4(void* ctx) {
  struct key16 k = key_of(bpf_get_current_pid_tgid());
  struct val* v = counter(&k);
  if (!v) return 0;
  __sync_fetch_and_add(&v->count, 1);
  __sync_fetch_and_add(&v->timed, 1);
  __sync_fetch_and_add(&v->time_ns, 100);
  __sync_fetch_and_add(&v->hist[6], 1);
  return 0;
}

SEC(TP) int f7_hash16_plain4(void* ctx) {
  struct key16 k = key_of(bpf_get_current_pid_tgid());
  struct val* v = counter(&k);
  if (!v) return 0;
  v->count += 1;
  v->timed += 1;
  v->time_ns += 100;
  v->hist[6] += 1;
  return 0;
}

SEC(TP) int f8_percpu_array(void* ctx) {
  __u32 zero_key = 0;
  struct val* v = bpf_map_lookup_elem(&pcpu, &zero_key);
  if (v) v->count += 1;
  return 0;
}

/* kvmscope's on_userspace_exit as it is (threads hash + exits hash + atomic count + clock), and
 * as it could be (task-local storage for the per-thread state, a plain add: one vCPU thread per
 * key runs on one CPU at a time). */
SEC(TP) int f9_uexit_now(void* ctx) {
  __u64 id = bpf_get_current_pid_tgid();
  __u64 now = bpf_ktime_get_ns();
  __u32 tid = (__u32)id;
  struct thread* t = bpf_map_lookup_elem(&threads, &tid);
  if (!t) {
    struct thread fresh = {};
    bpf_map_update_elem(&threads, &tid, &fresh, BPF_NOEXIST);
    t = bpf_map_lookup_elem(&threads, &tid);
  }
  struct key16 k = key_of(id);
  struct val* v = counter(&k);
  if (v) __sync_fetch_and_add(&v->count, 1);
  if (t) {
    t->key = k;
    t->ts = now;
  }
  return 0;
}

SEC(TP) int f10_uexit_tstore_plain(void* ctx) {
  __u64 id = bpf_get_current_pid_tgid();
  __u64 now = bpf_ktime_get_ns();
  struct thread* t =
      bpf_task_storage_get(&tstore, bpf_get_current_task_btf(), 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
  struct key16 k = key_of(id);
  struct val* v = counter(&k);
  if (v) v->count += 1;
  if (t) {
    t->key = k;
    t->ts = now;
  }
  return 0;
}

/* Two dependent probe reads, as the tp_btf kvm_exit program reads the SVM exit code
 * (vcpu_svm->vmcb, then vmcb->control.exit_code) where the kernel has no bpf_rdonly_cast: here a
 * pointer from the current task, then 4 bytes through it. */
SEC(TP) int f11_probe_read2(void* ctx) {
  void* task = (void*)bpf_get_current_task();
  void* p = 0;
  volatile __u32 code = 0;
  bpf_probe_read_kernel(&p, sizeof p, task);
  bpf_probe_read_kernel((void*)&code, sizeof code, p);
  return 0;
}

/* The floor of a hook, for bench/peers/slowdown.sh (tracers floor-*; bpf_floor attaches only the
 * programs it is told to): what any BPF exit tracer pays at these hooks before its own work, in
 * the same L1 as kvmscope and the peers.
 *  - slow_btf_exit / slow_btf_entry: empty BTF raw tracepoint programs (kvmscope's hooks; a
 *    counting tool needs kvm_exit, a timing one kvm_entry too);
 *  - slow_classic_exit / slow_classic_entry: empty classic tracepoint programs (kvmexit-bpfcc's
 *    hook): the kernel builds the trace record, get_exit_info included, before the program runs;
 *  - slow_classic_uexit / slow_btf_uexit: the same two ways on kvm_userspace_exit (exits to the
 *    VMM), where the classic record carries only what the raw tracepoint's arguments say;
 *  - slow_btf_count: the least a tp_btf tool that names the exit reason can do on a kernel without
 *    bpf_rdonly_cast for the vCPU's module type: the two dependent probe reads of the SVM exit
 *    code and a per-CPU array add (kvmexit-bpfcc's counting, on the raw tracepoint). */
#define KS_FLOOR_REASONS 1024

struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, KS_FLOOR_REASONS);
  __type(key, __u32);
  __type(value, __u64);
} reason_counts SEC(".maps");

SEC("tp_btf/kvm_exit") int slow_btf_exit(__u64* ctx) {
  return 0;
}

SEC("tp_btf/kvm_entry") int slow_btf_entry(__u64* ctx) {
  return 0;
}

SEC("tracepoint/kvm/kvm_exit") int slow_classic_exit(void* ctx) {
  return 0;
}

SEC("tracepoint/kvm/kvm_entry") int slow_classic_entry(void* ctx) {
  return 0;
}

SEC("tp_btf/kvm_exit") int slow_btf_count(__u64* ctx) {
  /* struct kvm_vcpu is vcpu_svm's first member (kvmscope checks that offset; here it is 0). */
  struct vcpu_svm___ks* svm = (void*)ctx[0];
  __u32 reason = BPF_CORE_READ(svm, vmcb, control.exit_code);
  if (reason >= KS_FLOOR_REASONS) reason = KS_FLOOR_REASONS - 1;
  __u64* n = bpf_map_lookup_elem(&reason_counts, &reason);
  if (n) *n += 1;
  return 0;
}

SEC("tracepoint/kvm/kvm_userspace_exit") int slow_classic_uexit(void* ctx) {
  return 0;
}

SEC("tp_btf/kvm_userspace_exit") int slow_btf_uexit(__u64* ctx) {
  return 0;
}
