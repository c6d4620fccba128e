// util/usage.h: the usage errors every subcommand shares and the "did you mean" behind them.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "util/usage.h"

namespace kvmscope::util {
namespace {

const std::vector<std::string> kCommands = {"stat",  "top",   "record", "report",
                                            "serve", "guest", "version"};

TEST(Usage, one_wording_for_errors_and_missing_values) {
  EXPECT_EQ(usage_error("stat", missing_value("--duration")).message(),
            "--duration needs a value (see 'kvmscope stat --help')");
  EXPECT_EQ(usage_error("", "unknown command 'x'").message(),
            "unknown command 'x' (see 'kvmscope --help')");
}

TEST(Usage, guesses_a_typo_by_edit_distance) {
  EXPECT_EQ(closest_match("stats", kCommands), "stat");     // one extra letter
  EXPECT_EQ(closest_match("tpo", kCommands), "top");        // two letters swapped
  EXPECT_EQ(closest_match("recrod", kCommands), "record");  // swapped
  EXPECT_EQ(closest_match("reprot", kCommands), "report");  // swapped, not "record"
  EXPECT_EQ(closest_match("serv", kCommands), "serve");     // a prefix of one command only
  EXPECT_EQ(closest_match("guset", kCommands), "guest");
  EXPECT_EQ(closest_match("--duraton", std::vector<std::string>{"--duration", "--json"}),
            "--duration");
}

TEST(Usage, guesses_nothing_when_nothing_is_close_or_it_is_ambiguous) {
  EXPECT_EQ(closest_match("frobnicate", kCommands), std::nullopt);
  EXPECT_EQ(closest_match("x", kCommands), std::nullopt);
  EXPECT_EQ(closest_match("re", kCommands), std::nullopt);  // record or report
  EXPECT_EQ(closest_match("rep", kCommands), "report");
  EXPECT_EQ(closest_match("stat", kCommands), std::nullopt);  // not a typo
  EXPECT_EQ(closest_match("--", std::vector<std::string>{"--io"}), std::nullopt);
  EXPECT_EQ(closest_match("--per-v", std::vector<std::string>{"--per-vm", "--per-vcpu"}),
            std::nullopt);
  EXPECT_EQ(closest_match("abc", std::vector<std::string>{}), std::nullopt);
}

TEST(Usage, unknown_option_says_what_it_was_maybe_meant_to_be) {
  const std::vector<std::string> known = {"--every", "--every-level", "--json"};
  EXPECT_EQ(unknown_option("--evrey", known), "unknown option '--evrey'; did you mean '--every'?");
  EXPECT_EQ(unknown_option("--frobnicate", known), "unknown option '--frobnicate'");
}

TEST(Usage, reads_the_options_a_help_text_defines_at_the_start_of_its_lines) {
  const char* help =
      "usage: kvmscope stat [options] -- COMMAND\n"
      "\n"
      "Counts exits; --not-an-option in prose is ignored.\n"
      "  -- COMMAND ARGS   run COMMAND\n"
      "  -p, --pid PIDS    attach\n"
      "  --every N         blocks, see --every-level\n"
      "  --every-level L   what --every counts\n"
      "  --per-vm, --per-vcpu   split\n"
      "  --per-a N, --per-b M   two, each with its value\n"
      "  --timeout=SEC     a form with '='\n"
      "  --json            JSON\n"
      "  --json            again\n"
      "  sudo kvmscope stat --cpuid 3\n";
  EXPECT_EQ(long_options_in(help),
            (std::vector<std::string>{"--pid", "--every", "--every-level", "--per-vm", "--per-vcpu",
                                      "--per-a", "--per-b", "--timeout", "--json"}));
}

}  // namespace
}  // namespace kvmscope::util
