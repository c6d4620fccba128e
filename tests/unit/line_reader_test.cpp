// util::LineReader: lines of bounded length from any stream, with an optional byte limit.
#include "util/line_reader.h"

#include <gtest/gtest.h>

#include <sstream>

namespace kvmscope::util {
namespace {

TEST(LineReader, reads_lines_without_their_newline_and_carriage_return) {
  std::istringstream in("one\r\ntwo\n\nlast");
  LineReader r(in, 100);
  std::string line;
  std::vector<std::string> got;
  while (r.next(line)) got.push_back(line);
  EXPECT_EQ(got, (std::vector<std::string>{"one", "two", "", "last"}));
  EXPECT_EQ(r.bytes(), 14u);
  EXPECT_FALSE(r.limit_reached());
}

// A line of megabytes without a newline keeps max_line bytes: memory does not grow with it.
TEST(LineReader, keeps_the_first_bytes_of_an_overlong_line) {
  std::istringstream in(std::string(10u << 20, 'a') + "b\nnext\n");
  LineReader r(in, 4096);
  std::string line;
  ASSERT_TRUE(r.next(line));
  EXPECT_EQ(line, std::string(4096, 'a'));
  EXPECT_TRUE(r.cut());
  EXPECT_EQ(r.bytes(), (10u << 20) + 2);
  ASSERT_TRUE(r.next(line));
  EXPECT_EQ(line, "next");
  EXPECT_FALSE(r.cut());
  EXPECT_FALSE(r.next(line));
}

TEST(LineReader, a_line_of_exactly_max_line_is_not_cut) {
  std::istringstream in("abcd\nabcde\n");
  LineReader r(in, 4);
  std::string line;
  ASSERT_TRUE(r.next(line));
  EXPECT_EQ(line, "abcd");
  EXPECT_FALSE(r.cut());
  ASSERT_TRUE(r.next(line));
  EXPECT_EQ(line, "abcd");
  EXPECT_TRUE(r.cut());
}

// The byte limit ends the reading even inside a line (which is then not returned), and can be
// lifted again.
TEST(LineReader, stops_at_the_byte_limit) {
  std::istringstream in("ab\n" + std::string(100, 'x') + "\ncd\n");
  LineReader r(in, 10);
  r.set_byte_limit(50);
  std::string line;
  ASSERT_TRUE(r.next(line));
  EXPECT_EQ(line, "ab");
  EXPECT_FALSE(r.next(line));
  EXPECT_TRUE(r.limit_reached());
  EXPECT_EQ(r.bytes(), 50u);

  std::istringstream again("ab\n" + std::string(100, 'x') + "\ncd\n");
  LineReader lifted(again, 10);
  lifted.set_byte_limit(5);
  ASSERT_TRUE(lifted.next(line));
  lifted.set_byte_limit(0);
  ASSERT_TRUE(lifted.next(line));
  EXPECT_TRUE(lifted.cut());
  ASSERT_TRUE(lifted.next(line));
  EXPECT_EQ(line, "cd");
  EXPECT_FALSE(lifted.limit_reached());
}

// A buffer whose reading fails, as a file stream's does on a directory (EISDIR).
class Failing : public std::streambuf {
 protected:
  int_type underflow() override { throw std::ios_base::failure("read error"); }
};

TEST(LineReader, a_read_error_ends_the_lines_and_marks_the_stream_bad) {
  Failing buf;
  std::istream in(&buf);
  LineReader r(in, 100);
  std::string line;
  EXPECT_FALSE(r.next(line));
  EXPECT_TRUE(r.stream().bad());
}

}  // namespace
}  // namespace kvmscope::util
