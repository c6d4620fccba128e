#include "symbols/kaslr.h"

#include <array>
#include <string_view>

#include "symbols/instruction_check.h"

namespace kvmscope::symbols {

namespace {

// Enough for four prefixes and a three-byte opcode.
constexpr std::size_t kInsnBytes = 8;

std::span<const std::uint8_t> bytes_at(const ElfImage& image, std::uint64_t addr) {
  for (std::size_t n = kInsnBytes; n > 0; --n)
    if (auto b = image.at(addr, n); !b.empty()) return b;
  return {};
}

bool name_suits(ExitInstruction what, std::string_view name) {
  const auto has = [&](std::initializer_list<std::string_view> words) {
    for (std::string_view w : words)
      if (name.find(w) != std::string_view::npos) return true;
    return false;
  };
  switch (what) {
    case ExitInstruction::io:
      return has({"inb", "inw", "inl", "outb", "outw", "outl", "pio", "pci_conf", "read_pci",
                  "write_pci", "cmos", "_port", "i8254", "i8259", "serial", "io_delay"});
    case ExitInstruction::cpuid:
      return has({"cpuid"});
    case ExitInstruction::rdmsr:
    case ExitInstruction::wrmsr:
    case ExitInstruction::msr:
      return has({"msr"});
    case ExitInstruction::hlt:
      return has({"halt", "hlt", "idle"});
    case ExitInstruction::vmcall:
    case ExitInstruction::vmmcall:
      return has({"hypercall", "kvm"});
    case ExitInstruction::none:
      break;
  }
  return false;
}

constexpr std::size_t kCandidates = kKaslrRange / kKaslrAlign;

template <class Score>
KaslrOffset best_of(KaslrOffset::How how, Score score) {
  KaslrOffset best;
  std::size_t best_score = 0;
  for (std::size_t k = 0; k < kCandidates; ++k) {
    const std::uint64_t offset = k * kKaslrAlign;
    const auto [fit, checkable] = score(offset);
    best.checkable = checkable;
    if (fit > best_score) {
      best_score = fit;
      best.offset = offset;
      best.ties = 0;
    } else if (fit == best_score && fit > 0) {
      ++best.ties;
    }
  }
  best.verified = best_score;
  best.how = best_score > 0 ? how : KaslrOffset::How::none;
  if (best.how == KaslrOffset::How::none) best.offset = 0;
  return best;
}

}  // namespace

const char* kaslr_how_name(KaslrOffset::How how) {
  switch (how) {
    case KaslrOffset::How::given:
      return "given";
    case KaslrOffset::How::kallsyms:
      return "kallsyms";
    case KaslrOffset::How::verified:
      return "verified";
    case KaslrOffset::How::heuristic:
      return "heuristic";
    case KaslrOffset::How::none:
      return "none";
  }
  return "?";
}

std::pair<std::size_t, std::size_t> verify_offset(const ElfImage& image,
                                                  std::span<const ExitSite> sites,
                                                  std::uint64_t offset) {
  std::size_t fit = 0, checkable = 0;
  for (const ExitSite& s : sites) {
    const ExitInstruction what = exit_instruction(s.reason);
    if (what == ExitInstruction::none || s.rip < model::kGuestKernelStart) continue;
    ++checkable;
    if (instruction_fits(what, s.detail, bytes_at(image, s.rip - offset))) ++fit;
  }
  return {fit, checkable};
}

KaslrOffset search_kaslr_offset(const ElfImage& image, std::span<const ExitSite> sites) {
  return best_of(KaslrOffset::How::verified,
                 [&](std::uint64_t offset) { return verify_offset(image, sites, offset); });
}

KaslrOffset kaslr_heuristic(const SymbolTable& symbols, std::span<const ExitSite> sites) {
  return best_of(KaslrOffset::How::heuristic, [&](std::uint64_t offset) {
    std::size_t score = 0, checkable = 0;
    for (const ExitSite& s : sites) {
      const ExitInstruction what = exit_instruction(s.reason);
      if (what == ExitInstruction::none || s.rip < model::kGuestKernelStart) continue;
      ++checkable;
      const SymbolLookup l = symbols.find(s.rip - offset);
      if (l.symbol && name_suits(what, l.symbol->name)) ++score;
    }
    return std::pair{score, checkable};
  });
}

}  // namespace kvmscope::symbols
