/* The built-in guest: 16-bit real-mode code that performs each step of the plan exactly as often
 * as its vCPU's data block (DS) says, then marks itself done and spins.
 *
 * Only the one instruction per step can exit: the loop bookkeeping lives in guest RAM (plain
 * memory accesses, no exits), and the counts are 64-bit in memory so any u64 plan fits.
 * The bytes sit in .rodata; the VMM copies them to KS_GUEST_CODE_GPA. Every jump is relative and
 * every data access is DS/ES-relative, so the code runs wherever it is copied. */
#include "guest/exit_query_abi.h"
#include "guest/guest_layout.h"

/* Loop over the step's instruction while the step's remaining count is not zero. */
.macro STEP_BEGIN step, name
	movl $\step, KS_D_STEP
.L\name\()_top:
	movl KS_D_REMAINING + (\step - 1) * 8, %eax
	orl KS_D_REMAINING + (\step - 1) * 8 + 4, %eax
	jz .L\name\()_end
.endm

/* Count the instruction as done: a 64-bit decrement and one watchdog tick. */
.macro STEP_END step, name
	subl $1, KS_D_REMAINING + (\step - 1) * 8
	sbbl $0, KS_D_REMAINING + (\step - 1) * 8 + 4
	incl KS_D_TICK
	jmp .L\name\()_top
.L\name\()_end:
.endm

/* Store the four registers of a CPUID answer at FS:\where (where: a displacement, optionally
 * with an index register). */
.macro STORE_REGS where
	movl %eax, %fs:\where
	movl %ebx, %fs:4+\where
	movl %ecx, %fs:8+\where
	movl %edx, %fs:12+\where
.endm

	.section .rodata.ks_guest_code, "a"
	.code16
	.globl ks_guest_code_start
	.globl ks_guest_code_end
ks_guest_code_start:
	STEP_BEGIN KS_STEP_CPUID, cpuid
	xorl %eax, %eax			/* leaf 0, subleaf 0: always valid */
	xorl %ecx, %ecx
	cpuid
	STEP_END KS_STEP_CPUID, cpuid

	STEP_BEGIN KS_STEP_MSR_READ, rdmsr
	movl $KS_GUEST_MSR, %ecx
	rdmsr
	STEP_END KS_STEP_MSR_READ, rdmsr

	STEP_BEGIN KS_STEP_MSR_WRITE, wrmsr
	movl $KS_GUEST_MSR, %ecx
	movl KS_D_MSR_VALUE, %eax	/* the value the MSR already holds: the write is a no-op */
	movl KS_D_MSR_VALUE + 4, %edx
	wrmsr
	STEP_END KS_STEP_MSR_WRITE, wrmsr

	STEP_BEGIN KS_STEP_VMCALL, vmcall
	movl $KS_GUEST_HYPERCALL_NR, %eax	/* reloaded: KVM writes its answer to EAX */
	xorl %ebx, %ebx
	xorl %ecx, %ecx
	xorl %edx, %edx
	xorl %esi, %esi
	/* The vendor's own instruction: the other one would #UD and make KVM patch the code. */
	cmpb $0, KS_D_USE_VMMCALL
	jne 1f
	vmcall
	jmp 2f
1:	vmmcall
2:
	STEP_END KS_STEP_VMCALL, vmcall

	STEP_BEGIN KS_STEP_MMIO, mmio
	movb $0x4b, %es:0		/* ES = KS_GUEST_MMIO_GPA, outside all RAM */
	STEP_END KS_STEP_MMIO, mmio

	STEP_BEGIN KS_STEP_IO, io
	movb $0x4b, %al
	outb %al, $KS_GUEST_IO_PORT
	STEP_END KS_STEP_IO, io

	STEP_BEGIN KS_STEP_HLT, hlt
	hlt				/* IF = 0 and no in-kernel irqchip: KVM_EXIT_HLT */
	STEP_END KS_STEP_HLT, hlt

	/* The exit-statistics query (--query-exits, vCPU 0 only), after the whole plan: the probe,
	 * the totals, then per code of the entry table its exits and its cycles. The answers go to
	 * the query area (FS), never through OUT, so the query adds no exit but its own CPUIDs and
	 * the one HLT that ends it. The order of the reads is what exit_query.h documents. */
	cmpb $0, KS_D_QUERY
	je .Lquery_skip
	movl $KS_STEP_QUERY, KS_D_STEP
	movl $KS_LEAF_REASON_EXITS, %eax
	movl $KS_PROBE_REASON, %ecx
	cpuid
	STORE_REGS KS_Q_PROBE
	incl KS_D_TICK
	/* A patched KVM calls the probe's reason undefined; anything else: ask nothing more. */
	cmpl $KS_UNDEFINED_EDX, %edx
	jne .Lquery_end
	orl %ebx, %eax
	orl %ecx, %eax
	jnz .Lquery_end

	movl $KS_LEAF_TOTAL_EXITS, %eax
	xorl %ecx, %ecx
	cpuid
	STORE_REGS KS_Q_TOTAL_EXITS
	movl $KS_LEAF_TOTAL_CYCLES, %eax
	xorl %ecx, %ecx
	cpuid
	STORE_REGS KS_Q_TOTAL_CYCLES
	incl KS_D_TICK

	movw $KS_Q_ENTRIES, %di
.Lquery_top:
	movl %fs:KS_Q_DONE, %eax
	cmpl %fs:KS_Q_COUNT, %eax
	jae .Lquery_end
	movl $KS_LEAF_REASON_EXITS, %eax
	movl %fs:(%di), %ecx
	cpuid
	STORE_REGS KS_Q_ENTRY_EXITS(%di)
	movl $KS_LEAF_REASON_CYCLES, %eax
	movl %fs:(%di), %ecx
	cpuid
	STORE_REGS KS_Q_ENTRY_CYCLES(%di)
	incl %fs:KS_Q_DONE
	incl KS_D_TICK
	addw $KS_Q_ENTRY_SIZE, %di
	jmp .Lquery_top
.Lquery_end:
	/* IF = 0, no irqchip: KVM_EXIT_HLT, and the VMM reads the query area. Never resumed. */
	hlt
	jmp .Lquery_end
.Lquery_skip:

	/* Done. When the plan ends with an exit to the VMM, the VMM never resumes the vCPU to get
	 * here. Otherwise the VMM sees this flag and kicks the thread out of KVM_RUN with a signal;
	 * spinning (no PAUSE, no HLT) makes no exit of any counted kind meanwhile. */
	movl $KS_STEP_DONE, KS_D_STEP
3:	jmp 3b
ks_guest_code_end:

	.section .note.GNU-stack, "", @progbits
