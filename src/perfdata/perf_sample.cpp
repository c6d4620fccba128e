#include "perfdata/perf_sample.h"

#include "perfdata/perf_format.h"
#include "util/byte_cursor.h"

namespace kvmscope::perfdata {
namespace {

// A bounds-checked cursor over a record's body from byte `pos` (perf.data is read
// little-endian only); every read past the end fails it.
util::ByteCursor fields(std::span<const std::uint8_t> body, std::size_t pos = 0) {
  util::ByteCursor c(body);
  c.seek(pos);
  return c;
}

// The u64s a sample has before its PERF_SAMPLE_ID (where IDENTIFIER is not set).
std::size_t id_index(std::uint64_t st) {
  std::size_t n = 0;
  for (std::uint64_t bit : {kSampleIp, kSampleTid, kSampleTime, kSampleAddr})
    if (st & bit) ++n;
  return n;
}

// The trailer's size: TID, TIME, ID, STREAM_ID, CPU, IDENTIFIER, 8 bytes each.
std::size_t trailer_size(std::uint64_t st) {
  std::size_t n = 0;
  for (std::uint64_t bit :
       {kSampleTid, kSampleTime, kSampleId, kSampleStreamId, kSampleCpu, kSampleIdentifier})
    if (st & bit) n += 8;
  return n;
}

}  // namespace

bool parse_sample(std::span<const std::uint8_t> body, const PerfAttr& attr, PerfSample& out) {
  const std::uint64_t st = attr.sample_type;
  util::ByteCursor f = fields(body);
  if (st & kSampleIdentifier) f.u64();
  if (st & kSampleIp) f.u64();
  if (st & kSampleTid) {
    out.pid = f.u32();
    out.tid = f.u32();
    out.has_tid = true;
  }
  if (st & kSampleTime) {
    out.time = f.u64();
    out.has_time = true;
  }
  if (st & kSampleAddr) f.u64();
  if (st & kSampleId) f.u64();
  if (st & kSampleStreamId) f.u64();
  if (st & kSampleCpu) {
    out.cpu = f.u32();
    f.u32();
    out.has_cpu = true;
  }
  if (st & kSamplePeriod) f.u64();
  if (st & kSampleRead) {
    const std::uint64_t rf = attr.read_format;
    const std::uint64_t per_value = 8 * (1 + ((rf & kFormatId) != 0) + ((rf & kFormatLost) != 0));
    const std::uint64_t times =
        8 * (((rf & kFormatTotalTimeEnabled) != 0) + ((rf & kFormatTotalTimeRunning) != 0));
    if (rf & kFormatGroup) {
      const std::uint64_t nr = f.u64();
      f.skip(times);
      if (nr > body.size() / per_value) return false;
      f.skip(nr * per_value);
    } else {
      f.skip(per_value + times);
    }
  }
  if (st & kSampleCallchain) {
    const std::uint64_t nr = f.u64();
    if (nr > body.size() / 8) return false;
    f.skip(nr * 8);
  }
  if (st & kSampleRaw) out.raw = f.view(f.u32());
  return !f.failed();
}

bool parse_sample_id(std::span<const std::uint8_t> body, const PerfAttr& attr, PerfSample& out) {
  if (!(attr.flags & kFlagSampleIdAll)) return true;
  const std::uint64_t st = attr.sample_type;
  const std::size_t size = trailer_size(st);
  if (size > body.size()) return false;
  util::ByteCursor f = fields(body, body.size() - size);
  if (st & kSampleTid) {
    out.pid = f.u32();
    out.tid = f.u32();
    out.has_tid = true;
  }
  if (st & kSampleTime) {
    out.time = f.u64();
    out.has_time = true;
  }
  if (st & kSampleId) f.u64();
  if (st & kSampleStreamId) f.u64();
  if (st & kSampleCpu) {
    out.cpu = f.u32();
    out.has_cpu = true;
  }
  return true;
}

void PerfAttrs::add(PerfAttr attr) {
  for (std::uint64_t id : attr.ids) by_id_.emplace(id, attrs_.size());
  attrs_.push_back(std::move(attr));
}

const PerfAttr* PerfAttrs::by_id(std::uint64_t id) const {
  auto it = by_id_.find(id);
  return it == by_id_.end() ? nullptr : &attrs_[it->second];
}

const PerfAttr* PerfAttrs::of_sample(std::span<const std::uint8_t> body) const {
  if (attrs_.empty()) return nullptr;
  if (attrs_.size() == 1) return &attrs_[0];
  const std::uint64_t st = attrs_[0].sample_type;
  util::ByteCursor f = fields(body);
  if (st & kSampleIdentifier) {
    const std::uint64_t id = f.u64();
    return !f.failed() ? by_id(id) : nullptr;
  }
  if (!(st & kSampleId)) return &attrs_[0];  // nothing to tell them apart: perf takes the first
  f.skip(8 * id_index(st));
  const std::uint64_t id = f.u64();
  return !f.failed() ? by_id(id) : nullptr;
}

const PerfAttr* PerfAttrs::of_other(std::span<const std::uint8_t> body) const {
  if (attrs_.empty()) return nullptr;
  const PerfAttr& first = attrs_[0];
  if (attrs_.size() == 1 || !(first.flags & kFlagSampleIdAll)) return &first;
  const std::uint64_t st = first.sample_type;
  if (st & kSampleIdentifier) {
    if (body.size() < 8) return nullptr;
    util::ByteCursor f = fields(body, body.size() - 8);
    return by_id(f.u64());
  }
  if (!(st & kSampleId)) return &first;
  // From the end: CPU and STREAM_ID come after ID.
  const std::size_t after = 8 * (((st & kSampleCpu) != 0) + ((st & kSampleStreamId) != 0));
  if (body.size() < after + 8) return nullptr;
  util::ByteCursor f = fields(body, body.size() - after - 8);
  return by_id(f.u64());
}

}  // namespace kvmscope::perfdata
