// What a VM is called: QEMU's -name (both of its forms, libvirt's among them), else the process
// name; and which source wins when the VM ended before the readout that first met it.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "model/vm_name.h"

namespace kvmscope::model {
namespace {

using Argv = std::vector<std::string>;

TEST(VmName, reads_qemus_name_option_in_its_forms) {
  EXPECT_EQ(vm_name_from_cmdline({"qemu-system-x86_64", "-name", "web1"}, "qemu-system-x86"),
            "web1");
  // libvirt: "-name guest=DOMAIN,debug-threads=on"; guest= may come anywhere.
  EXPECT_EQ(vm_name_from_cmdline(
                {"/usr/bin/qemu-system-x86_64", "-name", "guest=db-2,debug-threads=on", "-S"},
                "qemu-system-x86"),
            "db-2");
  EXPECT_EQ(vm_name_from_cmdline({"qemu", "-name", "process=q,guest=a,,b"}, "qemu"), "a,b");
  EXPECT_EQ(vm_name_from_cmdline({"qemu", "--name", "web1,process=qemu-web1"}, "qemu"), "web1");
  EXPECT_EQ(vm_name_from_cmdline({"qemu", "-m", "1G", "-name", "x,,y"}, "qemu"), "x,y");
}

TEST(VmName, falls_back_to_the_process_name) {
  EXPECT_EQ(vm_name_from_cmdline({"qemu", "-m", "1G"}, "qemu-system-x86"), "qemu-system-x86");
  EXPECT_EQ(vm_name_from_cmdline({"qemu", "-name"}, "qemu"), "qemu");  // no value
  EXPECT_EQ(vm_name_from_cmdline({"qemu", "-name", "debug-threads=on"}, "qemu"), "qemu");
  EXPECT_EQ(vm_name_from_cmdline({}, "kvmscope"), "kvmscope");
}

TEST(VmName, a_running_vm_is_named_from_proc) {
  const Argv argv = {"qemu-system-x86_64", "-name", "guest=web1"};
  EXPECT_EQ(vm_info(42, "qemu-system-x86", argv, "qemu-system-x86"),
            (VmInfo{"web1", "qemu-system-x86"}));
  EXPECT_EQ(vm_info(42, "qemu-system-x86", argv, ""), (VmInfo{"web1", "qemu-system-x86"}));
  // A zombie: its comm is still there, its command line no longer.
  EXPECT_EQ(vm_info(42, "kvmscope", {}, "kvmscope"), (VmInfo{"kvmscope", "kvmscope"}));
}

TEST(VmName, an_ended_vm_keeps_the_name_captured_at_its_first_exit) {
  EXPECT_EQ(vm_info(19513, std::nullopt, {}, "kvmscope"), (VmInfo{"kvmscope", "kvmscope"}));
  // Its pid already belongs to another process: that one's /proc says nothing about the VM.
  EXPECT_EQ(vm_info(19513, "bash", {"bash"}, "qemu-system-x86"),
            (VmInfo{"qemu-system-x86", "qemu-system-x86"}));
  // Nothing known at all.
  EXPECT_EQ(vm_info(19513, std::nullopt, {}, ""), (VmInfo{"pid 19513 (exited)", "?"}));
}

}  // namespace
}  // namespace kvmscope::model
