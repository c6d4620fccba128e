// LineReader: reads text lines of bounded length from a stream, so that memory stays bounded
// whatever the input is (a file without newlines, /dev/zero, a binary file given by mistake).
// A line longer than max_line keeps its first max_line bytes; the rest is read and dropped.
// A byte limit, when set, ends the reading after that many bytes, even inside a line.
#pragma once

#include <cstddef>
#include <cstdint>
#include <istream>
#include <string>
#include <vector>

namespace kvmscope::util {

class LineReader {
 public:
  LineReader(std::istream& in, std::size_t max_line);

  // The next line, without its '\n' (and without a '\r' before it): false at the end of the
  // input, at a read error (stream().bad()), or at the byte limit (limit_reached()).
  bool next(std::string& line);

  // The line next() returned was longer than max_line: its first max_line bytes only.
  bool cut() const { return cut_; }
  // Bytes of the input consumed so far (the '\n's and dropped bytes included).
  std::uint64_t bytes() const { return bytes_; }
  // Reading stops after `limit` bytes of input (0: no limit, the default); set it any time.
  void set_byte_limit(std::uint64_t limit) { limit_ = limit; }
  bool limit_reached() const { return limit_reached_; }
  std::istream& stream() { return in_; }

 private:
  bool fill();  // more input into buf_; false at the end, an error or the limit

  std::istream& in_;
  std::size_t max_line_;
  std::vector<char> buf_;
  std::size_t pos_ = 0, end_ = 0;
  std::uint64_t bytes_ = 0, limit_ = 0;
  bool cut_ = false, limit_reached_ = false, eof_ = false;
};

}  // namespace kvmscope::util
