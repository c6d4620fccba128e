// Drill-downs: what the exits were about, below the reason. Port I/O by port, MMIO by guest
// physical address, MSR accesses by index, CPUID by leaf, hypercalls by number; each with the
// handling time of the exits they happened in. The type says nothing about how it was filled:
// `kvmscope report` fills it from recorded events, `kvmscope stat --by` from BPF maps.
#pragma once

#include <compare>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string_view>
#include <vector>

#include "model/exit_stats.h"

namespace kvmscope::model {

enum class DrillKind : std::uint8_t { port, mmio, msr, cpuid, hypercall };

inline constexpr DrillKind kDrillKinds[] = {DrillKind::port, DrillKind::mmio, DrillKind::msr,
                                            DrillKind::cpuid, DrillKind::hypercall};

// "port", "mmio", "msr", "cpuid", "hypercall": the `--by` values and the CSV file suffixes.
const char* drill_kind_name(DrillKind kind);
std::optional<DrillKind> drill_kind_from_name(std::string_view name);

// What kvm_mmio's `type` says (KVM_TRACE_MMIO_*). A read the VMM completes is traced twice:
// read_unsatisfied before the exit to the VMM, read when the data came back.
enum class MmioAccess : std::uint8_t { read_unsatisfied = 0, read = 1, write = 2 };

// One row of a drill-down. `flags` qualifies the value, per kind:
//   port:      bit 0 = out (write), bits 8..15 = access size in bytes
//   mmio:      the MmioAccess
//   msr:       bit 0 = write, bit 1 = the access faulted (#GP injected)
//   cpuid, hypercall: 0
// vm_pid is 0 in tables that are not split per VM.
struct DrillKey {
  DrillKind kind = DrillKind::port;
  std::uint32_t vm_pid = 0;
  std::uint64_t value = 0;
  std::uint32_t flags = 0;
  bool other = false;  // the row that collects keys beyond the per-kind cap
  auto operator<=>(const DrillKey&) const = default;
};

inline constexpr std::uint32_t kPortOut = 1u;
inline constexpr std::uint32_t kMsrWrite = 1u;
inline constexpr std::uint32_t kMsrFault = 2u;

DrillKey port_key(std::uint32_t vm_pid, std::uint64_t port, bool out, std::uint32_t size);
DrillKey mmio_key(std::uint32_t vm_pid, std::uint64_t gpa, MmioAccess access);
DrillKey msr_key(std::uint32_t vm_pid, std::uint64_t index, bool write, bool fault);
DrillKey cpuid_key(std::uint32_t vm_pid, std::uint64_t leaf);
DrillKey hypercall_key(std::uint32_t vm_pid, std::uint64_t nr);

inline bool port_is_out(const DrillKey& k) {
  return k.flags & kPortOut;
}
inline std::uint32_t port_size(const DrillKey& k) {
  return (k.flags >> 8) & 0xff;
}

// A bounded map from DrillKey to ExitStats. Guests can touch any number of distinct MMIO
// addresses (a framebuffer), so each kind keeps at most `max_keys_per_kind` keys per VM; later new
// keys are counted in that kind's `other` row instead, never dropped.
class DrillDown {
 public:
  static constexpr std::size_t kDefaultMaxKeys = 4096;
  explicit DrillDown(std::size_t max_keys_per_kind = kDefaultMaxKeys)
      : max_keys_(max_keys_per_kind) {}

  // The stats of the key's row (or of its kind's `other` row when the cap is reached), to count
  // into. The reference is stable (std::map) until the next call that adds a key.
  ExitStats& at(const DrillKey& key);

  const std::map<DrillKey, ExitStats>& entries() const { return entries_; }
  bool empty(DrillKind kind) const;
  std::uint64_t total(DrillKind kind) const;  // events of that kind, all VMs

  bool operator==(const DrillDown& o) const { return entries_ == o.entries_; }

 private:
  std::size_t max_keys_;
  std::map<DrillKey, ExitStats> entries_;
  std::map<std::pair<DrillKind, std::uint32_t>, std::size_t> keys_per_kind_;  // by (kind, VM)
};

struct DrillRow {
  DrillKey key;  // vm_pid 0 unless split per VM
  ExitStats stats;
};

struct DrillTable {
  DrillKind kind = DrillKind::port;
  std::optional<std::uint32_t> vm_pid;  // set when split per VM
  std::vector<DrillRow> rows;           // count descending, then key ascending; `other` last
  ExitStats total;
};

// The tables of one kind: one for all VMs, or one per VM (pid ascending). A kind without events
// gives no table.
std::vector<DrillTable> drill_tables(const DrillDown& drill, DrillKind kind, bool per_vm);

}  // namespace kvmscope::model
