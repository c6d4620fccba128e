#include "util/line_reader.h"

#include <algorithm>
#include <cstring>

namespace kvmscope::util {

namespace {
constexpr std::size_t kChunk = 64 * 1024;
}

LineReader::LineReader(std::istream& in, std::size_t max_line)
    : in_(in), max_line_(max_line), buf_(kChunk) {}

bool LineReader::fill() {
  if (eof_) return false;
  std::size_t want = buf_.size();
  if (limit_ != 0) {
    if (bytes_ >= limit_) {
      limit_reached_ = true;
      return false;
    }
    want = static_cast<std::size_t>(std::min<std::uint64_t>(want, limit_ - bytes_));
  }
  // read(), not the buffer's sgetn(): a read error (EISDIR) sets badbit instead of throwing.
  // A short count is the end of the input (read() waits for the rest on a pipe).
  in_.read(buf_.data(), static_cast<std::streamsize>(want));
  const std::streamsize n = in_.gcount();
  if (n <= 0) {
    eof_ = true;
    return false;
  }
  pos_ = 0;
  end_ = static_cast<std::size_t>(n);
  return true;
}

bool LineReader::next(std::string& line) {
  line.clear();
  cut_ = false;
  bool any = false;  // a line without a final '\n' still counts
  for (;;) {
    if (pos_ == end_ && !fill()) break;
    any = true;
    const char* from = buf_.data() + pos_;
    const std::size_t avail = end_ - pos_;
    const void* nl = std::memchr(from, '\n', avail);
    const std::size_t len =
        nl ? static_cast<std::size_t>(static_cast<const char*>(nl) - from) : avail;
    const std::size_t room = max_line_ - std::min(max_line_, line.size());
    if (len > room) cut_ = true;
    line.append(from, std::min(len, room));
    const std::size_t used = nl ? len + 1 : len;
    pos_ += used;
    bytes_ += used;
    if (nl) break;
  }
  if (!line.empty() && line.back() == '\r' && !cut_) line.pop_back();
  // At the limit inside a line, that line is not complete: it is not returned.
  return any && !limit_reached_;
}

}  // namespace kvmscope::util
