// Turns tracepoint records (the raw payload of a trace.dat record or of a perf.data sample) into
// kvmscope's event stream. Fields are read by name, at the offsets
// the recording kernel's own format files (stored in the file) give, so a field that moved
// between kernels (kvm_exit's vcpu_id, arm64's esr_ec) is found where that kernel put it; never
// from printed text. Events that only tell about threads (task_newtask, sched_process_exec)
// feed ThreadTable and produce no kvmscope event.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "bpf/kvmscope_bpf.h"
#include "model/thread_table.h"
#include "model/tracefs_format.h"
#include "model/tracing_data.h"

namespace kvmscope::model {

class TracepointEvents {
 public:
  // Parses the format texts of `meta` (kvm, sched, task systems); `threads` is kept by reference.
  TracepointEvents(const TracingData& meta, ThreadTable& threads);

  // Fills `out` (ts_ns left to the caller) for a record kvmscope keeps and returns true; false
  // for any other record. `data`: the record's payload, from common_type on.
  bool map(std::span<const std::uint8_t> data, std::uint16_t cpu, ks_event& out);

  bool has_event(const std::string& name) const;
  // Format texts that did not parse (their events are skipped), as "name: why".
  const std::vector<std::string>& bad_formats() const { return bad_formats_; }
  std::uint64_t skipped() const { return skipped_; }  // records of events kvmscope does not use
  // Records too short for their event's fields, or of an id no format has: damaged data.
  std::uint64_t damaged() const { return damaged_; }

 private:
  enum class Kind : std::uint8_t {
    exit,
    entry,
    userspace_exit,
    pio,
    mmio,
    msr,
    cpuid,
    hypercall,
    process_exit,
    process_exec,
    new_task,
  };
  static constexpr int kMaxFields = 6;
  struct Field {
    unsigned offset = 0;
    unsigned size = 0;  // 0: not in this kernel's format
    bool is_signed = false;
  };
  struct Handler {
    Kind kind;
    Field f[kMaxFields];       // per kind, in the order the constructor lists them
    std::size_t min_size = 0;  // bytes a record needs for all of those fields
  };

  void add(const EventFormat& format, Kind kind, std::initializer_list<const char*> fields);
  bool get(std::span<const std::uint8_t> data, const Field& f, std::uint64_t& out) const;
  std::int64_t get_signed(std::span<const std::uint8_t> data, const Field& f) const;

  bool big_endian_;
  ThreadTable& threads_;
  Field common_type_{0, 2, false};
  Field common_pid_{4, 4, true};
  std::unordered_map<int, Handler> by_id_;
  std::unordered_set<int> known_ids_;
  std::unordered_set<std::string> names_;
  std::unordered_set<std::uint32_t> vms_;  // processes with KVM events that have not exited
  std::vector<std::string> bad_formats_;
  std::uint64_t skipped_ = 0;
  std::uint64_t damaged_ = 0;
};

}  // namespace kvmscope::model
