// guest::decode_query and friends: the exit-statistics CPUID leaves' answers decoded, the codes
// asked per vendor, and the text kvmscope guest --query-exits prints.
#include <gtest/gtest.h>

#include <sstream>

#include "guest/exit_query.h"
#include "guest/exit_query_text.h"

namespace kvmscope::guest {
namespace {

constexpr CpuidRegs kUndefined{0, 0, 0, 0xffffffff};

TEST(GuestExitQuery, asks_vmx_0_to_80_on_intel_and_svm_codes_on_amd) {
  EXPECT_EQ(vendor_of("GenuineIntel"), Vendor::intel);
  EXPECT_EQ(vendor_of("AuthenticAMD"), Vendor::amd);
  EXPECT_EQ(vendor_of("HygonGenuine"), Vendor::amd);
  EXPECT_EQ(vendor_of("CentaurHauls"), Vendor::unknown);

  const auto intel = query_codes(Vendor::intel);
  ASSERT_EQ(intel.size(), 81u);
  EXPECT_EQ(intel.front(), 0u);
  EXPECT_EQ(intel.back(), 80u);

  const auto amd = query_codes(Vendor::amd);
  ASSERT_EQ(amd.size(), 260u);
  EXPECT_EQ(amd[0xff], 0xffu);
  EXPECT_EQ(amd[0x100], 0x400u);  // npf follows the last 8-bit code
  EXPECT_EQ(amd.back(), 0x403u);  // vmgexit
  EXPECT_TRUE(query_codes(Vendor::unknown).empty());
  EXPECT_EQ(isa_of(Vendor::amd), "svm");
  EXPECT_EQ(cpuid_exit_code(Vendor::amd), 0x72u);
  EXPECT_EQ(cpuid_exit_code(Vendor::intel), 10u);
}

TEST(GuestExitQuery, tells_the_patched_probe_answer_from_an_unpatched_one) {
  EXPECT_TRUE(answers_probe(kUndefined));
  EXPECT_FALSE(answers_probe({0, 0, 0, 0}));             // an unknown leaf on an unpatched KVM
  EXPECT_FALSE(answers_probe({0xd, 0x756e6547, 0, 0}));  // or the highest basic leaf, Intel-style
  EXPECT_FALSE(answers_probe({1, 0, 0, 0xffffffff}));
  EXPECT_EQ(classify({0, 0, 0, 0}), Answer::counted);  // defined, never seen
  EXPECT_EQ(classify({5, 0, 0, 0}), Answer::counted);
  EXPECT_EQ(classify(kUndefined), Answer::undefined);
  EXPECT_EQ(classify({0, 0, 0, 7}), Answer::unexpected);
}

TEST(GuestExitQuery, splits_cycles_into_ebx_high_and_ecx_low) {
  EXPECT_EQ(exits_of({0xffffffff, 9, 9, 0}), 0xffffffffu);
  EXPECT_EQ(cycles_of({9, 0x12, 0x34567890, 0}), 0x1234567890ull);
}

RawQuery answered_query() {
  RawQuery raw;
  raw.asked = 3;
  raw.probe = kUndefined;
  raw.total_exits = {1000, 0, 0, 0};
  raw.total_cycles = {0, 0x1, 0x2, 0};
  raw.entries = {{0, {0, 0, 0, 0}, {0, 0, 0, 0}},           // defined, never seen
                 {10, {1007, 0, 0, 0}, {0, 0, 500000, 0}},  // cpuid
                 {30, kUndefined, kUndefined}};             // undefined
  return raw;
}

TEST(GuestExitQuery, counts_the_query_cpuids_completed_before_each_read) {
  const ExitQuery q = decode_query(answered_query());
  ASSERT_TRUE(q.answered);
  EXPECT_EQ(q.total_exits, 1000u);
  EXPECT_EQ(q.total_cycles, 0x100000002ull);
  EXPECT_EQ(q.cpuids_before_total_exits, 1u);  // the probe
  EXPECT_EQ(q.cpuids_before_total_cycles, 2u);
  ASSERT_EQ(q.reasons.size(), 3u);
  EXPECT_EQ(q.reasons[0].cpuids_before_exits, 3u);
  EXPECT_EQ(q.reasons[0].cpuids_before_cycles, 4u);
  EXPECT_EQ(q.reasons[1].cpuids_before_exits, 5u);
  EXPECT_EQ(q.reasons[1].exits, 1007u);
  EXPECT_EQ(q.reasons[1].cycles, 500000u);
  EXPECT_EQ(q.reasons[2].answer, Answer::undefined);
  EXPECT_EQ(q.query_cpuids, 9u);  // probe, 2 totals, 3 x 2 per code
}

TEST(GuestExitQuery, asks_nothing_more_after_an_unpatched_probe) {
  RawQuery raw = answered_query();
  raw.probe = {0, 0, 0, 0};
  const ExitQuery q = decode_query(raw);
  EXPECT_FALSE(q.answered);
  EXPECT_TRUE(q.reasons.empty());
  EXPECT_EQ(q.query_cpuids, 1u);
  EXPECT_EQ(probe_detail(q),
            "CPUID 0x4ffffffd with ECX=0xfffffff0 answered eax=0x0 ebx=0x0 ecx=0x0 edx=0x0; a "
            "patched KVM answers eax=0x0 ebx=0x0 ecx=0x0 edx=0xffffffff");
}

TEST(GuestExitQuery, marks_an_answer_outside_the_abi_as_unexpected) {
  RawQuery raw = answered_query();
  raw.entries[1].cycles = kUndefined;  // counted exits but undefined cycles: inconsistent
  const ExitQuery q = decode_query(raw);
  EXPECT_EQ(q.reasons[1].answer, Answer::unexpected);
}

TEST(GuestExitQuery, prints_one_parseable_row_per_reason_seen_and_the_cpuid_correction) {
  ExitQuery q = decode_query(answered_query());
  q.vendor = Vendor::intel;
  q.vendor_string = "GenuineIntel";
  Plan plan;
  plan[Kind::cpuid] = 1000;
  std::ostringstream out;
  render_exit_query(q, plan, model::ReasonCatalog::builtin(), out);
  EXPECT_EQ(out.str(),
            "exit statistics of this VM, read by vCPU 0 from KVM's CPUID leaves "
            "0x4ffffffc-0x4fffffff (GenuineIntel: vmx codes, 3 asked, 2 defined (1 never seen), "
            "1 undefined)\n"
            "code   exits  cycles      share   own  reason\n"
            "0x00a  1007   500000      100.0%  5    CPUID\n"
            "total  1000   4294967298          1    (leaves 0x4fffffff, 0x4ffffffe)\n"
            "exits: as KVM counted them when the row was read; cycles: KVM's cycles handling "
            "them (EBX:ECX); share: of the rows' exits (1007)\n"
            "own: the query's own cpuid exits completed before that row's exits read (its "
            "cycles read comes one CPUID later); KVM also counts the reading CPUID before "
            "answering it, so the cpuid row and the total each hold own + 1 of the query's "
            "CPUIDs\n"
            "the query's own cpuid exits before the totals read: 1 (exits), 2 (cycles); in all: "
            "9 CPUIDs, then one HLT (KVM_EXIT_HLT) ended vCPU 0\n"
            "cpuid row (0x00a): 1007 read = 1000 planned (1 vCPU x --cpuid 1000) + 5 of the "
            "query before that read + 1 the reading CPUID + 1 other\n");
}

}  // namespace
}  // namespace kvmscope::guest
