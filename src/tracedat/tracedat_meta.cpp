#include "tracedat/tracedat_meta.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>

#include <algorithm>
#include <cstring>

#include "model/tracing_data.h"
#include "tracedat/tracedat_options.h"
#include "util/byte_cursor.h"
#include "util/fd.h"

namespace kvmscope::tracedat {
namespace {

constexpr std::uint8_t kMagic[kTraceDatMagicLen] = {0x17, 0x08, 0x44, 't', 'r',
                                                    'a',  'c',  'i',  'n', 'g'};
// Limits for untrusted sizes: far above what trace-cmd writes, far below what hurts.
constexpr std::uint64_t kMaxSection = 256ull << 20;  // a decompressed header section
constexpr std::uint32_t kMaxOption = 64u << 20;
constexpr std::size_t kMaxOptionSections = 4096;
constexpr std::uint16_t kSectionOptions = 0;
constexpr std::uint16_t kSectionBuffer = 3;
constexpr std::uint16_t kSectionHeaderInfo = 16;
constexpr std::uint16_t kSectionFtraceEvents = 17;
constexpr std::uint16_t kSectionEventFormats = 18;
constexpr std::uint16_t kSectionCmdlines = 21;
constexpr std::uint16_t kSectionCompressed = 1;

util::Error damaged(const std::string& name, const std::string& why) {
  return util::plain_error(name + ": damaged trace.dat: " + why);
}

// The options of a v6 file: id, then (unless id is DONE) size and payload.
util::Result<void> read_options_v6(util::ByteCursor& c, TraceDatMeta& meta,
                                   TdSectionOffsets& sections) {
  for (int n = 0; n < 1000000; ++n) {
    const std::uint16_t id = c.u16();
    if (c.failed()) return util::plain_error(c.why());
    if (id == static_cast<std::uint16_t>(TdOption::done)) return {};
    const std::uint32_t size = c.u32();
    if (size > kMaxOption)
      return util::plain_error("option " + std::to_string(id) + " claims " + std::to_string(size) +
                               " bytes");
    auto data = c.bytes(size);
    if (c.failed()) return util::plain_error(c.why());
    if (auto applied = apply_tracedat_option(id, data, 6, c.big_endian(), meta, sections); !applied)
      return applied;
  }
  return util::plain_error("no end to the options");
}

// A v6 per-CPU index, after its "flyrecord" tag: offset and size of each CPU's data.
util::Result<void> read_flyrecord_index(util::ByteCursor& c, std::uint32_t cpus,
                                        TraceDatBuffer& b) {
  if (cpus > c.remaining() / 16) return util::plain_error("more CPUs than the header holds");
  for (std::uint32_t i = 0; i < cpus; ++i) {
    TraceDatCpuData d;
    d.cpu = i;
    d.offset = c.u64();
    d.size = c.u64();
    b.cpus.push_back(d);
  }
  if (c.failed()) return util::plain_error(c.why());
  return {};
}

util::Result<void> read_v6(util::ByteCursor& c, const std::string& name,
                           const std::set<std::string>& wanted, TraceDatMeta& meta) {
  model::read_tracing_parts(c, wanted, true, meta);
  const std::uint32_t cpus = c.u32();
  if (c.failed()) return damaged(name, c.why());
  TdSectionOffsets unused;
  for (int tags = 0; tags < 64; ++tags) {
    const std::string tag = c.text(10);
    if (c.failed()) return damaged(name, c.why());
    if (tag == std::string("options  \0", 10)) {
      if (auto r = read_options_v6(c, meta, unused); !r) return damaged(name, r.error().context);
    } else if (tag == std::string("latency  \0", 10)) {
      meta.latency = true;
      return {};
    } else if (tag == std::string("flyrecord\0", 10)) {
      TraceDatBuffer top;
      if (auto r = read_flyrecord_index(c, cpus, top); !r) return damaged(name, r.error().context);
      // Instances (record -B): each has a "flyrecord" part of its own, where its option said.
      for (TraceDatBuffer& b : meta.buffers) {
        c.seek(b.section);
        if (c.text(10) != std::string("flyrecord\0", 10))
          return damaged(name, "no per-CPU index for instance " + b.name);
        if (auto r = read_flyrecord_index(c, cpus, b); !r) return damaged(name, r.error().context);
      }
      meta.buffers.insert(meta.buffers.begin(), std::move(top));
      return {};
    } else {
      return damaged(name, "unknown part \"" + tag.substr(0, tag.find('\0')) + "\" in the header");
    }
  }
  return damaged(name, "no per-CPU data in the header");
}

struct SectionHeader {
  std::uint16_t id = 0;
  std::uint16_t flags = 0;
  std::uint64_t size = 0;
};

SectionHeader read_section_header(util::ByteCursor& c) {
  SectionHeader h;
  h.id = c.u16();
  h.flags = c.u16();
  c.u32();  // the description's string id
  h.size = c.u64();
  return h;
}

// The v7 section at `offset` (expected id `id`): its payload, inflated when compressed; or why
// not.
util::Result<std::vector<std::uint8_t>> read_section(util::ByteCursor& c, std::uint64_t offset,
                                                     std::uint16_t id, const TraceDatMeta& meta) {
  c.seek(offset);
  const SectionHeader h = read_section_header(c);
  if (c.failed()) {
    return util::plain_error("section at byte " + std::to_string(offset) + ": " + c.why());
  }
  if (h.id != id) {
    return util::plain_error("byte " + std::to_string(offset) + " is not section " +
                             std::to_string(id));
  }
  if (h.size > kMaxSection || h.size > c.remaining()) {
    return util::plain_error("section " + std::to_string(id) + " of " + std::to_string(h.size) +
                             " bytes at byte " + std::to_string(offset) + " does not fit the file");
  }
  if (!(h.flags & kSectionCompressed)) {
    auto data = c.bytes(h.size);
    if (c.failed()) return util::plain_error(c.why());
    return data;
  }
  const std::uint32_t packed = c.u32();
  const std::uint32_t plain = c.u32();
  if (c.failed() || static_cast<std::uint64_t>(packed) + 8 > h.size || plain > kMaxSection) {
    return util::plain_error(
        c.failed() ? c.why() : "bad compressed section sizes at byte " + std::to_string(offset));
  }
  auto in = c.bytes(packed);
  if (c.failed()) {
    return util::plain_error(c.why());
  }
  if (meta.compression != "zstd") {
    return util::plain_error("sections compressed with " + meta.compression +
                             ", which kvmscope cannot inflate");
  }
  std::vector<std::uint8_t> out(plain);
  const std::size_t got = ZSTD_decompress(out.data(), out.size(), in.data(), in.size());
  if (ZSTD_isError(got) || got != plain) {
    return util::plain_error(std::string("zstd: ") +
                             (ZSTD_isError(got) ? ZSTD_getErrorName(got) : "short section"));
  }
  return out;
}

// The options sections of a v7 file, a chain that starts after the compression header.
util::Result<void> read_options_v7(util::ByteCursor& c, const std::string& name,
                                   std::uint64_t first, TraceDatMeta& meta,
                                   TdSectionOffsets& sections) {
  std::set<std::uint64_t> seen;
  for (std::uint64_t next = first; next != 0;) {
    if (!seen.insert(next).second || seen.size() > kMaxOptionSections)
      return damaged(name, "the options sections loop");
    auto payload = read_section(c, next, kSectionOptions, meta);
    if (!payload) return damaged(name, payload.error().context);
    util::ByteCursor o(*payload);
    o.set_big_endian(meta.big_endian);
    next = 0;
    for (;;) {
      const std::uint16_t id = o.u16();
      const std::uint32_t size = o.u32();
      auto data = o.bytes(size);
      if (o.failed()) return damaged(name, "option " + std::to_string(id) + ": " + o.why());
      if (id == static_cast<std::uint16_t>(TdOption::done)) {
        util::ByteCursor d(data);
        d.set_big_endian(meta.big_endian);
        next = d.u64();  // the next options section, 0 for none
        break;
      }
      if (auto r = apply_tracedat_option(id, data, 7, meta.big_endian, meta, sections); !r)
        return damaged(name, r.error().context);
    }
  }
  return {};
}

util::Result<void> read_v7(util::ByteCursor& c, const std::string& name,
                           const std::set<std::string>& wanted, TraceDatMeta& meta) {
  meta.compression = c.cstring(64);
  c.cstring(64);  // the compressor's version
  const std::uint64_t first = c.u64();
  if (c.failed()) return damaged(name, c.why());
  if (meta.compression.empty()) meta.compression = "none";

  TdSectionOffsets sections;
  if (auto ok = read_options_v7(c, name, first, meta, sections); !ok) return ok.error();

  // The page layout and the event ids are needed to read any event: without them, no data.
  if (sections.header_info != 0) {
    auto payload = read_section(c, sections.header_info, kSectionHeaderInfo, meta);
    if (!payload) return damaged(name, payload.error().context);
    util::ByteCursor h(*payload);
    h.set_big_endian(meta.big_endian);
    model::read_header_info(h, meta);
    if (h.failed()) return damaged(name, "header info: " + h.why());
  }
  if (sections.ftrace_events != 0) {
    auto payload = read_section(c, sections.ftrace_events, kSectionFtraceEvents, meta);
    if (!payload) return damaged(name, payload.error().context);
    util::ByteCursor f(*payload);
    f.set_big_endian(meta.big_endian);
    model::read_ftrace_formats(f, meta);
    if (f.failed()) return damaged(name, "ftrace formats: " + f.why());
  }
  if (sections.event_formats != 0) {
    auto payload = read_section(c, sections.event_formats, kSectionEventFormats, meta);
    if (!payload) return damaged(name, payload.error().context);
    util::ByteCursor f(*payload);
    f.set_big_endian(meta.big_endian);
    model::read_event_formats(f, wanted, meta);
    if (f.failed()) return damaged(name, "event formats: " + f.why());
  }
  // Names only: a file without them still reads.
  if (sections.cmdlines != 0) {
    auto payload = read_section(c, sections.cmdlines, kSectionCmdlines, meta);
    if (payload) {
      util::ByteCursor l(*payload);
      l.set_big_endian(meta.big_endian);
      model::read_cmdlines(l, meta);
    } else {
      meta.notes.push_back("saved cmdlines unreadable (" + payload.error().context +
                           "): VMs are named by pid");
    }
  }
  // Whether each instance's pages are stored compressed: its section header's flags.
  for (TraceDatBuffer& b : meta.buffers) {
    c.seek(b.section);
    const SectionHeader h = read_section_header(c);
    if (c.failed() || h.id != kSectionBuffer)
      return damaged(name, "no data section at byte " + std::to_string(b.section) + " for " +
                               (b.name.empty() ? std::string("the top instance") : b.name));
    b.compressed = (h.flags & kSectionCompressed) != 0;
  }
  return {};
}

}  // namespace

bool is_tracedat_magic(std::span<const std::uint8_t> prefix) {
  return prefix.size() >= kTraceDatMagicLen &&
         std::memcmp(prefix.data(), kMagic, kTraceDatMagicLen) == 0;
}

bool file_is_tracedat(const std::string& path) {
  auto fd = util::Fd::open(path, O_RDONLY);
  if (!fd) return false;
  util::ByteCursor c(fd->get(), 0, kTraceDatMagicLen);
  auto head = c.bytes(kTraceDatMagicLen);
  return !c.failed() && is_tracedat_magic(head);
}

util::Result<TraceDatMeta> read_tracedat_meta(int fd, const std::string& name,
                                              const std::set<std::string>& wanted_formats) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    const int err = errno;
    return util::os_error("stat " + name, err);
  }
  const auto file_size = static_cast<std::uint64_t>(st.st_size);
  util::ByteCursor c(fd, 0, file_size);
  auto magic = c.bytes(kTraceDatMagicLen);
  if (c.failed() || !is_tracedat_magic(magic))
    return util::plain_error(name + ": not a trace-cmd trace.dat file");

  TraceDatMeta meta;
  const std::string version = c.cstring(16);
  if (version != "6" && version != "7")
    return util::plain_error(name + ": trace.dat file version \"" + version +
                             "\" is not supported (kvmscope reads versions 6 and 7)");
  meta.version = version == "6" ? 6 : 7;
  auto flags = c.bytes(2);
  if (!c.failed()) {
    meta.big_endian = flags[0] != 0;
    meta.long_size = flags[1];
    c.set_big_endian(meta.big_endian);
    meta.page_size = c.u32();
  }
  if (c.failed()) return damaged(name, c.why());
  if (meta.long_size != 4 && meta.long_size != 8)
    return damaged(name, "long size " + std::to_string(meta.long_size));
  if (meta.page_size < 1024 || meta.page_size > (1u << 24) ||
      (meta.page_size & (meta.page_size - 1)) != 0)
    return damaged(name, "page size " + std::to_string(meta.page_size));

  auto walked = meta.version == 6 ? read_v6(c, name, wanted_formats, meta)
                                  : read_v7(c, name, wanted_formats, meta);
  if (!walked) return walked.error();

  // Top instance first; a file of instances only has no "" buffer.
  std::stable_partition(meta.buffers.begin(), meta.buffers.end(),
                        [](const TraceDatBuffer& b) { return b.name.empty(); });
  for (TraceDatBuffer& b : meta.buffers) {
    if (b.page_size != 0 && (b.page_size < 1024 || b.page_size > (1u << 24)))
      return damaged(name, "sub-buffer size " + std::to_string(b.page_size));
    for (TraceDatCpuData& d : b.cpus) {
      if (d.offset > file_size || d.size > file_size - d.offset) {
        d.cut = true;
        d.size = d.offset > file_size ? 0 : file_size - d.offset;
      }
    }
  }
  if (meta.cpu_count == 0 && !meta.buffers.empty())
    meta.cpu_count = static_cast<std::uint32_t>(meta.buffers.front().cpus.size());
  return meta;
}

}  // namespace kvmscope::tracedat
