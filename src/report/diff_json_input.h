// kvmscope's own JSON documents read back as one side of a diff: `stat --json`
// (kvmscope.stat/1) and `report --json` (kvmscope.report/1). Their exits, VMs, drill-downs and
// (report) timeline; reason names as the document printed them.
#pragma once

#include <string>
#include <string_view>

#include "model/diff.h"
#include "util/result.h"

namespace kvmscope::report {

// label names the input in messages. Errors: not JSON, another schema, a malformed entry.
util::Result<model::DiffInput> diff_input_from_json(std::string_view text,
                                                    const std::string& label);

}  // namespace kvmscope::report
