// Plain-language notes that go with a snapshot, shared by the table and the JSON output, so both
// say the same thing: what an empty level means, and what each collector health counter costs
// the numbers.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "model/snapshot.h"

namespace kvmscope::report {

// Empty when both levels have exits. Otherwise one note: nothing was seen at all, or no hardware
// exit was seen (KVM does not report them on software-emulated hosts such as kvm_pvm).
std::vector<std::string> coverage_notes(const model::Snapshot& snapshot, std::string_view target);

// One sentence per non-zero health counter, without a "warning:" prefix.
std::vector<std::string> health_warnings(const model::CollectorHealth& health);

}  // namespace kvmscope::report
