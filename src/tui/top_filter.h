// `kvmscope top`'s VM filter: a regular expression (ECMAScript, case-insensitive) searched in a
// VM's name, its process name and its PID. The empty filter matches every VM.
#pragma once

#include <cstdint>
#include <memory>
#include <regex>
#include <string>

#include "model/snapshot.h"
#include "util/result.h"

namespace kvmscope::tui {

class TopFilter {
 public:
  TopFilter() = default;
  // An invalid expression is an error that says what is wrong with it.
  static util::Result<TopFilter> compile(const std::string& pattern);

  bool matches(std::uint32_t pid, const model::VmInfo& vm) const;
  const std::string& pattern() const { return pattern_; }
  bool empty() const { return pattern_.empty(); }

 private:
  std::string pattern_;
  std::shared_ptr<const std::regex> regex_;  // shared: a filter is copied with the view state
};

}  // namespace kvmscope::tui
