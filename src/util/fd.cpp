#include "util/fd.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <utility>

namespace kvmscope::util {

void Fd::reset(int fd) noexcept {
  if (fd_ >= 0) ::close(fd_);  // close errors are not actionable for an owner
  fd_ = fd;
}

Result<void> Fd::close(const std::string& what) {
  if (fd_ < 0) return {};
  const int rc = ::close(std::exchange(fd_, -1));
  const int err = errno;
  if (rc != 0) return os_error("close " + what, err);
  return {};
}

Result<Pipe> make_pipe() {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) {
    const int err = errno;
    return os_error("pipe2", err);
  }
  return Pipe{Fd(fds[0]), Fd(fds[1])};
}

int write_all(int fd, const void* data, std::size_t n) {
  const auto* p = static_cast<const char*>(data);
  while (n > 0) {
    const ssize_t w = ::write(fd, p, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    if (w == 0) return EIO;  // write(2) of n > 0 bytes never returns 0; do not spin on it
    p += w;
    n -= static_cast<std::size_t>(w);
  }
  return 0;
}

Result<Fd> Fd::open(const std::string& path, int flags, int mode) {
  int fd = ::open(path.c_str(), flags | O_CLOEXEC, mode);
  if (fd < 0) {
    const int err = errno;
    return os_error("open " + path, err);
  }
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
      const int err = errno;
      return os_error("read " + path, err);
    }
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

}  // namespace kvmscope::util
