#include "serve/metrics_server.h"

#include <microhttpd.h>
#include <signal.h>
#include <sys/socket.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <string_view>
#include <thread>
#include <unordered_map>

#include "serve/gzip.h"

namespace kvmscope::serve {

namespace {

constexpr std::string_view kIndex =
    "<!doctype html><html><head><title>kvmscope</title></head><body>"
    "<h1>kvmscope</h1><p>VM exits of this KVM host, per VM, vCPU and reason: "
    "<a href=\"/metrics\">/metrics</a></p></body></html>\n";

std::int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

struct DaemonDeleter {
  void operator()(MHD_Daemon* d) const { MHD_stop_daemon(d); }
};

// Queues a response with a body libmicrohttpd copies (short, fixed texts).
MHD_Result answer(MHD_Connection* c, unsigned status, std::string_view body,
                  const char* content_type, const char* allow = nullptr) {
  MHD_Response* r = MHD_create_response_from_buffer(body.size(), const_cast<char*>(body.data()),
                                                    MHD_RESPMEM_MUST_COPY);
  if (!r) return MHD_NO;
  MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, content_type);
  if (allow) MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, allow);
  const MHD_Result q = MHD_queue_response(c, status, r);
  MHD_destroy_response(r);
  return q;
}

bool has_body(MHD_Connection* c) {
  const char* length =
      MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
  return (length && std::string_view(length) != "0") ||
         MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_TRANSFER_ENCODING);
}

// A page's body handed to libmicrohttpd without a copy: the response holds a reference.
struct Hold {
  std::shared_ptr<const Page> page;
};
void release_hold(void* cls) {
  delete static_cast<Hold*>(cls);
}

}  // namespace

struct MetricsServer::Impl {
  HttpLimits limits;
  std::unique_ptr<MHD_Daemon, DaemonDeleter> daemon;
  std::mutex mutex;  // guards `page`; held for a pointer copy only
  std::shared_ptr<const Page> page;
  std::atomic<std::int64_t> last_gzip_request{0};  // steady_clock, ns
  std::atomic<bool> stopping{false};
  std::thread loop;

  // Used on the loop thread only (libmicrohttpd calls back from there): per connection, since
  // when it owes us a complete request (its start, or its previous request's end).
  struct Conn {
    int fd = -1;
    std::int64_t owes_since = 0;
    bool cut = false;
  };
  std::unordered_map<MHD_Connection*, Conn> conns;

  ~Impl() {
    stopping = true;
    if (loop.joinable()) loop.join();
    daemon.reset();  // closes the connections and the listening socket
  }

  std::shared_ptr<const Page> current() {
    std::lock_guard lock(mutex);
    return page;
  }

  MHD_Result metrics(MHD_Connection* c) {
    auto p = current();
    if (!p) return answer(c, MHD_HTTP_SERVICE_UNAVAILABLE, "no readout yet\n", "text/plain");
    const char* accept =
        MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_ACCEPT_ENCODING);
    const bool want_gzip = accept && accepts_gzip(accept);
    if (want_gzip) last_gzip_request.store(now_ns(), std::memory_order_relaxed);
    const bool gz = want_gzip && !p->gzip.empty();
    const std::string& body = gz ? p->gzip : p->body;
    auto* hold = new Hold{p};
    MHD_Response* r = MHD_create_response_from_buffer_with_free_callback_cls(
        body.size(), const_cast<char*>(body.data()), release_hold, hold);
    if (!r) {
      delete hold;
      return MHD_NO;
    }
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, p->content_type.c_str());
    MHD_add_response_header(r, MHD_HTTP_HEADER_VARY, MHD_HTTP_HEADER_ACCEPT_ENCODING);
    if (gz) MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_ENCODING, "gzip");
    const MHD_Result q = MHD_queue_response(c, MHD_HTTP_OK, r);
    MHD_destroy_response(r);
    return q;
  }

  // GET and HEAD are answered on the second call, once libmicrohttpd has the whole request
  // (answering on the first would close the connection: no keep-alive for Prometheus). Anything
  // else is answered at once, from the headers alone: a body (POST...) is never read, and
  // libmicrohttpd closes such a connection after the answer.
  static MHD_Result on_request(void* cls, MHD_Connection* c, const char* url, const char* method,
                               const char*, const char*, size_t* upload_size, void** state) {
    auto* self = static_cast<Impl*>(cls);
    const std::string_view path = url;
    const std::string_view m = method;
    const bool readable = m == MHD_HTTP_METHOD_GET || m == MHD_HTTP_METHOD_HEAD;
    if (path != "/metrics" && path != "/")
      return answer(c, MHD_HTTP_NOT_FOUND, "not found: kvmscope serves /metrics\n", "text/plain");
    if (!readable)
      return answer(c, MHD_HTTP_METHOD_NOT_ALLOWED, "method not allowed: use GET or HEAD\n",
                    "text/plain", "GET, HEAD");
    if (*state == nullptr) {
      if (has_body(c))
        return answer(c, MHD_HTTP_BAD_REQUEST, "bad request: a GET has no body\n", "text/plain");
      static int seen;
      *state = &seen;
      return MHD_YES;
    }
    *upload_size = 0;  // none announced, so none arrives
    if (path == "/") return answer(c, MHD_HTTP_OK, kIndex, "text/html; charset=utf-8");
    return self->metrics(c);
  }

  static void on_connection(void* cls, MHD_Connection* c, void**,
                            MHD_ConnectionNotificationCode code) {
    auto* self = static_cast<Impl*>(cls);
    if (code == MHD_CONNECTION_NOTIFY_CLOSED) {
      self->conns.erase(c);
      return;
    }
    const MHD_ConnectionInfo* info = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
    self->conns[c] = Conn{info ? info->connect_fd : -1, now_ns(), false};
  }

  static void on_completed(void* cls, MHD_Connection* c, void**, MHD_RequestTerminationCode) {
    auto* self = static_cast<Impl*>(cls);
    if (auto it = self->conns.find(c); it != self->conns.end()) it->second.owes_since = now_ns();
  }

  // The idle timeout alone lets a client that trickles a byte now and then hold a connection
  // for ever (slowloris): a request must also arrive and be answered within the deadline. The
  // socket is shut down here, on the loop thread, so it cannot have been closed and reused
  // meanwhile; libmicrohttpd then sees the hang-up and closes the connection.
  void cut_overdue() {
    const std::int64_t deadline = std::int64_t{limits.request_deadline_s} * 1'000'000'000;
    const std::int64_t now = now_ns();
    for (auto& [c, conn] : conns) {
      if (conn.cut || conn.fd < 0 || now - conn.owes_since < deadline) continue;
      ::shutdown(conn.fd, SHUT_RDWR);
      conn.cut = true;
    }
  }

  void run() {
    while (!stopping.load()) {
      MHD_run_wait(daemon.get(), 200);  // bounded: `stopping` and deadlines are seen in time
      cut_overdue();
    }
  }
};

MetricsServer::MetricsServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
MetricsServer::~MetricsServer() = default;

util::Result<std::unique_ptr<MetricsServer>> MetricsServer::start(util::Fd listener,
                                                                  const HttpLimits& limits) {
  auto impl = std::make_unique<Impl>();
  impl->limits = limits;
  MHD_Daemon* d = MHD_start_daemon(
      MHD_USE_AUTO, 0, nullptr, nullptr, &Impl::on_request, impl.get(), MHD_OPTION_LISTEN_SOCKET,
      listener.get(), MHD_OPTION_CONNECTION_TIMEOUT, limits.idle_timeout_s,
      MHD_OPTION_CONNECTION_LIMIT, limits.max_connections, MHD_OPTION_CONNECTION_MEMORY_LIMIT,
      limits.request_bytes, MHD_OPTION_NOTIFY_CONNECTION, &Impl::on_connection, impl.get(),
      MHD_OPTION_NOTIFY_COMPLETED, &Impl::on_completed, impl.get(), MHD_OPTION_END);
  if (!d) return util::os_error("starting the HTTP server (libmicrohttpd)");
  listener.release();  // MHD_stop_daemon closes it
  impl->daemon.reset(d);

  // The loop thread inherits this mask: SIGINT/SIGTERM/SIGHUP stay with the caller, whose sleep
  // they interrupt. SIGPIPE never kills us: a client that hangs up is an ordinary event.
  sigset_t mask, old;
  sigemptyset(&mask);
  for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGPIPE}) sigaddset(&mask, sig);
  pthread_sigmask(SIG_BLOCK, &mask, &old);
  impl->loop = std::thread([self = impl.get()] { self->run(); });
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
  return std::unique_ptr<MetricsServer>(new MetricsServer(std::move(impl)));
}

void MetricsServer::publish(std::shared_ptr<const Page> page) {
  std::lock_guard lock(impl_->mutex);
  impl_->page = std::move(page);
}

bool MetricsServer::gzip_wanted(std::int64_t window_ns) const {
  const std::int64_t last = impl_->last_gzip_request.load(std::memory_order_relaxed);
  return last != 0 && now_ns() - last <= window_ns;
}

}  // namespace kvmscope::serve
