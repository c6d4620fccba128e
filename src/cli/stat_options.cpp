#include "cli/stat_options.h"

#include <string_view>

#include "cli/numbers.h"
#include "cli/option_cursor.h"
#include "cli/traced_run.h"

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
                    when it ends; kvmscope exits with COMMAND's exit status (128+N when
                    signal N killed it, which kvmscope says: "killed by SIGKILL")
  -p, --pid PIDS    attach to running VMM processes (comma-separated); ends when they all exit.
                    Each must have a KVM VM open (an "anon_inode:kvm-vm" fd); one that has none
                    is an error, unless --wait-vm: then kvmscope notes it and waits
  -a, --all         every VM on this host

options:
  -d, --duration T  stop after T (seconds, or with a unit: 500ms, 10s, 2m)
  --wait-vm         with -p: a process without a KVM VM open yet is waited for, not refused
  --every N         each time the cumulative number of exits crosses a multiple of N, print
                    the cumulative count per reason, like the classic kernel patch:
                      kvm exit 30 (IO_INSTRUCTION): 1419909      (VMX, decimal)
                      kvm exit 0x7b (io): 1000                   (SVM, hex)
                    every exit is streamed to user space, so no multiple is ever skipped
  --every-level L   what --every counts: hardware (default) or vmm
  --per-vm          one table per VM
  --per-vcpu        one table per VM and vCPU
  --by KINDS        also what the exits were about, per VM: port, mmio, msr, cpuid, hypercall
                    (comma-separated, or 'all'), and function (not part of 'all')
  --by function     which guest code exited: per VM and reason, the guest functions (or,
                    without --guest-symbols, the guest RIPs) of the hardware exits, counted
                    in the kernel per RIP (at most --max-entries RIPs; exits beyond are
                    counted in an [other RIPs] row), named when printed. Takes the classic
                    kvm:kvm_exit, which carries the RIP (VMX reads it lazily)
  --guest-symbols FILE, --guest-kernel FILE, --guest-kaslr-offset OFF
                    name the guest functions and find the guest's KASLR offset, as `kvmscope
                    report` does (see its --help); each implies --by function, and each may
                    be given per VM as VM=FILE, VM=OFF (VM: its pid, name or process name)
  --json            one JSON document instead of the table (docs/json-schema.md)
  -o, --output FILE write the table / JSON / --every blocks to FILE; without -o they go to
                    standard error with -- COMMAND (COMMAND keeps standard output, as with
                    perf stat) and to standard output with -p and -a
  --share-tracepoints
                    let perf (perf kvm stat, perf record -e kvm:*) see the kvm tracepoints
                    while kvmscope runs; by default kvmscope's programs on classic
                    tracepoints keep those events from perf consumers, which is cheaper (on
                    BTF raw tracepoints, see -v, they take nothing from perf)
  --max-entries N   (VM, vCPU, reason) counters kept in the kernel, one per vCPU thread
                    (default 4096, 2,480 bytes each); exits beyond are counted and reported,
                    never silently dropped
  --counts-only     count exits, time nothing: one BPF program per hardware exit (kvm_exit),
                    none on kvm_entry or (where kvm_exit fires) on KVM_RUN, no clock reads;
                    the cheapest way to run always-on. The handling-time columns are left empty
  -v, --verbose     say on standard error how exits are hooked: BTF raw tracepoints
                    (tp_btf/kvm_exit, tp_btf/kvm_entry, where kvm_amd or kvm_intel has BTF) or
                    the classic kvm:kvm_exit/kvm:kvm_entry (and why), and the same for exits
                    to the VMM and drill-down events (tp_btf where the kernel's BTF has the
                    tracepoint as kvmscope reads it);
                    KVMSCOPE_TRACEPOINTS=classic (or btf) in the environment forces one
  -h, --help        this text

Ctrl-C prints what was gathered so far; the command gets the signal too (a `kill` sent to
kvmscope alone is passed on) and is waited for, SIGKILL 5 s later if it has not ended.
p50/p99 come from a log-linear histogram kept in the kernel (8 slots per power of two): each
is the middle of its slot, within 6.25 % of the true value.

examples:
  sudo kvmscope stat -- kvmscope guest --cpuid 700 --io 5000 --hlt 300
  sudo kvmscope stat --per-vcpu -- qemu-system-x86_64 -enable-kvm -m 1G -smp 2 disk.img
  sudo kvmscope stat -p 4242 --every 10000
  sudo kvmscope stat -a --duration 10 --json -o exits.json
  sudo kvmscope stat --json -o exits.json -- qemu-system-x86_64 -enable-kvm ...
  sudo kvmscope stat --by port,msr -- kvmscope guest --io 1000 --msr-read 100
  sudo kvmscope stat -p 4242 -d 30 --guest-symbols kallsyms.txt
)";

util::Result<std::vector<model::DrillKind>> parse_drill_kinds(const OptionCursor& cursor,
                                                              std::string_view text) {
  std::vector<model::DrillKind> kinds;
  if (text == "all")
    return std::vector<model::DrillKind>(std::begin(model::kDrillKinds),
                                         std::end(model::kDrillKinds));
  while (true) {
    std::size_t comma = text.find(',');
    std::string_view item = text.substr(0, comma);
    auto kind = model::drill_kind_from_name(item);
    if (!kind)
      return cursor.usage("--by: '" + std::string(item) +
                          "' is not one of port, mmio, msr, cpuid, hypercall, all");
    kinds.push_back(*kind);
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
  }
  return kinds;
}

util::Result<StatOptions> parse_stat_options(Args args) {
  StatOptions o;
  bool per_vm = false, per_vcpu = false;
  OptionCursor cursor(args, "stat", kStatHelp);
  while (cursor.next()) {
    const std::string_view name = cursor.name();
    auto target_option = parse_target_option(cursor, o.target);
    if (!target_option) return target_option.error();
    if (*target_option == TargetOption::consumed) continue;
    auto guest_option = parse_guest_code_option(cursor, o.guest);
    if (!guest_option) return guest_option.error();
    if (*guest_option) continue;

    if (name == "-h" || name == "--help") {
      o.help = true;
    } else if (name == "--every") {
      auto v = cursor.value();
      if (!v) return v.error();
      auto n = parse_u64(*v);
      if (!n || *n == 0)
        return cursor.usage("--every: '" + *v + "' is not a positive number of exits");
      o.every = *n;
    } else if (name == "--every-level") {
      auto v = cursor.value();
      if (!v) return v.error();
      if (*v == "hardware" || *v == "hw")
        o.every_level = model::Level::hardware;
      else if (*v == "vmm")
        o.every_level = model::Level::vmm;
      else
        return cursor.usage("--every-level: expected 'hardware' or 'vmm', got '" + *v + "'");
    } else if (name == "--wait-vm") {
      o.target.wait_vm = true;
    } else if (name == "--per-vm") {
      per_vm = true;
    } else if (name == "--per-vcpu") {
      per_vcpu = true;
    } else if (name == "--by") {
      auto v = cursor.value();
      if (!v) return v.error();
      // "function" is no drill-down kind: taken out here.
      const std::string rest = take_function_kind(*v, o.guest);
      if (rest.empty() && o.guest.functions) continue;
      auto kinds = parse_drill_kinds(cursor, rest);
      if (!kinds) return kinds.error();
      o.by.insert(o.by.end(), kinds->begin(), kinds->end());
    } else if (name == "--json") {
      o.json = true;
    } else if (name == "-o" || name == "--output") {
      auto v = cursor.path_value();
      if (!v) return v.error();
      o.output = *v;
    } else if (name == "--counts-only") {
      o.counts_only = true;
    } else if (name == "-v" || name == "--verbose") {
      o.verbose = true;
    } else if (name == "--max-entries") {
      auto n = parse_max_entries(cursor);
      if (!n) return n.error();
      o.max_entries = *n;
    } else {
      return cursor.unknown();
    }
  }
  if (o.help) return o;
  if (auto r = finish_target(cursor, o.target); !r) return r.error();
  if (o.json && o.every)
    return cursor.usage("--every prints text blocks; it cannot be combined with --json");
  o.breakdown = per_vcpu ? model::Breakdown::per_vcpu
                : per_vm ? model::Breakdown::per_vm
                         : model::Breakdown::none;
  return o;
}

}  // namespace kvmscope::cli
