// kvmscope guest: runs the built-in tiny VM (src/guest) and says what it did.
// Exit status: 0 done, 1 runtime error, 2 usage error, 3 stalled, 128+signal when interrupted.
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <iostream>
#include <string>

#include "cli/commands.h"
#include "collect/tracefs.h"
#include "guest/exit_query_text.h"
#include "guest/guest.h"
#include "guest/guest_layout.h"
#include "model/reason_catalog.h"
#include "report/format.h"
#include "report/text_table.h"

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

std::string signal_name(int sig) {
  if (sig == SIGINT) return "SIGINT";
  if (sig == SIGTERM) return "SIGTERM";
  return "signal " + std::to_string(sig);
}

std::string hex(unsigned v) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "0x%x", v);
  return buf;
}

std::string where_handled(guest::Kind kind) {
  switch (kind) {
    case guest::Kind::cpuid:
      return "in kernel (CPUID leaf 0)";
    case guest::Kind::msr_read:
      return "in kernel (RDMSR " + hex(KS_GUEST_MSR) + " IA32_MISC_ENABLE)";
    case guest::Kind::msr_write:
      return "in kernel (WRMSR " + hex(KS_GUEST_MSR) + ", value unchanged)";
    case guest::Kind::vmcall:
      return "in kernel (VMCALL/VMMCALL nr " + hex(KS_GUEST_HYPERCALL_NR) + ")";
    case guest::Kind::mmio:
      return "KVM_EXIT_MMIO (write GPA " + hex(KS_GUEST_MMIO_GPA) + ")";
    case guest::Kind::io:
      return "KVM_EXIT_IO (OUT port " + hex(KS_GUEST_IO_PORT) + ")";
    case guest::Kind::hlt:
      return "KVM_EXIT_HLT";
  }
  return "";
}

// The same number on every vCPU, or its range when a stopped run left them uneven.
std::string per_vcpu(const guest::Outcome& out, guest::Kind kind) {
  auto [lo, hi] =
      std::minmax_element(out.vcpus.begin(), out.vcpus.end(),
                          [kind](const auto& a, const auto& b) { return a[kind] < b[kind]; });
  if ((*lo)[kind] == (*hi)[kind]) return report::format_count((*lo)[kind]);
  return report::format_count((*lo)[kind]) + ".." + report::format_count((*hi)[kind]);
}

std::string ending_line(const guest::Plan& plan, const guest::Outcome& out) {
  if (plan.query_exits && out.completed()) {
    std::string line =
        "ended: vCPU 0 ran the exit-statistics query after its plan and stopped at the query's "
        "HLT (KVM_EXIT_HLT), not resumed";
    if (plan.vcpus > 1) {
      guest::Plan others = plan;
      others.query_exits = false;
      line += "; the other vCPUs: " + ending_line(others, out).substr(std::string("ended: ").size());
    }
    return line;
  }
  switch (out.ending) {
    case guest::Ending::last_exit: {
      guest::Kind last = guest::Kind::hlt;
      for (auto k : guest::kKinds)
        if (guest::exits_to_vmm(k) && plan[k] > 0) last = k;
      return "ended: at the last planned exit (" +
             where_handled(last).substr(0, where_handled(last).find(' ')) +
             "); the vCPUs were not resumed";
    }
    case guest::Ending::kicked:
      return "ended: the guest flagged done in its RAM; a signal took each vCPU out of KVM_RUN "
             "(EINTR)";
    case guest::Ending::stalled:
      return "ended: stalled; the counts are what was done";
    case guest::Ending::interrupted:
      return "ended: interrupted by " + signal_name(out.signal) +
             "; the counts are what was done so far";
  }
  return "";
}

// The running kernel's exit reason names (the table the patch's answers are about), the
// built-in ones where tracefs has none.
model::ReasonCatalog reason_catalog() {
  if (auto root = collect::tracefs_root())
    if (auto catalog = model::ReasonCatalog::from_tracefs(*root)) return std::move(*catalog);
  return model::ReasonCatalog::builtin();
}

void print_outcome(const guest::Plan& plan, const guest::Outcome& out) {
  std::cout << "kvmscope guest: pid " << ::getpid() << ", " << plan.vcpus
            << (plan.vcpus == 1 ? " vCPU" : " vCPUs") << ", each running the whole plan\n";
  using Align = report::TextTable::Align;
  report::TextTable table({Align::left, Align::right, Align::right, Align::left});
  table.add_row({"kind", "per vCPU", "total", "handled"});
  for (auto k : guest::kKinds) {
    std::string cell = per_vcpu(out, k);
    if (!out.completed() && plan[k] > 0) cell += " of " + report::format_count(plan[k]);
    table.add_row({std::string(guest::kind_name(k)), cell, report::format_count(out.total(k)),
                   where_handled(k)});
  }
  table.add_row({"all", "", report::format_count(out.total()), ""});
  table.write(std::cout);
  std::cout << ending_line(plan, out) << "\n";
  char elapsed[32];
  std::snprintf(elapsed, sizeof elapsed, "%.3f s", out.elapsed_s);
  std::cout << "elapsed " << elapsed << ", " << report::format_rate(out.total(), out.elapsed_s)
            << " exits/s\n";
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
  if (!plan->quiet || !out->completed()) print_outcome(*plan, *out);
  if (out->query && out->query->answered) {
    if (!plan->quiet) std::cout << "\n";
    guest::render_exit_query(*out->query, *plan, reason_catalog(), std::cout);
  }
  std::cout.flush();
  switch (out->ending) {
    case guest::Ending::last_exit:
    case guest::Ending::kicked:
      if (out->query && !out->query->answered) {
        std::fprintf(stderr, "kvmscope guest: %s\nkvmscope guest: %s\n",
                     guest::kNotAnsweredMessage, guest::probe_detail(*out->query).c_str());
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
                   signal_name(out->signal).c_str(), out->elapsed_s);
      return 128 + out->signal;
  }
  return 1;
}

}  // namespace kvmscope::cli
