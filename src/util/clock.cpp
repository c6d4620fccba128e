#include "util/clock.h"

namespace kvmscope::util {

namespace {

constexpr std::uint64_t kNsPerSecond = 1000000000ull;

std::uint64_t to_ns(const timespec& ts) {
  return static_cast<std::uint64_t>(ts.tv_sec) * kNsPerSecond +
         static_cast<std::uint64_t>(ts.tv_nsec);
}

}  // namespace

std::uint64_t clock_ns(clockid_t clock) {
  timespec ts{};
  ::clock_gettime(clock, &ts);
  return to_ns(ts);
}

std::uint64_t monotonic_ns() {
  return clock_ns(CLOCK_MONOTONIC);
}

std::uint64_t realtime_ns() {
  return clock_ns(CLOCK_REALTIME);
}

std::int64_t realtime_offset_ns() {
  timespec rt{}, mono{};
  ::clock_gettime(CLOCK_REALTIME, &rt);
  ::clock_gettime(CLOCK_MONOTONIC, &mono);
  return (static_cast<std::int64_t>(rt.tv_sec) - mono.tv_sec) * 1000000000LL +
         (static_cast<std::int64_t>(rt.tv_nsec) - mono.tv_nsec);
}

void sleep_ns(std::uint64_t ns) {
  const timespec ts = {static_cast<time_t>(ns / kNsPerSecond),
                       static_cast<long>(ns % kNsPerSecond)};
  ::nanosleep(&ts, nullptr);
}

void sleep_ms(int ms) {
  sleep_ns(static_cast<std::uint64_t>(ms < 0 ? 0 : ms) * 1000000ull);
}

}  // namespace kvmscope::util
