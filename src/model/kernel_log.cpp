#include "model/kernel_log.h"

#include <array>
#include <cctype>
#include <charconv>
#include <numeric>

#include "util/line_reader.h"

namespace kvmscope::model {

namespace {

constexpr std::string_view kPatchMarker = "kvm_exit_stats: ";

// Reads a line left to right; every expect_* fails (returns false) on a mismatch.
class Cursor {
 public:
  explicit Cursor(std::string_view text) : rest_(text) {}

  bool literal(std::string_view s) {
    if (!rest_.starts_with(s)) return false;
    rest_.remove_prefix(s.size());
    return true;
  }
  bool number(std::uint64_t& value, int base = 10) {
    const char* end = rest_.data() + rest_.size();
    auto [ptr, ec] = std::from_chars(rest_.data(), end, value, base);
    if (ec == std::errc::result_out_of_range) overflow_ = true;
    if (ec != std::errc() || ptr == rest_.data()) return false;
    rest_.remove_prefix(static_cast<std::size_t>(ptr - rest_.data()));
    return true;
  }
  // Up to (not including) `stop`, searched from the end: names may hold spaces and parentheses.
  bool until_last(std::string_view stop, std::string& out) {
    const auto at = rest_.rfind(stop);
    if (at == std::string_view::npos) return false;
    out = std::string(rest_.substr(0, at));
    rest_.remove_prefix(at);
    return true;
  }
  bool word(std::string& out) {
    const auto end = rest_.find_first_of(" :");
    if (end == 0 || end == std::string_view::npos) return false;
    out = std::string(rest_.substr(0, end));
    rest_.remove_prefix(end);
    return true;
  }
  bool at_end() const { return rest_.find_first_not_of(" \t") == std::string_view::npos; }
  std::string_view rest() const { return rest_; }
  // A number did not fit its type (the line is well-formed up to there).
  bool overflow() const { return overflow_; }

 private:
  std::string_view rest_;
  bool overflow_ = false;
};

// One parsed line of the patch's format.
struct PatchLine {
  enum class Kind { report, exit, suppressed, final } kind = Kind::report;
  std::uint32_t pid = 0;
  Isa isa = Isa::vmx;
  std::uint64_t seq = 0, total = 0, cycles = 0, khz = 0, printed = 0, suppressed = 0;
  std::uint32_t code = 0;
  std::string name;
};

bool parse_patch(std::string_view text, PatchLine& p) {
  Cursor c(text);
  std::uint64_t pid = 0;
  std::string isa;
  if (!c.literal("vm ") || !c.number(pid) || pid > 0xffffffffu || !c.literal(" ") || !c.word(isa) ||
      !c.literal(": "))
    return false;
  if (isa != "vmx" && isa != "svm") return false;
  p.pid = static_cast<std::uint32_t>(pid);
  p.isa = isa == "vmx" ? Isa::vmx : Isa::svm;
  if (c.literal("report ")) {
    p.kind = PatchLine::Kind::report;
    return c.number(p.seq) && c.literal(": ") && c.number(p.total) && c.literal(" exits, ") &&
           c.number(p.cycles) && c.literal(" cycles, tsc_khz ") && c.number(p.khz) && c.at_end();
  }
  if (c.literal("exit ")) {
    p.kind = PatchLine::Kind::exit;
    std::uint64_t code = 0;
    return c.number(code) && code <= 0xffffffffu && c.literal(" (") &&
           c.until_last("): ", p.name) && c.literal("): ") && c.number(p.total) &&
           c.literal(" exits, ") && c.number(p.cycles) && c.literal(" cycles") && c.at_end() &&
           (p.code = static_cast<std::uint32_t>(code), true);
  }
  if (c.literal("final: ")) {
    p.kind = PatchLine::Kind::final;
    return c.number(p.total) && c.literal(" exits, ") && c.number(p.cycles) &&
           c.literal(" cycles, tsc_khz ") && c.number(p.khz) && c.literal(", reports ") &&
           c.number(p.printed) && c.literal(", suppressed ") && c.number(p.suppressed) &&
           c.at_end();
  }
  p.kind = PatchLine::Kind::suppressed;
  return c.number(p.suppressed) && c.literal(" reports suppressed") && c.at_end();
}

// "kvm exit " anywhere, any case: where a course line's text begins, or npos.
std::size_t find_course(std::string_view line) {
  static constexpr std::string_view kWord = "kvm exit ";
  for (std::size_t i = 0; i + kWord.size() <= line.size(); ++i) {
    bool match = true;
    for (std::size_t j = 0; j < kWord.size() && match; ++j)
      match = std::tolower(static_cast<unsigned char>(line[i + j])) == kWord[j];
    if (match) return i;
  }
  return std::string_view::npos;
}

struct CourseLine {
  std::uint32_t code = 0;
  Isa isa = Isa::vmx;
  std::string name;
  std::uint64_t count = 0;
};

enum class LineStatus { ok, malformed, overflow };

LineStatus parse_course(std::string_view text, CourseLine& l) {
  Cursor c(text);
  std::uint64_t code = 0;
  bool hex = c.literal("0x");
  const bool ok = c.number(code, hex ? 16 : 10) && code <= 0xffffffffu && c.literal(" (") &&
                  c.until_last("): ", l.name) && c.literal("): ") && c.number(l.count) &&
                  c.at_end();
  if (ok) {
    l.code = static_cast<std::uint32_t>(code);
    l.isa = hex ? Isa::svm : Isa::vmx;
    return LineStatus::ok;
  }
  return c.overflow() || code > 0xffffffffu ? LineStatus::overflow : LineStatus::malformed;
}

// Lines of one kind that were skipped or cut: how many, and the first, for one warning.
struct LineTally {
  std::size_t count = 0, first_line = 0;
  std::string first_text;

  void add(std::size_t line, std::string_view text) {
    if (count++ > 0) return;
    first_line = line;
    // Enough to recognize it by; a cut line's 4 KiB would bury the message.
    constexpr std::size_t kShown = 120;
    first_text = std::string(text.substr(0, kShown)) + (text.size() > kShown ? "..." : "");
  }
  // "2 malformed 'KVM exit' lines (first at line 17: KVM exit ...)" for ("malformed 'KVM
  // exit' ", ""): the words before and after the noun, "line(s)" or another.
  std::string text(const std::string& before, const std::string& after,
                   const std::string& noun = "line") const {
    return std::to_string(count) + " " + before + noun + (count == 1 ? "" : "s") + after + " (" +
           (count == 1 ? "" : "first ") + "at line " + std::to_string(first_line) +
           (first_text.empty() ? "" : ": " + first_text) + ")";
  }
};

// "64 MiB", or "1000 bytes" where that is not whole MiB.
std::string bytes_text(std::uint64_t n) {
  return n % (1u << 20) == 0 ? std::to_string(n >> 20) + " MiB" : std::to_string(n) + " bytes";
}

std::string at_line(std::size_t line) {
  return "line " + std::to_string(line);
}

class Parser {
 public:
  explicit Parser(KernelLog& log) : log_(log) {}

  void patch(const PatchLine& p, std::size_t line, std::optional<std::uint64_t> ts);
  void course(const CourseLine& l, std::size_t line, std::optional<std::uint64_t> ts);
  void finish();

 private:
  using Key = std::pair<std::optional<std::uint32_t>, Isa>;
  LogVm& vm_of(const Key& key, LogFormat format);
  void open(const Key& key, LogSnapshot s);
  void close(const Key& key);

  std::string went_back(const LogVm& vm, const LogSnapshot& prev, const LogSnapshot& s) const;
  void carry_over(const LogSnapshot& prev, LogSnapshot& s);

  KernelLog& log_;
  std::map<Key, std::size_t> current_;  // the VM instance a key's lines go to
  std::map<Key, bool> open_;            // its last snapshot can still take exit lines
  std::size_t orphans_ = 0, first_orphan_ = 0;
  LineTally carried_;  // course blocks that lacked a reason the block before had
};

LogVm& Parser::vm_of(const Key& key, LogFormat format) {
  auto it = current_.find(key);
  if (it == current_.end()) {
    LogVm vm;
    vm.format = format;
    vm.pid = key.first;
    vm.isa = key.second;
    log_.vms.push_back(std::move(vm));
    it = current_.emplace(key, log_.vms.size() - 1).first;
  }
  return log_.vms[it->second];
}

// Ends a VM's open snapshot: checks its exit lines against its header, and starts a new VM
// instance with it when its counts went backwards (the VM was created anew).
void Parser::close(const Key& key) {
  if (!open_[key]) return;
  open_[key] = false;
  LogVm& vm = log_.vms[current_.at(key)];
  LogSnapshot& s = vm.snapshots.back();
  const std::string what = (vm.pid ? "vm " + std::to_string(*vm.pid) + " " : std::string()) +
                           (s.final ? std::string("final line")
                            : s.seq ? "report " + std::to_string(*s.seq)
                                    : std::string("block"));
  if (s.total && !s.reasons.empty() && s.reasons_exits() != *s.total)
    log_.notes.push_back(at_line(s.line) + ": " + what + ": its exit lines sum to " +
                         std::to_string(s.reasons_exits()) + " exits, its header says " +
                         std::to_string(*s.total));
  if (vm.snapshots.size() < 2) return;
  const LogSnapshot& prev = vm.snapshots[vm.snapshots.size() - 2];
  const std::string why = went_back(vm, prev, s);
  if (why.empty()) {
    if (vm.format == LogFormat::course) carry_over(prev, s);
    return;
  }
  LogVm next;
  next.format = vm.format;
  next.pid = vm.pid;
  next.isa = vm.isa;
  next.instance = vm.instance + 1;
  next.restart = at_line(s.line) + ": " + why +
                 (vm.format == LogFormat::course
                      ? ": a new VM (or the counters started again: kvm reloaded, a reboot)"
                      : ": a new VM (restarted, or its pid reused)");
  next.snapshots.push_back(std::move(s));
  vm.snapshots.pop_back();
  log_.vms.push_back(std::move(next));
  current_[key] = log_.vms.size() - 1;
}

// Why `s` cannot be a later report of the VM that printed `prev` ("" when it can be): counts
// are cumulative, so none goes down within one VM. The patch's header total is one count; the
// course format has none, only each reason's own (a block's sum can drop when a line of it was
// skipped, and comparing one reason's count with another's means nothing).
std::string Parser::went_back(const LogVm& vm, const LogSnapshot& prev,
                              const LogSnapshot& s) const {
  if (prev.final) return "a report after the final line";
  if (vm.format == LogFormat::patch && s.exits() < prev.exits())
    return "its exits went back from " + std::to_string(prev.exits()) + " to " +
           std::to_string(s.exits());
  for (const auto& [code, r] : s.reasons) {
    auto p = prev.reasons.find(code);
    if (p != prev.reasons.end() && r.exits < p->second.exits)
      return "exit " + std::to_string(code) + " went back from " + std::to_string(p->second.exits) +
             " to " + std::to_string(r.exits);
  }
  return {};
}

// The course patch prints every reason it has counted, in every block: one missing from a
// block of the same VM is a line that was skipped (malformed) or lost. Its count is still at
// least the one before, and taking that one keeps the block's sum from dropping.
void Parser::carry_over(const LogSnapshot& prev, LogSnapshot& s) {
  bool lacked = false;
  for (const auto& [code, r] : prev.reasons)
    if (s.reasons.emplace(code, r).second && !lacked) {
      lacked = true;
      carried_.add(s.line, "exit " + std::to_string(code));
    }
}

void Parser::open(const Key& key, LogSnapshot s) {
  close(key);
  LogVm& vm = log_.vms[current_.at(key)];
  vm.snapshots.push_back(std::move(s));
  open_[key] = true;
}

void Parser::patch(const PatchLine& p, std::size_t line, std::optional<std::uint64_t> ts) {
  const Key key{p.pid, p.isa};
  LogVm& vm = vm_of(key, LogFormat::patch);
  switch (p.kind) {
    case PatchLine::Kind::report:
    case PatchLine::Kind::final: {
      LogSnapshot s;
      s.line = line;
      s.ts_ns = ts;
      s.final = p.kind == PatchLine::Kind::final;
      if (!s.final) s.seq = p.seq;
      s.total = p.total;
      s.cycles = p.cycles;
      s.tsc_khz = p.khz;
      if (s.final) {
        s.reports_printed = p.printed;
        s.reports_suppressed = p.suppressed;
      }
      open(key, std::move(s));
      break;
    }
    case PatchLine::Kind::exit: {
      if (!open_[key]) {
        if (orphans_++ == 0) first_orphan_ = line;
        break;
      }
      LogSnapshot& s = vm.snapshots.back();
      if (s.reasons.count(p.code))
        log_.notes.push_back(at_line(line) + ": exit " + std::to_string(p.code) +
                             " a second time in one report: the later line counts");
      s.reasons[p.code] = {p.name, p.total, p.cycles};
      break;
    }
    case PatchLine::Kind::suppressed:
      vm.suppressed += p.suppressed;
      break;
  }
}

void Parser::course(const CourseLine& l, std::size_t line, std::optional<std::uint64_t> ts) {
  const Key key{std::nullopt, l.isa};
  LogVm& vm = vm_of(key, LogFormat::course);
  // A block is one printout, its reasons in code order: a code not above the one before (the
  // last, the highest so far) begins the next. Timestamps say nothing here: printk stamps each
  // line, milliseconds apart on a slow console.
  bool fresh = !open_[key];
  if (!fresh) {
    const LogSnapshot& s = vm.snapshots.back();
    fresh = s.reasons.empty() || l.code <= s.reasons.rbegin()->first;
  }
  if (fresh) {
    LogSnapshot s;
    s.line = line;
    s.ts_ns = ts;
    open(key, std::move(s));
  }
  log_.vms[current_.at(key)].snapshots.back().reasons[l.code] = {l.name, l.count, std::nullopt};
}

void Parser::finish() {
  for (auto& [key, index] : current_) close(key);
  if (orphans_)
    log_.notes.push_back(std::to_string(orphans_) + " exit line" + (orphans_ == 1 ? "" : "s") +
                         " before their VM's first report line (from " + at_line(first_orphan_) +
                         ") skipped: the log begins in the middle of a report");
  if (carried_.count)
    log_.notes.push_back(
        carried_.text("'KVM exit' ", " without a reason the block before had", "block") +
        ": its count there carried over (a line skipped?)");
}

constexpr std::array<std::string_view, 12> kMonths = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                      "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
constexpr std::array<unsigned, 12> kDaysBefore = {0,   31,  59,  90,  120, 151,
                                                  181, 212, 243, 273, 304, 334};

// "12.345678" -> ns; false unless the text is digits with an optional fraction.
bool seconds_ns(std::string_view text, std::uint64_t& ns) {
  const auto dot = text.find('.');
  std::uint64_t whole = 0, frac = 0;
  const std::string_view w = text.substr(0, dot);
  if (w.empty() || std::from_chars(w.data(), w.data() + w.size(), whole).ptr != w.data() + w.size())
    return false;
  ns = whole * 1'000'000'000ull;
  if (dot == std::string_view::npos) return true;
  std::string_view f = text.substr(dot + 1);
  if (f.empty() || f.size() > 9 ||
      std::from_chars(f.data(), f.data() + f.size(), frac).ptr != f.data() + f.size())
    return false;
  for (std::size_t i = f.size(); i < 9; ++i) frac *= 10;
  ns += frac;
  return true;
}

}  // namespace

std::uint64_t LogSnapshot::reasons_exits() const {
  std::uint64_t n = 0;
  for (const auto& [code, r] : reasons) n += r.exits;
  return n;
}

std::optional<std::uint64_t> log_timestamp_ns(std::string_view line) {
  // dmesg: "[  123.456789] ...", also after a "<6>" priority or a journal's host prefix.
  if (auto open = line.find('['); open != std::string_view::npos) {
    const auto close = line.find(']', open);
    if (close != std::string_view::npos) {
      std::string_view inside = line.substr(open + 1, close - open - 1);
      inside.remove_prefix(std::min(inside.find_first_not_of(' '), inside.size()));
      std::uint64_t ns = 0;
      if (inside.find('.') != std::string_view::npos && seconds_ns(inside, ns)) return ns;
    }
  }
  // journalctl / syslog: "Nov 24 12:00:00[.123456] host kernel: ...".
  if (line.size() < 15 || line[3] != ' ' || line[9] != ':' || line[12] != ':') return std::nullopt;
  std::size_t month = 0;
  while (month < kMonths.size() && line.substr(0, 3) != kMonths[month]) ++month;
  if (month == kMonths.size()) return std::nullopt;
  std::string_view day = line.substr(4, 2);
  if (day.front() == ' ') day.remove_prefix(1);
  unsigned d = 0, h = 0, m = 0;
  auto num = [](std::string_view t, unsigned& v) {
    return std::from_chars(t.data(), t.data() + t.size(), v).ptr == t.data() + t.size();
  };
  std::size_t end = line.find(' ', 7);
  if (end == std::string_view::npos) end = line.size();
  std::uint64_t sec_ns = 0;
  if (!num(day, d) || !num(line.substr(7, 2), h) || !num(line.substr(10, 2), m) ||
      !seconds_ns(line.substr(13, end - 13), sec_ns) || d < 1 || d > 31)
    return std::nullopt;
  const std::uint64_t seconds = (kDaysBefore[month] + d - 1) * 86400ull + h * 3600ull + m * 60ull;
  return seconds * 1'000'000'000ull + sec_ns;
}

util::Result<KernelLog> parse_kernel_log(std::istream& in, const std::string& name,
                                         const KernelLogLimits& limits) {
  KernelLog log;
  Parser parser(log);
  const std::string where = name == "-" ? "standard input" : name;
  const std::string expected =
      "expected kvm_exit_stats lines of the kernel/ patch or 'KVM exit <code> (<name>): "
      "<count>' lines";
  // Bounded lines, and a bounded search for the first statistics line: /dev/zero (one endless
  // line) or a binary file ends with an error instead of taking all memory or running forever.
  util::LineReader reader(in, limits.max_line);
  reader.set_byte_limit(limits.search_bytes);
  LineTally cut, malformed, overflow;
  std::string line;
  while (reader.next(line)) {
    ++log.lines;
    if (reader.cut()) cut.add(log.lines, "");
    const std::string_view text = line;
    std::optional<std::size_t> found;  // where the statistics begin, on a line with them
    if (const auto at = text.find(kPatchMarker); at != std::string_view::npos) {
      PatchLine p;
      if (reader.cut() || !parse_patch(text.substr(at + kPatchMarker.size()), p))
        return util::plain_error(where + ":" + std::to_string(log.lines) +
                                 ": malformed kvm_exit_stats line: " +
                                 (reader.cut() ? line.substr(0, 120) + "..." : line));
      ++log.patch_lines;
      parser.patch(p, log.lines, log_timestamp_ns(text.substr(0, at)));
      found = at;
    } else if (const auto at = find_course(text); at != std::string_view::npos) {
      const std::string_view rest = text.substr(at + 9);
      if (rest.empty() || !std::isdigit(static_cast<unsigned char>(rest.front())))
        continue;  // "kvm exit" in some other message
      // A cut line's last number may be cut too: it is not used.
      CourseLine l;
      const LineStatus status = reader.cut() ? LineStatus::malformed : parse_course(rest, l);
      if (status == LineStatus::malformed) {
        malformed.add(log.lines, text.substr(at));
        continue;
      }
      if (status == LineStatus::overflow) {
        overflow.add(log.lines, text.substr(at));
        continue;
      }
      ++log.course_lines;
      parser.course(l, log.lines, log_timestamp_ns(text.substr(0, at)));
      found = at;
    }
    if (found) reader.set_byte_limit(0);  // a kernel log: read it to its end
  }
  if (in.bad()) {
    const int err = errno;
    return util::os_error("reading " + where, err);
  }
  if (reader.limit_reached())
    return util::plain_error(
        "no KVM exit statistics lines in the first " + bytes_text(limits.search_bytes) + " of " +
            where,
        expected + "; a longer log: grep -iE 'kvm_exit_stats|kvm exit' it first");
  parser.finish();
  if (malformed.count)
    log.warnings.push_back("skipped " + malformed.text("malformed 'KVM exit' ", ""));
  if (overflow.count)
    log.warnings.push_back("skipped " +
                           overflow.text("'KVM exit' ", " with a number out of range"));
  if (cut.count)
    log.warnings.push_back("cut " + cut.text("", " longer than " + std::to_string(limits.max_line) +
                                                     " bytes to that length"));
  if (log.patch_lines + log.course_lines == 0)
    return util::plain_error("no KVM exit statistics lines in " + where, expected);
  return log;
}

}  // namespace kvmscope::model
