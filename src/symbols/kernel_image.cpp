#include "symbols/kernel_image.h"

#include <lzma.h>
#include <zlib.h>
#include <zstd.h>

#include <cstring>
#include <fstream>
#include <iterator>

namespace kvmscope::symbols {

namespace {

// Nothing a kernel decompresses to comes near this: a bound on what a damaged size asks for.
constexpr std::size_t kMaxImage = std::size_t{1} << 30;

std::uint32_t le32(std::span<const std::uint8_t> b, std::size_t off) {
  std::uint32_t v = 0;
  std::memcpy(&v, b.data() + off, 4);
  return v;
}

bool starts(std::span<const std::uint8_t> b, std::initializer_list<std::uint8_t> magic) {
  return b.size() >= magic.size() && std::equal(magic.begin(), magic.end(), b.begin());
}

util::Error failed(const std::string& what, Compression c, const std::string& detail) {
  return util::plain_error(what + ": cannot decompress its " + compression_name(c) + " payload (" +
                           detail + ")");
}

util::Result<std::vector<std::uint8_t>> unxz(std::span<const std::uint8_t> in, bool alone,
                                             const std::string& what) {
  lzma_stream s = LZMA_STREAM_INIT;
  const lzma_ret init =
      alone ? lzma_alone_decoder(&s, UINT64_MAX) : lzma_stream_decoder(&s, UINT64_MAX, 0);
  const Compression c = alone ? Compression::lzma : Compression::xz;
  if (init != LZMA_OK) return failed(what, c, "liblzma would not start");
  std::vector<std::uint8_t> out(std::size_t{64} << 20);
  s.next_in = in.data();
  s.avail_in = in.size();
  lzma_ret r = LZMA_OK;
  while (r == LZMA_OK) {
    if (s.total_out == out.size()) {
      if (out.size() >= kMaxImage) break;
      out.resize(out.size() * 2);
    }
    s.next_out = out.data() + s.total_out;
    s.avail_out = out.size() - s.total_out;
    r = lzma_code(&s, LZMA_FINISH);
  }
  const std::size_t n = s.total_out;
  lzma_end(&s);
  if (r != LZMA_STREAM_END) return failed(what, c, "liblzma error " + std::to_string(r));
  out.resize(n);
  return out;
}

util::Result<std::vector<std::uint8_t>> gunzip(std::span<const std::uint8_t> in,
                                               const std::string& what) {
  z_stream s{};
  if (inflateInit2(&s, 16 + MAX_WBITS) != Z_OK)
    return failed(what, Compression::gzip, "zlib would not start");
  std::vector<std::uint8_t> out(std::size_t{64} << 20);
  s.next_in = const_cast<Bytef*>(in.data());
  s.avail_in = static_cast<uInt>(in.size());
  int r = Z_OK;
  while (r == Z_OK) {
    if (s.total_out == out.size()) {
      if (out.size() >= kMaxImage) break;
      out.resize(out.size() * 2);
    }
    s.next_out = out.data() + s.total_out;
    s.avail_out = static_cast<uInt>(out.size() - s.total_out);
    r = inflate(&s, Z_NO_FLUSH);
  }
  const std::size_t n = s.total_out;
  inflateEnd(&s);
  if (r != Z_STREAM_END) return failed(what, Compression::gzip, "zlib error " + std::to_string(r));
  out.resize(n);
  return out;
}

util::Result<std::vector<std::uint8_t>> unzstd(std::span<const std::uint8_t> in,
                                               const std::string& what) {
  ZSTD_DStream* d = ZSTD_createDStream();
  if (!d) return failed(what, Compression::zstd, "libzstd would not start");
  // The kernel's zstd frames use a window of up to 2^27 bytes (zstd -22 --ultra).
  ZSTD_DCtx_setParameter(d, ZSTD_d_windowLogMax, 31);
  std::vector<std::uint8_t> out(std::size_t{64} << 20);
  ZSTD_inBuffer ib{in.data(), in.size(), 0};
  ZSTD_outBuffer ob{out.data(), out.size(), 0};
  std::size_t r = 1;
  while (r != 0) {
    if (ob.pos == ob.size) {
      if (out.size() >= kMaxImage) break;
      out.resize(out.size() * 2);
      ob.dst = out.data();
      ob.size = out.size();
    }
    r = ZSTD_decompressStream(d, &ob, &ib);
    if (ZSTD_isError(r)) {
      ZSTD_freeDStream(d);
      return failed(what, Compression::zstd, ZSTD_getErrorName(r));
    }
    if (r != 0 && ib.pos == ib.size && ob.pos < ob.size) break;  // cut short
  }
  ZSTD_freeDStream(d);
  if (r != 0) return failed(what, Compression::zstd, "the frame is cut short");
  out.resize(ob.pos);
  return out;
}

}  // namespace

const char* compression_name(Compression c) {
  switch (c) {
    case Compression::none:
      return "uncompressed";
    case Compression::gzip:
      return "gzip";
    case Compression::xz:
      return "xz";
    case Compression::lzma:
      return "lzma";
    case Compression::zstd:
      return "zstd";
    case Compression::bzip2:
      return "bzip2";
    case Compression::lzo:
      return "lzo";
    case Compression::lz4:
      return "lz4";
    case Compression::unknown:
      break;
  }
  return "unknown";
}

Compression sniff_compression(std::span<const std::uint8_t> p) {
  if (ElfImage::looks_like_elf(p)) return Compression::none;
  if (starts(p, {0x1f, 0x8b})) return Compression::gzip;
  if (starts(p, {0xfd, '7', 'z', 'X', 'Z', 0x00})) return Compression::xz;
  if (starts(p, {0x5d, 0x00, 0x00})) return Compression::lzma;
  if (starts(p, {0x28, 0xb5, 0x2f, 0xfd})) return Compression::zstd;
  if (starts(p, {'B', 'Z', 'h'})) return Compression::bzip2;
  if (starts(p, {0x89, 'L', 'Z', 'O'})) return Compression::lzo;
  if (starts(p, {0x02, 0x21, 0x4c, 0x18})) return Compression::lz4;
  return Compression::unknown;
}

util::Result<std::vector<std::uint8_t>> decompress(Compression c,
                                                   std::span<const std::uint8_t> data,
                                                   const std::string& what) {
  switch (c) {
    case Compression::none:
      return std::vector<std::uint8_t>(data.begin(), data.end());
    case Compression::gzip:
      return gunzip(data, what);
    case Compression::xz:
      return unxz(data, false, what);
    case Compression::lzma:
      return unxz(data, true, what);
    case Compression::zstd:
      return unzstd(data, what);
    default:
      break;
  }
  return util::plain_error(
      what + ": its payload is " + compression_name(c) +
          "-compressed, which kvmscope does not read",
      "extract the vmlinux with the kernel's scripts/extract-vmlinux and give that");
}

util::Result<std::vector<std::uint8_t>> extract_bzimage(std::span<const std::uint8_t> b,
                                                        const std::string& what) {
  // Boot protocol (Documentation/arch/x86/boot.rst): "HdrS" at 0x202, version at 0x206,
  // setup_sects at 0x1f1; payload_offset/_length (2.08+) at 0x248/0x24c, from the start of the
  // protected-mode code, which follows the (setup_sects + 1) sectors of real-mode setup.
  if (b.size() < 0x250 || std::memcmp(b.data() + 0x202, "HdrS", 4) != 0)
    return util::plain_error(what + ": neither an ELF file (vmlinux) nor a bzImage (vmlinuz)");
  const std::uint16_t version = static_cast<std::uint16_t>(b[0x206] | b[0x207] << 8);
  if (version < 0x208)
    return util::plain_error(what + ": a bzImage of boot protocol " + std::to_string(version >> 8) +
                             "." + std::to_string(version & 0xff) +
                             ", older than 2.08: it does not say where its payload is");
  const std::size_t setup = (std::size_t{b[0x1f1] ? b[0x1f1] : 4u} + 1) * 512;
  const std::size_t off = setup + le32(b, 0x248), len = le32(b, 0x24c);
  if (off > b.size() || len > b.size() - off)
    return util::plain_error(what + ": damaged bzImage (its payload lies beyond the file's end)");
  const std::span<const std::uint8_t> payload = b.subspan(off, len);
  const Compression c = sniff_compression(payload);
  if (c == Compression::unknown)
    return util::plain_error(what + ": the bzImage's payload is in no compression kvmscope knows");
  return decompress(c, payload, what);
}

util::Result<ElfImage> load_kernel_image(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return util::os_error("open " + path, errno);
  std::vector<std::uint8_t> bytes((std::istreambuf_iterator<char>(f)),
                                  std::istreambuf_iterator<char>());
  if (f.bad()) return util::os_error("read " + path, errno);
  if (ElfImage::looks_like_elf(bytes)) return ElfImage::parse(std::move(bytes), path);
  auto elf = extract_bzimage(bytes, path);
  if (!elf) return elf.error();
  return ElfImage::parse(std::move(*elf), path + " (its vmlinux)");
}

}  // namespace kvmscope::symbols
