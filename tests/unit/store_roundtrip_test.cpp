// Writer then Reader: everything that goes into a recording comes back out, in order.
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <thread>

#include "../../bench/store_stream.h"
#include "store/block.h"
#include "store/crc32c.h"
#include "store/format.h"
#include "store/recording.h"
#include "store/side_records.h"
#include "support/fixtures.h"

namespace {

using namespace kvmscope;
using store::Reader;
using store::RecordingInfo;
using store::Writer;
using store::WriterOptions;

class StoreRoundTrip : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("kvmscope-store-" + std::to_string(getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
    path_ = (dir_ / "rec.kvms").string();
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // Everything the reader delivers, until the end.
  static std::vector<ks_event> drain(Reader& r) {
    std::vector<ks_event> all;
    for (;;) {
      auto batch = r.next();
      EXPECT_TRUE(batch.ok()) << batch.error().message();
      if (!batch.ok() || batch->empty()) break;
      all.insert(all.end(), batch->begin(), batch->end());
    }
    return all;
  }

  std::filesystem::path dir_;
  std::string path_;
};

void expect_same(const std::vector<ks_event>& a, const std::vector<ks_event>& b) {
  ASSERT_EQ(a.size(), b.size());
  for (std::size_t i = 0; i < a.size(); ++i)
    ASSERT_EQ(std::memcmp(&a[i], &b[i], sizeof(ks_event)), 0) << "event " << i;
}

std::vector<ks_event> stream_with_edges(std::size_t n) {
  auto ev = bench::realistic_stream(n);
  ev[n / 3].ts_ns = UINT64_MAX;
  ev[n / 3].a = ev[n / 3].b = ev[n / 3].c = UINT64_MAX;
  ev[n / 3 + 1].ts_ns -= 300;  // slightly backwards
  ev[n / 2].vcpu = KS_VCPU_UNKNOWN;
  ev[n / 2].type = KS_EV_USERSPACE_EXIT;
  return ev;
}

TEST_F(StoreRoundTrip, returns_many_events_unchanged_with_and_without_zstd) {
  const auto in = stream_with_edges(300000);
  for (bool compress : {true, false}) {
    WriterOptions opt;
    opt.compress = compress;
    auto w = Writer::create(path_, RecordingInfo{}, opt);
    ASSERT_TRUE(w.ok()) << w.error().message();
    // Uneven batches, as a ring-buffer drain gives them.
    for (std::size_t i = 0; i < in.size();) {
      const std::size_t n = std::min<std::size_t>(1 + (i * 7919) % 5000, in.size() - i);
      ASSERT_TRUE(w->append({in.data() + i, n}).ok());
      i += n;
    }
    ASSERT_TRUE(w->finish().ok());
    EXPECT_EQ(w->events_written(), in.size());
    EXPECT_EQ(w->bytes_written(), std::filesystem::file_size(path_));

    auto r = Reader::open(path_);
    ASSERT_TRUE(r.ok()) << r.error().message();
    expect_same(drain(*r), in);
    EXPECT_TRUE(r->complete());
    EXPECT_FALSE(r->truncated());
    EXPECT_FALSE(r->corrupt());
    ASSERT_TRUE(r->totals().has_value());
    EXPECT_EQ(r->totals()->events, in.size());
    EXPECT_EQ(r->stop_offset(), std::filesystem::file_size(path_));
  }
}

TEST_F(StoreRoundTrip, returns_the_header_metadata) {
  RecordingInfo info;
  info.kvmscope_version = "0.1.0";
  info.hostname = "host-1";
  info.kernel_release = "6.18.0-pvm";
  info.realtime_offset_ns = -1234567890123;
  info.start_ns = 98765432101234;
  info.target = "command: qemu-system-x86_64 -enable-kvm -name guest=boot";
  info.tracefs_formats["kvm_exit"] = "name: kvm_exit\nID: 1\nformat:\n\tfield:...\n";
  info.tracefs_formats["kvm_userspace_exit"] = std::string("binary\0ok", 9);
  info.extra["record.buffer_pages"] = "256";
  info.extra[""] = "empty key is fine";
  {
    auto w = Writer::create(path_, info);
    ASSERT_TRUE(w.ok());
    ASSERT_TRUE(w->finish().ok());
  }
  auto r = Reader::open(path_);
  ASSERT_TRUE(r.ok()) << r.error().message();
  RecordingInfo expect = info;
  expect.format_major = store::kFormatMajor;
  expect.format_minor = store::kFormatMinor;
  EXPECT_EQ(r->info(), expect);
}

TEST_F(StoreRoundTrip, leaves_out_extra_keys_that_name_typed_fields) {
  RecordingInfo info;
  info.target = "pid 42";
  info.extra["target"] = "would override";
  info.extra["tracefs.format.kvm_exit"] = "would override";
  ASSERT_TRUE(Writer::create(path_, info)->finish().ok());
  auto r = Reader::open(path_);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->info().target, "pid 42");
  EXPECT_TRUE(r->info().tracefs_formats.empty());
  EXPECT_TRUE(r->info().extra.empty());
}

TEST_F(StoreRoundTrip, keeps_real_tracefs_format_files_verbatim) {
  RecordingInfo info;
  for (const char* ev : {"kvm_exit", "kvm_userspace_exit"}) {
    info.tracefs_formats[ev] = kvmscope::testing::format_fixture("tracefs-6.18-pvm", ev);
  }
  ASSERT_TRUE(Writer::create(path_, info)->finish().ok());
  auto r = Reader::open(path_);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->info().tracefs_formats, info.tracefs_formats);
}

TEST_F(StoreRoundTrip, adds_up_lost_counts_per_cpu) {
  auto w = Writer::create(path_, RecordingInfo{});
  ASSERT_TRUE(w.ok());
  const auto ev = bench::realistic_stream(100);
  ASSERT_TRUE(w->add_lost(0, 5).ok());
  ASSERT_TRUE(w->add_lost(3, 1).ok());
  ASSERT_TRUE(w->append(ev).ok());
  ASSERT_TRUE(w->flush().ok());
  ASSERT_TRUE(w->add_lost(0, 7).ok());
  ASSERT_TRUE(w->add_lost(0, 0).ok());  // nothing to store
  ASSERT_TRUE(w->add_lost(4000000000u, UINT32_MAX).ok());
  ASSERT_TRUE(w->finish().ok());

  auto r = Reader::open(path_);
  ASSERT_TRUE(r.ok());
  drain(*r);
  const std::map<std::uint32_t, std::uint64_t> expect = {
      {0, 12}, {3, 1}, {4000000000u, UINT32_MAX}};
  EXPECT_EQ(r->lost_per_cpu(), expect);
  EXPECT_EQ(r->lost_total(), 13ull + UINT32_MAX);
  EXPECT_EQ(r->totals()->lost, 13ull + UINT32_MAX);
  EXPECT_TRUE(r->complete());
}

// finish() closes the file itself, so a failed close (NFS, quotas: a write's error may show only
// there) is reported by it: the descriptor is gone before the Writer is.
TEST_F(StoreRoundTrip, finish_closes_the_file_and_a_finished_writer_refuses_more) {
  const auto open_fds = [] {
    std::size_t n = 0;
    for (const auto& entry : std::filesystem::directory_iterator("/proc/self/fd")) {
      (void)entry;
      ++n;
    }
    return n;
  };
  auto w = Writer::create(path_, RecordingInfo{});
  ASSERT_TRUE(w.ok());
  ASSERT_TRUE(w->append(bench::realistic_stream(10)).ok());
  const std::size_t before = open_fds();
  ASSERT_TRUE(w->finish().ok());
  EXPECT_EQ(open_fds(), before - 1);
  auto again = w->flush();
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().message(), "write " + path_ + ": recording already finished");
}

TEST_F(StoreRoundTrip, returns_markers_in_order) {
  auto w = Writer::create(path_, RecordingInfo{});
  ASSERT_TRUE(w.ok());
  ASSERT_TRUE(w->mark(100, "command started").ok());
  ASSERT_TRUE(w->append(bench::realistic_stream(1000)).ok());
  ASSERT_TRUE(w->flush().ok());
  ASSERT_TRUE(w->mark(UINT64_MAX, "command exited status 0").ok());
  ASSERT_TRUE(w->mark(5, "").ok());
  ASSERT_TRUE(w->mark(6, std::string(10000, 'x')).ok());  // cut to 4096 bytes
  ASSERT_TRUE(w->finish().ok());

  auto r = Reader::open(path_);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(drain(*r).size(), 1000u);
  const std::vector<store::Marker> expect = {{100, "command started"},
                                             {UINT64_MAX, "command exited status 0"},
                                             {5, ""},
                                             {6, std::string(store::kMaxLabel, 'x')}};
  EXPECT_EQ(r->markers(), expect);
}

TEST_F(StoreRoundTrip, splits_many_long_markers_into_blocks_a_reader_accepts) {
  auto w = Writer::create(path_, RecordingInfo{});
  ASSERT_TRUE(w.ok());
  for (int i = 0; i < 600; ++i)  // 2.4 MB of labels in one flush
    ASSERT_TRUE(w->mark(static_cast<std::uint64_t>(i), std::string(4096, 'a' + i % 26)).ok());
  ASSERT_TRUE(w->finish().ok());
  auto r = Reader::open(path_);
  ASSERT_TRUE(r.ok());
  drain(*r);
  EXPECT_TRUE(r->complete()) << r->error_detail();
  ASSERT_EQ(r->markers().size(), 600u);
  EXPECT_EQ(r->markers()[599].label, std::string(4096, 'a' + 599 % 26));
}

TEST_F(StoreRoundTrip, refuses_markers_past_what_a_reader_keeps) {
  auto w = Writer::create(path_, RecordingInfo{});
  ASSERT_TRUE(w.ok());
  for (std::size_t i = 0; i < store::kMaxMarkers; ++i) ASSERT_TRUE(w->mark(i, "m").ok());
  auto over = w->mark(0, "one too many");
  ASSERT_FALSE(over.ok());
  EXPECT_EQ(over.error().message(), "record marker: more markers than a recording can hold");
  ASSERT_TRUE(w->finish().ok()) << "the refusal is not sticky";
  auto r = Reader::open(path_);
  ASSERT_TRUE(r.ok());
  drain(*r);
  EXPECT_TRUE(r->complete()) << r->error_detail();
  EXPECT_EQ(r->markers().size(), store::kMaxMarkers);
}

TEST_F(StoreRoundTrip, knows_a_vm_name_before_its_first_events) {
  WriterOptions opt;
  opt.block_events = 100;
  auto w = Writer::create(path_, RecordingInfo{}, opt);
  ASSERT_TRUE(w.ok());
  auto first = bench::realistic_stream(250);
  ASSERT_TRUE(w->set_vm(4242, "boot", "qemu-system-x86").ok());
  ASSERT_TRUE(w->append(first).ok());
  // A second VM appears mid-stream; a renamed first VM too.
  auto second = bench::realistic_stream(250, 2);
  for (auto& e : second) e.tgid = 777;
  ASSERT_TRUE(w->set_vm(777, "second", "qemu").ok());
  ASSERT_TRUE(w->set_vm(4242, "boot-renamed", "qemu-system-x86").ok());
  ASSERT_TRUE(w->append(second).ok());
  ASSERT_TRUE(w->finish().ok());

  auto r = Reader::open(path_);
  ASSERT_TRUE(r.ok());
  std::size_t seen = 0;
  for (;;) {
    auto batch = r->next();
    ASSERT_TRUE(batch.ok());
    if (batch->empty()) break;
    for (const auto& e : *batch) {
      ASSERT_TRUE(r->vms().contains(e.tgid)) << "event " << seen << " of an unnamed VM";
      ++seen;
    }
  }
  EXPECT_EQ(seen, 500u);
  ASSERT_EQ(r->vms().size(), 2u);
  EXPECT_EQ(r->vms().at(4242).name, "boot-renamed");
  EXPECT_EQ(r->vms().at(777).name, "second");
  EXPECT_EQ(r->vms().at(777).comm, "qemu");
}

TEST_F(StoreRoundTrip, reads_an_empty_recording_as_complete) {
  ASSERT_TRUE(Writer::create(path_, RecordingInfo{})->finish().ok());
  auto r = Reader::open(path_);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(drain(*r).empty());
  EXPECT_TRUE(r->complete());
  EXPECT_FALSE(r->truncated());
  EXPECT_EQ(r->totals()->events, 0u);
}

TEST_F(StoreRoundTrip, says_a_recording_without_trailer_was_cut_short) {
  const auto in = bench::realistic_stream(5000);
  {
    auto w = Writer::create(path_, RecordingInfo{});
    ASSERT_TRUE(w.ok());
    ASSERT_TRUE(w->append(in).ok());
    // Destroyed without finish(): what was buffered is written, the trailer is not.
  }
  auto r = Reader::open(path_);
  ASSERT_TRUE(r.ok());
  expect_same(drain(*r), in);
  EXPECT_FALSE(r->complete());
  EXPECT_TRUE(r->truncated());
  EXPECT_FALSE(r->corrupt());
  EXPECT_NE(r->error_detail().find("no end block"), std::string::npos) << r->error_detail();
  EXPECT_EQ(r->stop_offset(), std::filesystem::file_size(path_));
}

TEST_F(StoreRoundTrip, refuses_work_after_finish) {
  auto w = Writer::create(path_, RecordingInfo{});
  ASSERT_TRUE(w.ok());
  ASSERT_TRUE(w->finish().ok());
  const ks_event e{};
  auto ok = w->append({&e, 1});
  ASSERT_FALSE(ok.ok());
  EXPECT_NE(ok.error().message().find("already finished"), std::string::npos);
  EXPECT_FALSE(w->finish().ok());
}

TEST_F(StoreRoundTrip, skips_block_types_it_does_not_know) {
  const auto in = bench::realistic_stream(3000);
  {
    auto w = Writer::create(path_, RecordingInfo{});
    ASSERT_TRUE(w->append(in).ok());
    ASSERT_TRUE(w->flush().ok());
  }
  // What a later minor version could add: a block of type 200, then a trailer counting it.
  std::vector<std::uint8_t> tail;
  auto add = [&](std::uint8_t type, const std::vector<std::uint8_t>& payload) {
    store::BlockHeader h;
    h.type = type;
    h.stored_len = h.raw_len = static_cast<std::uint32_t>(payload.size());
    h.count = 1;
    h.payload_crc = store::crc32c(payload);
    std::uint8_t hdr[store::kBlockHeaderSize];
    store::encode_block_header(h, hdr);
    tail.insert(tail.end(), hdr, hdr + sizeof hdr);
    tail.insert(tail.end(), payload.begin(), payload.end());
  };
  add(200, {1, 2, 3, 4});
  std::vector<std::uint8_t> totals;
  store::encode_totals(store::Totals{in.size(), 0, 2, 0}, totals);  // blocks: events, unknown
  totals.push_back(0x55);  // a field from a later minor version: ignored
  add(static_cast<std::uint8_t>(store::BlockType::end), totals);
  std::ofstream(path_, std::ios::app | std::ios::binary)
      .write(reinterpret_cast<const char*>(tail.data()), static_cast<std::streamsize>(tail.size()));

  auto r = Reader::open(path_);
  ASSERT_TRUE(r.ok());
  expect_same(drain(*r), in);
  EXPECT_EQ(r->blocks_skipped(), 1u);
  EXPECT_TRUE(r->complete()) << r->error_detail();
}

TEST_F(StoreRoundTrip, reads_from_a_pipe) {
  const auto in = bench::realistic_stream(100000);
  {
    auto w = Writer::create(path_, RecordingInfo{});
    ASSERT_TRUE(w->append(in).ok());
    ASSERT_TRUE(w->finish().ok());
  }
  std::ifstream f(path_, std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(f)), {});
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  std::thread feeder([&] {
    // Small, uneven writes: the reader must piece blocks together across reads.
    for (std::size_t off = 0; off < bytes.size();) {
      const std::size_t n = std::min<std::size_t>(1 + off % 3001, bytes.size() - off);
      if (write(fds[1], bytes.data() + off, n) != static_cast<ssize_t>(n)) break;
      off += n;
    }
    close(fds[1]);
  });
  auto r = Reader::from_fd(util::Fd(fds[0]), "pipe");
  ASSERT_TRUE(r.ok()) << r.error().message();
  expect_same(drain(*r), in);
  EXPECT_TRUE(r->complete());
  feeder.join();
}

TEST_F(StoreRoundTrip, prints_decode_throughput) {
  // Printed, not asserted: speed targets belong to bench/store_decode_bench.
  const auto in = bench::realistic_stream(1'000'000);
  {
    auto w = Writer::create(path_, RecordingInfo{});
    ASSERT_TRUE(w->append(in).ok());
    ASSERT_TRUE(w->finish().ok());
    std::printf("[ store    ] %.2f bytes/event (zstd) for %zu realistic events\n",
                static_cast<double>(w->bytes_written()) / static_cast<double>(in.size()),
                in.size());
  }
  const auto t0 = std::chrono::steady_clock::now();
  auto r = Reader::open(path_);
  ASSERT_TRUE(r.ok());
  std::size_t n = 0;
  for (;;) {
    auto batch = r->next();
    ASSERT_TRUE(batch.ok());
    if (batch->empty()) break;
    n += batch->size();
  }
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_EQ(n, in.size());
  std::printf("[ store    ] read+decode %.1f M events/s (one core)\n", n / s / 1e6);
}

}  // namespace
