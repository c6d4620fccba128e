#include "util/proc.h"

#include <signal.h>

#include <cerrno>

#include "util/fd.h"

namespace kvmscope::util {

bool process_exists(pid_t pid) {
  // EPERM means it exists but belongs to someone else.
  return pid > 0 && (::kill(pid, 0) == 0 || errno == EPERM);
}

Result<std::string> read_comm(pid_t pid) {
  auto text = read_file("/proc/" + std::to_string(pid) + "/comm");
  if (!text) return text.error();
  std::string comm = std::move(*text);
  while (!comm.empty() && (comm.back() == '\n' || comm.back() == '\0')) comm.pop_back();
  return comm;
}

Result<std::vector<std::string>> read_cmdline(pid_t pid) {
  auto text = read_file("/proc/" + std::to_string(pid) + "/cmdline");
  if (!text) return text.error();
  std::vector<std::string> argv;
  std::string current;
  for (char c : *text) {
    if (c == '\0') {
      argv.push_back(std::move(current));
      current.clear();
    } else {
      current.push_back(c);
    }
  }
  if (!current.empty()) argv.push_back(std::move(current));
  return argv;
}

}  // namespace kvmscope::util
