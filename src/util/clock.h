// Clocks and sleeps, once: every timestamp kvmscope compares with BPF's bpf_ktime_get_ns() is
// CLOCK_MONOTONIC nanoseconds.
#pragma once

#include <time.h>

#include <cstdint>

namespace kvmscope::util {

std::uint64_t clock_ns(clockid_t clock);  // clock_gettime in nanoseconds
std::uint64_t monotonic_ns();             // CLOCK_MONOTONIC, the clock of every event
std::uint64_t realtime_ns();              // CLOCK_REALTIME: nanoseconds since 1970

// CLOCK_REALTIME - CLOCK_MONOTONIC now: a monotonic timestamp + this = wall-clock ns since 1970.
std::int64_t realtime_offset_ns();

// One nanosleep(2), not resumed: a signal (a stop request) ends it early, as callers want.
void sleep_ns(std::uint64_t ns);
void sleep_ms(int ms);

}  // namespace kvmscope::util
