// Finding tracefs and the kvm tracepoints, with errors that say what to do.
#pragma once

#include <string>

#include "util/result.h"

namespace kvmscope::collect {

// The tracefs root: /sys/kernel/tracing, or /sys/kernel/debug/tracing where only debugfs is
// mounted. When neither is mounted, mounts tracefs at /sys/kernel/tracing (we are root anyway).
// Where tracefs is mounted but closed to this process (mode 0700 without CAP_DAC_READ_SEARCH),
// the error names the missing capability (util::tracefs_denied_error).
util::Result<std::string> tracefs_root();

// Ok when <root>/events/kvm/kvm_exit exists, else an error naming the missing module.
util::Result<void> require_kvm_events(const std::string& root);

}  // namespace kvmscope::collect
