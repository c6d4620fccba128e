#include "collect/exit_collector.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdarg>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <span>
#include <sstream>

#include "collect/tracepoint_btf.h"
#include "exits.skel.h"
#include "model/vm_name.h"
#include "util/clock.h"
#include "util/fd.h"
#include "util/proc.h"

namespace kvmscope::collect {

namespace {

// libbpf reports through a global print callback; while we load, it is captured here so a
// verifier rejection can be shown to the user instead of scrolling past on stderr.
std::mutex g_log_mutex;
std::string g_log;

int capture_print(enum libbpf_print_level level, const char* fmt, va_list args) {
  if (level == LIBBPF_DEBUG) return 0;
  // libbpf hands over the whole verifier log in one message: size the buffer to it, or the
  // error at its end would be cut off.
  va_list copy;
  va_copy(copy, args);
  int n = std::vsnprintf(nullptr, 0, fmt, copy);
  va_end(copy);
  if (n <= 0) return n;
  std::string text(static_cast<std::size_t>(n) + 1, '\0');
  std::vsnprintf(text.data(), text.size(), fmt, args);
  text.resize(static_cast<std::size_t>(n));
  std::lock_guard lock(g_log_mutex);
  g_log += text;
  return n;
}

class LogCapture {
 public:
  LogCapture() {
    std::lock_guard lock(g_log_mutex);
    g_log.clear();
    previous_ = libbpf_set_print(capture_print);
  }
  ~LogCapture() { libbpf_set_print(previous_); }
  // A copy would restore the previous printer twice, the second time over a later capture.
  LogCapture(const LogCapture&) = delete;
  LogCapture& operator=(const LogCapture&) = delete;
  static std::string tail(std::size_t max_lines) {
    std::lock_guard lock(g_log_mutex);
    std::vector<std::string> lines;
    std::istringstream in(g_log);
    for (std::string line; std::getline(in, line);)
      if (!line.empty()) lines.push_back(line);
    std::string out;
    std::size_t first = lines.size() > max_lines ? lines.size() - max_lines : 0;
    for (std::size_t i = first; i < lines.size(); ++i) out += "\n  " + lines[i];
    return out;
  }

 private:
  libbpf_print_fn_t previous_;
};

struct SkelDeleter {
  void operator()(exits_bpf* skel) const { exits_bpf::destroy(skel); }
};
using SkelPtr = std::unique_ptr<exits_bpf, SkelDeleter>;

struct LinkDeleter {
  void operator()(bpf_link* link) const { bpf_link__destroy(link); }
};
using LinkPtr = std::unique_ptr<bpf_link, LinkDeleter>;

struct RingDeleter {
  void operator()(ring_buffer* rb) const { ring_buffer__free(rb); }
};
using RingPtr = std::unique_ptr<ring_buffer, RingDeleter>;

// Calls fn(key) for every key of a BPF hash map, in the kernel's order. `key` keeps the key last
// handed out, so bpf_map_get_next_key() goes on from there.
template <class Key, class Fn>
void for_each_key(int fd, Fn&& fn) {
  Key key{}, next{};
  const void* prev = nullptr;
  while (bpf_map_get_next_key(fd, prev, &next) == 0) {
    fn(static_cast<const Key&>(next));
    key = next;
    prev = &key;
  }
}

// Calls fn(key, value) for every entry; one deleted between the two lookups is skipped.
template <class Key, class Value, class Fn>
void for_each_entry(int fd, Fn&& fn) {
  for_each_key<Key>(fd, [&](const Key& k) {
    Value v{};
    if (bpf_map_lookup_elem(fd, &k, &v) == 0) fn(k, static_cast<const Value&>(v));
  });
}

model::ExitKey to_model(const ks_exit_key& k) {
  return {k.tgid, k.vcpu, model::reason_of(k)};
}

// The kernel and user space share the counter's layout (kvmscope_bpf.h asserts it); the
// histogram is the model's.
static_assert(sizeof(ks_exit_val{}.comm) == KS_COMM_LEN);
static_assert(sizeof(ks_exit_val{}.hist) / sizeof(ks_u64) == model::kHistogramSlots);

// One health counter (enum ks_health) of every possible CPU: the map is per-CPU.
util::Result<std::vector<std::uint64_t>> health_per_cpu(bpf_map* health, __u32 which,
                                                        const char* what) {
  const int nr_cpus = libbpf_num_possible_cpus();
  if (nr_cpus <= 0) return util::os_error("counting possible CPUs", -nr_cpus);
  std::vector<std::uint64_t> per_cpu(static_cast<std::size_t>(nr_cpus));
  if (bpf_map_lookup_elem(bpf_map__fd(health), &which, per_cpu.data()) != 0) {
    const int err = errno;
    return util::os_error(std::string("reading ") + what, err);
  }
  return per_cpu;
}

util::Result<std::uint64_t> health_total(bpf_map* health, __u32 which) {
  auto per_cpu = health_per_cpu(health, which, "the collector's health counters");
  if (!per_cpu) return per_cpu.error();
  std::uint64_t total = 0;
  for (auto n : *per_cpu) total += n;
  return total;
}

// The process name a counter carries ("" when none was written).
std::string comm_of(const ks_exit_val& v) {
  return std::string(v.comm, strnlen(v.comm, sizeof v.comm));
}

model::ExitStats to_model(const ks_exit_val& v) {
  model::ExitStats s;
  s.count = v.count;
  s.timed = v.timed;
  s.time_ns = v.time_ns;
  s.max_ns = v.max_ns;
  for (std::size_t i = 0; i < KS_HIST_SLOTS; ++i) s.hist.slots[i] = v.hist[i];
  return s;
}

// What the hardware-exit hooks can be on this machine: the ISA of the loaded KVM module, and
// whether its BTF (which the tp_btf program's CO-RE reads of vcpu_svm / vcpu_vmx need) is there.
struct HwHooks {
  bool btf = false;
  std::uint8_t isa = KS_ISA_NONE;
  std::string why;  // why not BTF, or what it reads
  // kvm_amd or kvm_intel is loaded: kvm_exit fires, and every exit to the VMM follows one on
  // its thread, whichever hook counts it.
  bool fires = false;
  // Exits to the VMM on tp_btf/kvm_userspace_exit (no trace record built), else why not.
  bool vmm_btf = false;
  std::string vmm_why;
  // Each drill-down event (kDrillTracepoints) on its BTF raw tracepoint, else why not.
  std::array<bool, kDrillTracepoints.size()> drill_btf = {};
  std::string drill_why;
};

// A drill-down event's two programs (classic, tp_btf), in kDrillTracepoints' order.
std::array<std::pair<bpf_program*, bpf_program*>, kDrillTracepoints.size()> drill_programs(
    const exits_bpf& skel) {
  const auto& p = skel.progs;
  return {{{p.on_pio, p.on_pio_btf},
           {p.on_mmio, p.on_mmio_btf},
           {p.on_msr, p.on_msr_btf},
           {p.on_cpuid, p.on_cpuid_btf},
           {p.on_hypercall, p.on_hcall_btf}}};
}

// --counts-only with nothing else to do per exit: the kvm_exit programs with the per-CPU slot
// cache (exits.bpf.c, struct ks_lean).
bool lean_counting(const CollectorConfig& config) {
  return config.counts_only && config.aggregate && !config.record && !config.stream_exits &&
         !config.drills && !config.guest_sites;
}

// The drill-down events' programs are loaded for --by, record and --by function (kvm_pio and
// kvm_msr also say what a guest site's instruction did: the KASLR search checks it).
bool drill_events_loaded(const CollectorConfig& config) {
  return config.drills || config.record || config.guest_sites;
}

// Under lean counting where kvm_exit fires, the KVM_RUN hook is not loaded: it would only tell
// the thread's vCPU, which its kvm_exit already did (every exit to the VMM follows one), and it
// runs for every ioctl on the host.
bool run_hook_needed(const CollectorConfig& config, const HwHooks& hw) {
  return !(lean_counting(config) && hw.fires);
}

util::Result<Hooks> hooks_wanted(Hooks configured) {
  if (configured != Hooks::automatic) return configured;
  const char* env = std::getenv("KVMSCOPE_TRACEPOINTS");
  if (!env || !*env || std::strcmp(env, "auto") == 0) return Hooks::automatic;
  if (std::strcmp(env, "btf") == 0) return Hooks::btf;
  if (std::strcmp(env, "classic") == 0) return Hooks::classic;
  return util::plain_error(
      std::string("KVMSCOPE_TRACEPOINTS: expected auto, btf or classic, got '") + env + "'");
}

HwHooks hw_hooks(const CollectorConfig& config, Hooks wanted) {
  HwHooks h;
  // The vendor module, where one is loaded (kvm_exit fires then), and the ISA it runs.
  const char* module = nullptr;
  std::uint8_t isa = KS_ISA_NONE;
  if (access("/sys/module/kvm_amd", F_OK) == 0) {
    module = "kvm_amd";
    isa = KS_ISA_SVM;
  } else if (access("/sys/module/kvm_intel", F_OK) == 0) {
    module = "kvm_intel";
    isa = KS_ISA_VMX;
  }
  h.fires = module != nullptr;
  if (wanted == Hooks::classic) {
    h.why = h.vmm_why = h.drill_why = "KVMSCOPE_TRACEPOINTS=classic";
    return h;
  }
  // Exits to the VMM and the drill-down events need no module beyond kvm: each raw tracepoint is
  // taken wherever its prototype is as the program reads it. The kernel's BTF is read once.
  auto btf = KernelBtf::load("kvm");
  auto takes = [&btf](const KvmTracepoint& tp) -> util::Result<void> {
    if (!btf) return btf.error();
    return btf->raw_tracepoint_takes(tp.name, tp.args);
  };
  if (auto vmm = takes(kVmmExitTracepoint); vmm)
    h.vmm_btf = true;
  else
    h.vmm_why = vmm.error().message();
  for (std::size_t i = 0; i < kDrillTracepoints.size(); ++i) {
    auto drill = takes(kDrillTracepoints[i]);
    h.drill_btf[i] = drill.ok();
    if (!drill && h.drill_why.empty()) h.drill_why = drill.error().message();
  }
  if (config.record || config.guest_sites) {
    h.why = std::string(config.record ? "record" : "--by function") +
            " needs the guest RIP, which only the classic kvm:kvm_exit gives";
    return h;
  }
  if (!module) {
    h.why = "neither kvm_amd nor kvm_intel is loaded";
    return h;
  }
  h.isa = isa;
  if (access((std::string("/sys/kernel/btf/") + module).c_str(), F_OK) != 0) {
    h.why = std::string("no BTF for ") + module + " (/sys/kernel/btf/" + module + ")";
    return h;
  }
  h.btf = true;
  h.why = h.isa == KS_ISA_SVM ? "exit code read from the vCPU's VMCB (kvm_amd BTF)"
                              : "exit reason read from vcpu_vmx (kvm_intel BTF)";
  return h;
}

// The ioctl(KVM_RUN) hook tells a thread's vCPU id and ends the VMM's handling time. It needs
// syscall tracepoints and the BTF of struct kvm_vcpu; without them the counts stay exact, but
// exits to the VMM have no vCPU id and no handling time.
util::Result<SkelPtr> open_and_load(const CollectorConfig& config, const HwHooks& hw,
                                    bool with_run_hook) {
  SkelPtr skel(exits_bpf::open());
  if (!skel) {
    const int err = errno;
    return util::os_error("opening the BPF object", err);
  }
  auto* ro = skel->rodata;
  ro->filter_tgid = !config.whole_host;
  ro->aggregate = config.aggregate;
  ro->drills = config.drills;
  ro->guest_sites = config.guest_sites;
  ro->record = config.record;
  ro->stream_exits = config.stream_exits;
  ro->stream_level = static_cast<__u8>(config.stream_level);
  ro->share_tracepoints = config.share_tracepoints ? 1 : 0;
  ro->counts_only = config.counts_only;
  ro->hw_isa = hw.btf ? hw.isa : KS_ISA_NONE;
  // The reader polls at least every 100 ms; a wakeup is only for a ring filling up faster.
  ro->wakeup_bytes = config.ring_bytes / 8;
  // Maps a mode does not use shrink to one entry / one page instead of costing memory.
  const std::uint32_t slots = config.aggregate ? config.max_entries : 1;
  for (bpf_map* map : {skel->maps.slots, skel->maps.counters, skel->maps.free_slots})
    bpf_map__set_max_entries(map, slots);
  // Readouts read the counters in place, no copy (ExitCollector::Impl::counters_view).
  bpf_map__set_map_flags(skel->maps.counters,
                         bpf_map__map_flags(skel->maps.counters) | BPF_F_MMAPABLE);
  bpf_map__set_max_entries(skel->maps.drill_counts, config.drills ? config.max_entries : 1);
  bpf_map__set_max_entries(skel->maps.sites, config.guest_sites ? config.max_entries : 1);
  if (config.stream_exits || config.record)
    bpf_map__set_max_entries(skel->maps.events, config.ring_bytes);
  bpf_program__set_autoload(skel->progs.on_ioctl, with_run_hook && run_hook_needed(config, hw));
  // --by function and --counts-only (with nothing else per exit) have kvm_exit programs of their
  // own (exits.bpf.c, hw_exit), so the default ones carry none of their code.
  const bool sites = config.guest_sites;
  const bool lean = lean_counting(config);
  bpf_program__set_autoload(skel->progs.on_kvm_exit, !hw.btf && !sites && !lean);
  bpf_program__set_autoload(skel->progs.on_kvm_exit_sites, !hw.btf && sites);
  bpf_program__set_autoload(skel->progs.on_kvm_exit_cnt, !hw.btf && lean);
  bpf_program__set_autoload(skel->progs.on_kvm_exit_btf, hw.btf && !lean);
  bpf_program__set_autoload(skel->progs.on_btf_exit_cnt, hw.btf && lean);
  // Where kvm_exit fires, lean counting finds an exit to the VMM's slot in the cache its
  // thread's kvm_exit filled (and no KVM_RUN hook runs: run_hook_needed).
  const bool lean_vmm = lean && !run_hook_needed(config, hw);
  bpf_program__set_autoload(skel->progs.on_userspace_exit, !hw.vmm_btf && !lean_vmm);
  bpf_program__set_autoload(skel->progs.on_uexit_cnt, !hw.vmm_btf && lean_vmm);
  bpf_program__set_autoload(skel->progs.on_vmm_exit_btf, hw.vmm_btf && !lean_vmm);
  bpf_program__set_autoload(skel->progs.on_vmm_btf_cnt, hw.vmm_btf && lean_vmm);
  bpf_program__set_autoload(skel->progs.on_kvm_entry, !hw.btf && !sites && !config.counts_only);
  bpf_program__set_autoload(skel->progs.on_kvm_entry_sites,
                            !hw.btf && sites && !config.counts_only);
  bpf_program__set_autoload(skel->progs.on_kvm_entry_btf, hw.btf && !config.counts_only);
  const bool drill_events = drill_events_loaded(config);
  const auto drill = drill_programs(*skel);
  for (std::size_t i = 0; i < drill.size(); ++i) {
    bpf_program__set_autoload(drill[i].first, drill_events && !hw.drill_btf[i]);
    bpf_program__set_autoload(drill[i].second, drill_events && hw.drill_btf[i]);
  }
  int err = exits_bpf::load(skel.get());
  if (err) return util::os_error("loading the BPF programs", -err);
  // Every counter slot starts free.
  const int free_fd = bpf_map__fd(skel->maps.free_slots);
  for (std::uint32_t slot = 0; slot < slots; ++slot)
    if (bpf_map_update_elem(free_fd, nullptr, &slot, BPF_ANY) != 0) {
      const int e = errno;
      return util::os_error("filling the free counter slots", e);
    }
  return skel;
}

// The counter array, mapped read-only: a readout reads it in place.
class CountersView {
 public:
  CountersView() = default;
  CountersView(void* addr, std::size_t bytes) : addr_(addr), bytes_(bytes) {}
  CountersView(CountersView&& o) noexcept { *this = std::move(o); }
  CountersView& operator=(CountersView&& o) noexcept {
    std::swap(addr_, o.addr_);
    std::swap(bytes_, o.bytes_);
    return *this;
  }
  ~CountersView() {
    if (addr_) munmap(addr_, bytes_);
  }
  const ks_exit_val* at(std::uint32_t slot) const {
    if (static_cast<std::size_t>(slot + 1) * sizeof(ks_exit_val) > bytes_) return nullptr;
    return static_cast<const ks_exit_val*>(addr_) + slot;
  }

 private:
  void* addr_ = nullptr;
  std::size_t bytes_ = 0;
};

util::Result<CountersView> map_counters(bpf_map* map) {
  const std::size_t bytes =
      static_cast<std::size_t>(bpf_map__max_entries(map)) * sizeof(ks_exit_val);
  const long page = sysconf(_SC_PAGESIZE);
  const std::size_t len = (bytes + page - 1) / page * page;
  void* addr = mmap(nullptr, len, PROT_READ, MAP_SHARED, bpf_map__fd(map), 0);
  if (addr == MAP_FAILED) {
    const int err = errno;
    return util::os_error("mapping the exit counters", err);
  }
  return CountersView(addr, len);
}

}  // namespace

struct ExitCollector::Impl {
  SkelPtr skel;
  std::vector<LinkPtr> links;
  RingPtr ring;
  std::function<void(const ks_exit_event&)> on_exit;
  int streamed = 0;
  std::uint64_t started_ns = 0;
  std::vector<std::string> notes;
  std::map<std::uint32_t, model::VmInfo> vms;
  // Per VM, the process name its counters carry: captured in the kernel at its first exit, so
  // known even when the VM ended before the readout that first met it.
  std::map<std::uint32_t, std::string> seen_comms;
  std::vector<ks_slot_key> keys;  // readout buffers, reused
  std::vector<std::uint32_t> vals;
  CountersView counters;
  std::string hooks;
  bool batch_ok = true;
  std::size_t config_max_entries = 16384;

  std::vector<ks_event> records;  // events of one poll, handed over together

  // The ring carries ks_exit_event (stream_exits) or ks_event (record), never both.
  static int ring_callback(void* ctx, void* data, size_t size) {
    auto* self = static_cast<Impl*>(ctx);
    if (size == sizeof(ks_event)) {
      self->records.push_back(*static_cast<const ks_event*>(data));
      ++self->streamed;
    } else if (size == sizeof(ks_exit_event) && self->on_exit) {
      self->on_exit(*static_cast<const ks_exit_event*>(data));
      ++self->streamed;
    }
    return 0;
  }

  // The BPF side wakes us only when the ring fills up (see wakeup_bytes in exits.bpf.c), so
  // after waiting, whatever arrived is consumed whether or not a wakeup came.
  util::Result<void> wait_and_consume(int timeout_ms) {
    int n = ring_buffer__poll(ring.get(), timeout_ms);
    if (n < 0 && n != -EINTR) return util::os_error("reading the ring buffer", -n);
    n = ring_buffer__consume(ring.get());
    if (n < 0 && n != -EINTR) return util::os_error("reading the ring buffer", -n);
    return {};
  }

  util::Result<void> read_exits(std::map<model::ExitKey, model::ExitStats>& out);
  void see_comm(std::uint32_t pid, const ks_exit_val& v) {
    if (v.comm[0] && !vms.count(pid)) seen_comms.try_emplace(pid, comm_of(v));
  }
  void learn_vm(std::uint32_t pid);
};

// Each (key, thread) counter is folded into its key's: threads of one vCPU add up.
util::Result<void> ExitCollector::Impl::read_exits(
    std::map<model::ExitKey, model::ExitStats>& out) {
  const int fd = bpf_map__fd(skel->maps.slots);
  const std::uint32_t capacity = bpf_map__max_entries(skel->maps.slots);
  keys.resize(capacity);
  vals.resize(capacity);
  auto fold = [&](const ks_slot_key& k, std::uint32_t slot) {
    const ks_exit_val* v = counters.at(slot);
    if (!v) return;
    out[to_model(k.key)] += to_model(*v);
    see_comm(k.key.tgid, *v);
  };

  if (batch_ok) {
    // One syscall per batch instead of two per entry; fall back where the kernel lacks it.
    std::uint32_t token = 0;
    bool first = true;
    for (;;) {
      std::uint32_t count = capacity;
      LIBBPF_OPTS(bpf_map_batch_opts, opts);
      int err = bpf_map_lookup_batch(fd, first ? nullptr : &token, &token, keys.data(), vals.data(),
                                     &count, &opts);
      int e = err ? errno : 0;
      for (std::uint32_t i = 0; i < count; ++i) fold(keys[i], vals[i]);
      first = false;
      if (!err) continue;
      if (e == ENOENT) return {};
      if (e == EINVAL || e == ENOTSUP || e == EOPNOTSUPP) {
        out.clear();
        batch_ok = false;
        break;
      }
      return util::os_error("reading the exits map", e);
    }
  }

  for_each_entry<ks_slot_key, std::uint32_t>(fd, fold);
  return {};
}

void ExitCollector::Impl::learn_vm(std::uint32_t pid) {
  if (vms.count(pid)) return;
  std::optional<std::string> comm;
  std::vector<std::string> argv;
  if (auto id = util::read_identity(static_cast<pid_t>(pid))) {
    comm = std::move(id->comm);
    argv = std::move(id->argv);
  }
  auto seen = seen_comms.find(pid);
  vms.emplace(pid, model::vm_info(pid, comm, argv, seen == seen_comms.end() ? "" : seen->second));
  if (seen != seen_comms.end()) seen_comms.erase(seen);  // the name is kept in `vms` now
}

ExitCollector::ExitCollector(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
ExitCollector::~ExitCollector() = default;

namespace {

// Loads and attaches everything with the hardware-exit hooks of `hw`; on success `impl` holds the
// skeleton and links. A rejected load carries the verifier's last lines.
util::Result<void> load_and_attach(const CollectorConfig& config, const HwHooks& hw,
                                   SkelPtr& skel_out, std::vector<LinkPtr>& links,
                                   std::vector<std::string>& notes) {
  LogCapture capture;
  std::string first_log;
  util::Error first_error;
  SkelPtr skel;
  for (bool with_run_hook : {true, false}) {
    auto loaded = open_and_load(config, hw, with_run_hook);
    if (loaded) {
      skel = std::move(*loaded);
      break;
    }
    if (with_run_hook) {
      first_error = loaded.error();
      first_log = LogCapture::tail(12);
    }
  }
  if (!skel) {
    first_error.context += first_log;
    first_error.hint =
        "the kernel refused kvmscope's BPF programs; the verifier's last lines are above";
    return first_error;
  }

  auto attach = [&](bpf_program* prog, const char* what) -> util::Result<void> {
    if (!bpf_program__autoload(prog)) return {};
    bpf_link* link = bpf_program__attach(prog);
    if (!link) {
      const int err = errno;
      return util::os_error(std::string("attaching to ") + what + LogCapture::tail(6), err);
    }
    links.emplace_back(link);
    return {};
  };
  const auto& p = skel->progs;
  for (auto [prog, what] :
       {std::pair{p.on_fork, "sched:sched_process_fork"},
        std::pair{p.on_exit, "sched:sched_process_exit"}, std::pair{p.on_kvm_exit, "kvm:kvm_exit"},
        std::pair{p.on_kvm_entry, "kvm:kvm_entry"}, std::pair{p.on_kvm_exit_sites, "kvm:kvm_exit"},
        std::pair{p.on_kvm_entry_sites, "kvm:kvm_entry"},
        std::pair{p.on_kvm_exit_cnt, "kvm:kvm_exit"},
        std::pair{p.on_kvm_exit_btf, "tp_btf/kvm_exit"},
        std::pair{p.on_btf_exit_cnt, "tp_btf/kvm_exit"},
        std::pair{p.on_kvm_entry_btf, "tp_btf/kvm_entry"},
        std::pair{p.on_userspace_exit, "kvm:kvm_userspace_exit"},
        std::pair{p.on_uexit_cnt, "kvm:kvm_userspace_exit"},
        std::pair{p.on_vmm_exit_btf, "tp_btf/kvm_userspace_exit"},
        std::pair{p.on_vmm_btf_cnt, "tp_btf/kvm_userspace_exit"}}) {
    if (auto r = attach(prog, what); !r) return r.error();
  }
  const auto drill = drill_programs(*skel);
  for (std::size_t i = 0; i < drill.size(); ++i) {
    const std::string what = std::string("kvm:") + kDrillTracepoints[i].name;
    bpf_program* prog = hw.drill_btf[i] ? drill[i].second : drill[i].first;
    if (auto r = attach(prog, what.c_str()); !r)
      notes.push_back("drill-down events of " + what + " are not available (" +
                      r.error().message() + ")");
  }
  // The KVM_RUN hook is a refinement: without it the counts are still exact.
  util::Result<void> hooked = {};
  if (bpf_program__autoload(p.on_ioctl))
    hooked = attach(p.on_ioctl, "syscalls:sys_enter_ioctl");
  else if (run_hook_needed(config, hw))
    hooked = util::plain_error("it did not load on this kernel");
  if (!hooked)
    notes.push_back("vCPU ids and handling times of exits to the VMM are not available (" +
                    hooked.error().message() + ")");
  skel_out = std::move(skel);
  return {};
}

std::string describe_hooks(const CollectorConfig& config, const HwHooks& hw) {
  std::string s = hw.btf ? "hardware exits: tp_btf/kvm_exit" : "hardware exits: kvm:kvm_exit";
  if (!config.counts_only) s += hw.btf ? " and tp_btf/kvm_entry" : " and kvm:kvm_entry";
  s += hw.btf ? " (BTF raw tracepoints, no trace record; " + hw.why + ")"
              : " (classic tracepoints: " + hw.why + ")";
  if (config.counts_only) s += "; counts only, no handling times";
  s += hw.vmm_btf
           ? "; exits to the VMM: tp_btf/kvm_userspace_exit"
           : "; exits to the VMM: kvm:kvm_userspace_exit (classic tracepoint: " + hw.vmm_why + ")";
  if (!run_hook_needed(config, hw))
    s += ", their vCPU from the thread's last kvm_exit (no KVM_RUN hook)";
  if (drill_events_loaded(config)) {
    std::string classic;
    std::size_t n_classic = 0;
    for (std::size_t i = 0; i < kDrillTracepoints.size(); ++i) {
      if (hw.drill_btf[i]) continue;
      classic += std::string(n_classic++ ? ", " : "") + "kvm:" + kDrillTracepoints[i].name;
    }
    if (n_classic == 0)
      s += "; drill-down events: tp_btf";
    else if (n_classic == kDrillTracepoints.size())
      s += "; drill-down events: classic tracepoints (" + hw.drill_why + ")";
    else
      s += "; drill-down events: tp_btf but " + classic + " (classic: " + hw.drill_why + ")";
  }
  return s;
}

}  // namespace

util::Result<std::unique_ptr<ExitCollector>> ExitCollector::start(const CollectorConfig& config) {
  auto impl = std::make_unique<Impl>();
  auto wanted = hooks_wanted(config.hooks);
  if (!wanted) return wanted.error();
  HwHooks hw = hw_hooks(config, *wanted);
  // Forced BTF hooks are an error where they cannot be had, except for record and --by
  // function, which always take the classic ones (they need the guest RIP).
  if (*wanted == Hooks::btf && !hw.btf && !config.record && !config.guest_sites)
    return util::plain_error("KVMSCOPE_TRACEPOINTS=btf: BTF raw tracepoints cannot be used here (" +
                             hw.why + ")");
  std::vector<std::string> notes;
  auto loaded = load_and_attach(config, hw, impl->skel, impl->links, notes);
  const bool any_btf =
      hw.btf || hw.vmm_btf ||
      std::find(hw.drill_btf.begin(), hw.drill_btf.end(), true) != hw.drill_btf.end();
  if (!loaded && any_btf && *wanted == Hooks::automatic) {
    // The classic tracepoints are the fallback; say why they were needed.
    HwHooks classic;
    classic.why = classic.vmm_why = classic.drill_why =
        "the BTF raw tracepoints failed: " + loaded.error().message();
    classic.fires = hw.fires;
    impl->links.clear();
    impl->skel.reset();
    notes.clear();
    hw = classic;
    loaded = load_and_attach(config, hw, impl->skel, impl->links, notes);
  }
  if (!loaded) return loaded.error();
  impl->notes = std::move(notes);
  impl->hooks = describe_hooks(config, hw);
  if (config.aggregate) {
    auto view = map_counters(impl->skel->maps.counters);
    if (!view) return view.error();
    impl->counters = std::move(*view);
  }

  if (config.stream_exits || config.record) {
    impl->ring.reset(ring_buffer__new(bpf_map__fd(impl->skel->maps.events), Impl::ring_callback,
                                      impl.get(), nullptr));
    if (!impl->ring) {
      const int err = errno;
      return util::os_error("creating the ring buffer reader", err);
    }
  }
  impl->config_max_entries = config.max_entries;
  impl->started_ns = util::monotonic_ns();
  return std::unique_ptr<ExitCollector>(new ExitCollector(std::move(impl)));
}

util::Result<void> ExitCollector::add_target(pid_t pid) {
  __u32 key = static_cast<__u32>(pid);
  __u8 one = 1;
  if (bpf_map_update_elem(bpf_map__fd(impl_->skel->maps.targets), &key, &one, BPF_ANY) != 0) {
    const int err = errno;
    return util::os_error("adding pid " + std::to_string(pid) + " to the BPF filter", err);
  }
  impl_->learn_vm(key);
  return {};
}

void ExitCollector::name_vm(pid_t pid, model::VmInfo info) {
  impl_->vms[static_cast<std::uint32_t>(pid)] = std::move(info);
}

util::Result<model::Snapshot> ExitCollector::snapshot() {
  model::Snapshot snap;
  snap.started_ns = impl_->started_ns;
  snap.taken_ns = util::monotonic_ns();
  auto r = impl_->read_exits(snap.exits);
  if (!r) return r.error();

  std::uint64_t health[KS_HEALTH_NR] = {};
  for (__u32 i = 0; i < KS_HEALTH_NR; ++i) {
    auto total = health_total(impl_->skel->maps.health, i);
    if (!total) return total.error();
    health[i] = *total;
  }
  snap.health.exits_not_stored = health[KS_HEALTH_EXITS_NOT_STORED];
  snap.health.events_lost = health[KS_HEALTH_EVENTS_LOST];
  snap.health.threads_not_stored = health[KS_HEALTH_THREADS_NOT_STORED];
  snap.health.targets_not_stored = health[KS_HEALTH_TARGETS_NOT_STORED];

  return snap;
}

void ExitCollector::name_vms(model::Snapshot& snap) {
  for (const auto& [key, stats] : snap.exits) impl_->learn_vm(key.vm_pid);
  for (const auto& [key, stats] : snap.exits) snap.vms[key.vm_pid] = impl_->vms[key.vm_pid];
}

util::Result<int> ExitCollector::poll_stream(
    int timeout_ms, const std::function<void(const ks_exit_event&)>& on_exit) {
  if (!impl_->ring) return util::plain_error("poll_stream: the collector was not set to stream");
  impl_->on_exit = on_exit;
  impl_->streamed = 0;
  if (auto r = impl_->wait_and_consume(timeout_ms); !r) return r.error();
  return impl_->streamed;
}

util::Result<model::DrillDown> ExitCollector::drilldown() {
  model::DrillDown drill(impl_->config_max_entries);
  const int fd = bpf_map__fd(impl_->skel->maps.drill_counts);
  for_each_entry<ks_drill_key, ks_exit_val>(
      fd, [&](const ks_drill_key& key, const ks_exit_val& val) {
        const std::uint32_t pid = key.tgid;
        impl_->see_comm(pid, val);
        model::DrillKey k;
        switch (key.kind) {
          case KS_DRILL_PORT:
            k = model::port_key(pid, key.value, ks_port_flags_out(key.flags),
                                ks_port_flags_size(key.flags));
            break;
          case KS_DRILL_MMIO:
            k = model::mmio_key(pid, key.value, static_cast<model::MmioAccess>(key.flags));
            break;
          case KS_DRILL_MSR:
            k = model::msr_key(pid, key.value, ks_msr_flags_write(key.flags),
                               ks_msr_flags_fault(key.flags));
            break;
          case KS_DRILL_CPUID:
            k = model::cpuid_key(pid, key.value);
            break;
          case KS_DRILL_HYPERCALL:
            k = model::hypercall_key(pid, key.value);
            break;
          default:
            return;  // a kind this build does not know
        }
        drill.at(k) += to_model(val);
      });
  for (const auto& [k, stats] : drill.entries()) impl_->learn_vm(k.vm_pid);
  return drill;
}

util::Result<model::GuestSites> ExitCollector::guest_sites(const model::Snapshot& snap) {
  // The map holds at most max_entries sites: the model's cap never cuts it further.
  model::GuestSites sites(std::max<std::size_t>(impl_->config_max_entries, 1));
  const int fd = bpf_map__fd(impl_->skel->maps.sites);
  for_each_entry<ks_site_key, ks_site_val>(fd, [&](const ks_site_key& key, const ks_site_val& v) {
    ks_exit_key k{};
    k.tgid = key.tgid;
    k.reason = key.reason;
    k.isa = key.isa;
    k.level = KS_LEVEL_HW;
    const model::Reason reason = model::reason_of(k);
    model::SiteStats& s =
        sites.at(key.tgid, reason, static_cast<model::GuestSpace>(key.space), key.rip);
    s.stats.count += v.count;
    s.stats.timed += v.timed;
    s.stats.time_ns += v.time_ns;
    s.stats.max_ns = std::max<std::uint64_t>(s.stats.max_ns, v.max_ns);
    if (v.detail & KS_SITE_IO)
      model::GuestSites::note_io(s, ks_port_flags_out(v.io_flags), ks_port_flags_size(v.io_flags),
                                 v.io_port);
    if (v.detail & KS_SITE_MSR) model::GuestSites::note_msr(s, (v.detail & KS_SITE_MSR_WRITE) != 0);
    if (v.detail & KS_SITE_MIXED) s.detail.mixed = true;
    impl_->learn_vm(key.tgid);
  });
  auto not_stored = health_total(impl_->skel->maps.health, KS_HEALTH_SITES_NOT_STORED);
  if (!not_stored) return not_stored.error();
  if (*not_stored != 0) model::add_exits_not_stored(sites, snap);
  return sites;
}

util::Result<int> ExitCollector::poll_records(
    int timeout_ms, const std::function<void(std::span<const ks_event>)>& on_events) {
  if (!impl_->ring) return util::plain_error("poll_records: the collector was not set to record");
  impl_->streamed = 0;
  impl_->records.clear();
  if (auto r = impl_->wait_and_consume(timeout_ms); !r) return r.error();
  if (!impl_->records.empty()) on_events(impl_->records);
  return impl_->streamed;
}

util::Result<std::vector<std::uint64_t>> ExitCollector::lost_per_cpu() {
  return health_per_cpu(impl_->skel->maps.health, KS_HEALTH_EVENTS_LOST, "the lost-event counters");
}

const std::vector<std::string>& ExitCollector::notes() const {
  return impl_->notes;
}

const std::string& ExitCollector::hooks() const {
  return impl_->hooks;
}

std::uint64_t ExitCollector::started_ns() const {
  return impl_->started_ns;
}

namespace {

// Deletes the entries of a hash map whose key starts with one of `tgids` (the keys are collected
// first: deleting while walking a hash map can restart the walk).
template <class Key>
util::Result<void> delete_tgids(bpf_map* map, const std::set<std::uint32_t>& tgids) {
  const int fd = bpf_map__fd(map);
  std::vector<Key> doomed;
  for_each_key<Key>(fd, [&](const Key& k) {
    if (tgids.count(k.tgid)) doomed.push_back(k);
  });
  for (const Key& k : doomed)
    if (bpf_map_delete_elem(fd, &k) != 0 && errno != ENOENT) {
      const int err = errno;
      return util::os_error(std::string("freeing entries of the ") + bpf_map__name(map) + " map",
                            err);
    }
  return {};
}

// Frees the exit counters of `tgids`: each slot is zeroed, then handed back to the BPF side.
template <class Maps>
util::Result<void> free_slots_of(const Maps& maps, const std::set<std::uint32_t>& tgids) {
  const int fd = bpf_map__fd(maps.slots);
  std::vector<ks_slot_key> doomed;
  for_each_key<ks_slot_key>(fd, [&](const ks_slot_key& k) {
    if (tgids.count(k.key.tgid)) doomed.push_back(k);
  });
  static const ks_exit_val zero{};
  for (const ks_slot_key& k : doomed) {
    std::uint32_t slot = 0;
    if (bpf_map_lookup_elem(fd, &k, &slot) != 0) continue;
    if (bpf_map_delete_elem(fd, &k) != 0 && errno != ENOENT) {
      const int err = errno;
      return util::os_error("freeing entries of the slots map", err);
    }
    if (bpf_map_update_elem(bpf_map__fd(maps.counters), &slot, &zero, BPF_ANY) != 0 ||
        bpf_map_update_elem(bpf_map__fd(maps.free_slots), nullptr, &slot, BPF_ANY) != 0) {
      const int err = errno;
      return util::os_error("freeing an exit counter", err);
    }
  }
  return {};
}

}  // namespace

util::Result<void> ExitCollector::forget_vms(std::span<const std::uint32_t> pids) {
  if (pids.empty()) return {};
  const std::set<std::uint32_t> tgids(pids.begin(), pids.end());
  if (auto r = free_slots_of(impl_->skel->maps, tgids); !r) return r;
  // --counts-only's per-CPU slot caches (exits.bpf.c, struct ks_lean) drop every line filled
  // before this: a new thread reusing a dead one's ids must not find its freed slots there.
  impl_->skel->bss->lean_gen = impl_->skel->bss->lean_gen + 1;
  if (auto r = delete_tgids<ks_drill_key>(impl_->skel->maps.drill_counts, tgids); !r) return r;
  if (auto r = delete_tgids<ks_site_key>(impl_->skel->maps.sites, tgids); !r) return r;
  for (std::uint32_t pid : tgids) {
    (void)bpf_map_delete_elem(bpf_map__fd(impl_->skel->maps.targets), &pid);  // absent: fine
    impl_->vms.erase(pid);
    impl_->seen_comms.erase(pid);
  }
  return {};
}

util::Result<ProgramStats> ExitCollector::program_stats() {
  ProgramStats stats;
  auto flag = util::read_file("/proc/sys/kernel/bpf_stats_enabled");
  stats.enabled = flag && !flag->empty() && (*flag)[0] == '1';
  bpf_program* prog = nullptr;
  bpf_object__for_each_program(prog, impl_->skel->obj) {
    const int fd = bpf_program__fd(prog);
    if (fd < 0) continue;  // not loaded on this kernel
    bpf_prog_info info{};
    __u32 len = sizeof info;
    if (bpf_obj_get_info_by_fd(fd, &info, &len) != 0) {
      const int err = errno;
      return util::os_error(
          std::string("reading the info of BPF program ") + bpf_program__name(prog), err);
    }
    stats.programs.push_back({bpf_program__name(prog), info.run_time_ns, info.run_cnt});
  }
  return stats;
}

}  // namespace kvmscope::collect
