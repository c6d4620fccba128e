// TdCpuStream on hand-made ring-buffer pages: every kind of event header the kernel writes, lost
// event counts, compressed chunks, and pages whose lengths lie.
#include "tracedat/tracedat_pages.h"

#include <gtest/gtest.h>
#include <unistd.h>
#include <zstd.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "util/fd.h"

namespace kvmscope::tracedat {
namespace {

constexpr std::uint32_t kPage = 4096;

void put(std::vector<std::uint8_t>& v, std::size_t at, std::uint64_t x, int n) {
  if (v.size() < at + n) v.resize(at + n);
  for (int i = 0; i < n; ++i) v[at + i] = i < 8 ? static_cast<std::uint8_t>(x >> (8 * i)) : 0;
}

// A little-endian page of a 64-bit kernel: ts, commit, then `data`.
std::vector<std::uint8_t> page(std::uint64_t ts, const std::vector<std::uint8_t>& data,
                               std::uint64_t commit_flags = 0, std::uint64_t size_override = 0) {
  std::vector<std::uint8_t> p(kPage, 0);
  put(p, 0, ts, 8);
  put(p, 8, (size_override ? size_override : data.size()) | commit_flags, 8);
  std::copy(data.begin(), data.end(), p.begin() + 16);
  return p;
}

std::uint32_t header(unsigned type_len, std::uint32_t delta) {
  return type_len | (delta << 5);
}

class PageFile {
 public:
  explicit PageFile(const std::vector<std::uint8_t>& bytes) {
    char path[] = "/tmp/kvmscope-pages-XXXXXX";
    fd_ = util::Fd(::mkstemp(path));
    ::unlink(path);
    EXPECT_EQ(::write(fd_.get(), bytes.data(), bytes.size()), static_cast<ssize_t>(bytes.size()));
    size_ = bytes.size();
  }
  TdCpuStream stream(bool compressed, std::uint64_t data_size) const {
    meta_.page_size = kPage;
    meta_.commit_size = 8;
    buffer_.compressed = compressed;
    TraceDatCpuData where;
    where.cpu = 2;
    where.offset = 0;
    where.size = data_size;
    return TdCpuStream(fd_.get(), size_, meta_, buffer_, where);
  }

 private:
  util::Fd fd_;
  std::uint64_t size_ = 0;
  mutable TraceDatMeta meta_;
  mutable TraceDatBuffer buffer_;
};

// One page with each header kind: data (type_len 2), time extend, a long event (type_len 0),
// padding, an absolute time stamp, data (type_len 1); 42 events lost before it, count stored.
std::vector<std::uint8_t> every_kind() {
  std::vector<std::uint8_t> d;
  std::size_t at = 0;
  put(d, at, header(2, 5), 4), put(d, at + 4, 0x1111111111111111ull, 8), at += 12;
  put(d, at, header(30, 3), 4), put(d, at + 4, 1, 4), at += 8;
  put(d, at, header(0, 7), 4), put(d, at + 4, 16, 4), put(d, at + 8, 0x33, 12), at += 20;
  put(d, at, header(29, 4), 4), put(d, at + 4, 8, 4), at += 12;
  put(d, at, header(31, 9), 4), put(d, at + 4, 2, 4), at += 8;
  put(d, at, header(1, 2), 4), put(d, at + 4, 0x66666666, 4), at += 8;
  auto p = page(1000, d, (1ull << 31) | (1ull << 30));
  put(p, 16 + d.size(), 42, 8);  // the stored lost count, right after the data
  return p;
}

TEST(TdCpuStream, decodes_every_event_header_kind_as_kbuffer_does) {
  PageFile f(every_kind());
  TdCpuStream s = f.stream(false, kPage);
  TdRecord r;
  ASSERT_TRUE(s.next(r));
  EXPECT_EQ(r.ts, 1005u);
  EXPECT_EQ(r.data.size(), 8u);
  EXPECT_EQ(r.data[0], 0x11);
  EXPECT_EQ(r.missed, 42u);
  ASSERT_TRUE(s.next(r));
  const std::uint64_t after_extend = 1005 + (1ull << 27) + 3;
  EXPECT_EQ(r.ts, after_extend + 7);
  EXPECT_EQ(r.data.size(), 12u);  // stored length 16 includes its own 4 bytes
  EXPECT_EQ(r.data[0], 0x33);
  EXPECT_EQ(r.missed, 0u);
  ASSERT_TRUE(s.next(r));
  EXPECT_EQ(r.ts, (2ull << 27) + 9 + 2);  // absolute, then +2
  EXPECT_EQ(r.data.size(), 4u);
  EXPECT_EQ(r.data[0], 0x66);
  EXPECT_FALSE(s.next(r));
  EXPECT_EQ(s.damage(), "");
  EXPECT_EQ(s.bad_pages(), 0u);
  EXPECT_EQ(s.cpu(), 2u);
}

TEST(TdCpuStream, reads_pages_from_zstd_chunks) {
  std::vector<std::uint8_t> plain = every_kind();
  auto second = page(5000, {static_cast<std::uint8_t>(header(1, 1)), 0, 0, 0, 0xaa, 0, 0, 0});
  plain.insert(plain.end(), second.begin(), second.end());
  std::vector<std::uint8_t> packed(ZSTD_compressBound(plain.size()));
  packed.resize(ZSTD_compress(packed.data(), packed.size(), plain.data(), plain.size(), 3));
  std::vector<std::uint8_t> file;
  put(file, 0, 1, 4);  // one chunk
  put(file, 4, packed.size(), 4);
  put(file, 8, plain.size(), 4);
  file.insert(file.end(), packed.begin(), packed.end());
  PageFile f(file);
  TdCpuStream s = f.stream(true, file.size() - 4);  // trace-cmd's size leaves out the count
  TdRecord r;
  int n = 0;
  while (s.next(r)) ++n;
  EXPECT_EQ(n, 4);
  EXPECT_EQ(r.ts, 5001u);
  EXPECT_EQ(s.damage(), "");
}

TEST(TdCpuStream, cuts_short_a_page_whose_length_runs_past_its_end) {
  auto bad = page(1000, {}, 0, kPage);  // claims more data than a page holds
  auto good = page(2000, {static_cast<std::uint8_t>(header(1, 3)), 0, 0, 0, 1, 2, 3, 4});
  bad.insert(bad.end(), good.begin(), good.end());
  PageFile f(bad);
  TdCpuStream s = f.stream(false, bad.size());
  TdRecord r;
  ASSERT_TRUE(s.next(r));  // the zeros of the bad page are no event; the next page reads
  EXPECT_EQ(r.ts, 2003u);
  EXPECT_FALSE(s.next(r));
  EXPECT_EQ(s.bad_pages(), 1u);
}

TEST(TdCpuStream, stops_at_an_event_longer_than_its_page_data) {
  std::vector<std::uint8_t> d;
  put(d, 0, header(0, 1), 4);
  put(d, 4, 4000, 4);  // a long event that does not fit the 8 data bytes
  PageFile f(page(1000, d));
  TdCpuStream s = f.stream(false, kPage);
  TdRecord r;
  EXPECT_FALSE(s.next(r));
  EXPECT_EQ(s.bad_pages(), 1u);
}

TEST(TdCpuStream, says_where_a_compressed_chunk_does_not_inflate) {
  std::vector<std::uint8_t> file;
  put(file, 0, 1, 4);
  put(file, 4, 16, 4);
  put(file, 8, kPage, 4);
  put(file, 12, 0xdeadbeef, 16);
  PageFile f(file);
  TdCpuStream s = f.stream(true, file.size());
  TdRecord r;
  EXPECT_FALSE(s.next(r));
  EXPECT_NE(s.damage().find("damaged compressed chunk"), std::string::npos) << s.damage();
}

TEST(TdCpuStream, reads_a_page_cut_by_the_end_of_the_file_as_far_as_it_goes) {
  auto bytes = every_kind();
  PageFile half(std::vector<std::uint8_t>(bytes.begin(), bytes.begin() + kPage / 2));
  TdCpuStream s = half.stream(false, kPage / 2);
  TdRecord r;
  int n = 0;
  while (s.next(r)) ++n;
  EXPECT_EQ(n, 3);  // all three events lie in the first half
}

}  // namespace
}  // namespace kvmscope::tracedat
