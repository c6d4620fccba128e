#include "model/tracepoint_events.h"

#include <algorithm>

namespace kvmscope::model {
namespace {

// kvmscope's isa for arm64, whose kvm_exit has esr_ec instead of isa/exit_reason.
constexpr std::uint64_t kIsaArm64 = 3;

}  // namespace

TracepointEvents::TracepointEvents(const TracingData& meta, ThreadTable& threads)
    : big_endian_(meta.big_endian), threads_(threads) {
  known_ids_.insert(meta.event_ids.begin(), meta.event_ids.end());
  for (const std::string& text : meta.event_formats) {
    auto format = parse_event_format(text);
    if (!format) {
      if (bad_formats_.size() < 16) bad_formats_.push_back(format.error().message());
      continue;
    }
    const std::string& n = format->name;
    // Field order per kind is what map() indexes.
    if (n == "kvm_exit")
      add(*format, Kind::exit, {"exit_reason", "isa", "guest_rip", "vcpu_id", "esr_ec", "vcpu_pc"});
    else if (n == "kvm_entry")
      add(*format, Kind::entry, {"vcpu_id"});
    else if (n == "kvm_userspace_exit")
      add(*format, Kind::userspace_exit, {"reason", "errno"});
    else if (n == "kvm_pio")
      add(*format, Kind::pio, {"rw", "port", "size", "count"});
    else if (n == "kvm_mmio")
      add(*format, Kind::mmio, {"type", "gpa", "len"});
    else if (n == "kvm_msr")
      add(*format, Kind::msr, {"write", "ecx", "exception"});
    else if (n == "kvm_cpuid")
      add(*format, Kind::cpuid, {"function", "index"});
    else if (n == "kvm_hypercall")
      add(*format, Kind::hypercall, {"nr"});
    else if (n == "sched_process_exit")
      add(*format, Kind::process_exit, {"pid", "group_dead"});
    else if (n == "sched_process_exec")
      add(*format, Kind::process_exec, {"pid"});
    else if (n == "task_newtask")
      add(*format, Kind::new_task, {"pid", "clone_flags"});
  }
}

void TracepointEvents::add(const EventFormat& format, Kind kind,
                           std::initializer_list<const char*> fields) {
  Handler h{kind, {}, 0};
  auto take = [&](const FormatField* ff, Field& f) {
    // Numbers of 1 to 8 bytes only: anything else is not the field kvmscope knows.
    if (ff == nullptr || ff->size == 0 || ff->size > 8) return;
    f = Field{ff->offset, ff->size, ff->is_signed};
    h.min_size = std::max<std::size_t>(h.min_size, std::size_t{ff->offset} + ff->size);
  };
  Field pid;
  take(format.field("common_pid"), pid);
  if (pid.size != 0) common_pid_ = pid;
  int i = 0;
  for (const char* name : fields) take(format.field(name), h.f[i++]);
  by_id_[static_cast<int>(format.id)] = h;
  known_ids_.insert(static_cast<int>(format.id));
  names_.insert(format.name);
}

bool TracepointEvents::has_event(const std::string& name) const {
  return names_.contains(name);
}

bool TracepointEvents::get(std::span<const std::uint8_t> data, const Field& f,
                           std::uint64_t& out) const {
  if (f.size == 0 || std::size_t{f.offset} + f.size > data.size()) return false;
  std::uint64_t v = 0;
  for (unsigned i = 0; i < f.size; ++i) {
    const unsigned shift = big_endian_ ? 8 * (f.size - 1 - i) : 8 * i;
    v |= static_cast<std::uint64_t>(data[f.offset + i]) << shift;
  }
  out = v;
  return true;
}

std::int64_t TracepointEvents::get_signed(std::span<const std::uint8_t> data,
                                          const Field& f) const {
  std::uint64_t v = 0;
  if (!get(data, f, v)) return 0;
  if (f.is_signed && f.size < 8) {
    const std::uint64_t sign = 1ull << (8 * f.size - 1);
    return static_cast<std::int64_t>(v ^ sign) - static_cast<std::int64_t>(sign);
  }
  return static_cast<std::int64_t>(v);
}

bool TracepointEvents::map(std::span<const std::uint8_t> data, std::uint16_t cpu, ks_event& out) {
  std::uint64_t type = 0, pid = 0;
  if (!get(data, common_type_, type) || !get(data, common_pid_, pid)) {
    ++damaged_;
    return false;
  }
  auto it = by_id_.find(static_cast<int>(type));
  if (it == by_id_.end()) {
    if (known_ids_.contains(static_cast<int>(type)))
      ++skipped_;
    else
      ++damaged_;
    return false;
  }
  const Handler& h = it->second;
  if (data.size() < h.min_size) {
    ++damaged_;
    return false;
  }
  const auto tid = static_cast<std::uint32_t>(pid);
  const Field* f = h.f;
  const auto d = data;  // short name for the field reads below
  std::uint64_t v0 = 0, v1 = 0, v2 = 0, v3 = 0;

  out = ks_event{};
  out.tid = tid;
  out.cpu = cpu;
  switch (h.kind) {
    case Kind::exit:
      if (get(d, f[0], out.a)) {  // x86: exit_reason, isa, guest_rip
        get(d, f[1], out.b);
        get(d, f[2], out.c);
      } else if (get(d, f[4], out.a)) {  // arm64: esr_ec, vcpu_pc
        out.b = kIsaArm64;
        get(d, f[5], out.c);
      } else {
        ++skipped_;
        return false;
      }
      if (get(d, f[3], v1)) threads_.set_vcpu(tid, static_cast<std::uint32_t>(v1));
      out.type = KS_EV_EXIT;
      break;
    case Kind::entry:
      if (get(d, f[0], v0)) threads_.set_vcpu(tid, static_cast<std::uint32_t>(v0));
      out.type = KS_EV_ENTRY;
      break;
    case Kind::userspace_exit: {
      const std::int64_t err = get_signed(d, f[1]);
      if (err < 0) {
        out.a = KS_VMM_ERRNO_FLAG | static_cast<std::uint32_t>(-err);
      } else if (!get(d, f[0], out.a)) {
        ++skipped_;
        return false;
      }
      out.type = KS_EV_USERSPACE_EXIT;
      break;
    }
    case Kind::pio:
      get(d, f[0], out.b);
      get(d, f[1], out.a);
      get(d, f[2], v2);
      get(d, f[3], v3);
      out.c = (v2 & 0xffffffffu) | (v3 << 32);
      out.type = KS_EV_PIO;
      break;
    case Kind::mmio:
      get(d, f[0], out.b);
      get(d, f[1], out.a);
      get(d, f[2], out.c);
      out.type = KS_EV_MMIO;
      break;
    case Kind::msr:
      get(d, f[0], out.b);
      get(d, f[1], out.a);
      get(d, f[2], out.c);
      out.type = KS_EV_MSR;
      break;
    case Kind::cpuid:
      get(d, f[0], out.a);
      get(d, f[1], out.b);
      out.type = KS_EV_CPUID;
      break;
    case Kind::hypercall:
      get(d, f[0], out.a);
      out.type = KS_EV_HYPERCALL;
      break;
    case Kind::process_exit: {
      const std::uint32_t exiting = get(d, f[0], v0) ? static_cast<std::uint32_t>(v0) : tid;
      const std::uint32_t tgid = threads_.tgid_or_self(exiting);
      // 6.x kernels say when the last thread goes; older ones: the leader's exit ends it.
      const bool ends = get(d, f[1], v1) ? v1 != 0 : tgid == exiting;
      threads_.exited(exiting);
      // Only VMs end: like kvmscope record, which reports the exit of traced processes only.
      if (!ends || vms_.erase(tgid) == 0) return false;
      out.type = KS_EV_PROCESS_EXIT;
      out.tid = exiting;
      out.tgid = tgid;
      out.vcpu = KS_VCPU_UNKNOWN;
      return true;
    }
    case Kind::process_exec:
      threads_.leads_process(get(d, f[0], v0) ? static_cast<std::uint32_t>(v0) : tid);
      return false;
    case Kind::new_task:
      if (get(d, f[0], v0) && get(d, f[1], v1))
        threads_.new_task(tid, static_cast<std::uint32_t>(v0), v1);
      return false;
  }
  out.tgid = threads_.tgid(tid);
  out.vcpu = threads_.vcpu(tid);
  if (vms_.size() < ThreadTable::kMaxThreads) vms_.insert(out.tgid);
  return true;
}

}  // namespace kvmscope::model
