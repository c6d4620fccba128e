#include "tui/top_tables.h"

#include <algorithm>
#include <sstream>

#include "tui/top_controller.h"
#include "util/format.h"
#include "util/text_table.h"

namespace kvmscope::tui {

namespace {

using util::format_count;
using util::format_duration_ns;
using util::format_percent;
using util::format_rate;
using Align = util::TextTable::Align;

constexpr std::size_t kNameWidth = 24;  // longer names are cut, the table stays readable

double interval_seconds(const tui::TopModel& model) {
  return static_cast<double>(model.interval_ns()) / 1e9;
}

std::string rate(const tui::TopModel& model, std::uint64_t count) {
  return format_rate(count, interval_seconds(model));
}

// Share of `vcpus` vCPUs' time over the interval spent handling exits of one level; "-" where
// no handling time of that level has been measured at all.
std::string time_cell(const tui::TopModel& model, std::uint64_t time_ns, std::uint64_t timed_total,
                      std::uint32_t vcpus) {
  if (!model.has_interval() || timed_total == 0) return "-";
  return format_percent(time_ns, model.interval_ns() * (vcpus ? vcpus : 1));
}

std::string cut(std::string text, std::size_t width) {
  if (text.size() <= width) return text;
  text.resize(width - 1);
  while (!text.empty() && (static_cast<unsigned char>(text.back()) & 0xc0) == 0x80)
    text.pop_back();  // never leave half a UTF-8 character
  return text + "~";
}

std::string vcpu_text(std::uint32_t vcpu) {
  return vcpu == model::kUnknownVcpu ? "?" : std::to_string(vcpu);
}

// The TextTable's lines, header first.
TableLines lines_of(const util::TextTable& table) {
  std::ostringstream out;
  table.write(out);
  std::istringstream in(out.str());
  TableLines lines;
  std::getline(in, lines.header);
  for (std::string line; std::getline(in, line);) lines.rows.push_back(line);
  return lines;
}

// A column of one of top's tables. `rank` says how long it stays on a narrow screen: 0 is
// kept last.
struct Column {
  const char* header;
  Align align;
  unsigned rank;
};
using Cells = std::vector<std::string>;  // one row, a cell per column

// The table with the `kept` columns only.
TableLines layout(const std::vector<Column>& columns, const std::vector<Cells>& rows,
                  const std::vector<bool>& kept) {
  std::vector<Align> aligns;
  Cells header;
  for (std::size_t i = 0; i < columns.size(); ++i)
    if (kept[i]) {
      aligns.push_back(columns[i].align);
      header.push_back(columns[i].header);
    }
  util::TextTable table(std::move(aligns));
  table.add_row(std::move(header));
  for (const Cells& row : rows) {
    Cells cells;
    for (std::size_t i = 0; i < columns.size(); ++i)
      if (kept[i]) cells.push_back(row[i]);
    table.add_row(std::move(cells));
  }
  return lines_of(table);
}

std::size_t widest(const TableLines& lines) {
  std::size_t w = lines.header.size();
  for (const auto& row : lines.rows) w = std::max(w, row.size());
  return w;
}

// The table with as many columns as fit in `width`: whole columns go, highest rank first.
TableLines fit_columns(const std::vector<Column>& columns, const std::vector<Cells>& rows,
                       std::size_t width) {
  std::vector<std::size_t> drop_order(columns.size());
  for (std::size_t i = 0; i < columns.size(); ++i) drop_order[i] = i;
  std::stable_sort(drop_order.begin(), drop_order.end(),
                   [&](std::size_t a, std::size_t b) { return columns[a].rank > columns[b].rank; });
  std::vector<bool> kept(columns.size(), true);
  TableLines lines = layout(columns, rows, kept);
  for (std::size_t n = 0; n + 1 < drop_order.size() && widest(lines) > width; ++n) {
    kept[drop_order[n]] = false;
    lines = layout(columns, rows, kept);
  }
  return lines;
}

// exits/s, hw/s, vmm/s, count, hw time, vmm time: the cells VM and vCPU rows share, and their
// columns, ranked from `first_rank` on: the total rate and count before the split per level,
// the rates before the shares of time.
std::vector<Column> activity_columns(unsigned first_rank) {
  const unsigned r = first_rank;
  return {{"exits/s", Align::right, r},     {"hw/s", Align::right, r + 2},
          {"vmm/s", Align::right, r + 3},   {"count", Align::right, r + 1},
          {"hw time", Align::right, r + 4}, {"vmm time", Align::right, r + 5}};
}

void add_activity_cells(std::vector<std::string>& cells, const tui::TopModel& model,
                        const tui::TopStats& s, std::uint32_t vcpus) {
  cells.push_back(rate(model, s.interval.count));
  cells.push_back(rate(model, s.hw_count));
  cells.push_back(rate(model, s.vmm_count));
  cells.push_back(format_count(s.total.count));
  cells.push_back(time_cell(model, s.hw_time_ns, s.hw_timed_total, vcpus));
  cells.push_back(time_cell(model, s.vmm_time_ns, s.vmm_timed_total, vcpus));
}

constexpr std::size_t kEndedNamed = 3;  // VMs named on the "ended" line; the rest are counted

// "1 VM ended since start: web1 (pid 4242), 12 exits", or "" when none did.
std::string ended_line(const tui::TopModel& model) {
  const auto ended = model.ended();
  if (ended.empty()) return "";
  std::string line = std::to_string(ended.size()) + (ended.size() == 1 ? " VM" : " VMs") +
                     " ended since " + (model.was_reset() ? "reset: " : "start: ");
  for (std::size_t i = 0; i < ended.size() && i < kEndedNamed; ++i) {
    const tui::TopEndedVm& vm = ended[i];
    if (i > 0) line += "; ";
    line += util::printable(vm.info.name.empty() ? "?" : vm.info.name) + " (pid " +
            std::to_string(vm.pid) + "), " + format_count(vm.exits) +
            (vm.exits == 1 ? " exit" : " exits");
  }
  if (ended.size() > kEndedNamed)
    line += "; and " + std::to_string(ended.size() - kEndedNamed) + " more";
  return line;
}

}  // namespace

std::string title_line(const std::string& clock, const std::string& target, double interval_s,
                       tui::TopSort sort, const tui::TopFilter& filter, bool paused) {
  std::string line = "kvmscope top  " + clock + "  " + target + "  refresh " +
                     interval_text(interval_s) + "  sort: " + tui::top_sort_name(sort);
  if (!filter.empty()) line += "  filter: /" + util::printable(filter.pattern()) + "/";
  if (paused) line += "  PAUSED";
  return line;
}

std::string summary_line(const tui::TopModel& model, std::size_t vms) {
  const tui::TopStats host = model.host();
  return "VMs: " + std::to_string(vms) + "  exits/s: " + rate(model, host.interval.count) +
         "  hardware/s: " + rate(model, host.hw_count) +
         "  to the VMM/s: " + rate(model, host.vmm_count) + "  counts since " +
         (model.was_reset() ? "reset: " : "start: ") + format_duration_ns(model.since_ns());
}

std::vector<std::string> note_lines(const tui::TopModel& model) {
  std::vector<std::string> notes;
  const tui::TopStats host = model.host();
  if (host.hw_total == 0 && host.vmm_total > 0)
    notes.push_back(
        "no hardware exits (kvm:kvm_exit) seen: KVM here reports none where it emulates guests "
        "(e.g. kvm_pvm); exits to the VMM are counted");
  const model::CollectorHealth h = model.health();
  std::string lost;
  auto add = [&](std::uint64_t n, const char* what) {
    if (n) lost += (lost.empty() ? "" : ", ") + format_count(n) + " " + what;
  };
  add(h.exits_not_stored, "exits not attributed (counter map full, see --max-entries)");
  add(h.events_lost, "events lost");
  add(h.threads_not_stored, "exits not timed");
  add(h.targets_not_stored, "children not followed");
  if (!lost.empty()) notes.push_back("warning: " + lost);
  if (auto ended = ended_line(model); !ended.empty()) notes.push_back(std::move(ended));
  return notes;
}

std::string empty_list_text(const tui::TopModel& model, const tui::TopFilter& filter) {
  if (!filter.empty()) return "no VM matches /" + util::printable(filter.pattern()) + "/";
  const char* since = model.was_reset() ? "since the reset" : "since kvmscope started";
  const auto ended = model.ended();
  const bool ended_with_exits = std::any_of(ended.begin(), ended.end(),
                                            [](const tui::TopEndedVm& vm) { return vm.exits > 0; });
  if (ended_with_exits)
    return std::string("no VM on the list: every VM that made exits ") + since + " has ended";
  return std::string("no VM has made an exit ") + since;
}

std::string vm_title(const tui::TopVm& vm) {
  std::string title = "VM " + util::printable(vm.info.name.empty() ? "?" : vm.info.name) +
                      "  pid " + std::to_string(vm.pid);
  if (!vm.info.comm.empty() && vm.info.comm != vm.info.name)
    title += "  process " + util::printable(vm.info.comm);
  title += "  vCPUs " + std::to_string(vm.vcpus);
  if (!vm.alive) title += "  ended";
  return title;
}

TableLines vm_table(const tui::TopModel& model, const std::vector<tui::TopVm>& vms,
                    std::size_t width) {
  // pid and name say which VM a row is; the vCPU count is the first to go.
  std::vector<Column> columns = {
      {"pid", Align::right, 0}, {"name", Align::left, 1}, {"vcpus", Align::right, 8}};
  for (const Column& c : activity_columns(2)) columns.push_back(c);
  std::vector<Cells> rows;
  for (const tui::TopVm& vm : vms) {
    std::string name = cut(util::printable(vm.info.name.empty() ? "?" : vm.info.name), kNameWidth);
    if (!vm.alive) name += " (ended)";
    Cells cells = {std::to_string(vm.pid), name, std::to_string(vm.vcpus)};
    add_activity_cells(cells, model, vm.stats, vm.vcpus);
    rows.push_back(std::move(cells));
  }
  return fit_columns(columns, rows, width);
}

TableLines vcpu_table(const tui::TopModel& model, const std::vector<tui::TopVcpu>& vcpus,
                      std::size_t width) {
  std::vector<Column> columns = {{"vcpu", Align::right, 0}};
  for (const Column& c : activity_columns(1)) columns.push_back(c);
  std::vector<Cells> rows;
  for (const tui::TopVcpu& v : vcpus) {
    Cells cells = {vcpu_text(v.vcpu)};
    add_activity_cells(cells, model, v.stats, 1);
    rows.push_back(std::move(cells));
  }
  return fit_columns(columns, rows, width);
}

TableLines reason_table(const tui::TopModel& model, const std::vector<tui::TopReason>& reasons,
                        std::uint32_t vcpus, const model::ReasonCatalog& catalog,
                        std::size_t width) {
  std::uint64_t scope_total = 0;
  for (const auto& r : reasons) scope_total += r.stats.total.count;
  // The reason and how often it happens first; the raw code, which the name already says, last.
  const std::vector<Column> columns = {
      {"level", Align::left, 3},   {"reason", Align::left, 0}, {"code", Align::right, 8},
      {"rate/s", Align::right, 1}, {"count", Align::right, 2}, {"%", Align::right, 4},
      {"avg", Align::right, 6},    {"p99", Align::right, 7},   {"time", Align::right, 5}};
  std::vector<Cells> rows;
  for (const tui::TopReason& r : reasons) {
    const model::ExitStats& total = r.stats.total;
    const bool hw = r.reason.level == model::Level::hardware;
    Cells cells = {hw ? "hw" : "vmm",           catalog.name(r.reason),
                   catalog.code_text(r.reason), rate(model, r.stats.interval.count),
                   format_count(total.count),   format_percent(total.count, scope_total)};
    if (total.timed == 0) {
      cells.insert(cells.end(), 3, "-");
    } else {
      cells.push_back(format_duration_ns(total.avg_ns()));
      cells.push_back(format_duration_ns(total.p99_ns()));
      cells.push_back(time_cell(model, r.stats.interval.time_ns, total.timed, vcpus));
    }
    rows.push_back(std::move(cells));
  }
  return fit_columns(columns, rows, width);
}

TableLines function_table(const tui::TopModel& model, const std::vector<tui::TopFunction>& fns,
                          const model::ReasonCatalog& catalog, std::size_t width) {
  const std::vector<Column> columns = {{"reason", Align::left, 1},  {"function", Align::left, 0},
                                       {"rate/s", Align::right, 2}, {"count", Align::right, 3},
                                       {"%", Align::right, 4},      {"avg", Align::right, 5}};
  std::vector<Cells> rows;
  for (const tui::TopFunction& f : fns) {
    // The reason once, on its first function's row.
    const bool first = rows.empty() || fns[rows.size() - 1].reason != f.reason;
    Cells cells = {first ? catalog.name(f.reason) : "", util::printable(f.function),
                   rate(model, f.interval), format_count(f.total),
                   format_percent(f.total, f.reason_total)};
    cells.push_back(f.timed ? format_duration_ns(f.time_ns / f.timed) : "-");  // counts only: -
    rows.push_back(std::move(cells));
  }
  return fit_columns(columns, rows, width);
}

}  // namespace kvmscope::tui
