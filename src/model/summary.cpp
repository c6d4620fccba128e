#include "model/summary.h"

#include <algorithm>
#include <tuple>

namespace kvmscope::model {

std::uint64_t Snapshot::total(Level level) const {
  std::uint64_t n = 0;
  for (const auto& [key, stats] : exits)
    if (key.reason.level == level) n += stats.count;
  return n;
}

std::vector<SummaryGroup> summarize(const Snapshot& snapshot, Breakdown breakdown) {
  using GroupId = std::tuple<Level, std::uint32_t, std::uint32_t>;
  std::map<GroupId, std::map<Reason, ExitStats>> grouped;
  for (const auto& [key, stats] : snapshot.exits) {
    const std::uint32_t vm = breakdown == Breakdown::none ? 0 : key.vm_pid;
    const std::uint32_t vcpu = breakdown == Breakdown::per_vcpu ? key.vcpu : 0;
    grouped[{key.reason.level, vm, vcpu}][key.reason] += stats;
  }

  std::vector<SummaryGroup> groups;
  for (auto& [id, reasons] : grouped) {
    SummaryGroup group;
    group.level = std::get<0>(id);
    if (breakdown != Breakdown::none) group.vm_pid = std::get<1>(id);
    if (breakdown == Breakdown::per_vcpu) group.vcpu = std::get<2>(id);
    for (auto& [reason, stats] : reasons) {
      if (stats.count == 0) continue;
      group.total += stats;
      group.rows.push_back({reason, stats});
    }
    if (group.rows.empty()) continue;
    std::stable_sort(
        group.rows.begin(), group.rows.end(),
        [](const SummaryRow& a, const SummaryRow& b) { return a.stats.count > b.stats.count; });
    groups.push_back(std::move(group));
  }
  return groups;
}

}  // namespace kvmscope::model
