// kvmscope record: every event of the traced VMs, timestamped, into a recording file that
// `kvmscope report` reads. Blocks are flushed every 200 ms, so Ctrl-C, the command's end, a kill
// or a full disk leave a file readable up to its last complete block.
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <string>
#include <utility>

#include "cli/commands.h"
#include "cli/numbers.h"
#include "cli/option_cursor.h"
#include "cli/traced_run.h"
#include "collect/exit_collector.h"
#include "collect/vm_namer.h"
#include "model/boot.h"
#include "model/vm_name.h"
#include "store/recording.h"
#include "util/clock.h"
#include "util/fd.h"
#include "util/format.h"
#include "util/proc.h"
#include "util/usage.h"

namespace kvmscope::cli {

namespace {

const char* const kRecordHelp =
    R"(usage: kvmscope record -o FILE [options] -- COMMAND [ARGS...]
       kvmscope record -o FILE [options] -p PID[,PID...]
       kvmscope record -o FILE [options] -a

Records every KVM event of the traced VMs with its timestamp, CPU, VM, vCPU and fields: hardware
exits and entries, exits to the VMM and the VMM's return to KVM_RUN, port I/O, MMIO, MSR,
CPUID and hypercall details, and the VM's end. 'kvmscope report FILE' turns it into tables,
a timeline, rate stability, bursts and a boot summary. The format is docs/file-format.md.

what to trace (exactly one), as for 'kvmscope stat':
  -- COMMAND ARGS   run COMMAND (no shell) and record it and everything it forks
  -p, --pid PIDS    attach to running VMM processes (comma-separated), each with a KVM VM open
                    (else an error, unless --wait-vm: then record notes it and waits)
  -a, --all         every VM on this host

options:
  -o, --output FILE the recording (required); an existing FILE is refused
  -f, --force       overwrite an existing FILE (never one another 'record' is writing:
                    the file is locked while recording)
  -d, --duration T  stop after T (seconds, or 500ms, 10s, 2m)
  --wait-vm         with -p: a process without a KVM VM open yet is waited for, not refused
  --ring-size MB    kernel ring buffer, a power of two (default 16); events that do not fit
                    are counted per CPU and stored as lost, never silently dropped; peak
                    memory is about twice the ring plus 10 MB (16: 42 MB)
  --no-compress     store blocks uncompressed (larger, slightly faster to write)
  --share-tracepoints
                    let perf (perf kvm stat, perf record -e kvm:*) see the kvm tracepoints
                    while kvmscope runs; by default kvmscope's programs on classic
                    tracepoints keep those events from perf consumers, which is cheaper (on
                    BTF raw tracepoints they take nothing from perf)
  -h, --help        this text

Ctrl-C, the command's end or a full disk leave a file that report reads up to its last
complete block. The command never outlives record: on Ctrl-C it gets SIGINT, on an error (a
full disk) SIGTERM, then SIGKILL 5 s later; should record itself be killed, the command gets
SIGTERM (its own children are not followed). record exits with the command's status (128+N
when signal N killed it); the recording marks how it ended ("command exited status 0",
"command killed by SIGKILL").

examples:
  sudo kvmscope record -o boot.kvms -- qemu-system-x86_64 -enable-kvm -m 1G disk.img
  sudo kvmscope record -o guest.kvms -- kvmscope guest --io 20000 --mmio 500 --cpuid 700
  sudo kvmscope record -o host.kvms -a --duration 30
  kvmscope report boot.kvms --html boot.html
)";

struct RecordOptions {
  TraceTarget target;
  std::string output;
  // 16 MB: no event lost at the built-in guest's rates (guest --io 200000), and a third of the
  // peak RSS of 64 MB (user space maps the ring twice: RSS ~ 2 x ring + ~10 MB). README, memory.
  std::uint32_t ring_mb = 16;
  bool compress = true;
  bool force = false;
  bool help = false;
};

util::Result<RecordOptions> parse(Args args) {
  RecordOptions o;
  OptionCursor cursor(args, "record", kRecordHelp);
  while (cursor.next()) {
    const std::string_view name = cursor.name();
    auto target_option = parse_target_option(cursor, o.target);
    if (!target_option) return target_option.error();
    if (*target_option == TargetOption::consumed) continue;
    if (name == "-h" || name == "--help") {
      o.help = true;
    } else if (name == "-o" || name == "--output") {
      auto v = cursor.path_value();
      if (!v) return v.error();
      o.output = *v;
    } else if (name == "--ring-size") {
      auto v = cursor.value();
      if (!v) return v.error();
      auto n = parse_u64(*v);
      if (!n || *n == 0 || *n > 4096 || (*n & (*n - 1)))
        return cursor.usage("--ring-size: expected a power of two from 1 to 4096 (MB), got '" + *v +
                            "'");
      o.ring_mb = static_cast<std::uint32_t>(*n);
    } else if (name == "--wait-vm") {
      o.target.wait_vm = true;
    } else if (name == "--no-compress") {
      o.compress = false;
    } else if (name == "-f" || name == "--force") {
      o.force = true;
    } else {
      return cursor.unknown();
    }
  }
  if (o.help) return o;
  if (auto r = finish_target(cursor, o.target); !r) return r.error();
  if (o.output.empty()) return cursor.usage("say where to record: -o FILE");
  return o;
}

// The output file, claimed before anything is loaded: an existing regular file only with
// --force, and an exclusive lock (flock) held while recording, so that two records to one file
// cannot both write it; the lock is taken before the Writer truncates. A file this claim
// created is removed again if recording fails before the Writer took it over.
class OutputClaim {
 public:
  static util::Result<OutputClaim> make(const std::string& path, bool force) {
    OutputClaim claim;
    claim.path_ = path;
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    claim.created_ = fd >= 0;
    if (fd < 0 && errno == EEXIST) {
      struct stat st;
      if (::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && !force)
        return util::plain_error(path + " exists", "use --force to overwrite");
      fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);  // --force, or a device or pipe
    }
    if (fd < 0) {
      const int err = errno;
      return util::os_error("cannot write " + path, err);
    }
    claim.fd_ = util::Fd(fd);
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
      if (errno == EWOULDBLOCK)
        return util::plain_error(path + " is being written by another 'kvmscope record'");
      if (errno != EINVAL && errno != ENOLCK) {
        const int err = errno;
        return util::os_error("cannot lock " + path, err);
      }
    }
    return claim;
  }
  OutputClaim(OutputClaim&& other) noexcept
      : fd_(std::move(other.fd_)),
        path_(std::move(other.path_)),
        created_(std::exchange(other.created_, false)) {}
  OutputClaim& operator=(OutputClaim&&) = delete;
  ~OutputClaim() {
    if (created_) ::unlink(path_.c_str());
  }
  // The Writer has the file now: it stays, whatever happens next.
  void keep() { created_ = false; }

 private:
  OutputClaim() = default;
  util::Fd fd_;  // holds the lock
  std::string path_;
  bool created_ = false;
};

store::RecordingInfo make_info(const RecordOptions& o, const std::string& tracefs,
                               std::uint64_t start_ns) {
  store::RecordingInfo info;
  info.kvmscope_version = KVMSCOPE_VERSION;
  char host[256] = {};
  if (::gethostname(host, sizeof host - 1) == 0) info.hostname = host;
  struct utsname u;
  if (::uname(&u) == 0) info.kernel_release = u.release;
  info.realtime_offset_ns = util::realtime_offset_ns();
  info.start_ns = start_ns;
  info.target = o.target.describe();
  // The recording kernel's own reason tables travel with the file.
  for (const char* event : {"kvm_exit", "kvm_userspace_exit"}) {
    auto text = util::read_file(tracefs + "/events/kvm/" + event + "/format");
    if (text) info.tracefs_formats[event] = std::move(*text);
  }
  return info;
}

}  // namespace

int cmd_record(Args args) {
  auto parsed = parse(args);
  if (!parsed) return util::fail("record", parsed.error(), 2);
  const RecordOptions& o = *parsed;
  if (o.help) {
    std::fputs(kRecordHelp, stdout);
    return 0;
  }
  auto output = OutputClaim::make(o.output, o.force);
  if (!output) return util::fail("record", output.error());
  auto root = preflight(o.target);
  if (!root) return util::fail("record", root.error());
  if (auto vms = check_pids_have_vms(o.target, "stat"); !vms)
    return util::fail("record", vms.error());

  collect::CollectorConfig config;
  config.whole_host = o.target.all;
  config.share_tracepoints = o.target.share_tracepoints;
  config.aggregate = false;
  config.record = true;
  config.ring_bytes = o.ring_mb << 20;
  auto collector = collect::ExitCollector::start(config);
  if (!collector) return util::fail("record", collector.error());
  auto& c = **collector;

  store::WriterOptions wopts;
  wopts.compress = o.compress;
  auto writer = store::Writer::create(o.output, make_info(o, *root, c.started_ns()), wopts);
  if (!writer) return util::fail("record", writer.error());
  output->keep();
  auto& w = *writer;
  collect::VmNamer namer(o.target.command.empty(), c.started_ns());

  TracedRun run("record");
  if (auto started = run.start(o.target, c); !started)
    return util::fail("record", started.error().error, started.error().status);
  if (auto pid = run.command_pid()) {
    std::string comm = o.target.command.front();
    comm = comm.substr(comm.rfind('/') + 1).substr(0, 15);
    namer.expect(*pid, {model::vm_name_from_cmdline(o.target.command, comm), comm});
    (void)w.mark(run.started_ns(), std::string(model::kCommandStartedLabel));
  }

  std::vector<std::uint64_t> lost_seen;
  auto store_lost = [&]() -> util::Result<void> {
    auto lost = c.lost_per_cpu();
    if (!lost) return lost.error();
    lost_seen.resize(lost->size());
    for (std::size_t cpu = 0; cpu < lost->size(); ++cpu) {
      if ((*lost)[cpu] == lost_seen[cpu]) continue;
      if (auto r = w.add_lost(static_cast<std::uint32_t>(cpu), (*lost)[cpu] - lost_seen[cpu]); !r)
        return r;
      lost_seen[cpu] = (*lost)[cpu];
    }
    return {};
  };
  util::Result<void> written;
  auto on_events = [&](std::span<const ks_event> events) {
    // A VM's name and start marker precede its first event in the file.
    for (const collect::VmSighting& vm : namer.see(events)) {
      if (vm.info) (void)w.set_vm(vm.pid, vm.info->name, vm.info->comm);
      if (vm.start_ns) (void)w.mark(*vm.start_ns, model::process_started_label(vm.pid));
    }
    if (written) written = w.append(events);
  };

  std::uint64_t next_flush = 0;
  while (written && !run.should_stop()) {
    if (auto r = c.poll_records(100, on_events); !r) return util::fail("record", r.error());
    const std::uint64_t now = util::monotonic_ns();
    if (written && now >= next_flush) {
      written = store_lost();
      if (written) written = w.flush();
      next_flush = now + 200'000'000ull;
    }
  }
  if (!written) {
    // Full disk or I/O error: the blocks already on disk stay readable. The command is ended:
    // left running it would go on unrecorded, an orphan nobody asked for.
    std::fprintf(stderr,
                 "kvmscope record: %s; %s holds the %s events recorded before, readable by "
                 "'kvmscope report'\n",
                 written.error().message().c_str(), o.output.c_str(),
                 util::format_count(w.events_written()).c_str());
    if (auto pid = run.command_pid())
      std::fprintf(stderr, "kvmscope record: ending the command (pid %d)\n",
                   static_cast<int>(*pid));
    run.finish();
    return 1;
  }

  const int status = run.finish();
  while (true) {  // what is still in the ring buffer belongs to the recording
    auto r = c.poll_records(0, on_events);
    if (!r) return util::fail("record", r.error());
    if (*r == 0) break;
  }
  if (run.command_status())
    (void)w.mark(util::monotonic_ns(), "command " + run.command_status()->describe());
  if (written) written = store_lost();
  if (written) written = w.finish();
  if (!written) return util::fail("record", written.error());

  std::uint64_t lost_total = 0;
  for (auto n : lost_seen) lost_total += n;
  // The span `report` shows: from the command's start (else the recording's) to the trailer's end.
  const std::uint64_t zero_ns = run.command_pid() ? run.started_ns() : c.started_ns();
  const std::uint64_t span_ns = w.end_ns() > zero_ns ? w.end_ns() - zero_ns : 0;
  const double seconds = span_ns / 1e9;
  const std::uint64_t events = w.events_written();
  std::fprintf(
      stderr,
      "kvmscope record: %s events in %.2f s (%s events/s), %s bytes (%.1f bytes/event) "
      "in %s; lost: %s\n",
      util::format_count(events).c_str(), seconds,
      util::format_count(static_cast<std::uint64_t>(seconds > 0 ? events / seconds : 0)).c_str(),
      util::format_count(w.bytes_written()).c_str(),
      events ? static_cast<double>(w.bytes_written()) / events : 0.0, o.output.c_str(),
      util::format_count(lost_total).c_str());
  return status;
}

}  // namespace kvmscope::cli
