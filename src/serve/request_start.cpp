#include "serve/request_start.h"

#include <cstring>

namespace kvmscope::serve {

namespace {

constexpr std::size_t kMaxEmptyLineBytes = 8;

bool tchar(unsigned char c) {
  if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) return true;
  return c != '\0' && std::strchr("!#$%&'*+-.^_`|~", c) != nullptr;
}

}  // namespace

RequestStart classify_request_start(std::string_view bytes) {
  std::size_t i = 0;
  while (i < bytes.size() && (bytes[i] == '\r' || bytes[i] == '\n')) ++i;
  if (i > kMaxEmptyLineBytes) return RequestStart::not_http;
  const std::size_t method = i;
  for (; i < bytes.size(); ++i) {
    const auto c = static_cast<unsigned char>(bytes[i]);
    if (c == ' ') return i > method ? RequestStart::http : RequestStart::not_http;
    if (!tchar(c) || i - method >= kMaxMethodBytes) return RequestStart::not_http;
  }
  return RequestStart::need_more;
}

}  // namespace kvmscope::serve
