// How `stat` renders a snapshot and `report` a recording: one options struct for both, so a
// table renders the same from either (report's exit tables are stat's table).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "model/drilldown.h"
#include "model/kernel_log_analysis.h"
#include "model/marker.h"
#include "model/recording_damage.h"
#include "model/summary.h"

namespace kvmscope::symbols {
struct Attribution;  // symbols/attribution.h
}

namespace kvmscope::report {

// What the recording says about itself (its header and trailer), shown with the results.
struct RecordingMeta {
  std::string kernel;  // uname -r of the recording host
  std::string hostname;
  std::string kvmscope_version;
  // CLOCK_REALTIME - CLOCK_MONOTONIC of the recording host: prints the start as UTC.
  std::optional<std::int64_t> realtime_offset_ns;
  std::uint64_t lost_events = 0;            // events the ring buffer could not take, in all
  std::vector<std::uint64_t> lost_per_cpu;  // the same per CPU, when the recording kept it
  bool complete = true;  // false: the file was cut short (no trailer): the end is missing
  // Damaged stretches of the file, skipped, and the events they cost in all (exact where the
  // trailer or the blocks' own headers say, else estimated).
  std::vector<model::DamagedRange> damage;
  std::uint64_t lost_to_damage = 0;
  bool lost_to_damage_exact = true;
  std::vector<model::Marker> markers;  // listed with their time
};

struct ReportOptions {
  // What was traced, in every header: "command: kvmscope guest --io 5", "pid 4242", "all VMs",
  // "kernel log FILE".
  std::string target;
  model::Breakdown breakdown = model::Breakdown::none;  // of the exit tables
  // The drill-downs to render (`--by port,mmio`), in this order; a kind without events renders
  // as one line saying so. Empty: none.
  std::vector<model::DrillKind> drilldowns;
  bool drilldowns_per_vm = false;  // one table per VM instead of one for all
  std::size_t max_rows = 20;       // text only: rows per drill-down table (CSV/JSON keep all)
  // Printed as "note: ...": what the kernel could not give (stat), names not from this kernel.
  std::vector<std::string> notes;
  // stat --by: the drill-down tables filled from BPF maps (a report takes its own from the
  // recording's analysis).
  const model::DrillDown* drill = nullptr;
  RecordingMeta recording;  // report only
  // report --dmesg: the analysis was made from a kernel log's cumulative reports, not from a
  // recording; the renderers say so and add the per-VM reports (JSON: "kernel_log"). The exit
  // table then has the log's title, no rates (counts since an unknown start) and no line about
  // exits to the VMM (a kernel log has no such level).
  const model::KernelLogSummary* kernel_log = nullptr;
  // Handling-time columns from each row's own times (its sketch): p50, p90, p99, p99.9 and max,
  // and no log2-bucket footnote (the report's header says how they were computed). The report's
  // renderers set it (report_options()); stat leaves it: p50, p99 as log2 bucket bounds, and max.
  bool event_percentiles = false;
  // report --guest-symbols / --guest-kernel / --by function: the exits attributed to guest
  // functions (report_guest_code.h); nullptr: not asked for.
  const symbols::Attribution* guest_code = nullptr;
};

}  // namespace kvmscope::report
