#include "perfdata/perf_sample.h"

#include "perfdata/perf_format.h"

namespace kvmscope::perfdata {
namespace {

// A little-endian reader over a record body that turns every read past the end into failure.
class Fields {
 public:
  explicit Fields(std::span<const std::uint8_t> b, std::size_t pos = 0) : b_(b), pos_(pos) {}
  bool ok() const { return ok_; }
  std::size_t pos() const { return pos_; }
  std::uint64_t u64() { return take(8); }
  std::uint32_t u32() { return static_cast<std::uint32_t>(take(4)); }
  void skip(std::uint64_t n) {
    if (!ok_ || n > b_.size() - pos_) {
      ok_ = false;
      return;
    }
    pos_ += static_cast<std::size_t>(n);
  }
  std::span<const std::uint8_t> bytes(std::uint64_t n) {
    const std::size_t at = pos_;
    skip(n);
    return ok_ ? b_.subspan(at, static_cast<std::size_t>(n)) : std::span<const std::uint8_t>{};
  }

 private:
  std::uint64_t take(int n) {
    if (!ok_ || static_cast<std::size_t>(n) > b_.size() - pos_) {
      ok_ = false;
      return 0;
    }
    std::uint64_t v = 0;
    for (int i = 0; i < n; ++i) v |= static_cast<std::uint64_t>(b_[pos_ + i]) << (8 * i);
    pos_ += static_cast<std::size_t>(n);
    return v;
  }
  std::span<const std::uint8_t> b_;
  std::size_t pos_;
  bool ok_ = true;
};

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
  Fields f(body);
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
  if (st & kSampleRaw) out.raw = f.bytes(f.u32());
  return f.ok();
}

bool parse_sample_id(std::span<const std::uint8_t> body, const PerfAttr& attr, PerfSample& out) {
  if (!(attr.flags & kFlagSampleIdAll)) return true;
  const std::uint64_t st = attr.sample_type;
  const std::size_t size = trailer_size(st);
  if (size > body.size()) return false;
  Fields f(body, body.size() - size);
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
  Fields f(body);
  if (st & kSampleIdentifier) {
    const std::uint64_t id = f.u64();
    return f.ok() ? by_id(id) : nullptr;
  }
  if (!(st & kSampleId)) return &attrs_[0];  // nothing to tell them apart: perf takes the first
  f.skip(8 * id_index(st));
  const std::uint64_t id = f.u64();
  return f.ok() ? by_id(id) : nullptr;
}

const PerfAttr* PerfAttrs::of_other(std::span<const std::uint8_t> body) const {
  if (attrs_.empty()) return nullptr;
  const PerfAttr& first = attrs_[0];
  if (attrs_.size() == 1 || !(first.flags & kFlagSampleIdAll)) return &first;
  const std::uint64_t st = first.sample_type;
  if (st & kSampleIdentifier) {
    if (body.size() < 8) return nullptr;
    Fields f(body, body.size() - 8);
    return by_id(f.u64());
  }
  if (!(st & kSampleId)) return &first;
  // From the end: CPU and STREAM_ID come after ID.
  const std::size_t after = 8 * (((st & kSampleCpu) != 0) + ((st & kSampleStreamId) != 0));
  if (body.size() < after + 8) return nullptr;
  Fields f(body, body.size() - after - 8);
  return by_id(f.u64());
}

}  // namespace kvmscope::perfdata
