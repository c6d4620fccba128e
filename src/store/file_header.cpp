#include "store/file_header.h"

#include <charconv>
#include <cstring>
#include <string_view>

#include "store/byte_io.h"
#include "store/crc32c.h"
#include "store/format.h"

namespace kvmscope::store {
namespace {

template <class T>
bool parse_number(const std::string& s, T& out) {
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && end == s.data() + s.size();
}

bool is_reserved_key(std::string_view k) {
  for (const char* r : {key::kKvmscopeVersion, key::kHostname, key::kKernelRelease,
                        key::kRealtimeOffset, key::kStartNs, key::kTarget})
    if (k == r) return true;
  return k.starts_with(key::kFormatPrefix);
}

}  // namespace

std::vector<std::uint8_t> encode_file_header(const RecordingInfo& info) {
  std::vector<std::pair<std::string, std::string>> kv = {
      {key::kKvmscopeVersion, info.kvmscope_version},
      {key::kHostname, info.hostname},
      {key::kKernelRelease, info.kernel_release},
      {key::kRealtimeOffset, std::to_string(info.realtime_offset_ns)},
      {key::kStartNs, std::to_string(info.start_ns)},
      {key::kTarget, info.target},
  };
  for (const auto& [event, text] : info.tracefs_formats)
    kv.emplace_back(std::string(key::kFormatPrefix) + event, text);
  // A key of a typed field in `extra` would override that field when read back: left out.
  for (const auto& [k, v] : info.extra)
    if (!is_reserved_key(k)) kv.emplace_back(k, v);

  std::vector<std::uint8_t> out(kFileHeaderFixed);
  std::memcpy(out.data(), kMagic, sizeof kMagic);
  put_le(out.data() + 8, kFormatMajor, 2);
  put_le(out.data() + 10, kFormatMinor, 2);
  ByteWriter w(out);
  w.varint(kv.size());
  for (const auto& [k, v] : kv) {
    w.str(k);
    w.str(v);
  }
  put_le(out.data() + 12, out.size() + 4, 4);
  w.u32(crc32c(out));
  return out;
}

util::Result<std::uint32_t> check_file_prefix(std::span<const std::uint8_t> prefix,
                                              const std::string& name) {
  if (prefix.size() < sizeof kMagic || std::memcmp(prefix.data(), kMagic, sizeof kMagic) != 0)
    return util::plain_error(name + ": not a kvmscope recording");
  if (prefix.size() < kFileHeaderFixed)
    return util::plain_error(name + ": kvmscope recording cut short inside its header");
  const auto major = static_cast<std::uint16_t>(get_le(prefix.data() + 8, 2));
  const auto minor = static_cast<std::uint16_t>(get_le(prefix.data() + 10, 2));
  const std::string version = std::to_string(major) + "." + std::to_string(minor);
  if (major > kFormatMajor)
    return util::plain_error(name + ": recording format " + version +
                                 " is newer than this kvmscope reads (" +
                                 std::to_string(kFormatMajor) + ".x)",
                             "use a newer kvmscope");
  if (major < 1)
    return util::plain_error(name + ": recording format " + version + " is not supported");
  const auto len = static_cast<std::uint32_t>(get_le(prefix.data() + 12, 4));
  if (len < kFileHeaderMin || len > kFileHeaderMax)
    return util::plain_error(name + ": corrupt kvmscope recording: header length " +
                             std::to_string(len) + " out of range");
  return len;
}

util::Result<RecordingInfo> decode_file_header(std::span<const std::uint8_t> header,
                                               const std::string& name) {
  auto corrupt = [&](const std::string& what) {
    return util::plain_error(name + ": corrupt kvmscope recording header: " + what);
  };
  if (header.size() < kFileHeaderMin) return corrupt("too short");
  const std::size_t body = header.size() - 4;
  if (!crc_matches(crc32c(header.first(body)),
                   static_cast<std::uint32_t>(get_le(header.data() + body, 4))))
    return corrupt("CRC mismatch");

  RecordingInfo info;
  info.format_major = static_cast<std::uint16_t>(get_le(header.data() + 8, 2));
  info.format_minor = static_cast<std::uint16_t>(get_le(header.data() + 10, 2));
  ByteReader r(header.subspan(kFileHeaderFixed, body - kFileHeaderFixed));
  const std::uint64_t n = r.varint();
  // Each pair takes at least two bytes: a count beyond that is a lie, not a reason to loop.
  if (r.failed() || n > r.remaining() / 2) return corrupt("bad key/value count");
  const std::string_view fmt_prefix = key::kFormatPrefix;
  for (std::uint64_t i = 0; i < n; ++i) {
    std::string k = r.str();
    std::string v = r.str();
    if (r.failed()) return corrupt("key/value list cut short");
    if (k == key::kKvmscopeVersion) {
      info.kvmscope_version = std::move(v);
    } else if (k == key::kHostname) {
      info.hostname = std::move(v);
    } else if (k == key::kKernelRelease) {
      info.kernel_release = std::move(v);
    } else if (k == key::kRealtimeOffset) {
      if (!parse_number(v, info.realtime_offset_ns)) return corrupt(k + " is not a number");
    } else if (k == key::kStartNs) {
      if (!parse_number(v, info.start_ns)) return corrupt(k + " is not a number");
    } else if (k == key::kTarget) {
      info.target = std::move(v);
    } else if (k.size() > fmt_prefix.size() && k.starts_with(fmt_prefix)) {
      info.tracefs_formats[k.substr(fmt_prefix.size())] = std::move(v);
    } else {
      info.extra[std::move(k)] = std::move(v);
    }
  }
  // Bytes after the list are left for later minor versions; this reader ignores them.
  return info;
}

}  // namespace kvmscope::store
