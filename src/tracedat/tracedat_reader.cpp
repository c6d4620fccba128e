#include "tracedat/tracedat_reader.h"

#include <fcntl.h>
#include <sys/stat.h>

#include <algorithm>
#include <queue>
#include <set>

#include "model/thread_table.h"
#include "model/tracepoint_events.h"
#include "tracedat/tracedat_meta.h"
#include "tracedat/tracedat_pages.h"
#include "util/fd.h"

namespace kvmscope::tracedat {
namespace {

// The format texts kvmscope's reason catalog reads, as `kvmscope record` stores them.
const std::set<std::string> kWantedFormats = {"kvm_exit", "kvm_userspace_exit"};

std::string join(const std::vector<std::string>& parts, const char* sep) {
  std::string out;
  for (const std::string& p : parts) out += (out.empty() ? "" : sep) + p;
  return out;
}

// "Linux <nodename> <release> <machine>" as trace-cmd writes uname(2).
void apply_uname(const std::string& uname, model::RecordingInfo& info) {
  std::vector<std::string> words;
  std::size_t pos = 0;
  while (pos < uname.size() && words.size() < 4) {
    auto end = uname.find(' ', pos);
    if (end == std::string::npos) end = uname.size();
    if (end > pos) words.push_back(uname.substr(pos, end - pos));
    pos = end + 1;
  }
  if (words.size() >= 2) info.hostname = words[1];
  if (words.size() >= 3) info.kernel_release = words[2];
}

}  // namespace

struct TraceDatReader::Impl {
  util::Fd fd;
  std::uint64_t file_size = 0;
  model::ThreadTable threads;
  std::unique_ptr<model::TracepointEvents> events;
  std::map<std::uint32_t, std::string> cmdlines;
  std::optional<TraceDatTsc2Nsec> tsc2nsec;
  std::int64_t ts_offset = 0;
  // Each CPU's stream and its next record, and a min-heap of (ns, index) over those records:
  // one page (or chunk) per CPU in memory, whatever the file's size.
  std::vector<TdCpuStream> cpus;
  std::vector<TdRecord> head;
  using Key = std::pair<std::uint64_t, std::size_t>;
  std::priority_queue<Key, std::vector<Key>, std::greater<Key>> order;

  // Trace-clock units to ns, as libtracecmd converts them (TSC2NSEC, then OFFSET).
  std::uint64_t to_ns(std::uint64_t ts) const {
    if (tsc2nsec) {
      const unsigned __int128 wide = static_cast<unsigned __int128>(ts) * tsc2nsec->mult;
      ts = static_cast<std::uint64_t>(wide >> tsc2nsec->shift);
    }
    return ts + static_cast<std::uint64_t>(ts_offset);
  }
  void advance(std::size_t i) {
    if (cpus[i].next(head[i])) order.push({to_ns(head[i].ts), i});
  }
};

TraceDatReader::TraceDatReader() = default;
TraceDatReader::TraceDatReader(TraceDatReader&&) noexcept = default;
TraceDatReader& TraceDatReader::operator=(TraceDatReader&&) noexcept = default;
TraceDatReader::~TraceDatReader() = default;

bool TraceDatReader::is_tracedat(const std::string& path) {
  return file_is_tracedat(path);
}

util::Result<TraceDatReader> TraceDatReader::open(const std::string& path) {
  auto fd = util::Fd::open(path, O_RDONLY);
  if (!fd) return fd.error();
  return from_fd(std::move(*fd), path);
}

util::Result<TraceDatReader> TraceDatReader::from_fd(util::Fd fd, const std::string& path) {
  auto meta = read_tracedat_meta(fd.get(), path, kWantedFormats);
  if (!meta) return meta.error();
  if (meta->buffers.empty())
    return util::plain_error(path + ": trace.dat holds no per-CPU event data" +
                             (meta->latency ? " (a latency-tracer text dump)" : ""));
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) {
    const int err = errno;
    return util::os_error("stat " + path, err);
  }

  TraceDatReader r;
  r.impl_ = std::make_unique<Impl>();
  Impl& im = *r.impl_;
  im.fd = std::move(fd);
  im.file_size = static_cast<std::uint64_t>(st.st_size);
  im.events = std::make_unique<model::TracepointEvents>(*meta, im.threads);
  im.cmdlines = std::move(meta->cmdlines);
  im.tsc2nsec = meta->tsc2nsec;
  im.ts_offset = meta->ts_offset;
  for (const auto& [pid, comm] : meta->procmaps) im.threads.leads_process(pid);

  // Every instance's CPUs (trace-cmd record -B puts events in instances), merged into one
  // stream.
  std::size_t streams = 0;
  for (const TraceDatBuffer& b : meta->buffers) streams += b.cpus.size();
  im.cpus.reserve(streams);
  for (const TraceDatBuffer& b : meta->buffers) {
    for (const TraceDatCpuData& d : b.cpus)
      if (d.size > 0 || d.cut) im.cpus.emplace_back(im.fd.get(), im.file_size, *meta, b, d);
  }
  im.head.resize(im.cpus.size());  // streams stay put from here: records point into them
  for (std::size_t i = 0; i < im.cpus.size(); ++i) im.advance(i);

  model::RecordingInfo& info = r.info_;
  apply_uname(meta->uname, info);
  info.start_ns = im.order.empty() ? 0 : im.order.top().first;
  info.target = "trace.dat: " + path;
  info.tracefs_formats = meta->formats;
  if (meta->realtime_offset_ns) info.realtime_offset_ns = *meta->realtime_offset_ns;
  info.extra["source"] = "trace.dat";
  info.extra["tracedat_version"] = std::to_string(meta->version);
  std::set<std::string> clocks;
  for (const TraceDatBuffer& b : meta->buffers)
    if (!b.cpus.empty() && !b.clock.empty()) clocks.insert(b.clock);
  const std::string clock = !clocks.empty() ? *clocks.begin() : meta->trace_clock;
  info.extra["trace_clock"] = clock.empty() ? "unknown" : clock;
  if (!meta->tracecmd_version.empty()) info.extra["tracecmd_version"] = meta->tracecmd_version;
  if (!meta->uname.empty()) info.extra["uname"] = meta->uname;

  std::vector<std::string>& notes = r.notes_;
  notes = meta->notes;
  for (const std::string& bad : im.events->bad_formats())
    notes.push_back("an event format of the file does not parse (" + bad + "): its events skipped");
  for (const char* event : {"kvm_exit", "kvm_userspace_exit"}) {
    if (im.events->has_event(event) && !info.tracefs_formats.contains(event))
      notes.push_back(std::string("no ") + event +
                      " format text in the file: reasons named from kvmscope's built-in tables");
  }
  if (!im.events->has_event("task_newtask") && meta->procmaps.empty())
    notes.push_back(
        "trace.dat records thread ids only and this one has no task:task_newtask events: each "
        "thread counts as its own VM (record with -e task:task_newtask -e "
        "sched:sched_process_exec to group vCPU threads into their VM)");
  notes.push_back("trace.dat has no KVM_RUN events: time spent in the VMM is not measured");
  if (meta->tsc2nsec)
    notes.push_back("x86-tsc timestamps converted to ns (TSC2NSEC option)");
  else if (clock != "mono" && clock != "mono_raw")
    notes.push_back("timestamps are in the trace clock \"" + info.extra["trace_clock"] +
                    "\", not CLOCK_MONOTONIC");
  if (meta->time_shift) notes.push_back("a guest's trace: host time synchronization not applied");
  if (clocks.size() > 1)
    notes.push_back(
        "the ftrace instances use different trace clocks: their events interleave "
        "by raw timestamp");
  info.extra["note"] = join(notes, "; ");

  for (const auto& [cpu, st] : meta->cpustats) {
    if (st.lost() == 0) continue;
    r.cpustat_[cpu] = st.lost();
    r.add_lost(cpu, 0);
  }
  if (im.order.empty()) r.finish();
  return r;
}

util::Result<std::span<const ks_event>> TraceDatReader::next() {
  events_.clear();
  if (done_ || !impl_) return std::span<const ks_event>();
  Impl& im = *impl_;
  events_.reserve(kTraceDatBatch);
  while (events_.size() < kTraceDatBatch && !im.order.empty()) {
    const auto [ns, i] = im.order.top();
    im.order.pop();
    const TdRecord& rec = im.head[i];
    const std::uint32_t cpu = im.cpus[i].cpu();
    if (rec.missed != 0) add_lost(cpu, rec.missed == TdRecord::kUnknown ? 1 : rec.missed);
    ks_event e;
    if (im.events->map(rec.data, static_cast<std::uint16_t>(std::min<std::uint32_t>(cpu, 0xffff)),
                       e)) {
      e.ts_ns = ns;
      events_.push_back(e);
      last_ts_ = std::max(last_ts_, ns);
      if (!vms_.contains(e.tgid) && vms_.size() < model::ThreadTable::kMaxThreads) {
        auto comm = im.cmdlines.find(e.tgid);
        if (comm != im.cmdlines.end() && comm->second != "<...>")
          vms_[e.tgid] = model::VmMeta{comm->second, comm->second};
      }
    }
    im.advance(i);
  }
  events_read_ += events_.size();
  if (im.order.empty()) finish();
  return std::span<const ks_event>(events_.data(), events_.size());
}

std::uint64_t TraceDatReader::records_skipped() const {
  return impl_ && impl_->events ? impl_->events->skipped() : 0;
}

std::vector<std::string> TraceDatReader::notes() const {
  std::vector<std::string> out = notes_;
  if (impl_ && impl_->threads.guessed_threads() > 0)
    out.push_back(std::to_string(impl_->threads.guessed_threads()) +
                  " thread(s) with KVM events have no known process in the file: counted as "
                  "their own (or their creator's) process");
  return out;
}

void TraceDatReader::finish() {
  done_ = true;
  std::vector<std::string> why;
  bool cut = false, damaged_stream = false;
  std::uint64_t bad_pages = 0;
  if (impl_) {
    for (const TdCpuStream& s : impl_->cpus) {
      if (!s.damage().empty()) why.push_back(s.damage());
      cut |= s.file_cut();
      damaged_stream |= !s.damage().empty() && !s.file_cut();
      bad_pages += s.bad_pages();
    }
  }
  const std::uint64_t damaged = impl_ && impl_->events ? impl_->events->damaged() : 0;
  if (bad_pages > 0) why.push_back(std::to_string(bad_pages) + " damaged page(s) cut short");
  if (damaged > 0) why.push_back(std::to_string(damaged) + " unreadable record(s) skipped");
  corrupt_ = damaged_stream || bad_pages > 0 || damaged > 0;
  complete_ = !cut && !corrupt_;
  if (!complete_)
    detail_ = join(why, "; ") + "; " + std::to_string(events_read_) + " events were read";
}

void TraceDatReader::add_lost(std::uint32_t cpu, std::uint64_t missed) {
  if (missed > 0) missed_[cpu] += missed;
  const std::uint64_t now = std::max(missed_[cpu], cpustat_[cpu]);
  std::uint64_t& have = lost_[cpu];
  lost_total_ += now - have;  // `now` never shrinks: both counts only grow
  have = now;
}

std::optional<model::RecordingTotals> TraceDatReader::totals() const {
  if (!done_) return std::nullopt;
  return model::RecordingTotals{events_read_, lost_total_, 0, last_ts_};
}

}  // namespace kvmscope::tracedat
