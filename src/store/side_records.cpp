#include "store/side_records.h"

#include "store/byte_io.h"

namespace kvmscope::store {
namespace {

std::string_view clip(const std::string& s) {
  return std::string_view(s).substr(0, kMaxLabel);
}

// A string field: the length is checked against the limit before the bytes are copied.
bool read_label(ByteReader& r, std::string& out) {
  // Peek the length through a copy so an over-long string is refused before allocation.
  ByteReader peek = r;
  if (peek.varint() > kMaxLabel) return false;
  out = r.str();
  return !r.failed();
}

util::Error bad(const char* what, std::uint32_t i) {
  return util::plain_error(std::string(what) + " entry " + std::to_string(i) + " is malformed");
}

}  // namespace

void encode_lost(std::uint32_t cpu, std::uint64_t count, std::vector<std::uint8_t>& out) {
  ByteWriter w(out);
  w.varint(cpu);
  w.varint(count);
}

void encode_vm(std::uint32_t pid, const VmMeta& vm, std::vector<std::uint8_t>& out) {
  ByteWriter w(out);
  w.varint(pid);
  w.str(clip(vm.name));
  w.str(clip(vm.comm));
}

void encode_marker(const Marker& m, std::vector<std::uint8_t>& out) {
  ByteWriter w(out);
  w.varint(m.ts_ns);
  w.str(clip(m.label));
}

void encode_totals(const Totals& t, std::vector<std::uint8_t>& out) {
  ByteWriter w(out);
  w.varint(t.events);
  w.varint(t.lost);
  w.varint(t.blocks);
  w.varint(t.end_ns);
}

util::Result<void> decode_lost(std::span<const std::uint8_t> in, std::uint32_t count,
                               std::vector<std::pair<std::uint32_t, std::uint64_t>>& out) {
  ByteReader r(in);
  std::vector<std::pair<std::uint32_t, std::uint64_t>> got;
  for (std::uint32_t i = 0; i < count; ++i) {
    std::uint64_t cpu = r.varint();
    std::uint64_t n = r.varint();
    if (r.failed() || cpu > UINT32_MAX) return bad("lost", i);
    got.emplace_back(static_cast<std::uint32_t>(cpu), n);
  }
  if (!r.at_end()) return util::plain_error("lost payload has bytes after its entries");
  out.insert(out.end(), got.begin(), got.end());
  return {};
}

util::Result<void> decode_vms(std::span<const std::uint8_t> in, std::uint32_t count,
                              std::vector<VmEntry>& out) {
  ByteReader r(in);
  std::vector<VmEntry> got;
  for (std::uint32_t i = 0; i < count; ++i) {
    VmEntry e;
    std::uint64_t pid = r.varint();
    if (r.failed() || pid > UINT32_MAX) return bad("vm", i);
    e.pid = static_cast<std::uint32_t>(pid);
    if (!read_label(r, e.meta.name) || !read_label(r, e.meta.comm)) return bad("vm", i);
    got.push_back(std::move(e));
  }
  if (!r.at_end()) return util::plain_error("vm payload has bytes after its entries");
  for (auto& e : got) out.push_back(std::move(e));
  return {};
}

util::Result<void> decode_markers(std::span<const std::uint8_t> in, std::uint32_t count,
                                  std::vector<Marker>& out) {
  ByteReader r(in);
  std::vector<Marker> got;
  for (std::uint32_t i = 0; i < count; ++i) {
    Marker m;
    m.ts_ns = r.varint();
    if (r.failed() || !read_label(r, m.label)) return bad("marker", i);
    got.push_back(std::move(m));
  }
  if (!r.at_end()) return util::plain_error("marker payload has bytes after its entries");
  for (auto& m : got) out.push_back(std::move(m));
  return {};
}

util::Result<void> decode_totals(std::span<const std::uint8_t> in, Totals& out) {
  ByteReader r(in);
  Totals t;
  t.events = r.varint();
  t.lost = r.varint();
  t.blocks = r.varint();
  t.end_ns = r.varint();
  if (r.failed()) return util::plain_error("end block payload is malformed");
  // Bytes after these fields are left for later minor versions.
  out = t;
  return {};
}

}  // namespace kvmscope::store
