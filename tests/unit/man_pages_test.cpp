// docs/man stays in step with the binary: every command `kvmscope --help` lists has its page
// kvmscope-COMMAND.1, named with the same summary, and the options a page describes (its .TP
// items) are exactly those the command's --help defines, short and long. A new command or option
// without its man page, or a page left behind, fails here. Pages render without groff warnings.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "live/live_support.h"
#include "util/usage.h"

namespace {

using kvmscope::live::run_command;
using kvmscope::live::slurp;

const std::string kManDir = std::string(KS_SOURCE_DIR) + "/docs/man";

struct Command {
  std::string name;
  std::string summary;
};

// The "commands:" block of `kvmscope --help`: "  NAME     summary" lines.
std::vector<Command> listed_commands() {
  auto r = run_command({KS_BIN, "--help"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  std::vector<Command> commands;
  std::istringstream lines(r.out);
  bool in = false;
  for (std::string line; std::getline(lines, line);) {
    if (line == "commands:") {
      in = true;
    } else if (line.empty()) {
      in = false;
    } else if (in) {
      std::smatch m;
      if (std::regex_match(line, m, std::regex(R"(  (\S+) +(.*))")))
        commands.push_back({m[1], m[2]});
    }
  }
  return commands;
}

// roff to plain text for the lines compared here: font escapes dropped, \- is -, \(mu is x.
std::string unroff(std::string s) {
  s = std::regex_replace(s, std::regex(R"(\\f[BIRP])"), "");
  s = std::regex_replace(s, std::regex(R"(\\\(mu)"), "x");
  s = std::regex_replace(s, std::regex(R"(\\-)"), "-");
  s = std::regex_replace(s, std::regex(R"(\\&)"), "");
  return s;
}

// The options a line defines: its syntax (up to the first double space) is a ", "-separated list
// whose items each start with an option ("-p, --pid PIDS" gives -p and --pid; "--per-a N, --per-b
// M" gives both; "--timeout=SEC" gives --timeout); "--" alone (-- COMMAND) is not an option. The
// same rule as util::long_options_in, for short options too.
void add_options_of(std::string line, std::set<std::string>& out) {
  const auto start = line.find_first_not_of(' ');
  if (start == std::string::npos || line[start] != '-') return;
  std::string syntax = line.substr(start, line.find("  ", start) - start);
  while (!syntax.empty()) {
    const auto comma = syntax.find(", ");
    std::string item = syntax.substr(0, comma);
    syntax = comma == std::string::npos ? "" : syntax.substr(comma + 2);
    std::string w = item.substr(0, item.find(' '));
    w = w.substr(0, w.find('='));
    if (w.size() < 2 || w[0] != '-' || w == "--") break;
    out.insert(w);
  }
}

std::set<std::string> help_options(const std::string& help) {
  std::set<std::string> out;
  std::istringstream lines(help);
  for (std::string line; std::getline(lines, line);)
    if (!line.empty() && line[0] == ' ') add_options_of(line, out);
  return out;
}

// The options of a page's .TP items (the line after .TP is the item's tag).
std::set<std::string> page_options(const std::string& page) {
  std::set<std::string> out;
  std::istringstream lines(page);
  bool tag = false;
  for (std::string line; std::getline(lines, line);) {
    if (tag) add_options_of(unroff(line), out);
    tag = line == ".TP";
  }
  return out;
}

std::string joined(const std::set<std::string>& s) {
  std::string out;
  for (const auto& x : s) out += x + " ";
  return out;
}

TEST(ManPages, kvmscope_1_names_every_command) {
  const std::string page = slurp(kManDir + "/kvmscope.1");
  ASSERT_FALSE(page.empty());
  const auto commands = listed_commands();
  ASSERT_GE(commands.size(), 7u);
  for (const auto& c : commands) {
    EXPECT_NE(page.find(".TP\n.B " + c.name + "\n"), std::string::npos)
        << "kvmscope.1 has no COMMANDS item for '" << c.name << "'";
    EXPECT_NE(page.find("\\fBkvmscope\\-" + c.name + "\\fR(1)"), std::string::npos)
        << "kvmscope.1 does not refer to kvmscope-" << c.name << "(1)";
  }
}

TEST(ManPages, each_command_has_a_page_with_its_summary_and_sections) {
  for (const auto& c : listed_commands()) {
    SCOPED_TRACE(c.name);
    const std::string page = slurp(kManDir + "/kvmscope-" + c.name + ".1");
    ASSERT_FALSE(page.empty()) << "no docs/man/kvmscope-" << c.name << ".1";
    EXPECT_NE(unroff(page).find(".SH NAME\nkvmscope-" + c.name + " - " + c.summary + "\n"),
              std::string::npos)
        << "its NAME line is not 'kvmscope-" << c.name << " - " << c.summary << "'";
    for (const char* section : {".SH SYNOPSIS\n", ".SH DESCRIPTION\n", ".SH OPTIONS\n",
                                ".SH EXIT STATUS\n", ".SH SEE ALSO\n"})
      EXPECT_NE(page.find(section), std::string::npos) << "no " << section;
  }
}

TEST(ManPages, describe_exactly_the_options_of_help) {
  for (const auto& c : listed_commands()) {
    SCOPED_TRACE(c.name);
    auto r = run_command({KS_BIN, c.name, "--help"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const auto in_help = help_options(r.out);
    // The same long options the CLI's "did you mean" reads from the help text.
    std::set<std::string> longs;
    for (const auto& o : in_help)
      if (o.rfind("--", 0) == 0) longs.insert(o);
    const auto cli = kvmscope::util::long_options_in(r.out);
    EXPECT_EQ(longs, std::set<std::string>(cli.begin(), cli.end()));

    const auto in_page = page_options(slurp(kManDir + "/kvmscope-" + c.name + ".1"));
    std::set<std::string> missing, extra;
    for (const auto& o : in_help)
      if (!in_page.count(o)) missing.insert(o);
    for (const auto& o : in_page)
      if (!in_help.count(o)) extra.insert(o);
    EXPECT_TRUE(missing.empty()) << "kvmscope-" << c.name
                                 << ".1 does not describe (a .TP item): " << joined(missing);
    EXPECT_TRUE(extra.empty()) << "kvmscope-" << c.name
                               << ".1 describes options --help does not have: " << joined(extra);
  }
}

TEST(ManPages, no_page_for_a_command_that_is_gone) {
  std::set<std::string> names;
  for (const auto& c : listed_commands()) names.insert("kvmscope-" + c.name + ".1");
  names.insert("kvmscope.1");
  for (const auto& e : std::filesystem::directory_iterator(kManDir)) {
    const auto name = e.path().filename().string();
    if (e.path().extension() == ".1") {
      EXPECT_TRUE(names.count(name)) << name << ": no such command";
    }
  }
}

// What lintian and man check: groff renders each page without a warning.
TEST(ManPages, render_without_groff_warnings) {
  if (std::system("command -v groff >/dev/null 2>&1") != 0) GTEST_SKIP() << "groff missing";
  for (const auto& e : std::filesystem::directory_iterator(kManDir)) {
    if (e.path().extension() != ".1") continue;
    auto r = run_command({"groff", "-t", "-man", "-ww", "-z", "-Tutf8", e.path().string()});
    EXPECT_EQ(r.exit_code, 0) << e.path();
    EXPECT_EQ(r.err, "") << e.path();
  }
}

}  // namespace
