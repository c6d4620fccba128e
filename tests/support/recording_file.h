// Recording files made in-process for the tests that read them back or damage them: the sample
// boot (sample_recording.h) written by store::Writer, the bytes of a file, and where its blocks
// start (from the lengths in their headers).
#pragma once

#include <cstdint>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "store/byte_io.h"
#include "store/format.h"
#include "store/recording.h"
#include "support/sample_recording.h"

namespace kvmscope::testing {

using Bytes = std::vector<std::uint8_t>;

inline Bytes read_bytes(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return Bytes(std::istreambuf_iterator<char>(f), {});
}

// The first n bytes of b (all of them by default) as the whole file.
inline void write_bytes(const std::string& path, const Bytes& b, std::size_t n = SIZE_MAX) {
  std::ofstream(path, std::ios::binary | std::ios::trunc)
      .write(reinterpret_cast<const char*>(b.data()),
             static_cast<std::streamsize>(std::min(n, b.size())));
}

// Offsets of every block of a recording's bytes, in file order.
inline std::vector<std::size_t> block_offsets(const Bytes& b) {
  std::vector<std::size_t> at;
  std::size_t off = store::get_le(b.data() + 12, 4);
  while (off + store::kBlockHeaderSize <= b.size()) {
    at.push_back(off);
    off += store::kBlockHeaderSize + store::get_le(b.data() + off + 4, 4);
  }
  return at;
}

inline bool is_events_block(const Bytes& b, std::size_t offset) {
  return b[offset] == static_cast<std::uint8_t>(store::BlockType::events);
}

// The sample boot as `kvmscope record` would have written it (its VM named, the command's start
// marked), in events blocks of `block_events`; false if the Writer failed.
inline bool write_sample_recording(const std::string& path, std::uint32_t block_events = 1000) {
  store::RecordingInfo info;
  info.hostname = "bed";
  info.target = "command: qemu-system-x86_64 -name guest";
  info.start_ns = kSampleStart;
  store::WriterOptions opt;
  opt.block_events = block_events;
  auto w = store::Writer::create(path, info, opt);
  if (!w) return false;
  const std::vector<ks_event> events = sample_events();
  return w->set_vm(kSampleVm, "guest", "qemu-system-x86") &&
         w->mark(kSampleStart, std::string(model::kCommandStartedLabel)) && w->append(events) &&
         w->finish();
}

}  // namespace kvmscope::testing
