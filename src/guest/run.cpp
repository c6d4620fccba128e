// guest::run: sets the VM up, runs one thread per vCPU and watches them from the calling thread
// (progress, the guest's done flag, SIGINT/SIGTERM). See guest.h for the semantics.
#include <pthread.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <latch>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "guest/exit_check.h"
#include "guest/exit_query_abi.h"
#include "guest/guest.h"
#include "guest/guest_layout.h"
#include "guest/kvm_vm.h"
#include "guest/signal_scope.h"

// The guest's code bytes, assembled from guest_code.S.
extern "C" const unsigned char ks_guest_code_start[];
extern "C" const unsigned char ks_guest_code_end[];

namespace kvmscope::guest {

namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

// How often the watcher looks at the guests: bounds the latency of ending a kicked run.
constexpr auto kPoll = 2ms;
// A kicked vCPU leaves KVM_RUN within microseconds; one that does not within this is stuck.
constexpr auto kStopGrace = 5s;

struct Session;

struct VcpuState {
  Session* session = nullptr;
  Vcpu* vcpu = nullptr;
  std::uint8_t* data = nullptr;  // this vCPU's data block in guest RAM
  pthread_t thread{};
  bool started = false;

  std::atomic<bool> stop{false};
  std::atomic<bool> exited{false};
  std::atomic<std::uint64_t> vmm_exits{0};

  // Written by the vCPU thread before it sets `exited`, read after that.
  std::array<std::uint64_t, kKindCount> seen{};
  std::optional<util::Error> error;
  bool reached_last_exit = false;
  Clock::time_point last_exit_at{};
  bool query = false;       // this vCPU runs the exit-statistics query after its plan
  bool query_done = false;  // ... and stopped at the query's HLT

  // The watcher's own.
  std::uint64_t last_progress_value = 0;
  Clock::time_point last_progress{};
  bool saw_done = false;
  Clock::time_point saw_done_at{};
};

// Everything the vCPU threads touch, in one place so that it can outlive them if one never
// leaves KVM_RUN (then it is leaked on purpose rather than freed under a running thread).
struct Session {
  Vm vm;
  Plan plan;  // a copy: a leaked session must not point into the caller's stack
  Vendor vendor = Vendor::unknown;
  std::string vendor_string;
  std::size_t query_codes = 0;  // codes written to the query area
  std::latch go{1};
  std::vector<VcpuState> vcpus;

  Session(Vm v, const Plan& p) : vm(std::move(v)), plan(p), vcpus(p.vcpus) {
    for (auto& s : vcpus) s.session = this;
  }
};

std::uint32_t load_u32(const std::uint8_t* data, std::size_t offset) {
  // The guest writes these while we read: atomic_ref keeps the reads whole and uncached.
  auto* p = const_cast<std::uint32_t*>(reinterpret_cast<const std::uint32_t*>(data + offset));
  return std::atomic_ref<std::uint32_t>(*p).load(std::memory_order_relaxed);
}

std::uint64_t load_u64(const std::uint8_t* data, std::size_t offset) {
  std::uint64_t v;
  std::memcpy(&v, data + offset, sizeof v);
  return v;
}

void store_u64(std::uint8_t* data, std::size_t offset, std::uint64_t v) {
  std::memcpy(data + offset, &v, sizeof v);
}

void store_u32(std::uint8_t* data, std::size_t offset, std::uint32_t v) {
  std::memcpy(data + offset, &v, sizeof v);
}

CpuidRegs load_regs(const std::uint8_t* area, std::size_t offset) {
  CpuidRegs r;
  std::memcpy(&r.eax, area + offset, 4);
  std::memcpy(&r.ebx, area + offset + 4, 4);
  std::memcpy(&r.ecx, area + offset + 8, 4);
  std::memcpy(&r.edx, area + offset + 12, 4);
  return r;
}

// What the querying vCPU stored, read once it stopped at the query's HLT.
ExitQuery read_query(const Session& session) {
  const std::uint8_t* area = session.vm.ram() + KS_GUEST_QUERY_GPA;
  RawQuery raw;
  raw.asked = session.query_codes;
  raw.probe = load_regs(area, KS_Q_PROBE);
  raw.total_exits = load_regs(area, KS_Q_TOTAL_EXITS);
  raw.total_cycles = load_regs(area, KS_Q_TOTAL_CYCLES);
  std::uint32_t done = 0;
  std::memcpy(&done, area + KS_Q_DONE, sizeof done);
  for (std::size_t i = 0; i < done && i < session.query_codes; ++i) {
    const std::size_t at = KS_Q_ENTRIES + i * KS_Q_ENTRY_SIZE;
    RawEntry e;
    std::memcpy(&e.code, area + at, sizeof e.code);
    e.exits = load_regs(area, at + KS_Q_ENTRY_EXITS);
    e.cycles = load_regs(area, at + KS_Q_ENTRY_CYCLES);
    raw.entries.push_back(e);
  }
  ExitQuery q = decode_query(raw);
  q.vendor = session.vendor;
  q.vendor_string = session.vendor_string;
  return q;
}

std::size_t remaining_offset(Kind kind) {
  return KS_D_REMAINING + static_cast<std::size_t>(kind) * 8;
}

void* vcpu_thread(void* raw) {
  VcpuState& s = *static_cast<VcpuState*>(raw);
  Session& session = *s.session;
  const Plan& plan = session.plan;
  session.go.wait();

  const std::uint64_t expected = plan.vmm_exits_per_vcpu();
  std::uint64_t seen_total = 0;
  kvm_run* run = s.vcpu->run();
  // With exits to the VMM planned, stop at the last one without resuming the vCPU; without,
  // run until the watcher kicks us out (the guest flagged done, or a stop was asked). The
  // querying vCPU goes on past its plan until the query's HLT.
  auto more = [&] { return s.query ? !s.query_done : expected == 0 || seen_total < expected; };
  while (more()) {
    if (s.stop.load(std::memory_order_acquire)) break;
    if (::ioctl(s.vcpu->fd.get(), KVM_RUN, 0) < 0) {
      int err = errno;
      if (err == EINTR || err == EAGAIN) continue;  // a kick, or a stray signal: look again
      s.error = util::os_error("KVM_RUN on vCPU " + std::to_string(s.vcpu->id), err);
      break;
    }
    int step = static_cast<int>(load_u32(s.data, KS_D_STEP));
    if (s.query && step == KS_STEP_QUERY && run->exit_reason == KVM_EXIT_HLT) {
      s.query_done = true;
      s.vmm_exits.store(seen_total + 1, std::memory_order_release);  // progress for the watcher
      break;
    }
    auto kind = check_exit(*run, s.vcpu->id, step);
    if (!kind) {
      s.error = kind.error();
      break;
    }
    auto& n = s.seen[static_cast<std::size_t>(*kind)];
    if (n >= plan[*kind]) {
      s.error = util::plain_error("vCPU " + std::to_string(s.vcpu->id) + ": one " +
                                  std::string(kind_name(*kind)) + " exit more than the " +
                                  std::to_string(plan[*kind]) + " planned");
      break;
    }
    ++n;
    s.vmm_exits.store(++seen_total, std::memory_order_release);
  }
  if (s.query ? s.query_done : expected > 0 && seen_total == expected) {
    s.reached_last_exit = true;
    s.last_exit_at = Clock::now();
  }
  s.exited.store(true, std::memory_order_release);
  return nullptr;
}

void kick(VcpuState& s) {
  s.stop.store(true, std::memory_order_release);
  // immediate_exit covers a kick that lands just before the thread enters KVM_RUN.
  std::atomic_ref<__u8>(s.vcpu->run()->immediate_exit).store(1, std::memory_order_relaxed);
  ::pthread_kill(s.thread, SignalScope::kKickSignal);
}

// Kicks every running vCPU until its thread has left KVM_RUN, then joins them all. False when a
// thread is stuck; it is then left running and its session must not be freed.
bool stop_all(Session& session) {
  auto deadline = Clock::now() + kStopGrace;
  for (;;) {
    bool all = true;
    for (auto& s : session.vcpus) {
      if (!s.started || s.exited.load(std::memory_order_acquire)) continue;
      all = false;
      kick(s);
    }
    if (all) break;
    if (Clock::now() > deadline) return false;
    std::this_thread::sleep_for(1ms);
  }
  for (auto& s : session.vcpus)
    if (s.started) ::pthread_join(s.thread, nullptr);
  return true;
}

std::string stall_reason(int step) {
  switch (step) {
    case KS_STEP_NONE:
      return "the vCPU never started running the guest code";
    case KS_STEP_QUERY:
      return "KVM did not complete the exit-statistics query's CPUIDs";
    case KS_STEP_VMCALL:
      if (::access("/sys/module/kvm_pvm", F_OK) == 0)
        return "this host's /dev/kvm is kvm_pvm, which emulates guests and does not complete "
               "VMCALL; --vmcall needs hardware virtualization (VMX/SVM), e.g. the nested test bed";
      return "KVM did not complete the guest's VMCALL/VMMCALL";
    default:
      return "KVM did not complete the guest's " + std::string(step_name(step)) +
             " (is the host overloaded?)";
  }
}

// What each vCPU did, read after its thread has stopped.
VcpuOutcome collect(const Plan& plan, const VcpuState& s) {
  VcpuOutcome out;
  for (Kind k : kKinds) {
    auto i = static_cast<std::size_t>(k);
    out.done[i] = exits_to_vmm(k)
                      ? Count(s.seen[i])
                      : done_from_remaining(plan[k], load_u64(s.data, remaining_offset(k)));
  }
  out.step = static_cast<int>(load_u32(s.data, KS_D_STEP));
  return out;
}

util::Result<void> prepare(Session& session) {
  const Plan& plan = session.plan;
  Vm& vm = session.vm;
  auto code_size = static_cast<std::size_t>(ks_guest_code_end - ks_guest_code_start);
  static_assert(KS_GUEST_DATA_GPA + kMaxVcpus * KS_GUEST_DATA_STRIDE <= KS_GUEST_RAM_SIZE);
  if (KS_GUEST_CODE_GPA + code_size > KS_GUEST_DATA_GPA)
    return util::plain_error("guest code does not fit below its data");
  std::memcpy(vm.ram() + KS_GUEST_CODE_GPA, ks_guest_code_start, code_size);

  // VMCALL on Intel (and VIA/Zhaoxin), VMMCALL on AMD and Hygon: each vendor's hardware only
  // knows its own, and KVM would #UD-patch the other one.
  const bool vmmcall = session.vendor == Vendor::amd;
  if (plan.query_exits) {
    const auto codes = query_codes(session.vendor);
    static_assert(KS_GUEST_QUERY_GPA + 0x10000 <= KS_GUEST_RAM_SIZE);
    static_assert(KS_GUEST_DATA_GPA + kMaxVcpus * KS_GUEST_DATA_STRIDE <= KS_GUEST_QUERY_GPA);
    if (codes.empty())
      return util::plain_error("--query-exits: the host CPU's vendor '" + session.vendor_string +
                               "' is neither Intel nor AMD: which exit codes to ask about is "
                               "not known");
    if (codes.size() > KS_Q_MAX_ENTRIES) return util::plain_error("too many exit codes to query");
    std::uint8_t* area = vm.ram() + KS_GUEST_QUERY_GPA;
    store_u32(area, KS_Q_COUNT, static_cast<std::uint32_t>(codes.size()));
    for (std::size_t i = 0; i < codes.size(); ++i)
      store_u32(area, KS_Q_ENTRIES + i * KS_Q_ENTRY_SIZE, codes[i]);
    session.query_codes = codes.size();
  }
  for (unsigned id = 0; id < plan.vcpus; ++id) {
    if (auto r = vm.add_vcpu(id); !r) return r.error();
    Vcpu& vcpu = vm.vcpus().back();
    const unsigned data_gpa = KS_GUEST_DATA_GPA + id * KS_GUEST_DATA_STRIDE;
    RealModeStart start;
    start.cs = 0;
    start.ip = KS_GUEST_CODE_GPA;
    start.ds = static_cast<std::uint16_t>(data_gpa >> 4);
    start.es = static_cast<std::uint16_t>(KS_GUEST_MMIO_GPA >> 4);
    start.fs = static_cast<std::uint16_t>(KS_GUEST_QUERY_GPA >> 4);
    if (auto r = vm.set_real_mode(vcpu, start); !r) return r.error();

    std::uint8_t* data = vm.ram() + data_gpa;
    for (Kind k : kKinds) store_u64(data, remaining_offset(k), plan[k]);
    if (plan[Kind::msr_write] > 0) {
      auto value = vm.read_msr(vcpu, KS_GUEST_MSR);
      if (!value) return value.error();
      store_u64(data, KS_D_MSR_VALUE, *value);
    }
    data[KS_D_USE_VMMCALL] = vmmcall ? 1 : 0;

    VcpuState& s = session.vcpus[id];
    s.vcpu = &vcpu;
    s.data = data;
    s.query = plan.query_exits && id == 0;
    data[KS_D_QUERY] = s.query ? 1 : 0;
  }
  return {};
}

// Starts one thread per vCPU, named like QEMU's; they wait for session.go. On failure the
// threads already started are stopped and joined.
util::Result<void> start_threads(Session& session) {
  for (auto& s : session.vcpus) {
    if (int err = ::pthread_create(&s.thread, nullptr, vcpu_thread, &s); err != 0) {
      for (auto& t : session.vcpus) t.stop.store(true);
      session.go.count_down();
      for (auto& t : session.vcpus)
        if (t.started) ::pthread_join(t.thread, nullptr);
      return util::os_error("start the thread of vCPU " + std::to_string(s.vcpu->id), err);
    }
    s.started = true;
    // QEMU's name, so that tools which group threads by it see us as they see QEMU (at most 15
    // characters: "CPU 63/KVM" fits).
    std::string name = "CPU " + std::to_string(s.vcpu->id) + "/KVM";
    ::pthread_setname_np(s.thread, name.c_str());
  }
  return {};
}

// Why the watcher stopped looking.
struct Watch {
  Ending ending = Ending::last_exit;  // last_exit: every thread ended by itself (or failed)
  int signal = 0;
  const VcpuState* stalled = nullptr;
  Clock::time_point at{};
};

// Polls the vCPUs until every thread has ended, one failed or stalled, or SIGINT/SIGTERM came.
// A vCPU whose guest flagged done is kicked out of KVM_RUN (again each round until it is out).
Watch watch(Session& session, std::chrono::seconds timeout) {
  Watch w;
  for (;;) {
    timespec poll{0, std::chrono::nanoseconds(kPoll).count()};
    int sig = ::sigtimedwait(&SignalScope::stop_set(), nullptr, &poll);
    w.at = Clock::now();
    if (sig > 0) {
      w.ending = Ending::interrupted;
      w.signal = sig;
      return w;
    }
    bool all_exited = true, failed = false;
    for (auto& s : session.vcpus) {
      if (s.exited.load(std::memory_order_acquire)) {
        failed = failed || s.error.has_value();
        continue;
      }
      all_exited = false;
      if (load_u32(s.data, KS_D_STEP) == KS_STEP_DONE) {
        if (!s.saw_done) s.saw_done_at = w.at;
        s.saw_done = true;
        kick(s);
        continue;
      }
      std::uint64_t progress = load_u32(s.data, KS_D_TICK) + s.vmm_exits.load();
      if (progress != s.last_progress_value) {
        s.last_progress_value = progress;
        s.last_progress = w.at;
      } else if (w.at - s.last_progress >= timeout && !w.stalled) {
        w.stalled = &s;
      }
    }
    if (w.stalled) w.ending = Ending::stalled;
    if (failed || w.stalled || all_exited) return w;
  }
}

// The outcome once every thread has stopped: what each vCPU did, and for a run that ended by
// itself, proof that every vCPU did the whole plan.
util::Result<Outcome> finish(const Session& session, const Watch& w, Clock::time_point t0) {
  const Plan& plan = session.plan;
  Outcome out;
  out.ending = w.ending;
  out.signal = w.signal;
  for (const auto& s : session.vcpus) out.vcpus.push_back(collect(plan, s));
  auto end = w.at;
  if (w.ending == Ending::stalled) {
    const unsigned id = w.stalled->vcpu->id;
    const auto& v = out.vcpus[id];
    std::string done_of;  // how far the stalled step got
    if (v.step >= KS_STEP_CPUID && v.step <= KS_STEP_HLT) {
      Kind k = kKinds[v.step - 1];
      done_of = " (" + count_text(v[k]) + " of " + std::to_string(plan[k]) + " done)";
    }
    out.detail = "vCPU " + std::to_string(id) + " made no progress for " +
                 std::to_string(plan.timeout_s) + " s in step " + std::string(step_name(v.step)) +
                 done_of + ": " + stall_reason(v.step);
  } else if (w.ending != Ending::interrupted) {
    end = t0;
    for (std::size_t i = 0; i < out.vcpus.size(); ++i) {
      for (Kind k : kKinds)
        if (out.vcpus[i][k] != plan[k])
          return util::plain_error("vCPU " + std::to_string(i) + " ended after " +
                                   count_text(out.vcpus[i][k]) + " of " + std::to_string(plan[k]) +
                                   " " + std::string(kind_name(k)));
      const auto& s = session.vcpus[i];
      end = std::max(end, s.reached_last_exit ? s.last_exit_at : s.saw_done_at);
    }
    out.ending = plan.vmm_exits_per_vcpu() > 0 ? Ending::last_exit : Ending::kicked;
  }
  if (!session.vcpus.empty() && session.vcpus[0].query_done) out.query = read_query(session);
  out.elapsed_s = std::chrono::duration<double>(end - t0).count();
  return out;
}

}  // namespace

std::string_view step_name(int step) {
  if (step >= KS_STEP_CPUID && step <= KS_STEP_HLT) return kind_name(kKinds[step - 1]);
  if (step == KS_STEP_QUERY) return "query";
  return step == KS_STEP_DONE ? "done" : "start";
}

std::string count_text(Count count) {
  return count ? std::to_string(*count) : "unknown";
}

Count done_from_remaining(std::uint64_t planned, std::uint64_t remaining) {
  if (remaining > planned) return std::nullopt;
  return planned - remaining;
}

Count Outcome::total(Kind kind) const {
  std::uint64_t n = 0;
  for (const auto& v : vcpus) {
    if (!v[kind]) return std::nullopt;
    n += *v[kind];
  }
  return n;
}

Count Outcome::total() const {
  std::uint64_t n = 0;
  for (Kind k : kKinds) {
    const Count t = total(k);
    if (!t) return std::nullopt;
    n += *t;
  }
  return n;
}

util::Result<Outcome> run(const Plan& plan) {
  if (plan.vcpus < 1 || plan.vcpus > kMaxVcpus)
    return util::plain_error("--vcpus: expected 1 to 64");
  auto vm = Vm::create(KS_GUEST_RAM_SIZE);
  if (!vm) return vm.error();
  auto session = std::make_unique<Session>(std::move(*vm), plan);
  session->vendor_string = host_vendor_string();
  session->vendor = vendor_of(session->vendor_string);
  // vcpus() must not reallocate once VcpuState points into it.
  session->vm.vcpus().reserve(plan.vcpus);
  if (auto r = prepare(*session); !r) return r.error();

  SignalScope signals;
  if (auto r = start_threads(*session); !r) return r.error();
  const auto t0 = Clock::now();
  for (auto& s : session->vcpus) s.last_progress = t0;
  session->go.count_down();
  Watch watched = watch(*session, std::chrono::seconds(plan.timeout_s));

  if (!stop_all(*session)) {
    static_cast<void>(session.release());  // a vCPU thread still uses it: leak, never free
    return util::plain_error("a vCPU thread did not leave KVM_RUN after being kicked for 5 s");
  }
  for (const auto& s : session->vcpus)
    if (s.error) return *s.error;
  return finish(*session, watched, t0);
}

}  // namespace kvmscope::guest
