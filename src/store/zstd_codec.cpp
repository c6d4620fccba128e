#include "store/zstd_codec.h"

#include <zstd.h>

namespace kvmscope::store {

void Compressor::Free::operator()(void* ctx) const {
  ZSTD_freeCCtx(static_cast<ZSTD_CCtx*>(ctx));
}
void Decompressor::Free::operator()(void* ctx) const {
  ZSTD_freeDCtx(static_cast<ZSTD_DCtx*>(ctx));
}

Compressor::Compressor(int level) : ctx_(ZSTD_createCCtx()), level_(level) {}

bool Compressor::compress(std::span<const std::uint8_t> in, std::vector<std::uint8_t>& out) {
  if (!ctx_) return false;
  out.resize(ZSTD_compressBound(in.size()));
  size_t n = ZSTD_compressCCtx(static_cast<ZSTD_CCtx*>(ctx_.get()), out.data(), out.size(),
                               in.data(), in.size(), level_);
  if (ZSTD_isError(n) || n >= in.size()) return false;
  out.resize(n);
  return true;
}

Decompressor::Decompressor() : ctx_(ZSTD_createDCtx()) {
  // A frame may ask for a window larger than any block: refuse instead of allocating it.
  if (ctx_) ZSTD_DCtx_setParameter(static_cast<ZSTD_DCtx*>(ctx_.get()), ZSTD_d_windowLogMax, 24);
}

util::Result<void> Decompressor::decompress(std::span<const std::uint8_t> in, std::uint8_t* out,
                                            std::size_t out_len) {
  if (!ctx_) return util::plain_error("zstd: out of memory");
  size_t n =
      ZSTD_decompressDCtx(static_cast<ZSTD_DCtx*>(ctx_.get()), out, out_len, in.data(), in.size());
  if (ZSTD_isError(n)) return util::plain_error(std::string("zstd: ") + ZSTD_getErrorName(n));
  if (n != out_len)
    return util::plain_error("zstd: payload decodes to " + std::to_string(n) + " bytes, not " +
                             std::to_string(out_len));
  return {};
}

}  // namespace kvmscope::store
