#include "store/block.h"

#include "store/byte_io.h"
#include "store/crc32c.h"

namespace kvmscope::store {

void encode_block_header(const BlockHeader& h, std::uint8_t* out) {
  out[0] = h.type;
  out[1] = h.flags;
  put_le(out + 2, 0, 2);  // reserved
  put_le(out + 4, h.stored_len, 4);
  put_le(out + 8, h.raw_len, 4);
  put_le(out + 12, h.count, 4);
  put_le(out + 16, h.first_ts, 8);
  put_le(out + 24, h.last_ts, 8);
  put_le(out + 32, h.payload_crc, 4);
  put_le(out + 36, crc32c({out, 36}), 4);
}

bool block_header_crc_ok(std::span<const std::uint8_t, kBlockHeaderSize> in) {
  const std::uint8_t* p = in.data();
  return crc_matches(crc32c({p, 36}), static_cast<std::uint32_t>(get_le(p + 36, 4)));
}

util::Result<void> decode_block_header(std::span<const std::uint8_t, kBlockHeaderSize> in,
                                       BlockHeader& h) {
  const std::uint8_t* p = in.data();
  if (!block_header_crc_ok(in)) return util::plain_error("block header CRC mismatch");
  h.type = p[0];
  h.flags = p[1];
  h.stored_len = static_cast<std::uint32_t>(get_le(p + 4, 4));
  h.raw_len = static_cast<std::uint32_t>(get_le(p + 8, 4));
  h.count = static_cast<std::uint32_t>(get_le(p + 12, 4));
  h.first_ts = get_le(p + 16, 8);
  h.last_ts = get_le(p + 24, 8);
  h.payload_crc = static_cast<std::uint32_t>(get_le(p + 32, 4));
  // Bounds first: nothing is allocated for a block until these hold.
  if (h.stored_len > kMaxBlockStored)
    return util::plain_error("block payload of " + std::to_string(h.stored_len) +
                             " bytes exceeds the limit");
  if (h.raw_len > kMaxBlockRaw)
    return util::plain_error("block decodes to " + std::to_string(h.raw_len) +
                             " bytes, over the limit");
  if (h.count > kMaxBlockCount)
    return util::plain_error("block claims " + std::to_string(h.count) +
                             " entries, over the limit");
  if ((h.flags & kFlagZstd) == 0 && h.stored_len != h.raw_len)
    return util::plain_error("uncompressed block with stored and raw lengths differing");
  return {};
}

const char* block_type_name(std::uint8_t type) {
  switch (static_cast<BlockType>(type)) {
    case BlockType::events:
      return "events";
    case BlockType::lost:
      return "lost";
    case BlockType::vm:
      return "vm";
    case BlockType::marker:
      return "marker";
    case BlockType::end:
      return "end";
  }
  return "unknown";
}

}  // namespace kvmscope::store
