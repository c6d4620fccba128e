#include "tracedat/tracedat_options.h"

#include <charconv>
#include <climits>
#include <cstdint>

#include "util/byte_cursor.h"
#include "util/strings.h"

namespace kvmscope::tracedat {
namespace {

// Option text is '\0'-terminated inside its payload; anything after the terminator is ignored.
std::string_view payload_text(std::span<const std::uint8_t> data) {
  std::string_view s(reinterpret_cast<const char*>(data.data()), data.size());
  if (auto nul = s.find('\0'); nul != std::string_view::npos) s = s.substr(0, nul);
  return s;
}

std::string_view trim(std::string_view s) {
  return util::trim(s, " \t\n");
}

std::optional<std::uint64_t> number(std::string_view s, int base = 10) {
  s = trim(s);
  std::uint64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v, base);
  if (ec != std::errc() || end == s.data()) return std::nullopt;
  return v;
}

// strtoll(s, NULL, 0) as trace-cmd reads OFFSET and DATE: optional sign, "0x" for hex.
std::optional<std::int64_t> c_integer(std::string_view s) {
  s = trim(s);
  bool negative = false;
  if (!s.empty() && (s.front() == '-' || s.front() == '+')) {
    negative = s.front() == '-';
    s.remove_prefix(1);
  }
  int base = 10;
  if (s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
    base = 16;
    s.remove_prefix(2);
  }
  auto v = number(s, base);
  if (!v || *v > static_cast<std::uint64_t>(INT64_MAX)) return std::nullopt;
  return negative ? -static_cast<std::int64_t>(*v) : static_cast<std::int64_t>(*v);
}

// v7 BUFFER: offset, name, clock, page size (trace-cmd 3.x writes it; trace-cmd.dat.v7(5) does
// not list it), CPU count, then per CPU its id, data offset and size.
util::Result<void> apply_buffer_v7(std::span<const std::uint8_t> data, bool big_endian,
                                   TraceDatMeta& meta) {
  util::ByteCursor c(data);
  c.set_big_endian(big_endian);
  TraceDatBuffer buf;
  // Where its section header is: its flags say whether the pages are compressed.
  buf.section = c.u64();
  buf.name = c.cstring(4096);
  buf.clock = c.cstring(256);
  buf.page_size = c.u32();
  const std::uint32_t n = c.u32();
  // Each CPU takes 20 bytes: a count the payload cannot hold is damage, not a huge allocation.
  if (!c.failed() && n > c.remaining() / 20)
    return util::plain_error("BUFFER option lists more CPUs than it holds");
  for (std::uint32_t i = 0; i < n && !c.failed(); ++i) {
    TraceDatCpuData cpu;
    cpu.cpu = c.u32();
    cpu.offset = c.u64();
    cpu.size = c.u64();
    buf.cpus.push_back(cpu);
  }
  if (c.failed()) return util::plain_error("BUFFER option: " + c.why());
  meta.buffers.push_back(std::move(buf));
  return {};
}

}  // namespace

std::pair<std::uint32_t, TraceDatCpuStat> parse_tracedat_cpustat(std::string_view text,
                                                                 std::uint32_t fallback_cpu) {
  std::uint32_t cpu = fallback_cpu;
  TraceDatCpuStat st;
  while (!text.empty()) {
    auto nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
    auto colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    std::string_view key = trim(line.substr(0, colon));
    auto value = number(line.substr(colon + 1));
    if (!value) continue;
    if (key == "CPU")
      cpu = static_cast<std::uint32_t>(*value);
    else if (key == "entries")
      st.entries = *value;
    else if (key == "overrun")
      st.overrun = *value;
    else if (key == "commit overrun")
      st.commit_overrun = *value;
    else if (key == "dropped events")
      st.dropped = *value;
  }
  return {cpu, st};
}

std::string parse_tracedat_clock(std::string_view text) {
  auto open = text.find('[');
  auto close = text.find(']', open == std::string_view::npos ? 0 : open);
  if (open != std::string_view::npos && close != std::string_view::npos)
    return std::string(text.substr(open + 1, close - open - 1));
  return std::string(trim(text));
}

std::optional<std::pair<std::uint32_t, std::string>> parse_tracedat_procmap(std::string_view text) {
  std::string_view line = text.substr(0, text.find('\n'));
  auto sp1 = line.find(' ');
  if (sp1 == std::string_view::npos) return std::nullopt;
  auto sp2 = line.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos) return std::nullopt;
  auto pid = number(line.substr(0, sp1), 16);
  if (!pid || *pid == 0 || *pid > 0xffffffffu) return std::nullopt;
  return std::make_pair(static_cast<std::uint32_t>(*pid), std::string(trim(line.substr(sp2 + 1))));
}

util::Result<void> apply_tracedat_option(std::uint16_t id, std::span<const std::uint8_t> data,
                                         unsigned version, bool big_endian, TraceDatMeta& meta,
                                         TdSectionOffsets& sections) {
  util::ByteCursor c(data);
  c.set_big_endian(big_endian);
  switch (static_cast<TdOption>(id)) {
    case TdOption::cpustat: {
      auto [cpu, st] = parse_tracedat_cpustat(payload_text(data),
                                              static_cast<std::uint32_t>(meta.cpustats.size()));
      if (meta.cpustats.size() < 65536) meta.cpustats[cpu] = st;
      return {};
    }
    case TdOption::buffer:
      // v6: an instance's offset and name; its per-CPU index is at that offset.
      if (version >= 7) return apply_buffer_v7(data, big_endian, meta);
      meta.buffers.push_back(TraceDatBuffer{});
      meta.buffers.back().section = c.u64();  // where its "flyrecord" part is
      meta.buffers.back().name = c.cstring(4096);
      if (c.failed()) return util::plain_error("BUFFER option: " + c.why());
      return {};
    case TdOption::traceclock:
      meta.trace_clock = parse_tracedat_clock(payload_text(data));
      return {};
    case TdOption::uname:
      meta.uname = std::string(trim(payload_text(data)));
      return {};
    case TdOption::version:
      meta.tracecmd_version = std::string(trim(payload_text(data)));
      return {};
    case TdOption::cpucount:
      meta.cpu_count = c.u32();
      if (c.failed()) return util::plain_error("CPUCOUNT option: " + c.why());
      return {};
    case TdOption::procmaps:
      if (auto pm = parse_tracedat_procmap(payload_text(data)); pm && meta.procmaps.size() < 65536)
        meta.procmaps[pm->first] = pm->second;
      return {};
    case TdOption::header_info:
      sections.header_info = c.u64();
      if (c.failed()) return util::plain_error("HEADER_INFO option: " + c.why());
      return {};
    case TdOption::ftrace_events:
      sections.ftrace_events = c.u64();
      if (c.failed()) return util::plain_error("FTRACE_EVENTS option: " + c.why());
      return {};
    case TdOption::event_formats:
      sections.event_formats = c.u64();
      if (c.failed()) return util::plain_error("EVENT_FORMATS option: " + c.why());
      return {};
    case TdOption::cmdlines:
      sections.cmdlines = c.u64();
      if (c.failed()) return util::plain_error("CMDLINES option: " + c.why());
      return {};
    case TdOption::offset:
      if (auto v = c_integer(payload_text(data))) meta.ts_offset = *v;
      return {};
    case TdOption::date:
      // Microseconds from the trace clock to the wall clock (trace-cmd record --date).
      if (auto v = c_integer(payload_text(data));
          v && *v > INT64_MIN / 1000 && *v < INT64_MAX / 1000)
        meta.realtime_offset_ns = *v * 1000;
      return {};
    case TdOption::tsc2nsec: {
      TraceDatTsc2Nsec t;
      t.mult = c.u32();
      t.shift = c.u32();
      t.offset = c.u64();
      if (c.failed() || t.shift > 63) return util::plain_error("TSC2NSEC option: malformed");
      if (t.mult != 0) meta.tsc2nsec = t;
      return {};
    }
    case TdOption::time_shift:
      meta.time_shift = true;
      return {};
    case TdOption::buffer_text:
      meta.latency = true;
      return {};
    default:
      return {};  // not used by kvmscope
  }
}

}  // namespace kvmscope::tracedat
