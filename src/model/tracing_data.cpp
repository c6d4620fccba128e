#include "model/tracing_data.h"

#include <charconv>
#include <string_view>

namespace kvmscope::model {
namespace {

// Limits for untrusted sizes: far above what trace-cmd writes, far below what hurts.
constexpr std::uint64_t kMaxFormat = 1u << 20;      // one event format file
constexpr std::uint64_t kMaxHeaderText = 1u << 20;  // header_page, header_event
constexpr std::uint64_t kMaxCmdlines = 64u << 20;
constexpr std::size_t kMaxKeptFormats = 4096;

// The systems whose events kvmscope maps (model/tracepoint_events.cpp).
bool mapped_system(const std::string& system) {
  return system == "kvm" || system == "sched" || system == "task";
}

// The value of "<key>: <value>" on its own line of a format file ("name: kvm_exit", "ID: 12").
std::string_view format_line(std::string_view text, std::string_view key) {
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(pos, end - pos);
    if (line.size() > key.size() && line.substr(0, key.size()) == key && line[key.size()] == ':') {
      line.remove_prefix(key.size() + 1);
      while (!line.empty() && line.front() == ' ') line.remove_prefix(1);
      return line;
    }
    pos = end + 1;
  }
  return {};
}

void note_event_id(std::string_view text, TracingData& meta) {
  std::string_view id = format_line(text, "ID");
  int v = 0;
  auto [end, ec] = std::from_chars(id.data(), id.data() + id.size(), v);
  if (ec == std::errc() && end != id.data() && meta.event_ids.size() < 1000000)
    meta.event_ids.insert(v);
}

// One event format file of `system`: its id always, its text when kvmscope maps the system.
void take_format(util::ByteCursor& c, const std::string& system,
                 const std::set<std::string>& wanted, TracingData& meta) {
  const std::uint64_t size = c.u64();
  if (c.failed()) return;
  if (size > kMaxFormat) {
    c.skip(size);
    return;
  }
  std::string text = c.text(size);
  if (c.failed()) return;
  note_event_id(text, meta);
  if (!mapped_system(system) || meta.event_formats.size() >= kMaxKeptFormats) return;
  const std::string event(format_line(text, "name"));
  if (system == "kvm" && wanted.contains(event)) meta.formats[event] = text;
  meta.event_formats.push_back(std::move(text));
}

// "\tfield: local_t commit;\toffset:8;\tsize:8;\tsigned:1;" -> 8: the kernel's long size, which
// the ring-buffer page header uses.
void read_commit_size(std::string_view header_page, TracingData& meta) {
  auto at = header_page.find(" commit;");
  if (at == std::string_view::npos) return;
  auto size = header_page.find("size:", at);
  if (size == std::string_view::npos) return;
  unsigned v = 0;
  const char* p = header_page.data() + size + 5;
  auto [end, ec] = std::from_chars(p, header_page.data() + header_page.size(), v);
  if (ec == std::errc() && end != p && (v == 4 || v == 8)) meta.commit_size = v;
}

}  // namespace

// FTRACE EVENT FORMATS (v6 header, v7 section 17): count, then each format's size and text.
void read_ftrace_formats(util::ByteCursor& c, TracingData& meta) {
  const std::uint32_t n = c.u32();
  if (!c.failed() && n > c.remaining() / 8) c.fail("more ftrace formats than bytes hold");
  for (std::uint32_t i = 0; i < n && !c.failed(); ++i) take_format(c, "ftrace", {}, meta);
}

// EVENT FORMATS (v6 header, v7 section 18): systems, each with its format files.
void read_event_formats(util::ByteCursor& c, const std::set<std::string>& wanted,
                        TracingData& meta) {
  const std::uint32_t systems = c.u32();
  if (!c.failed() && systems > c.remaining() / 5) c.fail("more event systems than bytes hold");
  for (std::uint32_t s = 0; s < systems && !c.failed(); ++s) {
    const std::string system = c.cstring(256);
    const std::uint32_t events = c.u32();
    if (!c.failed() && events > c.remaining() / 8) c.fail("more events than bytes hold");
    for (std::uint32_t e = 0; e < events && !c.failed(); ++e) take_format(c, system, wanted, meta);
  }
}

// HEADER INFO (v6 header, v7 section 16): header_page and header_event texts.
void read_header_info(util::ByteCursor& c, TracingData& meta) {
  if (c.text(12) != std::string("header_page\0", 12)) return c.fail("no header_page");
  std::uint64_t size = c.u64();
  if (!c.failed() && size > kMaxHeaderText) return c.fail("header_page too large");
  read_commit_size(c.text(size), meta);
  if (c.text(13) != std::string("header_event\0", 13)) return c.fail("no header_event");
  c.skip(c.u64());
}

// SAVED COMMAND LINES (v6 header, v7 section 21): size, then "pid comm" lines.
void read_cmdlines(util::ByteCursor& c, TracingData& meta) {
  const std::uint64_t size = c.u64();
  if (c.failed()) return;
  if (size > kMaxCmdlines) return c.skip(size);
  const std::string text = c.text(size);
  std::string_view rest = text;
  while (!rest.empty() && meta.cmdlines.size() < (1u << 20)) {
    auto nl = rest.find('\n');
    std::string_view line = rest.substr(0, nl);
    rest = nl == std::string_view::npos ? std::string_view{} : rest.substr(nl + 1);
    std::uint32_t pid = 0;
    auto [end, ec] = std::from_chars(line.data(), line.data() + line.size(), pid);
    if (ec != std::errc() || end == line.data() || end == line.data() + line.size()) continue;
    meta.cmdlines[pid] = std::string(line.substr(static_cast<std::size_t>(end - line.data()) + 1));
  }
}

void read_tracing_parts(util::ByteCursor& c, const std::set<std::string>& wanted,
                        bool with_cmdlines, TracingData& meta) {
  read_header_info(c, meta);
  read_ftrace_formats(c, meta);
  read_event_formats(c, wanted, meta);
  c.skip(c.u32());  // kallsyms
  c.skip(c.u32());  // trace_printk formats
  if (with_cmdlines) read_cmdlines(c, meta);
}

}  // namespace kvmscope::model
