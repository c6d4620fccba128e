// CRC32C (Castagnoli), the checksum of every block: the SSE4.2 instruction where the CPU has
// it, a table-driven fallback elsewhere; both give the same value.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace kvmscope::store {

// crc32c("123456789") == 0xE3069283. `crc` chains: crc32c(b, crc32c(a)) == crc32c(a ++ b).
std::uint32_t crc32c(std::span<const std::uint8_t> data, std::uint32_t crc = 0);

// Whether a stored CRC matches. Fuzzing builds (libFuzzer's FUZZING_BUILD_MODE_UNSAFE_FOR_
// PRODUCTION) accept any CRC so the fuzzer's mutations reach the decoders behind it; the CRC is
// still computed there, so its code runs too.
#ifdef FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION
inline bool crc_matches(std::uint32_t computed, std::uint32_t stored) {
  return computed == stored || true;
}
#else
inline bool crc_matches(std::uint32_t computed, std::uint32_t stored) {
  return computed == stored;
}
#endif

// The portable path alone, so tests can check the two paths agree.
std::uint32_t crc32c_portable(std::span<const std::uint8_t> data, std::uint32_t crc = 0);

}  // namespace kvmscope::store
