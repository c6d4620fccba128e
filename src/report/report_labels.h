// Words and numbers shared by the report renderers (text, CSV, JSON, HTML), so every output
// names a drill-down row, a phase or a time the same way.
#pragma once

#include <cstdint>
#include <string>

#include "model/boot.h"
#include "model/drilldown.h"

namespace kvmscope::report {

// The drill-down row's value: ports, addresses, MSR indexes and CPUID leaves in hex ("0x3f8"),
// hypercall numbers in decimal. "other" for the row past the per-kind key cap.
std::string drill_value_text(const model::DrillKey& key);
// What qualifies the value: "out, 1 byte", "write", "unsatisfied-read" (the kernel's kvm_mmio
// word for a read sent to the VMM), "read, fault", a hypercall's KVM_HC_* name; else "".
std::string drill_detail_text(const model::DrillKey& key);
// Column header of the value: "port", "gpa", "msr", "leaf", "nr".
const char* drill_value_header(model::DrillKind kind);
// Section title: "Port I/O (kvm:kvm_pio) by port, direction and size".
std::string drill_title(model::DrillKind kind);

// Seconds with millisecond digits: "12.345 s". For times on the report's own axis.
std::string seconds_text(std::uint64_t ns);
// Seconds as a plain decimal for CSV and JSON (no unit, exact): "12.345".
std::string seconds_number(std::uint64_t ns);

// A non-negative value with three significant digits below 100 ("0.25", "42.5"), whole and
// grouped above ("3,115"), like format_rate.
std::string format_decimal(double value);
// A ratio with two decimals ("0.40"), for coefficients of variation.
std::string format_ratio(double value);
// A double for CSV/JSON: the shortest text that reads back the same ("0.4", "5", "1e+20");
// "0" for NaN or infinity, which JSON cannot hold.
std::string number_text(double value);

const char* boot_start_text(model::BootStart start);  // "command start", "first event"
const char* boot_end_text(model::BootEnd end);        // "KVM_EXIT_SHUTDOWN", "process exit", ...
const char* boot_start_key(model::BootStart start);   // JSON/CSV: "command_started", ...
const char* boot_end_key(model::BootEnd end);         // "shutdown", "process_exit", "none"

}  // namespace kvmscope::report

namespace kvmscope::report {

// Wall-clock time of a CLOCK_MONOTONIC instant, given the recording's realtime offset:
// "2025-01-02 03:04:05 UTC" (utc_text) and "2025-01-02T03:04:05.123Z" (utc_iso, for JSON/CSV).
std::string utc_text(std::uint64_t monotonic_ns, std::int64_t realtime_offset_ns);
std::string utc_iso(std::uint64_t monotonic_ns, std::int64_t realtime_offset_ns);

}  // namespace kvmscope::report
