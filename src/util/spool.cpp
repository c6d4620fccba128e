#include "util/spool.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <vector>

namespace kvmscope::util {

namespace {

std::string temp_dir() {
  const char* dir = std::getenv("TMPDIR");
  return dir && *dir ? dir : "/tmp";
}

Result<Fd> nameless_file(const std::string& dir) {
  int fd = ::open(dir.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
  if (fd >= 0) return Fd(fd);
  // Filesystems without O_TMPFILE: a named file, unlinked before anything is written to it.
  std::string path = dir + "/kvmscope-spool-XXXXXX";
  fd = ::mkostemp(path.data(), O_CLOEXEC);
  if (fd < 0) {
    const int err = errno;
    return os_error("create a temporary file in " + dir, err);
  }
  ::unlink(path.c_str());
  return Fd(fd);
}

}  // namespace

Result<Fd> spool_to_temp_file(int in, std::span<const std::uint8_t> prefix,
                              const std::string& name) {
  const std::string dir = temp_dir();
  auto out = nameless_file(dir);
  if (!out) return out.error();
  if (int err = write_all(out->get(), prefix.data(), prefix.size()))
    return os_error("copy " + name + " to a temporary file in " + dir, err);
  std::vector<std::uint8_t> buf(1 << 20);
  for (;;) {
    ssize_t n = ::read(in, buf.data(), buf.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      const int err = errno;
      return os_error("read " + name, err);
    }
    if (n == 0) break;
    if (int err = write_all(out->get(), buf.data(), static_cast<std::size_t>(n)))
      return os_error("copy " + name + " to a temporary file in " + dir, err);
  }
  if (::lseek(out->get(), 0, SEEK_SET) != 0) {
    const int err = errno;
    return os_error("seek in a temporary file", err);
  }
  return out;
}

}  // namespace kvmscope::util
