#include "model/print_fmt_expr.h"

#include <array>
#include <cctype>
#include <optional>

namespace kvmscope::model::printfmt {
namespace {

// Deeper nesting than this is not a kernel print fmt; refusing it keeps the recursive descent
// from exhausting the stack on hostile input.
constexpr int kMaxDepth = 128;

struct Token {
  enum class Kind { number, string, ident, punct, end };
  Kind kind = Kind::end;
  std::string text;  // punctuator, identifier, or the string's resolved contents
  std::uint64_t value = 0;
  std::size_t begin = 0;
  std::size_t end = 0;
};

util::Error syntax_error(std::string_view what, std::size_t at) {
  return util::plain_error("print fmt: " + std::string(what) + " at offset " + std::to_string(at));
}

bool is_ident_start(char c) {
  return std::isalpha(static_cast<unsigned char>(c)) || c == '_';
}
bool is_ident_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
}

int digit_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return 99;
}

class Lexer {
 public:
  explicit Lexer(std::string_view text) : s_(text) {}

  util::Result<std::vector<Token>> run() {
    std::vector<Token> out;
    for (;;) {
      while (pos_ < s_.size() && std::isspace(static_cast<unsigned char>(s_[pos_]))) ++pos_;
      if (pos_ >= s_.size()) break;
      auto tok = next();
      if (!tok) return tok.error();
      out.push_back(std::move(*tok));
    }
    out.push_back(Token{Token::Kind::end, {}, 0, s_.size(), s_.size()});
    return out;
  }

 private:
  util::Result<Token> next() {
    const std::size_t start = pos_;
    const char c = s_[pos_];
    if (std::isdigit(static_cast<unsigned char>(c))) return number(start);
    if (is_ident_start(c)) {
      while (pos_ < s_.size() && is_ident_char(s_[pos_])) ++pos_;
      return Token{Token::Kind::ident, std::string(s_.substr(start, pos_ - start)), 0, start, pos_};
    }
    if (c == '"') return string(start);
    if (c == '\'') return character(start);
    static constexpr std::array<std::string_view, 9> kTwo = {
        "->", "==", "!=", "<=", ">=", "&&", "||", "<<", ">>"};
    for (auto p : kTwo) {
      if (s_.substr(pos_, 2) == p) {
        pos_ += 2;
        return Token{Token::Kind::punct, std::string(p), 0, start, pos_};
      }
    }
    static constexpr std::string_view kOne = "(){}[],?:+-*/%&|^~!<>.";
    if (kOne.find(c) != std::string_view::npos) {
      ++pos_;
      return Token{Token::Kind::punct, std::string(1, c), 0, start, pos_};
    }
    return syntax_error("unexpected character", start);
  }

  util::Result<Token> number(std::size_t start) {
    unsigned base = 10;
    if (s_[pos_] == '0' && pos_ + 1 < s_.size() && (s_[pos_ + 1] == 'x' || s_[pos_ + 1] == 'X')) {
      base = 16;
      pos_ += 2;
    } else if (s_[pos_] == '0') {
      base = 8;  // C: a leading zero means octal (and "0" alone is still zero)
    }
    std::uint64_t v = 0;
    std::size_t digits = 0;
    while (pos_ < s_.size() && is_ident_char(s_[pos_])) {
      const int d = digit_value(s_[pos_]);
      if (d >= static_cast<int>(base)) break;
      const std::uint64_t next = v * base + static_cast<unsigned>(d);
      if (next / base != v) return syntax_error("number too large", start);
      v = next;
      ++digits;
      ++pos_;
    }
    if (digits == 0 && base == 16) return syntax_error("hex number without digits", start);
    // Integer suffixes do not change the value the kernel compares against.
    while (pos_ < s_.size() &&
           (s_[pos_] == 'u' || s_[pos_] == 'U' || s_[pos_] == 'l' || s_[pos_] == 'L'))
      ++pos_;
    if (pos_ < s_.size() && is_ident_char(s_[pos_])) return syntax_error("bad number", start);
    return Token{Token::Kind::number, std::string(s_.substr(start, pos_ - start)), v, start, pos_};
  }

  // One escape after the backslash at pos_; appends the character it stands for.
  util::Result<char> escape() {
    ++pos_;  // the backslash
    if (pos_ >= s_.size()) return syntax_error("unterminated escape", pos_);
    const char c = s_[pos_++];
    switch (c) {
      case 'n':
        return '\n';
      case 't':
        return '\t';
      case 'r':
        return '\r';
      case 'a':
        return '\a';
      case 'b':
        return '\b';
      case 'f':
        return '\f';
      case 'v':
        return '\v';
      case 'x': {
        unsigned v = 0;
        std::size_t n = 0;
        while (pos_ < s_.size() && n < 2 && digit_value(s_[pos_]) < 16) {
          v = v * 16 + static_cast<unsigned>(digit_value(s_[pos_++]));
          ++n;
        }
        if (n == 0) return syntax_error("\\x without digits", pos_);
        return static_cast<char>(v);
      }
      default:
        if (c >= '0' && c <= '7') {
          unsigned v = static_cast<unsigned>(c - '0');
          for (int n = 1; n < 3 && pos_ < s_.size() && s_[pos_] >= '0' && s_[pos_] <= '7'; ++n)
            v = v * 8 + static_cast<unsigned>(s_[pos_++] - '0');
          return static_cast<char>(v & 0xff);
        }
        return c;  // \" \\ \' \? and anything else: the character itself
    }
  }

  util::Result<Token> string(std::size_t start) {
    ++pos_;
    std::string out;
    for (;;) {
      if (pos_ >= s_.size()) return syntax_error("unterminated string", start);
      const char c = s_[pos_];
      if (c == '"') break;
      if (c == '\\') {
        auto e = escape();
        if (!e) return e.error();
        out += *e;
      } else {
        out += c;
        ++pos_;
      }
    }
    ++pos_;
    return Token{Token::Kind::string, std::move(out), 0, start, pos_};
  }

  util::Result<Token> character(std::size_t start) {
    ++pos_;
    if (pos_ >= s_.size()) return syntax_error("unterminated character", start);
    char v = s_[pos_];
    if (v == '\\') {
      auto e = escape();
      if (!e) return e.error();
      v = *e;
    } else {
      ++pos_;
    }
    if (pos_ >= s_.size() || s_[pos_] != '\'') return syntax_error("bad character literal", start);
    ++pos_;
    return Token{Token::Kind::number, std::string(s_.substr(start, pos_ - start)),
                 static_cast<unsigned char>(v), start, pos_};
  }

  std::string_view s_;
  std::size_t pos_ = 0;
};

// Words that make `( ... )` a cast rather than a parenthesised expression.
bool is_type_word(std::string_view w) {
  static constexpr std::array<std::string_view, 30> kWords = {
      "unsigned", "signed", "int",   "long",     "short", "char",  "void", "struct",
      "union",    "enum",   "const", "volatile", "bool",  "_Bool", "u8",   "u16",
      "u32",      "u64",    "s8",    "s16",      "s32",   "s64",   "__u8", "__u16",
      "__u32",    "__u64",  "__s8",  "__s16",    "__s32", "__s64"};
  for (auto k : kWords)
    if (w == k) return true;
  return w.size() > 2 && w.substr(w.size() - 2) == "_t";
}

// Binary operators by precedence, loosest first (C's table, without assignment and comma).
constexpr std::array<std::array<std::string_view, 4>, 10> kBinaryLevels = {{
    {"||"},
    {"&&"},
    {"|"},
    {"^"},
    {"&"},
    {"==", "!="},
    {"<", ">", "<=", ">="},
    {"<<", ">>"},
    {"+", "-"},
    {"*", "/", "%"},
}};

class Parser {
 public:
  explicit Parser(std::vector<Token> toks) : t_(std::move(toks)) {}

  util::Result<std::vector<Node>> list() {
    std::vector<Node> out;
    if (peek().kind == Token::Kind::end) return out;
    for (;;) {
      auto n = conditional();
      if (!n) return n.error();
      out.push_back(std::move(*n));
      if (accept(",")) continue;
      if (peek().kind != Token::Kind::end) return syntax_error("unexpected token", peek().begin);
      return out;
    }
  }

 private:
  const Token& peek(std::size_t ahead = 0) const {
    const std::size_t i = i_ + ahead;
    return i < t_.size() ? t_[i] : t_.back();
  }
  bool is(std::string_view p, std::size_t ahead = 0) const {
    return peek(ahead).kind == Token::Kind::punct && peek(ahead).text == p;
  }
  bool accept(std::string_view p) {
    if (!is(p)) return false;
    ++i_;
    return true;
  }
  util::Result<std::size_t> expect(std::string_view p) {
    if (!is(p)) return syntax_error("expected '" + std::string(p) + "'", peek().begin);
    return t_[i_++].end;
  }

  // The precedence level of the binary operator at the cursor; kBinaryLevels.size() if none.
  std::size_t binary_level() const {
    if (peek().kind != Token::Kind::punct) return kBinaryLevels.size();
    for (std::size_t level = 0; level < kBinaryLevels.size(); ++level)
      for (auto candidate : kBinaryLevels[level])
        if (!candidate.empty() && candidate == peek().text) return level;
    return kBinaryLevels.size();
  }

  // Counts the nesting of the tree being built: one per recursive entry point, and one per link
  // of a left-deep chain (1 + 1 + ..., a->b->c), so that no later walk over the tree (evaluation,
  // table search, destruction) can recurse deeper than a bounded amount.
  struct DepthGuard {
    int& depth;
    int added = 0;
    explicit DepthGuard(int& d) : depth(d) {}
    ~DepthGuard() { depth -= added; }
    void deeper() {
      ++depth;
      ++added;
    }
  };

  util::Result<Node> conditional() {
    DepthGuard g(depth_);
    g.deeper();
    if (depth_ > kMaxDepth) return syntax_error("nesting too deep", peek().begin);
    auto cond = binary(0);
    if (!cond) return cond.error();
    if (!accept("?")) return cond;
    auto then = conditional();
    if (!then) return then.error();
    if (auto r = expect(":"); !r) return r.error();
    auto other = conditional();
    if (!other) return other.error();
    Node n;
    n.kind = Node::Kind::ternary;
    n.begin = cond->begin;
    n.end = other->end;
    n.kids = {std::move(*cond), std::move(*then), std::move(*other)};
    return n;
  }

  // Precedence climbing: one stack frame per operand instead of one per precedence level.
  util::Result<Node> binary(std::size_t min_level) {
    auto lhs = unary();
    if (!lhs) return lhs.error();
    DepthGuard chain(depth_);
    for (;;) {
      const std::size_t level = binary_level();
      if (level >= kBinaryLevels.size() || level < min_level) return lhs;
      const std::string op = peek().text;
      chain.deeper();
      if (depth_ > kMaxDepth) return syntax_error("expression too long", peek().begin);
      ++i_;
      auto rhs = binary(level + 1);  // + 1: left-associative
      if (!rhs) return rhs.error();
      Node n;
      n.kind = Node::Kind::binary;
      n.text = op;
      n.begin = lhs->begin;
      n.end = rhs->end;
      n.kids.push_back(std::move(*lhs));
      n.kids.push_back(std::move(*rhs));
      lhs = std::move(n);
    }
  }

  bool at_cast() const {
    if (!is("(") || peek(1).kind != Token::Kind::ident || !is_type_word(peek(1).text)) return false;
    for (std::size_t k = 1;; ++k) {
      const Token& t = peek(k);
      if (t.kind == Token::Kind::ident || (t.kind == Token::Kind::punct && t.text == "*")) continue;
      return t.kind == Token::Kind::punct && t.text == ")";
    }
  }

  util::Result<Node> unary() {
    DepthGuard g(depth_);
    g.deeper();
    if (depth_ > kMaxDepth) return syntax_error("nesting too deep", peek().begin);
    const std::size_t start = peek().begin;
    for (std::string_view op : {"-", "+", "!", "~", "*", "&"}) {
      if (!is(op)) continue;
      ++i_;
      auto operand = unary();
      if (!operand) return operand.error();
      Node n;
      n.kind = Node::Kind::unary;
      n.text = std::string(op);
      n.begin = start;
      n.end = operand->end;
      n.kids.push_back(std::move(*operand));
      return n;
    }
    if (at_cast()) {
      ++i_;
      std::string type;
      while (!is(")")) {
        if (!type.empty()) type += ' ';
        type += t_[i_++].text;
      }
      ++i_;
      auto operand = unary();
      if (!operand) return operand.error();
      Node n;
      n.kind = Node::Kind::cast;
      n.text = std::move(type);
      n.begin = start;
      n.end = operand->end;
      n.kids.push_back(std::move(*operand));
      return n;
    }
    return postfix();
  }

  util::Result<Node> postfix() {
    auto base = primary();
    if (!base) return base.error();
    Node n = std::move(*base);
    DepthGuard chain(depth_);
    for (;;) {
      if (depth_ > kMaxDepth) return syntax_error("expression too long", peek().begin);
      if (is("->") || is(".")) {
        chain.deeper();
        ++i_;
        if (peek().kind != Token::Kind::ident)
          return syntax_error("expected a member name", peek().begin);
        Node m;
        m.kind = Node::Kind::member;
        m.text = peek().text;
        m.begin = n.begin;
        m.end = peek().end;
        ++i_;
        m.kids.push_back(std::move(n));
        n = std::move(m);
      } else if (is("[")) {
        chain.deeper();
        ++i_;
        auto index = conditional();
        if (!index) return index.error();
        auto close = expect("]");
        if (!close) return close.error();
        Node s;
        s.kind = Node::Kind::subscript;
        s.begin = n.begin;
        s.end = *close;
        s.kids.push_back(std::move(n));
        s.kids.push_back(std::move(*index));
        n = std::move(s);
      } else if (is("(") && n.kind == Node::Kind::ident) {
        chain.deeper();
        ++i_;
        Node c;
        c.kind = Node::Kind::call;
        c.text = n.text;
        c.begin = n.begin;
        auto args = items(")");
        if (!args) return args.error();
        c.kids = std::move(args->first);
        c.end = args->second;
        n = std::move(c);
      } else {
        return n;
      }
    }
  }

  // Comma-separated expressions up to the closing punctuator (consumed); a trailing comma is
  // allowed, as in C initialisers. Returns the items and the end offset of the closer.
  util::Result<std::pair<std::vector<Node>, std::size_t>> items(std::string_view closer) {
    std::vector<Node> out;
    while (!is(closer)) {
      auto item = conditional();
      if (!item) return item.error();
      out.push_back(std::move(*item));
      if (!accept(",")) break;
    }
    auto close = expect(closer);
    if (!close) return close.error();
    return std::pair{std::move(out), *close};
  }

  util::Result<Node> primary() {
    const Token& t = peek();
    Node n;
    n.begin = t.begin;
    n.end = t.end;
    switch (t.kind) {
      case Token::Kind::number:
        n.kind = Node::Kind::number;
        n.value = t.value;
        ++i_;
        return n;
      case Token::Kind::string:
        // Adjacent literals are one string: "KVM_EXIT_" "IO" is KVM_EXIT_IO.
        n.kind = Node::Kind::string;
        while (peek().kind == Token::Kind::string) {
          n.text += peek().text;
          n.end = peek().end;
          ++i_;
        }
        return n;
      case Token::Kind::ident:
        n.kind = Node::Kind::ident;
        n.text = t.text;
        ++i_;
        return n;
      case Token::Kind::end:
        return syntax_error("unexpected end", t.begin);
      case Token::Kind::punct:
        break;
    }
    if (accept("(")) {
      auto inner = conditional();
      if (!inner) return inner.error();
      auto close = expect(")");
      if (!close) return close.error();
      // The parentheses leave no node, (REC->isa == 1) is the comparison itself; only its
      // source span grows to quote them.
      inner->begin = n.begin;
      inner->end = *close;
      return inner;
    }
    if (accept("{")) {
      n.kind = Node::Kind::brace;
      auto elems = items("}");
      if (!elems) return elems.error();
      n.kids = std::move(elems->first);
      n.end = elems->second;
      return n;
    }
    return syntax_error("unexpected '" + t.text + "'", t.begin);
  }

  std::vector<Token> t_;
  std::size_t i_ = 0;
  int depth_ = 0;
};

util::Result<std::uint64_t> evaluate_at(const Node& node, int depth) {
  if (depth > kMaxDepth) return util::plain_error("print fmt: constant nested too deep");
  switch (node.kind) {
    case Node::Kind::number:
      return node.value;
    case Node::Kind::cast:
      // The tables' values are compared after integer promotion; a cast of a constant only
      // matters for truncation, which the caller applies by the field's width.
      return evaluate_at(node.kids[0], depth + 1);
    case Node::Kind::unary: {
      auto v = evaluate_at(node.kids[0], depth + 1);
      if (!v) return v;
      if (node.text == "-") return std::uint64_t{0} - *v;
      if (node.text == "+") return *v;
      if (node.text == "~") return ~*v;
      if (node.text == "!") return std::uint64_t{*v == 0};
      break;
    }
    case Node::Kind::binary: {
      auto a = evaluate_at(node.kids[0], depth + 1);
      if (!a) return a;
      auto b = evaluate_at(node.kids[1], depth + 1);
      if (!b) return b;
      const std::uint64_t x = *a, y = *b;
      const auto sx = static_cast<std::int64_t>(x), sy = static_cast<std::int64_t>(y);
      const std::string& op = node.text;
      if (op == "+") return x + y;
      if (op == "-") return x - y;
      if (op == "*") return x * y;
      if (op == "/" || op == "%") {
        if (y == 0) return util::plain_error("print fmt: division by zero in a constant");
        if (sx == INT64_MIN && sy == -1) return op == "/" ? x : std::uint64_t{0};
        return static_cast<std::uint64_t>(op == "/" ? sx / sy : sx % sy);
      }
      if (op == "<<" || op == ">>") {
        if (y >= 64) return util::plain_error("print fmt: shift too wide in a constant");
        return op == "<<" ? x << y : static_cast<std::uint64_t>(sx >> y);
      }
      if (op == "&") return x & y;
      if (op == "|") return x | y;
      if (op == "^") return x ^ y;
      if (op == "&&") return std::uint64_t{x != 0 && y != 0};
      if (op == "||") return std::uint64_t{x != 0 || y != 0};
      if (op == "==") return std::uint64_t{x == y};
      if (op == "!=") return std::uint64_t{x != y};
      if (op == "<") return std::uint64_t{sx < sy};
      if (op == ">") return std::uint64_t{sx > sy};
      if (op == "<=") return std::uint64_t{sx <= sy};
      if (op == ">=") return std::uint64_t{sx >= sy};
      break;
    }
    case Node::Kind::ternary: {
      auto c = evaluate_at(node.kids[0], depth + 1);
      if (!c) return c;
      return evaluate_at(node.kids[*c ? 1 : 2], depth + 1);
    }
    default:
      break;
  }
  return util::plain_error("print fmt: not a constant at offset " + std::to_string(node.begin));
}

}  // namespace

util::Result<std::vector<Node>> parse_args(std::string_view text) {
  auto toks = Lexer(text).run();
  if (!toks) return toks.error();
  return Parser(std::move(*toks)).list();
}

util::Result<std::uint64_t> evaluate(const Node& node) {
  return evaluate_at(node, 0);
}

std::string rec_field(const Node& node) {
  if (node.kind != Node::Kind::member || node.kids.size() != 1) return {};
  const Node& base = node.kids[0];
  if (base.kind != Node::Kind::ident || base.text != "REC") return {};
  return node.text;
}

}  // namespace kvmscope::model::printfmt
