#include "tui/top_filter.h"

namespace kvmscope::tui {

util::Result<TopFilter> TopFilter::compile(const std::string& pattern) {
  TopFilter filter;
  if (pattern.empty()) return filter;
  try {
    filter.regex_ = std::make_shared<const std::regex>(
        pattern, std::regex::ECMAScript | std::regex::icase | std::regex::optimize);
  } catch (const std::regex_error& e) {
    // std::regex reports through exceptions; it stops here and becomes an ordinary error.
    return util::plain_error("not a regular expression: '" + pattern + "' (" + e.what() + ")");
  }
  filter.pattern_ = pattern;
  return filter;
}

bool TopFilter::matches(std::uint32_t pid, const model::VmInfo& vm) const {
  if (!regex_) return true;
  return std::regex_search(vm.name, *regex_) || std::regex_search(vm.comm, *regex_) ||
         std::regex_search(std::to_string(pid), *regex_);
}

}  // namespace kvmscope::tui
