// report --dmesg: kernel logs with the kernel/ patch's kvm_exit_stats lines or the course
// format's "KVM exit" lines, parsed (model::parse_kernel_log) and reported; the whole output is
// checked against golden files in tests/fixtures/dmesg/.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "live/live_support.h"
#include "model/kernel_log.h"
#include "model/kernel_log_analysis.h"

namespace kvmscope::model {
namespace {

const std::string kDir = std::string(KS_SOURCE_DIR) + "/tests/fixtures/dmesg";

std::string read(const std::string& path) {
  std::ifstream f(path);
  std::ostringstream s;
  s << f.rdbuf();
  return s.str();
}

// kvmscope report run in the fixture directory, so the file names in the output are relative.
live::CommandResult report(const std::string& args) {
  return live::run_command(
      {"/bin/sh", "-c", "cd '" + kDir + "' && '" + live::kvmscope_bin() + "' report " + args});
}

util::Result<KernelLog> parse(const std::string& text) {
  std::istringstream in(text);
  return parse_kernel_log(in, "t.log");
}

TEST(KernelLog, reads_dmesg_and_journal_timestamps) {
  EXPECT_EQ(log_timestamp_ns("[  123.456789] kvm_exit_stats: x"), 123'456'789'000u);
  EXPECT_EQ(log_timestamp_ns("<6>[    0.5] x"), 500'000'000u);
  EXPECT_EQ(log_timestamp_ns("Jan  2 00:00:01 host kernel: x"), (86400u + 1u) * 1'000'000'000ull);
  EXPECT_EQ(log_timestamp_ns("Feb 01 01:02:03.250000 host kernel: x"),
            ((31u * 86400u) + 3723u) * 1'000'000'000ull + 250'000'000u);
  EXPECT_FALSE(log_timestamp_ns("kvm_exit_stats: vm 1 vmx: report 1"));
  EXPECT_FALSE(log_timestamp_ns("[drm] no"));
}

TEST(KernelLog, groups_exit_lines_under_their_vms_report) {
  auto log = parse(
      "kvm_exit_stats: vm 9 svm: report 1: 3 exits, 30 cycles, tsc_khz 1000\n"
      "kvm_exit_stats: vm 8 svm: report 1: 1 exits, 10 cycles, tsc_khz 1000\n"
      "kvm_exit_stats: vm 9 svm: exit 70 (UD excp): 3 exits, 30 cycles\n"
      "kvm_exit_stats: vm 8 svm: exit 114 (cpuid): 1 exits, 10 cycles\n");
  ASSERT_TRUE(log) << log.error().message();
  ASSERT_EQ(log->vms.size(), 2u);
  EXPECT_EQ(log->vms[0].pid, 9u);
  EXPECT_EQ(log->vms[0].snapshots.at(0).reasons.at(70).name, "UD excp");  // names with spaces
  EXPECT_EQ(log->vms[1].snapshots.at(0).reasons.at(114).exits, 1u);
  EXPECT_TRUE(log->notes.empty());
}

TEST(KernelLog, starts_a_course_block_when_a_code_repeats_without_timestamps) {
  auto log = parse(
      "KVM exit 30 (I/O_INSTRUCTION): 10\nKVM exit 10 (CPUID): 5\n"
      "KVM exit 30 (I/O_INSTRUCTION): 20\nkvm exit 0x7b (io): 7\n");
  ASSERT_TRUE(log) << log.error().message();
  ASSERT_EQ(log->vms.size(), 2u);  // the hex code is SVM's
  ASSERT_EQ(log->vms[0].snapshots.size(), 2u);
  EXPECT_EQ(log->vms[0].snapshots[0].exits(), 15u);
  EXPECT_EQ(log->vms[0].snapshots[1].exits(), 20u);
  EXPECT_EQ(log->vms[1].isa, Isa::svm);
}

TEST(KernelLog, starts_a_new_instance_when_a_reason_goes_backwards) {
  auto log = parse("KVM exit 30 (X): 10\nKVM exit 30 (X): 4\n");
  ASSERT_TRUE(log);
  ASSERT_EQ(log->vms.size(), 2u);
  EXPECT_EQ(log->vms[1].instance, 2u);
  EXPECT_EQ(log->vms[1].restart,
            "line 2: its exits went back from 10 to 4: a new VM (restarted, or its pid reused)");
}

TEST(KernelLog, refuses_malformed_numbers_and_logs_without_statistics) {
  auto bad = parse(
      "[ 1.0] kvm_exit_stats: vm 1 vmx: exit 30 (IO): 99999999999999999999 exits, 1 "
      "cycles\n");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().message(),
            "t.log:1: malformed kvm_exit_stats line: [ 1.0] kvm_exit_stats: vm 1 vmx: exit 30 "
            "(IO): 99999999999999999999 exits, 1 cycles");
  EXPECT_FALSE(parse("KVM exit 30 (IO): -1\n"));
  auto none = parse("hello\nkvm exit handler ready\n");
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().context, "no KVM exit statistics lines in t.log");
}

TEST(KernelLog, turns_cycles_into_times_at_tsc_khz) {
  auto log = parse(
      "kvm_exit_stats: vm 1 vmx: report 1: 4 exits, 6000 cycles, tsc_khz 3000000\n"
      "kvm_exit_stats: vm 1 vmx: exit 10 (CPUID): 4 exits, 6000 cycles\n");
  ASSERT_TRUE(log);
  const KernelLogAnalysis a = analyze_kernel_log(*log, "t.log");
  const ExitStats& s =
      a.analysis.snapshot.exits.at({1, kUnknownVcpu, {Level::hardware, Isa::vmx, 10}});
  EXPECT_EQ(s.count, 4u);
  EXPECT_EQ(s.timed, 4u);
  EXPECT_EQ(s.time_ns, 2000u);    // 6000 cycles at 3 GHz
  EXPECT_EQ(s.hist.total(), 0u);  // no distribution: the renderers print "-"
}

struct Golden {
  std::string args, expected;
};

TEST(KernelLogReport, prints_exactly_the_golden_output) {
  const Golden cases[] = {
      {"--dmesg patch-svm.log", "patch-svm.expected.txt"},
      {"--dmesg patch-svm.log --json", "patch-svm.expected.json"},
      {"--dmesg restart-vmx.log", "restart-vmx.expected.txt"},
      {"--dmesg restart-vmx.log --per-vm", "restart-vmx.per-vm.expected.txt"},
      {"--dmesg course-vmx.log", "course-vmx.expected.txt"},
      {"--dmesg course-vmx.log --json", "course-vmx.expected.json"},
      {"--dmesg journal-patch.log", "journal-patch.expected.txt"},
  };
  for (const Golden& g : cases) {
    auto r = report(g.args);
    EXPECT_EQ(r.exit_code, 0) << g.args << ": " << r.err;
    EXPECT_EQ(r.out, read(kDir + "/" + g.expected)) << g.args;
  }
}

TEST(KernelLogReport, reads_standard_input_for_a_dash) {
  auto r = report("--dmesg - < course-vmx.log");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  std::string expected = read(kDir + "/course-vmx.expected.txt");
  expected.replace(expected.find("course-vmx.log"), 14, "(standard input)");
  EXPECT_EQ(r.out, expected);
}

TEST(KernelLogReport, says_what_is_wrong_with_a_log_it_cannot_use) {
  auto missing = report("--dmesg no-such.log");
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_EQ(missing.err, "kvmscope report: cannot read no-such.log: No such file or directory\n");
  auto none = report("--dmesg none.log");
  EXPECT_EQ(none.exit_code, 1);
  EXPECT_EQ(none.err,
            "kvmscope report: no KVM exit statistics lines in none.log (expected kvm_exit_stats "
            "lines of the kernel/ patch or 'KVM exit <code> (<name>): <count>' lines)\n");
  auto bad = report("--dmesg malformed.log");
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_EQ(bad.err,
            "kvmscope report: malformed.log:1: malformed kvm_exit_stats line: kvm_exit_stats: vm "
            "1 vmx: report 1: 12x exits, 5 cycles, tsc_khz 1\n");
  auto both = report("x.kvms --dmesg a.log");
  EXPECT_EQ(both.exit_code, 2);
}

}  // namespace
}  // namespace kvmscope::model
