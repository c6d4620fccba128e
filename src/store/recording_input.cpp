#include "store/recording_input.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "util/spool.h"

namespace kvmscope::store {

namespace {

// Up to n bytes at the stream's current position (fewer only at its end).
util::Result<std::vector<std::uint8_t>> read_up_to(int fd, std::size_t n, const std::string& name) {
  std::vector<std::uint8_t> out(n);
  std::size_t have = 0;
  while (have < n) {
    ssize_t got = ::read(fd, out.data() + have, n - have);
    if (got < 0) {
      if (errno == EINTR) continue;
      const int err = errno;
      return util::os_error("read " + name, err);
    }
    if (got == 0) break;
    have += static_cast<std::size_t>(got);
  }
  out.resize(have);
  return out;
}

}  // namespace

util::Result<RecordingInput> recording_input(util::Fd fd, const std::string& name) {
  RecordingInput in;
  in.name = name;
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) {
    const int err = errno;
    return util::os_error("stat " + name, err);
  }
  // A file read from its start: the readers read it in place (trace.dat's by offset).
  if (S_ISREG(st.st_mode) && ::lseek(fd.get(), 0, SEEK_CUR) == 0) {
    in.head.resize(kFormatSniff);
    const ssize_t got = ::pread(fd.get(), in.head.data(), in.head.size(), 0);
    if (got < 0) {
      const int err = errno;
      return util::os_error("read " + name, err);
    }
    in.head.resize(static_cast<std::size_t>(got));
    in.format = detect_recording_format(in.head);
    in.fd = std::move(fd);
    return in;
  }
  auto prefix = read_up_to(fd.get(), kFormatSniff, name);
  if (!prefix) return prefix.error();
  in.head = *prefix;
  in.format = detect_recording_format(in.head);
  if (!read_by_offset(in.format)) {
    in.fd = std::move(fd);
    in.prefix = std::move(*prefix);
    return in;
  }
  auto file = util::spool_to_temp_file(fd.get(), *prefix, name);
  if (!file) return file.error();
  in.fd = std::move(*file);
  return in;
}

util::Result<RecordingInput> open_recording_input(const std::string& path) {
  if (path != "-") {
    auto fd = util::Fd::open(path, O_RDONLY);
    if (!fd) return fd.error();
    return recording_input(std::move(*fd), path);
  }
  // A copy of the descriptor: the Fd that owns it closes it, standard input stays open.
  const int fd = ::fcntl(STDIN_FILENO, F_DUPFD_CLOEXEC, 0);
  if (fd < 0) {
    const int err = errno;
    return util::os_error("standard input", err);
  }
  return recording_input(util::Fd(fd), "standard input");
}

}  // namespace kvmscope::store
