// kvmscope diff's library: the two significance tests on known values, runs that differ only by
// counting noise (nothing significant) against a real change (significant), the --fail-if
// grammar and its evaluation, the JSON documents read back, and golden renderings of a diff of
// two synthetic recordings.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <random>
#include <sstream>

#include "model/diff.h"
#include "model/diff_condition.h"
#include "model/diff_stats.h"
#include "report/diff_json_input.h"
#include "report/diff_render.h"
#include "report/report.h"
#include "support/fixtures.h"
#include "support/sample_recording.h"

namespace kvmscope {
namespace {

using model::DiffKind;
using model::Isa;
using model::Level;

TEST(DiffStats, BinomialCdfKnownValues) {
  EXPECT_NEAR(model::binomial_cdf(5, 10, 0.5), 0.623046875, 1e-12);
  EXPECT_NEAR(model::binomial_cdf(0, 10, 0.5), 1.0 / 1024, 1e-15);
  EXPECT_NEAR(model::binomial_cdf(2, 20, 0.3), 0.035483, 1e-6);
  EXPECT_EQ(model::binomial_cdf(10, 10, 0.5), 1.0);
}

TEST(DiffStats, RateTestKnownValues) {
  EXPECT_EQ(model::rate_test_p(10, 1, 10, 1), 1.0);
  EXPECT_EQ(model::rate_test_p(0, 1, 0, 1), 1.0);
  // 0 against 10 with equal exposures: both tails of Binomial(10, 1/2) at the ends.
  EXPECT_NEAR(model::rate_test_p(0, 1, 10, 1), 2.0 / 1024, 1e-15);
  // The exposures weigh in: 10 in 1 s against 20 in 2 s is no change at all.
  EXPECT_GT(model::rate_test_p(10, 1, 20, 2), 0.99);
  EXPECT_LT(model::rate_test_p(1000, 1, 2000, 1), 1e-40);
}

TEST(DiffStats, RankTestOnHistograms) {
  model::Histogram a, b, c;
  for (int i = 0; i < 1000; ++i) {
    a.add(1000 + i);  // slot 9 and 10
    b.add(1000 + i);
    c.add(4000 + 4 * i);  // two slots higher
  }
  EXPECT_EQ(model::rank_test_p(a, b), 1.0);
  EXPECT_LT(model::rank_test_p(a, c), 1e-100);
  EXPECT_EQ(model::rank_test_p(a, model::Histogram{}), 1.0);
}

// A run of five SVM reasons whose counts are Poisson-like draws around `means` (binomial
// thinning of 20x as many trials, portable where std::poisson_distribution is not), each exit
// timed from one distribution scaled by `time_scale`.
model::DiffInput noisy_run(std::uint64_t seed, const std::vector<std::uint64_t>& means,
                           const std::vector<double>& time_scale, const std::string& label) {
  std::mt19937_64 rng(seed);
  auto uniform = [&] { return static_cast<double>(rng() >> 11) * 0x1.0p-53; };
  model::DiffInput in;
  in.label = label;
  in.source = "synthetic";
  in.analysis.snapshot.started_ns = 0;
  in.analysis.snapshot.taken_ns = 10'000'000'000;
  const std::uint32_t codes[] = {0x7b, 0x72, 0x78, 0x7c, 0x400};
  for (std::size_t r = 0; r < means.size(); ++r) {
    std::uint64_t n = 0;
    for (std::uint64_t t = 0; t < 20 * means[r]; ++t) n += uniform() < 0.05 ? 1 : 0;
    model::ExitStats& s =
        in.analysis.snapshot.exits[model::ExitKey{1, 0, {Level::hardware, Isa::svm, codes[r]}}];
    for (std::uint64_t i = 0; i < n; ++i) {
      const double u = uniform();
      const auto ns = static_cast<std::uint64_t>(time_scale[r] * (800 + 4000 * u * u * u));
      ++s.count;
      ++s.timed;
      s.time_ns += ns;
      s.max_ns = std::max(s.max_ns, ns);
      s.hist.add(ns);
    }
  }
  return in;
}

const std::vector<std::uint64_t> kMeans = {50000, 5000, 500, 50, 5};
const std::vector<double> kSameTimes = {1, 1, 1, 1, 1};

TEST(DiffNoise, RunsThatDifferOnlyByNoiseShowNothingSignificant) {
  // Without the minimum-change floor: the tests alone tell noise from change.
  model::DiffOptions o;
  o.min_change = 0;
  for (std::uint64_t seed : {1u, 2u, 3u}) {
    const auto a = noisy_run(seed, kMeans, kSameTimes, "a");
    const auto b = noisy_run(seed + 100, kMeans, kSameTimes, "b");
    auto d = model::diff(a, b, o);
    ASSERT_TRUE(d.ok());
    ASSERT_EQ(d->rows.size(), 6u);  // the hardware total and five reasons
    for (const auto& row : d->rows) {
      EXPECT_FALSE(row.count_significant)
          << "seed " << seed << " " << row.reason_name << " p=" << row.count_p;
      EXPECT_FALSE(row.time_significant) << "seed " << seed << " " << row.reason_name;
    }
    // The counts did differ: it is the test that says the differences are noise.
    EXPECT_NE(d->rows[1].a.count, d->rows[1].b.count);
  }
}

TEST(DiffNoise, ARealChangeIsSignificant) {
  const auto a = noisy_run(7, kMeans, kSameTimes, "a");
  // B: 10% more io exits, and cpuid (0x72) handled 1.5x slower.
  const auto b = noisy_run(8, {55000, 5000, 500, 50, 5}, {1, 1.5, 1, 1, 1}, "b");
  auto d = model::diff(a, b, {});
  ASSERT_TRUE(d.ok());
  for (const auto& row : d->rows) {
    // The total holds the io rise (+5,000 of 56,000) and cpuid's times.
    const bool total = row.key.kind == DiffKind::total;
    const bool io = row.key.kind == DiffKind::reason && row.key.reason.code == 0x7b;
    const bool cpuid = row.key.kind == DiffKind::reason && row.key.reason.code == 0x72;
    EXPECT_EQ(row.count_significant, io || total) << row.reason_name << " p=" << row.count_p;
    EXPECT_EQ(row.time_significant, cpuid) << row.reason_name;
  }
  // Sorted by the size of the change: io first after the total.
  EXPECT_EQ(d->rows[0].key.kind, DiffKind::total);
  EXPECT_EQ(d->rows[1].key.reason.code, 0x7bu);
}

TEST(DiffNormalisation, PerSecondAndPerUnit) {
  model::DiffInput a, b;
  a.label = "a";
  b.label = "b";
  a.analysis.snapshot.taken_ns = 2'000'000'000;
  b.analysis.snapshot.taken_ns = 4'000'000'000;
  a.analysis.snapshot.exits[model::ExitKey{1, 0, {Level::vmm, Isa::none, 2}}].count = 1000;
  b.analysis.snapshot.exits[model::ExitKey{1, 0, {Level::vmm, Isa::none, 2}}].count = 2000;
  model::DiffOptions o;
  o.normalisation = model::Normalisation::per_second;
  auto d = model::diff(a, b, o);
  ASSERT_TRUE(d.ok());
  const auto& io = d->rows[1];
  EXPECT_EQ(io.reason_name, "KVM_EXIT_IO");
  EXPECT_EQ(io.rate_a, 500);
  EXPECT_EQ(io.rate_b, 500);
  EXPECT_EQ(io.change_pct, 0.0);
  EXPECT_FALSE(io.count_significant);
  o.normalisation = model::Normalisation::per_unit;
  o.per_a = 100;
  o.per_b = 100;
  d = model::diff(a, b, o);
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->rows[1].rate_b, 20);
  EXPECT_EQ(*d->rows[1].change_pct, 100.0);
  EXPECT_TRUE(d->rows[1].count_significant);
  a.analysis.snapshot.taken_ns = 0;
  o.normalisation = model::Normalisation::per_second;
  auto none = model::diff(a, b, o);
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.error().message(),
            "a has no duration to normalise by (compare absolute counts, or per unit of work "
            "(--per-a, --per-b))");
}

TEST(DiffMatch, RowsPerVmByName) {
  model::DiffInput a, b;
  a.label = "a";
  b.label = "b";
  a.analysis.snapshot.vms[10] = {"web", "qemu"};
  a.analysis.snapshot.vms[11] = {"db", "qemu"};
  b.analysis.snapshot.vms[20] = {"web", "qemu"};  // another pid, the same VM
  a.analysis.snapshot.exits[model::ExitKey{10, 0, {Level::vmm, Isa::none, 2}}].count = 5;
  a.analysis.snapshot.exits[model::ExitKey{11, 0, {Level::vmm, Isa::none, 2}}].count = 7;
  b.analysis.snapshot.exits[model::ExitKey{20, 0, {Level::vmm, Isa::none, 2}}].count = 6;
  model::DiffOptions o;
  o.match_name = true;
  auto d = model::diff(a, b, o);
  ASSERT_TRUE(d.ok());
  std::map<std::string, std::pair<std::uint64_t, std::uint64_t>> io;
  for (const auto& row : d->rows)
    if (row.key.kind == DiffKind::reason) io[row.key.vm] = {row.a.count, row.b.count};
  EXPECT_EQ(io["web"], std::make_pair(std::uint64_t{5}, std::uint64_t{6}));
  EXPECT_EQ(io["db"], std::make_pair(std::uint64_t{7}, std::uint64_t{0}));
  EXPECT_EQ(d->notes, std::vector<std::string>{"VM 'db' is only in A (a)"});
}

std::string condition_error(const std::string& text) {
  auto c = model::parse_diff_condition(text);
  return c.ok() ? "(parsed)" : c.error().context;
}

TEST(DiffCondition, ParseErrorsNameTheBadToken) {
  EXPECT_EQ(condition_error("io"), "--fail-if 'io': expected TARGET:CHANGE (no ':' in it)");
  EXPECT_EQ(condition_error("io:10%"),
            "--fail-if 'io:10%': '10%' needs a sign: +N% (a rise) or -N% (a fall)");
  EXPECT_EQ(condition_error("io:+ten%"),
            "--fail-if 'io:+ten%': '+ten%' is not a change: expected +N%, -N% or +N");
  EXPECT_EQ(condition_error("npf.p98:+20%"),
            "--fail-if 'npf.p98:+20%': 'p98' is not a metric (count, p50, p99, mean)");
  EXPECT_EQ(condition_error("sv:0x7b:+1"),
            "--fail-if 'sv:0x7b:+1': 'sv' is not an ISA (vmx, svm, arm64, vmm) or a drill-down "
            "(port, mmio, msr, cpuid, hypercall)");
  EXPECT_EQ(condition_error("svm:0xzz:+1"),
            "--fail-if 'svm:0xzz:+1': '0xzz' is not a number (decimal or 0x hex)");
  EXPECT_EQ(condition_error("io:+5ms"),
            "--fail-if 'io:+5ms': '+5ms': a time unit on a count; use .p50, .p99 or .mean");
  EXPECT_EQ(condition_error("io.p99:+5x"),
            "--fail-if 'io.p99:+5x': 'x' is not a unit: %, or ns, us, ms, s for times");
  EXPECT_EQ(condition_error("i-o:+5%"), "--fail-if 'i-o:+5%': 'i-o' is not a reason name");
  EXPECT_EQ(condition_error(":+5%"), "--fail-if ':+5%': no target before ':'");
  EXPECT_EQ(condition_error("io:"), "--fail-if 'io:': no change after the last ':'");
}

TEST(DiffCondition, ParsesEachTargetKind) {
  auto c = model::parse_diff_condition("svm:0x7b.p99:+20%");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->target, model::DiffCondition::Target::code);
  EXPECT_EQ(c->isa, Isa::svm);
  EXPECT_EQ(c->code, 0x7bu);
  EXPECT_EQ(c->metric, model::DiffCondition::Metric::p99);
  EXPECT_TRUE(c->rise);
  EXPECT_TRUE(c->percent);
  EXPECT_EQ(c->amount, 20);
  c = model::parse_diff_condition("npf.mean:-1.5us");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->target, model::DiffCondition::Target::name);
  EXPECT_FALSE(c->rise);
  EXPECT_FALSE(c->percent);
  EXPECT_EQ(c->amount, 1500);
  c = model::parse_diff_condition("port:0x3f8:+100");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->target, model::DiffCondition::Target::drill);
  EXPECT_EQ(c->value, 0x3f8u);
  c = model::parse_diff_condition("vmm:2:+1000");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->level, Level::vmm);
  EXPECT_EQ(c->code, 2u);
}

TEST(DiffCondition, EvaluatesWithAndWithoutSignificance) {
  const auto a = noisy_run(7, kMeans, kSameTimes, "a");
  const auto b = noisy_run(8, {55000, 5000, 500, 50, 5}, {1, 1.5, 1, 1, 1}, "b");
  auto d = model::diff(a, b, {});
  ASSERT_TRUE(d.ok());
  auto holds = [&](const std::string& text, bool require) {
    auto c = model::parse_diff_condition(text);
    EXPECT_TRUE(c.ok()) << text;
    auto o = model::evaluate(*c, *d, require);
    EXPECT_TRUE(o.ok()) << text;
    return o.ok() && o->holds;
  };
  EXPECT_TRUE(holds("io:+5%", true));
  EXPECT_TRUE(holds("IO:+5%", true));  // any case
  EXPECT_TRUE(holds("svm:0x7b:+4000", true));
  EXPECT_FALSE(holds("io:+15%", true));  // not that much
  EXPECT_FALSE(holds("io:-5%", true));   // not that way
  EXPECT_TRUE(holds("cpuid.mean:+20%", true));
  EXPECT_TRUE(holds("svm:0x72.p99:+20%", true));
  EXPECT_FALSE(holds("cpuid.mean:+80%", true));
  EXPECT_TRUE(holds("total:+5%", true));  // 61,000 over 56,000 exits
  // hlt (0x78): noise only; on the numbers alone a +0% change can hold, never significantly.
  auto c = model::parse_diff_condition("hlt:+0%");
  ASSERT_TRUE(c.ok());
  auto sig = model::evaluate(*c, *d, true);
  ASSERT_TRUE(sig.ok());
  auto raw = model::evaluate(*c, *d, false);
  ASSERT_TRUE(raw.ok());
  EXPECT_EQ(raw->threshold, raw->holds);
  EXPECT_FALSE(sig->holds);
  auto none = model::evaluate(*model::parse_diff_condition("iio:+5%"), *d, true);
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.error().context, "--fail-if 'iio:+5%': matches no row of either run");
}

// A: the sample recording. B: the same boot without the MMIO burst, its CPUID exits handled in
// 3 us instead of 1.2 us.
model::DiffInput sample_input(bool changed) {
  std::vector<ks_event> events = testing::sample_events();
  if (changed) {
    std::vector<ks_event> kept;
    for (ks_event e : events) {
      const bool burst = e.vcpu == 1 && e.type != KS_EV_PROCESS_EXIT &&
                         ((e.type == KS_EV_EXIT && e.a == 0x400) || e.type == KS_EV_MMIO ||
                          (e.type == KS_EV_ENTRY && (e.ts_ns / 1000) % 1000 >= 700));
      if (burst) continue;
      if (e.type == KS_EV_ENTRY && e.vcpu == 0 && e.ts_ns % 1'000'000 == 1200) e.ts_ns += 1800;
      kept.push_back(e);
    }
    events = std::move(kept);
  }
  model::RecordingAnalysis analysis(testing::sample_options());
  analysis.add(events);
  model::DiffInput in;
  in.label = changed ? "after.kvms" : "before.kvms";
  in.source = "kvmscope recording";
  in.target = "command: qemu-system-x86_64";
  in.analysis = analysis.finish();
  return in;
}

std::string render(void (*fn)(const report::DiffReport&, std::ostream&), const model::DiffInput& a,
                   const model::DiffInput& b, model::DiffOptions o = {}) {
  auto d = model::diff(a, b, o);
  EXPECT_TRUE(d.ok());
  std::vector<model::DiffCondition> conditions = {*model::parse_diff_condition("total:-5%"),
                                                  *model::parse_diff_condition("cpuid.p50:+50%")};
  report::DiffReport r{*d, a, b, {}, true, 20};
  for (const auto& c : conditions) r.conditions.push_back(*model::evaluate(c, *d, true));
  std::ostringstream out;
  fn(r, out);
  return out.str();
}

// The golden file's text must equal `actual`. KS_WRITE_GOLDEN=1 writes `actual` there instead (to
// regenerate after a deliberate change: review the diff of the fixture before committing it).
void expect_golden(const std::string& actual, const std::string& rel) {
  if (const char* w = std::getenv("KS_WRITE_GOLDEN"); w && std::string(w) == "1") {
    std::ofstream(testing::fixture_path(rel)) << actual;
    return;
  }
  EXPECT_EQ(actual, testing::read_fixture(rel));
}

TEST(DiffRender, GoldenText) {
  const auto a = sample_input(false), b = sample_input(true);
  expect_golden(render(report::render_diff_text, a, b), "diff/sample.expected.txt");
}

TEST(DiffRender, GoldenJson) {
  const auto a = sample_input(false), b = sample_input(true);
  expect_golden(render(report::render_diff_json, a, b), "diff/sample.expected.json");
}

TEST(DiffRender, GoldenCsvPerSecond) {
  const auto a = sample_input(false), b = sample_input(true);
  model::DiffOptions o;
  o.normalisation = model::Normalisation::per_second;
  expect_golden(render(report::render_diff_csv, a, b, o), "diff/sample.per-second.expected.csv");
}

TEST(DiffRender, HtmlHasBarsAndBothTimelines) {
  const auto a = sample_input(false), b = sample_input(true);
  const std::string html = render(report::render_diff_html, a, b);
  EXPECT_NE(html.find("<h3>A: before.kvms</h3>\n<svg"), std::string::npos);
  EXPECT_NE(html.find("<h3>B: after.kvms</h3>\n<svg"), std::string::npos);
  EXPECT_NE(html.find("<div class=\"bar a\" style=\"width:100.0%\"></div>"), std::string::npos);
  EXPECT_NE(html.find("<li>total:-5%: <b class=sig>holds</b></li>"), std::string::npos);
}

// A report --json document read back: the same rows as the analysis it was written from.
TEST(DiffJsonInput, ReportDocumentReadsBackAsTheAnalysis) {
  const auto a = sample_input(false);
  report::ReportOptions ro;
  ro.drilldowns.assign(std::begin(model::kDrillKinds), std::end(model::kDrillKinds));
  std::ostringstream json;
  report::render_report_json(a.analysis, a.catalog, ro, json);
  auto back = report::diff_input_from_json(json.str(), "a.json");
  ASSERT_TRUE(back.ok()) << back.error().message();
  EXPECT_EQ(back->source, "kvmscope.report/1");
  auto d = model::diff(a, *back, {});
  ASSERT_TRUE(d.ok());
  for (const auto& row : d->rows) {
    EXPECT_EQ(row.a.count, row.b.count) << row.reason_name;
    EXPECT_EQ(row.a.time_ns, row.b.time_ns) << row.reason_name;
    EXPECT_EQ(row.count_p, 1.0);
    // Exit rows carry their histogram (the recording's side has its events: the report's own
    // percentiles; the document's side the histogram's bound, as stat prints it); drill-down
    // rows have none in the document.
    if (row.a.timed == 0) continue;
    if (row.key.kind == DiffKind::drill) {
      EXPECT_EQ(model::diff_p99_ns(row.b), std::nullopt);
    } else {
      EXPECT_EQ(model::diff_p99_ns(row.b),
                std::min(row.a.hist.log2_quantile_upper_bound(0.99), row.a.max_ns))
          << row.reason_name;
    }
    if (row.key.kind != DiffKind::drill) {
      EXPECT_EQ(model::diff_p99_ns(row.a), row.a.sketch.quantile(0.99)) << row.reason_name;
    }
  }
  EXPECT_EQ(back->analysis.timeline.buckets(), a.analysis.timeline.buckets());
}

TEST(DiffJsonInput, RefusesOtherDocuments) {
  auto other = report::diff_input_from_json(R"({"schema": "kvmscope.diff/1"})", "d.json");
  ASSERT_FALSE(other.ok());
  EXPECT_EQ(other.error().message(),
            "d.json: a JSON document of schema 'kvmscope.diff/1', not kvmscope.stat/1 or "
            "kvmscope.report/1");
  auto broken = report::diff_input_from_json("{\"schema\": ", "b.json");
  ASSERT_FALSE(broken.ok());
  EXPECT_EQ(broken.error().message(), "b.json: JSON: offset 11: unexpected end");
}

}  // namespace
}  // namespace kvmscope
