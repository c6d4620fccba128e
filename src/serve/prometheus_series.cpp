#include "serve/prometheus_series.h"

#include <cstdio>
#include <string>

#include "util/strings.h"

namespace kvmscope::serve {

namespace {

using util::hex;

bool is_port(const model::DrillKey& k) {
  return k.kind == model::DrillKind::port;
}
bool is_msr(const model::DrillKey& k) {
  return k.kind == model::DrillKind::msr;
}

// Hands out a label value while the group has room: true if `key` has (or now got) its own.
template <class Set, class Key>
bool admit(Set& given, const Key& key, std::size_t limit) {
  if (given.count(key)) return true;
  if (given.size() >= limit) return false;
  given.insert(key);
  return true;
}

}  // namespace

PrometheusSeries::Vm& PrometheusSeries::vm_of(std::uint32_t pid, const model::Snapshot& snapshot) {
  auto it = vms_.find(pid);
  if (it != vms_.end()) return it->second;
  Vm vm;
  vm.own = own_vms_ < limits_.max_vms;
  if (vm.own) ++own_vms_;
  auto info = snapshot.vms.find(pid);
  vm.name = info != snapshot.vms.end() ? info->second.name : "pid " + std::to_string(pid);
  return vms_.emplace(pid, std::move(vm)).first->second;
}

void PrometheusSeries::add_vm(std::uint32_t pid, Vm& vm, const model::Snapshot& snapshot,
                              const model::DrillDown& drill, Series& into, Folded* folded) {
  Group& group = group_of(vm);
  const std::uint32_t label = vm.own ? pid : kOtherVm;

  const model::ExitKey first{pid, 0, {}};
  for (auto it = snapshot.exits.lower_bound(first);
       it != snapshot.exits.end() && it->first.vm_pid == pid; ++it) {
    const auto& [key, stats] = *it;
    std::uint32_t vcpu = kOtherVcpu;
    if (vm.own) {
      if (key.vcpu == model::kUnknownVcpu || admit(group.vcpus, key.vcpu, limits_.max_vcpus))
        vcpu = key.vcpu;
      else if (folded)
        folded->vcpus.insert({pid, key.vcpu});
    }
    ReasonSlot reason{key.reason, false};
    if (!admit(group.reasons, key.reason, limits_.max_reasons)) {
      reason = {{key.reason.level, key.reason.isa, kOtherCode}, true};
      if (folded) folded->reasons.insert({label, key.reason});
    }
    into.exits[{label, vcpu, reason}] += stats.count;
    into.handling[{label, reason}] += stats;
  }

  for (auto kind : {model::DrillKind::port, model::DrillKind::msr}) {
    model::DrillKey lo;
    lo.kind = kind;
    lo.vm_pid = pid;
    for (auto it = drill.entries().lower_bound(lo);
         it != drill.entries().end() && it->first.kind == kind && it->first.vm_pid == pid; ++it) {
      const auto& [k, stats] = *it;
      if (is_port(k)) {
        const bool out = model::port_is_out(k);
        const std::uint32_t size = model::port_size(k);
        const PortKey pk{k.value, out, size};
        const bool own = !k.other && admit(group.ports, pk, limits_.max_ports);
        if (!own && folded) folded->ports.insert({label, pk});
        into.ports[{label, own ? k.value : kOtherValue, !own, out, size}] += stats.count;
      } else if (is_msr(k)) {
        const bool write = k.flags & model::kMsrWrite, fault = k.flags & model::kMsrFault;
        const MsrKey mk{k.value, write, fault};
        const bool own = !k.other && admit(group.msrs, mk, limits_.max_msrs);
        if (!own && folded) folded->msrs.insert({label, mk});
        into.msrs[{label, own ? k.value : kOtherValue, !own, write, fault}] += stats.count;
      }
    }
  }
}

void PrometheusSeries::retire_ended(const model::Snapshot& snapshot, const model::DrillDown& drill,
                                    const std::function<bool(std::uint32_t)>& alive,
                                    std::uint64_t now_ns) {
  for (auto it = vms_.begin(); it != vms_.end();) {
    auto& [pid, vm] = *it;
    // A pid running again within the grace period is a new process that got the pid: its
    // counts add to the same keys in the kernel, so the series simply go on.
    const bool running = alive(pid);
    if (vm.ended_ns == 0 && !running) vm.ended_ns = now_ns ? now_ns : 1;
    if (vm.ended_ns != 0 && running) vm.ended_ns = 0;
    if (vm.ended_ns == 0 || now_ns - vm.ended_ns < limits_.grace_ns) {
      ++it;
      continue;
    }
    // What it counted under vm="other" stays there; its own series just end.
    if (vm.own)
      --own_vms_;
    else
      add_vm(pid, vm, snapshot, drill, retired_, nullptr);
    forgotten_.push_back(pid);
    it = vms_.erase(it);
  }
}

PrometheusPage PrometheusSeries::update(const model::Snapshot& snapshot,
                                        const model::DrillDown& drill,
                                        const std::function<bool(std::uint32_t)>& alive,
                                        std::uint64_t now_ns) {
  // VMs seen for the first time get their labels in pid order, before any is retired, so a
  // pid freed in this update is not handed out again at once.
  std::set<std::uint32_t> pids;
  for (const auto& [key, stats] : snapshot.exits) pids.insert(key.vm_pid);
  for (const auto& [key, stats] : drill.entries())
    if (is_port(key) || is_msr(key)) pids.insert(key.vm_pid);
  const std::set<std::uint32_t> retired_before(forgotten_.begin(), forgotten_.end());
  for (std::uint32_t pid : pids)
    if (!retired_before.count(pid)) vm_of(pid, snapshot);

  retire_ended(snapshot, drill, alive, now_ns);

  Series series = retired_;
  Folded folded;
  for (auto& [pid, vm] : vms_) add_vm(pid, vm, snapshot, drill, series, &folded);
  return to_page(series, folded);
}

std::vector<std::uint32_t> PrometheusSeries::take_forgotten() {
  return std::exchange(forgotten_, {});
}

const PromReasonLabels& PrometheusSeries::labels_of(const ReasonSlot& slot) {
  auto it = reason_labels_.find(slot);
  if (it != reason_labels_.end()) return it->second;
  PromReasonLabels l;
  l.level = model::level_name(slot.reason.level);
  l.isa = model::isa_name(slot.reason.isa);
  l.reason = slot.other ? std::string(kPromOther) : catalog_.name(slot.reason);
  l.code = slot.other ? std::string(kPromOther) : catalog_.code_text(slot.reason);
  return reason_labels_.emplace(slot, std::move(l)).first->second;
}

PrometheusPage PrometheusSeries::to_page(const Series& series, const Folded& folded) {
  PrometheusPage page;
  std::map<std::uint32_t, std::size_t> index;  // vm label -> page.vms
  std::uint64_t overflowing_vms = 0;
  for (const auto& [pid, vm] : vms_) {
    if (!vm.own) {
      ++overflowing_vms;
      continue;
    }
    index[pid] = page.vms.size();
    page.vms.push_back({vm.name, std::to_string(pid)});
    ++(vm.ended_ns ? page.vms_ended : page.vms_running);
  }
  const auto vm_index = [&](std::uint32_t label) {
    if (label != kOtherVm) return index.at(label);
    auto [it, added] = index.emplace(kOtherVm, page.vms.size());
    if (added) page.vms.push_back({std::string(kPromOther), std::string(kPromOther)});
    return it->second;
  };

  for (const auto& [key, count] : series.exits) {
    const auto& [vm, vcpu, reason] = key;
    std::string vcpu_label = vcpu == model::kUnknownVcpu ? "unknown"
                             : vcpu == kOtherVcpu        ? std::string(kPromOther)
                                                         : std::to_string(vcpu);
    page.exits.push_back({vm_index(vm), std::move(vcpu_label), labels_of(reason), count});
  }
  for (const auto& [key, stats] : series.handling)
    page.handling.push_back({vm_index(key.first), labels_of(key.second), stats});
  for (const auto& [key, count] : series.ports) {
    const auto& [vm, port, other, out, size] = key;
    page.ports.push_back({vm_index(vm), other ? std::string(kPromOther) : hex(port),
                          out ? "out" : "in", std::to_string(size), count});
  }
  for (const auto& [key, count] : series.msrs) {
    const auto& [vm, msr, other, write, fault] = key;
    std::string access = std::string(write ? "write" : "read") + (fault ? "_fault" : "");
    page.msrs.push_back(
        {vm_index(vm), other ? std::string(kPromOther) : hex(msr), std::move(access), count});
  }

  page.overflows = {{"vm", overflowing_vms},
                    {"vcpu", folded.vcpus.size()},
                    {"reason", folded.reasons.size()},
                    {"port", folded.ports.size()},
                    {"msr", folded.msrs.size()}};
  return page;
}

}  // namespace kvmscope::serve
