// `kvmscope serve`'s HTTP side, on libmicrohttpd, event-driven on one thread of its own: a slow
// or stalled client costs a socket, never a thread. /metrics is served from the page the readout
// published last: publishing is a pointer swap, so a scrape never waits for the BPF maps and the
// readout never waits for a client.
//
//   GET|HEAD /metrics   200, the page (gzip when the client accepts it and a gzip form exists)
//   GET|HEAD /          200, a short HTML page pointing to /metrics
//   any other method    405 with Allow: GET, HEAD (OPTIONS *, CONNECT host:port too)
//   a GET with a body   400
//   any other path      404
//   not HTTP at all     400 and a close (first bytes that are no method token and a space)
//   request line / headers beyond HttpLimits::request_bytes: 414 / 431 (libmicrohttpd's answers)
//   a connection idle for idle_timeout_s, or owing a complete request (and its answer) for
//   request_deadline_s: closed (slowloris)
//
// The server accepts connections itself and keeps at most max_connections, at most
// max_connections_per_client of them per client address; beyond, the oldest idle connection
// makes room (serve/connection_table.h says which). Loopback clients (trust_loopback) and the
// `scrapers` are trusted: a newcomer from elsewhere never sheds their connections.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "serve/client_address.h"
#include "util/fd.h"
#include "util/result.h"

namespace kvmscope::serve {

struct HttpLimits {
  unsigned idle_timeout_s = 10;
  unsigned request_deadline_s = 30;
  std::size_t max_connections = 128;
  std::size_t max_connections_per_client = 16;
  std::size_t request_bytes = 16 * 1024;
  bool trust_loopback = true;
  std::vector<ClientAddress> scrapers = {};  // trusted too
};

struct Page {
  std::string content_type;
  std::string body;
  std::string gzip;  // empty: not compressed (yet)
};

class MetricsServer {
 public:
  // Serves on `listener` (a listening socket; the server owns it from now on) from its own
  // thread, which ignores the stop signals (they stay with the caller's thread).
  static util::Result<std::unique_ptr<MetricsServer>> start(util::Fd listener,
                                                            const HttpLimits& limits);
  ~MetricsServer();  // stops serving and closes every connection
  MetricsServer(const MetricsServer&) = delete;
  MetricsServer& operator=(const MetricsServer&) = delete;

  void publish(std::shared_ptr<const Page> page);

  // Whether a client asked for gzip within the last window_ns: then pages are worth compressing
  // (Prometheus always asks; a curl user seldom does).
  bool gzip_wanted(std::int64_t window_ns) const;

 private:
  struct Impl;
  explicit MetricsServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace kvmscope::serve
