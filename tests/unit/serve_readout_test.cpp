// serve::Readout, one readout of `kvmscope serve` on made-up counters: the page rendered from the
// snapshot (named VMs, version, BPF program times), drill-downs read only when asked, gzip only
// when asked, and the counters of a VM that ended freed once its grace is over.
#include "serve/readout.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "support/gone_pid.h"

namespace {

using namespace kvmscope;

using kvmscope::testing::gone_pid;

class FakeCounters : public serve::CounterSource {
 public:
  util::Result<model::Snapshot> snapshot() override {
    ++snapshots;
    return snap;
  }
  util::Result<model::DrillDown> drilldown() override {
    ++drilldowns;
    return model::DrillDown();
  }
  util::Result<void> forget_vms(std::span<const std::uint32_t> pids) override {
    forgotten.insert(forgotten.end(), pids.begin(), pids.end());
    return {};
  }
  std::optional<ProgramStats> program_stats() override {
    ProgramStats s;
    s.enabled = true;
    s.programs.push_back({"on_kvm_exit", 2'000'000'000, 7});
    return s;
  }

  model::Snapshot snap;
  int snapshots = 0, drilldowns = 0;
  std::vector<std::uint32_t> forgotten;
};

bool has(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

TEST(ServeReadout, renders_the_named_vms_version_and_program_times) {
  FakeCounters counters;
  const auto self = static_cast<std::uint32_t>(::getpid());
  model::ExitStats stats;
  stats.count = 42;
  counters.snap.exits[{self, 0, {model::Level::vmm, model::Isa::none, 2}}] = stats;
  counters.snap.vms[self] = {"web1", "qemu"};
  serve::PrometheusSeries series({}, model::ReasonCatalog::builtin());
  serve::Readout readout(counters, series, false, "9.9-test");

  auto page = readout(false);
  ASSERT_TRUE(page.ok()) << page.error().message();
  const std::string& body = (*page)->body;
  EXPECT_EQ((*page)->content_type, serve::kPromContentType);
  EXPECT_TRUE(has(body, "vm=\"web1\"")) << body;
  EXPECT_TRUE(has(body, "} 42\n")) << body;
  EXPECT_TRUE(has(body, "kvmscope_build_info{version=\"9.9-test\"} 1")) << body;
  EXPECT_TRUE(has(body, "kvmscope_bpf_program_runs_total{program=\"on_kvm_exit\"} 7")) << body;
  EXPECT_TRUE((*page)->gzip.empty()) << "not asked for";
  EXPECT_EQ(counters.drilldowns, 0) << "--no-drills";
  EXPECT_TRUE(counters.forgotten.empty()) << "a running VM is kept";

  auto zipped = readout(true);
  ASSERT_TRUE(zipped.ok());
  EXPECT_EQ((*zipped)->gzip.substr(0, 2), "\x1f\x8b");
}

// serve --counts-only: the same counters, read by a readout told that nothing is timed.
TEST(ServeReadout, leaves_out_the_handling_times_under_counts_only) {
  FakeCounters counters;
  const auto self = static_cast<std::uint32_t>(::getpid());
  model::ExitStats stats;
  stats.count = 42;  // counted, never timed: what the collector leaves with --counts-only
  counters.snap.exits[{self, 0, {model::Level::vmm, model::Isa::none, 2}}] = stats;
  counters.snap.vms[self] = {"web1", "qemu"};
  serve::PrometheusSeries series({}, model::ReasonCatalog::builtin());
  serve::Readout readout(counters, series, false, "v", /*timed=*/false);
  auto page = readout(false);
  ASSERT_TRUE(page.ok()) << page.error().message();
  const std::string& body = (*page)->body;
  EXPECT_TRUE(has(body, "kvmscope_exits_total{vm=\"web1\"")) << body;
  EXPECT_TRUE(has(body, "\nkvmscope_exit_handling_timed 0\n")) << body;
  EXPECT_FALSE(has(body, "\nkvmscope_exit_handling_seconds")) << body;
  EXPECT_FALSE(has(body, "# TYPE kvmscope_exit_handling_seconds")) << body;

  serve::PrometheusSeries timed_series({}, model::ReasonCatalog::builtin());
  serve::Readout timed(counters, timed_series, false, "v");
  auto timed_page = timed(false);
  ASSERT_TRUE(timed_page.ok());
  EXPECT_TRUE(has((*timed_page)->body, "\nkvmscope_exit_handling_timed 1\n"));
  EXPECT_TRUE(has((*timed_page)->body, "kvmscope_exit_handling_seconds_count{vm=\"web1\""));
}

TEST(ServeReadout, reads_the_drill_downs_when_asked_and_frees_a_vm_after_its_grace) {
  FakeCounters counters;
  const std::uint32_t ended = gone_pid();
  model::ExitStats stats;
  stats.count = 5;
  counters.snap.exits[{ended, 0, {model::Level::vmm, model::Isa::none, 2}}] = stats;
  counters.snap.vms[ended] = {"old", "qemu"};
  serve::PrometheusLimits limits;
  limits.grace_ns = 1;
  serve::PrometheusSeries series(limits, model::ReasonCatalog::builtin());
  serve::Readout readout(counters, series, true, "v");
  for (int i = 0; i < 3 && counters.forgotten.empty(); ++i) {
    ASSERT_TRUE(readout(false).ok());
    ::usleep(1000);
  }
  EXPECT_EQ(counters.drilldowns, counters.snapshots);
  EXPECT_EQ(counters.forgotten, std::vector<std::uint32_t>{ended});
}

}  // namespace
