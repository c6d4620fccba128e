// The guest-code options report, stat and top share (--by function, --guest-symbols,
// --guest-kernel, --guest-kaslr-offset): parsed once, their files read once, the VMs they name
// matched once, and the offsets found said once.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cli/option_cursor.h"
#include "model/snapshot.h"
#include "symbols/attribution.h"
#include "symbols/elf_image.h"
#include "symbols/symbol_table.h"
#include "util/result.h"

namespace kvmscope::cli {

// What one guest kernel is: its symbols, its code, its KASLR offset (each optional).
struct GuestSpec {
  std::string symbols_path, kernel_path;
  std::optional<std::uint64_t> offset;
};

struct GuestCodeOptions {
  bool functions = false;  // --by function (or any --guest-* option)
  GuestSpec all;           // FILE: every VM not named below
  // VM=FILE: for the VMs whose pid, name or process name is VM; only these files are theirs.
  std::map<std::string, GuestSpec> vm;
  bool any_file() const;  // symbols, code or an offset given at all
};

// Takes "function" out of a --by list (setting o.functions) and returns the other kinds as
// they were ("" where none is left).
std::string take_function_kind(std::string_view by_list, GuestCodeOptions& o);

// Parses the option at the cursor when it is one of --guest-symbols, --guest-kernel,
// --guest-kaslr-offset (each implies --by function, each takes [VM=]VALUE: VM is text up to the
// first '=' without a '/', so a path with '=' in it is written ./a=b); false where it is none.
util::Result<bool> parse_guest_code_option(OptionCursor& cursor, GuestCodeOptions& o);

// The guest's symbols and code as given, read before anything is traced or read: a wrong file
// is an error before minutes of work.
struct GuestFile {
  std::optional<symbols::SymbolTable> table;
  std::optional<symbols::ElfImage> image;
};
struct GuestFiles {
  GuestFile all;
  std::map<std::string, GuestFile> vm;
};
util::Result<GuestFiles> load_guest_files(const GuestCodeOptions& o);

// What the attribution gets to know about each VM's kernel (pointing into `files`): a VM named
// by a VM=... option gets that one, every other VM the plain options'. `vms`: the VMs' names.
// Names in VM=... that match no VM are listed in `unmatched`.
symbols::GuestKernels guest_kernels(const GuestCodeOptions& o, const GuestFiles& files,
                                    const std::map<std::uint32_t, model::VmInfo>& vms,
                                    std::vector<std::string>* unmatched = nullptr);

// "kvmscope CMD: VM 4242: KASLR offset 0xf600000 (verified), 103 of 103 checkable exit RIPs fit
// ..." on standard error, one line per VM, where symbols, code or an offset were given, and one
// warning line per VM=... that matched no VM.
void say_offsets(const char* command, const GuestCodeOptions& o, const symbols::Attribution& a,
                 const std::vector<std::string>& unmatched = {});

}  // namespace kvmscope::cli
