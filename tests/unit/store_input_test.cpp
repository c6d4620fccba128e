// report's input (store/recording_input.h): a file read in place, or a pipe whose first bytes
// tell the format. kvmscope's own streams on from the pipe with those bytes handed to the
// Reader; trace.dat is spooled to a nameless temporary file. Either way every event comes out
// as it does from the file.
#include "store/recording_input.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <thread>

#include "../../bench/store_stream.h"
#include "store/recording.h"
#include "support/fixtures.h"
#include "support/pipe_feed.h"
#include "support/recording_file.h"
#include "tracedat/tracedat_reader.h"

namespace {

using namespace kvmscope;
using kvmscope::testing::Bytes;

using kvmscope::testing::drain;
using kvmscope::testing::PipeFeed;

// Fed in small, uneven writes, as `cat` or ssh would.
struct Pipe : PipeFeed {
  explicit Pipe(kvmscope::testing::Bytes bytes)
      : PipeFeed(std::move(bytes), kvmscope::testing::Feed::small_pieces) {}
};

std::string temp(const std::string& name) {
  return (std::filesystem::temp_directory_path() /
          ("kvmscope-input-" + std::to_string(::getpid()) + "-" + name))
      .string();
}

TEST(StoreInput, streams_a_kvmscope_recording_from_a_pipe_with_its_first_bytes_handed_over) {
  const std::string path = temp("rec.kvms");
  ASSERT_TRUE(kvmscope::testing::write_sample_recording(path, 700));
  const Bytes bytes = kvmscope::testing::read_bytes(path);
  auto from_file = store::Reader::open(path);
  ASSERT_TRUE(from_file.ok());
  const auto expected = drain(*from_file);
  std::filesystem::remove(path);
  ASSERT_GT(expected.size(), 10000u);

  Pipe pipe(bytes);
  auto in = store::recording_input(pipe.read_end(), "standard input");
  ASSERT_TRUE(in.ok()) << in.error().message();
  EXPECT_EQ(in->format, store::RecordingFormat::kvmscope);
  EXPECT_EQ(in->prefix.size(), 16u) << "what was read to tell the format";
  struct stat st {};
  ASSERT_EQ(::fstat(in->fd.get(), &st), 0);
  EXPECT_TRUE(S_ISFIFO(st.st_mode)) << "streamed, not spooled";
  auto r = store::Reader::from_fd(std::move(in->fd), in->name, in->prefix);
  ASSERT_TRUE(r.ok()) << r.error().message();
  EXPECT_TRUE(kvmscope::testing::same_events(drain(*r), expected));
  EXPECT_TRUE(r->complete());
  EXPECT_EQ(r->markers().size(), 1u);
}

TEST(StoreInput, spools_a_trace_dat_from_a_pipe_to_a_nameless_file) {
  const std::string path = kvmscope::testing::fixture_path("tracedat/kvmtest-v6.dat");
  auto from_file = tracedat::TraceDatReader::open(path);
  ASSERT_TRUE(from_file.ok()) << from_file.error().message();
  const auto expected = drain(*from_file);
  ASSERT_GT(expected.size(), 100u);

  Pipe pipe(kvmscope::testing::read_bytes(path));
  auto in = store::recording_input(pipe.read_end(), "standard input");
  ASSERT_TRUE(in.ok()) << in.error().message();
  EXPECT_EQ(in->format, store::RecordingFormat::tracedat);
  EXPECT_TRUE(in->prefix.empty()) << "the spooled file holds them";
  struct stat st {};
  ASSERT_EQ(::fstat(in->fd.get(), &st), 0);
  EXPECT_TRUE(S_ISREG(st.st_mode));
  EXPECT_EQ(st.st_nlink, 0u) << "no name left behind";
  EXPECT_EQ(static_cast<std::uintmax_t>(st.st_size), std::filesystem::file_size(path));
  auto r = tracedat::TraceDatReader::from_fd(std::move(in->fd), in->name);
  ASSERT_TRUE(r.ok()) << r.error().message();
  EXPECT_TRUE(kvmscope::testing::same_events(drain(*r), expected));
  EXPECT_EQ(r->info().target, "trace.dat: standard input");
}

TEST(StoreInput, reads_a_file_in_place_and_tells_its_format) {
  auto kvms = store::open_recording_input(KS_SOURCE_DIR "/README.md");
  ASSERT_TRUE(kvms.ok());
  EXPECT_EQ(kvms->format, store::RecordingFormat::unknown) << "README.md";
  EXPECT_TRUE(kvms->prefix.empty());
  auto dat =
      store::open_recording_input(kvmscope::testing::fixture_path("tracedat/kvmtest-v7.dat"));
  ASSERT_TRUE(dat.ok());
  EXPECT_EQ(dat->format, store::RecordingFormat::tracedat);
  auto missing = store::open_recording_input("/nonexistent/boot.kvms");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().message(), "open /nonexistent/boot.kvms: No such file or directory");
}

TEST(StoreInput, an_empty_pipe_is_not_a_recording) {
  Pipe pipe(Bytes{});
  auto in = store::recording_input(pipe.read_end(), "standard input");
  ASSERT_TRUE(in.ok());
  auto r = store::Reader::from_fd(std::move(in->fd), in->name, in->prefix);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message(), "standard input: not a kvmscope recording");
}

}  // namespace
