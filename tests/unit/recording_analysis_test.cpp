// RecordingAnalysis on tiny hand-made event streams: every count and time below is worked out
// by hand from the events listed in the test.
#include "model/recording_analysis.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include "model/summary.h"

namespace kvmscope::model {
namespace {

constexpr std::uint32_t kVm = 100;
constexpr std::uint32_t kTid0 = 1000;  // vCPU 0's thread
constexpr std::uint32_t kTid1 = 1001;  // vCPU 1's thread

ks_event ev(std::uint64_t ts, std::uint8_t type, std::uint32_t tid, std::uint32_t vcpu,
            std::uint64_t a = 0, std::uint64_t b = 0, std::uint64_t c = 0,
            std::uint32_t tgid = kVm) {
  ks_event e{};
  e.ts_ns = ts;
  e.tgid = tgid;
  e.tid = tid;
  e.vcpu = vcpu;
  e.type = type;
  e.a = a;
  e.b = b;
  e.c = c;
  return e;
}

// Hardware exit with a VMX reason / an SVM code.
ks_event vmx_exit(std::uint64_t ts, std::uint32_t tid, std::uint32_t vcpu, std::uint32_t code) {
  return ev(ts, KS_EV_EXIT, tid, vcpu, code, KS_ISA_VMX);
}
ks_event entry(std::uint64_t ts, std::uint32_t tid, std::uint32_t vcpu) {
  return ev(ts, KS_EV_ENTRY, tid, vcpu);
}
ks_event uexit(std::uint64_t ts, std::uint32_t tid, std::uint32_t code,
               std::uint32_t vcpu = KS_VCPU_UNKNOWN) {
  return ev(ts, KS_EV_USERSPACE_EXIT, tid, vcpu, code);
}
ks_event kvm_run(std::uint64_t ts, std::uint32_t tid) {
  return ev(ts, KS_EV_KVM_RUN, tid, KS_VCPU_UNKNOWN);
}

constexpr Reason vmx(std::uint32_t code) {
  return {Level::hardware, Isa::vmx, code};
}
constexpr Reason vmm(std::uint32_t code) {
  return {Level::vmm, Isa::none, code};
}

RecordingAnalysisResult analyse(const std::vector<ks_event>& events, AnalysisOptions options = {}) {
  RecordingAnalysis analysis(std::move(options));
  analysis.add(events);
  return analysis.finish();
}

const ExitStats& at(const RecordingAnalysisResult& r, std::uint32_t vcpu, Reason reason,
                    std::uint32_t vm = kVm) {
  static const ExitStats none;
  const auto it = r.snapshot.exits.find({vm, vcpu, reason});
  return it == r.snapshot.exits.end() ? none : it->second;
}

TEST(RecordingAnalysis, counts_exits_and_times_them_to_the_next_entry) {
  const auto r = analyse({
      vmx_exit(1000, kTid0, 0, 10), entry(1500, kTid0, 0),  // CPUID, 500 ns
      vmx_exit(2000, kTid0, 0, 30), entry(2100, kTid0, 0),  // IO, 100 ns
      vmx_exit(3000, kTid0, 0, 10),                         // CPUID, never re-entered
  });
  const ExitStats& cpuid = at(r, 0, vmx(10));
  EXPECT_EQ(cpuid.count, 2u);
  EXPECT_EQ(cpuid.timed, 1u);
  EXPECT_EQ(cpuid.time_ns, 500u);
  EXPECT_EQ(cpuid.max_ns, 500u);
  EXPECT_EQ(cpuid.hist.slots[Histogram::slot_of(500)], 1u);
  const ExitStats& io = at(r, 0, vmx(30));
  EXPECT_EQ(io.count, 1u);
  EXPECT_EQ(io.timed, 1u);
  EXPECT_EQ(io.time_ns, 100u);
  EXPECT_EQ(r.snapshot.total(Level::hardware), 3u);
  EXPECT_EQ(r.snapshot.total(Level::vmm), 0u);
  // Time 0 is the first event, the end the last one.
  EXPECT_EQ(r.snapshot.started_ns, 1000u);
  EXPECT_EQ(r.snapshot.taken_ns, 3000u);
  EXPECT_EQ(r.facts.events, 5u);
}

TEST(RecordingAnalysis, pairs_per_thread_when_vcpus_interleave) {
  const auto r = analyse({
      vmx_exit(100, kTid0, 0, 10), vmx_exit(150, kTid1, 1, 10),
      entry(170, kTid1, 1),                               // vCPU 1: 20 ns
      entry(400, kTid0, 0),                               // vCPU 0: 300 ns
      vmx_exit(500, kTid1, 1, 10), entry(530, kTid1, 1),  // vCPU 1: 30 ns
  });
  EXPECT_EQ(at(r, 0, vmx(10)).count, 1u);
  EXPECT_EQ(at(r, 0, vmx(10)).time_ns, 300u);
  EXPECT_EQ(at(r, 1, vmx(10)).count, 2u);
  EXPECT_EQ(at(r, 1, vmx(10)).timed, 2u);
  EXPECT_EQ(at(r, 1, vmx(10)).time_ns, 50u);
  EXPECT_EQ(at(r, 1, vmx(10)).max_ns, 30u);
  // The same table `stat` prints: one hardware group with 3 exits.
  const auto groups = summarize(r.snapshot, Breakdown::none);
  ASSERT_EQ(groups.size(), 1u);
  EXPECT_EQ(groups[0].total.count, 3u);
  EXPECT_EQ(groups[0].total.time_ns, 350u);
}

TEST(RecordingAnalysis, times_vmm_exits_to_the_next_kvm_run_and_borrows_the_threads_vcpu) {
  const auto r = analyse({
      vmx_exit(1000, kTid0, 3, 30),  // thread kTid0 is vCPU 3
      uexit(1100, kTid0, 2),         // KVM_EXIT_IO, the event does not say the vCPU
      kvm_run(1600, kTid0),          // 500 ns in the VMM
      entry(1700, kTid0, 3),         // the hardware exit took 700 ns in all
      uexit(5000, kTid1, 6),         // a thread never seen with a vCPU: unknown
      kvm_run(5040, kTid1),
  });
  const ExitStats& io = at(r, 3, vmm(2));
  EXPECT_EQ(io.count, 1u);
  EXPECT_EQ(io.time_ns, 500u);
  EXPECT_EQ(at(r, 3, vmx(30)).time_ns, 700u);
  EXPECT_EQ(at(r, kUnknownVcpu, vmm(6)).count, 1u);
  EXPECT_EQ(at(r, kUnknownVcpu, vmm(6)).time_ns, 40u);
}

TEST(RecordingAnalysis, first_kvm_run_and_stray_entries_are_not_timed) {
  const auto r = analyse({
      kvm_run(10, kTid0),   // the vCPU starts: nothing to pair, not an error
      entry(20, kTid0, 0),  // an entry without an exit: counted as unpaired
      uexit(30, kTid0, 2),  // its KVM_RUN was lost: the next exit closes it untimed
      vmx_exit(40, kTid0, 0, 10),
      kvm_run(50, kTid0),  // no VMM exit open any more
      entry(60, kTid0, 0),
  });
  EXPECT_EQ(at(r, 0, vmm(2)).count, 1u);
  EXPECT_EQ(at(r, 0, vmm(2)).timed, 0u);
  EXPECT_EQ(at(r, 0, vmx(10)).time_ns, 20u);
  EXPECT_EQ(r.facts.unpaired_entries, 1u);
}

TEST(RecordingAnalysis, tolerates_small_backward_steps_across_cpus) {
  const auto r = analyse({
      vmx_exit(1000, kTid0, 0, 10),
      vmx_exit(990, kTid1, 1, 10),  // another CPU's event delivered late
      entry(1200, kTid0, 0),
      entry(1100, kTid1, 1),
  });
  EXPECT_EQ(at(r, 0, vmx(10)).time_ns, 200u);
  EXPECT_EQ(at(r, 1, vmx(10)).time_ns, 110u);
  EXPECT_EQ(r.facts.backward_steps, 2u);
  EXPECT_EQ(r.facts.max_backward_ns, 100u);
  EXPECT_EQ(r.timeline.series_total(0), 2u);
}

TEST(RecordingAnalysis, drill_events_share_the_time_of_the_exit_they_happen_in) {
  const auto r = analyse({
      // VMX: OUT to 0x3f8, one byte, handled by the VMM.
      vmx_exit(1000, kTid0, 0, 30),
      ev(1100, KS_EV_PIO, kTid0, 0, 0x3f8, 1, 1 | (1ull << 32)),
      uexit(1200, kTid0, 2),
      kvm_run(1700, kTid0),
      entry(1800, kTid0, 0),  // 800 ns for the exit and its port
      // CPUID 0x40000000 handled in the kernel.
      vmx_exit(2000, kTid0, 0, 10),
      ev(2010, KS_EV_CPUID, kTid0, 0, 0x40000000, 0),
      entry(2050, kTid0, 0),  // 50 ns
      // A CPUID leaf with no exit around it: counted, not timed.
      ev(3000, KS_EV_CPUID, kTid0, 0, 0x40000000, 0),
  });
  const auto& d = r.drill.entries();
  const auto port = d.find(port_key(kVm, 0x3f8, true, 1));
  ASSERT_NE(port, d.end());
  EXPECT_EQ(port->second.count, 1u);
  EXPECT_EQ(port->second.timed, 1u);
  EXPECT_EQ(port->second.time_ns, 800u);
  const auto leaf = d.find(cpuid_key(kVm, 0x40000000));
  ASSERT_NE(leaf, d.end());
  EXPECT_EQ(leaf->second.count, 2u);
  EXPECT_EQ(leaf->second.timed, 1u);
  EXPECT_EQ(leaf->second.time_ns, 50u);
  EXPECT_EQ(r.drill.total(DrillKind::port), 1u);
  EXPECT_EQ(r.drill.total(DrillKind::cpuid), 2u);
}

TEST(RecordingAnalysis, without_hardware_exits_a_drill_event_takes_the_vmm_exit_it_causes) {
  // kvm_pvm: no kvm_exit/kvm_entry; kvm_pio and kvm_mmio come right before the exit to the VMM.
  const auto r = analyse({
      ev(1000, KS_EV_PIO, kTid0, 0, 0x80, 1, 2),         // OUT 0x80, 2 bytes
      uexit(1010, kTid0, 2), kvm_run(1510, kTid0),       // 500 ns
      ev(2000, KS_EV_MMIO, kTid0, 0, 0xfee00000, 0, 4),  // read, sent to the VMM
      uexit(2005, kTid0, 6), kvm_run(2305, kTid0),       // 300 ns
      ev(2306, KS_EV_MMIO, kTid0, 0, 0xfee00000, 1, 4),  // the read completes: no exit follows
      ev(3000, KS_EV_CPUID, kTid0, 0, 1),                // handled in the kernel
      uexit(3010, kTid0, 2),                             // not caused by CPUID
      kvm_run(3020, kTid0), ev(4000, KS_EV_MSR, kTid0, 0, 0x1b, 1, 1),  // WRMSR 0x1b that faulted
      uexit(4001, kTid0, 30),                                           // KVM_EXIT_X86_WRMSR
      kvm_run(4101, kTid0),                                             // 100 ns
  });
  const auto& d = r.drill.entries();
  EXPECT_EQ(d.at(port_key(kVm, 0x80, true, 2)).time_ns, 500u);
  EXPECT_EQ(d.at(mmio_key(kVm, 0xfee00000, MmioAccess::read_unsatisfied)).time_ns, 300u);
  EXPECT_EQ(d.at(mmio_key(kVm, 0xfee00000, MmioAccess::read)).count, 1u);
  EXPECT_EQ(d.at(mmio_key(kVm, 0xfee00000, MmioAccess::read)).timed, 0u);
  EXPECT_EQ(d.at(cpuid_key(kVm, 1)).timed, 0u);
  EXPECT_EQ(d.at(msr_key(kVm, 0x1b, true, true)).time_ns, 100u);
  EXPECT_EQ(at(r, 0, vmm(2)).count, 2u);
  EXPECT_EQ(at(r, 0, vmm(2)).time_ns, 510u);
}

TEST(RecordingAnalysis, a_full_thread_table_counts_exits_untimed) {
  AnalysisOptions options;
  options.max_threads = 1;
  const auto r = analyse(
      {
          vmx_exit(100, kTid0, 0, 10),
          vmx_exit(110, kTid1, 1, 10),  // no room for a second thread
          entry(120, kTid1, 1),
          entry(200, kTid0, 0),
      },
      options);
  EXPECT_EQ(at(r, 0, vmx(10)).timed, 1u);
  EXPECT_EQ(at(r, 1, vmx(10)).count, 1u);
  EXPECT_EQ(at(r, 1, vmx(10)).timed, 0u);
  EXPECT_EQ(r.snapshot.health.threads_not_stored, 1u);
}

TEST(RecordingAnalysis, process_exit_ends_the_boot_and_forgets_the_threads) {
  AnalysisOptions options;
  options.markers = {{500, std::string(kCommandStartedLabel)}};
  options.vms[kVm] = {"guest", "qemu"};
  const auto r = analyse(
      {
          vmx_exit(1000, kTid0, 0, 10),
          uexit(1500, kTid0, 8),  // KVM_EXIT_SHUTDOWN: the boot ends here
          ev(2000, KS_EV_PROCESS_EXIT, kTid0, KS_VCPU_UNKNOWN),
          entry(2100, kTid0, 0),  // the thread is gone: unpaired
      },
      options);
  EXPECT_EQ(at(r, 0, vmx(10)).timed, 0u);
  EXPECT_EQ(r.facts.unpaired_entries, 1u);
  ASSERT_EQ(r.boots.size(), 1u);
  const BootSummary& b = r.boots[0];
  EXPECT_EQ(b.start_from, BootStart::command_started);
  EXPECT_EQ(b.start_ns, 500u);
  EXPECT_EQ(b.end_by, BootEnd::shutdown);
  EXPECT_EQ(b.end_ns, 1500u);
  EXPECT_EQ(*b.first_exit_ns, 1000u);
  EXPECT_EQ(b.hardware_exits, 1u);
  EXPECT_EQ(b.vmm_exits, 1u);
  EXPECT_TRUE(b.complete());
  EXPECT_EQ(r.snapshot.started_ns, 500u);  // the command's start is time 0
  EXPECT_EQ(r.snapshot.vms.at(kVm).name, "guest");
}

TEST(RecordingAnalysis, only_processes_that_used_kvm_are_vms) {
  // `record -a` during a build: cc1plus (200) and sh (201) only exit; they were named as they
  // went. The VM is the one process with KVM events, however its name came.
  constexpr std::uint32_t kCc1plus = 200, kSh = 201;
  AnalysisOptions options;
  options.vms[kCc1plus] = {"cc1plus", "cc1plus"};
  RecordingAnalysis analysis(options);
  analysis.add(std::vector<ks_event>{
      ev(1000, KS_EV_PROCESS_EXIT, kCc1plus, KS_VCPU_UNKNOWN, 0, 0, 0, kCc1plus),
      vmx_exit(2000, kTid0, 0, 10),
      ev(2500, KS_EV_PROCESS_EXIT, kSh, KS_VCPU_UNKNOWN, 0, 0, 0, kSh),
      entry(3000, kTid0, 0),
      ev(4000, KS_EV_PROCESS_EXIT, kVm, KS_VCPU_UNKNOWN),
  });
  analysis.name_vms({{kSh, {"sh", "sh"}}, {kVm, {"guest", "kvmscope"}}});
  const auto r = analysis.finish();
  ASSERT_EQ(r.boots.size(), 1u);
  EXPECT_EQ(r.boots[0].vm_pid, kVm);
  EXPECT_EQ(r.boots[0].end_by, BootEnd::process_exit);
  EXPECT_EQ(r.boots[0].end_ns, 4000u);
  ASSERT_EQ(r.snapshot.vms.size(), 1u);
  EXPECT_EQ(r.snapshot.vms.at(kVm).name, "guest");
}

TEST(RecordingAnalysis, time_zero_and_the_end_are_the_recordings_without_a_command) {
  // `record -a` began at 100 and finished at 9000; the first and last events lie within.
  AnalysisOptions options;
  options.recording_start_ns = 100;
  RecordingAnalysis analysis(options);
  analysis.add(std::vector<ks_event>{vmx_exit(2000, kTid0, 0, 10), entry(3000, kTid0, 0)});
  const auto r = analysis.finish(9000);
  EXPECT_EQ(r.snapshot.started_ns, 100u);
  EXPECT_EQ(r.snapshot.taken_ns, 9000u);
  ASSERT_EQ(r.boots.size(), 1u);  // the recording's start is not the VM's
  EXPECT_EQ(r.boots[0].start_from, BootStart::first_event);
  EXPECT_EQ(r.boots[0].start_ns, 2000u);
}

TEST(RecordingAnalysis, says_which_marks_began_no_phase_and_why) {
  // The command starts at 1000; the VM shuts down at 5000; the recording ends at 9000.
  AnalysisOptions options;
  options.start_ns = 1000;
  options.marks = {
      {1000, "kernel"}, {4000, "shutdown"}, {6000, "late"}, {8000, "at-end"}, {9000, "after-end"}};
  RecordingAnalysis analysis(options);
  analysis.add(std::vector<ks_event>{vmx_exit(2000, kTid0, 0, 10), entry(2100, kTid0, 0),
                                     uexit(5000, kTid0, 8)});
  const auto r = analysis.finish(9000);
  ASSERT_EQ(r.boots.size(), 1u);
  // (start), kernel, and shutdown: it begins with the shutdown exit, the boot's last.
  ASSERT_EQ(r.boots[0].phases.size(), 3u);
  EXPECT_EQ(r.boots[0].phases[2].label, "shutdown");
  ASSERT_EQ(r.unused_marks.size(), 3u);
  // 6000 after the start: after the boot's end (4000 after its start), within the recording.
  EXPECT_EQ(r.unused_marks[0].mark.label, "late");
  EXPECT_EQ(r.unused_marks[0].why, UnusedMark::Why::after_boots);
  EXPECT_EQ(r.unused_marks[0].limit_ns, 4000u);
  // 8000 and 9000 after the start: at or after the recording's end, 8000 after the start.
  EXPECT_EQ(r.unused_marks[1].mark.label, "at-end");
  EXPECT_EQ(r.unused_marks[1].why, UnusedMark::Why::after_recording);
  EXPECT_EQ(r.unused_marks[1].limit_ns, 8000u);
  EXPECT_EQ(r.unused_marks[2].mark.label, "after-end");
  EXPECT_EQ(r.unused_marks[2].why, UnusedMark::Why::after_recording);

  AnalysisOptions no_vm;
  no_vm.marks = {{1000, "kernel"}};
  const auto empty = RecordingAnalysis(no_vm).finish();
  ASSERT_EQ(empty.unused_marks.size(), 1u);
  EXPECT_EQ(empty.unused_marks[0].why, UnusedMark::Why::no_boot);
}

TEST(RecordingAnalysis, a_process_started_marker_starts_that_vms_boot) {
  AnalysisOptions options;
  options.recording_start_ns = 100;
  options.markers = {{1500, process_started_label(kVm)}};
  const auto r = analyse({vmx_exit(2000, kTid0, 0, 10), uexit(2500, kTid0, 8)}, options);
  ASSERT_EQ(r.boots.size(), 1u);
  EXPECT_EQ(r.boots[0].start_from, BootStart::process_started);
  EXPECT_EQ(r.boots[0].start_ns, 1500u);
  EXPECT_TRUE(r.boots[0].complete());
  EXPECT_EQ(r.snapshot.started_ns, 100u);  // the report's time 0 stays the recording's start
}

TEST(RecordingAnalysis, unknown_event_types_are_skipped_and_counted) {
  const auto r = analyse({ev(10, 99, kTid0, 0), vmx_exit(20, kTid0, 0, 10)});
  EXPECT_EQ(r.facts.unknown_events, 1u);
  EXPECT_EQ(r.snapshot.total(Level::hardware), 1u);
}

TEST(RecordingAnalysis, batches_give_the_same_result_as_one_stream) {
  const std::vector<ks_event> events = {
      vmx_exit(100, kTid0, 0, 10), entry(150, kTid0, 0), vmx_exit(200, kTid0, 0, 30),
      uexit(210, kTid0, 2),        kvm_run(260, kTid0),  entry(270, kTid0, 0),
  };
  RecordingAnalysis split;
  for (const ks_event& e : events) split.add(std::span<const ks_event>(&e, 1));
  const auto a = split.finish();
  const auto b = analyse(events);
  EXPECT_EQ(a.snapshot.exits, b.snapshot.exits);
  EXPECT_EQ(a.timeline.counts, b.timeline.counts);
}

TEST(RecordingAnalysis, empty_recording_gives_an_empty_result) {
  const auto r = analyse({});
  EXPECT_TRUE(r.snapshot.exits.empty());
  EXPECT_EQ(r.timeline.buckets(), 0u);
  EXPECT_TRUE(r.stability.empty());
  EXPECT_TRUE(r.bursts.bursts.empty());
  EXPECT_TRUE(r.boots.empty());
}

}  // namespace
}  // namespace kvmscope::model
