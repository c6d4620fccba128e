// A parser for the argument list of a tracefs `print fmt:` line: the C expressions the kernel
// stringified from TP_printk, e.g. `"vcpu %u", REC->vcpu_id, (REC->isa == 1) ?
// __print_symbolic(REC->exit_reason & 0xffff, { 0, "EXCEPTION_NMI" }, ...) : ...`.
// It builds a small syntax tree instead of scanning text, so ternary branches, nested
// parentheses, casts, string concatenation and names with spaces ("UD excp") are understood, and
// it fails with an Error (never a crash or a hang) on anything it does not recognise.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "util/result.h"

namespace kvmscope::model::printfmt {

struct Node {
  enum class Kind {
    number,     // value
    string,     // text: adjacent literals already concatenated, escapes resolved
    ident,      // text
    member,     // kids[0] -> text  (or kids[0] . text)
    unary,      // text: operator, kids[0]
    binary,     // text: operator, kids[0] and kids[1]
    ternary,    // kids[0] ? kids[1] : kids[2]
    call,       // text: function name, kids: arguments
    brace,      // { kids... }
    subscript,  // kids[0] [ kids[1] ]
    cast,       // text: the type, kids[0]
  };
  Kind kind = Kind::number;
  std::string text;
  std::uint64_t value = 0;
  std::vector<Node> kids;
  std::size_t begin = 0;  // span in the parsed text, for quoting the source of an expression
  std::size_t end = 0;
};

// The comma-separated top-level list: the format string first, then its arguments.
util::Result<std::vector<Node>> parse_args(std::string_view text);

// Value of a constant expression (numbers, + - * / % << >> & | ^ ~ ! comparisons, ?:, casts),
// computed in 64-bit two's complement like the kernel's C would. Anything referring to a
// record field or a function is not constant: an Error.
util::Result<std::uint64_t> evaluate(const Node& node);

// The field a `REC->name` node reads, else empty. Parentheses leave no node behind, so
// `(REC->isa)` is the same tree as `REC->isa`.
std::string rec_field(const Node& node);

}  // namespace kvmscope::model::printfmt
