// The parts of `kvmscope report --dmesg` that only a kernel log has: the header that says
// where the counts came from, and per VM its reports with the exits between them (text), or
// the "kernel_log" object (JSON). Internal to src/report/.
#pragma once

#include <ostream>
#include <string>
#include <vector>

#include "model/kernel_log_analysis.h"
#include "model/reason_catalog.h"

namespace kvmscope::report {

// The first block of the text report: what was read, the VMs, the notes.
std::string kernel_log_header(const model::KernelLogSummary& log, const model::Snapshot& snapshot,
                              const std::vector<std::string>& notes);

// The hardware section's title for counts from a kernel log.
std::string kernel_log_table_title(const model::KernelLogSummary& log);

// One block per VM instance: its reports (time, cumulative exits, new exits, rate, cycles per
// exit, top reasons) and its last breakdown with raw cycles.
std::vector<std::string> kernel_log_sections(const model::KernelLogSummary& log,
                                             const model::ReasonCatalog& catalog);

// `  "kernel_log": {...},` (with its trailing comma and newline).
void write_kernel_log_json(const model::KernelLogSummary& log, const model::ReasonCatalog& catalog,
                           std::ostream& out);

}  // namespace kvmscope::report
