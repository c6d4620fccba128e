// Names of exit reasons. Preferred source: the running kernel's tracefs format files
// (events/kvm/kvm_exit/format, events/kvm/kvm_userspace_exit/format), whose __print_symbolic
// tables are exactly what that kernel knows. Built-in VMX/SVM/arm64/KVM_EXIT_* tables fill
// whatever the kernel did not provide. An unknown code is named by its number, never dropped.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "model/exit_key.h"
#include "util/result.h"

namespace kvmscope::model {

enum class NameSource { kernel, builtin };

class ReasonCatalog {
 public:
  // Built-in tables only.
  static ReasonCatalog builtin();

  // Built-in tables, overridden by the tables found in these format file texts (either may be
  // empty: that event is then not known to the kernel or not readable). Errors only when a text
  // is present but is not a tracefs format file.
  static util::Result<ReasonCatalog> from_formats(std::string_view kvm_exit_format,
                                                  std::string_view kvm_userspace_exit_format);

  // Reads <tracefs>/events/kvm/{kvm_exit,kvm_userspace_exit}/format; missing files fall back.
  static util::Result<ReasonCatalog> from_tracefs(const std::string& tracefs_root);

  // "IO_INSTRUCTION", "io", "KVM_EXIT_IO", "INVALID_STATE|FAILED_VMENTRY", "0x4242" ...
  std::string name(const Reason& reason) const;
  // The code as the kernel-patch convention writes it: VMX and VMM decimal ("30"),
  // SVM hex ("0x7b"), arm64 hex ESR_EC ("0x16").
  std::string code_text(const Reason& reason) const;
  // Where the names for this level/isa came from (shown in table headers and JSON).
  NameSource source(Level level, Isa isa) const;

  // Lower level access, for tests and the parser.
  void set_table(Level level, Isa isa, std::map<std::uint32_t, std::string> names,
                 NameSource source);

 private:
  struct Table {
    std::map<std::uint32_t, std::string> names;
    NameSource source = NameSource::builtin;
  };
  std::map<std::pair<Level, Isa>, Table> tables_;
  // Names of the VMX exit reason bits above the basic reason (FAILED_VMENTRY, ...).
  std::map<std::uint32_t, std::string> vmx_flags_;
};

}  // namespace kvmscope::model
