#include "collect/tracefs.h"

#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "util/privileges.h"

namespace kvmscope::collect {

namespace {

bool is_dir(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

}  // namespace

util::Result<std::string> tracefs_root() {
  const std::string primary = "/sys/kernel/tracing";
  // EACCES there means mounted, but root's only (mode 0700) and this process may not look in:
  // a missing capability, not a missing mount. Mounting would not help (and needs more).
  std::string denied_path;
  int denied_err = 0;
  for (const std::string& root : {primary, std::string("/sys/kernel/debug/tracing")}) {
    struct stat st;
    if (::stat((root + "/events").c_str(), &st) == 0 && S_ISDIR(st.st_mode)) return root;
    if ((errno == EACCES || errno == EPERM) && denied_path.empty()) {
      denied_path = root;
      denied_err = errno;
      if (root == primary) break;
    }
  }
  if (denied_path == primary)
    return util::tracefs_denied_error(primary, denied_err, util::current_capabilities());
  if (::mount("nodev", primary.c_str(), "tracefs", 0, nullptr) != 0) {
    // Not mounted at the primary place, and debugfs (where tracefs also shows) was closed to us.
    if (!denied_path.empty())
      return util::tracefs_denied_error(denied_path, denied_err, util::current_capabilities());
    const int err = errno;
    return util::os_error("tracefs is not mounted and mounting it at " + primary + " failed", err,
                          "mount -t tracefs nodev " + primary);
  }
  if (!is_dir(primary + "/events"))
    return util::plain_error("tracefs mounted at " + primary + " has no events directory",
                             "is the kernel built with CONFIG_FTRACE?");
  return primary;
}

util::Result<void> require_kvm_events(const std::string& root) {
  const std::string dir = root + "/events/kvm";
  if (is_dir(dir + "/kvm_userspace_exit")) return {};
  if (::access("/dev/kvm", F_OK) != 0)
    return util::plain_error("KVM is not available: no /dev/kvm and no kvm tracepoints in " + dir,
                             "load the kvm module: modprobe kvm_intel or modprobe kvm_amd");
  return util::plain_error("no kvm tracepoints in " + dir,
                           "the kernel was built without KVM tracing, or the kvm module is not "
                           "loaded");
}

}  // namespace kvmscope::collect
