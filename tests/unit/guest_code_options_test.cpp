// The guest-code options stat, top and report share (cli/guest_code.h), in process: [VM=]FILE,
// which VMs a VM=... names, and the per-VM attribution that follows (each VM its own kernel's
// symbols and offset, said in the text and the JSON).
#include "cli/guest_code.h"

#include <gtest/gtest.h>

#include <sstream>

#include "cli/option_cursor.h"
#include "model/reason_catalog.h"
#include "report/report_guest_code.h"
#include "support/mini_json.h"

namespace kvmscope::cli {
namespace {

using testing::Json;

util::Result<GuestCodeOptions> parse(std::vector<std::string> words) {
  std::vector<char*> argv;
  for (std::string& w : words) argv.push_back(w.data());
  OptionCursor cursor(Args(argv.data(), argv.size()), "stat", "");
  GuestCodeOptions o;
  while (cursor.next()) {
    auto r = parse_guest_code_option(cursor, o);
    if (!r) return r.error();
    if (!*r) return cursor.unknown();
  }
  return o;
}

TEST(GuestCodeOptions, VmPrefixesNameAVmAndPathsKeepTheirEquals) {
  auto o = parse({"--guest-symbols", "kallsyms.txt", "--guest-kernel", "web1=/boot/vmlinuz-web",
                  "--guest-kaslr-offset", "4242=0x1e000000", "--guest-symbols", "./a=b.map",
                  "--guest-kernel", "/srv/x=y/vmlinuz"});
  ASSERT_TRUE(o) << o.error().message();
  EXPECT_TRUE(o->functions);
  EXPECT_EQ(o->all.symbols_path, "./a=b.map");  // the later plain one wins, as for any option
  EXPECT_EQ(o->all.kernel_path, "/srv/x=y/vmlinuz");
  ASSERT_EQ(o->vm.size(), 2u);
  EXPECT_EQ(o->vm["web1"].kernel_path, "/boot/vmlinuz-web");
  EXPECT_EQ(o->vm["4242"].offset, 0x1e000000u);
  EXPECT_TRUE(o->vm["4242"].symbols_path.empty());  // nothing of the plain ones is its
  auto bad = parse({"--guest-kaslr-offset", "web1=0x1000"});
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().message().substr(0, 62),
            "--guest-kaslr-offset: '0x1000' is not a multiple of 2 MiB (0x2");
}

TEST(GuestCodeOptions, AVmIsNamedByPidNameOrProcessName) {
  auto o = parse({"--guest-kaslr-offset", "web1=0x200000", "--guest-kaslr-offset",
                  "qemu-system-x86=0x400000", "--guest-kaslr-offset", "77=0x600000",
                  "--guest-kaslr-offset", "nosuch=0x800000", "--guest-kaslr-offset", "0xa00000"});
  ASSERT_TRUE(o);
  const std::map<std::uint32_t, model::VmInfo> vms = {
      {10, {"web1", "qemu-system-x86"}}, {11, {"db", "qemu-system-x86"}}, {77, {"x", "crosvm"}}};
  const GuestFiles files = *load_guest_files(*o);
  std::vector<std::string> unmatched;
  const symbols::GuestKernels k = guest_kernels(*o, files, vms, &unmatched);
  EXPECT_EQ(k.all.offset, 0xa00000u);
  ASSERT_EQ(k.vm.size(), 3u);
  // pid 10 is both web1 and a qemu-system-x86: the options are taken by name order (the map's),
  // so the later one, web1, stands; pid 11 only by its process name; 77 by its pid.
  EXPECT_EQ(k.of(10).offset, 0x200000u);
  EXPECT_EQ(k.of(11).offset, 0x400000u);
  EXPECT_EQ(k.of(77).offset, 0x600000u);
  EXPECT_EQ(k.of(99).offset, 0xa00000u);
  EXPECT_EQ(unmatched, std::vector<std::string>{"nosuch"});
}

TEST(GuestCodeOptions, EachVmIsAttributedWithItsOwnKernel) {
  // Two VMs exit at the same RIP; VM 2 runs another kernel (its own kallsyms, another _text).
  const symbols::SymbolTable all = *symbols::SymbolTable::parse_text(
      "ffffffff9e000000 T _text\nffffffff9e001000 T inb_p\n", "kallsyms");
  const symbols::SymbolTable own = *symbols::SymbolTable::parse_text(
      "ffffffff9e000000 T _text\nffffffff9e000800 T outb\n", "kallsyms");
  model::GuestSites sites;
  const model::Reason io{model::Level::hardware, model::Isa::svm, 0x7b};
  sites.at(1, io, 0xffffffff9e001004).stats.count = 3;
  sites.at(2, io, 0xffffffff9e001004).stats.count = 4;
  symbols::GuestKernels k;
  k.all = {&all, "a.txt", nullptr, {}, {}};
  k.vm[2] = {&own, "b.txt", nullptr, {}, {}};
  const symbols::Attribution a = symbols::attribute(sites, k);
  ASSERT_EQ(a.vms.size(), 2u);
  EXPECT_EQ(a.vms[0].reasons[0].functions[0].name, "inb_p");
  EXPECT_EQ(a.vms[1].reasons[0].functions[0].name, "outb");
  EXPECT_EQ(report::guest_offset_text(a, a.vms[0]),
            "KASLR offset 0x1d000000 (from the kallsyms' _text)");
  EXPECT_EQ(report::guest_offset_text(a, a.vms[1]),
            "symbols: kallsyms b.txt; KASLR offset 0x1d000000 (from the kallsyms' _text)");
  std::ostringstream out;
  report::write_guest_code_json(a, model::ReasonCatalog::builtin(), out);
  const Json doc = Json::parse(out.str());
  EXPECT_EQ(doc["symbols"].str(), "kallsyms a.txt");
  EXPECT_EQ(doc["vms"].items[1]["symbols"].str(), "kallsyms b.txt");
  EXPECT_TRUE(doc["vms"].items[1]["kernel_image"].is_null());
}

}  // namespace
}  // namespace kvmscope::cli
