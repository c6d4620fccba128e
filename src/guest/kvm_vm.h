// The KVM plumbing of the built-in guest: /dev/kvm, one VM with one RAM slot, vCPUs with their
// kvm_run mappings, real-mode registers, host-side MSR reads. Nothing here knows the plan.
#pragma once

#include <linux/kvm.h>

#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

#include "util/fd.h"
#include "util/result.h"

namespace kvmscope::guest {

// Move-only owner of an mmap(2)ed range; the destructor unmaps.
class Mapping {
 public:
  Mapping() = default;
  Mapping(void* addr, std::size_t size) : addr_(addr), size_(size) {}
  Mapping(const Mapping&) = delete;
  Mapping& operator=(const Mapping&) = delete;
  Mapping(Mapping&& other) noexcept
      : addr_(std::exchange(other.addr_, nullptr)), size_(std::exchange(other.size_, 0)) {}
  Mapping& operator=(Mapping&& other) noexcept;
  ~Mapping() { reset(); }

  void* get() const { return addr_; }
  std::size_t size() const { return size_; }

 private:
  void reset() noexcept;
  void* addr_ = nullptr;
  std::size_t size_ = 0;
};

struct Vcpu {
  unsigned id = 0;
  util::Fd fd;
  Mapping run_map;
  kvm_run* run() const { return static_cast<kvm_run*>(run_map.get()); }
};

// Real-mode segment setup of one vCPU: CS:IP where it starts, DS, ES and FS selectors (bases are
// selector * 16, as real mode wants).
struct RealModeStart {
  std::uint16_t cs = 0;
  std::uint16_t ip = 0;
  std::uint16_t ds = 0;
  std::uint16_t es = 0;
  std::uint16_t fs = 0;
};

class Vm {
 public:
  // Opens /dev/kvm, checks the API version, creates a VM and maps ram_size bytes of RAM at GPA 0.
  static util::Result<Vm> create(std::size_t ram_size);

  util::Result<void> add_vcpu(unsigned id);
  util::Result<void> set_real_mode(Vcpu& vcpu, const RealModeStart& start);
  // The MSR as the guest would read it, through KVM_GET_MSRS (host-initiated: no guest exit).
  util::Result<std::uint64_t> read_msr(const Vcpu& vcpu, std::uint32_t index);

  std::uint8_t* ram() const { return static_cast<std::uint8_t*>(ram_.get()); }
  std::size_t ram_size() const { return ram_.size(); }
  std::vector<Vcpu>& vcpus() { return vcpus_; }

 private:
  util::Fd kvm_;
  util::Fd vm_;
  Mapping ram_;
  int run_size_ = 0;
  std::vector<Vcpu> vcpus_;
};

}  // namespace kvmscope::guest
