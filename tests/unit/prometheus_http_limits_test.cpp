// serve's connection policy without sockets: which connection the table sheds for a newcomer
// (per client, then overall, trusted clients last), and which first bytes are HTTP at all.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>

#include <string>

#include "serve/client_address.h"
#include "serve/connection_table.h"
#include "serve/request_start.h"

namespace kvmscope::serve {
namespace {

ClientAddress ip(const std::string& text) {
  auto parsed = parse_client_addresses(text);
  EXPECT_TRUE(parsed) << text;
  return parsed ? parsed->front() : ClientAddress{};
}

using Shed = std::vector<ConnectionTable::Id>;

TEST(ConnectionTable, a_client_at_its_limit_sheds_its_own_oldest_idle_connection) {
  ConnectionTable t(100, 3);
  const auto a = ip("10.0.0.1"), b = ip("10.0.0.2");
  for (ConnectionTable::Id id = 1; id <= 3; ++id) EXPECT_TRUE(t.admit(id, a, false, id).admitted);
  EXPECT_TRUE(t.admit(10, b, false, 4).admitted);
  t.busy(1);  // its request is being answered: not idle
  const auto d = t.admit(4, a, false, 5);
  EXPECT_TRUE(d.admitted);
  EXPECT_EQ(d.shed, Shed{2});  // not b's, not the busy one
  EXPECT_EQ(t.of_client(a), 3u);
  EXPECT_EQ(t.of_client(b), 1u);
  // All of a's connections busy: the newcomer is refused, nothing is shed.
  t.busy(3);
  t.busy(4);
  const auto refused = t.admit(5, a, false, 6);
  EXPECT_FALSE(refused.admitted);
  EXPECT_TRUE(refused.shed.empty());
  EXPECT_FALSE(t.contains(5));
  // An answer done makes a connection idle again, from then on.
  t.idle(3, 7);
  EXPECT_EQ(t.admit(6, a, false, 8).shed, Shed{3});
}

TEST(ConnectionTable, a_full_table_sheds_the_oldest_idle_untrusted_connection) {
  ConnectionTable t(4, 16);
  const auto trusted = ip("127.0.0.1");
  EXPECT_TRUE(t.admit(1, trusted, true, 1).admitted);  // the oldest of all, but trusted
  EXPECT_TRUE(t.admit(2, ip("10.0.0.2"), false, 2).admitted);
  EXPECT_TRUE(t.admit(3, ip("10.0.0.3"), false, 3).admitted);
  EXPECT_TRUE(t.admit(4, ip("10.0.0.4"), false, 4).admitted);
  t.busy(2);
  auto d = t.admit(5, ip("10.0.0.5"), false, 5);
  EXPECT_TRUE(d.admitted);
  EXPECT_EQ(d.shed, Shed{3});
  EXPECT_EQ(t.size(), 4u);
  // A trusted newcomer sheds untrusted ones first, too.
  d = t.admit(6, ip("127.0.0.1"), true, 6);
  EXPECT_EQ(d.shed, Shed{4});
  d = t.admit(7, ip("10.0.0.7"), false, 7);
  EXPECT_EQ(d.shed, Shed{5});
  // Left: 1 (trusted, idle), 2 (busy), 6 (trusted, idle), 7 (idle). Once 7 is busy, an
  // untrusted newcomer finds nothing it may shed; a trusted one takes the oldest trusted place.
  t.busy(7);
  d = t.admit(8, ip("10.0.0.8"), false, 8);
  EXPECT_FALSE(d.admitted);
  EXPECT_TRUE(d.shed.empty());
  d = t.admit(9, ip("::1"), true, 9);
  EXPECT_TRUE(d.admitted);
  EXPECT_EQ(d.shed, Shed{1});
  // All busy: even a trusted newcomer waits for an answer to finish.
  t.busy(6);
  t.busy(9);
  EXPECT_FALSE(t.admit(10, trusted, true, 10).admitted);
  t.remove(2);
  EXPECT_TRUE(t.admit(11, ip("10.0.0.11"), false, 11).admitted);
  EXPECT_EQ(t.size(), 4u);
}

TEST(ConnectionTable, removing_unknown_or_twice_is_harmless) {
  ConnectionTable t(2, 1);
  const auto a = ip("10.0.0.1");
  EXPECT_TRUE(t.admit(1, a, false, 1).admitted);
  t.remove(1);
  t.remove(1);
  t.remove(42);
  t.busy(42);
  t.idle(42, 3);
  EXPECT_EQ(t.size(), 0u);
  EXPECT_EQ(t.of_client(a), 0u);
  EXPECT_TRUE(t.admit(2, a, false, 4).admitted);
  EXPECT_TRUE(t.admit(3, a, false, 5).shed == Shed{2});  // per-client limit 1
}

TEST(ClientAddress, reads_ipv4_ipv6_and_ipv4_mapped_peers_and_knows_loopback) {
  sockaddr_in in4{};
  in4.sin_family = AF_INET;
  inet_pton(AF_INET, "127.0.0.9", &in4.sin_addr);
  const auto a = ClientAddress::from(reinterpret_cast<sockaddr*>(&in4), sizeof in4);
  EXPECT_TRUE(a.loopback());
  EXPECT_EQ(a.text(), "127.0.0.9");

  sockaddr_in6 in6{};
  in6.sin6_family = AF_INET6;
  inet_pton(AF_INET6, "::ffff:10.1.2.3", &in6.sin6_addr);
  const auto mapped = ClientAddress::from(reinterpret_cast<sockaddr*>(&in6), sizeof in6);
  EXPECT_EQ(mapped, ip("10.1.2.3"));
  EXPECT_FALSE(mapped.loopback());
  inet_pton(AF_INET6, "::1", &in6.sin6_addr);
  EXPECT_TRUE(ClientAddress::from(reinterpret_cast<sockaddr*>(&in6), sizeof in6).loopback());
  inet_pton(AF_INET6, "fd00::5", &in6.sin6_addr);
  EXPECT_EQ(ClientAddress::from(reinterpret_cast<sockaddr*>(&in6), sizeof in6), ip("[fd00::5]"));
  EXPECT_FALSE(ip("fd00::5").loopback());
  EXPECT_FALSE(ip("10.0.0.1").loopback());
}

TEST(ClientAddress, parses_lists_and_rejects_names) {
  auto list = parse_client_addresses("10.0.0.5,[fd00::5],::ffff:192.0.2.1");
  ASSERT_TRUE(list);
  ASSERT_EQ(list->size(), 3u);
  EXPECT_EQ((*list)[0].text(), "10.0.0.5");
  EXPECT_EQ((*list)[1].text(), "fd00::5");
  EXPECT_EQ((*list)[2].text(), "192.0.2.1");
  auto bad = parse_client_addresses("10.0.0.5,prometheus");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().message(),
            "'prometheus' is not an IP address (expected numeric addresses, e.g. "
            "10.0.0.5,[fd00::5])");
  EXPECT_FALSE(parse_client_addresses(""));
  EXPECT_FALSE(parse_client_addresses("10.0.0.5,"));
}

TEST(RequestStart, tells_a_method_from_binary_garbage) {
  EXPECT_EQ(classify_request_start("GET /metrics HTTP/1.1\r\n"), RequestStart::http);
  EXPECT_EQ(classify_request_start("OPTIONS * HTTP/1.1"), RequestStart::http);
  EXPECT_EQ(classify_request_start("CONNECT a:443 HTTP/1.1"), RequestStart::http);
  EXPECT_EQ(classify_request_start("\r\nGET "), RequestStart::http);  // an empty line first
  EXPECT_EQ(classify_request_start("M-SEARCH "), RequestStart::http);
  EXPECT_EQ(classify_request_start(""), RequestStart::need_more);
  EXPECT_EQ(classify_request_start("GE"), RequestStart::need_more);
  EXPECT_EQ(classify_request_start("\r\n"), RequestStart::need_more);
  // A TLS ClientHello, NUL bytes, a request line without a method, a line of letters only.
  EXPECT_EQ(classify_request_start(std::string("\x16\x03\x01\x02\x00", 5)), RequestStart::not_http);
  EXPECT_EQ(classify_request_start(std::string("GET\0 /", 6)), RequestStart::not_http);
  EXPECT_EQ(classify_request_start(" / HTTP/1.1"), RequestStart::not_http);
  EXPECT_EQ(classify_request_start("GET\r\n"), RequestStart::not_http);
  EXPECT_EQ(classify_request_start(std::string(kMaxMethodBytes, 'A')), RequestStart::need_more);
  EXPECT_EQ(classify_request_start(std::string(kMaxMethodBytes + 1, 'A')), RequestStart::not_http);
  EXPECT_EQ(classify_request_start(std::string(9, '\n') + "GET "), RequestStart::not_http);
}

}  // namespace
}  // namespace kvmscope::serve
