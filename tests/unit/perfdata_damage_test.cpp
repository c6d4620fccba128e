// PerfDataReader on damaged perf.data files made from the real fixtures: cut at many lengths,
// a record's size made bad, bytes flipped at random. Each must give a clear error naming where
// (a file cut before its features: perf writes the event formats after the data), or the
// events before the damage with truncated() set and the byte offset in error_detail(): never a
// crash, never a read past a buffer (fuzz/perfdata_reader_fuzz.cpp runs the same under ASan).
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <random>
#include <regex>
#include <string>

#include "perfdata/perf_reader.h"
#include "support/fixtures.h"
#include "support/pipe_feed.h"
#include "support/recording_file.h"

namespace kvmscope::perfdata {
namespace {

using testing::Bytes;

struct Outcome {
  bool opened = false;
  std::string error;
  std::size_t events = 0;
  bool complete = false, corrupt = false;
  std::string detail;
};

class Scratch {
 public:
  Scratch() {
    char path[] = "/tmp/kvmscope-perfdata-XXXXXX";
    const int fd = ::mkstemp(path);
    EXPECT_GE(fd, 0);
    ::close(fd);
    path_ = path;
  }
  ~Scratch() { std::remove(path_.c_str()); }
  const std::string& write(const Bytes& b, std::size_t n = SIZE_MAX) {
    testing::write_bytes(path_, b, n);
    return path_;
  }

 private:
  std::string path_;
};

Outcome read_path(const std::string& path) {
  Outcome o;
  auto r = PerfDataReader::open(path);
  if (!r) {
    o.error = r.error().message();
    return o;
  }
  o.opened = true;
  o.events = testing::drain(*r).size();
  o.complete = r->complete();
  o.corrupt = r->corrupt();
  o.detail = r->error_detail();
  EXPECT_EQ(r->truncated(), !o.complete);
  return o;
}

Bytes fixture(const std::string& name) {
  return testing::read_bytes(testing::fixture_path("perfdata/" + name + ".data"));
}

// The byte offset a message names ("at byte N"), or -1.
long long named_offset(const std::string& text) {
  std::smatch m;
  static const std::regex at("at byte ([0-9]+)");
  return std::regex_search(text, m, at) ? std::stoll(m[1]) : -1;
}

// A pipe stream has its formats first: cut anywhere after them, it reads up to the cut.
TEST(PerfDataDamage, reads_a_cut_pipe_stream_up_to_the_cut_and_says_where) {
  const Bytes whole = fixture("kvm-pipe-guest");
  Scratch f;
  const Outcome full = read_path(f.write(whole));
  ASSERT_TRUE(full.opened) << full.error;
  ASSERT_TRUE(full.complete);
  std::size_t prev_events = 0;
  for (std::size_t n = 0; n < whole.size(); n += 1 + n / 64) {
    const Outcome o = read_path(f.write(whole, n));
    if (!o.opened) {
      EXPECT_FALSE(o.error.empty());
      continue;
    }
    EXPECT_LE(o.events, full.events) << n;
    EXPECT_GE(o.events + 1, prev_events)
        << "a longer cut reads no fewer events, bar the last " << n;
    prev_events = o.events;
    // A cut at a record's end is a stream that ended: perf's pipe mode has no trailer.
    if (o.complete) continue;
    EXPECT_FALSE(o.corrupt) << n << ": " << o.detail;
    EXPECT_EQ(named_offset(o.detail), static_cast<long long>(n)) << o.detail;
    EXPECT_NE(o.detail.find(" events were read"), std::string::npos) << o.detail;
  }
}

// A file cut anywhere loses its features, the tracing data among them: a clear error that
// says where and why.
TEST(PerfDataDamage, refuses_a_cut_file_saying_where_it_was_cut_and_what_is_lost) {
  const Bytes whole = fixture("kvmstat-guest");
  Scratch f;
  for (std::size_t n = 0; n < whole.size(); n += 1 + n / 16) {
    const Outcome o = read_path(f.write(whole, n));
    ASSERT_FALSE(o.opened) << n;
    if (n < 8) {
      EXPECT_EQ(o.error, f.write(whole, n) + ": not a perf.data file") << n;
      continue;
    }
    EXPECT_NE(o.error.find(f.write(whole, n) + ": "), std::string::npos) << o.error;
    if (o.error.find("cut at byte ") != std::string::npos) {
      EXPECT_EQ(named_offset(o.error), static_cast<long long>(n)) << o.error;
    }
  }
  const Outcome mid = read_path(f.write(whole, whole.size() / 2));
  EXPECT_EQ(
      mid.error, f.write(whole, whole.size() / 2) + ": perf.data cut at byte " +
                     std::to_string(whole.size() / 2) + " inside its data (which ends at byte " +
                     [&] {
                       // data offset + size, from the header (little-endian u64s).
                       auto u64 = [&](std::size_t at) {
                         std::uint64_t v = 0;
                         for (int i = 7; i >= 0; --i) v = v << 8 | whole[at + i];
                         return v;
                       };
                       return std::to_string(u64(40) + u64(48));
                     }() +
                     "): the tracing data (the event formats), which perf writes "
                     "after the data, is lost, and no event can be read without it");
}

// A record whose size is garbage: the data before it, then a stop that names the record.
TEST(PerfDataDamage, stops_at_a_record_of_a_bad_size_and_names_its_offset) {
  for (const char* name : {"kvmstat-guest", "kvm-pipe-guest"}) {
    Bytes b = fixture(name);
    Scratch f;
    const Outcome full = read_path(f.write(b));
    ASSERT_TRUE(full.complete) << name;
    // Walk the records from the data's start to the middle one.
    const bool pipe = b[8] == 16;
    std::uint64_t pos = 16, end = b.size();
    if (!pipe) {
      pos = 0;
      for (int i = 7; i >= 0; --i) pos = pos << 8 | b[40 + i];
    }
    std::uint64_t target = 0;
    while (pos + 8 <= end) {
      const std::uint32_t type = b[pos] | b[pos + 1] << 8;
      const std::uint16_t size = static_cast<std::uint16_t>(b[pos + 6] | b[pos + 7] << 8);
      if (size < 8) break;
      if (type == 9 && pos > end / 2) {  // a sample past the middle
        target = pos;
        break;
      }
      std::uint64_t skip = size;
      if (type == 66) skip += b[pos + 8] | b[pos + 9] << 8 | b[pos + 10] << 16 | b[pos + 11] << 24;
      pos += skip;
    }
    ASSERT_NE(target, 0u) << name;
    b[target + 6] = 3;  // size 3: below a record header's 8
    b[target + 7] = 0;
    const Outcome o = read_path(f.write(b));
    ASSERT_TRUE(o.opened) << o.error;
    EXPECT_FALSE(o.complete);
    EXPECT_TRUE(o.corrupt);
    EXPECT_LT(o.events, full.events);
    EXPECT_GT(o.events, 0u);
    EXPECT_EQ(o.detail, "a record of size 3 at byte " + std::to_string(target) + "; " +
                            std::to_string(o.events) + " events were read")
        << name;
  }
}

// Random damage anywhere: whatever comes out, nothing crashes and an error or detail is said.
TEST(PerfDataDamage, survives_bytes_flipped_at_random) {
  std::mt19937 rng(16);
  for (const char* name : {"kvmstat-guest", "kvm-pipe-guest", "kvmstat-zstd-guest"}) {
    const Bytes whole = fixture(name);
    Scratch f;
    for (int round = 0; round < 150; ++round) {
      Bytes b = whole;
      for (int k = 0; k < 1 + round % 8; ++k)
        b[rng() % b.size()] ^= static_cast<std::uint8_t>(1 + rng() % 255);
      const Outcome o = read_path(f.write(b));
      if (!o.opened) {
        EXPECT_FALSE(o.error.empty());
      } else if (!o.complete) {
        EXPECT_FALSE(o.detail.empty());
      }
    }
  }
}

}  // namespace
}  // namespace kvmscope::perfdata
