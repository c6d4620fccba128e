// The renderers' number formatting and text table are util's (shared with top and guest); report's
// code names them unqualified.
#pragma once

#include "util/format.h"      // IWYU pragma: export
#include "util/text_table.h"  // IWYU pragma: export

namespace kvmscope::report {

using util::format_count;
using util::format_duration_ns;
using util::format_percent;
using util::format_rate;
using util::printable;
using util::TextTable;

}  // namespace kvmscope::report
