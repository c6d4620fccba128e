#include "serve/process_state.h"

#include <string>

#include "util/fd.h"

namespace kvmscope::serve {

bool process_running(std::uint32_t pid) {
  if (pid == 0) return false;
  auto stat = util::read_file("/proc/" + std::to_string(pid) + "/stat");
  if (!stat) return false;
  // "pid (comm) S ...": comm may hold spaces and parentheses, the state follows the last ')'.
  const std::size_t paren = stat->rfind(')');
  if (paren == std::string::npos || paren + 2 >= stat->size()) return false;
  const char state = (*stat)[paren + 2];
  return state != 'Z' && state != 'X' && state != 'x';
}

}  // namespace kvmscope::serve
