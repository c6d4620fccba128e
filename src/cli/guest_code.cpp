#include "cli/guest_code.h"

#include <charconv>
#include <cstdio>

#include "cli/numbers.h"
#include "symbols/kaslr.h"
#include "symbols/kernel_image.h"

namespace kvmscope::cli {

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
  if (name == "--guest-symbols" || name == "--guest-kernel") {
    auto v = cursor.path_value();
    if (!v) return v.error();
    (name == "--guest-symbols" ? o.symbols_path : o.kernel_path) = *v;
    o.functions = true;
    return true;
  }
  if (name != "--guest-kaslr-offset") return false;
  auto v = cursor.value();
  if (!v) return v.error();
  const std::string_view t = *v;
  std::optional<std::uint64_t> n;
  if (t.starts_with("0x") || t.starts_with("0X")) {
    std::uint64_t x = 0;
    const auto [p, ec] = std::from_chars(t.data() + 2, t.data() + t.size(), x, 16);
    if (ec == std::errc() && p == t.data() + t.size() && t.size() > 2) n = x;
  } else {
    n = parse_u64(t);
  }
  if (!n || *n % symbols::kKaslrAlign != 0)
    return cursor.usage("--guest-kaslr-offset: '" + *v + "' is not a multiple of 2 MiB (0x200000)");
  o.offset = *n;
  o.functions = true;
  return true;
}

util::Result<GuestFiles> load_guest_files(const GuestCodeOptions& o) {
  GuestFiles g;
  if (!o.symbols_path.empty()) {
    auto t = symbols::SymbolTable::load(o.symbols_path);
    if (!t) return t.error();
    g.table = std::move(*t);
  }
  if (!o.kernel_path.empty()) {
    auto img = symbols::load_kernel_image(o.kernel_path);
    if (!img) return img.error();
    g.image = std::move(*img);
  }
  return g;
}

symbols::GuestKernel guest_kernel(const GuestCodeOptions& o, const GuestFiles& files) {
  symbols::GuestKernel kernel;
  if (files.table) {
    kernel.symbols = &*files.table;
    kernel.symbols_path = o.symbols_path;
  }
  if (files.image) {
    kernel.image = &*files.image;
    kernel.image_path = o.kernel_path;
  }
  kernel.offset = o.offset;
  return kernel;
}

void say_offsets(const char* command, const GuestCodeOptions& o, const symbols::Attribution& a) {
  if (o.symbols_path.empty() && o.kernel_path.empty() && !o.offset) return;
  for (const symbols::VmAttribution& vm : a.vms) {
    std::fprintf(stderr, "kvmscope %s: VM %u: KASLR offset %s (%s)", command, vm.vm_pid,
                 symbols::hex(vm.offset.offset).c_str(), symbols::kaslr_how_name(vm.offset.how));
    if (!a.image_desc.empty())
      std::fprintf(stderr, ", %zu of %zu checkable exit RIPs fit %s%s", vm.offset.verified,
                   vm.offset.checkable, a.image_desc.c_str(),
                   vm.offset.ties ? " (not unique)" : "");
    std::fputc('\n', stderr);
  }
}

}  // namespace kvmscope::cli
