#include "store/reader.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
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

util::Result<Reader> Reader::from_fd(util::Fd fd, const std::string& name,
                                     std::span<const std::uint8_t> prefix) {
  Reader r(std::move(fd), name);
  struct stat st {};
  if (fstat(r.fd_.get(), &st) == 0 && S_ISREG(st.st_mode))
    r.file_size_ = static_cast<std::uint64_t>(st.st_size);
  r.buf_.resize(prefix.size() + kDecodePadding);
  std::copy(prefix.begin(), prefix.end(), r.buf_.begin());
  r.len_ = prefix.size();
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
        const int err = errno;
        return util::os_error("read " + name_, err);
      }
      if (got == 0) eof_ = true;
      len_ += static_cast<std::size_t>(got);
    }
  }
  return std::min(len_ - pos_, n);
}

void Reader::stop(const std::string& why) {
  done_ = true;
  stop_offset_ = base_ + pos_;
  detail_ = why + "; " + std::to_string(events_read_) + " events before it were read";
}

std::uint64_t Reader::lost_total() const {
  return totals_ && totals_->lost > lost_total_ ? totals_->lost : lost_total_;
}

void Reader::damaged(std::uint64_t offset, std::uint64_t end, const BlockHeader* h,
                     std::string reason, std::uint64_t delivered) {
  model::DamagedRange d;
  d.offset = offset;
  d.end = end;
  if (block_numbers_known_) d.block = blocks_passed_ + 1;
  d.reason = std::move(reason);
  std::uint64_t unknown_bytes = 0;
  if (h) {  // its header checked: the block's own count is the loss
    d.block_type = block_type_name(h->type);
    const bool events = h->type == static_cast<std::uint8_t>(BlockType::events);
    d.events = events && h->count > delivered ? h->count - delivered : 0;
    d.exact = true;
    ++blocks_passed_;
  } else {  // blocks of unknown number and kind: estimated at the end
    unknown_bytes = end - offset;
    block_numbers_known_ = false;
  }
  if (damage_.size() < kMaxDamagedRanges) {
    damage_.push_back(std::move(d));
    unknown_bytes_.push_back(unknown_bytes);
    return;
  }
  // Merged into the last: its exact count grows, and so do the bytes its estimate is made of.
  model::DamagedRange& last = damage_.back();
  last.end = d.end;
  last.reason = "several damaged stretches";
  last.block_type.clear();
  if (d.exact) last.events = last.events.value_or(0) + *d.events;
  unknown_bytes_.back() += unknown_bytes;
  if (unknown_bytes > 0) last.exact = false;
}

util::Result<void> Reader::resync() {
  // A block header is 40 bytes whose last 4 are the CRC of the first 36: a random match is a
  // 1 in 2^32 chance per offset, and its limits must hold too.
  for (++pos_;; ++pos_) {
    auto have = ensure(kBlockHeaderSize);
    if (!have) return have.error();
    if (*have < kBlockHeaderSize) {  // none before the end: the rest is damage
      pos_ += *have;
      return {};
    }
    const std::span<const std::uint8_t, kBlockHeaderSize> header(cur(), kBlockHeaderSize);
    BlockHeader h;
    if (block_header_crc_ok(header) && decode_block_header(header, h).ok()) return {};
  }
}

void Reader::count_damage() {
  lost_to_damage_ = 0;
  lost_to_damage_exact_ = true;
  if (damage_.empty()) return;
  // Stretches of unknown blocks: as many events per byte as the intact events blocks hold,
  // added to what their blocks with intact headers (merged in) said exactly.
  std::uint64_t exact_sum = 0;
  std::size_t estimated = 0, last_estimated = 0;
  for (std::size_t i = 0; i < damage_.size(); ++i) {
    model::DamagedRange& d = damage_[i];
    exact_sum += d.events.value_or(0);
    if (unknown_bytes_[i] == 0) continue;
    ++estimated;
    last_estimated = i;
    if (intact_event_bytes_ == 0) {
      d.events.reset();  // nothing to estimate from
      continue;
    }
    d.events = d.events.value_or(0) +
               static_cast<std::uint64_t>(std::round(static_cast<double>(unknown_bytes_[i]) *
                                                     static_cast<double>(intact_events_) /
                                                     static_cast<double>(intact_event_bytes_)));
  }
  // The trailer counts every event written: what was not read is what the damage cost.
  if (trailer_agrees_ && totals_->events - events_read_ >= exact_sum) {
    lost_to_damage_ = totals_->events - events_read_;
    if (estimated == 1) {        // the one estimate is the rest, exactly
      std::uint64_t others = 0;  // all exact
      for (std::size_t i = 0; i < damage_.size(); ++i)
        if (i != last_estimated) others += damage_[i].events.value_or(0);
      damage_[last_estimated].events = lost_to_damage_ - others;
      damage_[last_estimated].exact = true;
    }
    return;
  }
  for (const model::DamagedRange& d : damage_) {
    lost_to_damage_ += d.events.value_or(0);
    if (!d.exact) lost_to_damage_exact_ = false;
  }
}

util::Result<std::span<const std::uint8_t>> Reader::raw_payload(
    std::uint8_t flags, std::span<const std::uint8_t> stored, std::uint32_t raw_len) {
  if ((flags & kFlagZstd) == 0) return stored;  // followed by buf_'s padding
  raw_.resize(static_cast<std::size_t>(raw_len) + kDecodePadding);
  if (auto done = zstd_->decompress(stored, raw_.data(), raw_len); !done) return done.error();
  return std::span<const std::uint8_t>(raw_.data(), raw_len);
}

util::Result<void> Reader::apply_side_block(std::uint8_t type, std::span<const std::uint8_t> raw,
                                            std::uint32_t count) {
  switch (static_cast<BlockType>(type)) {
    case BlockType::lost: {
      std::vector<std::pair<std::uint32_t, std::uint64_t>> got;
      if (auto decoded = decode_lost(raw, count, got); !decoded) return decoded;
      for (const auto& [cpu, n] : got) {
        if (!lost_.contains(cpu) && lost_.size() >= kMaxLostCpus)
          return util::plain_error("lost counts for more than " + std::to_string(kMaxLostCpus) +
                                   " CPUs");
        lost_[cpu] += n;
        lost_total_ += n;
      }
      return {};
    }
    case BlockType::vm: {
      std::vector<VmEntry> got;
      if (auto decoded = decode_vms(raw, count, got); !decoded) return decoded;
      for (auto& e : got) {
        if (!vms_.contains(e.pid) && vms_.size() >= kMaxVms)
          return util::plain_error("more than " + std::to_string(kMaxVms) + " VMs");
        vms_[e.pid] = std::move(e.meta);
      }
      return {};
    }
    case BlockType::marker: {
      if (markers_.size() + count > kMaxMarkers)
        return util::plain_error("more than " + std::to_string(kMaxMarkers) + " markers");
      return decode_markers(raw, count, markers_);
    }
    default:
      return {};
  }
}

std::span<const ks_event> Reader::next_batch() {
  const std::uint32_t n = std::min(decoder_->left(), kReadBatch);
  if (events_.size() < n) events_.resize(kReadBatch);
  if (auto decoded = decoder_->decode(events_.data(), n); !decoded) {
    const std::string& err = decoded.error().context;
    // The block's earlier batches were delivered already; the rest of it is lost.
    decoder_->abandon();
    intact_events_ -= block_count_;
    intact_event_bytes_ -= block_end_ - block_offset_;
    BlockHeader h;
    h.type = static_cast<std::uint8_t>(BlockType::events);
    h.count = block_count_;
    --blocks_read_;    // counted when it started: it is damaged, not read
    --blocks_passed_;  // damaged() counts it again
    damaged(block_offset_, block_end_, &h, err, block_delivered_);
    return {};
  }
  events_read_ += n;
  block_delivered_ += n;
  return {events_.data(), n};
}

util::Result<std::span<const ks_event>> Reader::next() {
  if (!done_ && decoder_->left() > 0) {
    if (auto batch = next_batch(); !batch.empty()) return batch;
  }
  while (!done_) {
    auto have = ensure(kBlockHeaderSize);
    if (!have) {
      stop("read error at byte " + std::to_string(base_ + pos_));
      return have.error();
    }
    // Messages are built only when needed: this loop runs once per block.
    const std::uint64_t offset = base_ + pos_;
    auto at = [offset] { return " at byte " + std::to_string(offset); };
    if (*have == 0) {
      stop("no end block" + at() + ": the recording was cut short (not finished)");
      break;
    }
    if (*have < kBlockHeaderSize) {
      stop("cut short" + at() + ": block header incomplete (" + std::to_string(*have) + " of " +
           std::to_string(kBlockHeaderSize) + " bytes)");
      break;
    }
    BlockHeader h;
    if (auto header = decode_block_header(
            std::span<const std::uint8_t, kBlockHeaderSize>(cur(), kBlockHeaderSize), h);
        !header) {
      const std::string& err = header.error().context;
      // Its length cannot be trusted: the next block is wherever a valid header is.
      if (auto found = resync(); !found) {
        stop("read error at byte " + std::to_string(base_ + pos_));
        return found.error();
      }
      damaged(offset, base_ + pos_, nullptr, err);
      continue;
    }
    auto what = [&] { return std::string(block_type_name(h.type)) + " block" + at(); };
    const std::size_t whole = kBlockHeaderSize + h.stored_len;
    have = ensure(whole);
    if (!have) {
      stop("read error in " + what());
      return have.error();
    }
    if (*have < whole) {
      stop("cut short in " + what() + ": " + std::to_string(*have - kBlockHeaderSize) + " of " +
           std::to_string(h.stored_len) + " payload bytes present");
      break;
    }
    // A damaged block whose header checked: skipped whole, its length is right.
    auto skip_damaged = [&](std::string why) {
      damaged(offset, offset + whole, &h, std::move(why));
      pos_ += whole;
    };
    const std::span<const std::uint8_t> stored(cur() + kBlockHeaderSize, h.stored_len);
    if (!crc_matches(crc32c(stored), h.payload_crc)) {
      skip_damaged("payload CRC mismatch");
      continue;
    }
    const bool known = h.type >= static_cast<std::uint8_t>(BlockType::events) &&
                       h.type <= static_cast<std::uint8_t>(BlockType::end);
    if (!known) {  // a block type from a later minor version: skipped whole
      ++blocks_skipped_;
      ++blocks_read_;
      ++blocks_passed_;
      pos_ += whole;
      continue;
    }
    if (h.flags & ~kKnownFlags) {
      skip_damaged("unknown encoding flags " + std::to_string(h.flags));
      continue;
    }
    auto raw = raw_payload(h.flags, stored, h.raw_len);
    if (!raw) {
      skip_damaged(raw.error().context);
      continue;
    }
    if (h.type == static_cast<std::uint8_t>(BlockType::events)) {
      if (auto started = decoder_->start(raw->data(), raw->size(), h.count, h.first_ts); !started) {
        skip_damaged(started.error().context);
        continue;
      }
      // The payload stays where it is (buf_ or raw_) until the block is drained: nothing
      // reads the file again before that.
      block_offset_ = offset;
      block_end_ = offset + whole;
      block_count_ = h.count;
      block_delivered_ = 0;
      intact_events_ += h.count;
      intact_event_bytes_ += whole;
      pos_ += whole;
      ++blocks_read_;
      ++blocks_passed_;
      if (auto batch = next_batch(); !batch.empty()) return batch;
      continue;  // an empty block, or one found damaged (noted)
    }
    if (h.type == static_cast<std::uint8_t>(BlockType::end)) {
      Totals t;
      if (auto decoded = decode_totals(*raw, t); !decoded) {
        skip_damaged(decoded.error().context);
        continue;
      }
      // With blocks skipped as damaged, the trailer counts more than was read, never less.
      const bool had_damage = !damage_.empty();
      const bool agrees =
          !had_damage
              ? t.events == events_read_ && t.blocks == blocks_read_ && t.lost == lost_total_
              : t.events >= events_read_ && t.blocks >= blocks_read_ && t.lost >= lost_total_;
      if (!agrees) {
        damaged(offset, offset + whole, &h,
                "it counts " + std::to_string(t.events) + " events, " + std::to_string(t.blocks) +
                    " blocks and " + std::to_string(t.lost) + " lost, but the file holds " +
                    std::to_string(events_read_) + ", " + std::to_string(blocks_read_) + " and " +
                    std::to_string(lost_total_));
        // Without other damage, blocks went missing without a trace (cut out whole): the
        // trailer still says how many events they held.
        damage_.back().events =
            !had_damage && t.events > events_read_ ? t.events - events_read_ : 0;
      }
      pos_ += whole;
      totals_ = t;
      trailer_agrees_ = agrees;
      complete_ = true;
      done_ = true;
      stop_offset_ = base_ + pos_;
      break;
    }
    if (auto applied = apply_side_block(h.type, *raw, h.count); !applied) {
      skip_damaged(applied.error().context);
      continue;
    }
    pos_ += whole;
    ++blocks_read_;
    ++blocks_passed_;
  }
  if (done_) count_damage();
  return std::span<const ks_event>();
}

}  // namespace kvmscope::store
