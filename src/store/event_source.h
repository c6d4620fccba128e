// One recording read back, whatever its format: kvmscope's own (store::Reader), trace-cmd's
// trace.dat (tracedat::TraceDatReader) or perf's perf.data (perfdata::PerfDataReader). `report`
// (and a future `diff`, which opens two) sees only this interface. The events come in batches, one
// virtual call per batch of up to a few thousand: the per-event loop stays with the consumer.
//
// Adding a format: a RecordingFormat value and its detection (store/recording_format.h), a
// class deriving from EventSource, and its opener in event_source.cpp's open_recording().
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "bpf/kvmscope_bpf.h"
#include "model/reason_catalog.h"
#include "model/recording_damage.h"
#include "store/recording_info.h"
#include "store/recording_input.h"
#include "util/result.h"

namespace kvmscope::store {

// Stretches of a recording that could not be read and were skipped, with the events they held.
struct RecordingDamage {
  std::vector<model::DamagedRange> ranges;  // in file order
  std::uint64_t events_lost = 0;
  bool events_lost_exact = true;  // else an estimate from the intact blocks' density
};

class EventSource {
 public:
  virtual ~EventSource() = default;
  EventSource(const EventSource&) = delete;
  EventSource& operator=(const EventSource&) = delete;

  virtual RecordingFormat format() const = 0;
  // The file's own account of itself: host, kernel, target, start, tracefs format files.
  virtual const RecordingInfo& info() const = 0;

  // The next batch of events in time order, valid until the next call. An empty span is the end
  // of the data (then see complete()/truncated()). An Error only where reading cannot go on.
  virtual util::Result<std::span<const ks_event>> next() = 0;

  // Side information met so far; all of it once next() has returned the end. Markers and VM
  // names may arrive between batches (a VM's start is marked just before its first event).
  virtual const std::vector<Marker>& markers() const = 0;
  virtual const std::map<std::uint32_t, VmMeta>& vms() const = 0;  // by pid: name, comm
  virtual const std::map<std::uint32_t, std::uint64_t>& lost_per_cpu() const = 0;
  virtual std::uint64_t lost_total() const = 0;

  // The writer finished and the whole file was read.
  virtual bool complete() const = 0;
  // The data ended early or had damage; error_detail() says what and where.
  virtual bool truncated() const = 0;
  // Damage rather than a plain cut: `report` exits 3 for it.
  virtual bool corrupt() const = 0;
  virtual std::string error_detail() const = 0;
  // The end of the recording and its counts, where the file says them (known at the end).
  virtual std::optional<Totals> totals() const = 0;
  // The stretches skipped, for a format that lists them (trace.dat does not: corrupt() and
  // error_detail() say it).
  virtual RecordingDamage damage() const { return {}; }
  // What the reader learnt about the file that the user should know (e.g. trace.dat's guessed
  // processes); final once next() has returned the end.
  virtual std::vector<std::string> notes() const { return {}; }

  // Exit-reason names as the recording kernel had them, from the tracefs format files the file
  // carries (info().tracefs_formats); the built-in tables where it carries none. An Error when
  // the files are there but cannot be read.
  virtual util::Result<model::ReasonCatalog> reason_catalog() const;

 protected:
  EventSource() = default;
};

// Opens `path` (standard input for "-", named "standard input" in messages), telling its format
// from its first bytes. Errors: the OS error, the format reader's own (a damaged header, an
// unsupported version), or for a file in no format kvmscope reads "PATH: not a kvmscope
// recording" (or what it looks like: empty, compressed, an executable).
util::Result<std::unique_ptr<EventSource>> open_recording(const std::string& path);
// The same from an input already opened and sniffed (a pipe in tests).
util::Result<std::unique_ptr<EventSource>> open_recording(RecordingInput input);

}  // namespace kvmscope::store
