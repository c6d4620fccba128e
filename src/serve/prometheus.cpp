#include "serve/prometheus.h"

#include <algorithm>
#include <string>

#include "util/strings.h"

namespace kvmscope::serve {

namespace {

// HELP text: only backslash and newline are escaped there.
std::string help_text(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '\n')
      out += "\\n";
    else
      out += c;
  }
  return out;
}

// Writes families and samples; label sets are built as `name="value",...` strings.
class Writer {
 public:
  explicit Writer(std::ostream& out) : out_(out) {}

  void family(std::string_view name, std::string_view type, std::string_view help) {
    out_ << "# HELP " << name << ' ' << help_text(help) << '\n';
    out_ << "# TYPE " << name << ' ' << type << '\n';
  }
  void sample(std::string_view name, const std::string& labels, std::string_view value) {
    out_ << name;
    if (!labels.empty()) out_ << '{' << labels << '}';
    out_ << ' ' << value << '\n';
  }
  void sample(std::string_view name, const std::string& labels, std::uint64_t value) {
    sample(name, labels, std::to_string(value));
  }

 private:
  std::ostream& out_;
};

void add_label(std::string& labels, std::string_view name, std::string_view value) {
  if (!labels.empty()) labels += ',';
  labels += name;
  labels += "=\"";
  labels += prom_label_value(value);
  labels += '"';
}

std::string vm_labels(const PrometheusPage& page, std::size_t vm) {
  std::string labels;
  add_label(labels, "vm", page.vms.at(vm).name);
  add_label(labels, "vm_pid", page.vms.at(vm).pid);
  return labels;
}

void add_reason(std::string& labels, const PromReasonLabels& r) {
  add_label(labels, "level", r.level);
  add_label(labels, "isa", r.isa);
  add_label(labels, "reason", r.reason);
  add_label(labels, "code", r.code);
}

void render_exits(const PrometheusPage& page, Writer& w) {
  static constexpr std::string_view kName = "kvmscope_exits_total";
  w.family(kName, "counter",
           "VM exits, per VM, vCPU and reason. level=\"hardware\": kvm:kvm_exit (the CPU left the "
           "guest); level=\"vmm\": kvm:kvm_userspace_exit (KVM_RUN returned to the VMM).");
  for (const auto& e : page.exits) {
    std::string labels = vm_labels(page, e.vm);
    add_label(labels, "vcpu", e.vcpu);
    add_reason(labels, e.reason);
    w.sample(kName, labels, e.count);
  }
}

void render_handling(const PrometheusPage& page, Writer& w) {
  w.family("kvmscope_exit_handling_timed", "gauge",
           "1 when exit handling times are measured and exported as "
           "kvmscope_exit_handling_seconds; 0 under --counts-only: exits are counted, none is "
           "timed, and that histogram is left out (absent, not zero).");
  w.sample("kvmscope_exit_handling_timed", "", page.handling_timed ? 1 : 0);
  if (!page.handling_timed) return;
  w.family("kvmscope_exit_handling_seconds", "histogram",
           "Time KVM (level=\"hardware\": exit to next entry) or the VMM (level=\"vmm\": exit to "
           "next KVM_RUN) took to handle an exit, per VM and reason; buckets are half-octaves "
           "(1.5 x 2^k and 2^(k+1) ns), each exact.");
  static const std::vector<std::size_t> bucket_slots = prom_bucket_slots();
  for (const auto& h : page.handling) {
    std::string labels = vm_labels(page, h.vm);
    add_reason(labels, h.reason);
    std::uint64_t cumulative = 0;
    std::size_t slot = 0;
    for (std::size_t bound : bucket_slots) {
      for (; slot <= bound; ++slot) cumulative += h.stats.hist.slots[slot];
      std::string le = labels;
      add_label(le, "le", prom_seconds(model::Histogram::slot_upper_bound(bound)));
      w.sample("kvmscope_exit_handling_seconds_bucket", le, cumulative);
    }
    // +Inf is the number of observations. The kernel adds to `timed` just before the slot, so
    // a readout in between sees one more in the slots: +Inf must never be below a bucket.
    const std::uint64_t observations = std::max(h.stats.timed, h.stats.hist.total());
    std::string inf = labels;
    add_label(inf, "le", "+Inf");
    w.sample("kvmscope_exit_handling_seconds_bucket", inf, observations);
    w.sample("kvmscope_exit_handling_seconds_sum", labels, prom_seconds(h.stats.time_ns));
    w.sample("kvmscope_exit_handling_seconds_count", labels, observations);
  }
}

void render_drills(const PrometheusPage& page, Writer& w) {
  w.family("kvmscope_pio_total", "counter",
           "Port I/O accesses (kvm:kvm_pio), per VM, port, direction and access size in bytes.");
  for (const auto& p : page.ports) {
    std::string labels = vm_labels(page, p.vm);
    add_label(labels, "port", p.port);
    add_label(labels, "direction", p.direction);
    add_label(labels, "size", p.size);
    w.sample("kvmscope_pio_total", labels, p.count);
  }
  w.family("kvmscope_msr_total", "counter",
           "MSR accesses KVM handled (kvm:kvm_msr), per VM, MSR index and access (read, write; "
           "_fault: a #GP was injected).");
  for (const auto& m : page.msrs) {
    std::string labels = vm_labels(page, m.vm);
    add_label(labels, "msr", m.msr);
    add_label(labels, "access", m.access);
    w.sample("kvmscope_msr_total", labels, m.count);
  }
}

void render_health(const PrometheusPage& page, Writer& w) {
  const auto counter = [&](std::string_view name, std::string_view help, std::uint64_t v) {
    w.family(name, "counter", help);
    w.sample(name, "", v);
  };
  counter("kvmscope_collector_exits_not_stored_total",
          "Exits (and drill-down events) counted but not attributed: a BPF map was full "
          "(raise --max-entries).",
          page.health.exits_not_stored);
  counter("kvmscope_collector_events_lost_total", "Events the BPF ring buffer could not take.",
          page.health.events_lost);
  counter("kvmscope_collector_threads_not_stored_total",
          "Exits whose handling time could not be measured: the thread map was full.",
          page.health.threads_not_stored);
  counter("kvmscope_collector_targets_not_stored_total",
          "Forked children of traced processes the BPF filter could not follow.",
          page.health.targets_not_stored);

  w.family("kvmscope_bpf_stats_enabled", "gauge",
           "1 when kernel.bpf_stats_enabled is on and the BPF program run times below are "
           "counted.");
  w.sample("kvmscope_bpf_stats_enabled", "", page.bpf_stats_enabled ? 1 : 0);
  if (page.bpf_stats_enabled) {
    w.family("kvmscope_bpf_program_run_seconds_total", "counter",
             "Time the kernel spent in each of kvmscope's BPF programs (while "
             "kernel.bpf_stats_enabled is on).");
    for (const auto& p : page.bpf_programs) {
      std::string labels;
      add_label(labels, "program", p.name);
      w.sample("kvmscope_bpf_program_run_seconds_total", labels, prom_seconds(p.run_time_ns));
    }
    w.family("kvmscope_bpf_program_runs_total", "counter",
             "Runs of each of kvmscope's BPF programs (while kernel.bpf_stats_enabled is on).");
    for (const auto& p : page.bpf_programs) {
      std::string labels;
      add_label(labels, "program", p.name);
      w.sample("kvmscope_bpf_program_runs_total", labels, p.run_count);
    }
  }
}

void render_self(const PrometheusPage& page, Writer& w) {
  w.family("kvmscope_vms", "gauge",
           "VMs with their own series: state=\"running\", or \"ended\" and kept until the grace "
           "period (--grace) is over.");
  w.sample("kvmscope_vms", "state=\"running\"", page.vms_running);
  w.sample("kvmscope_vms", "state=\"ended\"", page.vms_ended);
  w.family("kvmscope_label_overflow_values", "gauge",
           "Distinct values of a label folded into the value \"other\" by the label limits "
           "(--max-vms, --max-vcpus, --max-reasons, --max-ports, --max-msrs).");
  for (const auto& o : page.overflows) {
    std::string labels;
    add_label(labels, "label", o.label);
    w.sample("kvmscope_label_overflow_values", labels, o.values);
  }
  w.family("kvmscope_readout_duration_seconds", "gauge",
           "Time the last readout took: reading the BPF maps and building this page. Scrapes "
           "are served from memory; Prometheus' own scrape_duration_seconds covers the HTTP "
           "part.");
  w.sample("kvmscope_readout_duration_seconds", "", prom_seconds(page.readout_ns));
  w.family("kvmscope_readout_timestamp_seconds", "gauge",
           "Unix time of the readout this page shows (at most --interval old while kvmscope "
           "is healthy).");
  w.sample("kvmscope_readout_timestamp_seconds", "", prom_seconds(page.readout_unix_ns));
  w.family("kvmscope_build_info", "gauge", "kvmscope's version; the value is always 1.");
  std::string labels;
  add_label(labels, "version", page.version);
  w.sample("kvmscope_build_info", labels, 1);
}

}  // namespace

std::string prom_label_value(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  std::size_t i = 0;
  while (i < text.size()) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c >= 0x80) {
      const std::size_t n = util::utf8_sequence_length(text, i);
      if (n == 0) {
        out += "\xef\xbf\xbd";  // U+FFFD
        ++i;
      } else {
        out.append(text.substr(i, n));
        i += n;
      }
      continue;
    }
    if (c == '\\')
      out += "\\\\";
    else if (c == '"')
      out += "\\\"";
    else if (c == '\n')
      out += "\\n";
    else
      out += static_cast<char>(c);
    ++i;
  }
  return out;
}

std::vector<std::size_t> prom_bucket_slots() {
  // The slot of [2^k + j * 2^(k-3), ...) is (k - 2) * 8 + j: j = 3 ends at 1.5 x 2^k - 1, j = 7 at
  // 2^(k+1) - 1.
  static_assert(KS_HIST_SUB == 8 && kPromLastLog2 <= KS_HIST_TOP_LOG2);
  std::vector<std::size_t> slots;
  for (std::size_t k = kPromFirstLog2; k <= kPromLastLog2; ++k) {
    slots.push_back((k - 2) * KS_HIST_SUB + 3);
    slots.push_back((k - 2) * KS_HIST_SUB + 7);
  }
  return slots;
}

std::string prom_seconds(std::uint64_t ns) {
  std::string out = std::to_string(ns / 1000000000u);
  std::string frac = std::to_string(ns % 1000000000u);
  if (frac == "0") return out;
  frac.insert(0, 9 - frac.size(), '0');
  while (frac.back() == '0') frac.pop_back();
  return out + "." + frac;
}

void render_prometheus(const PrometheusPage& page, std::ostream& out) {
  Writer w(out);
  render_exits(page, w);
  render_handling(page, w);
  render_drills(page, w);
  render_health(page, w);
  render_self(page, w);
}

}  // namespace kvmscope::serve
