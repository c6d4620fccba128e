// The name a person knows a VM by, from its command line: QEMU's `-name guest=web1,...` or
// `-name web1` (libvirt passes the domain name that way), else the process name.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "model/snapshot.h"

namespace kvmscope::model {

std::string vm_name_from_cmdline(const std::vector<std::string>& argv, const std::string& comm);

// What a VM is called, from what is known of its process: `proc_comm` and `argv` as /proc shows
// them now (nullopt: the process is gone), `seen_comm` the process name the collector's kernel
// side captured at the VM's first exit ("": none). /proc is used while it shows the process the
// kernel saw (the same name): only it has QEMU's -name. Otherwise (the VM ended before this
// readout, or its pid now belongs to another process) the captured name; with neither,
// "pid N (exited)".
VmInfo vm_info(std::uint32_t pid, const std::optional<std::string>& proc_comm,
               const std::vector<std::string>& argv, const std::string& seen_comm);

}  // namespace kvmscope::model
