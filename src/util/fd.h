// Fd: move-only owner of a file descriptor; the destructor closes and never throws.
#pragma once

#include <cstddef>
#include <string>
#include <utility>

#include "util/result.h"

namespace kvmscope::util {

class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  Fd(Fd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  Fd& operator=(Fd&& other) noexcept {
    if (this != &other) reset(std::exchange(other.fd_, -1));
    return *this;
  }
  ~Fd() { reset(); }

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  int release() { return std::exchange(fd_, -1); }
  // Closes now, ignoring what close(2) says: for read ends and cleanup paths.
  void reset(int fd = -1) noexcept;
  // Closes now and says whether close(2) failed: on NFS, or with a disk quota, a write's error
  // may show only here. The descriptor is released either way (Linux frees it even on EINTR).
  // `what` names the file in the error ("close FILE: ...").
  Result<void> close(const std::string& what);

  // open(2) with O_CLOEXEC added; the error names the path.
  static Result<Fd> open(const std::string& path, int flags, int mode = 0);

 private:
  int fd_ = -1;
};

// pipe2(2) with O_CLOEXEC: both ends owned at once, so no path can leak them.
struct Pipe {
  Fd read;
  Fd write;
};
Result<Pipe> make_pipe();

// write(2) until all `n` bytes are out; a short write or EINTR continues. 0, or the errno.
int write_all(int fd, const void* data, std::size_t n);

// Whole small file (procfs, sysfs, tracefs) as a string.
Result<std::string> read_file(const std::string& path);

}  // namespace kvmscope::util
