#include "serve/metrics_server.h"

#include <microhttpd.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <vector>

#include "serve/connection_table.h"
#include "serve/gzip.h"
#include "serve/request_start.h"

namespace kvmscope::serve {

namespace {

constexpr std::string_view kIndex =
    "<!doctype html><html><head><title>kvmscope</title></head><body>"
    "<h1>kvmscope</h1><p>VM exits of this KVM host, per VM, vCPU and reason: "
    "<a href=\"/metrics\">/metrics</a></p></body></html>\n";

// The answer to bytes that are no HTTP request, written by us: libmicrohttpd never sees them.
const std::string& not_http_answer() {
  static const std::string text = [] {
    const std::string body = "bad request: this is an HTTP server\n";
    return "HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain\r\nContent-Length: " +
           std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body;
  }();
  return text;
}

constexpr std::size_t kAcceptBatch = 64;           // accepts per loop turn, then the others
constexpr std::int64_t kLookAgainNs = 50'000'000;  // a method's prefix: look again after

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

int socket_of(MHD_Connection* c) {
  const MHD_ConnectionInfo* info = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
  return info ? info->connect_fd : -1;
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
  using Id = ConnectionTable::Id;

  HttpLimits limits;
  util::Fd listener;
  std::unique_ptr<MHD_Daemon, DaemonDeleter> daemon;
  int mhd_epoll = -1;
  std::mutex mutex;  // guards `page`; held for a pointer copy only
  std::shared_ptr<const Page> page;
  std::atomic<std::int64_t> last_gzip_request{0};  // steady_clock, ns
  std::atomic<bool> stopping{false};
  std::thread loop;

  // Everything below is used on the loop thread only (libmicrohttpd calls back from there).
  ConnectionTable table;
  Id next_id = 1;
  std::int64_t accept_paused_until = 0;  // out of file descriptors: retry then

  // Accepted, its first bytes not seen yet: ours until they look like HTTP.
  struct Fresh {
    util::Fd fd;
    sockaddr_storage addr{};
    socklen_t len = 0;
    std::int64_t since = 0;
    std::int64_t look_again = 0;  // sent a method's prefix only: look at it then, not on poll
  };
  std::map<Id, Fresh> fresh;

  // Handed to libmicrohttpd, by socket: libmicrohttpd closes a socket only after telling us
  // (NOTIFY_CLOSED on this thread), so a number cannot be reused meanwhile. Per connection, since
  // when it owes us a complete request (its start, or its previous request's end).
  struct Conn {
    Id id = 0;
    std::int64_t owes_since = 0;
    bool cut = false;  // shut down by us, libmicrohttpd has not closed it yet
  };
  std::unordered_map<int, Conn> handed;
  std::unordered_map<Id, int> handed_fd;

  explicit Impl(const HttpLimits& l)
      : limits(l), table(l.max_connections, l.max_connections_per_client) {}

  ~Impl() {
    stopping = true;
    if (loop.joinable()) loop.join();
    daemon.reset();  // closes its connections; `fresh` and the listener close with us
  }

  std::size_t mhd_limit() const { return 2 * limits.max_connections + kAcceptBatch; }

  bool trusted(const ClientAddress& client) const {
    if (limits.trust_loopback && client.loopback()) return true;
    for (const auto& s : limits.scrapers)
      if (s == client) return true;
    return false;
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

  Conn* conn_of(MHD_Connection* c) {
    auto it = handed.find(socket_of(c));
    return it == handed.end() ? nullptr : &it->second;
  }

  // GET and HEAD are answered on the second call, once libmicrohttpd has the whole request
  // (answering on the first would close the connection: no keep-alive for Prometheus). Anything
  // else is answered at once, from the headers alone: a body (POST...) is never read, and
  // libmicrohttpd closes such a connection after the answer. The method is judged before the
  // path: `OPTIONS *` and `CONNECT host:443` have no path of ours, yet are methods we refuse.
  static MHD_Result on_request(void* cls, MHD_Connection* c, const char* url, const char* method,
                               const char*, const char*, size_t* upload_size, void** state) {
    auto* self = static_cast<Impl*>(cls);
    if (Conn* conn = self->conn_of(c)) self->table.busy(conn->id);  // a whole request is here
    const std::string_view path = url;
    const std::string_view m = method;
    const bool readable = m == MHD_HTTP_METHOD_GET || m == MHD_HTTP_METHOD_HEAD;
    if (!readable)
      return answer(c, MHD_HTTP_METHOD_NOT_ALLOWED, "method not allowed: use GET or HEAD\n",
                    "text/plain", "GET, HEAD");
    if (path != "/metrics" && path != "/")
      return answer(c, MHD_HTTP_NOT_FOUND, "not found: kvmscope serves /metrics\n", "text/plain");
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
    if (code != MHD_CONNECTION_NOTIFY_CLOSED) return;
    auto* self = static_cast<Impl*>(cls);
    auto it = self->handed.find(socket_of(c));
    if (it == self->handed.end()) return;
    if (!it->second.cut) self->table.remove(it->second.id);
    self->handed_fd.erase(it->second.id);
    self->handed.erase(it);
  }

  static void on_completed(void* cls, MHD_Connection* c, void**, MHD_RequestTerminationCode) {
    auto* self = static_cast<Impl*>(cls);
    if (Conn* conn = self->conn_of(c)) {
      conn->owes_since = now_ns();
      self->table.idle(conn->id, conn->owes_since);
    }
  }

  // Closes a connection the table gave up. One of libmicrohttpd's is shut down here, on the
  // loop thread, so its socket cannot have been closed and reused meanwhile; libmicrohttpd
  // then sees the hang-up and closes it.
  void shed(Id id) {
    if (fresh.erase(id)) return;
    auto fd = handed_fd.find(id);
    if (fd == handed_fd.end()) return;
    ::shutdown(fd->second, SHUT_RDWR);
    handed[fd->second].cut = true;
  }

  void accept_new() {
    for (std::size_t n = 0; n < kAcceptBatch; ++n) {
      // Connections that were cut count until libmicrohttpd has closed them (next MHD_run).
      if (handed.size() + fresh.size() >= mhd_limit()) return;
      Fresh f;
      f.len = sizeof f.addr;
      f.fd = util::Fd(::accept4(listener.get(), reinterpret_cast<sockaddr*>(&f.addr), &f.len,
                                SOCK_NONBLOCK | SOCK_CLOEXEC));
      if (!f.fd.valid()) {
        // Out of descriptors (EMFILE, ENFILE, ENOBUFS): the listener stays readable; pause
        // instead of spinning on it.
        if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR && errno != ECONNABORTED)
          accept_paused_until = now_ns() + 100'000'000;
        return;
      }
      const ClientAddress client =
          ClientAddress::from(reinterpret_cast<const sockaddr*>(&f.addr), f.len);
      f.since = now_ns();
      const Id id = next_id++;
      const auto decision = table.admit(id, client, trusted(client), f.since);
      for (Id victim : decision.shed) shed(victim);
      if (!decision.admitted) continue;  // closed by f's destructor
      fresh.emplace(id, std::move(f));
      look(id);  // a request sent with the handshake is often here already
    }
  }

  void drop_fresh(Id id) {
    table.remove(id);
    fresh.erase(id);
  }

  // First bytes of a fresh connection: HTTP goes to libmicrohttpd, anything else gets 400.
  void look(Id id) {
    auto it = fresh.find(id);
    if (it == fresh.end()) return;
    Fresh& f = it->second;
    char buf[kRequestStartPeekBytes];
    const ssize_t n = ::recv(f.fd.get(), buf, sizeof buf, MSG_PEEK);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) return;
    if (n <= 0) return drop_fresh(id);  // hung up, or reset
    switch (classify_request_start(std::string_view(buf, static_cast<std::size_t>(n)))) {
      case RequestStart::need_more:
        // Polling would report the same bytes again at once; look again a little later.
        f.look_again = now_ns() + kLookAgainNs;
        return;
      case RequestStart::not_http:
        refuse_not_http(f.fd.get());
        return drop_fresh(id);
      case RequestStart::http:
        break;
    }
    const int fd = f.fd.release();
    handed[fd] = Conn{id, f.since, false};
    handed_fd[id] = fd;
    const sockaddr_storage addr = f.addr;
    const socklen_t len = f.len;
    fresh.erase(it);
    if (MHD_add_connection(daemon.get(), fd, reinterpret_cast<const sockaddr*>(&addr), len) !=
        MHD_YES) {
      // libmicrohttpd closed the socket (out of memory): forget it.
      if (auto h = handed.find(fd); h != handed.end() && h->second.id == id) handed.erase(h);
      handed_fd.erase(id);
      table.remove(id);
    }
  }

  // 400 and a close, written directly: the answer is short and the socket's buffer empty. What
  // the client sent is read first: closing with unread data would reset the connection, and the
  // reset could take the answer with it.
  static void refuse_not_http(int fd) {
    char sink[4096];
    for (int i = 0; i < 16 && ::recv(fd, sink, sizeof sink, 0) > 0; ++i) {
    }
    const std::string& text = not_http_answer();
    (void)::send(fd, text.data(), text.size(), MSG_NOSIGNAL);
    ::shutdown(fd, SHUT_WR);
  }

  // The idle timeout alone lets a client that trickles a byte now and then hold a connection
  // for ever (slowloris): a request must also arrive and be answered within the deadline. A
  // fresh connection must show a method within the idle timeout.
  void cut_overdue(std::int64_t now) {
    const std::int64_t deadline = std::int64_t{limits.request_deadline_s} * 1'000'000'000;
    for (auto& [fd, conn] : handed) {
      if (conn.cut || now - conn.owes_since < deadline) continue;
      table.remove(conn.id);
      shed(conn.id);
    }
    const std::int64_t idle = std::int64_t{limits.idle_timeout_s} * 1'000'000'000;
    for (auto it = fresh.begin(); it != fresh.end();) {
      const Id id = it->first;
      ++it;
      Fresh& f = fresh.at(id);
      if (now - f.since >= idle) {
        drop_fresh(id);
      } else if (f.look_again && now >= f.look_again) {
        f.look_again = 0;
        look(id);
      }
    }
  }

  void run() {
    std::vector<pollfd> fds;
    std::vector<Id> ids;  // of fds[2...]
    while (!stopping.load()) {
      const std::int64_t now = now_ns();
      int timeout_ms = 200;  // bounded: `stopping` and deadlines are seen in time
      MHD_UNSIGNED_LONG_LONG mhd_ms = 0;
      if (MHD_get_timeout(daemon.get(), &mhd_ms) == MHD_YES && mhd_ms < 200u)
        timeout_ms = static_cast<int>(mhd_ms);
      fds.clear();
      ids.clear();
      fds.push_back({mhd_epoll, POLLIN, 0});
      const bool accepting = now >= accept_paused_until;
      fds.push_back({accepting ? listener.get() : -1, POLLIN, 0});  // -1: left out by poll
      for (const auto& [id, f] : fresh) {
        if (f.look_again) {
          timeout_ms = std::min(timeout_ms, static_cast<int>(kLookAgainNs / 1'000'000));
          continue;
        }
        fds.push_back({f.fd.get(), POLLIN, 0});
        ids.push_back(id);
      }
      ::poll(fds.data(), fds.size(), timeout_ms);
      for (std::size_t i = 2; i < fds.size(); ++i)
        if (fds[i].revents) look(ids[i - 2]);
      if (fds[1].revents & POLLIN) accept_new();
      MHD_run(daemon.get());
      cut_overdue(now_ns());
    }
  }
};

MetricsServer::MetricsServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
MetricsServer::~MetricsServer() = default;

util::Result<std::unique_ptr<MetricsServer>> MetricsServer::start(util::Fd listener,
                                                                  const HttpLimits& limits) {
  auto impl = std::make_unique<Impl>(limits);
  impl->listener = std::move(listener);
  // No listening socket of its own: the loop accepts, decides by the connection table and the
  // first bytes, and hands libmicrohttpd what is HTTP. External polling with epoll: the loop
  // waits on libmicrohttpd's epoll descriptor beside its own sockets.
  MHD_Daemon* d = MHD_start_daemon(
      MHD_USE_EPOLL | MHD_USE_NO_LISTEN_SOCKET, 0, nullptr, nullptr, &Impl::on_request, impl.get(),
      MHD_OPTION_CONNECTION_TIMEOUT, limits.idle_timeout_s, MHD_OPTION_CONNECTION_LIMIT,
      static_cast<unsigned>(impl->mhd_limit()), MHD_OPTION_CONNECTION_MEMORY_LIMIT,
      limits.request_bytes, MHD_OPTION_NOTIFY_CONNECTION, &Impl::on_connection, impl.get(),
      MHD_OPTION_NOTIFY_COMPLETED, &Impl::on_completed, impl.get(), MHD_OPTION_END);
  if (!d) {
    const int err = errno;
    return util::os_error("starting the HTTP server (libmicrohttpd)", err);
  }
  impl->daemon.reset(d);
  const MHD_DaemonInfo* info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_EPOLL_FD);
  if (!info || info->epoll_fd < 0)
    return util::plain_error("starting the HTTP server: libmicrohttpd has no epoll descriptor");
  impl->mhd_epoll = info->epoll_fd;

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
