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
#include <vector>

#include "bpf/kvmscope_bpf.h"
#include "model/boot.h"
#include "model/drilldown.h"
#include "model/snapshot.h"
#include "model/stability.h"
#include "model/timeline.h"

namespace kvmscope::model {

struct AnalysisOptions {
  std::uint64_t bucket_ns = 0;  // timeline bucket width; 0 = automatic (auto_bucket_ns)
  // When the traced command started (CLOCK_MONOTONIC); unset: the marker labelled
  // kCommandStartedLabel, else the first event. The report's time 0 and the boots' start.
  std::optional<std::uint64_t> start_ns;
  // When recording stopped; unset: the last event. The report's duration runs to it.
  std::optional<std::uint64_t> end_ns;
  // The recording's markers: only kCommandStartedLabel is used (the start). Others, such as
  // "command exited status 0", only note what the recorder did and cut no phase.
  std::vector<Marker> markers;
  std::vector<PhaseMark> marks;         // --mark TIME=label: cut boot phases
  std::vector<Marker> phase_markers;    // absolute times that cut boot phases too
  std::map<std::uint32_t, VmInfo> vms;  // names, copied into the snapshot
  BurstRule burst_rule;
  std::size_t max_threads = 65536;  // vCPU threads whose pairing state is kept
  std::size_t max_drill_keys = DrillDown::kDefaultMaxKeys;
  std::size_t max_buckets = kMaxTimelineBuckets;
};

// What the analysis itself noticed about the event stream.
struct StreamFacts {
  std::uint64_t events = 0;
  std::uint64_t backward_steps = 0;    // events older than one already seen (tolerated)
  std::uint64_t max_backward_ns = 0;   // the largest such step
  std::uint64_t unknown_events = 0;    // type not known to this version: skipped
  std::uint64_t unpaired_entries = 0;  // an entry or KVM_RUN with no exit open on its thread
};

struct RecordingAnalysisResult {
  // started_ns: the report's time 0; taken_ns: its end. health.threads_not_stored: exits not
  // timed because the thread table was full.
  Snapshot snapshot;
  DrillDown drill;
  Timeline timeline;
  std::vector<RateStability> stability;
  BurstReport bursts;
  std::vector<BootSummary> boots;
  StreamFacts facts;
};

class RecordingAnalysis {
 public:
  explicit RecordingAnalysis(AnalysisOptions options = {});
  ~RecordingAnalysis();
  RecordingAnalysis(const RecordingAnalysis&) = delete;
  RecordingAnalysis& operator=(const RecordingAnalysis&) = delete;

  void add(std::span<const ks_event> events);
  // Call once, after the last add().
  RecordingAnalysisResult finish();

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace kvmscope::model
