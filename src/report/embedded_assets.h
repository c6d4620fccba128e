// Files embedded into the program at build time (cmake/ReportAssets.cmake): Chart.js from
// Debian's libjs-chart.js, and the HTML report's own script and style (src/report/html/).
#pragma once

#include <cstddef>
#include <string_view>

namespace kvmscope::report::embedded {

extern const char kChartJs[];
extern const std::size_t kChartJsSize;
extern const char kReportJs[];
extern const std::size_t kReportJsSize;
extern const char kReportCss[];
extern const std::size_t kReportCssSize;

inline std::string_view chart_js() {
  return {kChartJs, kChartJsSize};
}
inline std::string_view report_js() {
  return {kReportJs, kReportJsSize};
}
inline std::string_view report_css() {
  return {kReportCss, kReportCssSize};
}

}  // namespace kvmscope::report::embedded
