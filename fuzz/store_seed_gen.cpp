// Writes the fuzzer's seed corpus with the real Writer, so no binary files live in git:
// small recordings that between them use every block type and both payload encodings.
// Usage: store_seed_gen DIR
#include <cstdio>
#include <filesystem>
#include <string>

#include "bench/store_stream.h"
#include "store/recording.h"

using namespace kvmscope;

namespace {

int fail(const util::Error& e) {
  std::fprintf(stderr, "store_seed_gen: %s\n", e.message().c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: store_seed_gen DIR\n");
    return 2;
  }
  const std::filesystem::path dir = argv[1];
  std::filesystem::create_directories(dir);

  store::RecordingInfo info;
  info.kvmscope_version = "0.1.0";
  info.hostname = "seed";
  info.kernel_release = "6.1.0";
  info.realtime_offset_ns = 1700000000000000000;
  info.start_ns = 1000;
  info.target = "pid 4242";
  info.tracefs_formats["kvm_exit"] = "name: kvm_exit\nID: 1\n";
  info.extra["k"] = "v";

  struct Seed {
    const char* name;
    std::size_t events;
    bool compress;
    std::uint32_t block_events;
    bool side;    // markers, VMs, lost counts
    bool finish;  // trailer
  };
  const Seed seeds[] = {
      {"empty", 0, true, 65536, false, true},       {"few-raw", 20, false, 65536, false, true},
      {"few-zstd", 200, true, 65536, true, true},   {"blocks-raw", 300, false, 50, true, true},
      {"blocks-zstd", 1500, true, 400, true, true}, {"unfinished", 100, false, 40, true, false},
  };
  for (const Seed& s : seeds) {
    store::WriterOptions opt;
    opt.compress = s.compress;
    opt.block_events = s.block_events;
    auto w = store::Writer::create((dir / s.name).string(), info, opt);
    if (!w) return fail(w.error());
    auto events = bench::realistic_stream(s.events, s.events);
    if (!events.empty()) {
      events[0].type = 200;  // a type past the tag's nibble
      events.back().vcpu = KS_VCPU_UNKNOWN;
    }
    if (s.side) {
      if (auto ok = w->set_vm(4242, "boot", "qemu-system-x86"); !ok) return fail(ok.error());
      if (auto ok = w->mark(1, "command started"); !ok) return fail(ok.error());
      if (auto ok = w->add_lost(1, 3); !ok) return fail(ok.error());
    }
    if (auto ok = w->append(events); !ok) return fail(ok.error());
    if (s.side) {
      if (auto ok = w->mark(2, "command exited status 0"); !ok) return fail(ok.error());
    }
    if (s.finish) {
      if (auto ok = w->finish(); !ok) return fail(ok.error());
    }
  }
  return 0;
}
