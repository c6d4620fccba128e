// gzip (RFC 1952) of a page, for scrapers that send Accept-Encoding: gzip (Prometheus does):
// a host's page is megabytes of repetitive text that compresses about 20:1.
#pragma once

#include <string>
#include <string_view>

#include "util/result.h"

namespace kvmscope::serve {

util::Result<std::string> gzip(std::string_view text);

// Whether an Accept-Encoding header value admits gzip ("gzip", "*", not "gzip;q=0").
bool accepts_gzip(std::string_view accept_encoding);

}  // namespace kvmscope::serve
