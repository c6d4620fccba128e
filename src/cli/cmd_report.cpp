// kvmscope report: a recording (kvmscope's own, trace-cmd's trace.dat, perf's perf.data) turned
// into the stat tables, a timeline, rate stability, bursts, boot summaries and drill-downs; as
// text, JSON, CSV files or one self-contained HTML page with charts. Reads block by block:
// memory does not grow with the file.
#include <charconv>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <optional>
#include <string>

#include "cli/commands.h"
#include "cli/guest_code.h"
#include "cli/numbers.h"
#include "cli/option_cursor.h"
#include "cli/output_options.h"
#include "cli/read_recording.h"
#include "cli/stat_options.h"
#include "model/kernel_log_analysis.h"
#include "model/reason_catalog.h"
#include "model/recording_analysis.h"
#include "report/report.h"
#include "store/event_source.h"
#include "symbols/attribution.h"
#include "symbols/kernel_image.h"
#include "symbols/symbol_table.h"
#include "util/format.h"
#include "util/usage.h"

namespace kvmscope::cli {

namespace {

const char* const kReportHelp =
    R"(usage: kvmscope report FILE [options]
       kvmscope report --dmesg LOG [options]

Reads a recording made by 'kvmscope record', trace-cmd's trace.dat or perf's perf.data ('perf
kvm stat record', 'perf record -e kvm:*'; FILE '-' reads any from standard input) and prints
the exit tables 'kvmscope stat' would have printed, then the timeline of exits per reason, the
stability of each reason's rate, bursts, a boot summary for each VM recorded from its start,
and the drill-downs asked for.

Handling-time percentiles (p50, p90, p99, p99.9, max per reason and per drill-down row) come
from each exit's own time, not from log2 buckets: exact while a row has at most 1,024 timed
exits, within 1 % past that (DDSketch); the header says which ('percentiles: exact' or
'percentiles: DDSketch, ≤1% relative error'). Memory does not grow with the recording.

options:
  --per-vm, --per-vcpu   split the exit tables per VM / per VM and vCPU
  --by KINDS             drill-downs: port, mmio, msr, cpuid, hypercall (comma-separated, or
                         all); the default is none for the text, all for --json, --csv, --html
  --by-vm                one drill-down table per VM
  --by function          which guest code exited: per VM and reason, the guest functions (or,
                         without --guest-symbols, the guest RIPs) of the hardware exits, with
                         count, share and handling time, and the exits' split into kernel,
                         firmware/early boot (low RIPs before the VM's first kernel RIP) and
                         user (low RIPs after it; not per process: kvm_exit carries no CR3)
  --guest-symbols FILE   the guest kernel's symbols (implies --by function): its /proc/kallsyms
                         (runtime addresses), a System.map or a vmlinux ELF with a symbol table
                         (link-time addresses: the KASLR offset is needed, see below). Debian's
                         linux-image package ships a stub System.map; the real one, and the
                         vmlinux, are in linux-image-<version>-dbg (/usr/lib/debug/boot/)
  --guest-kernel FILE    the guest kernel's code: a vmlinux, or a bzImage/vmlinuz (its xz,
                         zstd, gzip or lzma payload is extracted). Each VM's KASLR offset is
                         then found by trying every 2 MiB-aligned offset in KASLR's 1 GiB range
                         and checking the instruction at each exit RIP against its reason (IN/OUT
                         with the kvm_pio's direction, size and port, CPUID, RDMSR/WRMSR, HLT,
                         VMCALL/VMMCALL); the offset where most fit is used. The report always
                         says the offset and how many checkable RIPs fit. Without it, a
                         System.map's offset is guessed from function names (said so; not
                         verified)
  --guest-kaslr-offset OFF  use this KASLR offset (hex or decimal: runtime _text minus
                         0xffffffff81000000) for every VM instead of searching
  VM=FILE, VM=OFF        each of the three may be given per VM (VM: its pid, name or process
                         name; repeatable): such a VM uses only its own, every other VM the
                         plain ones. A FILE with '=' in its name is written ./FILE
  --rows N               rows per drill-down table in the text (default 20)
  --bucket T             timeline bucket width (e.g. 100ms, 1s); default: chosen from the length
  --mark T=LABEL         a boot phase named LABEL begins T after the start (repeatable), e.g.
                         --mark 2.5=kernel --mark 9s=userspace; two marks at one time are an
                         error; a mark at or after the end of the recording (or of every
                         boot) begins no phase, and the report warns about it
  --dmesg LOG            read exit statistics from a kernel log instead of a recording: the
                         kvm_exit_stats lines of the kernel/ patch, or the course format's
                         'KVM exit 30 (I/O_INSTRUCTION): 1419909' lines; dmesg or journalctl -k
                         output, with or without timestamps ('-': standard input). Tables: each
                         VM's last report (its final line where there is one); per VM its
                         reports with the exits between them; the timeline from the reports'
                         timestamps. --by, --by-vm, --mark do not apply.
                         The course format's report is one block of 'KVM exit' lines in
                         ascending code order, whatever their timestamps and the other lines
                         between; a code not above the one before begins the next block. A
                         reason's count below the block before's begins a new VM. Its names
                         give way to the kernel's (29 UNKNOWN is DR_ACCESS; a note says so).
                         A 'KVM exit' line that is malformed or has a number out of range is
                         skipped, with a warning on standard error. Lines are cut at 4096
                         bytes; no statistics line in the first 64 MiB: the log is refused.
  --json                 one JSON document (schema kvmscope.report/1) instead of the text
  --csv DIR              also write one CSV file per table into DIR (made if missing; the
                         directory above it must exist)
  --html FILE            also write one self-contained HTML page with interactive charts
  -o, --output FILE      the text / JSON to FILE instead of standard output
                         (output paths are checked before the recording is read: a missing
                         directory is an error, never created)
  --allow-damaged        exit 0 for a damaged recording too (the report is printed either way)
  -h, --help             this text

The format is told by the file's first bytes, not its name. A file in no format it reads is
refused, saying what it looks like where that is known (compressed: decompress it first).

A perf.data may be a file or a pipe stream ('perf record -o -'), zstd-compressed or not ('-z').
Exit reasons are named from the event formats the file carries, vCPU threads grouped into their
VM by the samples' process id and named by its main thread's comm. Every kvm_exit is counted:
'perf kvm stat report' shows one fewer for each vCPU (it counts an exit at the next kvm_entry).
perf writes a file's event formats after its events: a perf.data file cut short cannot be read
(the message says where it was cut); a pipe stream is read up to the cut.

A recording that was cut short (Ctrl-C, a kill, a full disk) is read up to its last complete
block, and the report says so. A corrupt block in it is skipped and every intact block after
it read; the report says which bytes were skipped and about how many events they held (counted
in lost_events), and kvmscope exits with status 3 unless --allow-damaged is given.

exit status: 0 done, 1 error, 2 usage error, 3 the recording is damaged (the report is still
printed)

examples:
  kvmscope report boot.kvms
  kvmscope report boot.kvms --by port,mmio --html boot.html
  kvmscope report boot.kvms --bucket 10ms --mark 1.2=kernel --mark 4=init --json -o boot.json
  ssh host cat boot.kvms | kvmscope report -
  kvmscope report perf.data
  dmesg | kvmscope report --dmesg -
  journalctl -k -o short-monotonic | kvmscope report --dmesg - --per-vm --json
  kvmscope report --dmesg kern.log --html exits.html
)";

struct ReportCliOptions {
  std::string file;
  std::string dmesg;  // --dmesg: a kernel log instead of a recording
  report::ReportOptions report;
  model::AnalysisOptions analysis;
  OutputOptions out;           // --json, --csv DIR, --html, -o
  bool allow_damaged = false;  // --allow-damaged: a damaged recording exits 0
  bool help = false;
  model::ReasonCatalog catalog = model::ReasonCatalog::builtin();
  GuestCodeOptions guest;  // --by function, --guest-*
};

// Exit status of a report made from a damaged recording (kReportHelp: "exit status").
constexpr int kExitDamaged = 3;

int fail(const util::Error& error, int status = 1) {
  return util::fail("report", error, status);
}

util::Result<model::PhaseMark> parse_mark(const OptionCursor& cursor, const std::string& text) {
  auto eq = text.find('=');
  if (eq == std::string::npos || eq == 0 || eq + 1 == text.size())
    return cursor.usage("--mark: expected TIME=LABEL, got '" + text + "'");
  auto seconds = parse_seconds(text.substr(0, eq));
  if (!seconds) return cursor.usage("--mark: '" + text.substr(0, eq) + "' is not a time");
  // Rounded, not truncated: "1.1" is 1,100,000,000 ns, and "1.1" and "1100ms" are one time.
  return model::PhaseMark{static_cast<std::uint64_t>(std::llround(*seconds * 1e9)),
                          text.substr(eq + 1)};
}

// Two marks at one time would begin one phase with two names: the later one given used to
// win silently.
util::Result<void> check_marks_apart(const OptionCursor& cursor,
                                     const std::vector<model::PhaseMark>& marks,
                                     const std::vector<std::string>& texts) {
  for (std::size_t i = 0; i < marks.size(); ++i)
    for (std::size_t j = i + 1; j < marks.size(); ++j)
      if (marks[i].offset_ns == marks[j].offset_ns)
        return cursor.usage("--mark " + texts[i] + " and --mark " + texts[j] +
                            " are at the same time: one phase cannot begin with two names");
  return {};
}

util::Result<ReportCliOptions> parse(Args args) {
  ReportCliOptions o;
  bool per_vm = false, per_vcpu = false;
  std::vector<std::string> mark_texts;  // as given, for messages
  OptionCursor cursor(args, "report", kReportHelp);
  while (cursor.next()) {
    const std::string_view name = cursor.name();
    auto value = [&]() { return cursor.value(); };
    auto guest_option = parse_guest_code_option(cursor, o.guest);
    if (!guest_option) return guest_option.error();
    if (*guest_option) continue;
    auto output_option = parse_output_option(cursor, o.out);
    if (!output_option) return output_option.error();
    if (*output_option) continue;
    if (name == "-h" || name == "--help") {
      o.help = true;
    } else if (name == "--per-vm") {
      per_vm = true;
    } else if (name == "--per-vcpu") {
      per_vcpu = true;
    } else if (name == "--by") {
      auto v = value();
      if (!v) return v.error();
      // "function" is no drill-down kind: taken out here, the rest parsed as stat's.
      const std::string rest = take_function_kind(*v, o.guest);
      if (rest.empty() && o.guest.functions) continue;
      auto kinds = parse_drill_kinds(cursor, rest);
      if (!kinds) return kinds.error();
      o.report.drilldowns.insert(o.report.drilldowns.end(), kinds->begin(), kinds->end());
    } else if (name == "--by-vm") {
      o.report.drilldowns_per_vm = true;
    } else if (name == "--rows") {
      auto v = value();
      if (!v) return v.error();
      auto n = parse_u64(*v);
      if (!n || *n == 0) return cursor.usage("--rows: '" + *v + "' is not a positive number");
      o.report.max_rows = static_cast<std::size_t>(*n);
    } else if (name == "--bucket") {
      auto v = value();
      if (!v) return v.error();
      auto s = parse_seconds(*v);
      if (!s || *s < 1e-6) return cursor.usage("--bucket: '" + *v + "' is not a bucket width");
      o.analysis.bucket_ns = static_cast<std::uint64_t>(*s * 1e9);
    } else if (name == "--mark") {
      auto v = value();
      if (!v) return v.error();
      auto mark = parse_mark(cursor, *v);
      if (!mark) return mark.error();
      o.analysis.marks.push_back(*mark);
      mark_texts.push_back(*v);
    } else if (name == "--dmesg") {
      auto v = value();
      if (!v) return v.error();
      o.dmesg = *v;
    } else if (name == "--allow-damaged") {
      o.allow_damaged = true;
    } else if ((name == "-" || !name.starts_with("-")) && o.file.empty()) {
      o.file = std::string(name);  // "-": standard input
    } else if (name == "-" || !name.starts_with("-")) {
      return cursor.usage("one recording at a time: '" + o.file + "' and '" + std::string(name) +
                          "'");
    } else {
      return cursor.unknown();
    }
  }
  if (o.help) return o;
  if (auto apart = check_marks_apart(cursor, o.analysis.marks, mark_texts); !apart)
    return apart.error();
  if (!o.dmesg.empty()) {
    if (!o.file.empty())
      return cursor.usage("a recording or a kernel log: '" + o.file + "' and --dmesg " + o.dmesg);
    if (!o.report.drilldowns.empty() || o.report.drilldowns_per_vm || !o.analysis.marks.empty() ||
        o.guest.functions)
      return cursor.usage("--by, --by-vm, --mark and --guest-* need a recording, not a kernel log");
    o.report.breakdown = per_vcpu || per_vm ? model::Breakdown::per_vm : model::Breakdown::none;
    return o;
  }
  if (o.file.empty()) return cursor.usage("which recording? kvmscope report FILE");
  // Files are for looking into later: they get every drill-down unless told otherwise.
  if (o.report.drilldowns.empty() && (o.out.json || !o.out.csv.empty() || !o.out.html.empty()))
    o.report.drilldowns.assign(std::begin(model::kDrillKinds), std::end(model::kDrillKinds));
  o.report.breakdown = per_vcpu ? model::Breakdown::per_vcpu
                       : per_vm ? model::Breakdown::per_vm
                                : model::Breakdown::none;
  o.analysis.guest_sites = o.guest.functions;
  return o;
}

std::vector<model::Marker> to_model(const std::vector<store::Marker>& markers) {
  std::vector<model::Marker> out;
  out.reserve(markers.size());
  for (const auto& m : markers) out.push_back({m.ts_ns, m.label});
  return out;
}

// Functions in the HTML page's timeline by guest function; the rest is one "other" series.
constexpr std::size_t kTimelineFunctions = 11;

// The timeline by guest function needs each exit's function, known only once every RIP was
// seen: a second pass over the file (not over standard input, which cannot be read twice).
util::Result<void> function_timeline(const ReportCliOptions& o, std::uint64_t end_ns,
                                     symbols::Attribution& a) {
  symbols::FunctionSeries fs = symbols::function_series(a, kTimelineFunctions);
  auto source = store::open_recording(o.file);
  if (!source) return source.error();
  model::AnalysisOptions options = o.analysis;
  options.guest_sites = false;
  options.function_series = &fs.of_rip;
  options.other_function_series = static_cast<std::uint32_t>(fs.names.size() - 1);
  auto first = (*source)->next();
  if (!first) return first.error();
  options.markers = to_model((*source)->markers());
  model::RecordingAnalysis analysis(options);
  std::size_t markers_given = options.markers.size();
  for (auto batch = std::move(first); !batch->empty();) {
    analysis.add(*batch);
    batch = (*source)->next();
    if (!batch) return batch.error();
    if ((*source)->markers().size() > markers_given) {
      std::vector<store::Marker> met((*source)->markers().begin() + markers_given,
                                     (*source)->markers().end());
      analysis.add_markers(to_model(met));
      markers_given = (*source)->markers().size();
    }
  }
  a.timeline = analysis.finish(end_ns).function_timeline;
  a.timeline_functions = std::move(fs.names);
  return {};
}

// "VM 4242: KASLR offset 0x1e000000 (verified), 812 of 815 checkable exit RIPs fit vmlinuz":
// said on standard error whatever the output, so that a script sees which offset was used.
}  // namespace

int write_outputs(const model::RecordingAnalysisResult& result, const model::ReasonCatalog& names,
                  const ReportCliOptions& o);

// Reads a recording, whatever its format, into the analysis, and what the file says about itself
// into the report's options.
util::Result<model::RecordingAnalysisResult> analyze(store::EventSource& source,
                                                     ReportCliOptions& o) {
  const store::RecordingInfo& info = source.info();

  // The recording kernel's own reason names, when the file carries its format files.
  auto catalog = source.reason_catalog();
  if (!catalog) {
    o.report.notes.push_back("the recording's format files could not be read (" +
                             catalog.error().message() + "); reason names are built-in");
    catalog = model::ReasonCatalog::builtin();
  }
  o.catalog = std::move(*catalog);

  auto analyzed = analyze_events(source, o.analysis);
  if (!analyzed) return analyzed.error();
  model::RecordingAnalysisResult result = std::move(*analyzed);

  report::RecordingMeta& meta = o.report.recording;
  o.report.target = info.target;
  meta.kernel = info.kernel_release;
  meta.hostname = info.hostname;
  meta.kvmscope_version = info.kvmscope_version;
  if (info.realtime_offset_ns != 0)
    meta.realtime_offset_ns = info.realtime_offset_ns;  // 0: unknown
  meta.lost_events = source.lost_total();
  for (const auto& [cpu, n] : source.lost_per_cpu()) {
    if (meta.lost_per_cpu.size() <= cpu) meta.lost_per_cpu.resize(cpu + 1);
    meta.lost_per_cpu[cpu] = n;
  }
  meta.complete = source.complete();
  meta.markers = to_model(source.markers());
  store::RecordingDamage damage = source.damage();
  meta.damage = std::move(damage.ranges);
  meta.lost_to_damage = damage.events_lost;
  meta.lost_to_damage_exact = damage.events_lost_exact;
  if (!meta.damage.empty())
    std::fprintf(stderr,
                 "kvmscope report: %s is damaged: %zu corrupt stretch(es) skipped, %s%s "
                 "events lost: reporting what it holds\n",
                 o.file.c_str(), meta.damage.size(), meta.lost_to_damage_exact ? "" : "about ",
                 util::format_count(meta.lost_to_damage).c_str());
  if (source.truncated())
    std::fprintf(stderr, "kvmscope report: %s was cut short (%s): reporting what it holds\n",
                 o.file.c_str(), source.error_detail().c_str());
  return result;
}

// Reads a kernel log (a file, or standard input for "-") into the report's model.
util::Result<model::KernelLogAnalysis> analyze_dmesg(ReportCliOptions& o) {
  auto log = read_kernel_log(o.dmesg);
  if (!log) return log.error();
  // Lines skipped or cut: the report goes on, the numbers may be short of the log's.
  for (const std::string& w : log->warnings)
    std::fprintf(stderr, "kvmscope report: %s: %s\n",
                 o.dmesg == "-" ? "standard input" : o.dmesg.c_str(), w.c_str());
  return model::analyze_kernel_log(*log, o.dmesg, o.analysis.bucket_ns);
}

int cmd_report(Args args) {
  auto parsed = parse(args);
  if (!parsed) return fail(parsed.error(), 2);
  ReportCliOptions& o = *parsed;
  if (o.help) {
    std::fputs(kReportHelp, stdout);
    return 0;
  }

  // Before any reading: a mistyped output path is an error now, not after the analysis.
  if (auto ok = check_output_paths(o.out); !ok) return fail(ok.error());

  std::optional<model::KernelLogAnalysis> kernel_log;
  if (!o.dmesg.empty()) {
    auto analyzed = analyze_dmesg(o);
    if (!analyzed) return fail(analyzed.error());
    kernel_log = std::move(*analyzed);
    o.report.kernel_log = &kernel_log->summary;
    o.report.target = "kernel log " + (o.dmesg == "-" ? "(standard input)" : o.dmesg);
    for (const std::string& note : kernel_log->summary.notes) o.report.notes.push_back(note);
    return write_outputs(kernel_log->analysis, kernel_log->catalog, o);
  }

  auto guest = load_guest_files(o.guest);
  if (!guest) return fail(guest.error());
  auto source = store::open_recording(o.file);
  if (!source) return fail(source.error());
  auto analyzed = analyze(**source, o);
  for (const std::string& note : (*source)->notes()) o.report.notes.push_back(note);
  const bool damaged = (*source)->corrupt();
  if (!analyzed) return fail(analyzed.error());
  std::optional<symbols::Attribution> attribution;
  if (o.guest.functions) {
    std::vector<std::string> unmatched;
    attribution = symbols::attribute(
        analyzed->sites, guest_kernels(o.guest, *guest, analyzed->snapshot.vms, &unmatched));
    o.report.guest_code = &*attribution;
    say_offsets("report", o.guest, *attribution, unmatched);
    if (!o.out.html.empty() && o.file != "-" && !attribution->vms.empty())
      if (auto t = function_timeline(o, analyzed->snapshot.taken_ns, *attribution); !t)
        return fail(t.error());
  }
  const int written = write_outputs(*analyzed, o.catalog, o);  // the recording kernel's names
  if (written != 0) return written;
  // The report is out; a damaged recording must still not pass for a sound one in a script.
  if (damaged && !o.allow_damaged) {
    std::fprintf(stderr, "kvmscope report: %s is damaged: exit status %d (--allow-damaged for 0)\n",
                 o.file.c_str(), kExitDamaged);
    return kExitDamaged;
  }
  return 0;
}

// The text or JSON, then the CSV files and the HTML page asked for.
int write_outputs(const model::RecordingAnalysisResult& result, const model::ReasonCatalog& names,
                  const ReportCliOptions& o) {
  const model::ReasonCatalog* catalog = &names;

  std::ofstream file;
  if (!o.out.output.empty()) {
    file.open(o.out.output, std::ios::out | std::ios::trunc);
    if (!file) {
      const int err = errno;
      return fail(util::os_error("cannot write " + o.out.output, err));
    }
  }
  std::ostream& out = o.out.output.empty() ? std::cout : file;
  if (o.out.json)
    report::render_report_json(result, *catalog, o.report, out);
  else
    report::render_report_text(result, *catalog, o.report, out);
  out.flush();
  if (!out) {
    const int err = errno;
    return fail(util::os_error("writing the output", err));
  }

  if (!o.out.csv.empty()) {
    if (auto r = report::write_report_csv(o.out.csv, result, *catalog, o.report); !r)
      return fail(r.error());
    std::fprintf(stderr, "kvmscope report: CSV tables in %s/\n", o.out.csv.c_str());
  }
  if (!o.out.html.empty()) {
    std::ofstream html(o.out.html, std::ios::out | std::ios::trunc);
    if (!html) {
      const int err = errno;
      return fail(util::os_error("cannot write " + o.out.html, err));
    }
    report::render_report_html(result, *catalog, o.report, html);
    html.flush();
    if (!html) {
      const int err = errno;
      return fail(util::os_error("writing " + o.out.html, err));
    }
    std::fprintf(stderr, "kvmscope report: HTML page in %s\n", o.out.html.c_str());
  }
  return 0;
}

}  // namespace kvmscope::cli
