// The text kvmscope guest --query-exits prints: the exit statistics vCPU 0 read, one row per
// reason with exits, in columns that split on whitespace (the name last: SVM names have
// spaces), then the totals and exactly how many of the query's own CPUIDs each read includes.
#pragma once

#include <ostream>
#include <string>

#include "guest/exit_query.h"
#include "guest/plan.h"
#include "model/reason_catalog.h"

namespace kvmscope::guest {

// The VMX / SVM exit code of CPUID, the reason the query's own reads are counted under.
std::uint32_t cpuid_exit_code(Vendor vendor);

// For an answered query (q.answered). Names: the catalog's hardware names of the vendor's isa.
void render_exit_query(const ExitQuery& q, const Plan& plan, const model::ReasonCatalog& catalog,
                       std::ostream& out);

// The one line that says the kernel does not answer the leaves (the patch is not loaded).
inline constexpr const char* kNotAnsweredMessage =
    "this kernel's KVM does not answer the exit-statistics CPUID leaves (the kernel/ patch is "
    "not loaded)";

// What the probe got instead, for the line after kNotAnsweredMessage.
std::string probe_detail(const ExitQuery& q);

}  // namespace kvmscope::guest
