#include "guest/outcome_text.h"

#include <algorithm>
#include <cstdio>
#include <vector>

#include "guest/guest_layout.h"
#include "util/exit_status.h"
#include "util/format.h"
#include "util/strings.h"
#include "util/text_table.h"

namespace kvmscope::guest {

namespace {

using util::hex;

std::string count_cell(Count n) {
  return n ? util::format_count(*n) : "unknown";
}

std::string where_handled(Kind kind) {
  switch (kind) {
    case Kind::cpuid:
      return "in kernel (CPUID leaf 0)";
    case Kind::msr_read:
      return "in kernel (RDMSR " + hex(KS_GUEST_MSR) + " IA32_MISC_ENABLE)";
    case Kind::msr_write:
      return "in kernel (WRMSR " + hex(KS_GUEST_MSR) + ", value unchanged)";
    case Kind::vmcall:
      return "in kernel (VMCALL/VMMCALL nr " + hex(KS_GUEST_HYPERCALL_NR) + ")";
    case Kind::mmio:
      return "KVM_EXIT_MMIO (write GPA " + hex(KS_GUEST_MMIO_GPA) + ")";
    case Kind::io:
      return "KVM_EXIT_IO (OUT port " + hex(KS_GUEST_IO_PORT) + ")";
    case Kind::hlt:
      return "KVM_EXIT_HLT";
  }
  return "";
}

// The same number on every vCPU, or its range when a stopped run left them uneven; vCPUs whose
// count is unknown are said so, never folded into the range.
std::string per_vcpu(const Outcome& out, Kind kind) {
  std::vector<std::uint64_t> known;
  for (const auto& v : out.vcpus)
    if (v[kind]) known.push_back(*v[kind]);
  const std::size_t unknown = out.vcpus.size() - known.size();
  if (known.empty()) return "unknown";
  auto [lo, hi] = std::minmax_element(known.begin(), known.end());
  std::string cell = util::format_count(*lo);
  if (*lo != *hi) cell += ".." + util::format_count(*hi);
  if (unknown) cell += " (" + std::to_string(unknown) + " unknown)";
  return cell;
}

bool any_unknown(const Outcome& out) {
  for (const auto& v : out.vcpus)
    for (const auto& n : v.done)
      if (!n) return true;
  return false;
}

std::string ending_line(const Plan& plan, const Outcome& out) {
  if (plan.query_exits && out.completed()) {
    std::string line =
        "ended: vCPU 0 ran the exit-statistics query after its plan and stopped at the query's "
        "HLT (KVM_EXIT_HLT), not resumed";
    if (plan.vcpus > 1) {
      Plan others = plan;
      others.query_exits = false;
      line +=
          "; the other vCPUs: " + ending_line(others, out).substr(std::string("ended: ").size());
    }
    return line;
  }
  switch (out.ending) {
    case Ending::last_exit: {
      Kind last = Kind::hlt;
      for (auto k : kKinds)
        if (exits_to_vmm(k) && plan[k] > 0) last = k;
      return "ended: at the last planned exit (" +
             where_handled(last).substr(0, where_handled(last).find(' ')) +
             "); the vCPUs were not resumed";
    }
    case Ending::kicked:
      return "ended: the guest flagged done in its RAM; a signal took each vCPU out of KVM_RUN "
             "(EINTR)";
    case Ending::stalled:
      return "ended: stalled; the counts are what was done";
    case Ending::interrupted:
      return "ended: interrupted by " + util::signal_name(out.signal) +
             "; the counts are what was done so far";
  }
  return "";
}

}  // namespace

void render_outcome(const Plan& plan, const Outcome& out, pid_t pid, std::ostream& os) {
  os << "kvmscope guest: pid " << pid << ", " << plan.vcpus
     << (plan.vcpus == 1 ? " vCPU" : " vCPUs") << ", each running the whole plan\n";
  using Align = util::TextTable::Align;
  util::TextTable table({Align::left, Align::right, Align::right, Align::left});
  table.add_row({"kind", "per vCPU", "total", "handled"});
  for (auto k : kKinds) {
    std::string cell = per_vcpu(out, k);
    if (!out.completed() && plan[k] > 0) cell += " of " + util::format_count(plan[k]);
    table.add_row({std::string(kind_name(k)), cell, count_cell(out.total(k)), where_handled(k)});
  }
  table.add_row({"all", "", count_cell(out.total()), ""});
  table.write(os);
  os << ending_line(plan, out) << "\n";
  if (any_unknown(out))
    os << "unknown: the count the guest keeps in its RAM is beyond its plan, so how many it did "
          "is not known (a guest that went astray after an instruction KVM did not complete can "
          "write anywhere)\n";
  char elapsed[32];
  std::snprintf(elapsed, sizeof elapsed, "%.3f s", out.elapsed_s);
  const Count total = out.total();
  os << "elapsed " << elapsed << ", "
     << (total ? util::format_rate(*total, out.elapsed_s) : std::string("unknown")) << " exits/s\n";
}

}  // namespace kvmscope::guest
