// Walks a subcommand's arguments: "--opt value", "--opt=value", short options, and "--" after
// which everything is the traced command. Usage errors are worded as util/usage.h words them
// for every subcommand and point to the command's --help.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "cli/commands.h"
#include "util/result.h"

namespace kvmscope::cli {

class OptionCursor {
 public:
  // `help` is the command's help text: an unknown option is compared with the options it
  // defines for a "did you mean".
  OptionCursor(Args args, std::string command, std::string_view help = {})
      : args_(args), command_(std::move(command)), help_(help) {}

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

  // "WHAT (see 'kvmscope stat --help')"
  util::Error usage(const std::string& what) const;
  // "unknown option '--duraton'; did you mean '--duration'? (see 'kvmscope stat --help')"
  util::Error unknown() const;

 private:
  Args args_;
  std::string command_;
  std::string_view help_;
  std::size_t i_ = 0;
  std::string_view arg_, name_, inline_value_;
  bool has_inline_ = false;
  bool double_dash_ = false;
  std::vector<std::string> rest_;
};

}  // namespace kvmscope::cli
