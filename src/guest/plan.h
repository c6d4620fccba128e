// What the built-in guest is asked to do: how many instructions of each exiting kind every vCPU
// executes, on how many vCPUs, and how long a stall may last. Parsing is pure so it can be tested
// without /dev/kvm.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <span>
#include <string_view>

#include "util/result.h"

namespace kvmscope::guest {

// The kinds in the order every vCPU performs them: in-kernel work first, exits to the VMM last,
// so that the VMM can stop right after the last planned exit (see guest.h).
enum class Kind : std::uint8_t { cpuid, msr_read, msr_write, vmcall, mmio, io, hlt };
inline constexpr std::size_t kKindCount = 7;
inline constexpr std::array<Kind, kKindCount> kKinds = {
    Kind::cpuid, Kind::msr_read, Kind::msr_write, Kind::vmcall, Kind::mmio, Kind::io, Kind::hlt};

// "cpuid", "msr-read", ...: also the option name without its leading "--".
std::string_view kind_name(Kind kind);
// True for the kinds KVM hands to the VMM (KVM_EXIT_MMIO, _IO, _HLT); false for those it
// handles itself.
bool exits_to_vmm(Kind kind);

inline constexpr unsigned kMaxVcpus = 64;
// Largest count per kind: V x N must fit in 64 bits for every V, so totals never wrap.
inline constexpr std::uint64_t kMaxCount = std::numeric_limits<std::uint64_t>::max() / kMaxVcpus;
inline constexpr unsigned kMaxTimeoutS = 86400;

struct Plan {
  std::array<std::uint64_t, kKindCount> count{};  // per vCPU, indexed by Kind
  unsigned vcpus = 1;
  unsigned timeout_s = 10;  // seconds without progress before the run counts as stalled
  // After the plan, vCPU 0 reads the exit-statistics CPUID leaves of the kernel/ patch and
  // ends with one HLT (exit_query.h).
  bool query_exits = false;
  bool quiet = false;  // for the command only: print nothing on success
  bool help = false;   // for the command only: --help was asked

  std::uint64_t& operator[](Kind kind) { return count[static_cast<std::size_t>(kind)]; }
  std::uint64_t operator[](Kind kind) const { return count[static_cast<std::size_t>(kind)]; }
  // Instructions one vCPU executes that exit to the VMM / in all.
  std::uint64_t vmm_exits_per_vcpu() const;
  std::uint64_t exits_per_vcpu() const;
};

// Parses the arguments after "guest": --cpuid N, --io N, --hlt N, --msr-read N, --msr-write N,
// --mmio N, --vmcall N, --vcpus V, --timeout SEC, --query-exits, --quiet, --help;
// "--opt=value" works too.
// Errors are usage errors, one line each, worded as every subcommand's (util/usage.h), e.g.
// "--io: expected a non-negative integer, got 'x' (see 'kvmscope guest --help')".
util::Result<Plan> parse_plan(std::span<const char* const> args);

}  // namespace kvmscope::guest
