#include "cli/stat_options.h"

#include <string_view>

#include "cli/numbers.h"

namespace kvmscope::cli {

const char* const kStatHelp =
    R"(usage: kvmscope stat [options] -- COMMAND [ARGS...]
       kvmscope stat [options] -p PID[,PID...]
       kvmscope stat [options] -a

Counts every VM exit of the traced VMs in the kernel (eBPF) and prints a table per exit reason:
count, share, rate and how long KVM took to handle it. Hardware exits (kvm:kvm_exit) and
exits to the VMM (kvm:kvm_userspace_exit) are always shown apart.

what to trace (exactly one):
  -- COMMAND ARGS   run COMMAND (no shell), trace it and everything it forks, print the table
                    when it ends; kvmscope exits with COMMAND's exit status
  -p, --pid PIDS    attach to running VMM processes (comma-separated); ends when they all exit
  -a, --all         every VM on this host

options:
  -d, --duration T  stop after T (seconds, or with a unit: 500ms, 10s, 2m)
  --every N         each time the cumulative number of exits crosses a multiple of N, print
                    the cumulative count per reason, like the classic kernel patch:
                      kvm exit 30 (IO_INSTRUCTION): 1419909      (VMX, decimal)
                      kvm exit 0x7b (io): 1000                   (SVM, hex)
                    every exit is streamed to user space, so no multiple is ever skipped
  --every-level L   what --every counts: hardware (default) or vmm
  --per-vm          one table per VM
  --per-vcpu        one table per VM and vCPU
  --json            one JSON document instead of the table (docs/json-schema.md)
  -o, --output FILE write the table / JSON to FILE instead of standard output
  --max-entries N   distinct (VM, vCPU, reason) counters kept in the kernel (default 16384);
                    exits beyond are counted and reported, never silently dropped
  -h, --help        this text

Ctrl-C prints what was gathered so far. p50/p99 come from a log2 histogram: each is the upper
bound of its bucket, at most twice the true value.

examples:
  sudo kvmscope stat -- kvmscope guest --cpuid 700 --io 5000 --hlt 300
  sudo kvmscope stat --per-vcpu -- qemu-system-x86_64 -enable-kvm -m 1G -smp 2 disk.img
  sudo kvmscope stat -p 4242 --every 10000
  sudo kvmscope stat -a --duration 10 --json -o exits.json
)";

namespace {

util::Error usage(const std::string& what) {
  return util::plain_error(what, "see 'kvmscope stat --help'");
}

util::Result<std::vector<pid_t>> parse_pids(std::string_view text) {
  std::vector<pid_t> pids;
  while (!text.empty()) {
    std::size_t comma = text.find(',');
    std::string_view item = text.substr(0, comma);
    auto n = parse_u64(item);
    if (!n || *n == 0 || *n > 4194304)
      return usage("-p: '" + std::string(item) + "' is not a process id");
    pids.push_back(static_cast<pid_t>(*n));
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
  }
  if (pids.empty()) return usage("-p: expected PID[,PID...]");
  return pids;
}

}  // namespace

util::Result<StatOptions> parse_stat_options(Args args) {
  StatOptions o;
  bool per_vm = false, per_vcpu = false;
  for (std::size_t i = 0; i < args.size(); ++i) {
    std::string_view arg = args[i];
    if (arg == "--") {
      for (++i; i < args.size(); ++i) o.command.emplace_back(args[i]);
      if (o.command.empty()) return usage("nothing after '--': which command should run?");
      break;
    }
    // Options that take a value accept "--opt value" and "--opt=value".
    std::string_view name = arg, inline_value;
    bool has_inline = false;
    if (arg.starts_with("--")) {
      if (auto eq = arg.find('='); eq != std::string_view::npos) {
        name = arg.substr(0, eq);
        inline_value = arg.substr(eq + 1);
        has_inline = true;
      }
    }
    auto value = [&]() -> util::Result<std::string> {
      if (has_inline) return std::string(inline_value);
      if (i + 1 >= args.size()) return usage(std::string(name) + " needs a value");
      return std::string(args[++i]);
    };

    if (name == "-h" || name == "--help") {
      o.help = true;
    } else if (name == "-a" || name == "--all") {
      o.all = true;
    } else if (name == "-p" || name == "--pid") {
      auto v = value();
      if (!v) return v.error();
      auto pids = parse_pids(*v);
      if (!pids) return pids.error();
      o.pids.insert(o.pids.end(), pids->begin(), pids->end());
    } else if (name == "-d" || name == "--duration") {
      auto v = value();
      if (!v) return v.error();
      auto s = parse_seconds(*v);
      if (!s || *s <= 0) return usage(std::string(name) + ": '" + *v + "' is not a duration");
      o.duration_s = *s;
    } else if (name == "--every") {
      auto v = value();
      if (!v) return v.error();
      auto n = parse_u64(*v);
      if (!n || *n == 0) return usage("--every: '" + *v + "' is not a positive number of exits");
      o.every = *n;
    } else if (name == "--every-level") {
      auto v = value();
      if (!v) return v.error();
      if (*v == "hardware" || *v == "hw")
        o.every_level = model::Level::hardware;
      else if (*v == "vmm")
        o.every_level = model::Level::vmm;
      else
        return usage("--every-level: expected 'hardware' or 'vmm', got '" + *v + "'");
    } else if (name == "--per-vm") {
      per_vm = true;
    } else if (name == "--per-vcpu") {
      per_vcpu = true;
    } else if (name == "--json") {
      o.json = true;
    } else if (name == "-o" || name == "--output") {
      auto v = value();
      if (!v) return v.error();
      if (v->empty()) return usage("-o: empty file name");
      o.output = *v;
    } else if (name == "--max-entries") {
      auto v = value();
      if (!v) return v.error();
      auto n = parse_u64(*v);
      if (!n || *n == 0 || *n > (1u << 24))
        return usage("--max-entries: expected 1..16777216, got '" + *v + "'");
      o.max_entries = static_cast<std::uint32_t>(*n);
    } else {
      return usage("unknown option '" + std::string(arg) + "'");
    }
  }
  if (o.help) return o;

  int modes = !o.command.empty() + !o.pids.empty() + o.all;
  if (modes == 0) return usage("say what to trace: -- COMMAND, -p PID or -a");
  if (modes > 1) return usage("choose one of -- COMMAND, -p PID and -a");
  if (o.json && o.every)
    return usage("--every prints text blocks; it cannot be combined with --json");
  o.breakdown = per_vcpu ? model::Breakdown::per_vcpu
                : per_vm ? model::Breakdown::per_vm
                         : model::Breakdown::none;
  return o;
}

}  // namespace kvmscope::cli
