// src/symbols: the symbol files (kallsyms, System.map, ELF), the bzImage's payload, the KASLR
// offset search on a synthetic kernel image, and the attribution of exits to functions. Every
// image and address is made in the test (tests/support/tiny_elf.h), so every expected value is
// worked out from what is listed here.
#include <gtest/gtest.h>
#include <lzma.h>
#include <zlib.h>
#include <zstd.h>

#include <cstring>
#include <string>
#include <vector>

#include "model/recording_analysis.h"
#include "support/tiny_elf.h"
#include "support/tiny_recording.h"
#include "symbols/attribution.h"
#include "symbols/instruction_check.h"
#include "symbols/kaslr.h"
#include "symbols/kernel_image.h"
#include "symbols/symbol_table.h"

namespace kvmscope::symbols {
namespace {

using model::Isa;
using model::Level;
using model::Reason;

constexpr std::uint64_t kLink = kLinkTextX86;
constexpr Reason kSvmIo{Level::hardware, Isa::svm, 0x7b};
constexpr Reason kSvmCpuid{Level::hardware, Isa::svm, 0x72};
constexpr Reason kSvmMsr{Level::hardware, Isa::svm, 0x7c};
constexpr Reason kSvmHlt{Level::hardware, Isa::svm, 0x78};
constexpr Reason kSvmIntr{Level::hardware, Isa::svm, 0x60};
constexpr Reason kVmxIo{Level::hardware, Isa::vmx, 30};

// The synthetic kernel: 4 MiB of int3 (0xcc) from kLink, with these instructions in it.
//   +0x1000 read_pci_config:  66 ba f8 0c (mov dx,0xcf8)  ef (out dx,eax)  ...  ed (in eax,dx)
//   +0x2000 rtc_cmos_read:    e6 70 (out 0x70,al)  e4 71 (in al,0x71)
//   +0x3000 native_cpuid:     0f a2
//   +0x4000 native_write_msr: 0f 30
//   +0x5000 native_halt:      f4
// And a decoy: at +0x205000 (the halt's place 2 MiB lower in the run) another f4, so that
// offset fits one RIP of the four the real one does.
std::vector<std::uint8_t> kernel_code() {
  std::vector<std::uint8_t> c(4u << 20, 0xcc);
  const auto put = [&](std::size_t at, std::vector<std::uint8_t> b) {
    std::memcpy(c.data() + at, b.data(), b.size());
  };
  put(0x1000, {0x66, 0xba, 0xf8, 0x0c, 0xef, 0x66, 0xba, 0xfc, 0x0c, 0xed, 0xc3});
  put(0x2000, {0xe6, 0x70, 0xe4, 0x71, 0xc3});
  put(0x3000, {0x0f, 0xa2, 0xc3});
  put(0x4000, {0x0f, 0x30, 0xc3});
  put(0x5000, {0xf4, 0xc3});
  put(0x205000, {0xf4});
  return c;
}

const std::vector<test::TinyFunction> kFunctions = {
    {"_text", kLink, 0},
    {"read_pci_config", kLink + 0x1000, 0x20},
    {"rtc_cmos_read", kLink + 0x2000, 0x10},
    {"native_cpuid", kLink + 0x3000, 0x10},
    {"native_write_msr", kLink + 0x4000, 0x10},
    {"native_halt", kLink + 0x5000, 0x10},
};

// The same as a System.map (link addresses) would list them, with data symbols between.
const char kSystemMap[] =
    "ffffffff81000000 T _text\n"
    "ffffffff81000000 T startup_64\n"
    "ffffffff81001000 T read_pci_config\n"
    "ffffffff81002000 t rtc_cmos_read\n"
    "ffffffff81002800 D some_data\n"
    "ffffffff81003000 T native_cpuid\n"
    "ffffffff81004000 T native_write_msr\n"
    "ffffffff81005000 T native_halt\n"
    "ffffffff81006000 T _etext\n";

ElfImage image(bool with_symbols = true) {
  auto elf =
      ElfImage::parse(test::tiny_elf(kLink, kernel_code(),
                                     with_symbols ? kFunctions : std::vector<test::TinyFunction>{}),
                      "tiny");
  EXPECT_TRUE(elf.ok()) << (elf.ok() ? "" : elf.error().message());
  return std::move(*elf);
}

model::SiteDetail io(bool out, std::uint32_t size, std::uint64_t port) {
  model::SiteDetail d;
  d.io = true;
  d.io_out = out;
  d.io_size = size;
  d.io_port = port;
  return d;
}

// The exits of a guest whose kernel runs `offset` above its link address.
std::vector<ExitSite> sites_at(std::uint64_t offset) {
  const std::uint64_t t = kLink + offset;
  model::SiteDetail wrmsr;
  wrmsr.msr = true;
  wrmsr.msr_write = true;
  return {
      {kSvmIo, t + 0x1004, io(true, 4, 0xcf8), 300},   // out dx,eax
      {kSvmIo, t + 0x1009, io(false, 4, 0xcfc), 300},  // in eax,dx
      {kSvmIo, t + 0x2000, io(true, 1, 0x70), 50},     // out 0x70,al
      {kSvmIo, t + 0x2002, io(false, 1, 0x71), 50},    // in al,0x71
      {kSvmCpuid, t + 0x3000, {}, 7},
      {kSvmMsr, t + 0x4000, wrmsr, 9},
      {kSvmHlt, t + 0x5000, {}, 20},
      {kSvmIntr, t + 0x5001, {}, 1000},  // an interrupt: nothing to check
  };
}

TEST(ElfImage, ReadsSegmentsAndCodeSymbols) {
  const ElfImage elf = image();
  EXPECT_EQ(elf.text_start(), kLink);
  ASSERT_EQ(elf.code_symbols().size(), 6u);
  EXPECT_EQ(elf.code_symbols()[1].name, "read_pci_config");
  EXPECT_EQ(elf.code_symbols()[1].addr, kLink + 0x1000);
  EXPECT_EQ(elf.code_symbols()[1].size, 0x20u);
  const auto b = elf.at(kLink + 0x3000, 2);
  ASSERT_EQ(b.size(), 2u);
  EXPECT_EQ(b[0], 0x0f);
  EXPECT_EQ(b[1], 0xa2);
  EXPECT_TRUE(elf.at(kLink + (4u << 20) - 1, 2).empty());  // runs past the segment
  EXPECT_TRUE(elf.at(kLink - 1, 1).empty());
}

TEST(ElfImage, RefusesWhatIsNotAnElfOrIsCut) {
  auto bad = ElfImage::parse({'n', 'o', 'p', 'e'}, "x");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().message(), "x: not an ELF file");
  std::vector<std::uint8_t> cut = test::tiny_elf(kLink, {0x90}, kFunctions);
  cut.resize(100);
  auto c = ElfImage::parse(cut, "cut");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.error().message(), "cut: damaged ELF file (program headers beyond its end)");
}

TEST(SymbolTable, SystemMapIsLinkTime) {
  auto t = SymbolTable::parse_text(kSystemMap, "System.map");
  ASSERT_TRUE(t.ok()) << t.error().message();
  EXPECT_EQ(t->kind(), SymbolTable::Kind::system_map);
  EXPECT_FALSE(t->runtime_addresses());
  EXPECT_EQ(t->text_start(), kLink);
  // Data symbols are left out; an alias at _text's address names the code, not the marker.
  std::vector<std::string> names;
  for (const Symbol& s : t->symbols()) names.push_back(s.name);
  EXPECT_EQ(names, (std::vector<std::string>{"startup_64", "read_pci_config", "rtc_cmos_read",
                                             "native_cpuid", "native_write_msr", "native_halt",
                                             "_etext"}));
  const SymbolLookup l = t->find(kLink + 0x1009);
  ASSERT_NE(l.symbol, nullptr);
  EXPECT_EQ(l.symbol->name, "read_pci_config");
  EXPECT_EQ(l.offset, 9u);
  // rtc_cmos_read runs to the next code symbol (the data symbol does not end it).
  EXPECT_EQ(t->find(kLink + 0x2900).symbol->name, "rtc_cmos_read");
  EXPECT_EQ(t->find(kLink - 1).symbol, nullptr);
}

TEST(SymbolTable, KallsymsIsRuntime) {
  const char text[] =
      "ffffffff9e000000 T _text\n"
      "ffffffff9e001000 T read_pci_config\n"
      "ffffffff9e002000 t rtc_cmos_read\n"
      "ffffffffc0400000 t virtnet_poll\t[virtio_net]\n";
  auto t = SymbolTable::parse_text(text, "kallsyms");
  ASSERT_TRUE(t.ok()) << t.error().message();
  EXPECT_EQ(t->kind(), SymbolTable::Kind::kallsyms);
  EXPECT_EQ(t->text_start(), 0xffffffff9e000000u);
  const SymbolLookup m = t->find(0xffffffffc0400010u);
  ASSERT_NE(m.symbol, nullptr);
  EXPECT_EQ(m.symbol->name, "virtnet_poll");
  EXPECT_EQ(m.symbol->module, "virtio_net");
}

TEST(SymbolTable, ErrorsSayWhatIsWrong) {
  auto bad = SymbolTable::parse_text("ffffffff81000000 T _text\nhello world\n", "map");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().message(),
            "map: line 2: not \"ADDRESS TYPE NAME\" (a /proc/kallsyms, a System.map or a vmlinux "
            "ELF file is expected)");
  auto zero = SymbolTable::parse_text("0000000000000000 T _text\n0000000000000000 T f\n", "k");
  ASSERT_FALSE(zero.ok());
  EXPECT_EQ(zero.error().message(),
            "k: every address is 0 (a /proc/kallsyms read without the right to see addresses) "
            "(read it as root, or with kernel.kptr_restrict=0)");
  // Debian's linux-image package ships a stub System.map: one line, no symbols.
  auto stub = SymbolTable::parse_text(
      "ffffffffffffffff B The real System.map is in the "
      "linux-image-<version>-dbg package\n",
      "stub");
  ASSERT_FALSE(stub.ok());
  auto stripped = SymbolTable::from_elf(image(false), "vmlinuz");
  ASSERT_FALSE(stripped.ok());
  EXPECT_EQ(stripped.error().message(),
            "vmlinuz: an ELF file without a symbol table (stripped) (give the kernel's "
            "System.map, or the vmlinux of its -dbg package)");
}

TEST(SymbolTable, ElfSymbolsUseTheirSizes) {
  auto t = SymbolTable::from_elf(image(), "vmlinux");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->kind(), SymbolTable::Kind::elf);
  EXPECT_EQ(t->find(kLink + 0x101f).symbol->name, "read_pci_config");
  EXPECT_EQ(t->find(kLink + 0x1020).symbol, nullptr);  // past its st_size
}

// A bzImage as the boot protocol lays it out: setup_sects 1 (1024 bytes of setup), "HdrS",
// version 2.15, payload_offset 0x100 and the payload's length.
std::vector<std::uint8_t> bzimage(const std::vector<std::uint8_t>& payload) {
  std::vector<std::uint8_t> b(1024 + 0x100, 0);
  b[0x1f1] = 1;
  std::memcpy(b.data() + 0x202, "HdrS", 4);
  b[0x206] = 0x0f;
  b[0x207] = 0x02;
  const std::uint32_t off = 0x100, len = static_cast<std::uint32_t>(payload.size());
  std::memcpy(b.data() + 0x248, &off, 4);
  std::memcpy(b.data() + 0x24c, &len, 4);
  // Resized and copied, not insert(): GCC 12's -Warray-bounds misreads the insert here.
  b.resize(1024 + 0x100 + payload.size());
  if (!payload.empty()) std::memcpy(b.data() + 1024 + 0x100, payload.data(), payload.size());
  return b;
}

std::vector<std::uint8_t> xz(const std::vector<std::uint8_t>& in, bool alone) {
  std::vector<std::uint8_t> out(in.size() + 4096);
  lzma_stream s = LZMA_STREAM_INIT;
  lzma_options_lzma opt;
  lzma_lzma_preset(&opt, 1);
  if (alone)
    EXPECT_EQ(lzma_alone_encoder(&s, &opt), LZMA_OK);
  else
    EXPECT_EQ(lzma_easy_encoder(&s, 1, LZMA_CHECK_CRC32), LZMA_OK);
  s.next_in = in.data();
  s.avail_in = in.size();
  s.next_out = out.data();
  s.avail_out = out.size();
  EXPECT_EQ(lzma_code(&s, LZMA_FINISH), LZMA_STREAM_END);
  out.resize(s.total_out);
  lzma_end(&s);
  return out;
}

std::vector<std::uint8_t> gz(const std::vector<std::uint8_t>& in) {
  std::vector<std::uint8_t> out(in.size() + 4096);
  z_stream s{};
  EXPECT_EQ(deflateInit2(&s, 1, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY), Z_OK);
  s.next_in = const_cast<Bytef*>(in.data());
  s.avail_in = static_cast<uInt>(in.size());
  s.next_out = out.data();
  s.avail_out = static_cast<uInt>(out.size());
  EXPECT_EQ(deflate(&s, Z_FINISH), Z_STREAM_END);
  out.resize(s.total_out);
  deflateEnd(&s);
  return out;
}

std::vector<std::uint8_t> zst(const std::vector<std::uint8_t>& in) {
  std::vector<std::uint8_t> out(ZSTD_compressBound(in.size()));
  out.resize(ZSTD_compress(out.data(), out.size(), in.data(), in.size(), 1));
  return out;
}

// The kernel appends the uncompressed size (4 bytes) after the compressed stream: it must not
// disturb the decompression.
std::vector<std::uint8_t> with_size(std::vector<std::uint8_t> payload, std::size_t size) {
  const auto n = static_cast<std::uint32_t>(size);
  payload.insert(payload.end(), reinterpret_cast<const std::uint8_t*>(&n),
                 reinterpret_cast<const std::uint8_t*>(&n) + 4);
  return payload;
}

TEST(KernelImage, ExtractsTheElfOfAnXzGzipZstdOrLzmaBzImage) {
  const std::vector<std::uint8_t> elf = test::tiny_elf(kLink, kernel_code(), {});
  const std::pair<const char*, std::vector<std::uint8_t>> cases[] = {
      {"xz", xz(elf, false)}, {"lzma", xz(elf, true)}, {"gzip", gz(elf)}, {"zstd", zst(elf)}};
  for (const auto& [name, payload] : cases) {
    SCOPED_TRACE(name);
    const auto b = bzimage(with_size(payload, elf.size()));
    EXPECT_STREQ(compression_name(sniff_compression(payload)), name);
    auto out = extract_bzimage(b, "vmlinuz");
    ASSERT_TRUE(out.ok()) << out.error().message();
    EXPECT_EQ(*out, elf);
  }
}

TEST(KernelImage, SaysWhatItCannotRead) {
  auto lz4 = extract_bzimage(bzimage({0x02, 0x21, 0x4c, 0x18, 1, 2, 3}), "vmlinuz");
  ASSERT_FALSE(lz4.ok());
  EXPECT_EQ(lz4.error().message(),
            "vmlinuz: its payload is lz4-compressed, which kvmscope does not read (extract the "
            "vmlinux with the kernel's scripts/extract-vmlinux and give that)");
  auto cut = xz(test::tiny_elf(kLink, kernel_code(), {}), false);
  cut.resize(cut.size() / 2);
  auto c = extract_bzimage(bzimage(cut), "vmlinuz");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.error().message().rfind("vmlinuz: cannot decompress its xz payload (", 0), 0u)
      << c.error().message();
  auto no = extract_bzimage(std::vector<std::uint8_t>(4096, 0), "x");
  ASSERT_FALSE(no.ok());
  EXPECT_EQ(no.error().message(), "x: neither an ELF file (vmlinux) nor a bzImage (vmlinuz)");
  auto beyond = bzimage({0xfd, '7', 'z'});
  beyond[0x24c] = 0xff;  // a payload longer than the file
  auto b = extract_bzimage(beyond, "v");
  ASSERT_FALSE(b.ok());
  EXPECT_EQ(b.error().message(), "v: damaged bzImage (its payload lies beyond the file's end)");
}

TEST(InstructionCheck, IoDirectionSizeAndPortMustFit) {
  const std::vector<std::uint8_t> out_imm{0xe6, 0x70}, in_dx32{0xed}, in_dx16{0x66, 0xed},
      rep_outsb{0xf3, 0x6e}, nop{0x90};
  const auto w = ExitInstruction::io;
  EXPECT_TRUE(instruction_fits(w, io(true, 1, 0x70), out_imm));
  EXPECT_FALSE(instruction_fits(w, io(true, 1, 0x71), out_imm));   // another port
  EXPECT_FALSE(instruction_fits(w, io(false, 1, 0x70), out_imm));  // an IN reported
  EXPECT_TRUE(instruction_fits(w, io(false, 4, 0x1f0), in_dx32));
  EXPECT_FALSE(instruction_fits(w, io(false, 2, 0x1f0), in_dx32));
  EXPECT_TRUE(instruction_fits(w, io(false, 2, 0x1f0), in_dx16));
  EXPECT_TRUE(instruction_fits(w, io(true, 1, 0x3f8), rep_outsb));
  EXPECT_TRUE(instruction_fits(w, {}, in_dx16));  // no kvm_pio: any IN/OUT
  EXPECT_FALSE(instruction_fits(w, {}, nop));
  EXPECT_EQ(exit_instruction(kVmxIo), ExitInstruction::io);
  EXPECT_EQ(exit_instruction({Level::hardware, Isa::vmx, 10}), ExitInstruction::cpuid);
  EXPECT_EQ(exit_instruction({Level::hardware, Isa::vmx, 18}), ExitInstruction::vmcall);
  EXPECT_EQ(exit_instruction({Level::hardware, Isa::svm, 0x81}), ExitInstruction::vmmcall);
  EXPECT_EQ(exit_instruction(kSvmIntr), ExitInstruction::none);
  EXPECT_EQ(exit_instruction({Level::vmm, Isa::none, 2}), ExitInstruction::none);
  EXPECT_TRUE(
      instruction_fits(ExitInstruction::vmmcall, {}, std::vector<std::uint8_t>{0x0f, 0x01, 0xd9}));
  EXPECT_FALSE(
      instruction_fits(ExitInstruction::vmcall, {}, std::vector<std::uint8_t>{0x0f, 0x01, 0xd9}));
}

TEST(Kaslr, FindsTheOffsetWhereEveryRipFits) {
  const ElfImage elf = image(false);
  for (const std::uint64_t offset :
       {std::uint64_t{0}, std::uint64_t{0x1e000000}, std::uint64_t{kKaslrRange - kKaslrAlign}}) {
    SCOPED_TRACE(offset);
    const auto sites = sites_at(offset);
    const KaslrOffset k = search_kaslr_offset(elf, sites);
    EXPECT_EQ(k.how, KaslrOffset::How::verified);
    EXPECT_EQ(k.offset, offset);
    EXPECT_EQ(k.checkable, 7u);  // the interrupt is not checkable
    EXPECT_EQ(k.verified, 7u);
    EXPECT_EQ(k.ties, 0u);
  }
  // The decoy: 2 MiB further the halt's RIP lands on the other f4 only.
  const auto sites = sites_at(0x1e000000);
  EXPECT_EQ(verify_offset(elf, sites, 0x1e000000 - 0x200000),
            (std::pair<std::size_t, std::size_t>{1, 7}));
}

TEST(Kaslr, NothingFitsInAnotherKernel) {
  std::vector<std::uint8_t> other(4u << 20, 0xcc);
  auto elf = ElfImage::parse(test::tiny_elf(kLink, other, {}), "other");
  ASSERT_TRUE(elf.ok());
  const KaslrOffset k = search_kaslr_offset(*elf, sites_at(0x4000000));
  EXPECT_EQ(k.how, KaslrOffset::How::none);
  EXPECT_EQ(k.verified, 0u);
  EXPECT_EQ(k.checkable, 7u);
}

TEST(Kaslr, TheHeuristicGoesByNames) {
  auto map = SymbolTable::parse_text(kSystemMap, "System.map");
  ASSERT_TRUE(map.ok());
  const KaslrOffset k = kaslr_heuristic(*map, sites_at(0x22000000));
  EXPECT_EQ(k.how, KaslrOffset::How::heuristic);
  EXPECT_EQ(k.offset, 0x22000000u);
  // Every checkable RIP is in a function whose name suits its reason: read_pci_config (x2),
  // rtc_cmos_read (x2), native_cpuid, native_write_msr, native_halt.
  EXPECT_EQ(k.verified, 7u);
}

model::GuestSites recorded_sites(std::uint64_t offset) {
  // Through the recording analysis, as report does: exit, its kvm_pio, entry.
  model::AnalysisOptions o;
  o.guest_sites = true;
  model::RecordingAnalysis a(o);
  std::vector<ks_event> events;
  std::uint64_t ts = 1000;
  const auto push = [&](std::uint8_t type, std::uint64_t x, std::uint64_t y, std::uint64_t z) {
    events.push_back(testing::tiny_event(ts, type, x, y, z));
    ts += 100;
  };
  // Firmware first (low RIPs), then the kernel, then a user RIP.
  push(KS_EV_EXIT, 0x7b, KS_ISA_SVM, 0xf123);
  push(KS_EV_PIO, 0x92, 1, 1);
  push(KS_EV_ENTRY, 0, 0, 0);
  for (const ExitSite& s : sites_at(offset))
    for (std::uint64_t i = 0; i < s.count; ++i) {
      push(KS_EV_EXIT, s.reason.code, KS_ISA_SVM, s.rip);
      if (s.detail.io) push(KS_EV_PIO, s.detail.io_port, s.detail.io_out, s.detail.io_size);
      if (s.detail.msr) push(KS_EV_MSR, 0x6e0, s.detail.msr_write, 0);
      push(KS_EV_ENTRY, 0, 0, 0);
    }
  push(KS_EV_EXIT, 0x72, KS_ISA_SVM, 0x401000);
  push(KS_EV_ENTRY, 0, 0, 0);
  a.add(events);
  return a.finish().sites;
}

TEST(Attribution, ExitsGoToTheirFunctionsAtTheFoundOffset) {
  const model::GuestSites sites = recorded_sites(0x1e000000);
  auto map = SymbolTable::parse_text(kSystemMap, "System.map");
  ASSERT_TRUE(map.ok());
  const ElfImage elf = image(false);
  const Attribution a =
      attribute(sites, {{&*map, "System.map", &elf, "vmlinuz", std::nullopt}, {}});
  ASSERT_EQ(a.vms.size(), 1u);
  const VmAttribution& vm = a.vms[0];
  EXPECT_EQ(vm.offset.how, KaslrOffset::How::verified);
  EXPECT_EQ(vm.offset.offset, 0x1e000000u);
  EXPECT_EQ(vm.offset.verified, 7u);
  EXPECT_EQ(vm.kernel_exits, 300u + 300 + 50 + 50 + 7 + 9 + 20 + 1000);
  EXPECT_EQ(vm.early_exits, 1u);
  EXPECT_EQ(vm.user_exits, 1u);
  EXPECT_EQ(vm.unsymbolized_kernel_exits, 0u);
  // Reasons by count: interrupts 1000, io 701, hlt 20, msr 9, cpuid 8.
  ASSERT_EQ(vm.reasons.size(), 5u);
  const ReasonFunctions& io = vm.reasons[1];
  EXPECT_EQ(io.reason, kSvmIo);
  EXPECT_EQ(io.total.count, 701u);
  ASSERT_EQ(io.functions.size(), 3u);
  EXPECT_EQ(io.functions[0].name, "read_pci_config");
  EXPECT_EQ(io.functions[0].stats.count, 600u);
  EXPECT_EQ(io.functions[0].stats.timed, 600u);
  ASSERT_EQ(io.functions[0].sites.size(), 2u);
  EXPECT_EQ(io.functions[0].sites[0].where, "read_pci_config+0x4");
  EXPECT_EQ(io.functions[0].sites[1].where, "read_pci_config+0x9");
  EXPECT_EQ(io.functions[1].name, "rtc_cmos_read");
  EXPECT_EQ(io.functions[1].stats.count, 100u);
  EXPECT_EQ(io.functions[2].name, "[firmware/early boot]");
  EXPECT_EQ(io.functions[2].sites[0].where, "0xf123");
  const ReasonFunctions& cpuid = vm.reasons[4];
  ASSERT_EQ(cpuid.functions.size(), 2u);
  EXPECT_EQ(cpuid.functions[0].name, "native_cpuid");
  EXPECT_EQ(cpuid.functions[1].name, "[user]");
  // Each exit was timed: exit to entry is 100 ns (io and msr: 200, their event in between).
  EXPECT_EQ(io.functions[0].stats.time_ns, 600u * 200);
}

TEST(Attribution, AGivenOffsetIsUsedAndStillChecked) {
  const model::GuestSites sites = recorded_sites(0x1e000000);
  auto map = SymbolTable::parse_text(kSystemMap, "System.map");
  ASSERT_TRUE(map.ok());
  const ElfImage elf = image(false);
  const Attribution a = attribute(sites, {{&*map, "System.map", &elf, "vmlinuz", 0x1e200000}, {}});
  EXPECT_EQ(a.vms[0].offset.how, KaslrOffset::How::given);
  EXPECT_EQ(a.vms[0].offset.offset, 0x1e200000u);
  EXPECT_EQ(a.vms[0].offset.verified, 0u);
  EXPECT_EQ(a.vms[0].offset.checkable, 7u);
}

TEST(GuestSites, TheCapCountsTheRestInOtherRows) {
  model::GuestSites s(2);
  const Reason r = kSvmIo;
  ++s.at(1, r, 0xffffffff81000000).stats.count;
  ++s.at(1, r, 0xffffffff81000001).stats.count;
  ++s.at(1, r, 0xffffffff81000002).stats.count;
  ++s.at(1, r, 0xffffffff81000003).stats.count;
  ++s.at(1, r, 0xffffffff81000000).stats.count;  // known: its own row still
  EXPECT_EQ(s.entries().size(), 3u);
  EXPECT_EQ(s.sites_not_stored(), 2u);
  const auto other = s.entries().find({1, r, model::GuestSpace::kernel, 0, true});
  ASSERT_NE(other, s.entries().end());
  EXPECT_EQ(other->second.stats.count, 2u);
}

TEST(GuestSites, TheLiveReadoutKeepsTheKernelsSpaceAndCountsWhatItCouldNotStore) {
  // The kernel decided each site's space (per vCPU thread); the readout keeps it as given.
  model::GuestSites s;
  const Reason r = kSvmIo;
  s.at(9, r, model::GuestSpace::user, 0x1000).stats.count = 5;
  s.at(9, r, model::GuestSpace::kernel, 0xffffffff81000000).stats.count = 10;
  EXPECT_EQ(s.entries().count({9, r, model::GuestSpace::user, 0x1000, false}), 1u);
  // The kernel's map was full: the exit counters say 40 io exits, the sites hold 15.
  model::Snapshot snap;
  snap.exits[{9, 0, r}].count = 30;
  snap.exits[{9, 1, r}].count = 10;
  snap.exits[{9, 0, {model::Level::vmm, model::Isa::none, 2}}].count = 99;  // not hardware
  model::add_exits_not_stored(s, snap);
  EXPECT_EQ(s.sites_not_stored(), 25u);
  const auto other = s.entries().find({9, r, model::GuestSpace::kernel, 0, true});
  ASSERT_NE(other, s.entries().end());
  EXPECT_EQ(other->second.stats.count, 25u);
  // Sites read after the counters may hold more: that is no exit lost.
  model::GuestSites ahead;
  ahead.at(9, r, model::GuestSpace::kernel, 0xffffffff81000000).stats.count = 41;
  model::add_exits_not_stored(ahead, snap);
  EXPECT_EQ(ahead.sites_not_stored(), 0u);
  EXPECT_EQ(ahead.entries().size(), 1u);
}

}  // namespace
}  // namespace kvmscope::symbols
