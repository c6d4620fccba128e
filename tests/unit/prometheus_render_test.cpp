// The Prometheus exposition renderer against golden text: families with HELP and TYPE, label
// escaping, cumulative histogram buckets from the log2 slots, exact decimal seconds; and, where
// Prometheus' promtool is installed, that it accepts the page.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <sstream>
#include <string>

#include "serve/prometheus.h"

namespace kvmscope::serve {
namespace {

std::string render(const PrometheusPage& page) {
  std::ostringstream out;
  render_prometheus(page, out);
  return out.str();
}

// Golden texts are raw literals that start on the line after R"(, for readability.
std::string golden(const char* text) {
  return std::string(text).substr(1);
}

PromReasonLabels vmm_io() {
  return {"vmm", "none", "KVM_EXIT_IO", "2"};
}

// The lines of `text` that start with `prefix`.
std::string lines_with(const std::string& text, const std::string& prefix) {
  std::istringstream in(text);
  std::string out;
  for (std::string line; std::getline(in, line);)
    if (line.rfind(prefix, 0) == 0) out += line + "\n";
  return out;
}

// One VM with one exit series, a histogram with times in three slots, a port and an MSR.
PrometheusPage small_page() {
  PrometheusPage p;
  p.version = "0.1.0";
  p.vms = {{"web1", "4242"}};
  p.exits = {{0, "0", vmm_io(), 1000}};
  model::ExitStats s;
  s.count = 1000;
  s.timed = 1000;
  s.time_ns = 600 * 990 + 5000 * 9 + 20'000'000'000ull;  // 990 x 600 ns, 9 x 5 us, 1 x 20 s
  s.hist.slots[model::Histogram::slot_of(600)] = 990;
  s.hist.slots[model::Histogram::slot_of(5000)] = 9;
  s.hist.slots[model::Histogram::slot_of(20'000'000'000ull)] = 1;
  p.handling = {{0, vmm_io(), s}};
  p.ports = {{0, "0x10", "out", "1", 1000}};
  p.msrs = {{0, "0x1a0", "read_fault", 3}};
  p.vms_running = 1;
  p.overflows = {{"vm", 0}, {"reason", 2}};
  p.health.exits_not_stored = 7;
  p.readout_ns = 1'234'000;
  p.readout_unix_ns = 1'700'000'000'500'000'000ull;
  return p;
}

TEST(PrometheusRender, writes_each_family_with_help_and_type_then_its_samples) {
  const std::string text = render(small_page());
  EXPECT_EQ(lines_with(text, "kvmscope_exits_total") + lines_with(text, "kvmscope_pio_total") +
                lines_with(text, "kvmscope_msr_total"),
            golden(R"(
kvmscope_exits_total{vm="web1",vm_pid="4242",vcpu="0",level="vmm",isa="none",reason="KVM_EXIT_IO",code="2"} 1000
kvmscope_pio_total{vm="web1",vm_pid="4242",port="0x10",direction="out",size="1"} 1000
kvmscope_msr_total{vm="web1",vm_pid="4242",msr="0x1a0",access="read_fault"} 3
)"));
  EXPECT_NE(text.find("# HELP kvmscope_exits_total VM exits, per VM, vCPU and reason."),
            std::string::npos);
  EXPECT_NE(text.find("# TYPE kvmscope_exits_total counter\n"), std::string::npos);
  EXPECT_NE(text.find("# TYPE kvmscope_exit_handling_seconds histogram\n"), std::string::npos);
  EXPECT_EQ(lines_with(text, "kvmscope_collector_") + lines_with(text, "kvmscope_vms") +
                lines_with(text, "kvmscope_label_overflow_values") +
                lines_with(text, "kvmscope_readout_") + lines_with(text, "kvmscope_build_info"),
            golden(R"(
kvmscope_collector_exits_not_stored_total 7
kvmscope_collector_events_lost_total 0
kvmscope_collector_threads_not_stored_total 0
kvmscope_collector_targets_not_stored_total 0
kvmscope_vms{state="running"} 1
kvmscope_vms{state="ended"} 0
kvmscope_label_overflow_values{label="vm"} 0
kvmscope_label_overflow_values{label="reason"} 2
kvmscope_readout_duration_seconds 0.001234
kvmscope_readout_timestamp_seconds 1700000000.5
kvmscope_build_info{version="0.1.0"} 1
)"));
}

TEST(PrometheusRender, writes_cumulative_half_octave_buckets_up_to_inf) {
  const std::string text = render(small_page());
  // Two buckets per power of two, at 1.5 x 2^k - 1 and 2^(k+1) - 1 ns: 600 ns is counted from
  // le=767 ns on, 5 us from le=6143 ns on, 20 s only in +Inf (above 8.59 s).
  EXPECT_EQ(lines_with(text, "kvmscope_exit_handling_seconds_"), golden(R"(
kvmscope_exit_handling_seconds_bucket{vm="web1",vm_pid="4242",level="vmm",isa="none",reason="KVM_EXIT_IO",code="2",le="0.000000191"} 0
kvmscope_exit_handling_seconds_bucket{vm="web1",vm_pid="4242",level="vmm",isa="none",reason="KVM_EXIT_IO",code="2",le="0.000000255"} 0
kvmscope_exit_handling_seconds_bucket{vm="web1",vm_pid="4242",level="vmm",isa="none",reason="KVM_EXIT_IO",code="2",le="0.000000383"} 0
kvmscope_exit_handling_seconds_bucket{vm="web1",vm_pid="4242",level="vmm",isa="none",reason="KVM_EXIT_IO",code="2",le="0.000000511"} 0
kvmscope_exit_handling_seconds_bucket{vm="web1",vm_pid="4242",level="vmm",isa="none",reason="KVM_EXIT_IO",code="2",le="0.000000767"} 990
kvmscope_exit_handling_seconds_bucket{vm="web1",vm_pid="4242",level="vmm",isa="none",reason="KVM_EXIT_IO",code="2",le="0.000001023"} 990
kvmscope_exit_handling_seconds_bucket{vm="web1",vm_pid="4242",level="vmm",isa="none",reason="KVM_EXIT_IO",code="2",le="0.000001535"} 990
kvmscope_exit_handling_seconds_bucket{vm="web1",vm_pid="4242",level="vmm",isa="none",reason="KVM_EXIT_IO",code="2",le="0.000002047"} 990
kvmscope_exit_handling_seconds_bucket{vm="web1",vm_pid="4242",level="vmm",isa="none",reason="KVM_EXIT_IO",code="2",le="0.000003071"} 990
kvmscope_exit_handling_seconds_bucket{vm="web1",vm_pid="4242",level="vmm",isa="none",reason="KVM_EXIT_IO",code="2",le="0.000004095"} 990
kvmscope_exit_handling_seconds_bucket{vm="web1",vm_pid="4242",level="vmm",isa="none",reason="KVM_EXIT_IO",code="2",le="0.000006143"} 999
kvmscope_exit_handling_seconds_bucket{vm="web1",vm_pid="4242",level="vmm",isa="none",reason="KVM_EXIT_IO",code="2",le="0.000008191"} 999
kvmscope_exit_handling_seconds_bucket{vm="web1",vm_pid="4242",level="vmm",isa="none",reason="KVM_EXIT_IO",code="2",le="0.000012287"} 999
kvmscope_exit_handling_seconds_bucket{vm="web1",vm_pid="4242",level="vmm",isa="none",reason="KVM_EXIT_IO",code="2",le="0.000016383"} 999
kvmscope_exit_handling_seconds_bucket{vm="web1",vm_pid="4242",level="vmm",isa="none",reason="KVM_EXIT_IO",code="2",le="0.000024575"} 999
kvmscope_exit_handling_seconds_bucket{vm="web1",vm_pid="4242",level="vmm",isa="none",reason="KVM_EXIT_IO",code="2",le="0.000032767"} 999
kvmscope_exit_handling_seconds_bucket{vm="web1",vm_pid="4242",level="vmm",isa="none",reason="KVM_EXIT_IO",code="2",le="0.000049151"} 999
kvmscope_exit_handling_seconds_bucket{vm="web1",vm_pid="4242",level="vmm",isa="none",reason="KVM_EXIT_IO",code="2",le="0.000065535"} 999
kvmscope_exit_handling_seconds_bucket{vm="web1",vm_pid="4242",level="vmm",isa="none",reason="KVM_EXIT_IO",code="2",le="0.000098303"} 999
kvmscope_exit_handling_seconds_bucket{vm="web1",vm_pid="4242",level="vmm",isa="none",reason="KVM_EXIT_IO",code="2",le="0.000131071"} 999
kvmscope_exit_handling_seconds_bucket{vm="web1",vm_pid="4242",level="vmm",isa="none",reason="KVM_EXIT_IO",code="2",le="0.000196607"} 999
kvmscope_exit_handling_seconds_bucket{vm="web1",vm_pid="4242",level="vmm",isa="none",reason="KVM_EXIT_IO",code="2",le="0.000262143"} 999
kvmscope_exit_handling_seconds_bucket{vm="web1",vm_pid="4242",level="vmm",isa="none",reason="KVM_EXIT_IO",code="2",le="0.000393215"} 999
kvmscope_exit_handling_seconds_bucket{vm="web1",vm_pid="4242",level="vmm",isa="none",reason="KVM_EXIT_IO",code="2",le="0.000524287"} 999
kvmscope_exit_handling_seconds_bucket{vm="web1",vm_pid="4242",level="vmm",isa="none",reason="KVM_EXIT_IO",code="2",le="0.000786431"} 999
kvmscope_exit_handling_seconds_bucket{vm="web1",vm_pid="4242",level="vmm",isa="none",reason="KVM_EXIT_IO",code="2",le="0.001048575"} 999
kvmscope_exit_handling_seconds_bucket{vm="web1",vm_pid="4242",level="vmm",isa="none",reason="KVM_EXIT_IO",code="2",le="0.001572863"} 999
kvmscope_exit_handling_seconds_bucket{vm="web1",vm_pid="4242",level="vmm",isa="none",reason="KVM_EXIT_IO",code="2",le="0.002097151"} 999
kvmscope_exit_handling_seconds_bucket{vm="web1",vm_pid="4242",level="vmm",isa="none",reason="KVM_EXIT_IO",code="2",le="0.003145727"} 999
kvmscope_exit_handling_seconds_bucket{vm="web1",vm_pid="4242",level="vmm",isa="none",reason="KVM_EXIT_IO",code="2",le="0.004194303"} 999
kvmscope_exit_handling_seconds_bucket{vm="web1",vm_pid="4242",level="vmm",isa="none",reason="KVM_EXIT_IO",code="2",le="0.006291455"} 999
kvmscope_exit_handling_seconds_bucket{vm="web1",vm_pid="4242",level="vmm",isa="none",reason="KVM_EXIT_IO",code="2",le="0.008388607"} 999
kvmscope_exit_handling_seconds_bucket{vm="web1",vm_pid="4242",level="vmm",isa="none",reason="KVM_EXIT_IO",code="2",le="0.012582911"} 999
kvmscope_exit_handling_seconds_bucket{vm="web1",vm_pid="4242",level="vmm",isa="none",reason="KVM_EXIT_IO",code="2",le="0.016777215"} 999
kvmscope_exit_handling_seconds_bucket{vm="web1",vm_pid="4242",level="vmm",isa="none",reason="KVM_EXIT_IO",code="2",le="0.025165823"} 999
kvmscope_exit_handling_seconds_bucket{vm="web1",vm_pid="4242",level="vmm",isa="none",reason="KVM_EXIT_IO",code="2",le="0.033554431"} 999
kvmscope_exit_handling_seconds_bucket{vm="web1",vm_pid="4242",level="vmm",isa="none",reason="KVM_EXIT_IO",code="2",le="0.050331647"} 999
kvmscope_exit_handling_seconds_bucket{vm="web1",vm_pid="4242",level="vmm",isa="none",reason="KVM_EXIT_IO",code="2",le="0.067108863"} 999
kvmscope_exit_handling_seconds_bucket{vm="web1",vm_pid="4242",level="vmm",isa="none",reason="KVM_EXIT_IO",code="2",le="0.100663295"} 999
kvmscope_exit_handling_seconds_bucket{vm="web1",vm_pid="4242",level="vmm",isa="none",reason="KVM_EXIT_IO",code="2",le="0.134217727"} 999
kvmscope_exit_handling_seconds_bucket{vm="web1",vm_pid="4242",level="vmm",isa="none",reason="KVM_EXIT_IO",code="2",le="0.201326591"} 999
kvmscope_exit_handling_seconds_bucket{vm="web1",vm_pid="4242",level="vmm",isa="none",reason="KVM_EXIT_IO",code="2",le="0.268435455"} 999
kvmscope_exit_handling_seconds_bucket{vm="web1",vm_pid="4242",level="vmm",isa="none",reason="KVM_EXIT_IO",code="2",le="0.402653183"} 999
kvmscope_exit_handling_seconds_bucket{vm="web1",vm_pid="4242",level="vmm",isa="none",reason="KVM_EXIT_IO",code="2",le="0.536870911"} 999
kvmscope_exit_handling_seconds_bucket{vm="web1",vm_pid="4242",level="vmm",isa="none",reason="KVM_EXIT_IO",code="2",le="0.805306367"} 999
kvmscope_exit_handling_seconds_bucket{vm="web1",vm_pid="4242",level="vmm",isa="none",reason="KVM_EXIT_IO",code="2",le="1.073741823"} 999
kvmscope_exit_handling_seconds_bucket{vm="web1",vm_pid="4242",level="vmm",isa="none",reason="KVM_EXIT_IO",code="2",le="1.610612735"} 999
kvmscope_exit_handling_seconds_bucket{vm="web1",vm_pid="4242",level="vmm",isa="none",reason="KVM_EXIT_IO",code="2",le="2.147483647"} 999
kvmscope_exit_handling_seconds_bucket{vm="web1",vm_pid="4242",level="vmm",isa="none",reason="KVM_EXIT_IO",code="2",le="3.221225471"} 999
kvmscope_exit_handling_seconds_bucket{vm="web1",vm_pid="4242",level="vmm",isa="none",reason="KVM_EXIT_IO",code="2",le="4.294967295"} 999
kvmscope_exit_handling_seconds_bucket{vm="web1",vm_pid="4242",level="vmm",isa="none",reason="KVM_EXIT_IO",code="2",le="6.442450943"} 999
kvmscope_exit_handling_seconds_bucket{vm="web1",vm_pid="4242",level="vmm",isa="none",reason="KVM_EXIT_IO",code="2",le="8.589934591"} 999
kvmscope_exit_handling_seconds_bucket{vm="web1",vm_pid="4242",level="vmm",isa="none",reason="KVM_EXIT_IO",code="2",le="+Inf"} 1000
kvmscope_exit_handling_seconds_sum{vm="web1",vm_pid="4242",level="vmm",isa="none",reason="KVM_EXIT_IO",code="2"} 20.000639
kvmscope_exit_handling_seconds_count{vm="web1",vm_pid="4242",level="vmm",isa="none",reason="KVM_EXIT_IO",code="2"} 1000
)"));
}

TEST(PrometheusRender, folds_slots_below_the_first_bound_into_the_first_bucket) {
  PrometheusPage p = small_page();
  model::ExitStats s;
  s.timed = 3;
  s.time_ns = 0 + 1 + 100;
  s.hist.slots[0] = 2;  // 0 and 1 ns
  s.hist.slots[model::Histogram::slot_of(100)] = 1;
  p.handling = {{0, vmm_io(), s}};
  const std::string text = render(p);
  EXPECT_NE(text.find("le=\"0.000000255\"} 3\n"), std::string::npos);
  EXPECT_NE(text.find("le=\"+Inf\"} 3\n"), std::string::npos);
  EXPECT_NE(text.find("_sum{vm=\"web1\",vm_pid=\"4242\",level=\"vmm\",isa=\"none\",reason="
                      "\"KVM_EXIT_IO\",code=\"2\"} 0.000000101\n"),
            std::string::npos);
}

TEST(PrometheusRender, never_puts_inf_below_a_bucket_when_a_readout_races_the_kernel) {
  // The kernel adds to a slot right after `timed`: a readout can see the slot but not yet the
  // count the other way round. +Inf and _count take the larger.
  PrometheusPage p = small_page();
  model::ExitStats s;
  s.timed = 4;
  s.hist.slots[model::Histogram::slot_of(600)] = 5;
  p.handling = {{0, vmm_io(), s}};
  const std::string text = render(p);
  EXPECT_NE(text.find("le=\"8.589934591\"} 5\n"), std::string::npos);
  EXPECT_NE(text.find("le=\"+Inf\"} 5\n"), std::string::npos);
  EXPECT_NE(text.find("code=\"2\"} 5\n", text.find("kvmscope_exit_handling_seconds_count")),
            std::string::npos);
}

TEST(PrometheusRender, escapes_backslash_quote_and_newline_in_label_values) {
  PrometheusPage p = small_page();
  p.vms = {{"a\\b \"c\"\nd", "1"}};
  const std::string text = render(p);
  EXPECT_EQ(lines_with(text, "kvmscope_exits_total{"),
            "kvmscope_exits_total{vm=\"a\\\\b \\\"c\\\"\\nd\",vm_pid=\"1\",vcpu=\"0\",level="
            "\"vmm\",isa=\"none\",reason=\"KVM_EXIT_IO\",code=\"2\"} 1000\n");
  EXPECT_EQ(prom_label_value("back\\slash"), "back\\\\slash");
  EXPECT_EQ(prom_label_value("\"q\""), "\\\"q\\\"");
  EXPECT_EQ(prom_label_value("two\nlines"), "two\\nlines");
  EXPECT_EQ(prom_label_value("tab\tstays"), "tab\tstays");
}

TEST(PrometheusRender, replaces_bytes_that_are_not_utf8_in_label_values) {
  EXPECT_EQ(prom_label_value("caf\xc3\xa9"), "caf\xc3\xa9");                  // valid: kept
  EXPECT_EQ(prom_label_value("bad\xff"), "bad\xef\xbf\xbd");                  // stray byte
  EXPECT_EQ(prom_label_value("cut\xe2\x82"), "cut\xef\xbf\xbd\xef\xbf\xbd");  // truncated
  EXPECT_EQ(prom_label_value("\xed\xa0\x80"), "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");  // surrogate
}

TEST(PrometheusRender, escapes_the_version_like_any_label_value) {
  PrometheusPage p = small_page();
  p.version = "1.0\"rc\"";
  EXPECT_NE(render(p).find("kvmscope_build_info{version=\"1.0\\\"rc\\\"\"} 1\n"),
            std::string::npos);
}

TEST(PrometheusRender, writes_nanoseconds_as_exact_decimal_seconds) {
  EXPECT_EQ(prom_seconds(0), "0");
  EXPECT_EQ(prom_seconds(1), "0.000000001");
  EXPECT_EQ(prom_seconds(255), "0.000000255");
  EXPECT_EQ(prom_seconds(1'500'000'000), "1.5");
  EXPECT_EQ(prom_seconds(2'000'000'000), "2");
  EXPECT_EQ(prom_seconds(18'446'744'073'709'551'615ull), "18446744073.709551615");
}

TEST(PrometheusRender, writes_bpf_program_times_only_while_the_kernel_counts_them) {
  PrometheusPage p = small_page();
  p.bpf_programs = {{"on_userspace_exit", 4'691'265, 35071}};
  std::string off = render(p);
  EXPECT_NE(off.find("kvmscope_bpf_stats_enabled 0\n"), std::string::npos);
  EXPECT_EQ(off.find("kvmscope_bpf_program_run"), std::string::npos);
  p.bpf_stats_enabled = true;
  const std::string on = render(p);
  EXPECT_EQ(lines_with(on, "kvmscope_bpf_"), golden(R"(
kvmscope_bpf_stats_enabled 1
kvmscope_bpf_program_run_seconds_total{program="on_userspace_exit"} 0.004691265
kvmscope_bpf_program_runs_total{program="on_userspace_exit"} 35071
)"));
}

TEST(PrometheusRender, writes_every_family_even_without_vms) {
  const std::string text = render(PrometheusPage{});
  for (const char* family :
       {"kvmscope_exits_total counter", "kvmscope_exit_handling_seconds histogram",
        "kvmscope_pio_total counter", "kvmscope_msr_total counter",
        "kvmscope_collector_events_lost_total counter", "kvmscope_build_info gauge"})
    EXPECT_NE(text.find(std::string("# TYPE ") + family + "\n"), std::string::npos) << family;
  EXPECT_EQ(text.find("kvmscope_exits_total{"), std::string::npos);
}

// --counts-only: nothing is timed, so the histogram is left out altogether (series of zeros would
// read as instant handling); the gauge says whether handling times are measured.
TEST(PrometheusRender, leaves_the_handling_histogram_out_when_nothing_is_timed) {
  const std::string timed = render(small_page());
  EXPECT_EQ(lines_with(timed, "kvmscope_exit_handling_timed"), "kvmscope_exit_handling_timed 1\n");
  EXPECT_NE(timed.find("# TYPE kvmscope_exit_handling_seconds histogram\n"), std::string::npos);

  PrometheusPage p = small_page();
  p.handling_timed = false;
  const std::string counted = render(p);
  EXPECT_EQ(lines_with(counted, "kvmscope_exit_handling_"), "kvmscope_exit_handling_timed 0\n");
  EXPECT_EQ(lines_with(counted, "# TYPE kvmscope_exit_handling_"),
            "# TYPE kvmscope_exit_handling_timed gauge\n");
  // No family, no series (the gauge's HELP names it, nothing else does).
  EXPECT_EQ(lines_with(counted, "kvmscope_exit_handling_seconds"), "");
  EXPECT_EQ(counted.find("# TYPE kvmscope_exit_handling_seconds"), std::string::npos) << counted;
  // Everything else is as it was: the exit counts, the drill-downs, the health.
  EXPECT_EQ(
      lines_with(counted, "kvmscope_exits_total{") + lines_with(counted, "kvmscope_pio_total{"),
      lines_with(timed, "kvmscope_exits_total{") + lines_with(timed, "kvmscope_pio_total{"));
  EXPECT_NE(counted.find("# HELP kvmscope_exit_handling_timed 1 when exit handling times are "
                         "measured"),
            std::string::npos);
}

// promtool's verdict on one page: no error, no lint finding.
void lint(const std::string& text) {
  char path[] = "/tmp/prometheus_render_test_XXXXXX";
  const int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(write(fd, text.data(), text.size()), static_cast<ssize_t>(text.size()));
  close(fd);
  const std::string command = "promtool check metrics < " + std::string(path) + " 2>&1";
  std::string output;
  FILE* pipe = popen(command.c_str(), "r");
  ASSERT_NE(pipe, nullptr);
  char buf[512];
  while (fgets(buf, sizeof buf, pipe)) output += buf;
  const int status = pclose(pipe);
  unlink(path);
  EXPECT_EQ(status, 0) << output;
  EXPECT_EQ(output, "") << "promtool's lint findings";
}

// promtool (Debian's prometheus package) lints the page as Prometheus itself would parse it.
TEST(PrometheusRender, passes_promtool_check_metrics) {
  if (std::system("command -v promtool >/dev/null 2>&1") != 0)
    GTEST_SKIP() << "promtool is not installed (Debian package prometheus)";
  PrometheusPage p = small_page();
  p.vms.push_back({"other", "other"});
  p.exits.push_back({1, "other", {"vmm", "none", "other", "other"}, 5});
  p.bpf_stats_enabled = true;
  p.bpf_programs = {{"on_pio", 1, 2}};
  for (bool timed : {true, false}) {
    SCOPED_TRACE(timed ? "timed" : "--counts-only");
    p.handling_timed = timed;
    lint(render(p));
  }
}

}  // namespace
}  // namespace kvmscope::serve
