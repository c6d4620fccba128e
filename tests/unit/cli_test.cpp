// The command line of kvmscope: usage errors are one line on stderr and exit status 2; these
// need no privileges, since arguments are checked before anything is loaded.
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include <gtest/gtest.h>

#include "live/live_support.h"
#include "support/mini_json.h"
#include "support/recording_file.h"

namespace {

using kvmscope::live::run_command;

struct Case {
  std::vector<std::string> args;
  std::string err;
};

TEST(Cli, rejects_bad_usage_with_one_clear_line) {
  const Case cases[] = {
      {{"stat"},
       "kvmscope stat: say what to trace: -- COMMAND, -p PID or -a (see 'kvmscope stat "
       "--help')\n"},
      {{"stat", "-a", "-p", "1"},
       "kvmscope stat: choose one of -- COMMAND, -p PID and -a (see 'kvmscope stat --help')\n"},
      {{"stat", "-p", "abc"},
       "kvmscope stat: -p: 'abc' is not a process id (see 'kvmscope stat --help')\n"},
      {{"stat", "-a", "--every", "0"},
       "kvmscope stat: --every: '0' is not a positive number of exits (see 'kvmscope stat "
       "--help')\n"},
      {{"stat", "-a", "--json", "--every", "10"},
       "kvmscope stat: --every prints text blocks; it cannot be combined with --json (see "
       "'kvmscope stat --help')\n"},
      {{"stat", "-a", "--duration", "soon"},
       "kvmscope stat: --duration: 'soon' is not a duration (see 'kvmscope stat --help')\n"},
      {{"stat", "-a", "--every-level", "l2"},
       "kvmscope stat: --every-level: expected 'hardware' or 'vmm', got 'l2' (see 'kvmscope "
       "stat --help')\n"},
      {{"stat", "-a", "--frobnicate"},
       "kvmscope stat: unknown option '--frobnicate' (see 'kvmscope stat --help')\n"},
      {{"stat", "--"},
       "kvmscope stat: nothing after '--': which command should run? (see 'kvmscope stat "
       "--help')\n"},
      {{"stat", "-a", "--max-entries"},
       "kvmscope stat: --max-entries needs a value (see 'kvmscope stat --help')\n"},
      {{"frobnicate"}, "kvmscope: unknown command 'frobnicate' (see 'kvmscope --help')\n"},
      {{"stats"},
       "kvmscope: unknown command 'stats'; did you mean 'stat'? (see 'kvmscope --help')\n"},
      {{"rcord", "-a"},
       "kvmscope: unknown command 'rcord'; did you mean 'record'? (see 'kvmscope --help')\n"},
      {{"vesion"},
       "kvmscope: unknown command 'vesion'; did you mean 'version'? (see 'kvmscope --help')\n"},
      {{"version", "x"}, "kvmscope version: takes no arguments (see 'kvmscope version --help')\n"},
      {{"stat", "-a", "--duraton", "1"},
       "kvmscope stat: unknown option '--duraton'; did you mean '--duration'? (see 'kvmscope stat "
       "--help')\n"},
      {{"stat", "-a", "--per-cpu"},
       "kvmscope stat: unknown option '--per-cpu'; did you mean '--per-vcpu'? (see 'kvmscope "
       "stat --help')\n"},
      {{"record", "-o", "x", "-a", "--ring=4"},
       "kvmscope record: unknown option '--ring'; did you mean '--ring-size'? (see 'kvmscope "
       "record --help')\n"},
      {{"report", "x", "--htm", "y"},
       "kvmscope report: unknown option '--htm'; did you mean '--html'? (see 'kvmscope report "
       "--help')\n"},
      {{"guest", "--cpudi", "3"},
       "kvmscope guest: unknown option '--cpudi'; did you mean '--cpuid'? (see 'kvmscope guest "
       "--help')\n"},
      // One wording for a missing value, whichever subcommand.
      {{"record", "-o"}, "kvmscope record: -o needs a value (see 'kvmscope record --help')\n"},
      {{"report", "x", "--rows"},
       "kvmscope report: --rows needs a value (see 'kvmscope report --help')\n"},
      {{"serve", "--listen"},
       "kvmscope serve: --listen needs a value (see 'kvmscope serve --help')\n"},
      // serve --counts-only is an option (the error is about the next one).
      {{"serve", "--counts-only", "--max-vms", "0"},
       "kvmscope serve: --max-vms: '0' is not a count from 1 to 1048576 (see 'kvmscope serve "
       "--help')\n"},
      {{"top", "--interval"},
       "kvmscope top: --interval needs a value (see 'kvmscope top --help')\n"},
      {{"guest", "--io"}, "kvmscope guest: --io needs a value (see 'kvmscope guest --help')\n"},
      {{"stat", "-a", "--output="},
       "kvmscope stat: --output: empty path (see 'kvmscope stat --help')\n"},
      {{"stat", "-a", "--wait-vm"},
       "kvmscope stat: --wait-vm goes with -p PID (see 'kvmscope stat --help')\n"},
      {{"record", "-o", "x", "--wait-vm", "--", "true"},
       "kvmscope record: --wait-vm goes with -p PID (see 'kvmscope record --help')\n"},
      {{"stat", "-a", "--by", "disk"},
       "kvmscope stat: --by: 'disk' is not one of port, mmio, msr, cpuid, hypercall, all (see "
       "'kvmscope stat --help')\n"},
      {{"record", "-a"},
       "kvmscope record: say where to record: -o FILE (see 'kvmscope record --help')\n"},
      {{"record", "-o", "x"},
       "kvmscope record: say what to trace: -- COMMAND, -p PID or -a (see 'kvmscope record "
       "--help')\n"},
      {{"record", "--ring-size", "3", "-o", "x", "-a"},
       "kvmscope record: --ring-size: expected a power of two from 1 to 4096 (MB), got '3' (see "
       "'kvmscope record --help')\n"},
      {{"report"},
       "kvmscope report: which recording? kvmscope report FILE (see 'kvmscope report --help')\n"},
      {{"report", "a", "b"},
       "kvmscope report: one recording at a time: 'a' and 'b' (see 'kvmscope report --help')\n"},
      {{"report", "x", "--mark", "3"},
       "kvmscope report: --mark: expected TIME=LABEL, got '3' (see 'kvmscope report --help')\n"},
      {{"report", "x", "--bucket", "0"},
       "kvmscope report: --bucket: '0' is not a bucket width (see 'kvmscope report --help')\n"},
      {{"report", "x", "--html="},
       "kvmscope report: --html: empty path (see 'kvmscope report --help')\n"},
      {{"report", "x", "--mark", "2.5=kernel", "--mark", "1=firmware", "--mark", "2500ms=init"},
       "kvmscope report: --mark 2.5=kernel and --mark 2500ms=init are at the same time: one "
       "phase cannot begin with two names (see 'kvmscope report --help')\n"},
  };
  for (const auto& c : cases) {
    std::vector<std::string> argv{KS_BIN};
    argv.insert(argv.end(), c.args.begin(), c.args.end());
    auto r = run_command(argv);
    EXPECT_EQ(r.exit_code, 2) << c.args.front();
    EXPECT_EQ(r.err, c.err);
    EXPECT_EQ(r.out, "");
  }
}

TEST(Cli, report_names_a_missing_or_foreign_file_in_one_line) {
  auto missing = run_command({KS_BIN, "report", "/nonexistent/boot.kvms"});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_EQ(missing.err,
            "kvmscope report: open /nonexistent/boot.kvms: No such file or directory\n");
  auto foreign = run_command({KS_BIN, "report", KS_SOURCE_DIR "/README.md"});
  EXPECT_EQ(foreign.exit_code, 1);
  EXPECT_EQ(foreign.err,
            "kvmscope report: " KS_SOURCE_DIR "/README.md: not a kvmscope recording\n");
}

TEST(Cli, report_by_function_counts_the_exits_of_a_trace_dat_per_guest_rip) {
  // The kvmtest guest of the SVM bed runs without a kernel: every RIP is low, before any kernel
  // RIP, so all of it is firmware/early boot; 100 cpuid, 20 io and 20 hlt as in the test above.
  auto r = run_command({KS_BIN, "report", KS_SOURCE_DIR "/tests/fixtures/tracedat/kvmtest-v6.dat",
                        "--by", "function,port", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto doc = kvmscope::testing::Json::parse(r.out);
  const auto& vms = doc["guest_code"]["vms"].items;
  ASSERT_EQ(vms.size(), 1u);
  std::map<std::string, std::uint64_t> per_reason;
  for (const auto& reason : vms[0]["reasons"].items) {
    std::uint64_t sum = 0;
    for (const auto& f : reason["functions"].items) {
      EXPECT_EQ(f["function"].str(), "[firmware/early boot]");
      for (const auto& site : f["sites"].items) sum += site["count"].u64();
    }
    EXPECT_EQ(sum, reason["count"].u64());
    per_reason[reason["reason"].str()] = sum;
  }
  EXPECT_EQ(per_reason["cpuid"], 100u);
  EXPECT_EQ(per_reason["io"], 20u);
  EXPECT_EQ(per_reason["hlt"], 20u);
  EXPECT_EQ(vms[0]["exits"]["kernel"].u64(), 0u);
  // "function" is taken out of --by's list; the rest is read as stat's kinds.
  auto bad = run_command({KS_BIN, "report", "x.kvms", "--by", "function,bogus"});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_EQ(bad.err.rfind("kvmscope report: --by: 'bogus' is not one of", 0), 0u) << bad.err;
}

TEST(Cli, report_guest_files_are_checked_before_the_recording_in_one_line) {
  const std::string dir = ::testing::TempDir() + "/ks-guest-files";
  std::filesystem::create_directories(dir);
  const std::string stub = dir + "/System.map";
  std::ofstream(stub)
      << "ffffffffffffffff B The real System.map is in the linux-image-<version>-dbg "
         "package\n";
  auto r = run_command({KS_BIN, "report", "/nonexistent/boot.kvms", "--guest-symbols", stub});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "kvmscope report: " + stub + ": no code symbols in it\n");
  auto k = run_command({KS_BIN, "report", "/nonexistent/boot.kvms", "--guest-kernel", stub});
  EXPECT_EQ(k.exit_code, 1);
  EXPECT_EQ(k.err, "kvmscope report: " + stub +
                       ": neither an ELF file (vmlinux) nor a bzImage (vmlinuz)\n");
  auto o = run_command({KS_BIN, "report", "x.kvms", "--guest-kaslr-offset", "0x1000"});
  EXPECT_EQ(o.exit_code, 2);
  EXPECT_EQ(o.err.substr(0, o.err.find(')') + 1),
            "kvmscope report: --guest-kaslr-offset: '0x1000' is not a multiple of 2 MiB "
            "(0x200000)");
  std::filesystem::remove_all(dir);
}

TEST(Cli, stat_checks_guest_code_options_and_files_before_tracing) {
  // Before privileges, VMs or BPF: a wrong file or offset is one line, whoever runs it.
  const std::string dir = ::testing::TempDir() + "/ks-stat-guest-files";
  std::filesystem::create_directories(dir);
  const std::string stub = dir + "/System.map";
  std::ofstream(stub) << "ffffffffffffffff B stub\n";
  auto r = run_command({KS_BIN, "stat", "--guest-symbols", stub, "-p", "1"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "kvmscope stat: " + stub + ": no code symbols in it\n");
  auto k = run_command({KS_BIN, "stat", "--guest-kernel", stub, "-a"});
  EXPECT_EQ(k.exit_code, 1);
  EXPECT_EQ(k.err,
            "kvmscope stat: " + stub + ": neither an ELF file (vmlinux) nor a bzImage (vmlinuz)\n");
  auto o = run_command({KS_BIN, "stat", "-a", "--guest-kaslr-offset", "12345"});
  EXPECT_EQ(o.exit_code, 2);
  EXPECT_EQ(o.err.substr(0, o.err.find(')') + 1),
            "kvmscope stat: --guest-kaslr-offset: '12345' is not a multiple of 2 MiB "
            "(0x200000)");
  auto bad = run_command({KS_BIN, "stat", "-a", "--by", "port,function,bogus"});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_EQ(bad.err.rfind("kvmscope stat: --by: 'bogus' is not one of", 0), 0u) << bad.err;
  auto top = run_command({KS_BIN, "top", "--batch", "--guest-symbols", stub});
  EXPECT_EQ(top.exit_code, 1);
  EXPECT_EQ(top.err, "kvmscope top: " + stub + ": no code symbols in it\n");
  std::filesystem::remove_all(dir);
}

TEST(Cli, report_reads_trace_cmd_trace_dat_files) {
  // Recorded by trace-cmd in the nested SVM bed: kvmtest 20 5 (tests/fixtures/tracedat/README.md).
  auto r = run_command(
      {KS_BIN, "report", KS_SOURCE_DIR "/tests/fixtures/tracedat/kvmtest-v6.dat", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto doc = kvmscope::testing::Json::parse(r.out);
  std::map<std::string, std::uint64_t> hw;
  for (const auto& e : doc["exits"].items)
    if (e["level"].str() == "hardware") hw[e["reason"].str()] += e["count"].u64();
  EXPECT_EQ(hw["cpuid"], 100u);
  EXPECT_EQ(hw["io"], 20u);
  EXPECT_EQ(hw["hlt"], 20u);
  EXPECT_EQ(doc["names"]["svm"].str(), "kernel") << "names from the file's own format text";
}

TEST(Cli, report_of_a_damaged_recording_reads_past_the_damage_and_exits_3) {
  namespace t = kvmscope::testing;
  const std::string good = kvmscope::live::temp_path("good.kvms");
  const std::string bad = kvmscope::live::temp_path("bad.kvms");
  ASSERT_TRUE(t::write_sample_recording(good));
  t::Bytes bytes = t::read_bytes(good);
  const auto blocks = t::block_offsets(bytes);
  // The third events block: its payload damaged, the blocks after it intact.
  std::size_t events_seen = 0, k = 0;
  for (; k < blocks.size() && events_seen < 3; ++k)
    events_seen += t::is_events_block(bytes, blocks[k]);
  const std::size_t b = k - 1;
  ASSERT_EQ(events_seen, 3u);
  ASSERT_LT(b + 3, blocks.size()) << "intact events blocks after it";
  bytes[blocks[b] + 60] ^= 0x10;
  t::write_bytes(bad, bytes);

  auto sound = run_command({KS_BIN, "report", good, "--json"});
  auto damaged = run_command({KS_BIN, "report", bad});
  auto allowed = run_command({KS_BIN, "report", bad, "--allow-damaged"});
  auto json = run_command({KS_BIN, "report", bad, "--json", "--allow-damaged"});
  std::remove(good.c_str());
  std::remove(bad.c_str());
  ASSERT_EQ(sound.exit_code, 0) << sound.err;

  const std::string range =
      std::to_string(blocks[b]) + "\u2013" + std::to_string(blocks[b + 1] - 1);
  const std::string block = std::to_string(b + 1);
  EXPECT_EQ(damaged.exit_code, 3);
  EXPECT_EQ(damaged.err,
            "kvmscope report: " + bad + " is damaged: 1 corrupt stretch(es) skipped, " +
                "1,000 events lost: reporting what it holds\n" + "kvmscope report: " + bad +
                " is damaged: exit status 3 (--allow-damaged for 0)\n");
  EXPECT_NE(damaged.out.find("\nwarning: corrupt: bytes " + range + " (block " + block +
                             "): 1,000 events lost (payload CRC mismatch): counts, times and the "
                             "timeline miss them\n"),
            std::string::npos)
      << damaged.out;
  EXPECT_EQ(damaged.out.find("cut short"), std::string::npos) << "the trailer is there";
  EXPECT_EQ(allowed.exit_code, 0) << allowed.err;
  EXPECT_EQ(allowed.out, damaged.out);

  ASSERT_EQ(json.exit_code, 0) << json.err;
  const auto doc = kvmscope::testing::Json::parse(json.out);
  const auto whole = kvmscope::testing::Json::parse(sound.out);
  // Exactly the events of the other blocks were read: all of them less the damaged block's.
  EXPECT_EQ(doc["stream"]["events"].u64(), whole["stream"]["events"].u64() - 1000);
  EXPECT_EQ(doc["recording"]["lost_events"].u64(), 1000u);
  EXPECT_EQ(doc["recording"]["lost_to_damage"].u64(), 1000u);
  EXPECT_TRUE(doc["recording"]["lost_to_damage_exact"].boolean);
  EXPECT_TRUE(doc["recording"]["complete"].boolean);
  ASSERT_EQ(doc["recording"]["damage"].items.size(), 1u);
  const auto& d = doc["recording"]["damage"].items[0];
  EXPECT_EQ(d["offset"].u64(), blocks[b]);
  EXPECT_EQ(d["end"].u64(), blocks[b + 1]);
  EXPECT_EQ(d["block"].u64(), b + 1);
  EXPECT_EQ(d["block_type"].str(), "events");
  EXPECT_EQ(d["events"].u64(), 1000u);
  EXPECT_EQ(doc["health"]["events_lost"].u64(), 1000u);
}

TEST(Cli, report_warns_about_a_mark_after_every_boot_and_still_reports) {
  const std::string rec = kvmscope::live::temp_path("marks.kvms");
  ASSERT_TRUE(kvmscope::testing::write_sample_recording(rec));
  // The sample VM shuts down 2 s after the command's start.
  auto r = run_command({KS_BIN, "report", rec, "--mark", "1=kernel", "--mark", "30s=late"});
  std::remove(rec.c_str());
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("\nwarning: --mark 30.0=late is at or after the end of every boot (the "
                       "longest ends 2.000 s after its start): no boot phase begins there\n"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("\nkernel   1.000 s"), std::string::npos)
      << "the other mark cuts: " << r.out;
}

// `sh -c SCRIPT`: for a pipe into kvmscope's standard input.
kvmscope::live::CommandResult shell(const std::string& script) {
  return run_command({"/bin/sh", "-c", script});
}

TEST(Cli, report_reads_a_recording_from_standard_input_as_from_the_file) {
  const std::string rec = kvmscope::live::temp_path("stdin.kvms");
  ASSERT_TRUE(kvmscope::testing::write_sample_recording(rec));
  for (const std::string options : {"", " --json --by all"}) {
    auto by_path = run_command({"/bin/sh", "-c", std::string(KS_BIN) + " report " + rec + options});
    auto piped = shell("cat " + rec + " | " + KS_BIN + " report -" + options);
    auto redirected = shell(std::string(KS_BIN) + " report -" + options + " < " + rec);
    ASSERT_EQ(by_path.exit_code, 0) << by_path.err;
    EXPECT_EQ(piped.exit_code, 0) << piped.err;
    EXPECT_EQ(piped.out, by_path.out) << options;
    EXPECT_EQ(piped.err, by_path.err);
    EXPECT_EQ(redirected.exit_code, 0) << redirected.err;
    EXPECT_EQ(redirected.out, by_path.out) << options;
  }
  std::remove(rec.c_str());

  // trace.dat is read by offset: spooled to a temporary file, then the same but for its name.
  const std::string dat = KS_SOURCE_DIR "/tests/fixtures/tracedat/kvmtest-v6.dat";
  auto dat_by_path = run_command({KS_BIN, "report", dat});
  auto dat_piped = shell("cat " + dat + " | " + KS_BIN + " report -");
  ASSERT_EQ(dat_by_path.exit_code, 0) << dat_by_path.err;
  EXPECT_EQ(dat_piped.exit_code, 0) << dat_piped.err;
  std::string expected = dat_by_path.out;
  expected.replace(expected.find(dat), dat.size(), "standard input");
  EXPECT_EQ(dat_piped.out, expected);

  auto foreign = shell("echo hello | " + std::string(KS_BIN) + " report -");
  EXPECT_EQ(foreign.exit_code, 1);
  EXPECT_EQ(foreign.err, "kvmscope report: standard input: not a kvmscope recording\n");
}

TEST(Cli, report_refuses_an_output_in_a_missing_directory_before_reading_anything) {
  const std::string rec = kvmscope::live::temp_path("outputs.kvms");
  ASSERT_TRUE(kvmscope::testing::write_sample_recording(rec));
  const Case cases[] = {
      {{"--html", "/nonexistent/x.html"},
       "kvmscope report: --html /nonexistent/x.html: directory /nonexistent does not exist\n"},
      {{"--csv", "/nonexistent/csv"},
       "kvmscope report: --csv /nonexistent/csv: directory /nonexistent does not exist\n"},
      {{"-o", "/nonexistent/r.txt"},
       "kvmscope report: -o /nonexistent/r.txt: directory /nonexistent does not exist\n"},
      {{"--output=/nonexistent/r.json", "--json"},
       "kvmscope report: --output /nonexistent/r.json: directory /nonexistent does not exist\n"},
      {{"--csv", rec + "/csv"},
       "kvmscope report: --csv " + rec + "/csv: " + rec + " is not a directory\n"},
  };
  for (const Case& c : cases) {
    std::vector<std::string> argv{KS_BIN, "report", rec};
    argv.insert(argv.end(), c.args.begin(), c.args.end());
    auto r = run_command(argv);
    EXPECT_EQ(r.exit_code, 1) << c.args.front();
    EXPECT_EQ(r.err, c.err);
    EXPECT_EQ(r.out, "") << "nothing is reported before the outputs are known good";
  }
  std::remove(rec.c_str());
  EXPECT_FALSE(std::filesystem::exists("/nonexistent")) << "no directory is made above DIR";
  // Checked before the input is even opened.
  auto both = run_command({KS_BIN, "report", "/nonexistent/boot.kvms", "--html", "/nonexistent/x"});
  EXPECT_EQ(both.err,
            "kvmscope report: --html /nonexistent/x: directory /nonexistent does not exist\n");
}

// A file holding "keep me", for record to leave alone.
std::string precious_file(const std::string& name) {
  const std::string path = kvmscope::live::temp_path(name);
  std::FILE* f = std::fopen(path.c_str(), "w");
  std::fputs("keep me", f);
  std::fclose(f);
  return path;
}

TEST(Cli, record_refuses_an_existing_file_without_force) {
  // Checked before anything is loaded: no privileges needed, and the file is untouched.
  const std::string path = precious_file("exists.kvms");
  auto r = run_command({KS_BIN, "record", "-o", path, "--", "true"});
  const std::string left = kvmscope::live::slurp(path);
  std::remove(path.c_str());
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "kvmscope record: " + path + " exists (use --force to overwrite)\n");
  EXPECT_EQ(left, "keep me");
}

TEST(Cli, record_with_force_still_refuses_a_file_another_record_is_writing) {
  // The lock a running record holds on its file (flock), held here instead.
  const std::string path = precious_file("locked.kvms");
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::flock(fd, LOCK_EX | LOCK_NB), 0);
  auto r = run_command({KS_BIN, "record", "--force", "-o", path, "--", "true"});
  ::close(fd);
  const std::string left = kvmscope::live::slurp(path);
  std::remove(path.c_str());
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "kvmscope record: " + path + " is being written by another 'kvmscope record'\n");
  EXPECT_EQ(left, "keep me");
}

TEST(Cli, stat_help_explains_with_examples) {
  auto r = run_command({KS_BIN, "stat", "--help"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.out.find("usage: kvmscope stat"), std::string::npos);
  EXPECT_NE(r.out.find("kvm exit 0x7b (io): 1000"), std::string::npos);
  EXPECT_NE(r.out.find("sudo kvmscope stat -p 4242 --every 10000"), std::string::npos);
}

TEST(Cli, top_level_help_lists_the_commands) {
  auto r = run_command({KS_BIN, "--help"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.out.find("  stat "), std::string::npos);
  EXPECT_NE(r.out.find("  guest "), std::string::npos);
  EXPECT_NE(r.out.find("  diff "), std::string::npos);
  // A '%' in the printf text is written "%%": the example prints as typed.
  EXPECT_NE(r.out.find("  kvmscope diff before.kvms after.kvms --fail-if 'total:+5%'\n"),
            std::string::npos);
  auto none = run_command({KS_BIN});
  EXPECT_EQ(none.exit_code, 2);
  EXPECT_NE(none.err.find("usage: kvmscope <command>"), std::string::npos);
}

// "kvmscope X.Y.Z", X.Y.Z being the VERSION of project() in CMakeLists.txt.
TEST(Cli, version_is_the_cmake_project_version) {
  const std::string cmake = kvmscope::live::slurp(std::string(KS_SOURCE_DIR) + "/CMakeLists.txt");
  const auto at = cmake.find("project(kvmscope VERSION ");
  ASSERT_NE(at, std::string::npos);
  const auto from = at + std::string("project(kvmscope VERSION ").size();
  const std::string version = cmake.substr(from, cmake.find(' ', from) - from);
  for (const char* arg : {"version", "--version", "-V"}) {
    auto r = run_command({KS_BIN, arg});
    EXPECT_EQ(r.exit_code, 0) << arg;
    EXPECT_EQ(r.out, "kvmscope " + version + "\n") << arg;
    EXPECT_EQ(r.err, "") << arg;
  }
}

// Every help text fits in 100 columns: the top level's and that of each command it lists.
TEST(Cli, every_help_text_is_at_most_100_columns_wide) {
  auto top = run_command({KS_BIN, "--help"});
  ASSERT_EQ(top.exit_code, 0);
  std::vector<std::string> commands;
  std::istringstream lines(top.out);
  bool in_commands = false;
  for (std::string line; std::getline(lines, line);) {
    if (line == "commands:") {
      in_commands = true;
    } else if (line.empty()) {
      in_commands = false;
    } else if (in_commands) {
      commands.push_back(line.substr(2, line.find(' ', 2) - 2));
    }
  }
  EXPECT_GE(commands.size(), 7u) << top.out;
  auto check = [](const std::string& who, const std::string& text) {
    std::istringstream in(text);
    int n = 0;
    for (std::string line; std::getline(in, line);) {
      ++n;
      EXPECT_LE(line.size(), 100u) << who << " --help, line " << n << ": " << line;
    }
    EXPECT_GT(n, 0) << who;
  };
  check("kvmscope", top.out);
  for (const auto& c : commands) {
    auto r = run_command({KS_BIN, c, "--help"});
    EXPECT_EQ(r.exit_code, 0) << c << ": " << r.err;
    check(c, r.out);
  }
}

TEST(Cli, stat_without_privileges_says_so) {
  std::vector<std::string> argv{KS_BIN, "stat", "-a", "--duration", "1"};
  if (::geteuid() == 0) {
    // Drop to nobody with no capabilities for this one run.
    if (::access("/usr/bin/setpriv", X_OK) != 0) GTEST_SKIP() << "setpriv (util-linux) missing";
    argv.insert(argv.begin(), {"/usr/bin/setpriv", "--reuid=65534", "--regid=65534",
                               "--clear-groups", "--inh-caps=-all", "--"});
  }
  auto r = run_command(argv);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err,
            "kvmscope stat: permission denied: tracing needs root (or CAP_BPF, CAP_PERFMON and "
            "CAP_DAC_READ_SEARCH) (run it with sudo)\n");
}

}  // namespace

namespace diff_cli {

const std::string kDat6 = KS_SOURCE_DIR "/tests/fixtures/tracedat/kvmtest-v6.dat";
const std::string kDat7 = KS_SOURCE_DIR "/tests/fixtures/tracedat/kvmtest-v7.dat";
const std::string kLog = KS_SOURCE_DIR "/tests/fixtures/dmesg/patch-svm.log";

TEST(CliDiff, usage_errors_exit_2_with_one_line) {
  const Case cases[] = {
      {{"diff", kDat6},
       "kvmscope diff: two runs to compare: kvmscope diff A B (got 1) (see 'kvmscope diff "
       "--help')\n"},
      {{"diff", kDat6, kDat7, "--per-a", "10"},
       "kvmscope diff: --per-a and --per-b go together: the work done in A and in B (see "
       "'kvmscope diff --help')\n"},
      {{"diff", kDat6, kDat7, "--per-a", "0", "--per-b", "1"},
       "kvmscope diff: --per-a: '0' is not a positive number (see 'kvmscope diff --help')\n"},
      {{"diff", kDat6, kDat7, "--match", "pid"},
       "kvmscope diff: --match: 'pid' is not 'name' (see 'kvmscope diff --help')\n"},
      {{"diff", kDat6, kDat7, "--fail-if", "io:10%"},
       "kvmscope diff: --fail-if 'io:10%': '10%' needs a sign: +N% (a rise) or -N% (a fall) "
       "(e.g. 'io:+10%', 'total:+5%', 'npf.p99:+20%', 'vmx:30:+1000') (see 'kvmscope diff "
       "--help')\n"},
      {{"diff", kDat6, kDat7, "--fail-if", "iio:+10%"},
       "kvmscope diff: --fail-if 'iio:+10%': matches no row of either run (reason names as the "
       "report prints them, e.g. 'io', 'IO_INSTRUCTION', 'KVM_EXIT_IO', or ISA:CODE)\n"},
  };
  for (const auto& c : cases) {
    std::vector<std::string> argv = {KS_BIN};
    argv.insert(argv.end(), c.args.begin(), c.args.end());
    auto r = run_command(argv);
    EXPECT_EQ(r.exit_code, 2) << c.args.back();
    EXPECT_EQ(r.err, c.err);
  }
}

TEST(CliDiff, an_unreadable_input_exits_3) {
  auto r = run_command({KS_BIN, "diff", kDat6, "/nonexistent/b.kvms"});
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_EQ(r.err, "kvmscope diff: open /nonexistent/b.kvms: No such file or directory\n");
}

// Two trace.dat captures of one workload (kvmtest 20 5): its io exits are 20 in both. A +0%
// threshold is reached, but no change is significant: the default exits 0, --fail-on-numbers 1.
TEST(CliDiff, fail_if_needs_significance_unless_told_otherwise) {
  auto r = run_command({KS_BIN, "diff", kDat6, kDat7, "--fail-if", "io:+0%", "--json"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  auto doc = kvmscope::testing::Json::parse(r.out);
  const auto& c = doc["fail_if"]["conditions"].items.at(0);
  EXPECT_EQ(c["value_a"].text, "20");
  EXPECT_EQ(c["value_b"].text, "20");
  EXPECT_TRUE(c["threshold_reached"].boolean);
  EXPECT_FALSE(c["significant"].boolean);
  auto raw =
      run_command({KS_BIN, "diff", kDat6, kDat7, "--fail-if", "io:+0%", "--fail-on-numbers"});
  EXPECT_EQ(raw.exit_code, 1);
  EXPECT_EQ(raw.err, "kvmscope diff: --fail-if 'io:+0%' holds\n");
}

// A report --json document of a trace.dat, read from standard input, against the trace.dat
// itself: every row the same.
TEST(CliDiff, a_report_document_against_its_recording_changes_nothing) {
  auto r = run_command({"/bin/sh", "-c",
                        std::string(KS_BIN) + " report " + kDat6 + " --json | " + KS_BIN +
                            " diff - " + kDat6 + " --json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto doc = kvmscope::testing::Json::parse(r.out);
  EXPECT_EQ(doc["a"]["source"].str(), "kvmscope.report/1");
  EXPECT_EQ(doc["b"]["source"].str(), "trace.dat");
  ASSERT_FALSE(doc["rows"].items.empty());
  for (const auto& row : doc["rows"].items) {
    EXPECT_EQ(row["count_a"].u64(), row["count_b"].u64());
    EXPECT_EQ(row["change"].text, "0");
    // The document keeps no events: its p99 is the log2 histogram's bound (stat's), at most 2x
    // the recording's own (the report's, from the events).
    if (row["p99_ns_b"].kind == kvmscope::testing::Json::Kind::number &&
        row["p99_ns_a"].kind == kvmscope::testing::Json::Kind::number) {
      EXPECT_GE(row["p99_ns_a"].u64(), row["p99_ns_b"].u64());
      EXPECT_LE(row["p99_ns_a"].u64(), 2 * row["p99_ns_b"].u64() + 1);
    }
  }
}

TEST(CliDiff, kernel_logs_compare_without_time_distributions) {
  auto r = run_command(
      {KS_BIN, "diff", "--dmesg", kLog, "--dmesg", kLog, "--fail-if", "cpuid.p99:+0%", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto doc = kvmscope::testing::Json::parse(r.out);
  EXPECT_EQ(doc["a"]["source"].str(), "kernel log");
  const auto& c = doc["fail_if"]["conditions"].items.at(0);
  EXPECT_EQ(c["value_a"].kind, kvmscope::testing::Json::Kind::null);
  EXPECT_FALSE(c["holds"].boolean);
  bool cpuid = false;
  for (const auto& row : doc["rows"].items)
    if (row["kind"].str() == "reason" && row["reason"].str() == "cpuid") {
      cpuid = true;
      EXPECT_EQ(row["p50_ns_a"].kind, kvmscope::testing::Json::Kind::null);
      EXPECT_EQ(row["time_p"].kind, kvmscope::testing::Json::Kind::null);
      EXPECT_NE(row["mean_ns_a"].kind, kvmscope::testing::Json::Kind::null);
    }
  EXPECT_TRUE(cpuid);
}

}  // namespace diff_cli
