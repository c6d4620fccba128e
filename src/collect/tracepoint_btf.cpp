#include "collect/tracepoint_btf.h"

#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include <cerrno>
#include <memory>
#include <utility>

namespace kvmscope::collect {

void BtfFree::operator()(::btf* b) const {
  btf__free(b);
}

util::Result<KernelBtf> KernelBtf::load(std::string module) {
  KernelBtf k;
  k.vmlinux_.reset(btf__load_vmlinux_btf());
  if (!k.vmlinux_) {
    const int err = errno;
    return util::os_error("reading the kernel's BTF (/sys/kernel/btf/vmlinux)", err);
  }
  k.module_name_ = std::move(module);
  return k;
}

util::Result<void> KernelBtf::raw_tracepoint_takes(const std::string& name,
                                                   std::span<const std::size_t> arg_sizes) {
  const std::string typedef_name = "btf_trace_" + name;
  const btf* where = vmlinux_.get();
  int id = btf__find_by_name_kind(where, typedef_name.c_str(), BTF_KIND_TYPEDEF);
  if (id < 0) {
    if (!module_tried_) {
      module_tried_ = true;
      module_.reset(btf__load_module_btf(module_name_.c_str(), vmlinux_.get()));
    }
    if (!module_)
      return util::plain_error("no raw tracepoint " + name + " in vmlinux's BTF, and no BTF for " +
                               module_name_ + " (/sys/kernel/btf/" + module_name_ + ")");
    where = module_.get();
    id = btf__find_by_name_kind(where, typedef_name.c_str(), BTF_KIND_TYPEDEF);
    if (id < 0)
      return util::plain_error("no raw tracepoint " + name + " in the BTF of vmlinux or " +
                               module_name_);
  }
  // typedef void (*btf_trace_<name>)(void *, args...)
  const btf_type* t = btf__type_by_id(where, btf__type_by_id(where, id)->type);
  if (!t || !btf_is_ptr(t)) return util::plain_error(typedef_name + " is not a function pointer");
  t = btf__type_by_id(where, t->type);
  if (!t || !btf_is_func_proto(t))
    return util::plain_error(typedef_name + " is not a function pointer");
  const std::size_t args = btf_vlen(t) > 0 ? btf_vlen(t) - 1 : 0;
  if (args != arg_sizes.size())
    return util::plain_error("raw tracepoint " + name + " takes " + std::to_string(args) +
                             " arguments here, not " + std::to_string(arg_sizes.size()));
  const btf_param* params = btf_params(t);
  for (std::size_t i = 0; i < args; ++i) {
    const int resolved = btf__resolve_type(where, params[i + 1].type);
    const btf_type* arg = resolved < 0 ? nullptr : btf__type_by_id(where, resolved);
    if (arg_sizes[i] == kPointerArg) {
      if (!arg || !btf_is_ptr(arg))
        return util::plain_error("argument " + std::to_string(i + 1) + " of raw tracepoint " +
                                 name + " is not a pointer here");
      continue;
    }
    if (!arg || !btf_is_int(arg))
      return util::plain_error("argument " + std::to_string(i + 1) + " of raw tracepoint " + name +
                               " is not an integer here");
    if (arg->size != arg_sizes[i])
      return util::plain_error("argument " + std::to_string(i + 1) + " of raw tracepoint " + name +
                               " is " + std::to_string(arg->size) + " bytes here, not " +
                               std::to_string(arg_sizes[i]));
  }
  return {};
}

util::Result<void> raw_tracepoint_takes(const std::string& name, const std::string& module,
                                        std::span<const std::size_t> arg_sizes) {
  auto btf = KernelBtf::load(module);
  if (!btf) return btf.error();
  return btf->raw_tracepoint_takes(name, arg_sizes);
}

}  // namespace kvmscope::collect
