#include "util/fd.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

namespace kvmscope::util {

void Fd::reset(int fd) noexcept {
  if (fd_ >= 0) ::close(fd_);  // close errors are not actionable for an owner
  fd_ = fd;
}

Result<Fd> Fd::open(const std::string& path, int flags, int mode) {
  int fd = ::open(path.c_str(), flags | O_CLOEXEC, mode);
  if (fd < 0) return os_error("open " + path);
  return Fd(fd);
}

Result<std::string> read_file(const std::string& path) {
  auto fd = Fd::open(path, O_RDONLY);
  if (!fd) return fd.error();
  std::string out;
  char buf[4096];
  for (;;) {
    ssize_t n = ::read(fd->get(), buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      return os_error("read " + path);
    }
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

}  // namespace kvmscope::util
