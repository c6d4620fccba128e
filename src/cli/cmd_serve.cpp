// kvmscope serve: a Prometheus exporter. This thread reads the BPF maps every --interval, folds
// them into bounded series and renders the page; the HTTP server (its own thread) only hands out
// the last page. So a scrape never waits for the maps, a slow client never delays a readout, and
// the kernel-side work does not grow with the number of scrapers.
#include <time.h>

#include <cstdio>
#include <string>

#include "cli/commands.h"
#include "cli/numbers.h"
#include "cli/option_cursor.h"
#include "cli/signals.h"
#include "cli/traced_run.h"
#include "collect/exit_collector.h"
#include "model/reason_catalog.h"
#include "serve/prometheus.h"
#include "serve/prometheus_series.h"
#ifdef KVMSCOPE_HAVE_SERVE
#include "serve/client_address.h"
#include "serve/listen_address.h"
#include "serve/metrics_server.h"
#include "serve/readout.h"
#include "util/clock.h"
#endif
#include "util/usage.h"

namespace kvmscope::cli {

namespace {

constexpr const char* kServeHelp =
    "usage: kvmscope serve [options]\n"
    "\n"
    "Serves the VM exits of this host as Prometheus metrics on http://ADDR:PORT/metrics:\n"
    "kvmscope_exits_total, kvmscope_exit_handling_seconds (histogram), kvmscope_pio_total,\n"
    "kvmscope_msr_total and the collector's health. Runs until SIGINT or SIGTERM.\n"
    "\n"
    "  --listen ADDR:PORT   where to listen (default 127.0.0.1:9580; [::1]:9580 for IPv6;\n"
    "                       port 0 picks a free one, printed at start)\n"
    "  -a, --all            every VM on this host (the default)\n"
    "  -p, --pid PID[,PID]  only these processes and what they fork\n"
    "  --interval T         read the BPF maps every T (default 1s): a scrape shows data at\n"
    "                       most T old\n"
    "  --grace T            keep the series of a VM that ended for T, then drop them and free\n"
    "                       its kernel-side counters (default 5m)\n"
    "  --max-vms N          VMs with their own labels (default 1024), later ones: vm=\"other\"\n"
    "  --max-vcpus N        vCPU ids per VM (default 288), then vcpu=\"other\"\n"
    "  --max-reasons N      exit reasons per VM (default 32), then reason=\"other\"\n"
    "  --max-ports N        (port, direction, size) per VM (default 64), then port=\"other\"\n"
    "  --max-msrs N         (MSR, access) per VM (default 64), then msr=\"other\"\n"
    "  --max-entries N      size of the BPF counter maps (default 4096, 2,480 bytes each)\n"
    "  --no-drills          no port and MSR counters (kvm_pio, kvm_msr... not traced)\n"
    "  --counts-only        count exits, time nothing (the cheapest: one BPF program per\n"
    "                       hardware exit, no clock reads); kvmscope_exit_handling_seconds is\n"
    "                       then left out, not exported as zeros, and\n"
    "                       kvmscope_exit_handling_timed is 0\n"
    "  --http-timeout T     close a connection idle for T, or not done with a request\n"
    "                       within 3T (default 10s)\n"
    "  --max-connections N  HTTP connections kept at once (default 128); a new one beyond\n"
    "                       takes the place of the oldest idle one (one that owes a request)\n"
    "  --max-connections-per-client N\n"
    "                       per client IP address (default 16); beyond, that client's\n"
    "                       oldest idle connection makes room\n"
    "  --scraper ADDR[,ADDR]\n"
    "                       trust these client addresses (your Prometheus server) as\n"
    "                       loopback is trusted: their idle connections never make room\n"
    "                       for a newcomer from an untrusted address\n"
    "  --share-tracepoints  let perf consumers of the kvm tracepoints see them too\n"
    "  -d, --duration T     stop after T\n"
    "  -h, --help           this text\n"
    "\n"
    "T: 10, 2.5, 500ms, 5m. See README.md, \"Fleet monitoring with Prometheus\".\n";

struct ServeOptions {
  TraceTarget target;
  std::string listen = "127.0.0.1:9580";
  double interval_s = 1.0;
  serve::PrometheusLimits limits;
  std::uint32_t max_entries = 4096;
  bool drills = true;
  bool counts_only = false;  // --counts-only
  double http_timeout_s = 10.0;
  std::size_t max_connections = 128;
  std::size_t max_connections_per_client = 16;
  std::string scrapers;  // --scraper, checked by serve::parse_client_addresses
  bool help = false;
};

util::Result<ServeOptions> parse_serve_options(Args args) {
  ServeOptions o;
  OptionCursor cur(args, "serve", kServeHelp);
  const auto count = [&](auto& into, std::uint64_t max) -> util::Result<void> {
    auto v = cur.value();
    if (!v) return v.error();
    auto n = parse_u64(*v);
    if (!n || *n == 0 || *n > max)
      return cur.usage(std::string(cur.name()) + ": '" + *v + "' is not a count from 1 to " +
                       std::to_string(max));
    into = static_cast<std::remove_reference_t<decltype(into)>>(*n);
    return {};
  };
  const auto seconds = [&](double& into) -> util::Result<void> {
    auto v = cur.value();
    if (!v) return v.error();
    auto s = parse_seconds(*v);
    if (!s || *s <= 0) return cur.usage(std::string(cur.name()) + ": '" + *v + "' is not a time");
    into = *s;
    return {};
  };
  while (cur.next()) {
    const std::string_view n = cur.name();
    util::Result<void> r;
    double grace = 0;
    if (n == "-h" || n == "--help") {
      o.help = true;
    } else if (auto t = parse_target_option(cur, o.target); !t) {
      return t.error();
    } else if (*t == TargetOption::consumed) {
      continue;
    } else if (n == "--listen") {
      auto v = cur.value();
      if (!v) return v.error();
      o.listen = *v;
    } else if (n == "--interval") {
      if (r = seconds(o.interval_s); r && o.interval_s < 0.05)
        r = cur.usage("--interval: at least 50ms (each readout reads every BPF counter)");
    } else if (n == "--grace") {
      if (r = seconds(grace); r) o.limits.grace_ns = static_cast<std::uint64_t>(grace * 1e9);
    } else if (n == "--http-timeout") {
      r = seconds(o.http_timeout_s);
    } else if (n == "--max-connections") {
      r = count(o.max_connections, 1u << 16);
    } else if (n == "--max-connections-per-client") {
      r = count(o.max_connections_per_client, 1u << 16);
    } else if (n == "--scraper") {
      auto v = cur.value();
      if (!v) return v.error();
      o.scrapers += (o.scrapers.empty() ? "" : ",") + *v;
    } else if (n == "--max-vms") {
      r = count(o.limits.max_vms, 1u << 20);
    } else if (n == "--max-vcpus") {
      r = count(o.limits.max_vcpus, 1u << 16);
    } else if (n == "--max-reasons") {
      r = count(o.limits.max_reasons, 1u << 16);
    } else if (n == "--max-ports") {
      r = count(o.limits.max_ports, 1u << 17);
    } else if (n == "--max-msrs") {
      r = count(o.limits.max_msrs, 1u << 20);
    } else if (n == "--max-entries") {
      r = count(o.max_entries, 1u << 24);
    } else if (n == "--no-drills") {
      o.drills = false;
    } else if (n == "--counts-only") {
      o.counts_only = true;
    } else {
      return cur.unknown();
    }
    if (!r) return r.error();
  }
  if (cur.saw_double_dash())
    return cur.usage("serve traces running VMs: use -p PID or -a, not a command");
  if (o.target.pids.empty()) o.target.all = true;
  if (o.target.all && !o.target.pids.empty()) return cur.usage("choose one of -p PID and -a");
  return o;
}

#ifdef KVMSCOPE_HAVE_SERVE

// The BPF collector, as a readout reads it.
class CollectorCounters final : public serve::CounterSource {
 public:
  explicit CollectorCounters(collect::ExitCollector& c) : c_(c) {}
  util::Result<model::Snapshot> snapshot() override {
    auto snap = c_.snapshot();
    if (snap) c_.name_vms(*snap);
    return snap;
  }
  util::Result<model::DrillDown> drilldown() override { return c_.drilldown(); }
  util::Result<void> forget_vms(std::span<const std::uint32_t> pids) override {
    return c_.forget_vms(pids);
  }
  std::optional<ProgramStats> program_stats() override {
    auto stats = c_.program_stats();
    if (!stats) return std::nullopt;
    ProgramStats out;
    out.enabled = stats->enabled;
    for (const auto& p : stats->programs)
      out.programs.push_back({p.name, p.run_time_ns, p.run_count});
    return out;
  }

 private:
  collect::ExitCollector& c_;
};

void sleep_until(std::uint64_t deadline_ns) {
  const std::uint64_t now = util::monotonic_ns();
  if (now >= deadline_ns || stop_requested()) return;
  util::sleep_ns(deadline_ns - now);  // a stop signal ends it early (EINTR), as it should
}

int serve(const ServeOptions& o) {
  auto address = serve::parse_listen_address(o.listen);
  if (!address) return util::fail("serve", address.error(), 2);
  serve::HttpLimits http;
  http.idle_timeout_s = static_cast<unsigned>(o.http_timeout_s + 0.999);
  http.request_deadline_s = 3 * http.idle_timeout_s;
  http.max_connections = o.max_connections;
  http.max_connections_per_client = o.max_connections_per_client;
  if (!o.scrapers.empty()) {
    auto scrapers = serve::parse_client_addresses(o.scrapers);
    if (!scrapers) {
      util::Error e = scrapers.error();
      e.context = "--scraper: " + e.context;
      return util::fail("serve", e, 2);
    }
    http.scrapers = std::move(*scrapers);
  }
  auto root = preflight(o.target);
  if (!root) return util::fail("serve", root.error());
  // Bound before the BPF programs load: a taken port is reported before any other work.
  auto listener = serve::listen_on(*address);
  if (!listener) return util::fail("serve", listener.error());
  auto where = serve::bound_address(listener->get());
  if (!where) return util::fail("serve", where.error());

  model::ReasonCatalog catalog = live_reason_catalog(*root, "serve");
  collect::CollectorConfig config;
  config.whole_host = o.target.all;
  config.share_tracepoints = o.target.share_tracepoints;
  config.max_entries = o.max_entries;
  config.drills = o.drills;
  config.counts_only = o.counts_only;
  auto collector = collect::ExitCollector::start(config);
  if (!collector) return util::fail("serve", collector.error());
  auto& c = **collector;
  install_stop_handlers();
  for (pid_t pid : o.target.pids)
    if (auto r = c.add_target(pid); !r) return util::fail("serve", r.error());
  for (const auto& note : c.notes())
    std::fprintf(stderr, "kvmscope serve: note: %s\n", note.c_str());

  serve::PrometheusSeries series(o.limits, std::move(catalog));
  CollectorCounters counters(c);
  serve::Readout readout(counters, series, o.drills, KVMSCOPE_VERSION, !o.counts_only);
  auto first = readout(false);
  if (!first) return util::fail("serve", first.error());

  auto server = serve::MetricsServer::start(std::move(*listener), http);
  if (!server) return util::fail("serve", server.error());
  (*server)->publish(std::move(*first));
  std::printf("kvmscope serve: serving http://%s/metrics (%s), a readout every %gs\n",
              where->c_str(), o.target.describe().c_str(), o.interval_s);
  std::fflush(stdout);

  const auto interval_ns = static_cast<std::uint64_t>(o.interval_s * 1e9);
  const std::uint64_t started = util::monotonic_ns();
  const std::uint64_t end =
      o.target.duration_s ? started + static_cast<std::uint64_t>(*o.target.duration_s * 1e9) : 0;
  std::string last_error;
  for (std::uint64_t next = started + interval_ns; !stop_requested(); next += interval_ns) {
    if (end && next > end) next = end;
    sleep_until(next);
    if (stop_requested() || (end && util::monotonic_ns() >= end)) break;
    if (const std::uint64_t now = util::monotonic_ns(); now > next + interval_ns)
      next = now;  // a readout overran: skip the missed ticks instead of bursting
    // Prometheus asks for gzip on every scrape; compress while someone did in the last 5 min.
    auto page = readout((*server)->gzip_wanted(300'000'000'000));
    if (page) {
      (*server)->publish(std::move(*page));
      last_error.clear();
    } else if (page.error().message() != last_error) {
      // The last good page stays up; kvmscope_readout_timestamp_seconds shows its age.
      last_error = page.error().message();
      std::fprintf(stderr, "kvmscope serve: warning: readout failed: %s\n", last_error.c_str());
    }
  }
  return 0;
}

#endif

}  // namespace

int cmd_serve(Args args) {
  auto parsed = parse_serve_options(args);
  if (!parsed) return util::fail("serve", parsed.error(), 2);
  if (parsed->help) {
    std::fputs(kServeHelp, stdout);
    return 0;
  }
#ifdef KVMSCOPE_HAVE_SERVE
  return serve(*parsed);
#else
  return util::fail(
      "serve", util::plain_error("this kvmscope was built without the HTTP server (static build)"));
#endif
}

}  // namespace kvmscope::cli
