/* Guest-physical layout of the built-in VM and the offsets of each vCPU's data block.
 * Plain C preprocessor definitions only, because guest_code.S (run through cpp) and the C++ VMM
 * must agree on every one of them. */
#ifndef KVMSCOPE_GUEST_GUEST_LAYOUT_H
#define KVMSCOPE_GUEST_GUEST_LAYOUT_H

/* RAM is one memory slot at GPA 0. The code runs in 16-bit real mode at CS:IP = 0:0x1000. */
#define KS_GUEST_RAM_SIZE 0x60000
#define KS_GUEST_CODE_GPA 0x1000
/* vCPU n's data block (its DS segment) is at DATA_GPA + n * DATA_STRIDE: 64 vCPUs end at 0x50000,
 * where the exit-statistics query area begins (exit_query_abi.h). */
#define KS_GUEST_DATA_GPA 0x10000
#define KS_GUEST_DATA_STRIDE 0x1000
/* Outside every memory slot, so a write there is an MMIO exit to the VMM (ES points here). */
#define KS_GUEST_MMIO_GPA 0xa0000
/* No in-kernel device exists (no irqchip, no PIT), so an OUT to any port goes to the VMM. */
#define KS_GUEST_IO_PORT 0x10
/* MSR_IA32_MISC_ENABLE: emulated by kvm_{get,set}_msr_common on VMX and SVM alike, never passed
 * through, and writing back the value read changes nothing (see guest.h). */
#define KS_GUEST_MSR 0x1a0
/* No KVM_HC_* has this number, so KVM answers -KVM_ENOSYS in RAX and resumes the guest. */
#define KS_GUEST_HYPERCALL_NR 0x4b53

/* Steps, in the order the guest performs them: in-kernel work first, exits to the VMM last. */
#define KS_STEP_NONE 0
#define KS_STEP_CPUID 1
#define KS_STEP_MSR_READ 2
#define KS_STEP_MSR_WRITE 3
#define KS_STEP_VMCALL 4
#define KS_STEP_MMIO 5
#define KS_STEP_IO 6
#define KS_STEP_HLT 7
/* vCPU 0 with --query-exits: reads the exit-statistics CPUID leaves, then one HLT ends it. */
#define KS_STEP_QUERY 8
#define KS_STEP_DONE 9

/* Data block: step s has its remaining count (u64) at (s - 1) * 8. The guest decrements a count
 * after each instruction, so the VMM can read how far every step got. */
#define KS_D_REMAINING 0x00
#define KS_D_MSR_VALUE 0x38   /* u64 that WRMSR writes: the MSR's value read by KVM_GET_MSRS */
#define KS_D_USE_VMMCALL 0x40 /* u8: 1 on AMD/Hygon (VMMCALL), 0 on Intel (VMCALL) */
#define KS_D_QUERY 0x41       /* u8: 1 = run the exit-statistics query after the plan */
#define KS_D_STEP 0x44        /* u32: the step the guest is in, KS_STEP_DONE at the end */
#define KS_D_TICK 0x48        /* u32: +1 per instruction done; the VMM's progress watchdog */
#define KS_D_SIZE 0x4c

#endif
