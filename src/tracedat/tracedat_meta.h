// What a trace-cmd trace.dat (file versions 6 and 7: trace-cmd.dat.v6(5), .v7(5)) says about
// itself, read from its header and options: where each CPU's ring-buffer pages are, the layout of
// those pages, the event format files (the record layouts, and the raw text kvmscope rebuilds
// exit-reason names from, as the recording kernel wrote them), uname, per-CPU stats, saved
// cmdlines. kallsyms and printk formats are skipped unread. Every size and offset is checked
// against the file: the input is untrusted.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <vector>

#include "model/tracing_data.h"
#include "util/result.h"

namespace kvmscope::tracedat {

// "\x17\x08\x44tracing": the first 10 bytes of every trace.dat.
inline constexpr std::size_t kTraceDatMagicLen = 10;
bool is_tracedat_magic(std::span<const std::uint8_t> prefix);
// True when the file at `path` starts with that magic (false when unreadable or shorter).
bool file_is_tracedat(const std::string& path);

struct TraceDatCpuStat {
  std::uint64_t entries = 0;
  std::uint64_t overrun = 0;         // overwritten before trace-cmd read them
  std::uint64_t commit_overrun = 0;  // lost to nested writes wrapping the buffer
  std::uint64_t dropped = 0;         // not written: the buffer was full (no-overwrite mode)
  std::uint64_t lost() const { return overrun + commit_overrun + dropped; }
};

struct TraceDatCpuData {
  std::uint32_t cpu = 0;
  std::uint64_t offset = 0;  // in the file
  std::uint64_t size = 0;    // bytes in the file (compressed chunks in a compressed v7 file)
  bool cut = false;          // the file ends inside this data: `size` is what is left
};

// One ftrace instance's per-CPU ring-buffer pages ("" is the top instance).
struct TraceDatBuffer {
  std::string name;
  std::string clock;            // v7 only
  std::uint64_t section = 0;    // where its section header (v7) or flyrecord index (v6) is
  std::uint32_t page_size = 0;  // v7: the instance's sub-buffer size; 0: the file's page size
  bool compressed = false;      // v7: the pages are stored as compressed chunks
  std::vector<TraceDatCpuData> cpus;
};

// TSC2NSEC option: ns = ((ts - offset) * mult) >> shift for files of the x86-tsc clock.
struct TraceDatTsc2Nsec {
  std::uint32_t mult = 0;
  std::uint32_t shift = 0;
  std::uint64_t offset = 0;
};

// The tracing data (model::TracingData: byte order, page layout, event formats, cmdlines) and
// what trace.dat adds.
struct TraceDatMeta : model::TracingData {
  unsigned version = 0;              // 6 or 7
  std::string compression = "none";  // v7: the algorithm of the compressed sections
  std::string uname;                 // "Linux <nodename> <release> <machine>"
  std::string tracecmd_version;
  std::string trace_clock;  // the clock the timestamps are in, "" if the file does not say
  std::uint32_t cpu_count = 0;
  std::int64_t ts_offset = 0;  // OFFSET option: added to every timestamp
  std::optional<TraceDatTsc2Nsec> tsc2nsec;
  // DATE option (record --date): wall-clock time = timestamp + this.
  std::optional<std::int64_t> realtime_offset_ns;
  bool time_shift = false;  // TIME_SHIFT option (a guest's file): host time sync not applied
  std::map<std::uint32_t, TraceDatCpuStat> cpustats;  // by CPU
  std::map<std::uint32_t, std::string> procmaps;      // traced process pid -> comm (--proc-map)
  std::vector<TraceDatBuffer> buffers;                // per-CPU data, top instance first
  bool latency = false;            // a latency-tracer text dump instead of per-CPU event data
  std::vector<std::string> notes;  // what could not be had (formats of a zlib file, ...)
};

// Reads and checks the header of the trace.dat open at `fd` (`name` for the messages).
// `wanted_formats`: event names of the "kvm" system whose format text to keep in `formats`.
// Errors: not a trace.dat, a version other than 6 or 7, a damaged or cut header (a cut v7 file
// has lost its last options, which say where the data is). A v6 file cut inside its data is
// not an error: the CPUs concerned are marked `cut`.
util::Result<TraceDatMeta> read_tracedat_meta(int fd, const std::string& name,
                                              const std::set<std::string>& wanted_formats);

}  // namespace kvmscope::tracedat
