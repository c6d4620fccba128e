// kvmscope serve against real KVM and a real Prometheus: Prometheus (Debian's package) scrapes
// it every second while the built-in guest runs, and its query API must show the guest's exact
// numbers; bad and slow HTTP clients get their errors and time-outs while scrapes go on; an
// ended VM's series go after the grace period. Skipped with the reason where the machine cannot
// run live tests or Prometheus is not installed.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <optional>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "live_support.h"
#include "support/mini_json.h"

namespace {

using kvmscope::live::Background;
using kvmscope::live::kvmscope_bin;
using kvmscope::live::run_command;
using kvmscope::live::slurp;
using kvmscope::live::temp_path;
using kvmscope::testing::Json;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

double unix_now() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

std::string which(const std::string& name) {
  const char* path = std::getenv("PATH");
  std::stringstream dirs(path ? path : "/usr/bin:/bin");
  for (std::string dir; std::getline(dirs, dir, ':');)
    if (::access((dir + "/" + name).c_str(), X_OK) == 0) return dir + "/" + name;
  return "";
}

// A free loopback port: bound to port 0, read, released (Prometheus cannot be told port 0).
int free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  return ntohs(a.sin_port);
}

// A raw loopback connection, for requests curl would not send and clients that stall; `from`:
// the local address it connects from (127.0.0.2... are loopback too: other clients).
class Conn {
 public:
  explicit Conn(int port, const char* from = nullptr)
      : fd_(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) {
    if (from) {
      sockaddr_in local{};
      local.sin_family = AF_INET;
      ::inet_pton(AF_INET, from, &local.sin_addr);
      if (::bind(fd_, reinterpret_cast<sockaddr*>(&local), sizeof local) != 0) return;
    }
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<std::uint16_t>(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ok_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  }
  ~Conn() { ::close(fd_); }
  bool send(const std::string& s) {
    return ok_ && ::send(fd_, s.data(), s.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(s.size());
  }
  // Everything until the peer closes or timeout_ms passes.
  std::string read_all(int timeout_ms) {
    std::string out;
    const auto end = Clock::now() + milliseconds(timeout_ms);
    while (Clock::now() < end) {
      pollfd p{fd_, POLLIN, 0};
      const auto left = std::chrono::duration_cast<milliseconds>(end - Clock::now()).count();
      if (::poll(&p, 1, static_cast<int>(std::max<long long>(left, 1))) <= 0) break;
      char buf[65536];
      ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
      if (n <= 0) {
        closed_ = true;
        break;
      }
      out.append(buf, static_cast<std::size_t>(n));
    }
    return out;
  }
  bool closed() const { return closed_; }

 private:
  int fd_;
  bool ok_ = false;
  bool closed_ = false;
};

struct Response {
  int status = 0;
  std::string body;
};

Response http(int port, const std::string& head, int timeout_ms = 5000) {
  Conn c(port);
  c.send(head);
  const std::string raw = c.read_all(timeout_ms);
  Response r;
  if (raw.size() > 12 && raw.rfind("HTTP/1.", 0) == 0) r.status = std::stoi(raw.substr(9, 3));
  const auto split = raw.find("\r\n\r\n");
  if (split != std::string::npos) r.body = raw.substr(split + 4);
  return r;
}

Response get(int port, const std::string& target, const std::string& extra = "") {
  return http(port, "GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n" +
                        extra + "\r\n");
}

std::string url_encode(const std::string& s) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

// `kvmscope serve` on a free port; the port is read from its first line.
class Serve {
 public:
  explicit Serve(std::vector<std::string> extra) : log_(temp_path("serve.log")) {
    std::vector<std::string> argv = {kvmscope_bin(), "serve", "--listen", "127.0.0.1:0"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    proc_ = std::make_unique<Background>(argv, log_, /*with_stderr=*/true);
    const std::regex line(R"(serving http://127\.0\.0\.1:(\d+)/metrics)");
    const auto end = Clock::now() + std::chrono::seconds(20);
    std::smatch m;
    while (Clock::now() < end) {
      const std::string text = proc_->output();
      if (std::regex_search(text, m, line)) {
        port_ = std::stoi(m[1]);
        return;
      }
      std::this_thread::sleep_for(milliseconds(50));
    }
  }
  ~Serve() { std::remove(log_.c_str()); }
  int port() const { return port_; }
  std::string log() const { return proc_->output(); }
  int stop() { return proc_->stop(SIGTERM); }
  std::string metrics() { return get(port_, "/metrics").body; }

 private:
  std::string log_;
  std::unique_ptr<Background> proc_;
  int port_ = 0;
};

// The built-in guest, run to its end; returns its pid (from its report).
pid_t run_guest(const std::vector<std::string>& plan) {
  std::vector<std::string> argv = {kvmscope_bin(), "guest"};
  argv.insert(argv.end(), plan.begin(), plan.end());
  auto r = run_command(argv, 60);
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  std::smatch m;
  const std::string all = r.out + r.err;
  if (!std::regex_search(all, m, std::regex(R"(kvmscope guest: pid (\d+))"))) {
    ADD_FAILURE() << "no pid in the guest's report:\n" << all;
    return 0;
  }
  return std::stoi(m[1]);
}

// A Prometheus server on loopback with its own config and storage, scraping `target` every 1 s.
class Prometheus {
 public:
  Prometheus(const std::string& binary, int target_port) : dir_(temp_path("prometheus")) {
    ::mkdir(dir_.c_str(), 0755);
    port_ = free_port();
    std::ofstream(dir_ + "/prometheus.yml")
        << "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n"
        << "scrape_configs:\n  - job_name: kvmscope\n    static_configs:\n"
        << "      - targets: ['127.0.0.1:" << target_port << "']\n";
    proc_ = std::make_unique<Background>(
        std::vector<std::string>{binary, "--config.file=" + dir_ + "/prometheus.yml",
                                 "--storage.tsdb.path=" + dir_ + "/data",
                                 "--web.listen-address=127.0.0.1:" + std::to_string(port_)},
        dir_ + "/log.txt", /*with_stderr=*/true);
    const auto end = Clock::now() + std::chrono::seconds(30);
    while (Clock::now() < end && get(port_, "/-/ready").status != 200)
      std::this_thread::sleep_for(milliseconds(100));
  }
  ~Prometheus() {
    proc_->stop(SIGTERM);
    std::system(("rm -rf '" + dir_ + "'").c_str());
  }
  bool ready() { return get(port_, "/-/ready").status == 200; }
  int port() const { return port_; }
  std::string log() const { return proc_->output(); }

  // The query API's result vector: (labels as JSON, sample time, value text) per series.
  struct Sample {
    Json metric;
    double time = 0;
    std::string value;
  };
  std::vector<Sample> query(const std::string& promql) {
    const Response r = get(port_, "/api/v1/query?query=" + url_encode(promql));
    std::vector<Sample> out;
    if (r.status != 200) {
      ADD_FAILURE() << "query " << promql << ": HTTP " << r.status << " " << r.body;
      return out;
    }
    Json doc = Json::parse(r.body);
    for (const auto& s : doc["data"]["result"].items)
      out.push_back({s["metric"], s["value"].items[0].number(), s["value"].items[1].str()});
    return out;
  }

 private:
  std::string dir_;
  int port_ = 0;
  std::unique_ptr<Background> proc_;
};

// Waits until `query` returns series whose samples were all scraped at or after `after`
// (unix time): then they show a readout made after whatever happened before `after`.
std::vector<Prometheus::Sample> query_after(Prometheus& prom, const std::string& q, double after,
                                            int timeout_s = 30) {
  const auto end = Clock::now() + std::chrono::seconds(timeout_s);
  std::vector<Prometheus::Sample> got;
  while (Clock::now() < end) {
    got = prom.query(q);
    bool fresh = !got.empty();
    for (const auto& s : got) fresh = fresh && s.time >= after;
    if (fresh) return got;
    std::this_thread::sleep_for(milliseconds(250));
  }
  ADD_FAILURE() << "no sample of " << q << " scraped after " << after;
  return got;
}

void collect_exprs(const Json& v, std::vector<std::string>& out) {
  if (v.kind == Json::Kind::object) {
    for (const auto& [key, field] : v.fields) {
      if (key == "expr" && field.kind == Json::Kind::string) out.push_back(field.str());
      collect_exprs(field, out);
    }
  } else if (v.kind == Json::Kind::array) {
    for (const auto& item : v.items) collect_exprs(item, out);
  }
}

#define REQUIRE_PROMETHEUS(var)                \
  const std::string var = which("prometheus"); \
  if (var.empty()) GTEST_SKIP() << "prometheus is not installed (Debian package prometheus)"

TEST(LiveServe, prometheus_scrapes_the_exact_exit_counts_of_the_built_in_guest) {
  KS_REQUIRE_LIVE();
  REQUIRE_PROMETHEUS(binary);
  Serve serve({"--interval", "500ms", "--http-timeout", "5"});
  ASSERT_NE(serve.port(), 0) << serve.log();
  Prometheus prom(binary, serve.port());
  ASSERT_TRUE(prom.ready()) << prom.log();

  const pid_t pid = run_guest({"--vcpus", "2", "--io", "5000", "--hlt", "300"});
  ASSERT_NE(pid, 0);
  // A scrape this late shows a readout (every 0.5 s) made after the guest had ended.
  const double after = unix_now() + 2.0;
  const std::string vm = "vm_pid=\"" + std::to_string(pid) + "\"";

  auto io = query_after(
      prom, "kvmscope_exits_total{" + vm + ",level=\"vmm\",reason=\"KVM_EXIT_IO\"}", after);
  ASSERT_EQ(io.size(), 2u) << "one series per vCPU";
  for (const auto& s : io) {
    EXPECT_EQ(s.value, "5000") << "vcpu " << s.metric["vcpu"].str();
    EXPECT_EQ(s.metric["code"].str(), "2");
    EXPECT_EQ(s.metric["isa"].str(), "none");
  }
  auto hlt = query_after(prom, "kvmscope_exits_total{" + vm + ",reason=\"KVM_EXIT_HLT\"}", after);
  ASSERT_EQ(hlt.size(), 2u);
  for (const auto& s : hlt) EXPECT_EQ(s.value, "300") << "vcpu " << s.metric["vcpu"].str();
  // Nothing else of this VM reached the VMM.
  auto total = query_after(prom, "sum(kvmscope_exits_total{" + vm + "})", after);
  ASSERT_EQ(total.size(), 1u);
  EXPECT_EQ(total[0].value, "10600");

  auto port = query_after(prom, "kvmscope_pio_total{" + vm + "}", after);
  ASSERT_EQ(port.size(), 1u);
  EXPECT_EQ(port[0].metric["port"].str(), "0x10");
  EXPECT_EQ(port[0].metric["direction"].str(), "out");
  EXPECT_EQ(port[0].value, "10000");

  // Every OUT was followed by the VMM re-entering KVM_RUN: all 10,000 timed, in the histogram.
  auto count = query_after(
      prom, "kvmscope_exit_handling_seconds_count{" + vm + ",reason=\"KVM_EXIT_IO\"}", after);
  ASSERT_EQ(count.size(), 1u);
  EXPECT_EQ(count[0].value, "10000");
  auto inf = query_after(
      prom, "kvmscope_exit_handling_seconds_bucket{" + vm + ",reason=\"KVM_EXIT_IO\",le=\"+Inf\"}",
      after);
  ASSERT_EQ(inf.size(), 1u);
  EXPECT_EQ(inf[0].value, "10000");
  auto median = query_after(prom,
                            "histogram_quantile(0.5, kvmscope_exit_handling_seconds_bucket{" + vm +
                                ",reason=\"KVM_EXIT_IO\"})",
                            after);
  ASSERT_EQ(median.size(), 1u);
  EXPECT_GT(std::stod(median[0].value), 0.0);
  EXPECT_LT(std::stod(median[0].value), 1.0);

  auto lost = query_after(prom, "kvmscope_collector_exits_not_stored_total", after);
  ASSERT_EQ(lost.size(), 1u);
  EXPECT_EQ(lost[0].value, "0");
  auto info = query_after(prom, "kvmscope_build_info", after);
  ASSERT_EQ(info.size(), 1u);
  EXPECT_FALSE(info[0].metric["version"].str().empty());

  // Twenty clients that stall mid-request and one that trickles headers: Prometheus' scrapes
  // of the next 4 s all succeed, and quickly.
  std::vector<std::unique_ptr<Conn>> slow;
  for (int i = 0; i < 20; ++i) {
    slow.push_back(std::make_unique<Conn>(serve.port()));
    slow.back()->send("GET /metrics HTTP/1.1\r\nHost: x\r\nX-Slow: ");
  }
  Conn trickle(serve.port());
  trickle.send("GET /metrics HTTP/1.1\r\n");
  const double slow_from = unix_now();
  for (int i = 0; i < 5; ++i) {
    trickle.send("X-A: b\r\n");
    std::this_thread::sleep_for(milliseconds(1000));
  }
  auto up = query_after(prom, "min_over_time(up{job=\"kvmscope\"}[4s])", slow_from + 4);
  ASSERT_EQ(up.size(), 1u);
  EXPECT_EQ(up[0].value, "1");
  auto scrapes = query_after(prom, "count_over_time(up{job=\"kvmscope\"}[4s])", slow_from + 4);
  ASSERT_EQ(scrapes.size(), 1u);
  EXPECT_GE(std::stoi(scrapes[0].value), 3);
  auto slowest = query_after(prom, "max_over_time(scrape_duration_seconds{job=\"kvmscope\"}[4s])",
                             slow_from + 4);
  ASSERT_EQ(slowest.size(), 1u);
  EXPECT_LT(std::stod(slowest[0].value), 0.5);

  // Every query of the shipped Grafana dashboard evaluates in this Prometheus.
  const std::string root = std::string(__FILE__).substr(0, std::string(__FILE__).rfind("/tests/"));
  const Json dash = Json::parse(slurp(root + "/contrib/grafana/kvmscope-dashboard.json"));
  std::vector<std::string> exprs;
  collect_exprs(dash, exprs);
  ASSERT_GE(exprs.size(), 10u);
  for (std::string e : exprs) {
    e = std::regex_replace(e, std::regex(R"(\$__rate_interval)"), "1m");
    e = std::regex_replace(e, std::regex(R"(\$(instance|vm|level|reason))"), ".*");
    const Response r = get(prom.port(), "/api/v1/query?query=" + url_encode(e));
    EXPECT_EQ(r.status, 200) << e << "\n" << r.body;
  }

  EXPECT_EQ(serve.stop(), 0) << serve.log();
  EXPECT_EQ(serve.log().find("warning"), std::string::npos) << serve.log();
}

TEST(LiveServe, answers_bad_requests_with_http_errors_and_keeps_serving) {
  KS_REQUIRE_LIVE();
  Serve serve({"--interval", "500ms", "--http-timeout", "1"});
  ASSERT_NE(serve.port(), 0) << serve.log();
  const int port = serve.port();

  EXPECT_EQ(get(port, "/nope").status, 404);
  EXPECT_EQ(get(port, "/metrics/extra").status, 404);
  EXPECT_EQ(http(port, "POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc").status,
            405);
  EXPECT_EQ(http(port, "DELETE / HTTP/1.1\r\nHost: x\r\n\r\n").status, 405);
  EXPECT_EQ(get(port, "/metrics", "Content-Length: 5\r\n").status, 400);
  EXPECT_EQ(get(port, "/metrics", "X-Huge: " + std::string(64 * 1024, 'h') + "\r\n").status, 431);
  EXPECT_EQ(get(port, "/metrics?" + std::string(64 * 1024, 'q')).status, 414);
  const Response head =
      http(port, "HEAD /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(head.status, 200);
  EXPECT_EQ(head.body, "");

  // The method is judged before the path; what is not HTTP at all gets 400 and a close.
  for (const char* line : {"OPTIONS * HTTP/1.1", "CONNECT 127.0.0.1:443 HTTP/1.1"}) {
    const Response r = http(port, std::string(line) + "\r\nHost: x\r\n\r\n");
    EXPECT_EQ(r.status, 405) << line;
  }
  {
    Conn tls(port);
    tls.send(std::string("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 11));
    EXPECT_EQ(tls.read_all(3000).rfind("HTTP/1.1 400 Bad Request\r\n", 0), 0u);
    EXPECT_TRUE(tls.closed());
  }

  // A client that sends half a request and goes quiet is closed after --http-timeout (1 s); one
  // that trickles is cut at 3x that. Scrapes are answered all along.
  Conn idle(port), trickle(port);
  idle.send("GET /metrics HTTP/1.1\r\nHost: x\r\n");
  trickle.send("GET /metrics HTTP/1.1\r\nHost: x\r\n");
  const auto start = Clock::now();
  bool trickle_cut = false;
  while (!trickle_cut && Clock::now() - start < std::chrono::seconds(10)) {
    trickle_cut = !trickle.send("X-A: b\r\n");
    const Response r = get(port, "/metrics");
    EXPECT_EQ(r.status, 200);
    EXPECT_NE(r.body.find("kvmscope_build_info{version="), std::string::npos);
    trickle.read_all(200);
    trickle_cut = trickle_cut || trickle.closed();
  }
  const auto trickled_for = Clock::now() - start;
  EXPECT_TRUE(trickle_cut);
  EXPECT_GE(trickled_for, std::chrono::milliseconds(2000));
  EXPECT_EQ(idle.read_all(100), "");
  EXPECT_TRUE(idle.closed());
  EXPECT_EQ(serve.stop(), 0) << serve.log();
}

TEST(LiveServe, answers_a_loopback_scrape_while_150_stalled_clients_hold_connections) {
  KS_REQUIRE_LIVE();
  Serve serve({"--interval", "500ms"});  // the defaults: 128 connections, 16 per client
  ASSERT_NE(serve.port(), 0) << serve.log();
  // 150 clients from ten loopback addresses, each with half a request. Before, the server
  // refused every connection past 128, scrapes included, until the stalled ones were cut (30 s).
  std::vector<std::unique_ptr<Conn>> slow;
  for (int i = 0; i < 150; ++i) {
    const std::string from = "127.0.0." + std::to_string(2 + i % 10);
    slow.push_back(std::make_unique<Conn>(serve.port(), from.c_str()));
    ASSERT_TRUE(slow.back()->send("GET /metrics HTTP/1.1\r\nHost: x\r\nX-Slow: ")) << i;
  }
  for (int scrape = 0; scrape < 3; ++scrape) {
    const auto t0 = Clock::now();
    const Response r = get(serve.port(), "/metrics");
    EXPECT_EQ(r.status, 200) << scrape;
    EXPECT_NE(r.body.find("kvmscope_build_info{version="), std::string::npos);
    EXPECT_LT(Clock::now() - t0, milliseconds(2000)) << scrape;
  }
  // The places were made by the longest-stalled clients: the first one is gone, the last not.
  EXPECT_EQ(slow.front()->read_all(100), "");
  EXPECT_TRUE(slow.front()->closed());
  slow.back()->read_all(100);
  EXPECT_FALSE(slow.back()->closed());
  EXPECT_EQ(serve.stop(), 0) << serve.log();
}

TEST(LiveServe, drops_an_ended_vms_series_after_the_grace_period) {
  KS_REQUIRE_LIVE();
  Serve serve({"--interval", "200ms", "--grace", "2s"});
  ASSERT_NE(serve.port(), 0) << serve.log();
  const pid_t pid = run_guest({"--io", "300", "--hlt", "5"});
  ASSERT_NE(pid, 0);
  const std::string series = "vm_pid=\"" + std::to_string(pid) +
                             "\",vcpu=\"0\",level=\"vmm\","
                             "isa=\"none\",reason=\"KVM_EXIT_IO\",code=\"2\"} 300\n";
  const auto ended = Clock::now();
  bool seen = false, gone = false;
  while (!gone && Clock::now() - ended < std::chrono::seconds(15)) {
    const std::string page = serve.metrics();
    const bool has = page.find(series) != std::string::npos;
    if (has) seen = true;
    if (seen && !has) gone = true;
    if (!gone) std::this_thread::sleep_for(milliseconds(100));
  }
  EXPECT_TRUE(seen) << "the guest's final count was exported";
  EXPECT_TRUE(gone) << "and dropped after the grace period";
  EXPECT_GE(Clock::now() - ended, std::chrono::milliseconds(1800));
  const std::string page = serve.metrics();
  EXPECT_EQ(page.find("vm_pid=\"" + std::to_string(pid) + "\""), std::string::npos);
  EXPECT_EQ(serve.stop(), 0) << serve.log();
  EXPECT_EQ(serve.log().find("warning"), std::string::npos) << serve.log();
}

// serve --counts-only: the guest's exact counts are exported, its handling times are not (no
// histogram series at all, rather than zeros), and the gauge says nothing is timed.
TEST(LiveServe, counts_only_exports_exact_counts_and_no_handling_times) {
  KS_REQUIRE_LIVE();
  Serve serve({"--interval", "200ms", "--counts-only"});
  ASSERT_NE(serve.port(), 0) << serve.log();
  const pid_t pid = run_guest({"--io", "300", "--hlt", "5"});
  ASSERT_NE(pid, 0);
  const std::string vm = "kvmscope_exits_total{vm=\"kvmscope\",vm_pid=\"" + std::to_string(pid) +
                         "\",vcpu=\"0\",level=\"vmm\",isa=\"none\",";
  std::string page;
  const auto end = Clock::now() + std::chrono::seconds(15);
  while (Clock::now() < end &&
         page.find(vm + "reason=\"KVM_EXIT_HLT\",code=\"5\"} 5\n") == std::string::npos) {
    std::this_thread::sleep_for(milliseconds(100));
    page = serve.metrics();
  }
  EXPECT_NE(page.find(vm + "reason=\"KVM_EXIT_IO\",code=\"2\"} 300\n"), std::string::npos) << page;
  EXPECT_NE(page.find(vm + "reason=\"KVM_EXIT_HLT\",code=\"5\"} 5\n"), std::string::npos) << page;
  EXPECT_NE(page.find("\nkvmscope_exit_handling_timed 0\n"), std::string::npos) << page;
  EXPECT_EQ(page.find("\nkvmscope_exit_handling_seconds"), std::string::npos) << page;
  EXPECT_EQ(page.find("# TYPE kvmscope_exit_handling_seconds"), std::string::npos) << page;
  EXPECT_NE(page.find("kvmscope_pio_total{vm=\"kvmscope\",vm_pid=\"" + std::to_string(pid) +
                      "\",port=\"0x10\",direction=\"out\",size=\"1\"} 300\n"),
            std::string::npos)
      << page;
  EXPECT_EQ(serve.stop(), 0) << serve.log();
}

TEST(LiveServe, names_a_vm_that_ended_between_two_readouts_by_its_process_name) {
  KS_REQUIRE_LIVE();
  // The first readout is made before "serving" is printed; the guest starts after it and ends
  // long before the next one (5 s later). Before, its name was looked up in /proc only then:
  // vm="pid 19513 (exited)".
  Serve serve({"--interval", "5s"});
  ASSERT_NE(serve.port(), 0) << serve.log();
  const pid_t pid = run_guest({"--io", "300"});
  ASSERT_NE(pid, 0);
  const std::string series = "kvmscope_exits_total{vm=\"kvmscope\",vm_pid=\"" +
                             std::to_string(pid) +
                             "\",vcpu=\"0\",level=\"vmm\",isa=\"none\",reason=\"KVM_EXIT_IO\","
                             "code=\"2\"} 300\n";
  std::string page;
  const auto end = Clock::now() + std::chrono::seconds(15);
  while (Clock::now() < end && page.find("vm_pid=\"" + std::to_string(pid)) == std::string::npos) {
    std::this_thread::sleep_for(milliseconds(200));
    page = serve.metrics();
  }
  EXPECT_NE(page.find(series), std::string::npos) << page;
  EXPECT_EQ(page.find("pid " + std::to_string(pid) + " (exited)"), std::string::npos) << page;
  EXPECT_EQ(serve.stop(), 0) << serve.log();
}

TEST(LiveServe, says_in_one_line_when_the_port_is_taken) {
  KS_REQUIRE_LIVE();
  Serve first({});
  ASSERT_NE(first.port(), 0) << first.log();
  const std::string where = "127.0.0.1:" + std::to_string(first.port());
  auto r = run_command({kvmscope_bin(), "serve", "--listen", where}, 30);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "kvmscope serve: binding " + where +
                       ": Address already in use (another process listens there; choose "
                       "--listen)\n");
  EXPECT_EQ(first.stop(), 0);
}

TEST(LiveServe, rejects_bad_options_with_usage_errors) {
  auto r = run_command({kvmscope_bin(), "serve", "--listen", "localhost"}, 30);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("kvmscope serve: --listen 'localhost': no port"), std::string::npos)
      << r.err;
  r = run_command({kvmscope_bin(), "serve", "--max-vms", "0"}, 30);
  EXPECT_EQ(r.exit_code, 2);
  r = run_command({kvmscope_bin(), "serve", "--", "true"}, 30);
  EXPECT_EQ(r.exit_code, 2);
  r = run_command({kvmscope_bin(), "serve", "--max-connections", "0"}, 30);
  EXPECT_EQ(r.exit_code, 2);
  r = run_command({kvmscope_bin(), "serve", "--scraper", "10.0.0.9,prometheus"}, 30);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err,
            "kvmscope serve: --scraper: 'prometheus' is not an IP address (expected numeric "
            "addresses, e.g. 10.0.0.5,[fd00::5])\n");
  r = run_command({kvmscope_bin(), "serve", "--help"}, 30);
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.out.find("--grace"), std::string::npos);
  EXPECT_NE(r.out.find("--max-connections-per-client N"), std::string::npos);
  EXPECT_NE(r.out.find("--scraper ADDR[,ADDR]"), std::string::npos);
}

}  // namespace
