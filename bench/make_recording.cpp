// Writes a synthetic but realistic kvmscope recording for the report benchmarks
// (bench/report-throughput.sh): several VMs with several vCPU threads each, on an SVM host.
// Each vCPU loops over "episodes", one guest exit each, in a mix like a busy Linux guest's:
//   npf        kvm_exit, kvm_entry; one in 8 is MMIO to the VMM: kvm_exit, kvm_mmio,
//              kvm_userspace_exit(MMIO), the VMM's KVM_RUN, kvm_entry
//   io         kvm_exit, kvm_pio, and for most ports kvm_userspace_exit(IO), KVM_RUN; kvm_entry
//   intr/vintr/pause/hlt   kvm_exit, kvm_entry (hlt: long)
//   cpuid/msr  kvm_exit, kvm_cpuid/kvm_msr, kvm_entry
// The threads' events are merged in time order, as one ring buffer delivers them, and written
// through store::Writer in batches like record's, with VM names, the start marker, every VM's
// process exit and the 6.1 SVM format files from tests/fixtures (--formats) for reason names.
// Memory does not grow with the event count: events are generated as they are written.
//
// usage: make_recording OUT EVENTS [--vms N] [--vcpus N] [--seed N] [--formats DIR]
//                       [--no-compress]
//   EVENTS may end in k or M (10M = 10,000,000).
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <queue>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "bpf/kvmscope_bpf.h"
#include "store/recording.h"

using namespace kvmscope;

namespace {

constexpr std::uint32_t kKvmExitIo = 2, kKvmExitMmio = 6;
// SVM exit codes (arch/x86/include/uapi/asm/svm.h).
constexpr std::uint32_t kSvmIntr = 0x60, kSvmVintr = 0x64, kSvmCpuid = 0x72, kSvmPause = 0x77,
                        kSvmHlt = 0x78, kSvmIo = 0x7b, kSvmMsr = 0x7c, kSvmNpf = 0x400;

struct VcpuThread {
  std::uint32_t tgid, tid, vcpu;
  std::uint16_t cpu;
  std::uint64_t next_ts;          // when its next episode's exit happens
  std::vector<ks_event> episode;  // the events of the episode in progress, in order
  std::size_t pos = 0;
};

class Generator {
 public:
  Generator(unsigned vms, unsigned vcpus, std::uint64_t seed, std::uint64_t start_ns) : rng_(seed) {
    for (unsigned v = 0; v < vms; ++v)
      for (unsigned c = 0; c < vcpus; ++c) {
        VcpuThread t{4000 + 100 * v,
                     4010 + 100 * v + c,
                     c,
                     static_cast<std::uint16_t>((v * vcpus + c) % 16),
                     start_ns + 1000 * c,
                     {},
                     0};
        threads_.push_back(t);
      }
    for (auto& r : rips_) r = 0xffffffff81000000ull + (rng_() & 0xfffff);
    for (std::size_t i = 0; i < threads_.size(); ++i) {
      make_episode(threads_[i]);
      heap_.push({threads_[i].episode.front().ts_ns, i});
    }
  }

  // The next event of the merged stream.
  ks_event next() {
    auto [ts, i] = heap_.top();
    heap_.pop();
    VcpuThread& t = threads_[i];
    const ks_event e = t.episode[t.pos++];
    if (t.pos == t.episode.size()) make_episode(t);
    heap_.push({t.episode[t.pos].ts_ns, i});
    return e;
  }

  std::uint64_t last_ts() const { return last_ts_; }
  const std::vector<VcpuThread>& threads() const { return threads_; }

 private:
  std::uint64_t between(std::uint64_t lo, std::uint64_t hi) { return lo + rng_() % (hi - lo + 1); }

  ks_event base(const VcpuThread& t, std::uint64_t ts, std::uint8_t type) const {
    ks_event e{};
    e.ts_ns = ts;
    e.tgid = t.tgid;
    e.tid = t.tid;
    e.cpu = t.cpu;
    e.type = type;
    // Only kvm_exit and kvm_entry carry vcpu_id; the rest learn it from the thread.
    e.vcpu = (type == KS_EV_EXIT || type == KS_EV_ENTRY) ? t.vcpu : KS_VCPU_UNKNOWN;
    return e;
  }

  void make_episode(VcpuThread& t) {
    t.episode.clear();
    t.pos = 0;
    std::uint64_t ts = t.next_ts;
    auto add = [&](std::uint8_t type, std::uint64_t a = 0, std::uint64_t b = 0,
                   std::uint64_t c = 0) {
      ks_event e = base(t, ts, type);
      e.a = a;
      e.b = b;
      e.c = c;
      t.episode.push_back(e);
    };
    auto to_vmm = [&](std::uint32_t kvm_exit) {
      ts += between(200, 600);
      add(KS_EV_USERSPACE_EXIT, kvm_exit);
      ts += between(2000, 12000);  // the VMM emulates the device
      add(KS_EV_KVM_RUN);
    };
    const unsigned pick = static_cast<unsigned>(rng_() % 100);
    std::uint64_t handling_lo = 300, handling_hi = 3000;
    if (pick < 30) {  // nested page fault; some of them MMIO to the VMM
      add(KS_EV_EXIT, kSvmNpf, KS_ISA_SVM, rips_[rng_() % 8]);
      if (rng_() % 8 == 0) {
        ts += between(100, 400);
        add(KS_EV_MMIO, 0xfebf0000ull + 4 * (rng_() % 16), 2 - rng_() % 2, 4);
        to_vmm(kKvmExitMmio);
      }
    } else if (pick < 50) {  // port I/O
      add(KS_EV_EXIT, kSvmIo, KS_ISA_SVM, rips_[rng_() % 8]);
      static const std::uint64_t ports[] = {0x3f8, 0x3fd, 0x60, 0x64, 0x70, 0x71, 0xcf8, 0xcfc};
      const std::uint64_t port = ports[rng_() % 8];
      ts += between(100, 400);
      add(KS_EV_PIO, port, rng_() % 2, 1 | 1ull << 32);
      if (port != 0x70 && port != 0x71) to_vmm(kKvmExitIo);  // the RTC is in-kernel
    } else if (pick < 68) {
      add(KS_EV_EXIT, kSvmIntr, KS_ISA_SVM, rips_[rng_() % 8]);
    } else if (pick < 72) {
      add(KS_EV_EXIT, kSvmVintr, KS_ISA_SVM, rips_[rng_() % 8]);
    } else if (pick < 76) {
      add(KS_EV_EXIT, kSvmPause, KS_ISA_SVM, rips_[rng_() % 8]);
    } else if (pick < 84) {
      add(KS_EV_EXIT, kSvmHlt, KS_ISA_SVM, rips_[rng_() % 8]);
      handling_lo = 10'000, handling_hi = 1'000'000;  // halted until an interrupt
    } else if (pick < 92) {
      add(KS_EV_EXIT, kSvmCpuid, KS_ISA_SVM, rips_[rng_() % 8]);
      ts += between(100, 300);
      add(KS_EV_CPUID, rng_() % 4 == 0 ? 0x80000001u : rng_() % 0xe, 0);
    } else {
      add(KS_EV_EXIT, kSvmMsr, KS_ISA_SVM, rips_[rng_() % 8]);
      static const std::uint64_t msrs[] = {0x6e0, 0x830, 0x838, 0x1b, 0xc0000080};
      ts += between(100, 300);
      add(KS_EV_MSR, msrs[rng_() % 5], rng_() % 4 != 0, 0);
    }
    ts += between(handling_lo, handling_hi);
    add(KS_EV_ENTRY);
    t.next_ts = ts + between(1000, 20000);  // the guest runs
    if (ts > last_ts_) last_ts_ = ts;
  }

  std::mt19937_64 rng_;
  std::vector<VcpuThread> threads_;
  std::uint64_t rips_[8];
  using Item = std::pair<std::uint64_t, std::size_t>;  // (next ts, thread)
  std::priority_queue<Item, std::vector<Item>, std::greater<>> heap_;
  std::uint64_t last_ts_ = 0;
};

std::uint64_t parse_count(const char* s) {
  char* end = nullptr;
  double v = std::strtod(s, &end);
  if (end && (*end == 'M' || *end == 'm')) v *= 1e6;
  if (end && (*end == 'k' || *end == 'K')) v *= 1e3;
  return static_cast<std::uint64_t>(v);
}

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  if (!in) return {};
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

int usage() {
  std::fputs(
      "usage: make_recording OUT EVENTS [--vms N] [--vcpus N] [--seed N] [--formats DIR] "
      "[--no-compress]\n",
      stderr);
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) return usage();
  const std::string out = argv[1];
  const std::uint64_t n = parse_count(argv[2]);
  unsigned vms = 2, vcpus = 4;
  std::uint64_t seed = 1;
  std::string formats;
  store::WriterOptions wopt;
  for (int i = 3; i < argc; ++i) {
    const std::string a = argv[i];
    const bool has_value = i + 1 < argc;
    if (a == "--vms" && has_value) {
      vms = static_cast<unsigned>(std::strtoul(argv[++i], nullptr, 10));
    } else if (a == "--vcpus" && has_value) {
      vcpus = static_cast<unsigned>(std::strtoul(argv[++i], nullptr, 10));
    } else if (a == "--seed" && has_value) {
      seed = std::strtoull(argv[++i], nullptr, 10);
    } else if (a == "--formats" && has_value) {
      formats = argv[++i];
    } else if (a == "--no-compress") {
      wopt.compress = false;
    } else {
      return usage();
    }
  }
  if (n == 0 || vms == 0 || vcpus == 0) return usage();

  const std::uint64_t start_ns = 1'000'000'000'000ull;
  store::RecordingInfo info;
  info.kvmscope_version = "bench";
  info.hostname = "bench";
  info.kernel_release = "6.1.0-synthetic";
  info.start_ns = start_ns;
  info.realtime_offset_ns =
      static_cast<std::int64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                    std::chrono::system_clock::now().time_since_epoch())
                                    .count() -
                                static_cast<std::int64_t>(start_ns));
  info.target = "synthetic: " + std::to_string(vms) + " VMs x " + std::to_string(vcpus) +
                " vCPUs (bench/make_recording)";
  if (!formats.empty())
    for (const char* ev : {"kvm_exit", "kvm_entry", "kvm_userspace_exit", "kvm_pio", "kvm_mmio",
                           "kvm_msr", "kvm_cpuid", "kvm_hypercall"}) {
      std::string text = slurp(formats + "/" + ev + ".format");
      if (text.empty()) {
        std::fprintf(stderr, "make_recording: cannot read %s/%s.format\n", formats.c_str(), ev);
        return 1;
      }
      info.tracefs_formats[ev] = std::move(text);
    }

  auto fail = [](const util::Error& e) {
    std::fprintf(stderr, "make_recording: %s\n", e.message().c_str());
    return 1;
  };
  const auto t0 = std::chrono::steady_clock::now();
  auto w = store::Writer::create(out, info, wopt);
  if (!w) return fail(w.error());
  if (auto r = w->mark(start_ns, "command started"); !r) return fail(r.error());
  for (unsigned v = 0; v < vms; ++v)
    if (auto r = w->set_vm(4000 + 100 * v, "vm" + std::to_string(v), "qemu-system-x86"); !r)
      return fail(r.error());

  Generator gen(vms, vcpus, seed, start_ns + 5'000'000);
  std::vector<ks_event> batch;
  batch.reserve(4096);
  const std::uint64_t body = n > vms ? n - vms : n;  // the VMs' process exits come last
  for (std::uint64_t i = 0; i < body; ++i) {
    batch.push_back(gen.next());
    if (batch.size() == 4096) {
      if (auto r = w->append(batch); !r) return fail(r.error());
      batch.clear();
    }
  }
  const std::uint64_t end_ts = batch.empty() ? gen.last_ts() : batch.back().ts_ns;
  for (unsigned v = 0; v < vms && body + v < n; ++v) {
    ks_event e{};
    e.ts_ns = end_ts + 1000 * (v + 1);
    e.tgid = e.tid = 4000 + 100 * v;
    e.vcpu = KS_VCPU_UNKNOWN;
    e.type = KS_EV_PROCESS_EXIT;
    batch.push_back(e);
  }
  if (auto r = w->append(batch); !r) return fail(r.error());
  if (auto r = w->mark(end_ts + 1'000'000, "command exited status 0"); !r) return fail(r.error());
  if (auto r = w->finish(); !r) return fail(r.error());
  const double sec = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf(
      "%s: %llu events, %u VMs x %u vCPUs, %.1f s of trace, %llu bytes (%.2f bytes/event), "
      "written in %.1f s\n",
      out.c_str(), static_cast<unsigned long long>(w->events_written()), vms, vcpus,
      static_cast<double>(end_ts - start_ns) / 1e9,
      static_cast<unsigned long long>(w->bytes_written()),
      static_cast<double>(w->bytes_written()) / static_cast<double>(n), sec);
  return 0;
}
