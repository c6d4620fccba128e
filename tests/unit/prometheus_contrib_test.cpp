// contrib/ stays in step with what `serve` exports: every kvmscope_* metric the Grafana dashboard
// and the alert rules use is one the renderer writes, and promtool accepts the rules and the
// scrape configuration (where Debian's prometheus package is installed).
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <string>

#include "serve/prometheus.h"
#include "support/mini_json.h"

namespace kvmscope::serve {
namespace {

using testing::Json;

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The metric names a page can hold: every family, histograms with their three series.
std::set<std::string> served_metrics() {
  PrometheusPage page;
  page.bpf_stats_enabled = true;
  std::ostringstream out;
  render_prometheus(page, out);
  std::set<std::string> names;
  std::istringstream in(out.str());
  const std::regex type(R"(^# TYPE (\S+) (\S+)$)");
  std::smatch m;
  for (std::string line; std::getline(in, line);) {
    if (!std::regex_match(line, m, type)) continue;
    names.insert(m[1]);
    if (m[2] == "histogram")
      for (const char* suffix : {"_bucket", "_sum", "_count"}) names.insert(m[1].str() + suffix);
  }
  return names;
}

std::set<std::string> kvmscope_names_in(const std::string& text) {
  std::set<std::string> names;
  const std::regex name(R"(kvmscope_[a-z_]+)");
  for (auto it = std::sregex_iterator(text.begin(), text.end(), name); it != std::sregex_iterator();
       ++it)
    names.insert(it->str());
  return names;
}

void collect_exprs(const Json& v, std::vector<std::string>& out) {
  if (v.kind == Json::Kind::object) {
    for (const auto& [key, field] : v.fields) {
      if (key == "expr" && field.kind == Json::Kind::string) out.push_back(field.str());
      collect_exprs(field, out);
    }
  } else if (v.kind == Json::Kind::array) {
    for (const auto& item : v.items) collect_exprs(item, out);
  }
}

TEST(PrometheusContrib, dashboard_queries_use_only_metrics_serve_exports) {
  const Json dash = Json::parse(slurp(KS_SOURCE_DIR "/contrib/grafana/kvmscope-dashboard.json"));
  std::vector<std::string> exprs;
  collect_exprs(dash, exprs);
  ASSERT_GE(exprs.size(), 10u);
  const auto served = served_metrics();
  std::set<std::string> used;
  for (const auto& e : exprs)
    for (const auto& n : kvmscope_names_in(e)) used.insert(n);
  for (const auto& n : used) EXPECT_TRUE(served.count(n)) << n << " is not exported by serve";
  // The panels the dashboard promises: rates per VM and reason, the histogram, health.
  for (const char* n :
       {"kvmscope_exits_total", "kvmscope_exit_handling_seconds_bucket",
        "kvmscope_collector_exits_not_stored_total", "kvmscope_collector_events_lost_total"})
    EXPECT_TRUE(used.count(n)) << n;
}

TEST(PrometheusContrib, alert_rules_use_only_metrics_serve_exports) {
  const auto served = served_metrics();
  const auto used =
      kvmscope_names_in(slurp(KS_SOURCE_DIR "/contrib/prometheus/kvmscope-alerts.yml"));
  ASSERT_FALSE(used.empty());
  for (const auto& n : used) EXPECT_TRUE(served.count(n)) << n;
}

TEST(PrometheusContrib, alert_rules_and_scrape_config_pass_promtool) {
  if (std::system("command -v promtool >/dev/null 2>&1") != 0)
    GTEST_SKIP() << "promtool is not installed (Debian package prometheus)";
  // check config also checks the rule files it names (relative to the config).
  const std::string command =
      "promtool check config " KS_SOURCE_DIR "/contrib/prometheus/kvmscope.yml 2>&1";
  std::string output;
  FILE* pipe = popen(command.c_str(), "r");
  ASSERT_NE(pipe, nullptr);
  char buf[512];
  while (fgets(buf, sizeof buf, pipe)) output += buf;
  EXPECT_EQ(pclose(pipe), 0) << output;
  EXPECT_NE(output.find("SUCCESS: 4 rules found"), std::string::npos) << output;
}

}  // namespace
}  // namespace kvmscope::serve
