// Where in the guest the hardware exits happened: per VM and reason, each guest RIP that exited
// (kvm_exit's guest_rip), with the exits' count and handling time and what the exit's own
// events said about the instruction there (kvm_pio: port, direction, size; kvm_msr: read or
// write). `report --guest-symbols` turns these into guest functions (src/symbols); the details
// let it check a KASLR offset against the instruction bytes at each RIP.
#pragma once

#include <compare>
#include <cstddef>
#include <cstdint>
#include <map>

#include "bpf/kvmscope_bpf.h"
#include "model/exit_key.h"
#include "model/exit_stats.h"
#include "model/snapshot.h"

namespace kvmscope::model {

// Which part of the guest a RIP is in. Kernel: the upper half (>= 0xffff800000000000); a lower
// RIP is firmware or early boot (real mode, the BIOS, the kernel's decompressor) until the VM's
// first exit from a kernel RIP, and user space after it.
enum class GuestSpace : std::uint8_t { kernel, early, user };
const char* guest_space_name(GuestSpace s);  // "kernel", "firmware/early boot", "user"

inline constexpr std::uint64_t kGuestKernelStart = KS_GUEST_KERNEL_START;
static_assert(static_cast<int>(GuestSpace::kernel) == KS_SPACE_KERNEL &&
                  static_cast<int>(GuestSpace::early) == KS_SPACE_EARLY &&
                  static_cast<int>(GuestSpace::user) == KS_SPACE_USER,
              "the BPF side keys sites by these values (kvmscope_bpf.h)");

struct SiteKey {
  std::uint32_t vm_pid = 0;
  Reason reason;
  GuestSpace space = GuestSpace::kernel;
  std::uint64_t rip = 0;
  bool other = false;  // the row of the sites beyond the cap, per (VM, reason)
  auto operator<=>(const SiteKey&) const = default;
};

// What the exits at one RIP said about their instruction, from the first drill-down event that
// followed one of them (each RIP is one instruction: a second, different report is `mixed`).
struct SiteDetail {
  bool io = false;  // a kvm_pio followed
  bool io_out = false;
  std::uint32_t io_size = 0;
  std::uint64_t io_port = 0;
  bool msr = false;  // a kvm_msr followed
  bool msr_write = false;
  bool mixed = false;  // two exits here said different things (a port in DX may vary: not mixed)
  bool operator==(const SiteDetail&) const = default;
};

struct SiteStats {
  ExitStats stats;
  SiteDetail detail;
  bool operator==(const SiteStats&) const = default;
};

// One guest instruction of one VM, as a hash key (the timeline by guest function).
struct GuestRip {
  std::uint32_t vm_pid = 0;
  std::uint64_t rip = 0;
  bool operator==(const GuestRip&) const = default;
};
struct GuestRipHash {
  std::size_t operator()(const GuestRip& g) const {
    return static_cast<std::size_t>((g.rip ^ (std::uint64_t{g.vm_pid} << 47)) *
                                    0x9e3779b97f4a7c15ull);
  }
};

// Bounded: at most max_sites rows in all; the exits at further RIPs are counted in their (VM,
// reason)'s `other` row, never dropped.
class GuestSites {
 public:
  static constexpr std::size_t kDefaultMaxSites = 1u << 16;
  explicit GuestSites(std::size_t max_sites = kDefaultMaxSites) : max_sites_(max_sites) {}

  // The row of one exit at `rip` (its reason's `other` row when full). Stable reference.
  SiteStats& at(std::uint32_t vm_pid, const Reason& reason, std::uint64_t rip);
  // The row of a site whose space is already known (the live readout: the kernel decided it),
  // or its reason's `other` row when full.
  SiteStats& at(std::uint32_t vm_pid, const Reason& reason, GuestSpace space, std::uint64_t rip);
  // Exits of (VM, reason) known to have happened at RIPs not stored (the kernel's map was full):
  // counted in the reason's `other` row.
  void add_not_stored(std::uint32_t vm_pid, const Reason& reason, std::uint64_t exits);
  // Sets the detail of a row from the exit's drill-down event.
  static void note_io(SiteStats& s, bool out, std::uint32_t size, std::uint64_t port);
  static void note_msr(SiteStats& s, bool write);

  const std::map<SiteKey, SiteStats>& entries() const { return entries_; }
  bool empty() const { return entries_.empty(); }
  std::uint64_t sites_not_stored() const { return not_stored_; }  // exits in `other` rows
  bool operator==(const GuestSites& o) const { return entries_ == o.entries_; }

 private:
  std::size_t max_sites_;
  std::size_t sites_ = 0;
  std::uint64_t not_stored_ = 0;
  std::map<SiteKey, SiteStats> entries_;
  std::map<std::uint32_t, bool> kernel_seen_;  // per VM: an exit from a kernel RIP was seen
};

// Where the live readout's sites are short of the exit counters (the kernel's sites map was
// full), adds the difference per (VM, reason) to the reason's `other` row: the hardware exits of
// `snap` (read before the sites, so a difference the sites exceed is taken as none).
void add_exits_not_stored(GuestSites& sites, const Snapshot& snap);

}  // namespace kvmscope::model
