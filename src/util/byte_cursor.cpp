#include "util/byte_cursor.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace kvmscope::util {

void ByteCursor::fail(const std::string& why) {
  if (why_.empty()) why_ = why;
}

bool ByteCursor::read_raw(void* out, std::uint64_t n) {
  if (failed()) return false;
  if (n > end_ - pos_) {
    fail("cut short at byte " + std::to_string(pos_) + " (" + std::to_string(n) +
         " bytes needed, " + std::to_string(end_ - pos_) + " left)");
    return false;
  }
  if (in_memory_) {
    if (n > 0) std::memcpy(out, mem_.data() + pos_, n);
  } else {
    auto* p = static_cast<std::uint8_t*>(out);
    std::uint64_t done = 0;
    while (done < n) {
      ssize_t got = ::pread(fd_, p + done, n - done, static_cast<off_t>(pos_ + done));
      if (got < 0 && errno == EINTR) continue;
      if (got < 0) {
        const int err = errno;  // before the message is built: that may change errno
        fail(std::string("read at byte ") + std::to_string(pos_ + done) + ": " +
             std::strerror(err));
        return false;
      }
      if (got == 0) {  // the file shrank under us
        fail("cut short at byte " + std::to_string(pos_ + done));
        return false;
      }
      done += static_cast<std::uint64_t>(got);
    }
  }
  pos_ += n;
  return true;
}

std::uint64_t ByteCursor::number(int n) {
  std::uint8_t b[8] = {};
  if (!read_raw(b, static_cast<std::uint64_t>(n))) return 0;
  std::uint64_t v = 0;
  for (int i = 0; i < n; ++i) {
    const int shift = big_endian_ ? 8 * (n - 1 - i) : 8 * i;
    v |= static_cast<std::uint64_t>(b[i]) << shift;
  }
  return v;
}

std::string ByteCursor::cstring(std::size_t max_len) {
  std::string s;
  for (;;) {
    char c = 0;
    if (!read_raw(&c, 1)) return {};
    if (c == '\0') return s;
    if (s.size() >= max_len) {
      fail("string longer than " + std::to_string(max_len) + " bytes at byte " +
           std::to_string(pos_));
      return {};
    }
    s.push_back(c);
  }
}

std::vector<std::uint8_t> ByteCursor::bytes(std::uint64_t n) {
  if (failed() || n > end_ - pos_) {
    read_raw(nullptr, n);  // records the reason
    return {};
  }
  std::vector<std::uint8_t> out(n);
  if (!read_raw(out.data(), n)) return {};
  return out;
}

std::span<const std::uint8_t> ByteCursor::view(std::uint64_t n) {
  if (!in_memory_) {
    fail("view of a file cursor");
    return {};
  }
  const std::uint64_t at = pos_;
  skip(n);
  return failed() ? std::span<const std::uint8_t>{} : mem_.subspan(at, n);
}

std::string ByteCursor::text(std::uint64_t n) {
  if (failed() || n > end_ - pos_) {
    read_raw(nullptr, n);
    return {};
  }
  std::string out(n, '\0');
  if (!read_raw(out.data(), n)) return {};
  return out;
}

void ByteCursor::skip(std::uint64_t n) {
  if (failed()) return;
  if (n > end_ - pos_) {
    read_raw(nullptr, n);
    return;
  }
  pos_ += n;
}

void ByteCursor::seek(std::uint64_t pos) {
  if (failed()) return;
  if (pos > end_) {
    fail("offset " + std::to_string(pos) + " is past the end (" + std::to_string(end_) + " bytes)");
    return;
  }
  pos_ = pos;
}

}  // namespace kvmscope::util
