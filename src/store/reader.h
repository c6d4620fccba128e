// Reads a recording back, one block in memory at a time whatever the file's length. Damage is
// not fatal: a corrupt block is skipped (the next block is found by its length, or by its header
// CRC where the length cannot be trusted) and listed in damage() with the events it cost; a file
// cut short ends the data there, with everything before it delivered, and truncated() /
// error_detail() say where and why.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "bpf/kvmscope_bpf.h"
#include "model/recording_damage.h"
#include "store/recording_info.h"
#include "util/fd.h"
#include "util/result.h"

namespace kvmscope::store {

struct BlockHeader;
class Decompressor;
class EventDecoder;

// Events handed out per next(): small enough (384 KiB) to stay in cache for the consumer.
inline constexpr std::uint32_t kReadBatch = 8192;

class Reader {
 public:
  // Opens and reads the file header. Errors: not a kvmscope recording, a format version newer
  // than this kvmscope reads, a damaged header, or the OS error.
  static util::Result<Reader> open(const std::string& path);
  // The same from an open descriptor (a pipe works too); `name` is used in messages. `prefix`:
  // the file's first bytes where the caller has read them from the pipe already.
  static util::Result<Reader> from_fd(util::Fd fd, const std::string& name,
                                      std::span<const std::uint8_t> prefix = {});

  Reader(Reader&&) noexcept;
  Reader& operator=(Reader&&) noexcept;
  ~Reader();

  const RecordingInfo& info() const { return info_; }

  // The next batch of events (at most kReadBatch, from one block), valid until the next call. An
  // empty span is the end of the data: see complete()/truncated(). An Error only for a failed
  // read(2).
  util::Result<std::span<const ks_event>> next();

  // Side records met so far (all of them once next() has returned the end).
  const std::map<std::uint32_t, std::uint64_t>& lost_per_cpu() const { return lost_; }
  // The lost blocks' sum; the trailer's where a damaged lost block left the sum short of it.
  std::uint64_t lost_total() const;
  const std::map<std::uint32_t, VmMeta>& vms() const { return vms_; }
  const std::vector<Marker>& markers() const { return markers_; }

  bool at_end() const { return done_; }
  // The trailer was read: the writer finished (damage() may still list blocks skipped before it,
  // or a trailer that disagrees with them).
  bool complete() const { return complete_; }
  // The data ended early: no trailer (the writer never finished), or a block cut short at the
  // end. Known once next() has returned the end.
  bool truncated() const { return done_ && !complete_; }
  std::string error_detail() const { return detail_; }        // why it ended early, and where
  std::uint64_t stop_offset() const { return stop_offset_; }  // byte where reading stopped

  // Damaged stretches skipped so far, in file order (at most kMaxDamagedRanges: later ones are
  // merged into the last). Their event counts are final once next() has returned the end.
  const std::vector<model::DamagedRange>& damage() const { return damage_; }
  bool corrupt() const { return !damage_.empty(); }
  // Events lost to damage, in all: the trailer's count less the events read where the trailer
  // was read and agrees (exact), else the ranges' counts added up.
  std::uint64_t events_lost_to_damage() const { return lost_to_damage_; }
  bool events_lost_to_damage_exact() const { return lost_to_damage_exact_; }

  std::optional<Totals> totals() const { return totals_; }  // from the trailer
  std::uint64_t events_read() const { return events_read_; }
  std::uint64_t blocks_skipped() const { return blocks_skipped_; }  // unknown types

 private:
  Reader(util::Fd fd, std::string name);
  // Makes `n` bytes from the current position available in buf_ unless the file ends first;
  // returns how many are available.
  util::Result<std::size_t> ensure(std::size_t n);
  const std::uint8_t* cur() const { return buf_.data() + pos_; }
  void stop(const std::string& why);
  // Notes bytes [offset, end) as damaged and skipped: a block whose header checked (`h`, with
  // `delivered` of its events already handed out), or a stretch found by resync() (no header).
  void damaged(std::uint64_t offset, std::uint64_t end, const BlockHeader* h, std::string reason,
               std::uint64_t delivered = 0);
  // After a block header that cannot be trusted at the current position: moves to the next
  // offset holding a valid block header (its CRC and limits), or to the end of the file.
  util::Result<void> resync();
  // At the end: estimates for the damaged stretches, made exact where the trailer allows.
  void count_damage();
  // Decodes the next batch of the events block in progress into events_; on damage, notes it,
  // drops the rest of the block and returns an empty span.
  std::span<const ks_event> next_batch();
  // Applies a side block (lost, vm, marker) to the totals kept.
  util::Result<void> apply_side_block(std::uint8_t type, std::span<const std::uint8_t> raw,
                                      std::uint32_t count);
  // The payload as written: `stored` itself, or its decompression into raw_ (both followed by
  // kDecodePadding readable bytes).
  util::Result<std::span<const std::uint8_t>> raw_payload(std::uint8_t flags,
                                                          std::span<const std::uint8_t> stored,
                                                          std::uint32_t raw_len);

  util::Fd fd_;
  std::string name_;
  RecordingInfo info_;
  std::unique_ptr<Decompressor> zstd_;
  std::vector<std::uint8_t> buf_;  // file bytes [base_, base_ + len_), plus decode padding
  std::size_t pos_ = 0;
  std::size_t len_ = 0;
  std::uint64_t base_ = 0;  // file offset of buf_[0]
  bool eof_ = false;
  std::uint64_t file_size_ = 0;    // at open, for regular files: sizes the read buffer
  std::vector<std::uint8_t> raw_;  // a decompressed payload, plus decode padding
  std::vector<ks_event> events_;
  std::unique_ptr<EventDecoder> decoder_;  // the events block in progress, if any
  std::uint64_t block_offset_ = 0;         // where that block starts, for messages
  std::uint64_t block_end_ = 0;            // ... and ends
  std::uint32_t block_count_ = 0;          // ... and its events
  std::uint64_t block_delivered_ = 0;      // ... of them handed out so far

  std::map<std::uint32_t, std::uint64_t> lost_;
  std::uint64_t lost_total_ = 0;
  std::map<std::uint32_t, VmMeta> vms_;
  std::vector<Marker> markers_;
  std::optional<Totals> totals_;
  std::uint64_t events_read_ = 0;
  std::uint64_t blocks_read_ = 0;
  std::uint64_t blocks_skipped_ = 0;
  std::vector<model::DamagedRange> damage_;
  std::vector<std::uint64_t> unknown_bytes_;  // per range: bytes of blocks of unknown kind
  std::uint64_t blocks_passed_ = 0;           // read or skipped whole: numbers the next block
  bool block_numbers_known_ = true;           // false once a stretch of unknown blocks was skipped
  // Intact events blocks, for the events-per-byte estimate of a damaged stretch.
  std::uint64_t intact_events_ = 0;
  std::uint64_t intact_event_bytes_ = 0;
  bool trailer_agrees_ = false;  // with what was read, damage allowed for
  std::uint64_t lost_to_damage_ = 0;
  bool lost_to_damage_exact_ = true;
  bool done_ = false;
  bool complete_ = false;
  std::string detail_;
  std::uint64_t stop_offset_ = 0;
};

}  // namespace kvmscope::store
