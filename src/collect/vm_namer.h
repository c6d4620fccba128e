// Names the VMs of a recording, the processes that used KVM, as their pids first appear in the
// event stream with a KVM event, while they still run (a process exit is none: `sh` or a compiler
// that ends is no VM). `record` writes what see() returns before the events themselves, so a
// VM's name and start marker precede its first event in the file. The names come from /proc
// (QEMU's -name, else the process name): collect/ is where the live processes are looked at.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "bpf/kvmscope_bpf.h"
#include "model/snapshot.h"

namespace kvmscope::collect {

// A VM met for the first time.
struct VmSighting {
  std::uint32_t pid = 0;
  // Its name, from /proc, else the one expect()ed; nullopt: it is gone and was not expected
  // (report names it by pid).
  std::optional<model::VmInfo> info;
  // CLOCK_MONOTONIC of its process start, where the namer notes starts and the VM started after
  // the recording did.
  std::optional<std::uint64_t> start_ns;
};

class VmNamer {
 public:
  // note_starts: note the process start of a VM that started after `started_ns` (the
  // recording's start): a whole-host or -p recording. With a command, its start is every VM's.
  VmNamer(bool note_starts, std::uint64_t started_ns);
  // The command's name, for when it is gone before its first KVM event is seen.
  void expect(std::uint32_t pid, model::VmInfo info) { expected_.emplace(pid, std::move(info)); }
  // The VMs met for the first time in `events`, in the order met.
  std::vector<VmSighting> see(std::span<const ks_event> events);

 private:
  std::optional<model::VmInfo> name(std::uint32_t pid) const;
  std::optional<std::uint64_t> start(std::uint32_t pid) const;

  const bool note_starts_;
  const std::uint64_t started_ns_;
  const std::uint64_t boottime_offset_ns_;  // CLOCK_BOOTTIME - CLOCK_MONOTONIC
  std::unordered_map<std::uint32_t, model::VmInfo> expected_;
  std::unordered_set<std::uint32_t> seen_;
  std::uint32_t last_ = 0;
};

}  // namespace kvmscope::collect
