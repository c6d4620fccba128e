#include "store/event_codec.h"

#include <algorithm>
#include <cstring>
#include <memory>

#include "store/byte_io.h"

namespace kvmscope::store {
namespace {

constexpr std::uint8_t kTagA = 0x10, kTagB = 0x20, kTagC = 0x40, kTagCtx = 0x80;
constexpr std::uint8_t kNewCtx = 0xff;

// Unchecked varint for the decoder: reads at most kMaxVarint bytes, which the padding covers.
// Malformed input (an 11th continuation byte) just ends the value; the stream-end checks catch
// the stream that has gone out of step. A plain byte loop: the lengths of one field are mostly
// alike within a stream, so its branches predict well (a branch-free variant measured slower).
inline std::uint64_t load_varint(const std::uint8_t*& p) {
  std::uint64_t b = *p++;
  if (b < 0x80) return b;
  std::uint64_t v = b & 0x7f;
  for (unsigned shift = 7; shift < 70; shift += 7) {
    b = *p++;
    v |= (b & 0x7f) << shift;
    if (b < 0x80) break;
  }
  return v;
}

inline std::uint64_t load_svarint(const std::uint8_t*& p) {
  return static_cast<std::uint64_t>(unzigzag(load_varint(p)));
}

}  // namespace

std::size_t EventEncoder::CtxHash::operator()(const Ctx& c) const {
  std::uint64_t h = (static_cast<std::uint64_t>(c.tid) << 32 | c.vcpu) * 0x9E3779B97F4A7C15ull;
  h ^= (static_cast<std::uint64_t>(c.tgid) << 16 | c.cpu) * 0xC2B2AE3D27D4EB4Full;
  return static_cast<std::size_t>(h ^ (h >> 29));
}

EventEncoder::EventEncoder() {
  for (auto& s : s_) s.reserve(16 * 1024);
}

void EventEncoder::clear() {
  for (auto& s : s_) s.clear();
  count_ = 0;
  first_ts_ = prev_ts_ = 0;
  have_cur_ = false;
  slot_of_.clear();
  literals_ = 0;
  std::memset(prev_, 0, sizeof prev_);
}

std::size_t EventEncoder::size() const {
  std::size_t n = 0;
  for (const auto& s : s_) n += s.size();
  return n;
}

void EventEncoder::write_payload(std::vector<std::uint8_t>& out) const {
  ByteWriter w(out);
  for (const auto& s : s_) w.varint(s.size());
  for (const auto& s : s_) w.bytes(s);
}

void EventEncoder::add(const ks_event& e) {
  if (count_ == 0) first_ts_ = prev_ts_ = e.ts_ns;
  const Ctx ctx{e.tgid, e.tid, e.vcpu, e.cpu};
  std::uint64_t* prev = prev_[e.type];

  std::uint8_t tag = (e.type >= 1 && e.type <= 15) ? e.type : 0;
  if (e.a != prev[0]) tag |= kTagA;
  if (e.b != prev[1]) tag |= kTagB;
  if (e.c != prev[2]) tag |= kTagC;
  const bool ctx_changes = !have_cur_ || !(ctx == cur_);
  if (ctx_changes) tag |= kTagCtx;

  ByteWriter wt(s_[kTag]);
  wt.u8(tag);
  if ((tag & 0x0f) == 0) wt.u8(e.type);
  ByteWriter(s_[kTs]).svarint(static_cast<std::int64_t>(e.ts_ns - prev_ts_));
  if (ctx_changes) {
    ByteWriter wc(s_[kCtx]);
    auto it = slot_of_.find(ctx);
    if (it != slot_of_.end()) {
      wc.u8(it->second);
    } else {
      // A new context takes the next slot round-robin; the decoder mirrors this rule exactly.
      auto slot = static_cast<std::uint8_t>(literals_ % kSlots);
      if (literals_ >= kSlots) slot_of_.erase(slots_[slot]);
      slots_[slot] = ctx;
      slot_of_[ctx] = slot;
      ++literals_;
      wc.u8(kNewCtx);
      wc.varint(e.tgid);
      wc.varint(e.tid);
      wc.varint(static_cast<std::uint32_t>(e.vcpu + 1));
      wc.varint(e.cpu);
    }
    cur_ = ctx;
    have_cur_ = true;
  }
  if (tag & kTagA) ByteWriter(s_[kA]).svarint(static_cast<std::int64_t>(e.a - prev[0]));
  if (tag & kTagB) ByteWriter(s_[kB]).svarint(static_cast<std::int64_t>(e.b - prev[1]));
  if (tag & kTagC) ByteWriter(s_[kC]).svarint(static_cast<std::int64_t>(e.c - prev[2]));
  prev[0] = e.a;
  prev[1] = e.b;
  prev[2] = e.c;
  prev_ts_ = e.ts_ns;
  ++count_;
}

util::Result<void> EventDecoder::start(const std::uint8_t* payload, std::size_t size,
                                       std::uint32_t count, std::uint64_t first_ts) {
  left_ = 0;
  // Stream lengths, checked against the payload before any stream is read.
  ByteReader lens({payload, size});
  std::uint64_t len[kStreams];
  std::uint64_t total = 0;
  for (auto& l : len) {
    l = lens.varint();
    total += l > size ? size + 1 : l;  // no overflow: each term is at most size + 1
  }
  if (lens.failed() || total != lens.remaining())
    return util::plain_error("events payload stream lengths do not add up to its size");
  const std::uint8_t* at = payload + (size - lens.remaining());
  for (int i = 0; i < kStreams; ++i) {
    p_[i] = at;
    at += len[i];
    end_[i] = at;
  }
  left_ = count;
  done_ = 0;
  ts_ = first_ts;
  have_cur_ = false;
  literals_ = 0;
  std::memset(prev_, 0, sizeof prev_);
  return {};
}

util::Result<void> EventDecoder::decode(ks_event* out, std::uint32_t n) {
  if (n > left_) n = left_;
  // Locals, so the compiler keeps the hot state in registers.
  const std::uint8_t *pt = p_[0], *ps = p_[1], *pc = p_[2];
  const std::uint8_t *pa = p_[3], *pb = p_[4], *pz = p_[5];
  const std::uint8_t *et = end_[0], *es = end_[1], *ec = end_[2];
  const std::uint8_t *ea = end_[3], *eb = end_[4], *ez = end_[5];
  std::uint64_t ts = ts_;
  Ctx cur = cur_;
  bool have_cur = have_cur_;
  std::string err;

  std::uint32_t i = 0;
  for (std::uint32_t group_end = 0; i < n;) {
    // Bounds are checked once per group of kCheckEvery events: one event reads at most
    // kMaxEventBytes from any stream, so pointers within their streams here stay inside the
    // buffer and its padding for the whole group. A pointer that ran past its stream's end is
    // caught at the next check or after the loop, before any event of this batch is used.
    if (i == group_end) {
      if ((pt >= et) | (ps >= es) | (pc > ec) | (pa > ea) | (pb > eb) | (pz > ez)) {
        err = "events payload streams end after " + std::to_string(done_ + i) + " events";
        break;
      }
      group_end = std::min(n, i + kCheckEvery);
    }
    const std::uint8_t tag = *pt++;
    std::uint8_t type = tag & 0x0f;
    if (type == 0) type = *pt++;
    ts += load_svarint(ps);
    if (tag & kTagCtx) {
      const std::uint8_t slot = *pc++;
      if (slot == kNewCtx) {
        Ctx& c = slots_[literals_ % 255];
        c.tgid = static_cast<std::uint32_t>(load_varint(pc));
        c.tid = static_cast<std::uint32_t>(load_varint(pc));
        c.vcpu = static_cast<std::uint32_t>(load_varint(pc)) - 1;
        c.cpu = static_cast<std::uint16_t>(load_varint(pc));
        cur = c;
        ++literals_;
      } else if (slot < literals_) {
        cur = slots_[slot];
      } else {
        err = "event " + std::to_string(done_ + i) + " names an unset context";
        break;
      }
      have_cur = true;
    } else if (!have_cur) {
      err = "event " + std::to_string(done_ + i) + " has no context";
      break;
    }
    std::uint64_t* pv = prev_[type];
    if (tag & kTagA) pv[0] += load_svarint(pa);
    if (tag & kTagB) pv[1] += load_svarint(pb);
    if (tag & kTagC) pv[2] += load_svarint(pz);

    ks_event& e = out[i];
    e.ts_ns = ts;
    e.tgid = cur.tgid;
    e.tid = cur.tid;
    e.vcpu = cur.vcpu;
    e.cpu = cur.cpu;
    e.type = type;
    e.pad = 0;
    e.a = pv[0];
    e.b = pv[1];
    e.c = pv[2];
    ++i;
  }
  if (err.empty() && ((pt > et) | (ps > es) | (pc > ec) | (pa > ea) | (pb > eb) | (pz > ez)))
    err = "events payload streams end before event " + std::to_string(done_ + n);
  if (!err.empty()) {
    left_ = 0;
    return util::plain_error(err);
  }
  p_[0] = pt, p_[1] = ps, p_[2] = pc, p_[3] = pa, p_[4] = pb, p_[5] = pz;
  ts_ = ts;
  cur_ = cur;
  have_cur_ = have_cur;
  left_ -= n;
  done_ += n;
  if (left_ == 0)
    for (int s = 0; s < kStreams; ++s)
      if (p_[s] != end_[s])
        return util::plain_error("events payload stream " + std::to_string(s) +
                                 " does not end where its length says");
  return {};
}

util::Result<void> decode_events(const std::uint8_t* payload, std::size_t size, std::uint32_t count,
                                 std::uint64_t first_ts, ks_event* out) {
  // Large: kept off the stack of callers that may run on small ones.
  auto dec = std::make_unique<EventDecoder>();
  if (auto started = dec->start(payload, size, count, first_ts); !started) return started;
  return dec->decode(out, count);
}

}  // namespace kvmscope::store
