#include "model/guest_sites.h"

#include <utility>

namespace kvmscope::model {

const char* guest_space_name(GuestSpace s) {
  switch (s) {
    case GuestSpace::kernel:
      return "kernel";
    case GuestSpace::early:
      return "firmware/early boot";
    case GuestSpace::user:
      return "user";
  }
  return "?";
}

SiteStats& GuestSites::at(std::uint32_t vm_pid, const Reason& reason, std::uint64_t rip) {
  GuestSpace space = GuestSpace::kernel;
  if (rip >= kGuestKernelStart)
    kernel_seen_[vm_pid] = true;
  else
    space = kernel_seen_[vm_pid] ? GuestSpace::user : GuestSpace::early;
  return at(vm_pid, reason, space, rip);
}

SiteStats& GuestSites::at(std::uint32_t vm_pid, const Reason& reason, GuestSpace space,
                          std::uint64_t rip) {
  SiteKey key{vm_pid, reason, space, rip, false};
  auto it = entries_.find(key);
  if (it != entries_.end()) return it->second;
  if (sites_ >= max_sites_) {
    ++not_stored_;
    return entries_[SiteKey{vm_pid, reason, GuestSpace::kernel, 0, true}];
  }
  ++sites_;
  return entries_[key];
}

void GuestSites::add_not_stored(std::uint32_t vm_pid, const Reason& reason, std::uint64_t exits) {
  if (exits == 0) return;
  not_stored_ += exits;
  entries_[SiteKey{vm_pid, reason, GuestSpace::kernel, 0, true}].stats.count += exits;
}

void add_exits_not_stored(GuestSites& sites, const Snapshot& snap) {
  std::map<std::pair<std::uint32_t, Reason>, std::uint64_t> stored, all;
  for (const auto& [key, s] : sites.entries())
    if (!key.other) stored[{key.vm_pid, key.reason}] += s.stats.count;
  for (const auto& [key, stats] : snap.exits)
    if (key.reason.level == Level::hardware) all[{key.vm_pid, key.reason}] += stats.count;
  for (const auto& [vm_reason, count] : all) {
    const std::uint64_t have = stored[vm_reason];
    if (count > have) sites.add_not_stored(vm_reason.first, vm_reason.second, count - have);
  }
}

void GuestSites::note_io(SiteStats& s, bool out, std::uint32_t size, std::uint64_t port) {
  SiteDetail& d = s.detail;
  if (!d.io) {
    d.io = true;
    d.io_out = out;
    d.io_size = size;
    d.io_port = port;
  } else if (d.io_out != out || d.io_size != size) {
    d.mixed = true;
  }
}

void GuestSites::note_msr(SiteStats& s, bool write) {
  SiteDetail& d = s.detail;
  if (!d.msr) {
    d.msr = true;
    d.msr_write = write;
  } else if (d.msr_write != write) {
    d.mixed = true;
  }
}

}  // namespace kvmscope::model
