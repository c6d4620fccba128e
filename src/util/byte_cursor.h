// A bounds-checked reader of numbers and strings of an untrusted binary file, in the file's own
// byte order, over either a file (pread at a position, nothing read ahead: trace.dat headers
// hold MBs of kallsyms that are skipped, never read) or bytes already in memory (a decompressed
// trace.dat v7 section, perf.data's tracing data). Used by the trace.dat and perf.data readers.
// Every read past the end or a failed pread makes the cursor fail for good; callers check
// failed() once after a group of reads. The file is untrusted input.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace kvmscope::util {

class ByteCursor {
 public:
  // Over bytes [pos, end) of an open file.
  ByteCursor(int fd, std::uint64_t pos, std::uint64_t end) : fd_(fd), pos_(pos), end_(end) {}
  // Over a buffer (kept alive by the caller); positions count from its start.
  explicit ByteCursor(std::span<const std::uint8_t> mem)
      : mem_(mem), pos_(0), end_(mem.size()), in_memory_(true) {}

  void set_big_endian(bool big) { big_endian_ = big; }
  bool big_endian() const { return big_endian_; }

  bool failed() const { return !why_.empty(); }
  // "" while fine; else what went wrong ("cut short at byte N", "read: <errno text>").
  const std::string& why() const { return why_; }
  std::uint64_t pos() const { return pos_; }
  std::uint64_t end() const { return end_; }
  std::uint64_t remaining() const { return failed() ? 0 : end_ - pos_; }

  std::uint16_t u16() { return static_cast<std::uint16_t>(number(2)); }
  std::uint32_t u32() { return static_cast<std::uint32_t>(number(4)); }
  std::uint64_t u64() { return number(8); }
  // A '\0'-terminated string of at most max_len bytes before the terminator.
  std::string cstring(std::size_t max_len);
  // Exactly n bytes (n is checked against what is left first: no huge allocation on a bad size).
  std::vector<std::uint8_t> bytes(std::uint64_t n);
  // The next n bytes in place, no copy: a cursor over memory only (on a file it fails).
  std::span<const std::uint8_t> view(std::uint64_t n);
  std::string text(std::uint64_t n);
  void skip(std::uint64_t n);
  void seek(std::uint64_t pos);  // absolute; failing past the end
  // Fails the cursor with a caller's reason (a bad value rather than a short read).
  void fail(const std::string& why);

 private:
  std::uint64_t number(int n);
  bool read_raw(void* out, std::uint64_t n);

  int fd_ = -1;
  std::span<const std::uint8_t> mem_;
  std::uint64_t pos_ = 0;
  std::uint64_t end_ = 0;
  bool in_memory_ = false;
  bool big_endian_ = false;
  std::string why_;
};

}  // namespace kvmscope::util
