#include "model/reason_catalog.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "bpf/kvmscope_bpf.h"
#include "model/builtin_reasons.h"
#include "support/fixtures.h"
#include "util/fd.h"

namespace kvmscope::model {
namespace {

namespace fs = std::filesystem;

using kvmscope::testing::format_fixture;
const std::string k618 = "tracefs-6.18-pvm";
const std::string k61 = "tracefs-6.1-svm";

std::string fixture(const std::string& folder, const std::string& event) {
  return format_fixture(folder, event);
}

Reason vmx(std::uint32_t code) {
  return {Level::hardware, Isa::vmx, code};
}
Reason svm(std::uint32_t code) {
  return {Level::hardware, Isa::svm, code};
}
Reason arm(std::uint32_t code) {
  return {Level::hardware, Isa::arm64, code};
}
Reason vmm(std::uint32_t code) {
  return {Level::vmm, Isa::none, code};
}

// A minimal kvm_userspace_exit format with the given table entries.
std::string userspace_format(const std::string& entries) {
  return "name: kvm_userspace_exit\nID: 42\nformat:\n"
         "\tfield:__u32 reason;\toffset:8;\tsize:4;\tsigned:0;\n"
         "\tfield:int errno;\toffset:12;\tsize:4;\tsigned:1;\n\n"
         "print fmt: \"reason %s (%d)\", REC->errno < 0 ? (REC->errno == -4 ? \"restart\" : "
         "\"error\") : __print_symbolic(REC->reason, " +
         entries + "), REC->errno < 0 ? -REC->errno : REC->reason\n";
}

// arm64's kvm_exit (arch/arm64/kvm/trace_arm.h): the exception type and the exception class.
const char* kArm64KvmExit =
    "name: kvm_exit\nID: 70\nformat:\n"
    "\tfield:int ret;\toffset:8;\tsize:4;\tsigned:1;\n"
    "\tfield:unsigned int esr_ec;\toffset:12;\tsize:4;\tsigned:0;\n"
    "\tfield:unsigned long vcpu_pc;\toffset:16;\tsize:8;\tsigned:0;\n\n"
    "print fmt: \"%s: HSR_EC: 0x%04x (%s), PC: 0x%08lx\", __print_symbolic(REC->ret, "
    "{0, \"IRQ\" }, {1, \"SERROR\" }, {2, \"TRAP\" }), REC->esr_ec, "
    "__print_symbolic(REC->esr_ec, { 0x01, \"WFx\" }, { 0x16, \"HVC64\" }, "
    "{ 0x24, \"DABT_LOW_KERNEL\" }), REC->vcpu_pc\n";

TEST(ReasonCatalog, builtin_names_common_codes_of_every_isa) {
  const ReasonCatalog c = ReasonCatalog::builtin();
  EXPECT_EQ(c.name(vmx(30)), "IO_INSTRUCTION");
  EXPECT_EQ(c.name(vmx(10)), "CPUID");
  EXPECT_EQ(c.name(vmx(48)), "EPT_VIOLATION");
  EXPECT_EQ(c.name(vmx(5)), "IO_SMI");  // SDM only, not in the kernel's table
  EXPECT_EQ(c.name(svm(0x72)), "cpuid");
  EXPECT_EQ(c.name(svm(0x7b)), "io");
  EXPECT_EQ(c.name(svm(0x78)), "hlt");
  EXPECT_EQ(c.name(svm(0x60)), "interrupt");
  EXPECT_EQ(c.name(svm(0x400)), "npf");
  EXPECT_EQ(c.name(svm(0x46)), "UD excp");
  EXPECT_EQ(c.name(svm(0xffffffff)), "invalid_guest_state");
  EXPECT_EQ(c.name(arm(0x16)), "HVC64");
  EXPECT_EQ(c.name(arm(0x24)), "DABT_LOW");
  EXPECT_EQ(c.name(arm(0x01)), "WFx");
  EXPECT_EQ(c.name(vmm(2)), "KVM_EXIT_IO");
  EXPECT_EQ(c.name(vmm(5)), "KVM_EXIT_HLT");
  EXPECT_EQ(c.name(vmm(39)), "KVM_EXIT_MEMORY_FAULT");
}

TEST(ReasonCatalog, vmx_name_masks_the_basic_reason_and_appends_flags) {
  const ReasonCatalog c = ReasonCatalog::builtin();
  EXPECT_EQ(c.name(vmx(0x80000021)), "INVALID_STATE|FAILED_VMENTRY");
  EXPECT_EQ(c.name(vmx(0x0800001e)), "IO_INSTRUCTION|SGX_ENCLAVE_MODE");
  EXPECT_EQ(c.name(vmx(0x8800001e)), "IO_INSTRUCTION|SGX_ENCLAVE_MODE|FAILED_VMENTRY");
  EXPECT_EQ(c.name(vmx(0x4000001e)), "IO_INSTRUCTION|0x40000000");  // a bit without a name
  EXPECT_EQ(c.name(vmx(0x8000fff0)), "65520|FAILED_VMENTRY");
  // The code keeps the flags: distinct keys stay distinct.
  EXPECT_EQ(c.code_text(vmx(0x80000021)), "2147483681");
}

TEST(ReasonCatalog, unknown_code_is_named_by_its_number) {
  const ReasonCatalog c = ReasonCatalog::builtin();
  EXPECT_EQ(c.name(vmx(65520)), "65520");
  EXPECT_EQ(c.name(svm(0x4242)), "0x4242");
  EXPECT_EQ(c.name(svm(0x42)), "0x42");  // NMI vector: SVM_EXIT_REASONS has no name for it
  EXPECT_EQ(c.name(arm(0x3f)), "0x3f");
  EXPECT_EQ(c.name(vmm(999)), "999");
  EXPECT_EQ(c.name({Level::hardware, Isa::none, 7}), "7");
  for (const Reason& r : {vmx(65520), svm(0x4242), arm(0x3f), vmm(999)})
    EXPECT_EQ(c.name(r), c.code_text(r));
}

TEST(ReasonCatalog, code_text_is_decimal_for_vmx_and_vmm_and_hex_for_svm_and_arm64) {
  const ReasonCatalog c = ReasonCatalog::builtin();
  EXPECT_EQ(c.code_text(vmx(30)), "30");
  EXPECT_EQ(c.code_text(svm(0x7b)), "0x7b");
  EXPECT_EQ(c.code_text(svm(0x400)), "0x400");
  EXPECT_EQ(c.code_text(svm(0xffffffff)), "0xffffffff");
  EXPECT_EQ(c.code_text(arm(0x16)), "0x16");
  EXPECT_EQ(c.code_text(vmm(2)), "2");
  EXPECT_EQ(c.code_text(vmm(KS_VMM_ERRNO_FLAG | 4)), "-4");  // what KVM_RUN returned
}

TEST(ReasonCatalog, names_kvm_run_failures_by_errno) {
  const ReasonCatalog c = ReasonCatalog::builtin();
  EXPECT_EQ(c.name(vmm(KS_VMM_ERRNO_FLAG | 4)), "restart (EINTR)");
  EXPECT_EQ(c.name(vmm(KS_VMM_ERRNO_FLAG | 14)), "error (errno 14: EFAULT)");
  EXPECT_EQ(c.name(vmm(KS_VMM_ERRNO_FLAG | 22)), "error (errno 22: EINVAL)");
  EXPECT_EQ(c.name(vmm(KS_VMM_ERRNO_FLAG | 9999)), "error (errno 9999)");
}

TEST(ReasonCatalog, falls_back_to_builtin_tables_when_formats_are_empty) {
  auto c = ReasonCatalog::from_formats("", "");
  ASSERT_TRUE(c.ok()) << c.error().message();
  for (auto [level, isa] : {std::pair{Level::hardware, Isa::vmx},
                            {Level::hardware, Isa::svm},
                            {Level::hardware, Isa::arm64},
                            {Level::vmm, Isa::none}})
    EXPECT_EQ(c->source(level, isa), NameSource::builtin);
  EXPECT_EQ(c->name(svm(0x7b)), "io");
  EXPECT_EQ(c->name(vmm(2)), "KVM_EXIT_IO");
  EXPECT_EQ(ReasonCatalog::builtin().source(Level::hardware, Isa::svm), NameSource::builtin);
}

TEST(ReasonCatalog, takes_vmx_svm_and_vmm_tables_from_the_6_18_kernel) {
  auto c =
      ReasonCatalog::from_formats(fixture(k618, "kvm_exit"), fixture(k618, "kvm_userspace_exit"));
  ASSERT_TRUE(c.ok()) << c.error().message();
  EXPECT_EQ(c->source(Level::hardware, Isa::vmx), NameSource::kernel);
  EXPECT_EQ(c->source(Level::hardware, Isa::svm), NameSource::kernel);
  EXPECT_EQ(c->source(Level::vmm, Isa::none), NameSource::kernel);
  EXPECT_EQ(c->source(Level::hardware, Isa::arm64), NameSource::builtin);
  EXPECT_EQ(c->name(vmx(85)), "MSR_WRITE_IMM");
  EXPECT_EQ(c->name(vmx(0x80000021)), "INVALID_STATE|FAILED_VMENTRY");
  EXPECT_EQ(c->name(svm(0x46)), "UD excp");
  EXPECT_EQ(c->name(svm(0xffffffff)), "invalid_guest_state");
  EXPECT_EQ(c->name(svm(0xa6)), "idle-halt");
  EXPECT_EQ(c->name(vmm(2)), "KVM_EXIT_IO");
  EXPECT_EQ(c->name(vmm(30)), "KVM_EXIT_X86_WRMSR");
  // Newer than the kernel's tracepoint table: the built-in name fills the gap.
  EXPECT_EQ(c->name(vmm(39)), "KVM_EXIT_MEMORY_FAULT");
  EXPECT_EQ(c->name(svm(0x4242)), "0x4242");
}

TEST(ReasonCatalog, takes_svm_names_from_the_6_1_bed) {
  auto c =
      ReasonCatalog::from_formats(fixture(k61, "kvm_exit"), fixture(k61, "kvm_userspace_exit"));
  ASSERT_TRUE(c.ok()) << c.error().message();
  EXPECT_EQ(c->source(Level::hardware, Isa::svm), NameSource::kernel);
  EXPECT_EQ(c->source(Level::vmm, Isa::none), NameSource::kernel);
  EXPECT_EQ(c->name(svm(0x72)), "cpuid");
  EXPECT_EQ(c->name(svm(0x7b)), "io");
  EXPECT_EQ(c->name(svm(0x78)), "hlt");
  EXPECT_EQ(c->name(svm(0x60)), "interrupt");
  EXPECT_EQ(c->name(svm(0x400)), "npf");
  EXPECT_EQ(c->name(svm(0xa6)), "idle-halt");  // not in 6.1's table: built-in
  EXPECT_EQ(c->name(vmm(6)), "KVM_EXIT_MMIO");
}

TEST(ReasonCatalog, kernel_table_wins_over_the_builtin_one) {
  auto c = ReasonCatalog::from_formats(
      "", userspace_format(R"({ 2, "KVM_EXIT_" "PORTIO" }, { 77, "KVM_EXIT_" "FUTURE" })"));
  ASSERT_TRUE(c.ok()) << c.error().message();
  EXPECT_EQ(c->source(Level::vmm, Isa::none), NameSource::kernel);
  EXPECT_EQ(c->name(vmm(2)), "KVM_EXIT_PORTIO");
  EXPECT_EQ(c->name(vmm(77)), "KVM_EXIT_FUTURE");
  EXPECT_EQ(c->name(vmm(6)), "KVM_EXIT_MMIO");  // not in that table: built-in
  EXPECT_EQ(c->source(Level::hardware, Isa::svm), NameSource::builtin);
}

TEST(ReasonCatalog, takes_the_exception_class_table_on_arm64) {
  auto c = ReasonCatalog::from_formats(kArm64KvmExit, "");
  ASSERT_TRUE(c.ok()) << c.error().message();
  EXPECT_EQ(c->source(Level::hardware, Isa::arm64), NameSource::kernel);
  EXPECT_EQ(c->source(Level::hardware, Isa::vmx), NameSource::builtin);
  EXPECT_EQ(c->name(arm(0x24)), "DABT_LOW_KERNEL");
  EXPECT_EQ(c->name(arm(0x16)), "HVC64");
  EXPECT_EQ(c->name(arm(0x02)), "0x2");  // the `ret` table (2 = TRAP) is no exception class
  EXPECT_EQ(c->name(arm(0x18)), "SYS64");
}

TEST(ReasonCatalog, set_table_replaces_a_table) {
  ReasonCatalog c = ReasonCatalog::builtin();
  c.set_table(Level::hardware, Isa::svm, {{0x7b, "port_io"}}, NameSource::kernel);
  EXPECT_EQ(c.name(svm(0x7b)), "port_io");
  EXPECT_EQ(c.name(svm(0x72)), "0x72");
  EXPECT_EQ(c.source(Level::hardware, Isa::svm), NameSource::kernel);
}

TEST(ReasonCatalog, rejects_text_that_is_not_a_format_file) {
  EXPECT_FALSE(ReasonCatalog::from_formats("garbage", "").ok());
  EXPECT_FALSE(ReasonCatalog::from_formats("", "name: kvm_userspace_exit\n").ok());
  auto broken = ReasonCatalog::from_formats(
      "", userspace_format(R"({ 2, "KVM_EXIT_IO" }, { REC->errno, "x" })"));
  ASSERT_FALSE(broken.ok());
  EXPECT_NE(broken.error().message().find("kvm_userspace_exit"), std::string::npos)
      << broken.error().message();
}

class ReasonCatalogTracefs : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() /
            ("ks_catalog_" + std::to_string(::getpid()) + "_" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(root_);
    fs::create_directories(root_);
  }
  void TearDown() override {
    std::error_code ec;
    fs::permissions(root_, fs::perms::owner_all, fs::perm_options::add, ec);
    fs::remove_all(root_, ec);
  }
  fs::path event_dir(const std::string& event) {
    fs::path d = root_ / "events" / "kvm" / event;
    fs::create_directories(d);
    return d;
  }
  fs::path root_;
};

TEST_F(ReasonCatalogTracefs, falls_back_when_files_are_missing) {
  auto c = ReasonCatalog::from_tracefs(root_.string());
  ASSERT_TRUE(c.ok()) << c.error().message();
  EXPECT_EQ(c->source(Level::hardware, Isa::svm), NameSource::builtin);
  EXPECT_EQ(c->source(Level::vmm, Isa::none), NameSource::builtin);
  auto gone = ReasonCatalog::from_tracefs((root_ / "no" / "such" / "dir").string());
  ASSERT_TRUE(gone.ok()) << gone.error().message();
}

TEST_F(ReasonCatalogTracefs, reads_the_kernel_tables_of_a_tracefs_tree) {
  fs::copy_file(kvmscope::testing::fixture_path(k618 + "/kvm_exit.format"),
                event_dir("kvm_exit") / "format");
  auto c = ReasonCatalog::from_tracefs(root_.string());
  ASSERT_TRUE(c.ok()) << c.error().message();
  EXPECT_EQ(c->source(Level::hardware, Isa::svm), NameSource::kernel);
  EXPECT_EQ(c->source(Level::vmm, Isa::none), NameSource::builtin);  // that file is missing
  EXPECT_EQ(c->name(svm(0x72)), "cpuid");
}

TEST_F(ReasonCatalogTracefs, reports_a_format_file_that_cannot_be_read) {
  // A directory where the file should be: present, but read(2) fails (EISDIR).
  fs::create_directories(event_dir("kvm_userspace_exit") / "format");
  auto c = ReasonCatalog::from_tracefs(root_.string());
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.error().err, EISDIR);
}

TEST_F(ReasonCatalogTracefs, reports_a_format_file_without_permission) {
  const fs::path file = event_dir("kvm_exit") / "format";
  std::ofstream(file) << "name: kvm_exit\n";
  fs::permissions(file, fs::perms::none);
  // Root reads whatever the mode: check as an unprivileged user in a child process.
  auto check = [this] {
    auto c = ReasonCatalog::from_tracefs(root_.string());
    return !c.ok() && c.error().err == EACCES && !c.error().hint.empty();
  };
  if (::geteuid() != 0) {
    EXPECT_TRUE(check());
    return;
  }
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    const bool dropped = ::setgid(65534) == 0 && ::setuid(65534) == 0;
    ::_exit(!dropped ? 2 : check() ? 0 : 1);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0) << "2: could not drop privileges, 1: not an EACCES error";
}

TEST(BuiltinReasons, agree_with_the_6_18_kernel_where_both_name_a_code) {
  auto c =
      ReasonCatalog::from_formats(fixture(k618, "kvm_exit"), fixture(k618, "kvm_userspace_exit"));
  ASSERT_TRUE(c.ok());
  for (const auto& [code, name] : builtin_svm_reasons()) EXPECT_EQ(c->name(svm(code)), name);
  for (const auto& [code, name] : builtin_vmx_reasons()) EXPECT_EQ(c->name(vmx(code)), name);
  for (const auto& [code, name] : builtin_kvm_exit_reasons()) EXPECT_EQ(c->name(vmm(code)), name);
}

TEST(BuiltinReasons, cover_the_documented_ranges) {
  EXPECT_EQ(builtin_svm_reasons().size(), 110u);       // = the 6.18 kernel's table
  EXPECT_EQ(builtin_vmx_reasons().size(), 65u + 13u);  // 6.18's table + SDM-only reasons
  EXPECT_EQ(builtin_kvm_exit_reasons().size(), 42u);   // KVM_EXIT_UNKNOWN (0) .. ARM_SEA (41)
  EXPECT_EQ(builtin_kvm_exit_reasons().rbegin()->second, "KVM_EXIT_ARM_SEA");
  EXPECT_EQ(builtin_arm64_reasons().at(0x3c), "BRK64");
  EXPECT_EQ(builtin_vmx_flags().at(0x80000000u), "FAILED_VMENTRY");
}

}  // namespace
}  // namespace kvmscope::model
