#include "report/report_kernel_log.h"

#include <set>
#include <sstream>

#include "report/format.h"
#include "report/json_literals.h"
#include "report/report_labels.h"
#include "report/snapshot_json.h"

namespace kvmscope::report {

namespace {

std::string vm_title(const model::LogVmSummary& vm) {
  std::string text =
      vm.pid ? "VM " + std::to_string(*vm.pid) : std::string("the 'KVM exit' lines (no VM named)");
  text += std::string(" (") + model::isa_name(vm.isa);
  if (vm.instance > 1) text += ", instance " + std::to_string(vm.instance);
  return text + ")";
}

std::string opt_count(const std::optional<std::uint64_t>& v) {
  return v ? format_count(*v) : "-";
}

std::string per_exit(const std::optional<std::uint64_t>& cycles, std::uint64_t exits) {
  if (!cycles || exits == 0) return "-";
  return format_count((*cycles + exits / 2) / exits);
}

std::string top_text(const std::vector<std::pair<model::Reason, std::uint64_t>>& top,
                     std::uint64_t total, const model::ReasonCatalog& catalog) {
  std::string text;
  for (const auto& [reason, n] : top) {
    if (!text.empty()) text += ", ";
    text += printable(catalog.name(reason)) + " " + format_percent(n, total);
  }
  return text;
}

std::string json_opt(const std::optional<std::uint64_t>& v) {
  return v ? std::to_string(*v) : "null";
}

}  // namespace

std::string kernel_log_header(const model::KernelLogSummary& log, const model::Snapshot& snapshot,
                              const std::vector<std::string>& notes) {
  std::set<std::optional<std::uint32_t>> distinct;
  for (const auto& vm : log.vms) distinct.insert(vm.pid);
  std::string vms = std::to_string(distinct.size()) + (distinct.size() == 1 ? " VM" : " VMs");
  if (log.vms.size() > distinct.size())
    vms += " (" + std::to_string(log.vms.size()) + " instances)";
  std::string text = "kvmscope report: kernel log " +
                     printable(log.source == "-" ? "(standard input)" : log.source) + "   " + vms +
                     "   hardware exits: " + format_count(snapshot.total(model::Level::hardware));
  if (log.timestamps && snapshot.taken_ns > snapshot.started_ns)
    text += "   reports over " + format_duration_ns(snapshot.taken_ns - snapshot.started_ns);
  text += "\n" + std::to_string(log.lines) + " lines read: " + format_count(log.patch_lines) +
          " kvm_exit_stats lines, " + format_count(log.course_lines) +
          " 'KVM exit' lines, the rest ignored\n";
  for (const std::string& note : notes) text += note + "\n";
  return text;
}

std::string kernel_log_table_title(const model::KernelLogSummary& log) {
  std::string title = "Exits counted by KVM as its kernel log reports them (each VM's last report";
  bool final = false;
  for (const auto& vm : log.vms) final = final || vm.has_final;
  if (final) title += ", its final line where it has one";
  // The course format's names are not the kernel's own: the kernel's table names its codes.
  bool course = false;
  for (const auto& vm : log.vms) course = course || vm.format == model::LogFormat::course;
  return title + (course ? "), names from the kernel's table" : "), names from the log") +
         "; time: KVM's handling cycles / tsc_khz";
}

std::vector<std::string> kernel_log_sections(const model::KernelLogSummary& log,
                                             const model::ReasonCatalog& catalog) {
  std::vector<std::string> blocks;
  using Align = TextTable::Align;
  for (const model::LogVmSummary& vm : log.vms) {
    std::string head = "Reports of " + vm_title(vm) +
                       ", cumulative since the VM started: " + std::to_string(vm.intervals.size()) +
                       (vm.intervals.size() == 1 ? " report" : " reports");
    if (vm.has_final)
      head += ", the last the final line (reports printed " + opt_count(vm.reports_printed) +
              ", suppressed " + opt_count(vm.reports_suppressed) + ")";
    if (vm.suppressed_lines) head += "; suppressed lines: " + format_count(vm.suppressed_lines);
    if (vm.tsc_khz) head += "; tsc_khz " + format_count(*vm.tsc_khz);
    TextTable table({Align::left, Align::right, Align::right, Align::right, Align::right,
                     Align::right, Align::right, Align::right, Align::left});
    table.add_text(head);
    table.add_row({"report", "line", "time", "exits", "new", "interval", "new/s", "cycles/exit",
                   "top new reasons"});
    for (const model::LogInterval& in : vm.intervals) {
      const double seconds = in.interval_ns ? static_cast<double>(*in.interval_ns) / 1e9 : 0.0;
      table.add_row({in.final ? "final"
                     : in.seq ? std::to_string(*in.seq)
                              : "-",
                     std::to_string(in.line), in.t_ns ? seconds_text(*in.t_ns) : "-",
                     format_count(in.exits), format_count(in.new_exits),
                     in.interval_ns ? format_duration_ns(*in.interval_ns) : "-",
                     format_rate(in.new_exits, seconds), per_exit(in.new_cycles, in.new_exits),
                     top_text(in.top, in.new_exits, catalog)});
    }
    std::ostringstream out;
    table.write(out);

    if (!vm.reasons.empty()) {
      TextTable reasons({Align::left, Align::right, Align::right, Align::right, Align::right});
      reasons.add_text("Exits of " + vm_title(vm) + " by reason, with KVM's cycles:");
      reasons.add_row({"reason", "code", "exits", "cycles", "cycles/exit"});
      for (const model::LogReasonTotal& r : vm.reasons)
        reasons.add_row({printable(catalog.name(r.reason)), catalog.code_text(r.reason),
                         format_count(r.exits), opt_count(r.cycles), per_exit(r.cycles, r.exits)});
      reasons.add_row({"total", "", format_count(vm.exits), opt_count(vm.cycles),
                       per_exit(vm.cycles, vm.exits)});
      out << "\n";
      reasons.write(out);
    }
    blocks.push_back(out.str());
  }
  return blocks;
}

void write_kernel_log_json(const model::KernelLogSummary& log, const model::ReasonCatalog& catalog,
                           std::ostream& out) {
  out << "  \"kernel_log\": {\"source\": " << json_string(log.source)
      << ", \"lines\": " << log.lines << ", \"kvm_exit_stats_lines\": " << log.patch_lines
      << ", \"kvm_exit_lines\": " << log.course_lines
      << ", \"timestamps\": " << (log.timestamps ? "true" : "false") << ",\n";
  write_array(
      "vms", log.vms,
      [&](const model::LogVmSummary& vm) {
        out << "{\"vm_pid\": " << (vm.pid ? std::to_string(*vm.pid) : "null") << ", \"isa\": \""
            << model::isa_name(vm.isa) << "\", \"format\": \""
            << (vm.format == model::LogFormat::patch ? "kvm_exit_stats" : "kvm_exit")
            << "\", \"instance\": " << vm.instance
            << ", \"restart\": " << (vm.restart.empty() ? "null" : json_string(vm.restart))
            << ", \"tsc_khz\": " << json_opt(vm.tsc_khz)
            << ", \"final\": " << (vm.has_final ? "true" : "false")
            << ", \"reports_printed\": " << json_opt(vm.reports_printed)
            << ", \"reports_suppressed\": " << json_opt(vm.reports_suppressed)
            << ", \"suppressed_lines\": " << vm.suppressed_lines << ", \"exits\": " << vm.exits
            << ", \"cycles\": " << json_opt(vm.cycles) << ",\n      \"reasons\": [";
        for (std::size_t i = 0; i < vm.reasons.size(); ++i) {
          const model::LogReasonTotal& r = vm.reasons[i];
          out << (i ? ",\n        " : "\n        ") << "{";
          write_reason(r.reason, catalog, out);
          out << ", \"exits\": " << r.exits << ", \"cycles\": " << json_opt(r.cycles) << "}";
        }
        out << (vm.reasons.empty() ? "]" : "\n      ]") << ",\n      \"reports\": [";
        for (std::size_t i = 0; i < vm.intervals.size(); ++i) {
          const model::LogInterval& in = vm.intervals[i];
          out << (i ? ",\n        " : "\n        ") << "{\"line\": " << in.line
              << ", \"seq\": " << json_opt(in.seq)
              << ", \"final\": " << (in.final ? "true" : "false")
              << ", \"t_s\": " << (in.t_ns ? json_seconds(*in.t_ns) : "null")
              << ", \"exits\": " << in.exits << ", \"cycles\": " << json_opt(in.cycles)
              << ", \"new_exits\": " << in.new_exits
              << ", \"new_cycles\": " << json_opt(in.new_cycles)
              << ", \"interval_s\": " << (in.interval_ns ? json_seconds(*in.interval_ns) : "null")
              << ", \"top\": [";
          for (std::size_t k = 0; k < in.top.size(); ++k) {
            out << (k ? ", " : "") << "{";
            write_reason(in.top[k].first, catalog, out);
            out << ", \"count\": " << in.top[k].second << "}";
          }
          out << "]}";
        }
        out << (vm.intervals.empty() ? "]}" : "\n      ]}");
      },
      out, 4);
  out << "\n  },\n";
}

}  // namespace kvmscope::report
