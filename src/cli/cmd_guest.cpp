// kvmscope guest: runs the built-in tiny VM (src/guest) and says what it did.
// Exit status: 0 done, 1 runtime error, 2 usage error, 3 stalled, 128+signal when interrupted.
#include <unistd.h>

#include <cstdio>
#include <iostream>
#include <string>

#include "cli/commands.h"
#include "collect/tracefs.h"
#include "guest/exit_query_text.h"
#include "guest/guest.h"
#include "guest/outcome_text.h"
#include "model/reason_catalog.h"
#include "util/exit_status.h"

namespace kvmscope::cli {

namespace {

constexpr const char* kHelp =
    "usage: kvmscope guest [--cpuid N] [--io N] [--hlt N] [--msr-read N] [--msr-write N]\n"
    "                      [--mmio N] [--vmcall N] [--vcpus V] [--timeout SEC] [--query-exits]\n"
    "                      [--quiet]\n"
    "\n"
    "Runs a tiny built-in VM whose guest makes exactly the VM exits asked for, so that a tracer\n"
    "(kvmscope stat, perf kvm stat, bpftrace) can be checked number for number.\n"
    "\n"
    "Every vCPU performs the whole plan (totals = V x N), one guest instruction per exit, in\n"
    "this order:\n"
    "  --cpuid N      CPUID leaf 0                    in kernel (kvm_cpuid)\n"
    "  --msr-read N   RDMSR 0x1a0 (IA32_MISC_ENABLE)  in kernel (kvm_msr)\n"
    "  --msr-write N  WRMSR 0x1a0 of its own value    in kernel (kvm_msr)\n"
    "  --vmcall N     VMCALL (Intel) / VMMCALL (AMD), unknown nr 0x4b53\n"
    "                                                 in kernel (kvm_hypercall); needs VMX/SVM:\n"
    "                                                 kvm_pvm never completes it (a stall)\n"
    "  --mmio N       1-byte write to GPA 0xa0000     KVM_EXIT_MMIO\n"
    "  --io N         OUTB to port 0x10               KVM_EXIT_IO\n"
    "  --hlt N        HLT                             KVM_EXIT_HLT\n"
    "  --vcpus V      vCPUs 0..V-1, 1 to 64 (default 1), threads named \"CPU <n>/KVM\"\n"
    "  --timeout SEC  a vCPU without progress for SEC seconds stops the run (default 10)\n"
    "  --quiet        print nothing unless something goes wrong (--query-exits: only its table)\n"
    "  --query-exits  after the plan, vCPU 0 reads the VM's exit statistics from the CPUID\n"
    "                 leaves of the kvm_exit_stats kernel patch (0x4ffffffc-0x4fffffff), for\n"
    "                 every exit code of the host CPU's vendor (Intel: VMX 0-80; AMD: SVM\n"
    "                 0x000-0x0ff, 0x400-0x403), keeps the answers in its RAM and ends with one\n"
    "                 HLT; the VMM then prints them: one line per reason seen (code, exits,\n"
    "                 cycles, share, own = the query's own CPUIDs before that read, name),\n"
    "                 the totals, and how many of the query's CPUIDs each read includes\n"
    "  -h, --help     this text\n"
    "\n"
    "No other exit of those kinds happens, for setup or for ending. When the plan has exits to\n"
    "the VMM (mmio, io, hlt), the VMM stops at the last one and never resumes the vCPUs. When it\n"
    "has none, the guest flags \"done\" in its RAM and spins, and each vCPU thread is kicked out\n"
    "of KVM_RUN with a signal (one kvm_userspace_exit \"restart\" per vCPU, of no counted kind).\n"
    "\n"
    "\n"
    "examples:\n"
    "  kvmscope guest --cpuid 10000 --io 1000 --hlt 1000\n"
    "  kvmscope guest --cpuid 200 --io 50 --query-exits   # on a kernel with the kernel/ patch\n"
    "\n"
    "exit status: 0 done, 1 error, 2 usage error, 3 stalled, 4 the kernel does not answer the\n"
    "exit-statistics leaves (--query-exits), 128+signal on SIGINT/SIGTERM\n";

constexpr int kExitStalled = 3;
constexpr int kExitNoQueryAnswer = 4;

// The running kernel's exit reason names (the table the patch's answers are about), the
// built-in ones where tracefs has none.
model::ReasonCatalog reason_catalog() {
  if (auto root = collect::tracefs_root())
    if (auto catalog = model::ReasonCatalog::from_tracefs(*root)) return std::move(*catalog);
  return model::ReasonCatalog::builtin();
}

}  // namespace

int cmd_guest(Args args) {
  auto plan = guest::parse_plan(std::span<const char* const>(args.data(), args.size()));
  if (!plan) {
    std::fprintf(stderr, "kvmscope guest: %s\n", plan.error().message().c_str());
    return 2;
  }
  if (plan->help) {
    std::fputs(kHelp, stdout);
    return 0;
  }

  auto out = guest::run(*plan);
  if (!out) {
    std::fprintf(stderr, "kvmscope guest: %s\n", out.error().message().c_str());
    return 1;
  }
  if (!plan->quiet || !out->completed()) guest::render_outcome(*plan, *out, ::getpid(), std::cout);
  if (out->query && out->query->answered) {
    if (!plan->quiet) std::cout << "\n";
    guest::render_exit_query(*out->query, *plan, reason_catalog(), std::cout);
  }
  std::cout.flush();
  switch (out->ending) {
    case guest::Ending::last_exit:
    case guest::Ending::kicked:
      if (out->query && !out->query->answered) {
        std::fprintf(stderr, "kvmscope guest: %s\nkvmscope guest: %s\n", guest::kNotAnsweredMessage,
                     guest::probe_detail(*out->query).c_str());
        return kExitNoQueryAnswer;
      }
      if (out->query)
        for (const auto& r : out->query->reasons)
          if (r.answer == guest::Answer::unexpected) return 1;  // printed with the table
      return 0;
    case guest::Ending::stalled:
      std::fprintf(stderr, "kvmscope guest: stalled: %s\n", out->detail.c_str());
      return kExitStalled;
    case guest::Ending::interrupted:
      std::fprintf(stderr, "kvmscope guest: interrupted by %s after %.3f s\n",
                   util::signal_name(out->signal).c_str(), out->elapsed_s);
      return 128 + out->signal;
  }
  return 1;
}

}  // namespace kvmscope::cli
