// serve's HTTP side on loopback, without root or BPF: what each bad request gets (404, 405,
// 400, 414, 431, binary garbage), that scrapes keep being answered while slow clients hold
// connections, even more of them than the server keeps (127.0.0.2... are loopback addresses
// too: several clients on one machine), that those clients are cut off (idle timeout, request
// deadline, per-client limit), gzip, and the --listen parser.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>
#include <zlib.h>

#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "serve/gzip.h"
#include "serve/listen_address.h"
#include "serve/metrics_server.h"

namespace kvmscope::serve {
namespace {

using Clock = std::chrono::steady_clock;

// A connected loopback socket (blocking), closed at the end of its scope; `from` is the local
// address it connects from (any of 127.0.0.0/8).
class Client {
 public:
  explicit Client(int port, const char* from = nullptr)
      : fd_(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) {
    if (from) {
      sockaddr_in local{};
      local.sin_family = AF_INET;
      inet_pton(AF_INET, from, &local.sin_addr);
      if (::bind(fd_, reinterpret_cast<sockaddr*>(&local), sizeof local) != 0) return;
    }
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<std::uint16_t>(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  }
  ~Client() { ::close(fd_); }
  bool connected() const { return connected_; }
  bool send(const std::string& data) {
    return ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(data.size());
  }
  // Reads until the peer closes or `timeout_ms` passes; "" if nothing came.
  std::string read_all(int timeout_ms) {
    std::string out;
    const auto end = Clock::now() + std::chrono::milliseconds(timeout_ms);
    for (;;) {
      const auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(end - Clock::now()).count();
      if (left <= 0) return out;
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left)) <= 0) return out;
      char buf[65536];
      const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
      if (n <= 0) {
        closed_ = true;
        return out;
      }
      out.append(buf, static_cast<std::size_t>(n));
    }
  }
  bool closed() const { return closed_; }
  // Whether the server has closed this connection: it reads as ended within `timeout_ms`.
  bool ended(int timeout_ms = 5) {
    pollfd p{fd_, POLLIN, 0};
    if (!closed_ && ::poll(&p, 1, timeout_ms) > 0) {
      char buf[4096];
      closed_ = ::recv(fd_, buf, sizeof buf, 0) <= 0;
    }
    return closed_;
  }

 private:
  int fd_;
  bool connected_ = false;
  bool closed_ = false;
};

std::string status_line(const std::string& response) {
  return response.substr(0, response.find("\r\n"));
}

class MetricsServerHttp : public ::testing::Test {
 protected:
  void start(HttpLimits limits = {}) {
    auto address = parse_listen_address("127.0.0.1:0");
    ASSERT_TRUE(address) << address.error().message();
    auto fd = listen_on(*address);
    ASSERT_TRUE(fd) << fd.error().message();
    auto where = bound_address(fd->get());
    ASSERT_TRUE(where);
    port_ = std::stoi(where->substr(where->rfind(':') + 1));
    auto server = MetricsServer::start(std::move(*fd), limits);
    ASSERT_TRUE(server) << server.error().message();
    server_ = std::move(*server);
    auto page = std::make_shared<Page>();
    page->content_type = "text/plain; version=0.0.4; charset=utf-8";
    page->body = "kvmscope_build_info{version=\"t\"} 1\n";
    server_->publish(page);
  }
  // One request on a fresh connection (Connection: close), the whole response.
  std::string request(const std::string& head, const char* from = nullptr) {
    Client c(port_, from);
    EXPECT_TRUE(c.connected());
    c.send(head);
    return c.read_all(5000);
  }
  std::string get(const std::string& path, const std::string& extra = "") {
    return request("GET " + path + " HTTP/1.1\r\nHost: t\r\nConnection: close\r\n" + extra +
                   "\r\n");
  }

  int port_ = 0;
  std::unique_ptr<MetricsServer> server_;
};

TEST_F(MetricsServerHttp, serves_the_published_page_on_metrics) {
  start();
  std::string r = get("/metrics");
  EXPECT_EQ(status_line(r), "HTTP/1.1 200 OK");
  EXPECT_NE(r.find("Content-Type: text/plain; version=0.0.4; charset=utf-8\r\n"),
            std::string::npos);
  EXPECT_EQ(r.substr(r.find("\r\n\r\n") + 4), "kvmscope_build_info{version=\"t\"} 1\n");
  // A newer page replaces it for the next scrape.
  auto page = std::make_shared<Page>();
  page->content_type = "text/plain";
  page->body = "new\n";
  server_->publish(page);
  r = get("/metrics?x=1");
  EXPECT_EQ(r.substr(r.find("\r\n\r\n") + 4), "new\n");
}

TEST_F(MetricsServerHttp, answers_head_without_a_body_and_the_index_page) {
  start();
  const std::string head =
      request("HEAD /metrics HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(status_line(head), "HTTP/1.1 200 OK");
  EXPECT_EQ(head.substr(head.find("\r\n\r\n") + 4), "");
  const std::string index = get("/");
  EXPECT_EQ(status_line(index), "HTTP/1.1 200 OK");
  EXPECT_NE(index.find("href=\"/metrics\""), std::string::npos);
}

TEST_F(MetricsServerHttp, answers_404_for_unknown_paths) {
  start();
  for (const char* path : {"/nope", "/metrics/", "/favicon.ico", "/metricsx"})
    EXPECT_EQ(status_line(get(path)), "HTTP/1.1 404 Not Found") << path;
}

TEST_F(MetricsServerHttp, answers_405_with_allow_for_other_methods) {
  start();
  // The method is judged before the path: `OPTIONS *` and CONNECT's host:port are no paths of
  // ours, and still methods we refuse.
  for (const char* line : {"POST /metrics", "PUT /metrics", "DELETE /metrics", "OPTIONS /metrics",
                           "OPTIONS *", "CONNECT 127.0.0.1:443", "PATCH /nope", "BREW /"}) {
    const std::string r =
        request(std::string(line) + " HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\n\r\n");
    EXPECT_EQ(status_line(r), "HTTP/1.1 405 Method Not Allowed") << line;
    EXPECT_NE(r.find("Allow: GET, HEAD\r\n"), std::string::npos) << line;
  }
}

TEST_F(MetricsServerHttp, answers_binary_garbage_with_400_and_a_close) {
  start();
  const std::string tls_hello("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 11);
  std::string binary;
  for (int i = 0; i < 256; ++i) binary.push_back(static_cast<char>(i));
  for (const std::string& garbage :
       {tls_hello, binary, binary + "\r\n\r\n", std::string(" / HTTP/1.1\r\n\r\n")}) {
    Client c(port_);
    ASSERT_TRUE(c.send(garbage));
    const auto t0 = Clock::now();
    const std::string r = c.read_all(5000);
    EXPECT_EQ(status_line(r), "HTTP/1.1 400 Bad Request") << garbage.size();
    EXPECT_NE(r.find("\r\nContent-Length: 36\r\nConnection: close\r\n\r\n"), std::string::npos);
    EXPECT_EQ(r.substr(r.find("\r\n\r\n") + 4), "bad request: this is an HTTP server\n");
    EXPECT_TRUE(c.closed());
    EXPECT_LT(Clock::now() - t0, std::chrono::milliseconds(2000));  // at once, not at a time-out
  }
  EXPECT_EQ(status_line(get("/metrics")), "HTTP/1.1 200 OK");
}

TEST_F(MetricsServerHttp, waits_for_a_method_sent_in_pieces) {
  start();
  Client c(port_);
  ASSERT_TRUE(c.send("GE"));
  std::this_thread::sleep_for(std::chrono::milliseconds(150));
  ASSERT_TRUE(c.send("T /metrics HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"));
  EXPECT_EQ(status_line(c.read_all(5000)), "HTTP/1.1 200 OK");
}

TEST_F(MetricsServerHttp, answers_a_loopback_scrape_while_150_stalled_clients_are_connected) {
  start();  // the defaults: at most 128 connections, 16 per client address
  // 150 clients from ten addresses, 15 each (within the per-client limit), each with half a
  // request: more than the server keeps. Before, the 129th and later were refused, and so was
  // every scrape until the request deadline (30 s) cut the stalled ones.
  std::vector<std::unique_ptr<Client>> slow;
  for (int i = 0; i < 150; ++i) {
    const std::string from = "127.0.0." + std::to_string(2 + i % 10);
    slow.push_back(std::make_unique<Client>(port_, from.c_str()));
    ASSERT_TRUE(slow.back()->connected()) << i;
    ASSERT_TRUE(slow.back()->send("GET /metrics HTTP/1.1\r\nHost: t\r\nX-Slow: "));
  }
  const auto t0 = Clock::now();
  const std::string r =
      request("GET /metrics HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n", "127.0.0.1");
  EXPECT_EQ(status_line(r), "HTTP/1.1 200 OK");
  EXPECT_EQ(r.substr(r.find("\r\n\r\n") + 4), "kvmscope_build_info{version=\"t\"} 1\n");
  EXPECT_LT(Clock::now() - t0, std::chrono::milliseconds(2000));
  // Each place was made by closing the connection that had stalled longest: the first 22 for
  // the 129th to 150th, the 23rd for the scrape. The other 127 are still open.
  for (int i = 0; i < 150; ++i) EXPECT_EQ(slow[i]->ended(), i < 23) << i;
}

TEST_F(MetricsServerHttp, a_client_at_its_limit_loses_its_own_oldest_idle_connection) {
  start({.max_connections_per_client = 4});
  std::vector<std::unique_ptr<Client>> mine;
  Client other(port_, "127.0.0.3");
  ASSERT_TRUE(other.send("GET /metrics HTTP/1.1\r\nHost: t\r\n"));
  for (int i = 0; i < 6; ++i) {
    mine.push_back(std::make_unique<Client>(port_, "127.0.0.2"));
    ASSERT_TRUE(mine.back()->send("GET /metrics HTTP/1.1\r\nHost: t\r\n"));
  }
  const std::string r =
      request("GET /metrics HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n", "127.0.0.2");
  EXPECT_EQ(status_line(r), "HTTP/1.1 200 OK");
  // The 5th and 6th connection and the scrape each took the place of 127.0.0.2's oldest.
  for (int i = 0; i < 6; ++i) EXPECT_EQ(mine[i]->ended(), i < 3) << i;
  EXPECT_FALSE(other.ended());
}

TEST_F(MetricsServerHttp, untrusted_newcomers_never_shed_a_scrapers_connection) {
  HttpLimits limits{.max_connections = 8, .max_connections_per_client = 4};
  limits.trust_loopback = false;
  limits.scrapers = *parse_client_addresses("127.0.0.1");
  start(limits);
  // The scraper's keep-alive connection, idle between scrapes: the oldest in the table.
  Client scraper(port_, "127.0.0.1");
  const std::string req = "GET /metrics HTTP/1.1\r\nHost: t\r\n\r\n";
  ASSERT_TRUE(scraper.send(req));
  EXPECT_EQ(status_line(scraper.read_all(300)), "HTTP/1.1 200 OK");
  // 20 untrusted clients that stall: they shed one another, never the scraper.
  std::vector<std::unique_ptr<Client>> slow;
  for (int i = 0; i < 20; ++i) {
    const std::string from = "127.0.0." + std::to_string(2 + i % 5);
    slow.push_back(std::make_unique<Client>(port_, from.c_str()));
    ASSERT_TRUE(slow.back()->send("GET /metrics HTTP/1.1\r\nHost: t\r\n"));
  }
  for (int i = 0; i < 20; ++i) EXPECT_EQ(slow[i]->ended(), i < 13) << i;
  ASSERT_TRUE(scraper.send(req));
  EXPECT_EQ(status_line(scraper.read_all(300)), "HTTP/1.1 200 OK");
  EXPECT_FALSE(scraper.closed());
  // A newcomer from the scraper's address takes the place of the oldest untrusted one.
  EXPECT_EQ(status_line(get("/metrics")), "HTTP/1.1 200 OK");
  EXPECT_TRUE(slow[13]->ended());
}

TEST_F(MetricsServerHttp, closes_a_connection_that_sends_nothing_after_the_idle_timeout) {
  start({.idle_timeout_s = 1, .request_deadline_s = 30});
  Client c(port_);
  const auto t0 = Clock::now();
  EXPECT_EQ(c.read_all(5000), "");
  EXPECT_TRUE(c.closed());
  EXPECT_GT(Clock::now() - t0, std::chrono::milliseconds(800));
  EXPECT_LT(Clock::now() - t0, std::chrono::milliseconds(3000));
}

TEST_F(MetricsServerHttp, answers_400_for_a_get_with_a_body_without_reading_it) {
  start();
  const std::string r =
      request("GET /metrics HTTP/1.1\r\nHost: t\r\nContent-Length: 1000000\r\n\r\nabc");
  EXPECT_EQ(status_line(r), "HTTP/1.1 400 Bad Request");
}

TEST_F(MetricsServerHttp, answers_431_for_huge_headers_and_414_for_a_huge_url) {
  start({.request_bytes = 16 * 1024});
  const std::string big(20000, 'a');
  EXPECT_EQ(status_line(get("/metrics", "X-Big: " + big + "\r\n")),
            "HTTP/1.1 431 Request Header Fields Too Large");
  EXPECT_EQ(status_line(get("/metrics?" + big)), "HTTP/1.1 414 URI Too Long");
  // Headers within the limit are fine.
  EXPECT_EQ(status_line(get("/metrics", "X-Big: " + std::string(4000, 'a') + "\r\n")),
            "HTTP/1.1 200 OK");
}

TEST_F(MetricsServerHttp, keeps_a_connection_alive_for_the_next_scrape) {
  start();
  Client c(port_);
  ASSERT_TRUE(c.connected());
  const std::string req = "GET /metrics HTTP/1.1\r\nHost: t\r\n\r\n";
  ASSERT_TRUE(c.send(req));
  std::string first = c.read_all(300);
  EXPECT_EQ(status_line(first), "HTTP/1.1 200 OK");
  EXPECT_FALSE(c.closed());
  ASSERT_TRUE(c.send(req));
  EXPECT_EQ(status_line(c.read_all(300)), "HTTP/1.1 200 OK");
}

TEST_F(MetricsServerHttp, serves_scrapes_while_slow_clients_hold_connections) {
  start({.idle_timeout_s = 30, .request_deadline_s = 60});
  // Twenty clients that send half a request and then nothing, one that trickles a header.
  std::vector<std::unique_ptr<Client>> slow;
  for (int i = 0; i < 20; ++i) {
    slow.push_back(std::make_unique<Client>(port_));
    ASSERT_TRUE(slow.back()->send("GET /metrics HTTP/1.1\r\nHost: t\r\nX-Slow: "));
  }
  Client trickle(port_);
  ASSERT_TRUE(trickle.send("GET /metrics HTTP/1.1\r\n"));
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE(trickle.send("X-A: b\r\n"));
    const auto t0 = Clock::now();
    EXPECT_EQ(status_line(get("/metrics")), "HTTP/1.1 200 OK");
    // A server that gave each connection a thread would hang here until the slow ones time out
    // (30 s); the bound leaves room for a loaded machine.
    EXPECT_LT(Clock::now() - t0, std::chrono::milliseconds(2000));
  }
}

TEST_F(MetricsServerHttp, closes_an_idle_connection_after_the_idle_timeout) {
  start({.idle_timeout_s = 1, .request_deadline_s = 30});
  Client c(port_);
  ASSERT_TRUE(c.send("GET /metrics HTTP/1.1\r\nHost: t\r\n"));
  const auto t0 = Clock::now();
  EXPECT_EQ(c.read_all(5000), "");
  EXPECT_TRUE(c.closed());
  EXPECT_LT(Clock::now() - t0, std::chrono::milliseconds(3000));
}

TEST_F(MetricsServerHttp, cuts_off_a_client_that_trickles_past_the_request_deadline) {
  start({.idle_timeout_s = 10, .request_deadline_s = 2});
  Client c(port_);
  ASSERT_TRUE(c.send("GET /metrics HTTP/1.1\r\nHost: t\r\n"));
  const auto t0 = Clock::now();
  bool cut = false;
  while (!cut && Clock::now() - t0 < std::chrono::seconds(8)) {
    // Never idle long enough for the idle timeout, never done either.
    cut = !c.send("X-A: b\r\n");
    c.read_all(300);
    cut = cut || c.closed();
  }
  EXPECT_TRUE(cut);
  EXPECT_GT(Clock::now() - t0, std::chrono::milliseconds(1500));
  EXPECT_EQ(status_line(get("/metrics")), "HTTP/1.1 200 OK");
}

TEST_F(MetricsServerHttp, serves_gzip_to_clients_that_accept_it_once_a_gzip_form_exists) {
  start();
  EXPECT_FALSE(server_->gzip_wanted(60'000'000'000));
  std::string r = get("/metrics", "Accept-Encoding: gzip\r\n");
  EXPECT_EQ(r.find("Content-Encoding"), std::string::npos);  // not compressed yet
  EXPECT_TRUE(server_->gzip_wanted(60'000'000'000));

  auto page = std::make_shared<Page>();
  page->content_type = "text/plain";
  page->body = std::string(10000, 'k');
  auto gz = gzip(page->body);
  ASSERT_TRUE(gz);
  page->gzip = *gz;
  server_->publish(page);
  r = get("/metrics", "Accept-Encoding: gzip\r\n");
  EXPECT_NE(r.find("Content-Encoding: gzip\r\n"), std::string::npos);
  const std::string body = r.substr(r.find("\r\n\r\n") + 4);
  EXPECT_EQ(body, *gz);
  EXPECT_EQ(get("/metrics").find("Content-Encoding"), std::string::npos);
}

TEST(Gzip, round_trips_through_zlib) {
  const std::string text = "kvmscope_exits_total{vm=\"a\"} 1\n";
  auto gz = gzip(text);
  ASSERT_TRUE(gz);
  ASSERT_GE(gz->size(), 2u);
  EXPECT_EQ(static_cast<unsigned char>((*gz)[0]), 0x1f);  // gzip magic
  EXPECT_EQ(static_cast<unsigned char>((*gz)[1]), 0x8b);
  z_stream z{};
  ASSERT_EQ(inflateInit2(&z, 15 + 16), Z_OK);
  std::string out(text.size() + 16, '\0');
  z.next_in = reinterpret_cast<Bytef*>(gz->data());
  z.avail_in = static_cast<uInt>(gz->size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  EXPECT_EQ(inflate(&z, Z_FINISH), Z_STREAM_END);
  out.resize(z.total_out);
  inflateEnd(&z);
  EXPECT_EQ(out, text);
}

TEST(Gzip, reads_accept_encoding_with_q_values) {
  EXPECT_TRUE(accepts_gzip("gzip"));
  EXPECT_TRUE(accepts_gzip("deflate, gzip;q=1.0, *;q=0.5"));
  EXPECT_TRUE(accepts_gzip("GZIP"));
  EXPECT_TRUE(accepts_gzip("*"));
  EXPECT_FALSE(accepts_gzip("gzip;q=0"));
  EXPECT_FALSE(accepts_gzip("identity"));
  EXPECT_FALSE(accepts_gzip(""));
  EXPECT_FALSE(accepts_gzip("x-gzip2"));
}

TEST(ListenAddress, parses_ipv4_and_bracketed_ipv6) {
  auto v4 = parse_listen_address("127.0.0.1:9580");
  ASSERT_TRUE(v4);
  EXPECT_EQ(v4->addr.ss_family, AF_INET);
  EXPECT_EQ(ntohs(reinterpret_cast<sockaddr_in*>(&v4->addr)->sin_port), 9580);
  auto v6 = parse_listen_address("[::1]:80");
  ASSERT_TRUE(v6);
  EXPECT_EQ(v6->addr.ss_family, AF_INET6);
  EXPECT_TRUE(parse_listen_address("0.0.0.0:0"));
}

TEST(ListenAddress, rejects_what_is_not_addr_colon_port) {
  for (const char* bad : {"9580", "localhost:9580", "127.0.0.1:", "127.0.0.1:65536", "127.0.0.1:x",
                          "::1:9580", "[::1]", "[nope]:1", ":9580"})
    EXPECT_FALSE(parse_listen_address(bad)) << bad;
  EXPECT_NE(parse_listen_address("::1:9580").error().message().find("IPv6 goes in brackets"),
            std::string::npos);
}

TEST(ListenAddress, reports_a_taken_port_by_address) {
  auto address = parse_listen_address("127.0.0.1:0");
  ASSERT_TRUE(address);
  auto first = listen_on(*address);
  ASSERT_TRUE(first);
  auto where = bound_address(first->get());
  ASSERT_TRUE(where);
  auto again = parse_listen_address(*where);
  ASSERT_TRUE(again);
  auto second = listen_on(*again);
  ASSERT_FALSE(second);
  EXPECT_NE(second.error().message().find("binding " + *where), std::string::npos)
      << second.error().message();
  EXPECT_NE(second.error().message().find("Address already in use"), std::string::npos);
}

}  // namespace
}  // namespace kvmscope::serve
