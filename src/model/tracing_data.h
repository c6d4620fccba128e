// The "tracing data" of a trace: what the kernel's tracefs says about the recorded events
// (header_page/header_event, the ftrace and event format files, saved cmdlines), in the layout
// libtraceevent's writers share. trace-cmd's trace.dat v6 keeps these parts in sequence in its
// header and v7 in sections of the same content (trace-cmd.dat.v6(5), .v7(5)); perf.data keeps
// them, after a short header of their own, in its HEADER_TRACING_DATA feature (in pipe mode a
// PERF_RECORD_HEADER_TRACING_DATA record). Each part reads from a cursor (the file, or bytes in
// memory) and fails it on damage: the input is untrusted.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "util/byte_cursor.h"

namespace kvmscope::model {

struct TracingData {
  bool big_endian = false;
  unsigned long_size = 0;  // of the recording host's user space
  std::uint32_t page_size = 0;
  // The kernel's long size, from header_page's `commit` field: ring-buffer page headers use it
  // (a 32-bit user space on a 64-bit kernel has long_size 4 but 8-byte commits).
  unsigned commit_size = 8;
  // Raw text of the wanted event format files, by event name (e.g. "kvm_exit").
  std::map<std::string, std::string> formats;
  // Raw text of every event format of the systems kvmscope maps (kvm, sched, task).
  std::vector<std::string> event_formats;
  // Ids of every event the file has a format for (ftrace's included): a record of any other id
  // is damage.
  std::set<int> event_ids;
  std::map<std::uint32_t, std::string> cmdlines;  // saved cmdlines: pid -> comm
};

// HEADER INFO: "header_page", size, text, "header_event", size, text. Takes the kernel's long
// size from header_page's `commit` field (meta.commit_size).
void read_header_info(util::ByteCursor& c, TracingData& meta);
// FTRACE EVENT FORMATS: count, then each format's size and text (their ids only are kept).
void read_ftrace_formats(util::ByteCursor& c, TracingData& meta);
// EVENT FORMATS: systems, each with its format files. Keeps every id, the texts of the systems
// kvmscope maps (kvm, sched, task) and the `wanted` kvm formats by name.
void read_event_formats(util::ByteCursor& c, const std::set<std::string>& wanted,
                        TracingData& meta);
// SAVED COMMAND LINES: size, then "pid comm" lines.
void read_cmdlines(util::ByteCursor& c, TracingData& meta);
// All of them in sequence, as trace.dat v6 and perf.data keep them: header info, ftrace formats,
// event formats, kallsyms and printk formats (skipped), then the saved cmdlines where
// `with_cmdlines` (perf's tracing data before version 0.6 has none).
void read_tracing_parts(util::ByteCursor& c, const std::set<std::string>& wanted,
                        bool with_cmdlines, TracingData& meta);

}  // namespace kvmscope::model
