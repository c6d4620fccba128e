// The fields of a PERF_RECORD_SAMPLE kvmscope uses (pid/tid, time, CPU, the raw tracepoint
// payload), and of the sample_id trailer that other records carry when the attr has
// sample_id_all (time and CPU of a COMM, FORK, EXIT or LOST record). Which attr a record belongs
// to comes from its id (PERF_SAMPLE_IDENTIFIER, else PERF_SAMPLE_ID where the first attr puts
// it): perf writes every attr of a file with those at the same place.
#pragma once

#include <cstdint>
#include <span>
#include <unordered_map>
#include <vector>

#include "perfdata/perf_header.h"

namespace kvmscope::perfdata {

struct PerfSample {
  std::uint32_t pid = 0, tid = 0;
  std::uint64_t time = 0;
  std::uint32_t cpu = 0;
  bool has_tid = false, has_time = false, has_cpu = false;
  std::span<const std::uint8_t> raw;  // PERF_SAMPLE_RAW: the tracepoint record
};

// `body`: the record after its 8-byte header. False when the body is too short for the fields
// the attr's sample_type says it has (a damaged record).
bool parse_sample(std::span<const std::uint8_t> body, const PerfAttr& attr, PerfSample& out);
// The sample_id trailer at the end of a non-sample record's body; false when the body is
// shorter than the trailer. Leaves `out` alone where the attr has no sample_id_all.
bool parse_sample_id(std::span<const std::uint8_t> body, const PerfAttr& attr, PerfSample& out);

// The attrs of a file and which one an id names.
class PerfAttrs {
 public:
  void add(PerfAttr attr);
  bool empty() const { return attrs_.empty(); }
  const std::vector<PerfAttr>& all() const { return attrs_; }
  // The attr of a sample (`body` after the header), or of a non-sample record with a trailer;
  // nullptr when its id names none.
  const PerfAttr* of_sample(std::span<const std::uint8_t> body) const;
  const PerfAttr* of_other(std::span<const std::uint8_t> body) const;

 private:
  const PerfAttr* by_id(std::uint64_t id) const;
  std::vector<PerfAttr> attrs_;
  std::unordered_map<std::uint64_t, std::size_t> by_id_;
};

}  // namespace kvmscope::perfdata
