#include "symbols/symbol_table.h"

#include <algorithm>
#include <charconv>
#include <fstream>
#include <iterator>

namespace kvmscope::symbols {

namespace {

// A gap this large after a symbol without a size is no longer that symbol's code.
constexpr std::uint64_t kMaxGuessedSize = 1ull << 20;

bool is_code_type(char t) {
  return t == 't' || t == 'T' || t == 'w' || t == 'W';
}

std::string_view next_field(std::string_view& line) {
  const std::size_t b = line.find_first_not_of(" \t");
  if (b == std::string_view::npos) {
    line = {};
    return {};
  }
  line.remove_prefix(b);
  const std::size_t e = line.find_first_of(" \t");
  const std::string_view f = line.substr(0, e);
  line.remove_prefix(e == std::string_view::npos ? line.size() : e);
  return f;
}

}  // namespace

const char* SymbolTable::kind_name() const {
  switch (kind_) {
    case Kind::kallsyms:
      return "kallsyms";
    case Kind::system_map:
      return "System.map";
    case Kind::elf:
      return "ELF symbol table";
  }
  return "?";
}

util::Result<SymbolTable> SymbolTable::parse_text(std::string_view text, const std::string& what) {
  SymbolTable t;
  bool modules = false, all_zero = true;
  std::optional<std::uint64_t> text_sym;
  std::size_t line_no = 0;
  while (!text.empty()) {
    const std::size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    ++line_no;
    if (line.find_first_not_of(" \t\r") == std::string_view::npos) continue;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    const std::string_view addr_s = next_field(line), type_s = next_field(line),
                           name = next_field(line), module = next_field(line);
    std::uint64_t addr = 0;
    const auto [p, ec] = std::from_chars(addr_s.data(), addr_s.data() + addr_s.size(), addr, 16);
    if (ec != std::errc() || p != addr_s.data() + addr_s.size() || type_s.size() != 1 ||
        name.empty())
      return util::plain_error(what + ": line " + std::to_string(line_no) +
                               ": not \"ADDRESS TYPE NAME\" (a /proc/kallsyms, a System.map or a "
                               "vmlinux ELF file is expected)");
    all_zero &= addr == 0;
    if (name == "_text") text_sym = addr;
    if (!is_code_type(type_s[0])) continue;
    std::string mod;
    if (module.size() >= 2 && module.front() == '[' && module.back() == ']') {
      mod = std::string(module.substr(1, module.size() - 2));
      modules = true;
    }
    t.symbols_.push_back({addr, 0, std::string(name), std::move(mod)});
  }
  if (t.symbols_.empty()) return util::plain_error(what + ": no code symbols in it");
  if (all_zero)
    return util::plain_error(what +
                                 ": every address is 0 (a /proc/kallsyms read without the "
                                 "right to see addresses)",
                             "read it as root, or with kernel.kptr_restrict=0");
  t.kind_ = modules || (text_sym && *text_sym != kLinkTextX86) ? Kind::kallsyms : Kind::system_map;
  t.finish();
  return t;
}

util::Result<SymbolTable> SymbolTable::from_elf(const ElfImage& elf, const std::string& what) {
  if (!elf.has_symbols())
    return util::plain_error(what + ": an ELF file without a symbol table (stripped)",
                             "give the kernel's System.map, or the vmlinux of its -dbg package");
  SymbolTable t;
  t.kind_ = Kind::elf;
  for (const ElfSymbol& s : elf.code_symbols())
    t.symbols_.push_back({s.addr, s.size ? s.addr + s.size : 0, s.name, {}});
  t.finish();
  return t;
}

util::Result<SymbolTable> SymbolTable::load(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return util::os_error("open " + path, errno);
  std::vector<std::uint8_t> bytes((std::istreambuf_iterator<char>(f)),
                                  std::istreambuf_iterator<char>());
  if (f.bad()) return util::os_error("read " + path, errno);
  if (ElfImage::looks_like_elf(bytes)) {
    auto elf = ElfImage::parse(std::move(bytes), path);
    if (!elf) return elf.error();
    return from_elf(*elf, path);
  }
  return parse_text(std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()),
                    path);
}

void SymbolTable::finish() {
  std::stable_sort(symbols_.begin(), symbols_.end(),
                   [](const Symbol& a, const Symbol& b) { return a.addr < b.addr; });
  text_start_ = symbols_.front().addr;
  for (const Symbol& s : symbols_)
    if (s.name == "_text" || s.name == "_stext") {
      text_start_ = s.addr;
      if (s.name == "_text") break;
    }
  // Aliases (several names at one address): the first that is no section marker stays.
  const auto marker = [](const Symbol& s) {
    return s.name.starts_with("_text") || s.name == "_stext";
  };
  for (std::size_t i = 0; i + 1 < symbols_.size(); ++i)
    if (symbols_[i].addr == symbols_[i + 1].addr && marker(symbols_[i]) && !marker(symbols_[i + 1]))
      std::swap(symbols_[i], symbols_[i + 1]);
  symbols_.erase(std::unique(symbols_.begin(), symbols_.end(),
                             [](const Symbol& a, const Symbol& b) { return a.addr == b.addr; }),
                 symbols_.end());
  for (std::size_t i = 0; i < symbols_.size(); ++i) {
    Symbol& s = symbols_[i];
    if (s.end > s.addr) continue;
    const std::uint64_t next =
        i + 1 < symbols_.size() ? symbols_[i + 1].addr : s.addr + kMaxGuessedSize;
    s.end = std::min(next, s.addr + kMaxGuessedSize);
    if (s.end <= s.addr) s.end = s.addr + 1;
  }
}

SymbolLookup SymbolTable::find(std::uint64_t addr) const {
  auto it = std::upper_bound(symbols_.begin(), symbols_.end(), addr,
                             [](std::uint64_t a, const Symbol& s) { return a < s.addr; });
  if (it == symbols_.begin()) return {};
  --it;
  if (addr >= it->end) return {};
  return {&*it, addr - it->addr};
}

}  // namespace kvmscope::symbols
