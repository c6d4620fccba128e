#include "serve/readout.h"

#include <sstream>

#include "serve/gzip.h"
#include "serve/process_state.h"
#include "util/clock.h"

namespace kvmscope::serve {

util::Result<std::shared_ptr<Page>> Readout::operator()(bool compress) {
  // CLOCK_MONOTONIC, as the collector's snapshot times.
  const std::uint64_t start = util::monotonic_ns();
  auto snap = c_.snapshot();
  if (!snap) return snap.error();
  util::Result<model::DrillDown> drill = model::DrillDown();
  if (drills_) drill = c_.drilldown();
  if (!drill) return drill.error();
  PrometheusPage page = series_.update(*snap, *drill, process_running, start);
  const auto forgotten = series_.take_forgotten();
  if (auto r = c_.forget_vms(forgotten); !r) return r.error();
  page.version = version_;
  page.handling_timed = timed_;
  page.health = snap->health;
  if (auto stats = c_.program_stats()) {
    page.bpf_stats_enabled = stats->enabled;
    page.bpf_programs = std::move(stats->programs);
  }
  page.readout_ns = util::monotonic_ns() - start;
  page.readout_unix_ns = util::realtime_ns();

  std::ostringstream text;
  render_prometheus(page, text);
  auto out = std::make_shared<Page>();
  out->content_type = kPromContentType;
  out->body = std::move(text).str();
  if (compress) {
    auto gz = gzip(out->body);
    if (gz) out->gzip = std::move(*gz);  // else plain text: still a valid answer
  }
  return out;
}

}  // namespace kvmscope::serve
