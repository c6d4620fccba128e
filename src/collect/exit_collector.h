// The BPF collector: loads src/bpf/exits.bpf.c, attaches it, and reads its maps into
// model::Snapshot. libbpf stays behind this header (pimpl), so nothing above collect/ sees it.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "bpf/kvmscope_bpf.h"
#include "model/drilldown.h"
#include "model/guest_sites.h"
#include "model/snapshot.h"
#include "util/result.h"

namespace kvmscope::collect {

// How hardware exits (kvm_exit, kvm_entry) are hooked. automatic: BTF-typed raw tracepoints
// where they load (kvm_amd or kvm_intel with module BTF, not recording), else the classic
// tracepoints; the environment variable KVMSCOPE_TRACEPOINTS=btf|classic|auto overrides it (btf:
// an error where they cannot load; tests run both ways with it).
enum class Hooks { automatic, btf, classic };

struct CollectorConfig {
  bool whole_host = false;  // false: only the processes added with add_target() and whatever
                            // they fork
  std::uint32_t max_entries = 4096;  // (VM, vCPU, reason) counters per vCPU thread, and drill-downs
  bool aggregate = true;             // count exits in the kernel (stat)
  bool drills = false;               // count per port/MMIO/MSR/CPUID/hypercall (stat --by)
  // Count hardware exits per (VM, reason, guest RIP) (stat --by function), at most max_entries
  // RIPs. Takes the classic kvm:kvm_exit, which carries the RIP.
  bool guest_sites = false;
  bool stream_exits = false;  // stream each exit of stream_level (exact every-N)
  model::Level stream_level = model::Level::hardware;
  bool record = false;  // stream every event as ks_event (record)
  std::uint32_t ring_bytes = 16u << 20;
  bool share_tracepoints = false;  // let perf consumers of the same tracepoints see them too
  bool counts_only = false;        // count exits, time nothing (no kvm_entry program)
  Hooks hooks = Hooks::automatic;
};

// Run time and runs of each loaded BPF program, as bpftool shows them; the kernel counts only
// while kernel.bpf_stats_enabled is 1.
struct ProgramStats {
  struct Program {
    std::string name;
    std::uint64_t run_time_ns = 0;
    std::uint64_t run_count = 0;
  };
  bool enabled = false;  // kernel.bpf_stats_enabled
  std::vector<Program> programs;
};

class ExitCollector {
 public:
  // Opens, configures, loads and attaches. On a verifier rejection the error carries the
  // last lines of the verifier log.
  static util::Result<std::unique_ptr<ExitCollector>> start(const CollectorConfig& config);
  ~ExitCollector();
  ExitCollector(const ExitCollector&) = delete;
  ExitCollector& operator=(const ExitCollector&) = delete;

  util::Result<void> add_target(pid_t pid);

  // Reads every counter and the collector's health; snap.vms stays empty: name_vms() fills it.
  util::Result<model::Snapshot> snapshot();

  // Names the VMs of `snap` (its vms, for every pid in its exits). A VM's name is looked up in
  // /proc the first time its pid is met and kept, so a VM that has exited keeps its name; one
  // that ended before that keeps the process name its counters carry (captured in the kernel at
  // its first exit; model::vm_info decides). Called on a snapshot now and then only to learn
  // the names of VMs while they run (stat), it is what keeps them.
  void name_vms(model::Snapshot& snap);

  // Waits up to timeout_ms for streamed exits and hands each to `on_exit`. Returns how many.
  // An interrupted wait (EINTR) returns 0, not an error.
  util::Result<int> poll_stream(int timeout_ms,
                                const std::function<void(const ks_exit_event&)>& on_exit);

  // The drill-down counters (CollectorConfig::drills), per VM.
  util::Result<model::DrillDown> drilldown();

  // The hardware exits per (VM, reason, guest RIP) (CollectorConfig::guest_sites), with what the
  // exits' events said about the instruction. Exits at RIPs the kernel could not store (its map
  // full) are counted in their reason's `other` row, from `snap` (a snapshot read just before:
  // the exits each (VM, reason) had in all).
  util::Result<model::GuestSites> guest_sites(const model::Snapshot& snap);

  // Recording: waits up to timeout_ms and hands over the events that arrived, in ring order.
  util::Result<int> poll_records(int timeout_ms,
                                 const std::function<void(std::span<const ks_event>)>& on_events);

  // Events the ring buffer could not take, per CPU (index = CPU), since the start.
  util::Result<std::vector<std::uint64_t>> lost_per_cpu();

  // Notes about what this kernel could not give (e.g. no vCPU ids for VMM exits).
  const std::vector<std::string>& notes() const;

  // Which hooks see hardware exits and why ("tp_btf/kvm_exit, tp_btf/kvm_entry (BTF raw
  // tracepoints; SVM exit code from the VMCB)"), for --verbose.
  const std::string& hooks() const;

  std::uint64_t started_ns() const;

  // Frees what the kernel side keeps for processes that ended (their counters, drill-downs,
  // filter entry) and their names, so a long-running `serve` stays bounded.
  util::Result<void> forget_vms(std::span<const std::uint32_t> pids);

  util::Result<ProgramStats> program_stats();

  // Names a pid explicitly (the command we started: we know its argv before /proc does).
  void name_vm(pid_t pid, model::VmInfo info);

 private:
  struct Impl;
  explicit ExitCollector(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace kvmscope::collect
