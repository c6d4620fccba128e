// The JSON document (schema in docs/json-schema.md): always the finest grain, one entry per VM,
// vCPU and reason, whatever breakdown the table would use, so consumers can group as they like.
#include <algorithm>
#include <tuple>
#include <vector>

#include "report/json.h"
#include "report/notes.h"
#include "report/render.h"
#include "report/report.h"

namespace kvmscope::report {

namespace {

using model::Level;

const char* source_name(model::NameSource source) {
  return source == model::NameSource::kernel ? "kernel" : "builtin";
}

// Pretty enough to read and diff: one line per field, per VM and per exit.
void write_exit(const model::ExitKey& key, const model::ExitStats& stats,
                const model::ReasonCatalog& catalog, std::ostream& out) {
  out << "{\"vm_pid\": " << key.vm_pid << ", \"vcpu\": ";
  if (key.vcpu == model::kUnknownVcpu) {
    out << "null";
  } else {
    out << key.vcpu;
  }
  out << ", \"level\": \"" << model::level_name(key.reason.level) << "\", \"isa\": \""
      << model::isa_name(key.reason.isa) << "\", \"code\": " << key.reason.code
      << ", \"code_text\": " << json_string(catalog.code_text(key.reason))
      << ", \"reason\": " << json_string(catalog.name(key.reason)) << ", \"count\": " << stats.count
      << ", \"timed\": " << stats.timed << ", \"time_ns\": " << stats.time_ns
      << ", \"avg_ns\": " << stats.avg_ns() << ", \"p50_ns\": " << stats.p50_ns()
      << ", \"p99_ns\": " << stats.p99_ns() << ", \"max_ns\": " << stats.max_ns
      << ", \"hist_log2_ns\": [";
  for (std::size_t i = 0; i < stats.hist.slots.size(); ++i)
    out << (i ? ", " : "") << stats.hist.slots[i];
  out << "]}";
}

// Writes `"name": [` items `]` with one item per line; `write_item` writes one item.
template <class Items, class WriteItem>
void write_array(std::string_view name, const Items& items, WriteItem write_item,
                 std::ostream& out) {
  out << "  \"" << name << "\": [";
  bool first = true;
  for (const auto& item : items) {
    out << (first ? "\n    " : ",\n    ");
    write_item(item);
    first = false;
  }
  out << (first ? "]" : "\n  ]");
}

}  // namespace

void render_json(const model::Snapshot& snapshot, const model::ReasonCatalog& catalog,
                 const RenderOptions& options, std::ostream& out) {
  const auto& health = snapshot.health;
  out << "{\n"
      << "  \"schema\": \"kvmscope.stat/1\",\n"
      << "  \"target\": " << json_string(options.target) << ",\n"
      << "  \"duration_s\": "
      << json_seconds(
             snapshot.taken_ns > snapshot.started_ns ? snapshot.taken_ns - snapshot.started_ns : 0)
      << ",\n"
      << "  \"names\": {\"vmx\": \""
      << source_name(catalog.source(Level::hardware, model::Isa::vmx)) << "\", \"svm\": \""
      << source_name(catalog.source(Level::hardware, model::Isa::svm)) << "\", \"vmm\": \""
      << source_name(catalog.source(Level::vmm, model::Isa::none)) << "\"},\n"
      << "  \"totals\": {\"hardware\": " << snapshot.total(Level::hardware)
      << ", \"vmm\": " << snapshot.total(Level::vmm) << "},\n"
      << "  \"health\": {\"exits_not_stored\": " << health.exits_not_stored
      << ", \"events_lost\": " << health.events_lost
      << ", \"threads_not_stored\": " << health.threads_not_stored
      << ", \"targets_not_stored\": " << health.targets_not_stored << "},\n";

  write_array(
      "vms", snapshot.vms,
      [&](const auto& vm) {
        out << "{\"pid\": " << vm.first << ", \"name\": " << json_string(vm.second.name)
            << ", \"comm\": " << json_string(vm.second.comm) << "}";
      },
      out);
  out << ",\n";

  // Level, VM, vCPU (unknown last), then the most frequent reason first.
  using Entry = std::pair<model::ExitKey, model::ExitStats>;
  std::vector<Entry> exits;
  for (const auto& [key, stats] : snapshot.exits)
    if (stats.count > 0) exits.emplace_back(key, stats);
  std::sort(exits.begin(), exits.end(), [](const Entry& a, const Entry& b) {
    const auto rank = [](const Entry& e) {  // ~count: larger counts sort first
      return std::make_tuple(e.first.reason.level, e.first.vm_pid, e.first.vcpu, ~e.second.count,
                             e.first.reason);
    };
    return rank(a) < rank(b);
  });
  write_array(
      "exits", exits, [&](const Entry& e) { write_exit(e.first, e.second, catalog, out); }, out);
  out << ",\n";

  if (options.drill) {
    out << "  \"drilldowns\": ";
    write_drilldowns_json(*options.drill, drill_options(options), out);
    out << ",\n";
  }

  std::vector<std::string> notes = coverage_notes(snapshot, options.target);
  for (const std::string& warning : health_warnings(health)) notes.push_back("warning: " + warning);
  for (const std::string& note : options.collector_notes) notes.push_back("note: " + note);
  write_array(
      "notes", notes, [&](const std::string& note) { out << json_string(note); }, out);
  out << "\n}\n";
}

}  // namespace kvmscope::report
