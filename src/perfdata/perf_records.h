// perf.data's records, one at a time in file order, from a file read by offset (a pipe stream
// is spooled to a file first): a buffer of about a MiB, whatever the file's size. Compressed
// records (PERF_RECORD_COMPRESSED, perf record -z) are inflated with one zstd stream across
// them, as perf does: a frame may span records and a record may span frames. A pipe stream's
// PERF_RECORD_HEADER_TRACING_DATA is followed by the tracing data itself (outside the record's
// size): it comes with the record as `extra`.
//
// The stream stops at the first record it cannot take (a size below the header's, a record
// that runs past the end of the data, a compressed record that does not inflate) and says
// where: there is no telling where the next record starts.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

namespace kvmscope::perfdata {

struct PerfRecord {
  std::uint64_t offset = 0;  // in the file; for an inflated record, its compressed record's
  std::uint32_t type = 0;
  std::uint16_t misc = 0;
  std::span<const std::uint8_t> body;   // after the 8-byte header
  std::span<const std::uint8_t> extra;  // HEADER_TRACING_DATA: the tracing data
};

class PerfRecordStream {
 public:
  // Records in [begin, end) of the file at `fd`, which is `file_size` bytes long (`end` past it:
  // a cut file, read up to the cut).
  PerfRecordStream(int fd, std::uint64_t begin, std::uint64_t end, std::uint64_t file_size);
  PerfRecordStream(PerfRecordStream&&) noexcept;
  PerfRecordStream& operator=(PerfRecordStream&&) noexcept;
  ~PerfRecordStream();

  // The next record, valid until the next call; false at the end of the data or where it stops
  // (then cut()/damaged() and why()).
  bool next(PerfRecord& out);

  bool cut() const { return cut_; }          // the file ends inside a record
  bool damaged() const { return damaged_; }  // a record that cannot be taken
  const std::string& why() const { return why_; }
  std::uint64_t compressed_records() const { return compressed_; }

 private:
  bool fill(std::uint64_t pos, std::uint64_t n);  // buf_ holds [pos, pos + n) after it
  bool inflate(const PerfRecord& rec, std::span<const std::uint8_t> data);
  bool next_inflated(PerfRecord& out);
  void stop(bool cut, const std::string& why);

  struct Zstd;
  int fd_;
  std::uint64_t pos_, end_, file_size_;
  std::vector<std::uint8_t> buf_;
  std::uint64_t buf_at_ = 0;  // file offset of buf_[0]
  std::unique_ptr<Zstd> zstd_;
  std::vector<std::uint8_t> inflated_;  // records out of compressed ones, not yet handed out
  std::size_t inflated_pos_ = 0;
  std::uint64_t inflated_from_ = 0;  // the compressed record they came from
  std::uint64_t compressed_ = 0;
  bool done_ = false, cut_ = false, damaged_ = false;
  std::string why_;
};

}  // namespace kvmscope::perfdata
