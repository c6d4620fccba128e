// The error for a tracefs this process may not look into: it names the missing capability and
// never claims that tracefs is not mounted.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cerrno>
#include <string>

#include "util/privileges.h"

namespace kvmscope::util {
namespace {

Capabilities with(std::initializer_list<int> caps, bool root = false) {
  Capabilities c;
  c.root = root;
  for (int cap : caps) c.effective |= std::uint64_t{1} << cap;
  return c;
}

TEST(Privileges, names_cap_dac_read_search_when_it_is_missing) {
  const Error e = tracefs_denied_error("/sys/kernel/tracing", EACCES, with({kCapBpf, kCapPerfmon}));
  EXPECT_EQ(e.message(),
            "tracefs at /sys/kernel/tracing is not readable: Permission denied (it is mounted, "
            "but only root may read it and this process lacks CAP_DAC_READ_SEARCH: run as root, "
            "or grant CAP_DAC_READ_SEARCH besides CAP_BPF and CAP_PERFMON)");
  EXPECT_EQ(e.message().find("not mounted"), std::string::npos);
}

TEST(Privileges, blames_something_else_when_the_capability_is_there) {
  EXPECT_EQ(tracefs_denied_error("/sys/kernel/tracing", EACCES,
                                 with({kCapBpf, kCapPerfmon, kCapDacReadSearch}))
                .message(),
            "tracefs at /sys/kernel/tracing is not readable: Permission denied (even with "
            "CAP_DAC_READ_SEARCH: a security module (SELinux, AppArmor) or the mount's options "
            "deny it)");
  EXPECT_EQ(tracefs_denied_error("/sys/kernel/debug/tracing", EPERM, with({}, true)).message(),
            "tracefs at /sys/kernel/debug/tracing is not readable: Operation not permitted (even "
            "as root: a security module (SELinux, AppArmor) or the mount's options deny it)");
  EXPECT_NE(tracefs_denied_error("/t", EACCES, with({kCapDacOverride}))
                .message()
                .find("even with CAP_DAC_OVERRIDE"),
            std::string::npos);
}

TEST(Privileges, reads_this_processs_capabilities) {
  const Capabilities caps = current_capabilities();
  EXPECT_EQ(caps.root, ::geteuid() == 0);
  EXPECT_EQ(can_trace_with_bpf(),
            caps.root || caps.has(kCapSysAdmin) || (caps.has(kCapBpf) && caps.has(kCapPerfmon)));
}

}  // namespace
}  // namespace kvmscope::util
