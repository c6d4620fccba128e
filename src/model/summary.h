// Groups a snapshot's counters into the tables the renderers print: per level, optionally per VM
// and per vCPU, rows sorted by count (most frequent first), with a totals line per group.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "model/snapshot.h"

namespace kvmscope::model {

enum class Breakdown { none, per_vm, per_vcpu };

struct SummaryRow {
  Reason reason;
  ExitStats stats;
};

struct SummaryGroup {
  Level level = Level::hardware;
  std::optional<std::uint32_t> vm_pid;  // set for per_vm and per_vcpu
  std::optional<std::uint32_t> vcpu;    // set for per_vcpu
  std::vector<SummaryRow> rows;         // count descending, then reason ascending
  ExitStats total;
};

// Groups in a stable order: level (hardware first), then VM pid, then vCPU. Levels without
// exits produce no group.
std::vector<SummaryGroup> summarize(const Snapshot& snapshot, Breakdown breakdown);

}  // namespace kvmscope::model
