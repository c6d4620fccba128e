#include "store/reader.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "store/block.h"
#include "store/crc32c.h"
#include "store/event_codec.h"
#include "store/file_header.h"
#include "store/format.h"
#include "store/side_records.h"
#include "store/zstd_codec.h"

namespace kvmscope::store {
namespace {

// Reads are made in chunks of at least this, so files of many small blocks cost few syscalls.
constexpr std::size_t kReadChunk = 256 * 1024;

}  // namespace

Reader::Reader(util::Fd fd, std::string name)
    : fd_(std::move(fd)),
      name_(std::move(name)),
      zstd_(std::make_unique<Decompressor>()),
      decoder_(std::make_unique<EventDecoder>()) {}
Reader::Reader(Reader&&) noexcept = default;
Reader& Reader::operator=(Reader&&) noexcept = default;
Reader::~Reader() = default;

util::Result<Reader> Reader::open(const std::string& path) {
  auto fd = util::Fd::open(path, O_RDONLY);
  if (!fd) return fd.error();
  return from_fd(std::move(*fd), path);
}

util::Result<Reader> Reader::from_fd(util::Fd fd, const std::string& name) {
  Reader r(std::move(fd), name);
  struct stat st {};
  if (fstat(r.fd_.get(), &st) == 0 && S_ISREG(st.st_mode))
    r.file_size_ = static_cast<std::uint64_t>(st.st_size);
  auto have = r.ensure(kFileHeaderFixed);
  if (!have) return have.error();
  auto len = check_file_prefix({r.cur(), *have}, name);
  if (!len) return len.error();
  have = r.ensure(*len);
  if (!have) return have.error();
  if (*have < *len)
    return util::plain_error(name + ": kvmscope recording cut short inside its header");
  auto info = decode_file_header({r.cur(), *len}, name);
  if (!info) return info.error();
  r.info_ = std::move(*info);
  r.pos_ += *len;
  return r;
}

util::Result<std::size_t> Reader::ensure(std::size_t n) {
  if (len_ - pos_ < n && !eof_) {
    if (pos_ > 0) {  // keep only the unread bytes, at the front
      std::memmove(buf_.data(), buf_.data() + pos_, len_ - pos_);
      base_ += pos_;
      len_ -= pos_;
      pos_ = 0;
    }
    // A small file gets a small buffer (the file can still grow: later reads enlarge it).
    std::size_t chunk = kReadChunk;
    if (file_size_ > base_ && file_size_ - base_ < chunk)
      chunk = static_cast<std::size_t>(file_size_ - base_);
    const std::size_t cap = std::max(n, chunk);
    if (buf_.size() < cap + kDecodePadding) buf_.resize(cap + kDecodePadding);
    while (len_ < n && !eof_) {
      ssize_t got = ::read(fd_.get(), buf_.data() + len_, buf_.size() - kDecodePadding - len_);
      if (got < 0) {
        if (errno == EINTR) continue;
        return util::os_error("read " + name_);
      }
      if (got == 0) eof_ = true;
      len_ += static_cast<std::size_t>(got);
    }
  }
  return std::min(len_ - pos_, n);
}

void Reader::stop(bool corrupt, const std::string& why) {
  done_ = true;
  corrupt_ = corrupt;
  stop_offset_ = base_ + pos_;
  detail_ = why + "; " + std::to_string(events_read_) + " events before it were read";
}

util::Result<std::span<const std::uint8_t>> Reader::raw_payload(
    std::uint8_t flags, std::span<const std::uint8_t> stored, std::uint32_t raw_len) {
  if ((flags & kFlagZstd) == 0) return stored;  // followed by buf_'s padding
  raw_.resize(static_cast<std::size_t>(raw_len) + kDecodePadding);
  std::string err = zstd_->decompress(stored, raw_.data(), raw_len);
  if (!err.empty()) return util::plain_error(err);
  return std::span<const std::uint8_t>(raw_.data(), raw_len);
}

std::string Reader::apply_side_block(std::uint8_t type, std::span<const std::uint8_t> raw,
                                     std::uint32_t count) {
  switch (static_cast<BlockType>(type)) {
    case BlockType::lost: {
      std::vector<std::pair<std::uint32_t, std::uint64_t>> got;
      if (auto err = decode_lost(raw, count, got); !err.empty()) return err;
      for (const auto& [cpu, n] : got) {
        if (!lost_.contains(cpu) && lost_.size() >= kMaxLostCpus)
          return "lost counts for more than " + std::to_string(kMaxLostCpus) + " CPUs";
        lost_[cpu] += n;
        lost_total_ += n;
      }
      return {};
    }
    case BlockType::vm: {
      std::vector<VmEntry> got;
      if (auto err = decode_vms(raw, count, got); !err.empty()) return err;
      for (auto& e : got) {
        if (!vms_.contains(e.pid) && vms_.size() >= kMaxVms)
          return "more than " + std::to_string(kMaxVms) + " VMs";
        vms_[e.pid] = std::move(e.meta);
      }
      return {};
    }
    case BlockType::marker: {
      if (markers_.size() + count > kMaxMarkers)
        return "more than " + std::to_string(kMaxMarkers) + " markers";
      return decode_markers(raw, count, markers_);
    }
    default:
      return {};
  }
}

std::span<const ks_event> Reader::next_batch() {
  const std::uint32_t n = std::min(decoder_->left(), kReadBatch);
  if (events_.size() < n) events_.resize(kReadBatch);
  if (auto err = decoder_->decode(events_.data(), n); !err.empty()) {
    stop(true, "corrupt events block at byte " + std::to_string(block_offset_) + ": " + err);
    stop_offset_ = block_offset_;  // the block's earlier batches were delivered already
    return {};
  }
  events_read_ += n;
  return {events_.data(), n};
}

util::Result<std::span<const ks_event>> Reader::next() {
  if (!done_ && decoder_->left() > 0) {
    if (auto batch = next_batch(); !batch.empty()) return batch;
  }
  while (!done_) {
    auto have = ensure(kBlockHeaderSize);
    if (!have) {
      stop(false, "read error at byte " + std::to_string(base_ + pos_));
      return have.error();
    }
    // Messages are built only when needed: this loop runs once per block.
    const std::uint64_t offset = base_ + pos_;
    auto at = [offset] { return " at byte " + std::to_string(offset); };
    if (*have == 0) {
      stop(false, "no end block" + at() + ": the recording was cut short (not finished)");
      break;
    }
    if (*have < kBlockHeaderSize) {
      stop(false, "cut short" + at() + ": block header incomplete (" + std::to_string(*have) +
                      " of " + std::to_string(kBlockHeaderSize) + " bytes)");
      break;
    }
    BlockHeader h;
    if (auto err = decode_block_header(
            std::span<const std::uint8_t, kBlockHeaderSize>(cur(), kBlockHeaderSize), h);
        !err.empty()) {
      stop(true, "corrupt block" + at() + ": " + err);
      break;
    }
    auto what = [&] { return std::string(block_type_name(h.type)) + " block" + at(); };
    const std::size_t whole = kBlockHeaderSize + h.stored_len;
    have = ensure(whole);
    if (!have) {
      stop(false, "read error in " + what());
      return have.error();
    }
    if (*have < whole) {
      stop(false, "cut short in " + what() + ": " + std::to_string(*have - kBlockHeaderSize) +
                      " of " + std::to_string(h.stored_len) + " payload bytes present");
      break;
    }
    const std::span<const std::uint8_t> stored(cur() + kBlockHeaderSize, h.stored_len);
    if (!crc_matches(crc32c(stored), h.payload_crc)) {
      stop(true, "corrupt " + what() + ": payload CRC mismatch");
      break;
    }
    const bool known = h.type >= static_cast<std::uint8_t>(BlockType::events) &&
                       h.type <= static_cast<std::uint8_t>(BlockType::end);
    if (!known) {  // a block type from a later minor version: skipped whole
      ++blocks_skipped_;
      ++blocks_read_;
      pos_ += whole;
      continue;
    }
    if (h.flags & ~kKnownFlags) {
      stop(true, "corrupt " + what() + ": unknown encoding flags " + std::to_string(h.flags));
      break;
    }
    auto raw = raw_payload(h.flags, stored, h.raw_len);
    if (!raw) {
      stop(true, "corrupt " + what() + ": " + raw.error().context);
      break;
    }
    if (h.type == static_cast<std::uint8_t>(BlockType::events)) {
      // The payload stays where it is (buf_ or raw_) until the block is drained: nothing
      // reads the file again before that.
      block_offset_ = base_ + pos_;
      if (auto err = decoder_->start(raw->data(), raw->size(), h.count, h.first_ts); !err.empty()) {
        stop(true, "corrupt " + what() + ": " + err);
        break;
      }
      pos_ += whole;
      ++blocks_read_;
      if (auto batch = next_batch(); !batch.empty()) return batch;
      continue;  // an empty block (or one found bad: done_ is set then)
    }
    if (h.type == static_cast<std::uint8_t>(BlockType::end)) {
      Totals t;
      if (auto err = decode_totals(*raw, t); !err.empty()) {
        stop(true, "corrupt " + what() + ": " + err);
        break;
      }
      if (t.events != events_read_ || t.blocks != blocks_read_ || t.lost != lost_total_) {
        stop(true, "corrupt " + what() + ": it counts " + std::to_string(t.events) + " events, " +
                       std::to_string(t.blocks) + " blocks and " + std::to_string(t.lost) +
                       " lost, but the file holds " + std::to_string(events_read_) + ", " +
                       std::to_string(blocks_read_) + " and " + std::to_string(lost_total_));
        break;
      }
      pos_ += whole;
      totals_ = t;
      complete_ = true;
      done_ = true;
      stop_offset_ = base_ + pos_;
      break;
    }
    if (auto err = apply_side_block(h.type, *raw, h.count); !err.empty()) {
      stop(true, "corrupt " + what() + ": " + err);
      break;
    }
    pos_ += whole;
    ++blocks_read_;
  }
  return std::span<const ks_event>();
}

}  // namespace kvmscope::store
