// The guest kernel's KASLR offset (its runtime _text minus its link-time _text), found from the
// exits themselves. With the kernel's code: every 2 MiB-aligned offset in KASLR's 1 GiB range is
// tried, and at each the instruction bytes at every exit RIP whose reason implies an instruction
// are checked (instruction_check.h); the offset where the most RIPs fit is taken, and how many
// fit is always said. Without code, a heuristic (kaslr_heuristic below): never verified.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

#include "model/exit_key.h"
#include "model/guest_sites.h"
#include "symbols/elf_image.h"
#include "symbols/symbol_table.h"

namespace kvmscope::symbols {

// One guest RIP that exited, as the search sees it.
struct ExitSite {
  model::Reason reason;
  std::uint64_t rip = 0;
  model::SiteDetail detail;
  std::uint64_t count = 0;
};

struct KaslrOffset {
  enum class How {
    given,      // --guest-kaslr-offset
    kallsyms,   // the symbols are the running kernel's: _text says it
    verified,   // the instruction bytes at the exit RIPs
    heuristic,  // symbol names (no code)
    none,       // no offset fits; symbols are used as given
  };
  How how = How::none;
  std::uint64_t offset = 0;
  std::size_t checkable = 0;  // distinct kernel RIPs whose reason implies an instruction
  std::size_t verified = 0;   // of them, those whose bytes fit at `offset`
  std::size_t ties = 0;       // further offsets that fit as many (0: the offset is unique)
};
const char* kaslr_how_name(KaslrOffset::How how);  // "given", "kallsyms", "verified", ...

// Counts the checkable sites that fit at `offset` (and how many are checkable).
std::pair<std::size_t, std::size_t> verify_offset(const ElfImage& image,
                                                  std::span<const ExitSite> sites,
                                                  std::uint64_t offset);

// The search over [0, kKaslrRange) in kKaslrAlign steps; how == none where nothing fits.
KaslrOffset search_kaslr_offset(const ElfImage& image, std::span<const ExitSite> sites);

// Without code: the offset at which the most exits land in functions whose names suit their
// reason ("msr" for MSR exits, "cpuid", "halt"/"idle" for HLT, port-I/O names such as "inb",
// "outb", "pio", "pci_conf", "cmos" for io). Link-time symbols (System.map, ELF) only.
KaslrOffset kaslr_heuristic(const SymbolTable& symbols, std::span<const ExitSite> sites);

}  // namespace kvmscope::symbols
