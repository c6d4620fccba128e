// The help screen: the keys and what the columns mean.
#include "tui/top_frame.h"

namespace kvmscope::tui {

std::vector<std::string> top_help_lines() {
  return {
      "kvmscope top: VM exits per VM, vCPU and reason, refreshed every interval",
      "",
      "  Enter, Right       open the selected VM (its vCPUs and reasons), then a vCPU",
      "  Esc, Bksp, Left    back one level",
      "  Up, Down, j, k     select; PgUp, PgDn, Home, End too",
      "  r  c  t            sort by rate (exits/s), count, or handling time",
      "  /                  filter VMs: a regular expression on name, process or PID (empty: all)",
      "  p, space           pause: keep the numbers as they are (keys still work)",
      "  +  -               refresh less / more often",
      "  d                  type the refresh interval (seconds, or 500ms)",
      "  z                  reset: counts, avg and p99 start again from now",
      "  ?                  this help (any key closes it)",
      "  q                  quit",
      "",
      "exits/s, hw/s, vmm/s, rate/s: over the last interval; hw = hardware exits (kvm:kvm_exit),",
      "  vmm = exits to the VMM (kvm:kvm_userspace_exit)",
      "count, %, avg, p99: since kvmscope started, or since the last reset (z); p99 is the middle",
      "  of its log-linear histogram slot, within 6.25 % of the true value",
      "hw time, vmm time: share of the VM's (or vCPU's) time spent handling exits over the",
      "  interval = sum of the handling times / (interval x vCPUs); hw: from the exit to the next",
      "  VM entry (includes the VMM's part), vmm: from the exit to the VMM's next KVM_RUN;",
      "  a handling time counts when it ends, so on a busy host a share can pass 100%",
      "A VM whose process has ended leaves the list after 3 intervals without exits; a line",
      "  above the list names it, with its exits since the start (or the reset).",
      "On a narrow terminal whole columns are left out, the least important first: vcpus, the",
      "  shares of time, the rates per level, count; a reason's code first of all.",
  };
}

}  // namespace kvmscope::tui
