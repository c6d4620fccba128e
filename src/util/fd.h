// Fd: move-only owner of a file descriptor; the destructor closes and never throws.
#pragma once

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
  void reset(int fd = -1) noexcept;

  // open(2) with O_CLOEXEC added; the error names the path.
  static Result<Fd> open(const std::string& path, int flags, int mode = 0);

 private:
  int fd_ = -1;
};

// Whole small file (procfs, sysfs, tracefs) as a string.
Result<std::string> read_file(const std::string& path);

}  // namespace kvmscope::util
