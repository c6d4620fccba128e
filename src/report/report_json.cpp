// The report as one JSON document, schema kvmscope.report/1 (docs/json-schema.md). Times on the
// report's axis are exact decimal seconds after time 0 (the snapshot's start); the exits array
// has exactly the fields of kvmscope.stat/1's exits.
#include <algorithm>
#include <map>
#include <tuple>

#include "report/json_literals.h"
#include "report/percentiles.h"
#include "report/recording_notes.h"
#include "report/report.h"
#include "report/report_guest_code.h"
#include "report/report_kernel_log.h"
#include "report/report_labels.h"
#include "report/snapshot_json.h"
#include "report/snapshot_notes.h"

namespace kvmscope::report {

namespace {

using model::Level;

void write_top(const std::vector<std::pair<model::Reason, std::uint64_t>>& top,
               const model::ReasonCatalog& catalog, std::ostream& out) {
  out << "\"top\": [";
  for (std::size_t i = 0; i < top.size(); ++i) {
    out << (i ? ", " : "") << "{";
    write_reason(top[i].first, catalog, out);
    out << ", \"count\": " << top[i].second << "}";
  }
  out << "]";
}

void write_recording(const model::RecordingAnalysisResult& a, const RecordingMeta& rec,
                     std::ostream& out) {
  out << "  \"recording\": {\"hostname\": " << json_string(rec.hostname)
      << ", \"kernel\": " << json_string(rec.kernel)
      << ", \"kvmscope_version\": " << json_string(rec.kvmscope_version) << ", \"started_utc\": ";
  if (rec.realtime_offset_ns) {
    out << json_string(utc_iso(a.snapshot.started_ns, *rec.realtime_offset_ns));
  } else {
    out << "null";
  }
  out << ", \"start_monotonic_ns\": " << a.snapshot.started_ns
      << ", \"complete\": " << (rec.complete ? "true" : "false")
      << ", \"lost_events\": " << events_lost(rec) << ", \"lost_to_damage\": " << rec.lost_to_damage
      << ", \"lost_to_damage_exact\": " << (rec.lost_to_damage_exact ? "true" : "false")
      << ", \"lost_per_cpu\": [";
  for (std::size_t i = 0; i < rec.lost_per_cpu.size(); ++i)
    out << (i ? ", " : "") << rec.lost_per_cpu[i];
  out << "], \"damage\": [";
  for (std::size_t i = 0; i < rec.damage.size(); ++i) {
    const model::DamagedRange& d = rec.damage[i];
    out << (i ? ", " : "") << "{\"offset\": " << d.offset << ", \"end\": " << d.end
        << ", \"block\": ";
    if (d.block)
      out << *d.block;
    else
      out << "null";
    out << ", \"block_type\": ";
    if (d.block_type.empty())
      out << "null";
    else
      out << json_string(d.block_type);
    out << ", \"reason\": " << json_string(d.reason) << ", \"events\": ";
    if (d.events)
      out << *d.events;
    else
      out << "null";
    out << ", \"exact\": " << (d.exact ? "true" : "false") << "}";
  }
  out << "], \"markers\": [";
  for (std::size_t i = 0; i < rec.markers.size(); ++i) {
    const auto& m = rec.markers[i];
    const std::uint64_t t = m.ts_ns > a.snapshot.started_ns ? m.ts_ns - a.snapshot.started_ns : 0;
    out << (i ? ", " : "") << "{\"t_s\": " << json_seconds(t)
        << ", \"label\": " << json_string(m.label) << "}";
  }
  out << "]},\n";
}

void write_timeline(const model::RecordingAnalysisResult& a, const model::ReasonCatalog& catalog,
                    std::ostream& out) {
  const model::Timeline& t = a.timeline;
  // Bucket 0 starts at time 0: the timeline and the snapshot share their start.
  out << "  \"timeline\": {\"bucket_s\": " << json_seconds(t.bucket_ns)
      << ", \"buckets\": " << t.buckets() << ", \"widened\": " << (t.widened ? "true" : "false")
      << ", \"active_span\": ";
  if (const auto span = model::active_span(t)) {
    out << "{\"first_bucket\": " << span->first << ", \"last_bucket\": " << span->last << "}";
  } else {
    out << "null";
  }
  out << ",\n";
  std::vector<std::size_t> series(t.reasons.size());
  for (std::size_t s = 0; s < series.size(); ++s) series[s] = s;
  write_array(
      "series", series,
      [&](std::size_t s) {
        out << "{";
        write_reason(t.reasons[s], catalog, out);
        out << ", \"total\": " << t.series_total(s) << ", \"counts\": [";
        for (std::size_t b = 0; b < t.counts[s].size(); ++b)
          out << (b ? ", " : "") << t.counts[s][b];
        out << "]}";
      },
      out, 4);
  out << "\n  },\n";
}

void write_bursts(const model::RecordingAnalysisResult& a, const model::ReasonCatalog& catalog,
                  std::ostream& out) {
  const model::BurstReport& b = a.bursts;
  out << "  \"bursts\": {\"level\": \"" << model::level_name(b.level)
      << "\", \"factor\": " << number_text(b.rule.factor) << ", \"min_exits\": " << b.rule.min_exits
      << ", \"median_exits\": " << number_text(b.median_exits)
      << ", \"threshold_exits\": " << b.threshold_exits << ", \"found\": " << b.found << ",\n";
  write_array(
      "list", b.bursts,
      [&](const model::Burst& burst) {
        const std::uint64_t start =
            burst.start_ns > a.snapshot.started_ns ? burst.start_ns - a.snapshot.started_ns : 0;
        out << "{\"start_s\": " << json_seconds(start)
            << ", \"duration_s\": " << json_seconds(burst.duration_ns)
            << ", \"exits\": " << burst.exits
            << ", \"peak_per_s\": " << number_text(burst.peak_per_s) << ", ";
        write_top(burst.top, catalog, out);
        out << "}";
      },
      out, 4);
  out << "\n  },\n";
}

void write_boot(const model::RecordingAnalysisResult& a, const model::BootSummary& boot,
                const model::ReasonCatalog& catalog, std::ostream& out) {
  const auto rel = [&](std::uint64_t ns) {
    return json_seconds(ns > a.snapshot.started_ns ? ns - a.snapshot.started_ns : 0);
  };
  out << "{\"vm_pid\": " << boot.vm_pid
      << ", \"complete\": " << (boot.complete() ? "true" : "false") << ", \"start\": \""
      << boot_start_key(boot.start_from) << "\", \"end\": \"" << boot_end_key(boot.end_by)
      << "\", \"start_s\": " << rel(boot.start_ns) << ", \"end_s\": " << rel(boot.end_ns)
      << ", \"duration_s\": " << json_seconds(boot.end_ns - boot.start_ns)
      << ", \"first_exit_after_s\": ";
  if (boot.first_exit_ns) {
    out << json_seconds(*boot.first_exit_ns > boot.start_ns ? *boot.first_exit_ns - boot.start_ns
                                                            : 0);
  } else {
    out << "null";
  }
  out << ", \"hardware_exits\": " << boot.hardware_exits << ", \"vmm_exits\": " << boot.vmm_exits
      << ", \"phases\": [";
  const Level level = boot.hardware_exits > 0 ? Level::hardware : Level::vmm;
  for (std::size_t i = 0; i < boot.phases.size(); ++i) {
    const model::BootPhase& p = boot.phases[i];
    const std::uint64_t n = level == Level::hardware ? p.hardware_exits : p.vmm_exits;
    const std::uint64_t ns = p.end_ns - p.begin_ns;
    out << (i ? ",\n      " : "\n      ") << "{\"label\": " << json_string(p.label)
        << ", \"start_s\": " << rel(p.begin_ns) << ", \"end_s\": " << rel(p.end_ns)
        << ", \"duration_s\": " << json_seconds(ns) << ", \"hardware_exits\": " << p.hardware_exits
        << ", \"vmm_exits\": " << p.vmm_exits << ", \"rate_level\": \"" << model::level_name(level)
        << "\", \"exits_per_s\": "
        << number_text(ns ? static_cast<double>(n) * 1e9 / static_cast<double>(ns) : 0.0) << ", ";
    write_top(model::top_reasons(p, level, 3), catalog, out);
    out << "}";
  }
  out << (boot.phases.empty() ? "]}" : "\n    ]}");
}

void write_percentiles(const model::RecordingAnalysisResult& a, std::ostream& out) {
  const PercentileInfo info = percentile_info(a);
  out << "  \"percentiles\": {\"method\": \"" << percentile_method_key(info.method)
      << "\", \"relative_error\": ";
  switch (info.method) {
    case PercentileMethod::none:
      out << "null";
      break;
    case PercentileMethod::exact:
      out << "0";
      break;
    case PercentileMethod::sketch:
      out << number_text(model::QuantileSketch::kRelativeErrorPercent / 100.0);
      break;
  }
  out << ", \"rank\": \"nearest\", \"exact_up_to\": " << model::QuantileSketch::kExactCapacity
      << ", \"max_buckets\": " << model::QuantileSketch::kMaxBuckets
      << ", \"collapsed\": " << (info.collapsed ? "true" : "false") << "},\n";
}

// Per reason (all VMs and vCPUs), the handling time at each of cdf_quantiles(): the HTML page's
// distribution charts.
void write_handling_time(const model::RecordingAnalysisResult& a,
                         const model::ReasonCatalog& catalog, std::ostream& out) {
  std::map<model::Reason, model::ExitStats> by_reason;
  for (const auto& [key, stats] : a.snapshot.exits)
    if (has_distribution(stats)) by_reason[key.reason] += stats;
  using Entry = std::pair<model::Reason, const model::ExitStats*>;
  std::vector<Entry> series;
  series.reserve(by_reason.size());
  for (const auto& [reason, stats] : by_reason) series.emplace_back(reason, &stats);
  std::stable_sort(series.begin(), series.end(), [](const Entry& x, const Entry& y) {
    return std::make_pair(x.first.level, ~x.second->sketch.count()) <
           std::make_pair(y.first.level, ~y.second->sketch.count());
  });
  const std::vector<double>& qs = cdf_quantiles();
  out << "  \"handling_time\": {\"q\": [";
  for (std::size_t i = 0; i < qs.size(); ++i) out << (i ? ", " : "") << number_text(qs[i]);
  out << "],\n";
  write_array(
      "series", series,
      [&](const Entry& e) {
        out << "{";
        write_reason(e.first, catalog, out);
        out << ", \"timed\": " << e.second->sketch.count() << ", \"ns\": [";
        const auto ns = e.second->sketch.quantiles(qs);
        for (std::size_t i = 0; i < ns.size(); ++i) out << (i ? ", " : "") << ns[i];
        out << "]}";
      },
      out, 4);
  out << "\n  },\n";
}

void write_drill_row(const model::DrillRow& row, bool event_percentiles, std::ostream& out) {
  const model::DrillKey& k = row.key;
  out << "{\"value\": " << k.value << ", \"value_text\": " << json_string(drill_value_text(k))
      << ", \"detail\": " << json_string(drill_detail_text(k))
      << ", \"other\": " << (k.other ? "true" : "false");
  switch (k.kind) {
    case model::DrillKind::port:
      out << ", \"direction\": \"" << (model::port_is_out(k) ? "out" : "in")
          << "\", \"size\": " << model::port_size(k);
      break;
    case model::DrillKind::mmio:
      out << ", \"access\": " << json_string(drill_detail_text(k));
      break;
    case model::DrillKind::msr:
      out << ", \"write\": " << ((k.flags & model::kMsrWrite) ? "true" : "false")
          << ", \"fault\": " << ((k.flags & model::kMsrFault) ? "true" : "false");
      break;
    case model::DrillKind::cpuid:
    case model::DrillKind::hypercall:
      break;
  }
  out << ", ";
  write_times(row.stats, out, event_percentiles);
  out << "}";
}

}  // namespace

void render_report_json(const model::RecordingAnalysisResult& a,
                        const model::ReasonCatalog& catalog, const ReportOptions& given,
                        std::ostream& out) {
  const ReportOptions options = report_options(given);
  const model::Snapshot& s = a.snapshot;
  const std::uint64_t lost = events_lost(options.recording);
  out << "{\n"
      << "  \"schema\": \"kvmscope.report/1\",\n"
      << "  \"target\": " << json_string(options.target) << ",\n";
  write_recording(a, options.recording, out);
  out << "  \"duration_s\": " << json_seconds(s.taken_ns - s.started_ns) << ",\n";
  write_names_and_totals(s, catalog, out);
  out << "  \"health\": {\"exits_not_stored\": 0, \"events_lost\": " << lost
      << ", \"threads_not_stored\": " << s.health.threads_not_stored
      << ", \"targets_not_stored\": 0},\n";
  write_percentiles(a, out);

  write_vms_and_exits(s, catalog, out, true);
  out << ",\n";
  if (options.kernel_log) write_kernel_log_json(*options.kernel_log, catalog, out);

  write_timeline(a, catalog, out);
  write_handling_time(a, catalog, out);
  write_array(
      "stability", a.stability,
      [&](const model::RateStability& r) {
        out << "{";
        write_reason(r.reason, catalog, out);
        out << ", \"exits\": " << r.exits << ", \"mean_per_s\": " << number_text(r.mean_per_s)
            << ", \"stddev_per_s\": " << number_text(r.stddev_per_s)
            << ", \"cv\": " << number_text(r.cv)
            << ", \"peak_per_s\": " << number_text(r.peak_per_s) << "}";
      },
      out);
  out << ",\n";
  write_bursts(a, catalog, out);
  write_array(
      "boots", a.boots, [&](const model::BootSummary& b) { write_boot(a, b, catalog, out); }, out);
  out << ",\n";
  out << "  \"drilldowns\": ";
  write_drilldowns_json(a.drill, options, out);
  out << ",\n";
  out << "  \"guest_code\": ";
  if (options.guest_code)
    write_guest_code_json(*options.guest_code, catalog, out);
  else
    out << "null";
  out << ",\n";

  const model::StreamFacts& f = a.facts;
  out << "  \"stream\": {\"events\": " << f.events << ", \"backward_steps\": " << f.backward_steps
      << ", \"max_backward_ns\": " << f.max_backward_ns
      << ", \"unknown_events\": " << f.unknown_events
      << ", \"unpaired_entries\": " << f.unpaired_entries << "},\n";

  std::vector<std::string> notes = coverage_notes(s, options.target);
  for (const std::string& w : report_warnings(a, options)) notes.push_back(w);
  write_array(
      "notes", notes, [&](const std::string& note) { out << json_string(note); }, out);
  out << "\n}\n";
}

void write_drilldowns_json(const model::DrillDown& drill, const ReportOptions& options,
                           std::ostream& out) {
  std::vector<model::DrillTable> tables;
  for (model::DrillKind kind : options.drilldowns)
    for (auto& t : model::drill_tables(drill, kind, options.drilldowns_per_vm))
      tables.push_back(std::move(t));
  out << "[";
  for (std::size_t n = 0; n < tables.size(); ++n) {
    const model::DrillTable& t = tables[n];
    out << (n ? ",\n    " : "\n    ") << "{\"kind\": \"" << model::drill_kind_name(t.kind)
        << "\", \"vm_pid\": ";
    if (t.vm_pid) {
      out << *t.vm_pid;
    } else {
      out << "null";
    }
    out << ", \"total\": {";
    write_times(t.total, out, options.event_percentiles);
    out << "}, \"rows\": [";
    for (std::size_t i = 0; i < t.rows.size(); ++i) {
      out << (i ? ",\n      " : "\n      ");
      write_drill_row(t.rows[i], options.event_percentiles, out);
    }
    out << (t.rows.empty() ? "]}" : "\n    ]}");
  }
  out << (tables.empty() ? "]" : "\n  ]");
}

}  // namespace kvmscope::report
