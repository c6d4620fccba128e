#include "cli/option_cursor.h"

#include "util/usage.h"

namespace kvmscope::cli {

bool OptionCursor::next() {
  if (i_ >= args_.size() || double_dash_) return false;
  arg_ = args_[i_++];
  if (arg_ == "--") {
    double_dash_ = true;
    for (; i_ < args_.size(); ++i_) rest_.emplace_back(args_[i_]);
    return false;
  }
  name_ = arg_;
  has_inline_ = false;
  if (arg_.starts_with("--")) {
    if (auto eq = arg_.find('='); eq != std::string_view::npos) {
      name_ = arg_.substr(0, eq);
      inline_value_ = arg_.substr(eq + 1);
      has_inline_ = true;
    }
  }
  return true;
}

util::Result<std::string> OptionCursor::value() {
  if (has_inline_) return std::string(inline_value_);
  if (i_ >= args_.size()) return usage(util::missing_value(name_));
  return std::string(args_[i_++]);
}

util::Result<std::string> OptionCursor::path_value() {
  auto v = value();
  if (v && v->empty()) return usage(std::string(name_) + ": empty path");
  return v;
}

util::Error OptionCursor::usage(const std::string& what) const {
  return util::usage_error(command_, what);
}

util::Error OptionCursor::unknown() const {
  return usage(util::unknown_option(name_, util::long_options_in(help_)));
}

}  // namespace kvmscope::cli
