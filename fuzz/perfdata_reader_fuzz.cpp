// libFuzzer target: arbitrary bytes as a perf.data (a file or a pipe stream), opened and read to
// the end by PerfDataReader. Whatever the bytes, it must return errors, never crash, overrun or
// allocate without bound (run with -malloc_limit_mb, see fuzz/run-fuzz.sh). Seeds: the real
// files of tests/fixtures/perfdata.
#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "perfdata/perf_reader.h"

using namespace kvmscope;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  // A memory-backed file: the reader reads it by offset (pread) as it does real files.
  util::Fd fd(memfd_create("kvmscope-fuzz", MFD_CLOEXEC));
  if (!fd.valid()) std::abort();
  for (std::size_t off = 0; off < size;) {
    ssize_t n = write(fd.get(), data + off, size - off);
    if (n <= 0) std::abort();
    off += static_cast<std::size_t>(n);
  }
  auto reader = perfdata::PerfDataReader::from_fd(std::move(fd), "fuzz-input");
  if (!reader) return 0;
  std::uint64_t sum = reader->info().start_ns + reader->info().tracefs_formats.size();
  for (int guard = 0; guard < 1'000'000; ++guard) {
    auto batch = reader->next();
    if (!batch || batch->empty()) break;
    // Touch every event so a bad span shows up under ASan.
    for (const ks_event& e : *batch) sum += e.ts_ns ^ e.a ^ e.b ^ e.c ^ e.tgid ^ e.vcpu;
  }
  for (const auto& [cpu, n] : reader->lost_per_cpu()) sum += cpu + n;
  for (const auto& [pid, vm] : reader->vms()) sum += pid + vm.name.size() + vm.comm.size();
  for (const auto& note : reader->notes()) sum += note.size();
  sum += reader->error_detail().size();
  if (reader->complete() && reader->truncated()) std::abort();  // contradictory state
  return sum == 0xfeedfacecafebeefull ? 1 : 0;                  // keeps `sum` alive
}
