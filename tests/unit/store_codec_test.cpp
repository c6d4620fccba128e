// The recording format's building blocks: CRC32C, varints, block headers and the events codec.
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "../../bench/store_stream.h"
#include "store/block.h"
#include "store/byte_io.h"
#include "store/crc32c.h"
#include "store/event_codec.h"
#include "support/error_text.h"

namespace {

using namespace kvmscope::store;
using kvmscope::testing::error_text;

std::span<const std::uint8_t> bytes_of(const std::string& s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

TEST(StoreCrc32c, matches_the_standard_check_value_on_both_paths) {
  EXPECT_EQ(crc32c(bytes_of("123456789")), 0xE3069283u);
  EXPECT_EQ(crc32c_portable(bytes_of("123456789")), 0xE3069283u);
  EXPECT_EQ(crc32c(bytes_of("")), 0u);
  std::string long_text;
  for (int i = 0; i < 1000; ++i) long_text += static_cast<char>(i * 7);
  for (std::size_t n : {1u, 7u, 8u, 9u, 63u, 1000u}) {
    auto part = bytes_of(long_text).first(n);
    EXPECT_EQ(crc32c(part), crc32c_portable(part)) << n;
  }
  // Chaining equals one pass.
  auto all = bytes_of(long_text);
  EXPECT_EQ(crc32c(all.subspan(300), crc32c(all.first(300))), crc32c(all));
}

TEST(StoreVarint, round_trips_edge_values) {
  const std::uint64_t values[] = {0,         1, 127, 128, 16383, 16384, UINT32_MAX, UINT64_MAX - 1,
                                  UINT64_MAX};
  std::vector<std::uint8_t> buf;
  ByteWriter w(buf);
  for (auto v : values) {
    w.varint(v);
    w.svarint(static_cast<std::int64_t>(v));
  }
  ByteReader r(buf);
  for (auto v : values) {
    EXPECT_EQ(r.varint(), v);
    EXPECT_EQ(r.svarint(), static_cast<std::int64_t>(v));
  }
  EXPECT_TRUE(r.at_end());
  EXPECT_FALSE(r.failed());
  EXPECT_EQ(r.varint(), 0u);  // past the end: a sticky failure, not a read out of bounds
  EXPECT_TRUE(r.failed());
}

TEST(StoreVarint, refuses_overlong_varints_and_strings) {
  std::vector<std::uint8_t> eleven(11, 0x80);
  ByteReader r(eleven);
  r.varint();
  EXPECT_TRUE(r.failed());
  std::vector<std::uint8_t> str = {0x05, 'a', 'b'};  // says 5 bytes, has 2
  ByteReader s(str);
  EXPECT_EQ(s.str(), "");
  EXPECT_TRUE(s.failed());
}

TEST(StoreBlockHeader, round_trips_and_rejects_damage) {
  BlockHeader h;
  h.type = 1;
  h.flags = kFlagZstd;
  h.stored_len = 100;
  h.raw_len = 300;
  h.count = 42;
  h.first_ts = 5;
  h.last_ts = UINT64_MAX;
  h.payload_crc = 0xdeadbeef;
  std::uint8_t buf[kBlockHeaderSize];
  encode_block_header(h, buf);
  BlockHeader back;
  ASSERT_EQ(
      error_text(decode_block_header(std::span<const std::uint8_t, kBlockHeaderSize>(buf), back)),
      "");
  EXPECT_EQ(back.count, 42u);
  EXPECT_EQ(back.last_ts, UINT64_MAX);
  buf[5] ^= 1;
  EXPECT_EQ(
      error_text(decode_block_header(std::span<const std::uint8_t, kBlockHeaderSize>(buf), back)),
      "block header CRC mismatch");

  h.count = kMaxBlockCount + 1;  // a valid CRC over an impossible count: refused before use
  encode_block_header(h, buf);
  EXPECT_NE(
      error_text(decode_block_header(std::span<const std::uint8_t, kBlockHeaderSize>(buf), back))
          .find("over the limit"),
      std::string::npos);
}

std::vector<ks_event> edge_events() {
  std::vector<ks_event> ev;
  auto add = [&](std::uint64_t ts, std::uint32_t tgid, std::uint32_t tid, std::uint32_t vcpu,
                 std::uint16_t cpu, std::uint8_t type, std::uint64_t a, std::uint64_t b,
                 std::uint64_t c) {
    ev.push_back(ks_event{ts, tgid, tid, vcpu, cpu, type, 0, a, b, c});
  };
  add(1000, 1, 2, 0, 0, KS_EV_EXIT, 0x72, 2, 0xffffffff81000000ull);
  add(990, 1, 2, 0, 0, KS_EV_ENTRY, 0, 0, 0);  // ts a little backwards (ring-buffer order)
  add(UINT64_MAX, UINT32_MAX, UINT32_MAX, KS_VCPU_UNKNOWN, UINT16_MAX, KS_EV_USERSPACE_EXIT,
      UINT64_MAX, UINT64_MAX, UINT64_MAX);
  add(0, 0, 0, 0, 0, 0, 0, 0, 0);  // type 0 and ts back to 0
  add(7, 3, 4, KS_VCPU_UNKNOWN, 1, 15, 1, 2, 3);
  add(8, 3, 4, 5, 1, 16, UINT64_MAX, 0, 1);  // types past the tag's 4 bits
  add(9, 3, 4, 5, 1, 255, 0x8000000000000000ull, 1, 0);
  add(10, 1, 2, 0, 0, KS_EV_EXIT, 0x400, 2, 0);  // back to an earlier context
  return ev;
}

std::string round_trip(const std::vector<ks_event>& in, std::vector<ks_event>& out) {
  EventEncoder enc;
  for (const auto& e : in) enc.add(e);
  std::vector<std::uint8_t> payload;
  enc.write_payload(payload);
  const std::size_t size = payload.size();
  payload.resize(size + kDecodePadding);
  out.assign(in.size(), ks_event{});
  return error_text(decode_events(payload.data(), size, enc.count(), enc.first_ts(), out.data()));
}

void expect_same(const std::vector<ks_event>& a, const std::vector<ks_event>& b) {
  ASSERT_EQ(a.size(), b.size());
  for (std::size_t i = 0; i < a.size(); ++i)
    ASSERT_EQ(std::memcmp(&a[i], &b[i], sizeof(ks_event)), 0) << "event " << i;
}

TEST(StoreEventCodec, round_trips_edge_values) {
  const auto in = edge_events();
  std::vector<ks_event> out;
  ASSERT_EQ(round_trip(in, out), "");
  expect_same(in, out);
}

TEST(StoreEventCodec, round_trips_more_threads_than_context_slots) {
  // 600 distinct (tgid, tid, vcpu, cpu) contexts, revisited: the 255 slots are reused round-robin.
  std::vector<ks_event> in;
  for (int round = 0; round < 3; ++round)
    for (std::uint32_t t = 0; t < 600; t += (round == 1 ? 7 : 1))
      in.push_back(ks_event{t * 10ull + round, 100 + t / 50, 1000 + t, t % 8,
                            static_cast<std::uint16_t>(t % 3), KS_EV_ENTRY, 0, 0, 0, 0});
  std::vector<ks_event> out;
  ASSERT_EQ(round_trip(in, out), "");
  expect_same(in, out);
}

TEST(StoreEventCodec, decodes_in_batches_exactly_as_at_once) {
  const auto in = kvmscope::bench::realistic_stream(10000);
  EventEncoder enc;
  for (const auto& e : in) enc.add(e);
  std::vector<std::uint8_t> payload;
  enc.write_payload(payload);
  const std::size_t size = payload.size();
  payload.resize(size + kDecodePadding);
  EventDecoder dec;
  ASSERT_EQ(error_text(dec.start(payload.data(), size, enc.count(), enc.first_ts())), "");
  std::vector<ks_event> out(in.size());
  std::size_t at = 0;
  while (dec.left() > 0) {
    const std::uint32_t n = std::min<std::uint32_t>(dec.left(), 777);
    ASSERT_EQ(error_text(dec.decode(out.data() + at, n)), "");
    at += n;
  }
  expect_same(in, out);
  EXPECT_LT(size, in.size() * 6) << "a realistic stream should take a few bytes per event";
}

TEST(StoreEventCodec, rejects_payloads_that_do_not_match_their_count) {
  const auto in = edge_events();
  EventEncoder enc;
  for (const auto& e : in) enc.add(e);
  std::vector<std::uint8_t> payload;
  enc.write_payload(payload);
  const std::size_t size = payload.size();
  payload.resize(size + kDecodePadding);
  std::vector<ks_event> out(in.size() + 1);
  EXPECT_NE(
      error_text(decode_events(payload.data(), size, enc.count() + 1, enc.first_ts(), out.data())),
      "");
  EXPECT_NE(
      error_text(decode_events(payload.data(), size, enc.count() - 1, enc.first_ts(), out.data())),
      "");
  EXPECT_NE(
      error_text(decode_events(payload.data(), size - 1, enc.count(), enc.first_ts(), out.data())),
      "");
  payload[0] = 0x7f;  // first stream length now exceeds the payload
  EXPECT_EQ(
      error_text(decode_events(payload.data(), size, enc.count(), enc.first_ts(), out.data())),
      "events payload stream lengths do not add up to its size");
}

TEST(StoreEventCodec, rejects_streams_whose_boundaries_moved) {
  // Moving one byte from the end of a stream to the start of the next keeps the total length
  // right, so only the per-stream bounds checks can notice: any group of events may run over.
  const auto in = kvmscope::bench::realistic_stream(100);
  EventEncoder enc;
  for (const auto& e : in) enc.add(e);
  std::vector<std::uint8_t> payload;
  enc.write_payload(payload);
  ByteReader lens(payload);
  std::vector<std::uint64_t> len(6);
  for (auto& l : len) l = lens.varint();
  const std::size_t body = payload.size() - lens.remaining();
  for (int s = 0; s < 5; ++s) {
    if (len[s] == 0) continue;
    auto moved = len;
    --moved[s];
    ++moved[s + 1];
    std::vector<std::uint8_t> bad;
    ByteWriter w(bad);
    for (auto l : moved) w.varint(l);
    bad.insert(bad.end(), payload.begin() + static_cast<std::ptrdiff_t>(body), payload.end());
    const std::size_t size = bad.size();
    bad.resize(size + kDecodePadding);
    std::vector<ks_event> out(in.size());
    EXPECT_NE(error_text(decode_events(bad.data(), size, enc.count(), enc.first_ts(), out.data())),
              "")
        << "stream " << s;
  }
}

}  // namespace
