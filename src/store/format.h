// Constants of the recording file format (docs/file-format.md is the full description; keep the
// two in step). All multi-byte fixed fields are little-endian.
#pragma once

#include <cstddef>
#include <cstdint>

namespace kvmscope::store {

inline constexpr char kMagic[8] = {'K', 'V', 'M', 'S', 'C', 'O', 'P', 'E'};

// Major: a reader refuses files with a larger major (their layout may mean something else).
// Minor: additions old readers can skip (new block types, new metadata keys).
inline constexpr std::uint16_t kFormatMajor = 1;
inline constexpr std::uint16_t kFormatMinor = 0;

// File header: magic, major u16, minor u16, header length u32, metadata, CRC32C u32.
inline constexpr std::size_t kFileHeaderFixed = 16;
inline constexpr std::size_t kFileHeaderMin = kFileHeaderFixed + 1 + 4;  // empty key/value list
// Metadata holds a few strings and two tracefs format files (a few KiB each).
inline constexpr std::size_t kFileHeaderMax = 4u << 20;

// Block header: type u8, flags u8, reserved u16, stored length u32, raw length u32, count u32,
// first ts u64, last ts u64, payload CRC32C u32, header CRC32C u32.
inline constexpr std::size_t kBlockHeaderSize = 40;

enum class BlockType : std::uint8_t {
  events = 1,  // count = events, ts = first and last event
  lost = 2,    // count = (cpu, lost) pairs: increments of events the ring buffer dropped
  vm = 3,      // count = (pid, name, comm) entries
  marker = 4,  // count = (ts, label) entries
  end = 5,     // the trailer: totals; written by Writer::finish() only
};

inline constexpr std::uint8_t kFlagZstd = 0x01;  // payload is one zstd frame of the raw bytes
inline constexpr std::uint8_t kKnownFlags = kFlagZstd;

// Bounds a reader enforces before it allocates anything a block header asks for: memory stays
// bounded by these whatever the file says. The writer stays well below them.
inline constexpr std::uint32_t kMaxBlockCount = 65536;      // entries (events) per block
inline constexpr std::uint32_t kMaxBlockRaw = 8u << 20;     // decoded payload bytes
inline constexpr std::uint32_t kMaxBlockStored = 8u << 20;  // payload bytes in the file

// Side records a reader keeps in memory for the whole file; more is not a recording kvmscope
// writes (the writer refuses to exceed them), so a reader stops there.
// With strings of at most 4 KiB each, a hostile file can make a reader hold at most ~120 MiB of
// them; a real recording holds a few KiB.
inline constexpr std::size_t kMaxMarkers = 10000;
inline constexpr std::size_t kMaxVms = 10000;       // distinct pids
inline constexpr std::size_t kMaxLostCpus = 65536;  // distinct CPU numbers
// Damaged stretches a reader lists one by one; later ones are merged into the last (a file
// damaged in that many places says little more with each).
inline constexpr std::size_t kMaxDamagedRanges = 1000;

// The writer closes an events block at whichever comes first.
inline constexpr std::uint32_t kWriterBlockEvents = 65536;
inline constexpr std::uint32_t kWriterBlockRaw = 1u << 20;

// Well-known metadata keys of the file header; every other key lands in RecordingInfo::extra.
namespace key {
inline constexpr const char* kKvmscopeVersion = "kvmscope.version";
inline constexpr const char* kHostname = "host.name";
inline constexpr const char* kKernelRelease = "host.kernel_release";
inline constexpr const char* kRealtimeOffset = "clock.realtime_offset_ns";
inline constexpr const char* kStartNs = "clock.start_ns";
inline constexpr const char* kTarget = "target";
inline constexpr const char* kFormatPrefix = "tracefs.format.";  // + event name, e.g. kvm_exit
}  // namespace key

}  // namespace kvmscope::store
