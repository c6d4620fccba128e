// Drill-down keys, the per-kind cap and the tables (merged across VMs or split per VM).
#include "model/drilldown.h"

#include <gtest/gtest.h>

namespace kvmscope::model {
namespace {

void count(DrillDown& d, const DrillKey& key, std::uint64_t n) {
  d.at(key).count += n;
}

TEST(DrillDown, names_round_trip) {
  for (DrillKind kind : kDrillKinds) EXPECT_EQ(drill_kind_from_name(drill_kind_name(kind)), kind);
  EXPECT_FALSE(drill_kind_from_name("ports"));
}

TEST(DrillDown, port_keys_carry_direction_and_size) {
  const DrillKey k = port_key(1, 0x3f8, true, 2);
  EXPECT_TRUE(port_is_out(k));
  EXPECT_EQ(port_size(k), 2u);
  EXPECT_FALSE(port_is_out(port_key(1, 0x3f8, false, 1)));
  EXPECT_NE(port_key(1, 0x3f8, true, 1), port_key(1, 0x3f8, false, 1));
}

TEST(DrillDown, merges_vms_unless_split_and_sorts_by_count) {
  DrillDown d;
  count(d, port_key(100, 0x3f8, true, 1), 5);
  count(d, port_key(200, 0x3f8, true, 1), 7);
  count(d, port_key(100, 0x80, true, 1), 9);
  count(d, cpuid_key(100, 1), 3);
  const auto merged = drill_tables(d, DrillKind::port, false);
  ASSERT_EQ(merged.size(), 1u);
  EXPECT_FALSE(merged[0].vm_pid);
  ASSERT_EQ(merged[0].rows.size(), 2u);
  EXPECT_EQ(merged[0].rows[0].key.value, 0x3f8u);
  EXPECT_EQ(merged[0].rows[0].stats.count, 12u);
  EXPECT_EQ(merged[0].total.count, 21u);
  const auto split = drill_tables(d, DrillKind::port, true);
  ASSERT_EQ(split.size(), 2u);
  EXPECT_EQ(*split[0].vm_pid, 100u);
  EXPECT_EQ(split[0].rows[0].key.value, 0x80u);
  EXPECT_EQ(*split[1].vm_pid, 200u);
  EXPECT_TRUE(drill_tables(d, DrillKind::msr, false).empty());
}

TEST(DrillDown, keys_beyond_the_cap_go_to_the_other_row_listed_last) {
  DrillDown d(2);
  count(d, mmio_key(1, 0x1000, MmioAccess::write), 1);
  count(d, mmio_key(1, 0x2000, MmioAccess::write), 1);
  count(d, mmio_key(1, 0x3000, MmioAccess::write), 5);  // third key: other
  count(d, mmio_key(1, 0x4000, MmioAccess::write), 5);  // other
  count(d, mmio_key(1, 0x1000, MmioAccess::write), 1);  // known key: still its own row
  count(d, mmio_key(2, 0x1000, MmioAccess::write), 1);  // another VM has its own cap
  EXPECT_EQ(d.entries().size(), 4u);
  const auto t = drill_tables(d, DrillKind::mmio, false);
  ASSERT_EQ(t.size(), 1u);
  ASSERT_EQ(t[0].rows.size(), 3u);
  EXPECT_TRUE(t[0].rows.back().key.other);
  EXPECT_EQ(t[0].rows.back().stats.count, 10u);
  EXPECT_EQ(t[0].total.count, 14u);
}

}  // namespace
}  // namespace kvmscope::model
