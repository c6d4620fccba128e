#include "model/reason_catalog.h"

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "bpf/kvmscope_bpf.h"
#include "model/builtin_reasons.h"
#include "model/tracefs_format.h"
#include "util/fd.h"
#include "util/strings.h"

namespace kvmscope::model {
namespace {

using Names = std::map<std::uint32_t, std::string>;

// The basic exit reason lives in the low 16 bits of a VMX exit reason; the bits above are flags.
constexpr std::uint32_t kVmxBasicMask = 0xffff;

using util::hex;

bool blank(std::string_view s) {
  return s.find_first_not_of(" \t\r\n") == std::string_view::npos;
}

util::Error in_file(const char* event, util::Error e) {
  e.context = std::string(event) + " format: " + e.context;
  return e;
}

// The kernel's names over the built-in ones: a code the kernel names is shown its way, a code
// only the built-in table knows (newer than the kernel's tracepoint table) keeps a name.
void overlay(Names& names, const SymbolTable& table) {
  for (const auto& [value, name] : table.symbols)
    if (value <= 0xffffffffu) names[static_cast<std::uint32_t>(value)] = name;
}

const char* errno_name(int err) {
  // glibc >= 2.32; the symbolic name is what a user searches for, strerror's text is not.
  return strerrorname_np(err);
}

util::Result<std::string> read_if_present(const std::string& path) {
  auto text = util::read_file(path);
  if (text) return text;
  // No such event (no kvm module, an old kernel, tracefs not mounted there): fall back.
  if (text.error().err == ENOENT || text.error().err == ENOTDIR) return std::string{};
  util::Error e = text.error();
  if (e.hint.empty() && (e.err == EACCES || e.err == EPERM))
    e.hint = "tracefs is readable by root only; run as root or pass a readable tracefs copy";
  return e;
}

}  // namespace

ReasonCatalog ReasonCatalog::builtin() {
  ReasonCatalog c;
  c.set_table(Level::hardware, Isa::vmx, builtin_vmx_reasons(), NameSource::builtin);
  c.set_table(Level::hardware, Isa::svm, builtin_svm_reasons(), NameSource::builtin);
  c.set_table(Level::hardware, Isa::arm64, builtin_arm64_reasons(), NameSource::builtin);
  c.set_table(Level::vmm, Isa::none, builtin_kvm_exit_reasons(), NameSource::builtin);
  c.vmx_flags_ = builtin_vmx_flags();
  return c;
}

util::Result<ReasonCatalog> ReasonCatalog::from_formats(
    std::string_view kvm_exit_format, std::string_view kvm_userspace_exit_format) {
  ReasonCatalog c = builtin();

  if (!blank(kvm_exit_format)) {
    auto format = parse_event_format(kvm_exit_format);
    if (!format) return in_file("kvm_exit", format.error());
    auto tables = symbolic_tables(*format);
    if (!tables) return in_file("kvm_exit", tables.error());
    Names vmx = builtin_vmx_reasons(), svm = builtin_svm_reasons(), arm = builtin_arm64_reasons();
    bool have_vmx = false, have_svm = false, have_arm = false;
    for (const auto& t : *tables) {
      // arm64's kvm_exit names the exception class (esr_ec); its other table (ret) is not a reason.
      if (t.field == "esr_ec") {
        overlay(arm, t);
        have_arm = true;
      } else if (t.field == "exit_reason" && t.isa == static_cast<unsigned>(Isa::vmx)) {
        overlay(vmx, t);
        have_vmx = true;
      } else if (t.field == "exit_reason" && t.isa == static_cast<unsigned>(Isa::svm)) {
        overlay(svm, t);
        have_svm = true;
      }
    }
    if (have_vmx) c.set_table(Level::hardware, Isa::vmx, std::move(vmx), NameSource::kernel);
    if (have_svm) c.set_table(Level::hardware, Isa::svm, std::move(svm), NameSource::kernel);
    if (have_arm) c.set_table(Level::hardware, Isa::arm64, std::move(arm), NameSource::kernel);

    auto flags = flag_tables(*format);
    if (!flags) return in_file("kvm_exit", flags.error());
    for (const auto& t : *flags)
      if (t.field == "exit_reason" && t.isa == static_cast<unsigned>(Isa::vmx))
        overlay(c.vmx_flags_, t);
  }

  if (!blank(kvm_userspace_exit_format)) {
    auto format = parse_event_format(kvm_userspace_exit_format);
    if (!format) return in_file("kvm_userspace_exit", format.error());
    auto tables = symbolic_tables(*format);
    if (!tables) return in_file("kvm_userspace_exit", tables.error());
    Names names = builtin_kvm_exit_reasons();
    bool have = false;
    for (const auto& t : *tables) {
      if (t.field != "reason") continue;
      overlay(names, t);
      have = true;
    }
    if (have) c.set_table(Level::vmm, Isa::none, std::move(names), NameSource::kernel);
  }
  return c;
}

util::Result<ReasonCatalog> ReasonCatalog::from_tracefs(const std::string& tracefs_root) {
  auto exit_text = read_if_present(tracefs_root + "/events/kvm/kvm_exit/format");
  if (!exit_text) return exit_text.error();
  auto user_text = read_if_present(tracefs_root + "/events/kvm/kvm_userspace_exit/format");
  if (!user_text) return user_text.error();
  return from_formats(*exit_text, *user_text);
}

std::string ReasonCatalog::name(const Reason& reason) const {
  const std::uint32_t code = reason.code;
  if (reason.level == Level::vmm && (code & KS_VMM_ERRNO_FLAG)) {
    // KVM_RUN failed instead of exiting; EINTR is the normal "signal pending, run again".
    const int err = static_cast<int>(code & ~KS_VMM_ERRNO_FLAG);
    if (err == EINTR) return "restart (EINTR)";
    const char* n = errno_name(err);
    return "error (errno " + std::to_string(err) + (n ? std::string(": ") + n : std::string()) +
           ")";
  }

  auto lookup = [this, &reason](std::uint32_t c) -> const std::string* {
    auto t = tables_.find({reason.level, reason.isa});
    if (t == tables_.end()) return nullptr;
    auto n = t->second.names.find(c);
    return n == t->second.names.end() ? nullptr : &n->second;
  };

  if (reason.level == Level::hardware && reason.isa == Isa::vmx) {
    const std::uint32_t basic = code & kVmxBasicMask;
    std::uint32_t flags = code & ~kVmxBasicMask;
    const std::string* n = lookup(basic);
    std::string out = n ? *n : std::to_string(basic);
    for (const auto& [mask, flag] : vmx_flags_) {
      if (mask == 0 || (flags & mask) != mask) continue;
      out += "|" + flag;
      flags &= ~mask;
    }
    if (flags != 0) out += "|" + hex(flags);  // a flag this catalog has no name for
    return out;
  }

  const std::string* n = lookup(code);
  return n ? *n : code_text(reason);
}

std::string ReasonCatalog::code_text(const Reason& reason) const {
  if (reason.level == Level::vmm && (reason.code & KS_VMM_ERRNO_FLAG))
    return "-" + std::to_string(reason.code & ~KS_VMM_ERRNO_FLAG);  // what KVM_RUN returned
  if (reason.level == Level::hardware && (reason.isa == Isa::svm || reason.isa == Isa::arm64))
    return hex(reason.code);
  return std::to_string(reason.code);
}

NameSource ReasonCatalog::source(Level level, Isa isa) const {
  auto t = tables_.find({level, isa});
  return t == tables_.end() ? NameSource::builtin : t->second.source;
}

void ReasonCatalog::set_table(Level level, Isa isa, std::map<std::uint32_t, std::string> names,
                              NameSource source) {
  tables_[{level, isa}] = Table{std::move(names), source};
}

}  // namespace kvmscope::model
