#include "cli/read_recording.h"

#include <optional>
#include <vector>

namespace kvmscope::cli {

namespace {

std::vector<model::Marker> to_model(const std::vector<store::Marker>& markers) {
  std::vector<model::Marker> out;
  out.reserve(markers.size());
  for (const auto& m : markers) out.push_back({m.ts_ns, m.label});
  return out;
}

}  // namespace

util::Result<model::RecordingAnalysisResult> analyze_events(store::EventSource& source,
                                                            model::AnalysisOptions options) {
  const store::RecordingInfo& info = source.info();
  // The first batch comes after the header's side records: the start marker is known then.
  auto first = source.next();
  if (!first) return first.error();
  options.markers = to_model(source.markers());
  options.vms = source.vms();
  // Time 0 without a command start, and the end: the file's own, the times `record` reported.
  if (info.start_ns != 0) options.recording_start_ns = info.start_ns;
  model::RecordingAnalysis analysis(options);
  std::size_t markers_given = options.markers.size();
  for (auto batch = std::move(first);;) {
    if (batch->empty()) break;
    analysis.add(*batch);
    batch = source.next();
    if (!batch) return batch.error();
    // A VM's process start is marked just before its first event.
    if (source.markers().size() > markers_given) {
      std::vector<store::Marker> met(source.markers().begin() + markers_given,
                                     source.markers().end());
      analysis.add_markers(to_model(met));
      markers_given = source.markers().size();
    }
  }
  analysis.name_vms(source.vms());  // names met after the first batch too
  const auto totals = source.totals();
  return analysis.finish(totals && totals->end_ns != 0 ? std::optional(totals->end_ns)
                                                       : std::nullopt);
}

}  // namespace kvmscope::cli
