// Renderers against golden text: the table for each breakdown, the notes for what was not seen,
// health warnings, the JSON document (golden, parseable, escaped) and the every-N block.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <initializer_list>
#include <map>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include <unistd.h>

#include "report/format.h"
#include "report/json_literals.h"
#include "report/render.h"

namespace kvmscope::report {
namespace {

using model::ExitStats;
using model::Isa;
using model::Level;
using model::Reason;
using model::Snapshot;

// `count` exits, of which those listed as (handling time, how many) were timed.
ExitStats stats(std::uint64_t count,
                std::initializer_list<std::pair<std::uint64_t, std::uint64_t>> times = {}) {
  ExitStats s;
  s.count = count;
  for (auto [ns, n] : times) {
    s.timed += n;
    s.time_ns += ns * n;
    if (ns > s.max_ns) s.max_ns = ns;
    s.hist.slots[model::Histogram::slot_of(ns)] += n;
  }
  return s;
}

constexpr Reason vmx(std::uint32_t code) {
  return {Level::hardware, Isa::vmx, code};
}
constexpr Reason svm(std::uint32_t code) {
  return {Level::hardware, Isa::svm, code};
}
constexpr Reason vmm(std::uint32_t code) {
  return {Level::vmm, Isa::none, code};
}

// An Intel host running `kvmscope guest`: CPUID, OUT, HLT, and the OUTs reaching the VMM.
Snapshot vmx_set() {
  Snapshot s;
  s.started_ns = 1'000'000'000;
  s.taken_ns = 4'210'000'000;
  s.vms[4242] = {"guest", "kvmscope"};
  s.exits[{4242, 0, vmx(10)}] = stats(10000, {{900, 9000}, {3000, 1000}});
  s.exits[{4242, 0, vmx(30)}] = stats(2000, {{5000, 2000}});
  s.exits[{4242, 0, vmx(12)}] = stats(2, {{1'500'000, 2}});
  s.exits[{4242, 0, vmm(2)}] = stats(2000, {{20000, 1990}, {800000, 10}});
  return s;
}

// The nested SVM bed's `kvmtest 1000 10`.
Snapshot svm_set() {
  Snapshot s;
  s.taken_ns = 1'500'000'000;
  s.vms[777] = {"l2", "qemu-system-x86"};
  s.exits[{777, 0, svm(0x72)}] = stats(10000, {{1200, 10000}});
  s.exits[{777, 0, svm(0x7b)}] = stats(1000, {{4000, 1000}});
  s.exits[{777, 0, svm(0x78)}] = stats(1000, {{250000, 1000}});
  s.exits[{777, 0, svm(0x60)}] = stats(47, {{700, 47}});
  s.exits[{777, 0, svm(0x400)}] = stats(1, {{3000, 1}});
  s.exits[{777, 0, vmm(2)}] = stats(1000, {{15000, 1000}});
  return s;
}

// A kvm_pvm host: kvm_exit never fires, only exits to the VMM; the MMIO ones were not timed.
Snapshot vmm_only_set() {
  Snapshot s;
  s.taken_ns = 250'000'000;
  s.vms[5151] = {"kvmscope", "kvmscope"};
  s.exits[{5151, 0, vmm(2)}] = stats(5000, {{30000, 5000}});
  s.exits[{5151, 0, vmm(6)}] = stats(300);
  return s;
}

// Two VMs, two vCPUs on the first, and a VMM exit whose vCPU is not known.
Snapshot two_vms_set() {
  Snapshot s;
  s.taken_ns = 2'000'000'000;
  s.vms[100] = {"web1", "qemu-system-x86"};
  s.vms[200] = {"db1", "qemu-system-x86"};
  s.exits[{100, 0, vmx(10)}] = stats(500, {{1000, 500}});
  s.exits[{100, 1, vmx(10)}] = stats(300, {{1000, 300}});
  s.exits[{100, 1, vmx(30)}] = stats(100, {{4000, 100}});
  s.exits[{200, 0, vmx(48)}] = stats(50, {{2000, 50}});
  s.exits[{100, 0, vmm(2)}] = stats(100, {{10000, 100}});
  s.exits[{200, model::kUnknownVcpu, vmm(2)}] = stats(40, {{10000, 40}});
  return s;
}

// Golden texts are raw literals that start on the line after R"(, for readability.
std::string golden(const char* text) {
  return std::string(text).substr(1);
}

std::string table(const Snapshot& snapshot, model::Breakdown breakdown = model::Breakdown::none,
                  std::string target = "command: kvmscope guest --io 5000") {
  ReportOptions options;
  options.breakdown = breakdown;
  options.target = std::move(target);
  std::ostringstream out;
  render_table(snapshot, model::ReasonCatalog::builtin(), options, out);
  return out.str();
}

std::string json(const Snapshot& snapshot, std::string target = "all VMs") {
  ReportOptions options;
  options.target = std::move(target);
  std::ostringstream out;
  render_json(snapshot, model::ReasonCatalog::builtin(), options, out);
  return out.str();
}

// Exit status of Python's json.load on the text; -1 when python3 cannot be run at all.
int python_json_load(const std::string& text) {
  char path[] = "/tmp/render_test_XXXXXX";
  const int fd = mkstemp(path);
  if (fd < 0) return -1;
  const bool written = write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  close(fd);
  int status = -1;
  if (written) {
    const std::string command =
        "python3 -c 'import json,sys; json.load(open(sys.argv[1], encoding=\"utf-8\"))' " +
        std::string(path) + " 2>&1";
    if (FILE* p = popen(command.c_str(), "r")) {
      char sink[256];
      while (fgets(sink, sizeof sink, p)) std::fputs(sink, stderr);
      status = pclose(p);
    }
  }
  unlink(path);
  return status;
}

bool have_python3() {
  return std::system("command -v python3 >/dev/null 2>&1") == 0;
}

TEST(RenderTable, prints_vmx_exits_per_level_with_totals) {
  EXPECT_EQ(table(vmx_set()), golden(R"(
kvmscope stat: command: kvmscope guest --io 5000   3.21 s   hardware exits: 12,002   exits to the VMM: 2,000

Hardware exits (kvm:kvm_exit), names from the built-in table; time: from the exit to the next VM entry
reason          code   count       %  rate/s     time      avg      p50      p99      max
CPUID             10  10,000   83.3%   3,115  11.1 ms  1.11 us   927 ns  2.94 us  3.00 us
IO_INSTRUCTION    30   2,000   16.7%     623  10.0 ms  5.00 us  4.86 us  4.86 us  5.00 us
HLT               12       2   <0.1%    0.62  3.00 ms  1.50 ms  1.50 ms  1.50 ms  1.50 ms
total                 12,002  100.0%   3,739  24.1 ms  2.01 us   927 ns  4.86 us  1.50 ms

Exits to the VMM (kvm:kvm_userspace_exit), names from the built-in table; time: spent in the VMM, from the exit to the next KVM_RUN
reason       code  count       %  rate/s     time      avg      p50      p99     max
KVM_EXIT_IO     2  2,000  100.0%     623  47.8 ms  23.9 us  19.5 us  19.5 us  800 us
total              2,000  100.0%     623  47.8 ms  23.9 us  19.5 us  19.5 us  800 us

p50, p99: middle of the log-linear histogram slot (8 per power of two) holding the percentile, within 6.25 % of the true value.
)"));
}

TEST(RenderTable, prints_svm_codes_in_hex) {
  EXPECT_EQ(table(svm_set()), golden(R"(
kvmscope stat: command: kvmscope guest --io 5000   1.50 s   hardware exits: 12,048   exits to the VMM: 1,000

Hardware exits (kvm:kvm_exit), names from the built-in table; time: from the exit to the next VM entry
reason      code   count       %  rate/s     time      avg      p50      p99      max
cpuid       0x72  10,000   83.0%   6,667  12.0 ms  1.20 us  1.20 us  1.20 us  1.20 us
hlt         0x78   1,000    8.3%     667   250 ms   250 us   250 us   250 us   250 us
io          0x7b   1,000    8.3%     667  4.00 ms  4.00 us  3.97 us  3.97 us  4.00 us
interrupt   0x60      47    0.4%    31.3  32.9 us   700 ns   671 ns   671 ns   700 ns
npf        0x400       1   <0.1%    0.67  3.00 us  3.00 us  2.94 us  2.94 us  3.00 us
total             12,048  100.0%   8,032   266 ms  22.1 us  1.22 us   250 us   250 us

Exits to the VMM (kvm:kvm_userspace_exit), names from the built-in table; time: spent in the VMM, from the exit to the next KVM_RUN
reason       code  count       %  rate/s     time      avg      p50      p99      max
KVM_EXIT_IO     2  1,000  100.0%     667  15.0 ms  15.0 us  14.8 us  14.8 us  15.0 us
total              1,000  100.0%     667  15.0 ms  15.0 us  14.8 us  14.8 us  15.0 us

p50, p99: middle of the log-linear histogram slot (8 per power of two) holding the percentile, within 6.25 % of the true value.
)"));
}

TEST(RenderTable, splits_per_vm_under_the_vm_names) {
  EXPECT_EQ(table(two_vms_set(), model::Breakdown::per_vm, "all VMs"), golden(R"(
kvmscope stat: all VMs   2.00 s   hardware exits: 950   exits to the VMM: 140

Hardware exits (kvm:kvm_exit), names from the built-in table; time: from the exit to the next VM entry
VM 100 (web1)
reason          code  count       %  rate/s     time      avg      p50      p99      max
CPUID             10    800   88.9%     400   800 us  1.00 us   991 ns   991 ns  1.00 us
IO_INSTRUCTION    30    100   11.1%    50.0   400 us  4.00 us  3.97 us  3.97 us  4.00 us
total                   900  100.0%     450  1.20 ms  1.33 us   991 ns  3.97 us  4.00 us

VM 200 (db1)
reason          code  count       %  rate/s     time      avg      p50      p99      max
EPT_VIOLATION     48     50  100.0%    25.0   100 us  2.00 us  1.98 us  1.98 us  2.00 us
total                    50  100.0%    25.0   100 us  2.00 us  1.98 us  1.98 us  2.00 us

Exits to the VMM (kvm:kvm_userspace_exit), names from the built-in table; time: spent in the VMM, from the exit to the next KVM_RUN
VM 100 (web1)
reason       code  count       %  rate/s     time      avg      p50      p99      max
KVM_EXIT_IO     2    100  100.0%    50.0  1.00 ms  10.0 us  9.73 us  9.73 us  10.0 us
total                100  100.0%    50.0  1.00 ms  10.0 us  9.73 us  9.73 us  10.0 us

VM 200 (db1)
reason       code  count       %  rate/s     time      avg      p50      p99      max
KVM_EXIT_IO     2     40  100.0%    20.0   400 us  10.0 us  9.73 us  9.73 us  10.0 us
total                 40  100.0%    20.0   400 us  10.0 us  9.73 us  9.73 us  10.0 us

p50, p99: middle of the log-linear histogram slot (8 per power of two) holding the percentile, within 6.25 % of the true value.
)"));
}

TEST(RenderTable, splits_per_vcpu_and_marks_an_unknown_vcpu) {
  EXPECT_EQ(table(two_vms_set(), model::Breakdown::per_vcpu, "all VMs"), golden(R"(
kvmscope stat: all VMs   2.00 s   hardware exits: 950   exits to the VMM: 140

Hardware exits (kvm:kvm_exit), names from the built-in table; time: from the exit to the next VM entry
VM 100 (web1) vCPU 0
reason          code  count       %  rate/s    time      avg      p50      p99      max
CPUID             10    500  100.0%     250  500 us  1.00 us   991 ns   991 ns  1.00 us
total                   500  100.0%     250  500 us  1.00 us   991 ns   991 ns  1.00 us

VM 100 (web1) vCPU 1
reason          code  count       %  rate/s    time      avg      p50      p99      max
CPUID             10    300   75.0%     150  300 us  1.00 us   991 ns   991 ns  1.00 us
IO_INSTRUCTION    30    100   25.0%    50.0  400 us  4.00 us  3.97 us  3.97 us  4.00 us
total                   400  100.0%     200  700 us  1.75 us   991 ns  3.97 us  4.00 us

VM 200 (db1) vCPU 0
reason          code  count       %  rate/s    time      avg      p50      p99      max
EPT_VIOLATION     48     50  100.0%    25.0  100 us  2.00 us  1.98 us  1.98 us  2.00 us
total                    50  100.0%    25.0  100 us  2.00 us  1.98 us  1.98 us  2.00 us

Exits to the VMM (kvm:kvm_userspace_exit), names from the built-in table; time: spent in the VMM, from the exit to the next KVM_RUN
VM 100 (web1) vCPU 0
reason       code  count       %  rate/s     time      avg      p50      p99      max
KVM_EXIT_IO     2    100  100.0%    50.0  1.00 ms  10.0 us  9.73 us  9.73 us  10.0 us
total                100  100.0%    50.0  1.00 ms  10.0 us  9.73 us  9.73 us  10.0 us

VM 200 (db1) vCPU ?
reason       code  count       %  rate/s     time      avg      p50      p99      max
KVM_EXIT_IO     2     40  100.0%    20.0   400 us  10.0 us  9.73 us  9.73 us  10.0 us
total                 40  100.0%    20.0   400 us  10.0 us  9.73 us  9.73 us  10.0 us

p50, p99: middle of the log-linear histogram slot (8 per power of two) holding the percentile, within 6.25 % of the true value.
)"));
}

TEST(RenderTable, says_no_hardware_exits_when_only_vmm_exits) {
  EXPECT_EQ(table(vmm_only_set()), golden(R"(
kvmscope stat: command: kvmscope guest --io 5000   250 ms   hardware exits: 0   exits to the VMM: 5,300

No hardware exits (kvm:kvm_exit) were seen: KVM on this host did not report any (kvm_exit never fires where guests are emulated in software, e.g. kvm_pvm), so only the exits to the VMM are counted.

Exits to the VMM (kvm:kvm_userspace_exit), names from the built-in table; time: spent in the VMM, from the exit to the next KVM_RUN
reason         code  count       %  rate/s    time      avg      p50      p99      max
KVM_EXIT_IO       2  5,000   94.3%  20,000  150 ms  30.0 us  29.7 us  29.7 us  30.0 us
KVM_EXIT_MMIO     6    300    5.7%   1,200       -        -        -        -        -
total                5,300  100.0%  21,200  150 ms  30.0 us  29.7 us  29.7 us  30.0 us

p50, p99: middle of the log-linear histogram slot (8 per power of two) holding the percentile, within 6.25 % of the true value.
)"));
}

TEST(RenderTable, says_no_vmm_exits_when_only_hardware_exits) {
  Snapshot s = vmx_set();
  s.exits.erase({4242, 0, vmm(2)});
  const std::string text = table(s);
  EXPECT_NE(text.find("\nNo exits to the VMM (kvm:kvm_userspace_exit) were seen.\n"),
            std::string::npos)
      << text;
  EXPECT_EQ(text.find("Exits to the VMM ("), std::string::npos) << text;
}

TEST(RenderTable, says_nothing_seen_when_no_exits) {
  Snapshot s;
  s.taken_ns = 5'000'000'000;
  EXPECT_EQ(table(s, model::Breakdown::none, "pid 4242"), golden(R"(
kvmscope stat: pid 4242   5.00 s   hardware exits: 0   exits to the VMM: 0

No KVM exits were seen for pid 4242.
)"));
}

TEST(RenderTable, prints_a_warning_per_health_problem) {
  Snapshot s = vmm_only_set();
  s.health = {12, 3, 1, 2};
  const std::string text = table(s);
  const std::string warnings = golden(R"(
p50, p99: middle of the log-linear histogram slot (8 per power of two) holding the percentile, within 6.25 % of the true value.

warning: 12 exits could not be stored per VM/vCPU/reason (map full): the counts and totals are short by that much -- raise --max-entries
warning: 3 exit events were lost (ring buffer full): output driven by the event stream (--every) saw that many fewer exits
warning: 1 exit was counted without a handling time (thread map full): the time columns cover only the timed exits
warning: 2 child processes of the target could not be followed (filter map full): their exits are not counted
)");
  ASSERT_GE(text.size(), warnings.size());
  EXPECT_EQ(text.substr(text.size() - warnings.size()), warnings);
}

TEST(RenderTable, warns_even_when_nothing_was_seen) {
  Snapshot s;
  s.health.targets_not_stored = 1;
  EXPECT_EQ(table(s, model::Breakdown::none, "all VMs"), golden(R"(
kvmscope stat: all VMs   0 ns   hardware exits: 0   exits to the VMM: 0

No KVM exits were seen for all VMs.

warning: 1 child process of the target could not be followed (filter map full): their exits are not counted
)"));
}

TEST(RenderTable, names_an_unknown_vm_by_pid_and_hides_control_characters) {
  Snapshot s = vmx_set();
  s.vms.clear();
  s.vms[4242] = {"evil\nname", "x"};
  EXPECT_NE(table(s, model::Breakdown::per_vm).find("\nVM 4242 (evil?name)\n"), std::string::npos);
  s.vms.clear();
  EXPECT_NE(table(s, model::Breakdown::per_vm).find("\nVM 4242\n"), std::string::npos);
}

TEST(RenderTable, no_line_ends_in_a_space) {
  for (const Snapshot& s : {vmx_set(), svm_set(), vmm_only_set(), two_vms_set(), Snapshot{}}) {
    for (auto breakdown :
         {model::Breakdown::none, model::Breakdown::per_vm, model::Breakdown::per_vcpu}) {
      const std::string text = table(s, breakdown);
      EXPECT_EQ(text.find(" \n"), std::string::npos) << text;
      EXPECT_EQ(text.back(), '\n');
    }
  }
}

TEST(RenderJson, matches_golden_for_two_vms) {
  EXPECT_EQ(json(two_vms_set()), golden(R"(
{
  "schema": "kvmscope.stat/1",
  "target": "all VMs",
  "duration_s": 2.0,
  "names": {"vmx": "builtin", "svm": "builtin", "vmm": "builtin"},
  "totals": {"hardware": 950, "vmm": 140},
  "health": {"exits_not_stored": 0, "events_lost": 0, "threads_not_stored": 0, "targets_not_stored": 0},
  "vms": [
    {"pid": 100, "name": "web1", "comm": "qemu-system-x86"},
    {"pid": 200, "name": "db1", "comm": "qemu-system-x86"}
  ],
  "exits": [
    {"vm_pid": 100, "vcpu": 0, "level": "hardware", "isa": "vmx", "code": 10, "code_text": "10", "reason": "CPUID", "count": 500, "timed": 500, "time_ns": 500000, "avg_ns": 1000, "p50_ns": 991, "p99_ns": 991, "max_ns": 1000, "hist_log2_ns": [0, 0, 0, 0, 0, 0, 0, 0, 0, 500, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]},
    {"vm_pid": 100, "vcpu": 1, "level": "hardware", "isa": "vmx", "code": 10, "code_text": "10", "reason": "CPUID", "count": 300, "timed": 300, "time_ns": 300000, "avg_ns": 1000, "p50_ns": 991, "p99_ns": 991, "max_ns": 1000, "hist_log2_ns": [0, 0, 0, 0, 0, 0, 0, 0, 0, 300, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]},
    {"vm_pid": 100, "vcpu": 1, "level": "hardware", "isa": "vmx", "code": 30, "code_text": "30", "reason": "IO_INSTRUCTION", "count": 100, "timed": 100, "time_ns": 400000, "avg_ns": 4000, "p50_ns": 3967, "p99_ns": 3967, "max_ns": 4000, "hist_log2_ns": [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 100, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]},
    {"vm_pid": 200, "vcpu": 0, "level": "hardware", "isa": "vmx", "code": 48, "code_text": "48", "reason": "EPT_VIOLATION", "count": 50, "timed": 50, "time_ns": 100000, "avg_ns": 2000, "p50_ns": 1983, "p99_ns": 1983, "max_ns": 2000, "hist_log2_ns": [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 50, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]},
    {"vm_pid": 100, "vcpu": 0, "level": "vmm", "isa": "none", "code": 2, "code_text": "2", "reason": "KVM_EXIT_IO", "count": 100, "timed": 100, "time_ns": 1000000, "avg_ns": 10000, "p50_ns": 9727, "p99_ns": 9727, "max_ns": 10000, "hist_log2_ns": [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 100, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]},
    {"vm_pid": 200, "vcpu": null, "level": "vmm", "isa": "none", "code": 2, "code_text": "2", "reason": "KVM_EXIT_IO", "count": 40, "timed": 40, "time_ns": 400000, "avg_ns": 10000, "p50_ns": 9727, "p99_ns": 9727, "max_ns": 10000, "hist_log2_ns": [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 40, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]}
  ],
  "notes": []
}
)"));
}

TEST(RenderJson, notes_no_hardware_exits_and_leaves_untimed_exits_at_zero) {
  EXPECT_EQ(json(vmm_only_set(), "command: kvmscope guest --io 5000"), golden(R"(
{
  "schema": "kvmscope.stat/1",
  "target": "command: kvmscope guest --io 5000",
  "duration_s": 0.25,
  "names": {"vmx": "builtin", "svm": "builtin", "vmm": "builtin"},
  "totals": {"hardware": 0, "vmm": 5300},
  "health": {"exits_not_stored": 0, "events_lost": 0, "threads_not_stored": 0, "targets_not_stored": 0},
  "vms": [
    {"pid": 5151, "name": "kvmscope", "comm": "kvmscope"}
  ],
  "exits": [
    {"vm_pid": 5151, "vcpu": 0, "level": "vmm", "isa": "none", "code": 2, "code_text": "2", "reason": "KVM_EXIT_IO", "count": 5000, "timed": 5000, "time_ns": 150000000, "avg_ns": 30000, "p50_ns": 29695, "p99_ns": 29695, "max_ns": 30000, "hist_log2_ns": [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 5000, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]},
    {"vm_pid": 5151, "vcpu": 0, "level": "vmm", "isa": "none", "code": 6, "code_text": "6", "reason": "KVM_EXIT_MMIO", "count": 300, "timed": 0, "time_ns": 0, "avg_ns": 0, "p50_ns": 0, "p99_ns": 0, "max_ns": 0, "hist_log2_ns": [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]}
  ],
  "notes": [
    "No hardware exits (kvm:kvm_exit) were seen: KVM on this host did not report any (kvm_exit never fires where guests are emulated in software, e.g. kvm_pvm), so only the exits to the VMM are counted."
  ]
}
)"));
}

TEST(RenderJson, writes_an_empty_document_with_a_note_when_nothing_was_seen) {
  Snapshot s;
  s.health.events_lost = 7;
  EXPECT_EQ(json(s, "pid 1"), golden(R"(
{
  "schema": "kvmscope.stat/1",
  "target": "pid 1",
  "duration_s": 0.0,
  "names": {"vmx": "builtin", "svm": "builtin", "vmm": "builtin"},
  "totals": {"hardware": 0, "vmm": 0},
  "health": {"exits_not_stored": 0, "events_lost": 7, "threads_not_stored": 0, "targets_not_stored": 0},
  "vms": [],
  "exits": [],
  "notes": [
    "No KVM exits were seen for pid 1.",
    "warning: 7 exit events were lost (ring buffer full): output driven by the event stream (--every) saw that many fewer exits"
  ]
}
)"));
}

TEST(RenderJson, orders_exits_by_level_vm_vcpu_then_count) {
  const std::string text = json(svm_set());
  std::vector<std::string> order;
  for (std::size_t at = text.find("\"reason\": \""); at != std::string::npos;
       at = text.find("\"reason\": \"", at + 1)) {
    const std::size_t begin = at + 11;
    order.push_back(text.substr(begin, text.find('"', begin) - begin));
  }
  // hlt and io tie at 1,000: then code order (0x78 before 0x7b).
  EXPECT_EQ(order,
            (std::vector<std::string>{"cpuid", "hlt", "io", "interrupt", "npf", "KVM_EXIT_IO"}));
}

TEST(RenderJson, keeps_u64_counts_exact) {
  Snapshot s;
  s.exits[{1, 0, vmx(10)}] = stats(18446744073709551615ull);
  EXPECT_NE(json(s).find("\"count\": 18446744073709551615,"), std::string::npos);
}

TEST(RenderJson, escapes_a_vm_name_with_quotes_backslash_and_newline) {
  Snapshot s = vmx_set();
  s.vms[4242] = {"a \"q\" b\\c\nd\te\x01", "k\x7f"};
  EXPECT_NE(json(s).find(R"({"pid": 4242, "name": "a \"q\" b\\c\nd\te\u0001", "comm": "k\u007f"})"),
            std::string::npos)
      << json(s);
}

TEST(RenderJson, is_valid_json_for_every_snapshot) {
  if (!have_python3()) GTEST_SKIP() << "python3 not found: cannot cross-check with json.load";
  Snapshot odd = two_vms_set();
  odd.vms[100] = {"\"\\/\b\f\n\r\t\x1f caf\xc3\xa9 \xff\xfe bad utf-8", "c"};
  odd.health = {1, 2, 3, 4};
  for (const Snapshot& s : {vmx_set(), svm_set(), vmm_only_set(), two_vms_set(), odd, Snapshot{}})
    EXPECT_EQ(python_json_load(json(s, "cmd \"x\"\n")), 0) << json(s);
}

TEST(JsonString, escapes_control_characters_and_keeps_utf8) {
  EXPECT_EQ(json_string(""), R"("")");
  EXPECT_EQ(json_string("\"\\/"), R"("\"\\/")");
  EXPECT_EQ(json_string(std::string("\0\x1f\r", 3)), R"("\u0000\u001f\r")");
  EXPECT_EQ(json_string("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"),
            "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"");
}

TEST(JsonString, replaces_bytes_that_are_not_utf8) {
  EXPECT_EQ(json_string("a\xff"), R"("a\ufffd")");
  EXPECT_EQ(json_string("\xc3"), R"("\ufffd")");                      // truncated
  EXPECT_EQ(json_string("\xc0\xaf"), R"("\ufffd\ufffd")");            // overlong
  EXPECT_EQ(json_string("\xed\xa0\x80"), R"("\ufffd\ufffd\ufffd")");  // surrogate
}

TEST(JsonSeconds, is_exact_decimal) {
  EXPECT_EQ(json_seconds(0), "0.0");
  EXPECT_EQ(json_seconds(1'234'000'000), "1.234");
  EXPECT_EQ(json_seconds(2'000'000'000), "2.0");
  EXPECT_EQ(json_seconds(1), "0.000000001");
  EXPECT_EQ(json_seconds(18446744073709551615ull), "18446744073.709551615");
}

TEST(RenderEveryN, prints_kernel_patch_lines_in_code_order) {
  const std::map<Reason, std::uint64_t> cumulative = {{vmx(30), 1419909}, {vmx(10), 5},
                                                      {vmx(12), 0},       {vmm(2), 5000},
                                                      {svm(0x7b), 1000},  {svm(0x72), 10000}};
  std::ostringstream out;
  render_every_n(1435914, 3.5123, cumulative, model::ReasonCatalog::builtin(), out);
  EXPECT_EQ(out.str(), golden(R"(
--- kvmscope: 1435914 exits at 3.512 s ---
kvm exit 10 (CPUID): 5
kvm exit 30 (IO_INSTRUCTION): 1419909
kvm exit 0x72 (cpuid): 10000
kvm exit 0x7b (io): 1000
kvm userspace exit 2 (KVM_EXIT_IO): 5000
)"));
}

TEST(RenderEveryN, prints_only_the_header_when_no_reason_counted) {
  std::ostringstream out;
  render_every_n(0, 0.0, {}, model::ReasonCatalog::builtin(), out);
  EXPECT_EQ(out.str(), "--- kvmscope: 0 exits at 0.000 s ---\n");
}

TEST(Format, groups_thousands) {
  EXPECT_EQ(format_count(0), "0");
  EXPECT_EQ(format_count(999), "999");
  EXPECT_EQ(format_count(1000), "1,000");
  EXPECT_EQ(format_count(1234567), "1,234,567");
  EXPECT_EQ(format_count(18446744073709551615ull), "18,446,744,073,709,551,615");
}

TEST(Format, durations_have_three_significant_digits) {
  EXPECT_EQ(format_duration_ns(0), "0 ns");
  EXPECT_EQ(format_duration_ns(999), "999 ns");
  EXPECT_EQ(format_duration_ns(1000), "1.00 us");
  EXPECT_EQ(format_duration_ns(12345), "12.3 us");
  EXPECT_EQ(format_duration_ns(9996), "10.0 us");
  EXPECT_EQ(format_duration_ns(999'499), "999 us");
  EXPECT_EQ(format_duration_ns(999'500), "1.00 ms");
  EXPECT_EQ(format_duration_ns(3'210'000'000), "3.21 s");
  EXPECT_EQ(format_duration_ns(4'000'000'000'000), "4000 s");
}

TEST(Format, percent_never_looks_empty_or_complete_when_it_is_not) {
  EXPECT_EQ(format_percent(0, 0), "-");
  EXPECT_EQ(format_percent(0, 10), "0.0%");
  EXPECT_EQ(format_percent(1, 100000), "<0.1%");
  EXPECT_EQ(format_percent(99999, 100000), ">99.9%");
  EXPECT_EQ(format_percent(5, 5), "100.0%");
  EXPECT_EQ(format_percent(1, 3), "33.3%");
}

TEST(Format, rate_has_three_significant_digits) {
  EXPECT_EQ(format_rate(5, 0.0), "-");
  EXPECT_EQ(format_rate(1, 4.0), "0.25");
  EXPECT_EQ(format_rate(425, 10.0), "42.5");
  EXPECT_EQ(format_rate(10000, 3.21), "3,115");
}

TEST(RenderTable, ends_with_the_collector_notes) {
  ReportOptions options;
  options.target = "pid 4242";
  options.notes = {"vCPU ids are not available"};
  Snapshot s;
  s.taken_ns = 1'000'000'000;
  std::ostringstream out;
  render_table(s, model::ReasonCatalog::builtin(), options, out);
  EXPECT_EQ(out.str(), golden(R"(
kvmscope stat: pid 4242   1.00 s   hardware exits: 0   exits to the VMM: 0

No KVM exits were seen for pid 4242.

note: vCPU ids are not available
)"));
}

TEST(RenderJson, lists_the_collector_notes) {
  ReportOptions options;
  options.target = "pid 4242";
  options.notes = {"vCPU ids are not available"};
  std::ostringstream out;
  render_json(vmx_set(), model::ReasonCatalog::builtin(), options, out);
  EXPECT_NE(out.str().find("  \"notes\": [\n    \"note: vCPU ids are not available\"\n  ]\n"),
            std::string::npos)
      << out.str();
}

}  // namespace
}  // namespace kvmscope::report
