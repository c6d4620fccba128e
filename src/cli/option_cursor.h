// Walks a subcommand's arguments: "--opt value", "--opt=value", short options, and "--" after
// which everything is the traced command. Usage errors point to the command's --help.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "cli/commands.h"
#include "util/result.h"

namespace kvmscope::cli {

class OptionCursor {
 public:
  OptionCursor(Args args, std::string command) : args_(args), command_(std::move(command)) {}

  // Moves to the next option; false at the end or at "--" (then rest() holds what follows).
  bool next();
  std::string_view name() const { return name_; }
  std::string_view arg() const { return arg_; }  // the whole argument, for messages
  // The option's value: the "=value" part, or the next argument.
  util::Result<std::string> value();
  // A value that names a file or directory: empty is a usage error.
  util::Result<std::string> path_value();
  const std::vector<std::string>& rest() const { return rest_; }
  bool saw_double_dash() const { return double_dash_; }

  // "unknown option '--x' (see 'kvmscope stat --help')"
  util::Error usage(const std::string& what) const;
  util::Error unknown() const { return usage("unknown option '" + std::string(arg_) + "'"); }

 private:
  Args args_;
  std::string command_;
  std::size_t i_ = 0;
  std::string_view arg_, name_, inline_value_;
  bool has_inline_ = false;
  bool double_dash_ = false;
  std::vector<std::string> rest_;
};

}  // namespace kvmscope::cli
