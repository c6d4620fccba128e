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
#include "support/recording_file.h"

// Events compare field by field (the pad byte reads back 0, as written).
inline bool operator==(const ks_event& x, const ks_event& y) {
  return std::memcmp(&x, &y, sizeof x) == 0;
}

namespace {

using namespace kvmscope;
using store::Reader;
using store::RecordingInfo;
using store::Writer;
using store::WriterOptions;

using kvmscope::testing::block_offsets;
using kvmscope::testing::Bytes;

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
    return kvmscope::testing::read_bytes(path_);
  }

  void write_bytes(const Bytes& b, std::size_t n) { kvmscope::testing::write_bytes(path_, b, n); }

  struct Outcome {
    std::size_t events = 0;
    std::vector<ks_event> read;  // every event delivered, in order
    bool truncated = false, corrupt = false, complete = false;
    std::string detail;
    std::uint64_t stop = 0;
    std::vector<model::DamagedRange> damage;
    std::uint64_t lost_to_damage = 0;
    bool lost_exact = false;
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
      o.read.insert(o.read.end(), batch->begin(), batch->end());
    }
    o.truncated = r->truncated();
    o.corrupt = r->corrupt();
    o.complete = r->complete();
    o.detail = r->error_detail();
    o.stop = r->stop_offset();
    o.damage = r->damage();
    o.lost_to_damage = r->events_lost_to_damage();
    o.lost_exact = r->events_lost_to_damage_exact();
    return o;
  }

  // Events [from, to) of `events`, for comparing with what was read around damage.
  static std::vector<ks_event> slice(const std::vector<ks_event>& events, std::size_t from,
                                     std::size_t to) {
    return {events.begin() + static_cast<std::ptrdiff_t>(from),
            events.begin() + static_cast<std::ptrdiff_t>(to)};
  }
  static std::vector<ks_event> joined(std::vector<ks_event> a, const std::vector<ks_event>& b) {
    a.insert(a.end(), b.begin(), b.end());
    return a;
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

TEST_F(StoreDamage, skips_a_block_with_any_byte_flipped_and_reads_every_block_after_it) {
  std::vector<ks_event> events;
  const Bytes full = make_recording(4, events);
  const auto blocks = block_offsets(full);
  ASSERT_EQ(blocks.size(), 6u);  // marker, 4 events blocks, end
  // The events of blocks 2, 4 and 5 (the file's numbering: the marker block is block 1).
  const auto intact = joined(slice(events, 0, 1000), slice(events, 2000, 4000));
  // Every byte of the second events block, header or payload: the block is skipped, the next
  // one found (by the header's length, or by its header's CRC where the length is suspect).
  for (std::size_t at = blocks[2]; at < blocks[3]; ++at) {
    Bytes bad = full;
    bad[at] ^= 0x20;
    write_bytes(bad, bad.size());
    const Outcome o = read_all();
    ASSERT_EQ(o.events, 3000u) << "flip at " << at;
    ASSERT_TRUE(o.read == intact) << "flip at " << at;
    ASSERT_TRUE(o.complete) << "flip at " << at << ": " << o.detail;
    ASSERT_FALSE(o.truncated);
    ASSERT_TRUE(o.corrupt);
    ASSERT_EQ(o.damage.size(), 1u) << "flip at " << at;
    const model::DamagedRange& d = o.damage[0];
    ASSERT_EQ(d.offset, blocks[2]) << "flip at " << at;
    ASSERT_EQ(d.end, blocks[3]) << "flip at " << at;
    ASSERT_EQ(d.block, 3u);
    // The trailer's total less what was read: exact even where the header was the damage.
    ASSERT_EQ(d.events, 1000u) << "flip at " << at;
    ASSERT_TRUE(d.exact);
    ASSERT_EQ(o.lost_to_damage, 1000u);
    ASSERT_TRUE(o.lost_exact);
    const bool in_header = at < blocks[2] + store::kBlockHeaderSize;
    ASSERT_EQ(d.block_type, in_header ? "" : "events") << "flip at " << at;
    ASSERT_EQ(d.reason, in_header ? "block header CRC mismatch" : "payload CRC mismatch")
        << "flip at " << at;
  }
}

TEST_F(StoreDamage, estimates_the_events_of_a_damaged_header_from_the_intact_blocks) {
  std::vector<ks_event> events;
  const Bytes full = make_recording(5, events);
  const auto blocks = block_offsets(full);
  ASSERT_EQ(blocks.size(), 7u);  // marker, 5 events blocks, end
  Bytes bad = full;
  bad[blocks[3] + 5] ^= 0xff;   // the third events block's stored length
  write_bytes(bad, blocks[6]);  // and no trailer: nothing says how many events there were
  const Outcome o = read_all();
  EXPECT_EQ(o.events, 4000u);
  EXPECT_TRUE(o.read == joined(slice(events, 0, 2000), slice(events, 3000, 5000)));
  EXPECT_TRUE(o.truncated) << "no trailer: cut short as well";
  EXPECT_FALSE(o.complete);
  EXPECT_EQ(o.detail, "no end block at byte " + std::to_string(blocks[6]) +
                          ": the recording was cut short (not finished); 4000 events before "
                          "it were read");
  ASSERT_EQ(o.damage.size(), 1u);
  const model::DamagedRange& d = o.damage[0];
  EXPECT_EQ(d.offset, blocks[3]);
  EXPECT_EQ(d.end, blocks[4]);
  EXPECT_EQ(d.block, 4u);
  EXPECT_EQ(d.block_type, "");
  EXPECT_FALSE(d.exact);
  // As many events per byte as the four intact events blocks hold.
  const double per_byte =
      4000.0 / static_cast<double>((blocks[3] - blocks[1]) + (blocks[6] - blocks[4]));
  const auto expect =
      static_cast<std::uint64_t>(static_cast<double>(blocks[4] - blocks[3]) * per_byte + 0.5);
  EXPECT_EQ(d.events, expect);
  EXPECT_NEAR(static_cast<double>(expect), 1000.0, 100.0) << "blocks of like events";
  EXPECT_EQ(o.lost_to_damage, expect);
  EXPECT_FALSE(o.lost_exact);
}

TEST_F(StoreDamage, lists_every_damaged_block_and_a_cut_tail_too) {
  std::vector<ks_event> events;
  const Bytes full = make_recording(5, events);
  const auto blocks = block_offsets(full);
  Bytes bad = full;
  bad[blocks[1] + store::kBlockHeaderSize + 7] ^= 1;  // events block 1: its payload
  bad[blocks[3] + 20] ^= 1;                           // events block 3: its header
  write_bytes(bad, blocks[5] + 100);                  // cut inside events block 5
  const Outcome o = read_all();
  EXPECT_EQ(o.events, 2000u);
  EXPECT_TRUE(o.read == joined(slice(events, 1000, 2000), slice(events, 3000, 4000)));
  EXPECT_TRUE(o.truncated);
  EXPECT_FALSE(o.complete);
  EXPECT_NE(o.detail.find("cut short in events block at byte " + std::to_string(blocks[5])),
            std::string::npos)
      << o.detail;
  ASSERT_EQ(o.damage.size(), 2u);
  EXPECT_EQ(o.damage[0].offset, blocks[1]);
  EXPECT_EQ(o.damage[0].end, blocks[2]);
  EXPECT_EQ(o.damage[0].block, 2u);
  EXPECT_EQ(o.damage[0].block_type, "events");
  EXPECT_EQ(o.damage[0].events, 1000u);
  EXPECT_TRUE(o.damage[0].exact);
  EXPECT_EQ(o.damage[1].offset, blocks[3]);
  EXPECT_EQ(o.damage[1].end, blocks[4]);
  EXPECT_EQ(o.damage[1].block, 4u);
  EXPECT_FALSE(o.damage[1].exact);
  EXPECT_FALSE(o.lost_exact);
  EXPECT_EQ(o.lost_to_damage, 1000u + o.damage[1].events.value());
}

TEST_F(StoreDamage, skips_bytes_between_blocks_at_no_cost_in_events) {
  std::vector<ks_event> events;
  Bytes full = make_recording(3, events);
  const auto blocks = block_offsets(full);
  const Bytes junk(123, 0xa5);
  full.insert(full.begin() + static_cast<std::ptrdiff_t>(blocks[2]), junk.begin(), junk.end());
  write_bytes(full, full.size());
  const Outcome o = read_all();
  EXPECT_EQ(o.events, 3000u);
  EXPECT_TRUE(o.read == events);
  EXPECT_TRUE(o.complete);
  ASSERT_EQ(o.damage.size(), 1u);
  EXPECT_EQ(o.damage[0].offset, blocks[2]);
  EXPECT_EQ(o.damage[0].end, blocks[2] + 123);
  EXPECT_EQ(o.damage[0].events, 0u);
  EXPECT_TRUE(o.damage[0].exact);
  EXPECT_EQ(o.lost_to_damage, 0u);
}

TEST_F(StoreDamage, a_block_cut_out_whole_shows_in_the_trailer_counts) {
  std::vector<ks_event> events;
  Bytes full = make_recording(3, events);
  const auto blocks = block_offsets(full);
  full.erase(full.begin() + static_cast<std::ptrdiff_t>(blocks[2]),
             full.begin() + static_cast<std::ptrdiff_t>(blocks[3]));
  write_bytes(full, full.size());
  const Outcome o = read_all();
  EXPECT_EQ(o.events, 2000u);
  EXPECT_TRUE(o.complete);
  ASSERT_EQ(o.damage.size(), 1u);
  const std::uint64_t end_at = blocks[4] - (blocks[3] - blocks[2]);
  EXPECT_EQ(o.damage[0].offset, end_at);
  EXPECT_EQ(o.damage[0].end, full.size());
  EXPECT_EQ(o.damage[0].block_type, "end");
  EXPECT_EQ(o.damage[0].reason,
            "it counts 3000 events, 4 blocks and 0 lost, but the file holds 2000, 3 and 0");
  EXPECT_EQ(o.damage[0].events, 1000u);
  EXPECT_EQ(o.lost_to_damage, 1000u);
  EXPECT_TRUE(o.lost_exact);
}

TEST_F(StoreDamage, a_damaged_trailer_header_runs_the_damage_to_the_end_of_the_file) {
  std::vector<ks_event> events;
  Bytes full = make_recording(2, events);
  const auto blocks = block_offsets(full);
  full[blocks[3] + 1] ^= 1;
  write_bytes(full, full.size());
  const Outcome o = read_all();
  EXPECT_EQ(o.events, 2000u);
  EXPECT_FALSE(o.complete);
  EXPECT_TRUE(o.truncated);
  ASSERT_EQ(o.damage.size(), 1u);
  EXPECT_EQ(o.damage[0].offset, blocks[3]);
  EXPECT_EQ(o.damage[0].end, full.size());
  EXPECT_EQ(o.stop, full.size());
}

TEST_F(StoreDamage, merges_damage_past_the_listing_cap_into_the_last_stretch) {
  const auto events = bench::realistic_stream(2 * store::kMaxDamagedRanges + 100);
  WriterOptions opt;
  opt.block_events = 1;  // a block per event
  opt.compress = false;
  {
    auto w = Writer::create(path_, RecordingInfo{}, opt);
    ASSERT_TRUE(w.ok());
    ASSERT_TRUE(w->append(events).ok());
    ASSERT_TRUE(w->finish().ok());
  }
  Bytes bytes = kvmscope::testing::read_bytes(path_);
  const auto blocks = block_offsets(bytes);
  ASSERT_EQ(blocks.size(), events.size() + 1);
  // Every other events block's payload: 1,050 damaged blocks with intact ones between them.
  for (std::size_t i = 0; i < events.size(); i += 2)
    bytes[blocks[i] + store::kBlockHeaderSize] ^= 1;
  write_bytes(bytes, bytes.size());
  const Outcome o = read_all();
  EXPECT_EQ(o.events, events.size() / 2);
  ASSERT_EQ(o.damage.size(), store::kMaxDamagedRanges);
  const model::DamagedRange& last = o.damage.back();
  EXPECT_EQ(last.offset, blocks[2 * (store::kMaxDamagedRanges - 1)]);
  EXPECT_EQ(last.end, blocks[events.size() - 2 + 1]);
  EXPECT_EQ(last.reason, "several damaged stretches");
  EXPECT_EQ(last.events, 51u);
  EXPECT_TRUE(last.exact);
  EXPECT_EQ(o.lost_to_damage, events.size() / 2);
  EXPECT_TRUE(o.lost_exact);
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
