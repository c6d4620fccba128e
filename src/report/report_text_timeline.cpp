// The timeline in a terminal: one row per reason, a sparkline of block characters across the
// recording, each row scaled to its own peak (the peak/s column gives the magnitude). The full
// resolution is in the CSV, JSON and HTML outputs.
#include <algorithm>
#include <array>
#include <sstream>

#include "report/format.h"
#include "report/report_labels.h"
#include "report/report_text_sections.h"

namespace kvmscope::report::text {

namespace {

using model::Level;
using model::Timeline;

constexpr std::size_t kMaxColumns = 60;
constexpr std::size_t kReasonsPerLevel = 8;  // the rest share one "other" row

// U+2581..U+2588, one eighth to a full block.
constexpr std::array<const char*, 8> kBlocks = {"\u2581", "\u2582", "\u2583", "\u2584",
                                                "\u2585", "\u2586", "\u2587", "\u2588"};

// A row's per-bucket counts summed into columns of `group` buckets, drawn against its peak
// column. A column with any exit shows at least the lowest block; an empty one is blank.
std::string sparkline(const std::vector<std::uint64_t>& buckets, std::size_t group) {
  std::vector<std::uint64_t> columns((buckets.size() + group - 1) / group, 0);
  for (std::size_t b = 0; b < buckets.size(); ++b) columns[b / group] += buckets[b];
  const std::uint64_t peak = *std::max_element(columns.begin(), columns.end());
  std::string line;
  for (std::uint64_t v : columns) {
    if (v == 0 || peak == 0) {
      line += ' ';
      continue;
    }
    const std::size_t level = static_cast<std::size_t>((v * 8 + peak - 1) / peak);  // 1..8
    line += kBlocks[std::clamp<std::size_t>(level, 1, 8) - 1];
  }
  return line;
}

// "0 s" under the first column and the end time under the last.
std::string axis(std::size_t columns, std::uint64_t end_ns) {
  std::string left = "0 s";  // not const: `return left` moves it
  const std::string right = seconds_text(end_ns);
  if (columns < left.size() + right.size() + 1) return left;
  return left + std::string(columns - left.size() - right.size(), ' ') + right;
}

struct Row {
  std::string reason;
  std::string code;
  std::vector<std::uint64_t> buckets;
};

void add_row(TextTable& table, const Row& row, std::size_t group, std::uint64_t bucket_ns) {
  std::uint64_t exits = 0, peak = 0;
  for (std::uint64_t v : row.buckets) {
    exits += v;
    peak = std::max(peak, v);
  }
  table.add_row({row.reason, row.code, format_count(exits),
                 format_rate(peak, static_cast<double>(bucket_ns) / 1e9),
                 sparkline(row.buckets, group)});
}

}  // namespace

std::string timeline_section(const model::RecordingAnalysisResult& analysis,
                             const model::ReasonCatalog& catalog) {
  const Timeline& t = analysis.timeline;
  if (t.buckets() == 0) return {};
  const std::size_t group = (t.buckets() + kMaxColumns - 1) / kMaxColumns;
  const std::size_t columns = (t.buckets() + group - 1) / group;
  const std::uint64_t end_ns = t.buckets() * t.bucket_ns;

  using Align = TextTable::Align;
  TextTable table({Align::left, Align::right, Align::right, Align::right, Align::left});
  table.add_text("Timeline of exits, one column per " + format_duration_ns(group * t.bucket_ns) +
                 " (buckets of " + format_duration_ns(t.bucket_ns) +
                 (t.widened ? ", widened to fit" : "") +
                 " in CSV, JSON and HTML); each row scaled to its own peak");
  table.add_row({"reason", "code", "exits", "peak/s", ""});
  for (Level level : {Level::hardware, Level::vmm}) {
    if (!t.has_level(level)) continue;
    // The level's series, most exits first.
    std::vector<std::size_t> series;
    for (std::size_t s = 0; s < t.reasons.size(); ++s)
      if (t.reasons[s].level == level) series.push_back(s);
    std::stable_sort(series.begin(), series.end(), [&](std::size_t a, std::size_t b) {
      return t.series_total(a) > t.series_total(b);
    });
    Row total{level == Level::hardware ? "all hardware exits" : "all exits to the VMM", "",
              std::vector<std::uint64_t>(t.buckets(), 0)};
    Row other{"", "", std::vector<std::uint64_t>(t.buckets(), 0)};
    std::vector<Row> rows;
    for (std::size_t i = 0; i < series.size(); ++i) {
      const auto& counts = t.counts[series[i]];
      for (std::size_t b = 0; b < counts.size(); ++b) total.buckets[b] += counts[b];
      if (i < kReasonsPerLevel) {
        const model::Reason& r = t.reasons[series[i]];
        rows.push_back({"  " + printable(catalog.name(r)), catalog.code_text(r), counts});
      } else {
        for (std::size_t b = 0; b < counts.size(); ++b) other.buckets[b] += counts[b];
      }
    }
    add_row(table, total, group, t.bucket_ns);
    for (const Row& row : rows) add_row(table, row, group, t.bucket_ns);
    if (series.size() > kReasonsPerLevel) {
      other.reason = "  " + std::to_string(series.size() - kReasonsPerLevel) + " other reasons";
      add_row(table, other, group, t.bucket_ns);
    }
  }
  table.add_row({"", "", "", "", axis(columns, end_ns)});
  std::ostringstream out;
  table.write(out);
  return out.str();
}

}  // namespace kvmscope::report::text
