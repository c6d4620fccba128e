// Guest kernel symbols for `report --guest-symbols FILE`: a guest's /proc/kallsyms, a
// System.map (the same "ADDRESS TYPE NAME" lines, link-time addresses) or a vmlinux ELF with a
// symbol table. Only code symbols are kept (kallsyms/System.map types t, T, w, W). A RIP is
// found in the last symbol at or below it, up to that symbol's size (ELF) or the next symbol.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "symbols/elf_image.h"
#include "util/result.h"

namespace kvmscope::symbols {

// Where x86-64 kernels are linked (__START_KERNEL: __START_KERNEL_map + CONFIG_PHYSICAL_START
// 16 MiB). KASLR moves the kernel up from here by a multiple of CONFIG_PHYSICAL_ALIGN, 2 MiB,
// within KERNEL_IMAGE_SIZE (1 GiB).
inline constexpr std::uint64_t kLinkTextX86 = 0xffffffff81000000ull;
inline constexpr std::uint64_t kKaslrAlign = 2ull << 20;
inline constexpr std::uint64_t kKaslrRange = 1ull << 30;
// Kernel addresses are in the upper half; lower RIPs are user space or, before the kernel's
// first exit, firmware and early boot.
inline constexpr std::uint64_t kKernelSpaceStart = 0xffff800000000000ull;

struct Symbol {
  std::uint64_t addr = 0;
  std::uint64_t end = 0;  // exclusive
  std::string name;
  std::string module;  // kallsyms "[module]"; empty for the kernel's own
};

struct SymbolLookup {
  const Symbol* symbol = nullptr;
  std::uint64_t offset = 0;
};

class SymbolTable {
 public:
  enum class Kind { kallsyms, system_map, elf };

  // "ADDRESS TYPE NAME [MODULE]" lines; a file with any [module] column, or whose _text is not at
  // the link address, is a kallsyms (runtime addresses), else a System.map. `what` names it in
  // errors, which give the line.
  static util::Result<SymbolTable> parse_text(std::string_view text, const std::string& what);
  static util::Result<SymbolTable> from_elf(const ElfImage& elf, const std::string& what);
  // Reads `path`: an ELF file, else the text format.
  static util::Result<SymbolTable> load(const std::string& path);

  Kind kind() const { return kind_; }
  const char* kind_name() const;  // "kallsyms", "System.map", "ELF symbol table"
  // The addresses are the running kernel's (kallsyms), not link-time ones needing the KASLR
  // offset added.
  bool runtime_addresses() const { return kind_ == Kind::kallsyms; }
  // _text (else _stext, else the lowest symbol) as the file gives it.
  std::uint64_t text_start() const { return text_start_; }
  const std::vector<Symbol>& symbols() const { return symbols_; }

  // The symbol holding `addr`, in the file's own addresses.
  SymbolLookup find(std::uint64_t addr) const;

 private:
  void finish();  // sorts, fills ends, finds _text
  Kind kind_ = Kind::system_map;
  std::uint64_t text_start_ = 0;
  std::vector<Symbol> symbols_;
};

}  // namespace kvmscope::symbols
