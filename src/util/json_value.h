// A small JSON reader (RFC 8259) for kvmscope's own documents read back (`diff` reads `stat
// --json` and `report --json`): a tree of values, numbers kept as their text so that 64-bit
// integers stay exact. Bounded: nesting deeper than 64 is refused, so no input exhausts the stack.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "util/result.h"

namespace kvmscope::util {

class JsonValue {
 public:
  enum class Type : std::uint8_t { null, boolean, number, string, array, object };

  Type type() const { return type_; }
  bool is_null() const { return type_ == Type::null; }
  // The member or element, or a null value where there is none (or this is not an object/array).
  const JsonValue& operator[](std::string_view key) const;
  const JsonValue& operator[](std::size_t index) const;
  const std::vector<JsonValue>& items() const { return items_; }  // array elements
  bool has(std::string_view key) const;

  std::optional<std::uint64_t> as_u64() const;  // a non-negative integer, written exactly
  std::optional<double> as_double() const;
  std::optional<std::string> as_string() const;
  std::optional<bool> as_bool() const;

  // The whole text must be one value (whitespace around it allowed). Errors say where:
  // "JSON: offset 12: expected ':'".
  static Result<JsonValue> parse(std::string_view text);

 private:
  friend class JsonParser;
  Type type_ = Type::null;
  bool boolean_ = false;
  std::string text_;  // a string's value, a number's text
  std::vector<JsonValue> items_;
  std::map<std::string, JsonValue, std::less<>> members_;  // a repeated key: the last one
};

}  // namespace kvmscope::util
