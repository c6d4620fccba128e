/* kvmtest: the nested bed's smallest VMM, a known number of real exits from a real-mode guest.
 *
 *   kvmtest [ITERS=1000] [CPUID_PER_ITER=10]
 *
 * The guest runs ITERS times { CPUID_PER_ITER x CPUID; OUT 0x10; HLT }. With no in-kernel irqchip,
 * CPUID stays in KVM (a kvm_exit only) while OUT and HLT also return to this process (KVM_EXIT_IO,
 * KVM_EXIT_HLT), so one run makes ITERS * (CPUID_PER_ITER + 2) guest-caused exits.
 * Used by tests/fixtures/tracedat/capture-l1.sh; the final line is kept in those fixtures' logs. */
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

enum { kGuestMem = 0x10000, kCodeAt = 0x1000, kPort = 0x10 };

static void die(const char *what) {
  fprintf(stderr, "kvmtest: %s: %s\n", what, strerror(errno));
  exit(1);
}

static int kvm_ioctl(int fd, unsigned long req, const void *arg, const char *what) {
  int rc = ioctl(fd, req, arg);
  if (rc < 0) die(what);
  return rc;
}

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
  const long iters = argc > 1 ? atol(argv[1]) : 1000;
  const long inner = argc > 2 ? atol(argv[2]) : 10;
  if (iters < 1 || inner < 1 || inner > 0xffff) {
    fprintf(stderr, "usage: kvmtest [ITERS>=1] [CPUID_PER_ITER 1..65535]\n");
    return 2;
  }
  /* 16-bit code at CS:IP = 0:0x1000. CPUID clobbers (e)ax..dx, so the counter lives in SI. */
  const unsigned char code[] = {
      0xbe, (unsigned char)(inner & 0xff), (unsigned char)(inner >> 8), /* mov si, inner */
      0x66, 0x31, 0xc0,                                                 /* xor eax, eax */
      0x0f, 0xa2,                                                       /* cpuid */
      0x4e,                                                             /* dec si */
      0x75, 0xf8,                                                       /* jnz xor */
      0xe6, kPort,                                                      /* out kPort, al */
      0xf4,                                                             /* hlt */
      0xeb, 0xf0,                                                       /* jmp mov */
  };
  int kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
  if (kvm < 0) die("open /dev/kvm");
  int vm = kvm_ioctl(kvm, KVM_CREATE_VM, 0, "KVM_CREATE_VM");
  unsigned char *mem =
      mmap(NULL, kGuestMem, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (mem == MAP_FAILED) die("mmap guest memory");
  memcpy(mem + kCodeAt, code, sizeof code);
  struct kvm_userspace_memory_region region = {
      .slot = 0, .guest_phys_addr = 0, .memory_size = kGuestMem, .userspace_addr = (__u64)mem};
  kvm_ioctl(vm, KVM_SET_USER_MEMORY_REGION, &region, "KVM_SET_USER_MEMORY_REGION");
  int vcpu = kvm_ioctl(vm, KVM_CREATE_VCPU, 0, "KVM_CREATE_VCPU");
  int run_size = kvm_ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0, "KVM_GET_VCPU_MMAP_SIZE");
  struct kvm_run *run = mmap(NULL, run_size, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu, 0);
  if (run == MAP_FAILED) die("mmap kvm_run");
  struct kvm_sregs sregs;
  kvm_ioctl(vcpu, KVM_GET_SREGS, &sregs, "KVM_GET_SREGS");
  sregs.cs.base = 0;
  sregs.cs.selector = 0;
  kvm_ioctl(vcpu, KVM_SET_SREGS, &sregs, "KVM_SET_SREGS");
  struct kvm_regs regs = {.rip = kCodeAt, .rflags = 0x2};
  kvm_ioctl(vcpu, KVM_SET_REGS, &regs, "KVM_SET_REGS");

  long io = 0, hlt = 0, runs = 0;
  const double t0 = now_s();
  while (hlt < iters) {
    if (ioctl(vcpu, KVM_RUN, 0) < 0) {
      if (errno == EINTR) continue;
      die("KVM_RUN");
    }
    ++runs;
    if (run->exit_reason == KVM_EXIT_IO && run->io.port == kPort) {
      ++io;
    } else if (run->exit_reason == KVM_EXIT_HLT) {
      ++hlt;
    } else {
      fprintf(stderr, "kvmtest: unexpected exit %u after %ld KVM_RUNs\n", run->exit_reason, runs);
      return 1;
    }
  }
  const double secs = now_s() - t0;
  const long exits = iters * (inner + 2);
  printf("KVMTEST done: iters=%ld cpuid/iter=%ld io_exits=%ld hlt_exits=%ld KVM_RUN=%ld "
         "time=%.3fs expected_exits=%ld exits/s=%.0f\n",
         iters, inner, io, hlt, runs, secs, exits, (double)exits / secs);
  return 0;
}
