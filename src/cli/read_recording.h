// A recording, whatever its format, fed through the report's analysis: what `report` prints and
// what `diff` compares come from this one loop. And a kernel log, read the one way both take it.
#pragma once

#include <string>

#include "model/kernel_log.h"
#include "model/recording_analysis.h"
#include "store/event_source.h"
#include "util/result.h"

namespace kvmscope::cli {

// Reads `source` to its end, block by block (memory does not grow with the file). The markers
// and VM names it meets go into the analysis as they come; time 0 without a command start is
// the file's own start, the end the one its trailer gives. options: --bucket, --mark ...
util::Result<model::RecordingAnalysisResult> analyze_events(store::EventSource& source,
                                                            model::AnalysisOptions options);

// A kernel log (`--dmesg PATH`, "-": standard input) parsed; a file that cannot be opened is the
// error "cannot read PATH: ...".
util::Result<model::KernelLog> read_kernel_log(const std::string& path);

}  // namespace kvmscope::cli
