// A synthetic but realistic event stream for the recording format's benchmark, tests and fuzz
// seeds: kvm_exit/kvm_entry pairs on two vCPU threads of one VM, 1-5 us apart, a handful of exit
// reasons and guest RIPs, with a sprinkle of PIO/CPUID/userspace exits.
#pragma once

#include <cstdint>
#include <random>
#include <vector>

#include "bpf/kvmscope_bpf.h"

namespace kvmscope::bench {

inline std::vector<ks_event> realistic_stream(std::size_t n, std::uint64_t seed = 1) {
  std::mt19937_64 rng(seed);
  std::vector<ks_event> out;
  out.reserve(n);
  std::uint64_t ts = 1'000'000'000'000ull;
  std::uint64_t rips[8];
  for (auto& r : rips) r = 0xffffffff81000000ull + (rng() & 0xfffff);
  const std::uint32_t reasons[] = {0x72, 0x7b, 0x78, 0x60, 0x400};  // SVM cpuid, io, hlt, intr, npf
  while (out.size() < n) {
    const std::uint32_t v = (rng() >> 7) & 1;
    ks_event e{};
    ts += 1000 + rng() % 4000;
    e.ts_ns = ts;
    e.tgid = 4242;
    e.tid = 4250 + v;
    e.vcpu = v;
    e.cpu = static_cast<std::uint16_t>(v);
    e.type = KS_EV_EXIT;
    e.a = reasons[rng() % 5];
    e.b = KS_ISA_SVM;
    e.c = rips[rng() % 8];
    out.push_back(e);
    if (e.a == 0x7b && out.size() < n) {  // an I/O exit: the port access, sometimes to the VMM
      ks_event p = e;
      p.ts_ns = ts += 200;
      p.type = KS_EV_PIO;
      p.a = 0x3f8 + (rng() % 2) * 0x70;
      p.b = 1;
      p.c = 1 | 1ull << 32;
      out.push_back(p);
    }
    if (out.size() < n) {
      ks_event x = e;
      x.ts_ns = ts += 500 + rng() % 2000;
      x.type = KS_EV_ENTRY;
      x.a = x.b = x.c = 0;
      out.push_back(x);
    }
  }
  return out;
}

}  // namespace kvmscope::bench
