#include "cli/guest_code.h"

#include <charconv>
#include <cstdio>
#include <set>

#include "cli/numbers.h"
#include "symbols/kaslr.h"
#include "symbols/kernel_image.h"

namespace kvmscope::cli {

namespace {

// "web1=kallsyms.txt" -> {"web1", "kallsyms.txt"}; "/a=b", "./a=b", "kallsyms.txt" -> {"", all}.
std::pair<std::string, std::string> split_vm(const std::string& text) {
  const std::size_t eq = text.find('=');
  if (eq == std::string::npos || eq == 0 || text.substr(0, eq).find('/') != std::string::npos)
    return {"", text};
  return {text.substr(0, eq), text.substr(eq + 1)};
}

std::optional<std::uint64_t> parse_offset(std::string_view t) {
  if (t.starts_with("0x") || t.starts_with("0X")) {
    std::uint64_t x = 0;
    const auto [p, ec] = std::from_chars(t.data() + 2, t.data() + t.size(), x, 16);
    if (ec == std::errc() && p == t.data() + t.size() && t.size() > 2) return x;
    return std::nullopt;
  }
  return parse_u64(t);
}

util::Result<GuestFile> load(const GuestSpec& spec) {
  GuestFile g;
  if (!spec.symbols_path.empty()) {
    auto t = symbols::SymbolTable::load(spec.symbols_path);
    if (!t) return t.error();
    g.table = std::move(*t);
  }
  if (!spec.kernel_path.empty()) {
    auto img = symbols::load_kernel_image(spec.kernel_path);
    if (!img) return img.error();
    g.image = std::move(*img);
  }
  return g;
}

symbols::GuestKernel kernel_of(const GuestSpec& spec, const GuestFile& file) {
  symbols::GuestKernel kernel;
  if (file.table) {
    kernel.symbols = &*file.table;
    kernel.symbols_path = spec.symbols_path;
  }
  if (file.image) {
    kernel.image = &*file.image;
    kernel.image_path = spec.kernel_path;
  }
  kernel.offset = spec.offset;
  return kernel;
}

}  // namespace

bool GuestCodeOptions::any_file() const {
  const auto given = [](const GuestSpec& s) {
    return !s.symbols_path.empty() || !s.kernel_path.empty() || s.offset.has_value();
  };
  return given(all) || !vm.empty();
}

std::string take_function_kind(std::string_view list, GuestCodeOptions& o) {
  std::string rest;
  while (true) {
    const std::size_t comma = list.find(',');
    const std::string_view item = list.substr(0, comma);
    if (item == "function")
      o.functions = true;
    else
      rest += (rest.empty() ? "" : ",") + std::string(item);
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  return rest;
}

util::Result<bool> parse_guest_code_option(OptionCursor& cursor, GuestCodeOptions& o) {
  const std::string_view name = cursor.name();
  const bool file = name == "--guest-symbols" || name == "--guest-kernel";
  if (!file && name != "--guest-kaslr-offset") return false;
  auto v = file ? cursor.path_value() : cursor.value();
  if (!v) return v.error();
  const auto [vm, value] = split_vm(*v);
  GuestSpec& spec = vm.empty() ? o.all : o.vm[vm];
  o.functions = true;
  if (file) {
    (name == "--guest-symbols" ? spec.symbols_path : spec.kernel_path) = value;
    return true;
  }
  const auto n = parse_offset(value);
  if (!n || *n % symbols::kKaslrAlign != 0)
    return cursor.usage("--guest-kaslr-offset: '" + value +
                        "' is not a multiple of 2 MiB (0x200000)");
  spec.offset = *n;
  return true;
}

util::Result<GuestFiles> load_guest_files(const GuestCodeOptions& o) {
  GuestFiles g;
  auto all = load(o.all);
  if (!all) return all.error();
  g.all = std::move(*all);
  for (const auto& [vm, spec] : o.vm) {
    auto f = load(spec);
    if (!f) return f.error();
    g.vm.emplace(vm, std::move(*f));
  }
  return g;
}

symbols::GuestKernels guest_kernels(const GuestCodeOptions& o, const GuestFiles& files,
                                    const std::map<std::uint32_t, model::VmInfo>& vms,
                                    std::vector<std::string>* unmatched) {
  symbols::GuestKernels k;
  k.all = kernel_of(o.all, files.all);
  for (const auto& [name, spec] : o.vm) {
    bool matched = false;
    for (const auto& [pid, info] : vms)
      if (name == std::to_string(pid) || name == info.name || name == info.comm) {
        k.vm[pid] = kernel_of(spec, files.vm.at(name));
        matched = true;
      }
    if (!matched && unmatched) unmatched->push_back(name);
  }
  return k;
}

void say_offsets(const char* command, const GuestCodeOptions& o, const symbols::Attribution& a,
                 const std::vector<std::string>& unmatched) {
  for (const std::string& vm : unmatched)
    std::fprintf(stderr,
                 "kvmscope %s: warning: no VM has the pid, name or process name '%s' "
                 "(its --guest-* files were not used)\n",
                 command, vm.c_str());
  if (!o.any_file()) return;
  for (const symbols::VmAttribution& vm : a.vms) {
    std::fprintf(stderr, "kvmscope %s: VM %u: KASLR offset %s (%s)", command, vm.vm_pid,
                 symbols::hex(vm.offset.offset).c_str(), symbols::kaslr_how_name(vm.offset.how));
    if (!vm.image_desc.empty())
      std::fprintf(stderr, ", %zu of %zu checkable exit RIPs fit %s%s", vm.offset.verified,
                   vm.offset.checkable, vm.image_desc.c_str(),
                   vm.offset.ties ? " (not unique)" : "");
    std::fputc('\n', stderr);
  }
}

}  // namespace kvmscope::cli
