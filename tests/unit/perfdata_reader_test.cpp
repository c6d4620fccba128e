// PerfDataReader (through store::open_recording, as `report` opens it) on real perf.data files
// recorded by perf 6.1 in the peers' L1 (tests/fixtures/perfdata/README.md). The oracle is perf's
// own reading of each file, checked in next to it: `perf script` (every sample, by event and
// exit reason) and `perf kvm stat report` (which counts an exit at the next kvm_entry: one
// fewer for the last exit of each vCPU). The counts are computed here from that text, for every
// reason the file has.
#include <gtest/gtest.h>
#include <unistd.h>
#include <zstd.h>

#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "live/live_support.h"
#include "model/boot.h"
#include "model/exit_key.h"
#include "model/recording_analysis.h"
#include "store/event_source.h"
#include "support/fixtures.h"
#include "support/pipe_feed.h"
#include "support/recording_file.h"

namespace kvmscope::perfdata {
namespace {

using model::Isa;
using model::Level;

const char* event_name(std::uint8_t type) {
  switch (type) {
    case KS_EV_EXIT:
      return "kvm_exit";
    case KS_EV_ENTRY:
      return "kvm_entry";
    case KS_EV_USERSPACE_EXIT:
      return "kvm_userspace_exit";
    case KS_EV_PIO:
      return "kvm_pio";
    case KS_EV_MMIO:
      return "kvm_mmio";
    case KS_EV_MSR:
      return "kvm_msr";
    case KS_EV_CPUID:
      return "kvm_cpuid";
    case KS_EV_HYPERCALL:
      return "kvm_hypercall";
    default:
      return "other";
  }
}

const std::set<std::string> kMapped = {"kvm_exit",  "kvm_entry",    "kvm_userspace_exit",
                                       "kvm_pio",   "kvm_mmio",     "kvm_msr",
                                       "kvm_cpuid", "kvm_hypercall"};

// What `perf script` printed: samples by event (of those kvmscope maps), kvm_exit by reason,
// the threads (tid -> comm) of the kvm_exit samples.
struct Script {
  std::map<std::string, std::uint64_t> events;
  std::map<std::string, std::uint64_t> reasons;
  std::map<std::uint32_t, std::string> exit_threads;
  std::map<std::pair<std::string, std::uint64_t>, std::uint64_t> sites;  // (reason, rip)
};

// "       CPU 0/KVM   190 [000]    79.513962:        kvm:kvm_exit: vcpu 0 reason cpuid rip ..."
Script parse_script(const std::string& text) {
  Script s;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    const auto at = line.find(" kvm:");
    if (at == std::string::npos) continue;
    const auto colon = line.find(':', at + 5);
    const std::string event = line.substr(at + 5, colon - at - 5);
    if (!kMapped.contains(event)) continue;
    ++s.events[event];
    if (event != "kvm_exit") continue;
    // SVM's names may have a space ("UD excp"): the reason runs up to " rip ".
    const auto r = line.find(" reason ", colon);
    const auto end = line.find(" rip ", r);
    EXPECT_NE(end, std::string::npos) << line;
    ++s.reasons[line.substr(r + 8, end - r - 8)];
    ++s.sites[{line.substr(r + 8, end - r - 8), std::stoull(line.substr(end + 5), nullptr, 16)}];
    // comm, tid before " [cpu]" (a short script, -F tid,event,trace, has neither).
    if (line.find(" [") == std::string::npos) continue;
    std::string head = line.substr(0, line.find(" ["));
    const auto space = head.find_last_of(' ');
    const auto tid = static_cast<std::uint32_t>(std::stoul(head.substr(space + 1)));
    head.resize(space);
    head.erase(0, head.find_first_not_of(' '));
    head.erase(head.find_last_not_of(' ') + 1);
    s.exit_threads[tid] = head;
  }
  return s;
}

// `perf kvm stat report --event=vmexit`: reason -> samples, from the table's rows.
std::map<std::string, std::uint64_t> parse_kvm_stat(const std::string& text) {
  std::map<std::string, std::uint64_t> out;
  std::istringstream in(text);
  bool table = false;
  for (std::string line; std::getline(in, line);) {
    std::istringstream in_line(line);
    std::vector<std::string> words;
    for (std::string w; in_line >> w;) words.push_back(w);
    if (!words.empty() && words[0] == "VM-EXIT") {
      table = true;
      continue;
    }
    // "UD excp   1   0.00% ...": the reason's words, samples, then the first "NN.NN%".
    std::size_t pct = 0;
    while (pct < words.size() && words[pct].back() != '%') ++pct;
    if (!table || pct < 2 || pct == words.size()) continue;
    std::string reason = words[0];
    for (std::size_t i = 1; i + 1 < pct; ++i) reason += " " + words[i];
    out[reason] += std::stoull(words[pct - 1]);
  }
  return out;
}

struct Read {
  std::vector<ks_event> events;
  std::map<std::string, std::uint64_t> by_event;
  std::map<std::string, std::uint64_t> reasons;
  std::map<std::string, std::uint64_t> last_exit_reasons;  // of each thread's last exit
  std::unique_ptr<store::EventSource> source;
};

Read read_all(std::unique_ptr<store::EventSource> source) {
  Read r;
  r.events = testing::drain(*source);
  auto catalog = source->reason_catalog();
  EXPECT_TRUE(catalog.ok());
  std::map<std::uint32_t, std::string> last;
  for (const ks_event& e : r.events) {
    if (e.type == KS_EV_PROCESS_EXIT) continue;  // from an EXIT record, not a sample
    ++r.by_event[event_name(e.type)];
    if (e.type != KS_EV_EXIT) continue;
    const std::string name =
        catalog->name({Level::hardware, static_cast<Isa>(e.b), static_cast<std::uint32_t>(e.a)});
    ++r.reasons[name];
    last[e.tid] = name;
  }
  for (const auto& [tid, name] : last) ++r.last_exit_reasons[name];
  r.source = std::move(source);
  return r;
}

// A fixture file, or its zstd-compressed NAME.zst inflated (the L2 boot's are kept so).
std::string inflated(const std::string& rel) {
  const std::string plain = testing::fixture_path(rel);
  if (::access(plain.c_str(), R_OK) == 0) return testing::read_fixture(rel);
  const testing::Bytes packed = testing::read_bytes(plain + ".zst");
  std::string out;
  ZSTD_DStream* ds = ZSTD_createDStream();
  ZSTD_DCtx_setParameter(ds, ZSTD_d_windowLogMax, 27);  // zstd --long=27
  ZSTD_inBuffer in{packed.data(), packed.size(), 0};
  std::vector<char> chunk(1 << 20);
  for (;;) {
    ZSTD_outBuffer o{chunk.data(), chunk.size(), 0};
    const std::size_t r = ZSTD_decompressStream(ds, &o, &in);
    EXPECT_FALSE(ZSTD_isError(r)) << rel << ": " << ZSTD_getErrorName(r);
    out.append(chunk.data(), o.pos);
    if (ZSTD_isError(r) || (in.pos == in.size && o.pos < o.size)) break;
  }
  ZSTD_freeDStream(ds);
  return out;
}

std::string read_text(const std::string& rel) {
  return inflated("perfdata/" + rel);
}

// The path of NAME.data: the fixture, or its inflated copy in a temporary file.
std::string data_path(const std::string& name) {
  const std::string plain = testing::fixture_path("perfdata/" + name + ".data");
  if (::access(plain.c_str(), R_OK) == 0) return plain;
  // Made once per test program, removed at its exit.
  static struct Made : std::map<std::string, std::string> {
    ~Made() {
      for (const auto& [n, p] : *this) ::unlink(p.c_str());
    }
  } made;
  auto& path = made[name];
  if (path.empty()) {
    path = live::temp_path(name + ".data");
    const std::string bytes = inflated("perfdata/" + name + ".data");
    std::ofstream(path, std::ios::binary)
        .write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  }
  return path;
}

Read read_fixture(const std::string& name) {
  auto source = store::open_recording(data_path(name));
  EXPECT_TRUE(source.ok()) << name << ": " << (source.ok() ? "" : source.error().message());
  if (!source.ok()) return {};
  return read_all(std::move(*source));
}

const char* const kFixtures[] = {"kvmstat-guest", "kvm-all-guest", "kvm-pipe-guest",
                                 "kvmstat-zstd-guest", "kvmstat-l2boot"};

TEST(PerfDataReader, counts_every_sample_as_perf_script_does_for_every_event_and_reason) {
  for (const char* name : kFixtures) {
    const Script script = parse_script(read_text(std::string(name) + ".script"));
    const Read read = read_fixture(name);
    ASSERT_TRUE(read.source) << name;
    EXPECT_GT(script.reasons.size(), 2u) << name;
    EXPECT_EQ(read.by_event, script.events) << name;
    EXPECT_EQ(read.reasons, script.reasons) << name;
    EXPECT_TRUE(read.source->complete()) << name << ": " << read.source->error_detail();
    EXPECT_FALSE(read.source->truncated()) << name;
    EXPECT_EQ(read.source->format(), store::RecordingFormat::perfdata);
    auto totals = read.source->totals();
    ASSERT_TRUE(totals.has_value());
    EXPECT_EQ(totals->events, read.events.size());
    // Handed out in time order.
    for (std::size_t i = 1; i < read.events.size(); ++i)
      ASSERT_LE(read.events[i - 1].ts_ns, read.events[i].ts_ns) << name << " event " << i;
  }
}

TEST(PerfDataReader, attributes_every_exit_to_its_guest_rip_as_perf_script_prints_it) {
  // report --by function on a perf.data: the guest sites (per reason and RIP) of the L2 boot
  // and of a guest run equal what perf script printed for each kvm_exit sample.
  for (const char* name : {"kvmstat-guest", "kvmstat-l2boot"}) {
    const Script script = parse_script(read_text(std::string(name) + ".script"));
    const Read read = read_fixture(name);
    ASSERT_TRUE(read.source) << name;
    auto catalog = read.source->reason_catalog();
    ASSERT_TRUE(catalog.ok());
    model::AnalysisOptions o;
    o.guest_sites = true;
    model::RecordingAnalysis analysis(std::move(o));
    analysis.add(read.events);
    const model::RecordingAnalysisResult result = analysis.finish();
    std::map<std::pair<std::string, std::uint64_t>, std::uint64_t> got;
    for (const auto& [key, site] : result.sites.entries())
      got[{catalog->name(key.reason), key.rip}] += site.stats.count;
    EXPECT_GT(script.sites.size(), 5u) << name;  // 8 in the guest run, 1,000s in the boot
    EXPECT_EQ(got, script.sites) << name;
  }
}

TEST(PerfDataReader, counts_one_exit_more_than_perf_kvm_stat_for_each_vcpus_last_exit) {
  for (const char* name : {"kvmstat-guest", "kvmstat-zstd-guest", "kvmstat-l2boot"}) {
    auto kvm_stat = parse_kvm_stat(read_text(std::string(name) + ".report"));
    const Read read = read_fixture(name);
    ASSERT_FALSE(kvm_stat.empty()) << name;
    for (const auto& [reason, n] : read.last_exit_reasons) kvm_stat[reason] += n;
    EXPECT_EQ(read.reasons, kvm_stat) << name;
  }
}

TEST(PerfDataReader, groups_the_vcpu_threads_into_their_vm_named_by_its_main_thread) {
  for (const char* name : {"kvmstat-guest", "kvm-all-guest", "kvm-pipe-guest"}) {
    const Script script = parse_script(read_text(std::string(name) + ".script"));
    const Read read = read_fixture(name);
    ASSERT_TRUE(read.source) << name;
    std::set<std::uint32_t> tgids, tids, vcpus;
    for (const ks_event& e : read.events) {
      if (e.type == KS_EV_PROCESS_EXIT) continue;
      tgids.insert(e.tgid);
      tids.insert(e.tid);
      vcpus.insert(e.vcpu);
    }
    // kvmscope guest --vcpus 2: one process, its two vCPU threads "CPU 0/KVM", "CPU 1/KVM".
    ASSERT_EQ(tgids.size(), 1u) << name;
    EXPECT_EQ(tids.size(), 2u) << name;
    EXPECT_EQ(vcpus, (std::set<std::uint32_t>{0, 1})) << name;
    std::set<std::string> comms;
    for (const auto& [tid, comm] : script.exit_threads) {
      EXPECT_TRUE(tids.contains(tid)) << name << " thread " << tid;
      comms.insert(comm);
    }
    EXPECT_EQ(comms, (std::set<std::string>{"CPU 0/KVM", "CPU 1/KVM"})) << name;
    const auto& vms = read.source->vms();
    ASSERT_TRUE(vms.contains(*tgids.begin())) << name;
    EXPECT_EQ(vms.at(*tgids.begin()).name, "kvmscope") << name;
    // The guest's end: its main thread's EXIT record.
    EXPECT_EQ(read.events.back().type, KS_EV_PROCESS_EXIT) << name;
    EXPECT_EQ(read.events.back().tgid, *tgids.begin()) << name;
  }
}

TEST(PerfDataReader, says_what_the_file_is_and_names_reasons_from_its_own_formats) {
  const Read file = read_fixture("kvmstat-guest");
  ASSERT_TRUE(file.source);
  const store::RecordingInfo& info = file.source->info();
  EXPECT_EQ(info.extra.at("source"), "perf.data");
  EXPECT_EQ(info.extra.at("perf_mode"), "file");
  EXPECT_EQ("perf version " + info.extra.at("perf_version") + "\n",
            testing::read_fixture("perfdata/perf-version.txt"));
  EXPECT_EQ(info.kernel_release + "\n", testing::read_fixture("perfdata/uname-r.txt"));
  EXPECT_TRUE(info.tracefs_formats.contains("kvm_exit"));
  // The recording's start: the guest's exec (perf record -- CMD), before its first event; its
  // boot summary runs from there (a process-start marker just before its first event).
  EXPECT_LT(info.start_ns, file.events.front().ts_ns);
  ASSERT_EQ(file.source->markers().size(), 1u);
  EXPECT_EQ(file.source->markers()[0].ts_ns, info.start_ns);
  EXPECT_EQ(file.source->markers()[0].label,
            model::process_started_label(file.events.front().tgid));
  auto catalog = file.source->reason_catalog();
  ASSERT_TRUE(catalog.ok());
  EXPECT_EQ(catalog->source(Level::hardware, Isa::svm), model::NameSource::kernel);

  const Read pipe = read_fixture("kvm-pipe-guest");
  ASSERT_TRUE(pipe.source);
  EXPECT_EQ(pipe.source->info().extra.at("perf_mode"), "pipe");
  EXPECT_TRUE(pipe.source->info().tracefs_formats.contains("kvm_exit"));
  const Read zstd = read_fixture("kvmstat-zstd-guest");
  ASSERT_TRUE(zstd.source);
  EXPECT_EQ(zstd.source->info().extra.at("compression"), "zstd");
}

TEST(PerfDataReader, reads_a_file_arriving_on_a_pipe_as_it_reads_it_from_disk) {
  for (const char* name : {"kvm-pipe-guest", "kvmstat-zstd-guest"}) {
    const std::string path = testing::fixture_path(std::string("perfdata/") + name + ".data");
    testing::PipeFeed feed(testing::read_bytes(path), testing::Feed::small_pieces);
    auto input = store::recording_input(feed.read_end(), "standard input");
    ASSERT_TRUE(input.ok()) << input.error().message();
    auto piped = store::open_recording(std::move(*input));
    ASSERT_TRUE(piped.ok()) << piped.error().message();
    const Read a = read_all(std::move(*piped));
    const Read b = read_fixture(name);
    EXPECT_TRUE(testing::same_events(a.events, b.events)) << name;
  }
}

}  // namespace
}  // namespace kvmscope::perfdata

namespace kvmscope::perfdata {
namespace {

live::CommandResult report_in_fixtures(const std::string& args) {
  return live::run_command({"/bin/sh", "-c",
                            "cd '" + testing::fixture_path("perfdata") + "' && '" +
                                live::kvmscope_bin() + "' report " + args});
}

// `kvmscope report` of a perf record -e 'kvm:*' file, as text (with every drill-down) and JSON.
TEST(PerfDataReport, prints_exactly_the_golden_output) {
  const std::pair<const char*, const char*> cases[] = {
      {"kvm-all-guest.data --by all", "kvm-all-guest.expected.txt"},
      {"kvm-all-guest.data --json", "kvm-all-guest.expected.json"},
  };
  for (const auto& [args, expected] : cases) {
    auto r = report_in_fixtures(args);
    EXPECT_EQ(r.exit_code, 0) << args << ": " << r.err;
    EXPECT_EQ(r.err, "") << args;
    EXPECT_EQ(r.out, testing::read_fixture(std::string("perfdata/") + expected)) << args;
  }
}

TEST(PerfDataReport, help_says_that_report_reads_perf_data) {
  auto r = live::run_command({live::kvmscope_bin(), "report", "--help"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.out.find("perf's perf.data ('perf\nkvm stat record', 'perf record -e kvm:*'"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("'perf kvm stat report' shows one fewer for each vCPU"), std::string::npos)
      << r.out;
}

// Damage: the report of what came before, the offset named, exit 3 unless --allow-damaged; a
// file cut short: exit 1 with where it was cut.
TEST(PerfDataReport, exits_3_for_a_damaged_perf_data_and_1_for_a_cut_file) {
  testing::Bytes b = testing::read_bytes(testing::fixture_path("perfdata/kvm-pipe-guest.data"));
  // The last record: its size made 4 (below a record header's 8).
  std::size_t pos = 16, last = 0;
  while (pos + 8 <= b.size()) {
    const std::size_t size = b[pos + 6] | b[pos + 7] << 8;
    const std::uint32_t type = b[pos] | b[pos + 1] << 8;
    std::size_t skip = size;
    if (type == 66) skip += b[pos + 8] | b[pos + 9] << 8 | b[pos + 10] << 16;
    last = pos;
    pos += skip;
  }
  ASSERT_EQ(pos, b.size());
  b[last + 6] = 4;
  b[last + 7] = 0;
  const std::string bad = live::temp_path("bad-perf.data");
  testing::write_bytes(bad, b);
  auto damaged = live::run_command({live::kvmscope_bin(), "report", bad});
  auto allowed = live::run_command({live::kvmscope_bin(), "report", bad, "--allow-damaged"});
  const std::string cut = live::temp_path("cut-perf.data");
  const testing::Bytes file =
      testing::read_bytes(testing::fixture_path("perfdata/kvmstat-guest.data"));
  testing::write_bytes(cut, file, 4096);
  auto refused = live::run_command({live::kvmscope_bin(), "report", cut});
  std::remove(bad.c_str());
  std::remove(cut.c_str());

  EXPECT_EQ(damaged.exit_code, 3) << damaged.err;
  EXPECT_EQ(allowed.exit_code, 0) << allowed.err;
  EXPECT_NE(damaged.out.find("hardware exits"), std::string::npos);
  EXPECT_NE(damaged.err.find(bad + " was cut short (a record of size 4 at byte " +
                             std::to_string(last) + "; "),
            std::string::npos)
      << damaged.err;
  EXPECT_NE(damaged.err.find("kvmscope report: " + bad +
                             " is damaged: exit status 3 (--allow-damaged for 0)"),
            std::string::npos)
      << damaged.err;
  EXPECT_EQ(refused.exit_code, 1);
  EXPECT_EQ(refused.err.rfind("kvmscope report: " + cut +
                                  ": perf.data cut at byte 4096 inside "
                                  "its data (which ends at byte ",
                              0),
            0u)
      << refused.err;
}

}  // namespace
}  // namespace kvmscope::perfdata
