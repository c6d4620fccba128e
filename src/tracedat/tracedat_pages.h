// One CPU's events in a trace.dat: the kernel's ring-buffer pages as trace-cmd copied them
// (tracefs per_cpu/cpuN/trace_pipe_raw), stored raw (v6, uncompressed v7) or as zstd chunks of
// whole pages (v7), decoded one record at a time. Only one page (or one chunk) is in memory.
//
// Page: u64 timestamp, `commit` (the kernel's long: data size in the low 27 bits, bit 31 =
// events were lost before this page, bit 30 = their count is stored after the data), data.
// Event: a 32-bit header (type_len:5, time_delta:27, in the file's byte order), then
//   type_len 1..28: type_len*4 bytes of data;   0: u32 length (+4), the data;
//   29: padding (time_delta 0: the rest of the page is empty);
//   30: time extend (u32: delta bits 27..58);   31: absolute time stamp (the same, 59 bits).
// These are the rules of libtraceevent's kbuffer, which trace-cmd report uses: timestamps come
// out the same. Unlike kbuffer, every length is checked against the page: a damaged page ends
// early (counted), it is never read past.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "tracedat/tracedat_meta.h"

namespace kvmscope::tracedat {

struct TdRecord {
  std::uint64_t ts = 0;                // in the trace clock, as stored
  std::span<const std::uint8_t> data;  // the event: common_type first; valid until next()
  // Events the kernel lost just before this record (first record of a page only); kUnknown
  // when the page says some were lost but not how many.
  std::uint64_t missed = 0;
  static constexpr std::uint64_t kUnknown = ~0ull;
};

class TdCpuStream {
 public:
  TdCpuStream(int fd, std::uint64_t file_size, const TraceDatMeta& meta,
              const TraceDatBuffer& buffer, const TraceDatCpuData& where);

  // The next record; false at the end of this CPU's data (damage() says if it ended early).
  bool next(TdRecord& out);

  std::uint32_t cpu() const { return cpu_; }
  // "" or why the data ended before its recorded end (file cut, bad chunk): the rest is lost.
  const std::string& damage() const { return damage_; }
  bool file_cut() const { return file_cut_; }             // that end is the end of a cut file
  std::uint64_t bad_pages() const { return bad_pages_; }  // pages with a bad length: cut short

 private:
  bool load_page();   // the next page into page_; false at the end
  bool load_chunk();  // the next compressed chunk into chunk_
  bool next_in_page(TdRecord& out);
  std::uint32_t u32_at(std::size_t pos) const;
  std::uint64_t long_at(std::size_t pos) const;
  void stop(const std::string& why);
  void bad_page();  // counts the current page once, however many faults it has

  int fd_;
  std::uint64_t file_size_;
  std::uint32_t cpu_;
  std::uint32_t page_size_;
  unsigned commit_size_;
  bool big_endian_;
  bool compressed_;
  std::uint64_t pos_;  // file offset of what comes next
  std::uint64_t end_;  // file offset where this CPU's data ends
  std::uint32_t chunks_left_ = 0;
  bool chunks_started_ = false;

  std::vector<std::uint8_t> chunk_;  // a decompressed chunk: whole pages
  std::size_t chunk_pos_ = 0;
  std::vector<std::uint8_t> page_storage_;
  std::span<const std::uint8_t> page_;  // the current page (in chunk_ or page_storage_)
  std::size_t data_start_ = 0;          // page offset of the data
  std::size_t data_end_ = 0;            // page offset after the data
  std::size_t at_ = 0;                  // page offset of the next event header
  std::uint64_t ts_ = 0;
  std::uint64_t page_missed_ = 0;
  bool have_page_ = false;
  bool page_bad_ = false;
  bool done_ = false;
  bool file_cut_ = false;
  std::string damage_;
  std::uint64_t bad_pages_ = 0;
};

}  // namespace kvmscope::tracedat
