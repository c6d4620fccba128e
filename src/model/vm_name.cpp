#include "model/vm_name.h"

#include <string_view>

namespace kvmscope::model {

namespace {

// QEMU option values are comma-separated; ",," is an escaped comma.
std::string first_option_value(std::string_view value) {
  std::string out;
  for (std::size_t i = 0; i < value.size(); ++i) {
    if (value[i] == ',') {
      if (i + 1 < value.size() && value[i + 1] == ',') {
        out.push_back(',');
        ++i;
        continue;
      }
      break;
    }
    out.push_back(value[i]);
  }
  return out;
}

std::string name_from_qemu_value(std::string_view value) {
  // "-name guest=web1,debug-threads=on": the guest= key may come anywhere.
  std::size_t pos = 0;
  while (pos <= value.size()) {
    std::string_view rest = value.substr(pos);
    if (rest.starts_with("guest=")) return first_option_value(rest.substr(6));
    std::size_t comma = rest.find(',');
    if (comma == std::string_view::npos) break;
    pos += comma + 1;
  }
  // "-name web1" or "-name web1,process=..." : the first bare value.
  std::string first = first_option_value(value);
  return first.find('=') == std::string::npos ? first : std::string();
}

}  // namespace

std::string vm_name_from_cmdline(const std::vector<std::string>& argv, const std::string& comm) {
  for (std::size_t i = 0; i + 1 < argv.size(); ++i) {
    if (argv[i] == "-name" || argv[i] == "--name") {
      std::string name = name_from_qemu_value(argv[i + 1]);
      if (!name.empty()) return name;
    }
  }
  return comm;
}

VmInfo vm_info(std::uint32_t pid, const std::optional<std::string>& proc_comm,
               const std::vector<std::string>& argv, const std::string& seen_comm) {
  if (proc_comm && (seen_comm.empty() || *proc_comm == seen_comm))
    return {vm_name_from_cmdline(argv, *proc_comm), *proc_comm};
  if (!seen_comm.empty()) return {seen_comm, seen_comm};
  return {"pid " + std::to_string(pid) + " (exited)", "?"};
}

}  // namespace kvmscope::model
