// perf.data's layout, as tools/perf/Documentation/perf.data-file-format.txt and
// include/uapi/linux/perf_event.h define it: the values kvmscope reads, written down once. The
// file is in the recording host's byte order (perf reads a swapped file by its magic; kvmscope
// reads little-endian files, what every x86 and arm64 host writes).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace kvmscope::perfdata {

// "PERFILE2" read as a little-endian u64: the first 8 bytes of a file or of a pipe stream.
inline constexpr std::string_view kMagic = "PERFILE2";
// A pipe stream's header is the magic and its own size (16); a file's is perf_file_header:
// magic, size, attr_size, then {offset, size} of attrs, data, event_types, then a 256-bit map
// of the feature sections that follow the data.
inline constexpr std::uint64_t kPipeHeaderSize = 16;
inline constexpr std::uint64_t kFileHeaderSize = 104;
inline constexpr std::size_t kFeatureBits = 256;
inline constexpr std::size_t kFileSection = 16;  // perf_file_section: u64 offset, u64 size

// struct perf_event_header: u32 type, u16 misc, u16 size (of the whole record).
inline constexpr std::size_t kRecordHeader = 8;

// Record types (perf_event_type, and perf's own from 64 on: perf_user_event_type).
enum RecordType : std::uint32_t {
  kRecordLost = 2,
  kRecordComm = 3,
  kRecordExit = 4,
  kRecordFork = 7,
  kRecordSample = 9,
  kRecordLostSamples = 13,
  kRecordHeaderAttr = 64,         // pipe mode: an attr and its ids
  kRecordHeaderTracingData = 66,  // pipe mode: the tracing data follows the record
  kRecordFinishedRound = 68,
  kRecordHeaderFeature = 80,  // pipe mode: a feature section as a record
  kRecordCompressed = 81,     // zstd-compressed records (perf record -z)
  kRecordCompressed2 = 83,    // the same with its data size said (perf 6.14 on)
};

inline constexpr std::uint16_t kMiscCommExec = 1u << 13;  // COMM: the task exec'd

// perf_event_attr: the fields kvmscope reads, by offset (the struct grows at its end; `size`
// says how much of it a file has).
inline constexpr std::size_t kAttrType = 0;
inline constexpr std::size_t kAttrSize = 4;
inline constexpr std::size_t kAttrConfig = 8;
inline constexpr std::size_t kAttrSampleType = 24;
inline constexpr std::size_t kAttrReadFormat = 32;
inline constexpr std::size_t kAttrFlags = 40;
inline constexpr std::size_t kAttrBranchSampleType = 72;
inline constexpr std::size_t kAttrSampleRegsUser = 80;
inline constexpr std::size_t kAttrClockid = 92;
inline constexpr std::size_t kAttrSampleRegsIntr = 96;
inline constexpr std::size_t kAttrMinSize = 64;  // PERF_ATTR_SIZE_VER0
inline constexpr std::uint32_t kTypeTracepoint = 2;
inline constexpr std::uint64_t kFlagSampleIdAll = 1ull << 18;
inline constexpr std::uint64_t kFlagUseClockid = 1ull << 25;

// sample_type bits (PERF_SAMPLE_*), in the order their fields come in a sample.
enum SampleBit : std::uint64_t {
  kSampleIp = 1ull << 0,
  kSampleTid = 1ull << 1,
  kSampleTime = 1ull << 2,
  kSampleAddr = 1ull << 3,
  kSampleRead = 1ull << 4,
  kSampleCallchain = 1ull << 5,
  kSampleId = 1ull << 6,
  kSampleCpu = 1ull << 7,
  kSamplePeriod = 1ull << 8,
  kSampleStreamId = 1ull << 9,
  kSampleRaw = 1ull << 10,
  kSampleIdentifier = 1ull << 16,
};

// read_format bits (PERF_FORMAT_*), for the values a sample with PERF_SAMPLE_READ carries.
inline constexpr std::uint64_t kFormatTotalTimeEnabled = 1u << 0;
inline constexpr std::uint64_t kFormatTotalTimeRunning = 1u << 1;
inline constexpr std::uint64_t kFormatId = 1u << 2;
inline constexpr std::uint64_t kFormatGroup = 1u << 3;
inline constexpr std::uint64_t kFormatLost = 1u << 4;

// Feature sections (HEADER_*): bits of perf_file_header's map, ids of HEADER_FEATURE records.
enum Feature : unsigned {
  kFeatTracingData = 1,
  kFeatHostname = 3,
  kFeatOsRelease = 4,
  kFeatVersion = 5,
  kFeatArch = 6,
  kFeatNrCpus = 7,
  kFeatCmdline = 11,
  kFeatCompressed = 27,
  kFeatClockData = 29,
};

inline constexpr int kClockMonotonic = 1;  // CLOCK_MONOTONIC, for attr.clockid

}  // namespace kvmscope::perfdata
