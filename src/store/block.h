// The 40-byte header in front of every block, and the checks a reader makes before it trusts
// the lengths in it (docs/file-format.md, "Blocks").
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include "store/format.h"
#include "util/result.h"

namespace kvmscope::store {

struct BlockHeader {
  std::uint8_t type = 0;  // BlockType, or a type from a newer minor version (skipped)
  std::uint8_t flags = 0;
  std::uint32_t stored_len = 0;  // payload bytes in the file
  std::uint32_t raw_len = 0;     // payload bytes after decompression
  std::uint32_t count = 0;       // entries (events, pairs, ...) in the payload
  std::uint64_t first_ts = 0;    // first / last timestamp; 0 where the block has none
  std::uint64_t last_ts = 0;
  std::uint32_t payload_crc = 0;  // CRC32C of the stored payload
};

// Fills `out` (kBlockHeaderSize bytes) and computes the header's own CRC.
void encode_block_header(const BlockHeader& h, std::uint8_t* out);

// Whether the header's own CRC checks: the cheap first test, made at every byte offset while a
// reader looks for the next block after a damaged header.
bool block_header_crc_ok(std::span<const std::uint8_t, kBlockHeaderSize> in);

// Parses and validates a header: its CRC, then the bounds of its lengths and count. Returns an
// empty string if it can be trusted, else what is wrong with it.
util::Result<void> decode_block_header(std::span<const std::uint8_t, kBlockHeaderSize> in,
                                       BlockHeader& h);

const char* block_type_name(std::uint8_t type);  // "events", ..., "unknown"

}  // namespace kvmscope::store
