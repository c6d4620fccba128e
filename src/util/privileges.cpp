#include "util/privileges.h"

#include <linux/capability.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace kvmscope::util {

Capabilities current_capabilities() {
  Capabilities caps;
  caps.root = ::geteuid() == 0;
  __user_cap_header_struct header = {_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[2] = {};
  if (::syscall(SYS_capget, &header, data) == 0)
    caps.effective = data[0].effective | (std::uint64_t{data[1].effective} << 32);
  return caps;
}

bool can_trace_with_bpf() {
  const Capabilities caps = current_capabilities();
  if (caps.root || caps.has(kCapSysAdmin)) return true;
  return caps.has(kCapBpf) && caps.has(kCapPerfmon);
}

Error tracefs_denied_error(const std::string& path, int err, const Capabilities& caps) {
  const std::string what = "tracefs at " + path + " is not readable";
  if (!caps.root && !caps.has(kCapDacReadSearch) && !caps.has(kCapDacOverride))
    return os_error(what, err,
                    "it is mounted, but only root may read it and this process lacks "
                    "CAP_DAC_READ_SEARCH: run as root, or grant CAP_DAC_READ_SEARCH besides "
                    "CAP_BPF and CAP_PERFMON");
  const char* despite = caps.root                     ? "even as root"
                        : caps.has(kCapDacReadSearch) ? "even with CAP_DAC_READ_SEARCH"
                                                      : "even with CAP_DAC_OVERRIDE";
  return os_error(what, err,
                  std::string(despite) +
                      ": a security module (SELinux, AppArmor) or the mount's options deny it");
}

}  // namespace kvmscope::util
