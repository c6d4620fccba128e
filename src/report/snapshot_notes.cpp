#include "report/snapshot_notes.h"

#include <cstdint>

#include "report/format.h"

namespace kvmscope::report {

namespace {

// "1 exit", "12,002 exits".
std::string counted(std::uint64_t n, std::string_view singular, std::string_view plural) {
  return format_count(n) + " " + std::string(n == 1 ? singular : plural);
}

}  // namespace

std::vector<std::string> coverage_notes(const model::Snapshot& snapshot, std::string_view target) {
  const std::uint64_t hardware = snapshot.total(model::Level::hardware);
  const std::uint64_t vmm = snapshot.total(model::Level::vmm);
  if (hardware == 0 && vmm == 0) {
    if (target.empty()) return {"No KVM exits were seen."};
    return {"No KVM exits were seen for " + printable(target) + "."};
  }
  if (hardware == 0) {
    // Every exit to the VMM starts as a hardware exit on VMX/SVM, so none at all means the
    // kernel never fired kvm_exit, not that the guest had none.
    return {
        "No hardware exits (kvm:kvm_exit) were seen: KVM on this host did not report any "
        "(kvm_exit never fires where guests are emulated in software, e.g. kvm_pvm), so only "
        "the exits to the VMM are counted."};
  }
  return {};
}

std::vector<std::string> health_warnings(const model::CollectorHealth& health) {
  std::vector<std::string> out;
  if (health.exits_not_stored)
    out.push_back(counted(health.exits_not_stored, "exit", "exits") +
                  " could not be stored per VM/vCPU/reason (map full): the counts and totals "
                  "are short by that much -- raise --max-entries");
  if (health.events_lost)
    out.push_back(counted(health.events_lost, "exit event was", "exit events were") +
                  " lost (ring buffer full): output driven by the event stream (--every) saw "
                  "that many fewer exits");
  if (health.threads_not_stored)
    out.push_back(counted(health.threads_not_stored, "exit was", "exits were") +
                  " counted without a handling time (thread map full): the time columns cover "
                  "only the timed exits");
  if (health.targets_not_stored)
    out.push_back(counted(health.targets_not_stored, "child process", "child processes") +
                  " of the target could not be followed (filter map full): their exits are not "
                  "counted");
  return out;
}

}  // namespace kvmscope::report
