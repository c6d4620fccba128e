// Recording format throughput: writes a realistic stream to a file, then reads it back through
// Reader (read(2), CRC, zstd, decode) and prints bytes/event and events/s for each setting.
// Usage: store_decode_bench [events] [dir]   (default 4,000,000 events in /tmp)
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "bench/store_stream.h"
#include "store/recording.h"

using namespace kvmscope;

namespace {

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

int run(const std::vector<ks_event>& events, const std::string& path, bool compress) {
  store::WriterOptions opt;
  opt.compress = compress;
  auto t0 = std::chrono::steady_clock::now();
  auto w = store::Writer::create(path, store::RecordingInfo{}, opt);
  if (!w) return std::fprintf(stderr, "%s\n", w.error().message().c_str()), 1;
  for (std::size_t i = 0; i < events.size(); i += 4096)  // batches like a ring-buffer drain
    if (auto ok = w->append({events.data() + i, std::min<std::size_t>(4096, events.size() - i)});
        !ok)
      return std::fprintf(stderr, "%s\n", ok.error().message().c_str()), 1;
  if (auto ok = w->finish(); !ok)
    return std::fprintf(stderr, "%s\n", ok.error().message().c_str()), 1;
  const double wsec = seconds_since(t0);
  const double bytes = static_cast<double>(w->bytes_written());

  double best = 0;
  std::uint64_t sum = 0;
  for (int rep = 0; rep < 5; ++rep) {
    t0 = std::chrono::steady_clock::now();
    auto r = store::Reader::open(path);
    if (!r) return std::fprintf(stderr, "%s\n", r.error().message().c_str()), 1;
    std::uint64_t n = 0;
    for (;;) {
      auto batch = r->next();
      if (!batch) return std::fprintf(stderr, "%s\n", batch.error().message().c_str()), 1;
      if (batch->empty()) break;
      n += batch->size();
      sum += (*batch)[batch->size() - 1].ts_ns;  // touch the output
    }
    const double rate = static_cast<double>(n) / seconds_since(t0);
    if (n != events.size() || !r->complete())
      return std::fprintf(stderr, "read back %llu events\n", (unsigned long long)n), 1;
    if (rate > best) best = rate;
  }
  std::printf("%-12s %6.2f bytes/event   write %6.1f M events/s   read+decode %6.1f M events/s\n",
              compress ? "zstd" : "uncompressed", bytes / static_cast<double>(events.size()),
              static_cast<double>(events.size()) / wsec / 1e6, best / 1e6);
  return sum == 42 ? 2 : 0;  // keeps `sum` alive
}

}  // namespace

int main(int argc, char** argv) {
  const std::size_t n = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 4'000'000;
  const std::string dir = argc > 2 ? argv[2] : "/tmp";
  const auto events = bench::realistic_stream(n);
  std::printf("%zu events (%zu bytes each in memory): exit/entry pairs on 2 vCPUs, 1-5 us apart\n",
              events.size(), sizeof(ks_event));
  const std::string path = dir + "/kvmscope-bench-" + std::to_string(getpid()) + ".kvms";
  int rc = run(events, path, false);
  if (rc == 0) rc = run(events, path, true);
  std::remove(path.c_str());
  return rc;
}
