// Which series `kvmscope serve` exports: bounded label cardinality and a grace period for VMs
// that ended. Pure (the clock and "is this process alive" are passed in), kept across readouts.
//
// Limits, each with an overflow label value instead of unbounded series:
//  - max_vms VMs get their own vm/vm_pid labels, first come first served; later VMs are counted
//    under vm="other", vm_pid="other", vcpu="other" for as long as they live;
//  - per VM, max_vcpus vCPU ids (then vcpu="other"), max_reasons exit reasons (then
//    reason="other", code="other", level and isa kept), max_ports (port, direction, size)
//    (then port="other") and max_msrs (msr, access) (then msr="other").
// An assignment never changes while a VM lives, so every exported counter only grows.
//
// A VM whose process ended keeps its series (with their final values) for `grace_ns`, so
// Prometheus scrapes them; then they are dropped and the VM's pid is handed out by
// take_forgotten() so the collector frees its BPF map entries. What an overflowing VM had
// counted stays in the "other" series after it is forgotten: those never go down either.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <set>
#include <tuple>
#include <vector>

#include "model/drilldown.h"
#include "model/reason_catalog.h"
#include "model/snapshot.h"
#include "serve/prometheus.h"

namespace kvmscope::serve {

struct PrometheusLimits {
  std::size_t max_vms = 1024;
  std::size_t max_vcpus = 288;  // per VM
  std::size_t max_reasons = 32;
  std::size_t max_ports = 64;
  std::size_t max_msrs = 64;
  std::uint64_t grace_ns = 300'000'000'000;  // 5 min
};

class PrometheusSeries {
 public:
  PrometheusSeries(PrometheusLimits limits, model::ReasonCatalog catalog)
      : limits_(limits), catalog_(std::move(catalog)) {}

  // Folds one readout into bounded series. `alive(pid)` says whether a VM's process still runs;
  // `now_ns` is any monotonic clock. Fills the series, VM and overflow fields of the page; the
  // caller adds health, version and timings.
  PrometheusPage update(const model::Snapshot& snapshot, const model::DrillDown& drill,
                        const std::function<bool(std::uint32_t)>& alive, std::uint64_t now_ns);

  // VMs whose grace period ended in the updates since the last call: the collector may forget
  // them now.
  std::vector<std::uint32_t> take_forgotten();

  const PrometheusLimits& limits() const { return limits_; }

 private:
  // A vCPU, reason, port or MSR as exported: its raw key, or the group's "other".
  struct ReasonSlot {
    model::Reason reason;  // code is kOtherCode when other
    bool other = false;
    auto operator<=>(const ReasonSlot&) const = default;
  };
  using PortKey = std::tuple<std::uint64_t, bool, std::uint32_t>;  // port, out, size
  using MsrKey = std::tuple<std::uint64_t, bool, bool>;            // index, write, fault

  // The label values handed out within one VM, or within vm="other".
  struct Group {
    std::set<std::uint32_t> vcpus;
    std::set<model::Reason> reasons;
    std::set<PortKey> ports;
    std::set<MsrKey> msrs;
  };
  struct Vm {
    bool own = false;  // false: counted under vm="other"
    std::string name;
    std::uint64_t ended_ns = 0;  // 0 while running
    Group group;                 // own VMs only
  };

  // The exported series before they become label strings. The "other" values sort last.
  static constexpr std::uint32_t kOtherVm = 0xffffffffu;  // pids stay below 2^22
  static constexpr std::uint32_t kOtherVcpu = 0xfffffffeu;
  static constexpr std::uint32_t kOtherCode = 0xffffffffu;
  static constexpr std::uint64_t kOtherValue = ~std::uint64_t{0};
  struct Series {
    std::map<std::tuple<std::uint32_t, std::uint32_t, ReasonSlot>, std::uint64_t> exits;
    std::map<std::pair<std::uint32_t, ReasonSlot>, model::ExitStats> handling;
    std::map<std::tuple<std::uint32_t, std::uint64_t, bool, bool, std::uint32_t>, std::uint64_t>
        ports;  // vm, port, other, out, size
    std::map<std::tuple<std::uint32_t, std::uint64_t, bool, bool, bool>, std::uint64_t>
        msrs;  // vm, index, other, write, fault
  };
  struct Folded {  // distinct raw values folded into "other" in this update
    std::set<std::pair<std::uint32_t, std::uint32_t>> vcpus;
    std::set<std::pair<std::uint32_t, model::Reason>> reasons;
    std::set<std::pair<std::uint32_t, PortKey>> ports;
    std::set<std::pair<std::uint32_t, MsrKey>> msrs;
  };

  Vm& vm_of(std::uint32_t pid, const model::Snapshot& snapshot);
  Group& group_of(Vm& vm) { return vm.own ? vm.group : other_group_; }
  void add_vm(std::uint32_t pid, Vm& vm, const model::Snapshot& snapshot,
              const model::DrillDown& drill, Series& into, Folded* folded);
  void retire_ended(const model::Snapshot& snapshot, const model::DrillDown& drill,
                    const std::function<bool(std::uint32_t)>& alive, std::uint64_t now_ns);
  PrometheusPage to_page(const Series& series, const Folded& folded);
  const PromReasonLabels& labels_of(const ReasonSlot& slot);

  PrometheusLimits limits_;
  model::ReasonCatalog catalog_;
  std::map<std::uint32_t, Vm> vms_;
  std::size_t own_vms_ = 0;
  Group other_group_;
  Series retired_;  // what forgotten VMs of vm="other" had counted
  std::vector<std::uint32_t> forgotten_;
  std::map<ReasonSlot, PromReasonLabels> reason_labels_;  // cache: the catalog formats strings
};

}  // namespace kvmscope::serve
