// Whether a BTF raw tracepoint (tp_btf) can be had, with the arguments a program reads from it.
// A tp_btf program reads its tracepoint's arguments by position, as the kernel passes them: a
// kernel whose prototype differs would hand it other values without a word, so the prototype is
// checked in the kernel's own BTF before such a program is chosen.
#pragma once

#include <cstddef>
#include <span>
#include <string>

#include "util/result.h"

namespace kvmscope::collect {

// Ok when the kernel's BTF (vmlinux, else that of `module`) has the raw tracepoint `name` (the
// typedef btf_trace_<name>) and its arguments, after the tracepoint's own context pointer, are
// integers of exactly `arg_sizes` bytes in that order; else an error that says what differs.
util::Result<void> raw_tracepoint_takes(const std::string& name, const std::string& module,
                                        std::span<const std::size_t> arg_sizes);

}  // namespace kvmscope::collect
