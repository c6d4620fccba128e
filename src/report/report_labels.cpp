#include "report/report_labels.h"

#include <array>
#include <charconv>
#include <cmath>
#include <cstdio>

#include "report/format.h"
#include "util/strings.h"

namespace kvmscope::report {

namespace {

using util::hex;

// KVM_HC_* of include/uapi/linux/kvm_para.h.
const char* hypercall_name(std::uint64_t nr) {
  switch (nr) {
    case 1:
      return "KVM_HC_VAPIC_POLL_IRQ";
    case 2:
      return "KVM_HC_MMU_OP";
    case 3:
      return "KVM_HC_FEATURES";
    case 4:
      return "KVM_HC_PPC_MAP_MAGIC_PAGE";
    case 5:
      return "KVM_HC_KICK_CPU";
    case 9:
      return "KVM_HC_CLOCK_PAIRING";
    case 10:
      return "KVM_HC_SEND_IPI";
    case 11:
      return "KVM_HC_SCHED_YIELD";
    case 12:
      return "KVM_HC_MAP_GPA_RANGE";
    default:
      return "";
  }
}

}  // namespace

std::string drill_value_text(const model::DrillKey& key) {
  if (key.other) return "other";
  return key.kind == model::DrillKind::hypercall ? std::to_string(key.value) : hex(key.value);
}

std::string drill_detail_text(const model::DrillKey& key) {
  using model::DrillKind;
  if (key.other) return "keys past the cap";
  switch (key.kind) {
    case DrillKind::port: {
      const std::uint32_t size = model::port_size(key);
      return std::string(model::port_is_out(key) ? "out" : "in") + ", " + std::to_string(size) +
             (size == 1 ? " byte" : " bytes");
    }
    case DrillKind::mmio:
      switch (static_cast<model::MmioAccess>(key.flags)) {
        case model::MmioAccess::read_unsatisfied:
          return "unsatisfied-read";
        case model::MmioAccess::read:
          return "read";
        case model::MmioAccess::write:
          return "write";
      }
      return "type " + std::to_string(key.flags);
    case DrillKind::msr:
      return std::string((key.flags & model::kMsrWrite) ? "write" : "read") +
             ((key.flags & model::kMsrFault) ? ", fault" : "");
    case DrillKind::hypercall:
      return hypercall_name(key.value);
    case DrillKind::cpuid:
      return "";
  }
  return "";
}

const char* drill_value_header(model::DrillKind kind) {
  switch (kind) {
    case model::DrillKind::port:
      return "port";
    case model::DrillKind::mmio:
      return "gpa";
    case model::DrillKind::msr:
      return "msr";
    case model::DrillKind::cpuid:
      return "leaf";
    case model::DrillKind::hypercall:
      return "nr";
  }
  return "value";
}

std::string drill_title(model::DrillKind kind) {
  switch (kind) {
    case model::DrillKind::port:
      return "Port I/O (kvm:kvm_pio) by port, direction and size";
    case model::DrillKind::mmio:
      return "MMIO (kvm:kvm_mmio) by guest physical address and access";
    case model::DrillKind::msr:
      return "MSR accesses (kvm:kvm_msr) by index, read/write and fault";
    case model::DrillKind::cpuid:
      return "CPUID (kvm:kvm_cpuid) by leaf";
    case model::DrillKind::hypercall:
      return "Hypercalls (kvm:kvm_hypercall) by number";
  }
  return "";
}

std::string seconds_text(std::uint64_t ns) {
  char buffer[40];
  std::snprintf(buffer, sizeof buffer, "%llu.%03llu s",
                static_cast<unsigned long long>(ns / 1'000'000'000),
                static_cast<unsigned long long>(ns % 1'000'000'000 / 1'000'000));
  return buffer;
}

std::string seconds_number(std::uint64_t ns) {
  std::string text = std::to_string(ns / 1'000'000'000) + ".";
  std::string fraction = std::to_string(ns % 1'000'000'000);
  text += std::string(9 - fraction.size(), '0') + fraction;
  // Trailing zeros dropped, one kept: "2.0", "12.345".
  while (text.back() == '0' && text[text.size() - 2] != '.') text.pop_back();
  return text;
}

std::string format_decimal(double value) {
  char buffer[32];
  if (!(value >= 0) || !std::isfinite(value)) return "-";
  if (value < 9.995) {
    std::snprintf(buffer, sizeof buffer, "%.2f", value);
  } else if (value < 99.95) {
    std::snprintf(buffer, sizeof buffer, "%.1f", value);
  } else {
    return format_count(static_cast<std::uint64_t>(std::round(value)));
  }
  return buffer;
}

std::string format_ratio(double value) {
  if (!std::isfinite(value)) return "-";
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.2f", value);
  return buffer;
}

std::string number_text(double value) {
  if (!std::isfinite(value)) return "0";
  std::array<char, 64> buffer{};
  const auto result = std::to_chars(buffer.data(), buffer.data() + buffer.size(), value);
  return std::string(buffer.data(), result.ptr);
}

const char* boot_start_text(model::BootStart start) {
  switch (start) {
    case model::BootStart::command_started:
      return "the command start";
    case model::BootStart::process_started:
      return "the VM's process start";
    case model::BootStart::first_event:
      return "the VM's first event";
  }
  return "";
}

const char* boot_end_text(model::BootEnd end) {
  switch (end) {
    case model::BootEnd::shutdown:
      return "KVM_EXIT_SHUTDOWN";
    case model::BootEnd::process_exit:
      return "the process exit";
    case model::BootEnd::none:
      return "the VM's last event (its end was not recorded)";
  }
  return "";
}

const char* boot_start_key(model::BootStart start) {
  switch (start) {
    case model::BootStart::command_started:
      return "command_started";
    case model::BootStart::process_started:
      return "process_started";
    case model::BootStart::first_event:
      return "first_event";
  }
  return "";
}

const char* boot_end_key(model::BootEnd end) {
  switch (end) {
    case model::BootEnd::shutdown:
      return "shutdown";
    case model::BootEnd::process_exit:
      return "process_exit";
    case model::BootEnd::none:
      return "none";
  }
  return "none";
}

}  // namespace kvmscope::report

#include <ctime>

namespace kvmscope::report {

namespace {

// Seconds and milliseconds since 1970 of a monotonic instant; false before 1970.
bool wall_clock(std::uint64_t monotonic_ns, std::int64_t offset_ns, std::tm& tm, int& ms) {
  const std::int64_t wall = static_cast<std::int64_t>(monotonic_ns) + offset_ns;
  if (wall < 0) return false;
  const std::time_t seconds = static_cast<std::time_t>(wall / 1'000'000'000);
  ms = static_cast<int>(wall % 1'000'000'000 / 1'000'000);
  return gmtime_r(&seconds, &tm) != nullptr;
}

}  // namespace

std::string utc_text(std::uint64_t monotonic_ns, std::int64_t realtime_offset_ns) {
  std::tm tm{};
  int ms = 0;
  if (!wall_clock(monotonic_ns, realtime_offset_ns, tm, ms)) return "?";
  char buffer[64];
  std::strftime(buffer, sizeof buffer, "%Y-%m-%d %H:%M:%S UTC", &tm);
  return buffer;
}

std::string utc_iso(std::uint64_t monotonic_ns, std::int64_t realtime_offset_ns) {
  std::tm tm{};
  int ms = 0;
  if (!wall_clock(monotonic_ns, realtime_offset_ns, tm, ms)) return "";
  char date[48];
  std::strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%S", &tm);
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%s.%03dZ", date, ms);
  return buffer;
}

}  // namespace kvmscope::report
