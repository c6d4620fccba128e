#include "perfdata/perf_reader.h"

#include <fcntl.h>
#include <sys/stat.h>

#include <algorithm>
#include <unordered_map>
#include <unordered_set>

#include "model/boot.h"
#include "model/thread_table.h"
#include "model/tracepoint_events.h"
#include "perfdata/perf_format.h"
#include "perfdata/perf_header.h"
#include "perfdata/perf_records.h"
#include "perfdata/perf_sample.h"

namespace kvmscope::perfdata {
namespace {

constexpr std::size_t kMaxComms = 1u << 20;

std::string join(const std::vector<std::string>& parts, const char* sep) {
  std::string out;
  for (const std::string& p : parts) out += (out.empty() ? "" : sep) + p;
  return out;
}

std::uint64_t le(std::span<const std::uint8_t> b, std::size_t at, int n) {
  std::uint64_t v = 0;
  for (int i = 0; i < n; ++i) v |= static_cast<std::uint64_t>(b[at + i]) << (8 * i);
  return v;
}

bool by_time(const ks_event& a, const ks_event& b) {
  return a.ts_ns < b.ts_ns;
}

}  // namespace

struct PerfDataReader::Impl {
  util::Fd fd;
  PerfMeta meta;
  PerfAttrs attrs;
  std::unique_ptr<PerfRecordStream> stream;
  model::ThreadTable threads;
  std::unique_ptr<model::TracepointEvents> events;
  bool stream_end = false;

  // Ordering (see the header): samples not yet safe to hand out, and those that are, sorted.
  std::vector<ks_event> pending;
  std::vector<ks_event> ready;
  std::size_t ready_pos = 0;
  std::uint64_t next_flush = 0;  // the latest time of the round before the last one
  std::uint64_t max_ts = 0;
  // The earliest time met, of an event or a process start: the recording's start (perf record
  // -- CMD enables its events at CMD's exec, which is that start).
  std::uint64_t earliest = ~0ull;
  std::uint64_t last_out = 0;
  std::uint64_t out_of_order = 0;

  std::unordered_map<std::uint32_t, std::string> comms;  // tid -> comm
  // pid -> when the process began (its FORK, else its exec's COMM), for its boot summary; and
  // the pids whose start has been handed out as a marker.
  std::unordered_map<std::uint32_t, std::uint64_t> started;
  std::unordered_set<std::uint32_t> marked;
  std::unordered_set<std::uint32_t> live_vms;                // pids with KVM events, not exited
  std::unordered_map<std::uint32_t, std::uint32_t> vcpu_of;  // tid -> vCPU, at hand-out
  std::uint64_t samples = 0;
  std::uint64_t bad_samples = 0;
  std::uint64_t first_bad = 0;
  std::uint64_t unreadable_early = 0;           // samples before the tracing data (pipe)
  std::string tracing_damage;                   // a pipe's tracing data that does not read
  std::map<std::uint32_t, std::uint64_t> lost;  // by CPU, not yet taken by the reader

  void push(const ks_event& e) {
    earliest = std::min(earliest, e.ts_ns);
    pending.push_back(e);
    max_ts = std::max(max_ts, e.ts_ns);
    if (pending.size() >= kMaxPending) {  // perf's "flush half" when its queue is full
      std::stable_sort(pending.begin(), pending.end(), by_time);
      const auto half = pending.begin() + static_cast<std::ptrdiff_t>(pending.size() / 2);
      ready.insert(ready.end(), pending.begin(), half);
      pending.erase(pending.begin(), half);
    }
  }
  void flush(std::uint64_t limit) {
    auto mid = std::stable_partition(pending.begin(), pending.end(),
                                     [&](const ks_event& e) { return e.ts_ns <= limit; });
    std::stable_sort(pending.begin(), mid, by_time);
    ready.insert(ready.end(), pending.begin(), mid);
    pending.erase(pending.begin(), mid);
  }
  void note_start(std::uint32_t pid, std::uint64_t time) {
    if (started.size() < kMaxComms) started.emplace(pid, time);  // the first (FORK) wins
    earliest = std::min(earliest, time);
  }
  void bad(std::uint64_t offset) {
    if (bad_samples++ == 0) first_bad = offset;
  }
  void build_events() {
    if (meta.tracing && !events)
      events = std::make_unique<model::TracepointEvents>(*meta.tracing, threads);
  }

  void sample(const PerfRecord& r);
  void other(const PerfRecord& r);
  void take(const PerfRecord& r);
  // Reads records until an event is ready or the data ends.
  void pump() {
    PerfRecord r;
    while (ready_pos == ready.size() && !stream_end) {
      if (ready_pos > 0) {
        ready.clear();
        ready_pos = 0;
      }
      if (!stream->next(r)) {
        stream_end = true;
        flush(~0ull);
        break;
      }
      take(r);
    }
  }
};

void PerfDataReader::Impl::sample(const PerfRecord& r) {
  ++samples;
  const PerfAttr* attr = attrs.of_sample(r.body);
  if (attr == nullptr) return bad(r.offset);
  if (attr->type != kTypeTracepoint) return;
  PerfSample s;
  if (!parse_sample(r.body, *attr, s)) return bad(r.offset);
  if (s.raw.empty()) return;
  if (!events) {
    ++unreadable_early;
    return;
  }
  if (s.has_tid) threads.joins(s.tid, s.pid);
  ks_event e;
  const auto cpu = static_cast<std::uint16_t>(std::min<std::uint32_t>(s.cpu, 0xffff));
  const std::uint64_t damaged_before = events->damaged();
  if (!events->map(s.raw, cpu, e)) {
    if (events->damaged() != damaged_before) bad(r.offset);
    return;
  }
  e.ts_ns = s.time;
  if (s.has_tid && e.type != KS_EV_PROCESS_EXIT) {
    e.tgid = s.pid;
    e.tid = s.tid;
  }
  if (e.type == KS_EV_PROCESS_EXIT) {
    if (live_vms.erase(e.tgid) == 0) return;  // not a VM, or its EXIT record came first
  } else if (live_vms.size() < kMaxComms) {
    live_vms.insert(e.tgid);
  }
  push(e);
}

void PerfDataReader::Impl::other(const PerfRecord& r) {
  const auto& b = r.body;
  switch (r.type) {
    case kRecordComm: {
      if (b.size() < 9) return;
      const auto pid = static_cast<std::uint32_t>(le(b, 0, 4));
      const auto tid = static_cast<std::uint32_t>(le(b, 4, 4));
      if ((r.misc & kMiscCommExec) && pid == tid) {  // perf record -- CMD: the CMD's exec
        PerfSample s;
        const PerfAttr* attr = attrs.of_other(b);
        if (attr != nullptr && parse_sample_id(b, *attr, s) && s.has_time && s.time != 0)
          note_start(pid, s.time);
      }
      std::string comm(reinterpret_cast<const char*>(b.data() + 8),
                       std::min<std::size_t>(b.size() - 8, 16));
      comm.resize(std::min(comm.find('\0'), comm.size()));
      if (comms.size() < kMaxComms || comms.contains(tid)) comms[tid] = comm;
      return;
    }
    case kRecordFork:
    case kRecordExit: {
      if (b.size() < 24) return;
      const auto pid = static_cast<std::uint32_t>(le(b, 0, 4));
      const auto tid = static_cast<std::uint32_t>(le(b, 8, 4));
      const auto ptid = static_cast<std::uint32_t>(le(b, 12, 4));
      const std::uint64_t time = le(b, 16, 8);
      if (r.type == kRecordFork) {
        threads.joins(tid, pid);
        if (pid == tid && time != 0) note_start(pid, time);  // a new process, not a thread
        auto parent = comms.find(ptid);  // a new task has its creator's comm until it sets one
        if (parent != comms.end() && !comms.contains(tid) && comms.size() < kMaxComms)
          comms[tid] = std::string(parent->second);
        return;
      }
      // The process ends with its main thread's exit, as perf and kvmscope record see it.
      if (pid != tid || live_vms.erase(pid) == 0) return;
      ks_event e{};
      e.ts_ns = time;
      e.tgid = pid;
      e.tid = tid;
      e.vcpu = KS_VCPU_UNKNOWN;
      e.type = KS_EV_PROCESS_EXIT;
      push(e);
      return;
    }
    case kRecordLost:
    case kRecordLostSamples: {
      const std::size_t at = r.type == kRecordLost ? 8 : 0;
      if (b.size() < at + 8) return;
      PerfSample s;
      const PerfAttr* attr = attrs.of_other(b);
      if (attr != nullptr) parse_sample_id(b, *attr, s);
      lost[s.has_cpu ? s.cpu : 0] += le(b, at, 8);
      return;
    }
    default:
      return;
  }
}

void PerfDataReader::Impl::take(const PerfRecord& r) {
  switch (r.type) {
    case kRecordSample:
      return sample(r);
    case kRecordFinishedRound:
      flush(next_flush);
      next_flush = max_ts;
      return;
    case kRecordHeaderAttr: {
      std::size_t used = 0;
      auto attr = parse_perf_attr(r.body, used);
      if (!attr) return bad(r.offset);
      for (std::size_t at = used; at + 8 <= r.body.size(); at += 8)
        attr->ids.push_back(le(r.body, at, 8));
      attrs.add(std::move(*attr));
      return;
    }
    case kRecordHeaderFeature:
      if (r.body.size() >= 8) {
        auto ok =
            apply_perf_feature(static_cast<unsigned>(le(r.body, 0, 8)), r.body.subspan(8), meta);
        if (!ok)
          tracing_damage =
              ok.error().context + " (record at byte " + std::to_string(r.offset) + ")";
        build_events();
      }
      return;
    case kRecordHeaderTracingData:
      if (auto ok = read_perf_tracing_data(r.extra, meta); !ok)
        tracing_damage = ok.error().context + " (record at byte " + std::to_string(r.offset) + ")";
      build_events();
      return;
    default:
      return other(r);
  }
}

PerfDataReader::PerfDataReader() = default;
PerfDataReader::PerfDataReader(PerfDataReader&&) noexcept = default;
PerfDataReader& PerfDataReader::operator=(PerfDataReader&&) noexcept = default;
PerfDataReader::~PerfDataReader() = default;

util::Result<PerfDataReader> PerfDataReader::open(const std::string& path) {
  auto fd = util::Fd::open(path, O_RDONLY);
  if (!fd) return fd.error();
  return from_fd(std::move(*fd), path);
}

util::Result<PerfDataReader> PerfDataReader::from_fd(util::Fd fd, const std::string& name) {
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) {
    const int err = errno;
    return util::os_error("stat " + name, err);
  }
  const auto file_size = static_cast<std::uint64_t>(st.st_size);
  auto meta = read_perf_header(fd.get(), file_size, name);
  if (!meta) return meta.error();

  PerfDataReader r;
  r.impl_ = std::make_unique<Impl>();
  Impl& im = *r.impl_;
  im.fd = std::move(fd);
  im.meta = std::move(*meta);
  for (PerfAttr& a : im.meta.attrs) im.attrs.add(std::move(a));
  im.meta.attrs.clear();
  im.build_events();
  im.stream = std::make_unique<PerfRecordStream>(
      im.fd.get(), im.meta.data_offset, im.meta.data_offset + im.meta.data_size, file_size);
  im.pump();  // a pipe's attrs and tracing data come as records: read up to the first event

  const PerfMeta& m = im.meta;
  const bool any_tracepoint =
      std::any_of(im.attrs.all().begin(), im.attrs.all().end(),
                  [](const PerfAttr& a) { return a.type == kTypeTracepoint; });
  if (!im.events) {
    if (!im.tracing_damage.empty())
      return util::plain_error(name + ": damaged perf.data: " + im.tracing_damage);
    if (im.stream->cut() || im.stream->damaged())
      return util::plain_error(name +
                               ": perf.data ends before its tracing data (the event "
                               "formats): " +
                               im.stream->why());
    if (!any_tracepoint && !im.attrs.empty())
      return util::plain_error(name +
                               ": perf.data holds no tracepoint events (record with perf kvm "
                               "stat record, or perf record -e 'kvm:*')");
    return util::plain_error(name + ": perf.data has no tracing data (the event formats)");
  }

  model::RecordingInfo& info = r.info_;
  info.hostname = m.hostname;
  info.kernel_release = m.os_release;
  info.start_ns = im.earliest == ~0ull ? 0 : im.earliest;
  info.target = "perf.data: " + name;
  info.tracefs_formats = m.tracing->formats;
  info.extra["source"] = "perf.data";
  info.extra["perf_mode"] = m.pipe ? "pipe" : "file";
  if (!m.perf_version.empty()) info.extra["perf_version"] = m.perf_version;
  if (!m.cmdline.empty()) info.extra["perf_cmdline"] = m.cmdline;
  if (im.stream->compressed_records() > 0 || m.compressed) info.extra["compression"] = "zstd";
  // The clock of the samples: perf's own (sched_clock) unless record -k chose one.
  std::int32_t clockid = -1;
  for (const PerfAttr& a : im.attrs.all())
    if (a.flags & kFlagUseClockid) clockid = a.clockid;
  info.extra["clock"] = clockid == kClockMonotonic ? "monotonic"
                        : clockid < 0              ? "perf"
                                                   : "clockid " + std::to_string(clockid);
  if (m.realtime_offset_ns && clockid >= 0 &&
      m.clock_data_clockid == static_cast<std::uint32_t>(clockid))
    info.realtime_offset_ns = *m.realtime_offset_ns;

  std::vector<std::string> notes = m.notes;
  for (const std::string& bad : im.events->bad_formats())
    notes.push_back("an event format of the file does not parse (" + bad + "): its events skipped");
  for (const char* event : {"kvm_exit", "kvm_userspace_exit"})
    if (im.events->has_event(event) && !info.tracefs_formats.contains(event))
      notes.push_back(std::string("no ") + event +
                      " format text in the file: reasons named from kvmscope's built-in tables");
  notes.push_back("perf.data has no KVM_RUN events: time spent in the VMM is not measured");
  if (clockid < 0)
    notes.push_back(
        "timestamps are in perf's clock (the kernel's sched_clock, ns since boot), not "
        "CLOCK_MONOTONIC (perf record -k monotonic records that)");
  else if (clockid != kClockMonotonic)
    notes.push_back("timestamps are in clock id " + std::to_string(clockid) +
                    " (perf record -k), not CLOCK_MONOTONIC");
  r.notes_open_ = notes;
  info.extra["note"] = join(notes, "; ");
  if (im.stream_end && im.ready_pos == im.ready.size()) r.finish();
  return r;
}

util::Result<std::span<const ks_event>> PerfDataReader::next() {
  events_.clear();
  if (done_ || !impl_) return std::span<const ks_event>();
  Impl& im = *impl_;
  events_.reserve(kPerfBatch);
  while (events_.size() < kPerfBatch) {
    im.pump();
    if (im.ready_pos == im.ready.size()) break;
    ks_event e = im.ready[im.ready_pos++];
    if (e.ts_ns < im.last_out) ++im.out_of_order;
    im.last_out = std::max(im.last_out, e.ts_ns);
    // A vCPU thread's number, from its exits and entries, for its other events.
    if (e.type != KS_EV_PROCESS_EXIT) {
      if (e.vcpu != KS_VCPU_UNKNOWN)
        im.vcpu_of[e.tid] = e.vcpu;
      else if (auto v = im.vcpu_of.find(e.tid); v != im.vcpu_of.end())
        e.vcpu = v->second;
    }
    // A VM whose start the file shows: marked just before its first event, as kvmscope record
    // does, so that its boot summary runs from there.
    if (!im.marked.contains(e.tgid) && im.marked.size() < kMaxComms) {
      im.marked.insert(e.tgid);
      auto start = im.started.find(e.tgid);
      if (start != im.started.end() && start->second <= e.ts_ns)
        markers_.push_back(model::Marker{start->second, model::process_started_label(e.tgid)});
    }
    if (!vms_.contains(e.tgid) && vms_.size() < kMaxComms) {
      auto comm = im.comms.find(e.tgid);
      if (comm == im.comms.end()) comm = im.comms.find(e.tid);
      if (comm != im.comms.end()) vms_[e.tgid] = model::VmMeta{comm->second, comm->second};
    }
    last_ts_ = std::max(last_ts_, e.ts_ns);
    events_.push_back(e);
  }
  for (auto& [cpu, n] : im.lost) {
    lost_[cpu] += n;
    lost_total_ += n;
  }
  im.lost.clear();
  events_read_ += events_.size();
  if (im.stream_end && im.ready_pos == im.ready.size()) finish();
  return std::span<const ks_event>(events_.data(), events_.size());
}

std::vector<std::string> PerfDataReader::notes() const {
  std::vector<std::string> out = notes_open_;
  if (!impl_) return out;
  const Impl& im = *impl_;
  if (im.out_of_order > 0)
    out.push_back(std::to_string(im.out_of_order) +
                  " event(s) came later than perf's rounds allow: handed out after later ones");
  if (im.unreadable_early > 0)
    out.push_back(std::to_string(im.unreadable_early) +
                  " sample(s) before the tracing data could not be read");
  return out;
}

void PerfDataReader::finish() {
  done_ = true;
  if (!impl_) return;
  Impl& im = *impl_;
  for (auto& [cpu, n] : im.lost) {
    lost_[cpu] += n;
    lost_total_ += n;
  }
  im.lost.clear();
  std::vector<std::string> why;
  const PerfRecordStream& s = *im.stream;
  if (s.cut() || s.damaged()) why.push_back(s.why());
  if (im.bad_samples > 0)
    why.push_back(std::to_string(im.bad_samples) +
                  " unreadable sample(s) skipped, the first at byte " +
                  std::to_string(im.first_bad));
  corrupt_ = s.damaged() || im.bad_samples > 0;
  complete_ = !s.cut() && !corrupt_;
  if (!complete_)
    detail_ = join(why, "; ") + "; " + std::to_string(events_read_) + " events were read";
}

std::optional<model::RecordingTotals> PerfDataReader::totals() const {
  if (!done_) return std::nullopt;
  return model::RecordingTotals{events_read_, lost_total_, 0, last_ts_};
}

}  // namespace kvmscope::perfdata
