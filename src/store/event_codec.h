// The payload of an events block (before optional zstd). Each event is split over six byte
// streams (columns) so that zstd sees like next to like; each field is predicted from the
// previous events of the same block so that a typical event takes a few bytes even before zstd.
// Every block starts from a fresh state, so any block decodes on its own.
//
// Payload (docs/file-format.md, "Events payload"): six varints giving the byte length of each
// stream, then the streams back to back: tag, ts, ctx, a, b, c. Per event, in order:
//   tag  u8: bits 0-3 type (0 = escape: the type follows as a u8 in the tag stream), bits 4/5/6
//        field a/b/c differs from the previous event of the same type, bit 7 the context changes
//   ts   zig-zag varint: ts - previous ts (the block header's first ts for the first event)
//   ctx  when bit 7: u8 0-254 a context slot, 255 a new context: tgid, tid, vcpu + 1 (so the
//        unknown vCPU is 0), cpu as varints; it takes slot (new contexts so far) % 255
//   a/b/c when their bit is set: zig-zag varint of value - previous value of that field for
//        this type (a field absent stays as it was; every field starts at 0 in a block)
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "bpf/kvmscope_bpf.h"
#include "util/result.h"

namespace kvmscope::store {

// The decoder checks stream bounds once per kCheckEvery events, not per byte: one event reads at
// most kMaxEventBytes from a stream (a new context: 1 + 4 varints of up to 10 bytes), so the
// buffer it gets must have kDecodePadding readable bytes after the payload (any values).
inline constexpr std::uint32_t kCheckEvery = 8;
inline constexpr std::size_t kMaxEventBytes = 41;
inline constexpr std::size_t kDecodePadding = 512;
static_assert(kDecodePadding >= kCheckEvery * kMaxEventBytes);

class EventEncoder {
 public:
  EventEncoder();
  void add(const ks_event& e);
  void clear();  // start the next block

  std::uint32_t count() const { return count_; }
  std::uint64_t first_ts() const { return first_ts_; }
  std::uint64_t last_ts() const { return prev_ts_; }
  std::size_t size() const;  // payload bytes so far, stream lengths excluded
  // Appends the payload (stream lengths, then the streams) to `out`.
  void write_payload(std::vector<std::uint8_t>& out) const;

 private:
  struct Ctx {
    std::uint32_t tgid, tid, vcpu, cpu;
    bool operator==(const Ctx&) const = default;
  };
  struct CtxHash {
    std::size_t operator()(const Ctx& c) const;
  };
  static constexpr unsigned kSlots = 255;
  enum { kTag, kTs, kCtx, kA, kB, kC, kStreams };

  std::vector<std::uint8_t> s_[kStreams];
  std::uint32_t count_ = 0;
  std::uint64_t first_ts_ = 0;
  std::uint64_t prev_ts_ = 0;
  Ctx cur_{};
  bool have_cur_ = false;
  std::unordered_map<Ctx, std::uint8_t, CtxHash> slot_of_;
  Ctx slots_[kSlots]{};
  std::uint32_t literals_ = 0;
  std::uint64_t prev_[256][3]{};
};

// Decodes an events payload in batches, so the caller can hand out cache-sized slices of a
// large block. An error says what is wrong with the payload; after one the decoder must be
// restarted.
class EventDecoder {
 public:
  // `payload` must stay valid and be followed by kDecodePadding readable bytes until done.
  util::Result<void> start(const std::uint8_t* payload, std::size_t size, std::uint32_t count,
                           std::uint64_t first_ts);
  std::uint32_t left() const { return left_; }
  // Gives up on the block in progress (found damaged): left() is 0 until the next start().
  void abandon() { left_ = 0; }
  // Decodes the next n <= left() events into out[0, n). Once left() is 0, it also checks that
  // every stream ended exactly where its length said.
  util::Result<void> decode(ks_event* out, std::uint32_t n);

 private:
  struct Ctx {
    std::uint32_t tgid, tid, vcpu;
    std::uint16_t cpu;
  };
  enum { kStreams = 6 };
  const std::uint8_t* p_[kStreams]{};
  const std::uint8_t* end_[kStreams]{};
  std::uint32_t left_ = 0;
  std::uint32_t done_ = 0;
  std::uint64_t ts_ = 0;
  Ctx cur_{};
  bool have_cur_ = false;
  std::uint32_t literals_ = 0;
  Ctx slots_[255]{};
  std::uint64_t prev_[256][3]{};
};

// The whole payload at once: decodes exactly `count` events into out[0, count).
util::Result<void> decode_events(const std::uint8_t* payload, std::size_t size, std::uint32_t count,
                                 std::uint64_t first_ts, ks_event* out);

}  // namespace kvmscope::store
