// Writes a recording: the file header at once, then blocks as events arrive. Every block goes
// out whole in one write(), so a crash, kill or full disk leaves a file whose every earlier block
// is intact; finish() adds the trailer that marks the recording complete.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <span>
#include <string>
#include <vector>

#include "bpf/kvmscope_bpf.h"
#include "store/format.h"
#include "store/recording_info.h"
#include "util/fd.h"
#include "util/result.h"

namespace kvmscope::store {

struct WriterOptions {
  bool compress = true;  // zstd on each block payload (halves the size; see docs/file-format.md)
  int zstd_level = 1;
  std::uint32_t block_events = 65536;    // an events block is written when it holds this many
  std::uint32_t block_bytes = 1u << 20;  // ... or this many encoded bytes
};

class EventEncoder;
class Compressor;

class Writer {
 public:
  // Creates (truncates) `path` and writes the file header.
  static util::Result<Writer> create(const std::string& path, const RecordingInfo& info,
                                     const WriterOptions& options = {});

  Writer(Writer&&) noexcept;
  Writer& operator=(Writer&&) noexcept;
  // Writes what is buffered (best effort, errors ignored) and closes; never writes the trailer,
  // so a recording not finish()ed reads back as cut short.
  ~Writer();

  // Buffers events; writes each events block as it fills up.
  util::Result<void> append(std::span<const ks_event> events);
  // Adds `count` events the ring buffer dropped on `cpu` (a delta, not a running total).
  util::Result<void> add_lost(std::uint32_t cpu, std::uint64_t count);
  // Names a VM; a later call for the same pid replaces the name. Strings over 4096 bytes are cut.
  // At most 10,000 distinct VMs and 10,000 markers per recording (an Error beyond, nothing
  // written); lost counts for at most 65,536 distinct CPUs.
  util::Result<void> set_vm(std::uint32_t pid, const std::string& name, const std::string& comm);
  util::Result<void> mark(std::uint64_t ts_ns, const std::string& label);
  // Writes everything buffered now (record calls this every ~200 ms so a kill loses little).
  util::Result<void> flush();
  // flush(), then the trailer, then fsync. The writer takes nothing more afterwards.
  util::Result<void> finish();

  std::uint64_t events_written() const { return events_written_; }  // in blocks on disk
  std::uint64_t bytes_written() const { return bytes_written_; }    // file size so far
  std::uint64_t events_buffered() const;
  // The trailer's end time (CLOCK_MONOTONIC), once finish() has written it; 0 before.
  std::uint64_t end_ns() const { return end_ns_; }

 private:
  Writer(util::Fd fd, std::string path, const WriterOptions& options);
  util::Result<void> check_usable() const;
  // Turns everything buffered into whole blocks in out_: side blocks, then the events block.
  void add_pending_blocks();
  // Appends one block (compressing its payload if that helps) to out_.
  void add_block(std::uint8_t type, std::span<const std::uint8_t> raw, std::uint32_t count,
                 std::uint64_t first_ts, std::uint64_t last_ts);
  void add_pending_side_blocks();
  template <class Items, class Encode>
  void add_side_blocks(BlockType type, const Items& items, Encode encode);
  util::Result<void> write_out();

  util::Fd fd_;
  std::string path_;
  WriterOptions options_;
  std::unique_ptr<EventEncoder> encoder_;
  std::unique_ptr<Compressor> compressor_;
  std::vector<std::uint8_t> raw_;     // one payload being built
  std::vector<std::uint8_t> packed_;  // its compressed form
  std::vector<std::uint8_t> out_;     // whole blocks waiting for one write()
  std::map<std::uint32_t, std::uint64_t> pending_lost_;
  std::map<std::uint32_t, VmMeta> pending_vms_;
  std::vector<Marker> pending_markers_;
  // What readers keep for the whole file is capped (format.h); the writer stays inside the caps.
  std::size_t markers_total_ = 0;
  std::set<std::uint32_t> vm_pids_;
  std::set<std::uint32_t> lost_cpus_;
  std::uint64_t events_written_ = 0;
  std::uint64_t events_in_out_ = 0;
  std::uint64_t bytes_written_ = 0;
  std::uint64_t lost_total_ = 0;
  std::uint64_t blocks_written_ = 0;
  std::uint64_t blocks_in_out_ = 0;
  std::uint64_t end_ns_ = 0;
  bool finished_ = false;
  std::unique_ptr<util::Error> failed_;  // sticky: after a failed write nothing more is written
};

}  // namespace kvmscope::store
