// The options of a trace.dat (trace-cmd.dat.v6(5), trace-cmd.dat.v7(5)): id, size, payload.
// Decodes the payloads kvmscope uses into TraceDatMeta; the rest are skipped.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "tracedat/tracedat_meta.h"
#include "util/result.h"

namespace kvmscope::tracedat {

// Option ids as trace-cmd writes them (TRACECMD_OPTION_*).
enum class TdOption : std::uint16_t {
  done = 0,
  date = 1,
  cpustat = 2,
  buffer = 3,
  traceclock = 4,
  uname = 5,
  offset = 7,
  cpucount = 8,
  version = 9,
  procmaps = 10,
  time_shift = 12,
  tsc2nsec = 14,
  header_info = 16,
  ftrace_events = 17,
  event_formats = 18,
  kallsyms = 19,
  printk = 20,
  cmdlines = 21,
  buffer_text = 22,
};

// Where a v7 file keeps its header sections (0: not in the file).
struct TdSectionOffsets {
  std::uint64_t header_info = 0;
  std::uint64_t ftrace_events = 0;
  std::uint64_t event_formats = 0;
  std::uint64_t cmdlines = 0;
};

// Applies one option to `meta` (v7 section offsets to `sections`). Returns "" or why the
// payload is malformed (the caller stops: a file whose options are garbage is damaged).
util::Result<void> apply_tracedat_option(std::uint16_t id, std::span<const std::uint8_t> data,
                                         unsigned version, bool big_endian, TraceDatMeta& meta,
                                         TdSectionOffsets& sections);

// "CPU: 1\nentries: 0\noverrun: 3\ncommit overrun: 0\n...dropped events: 0\n" -> cpu and stats;
// the CPU is `fallback_cpu` when the text has no "CPU:" line (older trace-cmd).
std::pair<std::uint32_t, TraceDatCpuStat> parse_tracedat_cpustat(std::string_view text,
                                                                 std::uint32_t fallback_cpu);
// "[local] global counter" -> "local"; a text without brackets is taken whole (trimmed).
std::string parse_tracedat_clock(std::string_view text);
// The first line of a PROCMAPS option, "<pid hex> <libs hex> <comm>", -> pid and comm.
std::optional<std::pair<std::uint32_t, std::string>> parse_tracedat_procmap(std::string_view text);

}  // namespace kvmscope::tracedat
