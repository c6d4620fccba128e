// Boot summary: how many exits a VM took from its start to its end, and in which phase. A VM is a
// process that used KVM: one with a KVM event (a process exit alone makes none). The start is
// when the traced command started (a marker the recording keeps), else when the VM's process
// started if the recording saw it (a "process PID started" marker), else the VM's first event;
// the end is its first KVM_EXIT_SHUTDOWN or else its process exit. Phases are cut at marks:
// `--mark TIME=label` (seconds from the start) and markers at absolute times.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "model/exit_key.h"
#include "model/marker.h"

namespace kvmscope::model {

// The marker `record` writes when the traced command is started: the boot's start.
inline constexpr std::string_view kCommandStartedLabel = "command started";

// The marker `record` writes when a VM's process started after the recording began (a whole-host
// or -p recording; with a command, the command's start is every VM's): "process 4242 started".
std::string process_started_label(std::uint32_t pid);
// The pid such a label names; nullopt for any other label.
std::optional<std::uint32_t> process_started_pid(std::string_view label);

// `--mark TIME=label`: TIME after the start, begins the phase `label`.
struct PhaseMark {
  std::uint64_t offset_ns = 0;
  std::string label;
};

// The phase before the first mark.
inline constexpr std::string_view kFirstPhaseLabel = "(start)";

struct BootPhase {
  std::string label;
  std::uint64_t begin_ns = 0;  // CLOCK_MONOTONIC
  std::uint64_t end_ns = 0;
  std::uint64_t hardware_exits = 0;
  std::uint64_t vmm_exits = 0;
  std::map<Reason, std::uint64_t> reasons;
};

// The phase's most frequent reasons of one level, most first, at most n.
std::vector<std::pair<Reason, std::uint64_t>> top_reasons(const BootPhase& phase, Level level,
                                                          std::size_t n);

enum class BootStart { command_started, process_started, first_event };
// none: the recording stopped (or the VM was not seen to end) first; the summary ends at the
// VM's last event.
enum class BootEnd { shutdown, process_exit, none };

struct BootSummary {
  std::uint32_t vm_pid = 0;
  BootStart start_from = BootStart::first_event;
  std::uint64_t start_ns = 0;
  BootEnd end_by = BootEnd::none;
  std::uint64_t end_ns = 0;
  std::optional<std::uint64_t> first_exit_ns;  // of either level
  std::uint64_t hardware_exits = 0;            // from start to end
  std::uint64_t vmm_exits = 0;
  std::vector<BootPhase> phases;  // in time order; a phase that starts after the end is dropped

  // The recording saw the VM start (the command's or its own process start).
  bool start_seen() const { return start_from != BootStart::first_event; }
  // The recording saw the whole boot: from the VM's start to its end.
  bool complete() const { return start_seen() && end_by != BootEnd::none; }
};

class BootTracker {
 public:
  // command_started_ns: the start of every VM's boot, when known. markers (absolute; one labelled
  // kCommandStartedLabel is ignored, it is the start) and marks (relative to the start) cut
  // phases.
  BootTracker(std::optional<std::uint64_t> command_started_ns, std::vector<Marker> markers,
              std::vector<PhaseMark> marks);

  // The VM's process started at ts_ns (the recording saw it): its boot starts there unless the
  // command's start is known. Ignored once the VM has had an event (its start is set then).
  void process_started(std::uint32_t vm, std::uint64_t ts_ns);

  void event(std::uint32_t vm, std::uint64_t ts_ns);  // any KVM event of the VM
  void exit(std::uint32_t vm, std::uint64_t ts_ns, const Reason& reason);

  // The same on a VM looked up once: a streaming caller keeps the Vm* per vCPU thread, since a
  // hash lookup per event was a tenth of `report`'s time. Vm is opaque to callers.
  struct Vm;
  // The VM's state, made at its first event (ts_ns); nullptr beyond kMaxVms. The address stays
  // valid for the tracker's life.
  Vm* vm(std::uint32_t vm, std::uint64_t ts_ns) { return vm_at(vm, ts_ns); }
  void event(Vm* v, std::uint64_t ts_ns);  // inline below: once per event
  // Where exit() last counted one reason of one VM: the phase and its counter in
  // BootPhase::reasons (std::map nodes do not move). While exits of that reason stay in that
  // phase they are counted through it without a map lookup. One per (VM, reason).
  struct ReasonCounter {
    std::size_t phase = static_cast<std::size_t>(-1);
    std::uint64_t* count = nullptr;
  };
  void exit(Vm* v, std::uint64_t ts_ns, const Reason& reason, ReasonCounter& counter);
  void shutdown(std::uint32_t vm, std::uint64_t ts_ns);  // KVM_EXIT_SHUTDOWN
  // KS_EV_PROCESS_EXIT: ends a VM seen before; any other process's exit is not a VM's.
  void process_exit(std::uint32_t vm, std::uint64_t ts_ns);

  // One summary per VM, pid ascending.
  std::vector<BootSummary> finish() const;

  // VMs beyond this many are not summarised (a whole-host recording of many VMs is no boot).
  static constexpr std::size_t kMaxVms = 1024;

 private:
  Vm* vm_at(std::uint32_t vm, std::uint64_t ts_ns);
  // The phase whose cut is the last one at or before ts; before the start counts as the first.
  static std::size_t phase_of(Vm& v, std::uint64_t ts_ns);
  // Counts the exit in the summary and in its phase's totals; the phase, or nullopt when the
  // exit is after the VM's end.
  static std::optional<std::size_t> count(Vm& v, std::uint64_t ts_ns, const Reason& reason);
  void end(std::uint32_t vm, std::uint64_t ts_ns, BootEnd by);

  std::optional<std::uint64_t> command_started_ns_;
  std::unordered_map<std::uint32_t, std::uint64_t> process_started_ns_;
  std::vector<Marker> markers_;
  std::vector<PhaseMark> marks_;
  std::unordered_map<std::uint32_t, Vm> vms_;
};

struct BootTracker::Vm {
  BootSummary summary;
  std::vector<std::uint64_t> cuts;  // phase i begins at cuts[i]; cuts[0] is the start
  std::vector<std::string> labels;
  std::vector<BootPhase> phases;
  std::uint64_t last_event_ns = 0;
  // The phase of the last exit and the times it covers, [phase_lo_ns, phase_hi_ns): exits come
  // in time order, so this spares a binary search over the cuts per exit.
  std::size_t last_phase = 0;
  std::uint64_t phase_lo_ns = 1;  // empty until the first exit
  std::uint64_t phase_hi_ns = 0;
};

inline void BootTracker::event(Vm* v, std::uint64_t ts_ns) {
  if (v && ts_ns > v->last_event_ns) v->last_event_ns = ts_ns;
}

}  // namespace kvmscope::model
