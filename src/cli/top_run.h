// The two ways `kvmscope top` runs once the collector is loaded: plain text frames (--batch)
// and the curses screen. Both refresh the same TopModel from the collector's snapshots.
#pragma once

#include <cstdint>
#include <ostream>
#include <string>

#include "cli/guest_code.h"
#include "cli/top_options.h"
#include "collect/exit_collector.h"
#include "model/reason_catalog.h"
#include "tui/top_view.h"
#include "util/result.h"

namespace kvmscope::cli {

struct TopSession {
  const TopOptions& options;
  collect::ExitCollector& collector;
  const model::ReasonCatalog& catalog;
  tui::TopModel model;
  std::uint64_t deadline_ns = 0;  // --duration, 0: none
  // --by function: the guest files that name the RIPs (outliving the session); null: not asked.
  const GuestFiles* guest = nullptr;

  // Reads the counters into the model (VMs whose process is gone are told apart).
  util::Result<void> refresh();
  std::string clock() const;  // "12:34:56", local time
  bool duration_over() const;
};

util::Result<void> run_top_batch(TopSession& session, std::ostream& out);
util::Result<void> run_top_screen(TopSession& session);

}  // namespace kvmscope::cli
