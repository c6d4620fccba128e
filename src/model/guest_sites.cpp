#include "model/guest_sites.h"

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
  SiteKey key{vm_pid, reason, space, rip, false};
  auto it = entries_.find(key);
  if (it != entries_.end()) return it->second;
  if (sites_ >= max_sites_) {
    ++not_stored_;
    key.rip = 0;
    key.space = GuestSpace::kernel;
    key.other = true;
    return entries_[key];
  }
  ++sites_;
  return entries_[key];
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
