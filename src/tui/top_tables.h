// The pieces `kvmscope top`'s frames are made of: the title and summary lines, and the VM, vCPU
// and reason tables as aligned text lines (header first, then one line per row, in row order, so
// a row's line is found by its index).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "model/reason_catalog.h"
#include "tui/top_view.h"

namespace kvmscope::tui {

struct TableLines {
  std::string header;
  std::vector<std::string> rows;
};

// "kvmscope top  12:34:56  all VMs on this host  refresh 1.0 s  sort: rate  filter: /web/"
std::string title_line(const std::string& clock, const std::string& target, double interval_s,
                       tui::TopSort sort, const tui::TopFilter& filter, bool paused);
// "VMs: 2  exits/s: 1,234  hardware/s: 0  to the VMM/s: 1,234  counts since start: 3.00 s"
std::string summary_line(const tui::TopModel& model, std::size_t vms);
// What the numbers lack: no hardware exits on this host, what the kernel side could not store,
// the VMs that ended and left the list ("1 VM ended since start: web1 (pid 4242), 12 exits").
std::vector<std::string> note_lines(const tui::TopModel& model);
// What stands in for an empty VM list: no VM matches the filter, every VM that made exits has
// ended, or none has made any.
std::string empty_list_text(const tui::TopModel& model, const tui::TopFilter& filter);

// "VM web1  pid 4242  process qemu-system-x86  vCPUs 2" (+ "  ended")
std::string vm_title(const tui::TopVm& vm);

// Any width: every column.
inline constexpr std::size_t kAnyWidth = static_cast<std::size_t>(-1);

// The tables fit `width` bytes by leaving out whole columns, the least important first (each
// table's column list says which that is), never by cutting one; only the most important column
// is kept whatever the width.
TableLines vm_table(const tui::TopModel& model, const std::vector<tui::TopVm>& vms,
                    std::size_t width = kAnyWidth);
TableLines vcpu_table(const tui::TopModel& model, const std::vector<tui::TopVcpu>& vcpus,
                      std::size_t width = kAnyWidth);
// `vcpus`: how many vCPUs the reasons are of (the share of time is of their time).
TableLines reason_table(const tui::TopModel& model, const std::vector<tui::TopReason>& reasons,
                        std::uint32_t vcpus, const model::ReasonCatalog& catalog,
                        std::size_t width = kAnyWidth);

// top --by function: a VM's guest functions per reason (TopModel::functions), the reason first.
TableLines function_table(const tui::TopModel& model, const std::vector<tui::TopFunction>& fns,
                          const model::ReasonCatalog& catalog, std::size_t width = kAnyWidth);

// Functions per reason in the guest-code table: the screen's and the batch frame's.
inline constexpr std::size_t kFunctionsPerReason = 5;

}  // namespace kvmscope::tui
