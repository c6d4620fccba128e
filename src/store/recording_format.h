// Which format a recording is in, told by its first bytes (never by its name: `report -` has
// none). kvmscope reads its own recordings, trace-cmd's trace.dat and perf's perf.data; a few
// other formats a user may hand it by mistake are recognised only to say what they are. Adding a
// format to `report`: a value here, its branch in detect_recording_format(), and its opener in
// event_source.cpp.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace kvmscope::store {

enum class RecordingFormat {
  kvmscope,  // `kvmscope record`'s own (store/format.h)
  tracedat,  // trace-cmd's trace.dat, versions 6 and 7
  perfdata,  // perf's perf.data ("PERFILE2"), a file or a pipe stream
  unknown,   // none kvmscope reads: see describe_foreign()
};

// Bytes enough to tell the formats apart (trace.dat's magic is the longest, 10 bytes).
inline constexpr std::size_t kFormatSniff = 16;

// From the first bytes of the file (fewer than kFormatSniff only where the file is shorter).
RecordingFormat detect_recording_format(std::span<const std::uint8_t> head);

// True for a format that is read by offset: from a pipe, it is spooled to a file first.
bool read_by_offset(RecordingFormat format);

// "kvmscope", "trace.dat", "perf.data", "unknown"
std::string_view format_name(RecordingFormat format);

// The error for a file whose format is unknown, from its first bytes: "NAME: not a kvmscope
// recording", or what it looks like where that is recognisable (empty, a big-endian perf.data,
// compressed, an executable).
std::string describe_foreign(const std::string& name, std::span<const std::uint8_t> head);

}  // namespace kvmscope::store
