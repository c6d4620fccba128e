#include "model/drilldown.h"

#include <algorithm>

namespace kvmscope::model {

const char* drill_kind_name(DrillKind kind) {
  switch (kind) {
    case DrillKind::port:
      return "port";
    case DrillKind::mmio:
      return "mmio";
    case DrillKind::msr:
      return "msr";
    case DrillKind::cpuid:
      return "cpuid";
    case DrillKind::hypercall:
      return "hypercall";
  }
  return "?";
}

std::optional<DrillKind> drill_kind_from_name(std::string_view name) {
  for (DrillKind kind : kDrillKinds)
    if (name == drill_kind_name(kind)) return kind;
  return std::nullopt;
}

DrillKey port_key(std::uint32_t vm_pid, std::uint64_t port, bool out, std::uint32_t size) {
  return {DrillKind::port, vm_pid, port, (out ? kPortOut : 0u) | ((size & 0xffu) << 8), false};
}

DrillKey mmio_key(std::uint32_t vm_pid, std::uint64_t gpa, MmioAccess access) {
  return {DrillKind::mmio, vm_pid, gpa, static_cast<std::uint32_t>(access), false};
}

DrillKey msr_key(std::uint32_t vm_pid, std::uint64_t index, bool write, bool fault) {
  return {DrillKind::msr, vm_pid, index, (write ? kMsrWrite : 0u) | (fault ? kMsrFault : 0u),
          false};
}

DrillKey cpuid_key(std::uint32_t vm_pid, std::uint64_t leaf) {
  return {DrillKind::cpuid, vm_pid, leaf, 0, false};
}

DrillKey hypercall_key(std::uint32_t vm_pid, std::uint64_t nr) {
  return {DrillKind::hypercall, vm_pid, nr, 0, false};
}

ExitStats& DrillDown::at(const DrillKey& key) {
  const auto it = entries_.find(key);
  if (it != entries_.end()) return it->second;
  std::size_t& keys = keys_per_kind_[{key.kind, key.vm_pid}];
  if (key.other || keys < max_keys_) {
    if (!key.other) ++keys;
    return entries_[key];
  }
  DrillKey other{key.kind, key.vm_pid, 0, 0, true};
  return entries_[other];
}

bool DrillDown::empty(DrillKind kind) const {
  return total(kind) == 0;
}

std::uint64_t DrillDown::total(DrillKind kind) const {
  std::uint64_t n = 0;
  for (const auto& [key, stats] : entries_)
    if (key.kind == kind) n += stats.count;
  return n;
}

std::vector<DrillTable> drill_tables(const DrillDown& drill, DrillKind kind, bool per_vm) {
  // Merge the VMs first when not split: the same port in two VMs is one row.
  std::map<std::uint32_t, std::map<DrillKey, ExitStats>> grouped;
  for (const auto& [key, stats] : drill.entries()) {
    if (key.kind != kind || stats.count == 0) continue;
    DrillKey row = key;
    if (!per_vm) row.vm_pid = 0;
    grouped[row.vm_pid][row] += stats;
  }
  std::vector<DrillTable> tables;
  for (auto& [vm, rows] : grouped) {
    DrillTable table;
    table.kind = kind;
    if (per_vm) table.vm_pid = vm;
    for (auto& [key, stats] : rows) {
      table.total += stats;
      table.rows.push_back({key, stats});
    }
    // `other` sorts last whatever its count: it is not one key and would mislead at the top.
    std::stable_sort(table.rows.begin(), table.rows.end(),
                     [](const DrillRow& a, const DrillRow& b) {
                       if (a.key.other != b.key.other) return b.key.other;
                       return a.stats.count > b.stats.count;
                     });
    tables.push_back(std::move(table));
  }
  return tables;
}

}  // namespace kvmscope::model
