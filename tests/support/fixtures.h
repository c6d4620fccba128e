// The repository's test fixtures (tests/fixtures/...), for unit tests. A missing or unreadable
// fixture throws: GoogleTest reports the exception as that test's failure, naming the path, and the
// test body stops there (an empty string read on would index past its end or divide by its size).
#pragma once

#include <stdexcept>
#include <string>

#include "util/fd.h"

namespace kvmscope::testing {

// tests/fixtures/<rel> in the source tree (KS_SOURCE_DIR: the unit tests' compile definition).
inline std::string fixture_path(const std::string& rel) {
  return std::string(KS_SOURCE_DIR) + "/tests/fixtures/" + rel;
}

// The whole fixture file, or a std::runtime_error "fixture missing: PATH: ERROR".
inline std::string read_fixture(const std::string& rel) {
  const std::string path = fixture_path(rel);
  auto text = util::read_file(path);
  if (!text.ok()) throw std::runtime_error("fixture missing: " + text.error().message());
  return std::move(*text);
}

// One tracefs format file of a fixture folder: format_fixture("tracefs-6.1-svm", "kvm_exit").
inline std::string format_fixture(const std::string& folder, const std::string& event) {
  return read_fixture(folder + "/" + event + ".format");
}

}  // namespace kvmscope::testing
