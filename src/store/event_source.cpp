#include "store/event_source.h"

#include <utility>

#include "perfdata/perf_reader.h"
#include "store/reader.h"
#include "tracedat/tracedat_reader.h"

namespace kvmscope::store {

util::Result<model::ReasonCatalog> EventSource::reason_catalog() const {
  const auto& formats = info().tracefs_formats;
  auto exit_format = formats.find("kvm_exit");
  auto vmm_format = formats.find("kvm_userspace_exit");
  return model::ReasonCatalog::from_formats(exit_format == formats.end() ? "" : exit_format->second,
                                            vmm_format == formats.end() ? "" : vmm_format->second);
}

namespace {

// What every format's reader offers alike, forwarded; R is the format's own reader.
template <class R>
class ReaderSource : public EventSource {
 public:
  explicit ReaderSource(R reader) : r_(std::move(reader)) {}
  const RecordingInfo& info() const override { return r_.info(); }
  util::Result<std::span<const ks_event>> next() override { return r_.next(); }
  const std::vector<Marker>& markers() const override { return r_.markers(); }
  const std::map<std::uint32_t, VmMeta>& vms() const override { return r_.vms(); }
  const std::map<std::uint32_t, std::uint64_t>& lost_per_cpu() const override {
    return r_.lost_per_cpu();
  }
  std::uint64_t lost_total() const override { return r_.lost_total(); }
  bool complete() const override { return r_.complete(); }
  bool truncated() const override { return r_.truncated(); }
  bool corrupt() const override { return r_.corrupt(); }
  std::string error_detail() const override { return r_.error_detail(); }
  std::optional<Totals> totals() const override { return r_.totals(); }

 protected:
  R r_;
};

// kvmscope's own recording: store::Reader, which lists its damaged stretches.
class KvmscopeSource final : public ReaderSource<Reader> {
 public:
  using ReaderSource::ReaderSource;
  RecordingFormat format() const override { return RecordingFormat::kvmscope; }
  RecordingDamage damage() const override {
    return {r_.damage(), r_.events_lost_to_damage(), r_.events_lost_to_damage_exact()};
  }
};

// trace-cmd's trace.dat: tracedat::TraceDatReader, with its notes about what the file lacks.
class TraceDatSource final : public ReaderSource<tracedat::TraceDatReader> {
 public:
  using ReaderSource::ReaderSource;
  RecordingFormat format() const override { return RecordingFormat::tracedat; }
  std::vector<std::string> notes() const override { return r_.notes(); }
};

// perf's perf.data: perfdata::PerfDataReader, with its notes about what the file lacks.
class PerfDataSource final : public ReaderSource<perfdata::PerfDataReader> {
 public:
  using ReaderSource::ReaderSource;
  RecordingFormat format() const override { return RecordingFormat::perfdata; }
  std::vector<std::string> notes() const override { return r_.notes(); }
};

// One opener per format: the input's fd is positioned after `prefix` (a pipe), or a regular
// file for a format read by offset.
util::Result<std::unique_ptr<EventSource>> open_kvmscope(RecordingInput& in) {
  auto reader = Reader::from_fd(std::move(in.fd), in.name, in.prefix);
  if (!reader) return reader.error();
  return std::unique_ptr<EventSource>(new KvmscopeSource(std::move(*reader)));
}

util::Result<std::unique_ptr<EventSource>> open_tracedat(RecordingInput& in) {
  auto reader = tracedat::TraceDatReader::from_fd(std::move(in.fd), in.name);
  if (!reader) return reader.error();
  return std::unique_ptr<EventSource>(new TraceDatSource(std::move(*reader)));
}

util::Result<std::unique_ptr<EventSource>> open_perfdata(RecordingInput& in) {
  auto reader = perfdata::PerfDataReader::from_fd(std::move(in.fd), in.name);
  if (!reader) return reader.error();
  return std::unique_ptr<EventSource>(new PerfDataSource(std::move(*reader)));
}

}  // namespace

util::Result<std::unique_ptr<EventSource>> open_recording(RecordingInput input) {
  switch (input.format) {
    case RecordingFormat::kvmscope:
      return open_kvmscope(input);
    case RecordingFormat::tracedat:
      return open_tracedat(input);
    case RecordingFormat::perfdata:
      return open_perfdata(input);
    case RecordingFormat::unknown:
      break;
  }
  return util::plain_error(describe_foreign(input.name, input.head));
}

util::Result<std::unique_ptr<EventSource>> open_recording(const std::string& path) {
  auto input = open_recording_input(path);
  if (!input) return input.error();
  return open_recording(std::move(*input));
}

}  // namespace kvmscope::store
