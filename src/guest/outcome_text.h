// The text kvmscope guest prints about a run: what every kind of exit did per vCPU and in all,
// how the run ended, and how long it took. Pure (the pid is a parameter), so that the wording
// of stalled and interrupted runs is tested without /dev/kvm.
#pragma once

#include <sys/types.h>

#include <ostream>
#include <string>

#include "guest/guest.h"
#include "guest/plan.h"

namespace kvmscope::guest {

// The table, the "ended: ..." line and the "elapsed ..." line. A count the guest's RAM no longer
// tells (Count without a value) is printed as "unknown", and so is every sum that includes it.
void render_outcome(const Plan& plan, const Outcome& out, pid_t pid, std::ostream& os);

}  // namespace kvmscope::guest
