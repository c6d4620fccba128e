#include "perfdata/perf_records.h"

#include <unistd.h>
#include <zstd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "perfdata/perf_format.h"

namespace kvmscope::perfdata {
namespace {

constexpr std::uint64_t kChunk = 1u << 20;             // bytes read at a time
constexpr std::uint64_t kMaxTracingData = 256u << 20;  // a pipe's tracing data
constexpr std::size_t kMaxInflated = 64u << 20;        // records of one compressed record
constexpr std::size_t kInflateStep = 256u << 10;

std::uint64_t le(std::span<const std::uint8_t> b, std::size_t at, int n) {
  std::uint64_t v = 0;
  for (int i = 0; i < n; ++i) v |= static_cast<std::uint64_t>(b[at + i]) << (8 * i);
  return v;
}

std::string at_byte(std::uint64_t pos) {
  return "at byte " + std::to_string(pos);
}

}  // namespace

struct PerfRecordStream::Zstd {
  ZSTD_DCtx* dctx = ZSTD_createDCtx();
  ~Zstd() { ZSTD_freeDCtx(dctx); }
  Zstd() = default;
  Zstd(const Zstd&) = delete;
  Zstd& operator=(const Zstd&) = delete;
};

PerfRecordStream::PerfRecordStream(int fd, std::uint64_t begin, std::uint64_t end,
                                   std::uint64_t file_size)
    : fd_(fd), pos_(begin), end_(end), file_size_(file_size) {}
PerfRecordStream::PerfRecordStream(PerfRecordStream&&) noexcept = default;
PerfRecordStream& PerfRecordStream::operator=(PerfRecordStream&&) noexcept = default;
PerfRecordStream::~PerfRecordStream() = default;

void PerfRecordStream::stop(bool cut, const std::string& why) {
  done_ = true;
  (cut ? cut_ : damaged_) = true;
  why_ = why;
}

bool PerfRecordStream::fill(std::uint64_t pos, std::uint64_t n) {
  if (pos >= buf_at_ && pos - buf_at_ + n <= buf_.size()) return true;
  if (pos > file_size_ || n > file_size_ - pos) return false;
  const std::uint64_t want = std::min(std::max(n, kChunk), file_size_ - pos);
  buf_.resize(static_cast<std::size_t>(want));
  buf_at_ = pos;
  std::uint64_t done = 0;
  while (done < want) {
    const ssize_t got =
        ::pread(fd_, buf_.data() + done, want - done, static_cast<off_t>(pos + done));
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) {
      buf_.resize(static_cast<std::size_t>(done));
      return done >= n;
    }
    done += static_cast<std::uint64_t>(got);
  }
  return true;
}

bool PerfRecordStream::next_inflated(PerfRecord& out) {
  const std::size_t left = inflated_.size() - inflated_pos_;
  if (left < kRecordHeader) return false;
  std::span<const std::uint8_t> b(inflated_.data() + inflated_pos_, left);
  const auto size = static_cast<std::size_t>(le(b, 6, 2));
  if (size < kRecordHeader) {
    stop(false, "a record of size " + std::to_string(size) +
                    " in the compressed data of the record " + at_byte(inflated_from_));
    inflated_.clear();
    inflated_pos_ = 0;
    return false;
  }
  if (size > left) return false;  // its rest is in the next compressed record
  out.offset = inflated_from_;
  out.type = static_cast<std::uint32_t>(le(b, 0, 4));
  out.misc = static_cast<std::uint16_t>(le(b, 4, 2));
  out.body = b.subspan(kRecordHeader, size - kRecordHeader);
  out.extra = {};
  inflated_pos_ += size;
  return true;
}

bool PerfRecordStream::inflate(const PerfRecord& rec, std::span<const std::uint8_t> data) {
  ++compressed_;
  if (!zstd_) zstd_ = std::make_unique<Zstd>();
  if (zstd_->dctx == nullptr) {
    stop(false, "zstd: out of memory");
    return false;
  }
  inflated_.erase(inflated_.begin(),
                  inflated_.begin() + static_cast<std::ptrdiff_t>(inflated_pos_));
  inflated_pos_ = 0;
  inflated_from_ = rec.offset;
  ZSTD_inBuffer in{data.data(), data.size(), 0};
  for (;;) {
    const std::size_t have = inflated_.size();
    if (have + kInflateStep > kMaxInflated) {
      stop(false, "the compressed record " + at_byte(rec.offset) + " inflates past " +
                      std::to_string(kMaxInflated >> 20) + " MiB");
      return false;
    }
    inflated_.resize(have + kInflateStep);
    ZSTD_outBuffer out{inflated_.data() + have, kInflateStep, 0};
    const std::size_t r = ZSTD_decompressStream(zstd_->dctx, &out, &in);
    inflated_.resize(have + out.pos);
    if (ZSTD_isError(r)) {
      stop(false, "the compressed record " + at_byte(rec.offset) +
                      " does not inflate (zstd: " + ZSTD_getErrorName(r) + ")");
      return false;
    }
    if (in.pos == in.size && out.pos < out.size) return true;
  }
}

bool PerfRecordStream::next(PerfRecord& out) {
  for (;;) {
    if (next_inflated(out)) return true;
    if (done_) return false;
    if (pos_ >= end_) {
      done_ = true;
      if (inflated_pos_ < inflated_.size())
        stop(false,
             "the compressed data ends inside a record (record " + at_byte(inflated_from_) + ")");
      return false;
    }
    if (end_ - pos_ < kRecordHeader || !fill(pos_, kRecordHeader)) {
      const bool cut = pos_ + kRecordHeader > file_size_;
      stop(cut,
           cut ? "cut " + at_byte(file_size_) + " inside the header of a record " + at_byte(pos_)
               : "the data ends inside the header of a record " + at_byte(pos_));
      return false;
    }
    std::span<const std::uint8_t> head(buf_.data() + (pos_ - buf_at_), kRecordHeader);
    const std::uint32_t type = static_cast<std::uint32_t>(le(head, 0, 4));
    const auto misc = static_cast<std::uint16_t>(le(head, 4, 2));
    std::uint64_t size = le(head, 6, 2);
    if (size < kRecordHeader) {
      stop(false, "a record of size " + std::to_string(size) + " " + at_byte(pos_));
      return false;
    }
    std::uint64_t extra = 0;
    if (type == kRecordHeaderTracingData && size >= kRecordHeader + 4) {
      if (!fill(pos_, size)) {
        stop(true, "cut " + at_byte(file_size_) + " inside the record " + at_byte(pos_));
        return false;
      }
      extra = le({buf_.data() + (pos_ - buf_at_), static_cast<std::size_t>(size)}, 8, 4);
      if (extra > kMaxTracingData) {
        stop(false, "tracing data of " + std::to_string(extra) + " bytes " + at_byte(pos_));
        return false;
      }
    }
    const std::uint64_t total = size + extra;
    if (total > end_ - pos_ || !fill(pos_, total)) {
      // Past the file's end: a cut; inside the file but past the data section: damage.
      const bool cut = pos_ + total > file_size_;
      stop(cut, cut ? "cut " + at_byte(file_size_) + " inside the record " + at_byte(pos_) + " (" +
                          std::to_string(total) + " bytes)"
                    : "the record " + at_byte(pos_) + " (" + std::to_string(total) +
                          " bytes) runs past the end of the data");
      return false;
    }
    std::span<const std::uint8_t> rec(buf_.data() + (pos_ - buf_at_),
                                      static_cast<std::size_t>(total));
    out.offset = pos_;
    out.type = type;
    out.misc = misc;
    out.body = rec.subspan(kRecordHeader, static_cast<std::size_t>(size) - kRecordHeader);
    out.extra = rec.subspan(static_cast<std::size_t>(size));
    pos_ += total;
    if (type == kRecordCompressed || type == kRecordCompressed2) {
      std::span<const std::uint8_t> data = out.body;
      if (type == kRecordCompressed2) {  // u64 data size, then the data and its padding
        const std::uint64_t n = data.size() >= 8 ? le(data, 0, 8) : ~0ull;
        if (n > data.size() - 8) {
          stop(false, "the compressed record " + at_byte(out.offset) + " says " +
                          std::to_string(n) + " bytes");
          return false;
        }
        data = data.subspan(8, static_cast<std::size_t>(n));
      }
      if (!inflate(out, data)) return false;
      continue;
    }
    return true;
  }
}

}  // namespace kvmscope::perfdata
