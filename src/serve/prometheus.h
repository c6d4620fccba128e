// The Prometheus text exposition format (version 0.0.4) of what kvmscope counts. A pure
// function from a page of already bounded series to text, so it is tested against golden text;
// which series exist (label limits, ended VMs) is decided by PrometheusSeries
// (serve/prometheus_series.h).
#pragma once

#include <cstddef>
#include <cstdint>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "model/exit_stats.h"
#include "model/histogram.h"
#include "model/snapshot.h"

namespace kvmscope::serve {

// The label value of whatever a limit folded together: vm="other", reason="other", ...
inline constexpr std::string_view kPromOther = "other";

// The labels of one exit reason: level="vmm", isa="none", reason="KVM_EXIT_IO", code="2".
struct PromReasonLabels {
  std::string level, isa, reason, code;
  auto operator<=>(const PromReasonLabels&) const = default;
};

struct PrometheusPage {
  struct Vm {
    std::string name;  // label vm: QEMU's -name, libvirt's domain, else the process name
    std::string pid;   // label vm_pid
  };
  struct Exits {         // kvmscope_exits_total
    std::size_t vm = 0;  // index into vms
    std::string vcpu;
    PromReasonLabels reason;
    std::uint64_t count = 0;
  };
  struct HandlingTime {  // kvmscope_exit_handling_seconds, summed over the VM's vCPUs
    std::size_t vm = 0;
    PromReasonLabels reason;
    model::ExitStats stats;  // timed = observations, time_ns = sum, hist = buckets
  };
  struct Port {  // kvmscope_pio_total
    std::size_t vm = 0;
    std::string port, direction, size;
    std::uint64_t count = 0;
  };
  struct Msr {  // kvmscope_msr_total
    std::size_t vm = 0;
    std::string msr, access;
    std::uint64_t count = 0;
  };
  struct BpfProgram {
    std::string name;
    std::uint64_t run_time_ns = 0;
    std::uint64_t run_count = 0;
  };
  struct Overflow {  // kvmscope_label_overflow_values{label=...}
    std::string label;
    std::uint64_t values = 0;
  };

  std::string version;
  // false under --counts-only: nothing is timed, so kvmscope_exit_handling_seconds is left out
  // (its series would all read 0 and look like instant handling); kvmscope_exit_handling_timed
  // says which.
  bool handling_timed = true;
  std::vector<Vm> vms;
  std::vector<Exits> exits;
  std::vector<HandlingTime> handling;
  std::vector<Port> ports;
  std::vector<Msr> msrs;
  std::uint64_t vms_running = 0;  // VMs with their own series, still running
  std::uint64_t vms_ended = 0;    // ... ended, kept until their grace period is over
  std::vector<Overflow> overflows;
  model::CollectorHealth health;
  bool bpf_stats_enabled = false;        // kernel.bpf_stats_enabled
  std::vector<BpfProgram> bpf_programs;  // rendered only when enabled
  std::uint64_t readout_ns = 0;          // reading the maps and building this page
  std::uint64_t readout_unix_ns = 0;     // wall clock at the readout
};

// The histogram's buckets: two per power of two [2^k, 2^(k+1)) for k = kPromFirstLog2 ..
// kPromLastLog2, le = 1.5 x 2^k - 1 and 2^(k+1) - 1 ns (191 ns, 255 ns, 383 ns ... 8.59 s), then
// +Inf: half-octaves, classic buckets (native histograms need Prometheus' feature flag and the
// protobuf format, which Debian bookworm's 2.42 does not scrape by default). Both bounds are
// bounds of the kernel's slots (model::Histogram), so every bucket is exact. Times below the
// first bound fall into the first bucket, times above the last only into +Inf.
inline constexpr std::size_t kPromFirstLog2 = 7;
inline constexpr std::size_t kPromLastLog2 = 32;
// The histogram slots whose upper bounds are the buckets' le, in order.
std::vector<std::size_t> prom_bucket_slots();

void render_prometheus(const PrometheusPage& page, std::ostream& out);

// A label value as it goes between the quotes: backslash, double quote and newline escaped;
// bytes that are not valid UTF-8 become U+FFFD (Prometheus rejects invalid UTF-8).
std::string prom_label_value(std::string_view text);

// Nanoseconds as exact decimal seconds, no float rounding: 255 -> "0.000000255", 2e9 -> "2".
std::string prom_seconds(std::uint64_t ns);

inline constexpr std::string_view kPromContentType = "text/plain; version=0.0.4; charset=utf-8";

}  // namespace kvmscope::serve
