#include "util/proc.h"

#include <dirent.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <memory>
#include <string_view>

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

Result<std::uint64_t> read_start_boottime_ns(pid_t pid) {
  const std::string path = "/proc/" + std::to_string(pid) + "/stat";
  auto text = read_file(path);
  if (!text) return text.error();
  // "pid (comm) state ppid ...": comm may hold spaces and parentheses, so fields are counted
  // from the last ')'. starttime is field 22; the state, field 3, follows the ')'.
  std::string_view rest(*text);
  const auto paren = rest.rfind(')');
  if (paren == std::string_view::npos) return plain_error(path + ": unexpected format");
  rest.remove_prefix(paren + 1);
  for (int field = 3; field <= 22; ++field) {
    const auto start = rest.find_first_not_of(' ');
    if (start == std::string_view::npos) break;
    rest.remove_prefix(start);
    const auto end = rest.find(' ');
    const std::string_view value = rest.substr(0, end);
    if (field == 22) {
      std::uint64_t ticks = 0;
      const auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), ticks);
      const long hz = ::sysconf(_SC_CLK_TCK);
      if (ec != std::errc() || ptr != value.data() + value.size() || hz <= 0) break;
      return ticks * (1'000'000'000ull / static_cast<std::uint64_t>(hz));
    }
    if (end == std::string_view::npos) break;
    rest.remove_prefix(end);
  }
  return plain_error(path + ": no start time");
}

Result<ProcessIdentity> read_identity(pid_t pid) {
  auto comm = read_comm(pid);
  if (!comm) return comm.error();
  ProcessIdentity id{std::move(*comm), {}};
  if (auto argv = read_cmdline(pid)) id.argv = std::move(*argv);
  return id;
}

Result<KvmVmState> kvm_vm_state(pid_t pid, const std::string& proc_root) {
  const std::string dir = proc_root + "/" + std::to_string(pid) + "/fd";
  std::unique_ptr<DIR, int (*)(DIR*)> d(::opendir(dir.c_str()), ::closedir);
  if (!d) {
    const int err = errno;
    return os_error("read " + dir, err);
  }
  char target[64];
  while (const dirent* e = ::readdir(d.get())) {
    if (e->d_name[0] == '.') continue;
    const std::string link = dir + "/" + e->d_name;
    const ssize_t n = ::readlink(link.c_str(), target, sizeof target);
    // Fds close while we look: a link that vanished is simply not a VM.
    if (n > 0 && std::string_view(target, static_cast<std::size_t>(n)) == "anon_inode:kvm-vm")
      return KvmVmState::open;
  }
  return KvmVmState::none;
}

}  // namespace kvmscope::util
