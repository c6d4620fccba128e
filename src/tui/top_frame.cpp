#include "tui/top_frame.h"

#include <algorithm>

#include "tui/top_tables.h"

namespace kvmscope::tui {

namespace {

constexpr const char* kFooter =
    "Enter open  Esc back  r/c/t sort  / filter  p pause  +/-/d interval  z reset  ? help  q quit";

// The lines between the summary and the tables: the model's notes, then what --counts-only
// leaves out (so a "-" reads as "not measured", not as "nothing happened").
std::vector<std::string> frame_notes(const tui::TopModel& model, const FrameInfo& info) {
  std::vector<std::string> notes = note_lines(model);
  if (info.counts_only)
    notes.push_back(
        "counts only (--counts-only): no handling time is measured; avg, p99 and the time "
        "columns show -");
  return notes;
}

std::string fit(std::string text, int width) {
  const auto w = static_cast<std::size_t>(std::max(width, 0));
  if (text.size() <= w) return text;
  text.resize(w);
  while (!text.empty() && (static_cast<unsigned char>(text.back()) & 0xc0) == 0x80)
    text.pop_back();  // never leave half a UTF-8 character
  return text;
}

// Lines of the body, filled top-down within a budget of rows.
class Body {
 public:
  explicit Body(std::size_t budget) : budget_(budget) {}
  std::size_t left() const { return budget_ - lines_.size(); }
  void add(std::string text, Style style = Style::plain) {
    if (left() > 0) lines_.push_back({std::move(text), style});
  }
  // A table's header and as many of its rows as fit in `max_rows` lines. When not all fit, a
  // window that holds row `cursor` (highlighted; npos: none) and a line saying which rows show.
  void add_table(const TableLines& table, std::size_t max_rows, std::size_t cursor) {
    add(table.header, Style::header);
    const std::size_t n = table.rows.size();
    const std::size_t room = std::min(max_rows, left());
    std::size_t first = 0, shown = n;
    if (n > room) {
      shown = room > 1 ? room - 1 : room;
      const std::size_t at = cursor == npos ? 0 : cursor;
      if (at >= shown) first = at - shown + 1;
    }
    for (std::size_t i = first; i < first + shown && i < n; ++i)
      add(table.rows[i], i == cursor ? Style::selected : Style::plain);
    if (shown < n)
      add("  (rows " + std::to_string(first + 1) + "-" + std::to_string(first + shown) + " of " +
          std::to_string(n) + ")");
  }
  std::vector<Line> take() { return std::move(lines_); }
  static constexpr std::size_t npos = static_cast<std::size_t>(-1);

 private:
  std::size_t budget_;
  std::vector<Line> lines_;
};

void vm_list_body(Body& body, const tui::TopModel& model, const TopController& state,
                  const std::vector<tui::TopVm>& vms, std::size_t width) {
  if (vms.empty()) {
    body.add(empty_list_text(model, state.filter()));
    return;
  }
  body.add_table(vm_table(model, vms, width), body.left(), state.nav().cursor());
}

void vm_body(Body& body, const tui::TopModel& model, const TopController& state,
             const model::ReasonCatalog& catalog, std::size_t width) {
  const auto vm = model.vm(state.nav().vm());
  if (!vm) return;
  body.add(vm_title(*vm));
  const auto vcpus = model.vcpus(vm->pid, state.sort());
  const auto reasons = model.reasons(vm->pid, std::nullopt, state.sort());
  // The vCPUs get up to half of the room (what they need), the reasons the rest.
  const std::size_t half = body.left() > 4 ? (body.left() - 2) / 2 : 1;
  body.add_table(vcpu_table(model, vcpus, width), std::min(vcpus.size(), half),
                 state.nav().cursor());
  body.add("");
  if (!model.has_functions()) {
    body.add_table(reason_table(model, reasons, vm->vcpus, catalog, width), body.left(),
                   Body::npos);
    return;
  }
  // top --by function: the reasons get half of what is left, the guest code the rest.
  const std::size_t room = body.left() > 4 ? (body.left() - 2) / 2 : 1;
  body.add_table(reason_table(model, reasons, vm->vcpus, catalog, width),
                 std::min(reasons.size(), room), Body::npos);
  body.add("");
  body.add("guest code: hardware exits by guest function, per reason (top " +
           std::to_string(kFunctionsPerReason) + ")");
  if (const std::string note = model.function_note(vm->pid); !note.empty()) body.add(note);
  const auto fns = model.functions(vm->pid, kFunctionsPerReason);
  if (fns.empty())
    body.add("  none yet");
  else
    body.add_table(function_table(model, fns, catalog, width), body.left(), Body::npos);
}

void vcpu_body(Body& body, const tui::TopModel& model, const TopController& state,
               const model::ReasonCatalog& catalog, std::size_t width) {
  const auto vm = model.vm(state.nav().vm());
  if (!vm) return;
  const std::uint32_t vcpu = state.nav().vcpu();
  body.add(vm_title(*vm) + "  >  vCPU " +
           (vcpu == model::kUnknownVcpu ? std::string("?") : std::to_string(vcpu)));
  const auto reasons = model.reasons(vm->pid, vcpu, state.sort());
  body.add_table(reason_table(model, reasons, 1, catalog, width), body.left(),
                 state.nav().cursor());
}

}  // namespace

std::vector<Line> top_screen(const tui::TopModel& model, const TopController& state,
                             const model::ReasonCatalog& catalog, const FrameInfo& info, int width,
                             int height) {
  if (height <= 0 || width <= 0) return {};
  const auto vms = model.vms(state.sort(), state.filter());
  std::vector<Line> head = {{title_line(info.clock, info.target, state.interval_s(), state.sort(),
                                        state.filter(), state.paused()),
                             Style::title},
                            {summary_line(model, model.vms(state.sort()).size()), Style::plain}};
  for (auto& note : frame_notes(model, info)) head.push_back({std::move(note), Style::plain});
  head.push_back({state.status_line(), Style::status});

  const auto rows = static_cast<std::size_t>(height);
  const std::size_t body_rows = rows > head.size() + 1 ? rows - head.size() - 1 : 0;
  Body body(body_rows);
  const auto columns = static_cast<std::size_t>(width);
  if (state.help_shown()) {
    for (auto& line : top_help_lines()) body.add(std::move(line));
  } else {
    switch (state.nav().level()) {
      case tui::TopLevel::vms:
        vm_list_body(body, model, state, vms, columns);
        break;
      case tui::TopLevel::vm:
        vm_body(body, model, state, catalog, columns);
        break;
      case tui::TopLevel::vcpu:
        vcpu_body(body, model, state, catalog, columns);
        break;
    }
  }

  std::vector<Line> screen;
  for (auto& line : head)
    if (screen.size() < rows) screen.push_back(std::move(line));
  for (auto& line : body.take()) screen.push_back(std::move(line));
  while (screen.size() + 1 < rows) screen.push_back({});
  if (screen.size() < rows) screen.push_back({kFooter, Style::footer});
  for (auto& line : screen) line.text = fit(std::move(line.text), width);
  return screen;
}

void write_batch_frame(const tui::TopModel& model, tui::TopSort sort, const tui::TopFilter& filter,
                       const model::ReasonCatalog& catalog, double interval_s,
                       const FrameInfo& info, std::ostream& out) {
  const auto vms = model.vms(sort, filter);
  out << title_line(info.clock, info.target, interval_s, sort, filter, false) << '\n'
      << summary_line(model, model.vms(sort).size()) << '\n';
  for (const auto& note : frame_notes(model, info)) out << note << '\n';
  out << '\n';
  if (vms.empty()) {
    out << empty_list_text(model, filter) << "\n\n";
    return;
  }
  const TableLines list = vm_table(model, vms);
  out << list.header << '\n';
  for (const auto& row : list.rows) out << row << '\n';
  for (const tui::TopVm& vm : vms) {
    out << '\n' << vm_title(vm) << '\n';
    const TableLines vcpus = vcpu_table(model, model.vcpus(vm.pid, sort));
    out << vcpus.header << '\n';
    for (const auto& row : vcpus.rows) out << row << '\n';
    const TableLines reasons =
        reason_table(model, model.reasons(vm.pid, std::nullopt, sort), vm.vcpus, catalog);
    out << reasons.header << '\n';
    for (const auto& row : reasons.rows) out << row << '\n';
    if (model.has_functions()) {
      out << "guest code: hardware exits by guest function, per reason (top " << kFunctionsPerReason
          << ")\n";
      if (const std::string note = model.function_note(vm.pid); !note.empty()) out << note << '\n';
      const auto fns = model.functions(vm.pid, kFunctionsPerReason);
      if (fns.empty()) out << "  none yet\n";
      const TableLines table = function_table(model, fns, catalog);
      if (!fns.empty()) out << table.header << '\n';
      for (const auto& row : table.rows) out << row << '\n';
    }
  }
  out << '\n';
}

}  // namespace kvmscope::tui
