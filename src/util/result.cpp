#include "util/result.h"

#include <cstring>

namespace kvmscope::util {

std::string Error::message() const {
  std::string out = context;
  if (err != 0) {
    out += ": ";
    out += std::strerror(err);
  }
  if (!hint.empty()) {
    out += " (";
    out += hint;
    out += ")";
  }
  return out;
}

Error os_error(std::string context, int err, std::string hint) {
  return Error{err, std::move(context), std::move(hint)};
}

Error plain_error(std::string context, std::string hint) {
  return Error{0, std::move(context), std::move(hint)};
}

}  // namespace kvmscope::util
