// Reads a trace-cmd trace.dat (file versions 6 and 7, as `trace-cmd record -e kvm:kvm_exit ...`
// writes them) into kvmscope's event stream, with the same interface as store::Reader so that
// `kvmscope report` takes either. Everything is read by kvmscope itself (tracedat_meta: header,
// tracedat_pages: ring-buffer pages, model/tracepoint_events: fields by name from the stored
// formats): libtracecmd/libtraceevent 1.7 crash (SIGSEGV) on damaged files (an inflated-but-garbled
// "print fmt", a page whose length runs past its end) and Debian has no static libtracecmd. The
// tests check this reader record for record against libtracecmd where it is installed.
// Memory stays bounded: one page (or one compressed chunk) per CPU, merged into timestamp order.
//
// What a trace.dat cannot say: the process of a thread (see model/thread_table.h: without
// task:task_newtask / sched:sched_process_exec in the file, each thread counts as its own VM,
// said in a note), KVM_RUN re-entries (VMM handling time stays unmeasured), and CLOCK_MONOTONIC
// timestamps (they are in the file's trace clock, "local" by default: ns since boot).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "bpf/kvmscope_bpf.h"
#include "model/recording_info.h"
#include "util/fd.h"
#include "util/result.h"

namespace kvmscope::tracedat {

// Events handed out per next(), as store::Reader does.
inline constexpr std::uint32_t kTraceDatBatch = 8192;

class TraceDatReader {
 public:
  // True when the file starts with trace.dat's magic (`report` uses it to pick the reader).
  static bool is_tracedat(const std::string& path);

  // Opens the file and reads its header and the first record of each CPU. Errors: not a
  // trace.dat, an unsupported version, a damaged or cut header (a v7 file cut anywhere: its
  // data index is at its end), no per-CPU data (a latency-tracer file), or the OS error.
  static util::Result<TraceDatReader> open(const std::string& path);
  // The same from a descriptor of a regular file (it is read by offset: a pipe must be spooled
  // to a file first); `name` stands for the file in messages and in info().target.
  static util::Result<TraceDatReader> from_fd(util::Fd fd, const std::string& name);

  TraceDatReader(TraceDatReader&&) noexcept;
  TraceDatReader& operator=(TraceDatReader&&) noexcept;
  ~TraceDatReader();

  // hostname/kernel_release from the file's uname option, start_ns = the first event's
  // timestamp, target "trace.dat: <path>", tracefs_formats["kvm_exit"/"kvm_userspace_exit"] =
  // the format text stored in the file (absent when the file has none: built-in names),
  // realtime_offset_ns from the DATE option (record --date), extra: "source", "tracedat_version",
  // "trace_clock", "tracecmd_version", "uname", "note".
  const model::RecordingInfo& info() const { return info_; }

  // The next batch of events (at most kTraceDatBatch), valid until the next call; empty at the
  // end (then see complete()/truncated()). Never an Error: a failed read(2) ends the data like
  // damage does, with error_detail() saying so.
  util::Result<std::span<const ks_event>> next();

  // Lost events by CPU: the larger of what the pages flag as missed so far and the kernel's
  // overrun + dropped counts that trace-cmd saved (CPUSTAT). A page that says "lost, count
  // unknown" counts 1.
  const std::map<std::uint32_t, std::uint64_t>& lost_per_cpu() const { return lost_; }
  std::uint64_t lost_total() const { return lost_total_; }
  // tgid -> its name from the file's saved cmdlines (comm), for the VMs seen so far.
  const std::map<std::uint32_t, model::VmMeta>& vms() const { return vms_; }
  const std::vector<model::Marker>& markers() const { return markers_; }  // trace.dat has none

  bool at_end() const { return done_; }
  bool complete() const { return complete_; }
  // The data ended early (the file was cut inside it, a chunk did not inflate) or had damaged
  // pages/records: everything readable was delivered; error_detail() says what.
  bool truncated() const { return done_ && !complete_; }
  bool corrupt() const { return corrupt_; }  // damage rather than a plain cut
  std::string error_detail() const { return detail_; }
  // Known once next() has returned the end: events, lost, end_ns = the last event's timestamp.
  std::optional<model::RecordingTotals> totals() const;
  std::uint64_t events_read() const { return events_read_; }
  std::uint64_t records_skipped() const;  // records of events kvmscope does not use

  // Everything worth telling the user about this file; info().extra["note"] holds those known
  // at open(), this also those learnt while reading (threads whose process was guessed).
  std::vector<std::string> notes() const;

 private:
  struct Impl;
  TraceDatReader();
  void add_lost(std::uint32_t cpu, std::uint64_t missed);
  void finish();

  std::unique_ptr<Impl> impl_;
  model::RecordingInfo info_;
  std::vector<std::string> notes_;
  std::map<std::uint32_t, std::uint64_t> lost_;
  std::map<std::uint32_t, std::uint64_t> missed_;   // flagged by the pages
  std::map<std::uint32_t, std::uint64_t> cpustat_;  // from CPUSTAT
  std::uint64_t lost_total_ = 0;
  std::map<std::uint32_t, model::VmMeta> vms_;
  std::vector<model::Marker> markers_;
  std::vector<ks_event> events_;
  std::uint64_t events_read_ = 0;
  std::uint64_t last_ts_ = 0;
  bool done_ = false;
  bool complete_ = false;
  bool corrupt_ = false;
  std::string detail_;
};

}  // namespace kvmscope::tracedat
