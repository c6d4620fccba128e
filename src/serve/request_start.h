// Whether the first bytes of a connection can be an HTTP request: a method token (RFC 9110
// tchar) and a space, after at most a few empty lines (RFC 9112 2.2 lets a server skip them).
// serve looks at them before libmicrohttpd does, so binary garbage (a TLS handshake, a port
// scanner's probe) gets 400 and a close at once instead of being buffered until a time-out.
#pragma once

#include <string_view>

namespace kvmscope::serve {

enum class RequestStart {
  need_more,  // a prefix of a method so far
  http,       // METHOD and a space: libmicrohttpd takes it from here
  not_http,   // answer 400 and close
};

inline constexpr std::size_t kMaxMethodBytes = 32;  // longer than any registered method
inline constexpr std::size_t kRequestStartPeekBytes = 64;

RequestStart classify_request_start(std::string_view first_bytes);

}  // namespace kvmscope::serve
