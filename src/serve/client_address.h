// Who a connection comes from, as serve's connection limits see it: the client's IP address
// (the port is left out: every new connection of a client has another one). An IPv4 address
// that reaches an IPv6 socket as ::ffff:a.b.c.d is that IPv4 address.
#pragma once

#include <sys/socket.h>

#include <array>
#include <compare>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "util/result.h"

namespace kvmscope::serve {

struct ClientAddress {
  bool v4 = false;
  std::array<std::uint8_t, 16> bytes{};  // IPv4: the first 4

  static ClientAddress from(const sockaddr* addr, socklen_t len);
  bool loopback() const;  // 127.0.0.0/8 or ::1
  std::string text() const;
  auto operator<=>(const ClientAddress&) const = default;
};

// `--scraper ADDR[,ADDR...]`: numeric IPv4 or IPv6 addresses (IPv6 with or without brackets).
util::Result<std::vector<ClientAddress>> parse_client_addresses(std::string_view list);

}  // namespace kvmscope::serve
