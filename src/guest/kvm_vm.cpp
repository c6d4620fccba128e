#include "guest/kvm_vm.h"

#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

#include <cerrno>
#include <cstddef>
#include <cstdio>
#include <string>

#include "util/strings.h"

namespace kvmscope::guest {

Mapping& Mapping::operator=(Mapping&& other) noexcept {
  if (this != &other) {
    reset();
    addr_ = std::exchange(other.addr_, nullptr);
    size_ = std::exchange(other.size_, 0);
  }
  return *this;
}

void Mapping::reset() noexcept {
  if (addr_) ::munmap(addr_, size_);  // munmap errors are not actionable for an owner
  addr_ = nullptr;
  size_ = 0;
}

namespace {

util::Error open_error(int err) {
  const char* hint = nullptr;
  if (err == ENOENT || err == ENODEV || err == ENXIO) hint = "is the kvm module loaded?";
  if (err == EACCES || err == EPERM) hint = "run as root or join the kvm group";
  return util::os_error("open /dev/kvm", err, hint ? hint : "");
}

}  // namespace

util::Result<Vm> Vm::create(std::size_t ram_size) {
  Vm vm;
  int kvm = ::open("/dev/kvm", O_RDWR | O_CLOEXEC);
  if (kvm < 0) return open_error(errno);
  vm.kvm_ = util::Fd(kvm);

  int version = ::ioctl(kvm, KVM_GET_API_VERSION, 0);
  if (version != KVM_API_VERSION)
    return util::plain_error("/dev/kvm speaks KVM API " + std::to_string(version) + ", not " +
                             std::to_string(KVM_API_VERSION));

  int fd = ::ioctl(kvm, KVM_CREATE_VM, 0UL);
  if (fd < 0) {
    int err = errno;
    return util::os_error("KVM_CREATE_VM", err,
                          err == EBUSY ? "is another hypervisor using VMX/SVM?" : "");
  }
  vm.vm_ = util::Fd(fd);

  vm.run_size_ = ::ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
  if (vm.run_size_ <= 0) {
    const int err = errno;
    return util::os_error("KVM_GET_VCPU_MMAP_SIZE", err);
  }

  void* ram = ::mmap(nullptr, ram_size, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (ram == MAP_FAILED) {
    const int err = errno;
    return util::os_error("mmap guest RAM", err);
  }
  vm.ram_ = Mapping(ram, ram_size);

  kvm_userspace_memory_region region{};
  region.slot = 0;
  region.guest_phys_addr = 0;
  region.memory_size = ram_size;
  region.userspace_addr = reinterpret_cast<std::uintptr_t>(ram);
  if (::ioctl(vm.vm_.get(), KVM_SET_USER_MEMORY_REGION, &region) < 0) {
    const int err = errno;
    return util::os_error("KVM_SET_USER_MEMORY_REGION", err);
  }
  return vm;
}

util::Result<void> Vm::add_vcpu(unsigned id) {
  int fd = ::ioctl(vm_.get(), KVM_CREATE_VCPU, static_cast<unsigned long>(id));
  if (fd < 0) {
    const int err = errno;
    return util::os_error("KVM_CREATE_VCPU " + std::to_string(id), err);
  }
  Vcpu vcpu;
  vcpu.id = id;
  vcpu.fd = util::Fd(fd);
  void* run = ::mmap(nullptr, static_cast<std::size_t>(run_size_), PROT_READ | PROT_WRITE,
                     MAP_SHARED, fd, 0);
  if (run == MAP_FAILED) {
    const int err = errno;
    return util::os_error("mmap kvm_run of vCPU " + std::to_string(id), err);
  }
  vcpu.run_map = Mapping(run, static_cast<std::size_t>(run_size_));
  vcpus_.push_back(std::move(vcpu));
  return {};
}

util::Result<void> Vm::set_real_mode(Vcpu& vcpu, const RealModeStart& start) {
  // Keep the reset state (real mode, 64 KiB limits, data segment types) and move the segments.
  kvm_sregs sregs{};
  if (::ioctl(vcpu.fd.get(), KVM_GET_SREGS, &sregs) < 0) {
    const int err = errno;
    return util::os_error("KVM_GET_SREGS", err);
  }
  auto place = [](kvm_segment& seg, std::uint16_t selector) {
    seg.selector = selector;
    seg.base = static_cast<std::uint64_t>(selector) << 4;
  };
  place(sregs.cs, start.cs);
  place(sregs.ds, start.ds);
  place(sregs.ss, start.ds);  // the guest uses no stack; SS only needs to be sane
  place(sregs.es, start.es);
  place(sregs.fs, start.fs);
  if (::ioctl(vcpu.fd.get(), KVM_SET_SREGS, &sregs) < 0) {
    const int err = errno;
    return util::os_error("KVM_SET_SREGS", err);
  }

  kvm_regs regs{};
  regs.rip = start.ip;
  regs.rflags = 0x2;  // bit 1 is reserved-1; IF = 0 so that HLT waits for nothing but the VMM
  if (::ioctl(vcpu.fd.get(), KVM_SET_REGS, &regs) < 0) {
    const int err = errno;
    return util::os_error("KVM_SET_REGS", err);
  }
  return {};
}

util::Result<std::uint64_t> Vm::read_msr(const Vcpu& vcpu, std::uint32_t index) {
  // Not struct kvm_msrs: its __DECLARE_FLEX_ARRAY makes it 16 bytes in C++ (an empty struct has
  // size 1 there) instead of C's 8, and KVM_GET_MSRS encodes that size, so KVM would refuse it
  // with EINVAL. The kernel's layout, spelled out:
  struct Msrs {
    std::uint32_t nmsrs;
    std::uint32_t pad;
    kvm_msr_entry entry;
  };
  struct MsrsHeader {
    std::uint32_t nmsrs;
    std::uint32_t pad;
  };
  static_assert(offsetof(Msrs, entry) == sizeof(MsrsHeader));
  constexpr unsigned long kGetMsrs = _IOWR(KVMIO, 0x88, MsrsHeader);

  Msrs msrs{};
  msrs.nmsrs = 1;
  msrs.entry.index = index;
  int n = ::ioctl(vcpu.fd.get(), kGetMsrs, &msrs);
  if (n < 0) {
    const int err = errno;
    return util::os_error("KVM_GET_MSRS", err);
  }
  if (n != 1) {
    return util::plain_error("KVM_GET_MSRS: this KVM does not know MSR " + util::hex(index));
  }
  return static_cast<std::uint64_t>(msrs.entry.data);
}

}  // namespace kvmscope::guest
