#include "symbols/instruction_check.h"

namespace kvmscope::symbols {

namespace {

// SVM exit codes (arch/x86/include/uapi/asm/svm.h) and VMX basic exit reasons (vmx.h).
constexpr std::uint32_t kSvmCpuid = 0x72, kSvmHlt = 0x78, kSvmIoio = 0x7b, kSvmMsr = 0x7c,
                        kSvmVmmcall = 0x81;
constexpr std::uint32_t kVmxCpuid = 10, kVmxHlt = 12, kVmxVmcall = 18, kVmxIo = 30, kVmxRdmsr = 31,
                        kVmxWrmsr = 32;

bool is_prefix(std::uint8_t b) {
  switch (b) {
    case 0x66:
    case 0x67:
    case 0xf2:
    case 0xf3:
    case 0x26:
    case 0x2e:
    case 0x36:
    case 0x3e:
    case 0x64:
    case 0x65:
      return true;
    default:
      return false;
  }
}

bool io_fits(const model::SiteDetail& d, std::span<const std::uint8_t> b) {
  std::size_t i = 0;
  bool opsize16 = false;
  while (i < b.size() && i < 4 && is_prefix(b[i])) opsize16 |= b[i++] == 0x66;
  if (i >= b.size()) return false;
  const std::uint8_t op = b[i];
  bool out = false, imm = false;
  std::uint32_t size = 0;
  switch (op) {
    case 0xe4:
    case 0xe5:
    case 0xe6:
    case 0xe7:
      imm = true;
      [[fallthrough]];
    case 0xec:
    case 0xed:
    case 0xee:
    case 0xef:
    case 0x6c:
    case 0x6d:
    case 0x6e:
    case 0x6f:  // INS, OUTS: direction and size in the same bits
      out = op & 2;
      size = op & 1 ? (opsize16 ? 2 : 4) : 1;
      break;
    default:
      return false;
  }
  if (!d.io || d.mixed) return true;  // an IN/OUT, no more to compare with
  if (d.io_out != out || d.io_size != size) return false;
  return !imm || (i + 1 < b.size() && b[i + 1] == d.io_port);
}

bool two(std::span<const std::uint8_t> b, std::uint8_t x, std::uint8_t y) {
  return b.size() >= 2 && b[0] == x && b[1] == y;
}

bool three(std::span<const std::uint8_t> b, std::uint8_t x, std::uint8_t y, std::uint8_t z) {
  return b.size() >= 3 && b[0] == x && b[1] == y && b[2] == z;
}

}  // namespace

ExitInstruction exit_instruction(const model::Reason& r) {
  if (r.level != model::Level::hardware) return ExitInstruction::none;
  if (r.isa == model::Isa::svm) {
    switch (r.code) {
      case kSvmCpuid:
        return ExitInstruction::cpuid;
      case kSvmHlt:
        return ExitInstruction::hlt;
      case kSvmIoio:
        return ExitInstruction::io;
      case kSvmMsr:
        return ExitInstruction::msr;
      case kSvmVmmcall:
        return ExitInstruction::vmmcall;
      default:
        return ExitInstruction::none;
    }
  }
  if (r.isa == model::Isa::vmx) {
    switch (r.code & 0xffff) {  // the basic exit reason; the flags above it say nothing here
      case kVmxCpuid:
        return ExitInstruction::cpuid;
      case kVmxHlt:
        return ExitInstruction::hlt;
      case kVmxVmcall:
        return ExitInstruction::vmcall;
      case kVmxIo:
        return ExitInstruction::io;
      case kVmxRdmsr:
        return ExitInstruction::rdmsr;
      case kVmxWrmsr:
        return ExitInstruction::wrmsr;
      default:
        return ExitInstruction::none;
    }
  }
  return ExitInstruction::none;
}

bool instruction_fits(ExitInstruction what, const model::SiteDetail& d,
                      std::span<const std::uint8_t> b) {
  switch (what) {
    case ExitInstruction::io:
      return io_fits(d, b);
    case ExitInstruction::cpuid:
      return two(b, 0x0f, 0xa2);
    case ExitInstruction::rdmsr:
      return two(b, 0x0f, 0x32);
    case ExitInstruction::wrmsr:
      return two(b, 0x0f, 0x30);
    case ExitInstruction::msr:
      if (d.msr && !d.mixed) return two(b, 0x0f, d.msr_write ? 0x30 : 0x32);
      return two(b, 0x0f, 0x30) || two(b, 0x0f, 0x32);
    case ExitInstruction::hlt:
      return !b.empty() && b[0] == 0xf4;
    case ExitInstruction::vmcall:
      return three(b, 0x0f, 0x01, 0xc1);
    case ExitInstruction::vmmcall:
      return three(b, 0x0f, 0x01, 0xd9);
    case ExitInstruction::none:
      break;
  }
  return false;
}

}  // namespace kvmscope::symbols
