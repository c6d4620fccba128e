"""What the nested checks (check-results.py) expect of each bed's hardware: the exit codes the
built-in guest's instructions make under AMD SVM (tests/beds/svm, QEMU TCG) and Intel VMX
(tests/beds/vmx, Bochs), how kvmscope writes them, and the running kernel's reason tables.

The names kvmscope prints come from the running kernel's kvm_exit format (its print fmt holds a
__print_symbolic table for VMX, isa 1, and one for SVM); L1 copies that file out, and
kernel_tables() reads it, so a check compares kvmscope's names with the kernel's own.
"""

import re


class Profile:
    """One ISA's codes for the guest's instructions. msr_read == msr_write on SVM (one MSR exit,
    0x7c, for both directions). extras: exits the bed adds on its own (timer interrupts, first
    touches of guest memory), tolerated and reported, never required."""

    def __init__(self, name, isa, hex_codes, cpuid, hlt, io, hypercall, msr_read, msr_write,
                 mmio, mmio_first, timer, extras, names):
        self.name, self.isa, self.hex_codes = name, isa, hex_codes
        self.cpuid, self.hlt, self.io, self.hypercall = cpuid, hlt, io, hypercall
        self.msr_read, self.msr_write = msr_read, msr_write
        self.mmio = mmio              # the exit of an MMIO access once KVM knows the GPA is MMIO
        self.mmio_first = mmio_first  # the exit of the first access to it (and of first touches of RAM)
        self.timer = timer            # the exit of L1's timer interrupt
        self.extras = extras
        self.builtin_names = names    # 6.1's table, for the self-test and a missing format file

    def code_text(self, code):
        """kvmscope's code_text: hex for SVM (as the kernel's table), decimal for VMX."""
        return f"0x{code:x}" if self.hex_codes else str(code)


SVM = Profile("svm", 2, True, cpuid=0x72, hlt=0x78, io=0x7B, hypercall=0x81, msr_read=0x7C,
              msr_write=0x7C, mmio=0x400, mmio_first=0x400, timer=0x60,
              extras={0x60: "interrupt", 0x400: "npf"},
              names={0x60: "interrupt", 0x72: "cpuid", 0x78: "hlt", 0x7B: "io", 0x7C: "msr",
                     0x81: "hypercall", 0x400: "npf"})
# VMX basic exit reasons (Intel SDM, appendix C; Linux's VMX_EXIT_REASONS). EPT_VIOLATION is
# also every first touch of guest RAM; INTERRUPT_WINDOW, PREEMPTION_TIMER and EXTERNAL_INTERRUPT
# come from L1's own timer.
VMX = Profile("vmx", 1, False, cpuid=10, hlt=12, io=30, hypercall=18, msr_read=31, msr_write=32,
              mmio=49, mmio_first=48, timer=1,
              extras={1: "EXTERNAL_INTERRUPT", 7: "INTERRUPT_WINDOW", 48: "EPT_VIOLATION",
                      49: "EPT_MISCONFIG", 52: "PREEMPTION_TIMER"},
              names={1: "EXTERNAL_INTERRUPT", 7: "INTERRUPT_WINDOW", 10: "CPUID", 12: "HLT",
                     18: "VMCALL", 30: "IO_INSTRUCTION", 31: "MSR_READ", 32: "MSR_WRITE",
                     48: "EPT_VIOLATION", 49: "EPT_MISCONFIG", 52: "PREEMPTION_TIMER"})
PROFILES = {p.name: p for p in (SVM, VMX)}

SYMBOL = re.compile(r'\{\s*(0x[0-9a-fA-F]+|\d+)\s*,\s*"([^"]*)"\s*\}')


def _symbolic_tables(fmt_text):
    """The {code: name} table of each __print_symbolic(...) call in a print fmt, in order."""
    tables, pos = [], 0
    while (start := fmt_text.find("__print_symbolic(", pos)) >= 0:
        depth, i = 0, start + len("__print_symbolic")
        for i in range(i, len(fmt_text)):
            depth += {"(": 1, ")": -1}.get(fmt_text[i], 0)
            if depth == 0:
                break
        body = fmt_text[start:i + 1]
        tables.append({int(c, 0): n for c, n in SYMBOL.findall(body)})
        pos = i + 1
    return tables


def kernel_tables(format_text):
    """{"vmx": {code: name}, "svm": {code: name}} from kvm_exit's format file, or None where it
    does not have the two tables (6.1: "(REC->isa == 1) ? __print_symbolic(VMX...) :
    __print_symbolic(SVM...)")."""
    if not format_text:
        return None
    fmt = next((line for line in format_text.splitlines() if line.startswith("print fmt:")), "")
    if "REC->isa == 1" not in fmt:
        return None
    tables = _symbolic_tables(fmt[fmt.index("REC->isa == 1"):])
    if len(tables) < 2 or not tables[0] or not tables[1]:
        return None
    return {"vmx": tables[0], "svm": tables[1]}
