// A recording, whatever its format, fed through the report's analysis: what `report` prints and
// what `diff` compares come from this one loop.
#pragma once

#include "model/recording_analysis.h"
#include "store/event_source.h"
#include "util/result.h"

namespace kvmscope::cli {

// Reads `source` to its end, block by block (memory does not grow with the file). The markers
// and VM names it meets go into the analysis as they come; time 0 without a command start is
// the file's own start, the end the one its trailer gives. options: --bucket, --mark ...
util::Result<model::RecordingAnalysisResult> analyze_events(store::EventSource& source,
                                                            model::AnalysisOptions options);

}  // namespace kvmscope::cli
