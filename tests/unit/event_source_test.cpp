// store::open_recording(): one EventSource whatever the recording's format, told by its first
// bytes, from a file or a pipe; events, side records and notes exactly as the format's own reader
// gives them; a file in no format kvmscope reads is refused in one line that names it and says
// what it looks like.
#include "store/event_source.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <thread>

#include "store/recording.h"
#include "support/fixtures.h"
#include "support/pipe_feed.h"
#include "support/recording_file.h"
#include "tracedat/tracedat_reader.h"

namespace {

using namespace kvmscope;
using kvmscope::testing::Bytes;
using model::Isa;
using model::Level;

std::string temp(const std::string& name) {
  return (std::filesystem::temp_directory_path() /
          ("kvmscope-source-" + std::to_string(::getpid()) + "-" + name))
      .string();
}

using kvmscope::testing::drain;
using kvmscope::testing::PipeFeed;
using Pipe = PipeFeed;

util::Result<std::unique_ptr<store::EventSource>> open_piped(const Bytes& bytes) {
  Pipe pipe(bytes);
  auto in = store::recording_input(pipe.read_end(), "standard input");
  if (!in) return in.error();
  return store::open_recording(std::move(*in));
}

// A file holding `bytes`, removed at the end of the test.
class TempFile {
 public:
  TempFile(const std::string& name, const Bytes& bytes) : path_(temp(name)) {
    kvmscope::testing::write_bytes(path_, bytes);
  }
  ~TempFile() { std::filesystem::remove(path_); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

Bytes bytes_of(std::string_view s) {
  return Bytes(s.begin(), s.end());
}

TEST(EventSource, opens_a_kvmscope_recording_from_a_file_and_a_pipe_as_its_reader_reads_it) {
  const std::string path = temp("rec.kvms");
  ASSERT_TRUE(kvmscope::testing::write_sample_recording(path, 700));
  auto reader = store::Reader::open(path);
  ASSERT_TRUE(reader.ok());
  const auto expected = drain(*reader);
  ASSERT_GT(expected.size(), 10000u);
  const Bytes bytes = kvmscope::testing::read_bytes(path);

  auto from_file = store::open_recording(path);
  std::filesystem::remove(path);
  ASSERT_TRUE(from_file.ok()) << from_file.error().message();
  auto from_pipe = open_piped(bytes);
  ASSERT_TRUE(from_pipe.ok()) << from_pipe.error().message();
  for (auto* source : {from_file->get(), from_pipe->get()}) {
    EXPECT_EQ(source->format(), store::RecordingFormat::kvmscope);
    EXPECT_EQ(source->info().target, "command: qemu-system-x86_64 -name guest");
    EXPECT_TRUE(kvmscope::testing::same_events(drain(*source), expected));
    EXPECT_TRUE(source->complete());
    EXPECT_FALSE(source->truncated());
    EXPECT_FALSE(source->corrupt());
    EXPECT_EQ(source->markers(), reader->markers());
    EXPECT_EQ(source->vms(), reader->vms());
    EXPECT_EQ(source->vms().at(kvmscope::testing::kSampleVm).name, "guest");
    EXPECT_EQ(source->totals(), reader->totals());
    EXPECT_TRUE(source->damage().ranges.empty());
    EXPECT_TRUE(source->notes().empty());
    // No format files in the sample: the built-in names.
    auto catalog = source->reason_catalog();
    ASSERT_TRUE(catalog.ok()) << catalog.error().message();
    EXPECT_EQ(catalog->source(Level::hardware, Isa::svm), model::NameSource::builtin);
  }
}

TEST(EventSource, opens_trace_dat_from_a_file_and_a_pipe_with_the_files_own_reason_names) {
  for (const char* name : {"kvmtest-v6.dat", "kvmtest-v7.dat"}) {
    const std::string path = kvmscope::testing::fixture_path(std::string("tracedat/") + name);
    auto reader = tracedat::TraceDatReader::open(path);
    ASSERT_TRUE(reader.ok()) << reader.error().message();
    const auto expected = drain(*reader);
    ASSERT_GT(expected.size(), 100u) << name;

    auto from_file = store::open_recording(path);
    ASSERT_TRUE(from_file.ok()) << from_file.error().message();
    auto from_pipe = open_piped(kvmscope::testing::read_bytes(path));
    ASSERT_TRUE(from_pipe.ok()) << from_pipe.error().message();
    EXPECT_EQ((*from_file)->info().target, "trace.dat: " + path);
    EXPECT_EQ((*from_pipe)->info().target, "trace.dat: standard input");
    for (auto* source : {from_file->get(), from_pipe->get()}) {
      EXPECT_EQ(source->format(), store::RecordingFormat::tracedat) << name;
      EXPECT_TRUE(kvmscope::testing::same_events(drain(*source), expected)) << name;
      EXPECT_EQ(source->complete(), reader->complete()) << name;
      EXPECT_EQ(source->lost_total(), reader->lost_total()) << name;
      EXPECT_EQ(source->lost_per_cpu(), reader->lost_per_cpu()) << name;
      EXPECT_EQ(source->vms(), reader->vms()) << name;
      EXPECT_EQ(source->totals(), reader->totals()) << name;
      // What the reader learnt about the file (threads counted as their own process).
      EXPECT_EQ(source->notes(), reader->notes()) << name;
      EXPECT_FALSE(source->notes().empty()) << name;
      // The recording kernel's names, from the format files in the file.
      auto catalog = source->reason_catalog();
      ASSERT_TRUE(catalog.ok()) << catalog.error().message();
      EXPECT_EQ(catalog->source(Level::hardware, Isa::svm), model::NameSource::kernel) << name;
      EXPECT_EQ(catalog->name({Level::hardware, Isa::svm, 0x72}), "cpuid") << name;
    }
  }
}

TEST(EventSource, refuses_a_file_in_no_format_it_reads_naming_it_and_what_it_looks_like) {
  auto text = store::open_recording(KS_SOURCE_DIR "/README.md");
  ASSERT_FALSE(text.ok());
  EXPECT_EQ(text.error().message(), KS_SOURCE_DIR "/README.md: not a kvmscope recording");

  const struct {
    const char* name;
    Bytes bytes;
    std::string what;  // after "PATH: "
  } cases[] = {
      {"empty", {}, "an empty file, not a recording"},
      {"perf.data", bytes_of(std::string_view("2ELIFREP\0\0\0\0\0\0\0\x68", 16)),
       "a big-endian perf.data: kvmscope reads little-endian ones"},
      {"rec.kvms.gz",
       {0x1f, 0x8b, 0x08, 0x00, 0, 0, 0, 0, 0, 0x03},
       "gzip-compressed: decompress it first (zcat PATH | kvmscope report -)"},
      {"rec.kvms.zst",
       {0x28, 0xb5, 0x2f, 0xfd, 0x04, 0x58},
       "zstd-compressed: decompress it first (zstdcat PATH | kvmscope report -)"},
      {"rec.kvms.xz",
       {0xfd, '7', 'z', 'X', 'Z', 0, 0, 4},
       "xz-compressed: decompress it first (xzcat PATH | kvmscope report -)"},
      {"kvmscope", {0x7f, 'E', 'L', 'F', 2, 1, 1, 0}, "an ELF executable, not a recording"},
      // One byte short of the magic is no recording either.
      {"short", bytes_of("KVMSCOP"), "not a kvmscope recording"},
  };
  for (const auto& c : cases) {
    TempFile file(c.name, c.bytes);
    std::string what = c.what;
    if (auto at = what.find("PATH"); at != std::string::npos) what.replace(at, 4, file.path());
    auto r = store::open_recording(file.path());
    ASSERT_FALSE(r.ok()) << c.name;
    EXPECT_EQ(r.error().message(), file.path() + ": " + what) << c.name;
  }

  auto gz = open_piped({0x1f, 0x8b, 0x08, 0x00});
  ASSERT_FALSE(gz.ok());
  EXPECT_EQ(gz.error().message(),
            "standard input: gzip-compressed: decompress it first (... | zcat | kvmscope "
            "report -)");
  auto hello = open_piped(bytes_of("hello\n"));
  ASSERT_FALSE(hello.ok());
  EXPECT_EQ(hello.error().message(), "standard input: not a kvmscope recording");
}

TEST(EventSource, says_the_os_error_of_a_file_it_cannot_open) {
  auto missing = store::open_recording("/nonexistent/boot.kvms");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().message(), "open /nonexistent/boot.kvms: No such file or directory");
}

TEST(EventSource, detects_formats_by_their_first_bytes_only) {
  using store::RecordingFormat;
  EXPECT_EQ(store::detect_recording_format(bytes_of("KVMSCOPE\x01")), RecordingFormat::kvmscope);
  EXPECT_EQ(store::detect_recording_format(bytes_of("KVMSCOP")), RecordingFormat::unknown);
  EXPECT_EQ(store::detect_recording_format(bytes_of("\x17\x08\x44tracing6")),
            RecordingFormat::tracedat);
  EXPECT_EQ(store::detect_recording_format(bytes_of("\x17\x08\x44tracin")),
            RecordingFormat::unknown);
  EXPECT_EQ(store::detect_recording_format({}), RecordingFormat::unknown);
  EXPECT_TRUE(store::read_by_offset(RecordingFormat::tracedat));
  EXPECT_FALSE(store::read_by_offset(RecordingFormat::kvmscope));
}

}  // namespace
