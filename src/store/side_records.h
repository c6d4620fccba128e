// Payloads of the blocks that travel beside the events: lost-event counts per CPU, VM names,
// markers and the trailer (docs/file-format.md, "Side blocks"). Decoders check every length
// against the payload and the per-entry limits below before they allocate.
#pragma once

#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <vector>

#include "store/recording_info.h"
#include "util/result.h"

namespace kvmscope::store {

// Longest VM name, comm or marker label kept; the writer cuts longer ones to this.
inline constexpr std::size_t kMaxLabel = 4096;

struct VmEntry {
  std::uint32_t pid = 0;
  VmMeta meta;
};

// One entry each, appended to `out`: a block's payload is its entries back to back.
void encode_lost(std::uint32_t cpu, std::uint64_t count, std::vector<std::uint8_t>& out);
void encode_vm(std::uint32_t pid, const VmMeta& vm, std::vector<std::uint8_t>& out);
void encode_marker(const Marker& marker, std::vector<std::uint8_t>& out);
void encode_totals(const Totals& totals, std::vector<std::uint8_t>& out);

// Each returns an empty string on success, else what is wrong with the payload. Decoded entries
// are appended (lost: added) to `out`; nothing is added when the payload is bad.
util::Result<void> decode_lost(std::span<const std::uint8_t> in, std::uint32_t count,
                               std::vector<std::pair<std::uint32_t, std::uint64_t>>& out);
util::Result<void> decode_vms(std::span<const std::uint8_t> in, std::uint32_t count,
                              std::vector<VmEntry>& out);
util::Result<void> decode_markers(std::span<const std::uint8_t> in, std::uint32_t count,
                                  std::vector<Marker>& out);
util::Result<void> decode_totals(std::span<const std::uint8_t> in, Totals& out);

}  // namespace kvmscope::store
