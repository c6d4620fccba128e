// A tiny recording for golden report tests: one VM (pid 7, "tiny"), one vCPU on SVM, 100 ms
// buckets. A CPUID exit (1 us) 10 ms into each of the first ten buckets, a burst of 30 OUTs to
// port 0x80 (2 us each) in bucket 5, KVM_EXIT_SHUTDOWN at 1 s; the command started at 1 s
// monotonic, --mark 0.5=kernel.
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

#include "bpf/kvmscope_bpf.h"
#include "model/recording_analysis.h"

namespace kvmscope::testing {

// One event of the tiny VM's only vCPU (pid 7, thread 8, vCPU 0); a, b, c as ks_event has them.
inline ks_event tiny_event(std::uint64_t ts, std::uint8_t type, std::uint64_t a = 0,
                           std::uint64_t b = 0, std::uint64_t c = 0) {
  ks_event e{};
  e.ts_ns = ts;
  e.tgid = 7;
  e.tid = 8;
  e.vcpu = 0;
  e.type = type;
  e.a = a;
  e.b = b;
  e.c = c;
  return e;
}

inline model::RecordingAnalysisResult tiny_analysis() {
  constexpr std::uint64_t kStart = 1'000'000'000, kMs = 1'000'000;
  std::vector<ks_event> ev;
  const auto add = [&](std::uint64_t ts, std::uint8_t type, std::uint64_t a = 0,
                       std::uint64_t b = 0,
                       std::uint64_t c = 0) { ev.push_back(tiny_event(ts, type, a, b, c)); };
  for (std::uint64_t k = 0; k < 10; ++k) {
    const std::uint64_t t = kStart + k * 100 * kMs + 10 * kMs;
    add(t, KS_EV_EXIT, 0x72, KS_ISA_SVM);
    add(t + 100, KS_EV_CPUID, 1);
    add(t + 1000, KS_EV_ENTRY);
  }
  for (std::uint64_t i = 0; i < 30; ++i) {
    const std::uint64_t t = kStart + 550 * kMs + i * 10'000;
    add(t, KS_EV_EXIT, 0x7b, KS_ISA_SVM);
    add(t + 100, KS_EV_PIO, 0x80, 1, 1);
    add(t + 2000, KS_EV_ENTRY);
  }
  add(kStart + 1000 * kMs, KS_EV_USERSPACE_EXIT, 8);
  model::AnalysisOptions o;
  o.bucket_ns = 100 * kMs;
  o.markers = {{kStart, std::string(model::kCommandStartedLabel)}};
  o.marks = {{500 * kMs, "kernel"}};
  o.vms[7] = {"tiny", "qemu-system-x86"};
  std::sort(ev.begin(), ev.end(),
            [](const ks_event& x, const ks_event& y) { return x.ts_ns < y.ts_ns; });
  model::RecordingAnalysis analysis(std::move(o));
  analysis.add(ev);
  return analysis.finish();
}

}  // namespace kvmscope::testing
