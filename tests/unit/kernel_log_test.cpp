// report --dmesg: kernel logs with the kernel/ patch's kvm_exit_stats lines or the course
// format's "KVM exit" lines, parsed (model::parse_kernel_log) and reported; the whole output is
// checked against golden files in tests/fixtures/dmesg/.
#include <gtest/gtest.h>

#include <algorithm>
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

// The course patch prints the reasons it has counted in code order: a reason met for the first
// time may come before the block's first code, and still belongs to the next block.
TEST(KernelLog, a_code_not_above_the_one_before_begins_the_next_course_block) {
  auto log = parse(
      "KVM exit 1 (EXTERNAL_INTERRUPT): 3\nKVM exit 30 (I/O_INSTRUCTION): 10\n"
      "KVM exit 0 (EXCEPTION_NMI): 1\nKVM exit 1 (EXTERNAL_INTERRUPT): 4\n"
      "KVM exit 30 (I/O_INSTRUCTION): 20\nkvm exit 0x7b (io): 7\n");
  ASSERT_TRUE(log) << log.error().message();
  ASSERT_EQ(log->vms.size(), 2u);  // the hex code is SVM's
  ASSERT_EQ(log->vms[0].snapshots.size(), 2u);
  EXPECT_EQ(log->vms[0].snapshots[0].exits(), 13u);
  EXPECT_EQ(log->vms[0].snapshots[1].exits(), 25u);
  EXPECT_EQ(log->vms[0].snapshots[1].line, 3u);
  EXPECT_EQ(log->vms[1].isa, Isa::svm);
  EXPECT_TRUE(log->notes.empty());
}

// dmesg stamps every printk line on its own: one block's lines are milliseconds apart, and
// other drivers' lines may come between them.
TEST(KernelLog, a_course_block_is_its_run_of_lines_whatever_their_timestamps) {
  auto log = parse(
      "[13967.101229] KVM exit 0 (EXCEPTION_NMI): 33\n"
      "[13967.106829] KVM exit 1 (EXTERNAL_INTERRUPT): 4321\n"
      "[13967.109000] kvm [4321]: vcpu0, guest rIP: 0xffffffff8107c2e4 ignored rdmsr: 0x611\n"
      "[13967.112430] KVM exit 30 (I/O_INSTRUCTION): 5646\n"
      "[13968.500000] KVM exit 0 (EXCEPTION_NMI): 40\n"
      "[13968.505611] KVM exit 1 (EXTERNAL_INTERRUPT): 8000\n"
      "[13968.511187] KVM exit 30 (I/O_INSTRUCTION): 11960\n");
  ASSERT_TRUE(log) << log.error().message();
  ASSERT_EQ(log->vms.size(), 1u);  // no "new VM" where one reason's count is below another's
  const std::vector<LogSnapshot>& s = log->vms[0].snapshots;
  ASSERT_EQ(s.size(), 2u);
  EXPECT_EQ(s[0].exits(), 10'000u);
  EXPECT_EQ(s[0].reasons.size(), 3u);
  EXPECT_EQ(s[0].ts_ns, 13967'101'229'000u);  // its first line's
  EXPECT_EQ(s[1].exits(), 20'000u);
  EXPECT_EQ(s[1].line, 5u);
  EXPECT_TRUE(log->notes.empty());
  EXPECT_TRUE(log->warnings.empty());
}

TEST(KernelLog, starts_a_new_instance_when_a_reason_goes_backwards) {
  auto log = parse("KVM exit 30 (X): 10\nKVM exit 30 (X): 4\n");
  ASSERT_TRUE(log);
  ASSERT_EQ(log->vms.size(), 2u);
  EXPECT_EQ(log->vms[1].instance, 2u);
  EXPECT_EQ(log->vms[1].restart,
            "line 2: exit 30 went back from 10 to 4: a new VM (or the counters started again: "
            "kvm reloaded, a reboot)");
}

// A skipped line leaves a reason out of its block: that is no new VM, and the reason keeps
// its count from the block before (counts only grow), so the block's sum does not drop.
TEST(KernelLog, a_reason_missing_from_a_course_block_keeps_its_count) {
  auto log = parse(
      "KVM exit 1 (EXTERNAL_INTERRUPT): 100\nKVM exit 30 (I/O_INSTRUCTION): 9900\n"
      "KVM exit 1 (EXTERNAL_INTERRUPT): 200\nKVM exit 30 (I/O_INSTRUCTION): 19x00\n"
      "KVM exit 1 (EXTERNAL_INTERRUPT): 300\nKVM exit 30 (I/O_INSTRUCTION): 29700\n");
  ASSERT_TRUE(log) << log.error().message();
  ASSERT_EQ(log->vms.size(), 1u);
  const std::vector<LogSnapshot>& s = log->vms[0].snapshots;
  ASSERT_EQ(s.size(), 3u);
  EXPECT_EQ(s[1].exits(), 10'100u);  // 200 + the 9900 carried over
  EXPECT_EQ(s[2].exits(), 30'000u);
  EXPECT_EQ(log->notes, std::vector<std::string>{
                            "1 'KVM exit' block without a reason the block before had (at line 3: "
                            "exit 30): its count there carried over (a line skipped?)"});
}

TEST(KernelLog, skips_malformed_and_overflowing_course_lines_with_counted_warnings) {
  auto log = parse(
      "KVM exit 1 (EXTERNAL_INTERRUPT): 5\n"
      "[ 1.0] KVM exit 31 (MSR_READ):\n"
      "KVM exit 32 (MSR_WRITE): 123456789012345678901234567890\n"
      "KVM exit 48 EPT_VIOLATION 4\n"
      "KVM exit 4294967296 (BIG): 1\n"
      "KVM exit 49 (EPT_MISCONFIG): 6\n");
  ASSERT_TRUE(log) << log.error().message();
  EXPECT_EQ(log->course_lines, 2u);
  ASSERT_EQ(log->vms.size(), 1u);
  EXPECT_EQ(log->vms[0].snapshots.at(0).exits(), 11u);
  EXPECT_EQ(log->warnings,
            (std::vector<std::string>{
                "skipped 2 malformed 'KVM exit' lines (first at line 2: KVM exit 31 (MSR_READ):)",
                "skipped 2 'KVM exit' lines with a number out of range (first at line 3: KVM exit "
                "32 (MSR_WRITE): 123456789012345678901234567890)"}));
}

TEST(KernelLog, refuses_malformed_numbers_and_logs_without_statistics) {
  auto bad = parse(
      "[ 1.0] kvm_exit_stats: vm 1 vmx: exit 30 (IO): 99999999999999999999 exits, 1 "
      "cycles\n");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().message(),
            "t.log:1: malformed kvm_exit_stats line: [ 1.0] kvm_exit_stats: vm 1 vmx: exit 30 "
            "(IO): 99999999999999999999 exits, 1 cycles");
  auto negative = parse("KVM exit 30 (IO): -1\n");  // skipped: then there is nothing
  ASSERT_FALSE(negative);
  EXPECT_EQ(negative.error().context, "no KVM exit statistics lines in t.log");
  auto none = parse("hello\nkvm exit handler ready\n");
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().context, "no KVM exit statistics lines in t.log");
}

// A stream of `n` bytes of `fill`, then `tail`; made as it is read, so it takes no memory.
class Generated : public std::streambuf {
 public:
  Generated(std::uint64_t n, char fill, std::string tail) : left_(n), tail_(std::move(tail)) {
    chunk_.assign(1 << 16, fill);
  }

 protected:
  int_type underflow() override {
    if (left_ > 0) {
      const std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(left_, chunk_.size()));
      left_ -= n;
      setg(chunk_.data(), chunk_.data(), chunk_.data() + n);
    } else if (!tail_done_) {
      tail_done_ = true;
      setg(tail_.data(), tail_.data(), tail_.data() + tail_.size());
    }
    return gptr() == egptr() ? traits_type::eof() : traits_type::to_int_type(*gptr());
  }

 private:
  std::uint64_t left_;
  std::string chunk_, tail_;
  bool tail_done_ = false;
};

TEST(KernelLog, cuts_an_overlong_line_and_reads_on) {
  Generated buf(40u << 20, 'x', "\n[ 2.5] KVM exit 30 (I/O_INSTRUCTION): 7\n");
  std::istream in(&buf);
  auto log = parse_kernel_log(in, "t.log");
  ASSERT_TRUE(log) << log.error().message();
  EXPECT_EQ(log->lines, 2u);
  EXPECT_EQ(log->course_lines, 1u);
  EXPECT_EQ(log->warnings, std::vector<std::string>{
                               "cut 1 line longer than 4096 bytes to that length (at line 1)"});
}

TEST(KernelLog, a_cut_kvm_exit_line_is_skipped_not_read) {
  std::string text = "KVM exit 30 (I/O_INSTRUCTION): 7" + std::string(5000, ' ') + "\n" +
                     "KVM exit 31 (MSR_READ): 1\n";
  auto log = parse(text);
  ASSERT_TRUE(log) << log.error().message();
  EXPECT_EQ(log->course_lines, 1u);
  ASSERT_EQ(log->warnings.size(), 2u);
  EXPECT_EQ(log->warnings[0].substr(0, 81),
            "skipped 1 malformed 'KVM exit' line (at line 1: KVM exit 30 (I/O_INSTRUCTION): 7 ");
  EXPECT_EQ(log->warnings[1], "cut 1 line longer than 4096 bytes to that length (at line 1)");
}

// /dev/zero is one endless line: the search for a first statistics line ends, with a message.
TEST(KernelLog, gives_up_when_the_first_bytes_hold_no_statistics) {
  Generated buf(~0ull, '\0', "");
  std::istream in(&buf);
  auto log = parse_kernel_log(in, "zero", {4096, 3u << 20});
  ASSERT_FALSE(log);
  EXPECT_EQ(log.error().message(),
            "no KVM exit statistics lines in the first 3 MiB of zero (expected kvm_exit_stats "
            "lines of the kernel/ patch or 'KVM exit <code> (<name>): <count>' lines; a longer "
            "log: grep -iE 'kvm_exit_stats|kvm exit' it first)");
  // Once a statistics line is found, the log is read to its end.
  std::istringstream both("KVM exit 1 (EXTERNAL_INTERRUPT): 2\n" + std::string(8u << 20, '\n') +
                          "KVM exit 1 (EXTERNAL_INTERRUPT): 9\n");
  auto read = parse_kernel_log(both, "t.log", {4096, 3u << 20});
  ASSERT_TRUE(read) << read.error().message();
  EXPECT_EQ(read->course_lines, 2u);
}

// The course patch's own names are not the kernel's: the kernel's table names the codes it
// knows, once noted; a code it does not know keeps the log's name.
TEST(KernelLog, names_course_codes_as_the_kernel_does) {
  auto log = parse(
      "KVM exit 29 (UNKNOWN): 1\nKVM exit 30 (IO_INSTRUCTION): 4\nKVM exit 35 (RESERVED35): 1\n"
      "KVM exit 29 (UNKNOWN): 2\nKVM exit 30 (IO_INSTRUCTION): 8\nKVM exit 35 (RESERVED35): 2\n");
  ASSERT_TRUE(log) << log.error().message();
  const KernelLogAnalysis a = analyze_kernel_log(*log, "t.log");
  EXPECT_EQ(a.catalog.name({Level::hardware, Isa::vmx, 29}), "DR_ACCESS");
  EXPECT_EQ(a.catalog.name({Level::hardware, Isa::vmx, 30}), "IO_INSTRUCTION");
  EXPECT_EQ(a.catalog.name({Level::hardware, Isa::vmx, 35}), "RESERVED35");
  EXPECT_EQ(std::count(a.summary.notes.begin(), a.summary.notes.end(),
                       "the log calls exit 29 UNKNOWN; the kernel's name is DR_ACCESS, which the "
                       "tables use"),
            1);
  EXPECT_EQ(a.summary.notes.size(), 3u);  // that, no cycles, the reports without timestamps
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
      {"--dmesg course-dmesg.log", "course-dmesg.expected.txt"},
      {"--dmesg course-dmesg.log --json", "course-dmesg.expected.json"},
  };
  for (const Golden& g : cases) {
    auto r = report(g.args);
    EXPECT_EQ(r.exit_code, 0) << g.args << ": " << r.err;
    EXPECT_EQ(r.out, read(kDir + "/" + g.expected)) << g.args;
  }
}

// Skipped lines are warned about on standard error, counted, and the report goes on.
TEST(KernelLogReport, warns_of_skipped_lines_on_standard_error) {
  auto r = report("--dmesg course-dmesg.log");
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.err,
            "kvmscope report: course-dmesg.log: skipped 1 malformed 'KVM exit' line (at line 41: "
            "KVM exit 31 (MSR_READ):)\n"
            "kvmscope report: course-dmesg.log: skipped 1 'KVM exit' line with a number out of "
            "range (at line 137: KVM exit 32 (MSR_WRITE): 123456789012345678901234567890)\n");
}

// /dev/zero never ends and has no newline: the report ends with a message, in bounded memory.
TEST(KernelLogReport, ends_on_dev_zero_with_a_message) {
  auto r = live::run_command({"/bin/sh", "-c",
                              "ulimit -v 1048576; exec '" + std::string(live::kvmscope_bin()) +
                                  "' report --dmesg /dev/zero"},
                             60);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err,
            "kvmscope report: no KVM exit statistics lines in the first 64 MiB of /dev/zero "
            "(expected kvm_exit_stats lines of the kernel/ patch or 'KVM exit <code> (<name>): "
            "<count>' lines; a longer log: grep -iE 'kvm_exit_stats|kvm exit' it first)\n");
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
  auto dir = report("--dmesg .");  // a read error: said, not thrown
  EXPECT_EQ(dir.exit_code, 1);
  EXPECT_EQ(dir.err, "kvmscope report: reading .: Is a directory\n");
  auto both = report("x.kvms --dmesg a.log");
  EXPECT_EQ(both.exit_code, 2);
}

}  // namespace
}  // namespace kvmscope::model
