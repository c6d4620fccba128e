// The HTML report page without a browser: self-contained (nothing fetched from the network, no
// external file), carrying the report's JSON as data, Chart.js and the page script, and safe
// against names that try to close its <script> elements. tests/browser/ renders it for real.
#include <gtest/gtest.h>

#include <regex>
#include <sstream>
#include <string>

#include "report/html.h"
#include "report/report.h"
#include "support/mini_json.h"
#include "support/tiny_recording.h"

namespace kvmscope::report {
namespace {

constexpr const char* kInjection = "</script><script>alert(1)</script><!--";

ReportOptions options() {
  ReportOptions o;
  o.drilldowns = {model::DrillKind::port, model::DrillKind::cpuid};
  o.target = std::string("command: qemu ") + kInjection;
  return o;
}

std::string page(model::RecordingAnalysisResult a = testing::tiny_analysis(),
                 const ReportOptions& o = options()) {
  std::ostringstream out;
  render_report_html(a, model::ReasonCatalog::builtin(), o, out);
  return out.str();
}

std::size_t count(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (std::size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

// The text of the <script type="application/json" id="kvmscope-data"> element.
std::string data_of(const std::string& html) {
  const std::string open = "<script type=\"application/json\" id=\"kvmscope-data\">";
  const std::size_t begin = html.find(open);
  if (begin == std::string::npos) return {};
  const std::size_t from = begin + open.size();
  return html.substr(from, html.find("</script>", from) - from);
}

TEST(HtmlReport, is_self_contained) {
  const std::string html = page();
  // Nothing is loaded from anywhere: no src or href attribute at all, no <link>, no @import.
  EXPECT_FALSE(std::regex_search(html, std::regex(R"(\s(src|href)\s*=)", std::regex::icase)));
  EXPECT_FALSE(std::regex_search(html, std::regex(R"(<link\b)", std::regex::icase)));
  EXPECT_EQ(html.find("@import"), std::string::npos);
  EXPECT_FALSE(
      std::regex_search(html, std::regex(R"((src|href)\s*=\s*["']?https?:)", std::regex::icase)));
  EXPECT_EQ(html.rfind("<!DOCTYPE html>", 0), 0u);
  EXPECT_NE(html.find("</html>\n"), std::string::npos);
}

TEST(HtmlReport, embeds_chartjs_and_the_page_script) {
  const std::string html = page();
  EXPECT_NE(html.find("Chart.js v"), std::string::npos);      // the library's banner
  EXPECT_NE(html.find("kvmscopeMarker"), std::string::npos);  // report.js's plugin
  EXPECT_NE(html.find("id=\"kvmscope-status\" data-state=\"pending\""), std::string::npos);
  for (const char* container : {"charts-timeline", "charts-histograms", "charts-drilldowns"})
    EXPECT_NE(html.find(std::string("<div id=\"") + container + "\"></div>"), std::string::npos)
        << container;
}

// The status line is the browser test's (tests/browser/check-html-report.sh): in the DOM with
// its data-state, but not shown to the reader, by the hidden attribute and by the style sheet.
TEST(HtmlReport, keeps_the_test_status_line_hidden_from_the_reader) {
  const std::string html = page();
  ASSERT_EQ(count(html, "id=\"kvmscope-status\""), 1u);
  EXPECT_TRUE(
      std::regex_search(html, std::regex(R"(<div id="kvmscope-status"[^>]*\shidden[\s>])")));
  EXPECT_NE(html.find("#kvmscope-status { display: none; }"), std::string::npos);
  // No other rule gives it a display back.
  EXPECT_EQ(count(html, "#kvmscope-status {"), 1u);
  // Without JavaScript the reader is told why there are no charts.
  EXPECT_NE(html.find("<noscript><p class=\"note\">The charts need JavaScript.</p></noscript>"),
            std::string::npos);
}

TEST(HtmlReport, carries_the_report_json_as_its_data) {
  const testing::Json doc = testing::Json::parse(data_of(page()));
  EXPECT_EQ(doc["schema"].str(), "kvmscope.report/1");
  EXPECT_EQ(doc["totals"]["hardware"].u64(), 40u);
  EXPECT_EQ(doc["timeline"]["series"].items.size(), 3u);
  EXPECT_EQ(doc["drilldowns"].items.at(0)["kind"].str(), "port");
  EXPECT_EQ(doc["drilldowns"].items.at(1)["kind"].str(), "cpuid");
  // The target went through the data unchanged, '<' escaped as \u003c.
  EXPECT_EQ(doc["target"].str(), std::string("command: qemu ") + kInjection);
}

TEST(HtmlReport, a_name_cannot_close_a_script_element) {
  auto a = testing::tiny_analysis();
  a.snapshot.vms[7].name = kInjection;
  const std::string html = page(a);
  // Four <script> elements (error capture, Chart.js, data, page script), four ends.
  EXPECT_EQ(count(html, "<script"), 4u);
  EXPECT_EQ(count(html, "</script>"), 4u);
  EXPECT_EQ(count(html, "<!--"), 0u);
  EXPECT_EQ(html.find(kInjection), std::string::npos);
  EXPECT_NE(html.find("&lt;/script&gt;&lt;script&gt;alert(1)"), std::string::npos);  // in tables
}

TEST(HtmlReport, has_the_tables_without_javascript) {
  const std::string html = page();
  EXPECT_NE(html.find("<td class=\"l\">cpuid</td><td>0x72</td><td>10</td>"), std::string::npos);
  EXPECT_NE(html.find("<h2>Rate stability</h2>"), std::string::npos);
  EXPECT_NE(html.find("<h2>Bursts</h2>"), std::string::npos);
  EXPECT_NE(html.find("<td class=\"l\">kernel</td>"), std::string::npos);  // a boot phase
  EXPECT_NE(html.find("<td class=\"l\">0x80</td><td class=\"l\">out, 1 byte</td>"),
            std::string::npos);
}

TEST(HtmlReport, shows_the_percentiles_from_the_events_and_says_how) {
  const std::string html = page();
  EXPECT_NE(html.find("<p class=\"meta\">percentiles: exact (p50, p90, p99, p99.9: nearest rank "
                      "over every measured handling time)</p>"),
            std::string::npos);
  EXPECT_NE(html.find("<th>p50</th><th>p90</th><th>p99</th><th>p99.9</th><th>max</th>"),
            std::string::npos);
  EXPECT_EQ(html.find("log2 histogram bucket"), std::string::npos);
  // The CDF charts' data: one series per timed reason, the handling time at each quantile.
  const testing::Json doc = testing::Json::parse(data_of(html));
  const testing::Json& series = doc["handling_time"]["series"];
  ASSERT_EQ(series.items.size(), 2u);  // io and cpuid; KVM_EXIT_SHUTDOWN was never timed
  EXPECT_EQ(series.items[0]["reason"].str(), "io");
  EXPECT_EQ(series.items[0]["ns"].items.at(50).u64(), 2000u);
  EXPECT_NE(html.find("function cdfChart"), std::string::npos);
}

TEST(HtmlReport, an_empty_recording_still_makes_a_page) {
  const std::string html = page(model::RecordingAnalysis().finish(), {});
  EXPECT_NE(html.find("No KVM exits were recorded."), std::string::npos);
  EXPECT_EQ(testing::Json::parse(data_of(html))["exits"].items.size(), 0u);
}

TEST(Html, escapes_text_and_makes_json_script_safe) {
  EXPECT_EQ(html_escape("a<b>&\"'"), "a&lt;b&gt;&amp;&quot;&#39;");
  EXPECT_EQ(script_safe_json(R"({"x": "</script>"})"), R"({"x": "\u003c/script>"})");
}

}  // namespace
}  // namespace kvmscope::report
