// Which guest code caused the exits (report --guest-symbols, --by function): the guest RIPs the
// recording counted (model::GuestSites) turned into guest functions, per VM and reason, with the
// kernel / firmware-and-early-boot / user split. User RIPs stay one row per VM: kvm_exit carries
// no CR3 (its fields on 6.x are exit_reason, guest_rip, isa, info1, info2, intr_info,
// error_code, vcpu_id; on VMX and SVM alike), so nothing tells one guest process from another.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "model/exit_key.h"
#include "model/exit_stats.h"
#include "model/guest_sites.h"
#include "model/timeline.h"
#include "symbols/elf_image.h"
#include "symbols/kaslr.h"
#include "symbols/symbol_table.h"

namespace kvmscope::symbols {

// What the user gave about the guest kernel; every VM of the recording is taken to run it (the
// offset is searched per VM: each boot draws its own).
struct GuestKernel {
  const SymbolTable* symbols = nullptr;
  std::string symbols_path;
  const ElfImage* image = nullptr;  // --guest-kernel: the code, for the offset search
  std::string image_path;
  std::optional<std::uint64_t> offset;  // --guest-kaslr-offset
};

// Per VM: a VM listed in `vm` runs that kernel (and only its files are used for it), every other
// VM runs `all`'s.
struct GuestKernels {
  GuestKernel all;
  std::map<std::uint32_t, GuestKernel> vm;
  const GuestKernel& of(std::uint32_t pid) const {
    const auto it = vm.find(pid);
    return it == vm.end() ? all : it->second;
  }
};

// One instruction that exited, named: "read_pci_config+0x2c", or its address where no symbol
// holds it.
struct SiteRow {
  std::uint64_t rip = 0;
  std::string where;
  model::ExitStats stats;
};

// One guest function (or, where no symbol is known, one RIP; or the VM's firmware-and-early-boot
// or user-space exits as one row each; or the RIPs beyond the cap).
struct FunctionRow {
  std::string name;  // "read_pci_config", "[firmware/early boot]", "[user]", "0xffff..."
  std::string module;
  model::GuestSpace space = model::GuestSpace::kernel;
  bool other = false;
  model::ExitStats stats;
  std::vector<SiteRow> sites;  // count descending
};

struct ReasonFunctions {
  model::Reason reason;
  model::ExitStats total;
  std::vector<FunctionRow> functions;  // count descending, then name
};

struct VmAttribution {
  std::uint32_t vm_pid = 0;
  std::string symbols_desc;  // of the kernel this VM was given, as Attribution's
  std::string image_desc;
  KaslrOffset offset;
  std::uint64_t kernel_exits = 0, early_exits = 0, user_exits = 0, other_exits = 0;
  std::uint64_t unsymbolized_kernel_exits = 0;  // kernel RIPs no symbol holds
  std::vector<ReasonFunctions> reasons;         // hardware reasons with RIPs, count descending
};

struct Attribution {
  std::string symbols_desc;  // "kallsyms /path", "System.map /path", "none": of every VM not
  std::string image_desc;    // given its own (GuestKernels::vm); the --guest-kernel path or empty
  std::vector<VmAttribution> vms;
  std::uint64_t sites_not_stored = 0;
  // The hardware exits over time by guest function (report --html): series s of `timeline`
  // (kept as Reason code s) is timeline_functions[s]. Empty where not made.
  std::vector<std::string> timeline_functions;
  model::Timeline timeline;
};

// The series of the timeline by function: the `max` functions with the most exits (all VMs and
// reasons together; [user], [firmware/early boot] may be among them), then "other".
struct FunctionSeries {
  std::vector<std::string> names;  // the last is "other"
  std::unordered_map<model::GuestRip, std::uint32_t, model::GuestRipHash> of_rip;
};
FunctionSeries function_series(const Attribution& a, std::size_t max);

// The attribution of every VM's sites; without symbols each kernel RIP is its own row.
Attribution attribute(const model::GuestSites& sites, const GuestKernels& kernels);

// "0x1e000000"
std::string hex(std::uint64_t v);

}  // namespace kvmscope::symbols
