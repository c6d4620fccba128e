#include "collect/vm_namer.h"

#include <sys/types.h>
#include <time.h>

#include "model/vm_name.h"
#include "util/clock.h"
#include "util/proc.h"

namespace kvmscope::collect {

namespace {

// CLOCK_BOOTTIME - CLOCK_MONOTONIC: the time spent suspended, 0 on a host never suspended. The
// monotonic clock is read first, so that reading order never makes the difference negative.
std::uint64_t boottime_offset_ns() {
  const std::uint64_t mono = util::monotonic_ns();
  const std::uint64_t boot = util::clock_ns(CLOCK_BOOTTIME);
  return boot > mono ? boot - mono : 0;
}

}  // namespace

VmNamer::VmNamer(bool note_starts, std::uint64_t started_ns)
    : note_starts_(note_starts),
      started_ns_(started_ns),
      boottime_offset_ns_(boottime_offset_ns()) {}

std::vector<VmSighting> VmNamer::see(std::span<const ks_event> events) {
  std::vector<VmSighting> met;
  for (const auto& e : events) {
    if (e.type == KS_EV_PROCESS_EXIT || e.tgid == last_) continue;
    last_ = e.tgid;
    if (!seen_.insert(e.tgid).second) continue;
    VmSighting vm{e.tgid, name(e.tgid), std::nullopt};
    if (note_starts_) vm.start_ns = start(e.tgid);
    met.push_back(std::move(vm));
  }
  return met;
}

std::optional<model::VmInfo> VmNamer::name(std::uint32_t pid) const {
  auto id = util::read_identity(static_cast<pid_t>(pid));
  if (!id) {  // already gone: the name given, else report names it by pid
    if (auto it = expected_.find(pid); it != expected_.end()) return it->second;
    return std::nullopt;
  }
  return model::VmInfo{model::vm_name_from_cmdline(id->argv, id->comm), id->comm};
}

// The start is known to the clock tick, rounded down: a VM that started within a tick after the
// recording did is taken for one already running, never the other way round.
std::optional<std::uint64_t> VmNamer::start(std::uint32_t pid) const {
  auto boottime = util::read_start_boottime_ns(static_cast<pid_t>(pid));
  if (!boottime || *boottime < boottime_offset_ns_) return std::nullopt;
  const std::uint64_t start_ns = *boottime - boottime_offset_ns_;
  if (start_ns <= started_ns_) return std::nullopt;
  return start_ns;
}

}  // namespace kvmscope::collect
