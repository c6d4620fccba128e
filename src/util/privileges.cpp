#include "util/privileges.h"

#include <linux/capability.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdint>

namespace kvmscope::util {

namespace {

constexpr int kCapSysAdmin = 21;
constexpr int kCapPerfmon = 38;
constexpr int kCapBpf = 39;

bool has_effective(const __user_cap_data_struct (&data)[2], int cap) {
  return (data[cap / 32].effective >> (cap % 32)) & 1u;
}

}  // namespace

bool can_trace_with_bpf() {
  if (::geteuid() == 0) return true;
  __user_cap_header_struct header = {_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[2] = {};
  if (::syscall(SYS_capget, &header, data) != 0) return false;
  if (has_effective(data, kCapSysAdmin)) return true;
  return has_effective(data, kCapBpf) && has_effective(data, kCapPerfmon);
}

}  // namespace kvmscope::util
