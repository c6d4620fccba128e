// The parts of a trace.dat header that v6 keeps in sequence and v7 in sections of the same
// content (trace-cmd.dat.v6(5), .v7(5)): header_page/header_event, the ftrace and event format
// files, saved cmdlines. Each reads from a cursor (the file, or an inflated v7 section) and fails
// it on damage.
#pragma once

#include <set>
#include <string>

#include "tracedat/tracedat_cursor.h"
#include "tracedat/tracedat_meta.h"

namespace kvmscope::tracedat {

// HEADER INFO: "header_page", size, text, "header_event", size, text. Takes the kernel's long
// size from header_page's `commit` field (meta.commit_size).
void read_header_info(TdCursor& c, TraceDatMeta& meta);
// FTRACE EVENT FORMATS: count, then each format's size and text (their ids only are kept).
void read_ftrace_formats(TdCursor& c, TraceDatMeta& meta);
// EVENT FORMATS: systems, each with its format files. Keeps every id, the texts of the systems
// kvmscope maps (kvm, sched, task) and the `wanted` kvm formats by name.
void read_event_formats(TdCursor& c, const std::set<std::string>& wanted, TraceDatMeta& meta);
// SAVED COMMAND LINES: size, then "pid comm" lines.
void read_cmdlines(TdCursor& c, TraceDatMeta& meta);

}  // namespace kvmscope::tracedat
