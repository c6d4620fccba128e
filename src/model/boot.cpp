#include "model/boot.h"

#include <algorithm>
#include <charconv>
#include <limits>
#include <utility>

namespace kvmscope::model {

namespace {
constexpr std::string_view kProcessPrefix = "process ";
constexpr std::string_view kStartedSuffix = " started";
}  // namespace

std::string process_started_label(std::uint32_t pid) {
  return std::string(kProcessPrefix) + std::to_string(pid) + std::string(kStartedSuffix);
}

std::optional<std::uint32_t> process_started_pid(std::string_view label) {
  if (!label.starts_with(kProcessPrefix) || !label.ends_with(kStartedSuffix)) return std::nullopt;
  label.remove_prefix(kProcessPrefix.size());
  label.remove_suffix(kStartedSuffix.size());
  std::uint32_t pid = 0;
  const auto [end, ec] = std::from_chars(label.data(), label.data() + label.size(), pid);
  if (ec != std::errc() || end != label.data() + label.size() || label.empty()) return std::nullopt;
  return pid;
}

std::vector<std::pair<Reason, std::uint64_t>> top_reasons(const BootPhase& phase, Level level,
                                                          std::size_t n) {
  std::vector<std::pair<Reason, std::uint64_t>> top;
  for (const auto& [reason, count] : phase.reasons)
    if (reason.level == level && count > 0) top.emplace_back(reason, count);
  std::stable_sort(top.begin(), top.end(),
                   [](const auto& a, const auto& b) { return a.second > b.second; });
  if (top.size() > n) top.resize(n);
  return top;
}

BootTracker::BootTracker(std::optional<std::uint64_t> command_started_ns,
                         std::vector<Marker> markers, std::vector<PhaseMark> marks)
    : command_started_ns_(command_started_ns), marks_(std::move(marks)) {
  for (Marker& m : markers)
    if (m.label != kCommandStartedLabel && !process_started_pid(m.label))
      markers_.push_back(std::move(m));
}

void BootTracker::process_started(std::uint32_t vm, std::uint64_t ts_ns) {
  process_started_ns_[vm] = ts_ns;
}

BootTracker::Vm* BootTracker::vm_at(std::uint32_t vm, std::uint64_t ts_ns) {
  const auto it = vms_.find(vm);
  if (it != vms_.end()) return &it->second;
  if (vms_.size() >= kMaxVms) return nullptr;

  Vm& v = vms_[vm];
  v.summary.vm_pid = vm;
  const auto process_start = process_started_ns_.find(vm);
  std::uint64_t start = ts_ns;
  v.summary.start_from = BootStart::first_event;
  if (command_started_ns_) {
    v.summary.start_from = BootStart::command_started;
    start = *command_started_ns_;
  } else if (process_start != process_started_ns_.end()) {
    v.summary.start_from = BootStart::process_started;
    start = process_start->second;
  }
  v.summary.start_ns = start;
  v.last_event_ns = ts_ns;

  // Cuts in time order; a cut at the start itself names the first phase, one before it is
  // outside the boot. With several at the same time the last one given wins.
  std::vector<std::pair<std::uint64_t, std::string>> cuts;
  for (const Marker& m : markers_) cuts.emplace_back(m.ts_ns, m.label);
  for (const PhaseMark& m : marks_) cuts.emplace_back(start + m.offset_ns, m.label);
  std::stable_sort(cuts.begin(), cuts.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  v.cuts.push_back(start);
  v.labels.emplace_back(kFirstPhaseLabel);
  for (auto& [ts, label] : cuts) {
    if (ts < start) continue;
    if (ts == v.cuts.back()) {
      v.labels.back() = std::move(label);
    } else {
      v.cuts.push_back(ts);
      v.labels.push_back(std::move(label));
    }
  }
  v.phases.resize(v.cuts.size());
  return &v;
}

void BootTracker::event(std::uint32_t vm, std::uint64_t ts_ns) {
  event(vm_at(vm, ts_ns), ts_ns);
}

std::size_t BootTracker::phase_of(Vm& v, std::uint64_t ts_ns) {
  if (ts_ns >= v.phase_lo_ns && ts_ns < v.phase_hi_ns) return v.last_phase;
  const auto after = std::upper_bound(v.cuts.begin(), v.cuts.end(), ts_ns);
  const std::size_t phase = after == v.cuts.begin() ? 0 : (after - v.cuts.begin()) - 1;
  v.last_phase = phase;
  v.phase_lo_ns = phase == 0 ? 0 : v.cuts[phase];
  v.phase_hi_ns =
      phase + 1 < v.cuts.size() ? v.cuts[phase + 1] : std::numeric_limits<std::uint64_t>::max();
  return phase;
}

std::optional<std::size_t> BootTracker::count(Vm& v, std::uint64_t ts_ns, const Reason& reason) {
  v.last_event_ns = std::max(v.last_event_ns, ts_ns);
  BootSummary& s = v.summary;
  if (s.end_by != BootEnd::none && ts_ns > s.end_ns) return std::nullopt;  // not boot
  if (!s.first_exit_ns || ts_ns < *s.first_exit_ns) s.first_exit_ns = ts_ns;
  const std::size_t phase = phase_of(v, ts_ns);
  BootPhase& p = v.phases[phase];
  if (reason.level == Level::hardware) {
    ++s.hardware_exits;
    ++p.hardware_exits;
  } else {
    ++s.vmm_exits;
    ++p.vmm_exits;
  }
  return phase;
}

void BootTracker::exit(std::uint32_t vm, std::uint64_t ts_ns, const Reason& reason) {
  Vm* v = vm_at(vm, ts_ns);
  if (!v) return;
  if (const auto phase = count(*v, ts_ns, reason)) ++v->phases[*phase].reasons[reason];
}

void BootTracker::exit(Vm* v, std::uint64_t ts_ns, const Reason& reason, ReasonCounter& counter) {
  if (!v) return;
  const auto phase = count(*v, ts_ns, reason);
  if (!phase) return;
  if (counter.phase != *phase) counter = {*phase, &v->phases[*phase].reasons[reason]};
  ++*counter.count;
}

void BootTracker::end(std::uint32_t vm, std::uint64_t ts_ns, BootEnd by) {
  Vm* v = vm_at(vm, ts_ns);
  if (!v) return;
  v->last_event_ns = std::max(v->last_event_ns, ts_ns);
  if (v->summary.end_by != BootEnd::none) return;  // the first end counts
  v->summary.end_by = by;
  v->summary.end_ns = ts_ns;
}

void BootTracker::shutdown(std::uint32_t vm, std::uint64_t ts_ns) {
  end(vm, ts_ns, BootEnd::shutdown);
}

void BootTracker::process_exit(std::uint32_t vm, std::uint64_t ts_ns) {
  if (vms_.contains(vm)) end(vm, ts_ns, BootEnd::process_exit);
}

std::vector<BootSummary> BootTracker::finish() const {
  std::vector<BootSummary> out;
  for (const auto& [pid, v] : vms_) {
    BootSummary s = v.summary;
    if (s.end_by == BootEnd::none) s.end_ns = std::max(v.last_event_ns, s.start_ns);
    for (std::size_t i = 0; i < v.phases.size(); ++i) {
      BootPhase p = v.phases[i];
      p.label = v.labels[i];
      p.begin_ns = v.cuts[i];
      p.end_ns = i + 1 < v.cuts.size() ? std::min(v.cuts[i + 1], s.end_ns) : s.end_ns;
      const bool empty = p.hardware_exits == 0 && p.vmm_exits == 0;
      if (i > 0 && p.begin_ns >= s.end_ns && empty) continue;  // begins after the end
      p.end_ns = std::max(p.end_ns, p.begin_ns);
      s.phases.push_back(std::move(p));
    }
    out.push_back(std::move(s));
  }
  std::sort(out.begin(), out.end(),
            [](const BootSummary& a, const BootSummary& b) { return a.vm_pid < b.vm_pid; });
  return out;
}

}  // namespace kvmscope::model
