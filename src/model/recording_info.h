// What a recording says about itself (the file header, or what an imported trace tells) and
// the side records that come with the events: VM names, markers. In model, not store, because
// every reader fills it: store's own format, and the importers (tracedat/) that sit beside store.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "model/marker.h"
#include "model/snapshot.h"

namespace kvmscope::model {

struct RecordingInfo {
  // Filled in by the Reader from the file; the Writer always writes its own version.
  std::uint16_t format_major = 0;
  std::uint16_t format_minor = 0;

  std::string kvmscope_version;
  std::string hostname;
  std::string kernel_release;  // uname -r of the recording host
  // CLOCK_REALTIME - CLOCK_MONOTONIC at the start: event ts + this = wall-clock ns since 1970.
  std::int64_t realtime_offset_ns = 0;
  std::uint64_t start_ns = 0;  // CLOCK_MONOTONIC when recording began
  std::string target;  // what was traced, e.g. "command: qemu-system-x86_64 ..." or "pid 42"
  // Raw text of the kernel's tracefs format files, by event name ("kvm_exit",
  // "kvm_userspace_exit", ...): the report rebuilds exit-reason names from them.
  std::map<std::string, std::string> tracefs_formats;
  // Any other key/value pair: later additions need no format change.
  std::map<std::string, std::string> extra;

  bool operator==(const RecordingInfo&) const = default;
};

using VmMeta = VmInfo;  // name (QEMU -name, libvirt domain, else comm) and comm

// How much a recording holds: store's trailer (Writer::finish()), or what an importer counted.
struct RecordingTotals {
  std::uint64_t events = 0;
  std::uint64_t lost = 0;
  std::uint64_t blocks = 0;  // blocks before the trailer
  std::uint64_t end_ns = 0;  // CLOCK_MONOTONIC when the recording was finished (0 if not known)
  bool operator==(const RecordingTotals&) const = default;
};

}  // namespace kvmscope::model
