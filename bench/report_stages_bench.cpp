// Where `kvmscope report`'s time goes, stage by stage, on one recording (in-process, CPU time of
// this process): (1) read + decode only (store::Reader: read(2), CRC, zstd, column decode),
// (2) read + decode + model::RecordingAnalysis (what report does before rendering), (2') the same
// through store::open_recording()'s EventSource, as report reads it (one virtual call a batch), (3)
// the analysis alone on events already in memory (the first --in-memory events, default 2 M), (4)
// finish(): timeline, stability, bursts, boots. Prints M events/s per CPU-second for each and the
// analysis' share of (2). Medians of --runs runs (default 5).
//
// usage: report_stages_bench FILE.kvms [--runs N] [--in-memory N]
#include <time.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "model/recording_analysis.h"
#include "store/event_source.h"
#include "store/recording.h"

using namespace kvmscope;

namespace {

double cpu_now() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

[[noreturn]] void die(const std::string& what) {
  std::fprintf(stderr, "report_stages_bench: %s\n", what.c_str());
  std::exit(1);
}

store::Reader open_or_die(const std::string& path) {
  auto r = store::Reader::open(path);
  if (!r) die(r.error().message());
  return std::move(*r);
}

model::AnalysisOptions options_of(const store::Reader& r) {
  model::AnalysisOptions o;
  for (const auto& m : r.markers()) o.markers.push_back({m.ts_ns, m.label});
  o.vms = r.vms();
  return o;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) die("usage: report_stages_bench FILE.kvms [--runs N] [--in-memory N]");
  const std::string path = argv[1];
  int runs = 5;
  std::size_t in_memory = 2'000'000;
  for (int i = 2; i + 1 < argc; i += 2) {
    const std::string a = argv[i];
    if (a == "--runs")
      runs = std::max(1, std::atoi(argv[i + 1]));
    else if (a == "--in-memory")
      in_memory = std::strtoull(argv[i + 1], nullptr, 10);
    else
      die("unknown option " + a);
  }

  std::vector<double> decode, full, via_source, analysis, finish;
  std::uint64_t events = 0, sink = 0;
  std::vector<ks_event> memory;
  model::AnalysisOptions mem_options;
  for (int run = 0; run < runs; ++run) {
    {  // (1) read + decode
      auto r = open_or_die(path);
      const double t0 = cpu_now();
      std::uint64_t n = 0;
      for (;;) {
        auto b = r.next();
        if (!b) die(b.error().message());
        if (b->empty()) break;
        n += b->size();
        sink += (*b)[b->size() - 1].ts_ns;
        if (run == 0 && memory.size() < in_memory)
          memory.insert(memory.end(), b->begin(),
                        b->begin() + static_cast<std::ptrdiff_t>(
                                         std::min(b->size(), in_memory - memory.size())));
      }
      decode.push_back(cpu_now() - t0);
      events = n;
      if (run == 0) mem_options = options_of(r);
    }
    {  // (2) read + decode + analysis, as report does
      auto r = open_or_die(path);
      auto first = r.next();
      if (!first) die(first.error().message());
      const double t0 = cpu_now();
      model::RecordingAnalysis a(options_of(r));
      for (auto b = std::move(first); !b->empty();) {
        a.add(*b);
        b = r.next();
        if (!b) die(b.error().message());
      }
      const double t1 = cpu_now();
      auto result = a.finish();
      finish.push_back(cpu_now() - t1);
      full.push_back(t1 - t0);
      sink += result.facts.events;
    }
    {  // (2') the same through the EventSource report uses
      auto source = store::open_recording(path);
      if (!source) die(source.error().message());
      auto first = (*source)->next();
      if (!first) die(first.error().message());
      const double t0 = cpu_now();
      model::AnalysisOptions o;
      for (const auto& m : (*source)->markers()) o.markers.push_back({m.ts_ns, m.label});
      o.vms = (*source)->vms();
      model::RecordingAnalysis a(o);
      for (auto b = std::move(first); !b->empty();) {
        a.add(*b);
        b = (*source)->next();
        if (!b) die(b.error().message());
      }
      via_source.push_back(cpu_now() - t0);
      sink += a.finish().facts.events;
    }
    {  // (3) analysis alone, events in memory, fed in report's batch size
      const double t0 = cpu_now();
      model::RecordingAnalysis a(mem_options);
      for (std::size_t i = 0; i < memory.size(); i += store::kReadBatch)
        a.add({memory.data() + i, std::min<std::size_t>(store::kReadBatch, memory.size() - i)});
      analysis.push_back(cpu_now() - t0);
      sink += a.finish().facts.events;
    }
  }
  const double d = median(decode), f = median(full), a = median(analysis), fin = median(finish);
  const double ev = static_cast<double>(events), mem = static_cast<double>(memory.size());
  std::printf("%s: %llu events, medians of %d runs (CPU time of this process)\n", path.c_str(),
              static_cast<unsigned long long>(events), runs);
  std::printf("  read+decode             %7.3f s  %6.1f M events/s\n", d, ev / d / 1e6);
  std::printf("  read+decode+analysis    %7.3f s  %6.1f M events/s   analysis = %.0f%% of it\n", f,
              ev / f / 1e6, 100 * (f - d) / f);
  const double v = median(via_source);
  std::printf("  the same via EventSource %6.3f s  %6.1f M events/s   = %.3f x the Reader's\n", v,
              ev / v / 1e6, v / f);
  std::printf("  analysis alone (%zu M in memory) %6.1f M events/s\n", memory.size() / 1'000'000,
              mem / a / 1e6);
  std::printf("  finish() (timeline, stability, bursts, boots)  %.4f s\n", fin);
  return sink == 42 ? 2 : 0;
}
