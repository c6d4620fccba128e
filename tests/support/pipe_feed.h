// Test helpers for readers fed through a pipe, as `cat rec.kvms | kvmscope report -` feeds them:
// a pipe whose write end a thread fills, and the events a reader gives until its end.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <thread>
#include <vector>

#include "bpf/kvmscope_bpf.h"
#include "support/recording_file.h"
#include "util/fd.h"

namespace kvmscope::testing {

// How the feeding thread writes: all it can at once, or in small uneven pieces (1 to 5 bytes),
// as `cat` or ssh may, so a reader meets every short read.
enum class Feed { whole, small_pieces };

class PipeFeed {
 public:
  explicit PipeFeed(Bytes bytes, Feed feed = Feed::whole) : bytes_(std::move(bytes)) {
    EXPECT_EQ(::pipe(fds_), 0);
    feeder_ = std::thread([this, feed] {
      for (std::size_t off = 0; off < bytes_.size();) {
        const std::size_t left = bytes_.size() - off;
        const std::size_t n = feed == Feed::whole ? left : std::min<std::size_t>(1 + off % 5, left);
        const ssize_t w = ::write(fds_[1], bytes_.data() + off, n);
        if (w <= 0) break;
        off += static_cast<std::size_t>(w);
      }
      ::close(fds_[1]);
    });
  }
  ~PipeFeed() { feeder_.join(); }
  PipeFeed(const PipeFeed&) = delete;
  PipeFeed& operator=(const PipeFeed&) = delete;
  util::Fd read_end() { return util::Fd(fds_[0]); }

 private:
  Bytes bytes_;
  int fds_[2] = {-1, -1};
  std::thread feeder_;
};

// Every event a reader (store::Reader, TraceDatReader, EventSource) gives, in order.
template <class Reader>
std::vector<ks_event> drain(Reader& r) {
  std::vector<ks_event> all;
  for (auto b = r.next(); b.ok() && !b->empty(); b = r.next())
    all.insert(all.end(), b->begin(), b->end());
  return all;
}

inline bool same_events(const std::vector<ks_event>& a, const std::vector<ks_event>& b) {
  return a.size() == b.size() &&
         (a.empty() || std::memcmp(a.data(), b.data(), a.size() * sizeof(ks_event)) == 0);
}

}  // namespace kvmscope::testing
