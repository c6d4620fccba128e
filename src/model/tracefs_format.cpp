#include "model/tracefs_format.h"

#include <cctype>
#include <charconv>
#include <set>

#include "model/print_fmt_expr.h"
#include "util/strings.h"

namespace kvmscope::model {
namespace {

using printfmt::Node;

using util::trim;

bool take_prefix(std::string_view& s, std::string_view prefix) {
  if (s.substr(0, prefix.size()) != prefix) return false;
  s.remove_prefix(prefix.size());
  return true;
}

util::Result<unsigned> parse_unsigned(std::string_view s, std::string_view what) {
  s = trim(s);
  unsigned v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || p != s.data() + s.size())
    return util::plain_error("format: bad " + std::string(what) + " '" + std::string(s) + "'");
  return v;
}

// "unsigned int exit_reason" -> type "unsigned int", name "exit_reason"; array dimensions stay
// with the type: "u8 insn[15]" -> "u8[15]", "insn".
util::Result<void> split_declaration(std::string_view decl, FormatField& f) {
  decl = trim(decl);
  std::string dims;
  while (!decl.empty() && decl.back() == ']') {
    const auto open = decl.rfind('[');
    if (open == std::string_view::npos) return util::plain_error("format: bad array declaration");
    dims = std::string(decl.substr(open)) + dims;
    decl = trim(decl.substr(0, open));
  }
  std::size_t start = decl.size();
  while (start > 0 &&
         (std::isalnum(static_cast<unsigned char>(decl[start - 1])) || decl[start - 1] == '_'))
    --start;
  f.name = std::string(decl.substr(start));
  f.type = std::string(trim(decl.substr(0, start))) + dims;
  if (f.name.empty() || trim(decl.substr(0, start)).empty())
    return util::plain_error("format: bad field declaration '" + std::string(decl) + "'");
  return {};
}

// "field:unsigned int exit_reason;\toffset:8;\tsize:4;\tsigned:0;"
util::Result<FormatField> parse_field(std::string_view line) {
  FormatField f;
  bool have_offset = false, have_size = false;
  bool first = true;
  while (!line.empty()) {
    const auto semi = line.find(';');
    if (semi == std::string_view::npos && !trim(line).empty())
      return util::plain_error("format: field attribute without ';'");
    std::string_view part = trim(line.substr(0, semi));
    line = semi == std::string_view::npos ? std::string_view{} : line.substr(semi + 1);
    if (first) {
      first = false;
      if (!take_prefix(part, "field:")) return util::plain_error("format: not a field line");
      if (auto r = split_declaration(part, f); !r) return r.error();
      continue;
    }
    if (part.empty()) continue;
    const auto colon = part.find(':');
    if (colon == std::string_view::npos)
      return util::plain_error("format: field attribute without ':'");
    const auto key = trim(part.substr(0, colon));
    auto value = parse_unsigned(part.substr(colon + 1), key);
    if (!value) return value.error();
    if (key == "offset") {
      f.offset = *value;
      have_offset = true;
    } else if (key == "size") {
      f.size = *value;
      have_size = true;
    } else if (key == "signed") {
      f.is_signed = *value != 0;
    }  // attributes added by later kernels are not needed here
  }
  if (!have_offset || !have_size)
    return util::plain_error("format: field '" + f.name + "' without offset or size");
  return f;
}

// The isa a `REC->isa == N` (or `N == REC->isa`) condition selects, if it is one.
std::optional<unsigned> isa_condition(const Node& cond) {
  if (cond.kind != Node::Kind::binary || cond.text != "==") return std::nullopt;
  for (int side = 0; side < 2; ++side) {
    if (printfmt::rec_field(cond.kids[side]) != "isa") continue;
    auto v = printfmt::evaluate(cond.kids[1 - side]);
    if (v && *v <= 0xffff) return static_cast<unsigned>(*v);
  }
  return std::nullopt;
}

// On x86 the kernel prints `isa == 1 ? VMX : SVM`, so the other branch is the other isa.
std::optional<unsigned> other_isa(unsigned isa) {
  if (isa == 1) return 2u;
  if (isa == 2) return 1u;
  return std::nullopt;
}

void collect_fields(const Node& node, std::set<std::string>& out) {
  if (auto f = printfmt::rec_field(node); !f.empty()) out.insert(f);
  for (const auto& k : node.kids) collect_fields(k, out);
}

class TableCollector {
 public:
  TableCollector(const EventFormat& format, std::string_view function)
      : format_(format), function_(function) {}

  util::Result<std::vector<SymbolTable>> run() {
    auto args = printfmt::parse_args(format_.print_fmt);
    if (!args) return util::Error{0, format_.name + ": " + args.error().context, {}};
    for (const auto& arg : *args)
      if (auto r = visit(arg, std::nullopt); !r) return r.error();
    return std::move(tables_);
  }

 private:
  util::Result<void> visit(const Node& node, std::optional<unsigned> isa) {
    if (node.kind == Node::Kind::ternary) {
      if (auto n = isa_condition(node.kids[0])) {
        if (auto r = visit(node.kids[1], n); !r) return r;
        return visit(node.kids[2], other_isa(*n));
      }
    }
    if (node.kind == Node::Kind::call && is_table_call(node.text)) return table(node, isa);
    for (const auto& k : node.kids)
      if (auto r = visit(k, isa); !r) return r;
    return {};
  }

  bool is_table_call(std::string_view name) const {
    return name == function_ || name == std::string(function_) + "_u64";
  }

  util::Error entry_error(const std::string& what) const {
    return util::plain_error(format_.name + ": " + std::string(function_) + " " + what);
  }

  util::Result<void> table(const Node& call, std::optional<unsigned> isa) {
    // __print_flags has a delimiter string between the value and the entries.
    const std::size_t first_entry = function_ == "__print_flags" ? 2 : 1;
    if (call.kids.size() < first_entry) return entry_error("without arguments");
    SymbolTable t;
    const Node& value = call.kids[0];
    t.value_expr =
        trim(std::string_view(format_.print_fmt).substr(value.begin, value.end - value.begin));
    std::set<std::string> fields;
    collect_fields(value, fields);
    if (fields.size() == 1) t.field = *fields.begin();
    t.isa = isa;
    // Truncate to what the field can hold, so that `-1` matches a u32 exit_reason of 0xffffffff.
    std::uint64_t mask = ~std::uint64_t{0};
    if (const FormatField* f = t.field.empty() ? nullptr : format_.field(t.field);
        f && f->size > 0 && f->size < 8)
      mask = (std::uint64_t{1} << (8 * f->size)) - 1;
    for (std::size_t i = first_entry; i < call.kids.size(); ++i) {
      const Node& e = call.kids[i];
      if (e.kind != Node::Kind::brace || e.kids.size() != 2 || e.kids[1].kind != Node::Kind::string)
        return entry_error("entry is not { value, \"name\" } at offset " + std::to_string(e.begin));
      auto v = printfmt::evaluate(e.kids[0]);
      if (!v) return util::Error{0, format_.name + ": " + v.error().context, {}};
      t.symbols.emplace(*v & mask, e.kids[1].text);
    }
    tables_.push_back(std::move(t));
    return {};
  }

  const EventFormat& format_;
  std::string_view function_;
  std::vector<SymbolTable> tables_;
};

}  // namespace

const FormatField* EventFormat::field(std::string_view want) const {
  for (const auto& f : fields)
    if (f.name == want) return &f;
  return nullptr;
}

util::Result<EventFormat> parse_event_format(std::string_view text) {
  EventFormat out;
  bool have_name = false, have_id = false, have_format = false, have_print = false;
  while (!text.empty()) {
    const auto nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    std::string_view body = trim(line);
    if (body.empty()) continue;
    if (take_prefix(body, "name:")) {
      out.name = std::string(trim(body));
      have_name = !out.name.empty();
    } else if (take_prefix(body, "ID:")) {
      auto id = parse_unsigned(body, "ID");
      if (!id) return id.error();
      out.id = *id;
      have_id = true;
    } else if (body == "format:") {
      have_format = true;
    } else if (body.substr(0, 6) == "field:" || body.substr(0, 6) == "field ") {
      if (!have_format) return util::plain_error("format: field before 'format:'");
      auto f = parse_field(body);
      if (!f) return f.error();
      out.fields.push_back(std::move(*f));
    } else if (take_prefix(body, "print fmt:")) {
      out.print_fmt = std::string(trim(body));
      have_print = true;
    } else {
      return util::plain_error("format: unexpected line '" + std::string(body.substr(0, 60)) + "'",
                               "not a tracefs event format file");
    }
  }
  if (!have_name || !have_id || !have_format || !have_print)
    return util::plain_error("format: missing name, ID, format or print fmt",
                             "not a tracefs event format file");
  return out;
}

util::Result<std::vector<SymbolTable>> symbolic_tables(const EventFormat& format) {
  return TableCollector(format, "__print_symbolic").run();
}

util::Result<std::vector<SymbolTable>> flag_tables(const EventFormat& format) {
  return TableCollector(format, "__print_flags").run();
}

}  // namespace kvmscope::model
