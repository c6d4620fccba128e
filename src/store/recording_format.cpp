#include "store/recording_format.h"

#include <cstring>

#include "perfdata/perf_format.h"
#include "store/format.h"
#include "tracedat/tracedat_meta.h"

namespace kvmscope::store {

namespace {

bool starts_with(std::span<const std::uint8_t> head, std::string_view magic) {
  return head.size() >= magic.size() && std::memcmp(head.data(), magic.data(), magic.size()) == 0;
}

}  // namespace

RecordingFormat detect_recording_format(std::span<const std::uint8_t> head) {
  if (starts_with(head, {kMagic, sizeof kMagic})) return RecordingFormat::kvmscope;
  if (tracedat::is_tracedat_magic(head)) return RecordingFormat::tracedat;
  if (starts_with(head, perfdata::kMagic)) return RecordingFormat::perfdata;
  return RecordingFormat::unknown;
}

bool read_by_offset(RecordingFormat format) {
  // perf.data keeps its tracing data after the events (a file) or sends it first (a pipe
  // stream): both are read from a file, a pipe's spooled.
  return format == RecordingFormat::tracedat || format == RecordingFormat::perfdata;
}

std::string_view format_name(RecordingFormat format) {
  switch (format) {
    case RecordingFormat::kvmscope:
      return "kvmscope";
    case RecordingFormat::tracedat:
      return "trace.dat";
    case RecordingFormat::perfdata:
      return "perf.data";
    case RecordingFormat::unknown:
      break;
  }
  return "unknown";
}

std::string describe_foreign(const std::string& name, std::span<const std::uint8_t> head) {
  // Compressed: the fix is one pipe away.
  struct Packed {
    std::string_view magic, what, tool;
  };
  static constexpr Packed kPacked[] = {{"\x1f\x8b", "gzip", "zcat"},
                                       {"\x28\xb5\x2f\xfd", "zstd", "zstdcat"},
                                       {"\xfd"
                                        "7zXZ",
                                        "xz", "xzcat"},
                                       {"BZh", "bzip2", "bzcat"}};
  if (head.empty()) return name + ": an empty file, not a recording";
  if (starts_with(head, "2ELIFREP"))
    return name + ": a big-endian perf.data: kvmscope reads little-endian ones";
  for (const Packed& p : kPacked)
    if (starts_with(head, p.magic)) {
      const std::string tool(p.tool);
      const std::string pipe = name == "standard input" ? "... | " + tool : tool + " " + name;
      return name + ": " + std::string(p.what) + "-compressed: decompress it first (" + pipe +
             " | kvmscope report -)";
    }
  if (starts_with(head,
                  "\x7f"
                  "ELF"))
    return name + ": an ELF executable, not a recording";
  return name + ": not a kvmscope recording";
}

}  // namespace kvmscope::store
