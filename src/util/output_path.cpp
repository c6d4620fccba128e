#include "util/output_path.h"

#include <sys/stat.h>

#include <cerrno>

namespace kvmscope::util {

namespace {

// "a/b/" -> "a", "a/b" -> "a", "b" -> ".", "/b" -> "/", "/" -> "/".
std::string parent_of(std::string path) {
  while (path.size() > 1 && path.back() == '/') path.pop_back();
  const auto slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  std::string parent = path.substr(0, slash);
  while (parent.size() > 1 && parent.back() == '/') parent.pop_back();  // "a//b"
  return parent;
}

}  // namespace

Result<void> check_parent_directory(const std::string& option, const std::string& path) {
  const std::string parent = parent_of(path);
  struct stat st {};
  if (::stat(parent.c_str(), &st) != 0) {
    if (errno == ENOENT)
      return plain_error(option + " " + path + ": directory " + parent + " does not exist");
    const int err = errno;
    return os_error(option + " " + path + ": directory " + parent, err);
  }
  if (!S_ISDIR(st.st_mode))
    return plain_error(option + " " + path + ": " + parent + " is not a directory");
  return {};
}

}  // namespace kvmscope::util
