// Readout at scale, timed from inside: starts kvmscope's collector for the whole host (what
// `kvmscope stat -a` does), lets the running VMs fill its counters, then times
//   - ExitCollector::snapshot() + name_vms(): one full readout of every (VM, vCPU, reason)
//     counter, the health counters and the VM names (the first call also looks the names up in
//     /proc);
//   - with --every: one cycle of the --every loop, poll_stream(100 ms) draining the ring
//     buffer of streamed exits (what `kvmscope stat --every N` does between two checks).
// Prints medians and the process's peak RSS (VmHWM). Built and run by bench/peers/scale.sh.
//
//   readout_bench [--reps N] [--settle-ms MS] [--every]   (--every: stream for MS ms)
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "collect/exit_collector.h"

namespace {

double now_ms() {
  struct timespec ts;
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

double cpu_ms() {
  struct rusage ru;
  ::getrusage(RUSAGE_SELF, &ru);
  return (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e3 +
         (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e3;
}

std::string status_field(const char* name) {
  std::ifstream f("/proc/self/status");
  std::string line;
  while (std::getline(f, line))
    if (line.rfind(name, 0) == 0) return line.substr(std::strlen(name));
  return "?";
}

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
}

double pct(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<std::size_t>(p * v.size()))];
}

}  // namespace

int main(int argc, char** argv) {
  int reps = 21, settle_ms = 3000;
  bool every = false;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--reps") && i + 1 < argc)
      reps = std::atoi(argv[++i]);
    else if (!std::strcmp(argv[i], "--settle-ms") && i + 1 < argc)
      settle_ms = std::atoi(argv[++i]);
    else if (!std::strcmp(argv[i], "--every"))
      every = true;
    else {
      std::fprintf(stderr, "usage: %s [--reps N] [--settle-ms MS] [--every]\n", argv[0]);
      return 2;
    }
  }
  using namespace kvmscope;
  collect::CollectorConfig config;
  config.whole_host = true;
  config.stream_exits = every;
  config.stream_level = model::Level::vmm;  // what kvm_pvm hosts have; hardware where they fire
  const double t_start = now_ms();
  auto started = collect::ExitCollector::start(config);
  if (!started) {
    std::fprintf(stderr, "readout_bench: %s\n", started.error().message().c_str());
    return 1;
  }
  auto& c = **started;
  std::printf("start (open, load, attach): %.1f ms\n", now_ms() - t_start);

  if (!every) {
    ::usleep(static_cast<useconds_t>(settle_ms) * 1000);
    // Wall and CPU: with 1,024 busy vCPU threads on a small machine the wall time is mostly
    // waiting for a CPU, the CPU time is what the readout itself costs.
    double t0 = now_ms(), c0 = cpu_ms();
    auto first = c.snapshot();
    if (first) c.name_vms(*first);
    double cold = now_ms() - t0, cold_cpu = cpu_ms() - c0;
    if (!first) {
      std::fprintf(stderr, "readout_bench: %s\n", first.error().message().c_str());
      return 1;
    }
    std::vector<double> ms, cpu;
    std::size_t keys = 0, vms = 0;
    std::uint64_t exits = 0;
    for (int i = 0; i < reps; ++i) {
      t0 = now_ms();
      c0 = cpu_ms();
      auto s = c.snapshot();
      if (s) c.name_vms(*s);
      ms.push_back(now_ms() - t0);
      cpu.push_back(cpu_ms() - c0);
      if (!s) {
        std::fprintf(stderr, "readout_bench: %s\n", s.error().message().c_str());
        return 1;
      }
      keys = s->exits.size();
      vms = s->vms.size();
      exits = s->total(model::Level::vmm) + s->total(model::Level::hardware);
      ::usleep(50000);
    }
    std::printf("counters: %zu (VM, vCPU, reason) keys, %zu VMs, %llu exits so far\n", keys, vms,
                static_cast<unsigned long long>(exits));
    std::printf("snapshot first (names from /proc): %.2f ms wall, %.2f ms CPU\n", cold, cold_cpu);
    std::printf("snapshot: median %.2f ms, p90 %.2f ms, max %.2f ms over %d; CPU median %.2f ms\n",
                median(ms), pct(ms, 0.9), *std::max_element(ms.begin(), ms.end()), reps,
                median(cpu));
  } else {
    std::vector<double> cycle_ms;
    std::uint64_t events = 0;
    const double cpu0 = cpu_ms(), wall0 = now_ms();
    // As long as --settle-ms says: poll_stream returns as soon as exits are there.
    int cycles = 0;
    for (; now_ms() - wall0 < settle_ms; ++cycles) {
      double t0 = now_ms();
      auto n = c.poll_stream(100, [&](const ks_exit_event&) { ++events; });
      cycle_ms.push_back(now_ms() - t0);
      if (!n) {
        std::fprintf(stderr, "readout_bench: %s\n", n.error().message().c_str());
        return 1;
      }
    }
    const double wall = now_ms() - wall0, cpu = cpu_ms() - cpu0;
    auto s = c.snapshot();
    std::printf("--every: %llu exits streamed in %.0f ms (%.0f/s), %llu lost by the ring buffer\n",
                static_cast<unsigned long long>(events), wall, events / wall * 1e3,
                static_cast<unsigned long long>(s ? s->health.events_lost : 0));
    std::printf(
        "--every cycle (poll_stream, returns when exits arrive or after 100 ms): wall median %.2f "
        "ms, "
        "max %.2f ms over %d; CPU %.2f ms per cycle\n",
        median(cycle_ms), *std::max_element(cycle_ms.begin(), cycle_ms.end()), cycles,
        cycles ? cpu / cycles : 0.0);
    std::printf("--every CPU: %.0f ms over %.0f ms wall, %.0f ns per streamed exit\n", cpu, wall,
                events ? cpu * 1e6 / events : 0.0);
  }
  std::printf("peak RSS (VmHWM):%s\n", status_field("VmHWM:").c_str());
  return 0;
}
