// One readout of `kvmscope serve`: the collector's counters, folded into bounded series and
// rendered as the Prometheus page the HTTP server hands out. Ended VMs past their grace are
// freed in the kernel here too. What it reads is an interface (the cli adapts the BPF
// collector to it), so serve/ does not depend on collect/ and the readout runs in the unit tests
// on made-up counters.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "model/drilldown.h"
#include "model/snapshot.h"
#include "serve/metrics_server.h"
#include "serve/prometheus.h"
#include "serve/prometheus_series.h"
#include "util/result.h"

namespace kvmscope::serve {

// What a readout reads.
class CounterSource {
 public:
  virtual ~CounterSource() = default;
  // Every exit counter, the VMs in it named.
  virtual util::Result<model::Snapshot> snapshot() = 0;
  // The drill-down counters (ports, MSRs...), per VM.
  virtual util::Result<model::DrillDown> drilldown() = 0;
  // Frees the counters of VMs whose series were dropped.
  virtual util::Result<void> forget_vms(std::span<const std::uint32_t> pids) = 0;
  // Run time and runs of the BPF programs; nullopt where they cannot be read.
  struct ProgramStats {
    bool enabled = false;  // kernel.bpf_stats_enabled
    std::vector<PrometheusPage::BpfProgram> programs;
  };
  virtual std::optional<ProgramStats> program_stats() = 0;
};

class Readout {
 public:
  // drills: read the drill-down counters too; version: kvmscope's, for kvmscope_build_info;
  // timed: false where the collector times nothing (--counts-only): the page then leaves the
  // handling-time histogram out.
  Readout(CounterSource& counters, serve::PrometheusSeries& series, bool drills,
          std::string version, bool timed = true)
      : c_(counters),
        series_(series),
        drills_(drills),
        timed_(timed),
        version_(std::move(version)) {}

  // The page, gzipped too when `compress`.
  util::Result<std::shared_ptr<Page>> operator()(bool compress);

 private:
  CounterSource& c_;
  serve::PrometheusSeries& series_;
  bool drills_;
  bool timed_;
  std::string version_;
};

}  // namespace kvmscope::serve
