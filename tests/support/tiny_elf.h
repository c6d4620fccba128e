// A tiny 64-bit ELF made byte by byte for the symbols tests: one PT_LOAD of code at a chosen
// address and a .symtab of functions. Made here rather than by a compiler, so every address and
// byte the tests expect is the one given below, on any toolchain.
#pragma once

#include <elf.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

namespace kvmscope::test {

struct TinyFunction {
  std::string name;
  std::uint64_t addr = 0;
  std::uint64_t size = 0;
};

// `code` is loaded at `vaddr`; `symbols` (if any) go into .symtab as STT_FUNC in .text.
inline std::vector<std::uint8_t> tiny_elf(std::uint64_t vaddr,
                                          const std::vector<std::uint8_t>& code,
                                          const std::vector<TinyFunction>& symbols) {
  std::vector<std::uint8_t> f(sizeof(Elf64_Ehdr) + sizeof(Elf64_Phdr));
  const auto append = [&](const void* p, std::size_t n) {
    const std::size_t at = f.size();
    f.resize(at + n);
    std::memcpy(f.data() + at, p, n);
    return at;
  };
  const std::size_t text_off = append(code.data(), code.size());
  std::string strtab(1, '\0');
  std::vector<Elf64_Sym> syms(1);
  for (const TinyFunction& s : symbols) {
    Elf64_Sym sym{};
    sym.st_name = static_cast<std::uint32_t>(strtab.size());
    sym.st_info = ELF64_ST_INFO(STB_GLOBAL, STT_FUNC);
    sym.st_shndx = 1;
    sym.st_value = s.addr;
    sym.st_size = s.size;
    syms.push_back(sym);
    strtab += s.name + '\0';
  }
  const std::size_t sym_off = append(syms.data(), syms.size() * sizeof(Elf64_Sym));
  const std::size_t str_off = append(strtab.data(), strtab.size());
  const std::string shstr = std::string("\0.text\0.symtab\0.strtab\0.shstrtab\0", 33);
  const std::size_t shstr_off = append(shstr.data(), shstr.size());
  Elf64_Shdr sh[5]{};
  sh[1] = {1, SHT_PROGBITS, SHF_ALLOC | SHF_EXECINSTR, vaddr, text_off, code.size(), 0, 0, 16, 0};
  sh[2] = {7, SHT_SYMTAB,       0, 0, sym_off, syms.size() * sizeof(Elf64_Sym), 3, 1,
           8, sizeof(Elf64_Sym)};
  sh[3] = {15, SHT_STRTAB, 0, 0, str_off, strtab.size(), 0, 0, 1, 0};
  sh[4] = {23, SHT_STRTAB, 0, 0, shstr_off, shstr.size(), 0, 0, 1, 0};
  const std::size_t shoff = append(sh, sizeof sh);

  Elf64_Ehdr eh{};
  std::memcpy(eh.e_ident, ELFMAG, SELFMAG);
  eh.e_ident[EI_CLASS] = ELFCLASS64;
  eh.e_ident[EI_DATA] = ELFDATA2LSB;
  eh.e_ident[EI_VERSION] = EV_CURRENT;
  eh.e_type = ET_EXEC;
  eh.e_machine = EM_X86_64;
  eh.e_version = EV_CURRENT;
  eh.e_entry = vaddr;
  eh.e_phoff = sizeof(Elf64_Ehdr);
  eh.e_shoff = shoff;
  eh.e_ehsize = sizeof(Elf64_Ehdr);
  eh.e_phentsize = sizeof(Elf64_Phdr);
  eh.e_phnum = 1;
  eh.e_shentsize = sizeof(Elf64_Shdr);
  eh.e_shnum = symbols.empty() ? 0 : 5;
  eh.e_shstrndx = symbols.empty() ? 0 : 4;
  if (symbols.empty()) eh.e_shoff = 0;
  Elf64_Phdr ph{};
  ph.p_type = PT_LOAD;
  ph.p_flags = PF_R | PF_X;
  ph.p_offset = text_off;
  ph.p_vaddr = ph.p_paddr = vaddr;
  ph.p_filesz = ph.p_memsz = code.size();
  ph.p_align = 0x200000;
  std::memcpy(f.data(), &eh, sizeof eh);
  std::memcpy(f.data() + sizeof eh, &ph, sizeof ph);
  return f;
}

}  // namespace kvmscope::test
