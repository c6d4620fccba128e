// kvmscope top's frames as text: the batch frame against a golden string worked out by hand,
// and the screen's size limits, styles, drill-down views and help.
#include "tui/top_frame.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <sstream>

namespace kvmscope::tui {
namespace {

using tui::TopSort;

model::Reason vmm(std::uint32_t code) {
  return {model::Level::vmm, model::Isa::none, code};
}

model::ExitStats timed(std::uint64_t count, std::uint64_t ns) {
  model::ExitStats s;
  s.count = count;
  s.timed = count;
  s.time_ns = count * ns;
  s.max_ns = count ? ns : 0;
  s.hist.slots[model::Histogram::slot_of(ns)] = count;
  return s;
}

model::ExitStats counted(std::uint64_t count) {
  model::ExitStats s;
  s.count = count;
  return s;
}

// Two kvmscope guests like the live test's: pid 4001 makes IO exits (2 us each in the VMM) on
// one vCPU, pid 4002 HLT exits (1 us) on two vCPUs.
model::Snapshot snap(std::uint64_t second) {
  model::Snapshot s;
  s.taken_ns = second * 1000000000ull;
  s.exits[{4001, 0, vmm(2)}] = timed(second * 50000, 2000);
  s.exits[{4002, 0, vmm(5)}] = timed(second * 1000, 1000);
  s.exits[{4002, 1, vmm(5)}] = timed(second * 3000, 1000);
  s.vms[4001] = {"kvmscope", "kvmscope"};
  s.vms[4002] = {"web1", "qemu-system-x86"};
  return s;
}

tui::TopModel two_guests() {
  tui::TopModel m;
  auto alive = [](std::uint32_t) { return true; };
  m.update(snap(1), alive);
  m.update(snap(3), alive);
  return m;
}

std::optional<double> no_parse(std::string_view) {
  return std::nullopt;
}

const FrameInfo kInfo{"12:34:56", "all VMs on this host"};

// Between 1 s and 3 s: pid 4001 made 100,000 IO exits (50,000/s, 0.2 s of VMM time of 2 s =
// 10.0%); pid 4002 2,000 + 6,000 HLT exits (4,000/s; 8 ms of 2 s x 2 vCPUs = 0.2%), vCPU 0
// 1,000/s (2 ms of 2 s = 0.1%), vCPU 1 3,000/s (0.3%). Since the start (3 s): 150,000 and 12,000.
TEST(TopFrame, batch_frame_lists_vms_then_each_vms_vcpus_and_reasons) {
  const tui::TopModel m = two_guests();
  std::ostringstream out;
  write_batch_frame(m, TopSort::rate, {}, model::ReasonCatalog::builtin(), 2.0, kInfo, out);
  EXPECT_EQ(out.str(),
            "kvmscope top  12:34:56  all VMs on this host  refresh 2.0 s  sort: rate\n"
            "VMs: 2  exits/s: 54,000  hardware/s: 0.00  to the VMM/s: 54,000  counts since "
            "start: 3.00 s\n"
            "no hardware exits (kvm:kvm_exit) seen: KVM here reports none where it emulates "
            "guests (e.g. kvm_pvm); exits to the VMM are counted\n"
            "\n"
            " pid  name      vcpus  exits/s  hw/s   vmm/s    count  hw time  vmm time\n"
            "4001  kvmscope      1   50,000  0.00  50,000  150,000        -     10.0%\n"
            "4002  web1          2    4,000  0.00   4,000   12,000        -      0.2%\n"
            "\n"
            "VM kvmscope  pid 4001  vCPUs 1\n"
            "vcpu  exits/s  hw/s   vmm/s    count  hw time  vmm time\n"
            "   0   50,000  0.00  50,000  150,000        -     10.0%\n"
            "level  reason       code  rate/s    count       %      avg      p99   time\n"
            "vmm    KVM_EXIT_IO     2  50,000  150,000  100.0%  2.00 us  1.98 us  10.0%\n"
            "\n"
            "VM web1  pid 4002  process qemu-system-x86  vCPUs 2\n"
            "vcpu  exits/s  hw/s  vmm/s  count  hw time  vmm time\n"
            "   1    3,000  0.00  3,000  9,000        -      0.3%\n"
            "   0    1,000  0.00  1,000  3,000        -      0.1%\n"
            "level  reason        code  rate/s   count       %      avg     p99  time\n"
            "vmm    KVM_EXIT_HLT     5   4,000  12,000  100.0%  1.00 us  991 ns  0.2%\n"
            "\n");
}

// --counts-only: the same guests, counted and never timed (timed = 0, as the collector leaves
// them). avg, p99 and both time shares read "-", and a line under the summary says why, so
// "-" does not read as "no exits".
tui::TopModel two_guests_counted() {
  tui::TopModel m;
  auto alive = [](std::uint32_t) { return true; };
  for (std::uint64_t second : {1, 3}) {
    model::Snapshot s = snap(second);
    for (auto& [key, stats] : s.exits) stats = counted(stats.count);
    m.update(std::move(s), alive);
  }
  return m;
}

TEST(TopFrame, batch_frame_with_counts_only_shows_dashes_and_says_why) {
  const tui::TopModel m = two_guests_counted();
  std::ostringstream out;
  FrameInfo info = kInfo;
  info.counts_only = true;
  write_batch_frame(m, TopSort::rate, {}, model::ReasonCatalog::builtin(), 2.0, info, out);
  EXPECT_EQ(out.str(),
            "kvmscope top  12:34:56  all VMs on this host  refresh 2.0 s  sort: rate\n"
            "VMs: 2  exits/s: 54,000  hardware/s: 0.00  to the VMM/s: 54,000  counts since "
            "start: 3.00 s\n"
            "no hardware exits (kvm:kvm_exit) seen: KVM here reports none where it emulates "
            "guests (e.g. kvm_pvm); exits to the VMM are counted\n"
            "counts only (--counts-only): no handling time is measured; avg, p99 and the time "
            "columns show -\n"
            "\n"
            " pid  name      vcpus  exits/s  hw/s   vmm/s    count  hw time  vmm time\n"
            "4001  kvmscope      1   50,000  0.00  50,000  150,000        -         -\n"
            "4002  web1          2    4,000  0.00   4,000   12,000        -         -\n"
            "\n"
            "VM kvmscope  pid 4001  vCPUs 1\n"
            "vcpu  exits/s  hw/s   vmm/s    count  hw time  vmm time\n"
            "   0   50,000  0.00  50,000  150,000        -         -\n"
            "level  reason       code  rate/s    count       %  avg  p99  time\n"
            "vmm    KVM_EXIT_IO     2  50,000  150,000  100.0%    -    -     -\n"
            "\n"
            "VM web1  pid 4002  process qemu-system-x86  vCPUs 2\n"
            "vcpu  exits/s  hw/s  vmm/s  count  hw time  vmm time\n"
            "   1    3,000  0.00  3,000  9,000        -         -\n"
            "   0    1,000  0.00  1,000  3,000        -         -\n"
            "level  reason        code  rate/s   count       %  avg  p99  time\n"
            "vmm    KVM_EXIT_HLT     5   4,000  12,000  100.0%    -    -     -\n"
            "\n");
}

TEST(TopFrame, batch_frame_with_filter_shows_only_matching_vms) {
  const tui::TopModel m = two_guests();
  std::ostringstream out;
  write_batch_frame(m, TopSort::rate, *tui::TopFilter::compile("web"),
                    model::ReasonCatalog::builtin(), 1.0, kInfo, out);
  const std::string text = out.str();
  EXPECT_NE(text.find("filter: /web/"), std::string::npos);
  EXPECT_NE(text.find("VM web1  pid 4002"), std::string::npos);
  EXPECT_EQ(text.find("4001"), std::string::npos);
  EXPECT_NE(text.find("VMs: 2"), std::string::npos);  // the summary counts every VM
}

TEST(TopFrame, screen_fits_the_terminal_and_marks_the_selection) {
  const tui::TopModel m = two_guests();
  TopController state(1.0, no_parse);
  state.after_update(m);
  const auto lines = top_screen(m, state, model::ReasonCatalog::builtin(), kInfo, 40, 12);
  ASSERT_EQ(lines.size(), 12u);
  for (const Line& line : lines) EXPECT_LE(line.text.size(), 40u) << line.text;
  EXPECT_EQ(lines[0].style, Style::title);
  EXPECT_EQ(lines[0].text, "kvmscope top  12:34:56  all VMs on this ");
  EXPECT_EQ(lines[4].style, Style::header);
  EXPECT_EQ(lines[4].text.substr(0, 16), " pid  name      ");
  EXPECT_EQ(lines[5].style, Style::selected);
  EXPECT_EQ(lines[5].text.substr(0, 4), "4001");
  EXPECT_EQ(lines[6].style, Style::plain);
  EXPECT_EQ(lines[11].style, Style::footer);
}

std::vector<std::string> texts(const std::vector<Line>& lines) {
  std::vector<std::string> out;
  for (const Line& line : lines) out.push_back(line.text);
  return out;
}

// The VM list is 72 columns wide. Narrower, whole columns go, the least important first:
// vcpus (7 with its gap), vmm time (10), hw time (9), vmm/s (8), hw/s (6), count (9): at 60
// the first two are gone (55 left), at 40 four (38 left). Lines other than the table's are cut.
TEST(TopFrame, narrow_screens_drop_whole_columns_least_important_first) {
  const tui::TopModel m = two_guests();
  TopController state(1.0, no_parse);
  state.after_update(m);
  auto screen = [&](int width) {
    return texts(top_screen(m, state, model::ReasonCatalog::builtin(), kInfo, width, 8));
  };
  const std::string summary =
      "VMs: 2  exits/s: 54,000  hardware/s: 0.00  to the VMM/s: 54,000  counts since start: "
      "3.00 s";
  const std::string note =
      "no hardware exits (kvm:kvm_exit) seen: KVM here reports none where it emulates guests "
      "(e.g. kvm_pvm); exits to the VMM are counted";
  const std::string footer =
      "Enter open  Esc back  r/c/t sort  / filter  p pause  +/-/d interval  z reset  ? help  q "
      "quit";
  const std::string title =
      "kvmscope top  12:34:56  all VMs on this host  refresh 1.0 s  sort: rate";
  EXPECT_EQ(screen(120),
            (std::vector<std::string>{
                title, summary, note.substr(0, 120), "",
                " pid  name      vcpus  exits/s  hw/s   vmm/s    count  hw time  vmm time",
                "4001  kvmscope      1   50,000  0.00  50,000  150,000        -     10.0%",
                "4002  web1          2    4,000  0.00   4,000   12,000        -      0.2%",
                footer.substr(0, 120)}));
  EXPECT_EQ(screen(80),
            (std::vector<std::string>{
                title, summary.substr(0, 80), note.substr(0, 80), "",
                " pid  name      vcpus  exits/s  hw/s   vmm/s    count  hw time  vmm time",
                "4001  kvmscope      1   50,000  0.00  50,000  150,000        -     10.0%",
                "4002  web1          2    4,000  0.00   4,000   12,000        -      0.2%",
                footer.substr(0, 80)}));
  EXPECT_EQ(screen(60),
            (std::vector<std::string>{
                title.substr(0, 60), summary.substr(0, 60), note.substr(0, 60), "",
                " pid  name      exits/s  hw/s   vmm/s    count  hw time",
                "4001  kvmscope   50,000  0.00  50,000  150,000        -",
                "4002  web1        4,000  0.00   4,000   12,000        -", footer.substr(0, 60)}));
  EXPECT_EQ(screen(40),
            (std::vector<std::string>{
                title.substr(0, 40), summary.substr(0, 40), note.substr(0, 40), "",
                " pid  name      exits/s  hw/s    count", "4001  kvmscope   50,000  0.00  150,000",
                "4002  web1        4,000  0.00   12,000", footer.substr(0, 40)}));
  // Narrower than pid and name: the pid column alone, never half of the name.
  EXPECT_EQ(screen(12)[4], " pid");
  EXPECT_EQ(screen(12)[5], "4001");
}

// A VM's reasons are 74 columns wide: at 60, code (6) and p99 (9) go; at 40 also avg (9), time
// (7) and % (8). Its vCPUs (55 wide) lose vmm time (10) at 50 and both times at 40.
TEST(TopFrame, narrow_vm_view_drops_whole_columns_of_both_tables) {
  tui::TopModel m = two_guests();
  TopController state(1.0, no_parse);
  state.after_update(m);
  state.handle(Key::of(Key::Kind::enter), m);  // pid 4001
  auto screen = [&](int width) {
    return texts(top_screen(m, state, model::ReasonCatalog::builtin(), kInfo, width, 13));
  };
  const auto at60 = screen(60);
  EXPECT_EQ(std::vector<std::string>(at60.begin() + 4, at60.end() - 1),
            (std::vector<std::string>{"VM kvmscope  pid 4001  vCPUs 1",
                                      "vcpu  exits/s  hw/s   vmm/s    count  hw time  vmm time",
                                      "   0   50,000  0.00  50,000  150,000        -     10.0%", "",
                                      "level  reason       rate/s    count       %      avg   time",
                                      "vmm    KVM_EXIT_IO  50,000  150,000  100.0%  2.00 us  10.0%",
                                      "", ""}));
  const auto at50 = screen(50);
  EXPECT_EQ(at50[5], "vcpu  exits/s  hw/s   vmm/s    count  hw time");
  const auto at40 = screen(40);
  EXPECT_EQ(std::vector<std::string>(at40.begin() + 4, at40.begin() + 10),
            (std::vector<std::string>{
                "VM kvmscope  pid 4001  vCPUs 1", "vcpu  exits/s  hw/s   vmm/s    count",
                "   0   50,000  0.00  50,000  150,000", "", "level  reason       rate/s    count",
                "vmm    KVM_EXIT_IO  50,000  150,000"}));
}

TEST(TopFrame, screen_scrolls_to_keep_the_selected_row_visible) {
  tui::TopModel m;
  auto alive = [](std::uint32_t) { return true; };
  auto many = [](std::uint64_t second) {
    model::Snapshot s;
    s.taken_ns = second * 1000000000ull;
    for (std::uint32_t pid = 1; pid <= 20; ++pid)
      s.exits[{pid, 0, vmm(2)}] = timed(second * pid, 1000);  // pid 20 is the busiest
    return s;
  };
  m.update(many(1), alive);
  m.update(many(2), alive);
  TopController state(1.0, no_parse);
  state.after_update(m);
  for (int i = 0; i < 15; ++i) state.handle(Key::of(Key::Kind::down), m);
  // 12 lines: title, summary, note, status, then 7 for the table (header, 5 rows and the line
  // saying which rows show), and the footer. The 16th row is the window's last: rows 12-16.
  const auto lines = top_screen(m, state, model::ReasonCatalog::builtin(), kInfo, 100, 12);
  ASSERT_EQ(lines.size(), 12u);
  std::size_t selected = 0;
  for (std::size_t i = 0; i < lines.size(); ++i)
    if (lines[i].style == Style::selected) selected = i;
  ASSERT_NE(selected, 0u);
  EXPECT_EQ(selected, 9u);
  EXPECT_EQ(lines[selected].text.substr(0, 5), "  5  ");  // 16th busiest: pid 5
  EXPECT_EQ(lines[10].text, "  (rows 12-16 of 20)");
}

TEST(TopFrame, vm_view_shows_its_vcpus_and_reasons) {
  const tui::TopModel m = two_guests();
  TopController state(1.0, no_parse);
  state.after_update(m);
  tui::TopModel copy = m;
  state.handle(Key::of(Key::Kind::down), copy);
  state.handle(Key::of(Key::Kind::enter), copy);
  const auto lines = top_screen(copy, state, model::ReasonCatalog::builtin(), kInfo, 100, 20);
  EXPECT_EQ(lines[4].text, "VM web1  pid 4002  process qemu-system-x86  vCPUs 2");
  EXPECT_EQ(lines[5].style, Style::header);
  EXPECT_EQ(lines[6].style, Style::selected);
  EXPECT_EQ(lines[6].text.substr(0, 4), "   1");
  EXPECT_EQ(lines[8].text, "");
  EXPECT_EQ(lines[9].text.substr(0, 13), "level  reason");
  EXPECT_EQ(lines[10].text.substr(0, 20), "vmm    KVM_EXIT_HLT ");

  state.handle(Key::of(Key::Kind::down), copy);  // vCPU 0
  state.handle(Key::of(Key::Kind::enter), copy);
  const auto vcpu = top_screen(copy, state, model::ReasonCatalog::builtin(), kInfo, 100, 20);
  EXPECT_EQ(vcpu[4].text, "VM web1  pid 4002  process qemu-system-x86  vCPUs 2  >  vCPU 0");
  EXPECT_EQ(vcpu[6].style, Style::selected);
  // vCPU 0 alone: 1,000/s, 3,000 since the start, 2 ms of its 2 s = 0.1%.
  EXPECT_EQ(vcpu[6].text,
            "vmm    KVM_EXIT_HLT     5   1,000  3,000  100.0%  1.00 us  991 ns  0.1%");
}

TEST(TopFrame, screen_shows_prompt_pause_and_help) {
  tui::TopModel m = two_guests();
  TopController state(1.0, no_parse);
  state.after_update(m);
  state.handle(Key::of('p'), m);
  state.handle(Key::of('/'), m);
  state.handle(Key::of('w'), m);
  auto lines = top_screen(m, state, model::ReasonCatalog::builtin(), kInfo, 120, 20);
  EXPECT_NE(lines[0].text.find("PAUSED"), std::string::npos);
  EXPECT_EQ(lines[3].style, Style::status);
  EXPECT_EQ(lines[3].text, "filter VMs by name, process or PID (regex, empty: all): w");
  state.handle(Key::of(Key::Kind::escape), m);
  state.handle(Key::of('?'), m);
  lines = top_screen(m, state, model::ReasonCatalog::builtin(), kInfo, 120, 40);
  EXPECT_EQ(lines[4].text, top_help_lines()[0]);
}

TEST(TopFrame, tiny_screen_never_overflows) {
  const tui::TopModel m = two_guests();
  TopController state(1.0, no_parse);
  state.after_update(m);
  for (int h = 0; h < 8; ++h)
    for (int w = 0; w < 10; ++w) {
      const auto lines = top_screen(m, state, model::ReasonCatalog::builtin(), kInfo, w, h);
      EXPECT_LE(lines.size(), static_cast<std::size_t>(h));
      for (const Line& line : lines) EXPECT_LE(line.text.size(), static_cast<std::size_t>(w));
    }
}

TEST(TopFrame, empty_host_says_so) {
  tui::TopModel m;
  m.update(model::Snapshot{}, [](std::uint32_t) { return true; });
  std::ostringstream out;
  write_batch_frame(m, TopSort::rate, {}, model::ReasonCatalog::builtin(), 1.0, kInfo, out);
  EXPECT_NE(out.str().find("no VM has made an exit since kvmscope started"), std::string::npos);
}

TEST(TopFrame, empty_host_after_a_reset_says_since_the_reset) {
  tui::TopModel m;
  model::Snapshot empty;
  empty.taken_ns = 1000000000ull;
  m.update(empty, [](std::uint32_t) { return true; });
  m.reset_counts();
  std::ostringstream out;
  write_batch_frame(m, TopSort::rate, {}, model::ReasonCatalog::builtin(), 1.0, kInfo, out);
  EXPECT_NE(out.str().find("\nno VM has made an exit since the reset\n"), std::string::npos)
      << out.str();
}

// The only VM made 2,400,000 exits, then its process ended: it leaves the list, but not the
// frame's account of what happened.
tui::TopModel only_vm_ended() {
  bool up = true;
  auto alive = [&](std::uint32_t) { return up; };
  tui::TopModel m(1);
  model::Snapshot s;
  s.taken_ns = 1000000000ull;
  s.exits[{4001, 0, vmm(2)}] = timed(2400000, 2000);
  s.vms[4001] = {"solo", "kvmscope"};
  m.update(s, alive);
  up = false;
  s.taken_ns = 2000000000ull;
  m.update(s, alive);
  return m;
}

TEST(TopFrame, batch_frame_says_which_vm_ended_instead_of_no_exits) {
  const tui::TopModel m = only_vm_ended();
  std::ostringstream out;
  write_batch_frame(m, TopSort::rate, {}, model::ReasonCatalog::builtin(), 1.0, kInfo, out);
  EXPECT_EQ(out.str(),
            "kvmscope top  12:34:56  all VMs on this host  refresh 1.0 s  sort: rate\n"
            "VMs: 0  exits/s: 0.00  hardware/s: 0.00  to the VMM/s: 0.00  counts since start: "
            "2.00 s\n"
            "1 VM ended since start: solo (pid 4001), 2,400,000 exits\n"
            "\n"
            "no VM on the list: every VM that made exits since kvmscope started has ended\n"
            "\n");
}

TEST(TopFrame, screen_says_which_vm_ended_instead_of_no_exits) {
  const tui::TopModel m = only_vm_ended();
  TopController state(1.0, no_parse);
  state.after_update(m);
  const auto lines = top_screen(m, state, model::ReasonCatalog::builtin(), kInfo, 100, 8);
  ASSERT_EQ(lines.size(), 8u);
  EXPECT_EQ(lines[2].text, "1 VM ended since start: solo (pid 4001), 2,400,000 exits");
  EXPECT_EQ(lines[4].text,
            "no VM on the list: every VM that made exits since kvmscope started has ended");
}

TEST(TopFrame, ended_line_names_three_vms_latest_first_and_counts_the_rest) {
  std::set<std::uint32_t> up = {1, 2, 3, 4, 5};
  auto alive = [&](std::uint32_t pid) { return up.count(pid) > 0; };
  tui::TopModel m(1);
  model::Snapshot s;
  for (std::uint32_t pid = 1; pid <= 5; ++pid) {
    s.exits[{pid, 0, vmm(2)}] = timed(1000 * pid, 2000);
    s.vms[pid] = {"vm" + std::to_string(pid), "qemu"};
  }
  m.update(s, alive);
  up = {2, 5};
  m.update(s, alive);  // 1, 3 and 4 end
  up = {5};
  m.update(s, alive);  // then 2
  std::ostringstream out;
  write_batch_frame(m, TopSort::rate, {}, model::ReasonCatalog::builtin(), 1.0, kInfo, out);
  EXPECT_NE(out.str().find("\n4 VMs ended since start: vm2 (pid 2), 2,000 exits; vm1 (pid 1), "
                           "1,000 exits; vm3 (pid 3), 3,000 exits; and 1 more\n"),
            std::string::npos)
      << out.str();
}

// top --by function: pid 4001's io exits at two guest functions, 600 and 200 by 1 s, 1,800 and
// 200 by 3 s (one 2 us each), and its hlt exits at one (100, then 300; counts only, untimed).
std::vector<FunctionCount> functions_at(std::uint64_t second) {
  const model::Reason io{model::Level::hardware, model::Isa::svm, 0x7b};
  const model::Reason hlt{model::Level::hardware, model::Isa::svm, 0x78};
  const std::uint64_t pci = second == 1 ? 600 : 1800;
  return {{4001, io, "read_pci_config", pci, pci, pci * 2000},
          {4001, io, "rtc_cmos_read", 200, 200, 400000},
          {4001, hlt, "native_safe_halt", second * 100, 0, 0}};
}

tui::TopModel guest_with_functions() {
  tui::TopModel m;
  auto alive = [](std::uint32_t) { return true; };
  m.update(snap(1), alive);
  m.update_functions(functions_at(1), {{4001, "  KASLR offset 0x1e000000 (given)"}});
  m.update(snap(3), alive);
  m.update_functions(functions_at(3), {{4001, "  KASLR offset 0x1e000000 (given)"}});
  return m;
}

// Over the interval (2 s): read_pci_config 1,200 (600/s), rtc_cmos_read 0, native_safe_halt 200
// (100/s); since the start 1,800 of io's 2,000 (90.0 %), 200 (10.0 %) and 300 of hlt's 300.
TEST(TopFrame, batch_frame_shows_each_vms_guest_functions_per_reason) {
  const tui::TopModel m = guest_with_functions();
  std::ostringstream out;
  write_batch_frame(m, TopSort::rate, *tui::TopFilter::compile("kvmscope"),
                    model::ReasonCatalog::builtin(), 2.0, kInfo, out);
  const std::string text = out.str();
  const std::size_t at = text.find("guest code:");
  ASSERT_NE(at, std::string::npos) << text;
  EXPECT_EQ(text.substr(at),
            "guest code: hardware exits by guest function, per reason (top 5)\n"
            "  KASLR offset 0x1e000000 (given)\n"
            "reason  function          rate/s  count       %      avg\n"
            "io      read_pci_config      600  1,800   90.0%  2.00 us\n"
            "        rtc_cmos_read       0.00    200   10.0%  2.00 us\n"
            "hlt     native_safe_halt     100    300  100.0%        -\n"
            "\n");
  // VMs without functions say so; a model never given any shows no guest-code part at all.
  const tui::TopModel plain = two_guests();
  std::ostringstream without;
  write_batch_frame(plain, TopSort::rate, {}, model::ReasonCatalog::builtin(), 2.0, kInfo, without);
  EXPECT_EQ(without.str().find("guest code"), std::string::npos);
  std::ostringstream web;
  write_batch_frame(m, TopSort::rate, *tui::TopFilter::compile("web"),
                    model::ReasonCatalog::builtin(), 2.0, kInfo, web);
  EXPECT_NE(web.str().find("per reason (top 5)\n  none yet\n"), std::string::npos) << web.str();
}

TEST(TopFrame, functions_count_again_from_a_reset_and_keep_at_most_n_per_reason) {
  tui::TopModel m = guest_with_functions();
  m.reset_counts();
  auto alive = [](std::uint32_t) { return true; };
  m.update(snap(4), alive);
  std::vector<FunctionCount> more = functions_at(3);
  more[0].count += 50;  // 50 more read_pci_config exits after the reset
  m.update_functions(more);
  const auto fns = m.functions(4001, 5);
  ASSERT_EQ(fns.size(), 1u);  // the others made none since the reset
  EXPECT_EQ(fns[0].function, "read_pci_config");
  EXPECT_EQ(fns[0].total, 50u);
  EXPECT_EQ(fns[0].interval, 50u);
  EXPECT_EQ(fns[0].reason_total, 50u);
  const auto capped = guest_with_functions().functions(4001, 1);
  ASSERT_EQ(capped.size(), 2u);  // one per reason, the busiest
  EXPECT_EQ(capped[0].function, "read_pci_config");
  EXPECT_EQ(capped[1].function, "native_safe_halt");
}

TEST(TopFrame, vm_view_shows_the_guest_functions_below_the_reasons) {
  tui::TopModel m = guest_with_functions();
  TopController state(1.0, no_parse);
  state.after_update(m);
  state.handle(Key::of(Key::Kind::enter), m);  // the first VM by rate: pid 4001
  const auto lines = top_screen(m, state, model::ReasonCatalog::builtin(), kInfo, 100, 24);
  std::vector<std::string> t;
  for (const auto& l : lines) t.push_back(l.text);
  const auto title = std::find(t.begin(), t.end(),
                               "guest code: hardware exits by guest function, per reason (top 5)");
  ASSERT_NE(title, t.end());
  EXPECT_EQ(*(title + 1), "  KASLR offset 0x1e000000 (given)");
  EXPECT_EQ((title + 2)->substr(0, 16), "reason  function");
  EXPECT_EQ((title + 3)->substr(0, 23), "io      read_pci_config");
}

}  // namespace
}  // namespace kvmscope::tui
