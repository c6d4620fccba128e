// Analysis of a recording (`kvmscope report`): fed the recorded events in batches, in roughly
// time order, it produces the same Snapshot `kvmscope stat` does (so the same tables print), the
// drill-downs, the timeline, rate stability, bursts and boot summaries. Streaming: memory is
// bounded by threads, keys and buckets, never by the number of events.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <unordered_map>
#include <vector>

#include "bpf/kvmscope_bpf.h"
#include "model/boot.h"
#include "model/drilldown.h"
#include "model/guest_sites.h"
#include "model/snapshot.h"
#include "model/stability.h"
#include "model/timeline.h"

namespace kvmscope::model {

struct AnalysisOptions {
  std::uint64_t bucket_ns = 0;  // timeline bucket width; 0 = automatic (auto_bucket_ns)
  // When the traced command started (CLOCK_MONOTONIC); unset: the marker labelled
  // kCommandStartedLabel. The report's time 0 and the boots' start.
  std::optional<std::uint64_t> start_ns;
  // When recording began (the file's own start): time 0 where no command started; unset too:
  // the first event. Not a VM's start.
  std::optional<std::uint64_t> recording_start_ns;
  // The recording's markers: kCommandStartedLabel (the start) and process_started_label (a VM's
  // own start) are used. Others, such as "command exited status 0", only note what the recorder
  // did and cut no phase.
  std::vector<Marker> markers;
  std::vector<PhaseMark> marks;       // --mark TIME=label: cut boot phases
  std::vector<Marker> phase_markers;  // absolute times that cut boot phases too
  // Names by pid; the snapshot keeps those of the processes that used KVM (the VMs).
  std::map<std::uint32_t, VmInfo> vms;
  BurstRule burst_rule;
  std::size_t max_threads = 65536;  // vCPU threads whose pairing state is kept
  std::size_t max_drill_keys = DrillDown::kDefaultMaxKeys;
  std::size_t max_buckets = kMaxTimelineBuckets;
  // Count the hardware exits per guest RIP too (report --guest-symbols, --by function).
  bool guest_sites = false;
  std::size_t max_guest_sites = GuestSites::kDefaultMaxSites;
  // The timeline by guest function (report --html with guest symbols, a second pass once the
  // functions are known): each hardware exit's (VM, RIP) gives its series; RIPs not listed count
  // in `other_function_series`. Series s is kept as Reason{hardware, none, s}. nullptr: none.
  const std::unordered_map<GuestRip, std::uint32_t, GuestRipHash>* function_series = nullptr;
  std::uint32_t other_function_series = 0;
};

// What the analysis itself noticed about the event stream.
struct StreamFacts {
  std::uint64_t events = 0;
  std::uint64_t backward_steps = 0;    // events older than one already seen (tolerated)
  std::uint64_t max_backward_ns = 0;   // the largest such step
  std::uint64_t unknown_events = 0;    // type not known to this version: skipped
  std::uint64_t unpaired_entries = 0;  // an entry or KVM_RUN with no exit open on its thread
};

// A --mark that began no boot phase, and why: it fell after every boot's end or after the
// recording's own end, or there was no boot to cut.
struct UnusedMark {
  enum class Why { no_boot, after_boots, after_recording };
  PhaseMark mark;
  Why why = Why::no_boot;
  // after_boots: the longest boot (from its start to its end); after_recording: how long after
  // the latest boot start the recording ended. The mark's offset is at or past it.
  std::uint64_t limit_ns = 0;
};

struct RecordingAnalysisResult {
  // started_ns: the report's time 0; taken_ns: its end. health.threads_not_stored: exits not
  // timed because the thread table was full.
  Snapshot snapshot;
  DrillDown drill;
  GuestSites sites;  // empty unless AnalysisOptions::guest_sites
  Timeline timeline;
  Timeline function_timeline;  // empty unless AnalysisOptions::function_series
  std::vector<RateStability> stability;
  BurstReport bursts;
  std::vector<BootSummary> boots;
  std::vector<UnusedMark> unused_marks;  // of AnalysisOptions::marks, in their order
  StreamFacts facts;
};

class RecordingAnalysis {
 public:
  explicit RecordingAnalysis(AnalysisOptions options = {});
  ~RecordingAnalysis();
  RecordingAnalysis(const RecordingAnalysis&) = delete;
  RecordingAnalysis& operator=(const RecordingAnalysis&) = delete;

  void add(std::span<const ks_event> events);
  // More names (a recording names processes as it meets them): added to options.vms, a later
  // name for a pid replacing the earlier.
  void name_vms(const std::map<std::uint32_t, VmInfo>& vms);
  // Markers met while reading (a recording writes a VM's process_started_label marker before the
  // VM's first event): as options.markers, for VMs not seen yet.
  void add_markers(std::span<const Marker> markers);
  // Call once, after the last add(). end_ns: when recording stopped (a file says so at its end);
  // unset: the last event. The report's duration runs to it.
  RecordingAnalysisResult finish(std::optional<std::uint64_t> end_ns = std::nullopt);

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace kvmscope::model
