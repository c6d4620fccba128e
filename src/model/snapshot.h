// Everything the collector knows at one instant: per-(VM, vCPU, reason) counters, the names of
// the VMs, and the collector's own health (what it could not store is counted, never dropped).
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "model/exit_key.h"
#include "model/exit_stats.h"

namespace kvmscope::model {

struct CollectorHealth {
  std::uint64_t exits_not_stored = 0;    // exits map full: counted, not attributed
  std::uint64_t events_lost = 0;         // streamed events the ring buffer could not take
  std::uint64_t threads_not_stored = 0;  // exits whose handling time could not be measured
  std::uint64_t targets_not_stored = 0;  // forked children the filter could not follow
  bool operator==(const CollectorHealth&) const = default;
  bool clean() const { return *this == CollectorHealth{}; }
};

struct VmInfo {
  std::string name;  // QEMU -name, libvirt domain, else the process name
  std::string comm;  // the process name
  bool operator==(const VmInfo&) const = default;
};

struct Snapshot {
  std::uint64_t started_ns = 0;  // CLOCK_MONOTONIC when collection began
  std::uint64_t taken_ns = 0;    // CLOCK_MONOTONIC when this snapshot was read
  std::map<ExitKey, ExitStats> exits;
  std::map<std::uint32_t, VmInfo> vms;  // by pid
  CollectorHealth health;

  double seconds() const { return taken_ns > started_ns ? (taken_ns - started_ns) / 1e9 : 0.0; }
  std::uint64_t total(Level level) const;
};

}  // namespace kvmscope::model
