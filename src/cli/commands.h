// One function per subcommand; main.cpp dispatches on the first argument.
// Each returns the process exit status and prints its own errors as one line on stderr.
#pragma once

#include <span>

namespace kvmscope::cli {

using Args = std::span<char* const>;  // the arguments after the subcommand name

int cmd_stat(Args args);
int cmd_record(Args args);
int cmd_report(Args args);
int cmd_diff(Args args);
int cmd_guest(Args args);
int cmd_serve(Args args);
int cmd_top(Args args);

}  // namespace kvmscope::cli
