// What kvmscope guest says about a run: counts from the guest's RAM that cannot be believed are
// "unknown", never a number wrapped around (the issue: `--vmcall 1 --timeout 1` once printed
// "cpuid 18,446,744,073,709,551,604").
#include <gtest/gtest.h>

#include <sstream>

#include "guest/guest.h"
#include "guest/outcome_text.h"

namespace kvmscope::guest {
namespace {

TEST(GuestOutcome, done_is_planned_minus_remaining_when_remaining_fits) {
  EXPECT_EQ(done_from_remaining(5, 0), Count(5));
  EXPECT_EQ(done_from_remaining(5, 2), Count(3));
  EXPECT_EQ(done_from_remaining(5, 5), Count(0));
  EXPECT_EQ(done_from_remaining(0, 0), Count(0));
}

TEST(GuestOutcome, done_is_unknown_when_remaining_exceeds_the_plan) {
  EXPECT_EQ(done_from_remaining(0, 12), std::nullopt);  // was 2^64 - 12
  EXPECT_EQ(done_from_remaining(5, 6), std::nullopt);
  EXPECT_EQ(done_from_remaining(0, ~0ull), std::nullopt);
  EXPECT_EQ(count_text(std::nullopt), "unknown");
  EXPECT_EQ(count_text(12), "12");
}

TEST(GuestOutcome, totals_are_unknown_when_one_vcpu_count_is) {
  Outcome out;
  out.vcpus.resize(2);
  out.vcpus[0].done[static_cast<std::size_t>(Kind::io)] = 3;
  out.vcpus[1].done[static_cast<std::size_t>(Kind::io)] = 4;
  EXPECT_EQ(out.total(Kind::io), Count(7));
  EXPECT_EQ(out.total(), Count(7));
  out.vcpus[1].done[static_cast<std::size_t>(Kind::cpuid)] = std::nullopt;
  EXPECT_EQ(out.total(Kind::cpuid), std::nullopt);
  EXPECT_EQ(out.total(Kind::io), Count(7));
  EXPECT_EQ(out.total(), std::nullopt);
}

TEST(GuestOutcome, stalled_run_prints_unknown_never_a_wrapped_count) {
  Plan plan;
  plan[Kind::vmcall] = 1;
  plan.timeout_s = 1;
  Outcome out;
  out.ending = Ending::stalled;
  out.elapsed_s = 1.002;
  out.vcpus.resize(1);
  out.vcpus[0].step = 4;
  out.vcpus[0].done[static_cast<std::size_t>(Kind::cpuid)] = done_from_remaining(0, 12);
  std::ostringstream text;
  render_outcome(plan, out, 4242, text);
  EXPECT_EQ(text.str(),
            "kvmscope guest: pid 4242, 1 vCPU, each running the whole plan\n"
            "kind       per vCPU    total  handled\n"
            "cpuid       unknown  unknown  in kernel (CPUID leaf 0)\n"
            "msr-read          0        0  in kernel (RDMSR 0x1a0 IA32_MISC_ENABLE)\n"
            "msr-write         0        0  in kernel (WRMSR 0x1a0, value unchanged)\n"
            "vmcall       0 of 1        0  in kernel (VMCALL/VMMCALL nr 0x4b53)\n"
            "mmio              0        0  KVM_EXIT_MMIO (write GPA 0xa0000)\n"
            "io                0        0  KVM_EXIT_IO (OUT port 0x10)\n"
            "hlt               0        0  KVM_EXIT_HLT\n"
            "all                  unknown\n"
            "ended: stalled; the counts are what was done\n"
            "unknown: the count the guest keeps in its RAM is beyond its plan, so how many it did "
            "is not known (a guest that went astray after an instruction KVM did not complete "
            "can write anywhere)\n"
            "elapsed 1.002 s, unknown exits/s\n");
  EXPECT_EQ(text.str().find("18,446,744"), std::string::npos);
}

TEST(GuestOutcome, uneven_vcpus_show_the_known_range_and_how_many_are_unknown) {
  Plan plan;
  plan.vcpus = 3;
  plan[Kind::cpuid] = 10;
  Outcome out;
  out.ending = Ending::interrupted;
  out.signal = 2;
  out.elapsed_s = 0.5;
  out.vcpus.resize(3);
  out.vcpus[0].done[0] = 4;
  out.vcpus[1].done[0] = 7;
  out.vcpus[2].done[0] = std::nullopt;
  std::ostringstream text;
  render_outcome(plan, out, 1, text);
  EXPECT_NE(text.str().find("cpuid      4..7 (1 unknown) of 10  unknown  in kernel"),
            std::string::npos)
      << text.str();
  EXPECT_NE(text.str().find("ended: interrupted by SIGINT; the counts are what was done so far\n"),
            std::string::npos);
}

TEST(GuestOutcome, completed_run_prints_plain_counts_and_rate) {
  Plan plan;
  plan[Kind::io] = 1000;
  Outcome out;
  out.ending = Ending::last_exit;
  out.elapsed_s = 2.0;
  out.vcpus.resize(1);
  out.vcpus[0].done[static_cast<std::size_t>(Kind::io)] = 1000;
  std::ostringstream text;
  render_outcome(plan, out, 7, text);
  EXPECT_NE(text.str().find("io            1,000  1,000  KVM_EXIT_IO (OUT port 0x10)\n"),
            std::string::npos)
      << text.str();
  EXPECT_NE(text.str().find("ended: at the last planned exit (KVM_EXIT_IO); the vCPUs were not "
                            "resumed\nelapsed 2.000 s, 500 exits/s\n"),
            std::string::npos)
      << text.str();
  EXPECT_EQ(text.str().find("unknown"), std::string::npos);
}

}  // namespace
}  // namespace kvmscope::guest
