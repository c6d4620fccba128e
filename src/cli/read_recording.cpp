#include "cli/read_recording.h"

#include <cerrno>
#include <fstream>
#include <iostream>
#include <optional>
#include <span>
#include <vector>

namespace kvmscope::cli {

util::Result<model::RecordingAnalysisResult> analyze_events(store::EventSource& source,
                                                            model::AnalysisOptions options) {
  const store::RecordingInfo& info = source.info();
  // The first batch comes after the header's side records: the start marker is known then.
  auto first = source.next();
  if (!first) return first.error();
  options.markers = source.markers();
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
      analysis.add_markers(std::span(source.markers()).subspan(markers_given));
      markers_given = source.markers().size();
    }
  }
  analysis.name_vms(source.vms());  // names met after the first batch too
  const auto totals = source.totals();
  return analysis.finish(totals && totals->end_ns != 0 ? std::optional(totals->end_ns)
                                                       : std::nullopt);
}

util::Result<model::KernelLog> read_kernel_log(const std::string& path) {
  std::ifstream file;
  if (path != "-") {
    file.open(path);
    if (!file) {
      const int err = errno;
      return util::os_error("cannot read " + path, err);
    }
  }
  return model::parse_kernel_log(path == "-" ? std::cin : file, path);
}

}  // namespace kvmscope::cli
