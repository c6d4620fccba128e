// The numbers behind `kvmscope top`. The kernel's counters only ever grow, so everything is a
// difference of snapshots: rates over the last refresh interval (latest minus previous) and
// counts since the start or the last reset (latest minus a baseline kept in user space). Rows per
// VM, vCPU and reason, sorted and filtered. Pure: the caller feeds the snapshots and says which
// processes still live.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "model/snapshot.h"
#include "tui/top_filter.h"

namespace kvmscope::tui {

enum class TopSort { rate, count, time };

const char* top_sort_name(TopSort sort);  // "rate", "count", "time"

// One row's numbers: `interval` over the last refresh interval, `total` since the start (or the
// last reset). The interval is also split per level, because hardware exits and exits to the
// VMM are always shown apart.
struct TopStats {
  model::ExitStats interval;
  model::ExitStats total;
  std::uint64_t hw_count = 0, vmm_count = 0;              // over the interval
  std::uint64_t hw_time_ns = 0, vmm_time_ns = 0;          // handling time over the interval
  std::uint64_t hw_total = 0, vmm_total = 0;              // since the start (or reset)
  std::uint64_t hw_timed_total = 0, vmm_timed_total = 0;  // of those, measured

  void add(model::Level level, const model::ExitStats& interval_part,
           const model::ExitStats& total_part);
};

struct TopVm {
  std::uint32_t pid = 0;
  model::VmInfo info;
  std::uint32_t vcpus = 0;  // distinct vCPU ids seen (at least 1: a VM has a vCPU)
  bool alive = true;        // its process still exists
  TopStats stats;
};

// A VM that left the list because its process ended: what it made since the start (or the
// last reset) stays known, so the view can say a VM was there and what it cost.
struct TopEndedVm {
  std::uint32_t pid = 0;
  model::VmInfo info;
  std::uint64_t exits = 0;  // since the start or the reset, as of when it left
};

struct TopVcpu {
  std::uint32_t vcpu = model::kUnknownVcpu;
  TopStats stats;
};

struct TopReason {
  model::Reason reason;
  TopStats stats;
};

// top --by function: one guest function's hardware exits of one reason in one VM, since
// kvmscope started. The cli names them (symbols::attribute on the kernel's per-RIP counts)
// before each update; the model keeps only names and numbers.
struct FunctionCount {
  std::uint32_t vm_pid = 0;
  model::Reason reason;
  std::string function;  // "read_pci_config", "[user]", "[firmware/early boot]", "0xffff..."
  std::uint64_t count = 0;
  std::uint64_t timed = 0;    // of them, those whose handling time was measured
  std::uint64_t time_ns = 0;  // their handling time
};

// A row of the guest-code table: a function's exits over the last interval and since the start
// (or the reset), with its reason's total in the same scope for the share.
struct TopFunction {
  model::Reason reason;
  std::string function;
  std::uint64_t interval = 0;
  std::uint64_t total = 0;
  std::uint64_t timed = 0;         // of `total`, those timed
  std::uint64_t time_ns = 0;       // their handling time
  std::uint64_t reason_total = 0;  // every function of the reason in the VM, since the start
};

// `later` minus `earlier`, never below zero. The maximum cannot be taken apart: `later`'s stays,
// which is an upper bound of the interval's.
model::ExitStats stats_minus(const model::ExitStats& later, const model::ExitStats& earlier);

// Share of `vcpus` vCPUs' time over `interval_ns` spent handling exits: time_ns / (interval_ns ×
// vcpus). 0 when no time has passed.
double time_share(std::uint64_t time_ns, std::uint64_t interval_ns, std::uint32_t vcpus);

class TopModel {
 public:
  // A VM whose process is gone leaves the list once it has had no exits for `linger_intervals`
  // refreshes, so a VM that just stopped still shows its last rates for a moment.
  explicit TopModel(std::uint32_t linger_intervals = 3) : linger_(linger_intervals) {}

  // Takes the next snapshot. `alive(pid)` tells whether a VM's process still exists.
  void update(model::Snapshot snapshot, const std::function<bool(std::uint32_t)>& alive);
  // Counts start again from the latest snapshot (the kernel's counters are left alone); VMs that
  // ended before made no exits since, so they are no longer listed as ended.
  void reset_counts();

  bool has_interval() const { return previous_.has_value(); }  // two snapshots seen
  std::uint64_t interval_ns() const;
  std::uint64_t since_ns() const;  // the time `total` covers
  bool was_reset() const { return baseline_taken_ns_ != 0; }
  std::uint64_t updates() const { return updates_; }
  model::CollectorHealth health() const;  // since the start

  // The VMs on the list (those that left it are gone for good), filtered and sorted.
  std::vector<TopVm> vms(TopSort sort, const TopFilter& filter = {}) const;
  std::optional<TopVm> vm(std::uint32_t pid) const;
  std::vector<TopVcpu> vcpus(std::uint32_t pid, TopSort sort) const;
  // One VM's reasons, all its vCPUs together or one vCPU's.
  std::vector<TopReason> reasons(std::uint32_t pid, std::optional<std::uint32_t> vcpu,
                                 TopSort sort) const;
  TopStats host() const;  // every VM on the list together

  // top --by function: the functions' counts as of the snapshot last given to update().
  // `notes`: per VM, how its RIPs were named ("KASLR offset 0x... (verified), 103 of 103 ...").
  void update_functions(const std::vector<FunctionCount>& counts,
                        std::map<std::uint32_t, std::string> notes = {});
  std::string function_note(std::uint32_t pid) const;
  bool has_functions() const { return functions_; }
  // One VM's functions with exits since the start (or the reset): reasons by their total,
  // descending, and within each at most `per_reason` functions, by total, descending.
  std::vector<TopFunction> functions(std::uint32_t pid, std::size_t per_reason) const;
  // The VMs that left the list since the start (or the reset), the latest first; those that left
  // at the same refresh by PID.
  std::vector<TopEndedVm> ended() const;

 private:
  struct Row {
    model::ExitStats interval;
    model::ExitStats total;
  };
  TopStats vm_stats(std::uint32_t pid) const;
  model::VmInfo vm_info(std::uint32_t pid) const;  // from the latest snapshot

  std::uint32_t linger_;
  std::optional<model::Snapshot> latest_;
  std::optional<model::Snapshot> previous_;
  std::map<model::ExitKey, model::ExitStats> baseline_;
  std::uint64_t baseline_taken_ns_ = 0;
  std::map<model::ExitKey, Row> rows_;
  std::map<std::uint32_t, std::uint64_t> last_active_;  // pid -> update number of its last exit
  std::map<std::uint32_t, bool> listed_;                // pid -> alive, for VMs on the list
  std::map<std::uint32_t, bool> gone_;                  // pids that left the list
  struct Ended {
    std::uint64_t update = 0;  // when it left
    TopEndedVm vm;
  };
  std::map<std::uint32_t, Ended> ended_;  // by pid; cleared by a reset, unlike gone_
  struct FunctionKey {
    std::uint32_t vm_pid = 0;
    model::Reason reason;
    std::string function;
    auto operator<=>(const FunctionKey&) const = default;
  };
  struct FunctionNumbers {
    std::uint64_t count = 0, timed = 0, time_ns = 0;
  };
  bool functions_ = false;
  bool fn_has_previous_ = false;
  std::map<std::uint32_t, std::string> fn_notes_;
  std::map<FunctionKey, FunctionNumbers> fn_latest_, fn_previous_, fn_baseline_;
  std::uint64_t updates_ = 0;
};

}  // namespace kvmscope::tui
