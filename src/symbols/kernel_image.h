// The guest kernel's code for `report --guest-kernel`: a vmlinux ELF as it is, or the ELF a
// bzImage (vmlinuz) carries, taken out as the kernel's scripts/extract-vmlinux does: the boot
// protocol header says where the compressed payload is (payload_offset, payload_length), its
// first bytes say how it is compressed. Debian's kernels are xz (6.1) or zstd; gzip and legacy
// lzma are read too. bzip2, lzo and lz4 payloads are an Error that names them.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "symbols/elf_image.h"
#include "util/result.h"

namespace kvmscope::symbols {

// The compressions a bzImage payload can have, by their magic bytes.
enum class Compression { none, gzip, xz, lzma, zstd, bzip2, lzo, lz4, unknown };
const char* compression_name(Compression c);
Compression sniff_compression(std::span<const std::uint8_t> payload);

// The decompressed payload (the vmlinux ELF) of a bzImage's bytes. `what` names it in errors.
util::Result<std::vector<std::uint8_t>> extract_bzimage(std::span<const std::uint8_t> bzimage,
                                                        const std::string& what);
// Decompresses a whole buffer of that compression (for extract_bzimage and its tests).
util::Result<std::vector<std::uint8_t>> decompress(Compression c,
                                                   std::span<const std::uint8_t> data,
                                                   const std::string& what);

// Reads `path`: a vmlinux ELF, or a bzImage whose ELF is extracted.
util::Result<ElfImage> load_kernel_image(const std::string& path);

}  // namespace kvmscope::symbols
