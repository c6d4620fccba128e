#include "serve/client_address.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cstring>

namespace kvmscope::serve {

namespace {

ClientAddress v4_address(const void* four_bytes) {
  ClientAddress a;
  a.v4 = true;
  std::memcpy(a.bytes.data(), four_bytes, 4);
  return a;
}

}  // namespace

ClientAddress ClientAddress::from(const sockaddr* addr, socklen_t len) {
  if (addr && addr->sa_family == AF_INET && len >= static_cast<socklen_t>(sizeof(sockaddr_in)))
    return v4_address(&reinterpret_cast<const sockaddr_in*>(addr)->sin_addr);
  ClientAddress a;
  if (addr && addr->sa_family == AF_INET6 && len >= static_cast<socklen_t>(sizeof(sockaddr_in6))) {
    const in6_addr& in6 = reinterpret_cast<const sockaddr_in6*>(addr)->sin6_addr;
    if (IN6_IS_ADDR_V4MAPPED(&in6)) return v4_address(&in6.s6_addr[12]);
    std::memcpy(a.bytes.data(), &in6, 16);
  }
  return a;  // another family (never on a TCP socket of ours): all zeros, one client
}

bool ClientAddress::loopback() const {
  if (v4) return bytes[0] == 127;
  static constexpr std::array<std::uint8_t, 16> kLoopback6 = {0, 0, 0, 0, 0, 0, 0, 0,
                                                              0, 0, 0, 0, 0, 0, 0, 1};
  return bytes == kLoopback6;
}

std::string ClientAddress::text() const {
  char out[INET6_ADDRSTRLEN] = "?";
  inet_ntop(v4 ? AF_INET : AF_INET6, bytes.data(), out, sizeof out);
  return out;
}

util::Result<std::vector<ClientAddress>> parse_client_addresses(std::string_view list) {
  std::vector<ClientAddress> out;
  std::size_t start = 0;
  for (;;) {
    const std::size_t comma = list.find(',', start);
    std::string item(
        list.substr(start, comma == std::string_view::npos ? list.npos : comma - start));
    if (item.size() >= 2 && item.front() == '[' && item.back() == ']')
      item = item.substr(1, item.size() - 2);
    ClientAddress a;
    in_addr in4;
    if (inet_pton(AF_INET, item.c_str(), &in4) == 1) {
      a = v4_address(&in4);
    } else if (inet_pton(AF_INET6, item.c_str(), a.bytes.data()) == 1) {
      // An IPv4-mapped address is that IPv4 client.
      in6_addr in6;
      std::memcpy(&in6, a.bytes.data(), 16);
      if (IN6_IS_ADDR_V4MAPPED(&in6)) a = v4_address(&in6.s6_addr[12]);
    } else {
      return util::plain_error("'" + item + "' is not an IP address",
                               "expected numeric addresses, e.g. 10.0.0.5,[fd00::5]");
    }
    out.push_back(a);
    if (comma == std::string_view::npos) return out;
    start = comma + 1;
  }
}

}  // namespace kvmscope::serve
