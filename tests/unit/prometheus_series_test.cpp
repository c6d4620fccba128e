// Which series `serve` exports: labels from the reason catalog, the label limits with their
// "other" values (golden text), assignments that never change while a VM lives, and the grace
// period after which an ended VM's series go and its pid is handed out to be freed.
#include <gtest/gtest.h>

#include <initializer_list>
#include <set>
#include <sstream>
#include <string>

#include "serve/prometheus.h"
#include "serve/prometheus_series.h"

namespace kvmscope::serve {
namespace {

using model::Isa;
using model::Level;
using model::Reason;

constexpr std::uint64_t kSecond = 1'000'000'000;

model::ExitStats stats(std::uint64_t count, std::uint64_t ns_each = 0) {
  model::ExitStats s;
  s.count = count;
  if (ns_each) {
    s.timed = count;
    s.time_ns = count * ns_each;
    s.max_ns = ns_each;
    s.hist.slots[model::Histogram::slot_of(ns_each)] = count;
  }
  return s;
}

constexpr Reason vmm(std::uint32_t code) {
  return {Level::vmm, Isa::none, code};
}
constexpr Reason svm(std::uint32_t code) {
  return {Level::hardware, Isa::svm, code};
}

std::string render(const PrometheusPage& page) {
  std::ostringstream out;
  render_prometheus(page, out);
  return out.str();
}

std::string lines_with(const std::string& text, const std::string& prefix) {
  std::istringstream in(text);
  std::string out;
  for (std::string line; std::getline(in, line);)
    if (line.rfind(prefix, 0) == 0) out += line + "\n";
  return out;
}

std::string golden(const char* text) {
  return std::string(text).substr(1);
}

// Every pid alive except those listed.
auto alive_except(std::initializer_list<std::uint32_t> dead) {
  std::set<std::uint32_t> d(dead);
  return [d](std::uint32_t pid) { return !d.count(pid); };
}

// The value of the exits_total series whose labels contain all of `parts`, -1 if none.
std::int64_t exits(const PrometheusPage& page, std::initializer_list<std::string> parts) {
  std::istringstream in(render(page));
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("kvmscope_exits_total{", 0) != 0) continue;
    bool all = true;
    for (const auto& p : parts) all = all && line.find(p) != std::string::npos;
    if (all) return std::stoll(line.substr(line.rfind(' ') + 1));
  }
  return -1;
}

PrometheusSeries series(PrometheusLimits limits = {}) {
  return PrometheusSeries(limits, model::ReasonCatalog::builtin());
}

TEST(PrometheusSeries, labels_each_vm_vcpu_and_reason_with_the_catalog_names) {
  model::Snapshot snap;
  snap.vms[100] = {"web1", "qemu-system-x86"};
  snap.exits[{100, 0, svm(0x7b)}] = stats(1000, 4000);
  snap.exits[{100, 1, svm(0x7b)}] = stats(500, 4000);
  snap.exits[{100, model::kUnknownVcpu, vmm(2)}] = stats(40);
  auto s = series();
  const PrometheusPage page = s.update(snap, model::DrillDown(), alive_except({}), kSecond);
  EXPECT_EQ(lines_with(render(page), "kvmscope_exits_total{"), golden(R"(
kvmscope_exits_total{vm="web1",vm_pid="100",vcpu="0",level="hardware",isa="svm",reason="io",code="0x7b"} 1000
kvmscope_exits_total{vm="web1",vm_pid="100",vcpu="1",level="hardware",isa="svm",reason="io",code="0x7b"} 500
kvmscope_exits_total{vm="web1",vm_pid="100",vcpu="unknown",level="vmm",isa="none",reason="KVM_EXIT_IO",code="2"} 40
)"));
  // One histogram per VM and reason, summed over the vCPUs.
  ASSERT_EQ(page.handling.size(), 2u);
  EXPECT_EQ(page.handling[0].stats.timed, 1500u);
  EXPECT_EQ(page.vms_running, 1u);
}

TEST(PrometheusSeries, folds_vms_beyond_max_vms_into_other_with_golden_labels) {
  model::Snapshot snap;
  for (std::uint32_t pid : {10, 20, 30}) {
    snap.vms[pid] = {"vm" + std::to_string(pid), "qemu"};
    snap.exits[{pid, 0, vmm(2)}] = stats(pid);
    snap.exits[{pid, 1, vmm(5)}] = stats(1);
  }
  auto s = series({.max_vms = 1});
  const std::string text = render(s.update(snap, model::DrillDown(), alive_except({}), kSecond));
  EXPECT_EQ(lines_with(text, "kvmscope_exits_total{") +
                lines_with(text, "kvmscope_label_overflow_values{"),
            golden(R"(
kvmscope_exits_total{vm="vm10",vm_pid="10",vcpu="0",level="vmm",isa="none",reason="KVM_EXIT_IO",code="2"} 10
kvmscope_exits_total{vm="vm10",vm_pid="10",vcpu="1",level="vmm",isa="none",reason="KVM_EXIT_HLT",code="5"} 1
kvmscope_exits_total{vm="other",vm_pid="other",vcpu="other",level="vmm",isa="none",reason="KVM_EXIT_IO",code="2"} 50
kvmscope_exits_total{vm="other",vm_pid="other",vcpu="other",level="vmm",isa="none",reason="KVM_EXIT_HLT",code="5"} 2
kvmscope_label_overflow_values{label="vm"} 2
kvmscope_label_overflow_values{label="vcpu"} 0
kvmscope_label_overflow_values{label="reason"} 0
kvmscope_label_overflow_values{label="port"} 0
kvmscope_label_overflow_values{label="msr"} 0
)"));
}

TEST(PrometheusSeries, folds_reasons_beyond_max_reasons_keeping_level_and_isa) {
  model::Snapshot snap;
  snap.vms[7] = {"g", "g"};
  snap.exits[{7, 0, svm(0x72)}] = stats(10, 1000);
  snap.exits[{7, 0, svm(0x78)}] = stats(20, 1000);
  snap.exits[{7, 0, svm(0x7b)}] = stats(30, 1000);
  snap.exits[{7, 0, vmm(2)}] = stats(40, 1000);
  auto s = series({.max_reasons = 2});
  const PrometheusPage page = s.update(snap, model::DrillDown(), alive_except({}), kSecond);
  EXPECT_EQ(lines_with(render(page), "kvmscope_exits_total{"), golden(R"(
kvmscope_exits_total{vm="g",vm_pid="7",vcpu="0",level="hardware",isa="svm",reason="cpuid",code="0x72"} 10
kvmscope_exits_total{vm="g",vm_pid="7",vcpu="0",level="hardware",isa="svm",reason="hlt",code="0x78"} 20
kvmscope_exits_total{vm="g",vm_pid="7",vcpu="0",level="hardware",isa="svm",reason="other",code="other"} 30
kvmscope_exits_total{vm="g",vm_pid="7",vcpu="0",level="vmm",isa="none",reason="other",code="other"} 40
)"));
  // The folded reasons' handling times land in the "other" histograms too.
  std::uint64_t other_timed = 0;
  for (const auto& h : page.handling)
    if (h.reason.reason == "other") other_timed += h.stats.timed;
  EXPECT_EQ(other_timed, 70u);
}

TEST(PrometheusSeries, folds_vcpus_beyond_max_vcpus_but_never_the_unknown_one) {
  model::Snapshot snap;
  snap.vms[7] = {"g", "g"};
  for (std::uint32_t v = 0; v < 4; ++v) snap.exits[{7, v, vmm(2)}] = stats(1);
  snap.exits[{7, model::kUnknownVcpu, vmm(2)}] = stats(5);
  auto s = series({.max_vcpus = 2});
  const PrometheusPage page = s.update(snap, model::DrillDown(), alive_except({}), kSecond);
  EXPECT_EQ(exits(page, {"vcpu=\"0\""}), 1);
  EXPECT_EQ(exits(page, {"vcpu=\"1\""}), 1);
  EXPECT_EQ(exits(page, {"vcpu=\"other\""}), 2);
  EXPECT_EQ(exits(page, {"vcpu=\"unknown\""}), 5);
  EXPECT_EQ(page.overflows[1].label, "vcpu");
  EXPECT_EQ(page.overflows[1].values, 2u);
}

TEST(PrometheusSeries, folds_ports_and_msrs_beyond_their_limits) {
  model::Snapshot snap;
  snap.vms[7] = {"g", "g"};
  snap.exits[{7, 0, vmm(2)}] = stats(6);
  model::DrillDown drill;
  drill.at(model::port_key(7, 0x3f8, true, 1)) = stats(3);
  drill.at(model::port_key(7, 0x70, true, 1)) = stats(2);
  drill.at(model::port_key(7, 0x71, false, 1)) = stats(1);
  drill.at(model::msr_key(7, 0x1b, false, false)) = stats(4);
  drill.at(model::msr_key(7, 0x10, true, true)) = stats(1);
  drill.at(model::cpuid_key(7, 0)) = stats(9);  // not exported
  auto s = series({.max_ports = 1, .max_msrs = 1});
  const std::string text = render(s.update(snap, drill, alive_except({}), kSecond));
  EXPECT_EQ(lines_with(text, "kvmscope_pio_total{") + lines_with(text, "kvmscope_msr_total{"),
            golden(R"(
kvmscope_pio_total{vm="g",vm_pid="7",port="0x70",direction="out",size="1"} 2
kvmscope_pio_total{vm="g",vm_pid="7",port="other",direction="in",size="1"} 1
kvmscope_pio_total{vm="g",vm_pid="7",port="other",direction="out",size="1"} 3
kvmscope_msr_total{vm="g",vm_pid="7",msr="0x10",access="write_fault"} 1
kvmscope_msr_total{vm="g",vm_pid="7",msr="other",access="read"} 4
)"));
}

TEST(PrometheusSeries, keeps_an_assignment_for_the_life_of_a_vm) {
  // Reason 0x78 came second and got the last slot: it keeps it even when a reason that sorts
  // first appears later (that one goes to "other"), so no counter ever moves between series.
  model::Snapshot snap;
  snap.vms[7] = {"g", "g"};
  snap.exits[{7, 0, svm(0x7b)}] = stats(1);
  snap.exits[{7, 0, svm(0x78)}] = stats(1);
  auto s = series({.max_reasons = 2});
  (void)s.update(snap, model::DrillDown(), alive_except({}), kSecond);
  snap.exits[{7, 0, svm(0x60)}] = stats(5);
  snap.exits[{7, 0, svm(0x7b)}] = stats(2);
  const PrometheusPage page = s.update(snap, model::DrillDown(), alive_except({}), 2 * kSecond);
  EXPECT_EQ(exits(page, {"reason=\"io\""}), 2);
  EXPECT_EQ(exits(page, {"reason=\"hlt\""}), 1);
  EXPECT_EQ(exits(page, {"reason=\"other\""}), 5);
}

TEST(PrometheusSeries, keeps_an_ended_vm_for_the_grace_period_then_forgets_it) {
  model::Snapshot snap;
  snap.vms[7] = {"g", "g"};
  snap.exits[{7, 0, vmm(2)}] = stats(1000);
  auto s = series({.grace_ns = 60 * kSecond});
  (void)s.update(snap, model::DrillDown(), alive_except({}), kSecond);
  // It ends at t=2 s: still exported, with its final count, as ended.
  PrometheusPage page = s.update(snap, model::DrillDown(), alive_except({7}), 2 * kSecond);
  EXPECT_EQ(exits(page, {"vm_pid=\"7\""}), 1000);
  EXPECT_EQ(page.vms_ended, 1u);
  EXPECT_TRUE(s.take_forgotten().empty());
  page = s.update(snap, model::DrillDown(), alive_except({7}), 61 * kSecond);
  EXPECT_EQ(exits(page, {"vm_pid=\"7\""}), 1000);
  // At t=62 s its grace is over: its series go, and its pid is handed out to be freed.
  page = s.update(snap, model::DrillDown(), alive_except({7}), 62 * kSecond);
  EXPECT_EQ(exits(page, {"vm_pid=\"7\""}), -1);
  EXPECT_EQ(page.vms_ended, 0u);
  EXPECT_EQ(s.take_forgotten(), std::vector<std::uint32_t>{7});
  EXPECT_TRUE(s.take_forgotten().empty());
}

TEST(PrometheusSeries, goes_on_with_a_vm_whose_pid_runs_again_within_the_grace_period) {
  model::Snapshot snap;
  snap.vms[7] = {"g", "g"};
  snap.exits[{7, 0, vmm(2)}] = stats(10);
  auto s = series({.grace_ns = 10 * kSecond});
  (void)s.update(snap, model::DrillDown(), alive_except({7}), kSecond);  // ended
  snap.exits[{7, 0, vmm(2)}] = stats(15);  // a new process with that pid counts on
  PrometheusPage page = s.update(snap, model::DrillDown(), alive_except({}), 2 * kSecond);
  EXPECT_EQ(page.vms_running, 1u);
  page = s.update(snap, model::DrillDown(), alive_except({}), 20 * kSecond);
  EXPECT_EQ(exits(page, {"vm_pid=\"7\""}), 15);
  EXPECT_TRUE(s.take_forgotten().empty());
}

TEST(PrometheusSeries, gives_a_forgotten_vms_slot_to_the_next_new_vm_only) {
  model::Snapshot snap;
  snap.vms[1] = {"a", "a"};
  snap.vms[2] = {"b", "b"};
  snap.exits[{1, 0, vmm(2)}] = stats(1);
  snap.exits[{2, 0, vmm(2)}] = stats(2);
  auto s = series({.max_vms = 1, .grace_ns = kSecond});
  (void)s.update(snap, model::DrillDown(), alive_except({}), kSecond);
  (void)s.update(snap, model::DrillDown(), alive_except({1}), 2 * kSecond);
  (void)s.update(snap, model::DrillDown(), alive_except({1}), 3 * kSecond);  // 1 forgotten
  ASSERT_EQ(s.take_forgotten(), std::vector<std::uint32_t>{1});
  snap.exits.erase({1, 0, vmm(2)});  // the collector freed it
  snap.vms[3] = {"c", "c"};
  snap.exits[{3, 0, vmm(2)}] = stats(3);
  const PrometheusPage page = s.update(snap, model::DrillDown(), alive_except({1}), 4 * kSecond);
  // VM 2 overflowed while 1 lived and stays in "other"; VM 3 gets the freed slot.
  EXPECT_EQ(exits(page, {"vm_pid=\"3\""}), 3);
  EXPECT_EQ(exits(page, {"vm_pid=\"other\""}), 2);
  EXPECT_EQ(exits(page, {"vm_pid=\"2\""}), -1);
}

TEST(PrometheusSeries, never_lowers_other_when_an_overflowing_vm_is_forgotten) {
  model::Snapshot snap;
  snap.vms[1] = {"a", "a"};
  snap.exits[{1, 0, vmm(2)}] = stats(1);
  snap.exits[{2, 0, vmm(2)}] = stats(20);
  snap.exits[{3, 0, vmm(2)}] = stats(300);
  auto s = series({.max_vms = 1, .grace_ns = kSecond});
  PrometheusPage page = s.update(snap, model::DrillDown(), alive_except({}), kSecond);
  EXPECT_EQ(exits(page, {"vm_pid=\"other\""}), 320);
  (void)s.update(snap, model::DrillDown(), alive_except({2}), 2 * kSecond);
  page = s.update(snap, model::DrillDown(), alive_except({2}), 3 * kSecond);
  ASSERT_EQ(s.take_forgotten(), std::vector<std::uint32_t>{2});
  snap.exits.erase({2, 0, vmm(2)});  // the collector freed VM 2's counters
  snap.exits[{3, 0, vmm(2)}] = stats(301);
  page = s.update(snap, model::DrillDown(), alive_except({2}), 4 * kSecond);
  EXPECT_EQ(exits(page, {"vm_pid=\"other\""}), 321);
  EXPECT_EQ(page.overflows[0].values, 1u);  // only VM 3 is still folded in
}

TEST(PrometheusSeries, names_a_vm_the_snapshot_has_no_name_for_by_its_pid) {
  model::Snapshot snap;
  snap.exits[{99, 0, vmm(2)}] = stats(1);
  auto s = series();
  EXPECT_EQ(exits(s.update(snap, model::DrillDown(), alive_except({}), kSecond), {"vm=\"pid 99\""}),
            1);
}

}  // namespace
}  // namespace kvmscope::serve
