#include "serve/listen_address.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <charconv>
#include <cstring>

namespace kvmscope::serve {

namespace {

util::Error bad(std::string_view text, const std::string& why) {
  return util::plain_error("--listen '" + std::string(text) + "': " + why,
                           "expected ADDR:PORT, e.g. 127.0.0.1:9580 or [::1]:9580");
}

std::string address_text(const sockaddr_storage& addr) {
  char host[INET6_ADDRSTRLEN] = "?";
  if (addr.ss_family == AF_INET6) {
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(&addr);
    inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof host);
    return "[" + std::string(host) + "]:" + std::to_string(ntohs(in6->sin6_port));
  }
  const auto* in4 = reinterpret_cast<const sockaddr_in*>(&addr);
  inet_ntop(AF_INET, &in4->sin_addr, host, sizeof host);
  return std::string(host) + ":" + std::to_string(ntohs(in4->sin_port));
}

}  // namespace

util::Result<ListenAddress> parse_listen_address(std::string_view text) {
  const std::size_t colon = text.rfind(':');
  if (colon == std::string_view::npos) return bad(text, "no port");
  std::string host(text.substr(0, colon));
  const std::string_view port_text = text.substr(colon + 1);
  unsigned port = 0;
  auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (port_text.empty() || ec != std::errc() || end != port_text.data() + port_text.size() ||
      port > 65535)
    return bad(text, "'" + std::string(port_text) + "' is not a port");

  ListenAddress out;
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    auto* in6 = reinterpret_cast<sockaddr_in6*>(&out.addr);
    in6->sin6_family = AF_INET6;
    in6->sin6_port = htons(static_cast<std::uint16_t>(port));
    if (inet_pton(AF_INET6, host.substr(1, host.size() - 2).c_str(), &in6->sin6_addr) != 1)
      return bad(text, "'" + host + "' is not an IPv6 address");
    out.len = sizeof(sockaddr_in6);
    return out;
  }
  auto* in4 = reinterpret_cast<sockaddr_in*>(&out.addr);
  in4->sin_family = AF_INET;
  in4->sin_port = htons(static_cast<std::uint16_t>(port));
  if (inet_pton(AF_INET, host.c_str(), &in4->sin_addr) != 1)
    return bad(text, "'" + host + "' is not an IPv4 address (IPv6 goes in brackets)");
  out.len = sizeof(sockaddr_in);
  return out;
}

util::Result<util::Fd> listen_on(const ListenAddress& address) {
  util::Fd fd(::socket(address.addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!fd.valid()) {
    const int err = errno;
    return util::os_error("creating the listening socket", err);
  }
  int one = 1;
  // A restarted exporter must not wait for the old connections' TIME_WAIT to end.
  ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (address.addr.ss_family == AF_INET6)
    ::setsockopt(fd.get(), IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
  if (::bind(fd.get(), reinterpret_cast<const sockaddr*>(&address.addr), address.len) != 0) {
    const int err = errno;
    return util::os_error(
        "binding " + address_text(address.addr), err,
        err == EADDRINUSE ? "another process listens there; choose --listen" : "");
  }
  if (::listen(fd.get(), 128) != 0) {
    const int err = errno;
    return util::os_error("listening", err);
  }
  return fd;
}

util::Result<std::string> bound_address(int fd) {
  sockaddr_storage addr{};
  socklen_t len = sizeof addr;
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    const int err = errno;
    return util::os_error("reading the listening address", err);
  }
  return address_text(addr);
}

}  // namespace kvmscope::serve
