// A 64-bit little-endian ELF file held in memory (a vmlinux, or the one a bzImage carries): the
// bytes at a virtual address, from its PT_LOAD segments, and its symbol table where it has one
// (Debian's -dbg vmlinux has; the vmlinux inside a bzImage is stripped). Parsed with <elf.h>'s
// structures by hand: every offset is checked against the file's size, a damaged file is an Error.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "util/result.h"

namespace kvmscope::symbols {

struct ElfSymbol {
  std::uint64_t addr = 0;
  std::uint64_t size = 0;  // 0: not known (assembly entry points)
  std::string name;
};

class ElfImage {
 public:
  // `what` names the file in errors ("vmlinux: not an ELF file").
  static util::Result<ElfImage> parse(std::vector<std::uint8_t> bytes, const std::string& what);
  static bool looks_like_elf(std::span<const std::uint8_t> bytes);

  // The n bytes mapped at vaddr by one PT_LOAD segment (its file part); empty where they are not.
  std::span<const std::uint8_t> at(std::uint64_t vaddr, std::size_t n) const;
  // Functions, and symbols without a type in executable sections; sorted by address.
  const std::vector<ElfSymbol>& code_symbols() const { return symbols_; }
  bool has_symbols() const { return !symbols_.empty(); }
  // The lowest executable segment's start: a kernel's _text at link time.
  std::uint64_t text_start() const { return text_start_; }

 private:
  struct Segment {
    std::uint64_t vaddr = 0, offset = 0, filesz = 0;
  };
  std::vector<std::uint8_t> bytes_;
  std::vector<Segment> segments_;
  std::vector<ElfSymbol> symbols_;
  std::uint64_t text_start_ = 0;
};

}  // namespace kvmscope::symbols
