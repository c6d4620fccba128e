// What this process may do: load and attach tracing BPF programs, read tracefs.
#pragma once

#include <cstdint>
#include <string>

#include "util/result.h"

namespace kvmscope::util {

// Capability numbers of linux/capability.h.
inline constexpr int kCapDacOverride = 1;
inline constexpr int kCapDacReadSearch = 2;
inline constexpr int kCapSysAdmin = 21;
inline constexpr int kCapPerfmon = 38;
inline constexpr int kCapBpf = 39;

struct Capabilities {
  bool root = false;            // effective uid 0: owns tracefs, whatever its capabilities
  std::uint64_t effective = 0;  // bit n: capability n
  bool has(int cap) const { return (effective >> cap) & 1u; }
};

Capabilities current_capabilities();

// Root, or CAP_SYS_ADMIN, or CAP_BPF + CAP_PERFMON. Reading tracefs (mode 0700, root's) takes
// CAP_DAC_READ_SEARCH besides; without it tracefs_denied_error says so.
bool can_trace_with_bpf();

// The error for a tracefs directory (`path`) that exists but could not be looked into (`err`:
// EACCES or EPERM): it names the capability `caps` lacks, instead of calling tracefs unmounted.
Error tracefs_denied_error(const std::string& path, int err, const Capabilities& caps);

}  // namespace kvmscope::util
