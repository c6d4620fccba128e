#include "model/recording_analysis.h"

#include <algorithm>
#include <array>
#include <unordered_map>
#include <unordered_set>
#include <utility>

namespace kvmscope::model {

namespace {

// An exit waiting for the event that ends its handling: a hardware exit for the next VM entry,
// an exit to the VMM for the next KVM_RUN. Drill-down events seen in between share its time.
struct OpenExit {
  bool active = false;
  std::uint64_t ts_ns = 0;
  ExitStats* stats = nullptr;
  std::vector<ExitStats*> drills;

  // Opens it anew, or (stats nullptr) closes it untimed. Keeps the drills' buffer: assigning a
  // fresh OpenExit freed and later reallocated it on nearly every exit.
  void reset(bool now_active = false, std::uint64_t ts = 0, ExitStats* exit_stats = nullptr) {
    active = now_active;
    ts_ns = ts;
    stats = exit_stats;
    drills.clear();
  }
};

// A drill-down event seen outside any open exit. Where kvm_exit never fires (kvm_pvm), kvm_pio
// comes just before the exit to the VMM it causes; it shares that exit's time only if that
// exit is the very next event on the thread and of the matching kind.
struct Orphan {
  ExitStats* stats = nullptr;
  DrillKind kind = DrillKind::port;
};

// What the exits of one reason on one thread count into. Looking these up per exit (the
// snapshot's std::map by (VM, vCPU, reason), the timeline series, the boot phase's reason map)
// was about 40% of `report`'s time; a thread sees a handful of reasons, so each is found once
// and kept here. The targets are std::map nodes or stable ids: their addresses never change.
struct ReasonSlot {
  ExitStats* stats = nullptr;  // snapshot.exits[{tgid, vcpu, reason}]
  std::size_t series = 0;      // TimelineBuilder::series(reason)
  BootTracker::ReasonCounter boot;
};

// Thread::reasons is indexed by the reason's dense id (its timeline series); ids beyond this
// (a recording with very many distinct reasons) are looked up per exit instead.
constexpr std::size_t kMaxReasonSlots = 64;

// Reason -> dense id, direct-mapped by a hash of the reason's 8 bytes: spares the timeline's
// std::map lookup per exit, and indexing Thread::reasons by id spares a search among them
// (a scan's exit branch mispredicted on nearly every exit, reasons come in random order).
struct ReasonIdSlot {
  std::uint64_t packed = ~std::uint64_t{0};  // no Reason packs to this
  std::size_t id = 0;
};
constexpr std::size_t kReasonIdCacheBits = 8;

std::uint64_t pack(const Reason& r) {
  return std::uint64_t{r.code} | std::uint64_t{static_cast<std::uint16_t>(r.isa)} << 32 |
         std::uint64_t{static_cast<std::uint8_t>(r.level)} << 48;
}

struct Thread {
  Thread(std::uint32_t process, BootTracker::Vm* vm) : tgid(process), boot_vm(vm) {}
  std::uint32_t tgid = 0;
  std::uint32_t vcpu = kUnknownVcpu;
  BootTracker::Vm* boot_vm = nullptr;  // the VM's boot state, looked up once (nullptr: none)
  OpenExit hw;
  OpenExit vmm;
  SiteStats* site = nullptr;  // the guest RIP's row of the open hardware exit (guest_sites)
  std::optional<Orphan> orphan;
  // By reason id; a slot with stats nullptr is not filled yet. Valid for this tgid and vcpu:
  // cleared when vcpu changes.
  std::vector<ReasonSlot> reasons;
};

// Recently used threads by tid, direct-mapped. vCPU threads interleave event by event, so a
// single "last thread" would rarely hit; their tids are usually consecutive, so they fall in
// distinct slots and nearly every event finds its thread without hashing (the unordered_map's
// bucket modulo was hot). unordered_map elements keep their addresses until erased.
struct ThreadCacheSlot {
  std::uint32_t tid = 0;
  Thread* thread = nullptr;
};
constexpr std::size_t kThreadCacheSlots = 64;

// Recently used drill-down rows, direct-mapped by a hash of the key: DrillDown::at is a
// std::map walk. A key's row never changes once found (rows are not erased, and a key sent to
// the `other` row stays there, the per-kind count only grows).
struct DrillCacheSlot {
  DrillKey key;
  ExitStats* stats = nullptr;
};
constexpr std::size_t kDrillCacheBits = 10;

std::size_t drill_cache_index(const DrillKey& k) {
  const std::uint64_t h = (k.value ^ (std::uint64_t{k.vm_pid} << 32) ^
                           (std::uint64_t{k.flags} << 8) ^ static_cast<std::uint64_t>(k.kind)) *
                          0x9e3779b97f4a7c15ull;
  return static_cast<std::size_t>(h >> (64 - kDrillCacheBits));
}

// The same rule as the BPF collector's (ks_drill_causes), so stat --by and report agree.
bool causes(DrillKind kind, std::uint32_t kvm_exit) {
  switch (kind) {
    case DrillKind::port:
      return ks_drill_causes(KS_DRILL_PORT, kvm_exit);
    case DrillKind::mmio:
      return ks_drill_causes(KS_DRILL_MMIO, kvm_exit);
    case DrillKind::msr:
      return ks_drill_causes(KS_DRILL_MSR, kvm_exit);
    case DrillKind::hypercall:
      return ks_drill_causes(KS_DRILL_HYPERCALL, kvm_exit);
    case DrillKind::cpuid:
      return ks_drill_causes(KS_DRILL_CPUID, kvm_exit);
  }
  return false;
}

void add_time(ExitStats& stats, std::uint64_t ns) {
  ++stats.timed;
  stats.time_ns += ns;
  stats.max_ns = std::max(stats.max_ns, ns);
  stats.hist.add(ns);
  stats.sketch.add(ns);
}

// The marks no boot has a phase for (BootTracker drops a phase that would begin at or after
// its boot's end), with the end that made them so: the recording's (`end_ns`) or the boots'.
std::vector<UnusedMark> unused_marks(const std::vector<PhaseMark>& marks,
                                     const std::vector<BootSummary>& boots, std::uint64_t end_ns) {
  std::vector<UnusedMark> out;
  for (const PhaseMark& m : marks) {
    bool used = false;
    std::uint64_t longest_boot = 0, longest_recording = 0;
    for (const BootSummary& b : boots) {
      for (const BootPhase& p : b.phases) used |= p.begin_ns == b.start_ns + m.offset_ns;
      longest_boot = std::max(longest_boot, b.end_ns - b.start_ns);
      longest_recording =
          std::max(longest_recording, end_ns > b.start_ns ? end_ns - b.start_ns : 0);
    }
    if (used) continue;
    if (boots.empty())
      out.push_back({m, UnusedMark::Why::no_boot, 0});
    else if (m.offset_ns >= longest_recording)
      out.push_back({m, UnusedMark::Why::after_recording, longest_recording});
    else
      out.push_back({m, UnusedMark::Why::after_boots, longest_boot});
  }
  return out;
}

std::optional<std::uint64_t> command_started(const AnalysisOptions& options) {
  if (options.start_ns) return options.start_ns;
  for (const Marker& m : options.markers)
    if (m.label == kCommandStartedLabel) return m.ts_ns;
  return std::nullopt;
}

}  // namespace

// Recently used guest-RIP rows, direct-mapped by RIP; kernel RIPs only (a low RIP's row depends
// on whether its VM has reached its kernel yet, GuestSites::at decides that).
struct SiteCacheSlot {
  std::uint64_t rip = 0;
  std::uint64_t reason = 0;  // pack(reason)
  std::uint32_t vm_pid = 0;
  SiteStats* site = nullptr;
};
constexpr std::size_t kSiteCacheBits = 10;

struct RecordingAnalysis::State {
  explicit State(AnalysisOptions o)
      : options(std::move(o)),
        start_ns(command_started(options)),
        drill(options.max_drill_keys),
        sites(options.max_guest_sites),
        boot(start_ns, options.phase_markers, options.marks) {
    add_markers(options.markers);
  }

  void add_markers(std::span<const Marker> markers) {
    for (const Marker& m : markers)
      if (const auto pid = process_started_pid(m.label)) boot.process_started(*pid, m.ts_ns);
  }

  void event(const ks_event& e);
  Thread* thread_of(const ks_event& e);
  void close(OpenExit& open, std::uint64_t ts_ns);
  ExitStats& count_exit(const ks_event& e, Thread* t, const Reason& reason);
  std::size_t reason_id(const Reason& reason);
  ReasonSlot* slot_of(Thread& t, const Reason& reason);
  ExitStats& drill_stats(const DrillKey& key);
  void drill_event(Thread* t, const DrillKey& key);
  SiteStats& site_of(const ks_event& e, const Reason& reason);
  void process_exit(const ks_event& e);
  // The report's time 0: the command's start, else the recording's.
  std::optional<std::uint64_t> time_zero() const {
    return start_ns ? start_ns : options.recording_start_ns;
  }

  AnalysisOptions options;
  std::optional<std::uint64_t> start_ns;  // the command's start
  Snapshot snapshot;
  DrillDown drill;
  GuestSites sites;
  std::array<SiteCacheSlot, std::size_t{1} << kSiteCacheBits> site_cache{};  // into sites
  BootTracker boot;
  StreamFacts facts;
  std::unordered_map<std::uint32_t, Thread> threads;                            // by tid
  std::array<ThreadCacheSlot, kThreadCacheSlots> thread_cache{};                // into threads
  std::array<DrillCacheSlot, std::size_t{1} << kDrillCacheBits> drill_cache{};  // into drill
  std::array<ReasonIdSlot, std::size_t{1} << kReasonIdCacheBits> reason_ids{};
  // The processes that used KVM: only their names go into the snapshot. Filled where a thread is
  // met, not per event (a hash per event costs).
  std::unordered_set<std::uint32_t> kvm_processes;
  std::optional<TimelineBuilder> timeline;           // made at the first event
  std::optional<TimelineBuilder> function_timeline;  // likewise, with options.function_series
  std::uint64_t max_ts_ns = 0;
};

Thread* RecordingAnalysis::State::thread_of(const ks_event& e) {
  ThreadCacheSlot& cached = thread_cache[e.tid % kThreadCacheSlots];
  Thread* t = cached.thread;
  if (!t || cached.tid != e.tid) {
    auto it = threads.find(e.tid);
    if (it == threads.end()) {
      kvm_processes.insert(e.tgid);
      if (threads.size() >= options.max_threads) return nullptr;
      it = threads.emplace(e.tid, Thread(e.tgid, boot.vm(e.tgid, e.ts_ns))).first;
    }
    t = &it->second;
    cached = {e.tid, t};
  }
  if (t->tgid != e.tgid) {  // tid reused
    kvm_processes.insert(e.tgid);
    *t = Thread(e.tgid, boot.vm(e.tgid, e.ts_ns));
  }
  return t;
}

void RecordingAnalysis::State::close(OpenExit& open, std::uint64_t ts_ns) {
  if (!open.active) {
    ++facts.unpaired_entries;
    return;
  }
  // Within one thread events cannot pass each other; a negative time would mean a broken
  // recording, so it is not measured rather than measured wrong.
  if (ts_ns >= open.ts_ns) {
    const std::uint64_t ns = ts_ns - open.ts_ns;
    add_time(*open.stats, ns);
    for (ExitStats* d : open.drills) add_time(*d, ns);
  }
  open.active = false;
  open.drills.clear();
}

std::size_t RecordingAnalysis::State::reason_id(const Reason& reason) {
  const std::uint64_t packed = pack(reason);
  ReasonIdSlot& cached = reason_ids[static_cast<std::size_t>((packed * 0x9e3779b97f4a7c15ull) >>
                                                             (64 - kReasonIdCacheBits))];
  if (cached.packed != packed) cached = {packed, timeline->series(reason)};
  return cached.id;
}

ReasonSlot* RecordingAnalysis::State::slot_of(Thread& t, const Reason& reason) {
  const std::size_t id = reason_id(reason);
  if (id >= kMaxReasonSlots) return nullptr;
  if (t.reasons.size() <= id) t.reasons.resize(id + 1);
  ReasonSlot& slot = t.reasons[id];
  if (!slot.stats) slot = {&snapshot.exits[{t.tgid, t.vcpu, reason}], id, {}};
  return &slot;
}

ExitStats& RecordingAnalysis::State::count_exit(const ks_event& e, Thread* t,
                                                const Reason& reason) {
  // With a thread, the exit's vCPU is t->vcpu (just updated from the event when it has one).
  if (ReasonSlot* slot = t ? slot_of(*t, reason) : nullptr) {
    ++slot->stats->count;  // counted here, timed (or not) when its handling ends
    timeline->add(e.ts_ns, slot->series);
    boot.exit(t->boot_vm, e.ts_ns, reason, slot->boot);
    return *slot->stats;
  }
  const std::uint32_t vcpu = e.vcpu != KS_VCPU_UNKNOWN ? e.vcpu : t ? t->vcpu : kUnknownVcpu;
  ExitStats& stats = snapshot.exits[{e.tgid, vcpu, reason}];
  ++stats.count;  // counted here, timed (or not) when its handling ends
  timeline->add(e.ts_ns, reason);
  boot.exit(e.tgid, e.ts_ns, reason);
  if (!t) ++snapshot.health.threads_not_stored;
  return stats;
}

ExitStats& RecordingAnalysis::State::drill_stats(const DrillKey& key) {
  DrillCacheSlot& cached = drill_cache[drill_cache_index(key)];
  if (!cached.stats || !(cached.key == key)) cached = {key, &drill.at(key)};
  return *cached.stats;
}

void RecordingAnalysis::State::drill_event(Thread* t, const DrillKey& key) {
  ExitStats& stats = drill_stats(key);
  ++stats.count;
  if (!t) return;
  if (t->hw.active) {
    t->hw.drills.push_back(&stats);
  } else if (t->vmm.active) {
    t->vmm.drills.push_back(&stats);
  } else {
    t->orphan = Orphan{&stats, key.kind};
  }
}

SiteStats& RecordingAnalysis::State::site_of(const ks_event& e, const Reason& reason) {
  if (e.c < kGuestKernelStart) return sites.at(e.tgid, reason, e.c);
  const std::uint64_t packed = pack(reason);
  SiteCacheSlot& cached = site_cache[static_cast<std::size_t>(
      ((e.c ^ packed) * 0x9e3779b97f4a7c15ull) >> (64 - kSiteCacheBits))];
  if (!cached.site || cached.rip != e.c || cached.reason != packed || cached.vm_pid != e.tgid)
    cached = {e.c, packed, e.tgid, &sites.at(e.tgid, reason, e.c)};
  return *cached.site;
}

void RecordingAnalysis::State::process_exit(const ks_event& e) {
  boot.process_exit(e.tgid, e.ts_ns);
  // Its threads are gone: open exits stay counted but untimed, and the table makes room.
  std::erase_if(threads, [&](const auto& entry) { return entry.second.tgid == e.tgid; });
  thread_cache.fill({});
}

void RecordingAnalysis::State::event(const ks_event& e) {
  ++facts.events;
  if (!timeline) {
    timeline.emplace(time_zero().value_or(e.ts_ns), options.bucket_ns, options.max_buckets);
    if (options.function_series)
      function_timeline.emplace(time_zero().value_or(e.ts_ns), options.bucket_ns,
                                options.max_buckets);
    max_ts_ns = e.ts_ns;
  } else if (e.ts_ns < max_ts_ns) {
    ++facts.backward_steps;
    facts.max_backward_ns = std::max(facts.max_backward_ns, max_ts_ns - e.ts_ns);
  } else {
    max_ts_ns = e.ts_ns;
  }
  if (e.type < KS_EV_EXIT || e.type > KS_EV_TYPE_MAX) {
    ++facts.unknown_events;
    return;
  }
  if (e.type == KS_EV_PROCESS_EXIT) {  // of any traced process: not a KVM event
    process_exit(e);
    return;
  }

  Thread* t = thread_of(e);
  std::optional<Orphan> orphan;  // only the very next event on the thread may claim it
  if (t) {
    boot.event(t->boot_vm, e.ts_ns);
    if (e.vcpu != KS_VCPU_UNKNOWN && e.vcpu != t->vcpu) {
      t->vcpu = e.vcpu;
      t->reasons.clear();  // their stats are the old vCPU's
    }
    orphan = std::exchange(t->orphan, std::nullopt);
  } else {
    boot.event(e.tgid, e.ts_ns);
  }

  switch (e.type) {
    case KS_EV_EXIT: {
      const Reason reason{Level::hardware, static_cast<Isa>(e.b), static_cast<std::uint32_t>(e.a)};
      ExitStats& stats = count_exit(e, t, reason);
      if (options.function_series) {
        const auto it = options.function_series->find({e.tgid, e.c});
        const std::uint32_t series =
            it == options.function_series->end() ? options.other_function_series : it->second;
        function_timeline->add(e.ts_ns, Reason{Level::hardware, Isa::none, series});
      }
      SiteStats* site = nullptr;
      if (options.guest_sites) {
        site = &site_of(e, reason);
        ++site->stats.count;
      }
      if (!t) break;
      // Whatever is still open lost its end (an entry or KVM_RUN not recorded): untimed.
      t->vmm.reset();
      t->hw.reset(true, e.ts_ns, &stats);
      t->site = site;
      if (site) t->hw.drills.push_back(&site->stats);  // timed with the exit
      break;
    }
    case KS_EV_ENTRY:
      if (!t) break;
      t->vmm.reset();
      close(t->hw, e.ts_ns);
      break;
    case KS_EV_USERSPACE_EXIT: {
      const auto code = static_cast<std::uint32_t>(e.a);
      ExitStats& stats = count_exit(e, t, {Level::vmm, Isa::none, code});
      if (code == KS_KVM_EXIT_SHUTDOWN) boot.shutdown(e.tgid, e.ts_ns);
      if (!t) break;
      t->vmm.reset(true, e.ts_ns, &stats);
      if (orphan && causes(orphan->kind, code)) t->vmm.drills.push_back(orphan->stats);
      break;
    }
    case KS_EV_KVM_RUN:
      // The first KVM_RUN of a vCPU has no exit before it: not an unpaired event.
      if (t && t->vmm.active) close(t->vmm, e.ts_ns);
      break;
    case KS_EV_PIO:
      drill_event(t,
                  port_key(e.tgid, e.a, e.b != 0, static_cast<std::uint32_t>(e.c & 0xffffffffu)));
      if (t && t->hw.active && t->site)
        GuestSites::note_io(*t->site, e.b != 0, static_cast<std::uint32_t>(e.c & 0xffffffffu), e.a);
      break;
    case KS_EV_MMIO:
      drill_event(t, mmio_key(e.tgid, e.a, static_cast<MmioAccess>(e.b & 0xff)));
      break;
    case KS_EV_MSR:
      drill_event(t, msr_key(e.tgid, e.a, e.b != 0, e.c != 0));
      if (t && t->hw.active && t->site) GuestSites::note_msr(*t->site, e.b != 0);
      break;
    case KS_EV_CPUID:
      drill_event(t, cpuid_key(e.tgid, e.a));
      break;
    case KS_EV_HYPERCALL:
      drill_event(t, hypercall_key(e.tgid, e.a));
      break;
    default:
      break;
  }
}

RecordingAnalysis::RecordingAnalysis(AnalysisOptions options)
    : state_(std::make_unique<State>(std::move(options))) {}

RecordingAnalysis::~RecordingAnalysis() = default;

void RecordingAnalysis::add(std::span<const ks_event> events) {
  for (const ks_event& e : events) state_->event(e);
}

void RecordingAnalysis::add_markers(std::span<const Marker> markers) {
  state_->add_markers(markers);
}

void RecordingAnalysis::name_vms(const std::map<std::uint32_t, VmInfo>& vms) {
  for (const auto& [pid, info] : vms) state_->options.vms[pid] = info;
}

RecordingAnalysisResult RecordingAnalysis::finish(std::optional<std::uint64_t> end_ns) {
  State& s = *state_;
  RecordingAnalysisResult r;
  const std::uint64_t end = end_ns.value_or(s.max_ts_ns);
  r.snapshot = std::move(s.snapshot);
  r.snapshot.started_ns = s.time_zero().value_or(0);
  if (s.timeline) {
    r.timeline = s.timeline->finish(end);
    if (s.function_timeline) r.function_timeline = s.function_timeline->finish(end);
    r.snapshot.started_ns = r.timeline.start_ns;
  }
  r.snapshot.taken_ns = std::max(end, r.snapshot.started_ns);
  for (const auto& [pid, info] : s.options.vms)
    if (s.kvm_processes.contains(pid)) r.snapshot.vms[pid] = info;
  r.drill = std::move(s.drill);
  r.sites = std::move(s.sites);
  r.stability = rate_stability(r.timeline);
  r.bursts = find_bursts(r.timeline, s.options.burst_rule);
  r.boots = s.boot.finish();
  r.unused_marks = unused_marks(s.options.marks, r.boots, r.snapshot.taken_ns);
  r.facts = s.facts;
  return r;
}

}  // namespace kvmscope::model
