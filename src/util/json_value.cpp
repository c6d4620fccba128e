#include "util/json_value.h"

#include <charconv>
#include <cstdlib>

namespace kvmscope::util {

namespace {

const JsonValue& null_value() {
  static const JsonValue null;
  return null;
}

constexpr int kMaxDepth = 64;

void append_utf8(std::string& out, std::uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xc0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3f));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xe0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
    out += static_cast<char>(0x80 | (cp & 0x3f));
  } else {
    out += static_cast<char>(0xf0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3f));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
    out += static_cast<char>(0x80 | (cp & 0x3f));
  }
}

}  // namespace

class JsonParser {
 public:
  explicit JsonParser(std::string_view text) : t_(text) {}

  Result<JsonValue> document() {
    JsonValue v;
    if (!value(v, 0)) return error();
    skip();
    if (i_ != t_.size()) {
      what_ = "text after the document";
      return error();
    }
    return v;
  }

 private:
  std::string_view t_;
  std::size_t i_ = 0;
  std::string what_;

  Error error() const { return plain_error("JSON: offset " + std::to_string(i_) + ": " + what_); }
  bool fail(std::string what) {
    what_ = std::move(what);
    return false;
  }
  void skip() {
    while (i_ < t_.size() && (t_[i_] == ' ' || t_[i_] == '\t' || t_[i_] == '\n' || t_[i_] == '\r'))
      ++i_;
  }
  bool literal(std::string_view word) {
    if (t_.substr(i_, word.size()) != word) return fail("unexpected character");
    i_ += word.size();
    return true;
  }

  bool value(JsonValue& v, int depth) {
    if (depth > kMaxDepth) return fail("nested deeper than 64");
    skip();
    if (i_ >= t_.size()) return fail("unexpected end");
    const char c = t_[i_];
    if (c == '{') return object(v, depth);
    if (c == '[') return array(v, depth);
    if (c == '"') {
      v.type_ = JsonValue::Type::string;
      return string(v.text_);
    }
    if (c == 't' || c == 'f') {
      v.type_ = JsonValue::Type::boolean;
      v.boolean_ = c == 't';
      return literal(c == 't' ? "true" : "false");
    }
    if (c == 'n') return literal("null");
    return number(v);
  }

  bool number(JsonValue& v) {
    const std::size_t start = i_;
    if (i_ < t_.size() && t_[i_] == '-') ++i_;
    auto digits = [&] {
      const std::size_t from = i_;
      while (i_ < t_.size() && t_[i_] >= '0' && t_[i_] <= '9') ++i_;
      return i_ > from;
    };
    if (!digits()) return fail("expected a value");
    if (i_ < t_.size() && t_[i_] == '.') {
      ++i_;
      if (!digits()) return fail("expected digits after '.'");
    }
    if (i_ < t_.size() && (t_[i_] == 'e' || t_[i_] == 'E')) {
      ++i_;
      if (i_ < t_.size() && (t_[i_] == '+' || t_[i_] == '-')) ++i_;
      if (!digits()) return fail("expected an exponent");
    }
    v.type_ = JsonValue::Type::number;
    v.text_ = std::string(t_.substr(start, i_ - start));
    return true;
  }

  bool hex4(std::uint32_t& out) {
    if (i_ + 4 > t_.size()) return fail("short \\u escape");
    auto [end, ec] = std::from_chars(t_.data() + i_, t_.data() + i_ + 4, out, 16);
    if (ec != std::errc() || end != t_.data() + i_ + 4) return fail("bad \\u escape");
    i_ += 4;
    return true;
  }

  bool string(std::string& out) {
    ++i_;  // the opening quote
    while (true) {
      if (i_ >= t_.size()) return fail("unterminated string");
      const char c = t_[i_++];
      if (c == '"') return true;
      if (static_cast<unsigned char>(c) < 0x20) return fail("control character in a string");
      if (c != '\\') {
        out += c;
        continue;
      }
      if (i_ >= t_.size()) return fail("unterminated string");
      const char e = t_[i_++];
      switch (e) {
        case '"':
        case '\\':
        case '/':
          out += e;
          break;
        case 'b':
          out += '\b';
          break;
        case 'f':
          out += '\f';
          break;
        case 'n':
          out += '\n';
          break;
        case 'r':
          out += '\r';
          break;
        case 't':
          out += '\t';
          break;
        case 'u': {
          std::uint32_t cp = 0;
          if (!hex4(cp)) return false;
          if (cp >= 0xd800 && cp < 0xdc00 && t_.substr(i_, 2) == "\\u") {
            i_ += 2;
            std::uint32_t low = 0;
            if (!hex4(low)) return false;
            if (low >= 0xdc00 && low < 0xe000)
              cp = 0x10000 + ((cp - 0xd800) << 10) + (low - 0xdc00);
            else
              cp = 0xfffd;
          } else if (cp >= 0xd800 && cp < 0xe000) {
            cp = 0xfffd;
          }
          append_utf8(out, cp);
          break;
        }
        default:
          return fail("bad escape");
      }
    }
  }

  bool array(JsonValue& v, int depth) {
    v.type_ = JsonValue::Type::array;
    ++i_;
    skip();
    if (i_ < t_.size() && t_[i_] == ']') {
      ++i_;
      return true;
    }
    while (true) {
      v.items_.emplace_back();
      if (!value(v.items_.back(), depth + 1)) return false;
      skip();
      if (i_ < t_.size() && t_[i_] == ',') {
        ++i_;
        continue;
      }
      if (i_ < t_.size() && t_[i_] == ']') {
        ++i_;
        return true;
      }
      return fail("expected ',' or ']'");
    }
  }

  bool object(JsonValue& v, int depth) {
    v.type_ = JsonValue::Type::object;
    ++i_;
    skip();
    if (i_ < t_.size() && t_[i_] == '}') {
      ++i_;
      return true;
    }
    while (true) {
      skip();
      if (i_ >= t_.size() || t_[i_] != '"') return fail("expected a member name");
      std::string key;
      if (!string(key)) return false;
      skip();
      if (i_ >= t_.size() || t_[i_] != ':') return fail("expected ':'");
      ++i_;
      JsonValue member;
      if (!value(member, depth + 1)) return false;
      v.members_[key] = std::move(member);
      skip();
      if (i_ < t_.size() && t_[i_] == ',') {
        ++i_;
        continue;
      }
      if (i_ < t_.size() && t_[i_] == '}') {
        ++i_;
        return true;
      }
      return fail("expected ',' or '}'");
    }
  }
};

Result<JsonValue> JsonValue::parse(std::string_view text) {
  return JsonParser(text).document();
}

const JsonValue& JsonValue::operator[](std::string_view key) const {
  auto it = members_.find(key);
  return it == members_.end() ? null_value() : it->second;
}

const JsonValue& JsonValue::operator[](std::size_t index) const {
  return index < items_.size() ? items_[index] : null_value();
}

bool JsonValue::has(std::string_view key) const {
  return members_.find(key) != members_.end();
}

std::optional<std::uint64_t> JsonValue::as_u64() const {
  if (type_ != Type::number) return std::nullopt;
  std::uint64_t v = 0;
  auto [end, ec] = std::from_chars(text_.data(), text_.data() + text_.size(), v);
  if (ec != std::errc() || end != text_.data() + text_.size()) return std::nullopt;
  return v;
}

std::optional<double> JsonValue::as_double() const {
  if (type_ != Type::number) return std::nullopt;
  return std::strtod(text_.c_str(), nullptr);
}

std::optional<std::string> JsonValue::as_string() const {
  if (type_ != Type::string) return std::nullopt;
  return text_;
}

std::optional<bool> JsonValue::as_bool() const {
  if (type_ != Type::boolean) return std::nullopt;
  return boolean_;
}

}  // namespace kvmscope::util
