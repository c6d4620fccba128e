#include "collect/tracefs.h"

#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

namespace kvmscope::collect {

namespace {

bool is_dir(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

}  // namespace

util::Result<std::string> tracefs_root() {
  const std::string primary = "/sys/kernel/tracing";
  for (const std::string& root : {primary, std::string("/sys/kernel/debug/tracing")})
    if (is_dir(root + "/events")) return root;
  if (::mount("nodev", primary.c_str(), "tracefs", 0, nullptr) != 0)
    return util::os_error("tracefs is not mounted and mounting it at " + primary + " failed", errno,
                          "mount -t tracefs nodev " + primary);
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
