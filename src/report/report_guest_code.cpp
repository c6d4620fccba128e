#include "report/report_guest_code.h"

#include <sstream>

#include "report/csv.h"
#include "report/format.h"
#include "report/json_literals.h"
#include "report/report_labels.h"
#include "report/report_text_sections.h"
#include "report/snapshot_json.h"

namespace kvmscope::report {

const char* const kNoCr3Note =
    "user-space exits are not told apart by process: kvm_exit carries no CR3 (its fields are "
    "exit_reason, guest_rip, isa, info1, info2, intr_info, error_code, vcpu_id on VMX and SVM)";

namespace {

using symbols::KaslrOffset;

}  // namespace

std::string guest_offset_text(const symbols::Attribution& a, const symbols::VmAttribution& vm) {
  const KaslrOffset& k = vm.offset;
  std::string s;
  switch (k.how) {
    case KaslrOffset::How::given:
      s = "KASLR offset " + symbols::hex(k.offset) + " (given)";
      break;
    case KaslrOffset::How::kallsyms:
      s = "KASLR offset " + symbols::hex(k.offset) + " (from the kallsyms' _text)";
      break;
    case KaslrOffset::How::verified:
      s = "KASLR offset " + symbols::hex(k.offset) + " (found in the guest kernel's code)";
      break;
    case KaslrOffset::How::heuristic:
      s = "KASLR offset " + symbols::hex(k.offset) +
          " (guessed from symbol names, not verified: give --guest-kernel to check it)";
      break;
    case KaslrOffset::How::none:
      s = vm.symbols_desc == "none" && vm.image_desc.empty()
              ? "no guest symbols: kernel RIPs as addresses"
              : "no KASLR offset fits: symbols used as they are";
      break;
  }
  if (!vm.image_desc.empty()) {
    s += "; " + format_count(k.verified) + " of " + format_count(k.checkable) +
         " checkable exit RIPs fit the instructions of " + vm.image_desc;
    if (k.ties)
      s += " (so do " + format_count(k.ties) + " other offsets: the choice is not unique)";
  }
  // A VM given its own kernel (--guest-symbols VM=FILE) says which.
  if (vm.symbols_desc != a.symbols_desc || vm.image_desc != a.image_desc)
    s = "symbols: " + vm.symbols_desc + (vm.image_desc.empty() ? "" : "; code: " + vm.image_desc) +
        "; " + s;
  return s;
}

namespace {

std::string share(std::uint64_t n, std::uint64_t total) {
  return format_count(n) + " (" + format_percent(n, total) + ")";
}

std::vector<std::string> cells(const symbols::FunctionRow& f, std::uint64_t total) {
  std::string name = f.name;
  if (!f.module.empty()) name += " [" + f.module + "]";
  std::vector<std::string> c = {printable(name), format_count(f.stats.count),
                                format_percent(f.stats.count, total)};
  if (f.stats.timed == 0) {
    c.insert(c.end(), 2, "-");
  } else {
    c.push_back(format_duration_ns(f.stats.time_ns));
    c.push_back(format_duration_ns(f.stats.avg_ns()));
  }
  if (f.sites.empty()) {
    c.push_back("");
  } else {
    std::string where = printable(f.sites[0].where);
    if (f.sites.size() > 1)
      where += " (" + format_percent(f.sites[0].stats.count, f.stats.count) + " of " +
               format_count(f.sites.size()) + " RIPs)";
    c.push_back(where);
  }
  return c;
}

const char* space_key(model::GuestSpace s) {
  switch (s) {
    case model::GuestSpace::kernel:
      return "kernel";
    case model::GuestSpace::early:
      return "early";
    case model::GuestSpace::user:
      return "user";
  }
  return "?";
}

}  // namespace

std::string guest_code_text(const symbols::Attribution& a, const model::Snapshot& names,
                            const model::ReasonCatalog& catalog, std::size_t max_rows) {
  std::ostringstream out;
  out << "Guest code: which guest functions exited (symbols: " << a.symbols_desc;
  if (!a.image_desc.empty()) out << "; code: " << a.image_desc;
  out << ")\n";
  if (a.vms.empty()) {
    out << "No hardware exits with a guest RIP were seen (kvm:kvm_exit did not fire).\n";
    return out.str();
  }
  using Align = TextTable::Align;
  for (const symbols::VmAttribution& vm : a.vms) {
    const std::uint64_t all = vm.kernel_exits + vm.early_exits + vm.user_exits + vm.other_exits;
    out << '\n' << text::vm_label(names, vm.vm_pid) << ": " << guest_offset_text(a, vm) << '\n';
    out << "  exits from the kernel " << share(vm.kernel_exits, all) << ", firmware/early boot "
        << share(vm.early_exits, all) << ", user " << share(vm.user_exits, all);
    if (vm.other_exits) out << ", RIPs beyond the cap " << share(vm.other_exits, all);
    out << '\n';
    if (vm.unsymbolized_kernel_exits)
      out << "  " << format_count(vm.unsymbolized_kernel_exits)
          << " kernel exits at RIPs no symbol holds (listed by address)\n";
    TextTable table(
        {Align::left, Align::right, Align::right, Align::right, Align::right, Align::left});
    for (const symbols::ReasonFunctions& r : vm.reasons) {
      table.add_text("");
      table.add_text(printable(catalog.name(r.reason)) + " (" + catalog.code_text(r.reason) +
                     "): " + format_count(r.total.count) + " exits; time: handling of those exits");
      table.add_row({"function", "count", "%", "time", "avg", "busiest RIP"});
      std::size_t shown = 0;
      for (const symbols::FunctionRow& f : r.functions) {
        if (shown == max_rows) break;
        table.add_row(cells(f, r.total.count));
        ++shown;
      }
      if (shown < r.functions.size())
        table.add_text("... " + format_count(r.functions.size() - shown) +
                       " more functions (all of them in --json)");
    }
    table.write(out);
  }
  if (a.sites_not_stored)
    out << "note: " << format_count(a.sites_not_stored)
        << " exits at RIPs beyond the cap (report: 65,536 RIPs; stat, top: --max-entries) are "
           "counted in [other RIPs] rows\n";
  out << "note: " << kNoCr3Note << '\n';
  return out.str();
}

void write_guest_code_json(const symbols::Attribution& a, const model::ReasonCatalog& catalog,
                           std::ostream& out) {
  out << "{\"symbols\": " << json_string(a.symbols_desc)
      << ", \"kernel_image\": " << (a.image_desc.empty() ? "null" : json_string(a.image_desc))
      << ", \"sites_not_stored\": " << a.sites_not_stored
      << ", \"processes\": null, \"processes_note\": " << json_string(kNoCr3Note) << ", \"vms\": [";
  for (std::size_t v = 0; v < a.vms.size(); ++v) {
    const symbols::VmAttribution& vm = a.vms[v];
    out << (v ? ", " : "") << "{\"pid\": " << vm.vm_pid
        << ", \"symbols\": " << json_string(vm.symbols_desc)
        << ", \"kernel_image\": " << (vm.image_desc.empty() ? "null" : json_string(vm.image_desc))
        << ", \"kaslr_offset\": " << json_string(symbols::hex(vm.offset.offset))
        << ", \"offset_source\": " << json_string(symbols::kaslr_how_name(vm.offset.how))
        << ", \"checkable_rips\": " << vm.offset.checkable
        << ", \"verified_rips\": " << vm.offset.verified
        << ", \"other_fitting_offsets\": " << vm.offset.ties
        << ", \"exits\": {\"kernel\": " << vm.kernel_exits << ", \"early\": " << vm.early_exits
        << ", \"user\": " << vm.user_exits << ", \"other\": " << vm.other_exits
        << ", \"kernel_unsymbolized\": " << vm.unsymbolized_kernel_exits << "}, \"reasons\": [";
    for (std::size_t r = 0; r < vm.reasons.size(); ++r) {
      const symbols::ReasonFunctions& rf = vm.reasons[r];
      out << (r ? ", " : "") << "{";
      write_reason(rf.reason, catalog, out);
      out << ", \"count\": " << rf.total.count << ", \"functions\": [";
      for (std::size_t i = 0; i < rf.functions.size(); ++i) {
        const symbols::FunctionRow& f = rf.functions[i];
        out << (i ? ", " : "") << "{\"function\": " << json_string(f.name)
            << ", \"module\": " << (f.module.empty() ? "null" : json_string(f.module))
            << ", \"space\": \"" << space_key(f.space)
            << "\", \"other\": " << (f.other ? "true" : "false") << ", ";
        write_times(f.stats, out);
        out << ", \"sites\": [";
        for (std::size_t s = 0; s < f.sites.size(); ++s) {
          const symbols::SiteRow& site = f.sites[s];
          out << (s ? ", " : "") << "{\"rip\": " << json_string(symbols::hex(site.rip))
              << ", \"where\": " << json_string(site.where) << ", ";
          write_times(site.stats, out);
          out << "}";
        }
        out << "]}";
      }
      out << "]}";
    }
    out << "]}";
  }
  out << "], \"timeline\": ";
  // Hardware exits per bucket by guest function; bucket 0 starts at the report's time 0 like the
  // report's own timeline, with the same width.
  const model::Timeline& t = a.timeline;
  if (t.buckets() == 0) {
    out << "null";
  } else {
    out << "{\"bucket_s\": " << json_seconds(t.bucket_ns) << ", \"buckets\": " << t.buckets()
        << ", \"series\": [";
    for (std::size_t s = 0; s < t.reasons.size(); ++s) {
      const std::uint32_t id = t.reasons[s].code;
      const std::string name =
          id < a.timeline_functions.size() ? a.timeline_functions[id] : std::string("other");
      out << (s ? ", " : "") << "{\"function\": " << json_string(name)
          << ", \"total\": " << t.series_total(s) << ", \"counts\": [";
      for (std::size_t b = 0; b < t.counts[s].size(); ++b) out << (b ? ", " : "") << t.counts[s][b];
      out << "]}";
    }
    out << "]}";
  }
  out << "}";
}

void write_guest_functions_csv(const symbols::Attribution& a, const model::ReasonCatalog& catalog,
                               std::ostream& out) {
  write_csv_row({"vm_pid", "kaslr_offset", "offset_source", "level", "isa", "code", "reason",
                 "function", "module", "space", "count", "percent", "timed", "time_ns", "avg_ns",
                 "max_ns", "busiest_rip", "busiest_where"},
                out);
  for (const symbols::VmAttribution& vm : a.vms)
    for (const symbols::ReasonFunctions& r : vm.reasons)
      for (const symbols::FunctionRow& f : r.functions)
        write_csv_row(
            {std::to_string(vm.vm_pid), symbols::hex(vm.offset.offset),
             symbols::kaslr_how_name(vm.offset.how), model::level_name(r.reason.level),
             model::isa_name(r.reason.isa), std::to_string(r.reason.code), catalog.name(r.reason),
             f.name, f.module, space_key(f.space), std::to_string(f.stats.count),
             number_text(r.total.count ? 100.0 * static_cast<double>(f.stats.count) /
                                             static_cast<double>(r.total.count)
                                       : 0.0),
             std::to_string(f.stats.timed), std::to_string(f.stats.time_ns),
             std::to_string(f.stats.avg_ns()), std::to_string(f.stats.max_ns),
             f.sites.empty() ? "" : symbols::hex(f.sites[0].rip),
             f.sites.empty() ? "" : f.sites[0].where},
            out);
}

void write_guest_sites_csv(const symbols::Attribution& a, const model::ReasonCatalog& catalog,
                           std::ostream& out) {
  write_csv_row({"vm_pid", "level", "isa", "code", "reason", "rip", "function", "where", "count",
                 "timed", "time_ns", "avg_ns", "max_ns"},
                out);
  for (const symbols::VmAttribution& vm : a.vms)
    for (const symbols::ReasonFunctions& r : vm.reasons)
      for (const symbols::FunctionRow& f : r.functions)
        for (const symbols::SiteRow& s : f.sites)
          write_csv_row(
              {std::to_string(vm.vm_pid), model::level_name(r.reason.level),
               model::isa_name(r.reason.isa), std::to_string(r.reason.code), catalog.name(r.reason),
               symbols::hex(s.rip), f.name, s.where, std::to_string(s.stats.count),
               std::to_string(s.stats.timed), std::to_string(s.stats.time_ns),
               std::to_string(s.stats.avg_ns()), std::to_string(s.stats.max_ns)},
              out);
}

}  // namespace kvmscope::report
