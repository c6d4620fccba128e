// util::kvm_vm_state against a made-up /proc: a VMM is recognised by its "anon_inode:kvm-vm"
// fd, anything else is not one (stat -p 1 must not wait forever for exits of systemd).
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <string>

#include <gtest/gtest.h>

#include "util/proc.h"

namespace kvmscope::util {
namespace {

namespace fs = std::filesystem;

class FakeProc : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() / ("kvmscope-proc-" + std::to_string(::getpid()));
    fs::remove_all(root_);
  }
  void TearDown() override { fs::remove_all(root_); }
  // /proc/<pid>/fd/<n> -> target (a symlink's text need not name an existing file).
  void fd(int pid, int n, const std::string& target) {
    const fs::path dir = root_ / std::to_string(pid) / "fd";
    fs::create_directories(dir);
    fs::create_symlink(target, dir / std::to_string(n));
  }
  std::string root() const { return root_.string(); }

 private:
  fs::path root_;
};

TEST_F(FakeProc, a_vmm_holds_a_kvm_vm_fd) {
  fd(4242, 0, "/dev/null");
  fd(4242, 11, "/dev/kvm");
  fd(4242, 12, "anon_inode:kvm-vm");
  fd(4242, 13, "anon_inode:kvm-vcpu:0");
  auto r = kvm_vm_state(4242, root());
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(*r, KvmVmState::open);
}

TEST_F(FakeProc, a_process_with_only_dev_kvm_or_vcpus_or_other_inodes_has_no_vm) {
  fd(1, 0, "/dev/null");
  fd(1, 3, "socket:[1234]");
  fd(1, 4, "anon_inode:[eventfd]");
  fd(1, 5, "/dev/kvm");
  fd(1, 6, "anon_inode:kvm-vm-not-really");
  auto r = kvm_vm_state(1, root());
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(*r, KvmVmState::none);
}

TEST_F(FakeProc, an_empty_fd_table_has_no_vm) {
  fs::create_directories(fs::path(root()) / "7" / "fd");
  auto r = kvm_vm_state(7, root());
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(*r, KvmVmState::none);
}

TEST_F(FakeProc, a_missing_process_is_an_error_naming_the_directory) {
  auto r = kvm_vm_state(99, root());
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message(), "read " + root() + "/99/fd: No such file or directory");
}

TEST(Proc, this_test_process_has_no_vm_open) {
  auto r = kvm_vm_state(::getpid());
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(*r, KvmVmState::none);
}

}  // namespace
}  // namespace kvmscope::util
