// The command-line number parsers, called in process from the ks_cli library (the kvmscope
// executable is main.cpp alone): the whole string must be the number.
#include <gtest/gtest.h>

#include <cstdint>

#include "cli/numbers.h"

namespace kvmscope::cli {
namespace {

TEST(CliNumbers, U64TakesOnlyAWholeNumber) {
  EXPECT_EQ(parse_u64("0"), 0u);
  EXPECT_EQ(parse_u64("18446744073709551615"), UINT64_MAX);
  EXPECT_EQ(parse_u64(""), std::nullopt);
  EXPECT_EQ(parse_u64("12x"), std::nullopt);
  EXPECT_EQ(parse_u64("-1"), std::nullopt);
  EXPECT_EQ(parse_u64(" 1"), std::nullopt);
  EXPECT_EQ(parse_u64("18446744073709551616"), std::nullopt);  // one past the top
}

TEST(CliNumbers, SecondsTakeAUnit) {
  EXPECT_EQ(parse_seconds("10"), 10.0);
  EXPECT_EQ(parse_seconds("2.5s"), 2.5);
  EXPECT_EQ(parse_seconds("500ms"), 0.5);
  EXPECT_EQ(parse_seconds("1m"), 60.0);
  EXPECT_EQ(parse_seconds("2h"), 7200.0);
  EXPECT_EQ(parse_seconds("ms"), std::nullopt);
  EXPECT_EQ(parse_seconds("-1"), std::nullopt);
  EXPECT_EQ(parse_seconds("1d"), std::nullopt);
  EXPECT_EQ(parse_seconds("inf"), std::nullopt);
}

// diff's --per-a, --alpha, --min-change: a plain decimal, the whole text.
TEST(CliNumbers, Decimals) {
  EXPECT_EQ(parse_decimal("0"), 0.0);
  EXPECT_EQ(parse_decimal("2.5"), 2.5);
  EXPECT_EQ(parse_decimal("1e-4"), 1e-4);
  EXPECT_EQ(parse_decimal(""), std::nullopt);
  EXPECT_EQ(parse_decimal("5%"), std::nullopt);
  EXPECT_EQ(parse_decimal("-1"), std::nullopt);
  EXPECT_EQ(parse_decimal("nan"), std::nullopt);
}

}  // namespace
}  // namespace kvmscope::cli
