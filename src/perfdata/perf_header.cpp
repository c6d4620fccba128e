#include "perfdata/perf_header.h"

#include <cstring>
#include <set>

#include "perfdata/perf_format.h"
#include "util/byte_cursor.h"

namespace kvmscope::perfdata {
namespace {

// Limits for untrusted sizes: far above what perf writes, far below what hurts.
constexpr std::uint64_t kMaxAttrs = 4096;
constexpr std::uint64_t kMaxIdsPerAttr = 1u << 20;
constexpr std::uint64_t kMaxAttrSize = 4096;
constexpr std::uint64_t kMaxFeature = 256ull << 20;  // one feature section (tracing data)
constexpr std::uint32_t kMaxString = 1u << 20;

// The event formats kvmscope's reason catalog reads (as for trace.dat).
const std::set<std::string> kWantedFormats = {"kvm_exit", "kvm_userspace_exit"};
constexpr std::uint8_t kTracingMagic[10] = {0x17, 0x08, 0x44, 't', 'r', 'a', 'c', 'i', 'n', 'g'};

util::Error damaged(const std::string& name, const std::string& why) {
  return util::plain_error(name + ": damaged perf.data: " + why);
}

std::uint64_t le(std::span<const std::uint8_t> b, std::size_t at, int n) {
  std::uint64_t v = 0;
  for (int i = 0; i < n; ++i) v |= static_cast<std::uint64_t>(b[at + i]) << (8 * i);
  return v;
}

// perf_header_string: u32 len (padding included), then the '\0'-terminated text.
std::string header_string(util::ByteCursor& c) {
  const std::uint32_t len = c.u32();
  if (len > kMaxString) {
    c.fail("a string of " + std::to_string(len) + " bytes");
    return {};
  }
  std::string s = c.text(len);
  if (auto nul = s.find('\0'); nul != std::string::npos) s.resize(nul);
  return s;
}

}  // namespace

util::Result<PerfAttr> parse_perf_attr(std::span<const std::uint8_t> b, std::size_t& used) {
  if (b.size() < kAttrMinSize)
    return util::plain_error("an attr of " + std::to_string(b.size()) + " bytes");
  const auto size = static_cast<std::size_t>(le(b, kAttrSize, 4));
  // perf writes size 0 for the oldest layout (PERF_ATTR_SIZE_VER0).
  const std::size_t have = size == 0 ? kAttrMinSize : size;
  if (have < kAttrMinSize || have > b.size() || have > kMaxAttrSize)
    return util::plain_error("an attr that says it is " + std::to_string(size) + " bytes");
  used = have;
  auto field = [&](std::size_t at, int n) -> std::uint64_t {
    return at + n <= have ? le(b, at, n) : 0;  // absent in an older, shorter attr
  };
  PerfAttr a;
  a.type = static_cast<std::uint32_t>(field(kAttrType, 4));
  a.config = field(kAttrConfig, 8);
  a.sample_type = field(kAttrSampleType, 8);
  a.read_format = field(kAttrReadFormat, 8);
  a.flags = field(kAttrFlags, 8);
  a.branch_sample_type = field(kAttrBranchSampleType, 8);
  a.regs_user = field(kAttrSampleRegsUser, 8);
  a.clockid = static_cast<std::int32_t>(field(kAttrClockid, 4));
  a.regs_intr = field(kAttrSampleRegsIntr, 8);
  return a;
}

util::Result<void> read_perf_tracing_data(std::span<const std::uint8_t> data, PerfMeta& meta) {
  util::ByteCursor c(data);
  auto magic = c.bytes(sizeof kTracingMagic);
  if (c.failed() || std::memcmp(magic.data(), kTracingMagic, sizeof kTracingMagic) != 0)
    return util::plain_error("tracing data without its magic");
  model::TracingData td;
  meta.tracing_version = c.cstring(16);
  auto flags = c.bytes(2);
  if (!c.failed()) {
    td.big_endian = flags[0] != 0;
    td.long_size = flags[1];
    c.set_big_endian(td.big_endian);
    td.page_size = c.u32();
  }
  if (c.failed()) return util::plain_error("tracing data: " + c.why());
  // 0.6 added the saved cmdlines at the end (perf 3.10 on).
  model::read_tracing_parts(c, kWantedFormats, meta.tracing_version != "0.5", td);
  if (c.failed()) return util::plain_error("tracing data: " + c.why());
  meta.tracing = std::move(td);
  return {};
}

util::Result<void> apply_perf_feature(unsigned feature, std::span<const std::uint8_t> data,
                                      PerfMeta& meta) {
  if (feature == kFeatTracingData) return read_perf_tracing_data(data, meta);
  util::ByteCursor c(data);
  switch (feature) {
    case kFeatHostname:
      meta.hostname = header_string(c);
      break;
    case kFeatOsRelease:
      meta.os_release = header_string(c);
      break;
    case kFeatVersion:
      meta.perf_version = header_string(c);
      break;
    case kFeatArch:
      meta.arch = header_string(c);
      break;
    case kFeatNrCpus:
      c.u32();                 // available
      meta.nr_cpus = c.u32();  // online
      break;
    case kFeatCmdline: {
      const std::uint32_t n = c.u32();
      std::string line;
      for (std::uint32_t i = 0; i < n && i < 4096 && !c.failed(); ++i) {
        std::string arg = header_string(c);
        if (!c.failed()) line += (line.empty() ? "" : " ") + arg;
      }
      meta.cmdline = line;
      break;
    }
    case kFeatCompressed:
      meta.compressed = true;
      break;
    case kFeatClockData: {
      c.u32();  // version
      const std::uint32_t clockid = c.u32();
      const std::uint64_t wall = c.u64();
      const std::uint64_t clock = c.u64();
      if (!c.failed()) {
        meta.clock_data_clockid = clockid;
        meta.realtime_offset_ns = static_cast<std::int64_t>(wall - clock);
      }
      break;
    }
    default:
      return {};
  }
  if (c.failed())
    meta.notes.push_back("feature section " + std::to_string(feature) + " unreadable (" + c.why() +
                         ")");
  return {};
}

util::Result<PerfMeta> read_perf_header(int fd, std::uint64_t file_size, const std::string& name) {
  util::ByteCursor c(fd, 0, file_size);
  const std::string magic = c.text(8);
  if (c.failed() || magic != kMagic) return util::plain_error(name + ": not a perf.data file");
  PerfMeta meta;
  const std::uint64_t header_size = c.u64();
  if (c.failed()) return damaged(name, c.why());
  if (header_size == kPipeHeaderSize) {
    meta.pipe = true;
    meta.data_offset = kPipeHeaderSize;
    meta.data_size = file_size - kPipeHeaderSize;
    return meta;
  }
  if (header_size < kFileHeaderSize)
    return damaged(name, "a header of " + std::to_string(header_size) + " bytes");
  const std::uint64_t attr_size = c.u64();
  const std::uint64_t attrs_offset = c.u64(), attrs_size = c.u64();
  meta.data_offset = c.u64();
  meta.data_size = c.u64();
  c.skip(16);  // event_types: unused since perf 3.x
  auto features = c.bytes(kFeatureBits / 8);
  if (c.failed()) return damaged(name, "header " + c.why());

  // The attrs: each an attr of attr_size - 16 bytes and the {offset, size} of its ids.
  if (attr_size < kAttrMinSize + kFileSection || attr_size > kMaxAttrSize + kFileSection)
    return damaged(name, "attr size " + std::to_string(attr_size));
  if (attrs_size % attr_size != 0 || attrs_size / attr_size > kMaxAttrs)
    return damaged(name, "an attr section of " + std::to_string(attrs_size) + " bytes");
  c.seek(attrs_offset);
  for (std::uint64_t i = 0; i < attrs_size / attr_size; ++i) {
    auto bytes = c.bytes(attr_size - kFileSection);
    const std::uint64_t ids_offset = c.u64(), ids_size = c.u64();
    if (c.failed()) return damaged(name, "attrs " + c.why());
    std::size_t used = 0;
    auto attr = parse_perf_attr(bytes, used);
    if (!attr) return damaged(name, "attr " + std::to_string(i) + ": " + attr.error().context);
    if (ids_size % 8 != 0 || ids_size / 8 > kMaxIdsPerAttr)
      return damaged(
          name, "attr " + std::to_string(i) + " has " + std::to_string(ids_size) + " bytes of ids");
    const std::uint64_t back = c.pos();
    c.seek(ids_offset);
    for (std::uint64_t k = 0; k < ids_size / 8; ++k) attr->ids.push_back(c.u64());
    if (c.failed()) return damaged(name, "the ids of attr " + std::to_string(i) + ": " + c.why());
    c.seek(back);
    meta.attrs.push_back(std::move(*attr));
  }

  if (meta.data_size == 0)
    return util::plain_error(name +
                             ": perf.data without its data size: perf record did not finish "
                             "writing it, and the tracing data (the event formats) it writes at "
                             "the end is missing");
  if (meta.data_offset > file_size || meta.data_size > file_size - meta.data_offset)
    return util::plain_error(name + ": perf.data cut at byte " + std::to_string(file_size) +
                             " inside its data (which ends at byte " +
                             std::to_string(meta.data_offset + meta.data_size) +
                             "): the tracing data (the event formats), which perf writes after "
                             "the data, is lost, and no event can be read without it");

  // The feature sections' index follows the data: one {offset, size} per bit set, in order.
  c.seek(meta.data_offset + meta.data_size);
  for (unsigned bit = 0; bit < kFeatureBits; ++bit) {
    if (!((features[bit / 8] >> (bit % 8)) & 1)) continue;
    const std::uint64_t offset = c.u64(), size = c.u64();
    if (c.failed())
      return util::plain_error(name + ": perf.data cut in its feature index (" + c.why() +
                               "): the tracing data (the event formats) is lost");
    if (bit != kFeatTracingData && bit != kFeatHostname && bit != kFeatOsRelease &&
        bit != kFeatVersion && bit != kFeatArch && bit != kFeatNrCpus && bit != kFeatCmdline &&
        bit != kFeatCompressed && bit != kFeatClockData)
      continue;
    if (size > kMaxFeature || offset > file_size || size > file_size - offset) {
      if (bit == kFeatTracingData)
        return damaged(name, "the tracing data section (" + std::to_string(size) +
                                 " bytes at byte " + std::to_string(offset) +
                                 ") does not fit the file");
      meta.notes.push_back("feature section " + std::to_string(bit) + " does not fit the file");
      continue;
    }
    const std::uint64_t back = c.pos();
    c.seek(offset);
    auto data = c.bytes(size);
    if (c.failed()) return damaged(name, "feature " + std::to_string(bit) + ": " + c.why());
    c.seek(back);
    if (auto ok = apply_perf_feature(bit, data, meta); !ok)
      return damaged(name, ok.error().context);
  }
  return meta;
}

}  // namespace kvmscope::perfdata
