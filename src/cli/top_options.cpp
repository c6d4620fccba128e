#include "cli/top_options.h"

#include "cli/numbers.h"
#include "cli/option_cursor.h"
#include "cli/traced_run.h"
#include "tui/top_controller.h"
#include "tui/top_filter.h"

namespace kvmscope::cli {

const char* const kTopHelp =
    R"help(usage: kvmscope top [options]            every VM on this host (-a, the default)
       kvmscope top [options] -p PID[,PID...]

A live view of VM exits, like top: the VMs by exit rate, then (Enter) one VM's vCPUs and exit
reasons, then (Enter) one vCPU's reasons. Counts in the kernel (eBPF); hardware exits
(kvm:kvm_exit) and exits to the VMM (kvm:kvm_userspace_exit) are always shown apart.

what to watch:
  -a, --all           every VM on this host (default)
  -p, --pid PIDS      these VMM processes (comma-separated)

options:
  -i, --interval T    refresh every T (seconds, or 500ms, 2s; default 1 s; 0.1 s to 1 h)
  -n, --iterations N  exit after N refreshes
  -d, --duration T    exit after T
  -b, --batch         print plain text frames instead of the screen (for scripts and logs,
                      like top -b): the VM table, then per VM its vCPUs and reasons
  -s, --sort KEY      rate (default), count or time
  -f, --filter REGEX  show only VMs whose name, process name or PID matches (case-insensitive)
  --share-tracepoints let perf consumers see the kvm tracepoints while kvmscope runs
  --max-entries N     distinct (VM, vCPU, reason) counters kept in the kernel (default 4096),
                      and guest RIPs with --by function
  --counts-only       count exits, time nothing (one BPF program per hardware exit, no clock
                      reads: the cheapest); avg, p99 and the time columns show "-", a line
                      above the list says why, and --sort time is refused
  --by function       also which guest code exits: in each VM's view (and batch frame) the top
                      5 guest functions per reason (without --guest-symbols: guest RIPs),
                      counted per RIP in the kernel and named at each refresh; takes the
                      classic kvm:kvm_exit, which carries the RIP
  --guest-symbols FILE, --guest-kernel FILE, --guest-kaslr-offset OFF
                      name the guest functions, as `kvmscope report` does (see its --help);
                      each implies --by function, and each may be given per VM as VM=FILE,
                      VM=OFF (VM: its pid, name or process name)
  -h, --help          this text

keys:
  Enter, Right        open the selected VM, then the selected vCPU
  Esc, Backspace      back one level
  Up, Down, PgUp, PgDn, Home, End, j, k   select
  r / c / t           sort by rate, count or handling time
  /                   filter VMs by a regular expression (empty: all)
  p, space            pause (the numbers stay; keys still work)
  + / -, d            refresh less / more often; type the interval
  z                   reset: counts, avg and p99 start again from now (kernel counters untouched)
  ?                   help         q   quit

columns:
  exits/s, hw/s, vmm/s, rate/s   over the last interval (hw: hardware exits, vmm: exits to the VMM)
  count, %, avg, p99             since kvmscope started, or since the last reset (z)
  hw time, vmm time, time        share of the time of the VM's vCPUs spent handling exits over
                                 the interval: sum of the handling times / (interval x vCPUs);
                                 hw: exit to the next VM entry (includes the VMM's part),
                                 vmm: exit to the VMM's next KVM_RUN. A handling time
                                 counts in the interval where it ends, so on a busy host
                                 (vCPU threads waiting for a CPU) a share can pass 100%
A VM is named by QEMU's -name (libvirt's domain name), else by its process name; a VM whose
process has ended is marked "(ended)" and leaves the list after 3 intervals without exits; a
line above the list then names it with its exits since the start (or the reset). p99 is the
middle of its log-linear histogram slot, within 6.25 % of the true value. On a narrow terminal
whole columns are left out, the least important first (vcpus, time shares, rates per level).

examples:
  sudo kvmscope top
  sudo kvmscope top -p "$(pgrep -d, qemu)" --sort time
  sudo kvmscope top --batch --iterations 5 --interval 2 > exits.log
  sudo kvmscope top -p 4242 --guest-symbols kallsyms.txt
  sudo kvmscope top -b -d 1m -f '^web' | grep -A3 '^VM '
)help";

namespace {

util::Result<tui::TopSort> parse_sort(const OptionCursor& cursor, const std::string& text) {
  if (text == "rate") return tui::TopSort::rate;
  if (text == "count") return tui::TopSort::count;
  if (text == "time") return tui::TopSort::time;
  return cursor.usage(std::string(cursor.name()) + ": expected rate, count or time, got '" + text +
                      "'");
}

}  // namespace

util::Result<TopOptions> parse_top_options(Args args) {
  TopOptions o;
  OptionCursor cursor(args, "top", kTopHelp);
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
    } else if (name == "-b" || name == "--batch") {
      o.batch = true;
    } else if (name == "-n" || name == "--iterations") {
      auto v = cursor.value();
      if (!v) return v.error();
      auto n = parse_u64(*v);
      if (!n || *n == 0)
        return cursor.usage(std::string(name) + ": '" + *v + "' is not a positive number");
      o.iterations = *n;
    } else if (name == "-i" || name == "--interval") {
      auto v = cursor.value();
      if (!v) return v.error();
      auto s = parse_seconds(*v);
      if (!s || *s < tui::kMinInterval || *s > tui::kMaxInterval)
        return cursor.usage(std::string(name) + ": '" + *v +
                            "' is not an interval between 0.1 s and 1 h");
      o.interval_s = *s;
    } else if (name == "-s" || name == "--sort") {
      auto v = cursor.value();
      if (!v) return v.error();
      auto sort = parse_sort(cursor, *v);
      if (!sort) return sort.error();
      o.sort = *sort;
    } else if (name == "-f" || name == "--filter") {
      auto v = cursor.value();
      if (!v) return v.error();
      if (auto f = tui::TopFilter::compile(*v); !f)
        return cursor.usage(std::string(name) + ": " + f.error().message());
      o.filter = *v;
    } else if (name == "--by") {
      auto v = cursor.value();
      if (!v) return v.error();
      const std::string rest = take_function_kind(*v, o.guest);
      if (!rest.empty())
        return cursor.usage("--by: top shows 'function' only, not '" + rest +
                            "' (the drill-downs are stat's and report's)");
    } else if (name == "--max-entries") {
      auto n = parse_max_entries(cursor);
      if (!n) return n.error();
      o.max_entries = *n;
    } else if (name == "--counts-only") {
      o.counts_only = true;
    } else {
      return cursor.unknown();
    }
  }
  if (o.help) return o;
  if (cursor.saw_double_dash())
    return cursor.usage(
        "top watches running VMs (-a or -p PID); to start and trace a command, use "
        "'kvmscope stat -- COMMAND'");
  if (o.target.all && !o.target.pids.empty()) return cursor.usage("choose one of -p PID and -a");
  if (o.counts_only && o.sort == tui::TopSort::time)
    return cursor.usage("--sort time: --counts-only measures no handling times");
  if (o.target.pids.empty()) o.target.all = true;
  return o;
}

}  // namespace kvmscope::cli
