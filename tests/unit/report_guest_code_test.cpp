// The report's guest-code part (report_guest_code.h) on hand-made exits: 30 io exits at two RIPs
// of read_pci_config (20 + 5) and one of rtc_cmos_read (5), 2 cpuid exits from a user RIP, 1 hlt
// before the kernel (firmware), each timed 1 us; symbols from a kallsyms text (runtime
// addresses, so no offset). The text against golden text, the JSON field by field, the CSV rows.
#include <gtest/gtest.h>

#include <sstream>
#include <string>

#include "model/recording_analysis.h"
#include "report/render.h"
#include "report/report.h"
#include "report/report_guest_code.h"
#include "support/mini_json.h"
#include "support/tiny_recording.h"
#include "symbols/attribution.h"

namespace kvmscope::report {
namespace {

using testing::Json;

constexpr std::uint64_t kText = 0xffffffff9e000000ull;

const char kKallsyms[] =
    "ffffffff9e000000 T _text\n"
    "ffffffff9e001000 T read_pci_config\n"
    "ffffffff9e002000 t rtc_cmos_read\n"
    "ffffffff9e003000 T native_halt\n";

model::RecordingAnalysisResult analysis() {
  std::vector<ks_event> ev;
  std::uint64_t ts = 1'000'000'000;
  const auto exit = [&](std::uint32_t code, std::uint64_t rip) {
    ev.push_back(testing::tiny_event(ts, KS_EV_EXIT, code, KS_ISA_SVM, rip));
    ev.push_back(testing::tiny_event(ts + 1000, KS_EV_ENTRY));
    ts += 10'000;
  };
  exit(0x78, 0xfff0);  // hlt in the firmware: before any kernel RIP
  for (int i = 0; i < 20; ++i) exit(0x7b, kText + 0x1004);
  for (int i = 0; i < 5; ++i) exit(0x7b, kText + 0x1009);
  for (int i = 0; i < 5; ++i) exit(0x7b, kText + 0x2002);
  for (int i = 0; i < 2; ++i) exit(0x72, 0x401000);  // cpuid in user space
  model::AnalysisOptions o;
  o.guest_sites = true;
  o.vms[7] = {"tiny", "qemu-system-x86"};
  model::RecordingAnalysis a(std::move(o));
  a.add(ev);
  return a.finish();
}

struct Fixture {
  model::RecordingAnalysisResult result = analysis();
  symbols::SymbolTable table = *symbols::SymbolTable::parse_text(kKallsyms, "kallsyms");
  symbols::Attribution attribution =
      symbols::attribute(result.sites, {{&table, "kallsyms", nullptr, {}, {}}, {}});
};

TEST(ReportGuestCode, TextGolden) {
  Fixture f;
  const std::string text =
      guest_code_text(f.attribution, f.result.snapshot, model::ReasonCatalog::builtin(), 20);
  EXPECT_EQ(text,
            "Guest code: which guest functions exited (symbols: kallsyms kallsyms)\n"
            "\n"
            "VM 7 (tiny): KASLR offset 0x1d000000 (from the kallsyms' _text)\n"
            "  exits from the kernel 30 (90.9%), firmware/early boot 1 (3.0%), user 2 (6.1%)\n"
            "\n"
            "io (0x7b): 30 exits; time: handling of those exits\n"
            "function               count       %     time      avg  busiest RIP\n"
            "read_pci_config           25   83.3%  25.0 us  1.00 us  read_pci_config+0x4 (80.0% "
            "of 2 RIPs)\n"
            "rtc_cmos_read              5   16.7%  5.00 us  1.00 us  rtc_cmos_read+0x2\n"
            "\n"
            "cpuid (0x72): 2 exits; time: handling of those exits\n"
            "function               count       %     time      avg  busiest RIP\n"
            "[user]                     2  100.0%  2.00 us  1.00 us  0x401000\n"
            "\n"
            "hlt (0x78): 1 exits; time: handling of those exits\n"
            "function               count       %     time      avg  busiest RIP\n"
            "[firmware/early boot]      1  100.0%  1.00 us  1.00 us  0xfff0\n"
            "note: user-space exits are not told apart by process: kvm_exit carries no CR3 (its "
            "fields are exit_reason, guest_rip, isa, info1, info2, intr_info, error_code, vcpu_id "
            "on VMX and SVM)\n");
}

TEST(ReportGuestCode, JsonFields) {
  Fixture f;
  std::ostringstream out;
  write_guest_code_json(f.attribution, model::ReasonCatalog::builtin(), out);
  const Json doc = Json::parse(out.str());
  EXPECT_EQ(doc["symbols"].str(), "kallsyms kallsyms");
  ASSERT_EQ(doc["vms"].items.size(), 1u);
  const Json& vm = doc["vms"].items[0];
  EXPECT_EQ(vm["pid"].u64(), 7u);
  EXPECT_EQ(vm["kaslr_offset"].str(), "0x1d000000");
  EXPECT_EQ(vm["offset_source"].str(), "kallsyms");
  EXPECT_EQ(vm["exits"]["kernel"].u64(), 30u);
  EXPECT_EQ(vm["exits"]["early"].u64(), 1u);
  EXPECT_EQ(vm["exits"]["user"].u64(), 2u);
  const Json& io = vm["reasons"].items[0];
  EXPECT_EQ(io["reason"].str(), "io");
  EXPECT_EQ(io["count"].u64(), 30u);
  const Json& pci = io["functions"].items[0];
  EXPECT_EQ(pci["function"].str(), "read_pci_config");
  EXPECT_EQ(pci["space"].str(), "kernel");
  EXPECT_EQ(pci["count"].u64(), 25u);
  EXPECT_EQ(pci["time_ns"].u64(), 25'000u);
  ASSERT_EQ(pci["sites"].items.size(), 2u);
  EXPECT_EQ(pci["sites"].items[0]["where"].str(), "read_pci_config+0x4");
  EXPECT_EQ(pci["sites"].items[0]["rip"].str(), "0xffffffff9e001004");
  EXPECT_EQ(pci["sites"].items[1]["count"].u64(), 5u);
  EXPECT_TRUE(doc["timeline"].is_null());
}

TEST(ReportGuestCode, CsvRows) {
  Fixture f;
  std::ostringstream functions, sites;
  write_guest_functions_csv(f.attribution, model::ReasonCatalog::builtin(), functions);
  write_guest_sites_csv(f.attribution, model::ReasonCatalog::builtin(), sites);
  std::istringstream in(functions.str());
  std::string header, first;
  std::getline(in, header);
  std::getline(in, first);
  EXPECT_EQ(header,
            "vm_pid,kaslr_offset,offset_source,level,isa,code,reason,function,module,space,count,"
            "percent,timed,time_ns,avg_ns,max_ns,busiest_rip,busiest_where");
  EXPECT_EQ(
      first,
      "7,0x1d000000,kallsyms,hardware,svm,123,io,read_pci_config,,kernel,25,83.33333333333333,"
      "25,25000,1000,1000,0xffffffff9e001004,read_pci_config+0x4");
  EXPECT_NE(sites.str().find("\n7,hardware,svm,123,io,0xffffffff9e002002,rtc_cmos_read,"
                             "rtc_cmos_read+0x2,5,5,5000,1000,1000\n"),
            std::string::npos)
      << sites.str();
}

TEST(ReportGuestCode, TheFullTextReportEndsWithIt) {
  Fixture f;
  ReportOptions o;
  o.guest_code = &f.attribution;
  std::ostringstream out;
  render_report_text(f.result, model::ReasonCatalog::builtin(), o, out);
  EXPECT_NE(out.str().find("\nGuest code: which guest functions exited"), std::string::npos);
  ReportOptions none;
  std::ostringstream plain;
  render_report_text(f.result, model::ReasonCatalog::builtin(), none, plain);
  EXPECT_EQ(plain.str().find("Guest code"), std::string::npos);
}

TEST(ReportGuestCode, StatCarriesTheGuestCodeInItsTableAndJson) {
  // stat --by function renders the same part below its exit tables, and as "guest_code".
  Fixture f;
  ReportOptions o;
  o.target = "pid 7";
  o.guest_code = &f.attribution;
  std::ostringstream text;
  render_table(f.result.snapshot, model::ReasonCatalog::builtin(), o, text);
  const std::string t = text.str();
  const std::size_t at = t.find("Guest code: which guest functions exited");
  ASSERT_NE(at, std::string::npos) << t;
  EXPECT_LT(t.find("hardware exits"), at);
  EXPECT_NE(t.find("read_pci_config           25   83.3%", at), std::string::npos) << t;
  std::ostringstream json;
  render_json(f.result.snapshot, model::ReasonCatalog::builtin(), o, json);
  const Json doc = Json::parse(json.str());
  EXPECT_EQ(
      doc["guest_code"]["vms"].items[0]["reasons"].items[0]["functions"].items[0]["function"].str(),
      "read_pci_config");
  ReportOptions none;
  std::ostringstream plain;
  render_json(f.result.snapshot, model::ReasonCatalog::builtin(), none, plain);
  EXPECT_EQ(plain.str().find("guest_code"), std::string::npos);
}

}  // namespace
}  // namespace kvmscope::report
