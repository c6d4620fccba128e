#include "serve/gzip.h"

#include <zlib.h>

#include <cstdlib>

#include "util/strings.h"

namespace kvmscope::serve {

namespace {

std::string_view trim(std::string_view s) {
  return util::trim(s, " \t");
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if ((a[i] | 0x20) != (b[i] | 0x20)) return false;
  return true;
}

}  // namespace

util::Result<std::string> gzip(std::string_view text) {
  z_stream z{};
  // Level 1: a page is rebuilt every interval, speed matters more than the last few percent.
  if (deflateInit2(&z, 1, Z_DEFLATED, 15 + 16 /* gzip wrapper */, 8, Z_DEFAULT_STRATEGY) != Z_OK)
    return util::plain_error("starting gzip compression");
  std::string out(deflateBound(&z, text.size()), '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(text.data()));
  z.avail_in = static_cast<uInt>(text.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  const int rc = deflate(&z, Z_FINISH);
  out.resize(z.total_out);
  deflateEnd(&z);
  if (rc != Z_STREAM_END) return util::plain_error("gzip compression failed");
  return out;
}

bool accepts_gzip(std::string_view header) {
  while (!header.empty()) {
    const std::size_t comma = header.find(',');
    std::string_view item = header.substr(0, comma);
    header = comma == std::string_view::npos ? std::string_view() : header.substr(comma + 1);
    const std::size_t semi = item.find(';');
    const std::string_view coding = trim(item.substr(0, semi));
    if (!iequals(coding, "gzip") && coding != "*") continue;
    if (semi == std::string_view::npos) return true;
    std::string_view param = trim(item.substr(semi + 1));
    if (param.size() < 2 || (param[0] | 0x20) != 'q' || param[1] != '=') return true;
    const std::string q(trim(param.substr(2)));
    return std::strtod(q.c_str(), nullptr) > 0;
  }
  return false;
}

}  // namespace kvmscope::serve
