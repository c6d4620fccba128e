// Owners of the zstd contexts (reused across blocks, as zstd advises for speed) with the
// limits a reader of untrusted input needs.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "util/result.h"

namespace kvmscope::store {

class Compressor {
 public:
  explicit Compressor(int level);
  // Compresses `in` into `out` (resized); false if zstd fails or the result is no smaller.
  bool compress(std::span<const std::uint8_t> in, std::vector<std::uint8_t>& out);

 private:
  struct Free {
    void operator()(void* ctx) const;
  };
  std::unique_ptr<void, Free> ctx_;
  int level_;
};

class Decompressor {
 public:
  Decompressor();
  // Decompresses into out[0, out_len) exactly.
  util::Result<void> decompress(std::span<const std::uint8_t> in, std::uint8_t* out,
                                std::size_t out_len);

 private:
  struct Free {
    void operator()(void* ctx) const;
  };
  std::unique_ptr<void, Free> ctx_;
};

}  // namespace kvmscope::store
