// kvmscope top against real KVM, driven like a person would: in a detached tmux session, with
// keys sent by `tmux send-keys` and the screen read back with `tmux capture-pane -p`. The
// workload is two built-in guests with different exit mixes: one makes only KVM_EXIT_IO (one
// vCPU), the other only KVM_EXIT_HLT (two vCPUs); they are told apart by PID. The screen watches
// just those two (-p), so other VMs on the host cannot push them off the screen; the batch test
// watches the whole host (-a) and looks for them among whatever else runs.
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <functional>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "live_support.h"

namespace {

using kvmscope::live::kvmscope_bin;
using kvmscope::live::run_command;
using namespace std::chrono_literals;

// A built-in guest in its own process group, stopped (SIGTERM, then SIGKILL) when the test ends.
class Guest {
 public:
  explicit Guest(const std::vector<std::string>& plan) {
    std::vector<std::string> argv = {kvmscope_bin(), "guest", "--quiet", "--timeout", "600"};
    argv.insert(argv.end(), plan.begin(), plan.end());
    pid_ = ::fork();
    if (pid_ == 0) {
      ::setpgid(0, 0);
      int null = ::open("/dev/null", O_RDWR);
      ::dup2(null, 0);
      ::dup2(null, 1);
      ::dup2(null, 2);  // "interrupted by SIGTERM" at the end is expected
      std::vector<char*> args;
      for (auto& a : argv) args.push_back(a.data());
      args.push_back(nullptr);
      ::execv(args[0], args.data());
      ::_exit(127);
    }
  }
  ~Guest() { stop(); }
  pid_t pid() const { return pid_; }
  std::string pid_text() const { return std::to_string(pid_); }
  void stop() {
    if (pid_ <= 0 || stopped_) return;
    stopped_ = true;
    ::kill(pid_, SIGTERM);
    for (int i = 0; i < 50; ++i) {
      if (::waitpid(pid_, nullptr, WNOHANG) == pid_) return;
      std::this_thread::sleep_for(100ms);
    }
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }

 private:
  pid_t pid_ = -1;
  bool stopped_ = false;
};

bool tmux_installed() {
  for (const char* dir : {"/usr/bin/tmux", "/usr/local/bin/tmux", "/bin/tmux"})
    if (::access(dir, X_OK) == 0) return true;
  return false;
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

std::vector<std::string> words_of(const std::string& line) {
  std::vector<std::string> words;
  std::istringstream in(line);
  for (std::string w; in >> w;) words.push_back(w);
  return words;
}

// "12,345" -> 12345; "-" -> -1.
double number(std::string text) {
  if (text == "-") return -1;
  std::string digits;
  for (char c : text)
    if (c != ',') digits += c;
  return std::strtod(digits.c_str(), nullptr);
}

// A row of the VM list: pid name vcpus exits/s hw/s vmm/s count hw-time vmm-time.
struct VmRow {
  std::size_t index;  // among the list's rows
  double vcpus, rate, count;
};

std::optional<VmRow> vm_row(const std::string& screen, const std::string& pid) {
  bool in_table = false;
  std::size_t index = 0;
  for (const auto& line : lines_of(screen)) {
    auto w = words_of(line);
    if (!w.empty() && w[0] == "pid" && w.size() > 1 && w[1] == "name") {
      in_table = true;
      continue;
    }
    if (!in_table || w.size() < 9) continue;
    if (w[0] == pid) {
      const std::size_t n = w.size();  // a name may have spaces: count from the right
      return VmRow{index, number(w[n - 7]), number(w[n - 6]), number(w[n - 3])};
    }
    ++index;
  }
  return std::nullopt;
}

// The line of a table whose first word is `first` (a vCPU id) or that holds `text` (a reason).
std::optional<std::vector<std::string>> row_with(const std::string& screen, const std::string& text,
                                                 bool first_word) {
  for (const auto& line : lines_of(screen)) {
    auto w = words_of(line);
    if (w.empty()) continue;
    if (first_word ? w[0] == text : line.find(text) != std::string::npos) return w;
  }
  return std::nullopt;
}

// One tmux server of our own (-L), so nothing of the user's tmux is touched.
class Tmux {
 public:
  Tmux() : socket_("kvmscope-live-" + std::to_string(::getpid())) {}
  ~Tmux() { run({"kill-server"}); }

  bool start(const std::string& command) {
    return run({"new-session", "-d", "-s", "top", "-x", "160", "-y", "50", command}).exit_code == 0;
  }
  void keys(const std::vector<std::string>& keys) {
    std::vector<std::string> args = {"send-keys", "-t", "top"};
    args.insert(args.end(), keys.begin(), keys.end());
    run(args);
  }
  void literal(const std::string& text) { run({"send-keys", "-t", "top", "-l", text}); }
  std::string screen() { return run({"capture-pane", "-p", "-t", "top"}).out; }
  void resize(int width, int height) {
    run({"resize-window", "-t", "top", "-x", std::to_string(width), "-y", std::to_string(height)});
  }

  // Polls the screen until `ok` holds (true) or the time is up (false); `last` is what was seen.
  bool wait_for(const std::function<bool(const std::string&)>& ok, std::string& last,
                std::chrono::milliseconds timeout = 8000ms) {
    const auto until = std::chrono::steady_clock::now() + timeout;
    do {
      last = screen();
      if (ok(last)) return true;
      std::this_thread::sleep_for(150ms);
    } while (std::chrono::steady_clock::now() < until);
    return false;
  }

 private:
  kvmscope::live::CommandResult run(std::vector<std::string> args) {
    args.insert(args.begin(), {"tmux", "-L", socket_});
    return run_command(args, 20);
  }
  std::string socket_;
};

bool contains(const std::string& text, const std::string& what) {
  return text.find(what) != std::string::npos;
}

// The title of an opened VM: "VM <name>  pid <pid>  ...".
bool shows_vm(const std::string& screen, const std::string& pid) {
  for (const auto& line : lines_of(screen))
    if (line.rfind("VM ", 0) == 0 && contains(line, "  pid " + pid + "  ")) return true;
  return false;
}

// Opens the VM with this pid from the list: selects its row and presses Enter; since the rows
// may re-sort between reading the screen and the keys arriving, checks what opened and retries.
bool open_vm(Tmux& tmux, const std::string& pid, std::string& screen) {
  for (int attempt = 0; attempt < 5; ++attempt) {
    if (!tmux.wait_for([&](const std::string& s) { return vm_row(s, pid).has_value(); }, screen))
      return false;
    const std::size_t index = vm_row(screen, pid)->index;
    std::vector<std::string> keys = {"Home"};
    for (std::size_t i = 0; i < index; ++i) keys.push_back("Down");
    keys.push_back("Enter");
    tmux.keys(keys);
    if (tmux.wait_for([&](const std::string& s) { return shows_vm(s, pid); }, screen, 2000ms))
      return true;
    tmux.keys({"Escape"});
  }
  return false;
}

TEST(LiveTop, tmux_session_drills_sorts_filters_and_pauses) {
  KS_REQUIRE_LIVE();
  if (!tmux_installed()) GTEST_SKIP() << "tmux is not installed (Debian package tmux)";

  Guest io({"--io", "1000000000"});
  Guest hlt({"--hlt", "1000000000", "--vcpus", "2"});
  const std::string io_pid = io.pid_text(), hlt_pid = hlt.pid_text();
  std::this_thread::sleep_for(300ms);

  Tmux tmux;
  const std::string status_file =
      "/tmp/kvmscope-live-top-" + std::to_string(::getpid()) + ".status";
  ::unlink(status_file.c_str());
  ASSERT_TRUE(tmux.start(std::string(kvmscope_bin()) + " top -p " + io_pid + "," + hlt_pid +
                         " --interval 0.5; echo $? > " + status_file + "; sleep 30"));
  std::string s;

  // Both VMs are listed with their vCPUs, and both are making exits.
  ASSERT_TRUE(tmux.wait_for(
      [&](const std::string& x) {
        auto a = vm_row(x, io_pid), b = vm_row(x, hlt_pid);
        return a && b && a->rate > 0 && b->rate > 0;
      },
      s))
      << s;
  EXPECT_TRUE(contains(s, "kvmscope top  ")) << s;
  EXPECT_TRUE(contains(s, "pids " + io_pid + "," + hlt_pid + "  refresh 0.5 s  sort: rate")) << s;
  EXPECT_EQ(vm_row(s, io_pid)->vcpus, 1) << s;
  EXPECT_EQ(vm_row(s, hlt_pid)->vcpus, 2) << s;

  // A smaller terminal: the screen is redrawn to fit, the key line stays at the bottom.
  // Narrower than the VM list: whole columns are left out, never cut (the header's last word is
  // a whole column name).
  tmux.resize(60, 14);
  ASSERT_TRUE(tmux.wait_for(
      [](const std::string& x) {
        const auto lines = lines_of(x);
        if (lines.size() != 14 || lines.back().rfind("Enter open  Esc back", 0) != 0) return false;
        for (const auto& line : lines)
          if (line.size() > 60) return false;
        return true;
      },
      s))
      << s;
  for (const auto& line : lines_of(s)) {
    const auto w = words_of(line);
    if (w.size() < 2 || w[0] != "pid" || w[1] != "name") continue;
    EXPECT_TRUE(w.back() == "name" || w.back() == "exits/s" || w.back() == "count" ||
                w.back() == "hw/s" || w.back() == "vmm/s" || w.back() == "time" ||
                w.back() == "vcpus")
        << s;
    EXPECT_EQ(std::find(w.begin(), w.end(), "vcpus"), w.end()) << "vcpus goes first\n" << s;
  }
  tmux.resize(160, 50);
  ASSERT_TRUE(tmux.wait_for([](const std::string& x) { return lines_of(x).size() == 50; }, s)) << s;

  // Sort keys: the title says so, and by count the larger count comes first.
  tmux.keys({"c"});
  ASSERT_TRUE(tmux.wait_for([](const std::string& x) { return contains(x, "sort: count"); }, s))
      << s;
  ASSERT_TRUE(tmux.wait_for(
      [&](const std::string& x) {
        auto a = vm_row(x, io_pid), b = vm_row(x, hlt_pid);
        return a && b && (a->index < b->index) == (a->count >= b->count);
      },
      s))
      << s;
  tmux.keys({"t"});
  ASSERT_TRUE(tmux.wait_for([](const std::string& x) { return contains(x, "sort: time"); }, s))
      << s;
  tmux.keys({"r"});
  ASSERT_TRUE(tmux.wait_for([](const std::string& x) { return contains(x, "sort: rate"); }, s))
      << s;

  // The IO guest: KVM_EXIT_IO at a non-zero rate, on vCPU 0; no HLT.
  ASSERT_TRUE(open_vm(tmux, io_pid, s)) << s;
  ASSERT_TRUE(tmux.wait_for(
      [](const std::string& x) {
        auto io_row = row_with(x, "KVM_EXIT_IO", false);
        return io_row && io_row->size() > 4 && number((*io_row)[3]) > 0;
      },
      s))
      << s;
  EXPECT_FALSE(contains(s, "KVM_EXIT_HLT")) << s;
  EXPECT_TRUE(row_with(s, "0", true)) << "vCPU 0's row\n" << s;
  // Into its busiest vCPU (the first row by rate): vCPU 0.
  tmux.keys({"Enter"});
  ASSERT_TRUE(tmux.wait_for([](const std::string& x) { return contains(x, ">  vCPU 0"); }, s)) << s;
  EXPECT_TRUE(row_with(s, "KVM_EXIT_IO", false)) << s;
  // Back: Backspace to the VM, Escape to the list.
  tmux.keys({"BSpace"});
  ASSERT_TRUE(tmux.wait_for(
      [&](const std::string& x) { return shows_vm(x, io_pid) && !contains(x, ">  vCPU"); }, s))
      << s;
  tmux.keys({"Escape"});
  ASSERT_TRUE(
      tmux.wait_for([&](const std::string& x) { return vm_row(x, hlt_pid).has_value(); }, s))
      << s;

  // The HLT guest: KVM_EXIT_HLT, on vCPU 0 and vCPU 1, both exiting.
  ASSERT_TRUE(open_vm(tmux, hlt_pid, s)) << s;
  ASSERT_TRUE(tmux.wait_for(
      [](const std::string& x) {
        auto v0 = row_with(x, "0", true), v1 = row_with(x, "1", true);
        auto hlt_row = row_with(x, "KVM_EXIT_HLT", false);
        return v0 && v1 && hlt_row && v0->size() > 1 && v1->size() > 1 && number((*v0)[1]) > 0 &&
               number((*v1)[1]) > 0 && number((*hlt_row)[3]) > 0;
      },
      s))
      << s;
  EXPECT_TRUE(contains(s, "vCPUs 2")) << s;
  EXPECT_FALSE(contains(s, "KVM_EXIT_IO")) << s;
  tmux.keys({"Enter"});
  ASSERT_TRUE(tmux.wait_for(
      [](const std::string& x) {
        return (contains(x, ">  vCPU 0") || contains(x, ">  vCPU 1")) &&
               row_with(x, "KVM_EXIT_HLT", false);
      },
      s))
      << s;
  tmux.keys({"Escape", "Escape"});
  ASSERT_TRUE(tmux.wait_for(
      [&](const std::string& x) { return vm_row(x, io_pid) && vm_row(x, hlt_pid); }, s))
      << s;

  // Filter: only the IO guest's PID; then the filter cleared.
  tmux.keys({"/"});
  tmux.literal("^" + io_pid + "$");
  tmux.keys({"Enter"});
  ASSERT_TRUE(tmux.wait_for(
      [&](const std::string& x) {
        return contains(x, "filter: /^" + io_pid + "$/") && vm_row(x, io_pid) &&
               !vm_row(x, hlt_pid);
      },
      s))
      << s;
  tmux.keys({"/"});
  for (std::size_t i = 0; i < io_pid.size() + 2; ++i) tmux.keys({"BSpace"});
  tmux.keys({"Enter"});
  ASSERT_TRUE(tmux.wait_for(
      [&](const std::string& x) {
        return !contains(x, "filter: /") && vm_row(x, io_pid) && vm_row(x, hlt_pid);
      },
      s))
      << s;

  // Pause: the numbers stay as they are for several intervals; then they move again.
  tmux.keys({"p"});
  ASSERT_TRUE(tmux.wait_for([](const std::string& x) { return contains(x, "PAUSED"); }, s)) << s;
  const auto frozen = vm_row(s, io_pid);
  ASSERT_TRUE(frozen) << s;
  std::this_thread::sleep_for(1600ms);  // three intervals
  s = tmux.screen();
  ASSERT_TRUE(vm_row(s, io_pid)) << s;
  EXPECT_EQ(vm_row(s, io_pid)->count, frozen->count) << s;
  EXPECT_EQ(vm_row(s, io_pid)->rate, frozen->rate) << s;
  tmux.keys({"Space"});
  ASSERT_TRUE(tmux.wait_for(
      [&](const std::string& x) {
        auto row = vm_row(x, io_pid);
        return !contains(x, "PAUSED") && row && row->count > frozen->count;
      },
      s))
      << s;

  // Interval, reset and help.
  tmux.keys({"+"});
  ASSERT_TRUE(tmux.wait_for([](const std::string& x) { return contains(x, "refresh 1.0 s"); }, s))
      << s;
  tmux.keys({"z"});
  ASSERT_TRUE(
      tmux.wait_for([](const std::string& x) { return contains(x, "counts since reset"); }, s))
      << s;
  tmux.keys({"?"});
  ASSERT_TRUE(
      tmux.wait_for([](const std::string& x) { return contains(x, "(interval x vCPUs)"); }, s))
      << s;
  tmux.keys({"x"});  // any key closes the help
  ASSERT_TRUE(tmux.wait_for([&](const std::string& x) { return vm_row(x, io_pid).has_value(); }, s))
      << s;

  // A VM that stops leaves the list (3 intervals without exits once its process is gone), and a
  // line above the list says it ended, with its exits since the reset.
  io.stop();
  ASSERT_TRUE(tmux.wait_for(
      [&](const std::string& x) { return !vm_row(x, io_pid) && vm_row(x, hlt_pid); }, s, 10000ms))
      << s;
  bool ended_line = false;
  for (const auto& line : lines_of(s))
    if (line.rfind("1 VM ended since reset: ", 0) == 0 && contains(line, "(pid " + io_pid + "), "))
      ended_line = number(words_of(line.substr(line.find("), ") + 3))[0]) > 0;
  EXPECT_TRUE(ended_line) << s;

  // Quit: kvmscope top ends with status 0 and gives the terminal back.
  tmux.keys({"q"});
  std::string status;
  for (int i = 0; i < 50 && status.empty(); ++i) {
    std::this_thread::sleep_for(100ms);
    auto cat = run_command({"cat", status_file});
    if (cat.exit_code == 0) status = cat.out;
  }
  ::unlink(status_file.c_str());
  EXPECT_EQ(status, "0\n");
  hlt.stop();
}

TEST(LiveTop, batch_frames_show_both_guests) {
  KS_REQUIRE_LIVE();
  Guest io({"--io", "1000000000"});
  Guest hlt({"--hlt", "1000000000", "--vcpus", "2"});
  std::this_thread::sleep_for(300ms);
  auto r = run_command(
      {kvmscope_bin(), "top", "-a", "--batch", "--iterations", "2", "--interval", "0.5"}, 60);
  io.stop();
  hlt.stop();
  ASSERT_EQ(r.exit_code, 0) << r.err;

  // Two frames, each opening with the title line.
  std::vector<std::size_t> frames;
  for (std::size_t at = r.out.find("kvmscope top  "); at != std::string::npos;
       at = r.out.find("kvmscope top  ", at + 1))
    frames.push_back(at);
  ASSERT_EQ(frames.size(), 2u) << r.out;
  const std::string last = r.out.substr(frames[1]);

  // In the VM list: both, with their vCPUs, both exiting.
  const auto a = vm_row(last, io.pid_text()), b = vm_row(last, hlt.pid_text());
  ASSERT_TRUE(a && b) << last;
  EXPECT_EQ(a->vcpus, 1) << last;
  EXPECT_EQ(b->vcpus, 2) << last;
  EXPECT_GT(a->rate, 0) << last;
  EXPECT_GT(b->rate, 0) << last;

  // Each VM's block: the IO guest's reason is KVM_EXIT_IO, the HLT guest's KVM_EXIT_HLT on
  // vCPUs 0 and 1.
  auto block = [&](const std::string& pid) {
    const std::size_t begin = last.find("  pid " + pid + "  ");
    const std::size_t end = last.find("\nVM ", begin);
    return begin == std::string::npos ? std::string() : last.substr(begin, end - begin);
  };
  const std::string io_block = block(io.pid_text()), hlt_block = block(hlt.pid_text());
  auto io_row = row_with(io_block, "KVM_EXIT_IO", false);
  ASSERT_TRUE(io_row) << io_block;
  EXPECT_GT(number((*io_row)[3]), 0) << io_block;
  EXPECT_FALSE(contains(io_block, "KVM_EXIT_HLT")) << io_block;
  auto hlt_row = row_with(hlt_block, "KVM_EXIT_HLT", false);
  ASSERT_TRUE(hlt_row) << hlt_block;
  EXPECT_GT(number((*hlt_row)[3]), 0) << hlt_block;
  for (const char* vcpu : {"0", "1"}) {
    auto row = row_with(hlt_block, vcpu, true);
    ASSERT_TRUE(row) << "vCPU " << vcpu << "\n" << hlt_block;
    EXPECT_GT(number((*row)[1]), 0) << hlt_block;
  }
}

// --counts-only: top watches the host while a guest runs a fixed plan to its end; a frame after
// the guest ended holds its exact counts (the kernel counted all of them: top loaded first), and
// nothing is timed: avg, p99 and the time shares read "-", and the note says why.
TEST(LiveTop, counts_only_counts_exactly_and_shows_no_times) {
  KS_REQUIRE_LIVE();
  const std::string log = kvmscope::live::temp_path("top-counts-only.txt");
  kvmscope::live::Background top({kvmscope_bin(), "top", "-a", "--batch", "--counts-only",
                                  "--interval", "0.5", "--duration", "30"},
                                 log);
  // The first frame is drawn after the collector is attached and one interval has passed.
  for (int i = 0; i < 200 && top.output().find("kvmscope top  ") == std::string::npos; ++i)
    std::this_thread::sleep_for(100ms);
  ASSERT_NE(top.output().find("kvmscope top  "), std::string::npos) << top.output();
  auto guest = run_command({kvmscope_bin(), "guest", "--io", "1000", "--hlt", "30"});
  ASSERT_EQ(guest.exit_code, 0) << guest.err;
  const std::string marker = "kvmscope guest: pid ";
  const std::string report = guest.out + guest.err;
  const std::size_t at = report.find(marker);
  ASSERT_NE(at, std::string::npos) << report;
  const std::string pid = std::to_string(std::stol(report.substr(at + marker.size())));
  // A frame or two more, then stop: the ended VM stays listed for 3 intervals after its last exit.
  std::this_thread::sleep_for(800ms);
  top.stop(SIGINT);
  const std::string out = top.output();

  // The last block of this VM: its reasons with their exact counts, and dashes for the times.
  const std::size_t begin = out.rfind("  pid " + pid + "  ");
  ASSERT_NE(begin, std::string::npos) << out;
  const std::size_t end = out.find("\n\n", begin);
  const std::string block = out.substr(begin, end - begin);
  auto io = row_with(block, "KVM_EXIT_IO", false);
  auto hlt = row_with(block, "KVM_EXIT_HLT", false);
  ASSERT_TRUE(io && hlt) << block;
  // level reason code rate/s count % avg p99 time
  EXPECT_EQ((*io)[4], "1,000") << block;
  EXPECT_EQ((*hlt)[4], "30") << block;
  for (const auto& row : {*io, *hlt}) {
    ASSERT_EQ(row.size(), 9u) << block;
    EXPECT_EQ(row[6], "-") << block;
    EXPECT_EQ(row[7], "-") << block;
    EXPECT_EQ(row[8], "-") << block;
  }
  auto vcpu = row_with(block, "0", true);  // vcpu exits/s hw/s vmm/s count hw-time vmm-time
  ASSERT_TRUE(vcpu && vcpu->size() == 7u) << block;
  EXPECT_EQ((*vcpu)[4], "1,030") << block;
  EXPECT_EQ((*vcpu)[5], "-") << block;
  EXPECT_EQ((*vcpu)[6], "-") << block;
  EXPECT_NE(out.find("\ncounts only (--counts-only): no handling time is measured; avg, p99 and "
                     "the time columns show -\n"),
            std::string::npos)
      << out;
}

TEST(LiveTop, batch_frames_with_by_function_show_the_guest_code_part) {
  // Where kvm_exit never fires (kvm_pvm) the part says so ("none yet"); where it fires, the
  // built-in guest's exits are at low RIPs: [firmware/early boot]. The counts per RIP are
  // checked against the kernel's hist in the nested beds (l-func).
  KS_REQUIRE_LIVE();
  Guest io({"--io", "1000000000"});
  std::this_thread::sleep_for(300ms);
  auto r = run_command({kvmscope_bin(), "top", "-p", io.pid_text(), "--batch", "--by", "function",
                        "--iterations", "2", "--interval", "0.5"},
                       60);
  io.stop();
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::size_t last = r.out.rfind("kvmscope top  ");
  ASSERT_NE(last, std::string::npos) << r.out;
  const std::string frame = r.out.substr(last);
  const std::size_t part =
      frame.find("guest code: hardware exits by guest function, per reason (top 5)\n");
  ASSERT_NE(part, std::string::npos) << frame;
  const bool hardware = frame.find("no hardware exits (kvm:kvm_exit) seen") == std::string::npos;
  if (hardware) {
    EXPECT_NE(frame.find("[firmware/early boot]", part), std::string::npos) << frame;
  } else {
    EXPECT_NE(frame.find("  none yet\n", part), std::string::npos) << frame;
  }
}

}  // namespace
