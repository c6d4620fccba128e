// A synthetic recording of a short SVM guest boot, shared by the report tests and the browser
// test's page generator: two vCPUs, steady CPUID/IO/HLT exits with their drill-down events, a
// burst of MMIO writes, MSR writes, a shutdown and the process exit. Deterministic, so outputs
// made from it can be compared as text.
#pragma once

#include <cstdint>
#include <vector>

#include "bpf/kvmscope_bpf.h"
#include "model/recording_analysis.h"

namespace kvmscope::testing {

inline constexpr std::uint32_t kSampleVm = 4242;
inline constexpr std::uint64_t kSampleStart = 1'000'000'000;  // the command starts at 1 s
inline constexpr std::uint64_t kSampleMs = 1'000'000;

inline ks_event sample_event(std::uint64_t ts, std::uint8_t type, std::uint32_t vcpu,
                             std::uint64_t a = 0, std::uint64_t b = 0, std::uint64_t c = 0) {
  ks_event e{};
  e.ts_ns = ts;
  e.tgid = kSampleVm;
  e.tid = kSampleVm + 1 + vcpu;
  e.vcpu = vcpu;
  e.cpu = static_cast<std::uint16_t>(vcpu);
  e.type = type;
  e.a = a;
  e.b = b;
  e.c = c;
  return e;
}

// Events in time order (per vCPU; the two vCPUs are merged by time).
inline std::vector<ks_event> sample_events() {
  std::vector<ks_event> ev;
  const auto exit = [&](std::uint64_t ts, std::uint32_t vcpu, std::uint32_t code) {
    ev.push_back(sample_event(ts, KS_EV_EXIT, vcpu, code, KS_ISA_SVM));
  };
  const auto entry = [&](std::uint64_t ts, std::uint32_t vcpu) {
    ev.push_back(sample_event(ts, KS_EV_ENTRY, vcpu));
  };
  const std::uint64_t t0 = kSampleStart + 50 * kSampleMs;  // the first exit, 50 ms in
  ev.push_back(sample_event(t0 - 1000, KS_EV_KVM_RUN, 0));
  ev.push_back(sample_event(t0 - 1000, KS_EV_KVM_RUN, 1));
  for (std::uint64_t ms = 0; ms < 1950; ++ms) {
    const std::uint64_t t = t0 + ms * kSampleMs;
    // vCPU 0: a CPUID every ms, leaf 1 or the hypervisor leaf.
    exit(t, 0, 0x72);
    ev.push_back(sample_event(t + 300, KS_EV_CPUID, 0, ms % 4 ? 1 : 0x40000000, 0));
    entry(t + 1200, 0);
    // vCPU 0: an OUT to the serial port every 5 ms, handled by the VMM.
    if (ms % 5 == 0) {
      exit(t + 100'000, 0, 0x7b);
      ev.push_back(sample_event(t + 100'500, KS_EV_PIO, 0, 0x3f8, 1, 1 | (1ull << 32)));
      ev.push_back(sample_event(t + 101'000, KS_EV_USERSPACE_EXIT, 0, 2));
      ev.push_back(sample_event(t + 116'000, KS_EV_KVM_RUN, 0));
      entry(t + 117'000, 0);
    }
    // vCPU 1: HLT every 10 ms, 250 us until woken.
    if (ms % 10 == 0) {
      exit(t + 200'000, 1, 0x78);
      entry(t + 450'000, 1);
    }
    // vCPU 1: TSC deadline writes every 20 ms.
    if (ms % 20 == 0) {
      exit(t + 600'000, 1, 0x7c);
      ev.push_back(sample_event(t + 600'200, KS_EV_MSR, 1, 0x6e0, 1, 0));
      entry(t + 601'000, 1);
    }
    // A burst 1.0-1.05 s after the start: 40 MMIO writes per ms to the APIC on vCPU 1.
    if (ms >= 950 && ms < 1000) {
      for (std::uint64_t i = 0; i < 40; ++i) {
        const std::uint64_t ts = t + 700'000 + i * 5000;
        exit(ts, 1, 0x400);
        ev.push_back(sample_event(ts + 500, KS_EV_MMIO, 1, 0xfee000b0, 2, 4));
        entry(ts + 2500, 1);
      }
    }
  }
  const std::uint64_t end = t0 + 1950 * kSampleMs;
  ev.push_back(sample_event(end, KS_EV_USERSPACE_EXIT, 0, 8));  // KVM_EXIT_SHUTDOWN
  ev.push_back(sample_event(end + 10 * kSampleMs, KS_EV_PROCESS_EXIT, KS_VCPU_UNKNOWN));
  return ev;
}

inline model::AnalysisOptions sample_options() {
  model::AnalysisOptions o;
  o.markers = {{kSampleStart, std::string(model::kCommandStartedLabel)}};
  o.marks = {{500 * kSampleMs, "kernel"}, {1500 * kSampleMs, "userspace"}};
  o.vms[kSampleVm] = {"guest", "qemu-system-x86"};
  return o;
}

inline model::RecordingAnalysisResult sample_analysis(model::AnalysisOptions o = sample_options()) {
  model::RecordingAnalysis analysis(std::move(o));
  const std::vector<ks_event> events = sample_events();
  // In batches, as the reader delivers them.
  for (std::size_t i = 0; i < events.size(); i += 4096) {
    const std::size_t n = std::min<std::size_t>(4096, events.size() - i);
    analysis.add(std::span<const ks_event>(events.data() + i, n));
  }
  return analysis.finish();
}

}  // namespace kvmscope::testing
