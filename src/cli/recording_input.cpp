#include "cli/recording_input.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "tracedat/tracedat_meta.h"
#include "util/spool.h"

namespace kvmscope::cli {

namespace {

// Enough of the start to tell the formats apart: trace.dat's magic is the longer one.
constexpr std::size_t kSniff = 16;

// Up to n bytes at the stream's current position (fewer only at its end).
util::Result<std::vector<std::uint8_t>> read_up_to(int fd, std::size_t n, const std::string& name) {
  std::vector<std::uint8_t> out(n);
  std::size_t have = 0;
  while (have < n) {
    ssize_t got = ::read(fd, out.data() + have, n - have);
    if (got < 0) {
      if (errno == EINTR) continue;
      return util::os_error("read " + name);
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
  if (::fstat(fd.get(), &st) != 0) return util::os_error("stat " + name);
  // A file read from its start: the readers read it in place (trace.dat's by offset).
  if (S_ISREG(st.st_mode) && ::lseek(fd.get(), 0, SEEK_CUR) == 0) {
    std::uint8_t head[kSniff];
    const ssize_t got = ::pread(fd.get(), head, sizeof head, 0);
    if (got < 0) return util::os_error("read " + name);
    in.tracedat = tracedat::is_tracedat_magic({head, static_cast<std::size_t>(got)});
    in.fd = std::move(fd);
    return in;
  }
  auto prefix = read_up_to(fd.get(), kSniff, name);
  if (!prefix) return prefix.error();
  if (!tracedat::is_tracedat_magic(*prefix)) {
    in.fd = std::move(fd);
    in.prefix = std::move(*prefix);
    return in;
  }
  auto file = util::spool_to_temp_file(fd.get(), *prefix, name);
  if (!file) return file.error();
  in.fd = std::move(*file);
  in.tracedat = true;
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
  if (fd < 0) return util::os_error("standard input");
  return recording_input(util::Fd(fd), "standard input");
}

}  // namespace kvmscope::cli
