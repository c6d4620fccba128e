// Whether a VM's process still runs. A zombie counts as ended: kill(pid, 0) would still succeed
// for it, but it will never exit again.
#pragma once

#include <cstdint>

namespace kvmscope::serve {

bool process_running(std::uint32_t pid);

}  // namespace kvmscope::serve
