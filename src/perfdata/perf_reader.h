// Reads a perf.data (`perf kvm stat record`, `perf record -e 'kvm:*'`; a file or a pipe stream,
// `perf record -o -`; zstd-compressed, `-z`) into kvmscope's event stream, with the same
// interface as store::Reader and tracedat::TraceDatReader so that `kvmscope report` takes it.
// Everything is read by kvmscope itself: perf_header (header, attrs, features), perf_records
// (records, inflated), perf_sample (sample fields); the tracepoint payloads are mapped by
// model::TracepointEvents from the format files in the file's tracing data, as for trace.dat.
//
// Order: perf writes each CPU's buffer in turn, so samples are in time order per CPU only;
// FINISHED_ROUND records mark where everything before the previous round's latest sample has
// been written. Samples are held until then and handed out sorted, as perf's ordered-events
// queue does; at most kMaxPending are held (then the earliest half goes out): memory stays
// bounded whatever the file's size.
//
// What a perf.data says that trace.dat does not: every sample's process (pid) as well as its
// thread, and COMM/FORK/EXIT records for their names: vCPU threads group into their VM, named
// by its main thread's comm. What it cannot say: KVM_RUN re-entries (VMM time unmeasured), and
// CLOCK_MONOTONIC times unless recorded with -k monotonic (perf's clock is the kernel's
// sched_clock, ns since boot).
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

namespace kvmscope::perfdata {

inline constexpr std::uint32_t kPerfBatch = 8192;     // events per next()
inline constexpr std::size_t kMaxPending = 1u << 20;  // samples held for ordering (48 MiB)

class PerfDataReader {
 public:
  static util::Result<PerfDataReader> open(const std::string& path);
  // From a descriptor of a regular file (read by offset: a pipe must be spooled to a file
  // first); `name` stands for the file in messages and in info().target. Reads the header and
  // the records up to the first batch of events. Errors: not a perf.data, a damaged header, no
  // tracing data (a file cut before its features, a writer that did not finish, damage
  // before a pipe stream's tracing data), no tracepoint events in the file, or the OS error.
  static util::Result<PerfDataReader> from_fd(util::Fd fd, const std::string& name);

  PerfDataReader(PerfDataReader&&) noexcept;
  PerfDataReader& operator=(PerfDataReader&&) noexcept;
  ~PerfDataReader();

  // hostname/kernel_release from the HOSTNAME/OSRELEASE features, start_ns = the earliest time
  // met before the first batch (an event's, or a process start: `perf record -- CMD`'s exec),
  // target "perf.data: <path>", tracefs_formats["kvm_exit"/"kvm_userspace_exit"] from the tracing
  // data, realtime_offset_ns from CLOCK_DATA (record -k), extra: "source", "perf_version",
  // "perf_cmdline", "perf_mode" (file or pipe), "compression", "clock", "note".
  const model::RecordingInfo& info() const { return info_; }

  // The next batch of events (at most kPerfBatch) in time order; empty at the end (then see
  // complete()/truncated()). Never an Error: a failed read ends the data like damage does.
  util::Result<std::span<const ks_event>> next();

  // PERF_RECORD_LOST / LOST_SAMPLES counts, by the CPU their trailer names (0 when none).
  const std::map<std::uint32_t, std::uint64_t>& lost_per_cpu() const { return lost_; }
  std::uint64_t lost_total() const { return lost_total_; }
  // pid -> its main thread's comm (else the first comm met of its threads), for the VMs seen.
  const std::map<std::uint32_t, model::VmMeta>& vms() const { return vms_; }
  // A VM's process start (its FORK record, else its exec's COMM: `perf record -- CMD`), as
  // process_started_label markers, each just before the VM's first event.
  const std::vector<model::Marker>& markers() const { return markers_; }

  bool complete() const { return complete_; }
  bool truncated() const { return done_ && !complete_; }
  bool corrupt() const { return corrupt_; }  // damage rather than a plain cut
  std::string error_detail() const { return detail_; }
  std::optional<model::RecordingTotals> totals() const;
  std::uint64_t events_read() const { return events_read_; }
  std::vector<std::string> notes() const;

 private:
  struct Impl;
  PerfDataReader();
  void finish();

  std::unique_ptr<Impl> impl_;
  model::RecordingInfo info_;
  std::vector<std::string> notes_open_;  // those known at open
  std::map<std::uint32_t, std::uint64_t> lost_;
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

}  // namespace kvmscope::perfdata
