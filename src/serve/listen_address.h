// `--listen ADDR:PORT`: where `kvmscope serve` accepts scrapes. ADDR is a numeric IPv4 address
// or an IPv6 one in brackets ([::1]:9580); PORT 0 picks a free port. The listening socket is
// made here, before anything is loaded, so a taken port is one clear error.
#pragma once

#include <sys/socket.h>

#include <string>
#include <string_view>

#include "util/fd.h"
#include "util/result.h"

namespace kvmscope::serve {

inline constexpr std::string_view kDefaultListen = "127.0.0.1:9580";

struct ListenAddress {
  sockaddr_storage addr{};
  socklen_t len = 0;
};

util::Result<ListenAddress> parse_listen_address(std::string_view text);

// A socket bound to the address and listening; non-blocking, close-on-exec.
util::Result<util::Fd> listen_on(const ListenAddress& address);

// The address a socket is bound to, as ADDR:PORT ("127.0.0.1:9580", "[::1]:40123").
util::Result<std::string> bound_address(int fd);

}  // namespace kvmscope::serve
