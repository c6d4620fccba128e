#include "symbols/elf_image.h"

#include <elf.h>

#include <algorithm>
#include <cstring>
#include <limits>

namespace kvmscope::symbols {

namespace {

template <class T>
bool read_at(std::span<const std::uint8_t> b, std::uint64_t off, T& out) {
  if (off > b.size() || b.size() - off < sizeof(T)) return false;
  std::memcpy(&out, b.data() + off, sizeof(T));
  return true;
}

bool in_file(std::span<const std::uint8_t> b, std::uint64_t off, std::uint64_t len) {
  return off <= b.size() && len <= b.size() - off;
}

}  // namespace

bool ElfImage::looks_like_elf(std::span<const std::uint8_t> b) {
  return b.size() >= SELFMAG && std::memcmp(b.data(), ELFMAG, SELFMAG) == 0;
}

util::Result<ElfImage> ElfImage::parse(std::vector<std::uint8_t> bytes, const std::string& what) {
  ElfImage img;
  img.bytes_ = std::move(bytes);
  const std::span<const std::uint8_t> b = img.bytes_;
  Elf64_Ehdr eh{};
  if (!looks_like_elf(b) || !read_at(b, 0, eh))
    return util::plain_error(what + ": not an ELF file");
  if (eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_ident[EI_DATA] != ELFDATA2LSB)
    return util::plain_error(what + ": not a 64-bit little-endian ELF file");
  const auto damaged = [&](const char* part) {
    return util::plain_error(what + ": damaged ELF file (" + part + " beyond its end)");
  };
  if (eh.e_phentsize != sizeof(Elf64_Phdr) && eh.e_phnum) return damaged("program headers");
  img.text_start_ = std::numeric_limits<std::uint64_t>::max();
  for (std::uint16_t i = 0; i < eh.e_phnum; ++i) {
    Elf64_Phdr ph{};
    if (!read_at(b, eh.e_phoff + std::uint64_t{i} * sizeof ph, ph))
      return damaged("program headers");
    if (ph.p_type != PT_LOAD) continue;
    if (!in_file(b, ph.p_offset, ph.p_filesz)) return damaged("a segment");
    img.segments_.push_back({ph.p_vaddr, ph.p_offset, ph.p_filesz});
    if (ph.p_flags & PF_X) img.text_start_ = std::min(img.text_start_, ph.p_vaddr);
  }
  if (img.text_start_ == std::numeric_limits<std::uint64_t>::max()) img.text_start_ = 0;

  // The symbol table, if any: .symtab and the string table its sh_link names.
  if (eh.e_shnum && eh.e_shentsize != sizeof(Elf64_Shdr)) return damaged("section headers");
  std::vector<Elf64_Shdr> sh(eh.e_shnum);
  for (std::uint16_t i = 0; i < eh.e_shnum; ++i)
    if (!read_at(b, eh.e_shoff + std::uint64_t{i} * sizeof(Elf64_Shdr), sh[i]))
      return damaged("section headers");
  for (const Elf64_Shdr& s : sh) {
    if (s.sh_type != SHT_SYMTAB || s.sh_entsize != sizeof(Elf64_Sym)) continue;
    if (s.sh_link >= sh.size()) return damaged("the symbol table's string table");
    const Elf64_Shdr& strtab = sh[s.sh_link];
    if (!in_file(b, s.sh_offset, s.sh_size) || !in_file(b, strtab.sh_offset, strtab.sh_size))
      return damaged("the symbol table");
    for (std::uint64_t off = 0; off + sizeof(Elf64_Sym) <= s.sh_size; off += sizeof(Elf64_Sym)) {
      Elf64_Sym sym{};
      read_at(b, s.sh_offset + off, sym);
      const unsigned type = ELF64_ST_TYPE(sym.st_info);
      if (type != STT_FUNC && type != STT_NOTYPE) continue;
      if (sym.st_shndx == SHN_UNDEF || sym.st_shndx >= sh.size()) continue;
      if (!(sh[sym.st_shndx].sh_flags & SHF_EXECINSTR)) continue;
      if (sym.st_name >= strtab.sh_size) continue;
      const char* name = reinterpret_cast<const char*>(b.data() + strtab.sh_offset + sym.st_name);
      const std::size_t max_len = strtab.sh_size - sym.st_name;
      const std::size_t len = strnlen(name, max_len);
      if (len == 0 || len == max_len) continue;
      img.symbols_.push_back({sym.st_value, sym.st_size, std::string(name, len)});
    }
  }
  std::sort(img.symbols_.begin(), img.symbols_.end(),
            [](const ElfSymbol& a, const ElfSymbol& c) { return a.addr < c.addr; });
  return img;
}

std::span<const std::uint8_t> ElfImage::at(std::uint64_t vaddr, std::size_t n) const {
  for (const Segment& s : segments_)
    if (vaddr >= s.vaddr && vaddr - s.vaddr <= s.filesz && s.filesz - (vaddr - s.vaddr) >= n)
      return std::span<const std::uint8_t>(bytes_).subspan(s.offset + (vaddr - s.vaddr), n);
  return {};
}

}  // namespace kvmscope::symbols
