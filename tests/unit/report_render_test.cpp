// The report renderers on the tiny recording (tests/support/tiny_recording.h): the text report
// against golden text, the JSON document field by field (and its exits against `stat`'s), the
// CSV files, and the report's sentences about what the recording lost.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <unistd.h>

#include "report/csv.h"
#include "report/render.h"
#include "report/report.h"
#include "support/mini_json.h"
#include "support/tiny_recording.h"

namespace kvmscope::report {
namespace {

using testing::Json;

ReportOptions tiny_options() {
  ReportOptions o;
  o.drilldowns = {model::DrillKind::port, model::DrillKind::msr};
  o.target = "command: qemu-system-x86_64 -name tiny";
  return o;
}

std::string text(const model::RecordingAnalysisResult& a, const ReportOptions& o) {
  std::ostringstream out;
  render_report_text(a, model::ReasonCatalog::builtin(), o, out);
  return out.str();
}

std::string json(const model::RecordingAnalysisResult& a, const ReportOptions& o) {
  std::ostringstream out;
  render_report_json(a, model::ReasonCatalog::builtin(), o, out);
  return out.str();
}

// Golden texts are raw literals that start on the line after R"(, for readability.
std::string golden(const char* text) {
  return std::string(text).substr(1);
}

TEST(ReportText, matches_golden_for_the_tiny_recording) {
  EXPECT_EQ(text(testing::tiny_analysis(), tiny_options()), golden(R"(
kvmscope report: command: qemu-system-x86_64 -name tiny   1.00 s   hardware exits: 40   exits to the VMM: 1
percentiles: exact (p50, p90, p99, p99.9: nearest rank over every measured handling time)

Hardware exits (kvm:kvm_exit), names from the built-in table; time: from the exit to the next VM entry
reason  code  count       %  rate/s     time      avg      p50      p90      p99    p99.9      max
io      0x7b     30   75.0%    30.0  60.0 us  2.00 us  2.00 us  2.00 us  2.00 us  2.00 us  2.00 us
cpuid   0x72     10   25.0%    10.0  10.0 us  1.00 us  1.00 us  1.00 us  1.00 us  1.00 us  1.00 us
total            40  100.0%    40.0  70.0 us  1.75 us  2.00 us  2.00 us  2.00 us  2.00 us  2.00 us

Exits to the VMM (kvm:kvm_userspace_exit), names from the built-in table; time: spent in the VMM, from the exit to the next KVM_RUN
reason             code  count       %  rate/s  time  avg  p50  p90  p99  p99.9  max
KVM_EXIT_SHUTDOWN     8      1  100.0%    1.00     -    -    -    -    -      -    -
total                        1  100.0%    1.00     -    -    -    -    -      -    -

Timeline of exits, one column per 100 ms (buckets of 100 ms in CSV, JSON and HTML); each row scaled to its own peak
reason                code  exits  peak/s
all hardware exits             40     310  ▁▁▁▁▁█▁▁▁▁
  io                  0x7b     30     300       █
  cpuid               0x72     10    10.0  ██████████
all exits to the VMM            1    10.0            █
  KVM_EXIT_SHUTDOWN      8      1    10.0            █
                                           0 s 1.100 s

Rate stability over the active span, 0.000 s to 1.100 s (11 buckets of 100 ms): mean and standard deviation of the per-bucket rate, CV = stddev / mean
Hardware exits
reason             code  exits  mean/s  stddev/s    CV  peak/s
io                 0x7b     30    27.3      86.2  3.16     300
cpuid              0x72     10    9.09      2.87  0.32    10.0
Exits to the VMM
reason             code  exits  mean/s  stddev/s    CV  peak/s
KVM_EXIT_SHUTDOWN     8      1    0.91      2.87  3.16    10.0

Bursts: buckets of 100 ms with more than 4x the median (1.00) hardware exits and at least 20 (threshold 20); adjacent ones joined: 1 burst
  start  duration  exits  peak/s  top reasons
0.500 s    100 ms     31     310  io 96.8%, cpuid 3.2%

Boot of VM 7 (tiny): 1.00 s from the command start (0.000 s) to KVM_EXIT_SHUTDOWN (1.000 s)
first exit 10.0 ms after the start; hardware exits: 40; exits to the VMM: 1
phase      start      end  duration  hw exits  vmm exits  hw exits/s  top reasons
(start)  0.000 s  0.500 s    500 ms         5          0        10.0  cpuid 100.0%
kernel   0.500 s  1.000 s    500 ms        35          1        70.0  io 85.7%, cpuid 14.3%

Port I/O (kvm:kvm_pio) by port, direction and size; time: of the exit each happened in
port   access       count       %     time      avg      p50      p90      p99    p99.9      max
0x80   out, 1 byte     30  100.0%  60.0 us  2.00 us  2.00 us  2.00 us  2.00 us  2.00 us  2.00 us
total                  30  100.0%  60.0 us  2.00 us  2.00 us  2.00 us  2.00 us  2.00 us  2.00 us

MSR accesses (kvm:kvm_msr) by index, read/write and fault: none recorded.
)"));
}

TEST(ReportText, no_line_ends_in_a_space) {
  std::istringstream lines(text(testing::tiny_analysis(), tiny_options()));
  for (std::string line; std::getline(lines, line);)
    EXPECT_TRUE(line.empty() || line.back() != ' ') << "[" << line << "]";
}

TEST(ReportText, warns_about_lost_events_and_a_cut_recording_up_front) {
  ReportOptions o = tiny_options();
  o.recording.lost_per_cpu = {0, 5, 0, 2};
  o.recording.complete = false;
  o.recording.hostname = "bed";
  o.recording.kernel = "6.1.0";
  o.recording.realtime_offset_ns = 1'700'000'000'000'000'000LL - 1'000'000'000;
  o.recording.markers = {{1'000'000'000, "command started"}};
  const std::string t = text(testing::tiny_analysis(), o);
  EXPECT_EQ(t.substr(0, t.find("\n\n") + 1), golden(R"(
kvmscope report: command: qemu-system-x86_64 -name tiny   1.00 s   hardware exits: 40   exits to the VMM: 1
recorded on bed, kernel 6.1.0, started 2023-11-14 22:13:20 UTC
percentiles: exact (p50, p90, p99, p99.9: nearest rank over every measured handling time)
markers: 0.000 s command started
warning: 7 events were lost while recording (ring buffer full) (CPU 1: 5, CPU 3: 2): counts, times and the timeline miss them
warning: the recording was cut short (it has no trailer): events after its last complete block are missing
)"));
}

// Damaged stretches of the kinds the reader finds: an events block (its own count), a header
// too damaged to say (an estimate), a vm block (no events; names missing), one with nothing to
// estimate from.
std::vector<model::DamagedRange> some_damage() {
  return {{123456, 187001, 7, "events", "payload CRC mismatch", 4100, true},
          {200000, 200999, std::nullopt, "", "block header CRC mismatch", 1234, false},
          {300000, 300100, 12, "vm", "payload CRC mismatch", 0, true},
          {400000, 400040, std::nullopt, "", "block header CRC mismatch", std::nullopt, false}};
}

TEST(ReportText, says_which_bytes_were_damaged_and_what_they_cost) {
  ReportOptions o = tiny_options();
  o.recording.damage = some_damage();
  o.recording.lost_to_damage = 5334;
  o.recording.lost_to_damage_exact = false;
  o.recording.complete = false;
  const std::string t = text(testing::tiny_analysis(), o);
  EXPECT_EQ(t.substr(0, t.find("\n\n") + 1), golden(R"(
kvmscope report: command: qemu-system-x86_64 -name tiny   1.00 s   hardware exits: 40   exits to the VMM: 1
percentiles: exact (p50, p90, p99, p99.9: nearest rank over every measured handling time)
warning: corrupt: bytes 123456–187000 (block 7): 4,100 events lost (payload CRC mismatch)
warning: corrupt: bytes 200000–200998: about 1,234 events lost, estimated from the intact blocks (block header CRC mismatch)
warning: corrupt: bytes 300000–300099 (block 12, vm): no events lost; the VM names in it are missing (payload CRC mismatch)
warning: corrupt: bytes 400000–400039: an unknown number of events lost (block header CRC mismatch)
warning: 4 damaged stretches skipped: about 5,334 events lost in all: counts, times and the timeline miss them
warning: the recording was cut short (it has no trailer): events after its last complete block are missing
)"));
}

TEST(ReportText, lists_ten_damaged_stretches_and_counts_the_rest) {
  ReportOptions o = tiny_options();
  for (std::uint64_t i = 0; i < 12; ++i)
    o.recording.damage.push_back(
        {i * 1000, i * 1000 + 10, i + 1, "events", "payload CRC mismatch", 1, true});
  o.recording.lost_to_damage = 12;
  const std::string t = text(testing::tiny_analysis(), o);
  const std::string warnings = t.substr(t.find("warning: corrupt: bytes 9000"));
  EXPECT_EQ(warnings.substr(0, warnings.find("\n\n") + 1), golden(R"(
warning: corrupt: bytes 9000–9009 (block 10): 1 event lost (payload CRC mismatch)
warning: corrupt: 2 more damaged stretches (all of them in --json)
warning: 12 damaged stretches skipped: 12 events lost in all: counts, times and the timeline miss them
)"));
}

TEST(ReportText, names_each_mark_that_began_no_phase_and_the_end_it_fell_after) {
  auto a = testing::tiny_analysis();
  a.unused_marks = {
      {{1'500'000'000, "late"}, model::UnusedMark::Why::after_boots, 1'000'000'000},
      {{2'250'000'000, "later"}, model::UnusedMark::Why::after_recording, 2'000'000'000},
      {{500'000'000, "x"}, model::UnusedMark::Why::no_boot, 0}};
  const std::string t = text(a, tiny_options());
  EXPECT_EQ(t.substr(0, t.find("\n\n") + 1), golden(R"(
kvmscope report: command: qemu-system-x86_64 -name tiny   1.00 s   hardware exits: 40   exits to the VMM: 1
percentiles: exact (p50, p90, p99, p99.9: nearest rank over every measured handling time)
warning: --mark 1.5=late is at or after the end of every boot (the longest ends 1.000 s after its start): no boot phase begins there
warning: --mark 2.25=later is at or after the recording's end (2.000 s after the start): no boot phase begins there
warning: --mark 0.5=x: no VM boot was recorded, so no phase begins there
)"));
}

TEST(ReportText, drill_tables_stop_at_max_rows_and_split_per_vm) {
  model::RecordingAnalysisResult a;
  a.snapshot.vms[1] = {"one", "qemu"};
  for (std::uint64_t port = 0; port < 5; ++port)
    a.drill.at(model::port_key(1, port, false, 4)).count = 10 - port;
  a.drill.at(model::port_key(2, 0x80, true, 1)).count = 1;
  ReportOptions o;
  o.drilldowns = {model::DrillKind::port};
  o.drilldowns_per_vm = true;
  o.max_rows = 2;
  const std::string t = text(a, o);
  const std::string drill = t.substr(t.find("Port I/O"));
  EXPECT_EQ(drill, golden(R"(
Port I/O (kvm:kvm_pio) by port, direction and size; time: of the exit each happened in
VM 1 (one)
port   access       count       %  time  avg  p50  p90  p99  p99.9  max
0x0    in, 4 bytes     10   25.0%     -    -    -    -    -      -    -
0x1    in, 4 bytes      9   22.5%     -    -    -    -    -      -    -
... 3 more rows (all of them in --csv and --json)
total                  40  100.0%     -    -    -    -    -      -    -

VM 2
port   access       count       %  time  avg  p50  p90  p99  p99.9  max
0x80   out, 1 byte      1  100.0%     -    -    -    -    -      -    -
total                   1  100.0%     -    -    -    -    -      -    -
)"));
}

TEST(ReportJson, has_every_section_with_the_tiny_numbers) {
  const Json doc = Json::parse(json(testing::tiny_analysis(), tiny_options()));
  EXPECT_EQ(doc["schema"].str(), "kvmscope.report/1");
  EXPECT_EQ(doc["duration_s"].text, "1.0");
  EXPECT_EQ(doc["totals"]["hardware"].u64(), 40u);
  EXPECT_TRUE(doc["recording"]["complete"].boolean);
  EXPECT_TRUE(doc["recording"]["started_utc"].is_null());
  const Json& timeline = doc["timeline"];
  EXPECT_EQ(timeline["bucket_s"].text, "0.1");
  EXPECT_EQ(timeline["buckets"].u64(), 11u);
  ASSERT_EQ(timeline["series"].items.size(), 3u);
  EXPECT_EQ(timeline["series"].items[1]["reason"].str(), "io");
  EXPECT_EQ(timeline["series"].items[1]["counts"].items[5].u64(), 30u);
  EXPECT_EQ(doc["stability"].items[1]["reason"].str(), "cpuid");
  EXPECT_NEAR(doc["stability"].items[1]["cv"].number(), 0.31623, 1e-5);
  EXPECT_EQ(doc["bursts"]["threshold_exits"].u64(), 20u);
  ASSERT_EQ(doc["bursts"]["list"].items.size(), 1u);
  EXPECT_EQ(doc["bursts"]["list"].items[0]["start_s"].text, "0.5");
  EXPECT_EQ(doc["bursts"]["list"].items[0]["exits"].u64(), 31u);
  const Json& boot = doc["boots"].items.at(0);
  EXPECT_TRUE(boot["complete"].boolean);
  EXPECT_EQ(boot["end"].str(), "shutdown");
  EXPECT_EQ(boot["first_exit_after_s"].text, "0.01");
  ASSERT_EQ(boot["phases"].items.size(), 2u);
  EXPECT_EQ(boot["phases"].items[1]["label"].str(), "kernel");
  EXPECT_EQ(boot["phases"].items[1]["hardware_exits"].u64(), 35u);
  // --by port,msr: a table for port; msr has no events, so no table.
  ASSERT_EQ(doc["drilldowns"].items.size(), 1u);
  const Json& port = doc["drilldowns"].items[0];
  EXPECT_EQ(port["kind"].str(), "port");
  EXPECT_TRUE(port["vm_pid"].is_null());
  EXPECT_EQ(port["rows"].items[0]["value_text"].str(), "0x80");
  EXPECT_EQ(port["rows"].items[0]["direction"].str(), "out");
  EXPECT_EQ(port["rows"].items[0]["avg_ns"].u64(), 2000u);
  EXPECT_EQ(doc["stream"]["events"].u64(), 121u);
}

// Lines of the document's "exits" array.
std::vector<std::string> exit_lines(const std::string& document) {
  std::vector<std::string> lines;
  std::istringstream in(document.substr(document.find("\"exits\": [")));
  std::string line;
  std::getline(in, line);
  while (std::getline(in, line) && line.rfind("    {", 0) == 0) lines.push_back(line);
  return lines;
}

// Without its p90_ns and p999_ns fields.
std::string without_added_percentiles(std::string line) {
  for (const std::string field : {", \"p90_ns\": ", ", \"p999_ns\": "}) {
    const std::size_t at = line.find(field);
    if (at == std::string::npos) return "missing " + field;
    line.erase(at, line.find(',', at + 1) - at);
  }
  return line;
}

// The value of `field` ("p50_ns") in a JSON line, replaced by "_": the line without it.
std::string without_value(std::string line, const std::string& field, std::uint64_t* value) {
  const std::string key = "\"" + field + "\": ";
  const std::size_t at = line.find(key);
  if (at == std::string::npos) return "missing " + field;
  const std::size_t end = line.find(',', at);
  *value = std::stoull(line.substr(at + key.size(), end - at - key.size()));
  return line.replace(at + key.size(), end - at - key.size(), "_");
}

TEST(ReportJson, exits_are_those_of_the_stat_document_with_p90_and_p999_added) {
  // The fields differ only by the two added and by p50/p99: report's are the exact percentiles
  // (each exit of a reason takes the same time here: 2000 ns for io), stat's the middle of the
  // live histogram's slot, within 6.25 % (1983 ns: slot [1920, 2047]).
  const auto a = testing::tiny_analysis();
  std::ostringstream stat;
  render_json(a.snapshot, model::ReasonCatalog::builtin(), {}, stat);
  auto report_exits = exit_lines(json(a, tiny_options()));
  auto stat_exits = exit_lines(stat.str());
  EXPECT_EQ(report_exits.size(), 3u);
  ASSERT_EQ(stat_exits.size(), report_exits.size());
  EXPECT_NE(report_exits[0].find("\"p90_ns\": 2000, \"p99_ns\": 2000, \"p999_ns\": 2000"),
            std::string::npos)
      << report_exits[0];
  for (std::size_t i = 0; i < report_exits.size(); ++i) {
    std::string r = without_added_percentiles(report_exits[i]), l = stat_exits[i];
    for (const std::string field : {"p50_ns", "p99_ns"}) {
      std::uint64_t exact = 0, live = 0;
      r = without_value(r, field, &exact);
      l = without_value(l, field, &live);
      EXPECT_LE(live > exact ? live - exact : exact - live, exact / 16) << field << " " << l;
    }
    EXPECT_EQ(r, l);
  }
  EXPECT_NE(stat_exits[0].find("\"p50_ns\": 1983, \"p99_ns\": 1983"), std::string::npos)
      << stat_exits[0];
}

TEST(ReportJson, counts_lost_events_per_cpu_and_marks_a_cut_recording) {
  ReportOptions o = tiny_options();
  o.recording.lost_per_cpu = {0, 5};
  o.recording.complete = false;
  o.recording.realtime_offset_ns = 1'700'000'000'000'000'000LL - 1'000'000'000;
  const Json doc = Json::parse(json(testing::tiny_analysis(), o));
  EXPECT_EQ(doc["recording"]["lost_events"].u64(), 5u);
  EXPECT_EQ(doc["recording"]["lost_per_cpu"].items.at(1).u64(), 5u);
  EXPECT_FALSE(doc["recording"]["complete"].boolean);
  EXPECT_EQ(doc["recording"]["started_utc"].str(), "2023-11-14T22:13:20.000Z");
  EXPECT_EQ(doc["health"]["events_lost"].u64(), 5u);
  EXPECT_EQ(doc["notes"].items.size(), 2u);
}

TEST(ReportJson, counts_damage_in_lost_events_and_lists_each_stretch) {
  ReportOptions o = tiny_options();
  o.recording.lost_per_cpu = {0, 5};
  o.recording.damage = some_damage();
  o.recording.lost_to_damage = 5334;
  o.recording.lost_to_damage_exact = false;
  const Json doc = Json::parse(json(testing::tiny_analysis(), o));
  const Json& rec = doc["recording"];
  EXPECT_EQ(rec["lost_events"].u64(), 5339u) << "the ring buffer's 5 and the damage's 5,334";
  EXPECT_EQ(rec["lost_to_damage"].u64(), 5334u);
  EXPECT_FALSE(rec["lost_to_damage_exact"].boolean);
  EXPECT_EQ(doc["health"]["events_lost"].u64(), 5339u);
  ASSERT_EQ(rec["damage"].items.size(), 4u);
  const Json& first = rec["damage"].items[0];
  EXPECT_EQ(first["offset"].u64(), 123456u);
  EXPECT_EQ(first["end"].u64(), 187001u);
  EXPECT_EQ(first["block"].u64(), 7u);
  EXPECT_EQ(first["block_type"].str(), "events");
  EXPECT_EQ(first["reason"].str(), "payload CRC mismatch");
  EXPECT_EQ(first["events"].u64(), 4100u);
  EXPECT_TRUE(first["exact"].boolean);
  const Json& second = rec["damage"].items[1];
  EXPECT_TRUE(second["block"].is_null());
  EXPECT_TRUE(second["block_type"].is_null());
  EXPECT_FALSE(second["exact"].boolean);
  EXPECT_TRUE(rec["damage"].items[3]["events"].is_null());
  std::size_t damage_notes = 0;
  for (const Json& note : doc["notes"].items)
    damage_notes += note.str().starts_with("warning: corrupt: bytes ");
  EXPECT_EQ(damage_notes, 4u);
}

TEST(ReportJson, an_empty_recording_is_a_valid_document) {
  const Json doc = Json::parse(json(model::RecordingAnalysis().finish(), {}));
  EXPECT_EQ(doc["exits"].items.size(), 0u);
  EXPECT_EQ(doc["timeline"]["buckets"].u64(), 0u);
  EXPECT_TRUE(doc["timeline"]["active_span"].is_null());
  EXPECT_EQ(doc["bursts"]["found"].u64(), 0u);
}

TEST(Drilldowns, render_alone_for_stat_by) {
  model::DrillDown drill;
  model::ExitStats& msr = drill.at(model::msr_key(9, 0x1b, false, true));
  msr.count = 3;
  msr.timed = 1;
  msr.time_ns = msr.max_ns = 4000;
  msr.hist.add(4000);
  ReportOptions o;
  o.drilldowns = {model::DrillKind::msr};
  std::ostringstream text;
  render_drilldowns_text(drill, {}, o, text);
  EXPECT_EQ(text.str(), golden(R"(
MSR accesses (kvm:kvm_msr) by index, read/write and fault; time: of the exit each happened in
msr    access       count       %     time      avg      p50      p99      max
0x1b   read, fault      3  100.0%  4.00 us  4.00 us  3.97 us  3.97 us  4.00 us
total                   3  100.0%  4.00 us  4.00 us  3.97 us  3.97 us  4.00 us
)"));  // stat --by: the middle of the live histogram's slot [3840, 4095]
  std::ostringstream json;
  write_drilldowns_json(drill, o, json);
  const Json tables = Json::parse(json.str());
  ASSERT_EQ(tables.items.size(), 1u);
  const Json& row = tables.items[0]["rows"].items.at(0);
  EXPECT_EQ(row["value_text"].str(), "0x1b");
  EXPECT_FALSE(row["write"].boolean);
  EXPECT_TRUE(row["fault"].boolean);
  EXPECT_EQ(row["timed"].u64(), 1u);
}

TEST(Csv, quotes_only_what_needs_quoting) {
  EXPECT_EQ(csv_field("io"), "io");
  EXPECT_EQ(csv_field("UD excp"), "UD excp");
  EXPECT_EQ(csv_field("a,b"), "\"a,b\"");
  EXPECT_EQ(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
  EXPECT_EQ(csv_field("two\nlines"), "\"two\nlines\"");
  EXPECT_EQ(csv_field(" padded"), "\" padded\"");
}

std::string slurp(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

TEST(ReportCsv, writes_one_file_per_table_with_a_header_row) {
  const std::filesystem::path dir =
      std::filesystem::temp_directory_path() / ("kvmscope-csv-" + std::to_string(getpid()));
  std::filesystem::create_directory(dir);
  const auto written = write_report_csv((dir / "sub").string(), testing::tiny_analysis(),
                                        model::ReasonCatalog::builtin(), tiny_options());
  ASSERT_TRUE(written.ok()) << written.error().message();
  const auto file = [&](const char* name) { return slurp(dir / "sub" / name); };
  EXPECT_EQ(file("exits.csv"), golden(R"(
vm_pid,vm_name,vcpu,level,isa,code,code_text,reason,count,timed,time_ns,avg_ns,p50_ns,p99_ns,max_ns,p90_ns,p999_ns
7,tiny,0,hardware,svm,114,0x72,cpuid,10,10,10000,1000,1000,1000,1000,1000,1000
7,tiny,0,hardware,svm,123,0x7b,io,30,30,60000,2000,2000,2000,2000,2000,2000
7,tiny,0,vmm,none,8,8,KVM_EXIT_SHUTDOWN,1,0,0,0,0,0,0,0,0
)"));
  const std::string timeline = file("timeline.csv");
  EXPECT_EQ(timeline.substr(0, timeline.find('\n')),
            "start_s,end_s,hardware,vmm,hardware cpuid 0x72,hardware io 0x7b,vmm "
            "KVM_EXIT_SHUTDOWN 8");
  EXPECT_NE(timeline.find("\n0.5,0.6,31,0,1,30,0\n"), std::string::npos);
  EXPECT_EQ(std::count(timeline.begin(), timeline.end(), '\n'), 12);  // header + 11 buckets
  EXPECT_EQ(file("bursts.csv"), golden(R"(
start_s,duration_s,level,exits,peak_per_s,top_reasons
0.5,0.1,hardware,31,310,io 96.8%; cpuid 3.2%
)"));
  EXPECT_EQ(file("boot.csv"), golden(R"(
vm_pid,vm_name,complete,start,end,phase,start_s,end_s,duration_s,hardware_exits,vmm_exits,exits_per_s,top_reasons
7,tiny,true,command_started,shutdown,(boot),0.0,1.0,1.0,40,1,40,
7,tiny,true,command_started,shutdown,(start),0.0,0.5,0.5,5,0,10,cpuid 100.0%
7,tiny,true,command_started,shutdown,kernel,0.5,1.0,0.5,35,1,70,io 85.7%; cpuid 14.3%
)"));
  EXPECT_EQ(file("drill_port.csv"), golden(R"(
vm_pid,value,value_text,detail,count,percent,timed,time_ns,avg_ns,p50_ns,p99_ns,max_ns,p90_ns,p999_ns
,128,0x80,"out, 1 byte",30,100,30,60000,2000,2000,2000,2000,2000,2000
)"));
  EXPECT_EQ(file("drill_msr.csv"),
            "vm_pid,value,value_text,detail,count,percent,timed,time_ns,avg_ns,p50_ns,p99_ns,"
            "max_ns,p90_ns,p999_ns\n");
  EXPECT_NE(file("stability.csv").find("hardware,svm,114,0x72,cpuid,10,9.09"), std::string::npos);
  std::filesystem::remove_all(dir);
}

TEST(ReportCsv, makes_the_directory_named_but_none_above_it) {
  const std::filesystem::path dir =
      std::filesystem::temp_directory_path() / ("kvmscope-csv-above-" + std::to_string(getpid()));
  const auto written = write_report_csv((dir / "sub").string(), testing::tiny_analysis(),
                                        model::ReasonCatalog::builtin(), tiny_options());
  ASSERT_FALSE(written.ok());
  EXPECT_EQ(written.error().message(),
            "create directory " + (dir / "sub").string() + ": No such file or directory");
  EXPECT_FALSE(std::filesystem::exists(dir));
}

TEST(ReportCsv, says_which_directory_it_could_not_create) {
  const auto written = write_report_csv("/proc/no/such/dir", testing::tiny_analysis(),
                                        model::ReasonCatalog::builtin(), tiny_options());
  ASSERT_FALSE(written.ok());
  EXPECT_NE(written.error().message().find("/proc/no/such/dir"), std::string::npos);
}

}  // namespace
}  // namespace kvmscope::report
