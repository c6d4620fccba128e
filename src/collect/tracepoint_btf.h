// Whether a BTF raw tracepoint (tp_btf) can be had, with the arguments a program reads from it.
// A tp_btf program reads its tracepoint's arguments by position, as the kernel passes them: a
// kernel whose prototype differs would hand it other values without a word, so the prototype is
// checked in the kernel's own BTF before such a program is chosen.
#pragma once

#include <array>
#include <cstddef>
#include <memory>
#include <span>
#include <string>

#include "util/result.h"

struct btf;  // libbpf's

namespace kvmscope::collect {

// In an argument list below: a pointer (which a program passes over, not reads).
inline constexpr std::size_t kPointerArg = 0;

struct BtfFree {
  void operator()(::btf* b) const;
};

// The running kernel's BTF, read once for any number of checks (vmlinux's is megabytes): vmlinux,
// and `module`'s, read on the first tracepoint vmlinux lacks (the module's BTF is split off
// vmlinux's; it goes first).
class KernelBtf {
 public:
  static util::Result<KernelBtf> load(std::string module);

  // Ok when the BTF has the raw tracepoint `name` (the typedef btf_trace_<name>) and its
  // arguments, after the tracepoint's own context pointer, are integers of exactly `arg_sizes`
  // bytes (kPointerArg: a pointer) in that order; else an error that says what differs.
  util::Result<void> raw_tracepoint_takes(const std::string& name,
                                          std::span<const std::size_t> arg_sizes);

 private:
  std::unique_ptr<::btf, BtfFree> vmlinux_;
  std::unique_ptr<::btf, BtfFree> module_;
  std::string module_name_;
  bool module_tried_ = false;
};

// One check on a BTF read for it alone (KernelBtf::load, then raw_tracepoint_takes).
util::Result<void> raw_tracepoint_takes(const std::string& name, const std::string& module,
                                        std::span<const std::size_t> arg_sizes);

// The kvm raw tracepoints exits.bpf.c's tp_btf programs read beside kvm_exit/kvm_entry, with
// their arguments as those programs read them (x86-64: unsigned long is 8 bytes).
struct KvmTracepoint {
  const char* name;
  std::span<const std::size_t> args;
};
// kvm_userspace_exit(__u32 reason, int errno): on_vmm_exit_btf, on_vmm_btf_cnt.
inline constexpr std::size_t kVmmExitArgs[] = {4, sizeof(int)};
inline constexpr KvmTracepoint kVmmExitTracepoint = {"kvm_userspace_exit", kVmmExitArgs};
// The drill-down events: on_pio_btf, on_mmio_btf, on_msr_btf, on_cpuid_btf, on_hcall_btf.
inline constexpr std::size_t kPioArgs[] = {4, 4, 4, 4, kPointerArg};  // rw, port, size, count, data
inline constexpr std::size_t kMmioArgs[] = {sizeof(int), sizeof(int), 8,
                                            kPointerArg};           // type, len, gpa, val
inline constexpr std::size_t kMsrArgs[] = {4, 4, 8, sizeof(bool)};  // write, ecx, data, exception
// function, index, rax, rbx, rcx, rdx, found, used_max_basic
inline constexpr std::size_t kCpuidArgs[] = {4, 4, 8, 8, 8, 8, sizeof(bool), sizeof(bool)};
inline constexpr std::size_t kHypercallArgs[] = {8, 8, 8, 8, 8};  // nr, a0..a3
inline constexpr std::array<KvmTracepoint, 5> kDrillTracepoints = {
    {{"kvm_pio", kPioArgs},
     {"kvm_mmio", kMmioArgs},
     {"kvm_msr", kMsrArgs},
     {"kvm_cpuid", kCpuidArgs},
     {"kvm_hypercall", kHypercallArgs}}};

}  // namespace kvmscope::collect
