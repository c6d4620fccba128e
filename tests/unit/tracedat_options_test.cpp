// The option payloads of a trace.dat that kvmscope reads: per-CPU stats, clock, proc maps, the
// v7 BUFFER index, OFFSET/DATE/TSC2NSEC.
#include "tracedat/tracedat_options.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "support/error_text.h"
#include "tracedat/tracedat_meta.h"

namespace kvmscope::tracedat {
namespace {

using kvmscope::testing::error_text;

std::vector<std::uint8_t> text(const std::string& s) {
  std::vector<std::uint8_t> v(s.begin(), s.end());
  v.push_back(0);
  return v;
}

void put(std::vector<std::uint8_t>& v, std::uint64_t x, int n) {
  for (int i = 0; i < n; ++i) v.push_back(static_cast<std::uint8_t>(x >> (8 * i)));
}

TEST(TraceDatOptions, reads_lost_counts_from_a_cpustat_text) {
  auto [cpu, st] = parse_tracedat_cpustat(
      "CPU: 3\nentries: 12\noverrun: 5\ncommit overrun: 1\nbytes: 4096\n"
      "oldest event ts:  2094.290028\nnow ts:  2094.291719\ndropped events: 2\nread events: 9\n",
      0);
  EXPECT_EQ(cpu, 3u);
  EXPECT_EQ(st.entries, 12u);
  EXPECT_EQ(st.overrun, 5u);
  EXPECT_EQ(st.commit_overrun, 1u);
  EXPECT_EQ(st.dropped, 2u);
  EXPECT_EQ(st.lost(), 8u);
  EXPECT_EQ(parse_tracedat_cpustat("entries: 1\n", 7).first, 7u);  // no CPU line
}

TEST(TraceDatOptions, takes_the_bracketed_clock_as_the_one_in_use) {
  EXPECT_EQ(parse_tracedat_clock("[local] global counter uptime perf mono\n"), "local");
  EXPECT_EQ(parse_tracedat_clock("local global [mono] boot"), "mono");
  EXPECT_EQ(parse_tracedat_clock(" boot \n"), "boot");
}

TEST(TraceDatOptions, reads_pid_and_name_from_a_procmap) {
  auto pm = parse_tracedat_procmap("1a2b 2 qemu-system-x86\n7f00 7f10 /usr/lib/libc.so.6\n");
  ASSERT_TRUE(pm.has_value());
  EXPECT_EQ(pm->first, 0x1a2bu);
  EXPECT_EQ(pm->second, "qemu-system-x86");
  EXPECT_FALSE(parse_tracedat_procmap("zz").has_value());
  EXPECT_FALSE(parse_tracedat_procmap("0 1 idle").has_value());
}

TEST(TraceDatOptions, indexes_the_per_cpu_data_of_a_v7_buffer) {
  std::vector<std::uint8_t> b;
  put(b, 6511, 8);  // section offset
  for (std::uint8_t c : text("")) b.push_back(c);
  for (std::uint8_t c : text("local")) b.push_back(c);
  put(b, 4096, 4);  // sub-buffer size
  put(b, 2, 4);     // CPUs
  put(b, 0, 4), put(b, 8192, 8), put(b, 100, 8);
  put(b, 1, 4), put(b, 12288, 8), put(b, 2000, 8);
  TraceDatMeta meta;
  TdSectionOffsets sections;
  EXPECT_EQ(error_text(apply_tracedat_option(3, b, 7, false, meta, sections)), "");
  ASSERT_EQ(meta.buffers.size(), 1u);
  const TraceDatBuffer& buf = meta.buffers[0];
  EXPECT_EQ(buf.section, 6511u);
  EXPECT_EQ(buf.clock, "local");
  EXPECT_EQ(buf.page_size, 4096u);
  ASSERT_EQ(buf.cpus.size(), 2u);
  EXPECT_EQ(buf.cpus[1].cpu, 1u);
  EXPECT_EQ(buf.cpus[1].offset, 12288u);
  EXPECT_EQ(buf.cpus[1].size, 2000u);

  b.resize(b.size() - 10);  // a CPU entry cut short
  TraceDatMeta cut;
  EXPECT_NE(error_text(apply_tracedat_option(3, b, 7, false, cut, sections)), "");
}

TEST(TraceDatOptions, rejects_a_buffer_claiming_more_cpus_than_it_holds) {
  std::vector<std::uint8_t> b;
  put(b, 0, 8);
  b.push_back(0);
  b.push_back(0);
  put(b, 4096, 4);
  put(b, 0xffffffff, 4);
  TraceDatMeta meta;
  TdSectionOffsets sections;
  EXPECT_NE(error_text(apply_tracedat_option(3, b, 7, false, meta, sections)), "");
  EXPECT_TRUE(meta.buffers.empty());
}

TEST(TraceDatOptions, reads_time_offsets_and_tsc_conversion) {
  TraceDatMeta meta;
  TdSectionOffsets sections;
  EXPECT_EQ(error_text(apply_tracedat_option(7, text("-250"), 7, false, meta, sections)), "");
  EXPECT_EQ(meta.ts_offset, -250);
  EXPECT_EQ(error_text(apply_tracedat_option(1, text("0x10"), 7, false, meta, sections)), "");
  EXPECT_EQ(meta.realtime_offset_ns, 16000);  // microseconds in the file
  std::vector<std::uint8_t> t;
  put(t, 3, 4), put(t, 1, 4), put(t, 0, 8);
  EXPECT_EQ(error_text(apply_tracedat_option(14, t, 7, false, meta, sections)), "");
  ASSERT_TRUE(meta.tsc2nsec.has_value());
  EXPECT_EQ(meta.tsc2nsec->mult, 3u);
  EXPECT_EQ(meta.tsc2nsec->shift, 1u);
}

TEST(TraceDatOptions, reads_the_uname_and_skips_unknown_options) {
  TraceDatMeta meta;
  TdSectionOffsets sections;
  EXPECT_EQ(error_text(apply_tracedat_option(5, text("Linux vm 6.18.44 x86_64"), 7, false, meta,
                                             sections)),
            "");
  EXPECT_EQ(meta.uname, "Linux vm 6.18.44 x86_64");
  EXPECT_EQ(error_text(apply_tracedat_option(999, text("whatever"), 7, false, meta, sections)), "");
}

}  // namespace
}  // namespace kvmscope::tracedat
