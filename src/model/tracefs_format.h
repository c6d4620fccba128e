// tracefs event `format` files (events/<system>/<event>/format): the record layout of a
// tracepoint (field offsets and sizes, which differ across kernels) and its print fmt, whose
// __print_symbolic tables are the running kernel's own names for codes such as exit reasons.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "util/result.h"

namespace kvmscope::model {

struct FormatField {
  std::string type;  // "unsigned int", "u8[15]", "__data_loc char[]"
  std::string name;  // "exit_reason"
  unsigned offset = 0;
  unsigned size = 0;
  bool is_signed = false;
};

struct EventFormat {
  std::string name;
  unsigned id = 0;
  std::vector<FormatField> fields;  // common_* fields included, in file order
  std::string print_fmt;            // everything after "print fmt: "

  // nullptr when the event has no such field.
  const FormatField* field(std::string_view name) const;
};

util::Result<EventFormat> parse_event_format(std::string_view text);

// One __print_symbolic(expr, { value, "name" }, ...) (or, from flag_tables, one
// __print_flags(expr, "delim", { bit, "name" }, ...)) of a print fmt.
struct SymbolTable {
  std::string value_expr;  // the source of the first argument: "REC->exit_reason & 0xffff"
  std::string field;       // the single record field value_expr reads ("exit_reason"), else empty
  // The isa branch the table sits in when the print fmt selects by `REC->isa == N ? a : b`: N
  // in a; in b, the other x86 isa (1 <-> 2). Unset outside such a selection.
  std::optional<unsigned> isa;
  // Values as the field sees them: a negative constant is truncated to the field's width
  // (`-1` in a 4-byte exit_reason is 0xffffffff). The first entry of a value wins, as in the
  // kernel's lookup.
  std::map<std::uint64_t, std::string> symbols;
};

// Every __print_symbolic table of the print fmt, in order of appearance. An Error when the
// print fmt does not parse or a table entry is not { constant, "string" }.
util::Result<std::vector<SymbolTable>> symbolic_tables(const EventFormat& format);

// The same for __print_flags tables (VMX exit reason flags such as FAILED_VMENTRY).
util::Result<std::vector<SymbolTable>> flag_tables(const EventFormat& format);

}  // namespace kvmscope::model
