// kvmscope diff against real KVM on this host: two runs of the built-in guest, one making 1,000
// port I/O exits to the VMM and one 2,000, recorded with `kvmscope record`; the diff carries
// exactly +1,000 KVM_EXIT_IO, marks it significant and nothing else, and --fail-if exits 1 when
// its condition holds, 0 when none does, 2 for a condition that does not parse or matches nothing.
#include <gtest/gtest.h>

#include <cstdio>
#include <regex>
#include <string>

#include "bpf/kvmscope_bpf.h"
#include "live_support.h"
#include "support/mini_json.h"

namespace {

using kvmscope::live::kvmscope_bin;
using kvmscope::live::run_command;
using kvmscope::live::slurp;
using kvmscope::live::temp_path;
using kvmscope::testing::Json;

class LiveDiff : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (!kvmscope::live::live_skip_reason().empty()) return;
    a_ = temp_path("diff-a.kvms");
    b_ = temp_path("diff-b.kvms");
    for (const auto& [path, io] : {std::pair{a_, "1000"}, std::pair{b_, "2000"}}) {
      auto r = run_command({kvmscope_bin(), "record", "-o", path, "--", kvmscope_bin(), "guest",
                            "--io", io, "--quiet"});
      recorded_ = recorded_ && r.exit_code == 0;
      if (r.exit_code != 0) std::fprintf(stderr, "record failed: %s\n", r.err.c_str());
    }
  }
  static void TearDownTestSuite() {
    std::remove(a_.c_str());
    std::remove(b_.c_str());
  }
  void SetUp() override {
    KS_REQUIRE_LIVE();
    ASSERT_TRUE(recorded_);
  }
  static kvmscope::live::CommandResult diff(std::vector<std::string> extra) {
    std::vector<std::string> argv = {kvmscope_bin(), "diff", a_, b_};
    argv.insert(argv.end(), extra.begin(), extra.end());
    return run_command(argv);
  }
  static inline std::string a_, b_;
  static inline bool recorded_ = true;
};

const Json* vmm_row(const Json& doc, std::uint64_t code) {
  for (const auto& row : doc["rows"].items)
    if (row["kind"].str() == "reason" && row["level"].str() == "vmm" && row["code"].u64() == code)
      return &row;
  return nullptr;
}

TEST_F(LiveDiff, twice_the_io_is_exactly_1000_more_io_exits_to_the_vmm) {
  auto r = diff({"--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  Json doc = Json::parse(r.out);
  EXPECT_EQ(doc["schema"].str(), "kvmscope.diff/1");
  EXPECT_EQ(doc["a"]["source"].str(), "kvmscope recording");
  const Json* io = vmm_row(doc, KS_KVM_EXIT_IO);
  ASSERT_NE(io, nullptr);
  EXPECT_EQ(io->operator[]("reason").str(), "KVM_EXIT_IO");
  EXPECT_EQ(io->operator[]("count_a").u64(), 1000u);
  EXPECT_EQ(io->operator[]("count_b").u64(), 2000u);
  EXPECT_EQ(io->operator[]("change").text, "1000");
  EXPECT_EQ(io->operator[]("change_pct").text, "100");
  EXPECT_TRUE(io->operator[]("count_significant").boolean);
  // The port drill-down agrees: the guest's port 0x10, 1,000 more.
  bool port = false;
  for (const auto& row : doc["rows"].items)
    if (row["kind"].str() == "drill" && row["drill"]["kind"].str() == "port" &&
        row["drill"]["value"].u64() == 0x10) {
      port = true;
      EXPECT_EQ(row["count_b"].u64() - row["count_a"].u64(), 1000u);
    }
  EXPECT_TRUE(port);
  // Every other reason: the same guest, the same counts, nothing significant.
  for (const auto& row : doc["rows"].items)
    if (row["kind"].str() == "reason" && row["code"].u64() != KS_KVM_EXIT_IO) {
      EXPECT_EQ(row["count_a"].u64(), row["count_b"].u64()) << row["reason"].str();
      EXPECT_FALSE(row["count_significant"].boolean) << row["reason"].str();
    }
}

TEST_F(LiveDiff, text_names_the_change) {
  auto r = diff({});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("normalised: absolute counts"), std::string::npos) << r.out;
  EXPECT_TRUE(
      std::regex_search(r.out, std::regex("KVM_EXIT_IO +1,000 +2,000 +\\+1,000 +\\+100\\.0% +\\*")))
      << r.out;
}

TEST_F(LiveDiff, fail_if_exit_statuses) {
  auto holds = diff({"--fail-if", "KVM_EXIT_IO:+50%"});
  EXPECT_EQ(holds.exit_code, 1) << holds.err;
  EXPECT_NE(holds.err.find("kvmscope diff: --fail-if 'KVM_EXIT_IO:+50%' holds"), std::string::npos)
      << holds.err;
  EXPECT_EQ(diff({"--fail-if", "vmm:2:+1000"}).exit_code, 1);
  EXPECT_EQ(diff({"--fail-if", "vmm:2:+1001"}).exit_code, 0);
  EXPECT_EQ(diff({"--fail-if", "KVM_EXIT_IO:+101%"}).exit_code, 0);
  EXPECT_EQ(diff({"--fail-if", "KVM_EXIT_IO:-1%"}).exit_code, 0);
  // B against itself: nothing changed, nothing holds.
  auto same = run_command({kvmscope_bin(), "diff", b_, b_, "--fail-if", "total:+0%"});
  EXPECT_EQ(same.exit_code, 0) << same.err;
  auto typo = diff({"--fail-if", "KVM_EXIT_OI:+5%"});
  EXPECT_EQ(typo.exit_code, 2);
  EXPECT_NE(typo.err.find("--fail-if 'KVM_EXIT_OI:+5%': matches no row of either run"),
            std::string::npos)
      << typo.err;
  auto bad = diff({"--fail-if", "io:5%"});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find("'5%' needs a sign"), std::string::npos) << bad.err;
}

}  // namespace
