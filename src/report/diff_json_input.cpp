#include "report/diff_json_input.h"

#include <array>
#include <cmath>
#include <map>

#include "util/json_value.h"

namespace kvmscope::report {

namespace {

using util::JsonValue;

struct Reader {
  const std::string& label;
  util::Error bad(const std::string& where, const std::string& what) const {
    return util::plain_error(label + ": " + where + ": " + what);
  }
};

std::optional<model::Level> level_from(const JsonValue& v) {
  auto s = v.as_string();
  if (s == "hardware") return model::Level::hardware;
  if (s == "vmm") return model::Level::vmm;
  return std::nullopt;
}

std::optional<model::Isa> isa_from(const JsonValue& v) {
  auto s = v.as_string();
  if (s == "none") return model::Isa::none;
  if (s == "vmx") return model::Isa::vmx;
  if (s == "svm") return model::Isa::svm;
  if (s == "arm64") return model::Isa::arm64;
  return std::nullopt;
}

std::uint64_t ns_of_seconds(const JsonValue& v) {
  const double s = v.as_double().value_or(0);
  return s > 0 ? static_cast<std::uint64_t>(std::llround(s * 1e9)) : 0;
}

// The time fields every row has: count, timed, time_ns, max_ns (null: none), and the histogram
// where the row carries one.
util::Result<model::ExitStats> stats_from(const Reader& r, const std::string& where,
                                          const JsonValue& e) {
  model::ExitStats s;
  auto count = e["count"].as_u64();
  if (!count) return r.bad(where, "no 'count'");
  s.count = *count;
  s.timed = e["timed"].as_u64().value_or(0);
  s.time_ns = e["time_ns"].as_u64().value_or(0);
  s.max_ns = e["max_ns"].as_u64().value_or(0);
  const JsonValue& hist = e["hist_log2_ns"];
  if (hist.type() == JsonValue::Type::array) {
    if (hist.items().size() != model::kLog2Slots)
      return r.bad(where, "'hist_log2_ns' has " + std::to_string(hist.items().size()) +
                              " slots, not " + std::to_string(model::kLog2Slots));
    std::array<std::uint64_t, model::kLog2Slots> log2{};
    for (std::size_t i = 0; i < model::kLog2Slots; ++i) log2[i] = hist[i].as_u64().value_or(0);
    s.hist.set_log2_slots(log2);
  }
  return s;
}

util::Result<void> read_exits(const Reader& r, const JsonValue& doc, model::DiffInput& in) {
  std::map<std::pair<model::Level, model::Isa>, std::map<std::uint32_t, std::string>> names;
  const auto& exits = doc["exits"];
  if (exits.type() != JsonValue::Type::array) return r.bad("exits", "missing");
  for (std::size_t i = 0; i < exits.items().size(); ++i) {
    const JsonValue& e = exits[i];
    const std::string where = "exits[" + std::to_string(i) + "]";
    auto level = level_from(e["level"]);
    auto isa = isa_from(e["isa"]);
    auto code = e["code"].as_u64();
    if (!level || !isa || !code || *code > UINT32_MAX)
      return r.bad(where, "no valid 'level', 'isa' and 'code'");
    auto stats = stats_from(r, where, e);
    if (!stats) return stats.error();
    model::ExitKey key;
    key.vm_pid = static_cast<std::uint32_t>(e["vm_pid"].as_u64().value_or(0));
    key.vcpu = static_cast<std::uint32_t>(e["vcpu"].as_u64().value_or(model::kUnknownVcpu));
    key.reason = {*level, *isa, static_cast<std::uint32_t>(*code)};
    in.analysis.snapshot.exits[key] += *stats;
    if (auto name = e["reason"].as_string()) names[{*level, *isa}][key.reason.code] = *name;
  }
  // The document's names: what its kernel (or kvmscope's tables) called each code.
  for (auto& [table, codes] : names)
    in.catalog.set_table(table.first, table.second, std::move(codes), model::NameSource::kernel);
  return {};
}

model::DrillKey drill_key(model::DrillKind kind, std::uint32_t pid, const JsonValue& row) {
  const std::uint64_t value = row["value"].as_u64().value_or(0);
  model::DrillKey k{kind, pid, value, 0, row["other"].as_bool().value_or(false)};
  if (k.other) return k;
  switch (kind) {
    case model::DrillKind::port:
      return model::port_key(pid, value, row["direction"].as_string() == "out",
                             static_cast<std::uint32_t>(row["size"].as_u64().value_or(0)));
    case model::DrillKind::mmio: {
      const auto access = row["access"].as_string().value_or("");
      return model::mmio_key(pid, value,
                             access == "write"  ? model::MmioAccess::write
                             : access == "read" ? model::MmioAccess::read
                                                : model::MmioAccess::read_unsatisfied);
    }
    case model::DrillKind::msr:
      return model::msr_key(pid, value, row["write"].as_bool().value_or(false),
                            row["fault"].as_bool().value_or(false));
    case model::DrillKind::cpuid:
      return model::cpuid_key(pid, value);
    case model::DrillKind::hypercall:
      return model::hypercall_key(pid, value);
  }
  return k;
}

util::Result<void> read_drilldowns(const Reader& r, const JsonValue& doc, model::DiffInput& in) {
  const auto& tables = doc["drilldowns"];
  for (std::size_t t = 0; t < tables.items().size(); ++t) {
    const JsonValue& table = tables[t];
    const std::string where = "drilldowns[" + std::to_string(t) + "]";
    auto kind = model::drill_kind_from_name(table["kind"].as_string().value_or(""));
    if (!kind) return r.bad(where, "no valid 'kind'");
    const auto pid = static_cast<std::uint32_t>(table["vm_pid"].as_u64().value_or(0));
    const auto& rows = table["rows"];
    for (std::size_t i = 0; i < rows.items().size(); ++i) {
      auto stats = stats_from(r, where + ".rows[" + std::to_string(i) + "]", rows[i]);
      if (!stats) return stats.error();
      in.analysis.drill.at(drill_key(*kind, pid, rows[i])) += *stats;
    }
  }
  return {};
}

void read_timeline(const JsonValue& doc, model::DiffInput& in) {
  const auto& t = doc["timeline"];
  const std::uint64_t bucket_ns = ns_of_seconds(t["bucket_s"]);
  const std::size_t buckets = t["buckets"].as_u64().value_or(0);
  if (bucket_ns == 0 || buckets == 0) return;
  model::Timeline& out = in.analysis.timeline;
  out.start_ns = in.analysis.snapshot.started_ns;
  out.bucket_ns = bucket_ns;
  for (const JsonValue& s : t["series"].items()) {
    auto level = level_from(s["level"]);
    auto isa = isa_from(s["isa"]);
    auto code = s["code"].as_u64();
    if (!level || !isa || !code || s["counts"].items().size() != buckets) continue;
    out.reasons.push_back({*level, *isa, static_cast<std::uint32_t>(*code)});
    std::vector<std::uint64_t> counts(buckets);
    for (std::size_t i = 0; i < buckets; ++i) counts[i] = s["counts"][i].as_u64().value_or(0);
    out.counts.push_back(std::move(counts));
  }
}

}  // namespace

util::Result<model::DiffInput> diff_input_from_json(std::string_view text,
                                                    const std::string& label) {
  auto doc = util::JsonValue::parse(text);
  if (!doc) return util::plain_error(label + ": " + doc.error().message());
  const Reader r{label};
  const auto schema = (*doc)["schema"].as_string().value_or("");
  if (schema != "kvmscope.stat/1" && schema != "kvmscope.report/1")
    return util::plain_error(label + ": a JSON document of schema '" + schema +
                             "', not kvmscope.stat/1 or kvmscope.report/1");
  model::DiffInput in;
  in.label = label;
  in.source = schema;
  in.target = (*doc)["target"].as_string().value_or("");
  model::Snapshot& s = in.analysis.snapshot;
  s.started_ns = (*doc)["recording"]["start_monotonic_ns"].as_u64().value_or(0);
  s.taken_ns = s.started_ns + ns_of_seconds((*doc)["duration_s"]);
  for (const JsonValue& vm : (*doc)["vms"].items())
    if (auto pid = vm["pid"].as_u64())
      s.vms[static_cast<std::uint32_t>(*pid)] = {vm["name"].as_string().value_or(""),
                                                 vm["comm"].as_string().value_or("")};
  if (auto ok = read_exits(r, *doc, in); !ok) return ok.error();
  if (auto ok = read_drilldowns(r, *doc, in); !ok) return ok.error();
  read_timeline(*doc, in);
  for (const JsonValue& note : (*doc)["notes"].items())
    if (auto n = note.as_string(); n && n->starts_with("warning:")) in.notes.push_back(*n);
  return in;
}

}  // namespace kvmscope::report
