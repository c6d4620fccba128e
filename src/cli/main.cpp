// kvmscope: what the VMs on a KVM host cost it, exit by exit.
// main() only dispatches; each subcommand lives in its own cmd_*.cpp.
#include <cstdio>
#include <cstring>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "cli/commands.h"
#include "util/usage.h"

namespace {

// `kvmscope version`, `--version`, `-V`: the version of CMake's project().
int cmd_version(kvmscope::cli::Args args) {
  if (args.size() == 1 &&
      (std::string_view(args[0]) == "--help" || std::string_view(args[0]) == "-h")) {
    std::printf(
        "usage: kvmscope version\n\nPrints kvmscope's version (as do kvmscope --version and "
        "-V).\n\n  -h, --help   this text\n");
    return 0;
  }
  if (!args.empty()) {
    std::fprintf(stderr, "kvmscope version: %s\n",
                 kvmscope::util::usage_error("version", "takes no arguments").message().c_str());
    return 2;
  }
  std::printf("kvmscope %s\n", KVMSCOPE_VERSION);
  return 0;
}

struct Command {
  std::string_view name;
  int (*run)(kvmscope::cli::Args);
  std::string_view summary;
};

constexpr Command kCommands[] = {
    {"stat", kvmscope::cli::cmd_stat, "count VM exits of a command, processes or the host"},
    {"top", kvmscope::cli::cmd_top, "live view of VM exits per VM, vCPU and reason"},
    {"record", kvmscope::cli::cmd_record, "record every event of a command, processes or the host"},
    {"report", kvmscope::cli::cmd_report,
     "tables, timeline, boot analysis and plots of a recording"},
    {"diff", kvmscope::cli::cmd_diff, "compare two runs: what changed, and a gate for CI"},
    {"serve", kvmscope::cli::cmd_serve, "serve the host's VM exits as Prometheus metrics"},
    {"guest", kvmscope::cli::cmd_guest, "run a built-in tiny VM that makes exact numbers of exits"},
    {"version", cmd_version, "print kvmscope's version"},
};

void print_usage(std::FILE* out) {
  std::fprintf(out, "usage: kvmscope <command> [options]\n\ncommands:\n");
  for (const auto& c : kCommands)
    std::fprintf(out, "  %-8.*s %.*s\n", static_cast<int>(c.name.size()), c.name.data(),
                 static_cast<int>(c.summary.size()), c.summary.data());
  std::fprintf(out,
               "\nexamples:\n"
               "  sudo kvmscope stat -- kvmscope guest --cpuid 700 --io 5000 --hlt 300\n"
               "  sudo kvmscope stat -p 4242 --every 10000\n"
               "  sudo kvmscope stat -a --duration 10 --json\n"
               "  sudo kvmscope record -o boot.kvms -- qemu-system-x86_64 -enable-kvm ...\n"
               "  kvmscope report boot.kvms --html boot.html\n"
               "  kvmscope diff before.kvms after.kvms --fail-if 'total:+5%%'\n"
               "  sudo kvmscope top\n"
               "  sudo kvmscope serve --listen 127.0.0.1:9580\n"
               "\n'kvmscope <command> --help' describes each command.\n");
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    print_usage(stderr);
    return 2;
  }
  std::string_view name = argv[1];
  if (name == "-h" || name == "--help" || name == "help") {
    print_usage(stdout);
    return 0;
  }
  if (name == "--version" || name == "-V") name = "version";
  for (const auto& c : kCommands)
    if (c.name == name) return c.run(std::span<char* const>(argv + 2, argv + argc));
  std::vector<std::string> names;
  for (const auto& c : kCommands) names.emplace_back(c.name);
  std::string what = "unknown command '" + std::string(name) + "'";
  if (auto guess = kvmscope::util::closest_match(name, names))
    what += "; did you mean '" + *guess + "'?";
  std::fprintf(stderr, "kvmscope: %s\n",
               kvmscope::util::usage_error("", std::move(what)).message().c_str());
  return 2;
}
