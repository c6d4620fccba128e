// src/util's small helpers, written once for every layer: hex and trim (strings.h), UTF-8
// sequence lengths, the clocks and sleeps (clock.h), Fd::close, make_pipe and write_all (fd.h),
// and fail(), the one line a failed subcommand ends with (usage.h).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <string>

#include "util/clock.h"
#include "util/fd.h"
#include "util/json_value.h"
#include "util/strings.h"
#include "util/usage.h"

namespace kvmscope::util {
namespace {

TEST(Strings, hex_is_lower_case_with_0x_and_no_padding) {
  EXPECT_EQ(hex(0), "0x0");
  EXPECT_EQ(hex(0x3f8), "0x3f8");
  EXPECT_EQ(hex(0xffffffffffffffffull), "0xffffffffffffffff");
}

TEST(Strings, trim_takes_blanks_off_both_ends_only) {
  EXPECT_EQ(trim("  a b \t\r\n"), "a b");
  EXPECT_EQ(trim("\v\fx\f"), "x");
  EXPECT_EQ(trim(" \t "), "");
  EXPECT_EQ(trim(""), "");
  // Only the blanks asked for: HTTP's OWS is space and tab, a newline stays.
  EXPECT_EQ(trim(" gzip\n\t", " \t"), "gzip\n");
}

TEST(Strings, utf8_sequence_length_refuses_overlongs_surrogates_and_cuts) {
  EXPECT_EQ(utf8_sequence_length("\xc3\xa9", 0), 2u);          // é
  EXPECT_EQ(utf8_sequence_length("\xe2\x82\xac", 0), 3u);      // €
  EXPECT_EQ(utf8_sequence_length("\xf0\x9f\x98\x80", 0), 4u);  // an emoji
  EXPECT_EQ(utf8_sequence_length("a", 0), 0u);                 // ASCII is not a sequence
  EXPECT_EQ(utf8_sequence_length("\xc0\xaf", 0), 0u);          // overlong '/'
  EXPECT_EQ(utf8_sequence_length("\xed\xa0\x80", 0), 0u);      // a surrogate
  EXPECT_EQ(utf8_sequence_length("\xf4\x90\x80\x80", 0), 0u);  // above U+10FFFF
  EXPECT_EQ(utf8_sequence_length("\xe2\x82", 0), 0u);          // cut short
  EXPECT_EQ(utf8_sequence_length("\xe2\x28\xa1", 0), 0u);      // not a continuation
}

TEST(Clock, monotonic_and_realtime_agree_with_the_offset) {
  const std::uint64_t a = monotonic_ns();
  sleep_ms(2);
  const std::uint64_t b = monotonic_ns();
  EXPECT_GE(b - a, 2'000'000u);
  const std::int64_t offset = realtime_offset_ns();
  const std::int64_t now =
      static_cast<std::int64_t>(realtime_ns()) - static_cast<std::int64_t>(monotonic_ns());
  EXPECT_LT(std::llabs(now - offset), 1'000'000'000) << "within a second of each other";
  EXPECT_GE(clock_ns(CLOCK_MONOTONIC), b);
}

TEST(Fd, close_reports_what_close_2_says_and_releases_the_descriptor) {
  auto pipe = make_pipe();
  ASSERT_TRUE(pipe.ok()) << pipe.error().message();
  const int number = pipe->read.get();
  ASSERT_TRUE(pipe->read.close("the pipe").ok());
  EXPECT_FALSE(pipe->read.valid());
  EXPECT_TRUE(pipe->read.close("the pipe").ok()) << "closing nothing is no error";
  // A descriptor already closed behind the owner's back: close(2) fails, and the error says so.
  Fd stale(number);
  auto closed = stale.close("recording.ksr");
  ASSERT_FALSE(closed.ok());
  EXPECT_EQ(closed.error().message(), "close recording.ksr: Bad file descriptor");
  EXPECT_FALSE(stale.valid());
}

TEST(Fd, make_pipe_owns_both_ends_close_on_exec_and_write_all_fills_it) {
  auto pipe = make_pipe();
  ASSERT_TRUE(pipe.ok()) << pipe.error().message();
  EXPECT_TRUE(::fcntl(pipe->read.get(), F_GETFD) & FD_CLOEXEC);
  EXPECT_TRUE(::fcntl(pipe->write.get(), F_GETFD) & FD_CLOEXEC);
  EXPECT_EQ(write_all(pipe->write.get(), "hello", 5), 0);
  pipe->write.reset();
  char buf[8] = {};
  EXPECT_EQ(::read(pipe->read.get(), buf, sizeof buf), 5);
  EXPECT_EQ(std::string(buf), "hello");
  EXPECT_EQ(write_all(-1, "x", 1), EBADF);
}

TEST(Fail, prints_one_line_naming_the_command_and_returns_the_status) {
  ::testing::internal::CaptureStderr();
  const int status = fail("stat", os_error("open /x", ENOENT, "check the path"), 2);
  EXPECT_EQ(::testing::internal::GetCapturedStderr(),
            "kvmscope stat: open /x: No such file or directory (check the path)\n");
  EXPECT_EQ(status, 2);
  ::testing::internal::CaptureStderr();
  EXPECT_EQ(fail("record", plain_error("no VM")), 1);
  EXPECT_EQ(::testing::internal::GetCapturedStderr(), "kvmscope record: no VM\n");
}

// JsonValue: kvmscope's documents read back exactly (u64 counts above 2^53), escapes decoded,
// malformed or too deeply nested text refused with the offset.
TEST(JsonValue, ReadsExactIntegersAndEscapes) {
  auto v = JsonValue::parse(
      R"( {"n": 18446744073709551615, "x": 2.5, "s": "a\"\u00e9\ud83d\ude00", "a": [true, null],
          "neg": -1} )");
  ASSERT_TRUE(v.ok()) << v.error().message();
  EXPECT_EQ((*v)["n"].as_u64(), 18446744073709551615ull);
  EXPECT_EQ((*v)["x"].as_double(), 2.5);
  EXPECT_EQ((*v)["x"].as_u64(), std::nullopt);
  EXPECT_EQ((*v)["neg"].as_u64(), std::nullopt);
  EXPECT_EQ((*v)["s"].as_string(), "a\"\xc3\xa9\xf0\x9f\x98\x80");
  EXPECT_EQ((*v)["a"][0].as_bool(), true);
  EXPECT_TRUE((*v)["a"][1].is_null());
  EXPECT_TRUE((*v)["missing"]["deeper"].is_null());
}

TEST(JsonValue, RefusesMalformedTextWithItsOffset) {
  const std::pair<std::string, std::string> cases[] = {
      {"{\"a\" 1}", "JSON: offset 5: expected ':'"},
      {"[1, 2", "JSON: offset 5: expected ',' or ']'"},
      {"{} x", "JSON: offset 3: text after the document"},
      {"\"tab\there\"", "JSON: offset 5: control character in a string"},
      {std::string(100, '['), "JSON: offset 65: nested deeper than 64"},
  };
  for (const auto& [text, message] : cases) {
    auto v = JsonValue::parse(text);
    ASSERT_FALSE(v.ok()) << text;
    EXPECT_EQ(v.error().message(), message) << text;
  }
}

}  // namespace
}  // namespace kvmscope::util
