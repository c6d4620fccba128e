// Exit statistics printed into the kernel log, parsed (`kvmscope report --dmesg`). Two formats:
//   the kernel/ patch (kernel/README.md), one block per report, cumulative since the VM started:
//     kvm_exit_stats: vm <pid> <isa>: report <seq>: <total> exits, <cycles> cycles, tsc_khz <khz>
//     kvm_exit_stats: vm <pid> <isa>: exit <code> (<name>): <count> exits, <cycles> cycles
//     kvm_exit_stats: vm <pid> <isa>: <n> reports suppressed
//     kvm_exit_stats: vm <pid> <isa>: final: <total> exits, <cycles> cycles, tsc_khz <khz>,
//                                     reports <printed>, suppressed <n>
//   the original course assignment's (VMX, no VM, no header, cumulative, every 10,000 exits):
//     KVM exit 30 (I/O_INSTRUCTION): 1419909
//   (a hex code, as `kvmscope stat --every` prints SVM codes, is read as SVM).
//   dmesg stamps every line on its own, so a block is not one timestamp: it is the run of
//   'KVM exit' lines whose codes ascend (the patch prints the reasons it has seen in code
//   order); the next block begins at a code not above the one before. Other lines may come
//   between. A count lower than the block before's for the same reason begins a new VM.
// Lines may carry a dmesg "[  123.456789]" timestamp (also journalctl -o short-monotonic) or a
// journalctl/syslog "Nov 24 12:00:00[.123456]" one; every other line is ignored.
#pragma once

#include <cstdint>
#include <istream>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "model/exit_key.h"
#include "util/result.h"

namespace kvmscope::model {

enum class LogFormat { patch, course };

struct LogReason {
  std::string name;  // as the log spells it
  std::uint64_t exits = 0;
  std::optional<std::uint64_t> cycles;  // the course format has none
};

// One cumulative report of one VM: a header (or final) line and its exit lines, or one block
// of course lines.
struct LogSnapshot {
  std::size_t line = 0;                // 1-based line of its first line
  std::optional<std::uint64_t> ts_ns;  // the line's timestamp
  std::optional<std::uint64_t> seq;    // the report's number (patch)
  bool final = false;                  // the VM's final line: exact totals at its destruction
  std::optional<std::uint64_t> total, cycles, tsc_khz;               // the header's (patch)
  std::optional<std::uint64_t> reports_printed, reports_suppressed;  // final line
  std::map<std::uint32_t, LogReason> reasons;                        // by code

  std::uint64_t reasons_exits() const;
  // The header's total where there is one, else the sum of the exit lines.
  std::uint64_t exits() const { return total.value_or(reasons_exits()); }
};

// One VM instance: a (pid, isa) of the patch, or the course format's one stream. When its
// counts go backwards, or a report follows its final line, a new instance begins.
struct LogVm {
  LogFormat format = LogFormat::patch;
  std::optional<std::uint32_t> pid;  // none in the course format
  Isa isa = Isa::vmx;
  unsigned instance = 1;
  std::string restart;           // why this instance is not the first: "line 40: ..."
  std::uint64_t suppressed = 0;  // the "<n> reports suppressed" lines, summed
  std::vector<LogSnapshot> snapshots;
};

struct KernelLog {
  std::vector<LogVm> vms;  // in the order they first appear
  std::size_t lines = 0;
  std::size_t patch_lines = 0, course_lines = 0;
  std::vector<std::string> notes;     // what the parser noticed, each with its line
  std::vector<std::string> warnings;  // lines it could not use as they are: skipped, cut
};

// What the parser holds itself to, whatever the input (/dev/zero, a binary file).
struct KernelLogLimits {
  std::size_t max_line = 4096;  // bytes kept of a line (dmesg's are under 1024); the rest dropped
  // No statistics line within this many bytes: not a log with any, stop (0: read to the end).
  std::uint64_t search_bytes = 64ull << 20;
};

// `name` is the file name for messages ("-": standard input). Errors: a malformed
// kvm_exit_stats line (with its number and text), no recognized line at all (in the first
// limits.search_bytes). A malformed 'KVM exit' line, or one whose number does not fit 64 bits,
// is skipped and counted in warnings; so is a line longer than limits.max_line.
util::Result<KernelLog> parse_kernel_log(std::istream& in, const std::string& name,
                                         const KernelLogLimits& limits = {});

// The line's timestamp in ns: dmesg's seconds since boot, or a journal's time since the start
// of its year (month, day and time; no year in that format).
std::optional<std::uint64_t> log_timestamp_ns(std::string_view line);

}  // namespace kvmscope::model
