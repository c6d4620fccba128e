// The name a person knows a VM by, from its command line: QEMU's `-name guest=web1,...` or
// `-name web1` (libvirt passes the domain name that way), else the process name.
#pragma once

#include <string>
#include <vector>

namespace kvmscope::model {

std::string vm_name_from_cmdline(const std::vector<std::string>& argv, const std::string& comm);

}  // namespace kvmscope::model
