/* SPDX-License-Identifier: GPL-2.0 */
/* The KVM vCPU structs as BPF programs read them through CO-RE (relocated against the running
 * kernel's BTF: struct kvm_vcpu in vmlinux or the kvm module, vcpu_svm / vcpu_vmx in kvm_amd's /
 * kvm_intel's module BTF): exits.bpf.c's tp_btf kvm_exit programs, and bench/peers' floor of the
 * same read (bpf_floor.bpf.c). Include after the kernel's BPF headers (linux/types.h). */
#pragma once

struct kvm_vcpu___ks {
  int vcpu_id;
} __attribute__((preserve_access_index));

/* The vCPU structs of kvm_amd and kvm_intel (module BTF): struct kvm_vcpu is their first member. */
struct vmcb_control_area___ks {
  __u32 exit_code;
} __attribute__((preserve_access_index));

struct vmcb___ks {
  struct vmcb_control_area___ks control;
} __attribute__((preserve_access_index));

struct vcpu_svm___ks {
  struct kvm_vcpu___ks vcpu;
  struct vmcb___ks* vmcb;
} __attribute__((preserve_access_index));

union vmx_exit_reason___ks {
  __u32 full;
} __attribute__((preserve_access_index));

struct vcpu_vmx___ks {
  struct kvm_vcpu___ks vcpu;
  union vmx_exit_reason___ks exit_reason;
} __attribute__((preserve_access_index));

/* Before 5.12 exit_reason was a plain u32. */
struct vcpu_vmx___u32 {
  struct kvm_vcpu___ks vcpu;
  __u32 exit_reason;
} __attribute__((preserve_access_index));
