// Where the user asks for output (a file, or a directory of files): kvmscope creates what was
// named and nothing above it, so a mistyped path is an error before any work, not a directory
// made at the filesystem root.
#pragma once

#include <string>

#include "util/result.h"

namespace kvmscope::util {

// The directory that is to hold `path` must exist: the parent of the last component ("." for a
// bare name; trailing slashes do not count, so "out/" is the directory "out" in "."). `option`
// starts the message: "--html /nonexistent/x.html: directory /nonexistent does not exist", or
// "...: /etc/passwd is not a directory".
Result<void> check_parent_directory(const std::string& option, const std::string& path);

}  // namespace kvmscope::util
