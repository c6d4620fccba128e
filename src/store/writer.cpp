#include "store/writer.h"

#include <fcntl.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>

#include "store/block.h"
#include "store/crc32c.h"
#include "store/event_codec.h"
#include "store/file_header.h"
#include "store/format.h"
#include "store/side_records.h"
#include "store/zstd_codec.h"
#include "util/clock.h"

namespace kvmscope::store {
namespace {

// Payloads smaller than this are not worth a zstd frame's overhead.
constexpr std::size_t kMinCompress = 64;

}  // namespace

Writer::Writer(util::Fd fd, std::string path, const WriterOptions& options)
    : fd_(std::move(fd)),
      path_(std::move(path)),
      options_(options),
      encoder_(std::make_unique<EventEncoder>()),
      compressor_(std::make_unique<Compressor>(options.zstd_level)) {
  // Keep blocks inside what any reader accepts, whatever the options say.
  if (options_.block_events == 0 || options_.block_events > kWriterBlockEvents)
    options_.block_events = kWriterBlockEvents;
  if (options_.block_bytes == 0 || options_.block_bytes > kWriterBlockRaw)
    options_.block_bytes = kWriterBlockRaw;
}

Writer::Writer(Writer&&) noexcept = default;
Writer& Writer::operator=(Writer&&) noexcept = default;

Writer::~Writer() {
  if (fd_.valid() && !finished_ && !failed_) (void)flush();
}

util::Result<Writer> Writer::create(const std::string& path, const RecordingInfo& info,
                                    const WriterOptions& options) {
  const auto header = encode_file_header(info);
  if (header.size() > kFileHeaderMax)
    return util::plain_error("record " + path + ": metadata of " + std::to_string(header.size()) +
                             " bytes exceeds the header limit");
  auto fd = util::Fd::open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (!fd) return fd.error();
  if (int err = util::write_all(fd->get(), header.data(), header.size()))
    return util::os_error("write " + path, err);
  Writer w(std::move(*fd), path, options);
  w.bytes_written_ = header.size();
  return w;
}

std::uint64_t Writer::events_buffered() const {
  return encoder_ ? encoder_->count() : 0;
}

util::Result<void> Writer::check_usable() const {
  if (failed_) return *failed_;
  if (finished_) return util::plain_error("write " + path_ + ": recording already finished");
  if (!fd_.valid()) return util::plain_error("write " + path_ + ": recording is closed");
  return {};
}

util::Result<void> Writer::append(std::span<const ks_event> events) {
  if (auto ok = check_usable(); !ok) return ok;
  for (const ks_event& e : events) {
    encoder_->add(e);
    if (encoder_->count() >= options_.block_events || encoder_->size() >= options_.block_bytes) {
      add_pending_blocks();
      if (auto ok = write_out(); !ok) return ok;
    }
  }
  return {};
}

util::Result<void> Writer::add_lost(std::uint32_t cpu, std::uint64_t count) {
  if (auto ok = check_usable(); !ok) return ok;
  if (count == 0) return {};
  if (!lost_cpus_.contains(cpu) && lost_cpus_.size() >= kMaxLostCpus)
    return util::plain_error("record lost events: more CPUs than a recording can hold");
  lost_cpus_.insert(cpu);
  pending_lost_[cpu] += count;
  return {};
}

util::Result<void> Writer::set_vm(std::uint32_t pid, const std::string& name,
                                  const std::string& comm) {
  if (auto ok = check_usable(); !ok) return ok;
  if (!vm_pids_.contains(pid) && vm_pids_.size() >= kMaxVms)
    return util::plain_error("record VM " + std::to_string(pid) +
                             ": more VMs than a recording can hold");
  vm_pids_.insert(pid);
  pending_vms_[pid] = VmMeta{name.substr(0, kMaxLabel), comm.substr(0, kMaxLabel)};
  return {};
}

util::Result<void> Writer::mark(std::uint64_t ts_ns, const std::string& label) {
  if (auto ok = check_usable(); !ok) return ok;
  if (markers_total_ >= kMaxMarkers)
    return util::plain_error("record marker: more markers than a recording can hold");
  ++markers_total_;
  pending_markers_.push_back(Marker{ts_ns, label.substr(0, kMaxLabel)});
  return {};
}

void Writer::add_block(std::uint8_t type, std::span<const std::uint8_t> raw, std::uint32_t count,
                       std::uint64_t first_ts, std::uint64_t last_ts) {
  std::span<const std::uint8_t> stored = raw;
  BlockHeader h;
  h.type = type;
  if (options_.compress && raw.size() >= kMinCompress && compressor_->compress(raw, packed_)) {
    stored = packed_;
    h.flags |= kFlagZstd;
  }
  h.stored_len = static_cast<std::uint32_t>(stored.size());
  h.raw_len = static_cast<std::uint32_t>(raw.size());
  h.count = count;
  h.first_ts = first_ts;
  h.last_ts = last_ts;
  h.payload_crc = crc32c(stored);
  const std::size_t at = out_.size();
  out_.resize(at + kBlockHeaderSize);
  encode_block_header(h, out_.data() + at);
  out_.insert(out_.end(), stored.begin(), stored.end());
  ++blocks_in_out_;
}

// Side blocks go before the events block they were given with, so a reader knows a VM's name
// by the time it meets the VM's events. Entries are cut into blocks like events are: at most
// kMaxBlockCount entries or about kWriterBlockRaw bytes each.
template <class Items, class Encode>
void Writer::add_side_blocks(BlockType type, const Items& items, Encode encode) {
  raw_.clear();
  std::uint32_t count = 0;
  std::uint64_t first_ts = 0, last_ts = 0;
  for (const auto& item : items) {
    const std::uint64_t ts = encode(item, raw_);
    if (count == 0) first_ts = ts;
    last_ts = ts;
    if (++count == kMaxBlockCount || raw_.size() >= options_.block_bytes) {
      add_block(static_cast<std::uint8_t>(type), raw_, count, first_ts, last_ts);
      raw_.clear();
      count = 0;
    }
  }
  if (count > 0) add_block(static_cast<std::uint8_t>(type), raw_, count, first_ts, last_ts);
}

void Writer::add_pending_side_blocks() {
  add_side_blocks(BlockType::vm, pending_vms_, [](const auto& vm, auto& out) {
    encode_vm(vm.first, vm.second, out);
    return std::uint64_t{0};
  });
  pending_vms_.clear();
  add_side_blocks(BlockType::marker, pending_markers_, [](const Marker& m, auto& out) {
    encode_marker(m, out);
    return m.ts_ns;
  });
  pending_markers_.clear();
  add_side_blocks(BlockType::lost, pending_lost_, [this](const auto& lost, auto& out) {
    encode_lost(lost.first, lost.second, out);
    lost_total_ += lost.second;
    return std::uint64_t{0};
  });
  pending_lost_.clear();
}

void Writer::add_pending_blocks() {
  add_pending_side_blocks();
  if (encoder_->count() == 0) return;
  raw_.clear();
  encoder_->write_payload(raw_);
  add_block(static_cast<std::uint8_t>(BlockType::events), raw_, encoder_->count(),
            encoder_->first_ts(), encoder_->last_ts());
  events_in_out_ += encoder_->count();
  encoder_->clear();
}

// One write() for all the blocks gathered; on failure the file is cut back to its last whole
// block, so it ends cleanly, and the writer refuses further work with the same error.
util::Result<void> Writer::write_out() {
  if (out_.empty()) return {};
  const int err = util::write_all(fd_.get(), out_.data(), out_.size());
  if (err != 0) {
    if (::ftruncate(fd_.get(), static_cast<off_t>(bytes_written_)) == 0)
      (void)::lseek(fd_.get(), static_cast<off_t>(bytes_written_), SEEK_SET);
    std::string hint = "the recording up to here stays readable";
    if (err == ENOSPC || err == EFBIG || err == EDQUOT) hint = "disk full: " + hint;
    failed_ = std::make_unique<util::Error>(util::os_error("write " + path_, err, hint));
    out_.clear();
    return *failed_;
  }
  bytes_written_ += out_.size();
  events_written_ += events_in_out_;
  blocks_written_ += blocks_in_out_;
  events_in_out_ = blocks_in_out_ = 0;
  out_.clear();
  return {};
}

util::Result<void> Writer::flush() {
  if (auto ok = check_usable(); !ok) return ok;
  add_pending_blocks();
  return write_out();
}

util::Result<void> Writer::finish() {
  if (auto ok = check_usable(); !ok) return ok;
  add_pending_blocks();
  Totals t;
  t.events = events_written_ + events_in_out_;
  t.lost = lost_total_;
  t.blocks = blocks_written_ + blocks_in_out_;
  t.end_ns = util::monotonic_ns();
  raw_.clear();
  encode_totals(t, raw_);
  add_block(static_cast<std::uint8_t>(BlockType::end), raw_, 1, t.end_ns, t.end_ns);
  if (auto ok = write_out(); !ok) return ok;
  if (::fsync(fd_.get()) != 0) {
    const int err = errno;
    if (err != EINVAL && err != EROFS) {  // a pipe or a read-only file system: nothing to sync
      failed_ = std::make_unique<util::Error>(util::os_error("fsync " + path_, err));
      return *failed_;
    }
  }
  // Some file systems (NFS, FUSE) report a failed write back only at close.
  if (auto closed = fd_.close(path_); !closed) {
    failed_ = std::make_unique<util::Error>(closed.error());
    return *failed_;
  }
  finished_ = true;
  end_ns_ = t.end_ns;
  return {};
}

}  // namespace kvmscope::store
