// The guest-code options report, stat and top share (--by function, --guest-symbols,
// --guest-kernel, --guest-kaslr-offset): parsed once, their files read once, and the offsets
// found said once.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "cli/option_cursor.h"
#include "symbols/attribution.h"
#include "symbols/elf_image.h"
#include "symbols/symbol_table.h"
#include "util/result.h"

namespace kvmscope::cli {

struct GuestCodeOptions {
  bool functions = false;  // --by function (or any --guest-* option)
  std::string symbols_path, kernel_path;
  std::optional<std::uint64_t> offset;
};

// Takes "function" out of a --by list (setting o.functions) and returns the other kinds as
// they were ("" where none is left).
std::string take_function_kind(std::string_view by_list, GuestCodeOptions& o);

// Parses the option at the cursor when it is one of --guest-symbols, --guest-kernel,
// --guest-kaslr-offset (each implies --by function); false where it is none of them.
util::Result<bool> parse_guest_code_option(OptionCursor& cursor, GuestCodeOptions& o);

// The guest's symbols and code as given, read before anything is traced or read: a wrong file
// is an error before minutes of work.
struct GuestFiles {
  std::optional<symbols::SymbolTable> table;
  std::optional<symbols::ElfImage> image;
};
util::Result<GuestFiles> load_guest_files(const GuestCodeOptions& o);

// What the attribution gets to know about the guest kernel; points into `files`.
symbols::GuestKernel guest_kernel(const GuestCodeOptions& o, const GuestFiles& files);

// "kvmscope CMD: VM 4242: KASLR offset 0xf600000 (verified), 103 of 103 checkable exit RIPs fit
// ..." on standard error, one line per VM, where symbols, code or an offset were given.
void say_offsets(const char* command, const GuestCodeOptions& o, const symbols::Attribution& a);

}  // namespace kvmscope::cli
