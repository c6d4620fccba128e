/* kpatch-probe: a minimal static KVM VMM for the nested bed (L1) that checks the kernel patch's
 * CPUID leaves (kernel/patches) from inside a guest.
 *
 * Usage: kpatch-probe CPUID IO HLT [LEAF:ECX]...
 *
 * The real-mode guest first makes exactly CPUID cpuid exits (leaf 0), IO port-0x10 OUTs and HLT
 * HLTs, then for every LEAF:ECX pair (hex) executes CPUID with EAX=LEAF, ECX=ECX followed by
 * OUT 0x11, where the VMM reads the answer with KVM_GET_REGS; finally OUT 0x12, after which the
 * VMM stops without resuming the vCPU. Query i (1-based) is therefore the (CPUID + i)-th cpuid
 * exit and follows IO + i - 1 io exits (plus the 0x11 OUTs of the earlier queries).
 * Output (stdout, one line each):
 *   KPATCH-PROBE pid <pid> cpuid <n> io <n> hlt <n> queries <n>
 *   KPATCH-PROBE query <i> leaf 0x<leaf> ecx 0x<ecx>: eax 0x.. ebx 0x.. ecx 0x.. edx 0x..
 *   KPATCH-PROBE done io <n> hlt <n> secs <s>
 * Exit status 0 done, 1 error, 2 usage. */
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define DIE(m) do { perror(m); exit(1); } while (0)

/* Assembled from (as --32, .code16), loaded at GPA 0x1000 with CS=0, IP=0x1000:
 *   movl 0x2000,%esi; 1: test; jz; xor %eax,%eax; cpuid; dec %esi; jmp 1b     CPUID x [0x2000]
 *   movl 0x2004,%esi; 3: test; jz; outb %al,$0x10; dec; jmp 3b                OUT   x [0x2004]
 *   movl 0x2008,%esi; 5: test; jz; hlt; dec; jmp 5b                          HLT   x [0x2008]
 *   mov $0x3004,%si; mov 0x3000,%di; 7: test %di; jz 8f; movl (%si),%eax; movl 4(%si),%ecx;
 *   cpuid; outb %al,$0x11; add $8,%si; dec %di; jmp 7b                        queries
 *   8: outb %al,$0x12; jmp 8b                                                  end */
static const unsigned char guest_code[] = {
    0x66, 0x8b, 0x36, 0x00, 0x20, 0x66, 0x85, 0xf6, 0x74, 0x09, 0x66, 0x31,
    0xc0, 0x0f, 0xa2, 0x66, 0x4e, 0xeb, 0xf2, 0x66, 0x8b, 0x36, 0x04, 0x20,
    0x66, 0x85, 0xf6, 0x74, 0x06, 0xe6, 0x10, 0x66, 0x4e, 0xeb, 0xf5, 0x66,
    0x8b, 0x36, 0x08, 0x20, 0x66, 0x85, 0xf6, 0x74, 0x05, 0xf4, 0x66, 0x4e,
    0xeb, 0xf6, 0xbe, 0x04, 0x30, 0x8b, 0x3e, 0x00, 0x30, 0x85, 0xff, 0x74,
    0x11, 0x66, 0x8b, 0x04, 0x66, 0x8b, 0x4c, 0x04, 0x0f, 0xa2, 0xe6, 0x11,
    0x83, 0xc6, 0x08, 0x4f, 0xeb, 0xeb, 0xe6, 0x12, 0xeb, 0xfc,
};

#define MAX_QUERIES 500

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: %s CPUID IO HLT [LEAF:ECX]...\n", argv[0]);
        return 2;
    }
    uint32_t n_cpuid = strtoul(argv[1], NULL, 0), n_io = strtoul(argv[2], NULL, 0),
             n_hlt = strtoul(argv[3], NULL, 0);
    int nq = argc - 4;
    if (nq > MAX_QUERIES) {
        fprintf(stderr, "at most %d queries\n", MAX_QUERIES);
        return 2;
    }
    size_t memsz = 0x10000;
    unsigned char *mem = mmap(NULL, memsz, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (mem == MAP_FAILED)
        DIE("mmap");
    memcpy(mem + 0x1000, guest_code, sizeof guest_code);
    memcpy(mem + 0x2000, &n_cpuid, 4);
    memcpy(mem + 0x2004, &n_io, 4);
    memcpy(mem + 0x2008, &n_hlt, 4);
    uint16_t q16 = (uint16_t)nq;
    memcpy(mem + 0x3000, &q16, 2);
    uint32_t leaves[MAX_QUERIES], ecxs[MAX_QUERIES];
    for (int i = 0; i < nq; i++) {
        char *colon;
        leaves[i] = strtoul(argv[4 + i], &colon, 16);
        if (*colon != ':') {
            fprintf(stderr, "bad query %s (want LEAF:ECX in hex)\n", argv[4 + i]);
            return 2;
        }
        ecxs[i] = strtoul(colon + 1, NULL, 16);
        memcpy(mem + 0x3004 + 8 * i, &leaves[i], 4);
        memcpy(mem + 0x3004 + 8 * i + 4, &ecxs[i], 4);
    }

    int kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
    if (kvm < 0)
        DIE("open /dev/kvm");
    int vm = ioctl(kvm, KVM_CREATE_VM, 0UL);
    if (vm < 0)
        DIE("KVM_CREATE_VM");
    struct kvm_userspace_memory_region reg = {.slot = 0, .guest_phys_addr = 0, .memory_size = memsz,
                                              .userspace_addr = (unsigned long)mem};
    if (ioctl(vm, KVM_SET_USER_MEMORY_REGION, &reg) < 0)
        DIE("KVM_SET_USER_MEMORY_REGION");
    int vcpu = ioctl(vm, KVM_CREATE_VCPU, 0UL);
    if (vcpu < 0)
        DIE("KVM_CREATE_VCPU");
    int runsz = ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
    struct kvm_run *run = mmap(NULL, runsz, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu, 0);
    if (run == MAP_FAILED)
        DIE("mmap run");
    struct kvm_sregs sregs;
    if (ioctl(vcpu, KVM_GET_SREGS, &sregs) < 0)
        DIE("KVM_GET_SREGS");
    sregs.cs.base = 0;
    sregs.cs.selector = 0;
    sregs.ds.base = 0;
    sregs.ds.selector = 0;
    if (ioctl(vcpu, KVM_SET_SREGS, &sregs) < 0)
        DIE("KVM_SET_SREGS");
    struct kvm_regs regs = {.rip = 0x1000, .rflags = 0x2};
    if (ioctl(vcpu, KVM_SET_REGS, &regs) < 0)
        DIE("KVM_SET_REGS");

    setvbuf(stdout, NULL, _IOLBF, 0);
    printf("KPATCH-PROBE pid %d cpuid %u io %u hlt %u queries %d\n", (int)getpid(), n_cpuid, n_io,
           n_hlt, nq);
    long io = 0, hlt = 0;
    int q = 0;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (;;) {
        if (ioctl(vcpu, KVM_RUN, 0) < 0) {
            if (errno == EINTR)
                continue;
            DIE("KVM_RUN");
        }
        if (run->exit_reason == KVM_EXIT_HLT) {
            hlt++;
            continue;
        }
        if (run->exit_reason != KVM_EXIT_IO || run->io.direction != KVM_EXIT_IO_OUT) {
            fprintf(stderr, "unexpected exit_reason=%u\n", run->exit_reason);
            return 1;
        }
        if (run->io.port == 0x10) {
            io++;
        } else if (run->io.port == 0x11) {
            struct kvm_regs r;
            if (ioctl(vcpu, KVM_GET_REGS, &r) < 0)
                DIE("KVM_GET_REGS");
            if (q >= nq) {
                fprintf(stderr, "more query answers than queries\n");
                return 1;
            }
            printf("KPATCH-PROBE query %d leaf 0x%x ecx 0x%x: eax 0x%x ebx 0x%x ecx 0x%x edx 0x%x\n",
                   q + 1, leaves[q], ecxs[q], (unsigned)r.rax, (unsigned)r.rbx, (unsigned)r.rcx,
                   (unsigned)r.rdx);
            q++;
        } else if (run->io.port == 0x12) {
            break;
        } else {
            fprintf(stderr, "unexpected OUT to port 0x%x\n", run->io.port);
            return 1;
        }
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    printf("KPATCH-PROBE done io %ld hlt %ld secs %.3f\n", io, hlt,
           (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9);
    return q == nq && io == n_io && hlt == n_hlt ? 0 : 1;
}
