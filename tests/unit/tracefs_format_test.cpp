#include "model/tracefs_format.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <random>
#include <string>

#include "support/fixtures.h"
#include "util/fd.h"

namespace kvmscope::model {
namespace {

using kvmscope::testing::format_fixture;
const std::string k618 = "tracefs-6.18-pvm";
const std::string k61 = "tracefs-6.1-svm";

std::string fixture(const std::string& folder, const std::string& event) {
  return format_fixture(folder, event);
}

EventFormat parsed(const std::string& dir, const std::string& event) {
  auto f = parse_event_format(fixture(dir, event));
  EXPECT_TRUE(f.ok()) << f.error().message();
  return f.ok() ? *f : EventFormat{};
}

// An event with one u32 field `exit_reason`, one u32 `isa`, and the given print fmt.
EventFormat synthetic(const std::string& print_fmt) {
  EventFormat f;
  f.name = "synthetic";
  f.fields = {{"unsigned int", "exit_reason", 8, 4, false}, {"u32", "isa", 12, 4, false}};
  f.print_fmt = print_fmt;
  return f;
}

TEST(TracefsFormat, parses_kvm_exit_field_offsets_on_6_18) {
  const EventFormat f = parsed(k618, "kvm_exit");
  EXPECT_EQ(f.name, "kvm_exit");
  EXPECT_EQ(f.id, 103u);
  ASSERT_EQ(f.fields.size(), 13u);
  struct Want {
    const char* name;
    unsigned offset, size;
  };
  for (Want w : {Want{"exit_reason", 8, 4}, Want{"isa", 24, 4}, Want{"vcpu_id", 56, 4},
                 Want{"requests", 64, 8}, Want{"guest_rip", 16, 8}}) {
    const FormatField* field = f.field(w.name);
    ASSERT_NE(field, nullptr) << w.name;
    EXPECT_EQ(field->offset, w.offset) << w.name;
    EXPECT_EQ(field->size, w.size) << w.name;
    EXPECT_FALSE(field->is_signed) << w.name;
  }
  EXPECT_EQ(f.field("exit_reason")->type, "unsigned int");
  EXPECT_EQ(f.field("isa")->type, "u32");
  EXPECT_TRUE(f.field("common_pid")->is_signed);
  EXPECT_EQ(f.field("no_such_field"), nullptr);
  EXPECT_EQ(f.print_fmt.substr(0, 20), "\"vcpu %u reason %s%s");
}

TEST(TracefsFormat, keeps_array_dimensions_with_the_type) {
  const EventFormat f = parsed(k618, "kvm_emulate_insn");
  const FormatField* insn = f.field("insn");
  ASSERT_NE(insn, nullptr);
  EXPECT_EQ(insn->type, "__u8[15]");
  EXPECT_EQ(insn->offset, 21u);
  EXPECT_EQ(insn->size, 15u);
}

TEST(TracefsFormat, finds_vmx_and_svm_tables_by_isa_branch) {
  auto tables = symbolic_tables(parsed(k618, "kvm_exit"));
  ASSERT_TRUE(tables.ok()) << tables.error().message();
  ASSERT_EQ(tables->size(), 2u);
  const SymbolTable& vmx = (*tables)[0];
  const SymbolTable& svm = (*tables)[1];
  EXPECT_EQ(vmx.isa, 1u);
  EXPECT_EQ(vmx.field, "exit_reason");
  EXPECT_EQ(vmx.value_expr, "REC->exit_reason & 0xffff");
  EXPECT_EQ(vmx.symbols.size(), 65u);
  EXPECT_EQ(vmx.symbols.at(30), "IO_INSTRUCTION");
  EXPECT_EQ(vmx.symbols.at(85), "MSR_WRITE_IMM");
  EXPECT_EQ(svm.isa, 2u);  // the else-branch of `REC->isa == 1`
  EXPECT_EQ(svm.field, "exit_reason");
  EXPECT_EQ(svm.value_expr, "REC->exit_reason");
  EXPECT_EQ(svm.symbols.size(), 110u);
}

TEST(TracefsFormat, parses_svm_table_with_offsets) {
  auto tables = symbolic_tables(parsed(k618, "kvm_exit"));
  ASSERT_TRUE(tables.ok());
  const auto& svm = (*tables)[1].symbols;
  EXPECT_EQ(svm.at(0x46), "UD excp");  // { 0x040 + 6, "UD excp" }
  EXPECT_EQ(svm.at(0x4d), "GP excp");  // { 0x040 + 13, ... }
  EXPECT_EQ(svm.at(0x40), "DE excp");  // { 0x040 + 0, ... }
  EXPECT_EQ(svm.at(0x72), "cpuid");
  EXPECT_EQ(svm.at(0x7b), "io");
  EXPECT_EQ(svm.at(0x400), "npf");
  EXPECT_EQ(svm.at(0x0a6), "idle-halt");
  EXPECT_EQ(svm.count(0x42), 0u);  // NMI vector: not in the kernel's table
}

TEST(TracefsFormat, maps_minus_one_to_the_field_width) {
  auto tables = symbolic_tables(parsed(k618, "kvm_exit"));
  ASSERT_TRUE(tables.ok());
  const auto& svm = (*tables)[1].symbols;
  EXPECT_EQ(svm.at(0xffffffffu), "invalid_guest_state");
  EXPECT_EQ(svm.count(0xffffffffffffffffu), 0u);
  EXPECT_EQ(svm.at(0x80000001u), "vmgexit_mmio_read");
  EXPECT_EQ(svm.at(0x8000fffdu), "vmgexit_hypervisor_feature");
}

TEST(TracefsFormat, concatenates_adjacent_strings_in_userspace_table) {
  const EventFormat f = parsed(k618, "kvm_userspace_exit");
  EXPECT_EQ(f.id, 42u);
  ASSERT_NE(f.field("errno"), nullptr);
  EXPECT_TRUE(f.field("errno")->is_signed);
  EXPECT_EQ(f.field("errno")->offset, 12u);
  auto tables = symbolic_tables(f);
  ASSERT_TRUE(tables.ok()) << tables.error().message();
  ASSERT_EQ(tables->size(), 1u);
  const SymbolTable& t = (*tables)[0];
  EXPECT_EQ(t.field, "reason");
  EXPECT_FALSE(t.isa.has_value());
  ASSERT_EQ(t.symbols.size(), 31u);
  EXPECT_EQ(t.symbols.begin()->first, 0u);
  EXPECT_EQ(t.symbols.rbegin()->first, 30u);
  EXPECT_EQ(t.symbols.at(0), "KVM_EXIT_UNKNOWN");
  EXPECT_EQ(t.symbols.at(2), "KVM_EXIT_IO");
  EXPECT_EQ(t.symbols.at(6), "KVM_EXIT_MMIO");
  EXPECT_EQ(t.symbols.at(30), "KVM_EXIT_X86_WRMSR");
}

TEST(TracefsFormat, extracts_vmx_flags_from_print_flags) {
  const EventFormat f = parsed(k618, "kvm_exit");
  auto flags = flag_tables(f);
  ASSERT_TRUE(flags.ok()) << flags.error().message();
  ASSERT_EQ(flags->size(), 1u);
  EXPECT_EQ((*flags)[0].isa, 1u);
  EXPECT_EQ((*flags)[0].field, "exit_reason");
  EXPECT_EQ((*flags)[0].value_expr, "REC->exit_reason & ~0xffff");
  EXPECT_EQ((*flags)[0].symbols,
            (std::map<std::uint64_t, std::string>{{0x80000000u, "FAILED_VMENTRY"}}));
  // A print fmt without __print_flags has no flag tables.
  auto none = flag_tables(parsed(k618, "kvm_userspace_exit"));
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
}

TEST(TracefsFormat, evaluates_shift_and_or_values) {
  auto tables = symbolic_tables(parsed(k618, "kvm_emulate_insn"));
  ASSERT_TRUE(tables.ok()) << tables.error().message();
  ASSERT_EQ(tables->size(), 1u);
  const auto& t = (*tables)[0];
  EXPECT_EQ(t.field, "flags");
  EXPECT_EQ(t.symbols, (std::map<std::uint64_t, std::string>{
                           {0, "real"}, {3, "vm16"}, {1, "prot16"}, {5, "prot32"}, {9, "prot64"}}));
}

TEST(TracefsFormat, parses_every_fixture_file) {
  for (const std::string& dir : {k618, k61}) {
    int files = 0;
    for (const auto& entry :
         std::filesystem::directory_iterator(kvmscope::testing::fixture_path(dir))) {
      if (entry.path().extension() != ".format") continue;
      ++files;
      auto text = util::read_file(entry.path().string());
      ASSERT_TRUE(text.ok());
      auto f = parse_event_format(*text);
      ASSERT_TRUE(f.ok()) << entry.path() << ": " << f.error().message();
      EXPECT_EQ(f->name + ".format", entry.path().filename().string());
      EXPECT_TRUE(symbolic_tables(*f).ok()) << entry.path();
      EXPECT_TRUE(flag_tables(*f).ok()) << entry.path();
    }
    EXPECT_EQ(files, dir == k618 ? 10 : 9) << dir;
  }
}

TEST(TracefsFormat, parses_kvm_exit_of_the_6_1_svm_bed) {
  const EventFormat f = parsed(k61, "kvm_exit");
  ASSERT_NE(f.field("exit_reason"), nullptr);
  ASSERT_NE(f.field("isa"), nullptr);
  EXPECT_EQ(f.field("requests"), nullptr);  // 6.1 predates the requests field
  EXPECT_EQ(f.field("exit_reason")->offset, 8u);
  EXPECT_EQ(f.field("isa")->offset, 24u);
  EXPECT_EQ(f.field("vcpu_id")->offset, 56u);
  auto tables = symbolic_tables(f);
  ASSERT_TRUE(tables.ok()) << tables.error().message();
  ASSERT_EQ(tables->size(), 2u);
  EXPECT_EQ((*tables)[0].isa, 1u);
  EXPECT_EQ((*tables)[1].isa, 2u);
  // 6.18 added TDCALL and MSR_{READ,WRITE}_IMM (VMX), buslock and idle-halt (SVM).
  EXPECT_EQ((*tables)[0].symbols.size(), 62u);
  EXPECT_EQ((*tables)[1].symbols.size(), 108u);
  EXPECT_EQ((*tables)[1].symbols.at(0x81), "hypercall");
  auto flags = flag_tables(f);
  ASSERT_TRUE(flags.ok());
  ASSERT_EQ(flags->size(), 1u);
  EXPECT_EQ((*flags)[0].symbols.at(0x80000000u), "FAILED_VMENTRY");
  const auto& svm = (*tables)[1].symbols;
  EXPECT_EQ(svm.at(0x72), "cpuid");
  EXPECT_EQ(svm.at(0x7b), "io");
  EXPECT_EQ(svm.at(0x78), "hlt");
  EXPECT_EQ(svm.at(0x60), "interrupt");
  EXPECT_EQ(svm.at(0x400), "npf");
  EXPECT_EQ(svm.at(0xffffffffu), "invalid_guest_state");
}

TEST(TracefsFormat, understands_nested_parentheses_casts_and_reversed_isa_test) {
  auto tables = symbolic_tables(synthetic(
      R"("%s %s", ((1) == (REC->isa)) ? __print_symbolic((u32)(REC->exit_reason & 0xffff), )"
      R"({ (0x40 + (6)), "UD" " " "excp" }, { ((1 << 4) | 1), "seventeen" }, )"
      R"({ 'A', "char" }, { 010, "octal" }, { 5UL, "suffixed" }, { -2 * 3 + ~0 + !0, "-6" }) )"
      R"(: "no", REC->isa == 2 ? "svm" : __print_symbolic(REC->exit_reason, { -1, "err" }))"));
  ASSERT_TRUE(tables.ok()) << tables.error().message();
  ASSERT_EQ(tables->size(), 2u);
  const SymbolTable& a = (*tables)[0];
  EXPECT_EQ(a.isa, 1u);
  EXPECT_EQ(a.field, "exit_reason");
  EXPECT_EQ(a.value_expr, "(u32)(REC->exit_reason & 0xffff)");
  EXPECT_EQ(a.symbols.at(0x46), "UD excp");
  EXPECT_EQ(a.symbols.at(17), "seventeen");
  EXPECT_EQ(a.symbols.at(65), "char");
  EXPECT_EQ(a.symbols.at(8), "octal");
  EXPECT_EQ(a.symbols.at(5), "suffixed");
  EXPECT_EQ(a.symbols.at(0xfffffffau), "-6");  // -6 in a u32 field
  EXPECT_EQ((*tables)[1].isa, 1u);             // the else-branch of `isa == 2`
  EXPECT_EQ((*tables)[1].symbols.at(0xffffffffu), "err");
}

TEST(TracefsFormat, leaves_isa_unset_outside_an_isa_selection) {
  auto tables = symbolic_tables(synthetic(
      R"("%s", REC->exit_reason > 3 ? __print_symbolic(REC->exit_reason, { 4, "four" }) : "")"));
  ASSERT_TRUE(tables.ok()) << tables.error().message();
  ASSERT_EQ(tables->size(), 1u);
  EXPECT_FALSE((*tables)[0].isa.has_value());
}

TEST(TracefsFormat, keeps_the_first_name_of_a_repeated_value) {
  auto tables = symbolic_tables(
      synthetic(R"("%s", __print_symbolic(REC->exit_reason, { 1, "first" }, { 1, "second" }))"));
  ASSERT_TRUE(tables.ok());
  EXPECT_EQ((*tables)[0].symbols.at(1), "first");
}

TEST(TracefsFormat, resolves_escapes_in_names) {
  auto tables = symbolic_tables(
      synthetic(R"("%s", __print_symbolic(REC->exit_reason, { 1, "a\"b\\c\x41\101\tz" }, ))"));
  ASSERT_TRUE(tables.ok()) << tables.error().message();
  EXPECT_EQ((*tables)[0].symbols.at(1), "a\"b\\cAA\tz");
}

TEST(TracefsFormat, rejects_files_that_are_not_format_files) {
  const std::string real = fixture(k618, "kvm_exit");
  for (const std::string& text : {
           std::string(),
           std::string("hello world\n"),
           std::string("name: kvm_exit\n"),  // no ID, no format, no print fmt
           std::string("name: x\nID: abc\nformat:\nprint fmt: \"\"\n"),
           std::string("name: x\nID: 1\nformat:\n\tfield:int a;\toffset:0;\nprint fmt: \"\"\n"),
           std::string("name: x\nID: 1\nformat:\n\tfield:int;\toffset:0;\tsize:4;\n"
                       "print fmt: \"\"\n"),
           std::string("name: x\nID: 1\nformat:\n\tfield:int a;\toffset:-1;\tsize:4;\n"
                       "print fmt: \"\"\n"),
           std::string("name: x\nID: 1\n\tfield:int a;\toffset:0;\tsize:4;\nformat:\n"
                       "print fmt: \"\"\n"),
           std::string("\x7f"
                       "ELF\x02\x01\x01\0\0\0",
                       10),
           real.substr(0, real.find("print fmt")),
       }) {
    auto f = parse_event_format(text);
    EXPECT_FALSE(f.ok()) << "accepted: " << text.substr(0, 60);
  }
}

TEST(TracefsFormat, rejects_malformed_print_fmts) {
  for (const std::string& fmt : {
           std::string(R"("unterminated)"),
           std::string(R"("%s", __print_symbolic(REC->exit_reason, { 1, "a" })"),
           std::string(R"("%s", __print_symbolic(REC->exit_reason, { 1, "a" })))"),
           std::string(R"("%s", __print_symbolic(REC->exit_reason, { 1 }))"),
           std::string(R"("%s", __print_symbolic(REC->exit_reason, { 1, 2 }))"),
           std::string(R"("%s", __print_symbolic(REC->exit_reason, { REC->isa, "x" }))"),
           std::string(R"("%s", __print_symbolic(REC->exit_reason, { 1 / 0, "x" }))"),
           std::string(R"("%s", __print_symbolic(REC->exit_reason, { 1 << 64, "x" }))"),
           std::string(R"("%s", __print_symbolic(REC->exit_reason, { 0x, "x" }))"),
           std::string(
               R"("%s", __print_symbolic(REC->exit_reason, { 99999999999999999999, "x" }))"),
           std::string(R"("%s", __print_symbolic(REC->exit_reason, { 1, "x" } "y"))"),
           std::string(R"("%s", __print_symbolic())"),
           std::string(R"("%s", REC->isa == 1 ? "a")"),
           std::string(R"("%s", REC-> )"),
           std::string(R"("%s", @)"),
           std::string(R"("%s", "\)"),
           std::string(R"("%s",, REC->isa)"),
           std::string(R"("%s", __print_flags(REC->exit_reason))"),
       }) {
    auto tables = symbolic_tables(synthetic(fmt));
    auto flags = flag_tables(synthetic(fmt));
    EXPECT_FALSE(tables.ok() && flags.ok()) << "accepted: " << fmt;
  }
}

TEST(TracefsFormat, refuses_deep_nesting_without_crashing) {
  for (const char* open : {"(", "-", "{", "!(", "a ? ", "1 + ", "1 | (", "a[", "(u32)", "f("}) {
    std::string fmt = "\"%s\", ";
    for (int i = 0; i < 100000; ++i) fmt += open;
    fmt += "1";
    auto tables = symbolic_tables(synthetic(fmt));
    EXPECT_FALSE(tables.ok()) << open;
  }
  std::string members = "\"%s\", REC";
  for (int i = 0; i < 100000; ++i) members += "->a";
  EXPECT_FALSE(symbolic_tables(synthetic(members)).ok());
  // Nesting as deep as kernels write it still parses.
  std::string fine = "\"%s\", __print_symbolic(REC->exit_reason, { ";
  for (int i = 0; i < 40; ++i) fine += "(";
  fine += "1";
  for (int i = 0; i < 40; ++i) fine += " + 1)";
  fine += ", \"x\" })";
  auto ok = symbolic_tables(synthetic(fine));
  ASSERT_TRUE(ok.ok()) << ok.error().message();
  EXPECT_EQ((*ok)[0].symbols.at(41), "x");
}

TEST(TracefsFormat, never_crashes_on_truncated_or_mutated_input) {
  const std::string real = fixture(k618, "kvm_exit");
  // Every prefix of the print fmt: either parses or is an Error.
  const EventFormat whole = parsed(k618, "kvm_exit");
  for (std::size_t n = 0; n < whole.print_fmt.size(); n += 3) {
    EventFormat f = whole;
    f.print_fmt.resize(n);
    (void)symbolic_tables(f);
    (void)flag_tables(f);
  }
  // Random byte flips of the whole file, with a fixed seed so a failure repeats.
  std::mt19937 rng(42);
  for (int round = 0; round < 300; ++round) {
    std::string text = real;
    for (int k = 0; k < 8; ++k) text[rng() % text.size()] = static_cast<char>(rng() % 256);
    auto f = parse_event_format(text);
    if (!f.ok()) continue;
    (void)symbolic_tables(*f);
    (void)flag_tables(*f);
  }
  SUCCEED();
}

}  // namespace
}  // namespace kvmscope::model
