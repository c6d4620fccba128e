// The JSON document (schema in docs/json-schema.md): always the finest grain, one entry per VM,
// vCPU and reason, whatever breakdown the table would use, so consumers can group as they like.
#include <string>
#include <vector>

#include "report/json_literals.h"
#include "report/render.h"
#include "report/report.h"
#include "report/report_guest_code.h"
#include "report/snapshot_json.h"
#include "report/snapshot_notes.h"

namespace kvmscope::report {

void render_json(const model::Snapshot& snapshot, const model::ReasonCatalog& catalog,
                 const ReportOptions& options, std::ostream& out) {
  const auto& health = snapshot.health;
  out << "{\n"
      << "  \"schema\": \"kvmscope.stat/1\",\n"
      << "  \"target\": " << json_string(options.target) << ",\n"
      << "  \"duration_s\": "
      << json_seconds(
             snapshot.taken_ns > snapshot.started_ns ? snapshot.taken_ns - snapshot.started_ns : 0)
      << ",\n";
  write_names_and_totals(snapshot, catalog, out);
  out << "  \"health\": {\"exits_not_stored\": " << health.exits_not_stored
      << ", \"events_lost\": " << health.events_lost
      << ", \"threads_not_stored\": " << health.threads_not_stored
      << ", \"targets_not_stored\": " << health.targets_not_stored << "},\n";
  write_vms_and_exits(snapshot, catalog, out);
  out << ",\n";

  if (options.drill) {
    out << "  \"drilldowns\": ";
    write_drilldowns_json(*options.drill, options, out);
    out << ",\n";
  }
  if (options.guest_code) {
    out << "  \"guest_code\": ";
    write_guest_code_json(*options.guest_code, catalog, out);
    out << ",\n";
  }

  std::vector<std::string> notes = coverage_notes(snapshot, options.target);
  for (const std::string& warning : health_warnings(health)) notes.push_back("warning: " + warning);
  for (const std::string& note : options.notes) notes.push_back("note: " + note);
  write_array(
      "notes", notes, [&](const std::string& note) { out << json_string(note); }, out);
  out << "\n}\n";
}

}  // namespace kvmscope::report
