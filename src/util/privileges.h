// Whether this process may load and attach tracing BPF programs.
#pragma once

namespace kvmscope::util {

// Root, or CAP_BPF + CAP_PERFMON (+ CAP_DAC_READ_SEARCH is not needed: tracefs is only read
// for format files, which are world-readable on most systems).
bool can_trace_with_bpf();

}  // namespace kvmscope::util
