// Readers for /proc/<pid>: what a process is called and whether it still exists.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "util/result.h"

namespace kvmscope::util {

bool process_exists(pid_t pid);
Result<std::string> read_comm(pid_t pid);                  // /proc/<pid>/comm without the newline
Result<std::vector<std::string>> read_cmdline(pid_t pid);  // /proc/<pid>/cmdline split at NULs

// What /proc shows of a process to name it: comm, and argv (empty when cmdline cannot be read:
// a kernel thread, or it ended between the two reads). The error: comm cannot be read.
struct ProcessIdentity {
  std::string comm;
  std::vector<std::string> argv;
};
Result<ProcessIdentity> read_identity(pid_t pid);
// When the process started, CLOCK_BOOTTIME ns, to the clock tick (/proc/<pid>/stat starttime,
// rounded down: never later than the true start).
Result<std::uint64_t> read_start_boottime_ns(pid_t pid);

// Whether the process holds a KVM VM open: one of its /proc/<pid>/fd links reads
// "anon_inode:kvm-vm" (what KVM_CREATE_VM returns; a VMM keeps it for the VM's life). The error
// is that the fd directory cannot be read (the process is gone, or no permission): an enum, not
// a bool, so "no VM" cannot be mistaken for that error. `proc_root` is for tests.
enum class KvmVmState { open, none };
Result<KvmVmState> kvm_vm_state(pid_t pid, const std::string& proc_root = "/proc");

}  // namespace kvmscope::util
