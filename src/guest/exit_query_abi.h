/* The exit-statistics CPUID leaves of the kernel/ patch (kernel/README.md) and where the built-in
 * guest keeps what it reads from them. Plain C preprocessor definitions only: guest_code.S (run
 * through cpp) and the C++ VMM must agree on every one of them.
 *
 * The leaves, as the patched KVM answers a guest's CPUID:
 *   0x4fffffff            EAX = exits of this VM so far (low 32 bits)
 *   0x4ffffffe            EBX:ECX = cycles spent handling its exits (EBX high, ECX low)
 *   0x4ffffffd, ECX = r   EAX = exits of reason r
 *   0x4ffffffc, ECX = r   EBX:ECX = cycles of reason r
 * A reason the hardware does not define: EAX = EBX = ECX = 0, EDX = 0xffffffff; a defined one
 * (seen or not): EDX = 0. An unpatched KVM answers these leaves like any unknown leaf. */
#ifndef KVMSCOPE_GUEST_EXIT_QUERY_ABI_H
#define KVMSCOPE_GUEST_EXIT_QUERY_ABI_H

#define KS_LEAF_TOTAL_EXITS 0x4fffffff
#define KS_LEAF_TOTAL_CYCLES 0x4ffffffe
#define KS_LEAF_REASON_EXITS 0x4ffffffd
#define KS_LEAF_REASON_CYCLES 0x4ffffffc
/* No VMX or SVM exit reason has this code: a patched KVM must call it undefined. */
#define KS_PROBE_REASON 0xfffffff0
#define KS_UNDEFINED_EDX 0xffffffff

/* The query area: 64 KiB of guest RAM above the 64 vCPU data blocks, the guest's FS segment.
 * The VMM writes the codes to ask about; vCPU 0 writes every register of every answer. */
#define KS_GUEST_QUERY_GPA 0x50000
#define KS_Q_COUNT 0x00        /* u32, VMM: codes in the entry table */
#define KS_Q_DONE 0x04         /* u32, guest: entries answered so far */
#define KS_Q_PROBE 0x10        /* EAX EBX ECX EDX of leaf 0x4ffffffd, ECX = KS_PROBE_REASON */
#define KS_Q_TOTAL_EXITS 0x20  /* the same of leaf 0x4fffffff */
#define KS_Q_TOTAL_CYCLES 0x30 /* the same of leaf 0x4ffffffe */
#define KS_Q_ENTRIES 0x40
/* Entry: u32 code at 0 (VMM), then EAX EBX ECX EDX of 0x4ffffffd at 0x10 and of 0x4ffffffc at
 * 0x20 (guest). */
#define KS_Q_ENTRY_SIZE 0x30
#define KS_Q_ENTRY_EXITS 0x10
#define KS_Q_ENTRY_CYCLES 0x20
#define KS_Q_MAX_ENTRIES ((0x10000 - KS_Q_ENTRIES) / KS_Q_ENTRY_SIZE)

#endif
