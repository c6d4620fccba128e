#include "tracedat/tracedat_pages.h"

#include <zstd.h>

#include <algorithm>

#include "util/byte_cursor.h"

namespace kvmscope::tracedat {
namespace {

constexpr std::uint64_t kMissedEvents = 1ull << 31;
constexpr std::uint64_t kMissedStored = 1ull << 30;
constexpr std::uint64_t kCommitMask = (1ull << 27) - 1;
constexpr std::uint64_t kTsMsb = 0xf8ull << 56;  // an absolute time stamp lacks these bits
constexpr unsigned kTsShift = 27;
constexpr unsigned kTypePadding = 29;
constexpr unsigned kTypeTimeExtend = 30;
constexpr unsigned kTypeTimeStamp = 31;
constexpr std::uint32_t kMaxChunk = 64u << 20;  // a decompressed chunk

}  // namespace

TdCpuStream::TdCpuStream(int fd, std::uint64_t file_size, const TraceDatMeta& meta,
                         const TraceDatBuffer& buffer, const TraceDatCpuData& where)
    : fd_(fd),
      file_size_(file_size),
      cpu_(where.cpu),
      page_size_(buffer.page_size != 0 ? buffer.page_size : meta.page_size),
      commit_size_(meta.commit_size),
      big_endian_(meta.big_endian),
      compressed_(buffer.compressed),
      pos_(where.offset),
      end_(where.offset + where.size) {
  // Compressed data runs a few bytes past its recorded size (trace-cmd 3.1 does not count the
  // chunk count): chunks are bounded by the file instead.
  if (compressed_) end_ = file_size_;
  if (where.cut) {
    file_cut_ = true;
    damage_ = "the file ends inside CPU " + std::to_string(cpu_) + "'s data";
  }
}

void TdCpuStream::stop(const std::string& why) {
  done_ = true;
  have_page_ = false;
  if (damage_.empty()) damage_ = why;
}

std::uint32_t TdCpuStream::u32_at(std::size_t pos) const {
  std::uint32_t v = 0;
  for (int i = 0; i < 4; ++i)
    v |= static_cast<std::uint32_t>(page_[pos + i]) << (big_endian_ ? 8 * (3 - i) : 8 * i);
  return v;
}

std::uint64_t TdCpuStream::long_at(std::size_t pos) const {
  const unsigned n = commit_size_;
  std::uint64_t v = 0;
  for (unsigned i = 0; i < n; ++i)
    v |= static_cast<std::uint64_t>(page_[pos + i]) << (big_endian_ ? 8 * (n - 1 - i) : 8 * i);
  return v;
}

bool TdCpuStream::load_chunk() {
  util::ByteCursor c(fd_, pos_, file_size_);
  c.set_big_endian(big_endian_);
  if (!chunks_started_) {
    chunks_started_ = true;
    chunks_left_ = c.u32();
  }
  if (c.failed()) {
    stop("CPU " + std::to_string(cpu_) + ": " + c.why());
    return false;
  }
  if (chunks_left_ == 0) {
    done_ = true;
    return false;
  }
  const std::uint32_t packed = c.u32();
  const std::uint32_t plain = c.u32();
  if (!c.failed() && packed > kMaxChunk) {
    stop("CPU " + std::to_string(cpu_) + ": bad chunk size " + std::to_string(packed));
    return false;
  }
  auto in = c.bytes(packed);
  if (c.failed()) {
    stop("CPU " + std::to_string(cpu_) + ": compressed chunk " + c.why());
    return false;
  }
  if (plain > kMaxChunk || plain % page_size_ != 0) {
    stop("CPU " + std::to_string(cpu_) + ": bad chunk size " + std::to_string(plain));
    return false;
  }
  chunk_.resize(plain);
  const std::size_t got = ZSTD_decompress(chunk_.data(), plain, in.data(), in.size());
  if (ZSTD_isError(got) || got != plain) {
    stop("CPU " + std::to_string(cpu_) + ": damaged compressed chunk at byte " +
         std::to_string(pos_));
    return false;
  }
  pos_ = c.pos();
  chunk_pos_ = 0;
  --chunks_left_;
  return true;
}

bool TdCpuStream::load_page() {
  have_page_ = false;
  while (!done_) {
    if (compressed_) {
      if (chunk_pos_ >= chunk_.size() && !load_chunk()) return false;
      page_ = std::span<const std::uint8_t>(chunk_).subspan(chunk_pos_, page_size_);
      chunk_pos_ += page_size_;
    } else {
      if (pos_ >= end_) {
        done_ = true;
        return false;
      }
      // A last partial page (a cut file) is read as far as it goes.
      const std::uint64_t n = std::min<std::uint64_t>(page_size_, end_ - pos_);
      util::ByteCursor c(fd_, pos_, file_size_);
      page_storage_ = c.bytes(n);
      if (c.failed()) {
        stop("CPU " + std::to_string(cpu_) + ": " + c.why());
        return false;
      }
      page_ = page_storage_;  // shorter than a page only where the file was cut
      pos_ += n;
    }
    // Page header: timestamp, commit (size and lost-events flags), then the data.
    const std::size_t header = 8 + commit_size_;
    if (page_.size() < header) continue;
    ts_ = 0;
    for (int i = 0; i < 8; ++i)
      ts_ |= static_cast<std::uint64_t>(page_[i]) << (big_endian_ ? 8 * (7 - i) : 8 * i);
    const std::uint64_t commit = long_at(8);
    const std::uint64_t size = commit & kCommitMask;
    data_start_ = header;
    data_end_ = header + size;
    page_bad_ = false;
    if (data_end_ > page_.size()) {  // damaged: read what fits
      bad_page();
      data_end_ = page_.size();
    }
    page_missed_ = 0;
    if (commit & kMissedEvents) {
      page_missed_ = TdRecord::kUnknown;
      if ((commit & kMissedStored) && data_end_ + commit_size_ <= page_.size())
        page_missed_ = long_at(data_end_);
    }
    at_ = data_start_;
    have_page_ = true;
    return true;
  }
  return false;
}

void TdCpuStream::bad_page() {
  if (!page_bad_) ++bad_pages_;
  page_bad_ = true;
}

bool TdCpuStream::next_in_page(TdRecord& out) {
  while (at_ + 4 <= data_end_) {
    const std::uint32_t word = u32_at(at_);
    const unsigned type_len = big_endian_ ? (word >> 27) & 0x1f : word & 0x1f;
    const std::uint64_t delta = big_endian_ ? word & ((1u << 27) - 1) : word >> 5;
    const std::size_t body = at_ + 4;
    switch (type_len) {
      case kTypePadding: {
        if (body + 4 > data_end_) {
          at_ = data_end_;
          break;
        }
        ts_ += delta;  // as kbuffer does
        at_ = body + u32_at(body);
        if (at_ <= body) at_ = data_end_;  // a padding that does not advance: damage
        break;
      }
      case kTypeTimeExtend:
      case kTypeTimeStamp: {
        if (body + 4 > data_end_) {
          bad_page();
          at_ = data_end_;
          break;
        }
        const std::uint64_t extend = (static_cast<std::uint64_t>(u32_at(body)) << kTsShift) + delta;
        if (type_len == kTypeTimeStamp)
          ts_ = extend | (ts_ & kTsMsb);
        else
          ts_ += extend;
        at_ = body + 4;
        break;
      }
      default: {
        std::size_t start = body;
        std::uint64_t len = 4ull * type_len;
        if (type_len == 0) {
          if (body + 4 > data_end_) {
            bad_page();
            at_ = data_end_;
            break;
          }
          const std::uint32_t stored = u32_at(body);
          if (stored < 4) {
            bad_page();
            at_ = data_end_;
            break;
          }
          len = (static_cast<std::uint64_t>(stored) - 4 + 3) & ~3ull;
          start = body + 4;
        }
        if (start + len > data_end_) {
          bad_page();
          at_ = data_end_;
          break;
        }
        ts_ += delta;
        out.ts = ts_;
        out.data = page_.subspan(start, len);
        out.missed = page_missed_;
        page_missed_ = 0;
        at_ = start + len;
        return true;
      }
    }
  }
  return false;
}

bool TdCpuStream::next(TdRecord& out) {
  for (;;) {
    if (have_page_ && next_in_page(out)) return true;
    if (!load_page()) return false;
  }
}

}  // namespace kvmscope::tracedat
