// Writes the HTML report of the synthetic recording (tests/support/sample_recording.h) to the
// file named by argv[1]: the page the browser test renders. Test-only; needs no root.
#include <fstream>
#include <iostream>

#include "report/report.h"
#include "support/sample_recording.h"

int main(int argc, char** argv) {
  using namespace kvmscope;
  if (argc != 2) {
    std::cerr << "usage: make_sample_report OUT.html\n";
    return 2;
  }
  const model::RecordingAnalysisResult analysis = testing::sample_analysis();
  report::ReportOptions options;
  options.drilldowns = {model::kDrillKinds, model::kDrillKinds + std::size(model::kDrillKinds)};
  options.target = "command: qemu-system-x86_64 -name guest </script><b>x";
  options.recording.kernel = "6.1.0-28-amd64";
  options.recording.hostname = "testbed";
  options.recording.realtime_offset_ns = 1'700'000'000'000'000'000LL;
  options.recording.lost_per_cpu = {0, 3};
  options.recording.markers = {{testing::kSampleStart, "command started"}};
  std::ofstream out(argv[1], std::ios::binary | std::ios::trunc);
  report::render_report_html(analysis, model::ReasonCatalog::builtin(), options, out);
  out.flush();
  if (!out) {
    std::cerr << "make_sample_report: cannot write " << argv[1] << "\n";
    return 1;
  }
  return 0;
}
