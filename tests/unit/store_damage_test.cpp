// Damaged recordings: cut short, corrupted, foreign, from the future, or written to a full disk.
// The reader delivers every event before the damage, says where it stopped, and never crashes.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>

#include "../../bench/store_stream.h"
#include "store/byte_io.h"
#include "store/crc32c.h"
#include "store/format.h"
#include "store/recording.h"

namespace {

using namespace kvmscope;
using store::Reader;
using store::RecordingInfo;
using store::Writer;
using store::WriterOptions;

using Bytes = std::vector<std::uint8_t>;

class StoreDamage : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("kvmscope-damage-" + std::to_string(getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
    path_ = (dir_ / "rec.kvms").string();
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // A finished recording of `blocks` events blocks of 1000 events each; returns its bytes.
  Bytes make_recording(int blocks, std::vector<ks_event>& events) {
    events = bench::realistic_stream(static_cast<std::size_t>(blocks) * 1000);
    WriterOptions opt;
    opt.block_events = 1000;
    RecordingInfo info;
    info.hostname = "h";
    auto w = Writer::create(path_, info, opt);
    EXPECT_TRUE(w.ok());
    EXPECT_TRUE(w->mark(1, "start").ok());
    EXPECT_TRUE(w->append(events).ok());
    EXPECT_TRUE(w->finish().ok());
    return read_bytes(path_);
  }

  static Bytes read_bytes(const std::string& path) {
    std::ifstream f(path, std::ios::binary);
    return Bytes(std::istreambuf_iterator<char>(f), {});
  }
  void write_bytes(const Bytes& b, std::size_t n) {
    std::ofstream(path_, std::ios::binary | std::ios::trunc)
        .write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(n));
  }

  // Offsets of every block in a recording, from the lengths in the headers.
  static std::vector<std::size_t> block_offsets(const Bytes& b) {
    std::vector<std::size_t> at;
    std::size_t off = store::get_le(b.data() + 12, 4);
    while (off + store::kBlockHeaderSize <= b.size()) {
      at.push_back(off);
      off += store::kBlockHeaderSize + store::get_le(b.data() + off + 4, 4);
    }
    return at;
  }

  struct Outcome {
    std::size_t events = 0;
    bool truncated = false, corrupt = false, complete = false;
    std::string detail;
    std::uint64_t stop = 0;
  };
  Outcome read_all() {
    Outcome o;
    auto r = Reader::open(path_);
    EXPECT_TRUE(r.ok()) << r.error().message();
    if (!r.ok()) return o;
    for (;;) {
      auto batch = r->next();
      EXPECT_TRUE(batch.ok());
      if (!batch.ok() || batch->empty()) break;
      o.events += batch->size();
    }
    o.truncated = r->truncated();
    o.corrupt = r->corrupt();
    o.complete = r->complete();
    o.detail = r->error_detail();
    o.stop = r->stop_offset();
    return o;
  }

  std::filesystem::path dir_;
  std::string path_;
};

TEST_F(StoreDamage, delivers_every_whole_block_when_cut_at_any_length_of_the_last_ones) {
  std::vector<ks_event> events;
  const Bytes full = make_recording(3, events);
  const auto blocks = block_offsets(full);
  // marker, 3 events blocks, end.
  ASSERT_EQ(blocks.size(), 5u);
  for (std::size_t cut = blocks[2]; cut < full.size(); ++cut) {
    write_bytes(full, cut);
    const Outcome o = read_all();
    // Whole events blocks before the cut: 1000 events each.
    std::size_t whole = 0;
    for (std::size_t i = 1; i + 1 < blocks.size(); ++i) {
      const std::size_t end = i + 1 < blocks.size() ? blocks[i + 1] : full.size();
      if (end <= cut) whole += 1000;
    }
    ASSERT_EQ(o.events, whole) << "cut at " << cut;
    ASSERT_TRUE(o.truncated) << "cut at " << cut;
    ASSERT_FALSE(o.corrupt) << "cut at " << cut << ": " << o.detail;
    ASSERT_FALSE(o.complete);
    // It stops at the start of the block the cut went through (or at the cut, on a boundary).
    std::size_t expect_stop = 0;
    for (auto b : blocks)
      if (b <= cut) expect_stop = b;
    ASSERT_EQ(o.stop, expect_stop) << "cut at " << cut << ": " << o.detail;
  }
}

TEST_F(StoreDamage, says_where_a_cut_went_through_a_block) {
  std::vector<ks_event> events;
  const Bytes full = make_recording(2, events);
  const auto blocks = block_offsets(full);
  write_bytes(full, blocks[2] + 10);
  Outcome o = read_all();
  EXPECT_EQ(o.detail, "cut short at byte " + std::to_string(blocks[2]) +
                          ": block header incomplete (10 of 40 bytes); 1000 events before it "
                          "were read");
  write_bytes(full, blocks[2] + 50);
  o = read_all();
  EXPECT_NE(o.detail.find("cut short in events block at byte " + std::to_string(blocks[2])),
            std::string::npos)
      << o.detail;
}

TEST_F(StoreDamage, refuses_a_file_cut_inside_its_header) {
  std::vector<ks_event> events;
  const Bytes full = make_recording(1, events);
  const std::size_t header = store::get_le(full.data() + 12, 4);
  for (std::size_t cut = 0; cut < header; ++cut) {
    write_bytes(full, cut);
    auto r = Reader::open(path_);
    ASSERT_FALSE(r.ok()) << "cut at " << cut;
    const std::string msg = r.error().message();
    if (cut < 8)
      ASSERT_EQ(msg, path_ + ": not a kvmscope recording");
    else
      ASSERT_EQ(msg, path_ + ": kvmscope recording cut short inside its header");
  }
}

TEST_F(StoreDamage, stops_at_a_flipped_byte_with_the_prefix_delivered) {
  std::vector<ks_event> events;
  const Bytes full = make_recording(3, events);
  const auto blocks = block_offsets(full);
  // Every byte of the second events block: header or payload, any flip is caught there.
  for (std::size_t at = blocks[2]; at < blocks[3]; ++at) {
    Bytes bad = full;
    bad[at] ^= 0x20;
    write_bytes(bad, bad.size());
    const Outcome o = read_all();
    ASSERT_EQ(o.events, 1000u) << "flip at " << at;
    ASSERT_TRUE(o.truncated);
    ASSERT_TRUE(o.corrupt) << "flip at " << at << ": " << o.detail;
    ASSERT_EQ(o.stop, blocks[2]);
    ASSERT_NE(o.detail.find("CRC mismatch"), std::string::npos) << o.detail;
  }
  Bytes bad = full;
  bad[blocks[2] + store::kBlockHeaderSize + 3] ^= 1;
  write_bytes(bad, bad.size());
  EXPECT_EQ(read_all().detail, "corrupt events block at byte " + std::to_string(blocks[2]) +
                                   ": payload CRC mismatch; 1000 events before it were read");
}

TEST_F(StoreDamage, refuses_a_damaged_file_header) {
  std::vector<ks_event> events;
  Bytes full = make_recording(1, events);
  full[20] ^= 1;
  write_bytes(full, full.size());
  auto r = Reader::open(path_);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message(), path_ + ": corrupt kvmscope recording header: CRC mismatch");
}

TEST_F(StoreDamage, refuses_a_newer_major_version_clearly) {
  std::vector<ks_event> events;
  Bytes full = make_recording(1, events);
  store::put_le(full.data() + 8, store::kFormatMajor + 1, 2);
  write_bytes(full, full.size());
  auto r = Reader::open(path_);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message(), path_ + ": recording format 2.0 is newer than this kvmscope " +
                                     "reads (1.x) (use a newer kvmscope)");
}

TEST_F(StoreDamage, reads_a_newer_minor_version) {
  std::vector<ks_event> events;
  Bytes full = make_recording(1, events);
  // A later minor version: the header's CRC must be right for it, so rebuild it.
  store::put_le(full.data() + 10, store::kFormatMinor + 3, 2);
  const std::size_t header = store::get_le(full.data() + 12, 4);
  store::put_le(full.data() + header - 4,
                store::crc32c(std::span<const std::uint8_t>(full.data(), header - 4)), 4);
  write_bytes(full, full.size());
  auto r = Reader::open(path_);
  ASSERT_TRUE(r.ok()) << r.error().message();
  EXPECT_EQ(r->info().format_minor, store::kFormatMinor + 3);
}

TEST_F(StoreDamage, says_a_foreign_file_is_not_a_recording) {
  for (const std::string text :
       {"", "KVMSCOP", "hello world, this is not a recording\n", "KVMSCOPF\x01\x00\x00\x00"}) {
    write_bytes(Bytes(text.begin(), text.end()), text.size());
    auto r = Reader::open(path_);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().message(), path_ + ": not a kvmscope recording") << text;
  }
  auto r = Reader::open(dir_.string() + "/missing.kvms");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().err, ENOENT);
}

// Writes past RLIMIT_FSIZE fail with EFBIG like a full disk fails with ENOSPC, without root.
class FileSizeLimit {
 public:
  explicit FileSizeLimit(rlim_t bytes) {
    getrlimit(RLIMIT_FSIZE, &old_);
    old_handler_ = signal(SIGXFSZ, SIG_IGN);  // get EFBIG instead of the signal
    rlimit lim = old_;
    lim.rlim_cur = bytes;
    setrlimit(RLIMIT_FSIZE, &lim);
  }
  ~FileSizeLimit() {
    setrlimit(RLIMIT_FSIZE, &old_);
    signal(SIGXFSZ, old_handler_);
  }

 private:
  rlimit old_{};
  sighandler_t old_handler_;
};

TEST_F(StoreDamage, keeps_earlier_blocks_when_the_file_cannot_grow) {
  const auto events = bench::realistic_stream(200000);
  WriterOptions opt;
  opt.block_events = 2000;
  std::size_t written = 0;
  util::Error error;
  {
    FileSizeLimit limit(64 * 1024);
    auto w = Writer::create(path_, RecordingInfo{}, opt);
    ASSERT_TRUE(w.ok());
    for (std::size_t i = 0; i < events.size(); i += 1000) {
      auto ok = w->append({events.data() + i, 1000});
      if (!ok) {
        error = ok.error();
        break;
      }
    }
    ASSERT_EQ(error.err, EFBIG) << error.message();
    written = w->events_written();
    EXPECT_GT(written, 0u);
    EXPECT_EQ(w->bytes_written(), std::filesystem::file_size(path_))
        << "the file is cut back to its last whole block";
    EXPECT_FALSE(w->flush().ok()) << "the failure is sticky";
    EXPECT_FALSE(w->finish().ok());
  }
  EXPECT_NE(error.message().find("disk full: the recording up to here stays readable"),
            std::string::npos)
      << error.message();
  const Outcome o = read_all();
  EXPECT_EQ(o.events, written);
  EXPECT_TRUE(o.truncated);
  EXPECT_FALSE(o.corrupt) << o.detail;
}

TEST_F(StoreDamage, keeps_earlier_blocks_on_a_full_tmpfs) {
  if (geteuid() != 0) GTEST_SKIP() << "mounting a small tmpfs needs root";
  const std::string mnt = (dir_ / "mnt").string();
  std::filesystem::create_directories(mnt);
  if (mount("tmpfs", mnt.c_str(), "tmpfs", 0, "size=64k") != 0)
    GTEST_SKIP() << "cannot mount a tmpfs here: " << std::strerror(errno);
  struct Unmount {
    std::string dir;
    ~Unmount() { umount2(dir.c_str(), MNT_DETACH); }
  } unmount{mnt};
  const std::string path = mnt + "/rec.kvms";
  std::uint64_t written = 0;
  util::Error error;
  {
    WriterOptions opt;
    opt.block_events = 2000;
    auto w = Writer::create(path, RecordingInfo{}, opt);
    ASSERT_TRUE(w.ok());
    const auto events = bench::realistic_stream(200000);
    for (std::size_t i = 0; i < events.size() && error.err == 0; i += 1000)
      if (auto ok = w->append({events.data() + i, 1000}); !ok) error = ok.error();
    written = w->events_written();
  }
  EXPECT_EQ(error.err, ENOSPC) << error.message();
  auto r = Reader::open(path);
  ASSERT_TRUE(r.ok());
  std::uint64_t n = 0;
  for (auto b = r->next(); b.ok() && !b->empty(); b = r->next()) n += b->size();
  EXPECT_EQ(n, written);
  EXPECT_TRUE(r->truncated());
  EXPECT_FALSE(r->corrupt()) << r->error_detail();
}

TEST_F(StoreDamage, reports_a_full_device_on_create) {
  if (access("/dev/full", W_OK) != 0) GTEST_SKIP() << "/dev/full is not writable here";
  auto w = Writer::create("/dev/full", RecordingInfo{});
  ASSERT_FALSE(w.ok());
  EXPECT_EQ(w.error().err, ENOSPC);
  EXPECT_EQ(w.error().message(), "write /dev/full: No space left on device");
}

}  // namespace
