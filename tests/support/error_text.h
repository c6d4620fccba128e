// The error text of a Result, "" when it holds no error: lets a test compare a decoder's verdict
// with the exact message it must give.
#pragma once

#include <string>

#include "util/result.h"

namespace kvmscope::testing {

inline std::string error_text(const util::Result<void>& r) {
  return r ? std::string() : r.error().context;
}

}  // namespace kvmscope::testing
