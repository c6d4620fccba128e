// src/util's file helpers: where output may go (check_parent_directory's exact messages), and
// the nameless temporary file a pipe is spooled into.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <vector>

#include "util/output_path.h"
#include "util/spool.h"

namespace {

using kvmscope::util::check_parent_directory;

std::string error_of(const std::string& option, const std::string& path) {
  auto r = check_parent_directory(option, path);
  return r.ok() ? "ok" : r.error().message();
}

TEST(OutputPath, refuses_a_missing_directory_and_names_it) {
  EXPECT_EQ(error_of("--html", "/nonexistent/x.html"),
            "--html /nonexistent/x.html: directory /nonexistent does not exist");
  EXPECT_EQ(error_of("--csv", "/nonexistent/a/b/"),
            "--csv /nonexistent/a/b/: directory /nonexistent/a does not exist");
  EXPECT_EQ(error_of("-o", "/etc/passwd/x"), "-o /etc/passwd/x: /etc/passwd is not a directory");
  EXPECT_FALSE(std::filesystem::exists("/nonexistent")) << "nothing is created";
}

TEST(OutputPath, takes_what_an_existing_directory_is_to_hold) {
  EXPECT_EQ(error_of("--html", "x.html"), "ok");  // in the working directory
  EXPECT_EQ(error_of("--csv", "out/"), "ok");     // "out" itself is made, in "."
  EXPECT_EQ(error_of("--csv", "/out"), "ok");
  EXPECT_EQ(error_of("--csv", "/"), "ok");
  EXPECT_EQ(error_of("-o", "/tmp//report.txt"), "ok");
}

TEST(Spool, copies_the_prefix_and_the_stream_into_a_file_without_a_name) {
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  const std::string rest = "and the rest of the stream";
  ASSERT_EQ(::write(fds[1], rest.data(), rest.size()), static_cast<ssize_t>(rest.size()));
  ::close(fds[1]);
  const std::vector<std::uint8_t> prefix = {'s', 't', 'a', 'r', 't', ' '};
  auto f = kvmscope::util::spool_to_temp_file(fds[0], prefix, "pipe");
  ::close(fds[0]);
  ASSERT_TRUE(f.ok()) << f.error().message();
  struct stat st {};
  ASSERT_EQ(::fstat(f->get(), &st), 0);
  EXPECT_EQ(st.st_nlink, 0u);
  std::string back(64, '\0');
  const ssize_t n = ::read(f->get(), back.data(), back.size());
  ASSERT_GE(n, 0);
  back.resize(static_cast<std::size_t>(n));
  EXPECT_EQ(back, "start and the rest of the stream") << "read from offset 0";
}

}  // namespace
