// TraceDatReader on damaged trace.dat files, made from the real fixtures: cut at every length,
// bytes flipped at random, a page or chunk made bad. Each must give a clear error or the data
// before the damage with truncated() set: never a crash, never a read past a buffer (the fuzz
// runs of the same cases under ASan found none).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <vector>

#include "tracedat/tracedat_meta.h"
#include "tracedat/tracedat_reader.h"
#include "util/fd.h"

namespace kvmscope::tracedat {
namespace {

const std::string kDir = std::string(KS_SOURCE_DIR) + "/tests/fixtures/tracedat/";

std::vector<char> bytes_of(const std::string& name) {
  std::ifstream in(kDir + name, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

class TempFile {
 public:
  TempFile() {
    // /dev/shm where there is one: these tests write a file per case.
    char path[] = "/dev/shm/kvmscope-tracedat-XXXXXX";
    char fallback[] = "/tmp/kvmscope-tracedat-XXXXXX";
    int fd = ::mkstemp(path);
    path_ = path;
    if (fd < 0) {
      fd = ::mkstemp(fallback);
      path_ = fallback;
    }
    EXPECT_GE(fd, 0);
    ::close(fd);
  }
  ~TempFile() { ::unlink(path_.c_str()); }
  const std::string& write(const std::vector<char>& data) {
    std::ofstream out(path_, std::ios::binary | std::ios::trunc);
    out.write(data.data(), static_cast<std::streamsize>(data.size()));
    return path_;
  }

 private:
  std::string path_;
};

struct Outcome {
  bool opened = false;
  std::string error;  // open()'s
  std::size_t events = 0;
  bool complete = false;
  std::string detail;
};

Outcome read_file(const std::string& path) {
  Outcome o;
  auto r = TraceDatReader::open(path);
  if (!r) {
    o.error = r.error().message();
    return o;
  }
  o.opened = true;
  for (int guard = 0; guard < 1000000; ++guard) {
    auto batch = r->next();
    if (!batch || batch->empty()) break;
    o.events += batch->size();
  }
  EXPECT_TRUE(r->at_end());
  o.complete = r->complete();
  o.detail = r->error_detail();
  EXPECT_EQ(r->truncated(), !o.complete);
  return o;
}

TraceDatMeta meta_of(const std::string& name) {
  auto fd = util::Fd::open(kDir + name, O_RDONLY);
  EXPECT_TRUE(fd.ok());
  auto meta = read_tracedat_meta(fd->get(), name, {});
  EXPECT_TRUE(meta.ok()) << meta.error().message();
  return meta.ok() ? *meta : TraceDatMeta{};
}

TEST(TraceDatDamage, v6_cut_inside_its_data_gives_the_events_before_the_cut) {
  const auto full = bytes_of("kvmtest-v6.dat");
  const TraceDatCpuData cpu0 = meta_of("kvmtest-v6.dat").buffers.at(0).cpus.at(0);
  TempFile tmp;
  std::size_t last_events = 0;
  for (std::size_t n = cpu0.offset + 64; n < cpu0.offset + cpu0.size; n += 512) {
    SCOPED_TRACE(n);
    Outcome o = read_file(tmp.write({full.begin(), full.begin() + static_cast<long>(n)}));
    ASSERT_TRUE(o.opened) << o.error;
    EXPECT_FALSE(o.complete);
    EXPECT_NE(o.detail.find("the file ends inside CPU 0's data"), std::string::npos) << o.detail;
    EXPECT_GE(o.events, last_events);  // a longer prefix never gives fewer events
    last_events = o.events;
  }
  EXPECT_GT(last_events, 200u);
  EXPECT_EQ(read_file(tmp.write(full)).events, 325u);
}

// A cut file either fails to open with a message, or says it was cut, or (cut only in v7's
// trailing section-name strings, which the reader does not need) gives every event.
TEST(TraceDatDamage, every_cut_is_an_error_a_truncated_read_or_harmless) {
  for (const char* name : {"kvmtest-v6.dat", "kvmtest-v7.dat", "guest-vcpus2.dat"}) {
    const auto full = bytes_of(name);
    TempFile tmp;
    const std::size_t all_events = read_file(tmp.write(full)).events;
    for (std::size_t n = 0; n < full.size(); n += (n < 1024 ? 1 : 37)) {
      SCOPED_TRACE(std::string(name) + " cut at " + std::to_string(n));
      Outcome o = read_file(tmp.write({full.begin(), full.begin() + static_cast<long>(n)}));
      if (!o.opened) {
        EXPECT_FALSE(o.error.empty());
      } else if (o.complete) {
        EXPECT_EQ(o.events, all_events) << "events lost without a word";
      }
    }
  }
}

TEST(TraceDatDamage, a_cut_v7_file_says_its_data_index_is_lost) {
  const auto full = bytes_of("kvmtest-v7.dat");
  TempFile tmp;
  Outcome o = read_file(tmp.write({full.begin(), full.end() - 200}));  // into the last options
  ASSERT_FALSE(o.opened);
  EXPECT_NE(o.error.find("damaged trace.dat"), std::string::npos) << o.error;
}

TEST(TraceDatDamage, names_a_file_that_is_no_trace_dat) {
  auto bad = bytes_of("kvmtest-v7.dat");
  bad[3] = 'T';
  TempFile tmp;
  Outcome o = read_file(tmp.write(bad));
  EXPECT_NE(o.error.find("not a trace-cmd trace.dat file"), std::string::npos) << o.error;
}

TEST(TraceDatDamage, names_an_unsupported_file_version) {
  auto bad = bytes_of("kvmtest-v7.dat");
  bad[10] = '8';  // "7\0" after the magic
  TempFile tmp;
  Outcome o = read_file(tmp.write(bad));
  EXPECT_NE(o.error.find("version \"8\" is not supported"), std::string::npos) << o.error;
}

TEST(TraceDatDamage, a_page_whose_length_runs_past_its_end_is_cut_short) {
  auto bad = bytes_of("kvmtest-v6.dat");
  const TraceDatCpuData cpu0 = meta_of("kvmtest-v6.dat").buffers.at(0).cpus.at(0);
  // The first page's commit (bytes 8..15 of the page): the largest 27-bit length.
  for (int i = 0; i < 8; ++i) bad[cpu0.offset + 8 + i] = 0;
  bad[cpu0.offset + 8] = static_cast<char>(0xff);
  bad[cpu0.offset + 9] = static_cast<char>(0xff);
  bad[cpu0.offset + 10] = static_cast<char>(0xff);
  bad[cpu0.offset + 11] = 0x07;
  TempFile tmp;
  Outcome o = read_file(tmp.write(bad));
  ASSERT_TRUE(o.opened) << o.error;
  EXPECT_FALSE(o.complete);
  EXPECT_NE(o.detail.find("damaged page"), std::string::npos) << o.detail;
  EXPECT_GT(o.events, 0u);  // the later pages still read
}

TEST(TraceDatDamage, random_byte_flips_never_crash_the_reader) {
  std::mt19937 rng(20240601);
  for (const char* name : {"kvmtest-v6.dat", "kvmtest-v7.dat", "guest-vcpus2.dat"}) {
    const auto full = bytes_of(name);
    TempFile tmp;
    int opened = 0;
    for (int i = 0; i < 400; ++i) {
      auto bad = full;
      const int flips = 1 + static_cast<int>(rng() % 4);
      for (int k = 0; k < flips; ++k) bad[rng() % bad.size()] = static_cast<char>(rng());
      Outcome o = read_file(tmp.write(bad));
      opened += o.opened;
      EXPECT_TRUE(o.opened || !o.error.empty());
    }
    EXPECT_GT(opened, 0) << name;  // flips in the data, not only in the header, were read
  }
}

}  // namespace
}  // namespace kvmscope::tracedat
