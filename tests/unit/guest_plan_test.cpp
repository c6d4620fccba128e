// guest::parse_plan: the options of "kvmscope guest", their defaults and every usage error.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "guest/plan.h"

namespace kvmscope::guest {
namespace {

util::Result<Plan> parse(std::vector<const char*> args) {
  return parse_plan(args);
}

std::string error_of(std::vector<const char*> args) {
  auto plan = parse(args);
  if (plan) return "(parsed)";
  return plan.error().message();
}

// Every usage error of guest ends like every other subcommand's.
const std::string kSee = " (see 'kvmscope guest --help')";

TEST(GuestPlan, has_defaults_when_given_no_arguments) {
  auto plan = parse({});
  ASSERT_TRUE(plan) << plan.error().message();
  for (Kind k : kKinds) EXPECT_EQ((*plan)[k], 0u) << kind_name(k);
  EXPECT_EQ(plan->vcpus, 1u);
  EXPECT_EQ(plan->timeout_s, 10u);
  EXPECT_FALSE(plan->quiet);
  EXPECT_FALSE(plan->help);
  EXPECT_EQ(plan->exits_per_vcpu(), 0u);
}

TEST(GuestPlan, reads_every_kind_when_given_all_options) {
  auto plan =
      parse({"--cpuid", "700", "--io", "5000", "--hlt", "300", "--msr-read", "300", "--msr-write",
             "200", "--mmio", "500", "--vmcall", "7", "--vcpus", "2", "--timeout", "3"});
  ASSERT_TRUE(plan) << plan.error().message();
  EXPECT_EQ((*plan)[Kind::cpuid], 700u);
  EXPECT_EQ((*plan)[Kind::io], 5000u);
  EXPECT_EQ((*plan)[Kind::hlt], 300u);
  EXPECT_EQ((*plan)[Kind::msr_read], 300u);
  EXPECT_EQ((*plan)[Kind::msr_write], 200u);
  EXPECT_EQ((*plan)[Kind::mmio], 500u);
  EXPECT_EQ((*plan)[Kind::vmcall], 7u);
  EXPECT_EQ(plan->vcpus, 2u);
  EXPECT_EQ(plan->timeout_s, 3u);
  EXPECT_EQ(plan->vmm_exits_per_vcpu(), 5800u);
  EXPECT_EQ(plan->exits_per_vcpu(), 7007u);
}

TEST(GuestPlan, accepts_equals_form_when_value_is_attached) {
  auto plan = parse({"--io=12", "--vcpus=3"});
  ASSERT_TRUE(plan) << plan.error().message();
  EXPECT_EQ((*plan)[Kind::io], 12u);
  EXPECT_EQ(plan->vcpus, 3u);
}

TEST(GuestPlan, keeps_last_value_when_option_repeats) {
  auto plan = parse({"--io", "1", "--io", "2"});
  ASSERT_TRUE(plan);
  EXPECT_EQ((*plan)[Kind::io], 2u);
}

TEST(GuestPlan, sets_flags_when_given_quiet_and_help) {
  auto plan = parse({"--quiet", "--help"});
  ASSERT_TRUE(plan);
  EXPECT_TRUE(plan->quiet);
  EXPECT_TRUE(plan->help);
  auto short_forms = parse({"-q", "-h"});
  ASSERT_TRUE(short_forms);
  EXPECT_TRUE(short_forms->quiet);
  EXPECT_TRUE(short_forms->help);
}

TEST(GuestPlan, accepts_large_counts_up_to_the_maximum) {
  auto plan = parse({"--cpuid", "1000000000", "--io", "4294967296"});
  ASSERT_TRUE(plan);
  EXPECT_EQ((*plan)[Kind::cpuid], 1000000000u);
  EXPECT_EQ((*plan)[Kind::io], 4294967296u);
  std::string max = std::to_string(kMaxCount);
  auto at_max = parse({"--hlt", max.c_str()});
  ASSERT_TRUE(at_max);
  EXPECT_EQ((*at_max)[Kind::hlt], kMaxCount);
}

TEST(GuestPlan, accepts_vcpu_bounds_when_1_or_64) {
  EXPECT_TRUE(parse({"--vcpus", "1"}));
  auto plan = parse({"--vcpus", "64"});
  ASSERT_TRUE(plan);
  EXPECT_EQ(plan->vcpus, 64u);
}

TEST(GuestPlan, refuses_when_value_is_not_a_number) {
  EXPECT_EQ(error_of({"--io", "x"}), "--io: expected a non-negative integer, got 'x'" + kSee);
  EXPECT_EQ(error_of({"--cpuid", "1e9"}),
            "--cpuid: expected a non-negative integer, got '1e9'" + kSee);
  EXPECT_EQ(error_of({"--hlt", " 5"}), "--hlt: expected a non-negative integer, got ' 5'" + kSee);
  EXPECT_EQ(error_of({"--mmio", "0x10"}),
            "--mmio: expected a non-negative integer, got '0x10'" + kSee);
  EXPECT_EQ(error_of({"--msr-read="}),
            "--msr-read: expected a non-negative integer, got ''" + kSee);
}

TEST(GuestPlan, refuses_when_value_is_negative) {
  EXPECT_EQ(error_of({"--io", "-1"}), "--io: expected a non-negative integer, got '-1'" + kSee);
  EXPECT_EQ(error_of({"--vmcall", "+1"}),
            "--vmcall: expected a non-negative integer, got '+1'" + kSee);
}

TEST(GuestPlan, refuses_when_count_is_too_large) {
  const std::string max = std::to_string(kMaxCount);
  const std::string over = std::to_string(kMaxCount + 1);
  EXPECT_EQ(
      error_of({"--msr-write", over.c_str()}),
      "--msr-write: expected a non-negative integer up to " + max + ", got '" + over + "'" + kSee);
  EXPECT_EQ(error_of({"--io", "99999999999999999999999"}),
            "--io: expected a non-negative integer up to " + max +
                ", got '99999999999999999999999'" + kSee);
}

TEST(GuestPlan, refuses_when_value_is_missing) {
  EXPECT_EQ(error_of({"--io"}), "--io needs a value" + kSee);
  EXPECT_EQ(error_of({"--cpuid", "1", "--vcpus"}), "--vcpus needs a value" + kSee);
}

TEST(GuestPlan, refuses_when_vcpus_out_of_range) {
  EXPECT_EQ(error_of({"--vcpus", "0"}),
            "--vcpus: expected a vCPU count from 1 to 64, got '0'" + kSee);
  EXPECT_EQ(error_of({"--vcpus", "65"}),
            "--vcpus: expected a vCPU count from 1 to 64, got '65'" + kSee);
  EXPECT_EQ(error_of({"--vcpus", "two"}),
            "--vcpus: expected a vCPU count from 1 to 64, got 'two'" + kSee);
}

TEST(GuestPlan, refuses_when_timeout_is_not_positive) {
  EXPECT_EQ(error_of({"--timeout", "0"}),
            "--timeout: expected a whole number of seconds from 1 to 86400, got '0'" + kSee);
  EXPECT_EQ(error_of({"--timeout", "1.5"}),
            "--timeout: expected a whole number of seconds from 1 to 86400, got '1.5'" + kSee);
}

TEST(GuestPlan, refuses_when_option_is_unknown) {
  EXPECT_EQ(error_of({"--foo"}), "unknown option '--foo'" + kSee);
  EXPECT_EQ(error_of({"--foo=1"}), "unknown option '--foo'" + kSee);
  EXPECT_EQ(error_of({"--"}), "unknown option '--'" + kSee);
  EXPECT_EQ(error_of({"--cpiud", "5"}), "unknown option '--cpiud'; did you mean '--cpuid'?" + kSee);
  EXPECT_EQ(error_of({"--vcpu=2"}), "unknown option '--vcpu'; did you mean '--vcpus'?" + kSee);
}

TEST(GuestPlan, refuses_when_given_a_positional_argument) {
  EXPECT_EQ(error_of({"5"}), "unexpected argument '5'" + kSee);
  EXPECT_EQ(error_of({"-x"}), "unexpected argument '-x'" + kSee);
}

TEST(GuestPlan, names_kinds_like_their_options) {
  std::vector<std::string> names;
  for (Kind k : kKinds) names.emplace_back(kind_name(k));
  EXPECT_EQ(names, (std::vector<std::string>{"cpuid", "msr-read", "msr-write", "vmcall", "mmio",
                                             "io", "hlt"}));
}

TEST(GuestPlan, puts_exits_to_the_vmm_last) {
  // The VMM stops at the last exit it gets, so every in-kernel kind must come before them.
  bool seen_vmm = false;
  for (Kind k : kKinds) {
    if (exits_to_vmm(k))
      seen_vmm = true;
    else
      EXPECT_FALSE(seen_vmm) << kind_name(k) << " comes after an exit to the VMM";
  }
  EXPECT_TRUE(exits_to_vmm(Kind::mmio));
  EXPECT_TRUE(exits_to_vmm(Kind::io));
  EXPECT_TRUE(exits_to_vmm(Kind::hlt));
  EXPECT_FALSE(exits_to_vmm(Kind::cpuid));
  EXPECT_FALSE(exits_to_vmm(Kind::vmcall));
}

}  // namespace
}  // namespace kvmscope::guest
