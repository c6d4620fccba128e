// kvmscope top's command line, through the real binary: help with examples, and one clear
// line on stderr with a non-zero status for each kind of misuse (no root needed).
#include <unistd.h>

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "live/live_support.h"

namespace {

using kvmscope::live::run_command;

TEST(TopCli, help_explains_keys_columns_and_examples) {
  auto r = run_command({KS_BIN, "top", "--help"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.out.find("usage: kvmscope top"), std::string::npos);
  EXPECT_NE(r.out.find("sum of the handling times / (interval x vCPUs)"), std::string::npos);
  EXPECT_NE(r.out.find("examples:\n  sudo kvmscope top\n"), std::string::npos);
  EXPECT_NE(r.out.find("--batch"), std::string::npos);
  EXPECT_TRUE(r.err.empty()) << r.err;
}

TEST(TopCli, is_listed_among_the_commands) {
  auto r = run_command({KS_BIN, "--help"});
  EXPECT_NE(r.out.find("  top "), std::string::npos) << r.out;
}

TEST(TopCli, without_a_terminal_asks_for_batch) {
  // run_command gives it /dev/null and pipes: no terminal.
  auto r = run_command({KS_BIN, "top"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_TRUE(r.out.empty());
  EXPECT_EQ(r.err,
            "kvmscope top: the interactive view needs a terminal on standard input and output, "
            "and this is not one (use --batch for plain text frames)\n");
}

TEST(TopCli, rejects_bad_usage_with_one_clear_line) {
  const std::vector<std::vector<std::string>> cases = {
      {"--bogus"},
      {"-b", "--interval", "0"},
      {"-b", "--interval", "2h"},
      {"-b", "--iterations", "0"},
      {"-b", "--sort", "name"},
      {"-b", "--filter", "web("},
      {"-b", "-a", "-p", "1"},
      {"-b", "--", "true"},
      {"-b", "-p", "x"},
  };
  for (const auto& extra : cases) {
    std::vector<std::string> argv{KS_BIN, "top"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    auto r = run_command(argv);
    EXPECT_EQ(r.exit_code, 2) << extra[1 < extra.size() ? 1 : 0];
    EXPECT_EQ(r.err.rfind("kvmscope top: ", 0), 0u) << r.err;
    EXPECT_EQ(r.err.find('\n'), r.err.size() - 1) << "one line: " << r.err;
    EXPECT_NE(r.err.find("see 'kvmscope top --help'"), std::string::npos) << r.err;
  }
}

TEST(TopCli, counts_only_is_an_option_and_refuses_sorting_by_time) {
  auto help = run_command({KS_BIN, "top", "--help"});
  EXPECT_NE(help.out.find("  --counts-only       count exits, time nothing"), std::string::npos)
      << help.out;
  // Parsed (the error is about what follows, not an unknown option), and never with -s time:
  // there is no time to sort by.
  auto r = run_command({KS_BIN, "top", "-b", "--counts-only", "--interval", "0"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err,
            "kvmscope top: --interval: '0' is not an interval between 0.1 s and 1 h (see "
            "'kvmscope top --help')\n");
  r = run_command({KS_BIN, "top", "-b", "--counts-only", "--sort", "time"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err,
            "kvmscope top: --sort time: --counts-only measures no handling times (see 'kvmscope "
            "top --help')\n");
}

TEST(TopCli, names_a_missing_pid) {
  if (::geteuid() != 0) GTEST_SKIP() << "the privilege check comes first without root";
  auto r = run_command({KS_BIN, "top", "-b", "-p", "4194304"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "kvmscope top: no process with PID 4194304\n");
}

}  // namespace
