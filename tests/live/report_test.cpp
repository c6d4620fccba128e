// kvmscope record + report against real KVM on this host: the report's drill-downs and exit
// tables carry exactly the numbers the built-in guest produced, and its HTML page is complete.
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

#include <gtest/gtest.h>

#include "bpf/kvmscope_bpf.h"
#include "live_support.h"
#include "store/byte_io.h"
#include "support/mini_json.h"
#include "support/recording_file.h"

namespace {

using kvmscope::live::kvmscope_bin;
using kvmscope::live::run_command;
using kvmscope::live::slurp;
using kvmscope::live::temp_path;
using kvmscope::testing::Json;

// Sum of the rows of the drill-down tables of `kind` whose detail matches (all when empty).
std::uint64_t drill_count(const Json& doc, const std::string& kind, std::uint64_t value) {
  std::uint64_t n = 0;
  for (const auto& table : doc["drilldowns"].items) {
    if (table["kind"].str() != kind) continue;
    for (const auto& row : table["rows"].items)
      if (row["value"].u64() == value) n += row["count"].u64();
  }
  return n;
}

std::uint64_t vmm_exits(const Json& doc, std::uint64_t code) {
  std::uint64_t n = 0;
  for (const auto& e : doc["exits"].items)
    if (e["level"].str() == "vmm" && e["code"].u64() == code) n += e["count"].u64();
  return n;
}

class LiveReport : public ::testing::Test {
 protected:
  void SetUp() override {
    KS_REQUIRE_LIVE();
    recording_ = temp_path("guest.kvms");
    auto r = run_command({kvmscope_bin(), "record", "-o", recording_, "--", kvmscope_bin(), "guest",
                          "--io", "20000", "--mmio", "500", "--msr-read", "300", "--cpuid", "700",
                          "--quiet"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  void TearDown() override {
    if (!recording_.empty()) std::remove(recording_.c_str());
  }
  std::string recording_;
};

TEST_F(LiveReport, drill_downs_and_exits_carry_the_exact_numbers) {
  const std::string json = temp_path("report.json");
  auto r = run_command(
      {kvmscope_bin(), "report", recording_, "--by", "port,mmio,msr,cpuid", "--json", "-o", json});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  Json doc = Json::parse(slurp(json));
  std::remove(json.c_str());
  EXPECT_EQ(doc["schema"].str(), "kvmscope.report/1");
  EXPECT_EQ(drill_count(doc, "port", 0x10), 20000u);
  EXPECT_EQ(drill_count(doc, "mmio", 0xa0000), 500u);
  EXPECT_EQ(drill_count(doc, "msr", 0x1a0), 300u);
  EXPECT_EQ(drill_count(doc, "cpuid", 0), 700u);
  EXPECT_EQ(vmm_exits(doc, KS_KVM_EXIT_IO), 20000u);
  EXPECT_EQ(vmm_exits(doc, KS_KVM_EXIT_MMIO), 500u);
  // The VM was recorded from its start to its end: one boot, the whole of it.
  ASSERT_EQ(doc["boots"].items.size(), 1u);
  EXPECT_EQ(doc["boots"].items[0]["vmm_exits"].u64(), 20500u);
}

TEST_F(LiveReport, text_report_has_every_section) {
  auto r = run_command({kvmscope_bin(), "report", recording_, "--by", "port"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  for (const char* section : {"Exits to the VMM (kvm:kvm_userspace_exit)", "Timeline of exits",
                              "Rate stability", "Bursts", "Boot of VM", "Port I/O (kvm:kvm_pio)"})
    EXPECT_NE(r.out.find(section), std::string::npos) << section << "\n" << r.out;
  EXPECT_NE(r.out.find("0x10   out, 1 byte  20,000"), std::string::npos) << r.out;
}

TEST_F(LiveReport, html_page_is_self_contained_and_holds_the_data) {
  const std::string html = temp_path("report.html");
  auto r = run_command({kvmscope_bin(), "report", recording_, "--by", "all", "--html", html});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string page = slurp(html);
  std::remove(html.c_str());
  EXPECT_EQ(page.find("<script src="), std::string::npos) << "no script is loaded from elsewhere";
  EXPECT_EQ(page.find("<link "), std::string::npos);
  EXPECT_NE(page.find("Chart"), std::string::npos) << "Chart.js is embedded";
  EXPECT_NE(page.find("\"KVM_EXIT_IO\""), std::string::npos);
}

TEST_F(LiveReport, reads_standard_input_exactly_as_the_file) {
  const std::string cmd = std::string(kvmscope_bin()) + " report --json --by all ";
  auto by_path = run_command({"/bin/sh", "-c", cmd + recording_});
  auto piped = run_command({"/bin/sh", "-c", "cat " + recording_ + " | " + cmd + "-"});
  ASSERT_EQ(by_path.exit_code, 0) << by_path.err;
  ASSERT_EQ(piped.exit_code, 0) << piped.err;
  EXPECT_EQ(piped.out, by_path.out);
}

TEST_F(LiveReport, a_corrupt_block_costs_its_own_events_and_exit_status_3) {
  namespace t = kvmscope::testing;
  auto sound = run_command({kvmscope_bin(), "report", recording_, "--json"});
  ASSERT_EQ(sound.exit_code, 0) << sound.err;
  t::Bytes bytes = t::read_bytes(recording_);
  const auto blocks = t::block_offsets(bytes);
  std::size_t b = 0;
  while (b < blocks.size() && !t::is_events_block(bytes, blocks[b])) ++b;
  ASSERT_LT(b + 1, blocks.size()) << "an events block with a block after it";
  const std::uint64_t count = kvmscope::store::get_le(bytes.data() + blocks[b] + 12, 4);
  bytes[blocks[b] + kvmscope::store::kBlockHeaderSize + 1] ^= 0x40;  // its payload
  const std::string bad = temp_path("bad.kvms");
  t::write_bytes(bad, bytes);
  auto damaged = run_command({kvmscope_bin(), "report", bad, "--json"});
  std::remove(bad.c_str());
  EXPECT_EQ(damaged.exit_code, 3) << damaged.err;
  Json doc = Json::parse(damaged.out);
  Json whole = Json::parse(sound.out);
  EXPECT_EQ(doc["recording"]["lost_to_damage"].u64(), count);
  EXPECT_TRUE(doc["recording"]["lost_to_damage_exact"].boolean);
  EXPECT_EQ(doc["recording"]["lost_events"].u64(), whole["recording"]["lost_events"].u64() + count);
  EXPECT_EQ(doc["stream"]["events"].u64(), whole["stream"]["events"].u64() - count);
  ASSERT_EQ(doc["recording"]["damage"].items.size(), 1u);
  EXPECT_EQ(doc["recording"]["damage"].items[0]["offset"].u64(), blocks[b]);
  EXPECT_EQ(doc["recording"]["damage"].items[0]["end"].u64(), blocks[b + 1]);
  EXPECT_TRUE(doc["recording"]["complete"].boolean) << "the trailer after it was read";
}

}  // namespace
