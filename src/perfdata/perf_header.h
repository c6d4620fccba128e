// What a perf.data says about itself: its header (a file's, or a pipe stream's 16 bytes), its
// event attributes (perf_event_attr and the sample ids of each), and the feature sections
// kvmscope uses: the tracing data (the recorded events' tracefs format files, in the layout
// trace.dat shares: model/tracing_data.h), hostname, OS release, perf version, arch, CPU count,
// command line, clock data, compression. A file keeps the attrs in a section and the features
// after the data; a pipe stream sends them as records before the samples (perf_records.h).
// Every size and offset is checked: the input is untrusted.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "model/tracing_data.h"
#include "util/result.h"

namespace kvmscope::perfdata {

struct PerfAttr {
  std::uint32_t type = 0;
  std::uint64_t config = 0;  // the tracepoint id for a tracepoint
  std::uint64_t sample_type = 0;
  std::uint64_t read_format = 0;
  std::uint64_t flags = 0;  // the bit fields after read_format (disabled, inherit, ...)
  std::uint64_t branch_sample_type = 0;
  std::uint64_t regs_user = 0;
  std::uint64_t regs_intr = 0;
  std::int32_t clockid = 0;
  std::vector<std::uint64_t> ids;  // the sample ids of this attr's events (one per CPU/thread)
};

// `bytes` holds one perf_event_attr (its own `size` field says how much of `bytes` is it;
// `used` gets that size). An Error when it is shorter than its size or the oldest attr.
util::Result<PerfAttr> parse_perf_attr(std::span<const std::uint8_t> bytes, std::size_t& used);

struct PerfMeta {
  bool pipe = false;              // a pipe stream (perf record -o -): everything in records
  std::uint64_t data_offset = 0;  // where the records start
  std::uint64_t data_size = 0;    // file mode; a pipe's records run to the end
  std::vector<PerfAttr> attrs;
  std::optional<model::TracingData> tracing;
  std::string tracing_version;  // "0.6" (the layout version of the tracing data)
  std::string hostname, os_release, perf_version, arch, cmdline;
  std::uint32_t nr_cpus = 0;                       // online CPUs when recorded
  std::optional<std::int64_t> realtime_offset_ns;  // CLOCK_DATA: wall clock - sample clock
  std::uint32_t clock_data_clockid = 0;
  bool compressed = false;  // the COMPRESSED feature: records are zstd-compressed (record -z)
  std::vector<std::string> notes;  // what could not be had
};

// Reads the header of the perf.data open at `fd` (`file_size` bytes; `name` for messages): for
// a file, its attrs and feature sections too; for a pipe stream only the 16-byte header (the
// rest comes as records). Errors: not a perf.data, a header or attr section that is cut or
// damaged, a file cut before its features (perf writes them after the data, the tracing data
// among them: without it no event can be read), a file whose writer did not finish (data size
// 0: no features were written).
util::Result<PerfMeta> read_perf_header(int fd, std::uint64_t file_size, const std::string& name);

// One feature section's payload (a file's section, or a pipe's HEADER_FEATURE record after its
// id) applied to `meta`. An Error only for damaged tracing data: the others are names and
// numbers, and a damaged one is a note.
util::Result<void> apply_perf_feature(unsigned feature, std::span<const std::uint8_t> data,
                                      PerfMeta& meta);

// The tracing data (HEADER_TRACING_DATA): "\x17\x08\x44tracing", its version ("0.5", "0.6"),
// byte order, long size, page size, then the parts model::read_tracing_parts() reads.
util::Result<void> read_perf_tracing_data(std::span<const std::uint8_t> data, PerfMeta& meta);

}  // namespace kvmscope::perfdata
